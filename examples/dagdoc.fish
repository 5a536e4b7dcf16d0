# fish completion for dagdoc.  Installed by `make install` as
# $PREFIX/share/fish/vendor_completions.d/dagdoc.fish; or copy it to
# ~/.config/fish/completions/.  Commands, their options, the configured
# source names and the DAG ids of the store (`dagdoc complete`).

set -l commands init config sync classify patterns triage report runbook store help version

# dagdoc complete sources|dags, with the --config, --store and --source the command line gives
function __dagdoc_words
    set -l args
    set -l tokens (commandline -opc)
    for i in (seq 2 (count $tokens))
        switch $tokens[$i]
            case --config --store --source
                if test $i -lt (count $tokens)
                    set -a args $tokens[$i] $tokens[(math $i + 1)]
                end
        end
    end
    dagdoc complete $argv[1] $args 2>/dev/null
end

function __dagdoc_pattern_ids
    dagdoc patterns list 2>/dev/null | string match -r '^[a-z0-9_-]+\.[a-z0-9._-]+' 
end

complete -c dagdoc -f
complete -c dagdoc -n "not __fish_seen_subcommand_from $commands" -a init -d 'write a first configuration'
complete -c dagdoc -n "not __fish_seen_subcommand_from $commands" -a config -d 'print the effective configuration'
complete -c dagdoc -n "not __fish_seen_subcommand_from $commands" -a sync -d 'fill the local store'
complete -c dagdoc -n "not __fish_seen_subcommand_from $commands" -a classify -d 'what failed in a log'
complete -c dagdoc -n "not __fish_seen_subcommand_from $commands" -a patterns -d 'the pattern library'
complete -c dagdoc -n "not __fish_seen_subcommand_from $commands" -a triage -d 'why a DAG fails'
complete -c dagdoc -n "not __fish_seen_subcommand_from $commands" -a report -d 'every DAG that ran, in one report'
complete -c dagdoc -n "not __fish_seen_subcommand_from $commands" -a runbook -d 'what the on-call engineer needs'
complete -c dagdoc -n "not __fish_seen_subcommand_from $commands" -a store -d 'copy the store into a PostgreSQL database'
complete -c dagdoc -n "__fish_seen_subcommand_from store" -a migrate -d 'copy into an empty database'
complete -c dagdoc -n "__fish_seen_subcommand_from store" -l to -x -d 'the PostgreSQL database URL'
complete -c dagdoc -n "__fish_seen_subcommand_from store" -l from -r -d 'the store to copy'
complete -c dagdoc -n "not __fish_seen_subcommand_from $commands" -a help -d 'help for dagdoc or one command'
complete -c dagdoc -n "not __fish_seen_subcommand_from $commands" -a version -d 'print the version'
complete -c dagdoc -n "__fish_seen_subcommand_from help" -a "$commands"

# options every command takes
complete -c dagdoc -n "__fish_seen_subcommand_from $commands" -l config -r -F -d 'configuration file'
complete -c dagdoc -n "__fish_seen_subcommand_from $commands" -l store -r -F -d 'the store'
complete -c dagdoc -n "__fish_seen_subcommand_from $commands" -s v -l verbose -d 'trace on stderr'
complete -c dagdoc -n "__fish_seen_subcommand_from $commands" -s h -l help -d 'the command\'s help'

complete -c dagdoc -n "__fish_seen_subcommand_from sync triage report runbook" -l source -x -a "(__dagdoc_words sources)" -d 'a configured source'
complete -c dagdoc -n "__fish_seen_subcommand_from sync triage report runbook" -l since -x -a "24h 48h 7d 14d 30d 90d" -d 'the period'
complete -c dagdoc -n "__fish_seen_subcommand_from triage report runbook" -l repo -x -a "(__fish_complete_directories)" -d 'a git repository'
complete -c dagdoc -n "__fish_seen_subcommand_from triage report runbook" -l offline -d 'use only the store'
complete -c dagdoc -n "__fish_seen_subcommand_from triage report" -l explain -d 'every evidence weight'
complete -c dagdoc -n "__fish_seen_subcommand_from triage" -l format -x -a "text json md"
complete -c dagdoc -n "__fish_seen_subcommand_from classify" -l format -x -a "text json"
complete -c dagdoc -n "__fish_seen_subcommand_from classify" -l patterns -x -a "(__fish_complete_directories)"
complete -c dagdoc -n "__fish_seen_subcommand_from classify" -F
complete -c dagdoc -n "__fish_seen_subcommand_from patterns; and not __fish_seen_subcommand_from list show test" -a "list show test"
complete -c dagdoc -n "__fish_seen_subcommand_from patterns; and __fish_seen_subcommand_from show" -a "(__dagdoc_pattern_ids)"
complete -c dagdoc -n "__fish_seen_subcommand_from patterns" -l category -x -a "dependency_upgrade stalled_upstream intermittent resource orchestrator config_credentials code_bug data_quality ml_training"

complete -c dagdoc -n "__fish_seen_subcommand_from report" -l format -x -a "text md json html" -d 'report format'
complete -c dagdoc -n "__fish_seen_subcommand_from report" -l history -x -a "7d 14d 30d 90d" -d 'how far back triage looks'
complete -c dagdoc -n "__fish_seen_subcommand_from report" -l all -d 'every DAG that ran'
complete -c dagdoc -n "__fish_seen_subcommand_from report" -s o -l output -r -F -d 'write the report to FILE'
complete -c dagdoc -n "__fish_seen_subcommand_from report" -l post -x -d 'post to this webhook URL'
complete -c dagdoc -n "__fish_seen_subcommand_from report" -l post-env -x -a "(set -xn)" -d 'the variable holding the webhook URL'
complete -c dagdoc -n "__fish_seen_subcommand_from report" -l post-format -x -a "slack blocks json pagerduty" -d 'what the post sends'
complete -c dagdoc -n "__fish_seen_subcommand_from report" -l report-url -x -d 'where the report is served'
complete -c dagdoc -n "__fish_seen_subcommand_from report" -l no-post -d 'do not post'
complete -c dagdoc -n "__fish_seen_subcommand_from report" -l no-record -d 'a preview: record nothing'

# DAG ids from the store
complete -c dagdoc -n "__fish_seen_subcommand_from triage report runbook" -a "(__dagdoc_words dags)"
complete -c dagdoc -n "__fish_seen_subcommand_from runbook" -a "(__dagdoc_pattern_ids)"
