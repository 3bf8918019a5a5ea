# perf-baseline import --format trace2 against what happens to a trace2 directory in real
# life: two imports at once, an import killed part-way, gits killed with SIGKILL (and their
# children), and files in the directory that are not git's. Real git writes every event
# file here; the ages git cannot give are set with touch -d.

# settle DIR: every file in DIR last changed a minute ago, past the second during which the
# import takes a file for one git may still be writing.
settle() { touch -d '1 minute ago' "$1"/*; }

# sid_of FILE: the session id of an event file's process (parent/own for a child of a git).
sid_of() { head -n 1 "$1" | jq -r .sid; }

# A git command that runs a git child: `git pair` in a shell alias runs `git rev-parse`,
# so each writes two event files, the child's sid under the parent's.
git_pair() {
  with_trace2 "$TEST_DIR/events" git -C r -c alias.pair='!git rev-parse --git-dir >/dev/null' pair
}

test_two_imports_at_once_record_every_git_process_once() {
  make_repo r 1
  mkdir events
  local i
  for ((i = 1; i <= 1000; i++)); do git_pair || fail "git pair $i"; done
  expect_eq "$(find events -type f | wc -l)" 2000 "event files written"
  settle events
  # Both importers wait on one FIFO and are let go together.
  mkfifo go
  exec {gate}<>go
  local n pids=()
  for n in 1 2; do
    (read -r _ <go && exec perf-baseline -C r import --format trace2 "$TEST_DIR/events" >"out.$n" 2>"err.$n") &
    pids+=($!)
  done
  echo >&"$gate"
  echo >&"$gate"
  exec {gate}>&-
  for n in 1 2; do
    wait "${pids[n - 1]}" || fail "import $n exited $?: $(cat "err.$n")"
    [[ ! -s err.$n ]] || fail "import $n wrote to stderr: $(cat "err.$n")"
  done
  # One import took every file, the other found none of them: no git process read twice.
  local counts
  counts=($(sed -n 's/^imported \([0-9]*\) step.*/\1/p' out.1 out.2))
  expect_eq "${#counts[@]}" 2 "summaries"
  expect_eq "$((counts[0] + counts[1]))" 1000 "steps imported by the two"
  grep -q "already stored" out.1 out.2 && fail "a process was read by both: $(cat out.1 out.2)"
  [[ -z $(ls events) ]] || fail "event files left: $(ls events | head -n 3)"
  db=$(store_of r)
  expect_sql "$db" "select count(*), count(distinct json_extract(labels, '$.sid')) from step_results" "1000|1000"
  # Each child inside its parent's record, never a step of its own.
  expect_sql "$db" "select count(*) from step_results where json_extract(labels, '$.parent_sid') is not null" 0
  expect_sql "$db" "select count(*) from child_spans where name = 'git:rev-parse' and exit_code = 0" 1000
}

test_an_import_killed_between_removals_leaves_no_child_to_record_twice() {
  make_repo r 1
  mkdir events
  git_pair || fail "git pair"
  settle events
  # Killed (SIGKILL) once the first file is removed, its records committed.
  PERFGUARD_TEST_FAULT=import-trace2-file-removed run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 137
  expect_eq "$(ls events | wc -l)" 1 "files left by the killed import"
  local left
  left=events/$(ls events)
  [[ $(sid_of "$left") != */* ]] || fail "the parent went first, leaving its child: $(sid_of "$left")"
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 0 steps (1 already stored, 1 event file removed)"
  expect_sql "$(store_of r)" "select count(*) from step_results" 1
}

# hook_that_hangs REPO: a pre-commit hook that runs `git rev-parse`, then hangs in a git of
# its own (a shell alias) until $HOLD (a FIFO) is opened and closed, once that git's pid is
# written to $READY (a FIFO): by then every event before the hang is in the files.
hook_that_hangs() {
  cat >"$1/.git/hooks/pre-commit" <<'EOF'
#!/bin/sh
git rev-parse HEAD >/dev/null || exit 1
exec git -c alias.hang='!echo "$PPID" >"$READY"; exec cat "$HOLD"' hang
EOF
  chmod +x "$1/.git/hooks/pre-commit"
}

# commit_killed_in_its_hook: `git commit` in r, killed with SIGKILL, with the git its hook
# runs, while the hook hangs. Sets $commit_sid.
commit_killed_in_its_hook() {
  mkfifo ready hold
  hook_that_hangs r
  echo change >r/file.txt && git -C r add file.txt
  # A simple command, so that $! is git's own pid.
  READY=$TEST_DIR/ready HOLD=$TEST_DIR/hold GIT_TRACE2_EVENT=$TEST_DIR/events \
    GIT_TRACE2_EVENT_NESTING=5 git -C r commit -qm killed &
  local commit_pid=$! hang_pid
  kill_at_end "$commit_pid"
  read -r hang_pid <ready || fail "the hook never hung"
  kill -9 "$commit_pid" "$hang_pid"
  wait "$commit_pid"
  exec {hold}>hold  # the hook's cat has it open: closing it ends the hook
  exec {hold}>&-
  local f
  for f in events/*; do [[ $(sid_of "$f") == */* ]] || commit_sid=$(sid_of "$f"); done
  grep -q '"event":"exit"' "events/${commit_sid##*/}" && fail "the commit was not killed"
  expect_eq "$(ls events | wc -l)" 3 "event files: the commit, rev-parse, the hanging git"
}

test_a_git_killed_a_day_ago_is_imported_as_interrupted_up_to_its_last_event() {
  make_repo r 1
  mkdir events
  commit_killed_in_its_hook
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 0 steps (3 event files left for next time)"
  # Within a day it may still be a live git waiting (an editor, a pager, a hook): left.
  touch -d '23 hours ago' events/*
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 0 steps (3 event files left for next time)"
  touch -d '25 hours ago' events/*
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 1 step (3 event files removed)"
  [[ -z $(ls events) ]] || fail "event files left: $(ls events)"
  db=$(store_of r)
  expect_sql "$db" "select step, status, exit_code from step_results" "git:commit|interrupted|130"
  expect_sql "$db" "select json_extract(labels, '$.sid') from step_results" "$commit_sid"
  # Its children with it: the git that finished with its exit code, the killed one without.
  expect_sql "$db" "select name, exit_code from child_spans where name like 'git:%' order by seq" \
    "git:rev-parse|0
git:_run_shell_alias_|"
  # It ends at the last event of its tree, the hanging git's start of its shell: that span
  # ends there too, and nothing of the day since is counted.
  expect_sql "$db" "select round((c.offset_ms + c.duration_ms) * 1000) = s.duration_us, c.duration_ms
    from child_spans as c join step_results as s on s.id = c.step_id
    where c.name like 'child:echo%'" "1|0.0"
}

test_a_live_git_quiet_for_hours_is_left_for_next_time_and_recorded_when_it_ends() {
  make_repo r 1
  mkdir events
  mkfifo ready hold
  hook_that_hangs r
  echo change >r/file.txt && git -C r add file.txt
  READY=$TEST_DIR/ready HOLD=$TEST_DIR/hold GIT_TRACE2_EVENT=$TEST_DIR/events \
    GIT_TRACE2_EVENT_NESTING=5 git -C r commit -qm waited &
  local commit_pid=$!
  kill_at_end "$commit_pid"
  read -r _ <ready || fail "the hook never hung"
  touch -d '23 hours ago' events/*
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 0 steps (3 event files left for next time)"
  exec {hold}>hold
  exec {hold}>&-
  wait "$commit_pid" || fail "the commit failed"
  settle events  # with the files of the git children the commit ran after its hook
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 1 step ("
  [[ -z $(ls events) ]] || fail "event files left: $(ls events)"
  expect_sql "$(store_of r)" "select step, status, exit_code from step_results" "git:commit|ok|0"
}

# not_git_files DIR: a README, an empty file, the start of a binary and a subdirectory.
not_git_files() {
  echo "Event files of git's trace2 target; imported by cron." >"$1/README"
  : >"$1/empty"
  head -c 8192 "$(command -v git)" >"$1/git.bin"
  mkdir "$1/archive"
}

test_files_that_are_not_trace2_are_reported_once_each_and_left_alone() {
  make_repo r 1
  mkdir events
  with_trace2 "$TEST_DIR/events" git -C r status >/dev/null || fail "git status"
  not_git_files events
  settle events
  local before
  before=$(cd events && sha256sum README empty git.bin)
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 1 step (1 event file removed, 4 other files left alone)"
  expect_stderr_lines 4
  local f
  for f in README empty git.bin archive; do
    expect_eq "$(grep -c "^perf-baseline: warning: $TEST_DIR/events/$f: not a trace2 event file (.*); left alone" err)" 1 "reports of $f"
  done
  expect_stderr_contains "$TEST_DIR/events/empty: not a trace2 event file (empty)"
  expect_stderr_contains "$TEST_DIR/events/archive: not a trace2 event file (a directory)"
  expect_stderr_contains "$TEST_DIR/events/README: not a trace2 event file (its first line is not a trace2 event)"
  expect_eq "$(cd events && sha256sum README empty git.bin)" "$before" "files left alone"
  [[ -d events/archive ]] || fail "the subdirectory is gone"
  expect_sql "$(store_of r)" "select step from step_results" "git:status"
  # Each import says it once more, also with --quiet, until they are moved away.
  run perf-baseline -C r -q import --format trace2 "$TEST_DIR/events"
  expect_status 0
  [[ ! -s out ]] || fail "--quiet printed: $(cat out)"
  expect_stderr_lines 4
  run perf-baseline -C r --json import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_eq "$(jq -r '.files_left_alone, .skipped' out | tr '\n' ' ')" "4 0 " "json counts"
  # A name starting with '.' is skipped without a word.
  for f in README empty git.bin archive; do mv "events/$f" "events/.$f"; done
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stderr_lines 0
  expect_stdout_contains "imported 0 steps"
}

test_a_file_whose_first_line_is_not_json_does_not_stop_the_import() {
  make_repo r 1
  mkdir events
  with_trace2 "$TEST_DIR/events" git -C r status >/dev/null || fail "git status"
  echo garbage >events/notes
  settle events
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 1 step (1 event file removed, 1 other file left alone)"
  expect_stderr_contains "perf-baseline: warning: $TEST_DIR/events/notes: not a trace2 event file"
  expect_stderr_lines 1
  expect_eq "$(cat events/notes)" garbage "the file left alone"
}

test_a_name_with_control_characters_is_reported_escaped_on_one_line() {
  make_repo r 1
  mkdir events
  printf 'x\n' >"events/$(printf 'line\nbreak\033[31mred')"
  settle events
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stderr_lines 1
  expect_stderr_contains "$TEST_DIR/"'events/line\x0abreak\x1b[31mred: not a trace2 event file'
}

test_an_empty_file_just_made_is_left_for_next_time_not_reported() {
  make_repo r 1
  mkdir events
  # git has made its file and not yet written its first event: changed just now (a time
  # ahead of the clock stands for "just now" without racing it).
  : >events/20261130T000000.000000Z-H00000000-P00000001
  touch -d '1 hour' events/*
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 0 steps (1 event file left for next time)"
  expect_stderr_lines 0
  settle events
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stderr_contains "not a trace2 event file (empty)"
}

# Imported at once: a file that holds its process's last event (atexit, or signal) is
# whole, so a CI job imports its own git commands in its last step, with no wait.

test_a_finished_git_is_imported_right_after_it_ends() {
  make_repo r 1
  mkdir events
  git_pair || fail "git pair"
  with_trace2 "$TEST_DIR/events" git -C r status >/dev/null || fail "git status"
  # No settle: the files changed a moment ago.
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 2 steps (3 event files removed)"
  [[ -z $(ls events) ]] || fail "event files left: $(ls events)"
  db=$(store_of r)
  expect_sql "$db" "select group_concat(step, ',') from (select step from step_results order by started_us)" "git:_run_shell_alias_,git:status"
  expect_sql "$db" "select count(*) from child_spans where name = 'git:rev-parse' and exit_code = 0" 1
  # Nothing twice: the files are gone, and the same events again (a copy) add nothing.
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 0 steps"
  expect_sql "$db" "select count(*) from step_results" 2
}

# cut_before EVENT FILE: FILE as a running git had written it before EVENT (its lines from
# the first EVENT on are not written yet), changed just now.
cut_before() {
  local whole
  whole=$(cat "$2")
  printf '%s\n' "$whole" | sed "/\"event\":\"$1\"/,\$d" >"$2"
}

test_a_file_cut_before_its_end_is_left_for_next_time_and_imported_once_whole() {
  make_repo r 1
  mkdir events
  with_trace2 "$TEST_DIR/events" git -C r status >/dev/null || fail "git status"
  local file
  file=$(ls events/*)
  cp "$file" whole
  grep -q '"event":"atexit"' whole || fail "git wrote no atexit event"
  # Still running: no end at all.
  cut_before exit "$file"
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 0 steps (1 event file left for next time)"
  # In its exit handlers: exit written, atexit (the end of the file) still to come.
  cp whole "$file"
  cut_before atexit "$file"
  grep -q '"event":"exit"' "$file" || fail "the cut file has no exit event"
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 0 steps (1 event file left for next time)"
  expect_no_file "$(store_of r)"  # made with the first record stored
  # Whole: imported at once, ending at atexit.
  cp whole "$file"
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 1 step (1 event file removed)"
  expect_sql "$(store_of r)" "select step, status, duration_us = $(jq -r 'select(.event == "atexit") | .t_abs * 1000000 | round' whole) from step_results" "git:status|ok|1"
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_stdout_contains "imported 0 steps"
  expect_sql "$(store_of r)" "select count(*) from step_results" 1
}

test_a_git_ended_by_a_signal_is_imported_right_after() {
  make_repo r 3
  mkdir events
  # git log into a pipe that no one reads any more: its first write gets SIGPIPE, which
  # git's trace2 writes as a signal event before it dies of it.
  mkfifo pipe
  exec {both}<>pipe
  exec {writer}>pipe
  exec {both}<&-
  with_trace2 "$TEST_DIR/events" git -C r log >&"$writer"
  local code=$?
  exec {writer}>&-
  expect_eq "$code" 141 "git's exit status (killed by SIGPIPE)"
  grep -q '"event":"signal"' events/* || fail "git wrote no signal event: $(cat events/*)"
  grep -q '"event":"atexit"' events/* && fail "git wrote atexit after the signal"
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 1 step (1 event file removed)"
  expect_sql "$(store_of r)" "select step, status, exit_code from step_results" "git:log|failed|141"
}
