# fish completion for perf-baseline: installed in fish's vendor_completions.d, or copied
# into ~/.config/fish/completions/.

# The directory the -C options name, each taken from the one before as the tool takes
# them (status 1 when there is none).
function __perf_baseline_dir
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
function __perf_baseline_paths
    set -l dir (__perf_baseline_dir)
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
function __perf_baseline_command
    set -l tokens (commandline -opc)
    set -l skip 0
    for token in $tokens[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $token
            case -C --db --config --format --step --window --min-samples --multiplier --scope \
                --min-change --since --days --by --limit --spans -o --output --older-than \
                --runs --steps --host --repo --branch --runner
                set skip 1
            case '-*'
            case '*'
                echo $token
                return 0
        end
    end
    return 1
end

function __perf_baseline_needs_command
    not __perf_baseline_command >/dev/null
end

# __perf_baseline_using NAME…: the subcommand is one of these.
function __perf_baseline_using
    set -l command (__perf_baseline_command); or return 1
    contains -- $command $argv
end

# --format means the output format, except after import and export (what is read or written).
function __perf_baseline_output_format
    not __perf_baseline_using import export
end

set -l c complete -c perf-baseline
set -l steps 'commit rollback validate recover'

# The subcommands.
$c -f -n __perf_baseline_needs_command -a compute -d 'Compute and store a baseline per step'
$c -f -n __perf_baseline_needs_command -a show -d 'The active baselines, with threshold and headroom'
$c -f -n __perf_baseline_needs_command -a stats -d 'Per step: runs, failures, breaches, percentiles'
$c -f -n __perf_baseline_needs_command -a trend -d 'Per day or hour: runs, mean, p50, p95, p99'
$c -f -n __perf_baseline_needs_command -a slowest -d 'The slowest runs, with their slowest spans'
$c -f -n __perf_baseline_needs_command -a import -d 'Take in jsonl, csv, the journal, hyperfine, trace2'
$c -f -n __perf_baseline_needs_command -a export -d 'Write jsonl, csv, Prometheus text or OTLP/JSON'
$c -f -n __perf_baseline_needs_command -a prune -d 'Remove recorded steps older than an age'
$c -f -n __perf_baseline_needs_command -a report -d 'Write one self-contained HTML page of charts'
$c -f -n __perf_baseline_needs_command -a measure -d 'Record synthetic runs in a throwaway clone'
$c -f -n __perf_baseline_needs_command -a sync -d "Ship the records to the team's shared store"
# Only import takes a file argument, from the -C directory when there is one.
$c -f -n 'not __perf_baseline_using import'
$c -f -n '__perf_baseline_using import; and __perf_baseline_dir >/dev/null' -a '(__perf_baseline_paths)'

# The options every perfguard tool takes, before the subcommand and after it.
$c -s h -l help -d 'Print the options and exit'
$c -l version -d 'Print the version and exit'
$c -s C -x -a '(__perf_baseline_paths -d)' -d 'Run as if started in DIR'
$c -l db -x -a '(__perf_baseline_paths)' -d 'The metrics store: a file, or postgresql://…'
$c -l shared -d "Read the team's shared store instead of the local one"
$c -l config -x -a '(__perf_baseline_paths)' -d 'Read this configuration file too'
$c -n __perf_baseline_output_format -l format -x -a 'text json jsonl csv tsv' -d 'Output format'
$c -l json -d 'Shorthand for --format json'
$c -s q -l quiet -d 'Print nothing on success'
$c -s v -l verbose -d 'Say more about what is done'

# compute
$c -n '__perf_baseline_using compute' -l step -x -a $steps -d 'Only this step (default: every step)'
$c -n '__perf_baseline_using compute' -l window -x -a '1d 7d 14d 30d' -d 'Runs started this long ago or later (default 7d)'
$c -n '__perf_baseline_using compute' -l min-samples -x -d 'Completed runs needed (default 10)'
$c -n '__perf_baseline_using compute' -l multiplier -x -d 'Stored for perf-alerts: how far above the baseline is a regression (default 2)'
$c -n '__perf_baseline_using compute' -l scope -x -a 'all repo branch' -d 'One baseline for all runs, per repo or per branch (default all)'
$c -n '__perf_baseline_using compute' -l min-change -x -a '1% 5% 10% 20%' -d 'Replace the active baseline only past this move (default 5%)'
$c -n '__perf_baseline_using compute' -l force -d 'Replace the active baseline whatever moved'
$c -n '__perf_baseline_using compute' -l repo -x -a '(__fish_complete_directories)' -d 'Only the baselines of this work tree'
$c -n '__perf_baseline_using compute' -l branch -x -d 'Only the baselines of this branch'

# stats, trend, slowest
$c -n '__perf_baseline_using stats trend slowest export report' -l step -x -a $steps -d 'Only this step'
$c -n '__perf_baseline_using stats slowest report' -l since -x -a '1h 24h 7d 30d all' -d 'Runs started this long ago or later, or all'
$c -n '__perf_baseline_using trend' -l days -x -d 'Today and the days before it, UTC (default 30)'
$c -n '__perf_baseline_using trend' -l by -x -a 'day hour' -d 'One row per day or per hour (default day)'
$c -n '__perf_baseline_using slowest' -l limit -x -d 'How many runs (default 20)'
$c -n '__perf_baseline_using slowest' -l spans -x -d 'Child spans shown per run (default 3)'
# which runs: stats, trend, slowest, export, report
$c -n '__perf_baseline_using stats trend slowest export report' -l host -x -d 'Only runs on this host'
$c -n '__perf_baseline_using stats trend slowest export report' -l repo -x -a '(__fish_complete_directories)' -d 'Only runs in this work tree'
$c -n '__perf_baseline_using stats trend slowest export report' -l branch -x -d 'Only runs on this branch'
$c -n '__perf_baseline_using stats trend slowest export report' -l runner -x -a 'ci local github gitlab buildkite jenkins' -d 'Only runs in CI, outside it, or in this CI provider'

# import
$c -n '__perf_baseline_using import' -l format -x -a 'jsonl csv hyperfine journal trace2' -d 'What the input is (required)'
$c -n '__perf_baseline_using import' -l skip-bad -d 'Import the good lines and skip the bad ones'
$c -n '__perf_baseline_using import' -l step -x -d 'hyperfine: record every run as this step'

# export
$c -n '__perf_baseline_using export' -l format -x -a 'jsonl csv prometheus otlp' -d 'What to write (default jsonl)'
$c -n '__perf_baseline_using export' -l since -x -a '1h 24h 7d 30d all' -d 'Only steps started this long ago or later, or all (default all)'
$c -n '__perf_baseline_using export' -s o -l output -x -a '(__perf_baseline_paths)' -d 'Write FILE instead of stdout'

# prune
$c -n '__perf_baseline_using prune' -l older-than -x -a '30d 90d 180d 365d' -d 'Remove steps started before now less this (required)'
$c -n '__perf_baseline_using prune' -l dry-run -d 'Only count what would be removed'

# report
$c -n '__perf_baseline_using report' -s o -l output -x -a '(__perf_baseline_paths)' -d 'The HTML file to write (- for stdout)'

# measure
$c -n '__perf_baseline_using measure' -l runs -x -d 'How many runs (default 10)'
$c -n '__perf_baseline_using measure' -l steps -x -a '(__fish_append , commit rollback validate)' -d 'The steps to record (default commit,rollback,validate)'
$c -n '__perf_baseline_using measure' -l warn-only -d 'Record breaches but exit 0 for them'

# sync
$c -n '__perf_baseline_using sync' -l status -d 'Say what is pending and how the last ships went, without connecting'
