# fish completion for perfguard-hooks: installed in fish's vendor_completions.d, or copied
# into ~/.config/fish/completions/.

# The subcommand on the command line (status 1 when there is none yet).
function __perfguard_hooks_command
    set -l tokens (commandline -opc)
    set -l skip 0
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
                echo $token
                return 0
        end
    end
    return 1
end

function __perfguard_hooks_needs_command
    not __perfguard_hooks_command >/dev/null
end

# __perfguard_hooks_using NAME…: the subcommand is one of these.
function __perfguard_hooks_using
    set -l command (__perfguard_hooks_command); or return 1
    contains -- $command $argv
end

set -l c complete -c perfguard-hooks

# The subcommands.
$c -f
$c -f -n __perfguard_hooks_needs_command -a install -d 'Install the hooks, chaining the ones you have'
$c -f -n __perfguard_hooks_needs_command -a uninstall -d "Remove perfguard's hooks, putting back yours"
$c -f -n __perfguard_hooks_needs_command -a status -d "Say for each hook whether perfguard's is installed"
$c -f -n __perfguard_hooks_needs_command -a run -d "Run perfguard's part of a hook"
$c -f -n '__perfguard_hooks_using run' -a 'pre-commit prepare-commit-msg commit-msg post-commit post-merge post-checkout post-rewrite pre-push'

# The options every perfguard tool takes.
$c -s h -l help -d 'Print the options and exit'
$c -l version -d 'Print the version and exit'
$c -s C -x -a '(__fish_complete_directories)' -d 'Run as if started in DIR'
$c -l db -r -d 'The metrics store (default: <git common dir>/perfguard/perf.db)'
$c -l config -r -d 'Read this configuration file too'
$c -l format -x -a 'text json' -d 'Output format'
$c -l json -d 'Shorthand for --format json'
$c -s q -l quiet -d 'Print nothing on success'
$c -s v -l verbose -d 'Say more about what is done'

# install, uninstall, status
$c -n '__perfguard_hooks_using install uninstall status' -l global -d 'Your own hooks for every repository (the global core.hooksPath)'
