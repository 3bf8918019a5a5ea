# fish completion for perf-commit: installed in fish's vendor_completions.d, or copied
# into ~/.config/fish/completions/.

# The directory the -C options name, each taken from the one before as the tool takes
# them (status 1 when there is none).
function __perf_commit_dir
    set -l tokens (commandline -opc)
    set -l dir
    for i in (seq (count $tokens))
        if test "$tokens[$i]" = -C; and test $i -lt (count $tokens)
            set -l d $tokens[(math $i + 1)]
            if test -z "$d"
                continue
            else if test -z "$dir"; or string match -q -- '/*' $d
                set dir $d
            else
                set dir $dir/$d
            end
        end
    end
    test -n "$dir"; or return 1
    echo $dir
end

# Files (with -d, directories) where the tool will look for them: from the -C directory,
# if any, as for every relative path it takes.
function __perf_commit_paths
    set -l dir (__perf_commit_dir)
    set -l cur (commandline -ct)
    set -l complete __fish_complete_path
    contains -- -d $argv; and set complete __fish_complete_directories
    if test -n "$dir"; and not string match -q -- '/*' $cur
        for p in ($complete $dir/$cur)
            string replace -- "$dir/" '' $p
        end
    else
        $complete $cur
    end
end

# Pathspecs are files: fish's own completion, or with -C the files of that directory.
complete -c perf-commit -f -n '__perf_commit_dir >/dev/null' -a '(__perf_commit_paths)'

complete -c perf-commit -s h -l help -d 'Print the options and exit'
complete -c perf-commit -l version -d 'Print the version and exit'
complete -c perf-commit -s C -x -a '(__perf_commit_paths -d)' -d 'Run as if started in DIR'
complete -c perf-commit -l db -x -a '(__perf_commit_paths)' -d 'The metrics store (default: <git common dir>/perfguard/perf.db)'
complete -c perf-commit -l config -x -a '(__perf_commit_paths)' -d 'Read this configuration file too'
complete -c perf-commit -l format -x -a 'text json jsonl csv tsv' -d 'Output format'
complete -c perf-commit -l json -d 'Shorthand for --format json'
complete -c perf-commit -s q -l quiet -d 'Print nothing on success'
complete -c perf-commit -s v -l verbose -d 'Say more about what is done'
complete -c perf-commit -s k -l label -x -d 'Attach a key=value label to the record (repeatable)'
complete -c perf-commit -l no-record -d 'Do not append the result to the store'
complete -c perf-commit -s m -l message -x -d 'The commit message'
complete -c perf-commit -s F -l file -x -a '(__perf_commit_paths)' -d "Take the message from FILE ('-' for stdin)"
complete -c perf-commit -l no-add -d 'Commit what is staged; do not run `git add -A`'
complete -c perf-commit -l threshold -x -a '250ms 500ms 1s 1.5s 2s 5s 10s' -d 'Fail (exit 3) when the commit takes longer'
complete -c perf-commit -l warn-only -d 'Report a breach but exit 0'
complete -c perf-commit -l timeout -x -a '10s 30s 1m 5m' -d 'Kill the step at this hard limit (exit 124)'
# Write --git-arg=ARG: the value starts with a dash.
complete -c perf-commit -l git-arg -x -d 'Pass ARG to `git commit` (repeatable)' \
    -a '--no-verify --signoff --allow-empty --allow-empty-message --amend --no-edit
        --reset-author --author= --date= --cleanup= --gpg-sign --no-gpg-sign --trailer=
        --no-post-rewrite --quiet --verbose'
