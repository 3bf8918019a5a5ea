# fish completion for perf-rollback: installed in fish's vendor_completions.d, or copied
# into ~/.config/fish/completions/.

# The directory the -C options name, each taken from the one before as the tool takes
# them (status 1 when there is none).
function __perf_rollback_dir
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

# git in that repository.
function __perf_rollback_git
    set -l dir (__perf_rollback_dir)
    if test -n "$dir"
        command git -C $dir $argv 2>/dev/null
    else
        command git $argv 2>/dev/null
    end
end

function __perf_rollback_snapshots
    __perf_rollback_git for-each-ref --format='%(refname:lstrip=3)' refs/perfguard/snapshots/
end

function __perf_rollback_targets
    printf '%s\n' HEAD~1 HEAD~2 HEAD~3 HEAD ORIG_HEAD
    __perf_rollback_git for-each-ref --format='%(refname:short)' refs/heads/ refs/tags/ refs/remotes/
end

# What the word being completed is: target, paths, snapshot (after --undo) or none.
function __perf_rollback_position
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l positionals 0
    set -l skip 0
    set -l last ''
    for t in $tokens
        set last $t
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $t
            case --
                echo paths
                return
            case -C --db --config --format -k --label --threshold --validate-threshold --timeout
                set skip 1
            case --undo --list-snapshots
                set positionals -1000
            case '-*'
            case '*'
                set positionals (math $positionals + 1)
        end
    end
    if test "$last" = --undo
        echo snapshot
    else if test $positionals -eq 0
        echo target
    else if test $positionals -gt 0
        echo paths
    else
        echo none
    end
end

# Files (with -d, directories) where the tool will look for them: from the -C directory,
# if any, as for every relative path it takes.
function __perf_rollback_paths
    set -l dir (__perf_rollback_dir)
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

complete -c perf-rollback -f
complete -c perf-rollback -n 'test (__perf_rollback_position) = target' -a '(__perf_rollback_targets)' -d 'Commit to roll back to'
complete -c perf-rollback -n 'test (__perf_rollback_position) = paths' -a '(__perf_rollback_paths)'
complete -c perf-rollback -n 'test (__perf_rollback_position) = snapshot' -a '(__perf_rollback_snapshots)' -d Snapshot

complete -c perf-rollback -s h -l help -d 'Print the options and exit'
complete -c perf-rollback -l version -d 'Print the version and exit'
complete -c perf-rollback -s C -x -a '(__perf_rollback_paths -d)' -d 'Run as if started in DIR'
complete -c perf-rollback -l db -x -a '(__perf_rollback_paths)' -d 'The metrics store (default: <git common dir>/perfguard/perf.db)'
complete -c perf-rollback -l config -x -a '(__perf_rollback_paths)' -d 'Read this configuration file too'
complete -c perf-rollback -l format -x -a 'text json jsonl csv tsv' -d 'Output format'
complete -c perf-rollback -l json -d 'Shorthand for --format json'
complete -c perf-rollback -s q -l quiet -d 'Print nothing on success'
complete -c perf-rollback -s v -l verbose -d 'Say more about what is done'
complete -c perf-rollback -s k -l label -x -d 'Attach a key=value label to the records (repeatable)'
complete -c perf-rollback -l no-record -d 'Do not append the results to the store'
complete -c perf-rollback -l keep -d 'Like `git reset --keep`: refuse to touch local changes'
complete -c perf-rollback -l no-validate -d 'Skip `git status` + `git log` after the rollback'
complete -c perf-rollback -l dry-run -d 'Print the plan and change nothing'
complete -c perf-rollback -l force -d 'Run over a merge, rebase, cherry-pick, revert or bisect'
complete -c perf-rollback -l undo -d 'Restore a snapshot exactly (default: the newest)'
complete -c perf-rollback -l list-snapshots -d 'List the safety snapshots, newest first'
complete -c perf-rollback -l threshold -x -a '500ms 1s 2s 5s 10s' -d 'Rollback threshold (default 2s)'
complete -c perf-rollback -l validate-threshold -x -a '1s 2s 5s 10s' -d 'Validation threshold (default 5s)'
complete -c perf-rollback -l timeout -x -a '10s 30s 1m 5m' -d 'Kill a step at this hard limit (exit 124)'
complete -c perf-rollback -l warn-only -d 'Report a breach but exit 0'
