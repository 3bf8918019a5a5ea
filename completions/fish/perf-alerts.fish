# fish completion for perf-alerts: installed in fish's vendor_completions.d, or copied
# into ~/.config/fish/completions/. Alert ids need sqlite3.

# The directory the -C options name, each taken from the one before as the tool takes
# them (status 1 when there is none).
function __perf_alerts_dir
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
function __perf_alerts_paths
    set -l dir (__perf_alerts_dir)
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

# The store the command line names, as the tool finds it: the last --db, else
# $PERFGUARD_DB (either taken from the -C directory when relative), else
# <git common dir>/perfguard/perf.db of the repository -C leads to.
function __perf_alerts_store
    set -l tokens (commandline -opc)
    set -l dir (__perf_alerts_dir)
    set -l db
    for i in (seq (count $tokens))
        if test "$tokens[$i]" = --db; and test $i -lt (count $tokens)
            set db $tokens[(math $i + 1)]
        else if string match -q -- '--db=*' $tokens[$i]
            set db (string replace -- '--db=' '' $tokens[$i])
        end
    end
    test -n "$db"; or set db $PERFGUARD_DB
    if test -n "$db"
        if test -n "$dir"; and not string match -q -- '/*' $db
            set db $dir/$db
        end
    else
        set -l common
        if test -n "$dir"
            set common (command git -C $dir rev-parse --path-format=absolute --git-common-dir 2>/dev/null)
        else
            set common (command git rev-parse --path-format=absolute --git-common-dir 2>/dev/null)
        end
        test -n "$common"; or return 1
        set db $common/perfguard/perf.db
    end
    echo $db
end

# The unresolved alerts in that store, read-only, when sqlite3 can read it: each id, a tab
# and its summary.
function __perf_alerts_ids
    command -q sqlite3; or return
    set -l db (__perf_alerts_store); or return
    test -f "$db"; or return
    command sqlite3 -init /dev/null -readonly -batch -noheader -list $db \
        "select id || char(9) || replace(replace(summary, char(10), ' '), char(13), ' ')
         from open_alerts" 2>/dev/null
end

# The subcommand on the command line: the first word that is neither an option nor an
# option's value (status 1 when there is none yet).
function __perf_alerts_command
    set -l tokens (commandline -opc)
    set -l skip 0
    for token in $tokens[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $token
            case -C --db --config --format --severity --state --step --since --limit --by \
                --note --for --fail-on --repo --branch
                set skip 1
            case '-*'
            case '*'
                echo $token
                return 0
        end
    end
    return 1
end

function __perf_alerts_needs_command
    not __perf_alerts_command >/dev/null
end

# __perf_alerts_using NAME…: the subcommand is one of these.
function __perf_alerts_using
    set -l command (__perf_alerts_command); or return 1
    contains -- $command $argv
end

# Whether an alert id may come next: show takes one, ack, snooze and resolve any number.
function __perf_alerts_wants_id
    set -l command (__perf_alerts_command); or return 1
    contains -- $command ack snooze resolve; and return 0
    test $command = show; or return 1
    # show: no id yet.
    set -l tokens (commandline -opc)
    set -l skip 0
    set -l words 0
    for token in $tokens[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $token
            case -C --db --config --format
                set skip 1
            case '-*'
            case '*'
                set words (math $words + 1)
        end
    end
    test $words -eq 1
end

set -l c complete -c perf-alerts
set -l steps 'commit rollback validate recover'
set -l severities 'info warning critical'

# The subcommands.
$c -f
$c -f -n __perf_alerts_needs_command -a list -d 'The unresolved alerts, most severe first'
$c -f -n __perf_alerts_needs_command -a show -d 'One alert, the runs behind it, its history'
$c -f -n __perf_alerts_needs_command -a ack -d 'Acknowledge alerts: someone is on it'
$c -f -n __perf_alerts_needs_command -a snooze -d 'Snooze alerts for a while'
$c -f -n __perf_alerts_needs_command -a resolve -d 'Resolve alerts by hand, with a note'
$c -f -n __perf_alerts_needs_command -a scan -d 'Evaluate every rule now on the newest runs'
$c -f -n __perf_alerts_needs_command -a check -d 'Exit 3 while an alert is open at or above --fail-on'
$c -f -n __perf_alerts_needs_command -a health -d 'Measure the repository, record it, raise health alerts'
$c -f -n __perf_alerts_needs_command -a notify -d 'Send the notifications waiting in the outbox'
# The alerts show, ack, snooze and resolve act on.
$c -f -n __perf_alerts_wants_id -a '(__perf_alerts_ids)'

# The options every perfguard tool takes, before the subcommand and after it.
$c -s h -l help -d 'Print the options and exit'
$c -l version -d 'Print the version and exit'
$c -s C -x -a '(__perf_alerts_paths -d)' -d 'Run as if started in DIR'
$c -l db -x -a '(__perf_alerts_paths)' -d 'The metrics store: a file, or postgresql://…'
$c -l shared -d "Read the team's shared store instead of the local one"
$c -l config -x -a '(__perf_alerts_paths)' -d 'Read this configuration file too'
$c -n 'not __perf_alerts_using check' -l format -x -a 'text json jsonl csv tsv' -d 'Output format'
$c -n '__perf_alerts_using check' -l format -x -a 'text json jsonl csv tsv junit github gitlab' -d 'Output format, or a CI report'
$c -l json -d 'Shorthand for --format json'
$c -s q -l quiet -d 'Print nothing on success'
$c -s v -l verbose -d 'Say more about what is done'

# list
$c -n '__perf_alerts_using list' -l all -d 'Resolved alerts too'
$c -n '__perf_alerts_using list' -l severity -x -a $severities -d 'Only alerts at or above this severity'
$c -n '__perf_alerts_using list' -l state -x -a 'open acknowledged snoozed resolved' -d 'Only alerts in this state'
$c -n '__perf_alerts_using list' -l step -x -a $steps -d 'Only alerts on this step'
$c -n '__perf_alerts_using list' -l since -x -a '1h 24h 7d 30d all' -d 'Only alerts last seen this recently, or all (default all)'
$c -n '__perf_alerts_using list' -l limit -x -d 'At most this many alerts (0: all)'

# ack, snooze, resolve
$c -n '__perf_alerts_using ack snooze resolve' -l by -x -d 'Who (default: the user name)'
$c -n '__perf_alerts_using ack snooze resolve' -l note -x -d "Why, kept in the alert's history"
$c -n '__perf_alerts_using snooze' -l for -x -a '30m 1h 2h 8h 1d' -d 'How long (required)'

# scan
$c -n '__perf_alerts_using scan' -l since -x -a '1h 24h 7d 30d all' -d 'Judge the steps recorded this recently, or all (default 7d)'

# check
$c -n '__perf_alerts_using check' -l fail-on -x -a $severities -d 'The least severity that fails (default critical)'
$c -n '__perf_alerts_using list check' -l repo -x -a '(__fish_complete_directories)' -d 'Only alerts on runs in this work tree'
$c -n '__perf_alerts_using list check' -l branch -x -d 'Only alerts on runs on this branch'

# health
$c -n '__perf_alerts_using health' -l deep -d 'Also the largest blobs and trees, every commit counted'

# notify
$c -n '__perf_alerts_using notify' -l retry -d 'Every pending notification now, whatever its backoff'
$c -n '__perf_alerts_using notify' -l test -d 'A test message through every channel'
