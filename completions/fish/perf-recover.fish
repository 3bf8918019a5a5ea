# fish completion for perf-recover: installed in fish's vendor_completions.d, or copied
# into ~/.config/fish/completions/.

# The directory the -C options name, each taken from the one before as the tool takes
# them (status 1 when there is none).
function __perf_recover_dir
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
function __perf_recover_paths
    set -l dir (__perf_recover_dir)
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

# The subcommand on the command line: the first word that is neither an option nor an
# option's value (status 1 when there is none yet).
function __perf_recover_command
    set -l tokens (commandline -opc)
    set -l skip 0
    for token in $tokens[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $token
            case -C --db --config --format --runs
                set skip 1
            case '-*'
            case '*'
                echo $token
                return 0
        end
    end
    return 1
end

function __perf_recover_needs_command
    not __perf_recover_command >/dev/null
end

# __perf_recover_using NAME…: the subcommand is one of these.
function __perf_recover_using
    set -l command (__perf_recover_command); or return 1
    contains -- $command $argv
end

set -l c complete -c perf-recover

# The subcommands.
$c -f
$c -f -n __perf_recover_needs_command -a verify -d 'Check every snapshot and the store against the refs'
$c -f -n __perf_recover_needs_command -a diagnose -d 'Why git is slow here, with ranked recommendations'
$c -f -n __perf_recover_needs_command -a optimize -d 'Show, or --apply, the recommended settings'

# The options every perfguard tool takes, before the subcommand and after it.
$c -s h -l help -d 'Print the options and exit'
$c -l version -d 'Print the version and exit'
$c -s C -x -a '(__perf_recover_paths -d)' -d 'Run as if started in DIR'
$c -l db -x -a '(__perf_recover_paths)' -d 'The metrics store (default: <git common dir>/perfguard/perf.db)'
$c -l config -x -a '(__perf_recover_paths)' -d 'Read this configuration file too'
$c -l format -x -a 'text json jsonl csv tsv' -d 'Output format'
$c -l json -d 'Shorthand for --format json'
$c -s q -l quiet -d 'Print nothing on success'
$c -s v -l verbose -d 'Say more about what is done'

# optimize
$c -n '__perf_recover_using optimize' -l apply -d 'Apply the recommendations, timing the steps before and after'
$c -n '__perf_recover_using optimize' -l schedule -d 'Register background maintenance, or print crontab lines'
$c -n '__perf_recover_using optimize' -l runs -x -d 'With --apply: timed runs of each step (default 3)'
