# perf-baseline import --format trace2 against what happens to a trace2 directory in real
# life: two imports at once, an import killed part-way. Real git writes every event file
# here; the ages git cannot give are set with touch -d.

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
    (read -r _ <go && exec perf-baseline -C r import --format trace2 events >"out.$n" 2>"err.$n") &
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
  PERFGUARD_TEST_FAULT=import-trace2-file-removed run perf-baseline -C r import --format trace2 events
  expect_status 137
  expect_eq "$(ls events | wc -l)" 1 "files left by the killed import"
  local left
  left=events/$(ls events)
  [[ $(sid_of "$left") != */* ]] || fail "the parent went first, leaving its child: $(sid_of "$left")"
  run perf-baseline -C r import --format trace2 events
  expect_status 0
  expect_stdout_contains "imported 0 steps (1 already stored, 1 event file removed)"
  expect_sql "$(store_of r)" "select count(*) from step_results" 1
}
