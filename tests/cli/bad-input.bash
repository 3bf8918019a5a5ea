# Bad input, one case per input: each exits with the documented code, says on one line
# (prefixed by the tool's name) what is wrong, and changes nothing: not the repository, not
# its refs, not the store. tests/README.md lists every case by kind. The last section also
# proves where -C takes relative paths from, as the cases with good paths there.

# refused CODE TEXT CMD…: runs CMD; expects exit CODE and one line on stderr containing TEXT.
refused() {
  local code=$1 text=$2
  shift 2
  run "$@"
  expect_status "$code"
  expect_stderr_contains "$text"
  expect_stderr_lines 1
}

# remember DIR: the repository's state, refs and store, to compare with expect_unchanged.
remember() { before=$(everything_of "$1"); }
expect_unchanged() { expect_eq "$(everything_of "$1")" "$before" "repository, refs and store"; }
everything_of() {
  state_of "$1"
  git -C "$1" for-each-ref
  local db
  db=$(store_of "$1")
  if [[ -e $db ]]; then sql "$db" "select count(*) from steps; select count(*) from spans"; else echo "no store"; fi
  ls "$(dirname "$db")"/*.journal.jsonl 2>/dev/null
}

# A repository with two commits and a change to commit or roll back.
dirty_repo() {
  make_repo r 2
  echo change >r/file.txt
  echo new >r/new.txt
}

# import_refused FILE FORMAT TEXT: importing FILE (in the test's directory, beside the
# repository) is refused (exit 2) naming TEXT; the repository is as it was and no step is
# stored.
import_refused() {
  make_repo r 1
  local state
  state=$(state_of r; git -C r for-each-ref)
  refused 2 "$3" perf-baseline -C r import "$TEST_DIR/$1" --format "$2"
  expect_no_steps r
  expect_eq "$(state_of r; git -C r for-each-ref)" "$state" "repository"
}

# expect_no_steps DIR: the repository's store holds no step (or was not made).
expect_no_steps() {
  local db
  db=$(store_of "$1")
  [[ ! -e $db ]] || expect_sql "$db" "select count(*) from steps" 0
}

# ---- arguments ----------------------------------------------------------------------------

test_commit_with_an_unknown_option_exits_2_naming_it() {
  dirty_repo
  remember r
  refused 2 "perf-commit: The following argument was not expected: --frobnicate" \
    perf-commit -C r -m x --frobnicate
  expect_unchanged r
}

test_rollback_with_an_unknown_option_exits_2_naming_it() {
  dirty_repo
  remember r
  refused 2 "perf-rollback: The following argument was not expected: --hard" perf-rollback -C r --hard
  expect_unchanged r
}

test_baseline_with_an_unknown_subcommand_exits_2_naming_it() {
  make_repo r 1
  remember r
  refused 2 "perf-baseline: 'frobnicate' is not a subcommand (see perf-baseline --help)" \
    perf-baseline -C r frobnicate
  refused 2 "perf-baseline: '--bogus' is not an option" perf-baseline -C r --bogus
  expect_unchanged r
}

test_directory_option_naming_a_missing_directory_exits_2_naming_it() {
  for tool in perf-commit perf-rollback perf-baseline; do
    refused 2 "$tool: $TEST_DIR/nowhere: no such directory" "$tool" -C nowhere stats
  done
}

test_directory_option_naming_a_file_exits_2_naming_it() {
  dirty_repo
  remember r
  refused 2 "perf-commit: $TEST_DIR/r/file.txt: no such directory" perf-commit -C r/file.txt -m x
  expect_unchanged r
}

test_unknown_output_format_exits_2_listing_the_formats() {
  dirty_repo
  remember r
  refused 2 "perf-commit: unknown --format 'xml': expected text, json, jsonl, csv or tsv" \
    perf-commit -C r -m x --format xml
  refused 2 "perf-rollback: unknown --format 'yaml'" perf-rollback -C r --format yaml
  expect_unchanged r
}

test_message_and_message_file_together_exit_2() {
  dirty_repo
  echo msg >msg.txt
  remember r
  refused 2 "perf-commit: --message excludes --file" perf-commit -C r -m x -F "$TEST_DIR/msg.txt"
  expect_unchanged r
}

test_message_file_that_does_not_exist_exits_2_and_stages_nothing() {
  dirty_repo
  remember r
  refused 2 "perf-commit: -F: cannot read missing.txt: No such file or directory" \
    perf-commit -C r -F missing.txt
  expect_unchanged r
}

test_message_file_that_is_a_directory_exits_2_and_stages_nothing() {
  dirty_repo
  mkdir r/notes
  remember r
  refused 2 "perf-commit: -F: cannot read notes: it is a directory" perf-commit -C r -F notes
  expect_unchanged r
}

test_undo_of_an_unknown_snapshot_exits_2_naming_it() {
  dirty_repo
  perf-rollback -C r -q || fail "rollback"
  remember r
  refused 2 "perf-rollback: no snapshot 20200101-nosuch: see \`perf-rollback --list-snapshots\`" \
    perf-rollback -C r --undo 20200101-nosuch
  expect_unchanged r
}

test_undo_without_any_snapshot_exits_2_saying_so() {
  dirty_repo
  remember r
  refused 2 "perf-rollback: there is no snapshot of this work tree" perf-rollback -C r --undo
  expect_unchanged r
}

test_prune_without_an_age_exits_2_naming_the_option() {
  make_repo r 1
  remember r
  refused 2 "--older-than" perf-baseline -C r prune
  expect_unchanged r
}

test_negative_limit_exits_2_naming_it() {
  make_repo r 1
  remember r
  refused 2 "perf-baseline: --limit: '-3' must be a whole number above 0" \
    perf-baseline -C r slowest --limit -3
  expect_unchanged r
}

test_non_numeric_days_exits_2_naming_the_option() {
  make_repo r 1
  remember r
  refused 2 "perf-baseline: --days: 'x' must be a whole number above 0" perf-baseline -C r trend --days x
  expect_unchanged r
}

# ---- durations ----------------------------------------------------------------------------

test_threshold_with_an_unknown_unit_exits_2_listing_the_units() {
  dirty_repo
  remember r
  refused 2 "perf-commit: --threshold: bad duration '1y': expected a number and a unit (us, ms, s, m, h, d, w)" \
    perf-commit -C r -m x --threshold 1y
  expect_unchanged r
}

test_empty_threshold_exits_2_instead_of_meaning_the_default() {
  dirty_repo
  remember r
  refused 2 "perf-commit: --threshold: bad duration ''" perf-commit -C r -m x --threshold ''
  expect_unchanged r
}

test_zero_threshold_exits_2_as_in_a_config_file() {
  dirty_repo
  remember r
  refused 2 "perf-commit: --threshold: '0s' is out of range: must be positive" \
    perf-commit -C r -m x --threshold 0s
  expect_unchanged r
}

test_zero_timeout_exits_2_instead_of_killing_the_step() {
  dirty_repo
  remember r
  refused 2 "perf-commit: --timeout: '0s' is out of range: must be positive" \
    perf-commit -C r -m x --timeout 0s
  refused 2 "perf-rollback: --timeout: '0ms' is out of range: must be positive" \
    perf-rollback -C r --timeout 0ms
  expect_unchanged r
}

test_zero_validate_threshold_exits_2_naming_the_option() {
  dirty_repo
  remember r
  refused 2 "perf-rollback: --validate-threshold: '0us' is out of range: must be positive" \
    perf-rollback -C r --validate-threshold 0us
  expect_unchanged r
}

test_negative_threshold_exits_2_naming_it() {
  dirty_repo
  remember r
  refused 2 "perf-rollback: --threshold: bad duration '-1s'" perf-rollback -C r --threshold -1s
  expect_unchanged r
}

test_threshold_beyond_the_clock_exits_2_saying_too_long() {
  dirty_repo
  remember r
  refused 2 "perf-commit: --threshold: bad duration '9999999999999999999999s': too long; the longest is 106751991d" \
    perf-commit -C r -m x --threshold 9999999999999999999999s
  expect_unchanged r
}

test_duration_with_two_decimal_points_exits_2_naming_it() {
  dirty_repo
  remember r
  refused 2 "perf-commit: --threshold: bad duration '1.5.5s'" perf-commit -C r -m x --threshold 1.5.5s
  expect_unchanged r
}

# ---- TOML configuration -------------------------------------------------------------------

# config_refused TEXT: with r/.perfguard.toml as written, a commit is refused naming TEXT.
config_refused() {
  dirty_repo
  printf "$1" >r/.perfguard.toml
  remember r
  refused 2 "$2" perf-commit -C r -m x
  expect_unchanged r
}

test_config_value_of_the_wrong_type_exits_2_naming_file_line_and_key() {
  config_refused '[thresholds]\ncommit = 5\n' ".perfguard.toml:2: thresholds.commit: expected"
}

test_config_unknown_table_exits_2_naming_it() {
  config_refused '[threshold]\ncommit = "1s"\n' ".perfguard.toml:1: threshold"
}

test_config_duplicate_key_exits_2_naming_the_line() {
  config_refused '[thresholds]\ncommit = "1s"\ncommit = "2s"\n' ".perfguard.toml:3"
}

test_config_threshold_over_a_week_exits_2_naming_the_bound() {
  config_refused '[thresholds]\ncommit = "8d"\n' ".perfguard.toml:2: thresholds.commit: '8d' is out of range: at most 7d"
}

test_config_zero_timeout_exits_2_naming_the_key() {
  config_refused '[timeouts]\ncommit = "0s"\n' ".perfguard.toml:2: timeouts.commit: '0s' is out of range: must be positive"
}

test_missing_config_file_exits_2_naming_it() {
  dirty_repo
  remember r
  refused 2 "nope.toml" perf-commit -C r -m x --config "$TEST_DIR/nope.toml"
  expect_unchanged r
}

test_config_file_that_is_a_directory_exits_2_naming_it() {
  dirty_repo
  mkdir conf.d
  remember r
  refused 2 "conf.d: it is a directory" perf-rollback -C r --config "$TEST_DIR/conf.d"
  expect_unchanged r
}

test_bad_user_config_exits_2_naming_its_file_and_line() {
  dirty_repo
  mkdir -p "$HOME/.config/perfguard"
  printf '[thresholds]\nrollback = \n' >"$HOME/.config/perfguard/config.toml"
  remember r
  refused 2 "perf-rollback: $HOME/.config/perfguard/config.toml:2: invalid TOML" perf-rollback -C r
  expect_unchanged r
}

# ---- import formats -----------------------------------------------------------------------

test_import_csv_without_a_step_column_exits_2_naming_it() {
  printf 'started_us,duration_us\n1700000000000000,1000\n' >in.csv
  import_refused in.csv csv 'in.csv:1: the header row has no "step" column'
}

test_import_csv_without_a_start_column_exits_2_naming_it() {
  printf 'step,duration_us\ncommit,1000\n' >in.csv
  import_refused in.csv csv 'in.csv:1: the header row has neither a "started_at" nor a "started_us" column'
}

test_import_csv_with_a_short_row_exits_2_naming_the_line() {
  printf 'step,started_us,duration_us\ncommit,1700000000000000,5\ncommit,1700000000000000\n' >in.csv
  import_refused in.csv csv "in.csv:3: expected 3 fields, as in the header, found 2"
}

test_import_csv_with_an_unterminated_quote_exits_2_naming_the_line() {
  printf 'step,started_us,duration_us\n"commit,1700000000000000,5\n' >in.csv
  import_refused in.csv csv "in.csv:2: column 1: unterminated quoted field"
}

test_import_csv_with_a_word_for_a_number_exits_2_naming_the_field() {
  printf 'step,started_us,duration_us\ncommit,yesterday,5\n' >in.csv
  import_refused in.csv csv 'in.csv:2: "started_us" must be an integer'
}

test_import_tsv_is_not_a_format_and_exits_2_listing_them() {
  printf 'step\tstarted_us\tduration_us\ncommit\t1700000000000000\t1000\n' >in.tsv
  import_refused in.tsv tsv "--format: 'tsv' is not an import format: jsonl, csv, hyperfine, journal or trace2"
}

test_import_hyperfine_that_is_not_json_exits_2_naming_the_column() {
  echo 'Benchmark 1: sleep' >hf.json
  import_refused hf.json hyperfine "hf.json:1: column 1: expected a JSON value"
}

test_import_hyperfine_without_results_exits_2_saying_what_is_expected() {
  echo '{"benchmarks":[]}' >hf.json
  import_refused hf.json hyperfine 'hf.json:1: expected an object with a "results" array (hyperfine --export-json)'
}

test_import_hyperfine_result_without_times_exits_2_naming_the_command() {
  echo '{"results":[{"command":"make"}]}' >hf.json
  import_refused hf.json hyperfine 'result "make" has no "times" array'
}

test_import_hyperfine_negative_time_exits_2_naming_the_field() {
  echo '{"results":[{"command":"make","times":[0.1,-1]}]}' >hf.json
  import_refused hf.json hyperfine '"times" must hold run times in seconds, 0 or more'
}

test_import_trace2_from_a_file_not_a_directory_exits_2_naming_it() {
  echo '{}' >events
  import_refused events trace2 "$TEST_DIR/events is not a directory: --format trace2 takes the directory"
}

test_import_trace2_event_that_is_not_json_exits_2_naming_file_and_line() {
  # git's own event file, damaged after its first events. (A file whose first line is not a
  # trace2 event is not git's at all: it is reported and left alone, and the import goes on;
  # see perf-baseline-trace2.bash.)
  mkdir t2
  GIT_TRACE2_EVENT=$TEST_DIR/t2 git version >/dev/null || fail "git version"
  local name
  name=$(ls t2)
  sed -i '3i garbage' "t2/$name"
  import_refused t2 trace2 "$TEST_DIR/t2/$name:3: column 1: expected a JSON value"
  expect_file_exists "t2/$name"
}

test_import_trace2_without_a_directory_exits_2_saying_how_to_name_one() {
  make_repo r 1
  refused 2 "perf-baseline: no trace2 directory: name it, or point trace2.eventTarget at one" \
    perf-baseline -C r import --format trace2
  expect_no_file "$(store_of r)"
}

test_import_journal_when_there_is_none_exits_0_naming_where_it_looked() {
  make_repo r 1
  run perf-baseline -C r import --format journal
  expect_status 0
  expect_stderr_contains "no journal at $(store_of r).journal.jsonl: nothing to import"
  expect_stderr_lines 1
  expect_no_steps r
}

test_import_journal_with_a_torn_line_exits_2_naming_it() {
  echo '{"trace_id":"00ff","step":"com' >j.jsonl
  import_refused j.jsonl journal "j.jsonl:1: column "
  expect_file_exists j.jsonl
}

test_import_jsonl_without_a_start_exits_2_naming_the_field() {
  echo '{"step":"commit","duration_us":5}' >in.jsonl
  import_refused in.jsonl jsonl 'in.jsonl:1: "started_us" must be present (or started_at)'
}

test_import_jsonl_array_instead_of_a_record_exits_2_saying_so() {
  echo '[]' >in.jsonl
  import_refused in.jsonl jsonl "in.jsonl:1: expected a record object, found an array"
}

test_import_jsonl_with_invalid_utf8_exits_2_naming_the_byte() {
  printf '\xff{}\n' >in.jsonl
  import_refused in.jsonl jsonl "in.jsonl:1: column 1: expected a JSON value, found byte 0xff"
}

test_import_of_a_directory_exits_2_saying_what_it_reads() {
  mkdir d
  import_refused d jsonl "cannot read $TEST_DIR/d: a directory; import reads a regular file, a FIFO or stdin (-)"
}

test_import_through_a_dangling_symlink_exits_2_naming_it() {
  ln -s nowhere.jsonl link.jsonl
  import_refused link.jsonl jsonl "cannot read $TEST_DIR/link.jsonl: No such file or directory"
}

# ---- repository states --------------------------------------------------------------------

test_rollback_outside_a_repository_exits_2_saying_so() {
  mkdir plain && echo x >plain/x
  refused 2 "not a git repository" perf-rollback -C plain
  expect_eq "$(ls -A plain)" "x" "files in the directory"
}

test_commit_in_a_bare_repository_exits_5_saying_it_has_no_work_tree() {
  git init -q --bare bare.git
  refs=$(git -C bare.git for-each-ref; ls -A bare.git)
  refused 5 "perf-commit: $TEST_DIR/bare.git is a bare repository: it has no work tree" \
    perf-commit -C bare.git -m x
  expect_eq "$(git -C bare.git for-each-ref; ls -A bare.git)" "$refs" "the bare repository"
}

test_rollback_in_a_bare_repository_exits_5_saying_it_has_no_work_tree() {
  make_repo r 2
  git clone -q --bare r bare.git
  refs=$(git -C bare.git for-each-ref; ls -A bare.git)
  refused 5 "perf-rollback: $TEST_DIR/bare.git is a bare repository: it has no work tree" \
    perf-rollback -C bare.git
  expect_eq "$(git -C bare.git for-each-ref; ls -A bare.git)" "$refs" "the bare repository"
}

test_undo_in_an_empty_repository_exits_5_naming_the_unborn_branch() {
  git init -q r
  echo x >r/x
  refused 5 "perf-rollback: HEAD has no commit yet (main is unborn)" perf-rollback -C r --undo
  expect_eq "$(git -C r status --porcelain)" "?? x" "work tree"
  expect_no_file "$(store_of r)"
}

test_rollback_of_a_detached_root_commit_exits_5_naming_head() {
  make_repo r 2
  git -C r checkout -q --detach HEAD~1
  echo local >r/file.txt
  remember r
  refused 5 "perf-rollback: HEAD~1 does not exist: HEAD is the root commit" perf-rollback -C r
  expect_unchanged r
}

test_rollback_without_git_on_path_exits_1_in_one_line() {
  dirty_repo
  remember r
  PATH=/nonexistent run "$PERFGUARD_BIN/perf-rollback" -C r
  expect_status 1
  expect_stderr_contains "perf-rollback: git: not found on PATH: install it or fix PATH"
  expect_stderr_lines 1
  expect_unchanged r
}

test_measure_without_git_on_path_exits_1_in_one_line() {
  make_repo r 1
  remember r
  PATH=/nonexistent run "$PERFGUARD_BIN/perf-baseline" -C r measure --runs 1
  expect_status 1
  expect_stderr_contains "perf-baseline: git: not found on PATH: install it or fix PATH"
  expect_stderr_lines 1
  expect_unchanged r
}

# ---- odd files ----------------------------------------------------------------------------

test_unreadable_import_file_exits_2_naming_it() {
  make_repo r 1
  echo '{}' >secret.jsonl
  share_with_other_user
  chmod 0000 secret.jsonl
  as_other_user "$PERFGUARD_BIN/perf-baseline" -C "$TEST_DIR/r" --db "$TEST_DIR/other.db" \
    import "$TEST_DIR/secret.jsonl" --format jsonl >out 2>err
  status=$?
  cat err >&2
  expect_status 2
  expect_stderr_contains "cannot read $TEST_DIR/secret.jsonl: Permission denied"
  expect_stderr_lines 1
  [[ ! -e other.db ]] || expect_sql other.db "select count(*) from steps" 0
}

test_unreadable_config_file_exits_2_naming_it() {
  dirty_repo
  printf '[thresholds]\ncommit = "1s"\n' >private.toml
  share_with_other_user
  chmod 0000 private.toml
  remember r
  as_other_user "$PERFGUARD_BIN/perf-commit" -C "$TEST_DIR/r" -m x --config "$TEST_DIR/private.toml" >out 2>err
  status=$?
  cat err >&2
  expect_status 2
  expect_stderr_contains "private.toml"
  expect_stderr_contains "Permission denied"
  expect_stderr_lines 1
  expect_unchanged r
}

test_newer_store_schema_is_refused_by_queries_exit_4() {
  make_repo r 1
  sqlite3 new.db "pragma user_version = 99; create table t(x);"
  sum=$(sha256sum <new.db)
  refused 4 "new.db" perf-baseline -C r --db "$TEST_DIR/new.db" stats
  expect_stderr_contains "newer"
  expect_eq "$(sha256sum <new.db)" "$sum" "the newer store"
}

test_import_into_a_read_only_store_exits_4_and_leaves_it() {
  make_repo r 1
  echo x >r/x && perf-commit -C r -q -m x --db "$TEST_DIR/ro.db" || fail "creating the store"
  printf '{"trace_id":"00000000000000aa","step":"commit","status":"ok","started_us":1700000000000000,"duration_us":5,"exit_code":0,"spans":[],"labels":{}}\n' >in.jsonl
  share_with_other_user
  chmod 0444 ro.db
  sum=$(sha256sum <ro.db)
  as_other_user "$PERFGUARD_BIN/perf-baseline" -C "$TEST_DIR/r" --db "$TEST_DIR/ro.db" \
    import "$TEST_DIR/in.jsonl" --format jsonl >out 2>err
  status=$?
  cat err >&2
  expect_status 4
  expect_stderr_contains "ro.db"
  expect_stderr_lines 1
  expect_eq "$(sha256sum <ro.db)" "$sum" "the read-only store"
}

# ---- environment --------------------------------------------------------------------------

test_bad_busy_timeout_in_the_environment_exits_2_naming_the_variable() {
  make_repo r 1
  remember r
  PERFGUARD_STORE_BUSY_TIMEOUT=x refused 2 "perf-baseline: PERFGUARD_STORE_BUSY_TIMEOUT: bad duration 'x'" \
    perf-baseline -C r stats
  expect_unchanged r
}

test_negative_kill_grace_in_the_environment_exits_2_naming_the_variable() {
  dirty_repo
  remember r
  PERFGUARD_TIMEOUTS_KILL_GRACE=-1s refused 2 "perf-commit: PERFGUARD_TIMEOUTS_KILL_GRACE: bad duration '-1s'" \
    perf-commit -C r -m x
  expect_unchanged r
}

test_bad_progress_delay_in_the_environment_exits_2_naming_the_variable() {
  dirty_repo
  remember r
  PERFGUARD_PROGRESS_DELAY=soon refused 2 "perf-commit: PERFGUARD_PROGRESS_DELAY: bad duration 'soon'" \
    perf-commit -C r -m x
  expect_unchanged r
}

test_threshold_over_a_week_in_the_environment_exits_2_naming_the_bound() {
  dirty_repo
  remember r
  PERFGUARD_THRESHOLDS_ROLLBACK=8d refused 2 "perf-rollback: PERFGUARD_THRESHOLDS_ROLLBACK: '8d' is out of range: at most 7d" \
    perf-rollback -C r
  expect_unchanged r
}

test_store_in_the_environment_naming_a_directory_exits_4_and_changes_nothing() {
  make_repo r 1
  mkdir stores
  PERFGUARD_DB=$TEST_DIR/stores refused 4 "perf-baseline: $TEST_DIR/stores: not a perfguard store (it is a directory); nothing was changed" \
    perf-baseline -C r stats
  expect_eq "$(ls -A stores)" "" "the directory"
  expect_no_file stores.journal.jsonl
}

test_home_unset_still_names_a_bad_repository_config() {
  dirty_repo
  printf '[thresholds]\ncommit = "fast"\n' >r/.perfguard.toml
  remember r
  (unset HOME && run perf-commit -C r -m x && echo "$status" >status) || true
  status=$(cat status)
  expect_status 2
  expect_stderr_contains "perf-commit: $TEST_DIR/r/.perfguard.toml:2: thresholds.commit: bad duration 'fast'"
  expect_stderr_lines 1
  expect_unchanged r
}

# ---- signals ------------------------------------------------------------------------------

test_sigterm_mid_commit_exits_130_commits_nothing_and_records_it() {
  make_repo r 1
  # The hook says it runs, then waits for a file that only we create.
  printf '#!/bin/sh\ntouch "%s/hook.started"\nwhile [ ! -e "%s/release" ]; do sleep 0.05; done\n' \
    "$TEST_DIR" "$TEST_DIR" >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  echo x >r/x
  perf-commit -C r -m x >out 2>err &
  pid=$!
  kill_at_end "$pid"
  wait_for_file hook.started
  kill -TERM "$pid"
  wait "$pid"
  status=$?
  touch release
  cat out err >&2
  expect_status 130
  expect_stdout_contains "commit "
  expect_stdout_contains " interrupted"
  expect_stderr_lines 0
  expect_eq "$(git -C r rev-list --count HEAD)" 1 "commits"
  expect_no_file r/.git/index.lock
  expect_sql "$(store_of r)" "select status, exit_code from step_results" "interrupted|130"
}

# ---- -C DIR: relative paths are taken from DIR, as with git -C ----------------------------

# decoys NAME…: where the command is started, each NAME is something no tool can use (a
# config that is not TOML, a message nobody wrote, a file where a directory is wanted), so a
# relative path taken from here instead of from the -C directory fails the case.
decoys() {
  local name
  for name in "$@"; do echo 'not = [toml, nor a message, nor records' >"$name"; done
}

# one_record: one record line in our JSONL.
one_record() {
  printf '{"trace_id":"00000000000000c1","step":"deploy","status":"ok","started_us":1700000000000000,"duration_us":5,"exit_code":0,"spans":[],"labels":{}}\n'
}

test_directory_option_is_where_a_commit_takes_its_relative_paths_from() {
  make_repo r 1
  echo "message from r" >r/msg
  printf '[thresholds]\ncommit = "1h"\n' >r/conf.toml
  echo change >r/file.txt
  decoys msg conf.toml
  run perf-commit -C r -F msg --config conf.toml --db .git/here.db file.txt
  expect_status 0
  expect_eq "$(git -C r log -1 --format=%s)" "message from r" "the commit message"
  expect_eq "$(git -C r show --name-only --format= HEAD)" "file.txt" "what was committed"
  expect_sql r/.git/here.db "select step, cast(threshold_ms as integer) from step_results" "commit|3600000"
  expect_no_file .git
  expect_no_file "$(store_of r)"
}

test_directory_option_is_where_a_rollback_takes_its_relative_paths_from() {
  make_repo r 1
  mkdir r/sub
  echo one >r/sub/a && echo top1 >r/a && git -C r add -A && git -C r commit -qm one
  echo two >r/sub/a && echo top2 >r/a && git -C r add -A && git -C r commit -qm two
  printf '[thresholds]\nrollback = "1h"\n' >r/.git/conf.toml
  run perf-rollback -C r/sub --config ../.git/conf.toml --db ../.git/here.db HEAD~1 -- a
  expect_status 0
  expect_eq "$(cat r/sub/a) $(cat r/a)" "one top2" "sub/a restored, a left"
  expect_sql r/.git/here.db "select cast(threshold_ms as integer) from step_results where step = 'rollback'" 3600000
  expect_no_file "$(store_of r)"
}

test_directory_option_is_where_perf_baseline_takes_its_relative_paths_from() {
  make_repo r 1
  one_record >r/in.jsonl
  printf '[store]\nbusy_timeout = "2s"\n' >r/conf.toml
  mkdir r/events
  decoys in.jsonl conf.toml events
  local db=(--db .git/here.db)
  run perf-baseline -C r "${db[@]}" --config conf.toml import in.jsonl --format jsonl
  expect_status 0
  expect_stdout_contains "imported 1 step"
  run perf-baseline -C r "${db[@]}" import --format trace2 events
  expect_status 0
  expect_stdout_contains "imported 0 steps"
  run perf-baseline -C r "${db[@]}" export -o out.jsonl
  expect_status 0
  expect_eq "$(grep -c '"step":"deploy"' r/out.jsonl)" 1 "records in r/out.jsonl"
  run perf-baseline -C r "${db[@]}" report -o page.html --since all
  expect_status 0
  grep -q '^<!DOCTYPE html>' r/page.html || fail "no report in r/page.html"
  expect_no_file out.jsonl
  expect_no_file page.html
  expect_sql r/.git/here.db "select count(*) from step_results" 1
}

test_relative_store_in_the_environment_is_taken_from_the_directory_option() {
  make_repo r 2
  echo x >r/x
  PERFGUARD_DB=.git/env.db run perf-commit -C r -m x
  expect_status 0
  PERFGUARD_DB=.git/env.db run perf-rollback -C r
  expect_status 0
  PERFGUARD_DB=.git/env.db run perf-baseline -C r stats --since all --format csv
  expect_status 0
  expect_stdout_contains "commit,1,"
  expect_stdout_contains "rollback,1,"
  expect_sql r/.git/env.db "select group_concat(step, ',') from (select step from step_results order by id)" "commit,rollback,validate"
  expect_no_file .git
  expect_no_file "$(store_of r)"
}

test_dash_stays_stdin_and_stdout_with_the_directory_option() {
  make_repo r 1
  echo "the file named -" >r/-
  echo "the file named -" >-
  one_record | perf-baseline -C r import - --format jsonl >out 2>err || fail "import from stdin: $(cat err)"
  expect_stdout_contains "imported 1 step"
  run perf-baseline -C r export -o -
  expect_status 0
  expect_stdout_contains '"step":"deploy"'
  run perf-baseline -C r report -o - --since all
  expect_status 0
  expect_stdout_contains "<!DOCTYPE html>"
  echo y >r/y
  echo "message from stdin" | perf-commit -C r -F - y >out 2>err || fail "commit: $(cat err)"
  expect_eq "$(git -C r log -1 --format=%s)" "message from stdin" "the commit message"
  expect_eq "$(cat r/- ./-)" "the file named -
the file named -" "the files named -"
}

test_directory_options_are_taken_one_from_the_other_like_git() {
  make_repo r 1
  mkdir r/sub
  echo x >r/sub/x
  echo "message from sub" >r/sub/msg
  mkdir elsewhere
  decoys msg elsewhere/msg
  # -C r -C sub is r/sub; an empty -C changes nothing; an absolute one starts afresh.
  run perf-commit -C elsewhere -C "$TEST_DIR/r" -C '' -C sub -F msg --db ../.git/here.db x
  expect_status 0
  expect_eq "$(git -C r log -1 --format=%s)" "message from sub" "the commit message"
  expect_eq "$(git -C r show --name-only --format= HEAD)" "sub/x" "what was committed"
  expect_sql r/.git/here.db "select count(*) from step_results" 1
  remember r
  refused 2 "perf-rollback: $TEST_DIR/r/sub/nowhere: no such directory" perf-rollback -C r -C sub -C nowhere
  refused 2 "perf-baseline: $TEST_DIR/r/x: no such directory" perf-baseline -C r -C x stats
  expect_unchanged r
}

test_relative_directory_option_from_a_deleted_directory_exits_2_saying_so() {
  make_repo r 1
  echo x >r/x
  mkdir gone
  cd gone || fail "cd"
  rmdir "$TEST_DIR/gone"
  remember "$TEST_DIR/r"
  for tool in perf-commit perf-rollback perf-baseline; do
    refused 2 "$tool: the current directory was deleted: -C r is taken from it: cd to one that exists, or give -C a full path" \
      "$tool" -C r stats
  done
  expect_unchanged "$TEST_DIR/r"
  # A full path needs no current directory, and relative paths are taken from it.
  run perf-commit -C "$TEST_DIR/r" -m x --db .git/here.db
  expect_status 0
  expect_sql "$TEST_DIR/r/.git/here.db" "select count(*) from step_results" 1
}

# ---- perf-baseline's option values ----------------------------------------------------------
# Every kind of value (a duration, a window back from now, a fraction, a multiplier, a count,
# one of a few names) is checked as the command line is read, before the store is opened:
# exit 2, one line naming the option, and the store's files exactly as they were.

# store_repo: a repository r whose store holds one real commit; remembers the store's bytes.
store_repo() {
  make_repo r 1
  echo x >r/x
  perf-commit -C r -q -m x || fail "perf-commit could not make the store"
  store_before=$(store_bytes)
}
store_bytes() { (cd "$(dirname "$(store_of r)")" && find . -type f -exec sha256sum {} + | sort); }
expect_store_unchanged() { expect_eq "$(store_bytes)" "$store_before" "the store's files"; }

# refused_option TEXT ARGS…: perf-baseline -C r ARGS… exits 2 with one line containing
# TEXT, and writes nothing to the store.
refused_option() {
  local text=$1
  shift
  refused 2 "perf-baseline: $text" perf-baseline -C r "$@"
  expect_store_unchanged
}

test_baseline_bad_duration_exits_2_naming_the_option_and_writes_nothing() {
  store_repo
  refused_option "--since: bad duration 'yesterday': expected a number and a unit (us, ms, s, m, h, d, w), e.g. 250ms or 1.5s, or all" \
    stats --since yesterday
  refused_option "--window: bad duration '7': expected a number and a unit" compute --window 7
  refused_option "--older-than: bad duration 'soon': expected a number and a unit" \
    prune --older-than soon
  refused_option "--since: bad duration '1y'" export --since 1y
}

test_baseline_zero_or_negative_window_exits_2_and_writes_nothing() {
  store_repo
  local cmd
  for cmd in stats slowest export "report -o $TEST_DIR/page.html"; do
    # shellcheck disable=SC2086 # split on purpose
    refused_option "--since: '0s' is not a window: it must be positive (like 7d), or all for every run" \
      $cmd --since 0s
    # shellcheck disable=SC2086
    refused_option "--since: bad duration '-1d'" $cmd --since -1d
  done
  expect_no_file page.html
  refused_option "--window: '0ms' is out of range: it must be positive, like 7d" compute --window 0ms
  refused_option "--older-than: '0s' is out of range: it must be positive, like 7d" \
    prune --older-than 0s
  expect_sql "$(store_of r)" "select count(*) from steps" 1
}

test_baseline_all_is_a_window_for_queries_but_not_an_age_or_a_baseline_window() {
  store_repo
  refused_option "--older-than: bad duration 'all'" prune --older-than all
  refused_option "--window: bad duration 'all'" compute --window all
  expect_sql "$(store_of r)" "select count(*) from steps" 1
  run perf-baseline -C r export --since all
  expect_status 0
  expect_stdout_contains '"step":"commit"'
}

test_baseline_empty_since_exits_2_instead_of_meaning_all() {
  store_repo
  refused_option "--since: bad duration ''" export --since ''
  refused_option "--since: bad duration ''" stats --since ''
}

test_baseline_fraction_above_100_percent_or_1_exits_2() {
  store_repo
  local f
  for f in 150% 101% 1.5 7 -5% -0.1 nan inf 5%% five; do
    refused_option "--min-change: '$f' is not a fraction: write it as 5% or 0.05, from 0 to 100%" \
      compute --min-change "$f"
  done
  expect_sql "$(store_of r)" "select count(*) from baselines" 0
}

test_baseline_multiplier_inf_or_nan_exits_2_and_writes_nothing() {
  store_repo
  local m
  for m in inf -inf nan 0 -2 1e999 1001 2x; do
    refused_option "--multiplier: '$m' is not a multiplier: a finite number above 0 and at most 1000, like 2 or 1.5" \
      compute --min-samples 1 --multiplier "$m"
  done
  expect_sql "$(store_of r)" "select count(*) from baselines" 0
}

test_baseline_counts_below_their_minimum_exit_2() {
  store_repo
  refused_option "--limit: '0' must be a whole number above 0" slowest --limit 0
  refused_option "--spans: '-1' must be a whole number from 0 up" slowest --spans -1
  refused_option "--days: '1.5' must be a whole number above 0" trend --days 1.5
  refused_option "--min-samples: '0' must be a whole number above 0" compute --min-samples 0
  refused_option "--runs: '99999999999' must be a whole number above 0, at most 2147483647" \
    measure --runs 99999999999
  refused_option "--runs: '-1' must be a whole number above 0" measure --runs -1
  expect_eq "$(git -C r for-each-ref refs/perfguard/)" "" "snapshot refs (measure ran nothing)"
}

test_baseline_unknown_choice_exits_2_listing_the_choices() {
  store_repo
  refused_option "--by: 'week' is not a period: day or hour" trend --by week
  refused_option "--scope: 'team' is not a scope: all, repo or branch" compute --scope team
  refused_option "--format: 'xml' is not an import format: jsonl, csv, hyperfine, journal or trace2" \
    import --format xml "$TEST_DIR/in.jsonl"
  refused_option "--format: 'json' is not an export format: jsonl, csv, prometheus or otlp" \
    export --format json
  refused_option "--step names hyperfine's runs; the other formats carry their step names" \
    import --step s --format jsonl "$TEST_DIR/in.jsonl"
  refused_option "--steps: 'merge' is not a step measure runs: commit, rollback or validate" \
    measure --steps commit,merge
  refused_option "--steps: name at least one of commit, rollback, validate" measure --steps ''
  expect_eq "$(git -C r for-each-ref refs/perfguard/)" "" "snapshot refs (measure ran nothing)"
}

test_baseline_option_values_at_their_bounds_are_taken() {
  store_repo
  run perf-baseline -C r compute --min-samples 1 --min-change 100% --multiplier 1000 --json
  expect_status 0
  expect_eq "$(sqlite3 :memory: "select json_extract(readfile('out'), '\$.baselines[0].result')")" stored
  expect_sql "$(store_of r)" "select multiplier from baselines" 1000.0
  run perf-baseline -C r slowest --spans 0 --limit 1 --since all --format csv
  expect_status 0
  expect_eq "$(wc -l <out)" 2 "csv header and one run"
  run perf-baseline -C r trend --by hour --days 1 --format csv
  expect_status 0
  expect_stdout_contains ",hour,"
}

test_baseline_with_an_unknown_runner_exits_2_naming_the_kinds() {
  dirty_repo
  remember r
  refused 2 "perf-baseline: --runner: 'travis' is not a runner: ci, local, github, gitlab, buildkite or jenkins (see perf-baseline --help)" \
    perf-baseline -C r stats --runner travis
  expect_unchanged r
}
