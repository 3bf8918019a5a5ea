# fish completion for perf-recover: installed in fish's vendor_completions.d, or copied
# into ~/.config/fish/completions/.

# The directory the -C options name, each taken from the one before (status 1 when none).
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

# Files (with -d, directories) from the -C directory, if any.
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

# The snapshot ids of the repository -C leads to.
function __perf_recover_snapshots
    set -l dir (__perf_recover_dir)
    if test -n "$dir"
        command git -C $dir for-each-ref --format='%(refname:lstrip=3)' refs/perfguard/snapshots/ 2>/dev/null
    else
        command git for-each-ref --format='%(refname:lstrip=3)' refs/perfguard/snapshots/ 2>/dev/null
    end
end

# The subcommand on the command line (status 1 when there is none yet).
function __perf_recover_command
    set -l tokens (commandline -opc)
    set -l skip 0
    for token in $tokens[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $token
            case -C --db --config --format -k --label --to --restart --health \
                --restart-timeout --health-timeout --threshold --timeout --older-than --runs
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
set -l durations '500ms 1s 2s 5s 10s 30s'

# The subcommands.
$c -f
$c -f -n __perf_recover_needs_command -a list -d 'The recoveries and snapshots, newest first'
$c -f -n __perf_recover_needs_command -a undo -d "Put back a recovery's snapshot exactly"
$c -f -n __perf_recover_needs_command -a prune -d "Delete this work tree's old snapshots"
$c -f -n __perf_recover_needs_command -a resume -d 'Lift the emergency pause mark'
$c -f -n __perf_recover_needs_command -a verify -d 'Check every snapshot and the store against the refs'
$c -f -n __perf_recover_needs_command -a diagnose -d 'Why git is slow here, with ranked recommendations'
$c -f -n __perf_recover_needs_command -a optimize -d 'Show, or --apply, the recommended settings'
$c -f -n '__perf_recover_using undo' -a '(__perf_recover_snapshots)'

# The options every perfguard tool takes.
$c -s h -l help -d 'Print the options and exit'
$c -l version -d 'Print the version and exit'
$c -s C -x -a '(__perf_recover_paths -d)' -d 'Run as if started in DIR'
$c -l db -x -a '(__perf_recover_paths)' -d 'The metrics store (default: <git common dir>/perfguard/perf.db)'
$c -l config -x -a '(__perf_recover_paths)' -d 'Read this configuration file too'
$c -l format -x -a 'text json jsonl csv tsv' -d 'Output format'
$c -l json -d 'Shorthand for --format json'
$c -s q -l quiet -d 'Print nothing on success'
$c -s v -l verbose -d 'Say more about what is done'

# The recovery itself.
$c -n __perf_recover_needs_command -s k -l label -x -d 'Attach a key=value label to the record'
$c -n __perf_recover_needs_command -l no-record -d 'Do not append the result to the store'
$c -n __perf_recover_needs_command -l to -x -a '(__fish_git_refs 2>/dev/null)' -d 'The commit to recover to'
$c -n __perf_recover_needs_command -l restart -x -d 'Restart the service with this command'
$c -n __perf_recover_needs_command -l health -x -d "Check the service's health with this command"
$c -n __perf_recover_needs_command -l restart-timeout -x -a $durations -d 'Kill the restart after this long (5s)'
$c -n __perf_recover_needs_command -l health-timeout -x -a $durations -d 'Give up on the health check after this long'
$c -n __perf_recover_needs_command -l threshold -x -a $durations -d "The recovery's threshold (10s)"
$c -n __perf_recover_needs_command -l timeout -x -a $durations -d 'Kill a part at this hard limit of the whole'
$c -n __perf_recover_needs_command -s y -l yes -d 'Recover without asking'
$c -n '__perf_recover_needs_command; or __perf_recover_using undo prune' -l dry-run -d 'Print the plan and change nothing'
$c -n __perf_recover_needs_command -l emergency -d 'Monitoring off until perf-recover resume'
$c -n __perf_recover_needs_command -l auto -d 'Recover only when a trigger holds (cron, CI)'
$c -n __perf_recover_needs_command -l verify -d 'Also run git fsck --connectivity-only'
$c -n '__perf_recover_needs_command; or __perf_recover_using undo' -l force -d 'Run over a merge, rebase, cherry-pick, revert or bisect'
$c -n __perf_recover_needs_command -l warn-only -d 'Report a breach but exit 0'

# prune
$c -n '__perf_recover_using prune' -l older-than -x -a '1d 7d 30d 90d' -d 'Delete the snapshots taken longer ago than this (30d)'

# optimize
$c -n '__perf_recover_using optimize' -l apply -d 'Apply the recommendations, timing the steps before and after'
$c -n '__perf_recover_using optimize' -l schedule -d 'Register background maintenance, or print crontab lines'
$c -n '__perf_recover_using optimize' -l runs -x -d 'With --apply: timed runs of each step (default 3)'
