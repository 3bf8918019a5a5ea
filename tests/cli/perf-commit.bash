# perf-commit: times `git add -A && git commit`, enforces its threshold, records the result.

test_commit_within_threshold_records_root_and_child_spans_with_context() {
  make_repo r 1
  echo new >r/new.txt
  run perf-commit -C r -m "add new" -k ticket=OPS-1
  expect_status 0
  expect_stdout_contains "commit "
  expect_stdout_contains "ok"
  expect_eq "$(git -C r log -1 --format=%s)" "add new" "last commit"
  db=$(store_of r)
  expect_sql "$db" "select step, status, exit_code from step_results" "commit|ok|0"
  expect_sql "$db" "select group_concat(name, ',') from (select name from child_spans order by offset_ms)" "add,commit"
  expect_sql "$db" "select branch = 'main' and repo = '$(cd r && pwd)' and host <> '' and user <> ''
    and tool = 'perf-commit' and tool_version <> '' and git_version like '2.%' from step_results" 1
  expect_sql "$db" "select head_before = '$(git -C r rev-parse HEAD~1)' and head_after = '$(git -C r rev-parse HEAD)' from step_results" 1
  expect_sql "$db" "select threshold_ms from step_results" "1000.0"
  expect_sql "$db" "select labels from step_results" '{"ticket":"OPS-1"}'
  expect_sql "$db" "select ci_provider || '/' || ci_job from step_results" "/"
}

test_store_is_private_file_in_private_directory() {
  make_repo r 1
  echo x >r/x && run perf-commit -C r -m x
  expect_status 0
  db=$(store_of r)
  expect_eq "$(stat -c %a "$db")" 600 "store mode"
  expect_eq "$(stat -c %a "$(dirname "$db")")" 700 "store directory mode"
  expect_eq "$(sqlite3 "$db" 'pragma journal_mode')" wal "journal mode"
}

test_threshold_breach_exits_3_keeps_commit_and_records_breach() {
  make_repo r 1
  echo x >r/x
  run perf-commit -C r -m "slow one" --threshold 1us
  expect_status 3
  expect_stdout_contains "over the 1us threshold by"
  expect_eq "$(git -C r log -1 --format=%s)" "slow one" "the commit was made"
  expect_sql "$(store_of r)" "select status, exit_code from step_results" "breach|3"
}

test_threshold_from_repository_config() {
  make_repo r 1
  printf '[thresholds]\ncommit = "1us"\n' >r/.perfguard.toml
  run perf-commit -C r -m x
  expect_status 3
  expect_sql "$(store_of r)" "select threshold_ms from step_results" "0.001"
}

test_nothing_to_commit_exits_1_with_gits_message_recorded_failed() {
  make_repo r 1
  run perf-commit -C r -m "empty"
  expect_status 1
  grep -q "nothing to commit" "$TEST_DIR/out" "$TEST_DIR/err" || fail "git's message not shown"
  expect_sql "$(store_of r)" "select status, exit_code from step_results" "failed|1"
}

test_rejecting_hook_exits_1_and_no_verify_passes_through() {
  make_repo r 1
  printf '#!/bin/sh\necho "hook says no" >&2\nexit 1\n' >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  echo x >r/x
  run perf-commit -C r -m x
  expect_status 1
  expect_stderr_contains "hook says no"
  run perf-commit -C r -m x --git-arg=--no-verify --git-arg=--signoff
  expect_status 0
  git -C r log -1 --format=%B | grep -q "Signed-off-by" || fail "--signoff not passed to git"
}

test_message_from_file_and_from_stdin() {
  make_repo r 1
  echo a >r/a && echo "from a file" >msg
  run perf-commit -C r -F "$TEST_DIR/msg"
  expect_status 0
  expect_eq "$(git -C r log -1 --format=%s)" "from a file"
  echo b >r/b
  echo "from stdin" | perf-commit -C r -F - >/dev/null 2>&1 || fail "stdin message"
  expect_eq "$(git -C r log -1 --format=%s)" "from stdin"
}

test_no_add_commits_only_what_is_staged_and_pathspec_limits_staging() {
  make_repo r 1
  echo a >r/a && echo b >r/b && git -C r add a
  run perf-commit -C r -m "only a" --no-add
  expect_status 0
  expect_eq "$(git -C r show --name-only --format= HEAD)" "a"
  expect_sql "$(store_of r)" "select count(*) from child_spans where name = 'add'" 0
  echo c >r/c
  run perf-commit -C r -m "only c" c
  expect_status 0
  expect_eq "$(git -C r show --name-only --format= HEAD)" "c"
  expect_eq "$(git -C r status --porcelain)" "?? b"
}

test_missing_message_is_a_usage_error() {
  make_repo r 1
  echo x >r/x
  before=$(state_of r)
  run perf-commit -C r
  expect_status 2
  expect_stderr_contains "perf-commit: no commit message"
  expect_stderr_lines 1
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_no_file "$(store_of r)"
}

test_timeout_kills_sleeping_hook_exits_124_leaves_no_lock() {
  make_repo r 1
  printf '#!/bin/sh\necho $$ >"%s/hook.pid"\nexec sleep 30\n' "$TEST_DIR" >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  echo x >r/x
  start=$(date +%s)
  run perf-commit -C r -m x --timeout 300ms
  expect_status 124
  [[ $(($(date +%s) - start)) -lt 20 ]] || fail "the hook was not killed"
  expect_no_file r/.git/index.lock
  expect_sql "$(store_of r)" "select status, exit_code from step_results" "timeout|124"
  # The hook's own process (killed with its group; give init a moment to reap it).
  hook=$(cat hook.pid)
  for _ in $(seq 1 40); do kill -0 "$hook" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$hook" 2>/dev/null; then
    kill -9 "$hook"
    fail "the hook's sleep survived"
  fi
}

test_ctrl_c_is_forwarded_exits_130_and_is_recorded() {
  make_repo r 1
  printf '#!/bin/sh\ntouch "%s/hook.started"\nexec sleep 30\n' "$TEST_DIR" >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  echo x >r/x
  perf-commit -C r -m x >out 2>err &
  pid=$!
  for _ in $(seq 1 200); do [[ -e hook.started ]] && break; sleep 0.05; done
  kill -INT $pid
  wait $pid
  status=$?
  expect_status 130
  expect_stdout_contains " interrupted"
  expect_eq "$(git -C r rev-list --count HEAD)" 1 "commits"
  expect_no_file r/.git/index.lock
  expect_sql "$(store_of r)" "select status from step_results" "interrupted"
}

test_index_lock_held_refuses_with_5_naming_the_file() {
  make_repo r 1
  echo x >r/x
  before=$(state_of r)
  touch r/.git/index.lock
  run perf-commit -C r -m x
  expect_status 5
  expect_stderr_contains "$(cd r && pwd)/.git/index.lock"
  expect_stderr_lines 1
  expect_eq "$(git -C r rev-list --count HEAD)" 1 "no commit made"
  rm r/.git/index.lock
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_no_file "$(store_of r)"
}

# expect_commit_refused_by_lock LOCK-NAME held|stale: a commit over a lock git needs is
# refused before anything runs, saying whether the lock's owner still runs.
expect_commit_refused_by_lock() {
  make_repo r 1
  echo x >r/x
  local lock
  lock=$(cd r && pwd)/.git/$1
  before=$(state_of r)
  if [[ $2 == held ]]; then hold_file "$lock"; else : >"$lock"; fi
  run perf-commit -C r -m x
  if [[ $2 == held ]]; then expect_refused_by_held_lock "$lock"; else expect_refused_by_stale_lock "$lock"; fi
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_no_file "$(store_of r)"
  if [[ $2 == stale ]]; then
    run_the_advised_rm
    run perf-commit -C r -m x
    expect_status 0
    expect_eq "$(git -C r log -1 --format=%s)" x "committed once the lock was removed"
  fi
}

test_index_lock_held_by_a_running_process_refuses_saying_so_exit_5() {
  expect_commit_refused_by_lock index.lock held
}

test_stale_index_lock_refuses_giving_the_rm_command_exit_5() {
  expect_commit_refused_by_lock index.lock stale
}

test_head_lock_held_by_a_running_process_refuses_saying_so_exit_5() {
  expect_commit_refused_by_lock HEAD.lock held
}

test_stale_head_lock_refuses_giving_the_rm_command_exit_5() {
  expect_commit_refused_by_lock HEAD.lock stale
}

test_branch_lock_held_by_a_running_process_refuses_saying_so_exit_5() {
  expect_commit_refused_by_lock refs/heads/main.lock held
}

test_stale_branch_lock_refuses_giving_the_rm_command_exit_5() {
  expect_commit_refused_by_lock refs/heads/main.lock stale
}

test_lock_of_a_git_running_in_the_repository_is_not_called_stale() {
  make_repo r 1
  # `git commit -a` keeps index.lock closed while its hook runs: nobody has it open, but
  # its owner runs.
  printf '#!/bin/sh\necho $$ >"%s/pid" && mv "%s/pid" "%s/hook.pid"\nexec sleep 1000\n' \
    "$TEST_DIR" "$TEST_DIR" "$TEST_DIR" >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  echo changed >r/file.txt
  git -C r commit -qam other 2>/dev/null &
  kill_at_end $!
  wait_for_file hook.pid
  kill_at_end "$(cat hook.pid)"
  rm r/.git/hooks/pre-commit
  run perf-commit -C r -m x
  expect_status 5
  expect_stderr_contains "$(cd r && pwd)/.git/index.lock exists: no process has it open, but git (pid"
  expect_stderr_contains ") runs in this repository and may still own it"
}

# A pre-commit hook that takes index.lock and outlives SIGINT and SIGTERM: only SIGKILL
# ends it, so it leaves its lock as a git killed mid-write does.
write_hook_that_takes_the_lock_and_ignores_signals() {
  cat >r/.git/hooks/pre-commit <<EOF
#!/bin/sh
trap '' INT TERM
exec 3>"$TEST_DIR/r/.git/index.lock"
touch "$TEST_DIR/hook.ready"
exec sleep 1000
EOF
  chmod +x r/.git/hooks/pre-commit
}

test_interrupt_removes_the_lock_its_killed_child_left() {
  make_repo r 1
  write_hook_that_takes_the_lock_and_ignores_signals
  echo x >r/x
  perf-commit -C r -m x >out 2>err &
  pid=$!
  kill_at_end $pid
  wait_for_file hook.ready
  expect_file_exists r/.git/index.lock
  kill -INT $pid
  wait $pid
  status=$?
  cat err >&2
  expect_status 130
  expect_no_file r/.git/index.lock
  rm r/.git/hooks/pre-commit
  run perf-commit -C r -m x
  expect_status 0
}

test_interrupt_keeps_a_lock_another_process_holds() {
  make_repo r 1
  # The hook hands index.lock to a process in a session of its own, out of the step's
  # reach, which has it open from before the hook says it is ready.
  cat >r/.git/hooks/pre-commit <<EOF
#!/bin/sh
exec 3>"$TEST_DIR/r/.git/index.lock"
setsid sleep 1000 </dev/null >/dev/null 2>&1 &
echo \$! >"$TEST_DIR/holder.pid"
exec 3>&-
touch "$TEST_DIR/hook.ready"
exec sleep 1000
EOF
  chmod +x r/.git/hooks/pre-commit
  echo x >r/x
  perf-commit -C r -m x >out 2>err &
  pid=$!
  kill_at_end $pid
  wait_for_file hook.ready
  HOLDER_PID=$(cat holder.pid)
  kill_at_end "$HOLDER_PID"
  kill -INT $pid
  wait $pid
  status=$?
  cat err >&2
  expect_status 130
  expect_file_exists r/.git/index.lock
  rm r/.git/hooks/pre-commit
  run perf-commit -C r -m x
  expect_refused_by_held_lock "$(cd r && pwd)/.git/index.lock"
  kill -9 "$HOLDER_PID"
  wait_for_exit "$HOLDER_PID"
  run perf-commit -C r -m x
  expect_refused_by_stale_lock "$(cd r && pwd)/.git/index.lock"
}

test_not_a_repository_is_a_usage_error() {
  mkdir plain
  echo x >plain/x
  run perf-commit -C plain -m x
  expect_status 2
  expect_stderr_contains "not a git repository"
  expect_stderr_lines 1
  expect_eq "$(ls -A plain)" "x" "nothing made in the directory"
}

test_missing_git_fails_with_one_line() {
  make_repo r 1
  echo x >r/x
  before=$(state_of r)
  PATH=/nonexistent run "$PERFGUARD_BIN/perf-commit" -C r -m x
  expect_status 1
  expect_stderr_contains "perf-commit: git: not found on PATH"
  expect_stderr_lines 1
  expect_eq "$(state_of r)" "$before" "nothing changed"
}

test_first_commit_in_empty_repository() {
  git init -q r
  echo x >r/x
  run perf-commit -C r -m first
  expect_status 0
  expect_sql "$(store_of r)" "select head_before, length(head_after) from step_results" "|40"
}

test_detached_head_commit_records_empty_branch() {
  make_repo r 2
  git -C r checkout -q --detach HEAD~1
  echo x >r/x
  run perf-commit -C r -m x
  expect_status 0
  expect_sql "$(store_of r)" "select branch from step_results" ""
}

test_store_is_a_directory_journal_written_exit_4() {
  make_repo r 1
  mkdir -p store.db
  echo x >r/x
  run perf-commit -C r -m x --db "$TEST_DIR/store.db"
  expect_status 4
  expect_eq "$(git -C r log -1 --format=%s)" "x" "the commit was made"
  expect_file_exists store.db.journal.jsonl
  grep -q '"step":"commit"' store.db.journal.jsonl || fail "journal lacks the record"
  expect_stderr_contains "store.db"
  expect_eq "$(ls -A store.db)" "" "the directory"
}

test_corrupt_store_journal_written_exit_4_file_untouched() {
  make_repo r 1
  head -c 8192 /dev/urandom >bad.db
  sum=$(sha256sum <bad.db)
  echo x >r/x
  run perf-commit -C r -m x --db "$TEST_DIR/bad.db"
  expect_status 4
  expect_stderr_contains "perf-commit: warning: $TEST_DIR/bad.db: cannot open the store: file is not a database"
  expect_eq "$(sha256sum <bad.db)" "$sum" "corrupt store left as it was"
  grep -q '"status":"ok"' bad.db.journal.jsonl || fail "journal lacks the record"
}

test_read_only_store_journal_written_exit_4() {
  make_repo r 1
  echo x >r/x
  perf-commit -C r -m first --db "$TEST_DIR/ro.db" >/dev/null 2>&1 || fail "creating the store"
  echo y >r/y
  share_with_other_user
  chmod 0444 ro.db
  sum=$(sha256sum <ro.db)
  as_other_user "$PERFGUARD_BIN/perf-commit" -C "$TEST_DIR/r" -m second --db "$TEST_DIR/ro.db" >out 2>err
  status=$?
  cat err >&2
  expect_status 4
  expect_stderr_contains "ro.db"
  expect_eq "$(git -C r log -1 --format=%s)" "second" "the commit was made"
  grep -q '"status":"ok"' ro.db.journal.jsonl || fail "journal lacks the record"
  expect_eq "$(sha256sum <ro.db)" "$sum" "the read-only store"
}

test_store_locked_past_busy_timeout_journal_written_exit_4() {
  make_repo r 1
  echo x >r/x
  perf-commit -C r -m first --db "$TEST_DIR/l.db" >/dev/null 2>&1 || fail "creating the store"
  (echo "begin exclusive; insert into meta values ('lock', 'held');"; sleep 3; echo "rollback;") |
    sqlite3 l.db &
  sleep 0.5
  echo y >r/y
  PERFGUARD_STORE_BUSY_TIMEOUT=200ms run perf-commit -C r -m second --db "$TEST_DIR/l.db"
  wait
  expect_status 4
  grep -q '"status":"ok"' l.db.journal.jsonl || fail "journal lacks the record"
}

test_newer_store_schema_is_refused_not_written() {
  make_repo r 1
  sqlite3 new.db "pragma user_version = 99; create table t(x);"
  echo x >r/x
  run perf-commit -C r -m x --db "$TEST_DIR/new.db"
  expect_status 4
  expect_stderr_contains "newer"
  expect_eq "$(sqlite3 new.db 'pragma user_version')" 99 "schema version"
}

test_eight_parallel_commits_in_eight_clones_share_one_store() {
  make_repo origin 1
  for i in 1 2 3 4 5 6 7 8; do git clone -q origin c$i; done
  for i in 1 2 3 4 5 6 7 8; do
    (for j in 1 2 3 4 5; do
      echo "$i $j" >c$i/f && perf-commit -C c$i -m "c$i $j" --db "$TEST_DIR/shared.db" -q || exit 1
    done) &
  done
  wait
  expect_sql shared.db "select count(*) from steps" 40
  expect_sql shared.db "select count(*) from spans" 80
  expect_sql shared.db "select count(distinct repo) from step_results" 8
  expect_no_file shared.db.journal.jsonl
}

test_bad_toml_names_file_and_line_exit_2() {
  make_repo r 1
  printf '[thresholds]\ncommit = \n' >r/.perfguard.toml
  echo x >r/x
  before=$(state_of r)
  run perf-commit -C r -m x
  expect_status 2
  expect_stderr_contains ".perfguard.toml:2"
  expect_stderr_lines 1
  expect_eq "$(git -C r rev-list --count HEAD)" 1 "nothing committed"
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_no_file "$(store_of r)"
}

test_unknown_key_names_file_line_and_key_exit_2() {
  make_repo r 1
  printf '[thresholds]\ncommit = "1s"\ncomit = "2s"\n' >r/.perfguard.toml
  before=$(state_of r)
  run perf-commit -C r -m x
  expect_status 2
  expect_stderr_contains ".perfguard.toml:3: thresholds.comit: unknown key"
  expect_stderr_lines 1
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_no_file "$(store_of r)"
}

test_bad_duration_names_key_exit_2() {
  make_repo r 1
  printf '[thresholds]\ncommit = "fast"\n' >r/.perfguard.toml
  echo x >r/x
  run perf-commit -C r -m x
  expect_status 2
  expect_stderr_contains ".perfguard.toml:2: thresholds.commit: bad duration 'fast'"
  expect_stderr_lines 1
  rm r/.perfguard.toml
  before=$(state_of r)
  run perf-commit -C r -m x --threshold 10
  expect_status 2
  expect_stderr_contains "--threshold: bad duration '10'"
  expect_stderr_lines 1
  PERFGUARD_THRESHOLDS_COMMIT=1x run perf-commit -C r -m x
  expect_status 2
  expect_stderr_contains "PERFGUARD_THRESHOLDS_COMMIT"
  expect_stderr_lines 1
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_no_file "$(store_of r)"
}

test_repository_file_command_is_ignored_with_warning() {
  make_repo r 1
  printf '[recover]\nrestart = ["touch", "/tmp/pwned"]\n' >r/.perfguard.toml
  echo x >r/x
  run perf-commit -C r -m x
  expect_status 0
  expect_stderr_contains "recover.restart: ignored"
}

test_json_output_is_one_object_with_stable_fields() {
  command -v jq >/dev/null || skip "jq is not installed"
  make_repo r 1
  echo x >r/x
  run perf-commit -C r -m x --json
  expect_status 0
  jq -e '.tool == "perf-commit" and .exit_code == 0 and (.steps | length) == 1
    and .steps[0].step == "commit" and .steps[0].status == "ok"
    and (.steps[0].spans | map(.name)) == ["add", "commit"]
    and (.steps[0].trace_id | test("^[0-9a-f]{16}$"))' out >/dev/null || fail "json fields"
  grep -q "\[main" out && fail "git's output leaked onto stdout"
  true
}

test_csv_and_tsv_have_header_and_one_row() {
  make_repo r 1
  echo x >r/x && run perf-commit -C r -m x --format csv
  expect_status 0
  expect_eq "$(head -1 out | cut -d, -f1-3)" "trace_id,step,status"
  expect_eq "$(wc -l <out)" 2 "csv lines"
  echo y >r/y && run perf-commit -C r -m y --format tsv
  expect_eq "$(head -1 out | cut -f2)" "step"
  run perf-commit -C r -m z --format yaml
  expect_status 2
}

test_ci_job_is_recorded() {
  make_repo r 1
  echo x >r/x
  GITHUB_ACTIONS=true GITHUB_RUN_ID=4242 GITHUB_JOB=build run perf-commit -C r -m x
  expect_status 0
  expect_sql "$(store_of r)" "select ci_provider, ci_job from step_results" "github|4242/build"
}

test_no_record_writes_nothing() {
  make_repo r 1
  echo x >r/x
  run perf-commit -C r -m x --no-record
  expect_status 0
  expect_no_file "$(store_of r)"
}

test_linked_worktree_shares_the_store() {
  make_repo r 1
  git -C r worktree add -q ../wt
  echo x >wt/x
  run perf-commit -C wt -m "in worktree"
  expect_status 0
  expect_sql "$(store_of r)" "select count(*) from step_results where repo like '%/wt'" 1
}

test_help_and_version() {
  run perf-commit --help
  expect_status 0
  expect_stdout_contains "--threshold"
  run perf-commit --version
  expect_status 0
  run perf-commit --no-such-flag
  expect_status 2
}

test_pathspecs_and_message_file_are_relative_to_the_current_directory() {
  make_repo r 1
  mkdir -p r/sub && echo a >r/sub/a.txt && echo top >r/a.txt && echo "msg from sub" >r/sub/msg
  (cd r/sub && perf-commit -m "only sub/a.txt" a.txt >/dev/null 2>&1) || fail "commit from sub"
  expect_eq "$(git -C r show --name-only --format= HEAD)" "sub/a.txt"
  echo b >r/sub/b.txt
  (cd r/sub && perf-commit -F msg b.txt >/dev/null 2>&1) || fail "-F relative to sub"
  expect_eq "$(git -C r log -1 --format=%s)" "msg from sub"
}

test_quiet_failure_says_what_git_said_in_one_line() {
  make_repo r 1
  run perf-commit -C r -m x -q
  expect_status 1
  expect_stderr_contains "perf-commit: git commit failed: nothing to commit"
  expect_stderr_lines 1
}

test_warn_only_records_the_exit_code_it_gives() {
  make_repo r 1
  echo x >r/x
  run perf-commit -C r -m x --threshold 1us --warn-only
  expect_status 0
  expect_sql "$(store_of r)" "select status, exit_code from step_results" "breach|0"
}

test_bad_label_is_a_usage_error_and_commits_nothing() {
  make_repo r 1
  echo x >r/x
  before=$(state_of r)
  run perf-commit -C r -m x -k "no equals sign"
  expect_status 2
  expect_stderr_contains "bad label 'no equals sign'"
  expect_stderr_lines 1
  run perf-commit -C r -m x -k "sp ace=1"
  expect_status 2
  expect_stderr_lines 1
  expect_eq "$(git -C r rev-list --count HEAD)" 1 "nothing committed"
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_no_file "$(store_of r)"
}

test_timeout_too_long_for_the_clock_is_no_deadline() {
  make_repo r 1
  echo x >r/x
  run perf-commit -C r -m x --timeout 200000d --threshold 1h
  expect_status 0
  expect_eq "$(git -C r rev-list --count HEAD)" 2 "commits"
  expect_sql "$(store_of r)" "select status, exit_code from step_results" "ok|0"
  run perf-commit -C r -m y --timeout 106752000d
  expect_status 2
  expect_stderr_contains "perf-commit: --timeout: bad duration '106752000d': too long"
}

test_sighup_is_forwarded_git_does_not_commit_later_step_recorded_interrupted() {
  make_repo r 1
  # The hook tells us git's pid, then waits for a file that only we create: had git outlived
  # perf-commit, it would go on and commit once we create it.
  printf '#!/bin/sh\necho $PPID >"%s/git.pid"\ntouch "%s/hook.started"\nwhile [ ! -e "%s/release" ]; do sleep 0.05; done\n' \
    "$TEST_DIR" "$TEST_DIR" "$TEST_DIR" >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  echo x >r/x
  perf-commit -C r -m x >out 2>err &
  pid=$!
  for _ in $(seq 1 400); do [[ -e hook.started ]] && break; sleep 0.05; done
  [[ -e hook.started ]] || fail "the hook did not start"
  kill -HUP $pid
  wait $pid
  status=$?
  touch release
  git_pid=$(cat git.pid)
  for _ in $(seq 1 400); do kill -0 "$git_pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$git_pid" 2>/dev/null && fail "git outlived perf-commit"
  expect_status 130
  expect_stdout_contains " interrupted"
  expect_eq "$(git -C r rev-list --count HEAD)" 1 "commits"
  expect_no_file r/.git/index.lock
  expect_sql "$(store_of r)" "select status, exit_code from step_results" "interrupted|130"
}

# in_terminal INPUT COMMAND: runs COMMAND (a shell string) on a pseudo-terminal of its own,
# as the foreground job, with INPUT typed at it; its exit status goes to $TEST_DIR/exit.
# Bounded, so a child stopped at the terminal fails the test instead of hanging it.
in_terminal() {
  require_terminal
  printf '%s\n' "$1" | timeout 60 script -qec "$2; echo \$? >'$TEST_DIR/exit'" /dev/null \
    >"$TEST_DIR/terminal.out" 2>&1
  status=$?
  sed 's/^/  terminal: /' "$TEST_DIR/terminal.out" >&2
  [[ $status -ne 124 ]] || fail "still running after 60s: stopped at the terminal?"
}

test_hook_reading_the_terminal_gets_it_and_the_commit_completes() {
  make_repo r 1
  printf '#!/bin/sh\nread line </dev/tty\necho "$line" >"%s/hook.read"\n' "$TEST_DIR" \
    >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  echo x >r/x
  in_terminal "typed at the prompt" "perf-commit -C r -m x --threshold 1h"
  expect_eq "$(cat exit)" 0 "perf-commit's exit status"
  expect_eq "$(cat hook.read)" "typed at the prompt" "what the hook read"
  expect_eq "$(git -C r rev-list --count HEAD)" 2 "commits"
  expect_sql "$(store_of r)" "select status from step_results" "ok"
}

test_editor_opened_by_git_arg_e_reads_the_terminal_and_the_commit_completes() {
  make_repo r 1
  printf '#!/bin/sh\nread line </dev/tty\necho "$line" >"$1"\n' >editor
  chmod +x editor
  echo x >r/x
  in_terminal "message typed in the editor" \
    "GIT_EDITOR='$TEST_DIR/editor' perf-commit -C r -m x --git-arg=-e --threshold 1h"
  expect_eq "$(cat exit)" 0 "perf-commit's exit status"
  expect_eq "$(git -C r log -1 --format=%s)" "message typed in the editor" "commit message"
}

test_background_job_leaves_the_terminal_to_its_shell() {
  make_repo r 1
  # The hook notes its /proc/PID/stat while it runs, with builtins only.
  printf '#!/bin/sh\nread -r stat </proc/$$/stat\necho "$stat" >"%s/hook.stat"\n' "$TEST_DIR" \
    >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  echo x >r/x
  # A shell with job control runs perf-commit as a background job, and notes its own stat.
  in_terminal "" "bash -c 'set -m; perf-commit -C r -m x >/dev/null 2>&1 & wait \$!; \
    echo \$? >job.exit; read -r stat </proc/\$\$/stat; echo \"\$stat\" >shell.stat'"
  expect_eq "$(cat job.exit)" 0 "perf-commit's exit status"
  expect_eq "$(git -C r rev-list --count HEAD)" 2 "commits"
  # After the ')' of the command name: state ppid pgrp session tty_nr tpgid.
  read -r _ _ shell_pgrp _ _ _ _ <<<"$(sed 's/.*) //' shell.stat)"
  read -r _ _ hook_pgrp _ _ tpgid _ <<<"$(sed 's/.*) //' hook.stat)"
  [[ $hook_pgrp != "$shell_pgrp" ]] || fail "the hook ran in the shell's process group"
  expect_eq "$tpgid" "$shell_pgrp" "the terminal's foreground group while the hook ran"
}

test_ctrl_c_at_the_terminal_interrupts_the_step_exits_130_and_is_recorded() {
  require_terminal
  make_repo r 1
  printf '#!/bin/sh\ntouch "%s/hook.started"\nexec sleep 30\n' "$TEST_DIR" >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  echo x >r/x
  mkfifo keys
  timeout 60 script -qec "perf-commit -C r -m x; echo \$? >'$TEST_DIR/exit'" /dev/null \
    <keys >terminal.out 2>&1 &
  terminal=$!
  exec 3>keys
  for _ in $(seq 1 400); do [[ -e hook.started ]] && break; sleep 0.05; done
  [[ -e hook.started ]] || fail "the hook did not start"
  printf '\003' >&3  # Ctrl-C, typed at the terminal
  wait $terminal
  status=$?
  exec 3>&-
  [[ $status -ne 124 ]] || fail "Ctrl-C did not end the step"
  expect_eq "$(cat exit)" 130 "perf-commit's exit status"
  expect_eq "$(git -C r rev-list --count HEAD)" 1 "commits"
  expect_sql "$(store_of r)" "select status from step_results" "interrupted"
}

test_ctrl_z_stops_the_step_as_a_job_and_fg_resumes_it_with_the_terminal() {
  require_terminal
  make_repo r 1
  printf '#!/bin/sh\ntouch "%s/hook.started"\nwhile [ ! -e "%s/release" ]; do sleep 0.05; done\ntouch "%s/hook.reading"\nread line </dev/tty\necho "$line" >"%s/hook.read"\n' \
    "$TEST_DIR" "$TEST_DIR" "$TEST_DIR" "$TEST_DIR" >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  echo x >r/x
  mkfifo keys
  # An interactive shell on a terminal of its own, typed at through the fifo.
  timeout 60 script -qec "bash --norc --noprofile -i" /dev/null <keys >terminal.out 2>&1 &
  terminal=$!
  exec 3>keys
  press() { printf "$@" >&3; }
  wait_for() {
    for _ in $(seq 1 400); do [[ -s $1 || -e $1 && $2 == exists ]] && return; sleep 0.05; done
    fail "$1 never came"
  }
  press 'perf-commit -C r -m x --threshold 1h\n'
  wait_for hook.started exists
  press '\032'  # Ctrl-Z
  press 'jobs >jobs.txt\n'
  wait_for jobs.txt
  grep -q Stopped jobs.txt || fail "the shell does not see perf-commit stopped: $(cat jobs.txt)"
  touch release
  press 'fg; echo $? >exit\n'
  wait_for hook.reading exists
  press 'typed after fg\n'
  wait_for exit
  press 'exit\n'
  exec 3>&-
  wait $terminal
  sed 's/^/  terminal: /' terminal.out >&2
  expect_eq "$(cat exit)" 0 "perf-commit's exit status"
  expect_eq "$(cat hook.read)" "typed after fg" "what the hook read"
  expect_eq "$(git -C r rev-list --count HEAD)" 2 "commits"
  expect_sql "$(store_of r)" "select status from step_results" "ok"
}

test_message_on_a_pipe_and_a_hook_reading_the_terminal_both_work() {
  make_repo r 1
  printf '#!/bin/sh\nread line </dev/tty\necho "$line" >"%s/hook.read"\n' "$TEST_DIR" \
    >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  echo x >r/x
  # perf-commit's stdin is a pipe, yet the terminal is still the one the hook reads.
  in_terminal "typed at the prompt" "echo 'message from the pipe' | perf-commit -C r -F - --threshold 1h"
  expect_eq "$(cat exit)" 0 "perf-commit's exit status"
  expect_eq "$(cat hook.read)" "typed at the prompt" "what the hook read"
  expect_eq "$(git -C r log -1 --format=%s)" "message from the pipe" "commit message"
}
