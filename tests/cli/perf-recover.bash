# perf-recover: the recovery against a real service stand-in (a restart command that starts
# it and a health command that probes it, over files in the test's directory), its modes
# (--emergency, --dry-run) and the subcommands that list, undo, prune and resume.

# The stand-in service: `start` marks it up (after an optional delay), `probe` passes once it
# is up.
SERVICE_START='echo starting; touch "$SVC/up"'
SERVICE_PROBE='test -f "$SVC/up"'

setup_service() {
  export SVC=$TEST_DIR/svc
  mkdir -p "$SVC"
}

# state_with_modes DIR: state_of, and every file's mode.
state_with_modes() {
  state_of "$1"
  (cd "$1" && find . -path ./.git -prune -o -print0 | sort -z | xargs -0 stat -c '%a %n')
}

# A repository in a state real ones are in: local changes, a new file, an ignored one, a
# file with spaces and non-ASCII in its name, an executable and a private mode.
make_messy_repo() {
  make_repo r 3
  printf 'build/\n' >r/.gitignore
  printf '#!/bin/sh\necho hi\n' >r/run.sh
  chmod 755 r/run.sh
  git -C r add -A && git -C r commit -qm "commit 4" || fail "commit 4"
  echo "local change" >>r/file.txt
  echo "new" >"r/naïve name.txt"
  mkdir -p r/build && echo "ignored output" >r/build/out.bin
  echo "secret" >r/private.conf
  chmod 600 r/private.conf
  chmod 700 r/run.sh
}

test_a_healthy_recovery_rolls_back_restarts_and_checks_health_inside_its_threshold() {
  setup_service
  make_repo r 3
  local before
  before=$(git -C r rev-parse HEAD~1)
  run perf-recover -C r --yes --restart "$SERVICE_START" --health "$SERVICE_PROBE"
  expect_status 0
  expect_stdout_contains "recovery plan"
  # Nobody was asked: the tree is scanned while the reset runs, so the plan cannot count.
  expect_stdout_contains "with any local changes, kept under refs/perfguard/snapshots/"
  expect_stdout_contains "recover "
  expect_stdout_contains "restart"
  expect_stdout_contains "health"
  expect_stdout_contains "ok, within 10s"
  expect_eq "$(git -C r rev-parse HEAD)" "$before" "HEAD after the recovery"
  expect_file_exists "$SVC/up"
  expect_eq "$(snapshot_count r)" 1 "snapshots"
  expect_sql "$(store_of r)" "select step, status from step_results" "recover|ok"
  expect_sql "$(store_of r)" \
    "select group_concat(name, ',') from (select name from child_spans where parent_seq is null order by seq)" \
    "preflight,snapshot,rollback,validate,restart,health,record"
  expect_sql "$(store_of r)" "select json_extract(labels, '\$.outcome') from step_results" healthy
  expect_sql "$(store_of r)" "select json_extract(labels, '\$.service_output') from step_results" \
    "starting"
}

test_the_last_known_good_commit_is_the_newest_whose_steps_were_all_within_threshold() {
  make_repo r 1
  echo good >>r/file.txt
  run perf-commit -C r --threshold 1h -m good
  expect_status 0
  local good
  good=$(git -C r rev-parse HEAD)
  for i in 1 2; do
    echo "bad $i" >>r/file.txt
    run perf-commit -C r --threshold 1us -m "bad $i"
    expect_status 3
  done
  run perf-recover -C r --yes
  expect_status 0
  expect_stdout_contains "last known good: HEAD~2"
  expect_eq "$(git -C r rev-parse HEAD)" "$good" "HEAD after the recovery"
}

test_without_records_the_target_is_head_1_and_the_plan_says_why() {
  make_repo r 3
  run perf-recover -C r --dry-run
  expect_status 0
  expect_stdout_contains "HEAD~1: the store knows no commit"
}

test_to_names_the_target_and_a_bad_one_changes_nothing() {
  make_repo r 4
  git -C r tag v1 HEAD~3
  run perf-recover -C r --yes --to v1
  expect_status 0
  expect_eq "$(git -C r rev-parse HEAD)" "$(git -C r rev-parse v1)" "HEAD"
  local state
  state=$(state_of r)
  run perf-recover -C r --yes --to no-such-ref
  expect_status 2
  expect_stderr_contains "perf-recover: --to no-such-ref names no commit here"
  expect_stderr_lines 1
  expect_eq "$(state_of r)" "$state" "state after a bad --to"
}

test_a_root_commit_has_nothing_to_recover_to() {
  make_repo r 1
  run perf-recover -C r --yes
  expect_status 5
  expect_stderr_contains "HEAD is the root commit"
  expect_eq "$(snapshot_count r)" 0 "snapshots"
}

test_without_a_terminal_or_yes_it_refuses_and_changes_nothing() {
  make_repo r 3
  echo change >>r/file.txt
  local state
  state=$(state_of r)
  run perf-recover -C r </dev/null
  expect_status 5
  expect_stderr_contains "no terminal to confirm the recovery on: add --yes"
  expect_eq "$(state_of r)" "$state" "state"
  expect_eq "$(snapshot_count r)" 0 "snapshots"
}

test_on_a_terminal_it_asks_and_a_no_changes_nothing() {
  require_terminal
  make_repo r 3
  local state
  state=$(state_of r)
  printf 'n\n' | script -qec "perf-recover -C r" /dev/null >"$TEST_DIR/out" 2>&1
  grep -q "Recover to" "$TEST_DIR/out" || fail "no question asked: $(cat "$TEST_DIR/out")"
  expect_eq "$(state_of r)" "$state" "state after answering no"
  printf 'y\n' | script -qec "perf-recover -C r" /dev/null >"$TEST_DIR/out" 2>&1
  expect_eq "$(git -C r rev-parse HEAD)" "$(git -C r rev-parse HEAD@{1}~1)" "HEAD after yes"
}

test_dry_run_changes_nothing_not_head_index_files_refs_or_store() {
  setup_service
  make_messy_repo
  local state refs
  state=$(state_with_modes r)
  refs=$(git -C r for-each-ref)
  run perf-recover -C r --dry-run --restart "$SERVICE_START" --health "$SERVICE_PROBE"
  expect_status 0
  expect_stdout_contains "rollback  git reset --hard"
  expect_stdout_contains "restart   echo starting"
  expect_eq "$(state_with_modes r)" "$state" "state"
  expect_eq "$(git -C r for-each-ref)" "$refs" "refs"
  expect_no_file "$(store_of r)"
  expect_no_file "$SVC/up"
  run perf-recover -C r --dry-run --json
  expect_status 0
  grep -q '"action":"recover"' "$TEST_DIR/out" || fail "no plan record"
}

test_undo_puts_back_every_byte_and_mode_untracked_and_ignored_files_included() {
  make_messy_repo
  local state
  state=$(state_with_modes r)
  run perf-recover -C r --yes
  expect_status 0
  [[ $(state_with_modes r) != "$state" ]] || fail "the recovery changed nothing"
  run perf-recover -C r undo
  expect_status 0
  expect_eq "$(state_with_modes r)" "$state" "state after undo"
}

test_a_restart_that_fails_keeps_the_snapshot_prints_the_escalation_and_exits_1() {
  setup_service
  make_repo r 3
  run perf-recover -C r --yes --restart 'echo cannot bind >&2; exit 7' --health "$SERVICE_PROBE"
  expect_status 1
  expect_stderr_contains "perf-recover: the restart command exited 7"
  expect_stderr_contains "3. full restoration: perf-recover undo"
  expect_stderr_contains "4. integrity recovery"
  expect_eq "$(snapshot_count r)" 1 "snapshots"
  expect_sql "$(store_of r)" "select status, json_extract(labels, '\$.outcome') from step_results" \
    "failed|restart failed"
  expect_sql "$(store_of r)" "select json_extract(labels, '\$.service_output') from step_results" \
    "cannot bind"
  # The failure rule tells people through perf-alerts' channels.
  expect_sql "$(store_of r)" "select rule, step from open_alerts" "failure|recover"
}

test_a_health_check_that_never_passes_is_tried_until_its_time_is_up() {
  setup_service
  make_repo r 3
  run perf-recover -C r --yes --health 'exit 1' --health-timeout 2s
  expect_status 1
  expect_stderr_contains "perf-recover: the health check did not pass in 2s"
  local tries
  tries=$(sql "$(store_of r)" "select json_extract(labels, '\$.health_tries') from step_results")
  [[ $tries -ge 2 ]] || fail "tried $tries times"
  expect_eq "$(snapshot_count r)" 1 "snapshots"
}

test_a_health_check_that_passes_late_is_waited_for() {
  setup_service
  make_repo r 3
  (sleep 0.5 && touch "$SVC/up") &
  run perf-recover -C r --yes --health "$SERVICE_PROBE"
  expect_status 0
  expect_sql "$(store_of r)" "select json_extract(labels, '\$.outcome') from step_results" healthy
}

test_a_healthy_recovery_over_its_threshold_exits_3() {
  setup_service
  make_repo r 3
  run perf-recover -C r --yes --threshold 200ms --restart "sleep 0.3; $SERVICE_START"
  expect_status 3
  expect_stdout_contains "over the 200ms threshold"
  expect_sql "$(store_of r)" "select status, json_extract(labels, '\$.outcome') from step_results" \
    "breach|healthy"
}

test_a_slow_restart_is_killed_at_its_timeout_with_its_process_group() {
  setup_service
  make_repo r 3
  run perf-recover -C r --yes --restart-timeout 300ms \
    --restart 'sleep 60 & echo $! >"$SVC/child"; wait'
  expect_status 124
  expect_stderr_contains "the restart command killed at its 300ms timeout"
  local child
  child=$(cat "$SVC/child")
  wait_for_exit "$child"
}

test_kill_9_during_the_restart_leaves_every_change_reachable() {
  setup_service
  make_messy_repo
  local state pid
  state=$(state_with_modes r)
  perf-recover -C r --yes --restart 'echo $$ >"$SVC/pid"; touch "$SVC/started"; exec sleep 60' \
    >/dev/null 2>&1 &
  pid=$!
  wait_for_file "$SVC/started"
  kill_at_end "$(cat "$SVC/pid")"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  expect_eq "$(snapshot_count r)" 1 "snapshots"
  run perf-recover -C r undo
  expect_status 0
  expect_eq "$(state_with_modes r)" "$state" "state after undo"
}

test_ctrl_c_during_the_health_check_exits_130_and_keeps_the_snapshot() {
  setup_service
  make_repo r 3
  perf-recover -C r --yes --health 'touch "$SVC/probed"; exit 1' --health-timeout 60s \
    >"$TEST_DIR/out" 2>"$TEST_DIR/err" &
  local pid=$!
  wait_for_file "$SVC/probed"
  kill -INT "$pid"
  wait "$pid"
  status=$?
  expect_status 130
  expect_eq "$(snapshot_count r)" 1 "snapshots"
}

test_emergency_pauses_monitoring_until_resume_says_for_how_long() {
  make_repo r 3
  run perf-recover -C r --yes --emergency
  expect_status 0
  expect_file_exists "$(dirname "$(store_of r)")/paused"
  # Nothing blocks: a breach does not fail a step, the gate passes.
  echo x >>r/file.txt
  run perf-commit -C r --threshold 1us -m slow
  expect_status 0
  expect_stdout_contains "(paused: not enforced)"
  run perf-alerts -C r check
  expect_status 0
  expect_stdout_contains "paused"
  run perf-recover -C r resume
  expect_status 0
  expect_stdout_contains "monitoring is back on; it was off for"
  expect_no_file "$(dirname "$(store_of r)")/paused"
  echo y >>r/file.txt
  run perf-commit -C r --threshold 1us -m slow
  expect_status 3
  run perf-recover -C r resume
  expect_status 0
  expect_stdout_contains "monitoring was not paused"
}

test_a_failed_emergency_recovery_still_tells_people() {
  setup_service
  make_repo r 3
  mkdir -p "$HOME/.config/perfguard"
  printf '[alerts]\nnotify = ["sh", "-c", "cat >%s/told.tmp && mv %s/told.tmp %s/told.json"]\n' \
    "$TEST_DIR" "$TEST_DIR" "$TEST_DIR" >"$HOME/.config/perfguard/config.toml"
  run perf-recover -C r --yes --emergency --threshold 1us --restart 'exit 7'
  expect_status 1
  # Monitoring is off, so the breach of the threshold raises nothing; the failure does.
  expect_sql "$(store_of r)" "select rule, step from open_alerts" "failure|recover"
  wait_for_file told.json
  expect_eq "$(jq -r '"\(.event) \(.alert.rule) \(.alert.step)"' told.json)" \
    "opened failure recover" "what the notify command was told"
}

# make_recorded_repo: r, three commits, then a fourth by perf-commit, so that its store
# exists and holds a record.
make_recorded_repo() {
  make_repo r 3
  echo recorded >>r/file.txt
  run perf-commit -C r -m recorded
}

test_emergency_recovers_with_a_corrupt_store_and_journals_the_record() {
  make_recorded_repo
  local db target
  db=$(store_of r)
  printf 'this is not a database at all, not even close to one.....' >"$db"
  rm -f "$db-wal" "$db-shm"
  target=$(git -C r rev-parse HEAD~1)
  run perf-recover -C r --yes --emergency
  expect_status 4
  expect_eq "$(git -C r rev-parse HEAD)" "$target" "HEAD"
  expect_stdout_contains "the store could not be read"
  expect_file_exists "$db.journal.jsonl"
  grep -q '"step":"recover"' "$db.journal.jsonl" || fail "no recover record in the journal"
  # The record part ends where the journal is written, as it ends where a store would be.
  expect_eq "$(jq -r 'select(.step == "recover") | [.spans[].name] | join(",")' "$db.journal.jsonl")" \
    "preflight,snapshot,rollback,validate,record" "the journalled recovery's parts"
}

test_emergency_recovers_with_a_missing_store() {
  make_repo r 3
  run perf-recover -C r --yes --emergency --db "$TEST_DIR/nowhere/perf.db"
  expect_status 0
  expect_eq "$(snapshot_count r)" 1 "snapshots"
}

# hold_write_lock DB SECONDS [AFTER]: another writer takes DB's write lock (returning once it
# holds it) and commits SECONDS or a little more after it took it, or when AFTER is given,
# after the file AFTER appears (at most 2 minutes), unless the test has ended first. It waits
# in short sleeps: killed, it leaves none running that would hold the test open.
hold_write_lock() {
  (echo "$BASHPID" >feeder.pid
    printf 'BEGIN IMMEDIATE;\nINSERT INTO meta VALUES ("held", "1");\n.print locked\n'
    if [[ -n ${3:-} ]]; then
      for ((i = 0; i < 2400; i++)); do
        [[ -e $3 ]] && break
        sleep 0.05
      done
    fi
    for ((i = 0; i < $2 * 20; i++)); do sleep 0.05; done
    printf 'COMMIT;\n') | sqlite3 "$1" >locked &
  local writer=$! i
  for i in $(seq 1 2400); do
    grep -q locked locked 2>/dev/null && break
    sleep 0.05
  done
  # Its input first: waiting for sqlite3 waits for the whole pipeline.
  kill_at_end "$(cat feeder.pid)" "$writer"
  grep -q locked locked || fail "the other writer never took the lock"
}

test_emergency_does_not_wait_for_a_locked_store() {
  make_recorded_repo
  local db
  db=$(store_of r)
  hold_write_lock "$db" 60  # for the whole test
  run perf-recover -C r --yes --emergency
  expect_status 4
  expect_eq "$(git -C r rev-parse HEAD)" "$(git -C r rev-parse HEAD@{1}~1)" "HEAD"
  expect_file_exists "$db.journal.jsonl"
}

test_the_record_span_holds_the_wait_for_a_busy_store() {
  make_recorded_repo
  local db
  db=$(store_of r)
  # Held until 3 s after the health check, the last part before the record, has run: the
  # record waits that long however long the parts before it took on a loaded machine.
  hold_write_lock "$db" 3 "$TEST_DIR/health-ran"
  # A busy timeout far longer than the lock is held, however loaded the machine.
  PERFGUARD_STORE_BUSY_TIMEOUT=2m run perf-recover -C r --yes --threshold 1s \
    --health "touch '$TEST_DIR/health-ran'"
  expect_status 3
  expect_sql "$db" "select status from step_results where step = 'recover'" breach
  # The record part waited for the lock; the recovery's time includes it.
  expect_sql "$db" \
    "select name, duration_ms >= 1000 from child_spans where step = 'recover' order by seq desc limit 1" \
    "record|1"
  expect_sql "$db" \
    "select r.duration_ms + 0.001 >= sum(c.duration_ms) from step_results r join child_spans c on c.step_id = r.id where r.step = 'recover' and c.parent_seq is null" \
    1
}

test_list_shows_each_snapshot_with_its_recovery() {
  setup_service
  make_repo r 4
  run perf-rollback -C r
  expect_status 0
  run perf-recover -C r --yes --restart 'exit 3'
  expect_status 1
  run perf-recover -C r list
  expect_status 0
  expect_stdout_contains "restart failed"
  expect_stdout_contains "before rollback to HEAD~1 (perf-rollback)"
  run perf-recover -C r list --json
  expect_status 0
  expect_eq "$(jq -r '.snapshots | length' "$TEST_DIR/out")" 2 "snapshots listed"
  expect_eq "$(jq -r '.snapshots[0].outcome' "$TEST_DIR/out")" "restart failed" "outcome"
  expect_eq "$(jq -r '.snapshots[0].mode' "$TEST_DIR/out")" "manual" "mode"
}

test_undo_without_an_id_undoes_the_newest_recovery_not_a_rollback() {
  make_repo r 4
  local head
  head=$(git -C r rev-parse HEAD)
  run perf-recover -C r --yes
  expect_status 0
  run perf-rollback -C r
  expect_status 0
  run perf-recover -C r undo
  expect_status 0
  expect_eq "$(git -C r rev-parse HEAD)" "$head" "HEAD after undo"
}

test_undo_with_no_recovery_says_so() {
  make_repo r 2
  run perf-recover -C r undo
  expect_status 2
  expect_stderr_contains "no recovery has taken a snapshot in this work tree"
}

test_prune_deletes_only_snapshots_older_than_asked() {
  make_repo r 4
  run perf-recover -C r --yes
  run perf-recover -C r --yes
  expect_eq "$(snapshot_count r)" 2 "snapshots"
  run perf-recover -C r prune --older-than 1h
  expect_status 0
  expect_stdout_contains "deleted 0 snapshots older than 1h"
  expect_eq "$(snapshot_count r)" 2 "snapshots"
  sleep 0.01
  run perf-recover -C r prune --older-than 1ms --dry-run
  expect_status 0
  expect_stdout_contains "would delete 2 snapshots"
  expect_eq "$(snapshot_count r)" 2 "snapshots"
  run perf-recover -C r prune --older-than 1ms
  expect_status 0
  expect_eq "$(snapshot_count r)" 0 "snapshots"
  run perf-recover -C r prune --older-than soon
  expect_status 2
}

test_bad_input_is_one_line_and_changes_nothing() {
  make_repo r 3
  local state
  state=$(state_of r)
  run perf-recover -C r --yes --threshold fast
  expect_status 2
  expect_stderr_lines 1
  run perf-recover -C r --yes --health-timeout 0s
  expect_status 2
  expect_stderr_lines 1
  # Not even the pause mark: every flag is read before anything is done.
  run perf-recover -C r --yes --emergency --restart-timeout soon
  expect_status 2
  expect_no_file "$(dirname "$(store_of r)")/paused"
  run perf-recover -C r --auto --timeout 0s
  expect_status 2
  mkdir notrepo
  run perf-recover -C notrepo --yes
  expect_status 2
  expect_stderr_lines 1
  git init -q empty
  run perf-recover -C empty --yes
  expect_status 5
  expect_stderr_contains "HEAD has no commit yet"
  : >r/.git/index.lock
  run perf-recover -C r --yes
  expect_status 5
  rm r/.git/index.lock
  expect_eq "$(state_of r)" "$state" "state"
  expect_eq "$(snapshot_count r)" 0 "snapshots"
}

# breach_commits N: N commits of r, each over a threshold of 1us (each opens or bumps the
# threshold alert, critical).
breach_commits() {
  local i
  for ((i = 0; i < $1; i++)); do
    echo "slow $RANDOM" >>r/file.txt
    run perf-commit -C r --threshold 1us -m "slow $i"
    expect_status 3
  done
}

test_auto_without_a_trigger_does_nothing_and_exits_0() {
  make_repo r 3
  local state
  state=$(state_of r)
  run perf-recover -C r --auto
  expect_status 0
  expect_stdout_contains "not recovering: no trigger"
  echo fine >>r/file.txt
  run perf-commit -C r --threshold 1h -m fine
  state=$(state_of r)
  run perf-recover -C r --auto
  expect_status 0
  expect_stdout_contains "not recovering: no trigger: no open alert"
  expect_eq "$(state_of r)" "$state" "state"
  expect_eq "$(snapshot_count r)" 0 "snapshots"
}

test_auto_recovers_on_a_critical_alert_without_asking() {
  make_repo r 2
  breach_commits 1
  local target
  target=$(git -C r rev-parse HEAD~1)
  run perf-recover -C r --auto </dev/null
  expect_status 0
  expect_stdout_contains "recovering: critical alert #1 threshold on commit"
  expect_eq "$(git -C r rev-parse HEAD)" "$target" "HEAD"
  expect_sql "$(store_of r)" "select json_extract(labels, '\$.mode') from step_results where step = 'recover'" auto
  # What it answered does not send it back again.
  run perf-recover -C r --auto
  expect_status 0
  expect_stdout_contains "since the last recovery"
  expect_eq "$(git -C r rev-parse HEAD)" "$target" "HEAD after asking again"
}

test_auto_is_held_back_by_the_cooldown_and_the_hourly_limit() {
  make_repo r 2
  breach_commits 1
  run perf-recover -C r --auto
  expect_status 0
  breach_commits 1
  local state
  state=$(state_of r)
  run perf-recover -C r --auto
  expect_status 0
  expect_stdout_contains "not recovering now: cooldown: the last recovery was"
  expect_eq "$(state_of r)" "$state" "state"
  printf '[recover.auto]\ncooldown = "0s"\nmax_per_hour = 1\n' >auto.toml
  run perf-recover -C r --auto --config "$TEST_DIR/auto.toml"
  expect_status 0
  expect_stdout_contains "not recovering now: rate limit: 1 recovery in the last hour (at most 1)"
  expect_eq "$(state_of r)" "$state" "state"
}

test_a_second_recovery_at_the_same_time_changes_nothing() {
  setup_service
  make_repo r 3
  local target
  target=$(git -C r rev-parse HEAD~1)
  # The first recovery waits in its restart command until the test lets it go.
  perf-recover -C r --yes --threshold 1h --restart-timeout 1h \
    --restart 'touch "$SVC/restarting"; while [ ! -f "$SVC/go" ]; do sleep 0.05; done' \
    >first.out 2>first.err &
  local first=$!
  kill_at_end "$first"
  wait_for_file "$SVC/restarting"
  local state
  state=$(state_of r)
  run perf-recover -C r --auto
  expect_status 0
  expect_stdout_contains "not recovering now: another recovery is running in this repository (pid $first)"
  run perf-recover -C r --yes --to HEAD~1
  expect_status 5
  expect_stderr_contains "another recovery is running in this repository (pid $first); nothing was changed"
  expect_stderr_lines 1
  expect_eq "$(state_of r)" "$state" "state while the first recovery runs"
  expect_eq "$(snapshot_count r)" 1 "snapshots"
  touch "$SVC/go"
  wait "$first" || fail "the first recovery failed: $(cat first.err)"
  expect_eq "$(git -C r rev-parse HEAD)" "$target" "HEAD after the first recovery"
  # Once it has ended, the next one goes ahead.
  run perf-recover -C r --yes --to HEAD~1
  expect_status 0
}

test_auto_follows_the_decision_matrix() {
  make_repo r 3
  breach_commits 1
  local state
  state=$(state_of r)
  # A person to decide: told through the alerts' channels, once however often cron asks.
  local notify
  notify=$(printf '[alerts]\nnotify = ["sh", "-c", "cat >>%s/notified.jsonl; echo >>%s/notified.jsonl"]' \
    "$TEST_DIR" "$TEST_DIR")
  printf '%s\n[recover.auto]\ncritical = "manual"\n' "$notify" >auto.toml
  run perf-recover -C r --auto --config "$TEST_DIR/auto.toml"
  expect_status 0
  expect_stdout_contains "not recovering, a person decides: critical alert #1"
  expect_stdout_contains "to recover: perf-recover --yes (alert #2 tells the alerts' channels)"
  wait_for_lines notified.jsonl 1
  expect_eq "$(jq -r '"\(.event) \(.alert.id) \(.alert.rule) \(.alert.severity) \(.alert.step)"' notified.jsonl)" \
    "opened 2 manual_recovery critical recover" "the notification"
  jq -r .alert.summary notified.jsonl | grep -q "a recovery waits for a person (perf-recover --yes): critical alert #1" ||
    fail "the summary: $(jq -r .alert.summary notified.jsonl)"
  run perf-recover -C r --auto --config "$TEST_DIR/auto.toml"
  expect_status 0
  expect_stdout_contains "(alert #2 tells the alerts' channels)"
  run perf-alerts -C r list --json
  expect_eq "$(jq -r '[.alerts[] | select(.rule == "manual_recovery") | "\(.id) \(.state) \(.count)"] | join(",")' "$TEST_DIR/out")" \
    "2 open 2" "the alert, bumped"
  # Nothing for a person to do: the alert resolves (here after one such decision).
  printf '%s\nresolve_after = 1\n[recover.auto]\ncritical = "none"\n' "$notify" >auto.toml
  run perf-recover -C r --auto --config "$TEST_DIR/auto.toml"
  expect_status 0
  expect_stdout_contains '[recover.auto] critical is "none": nothing to do'
  expect_eq "$(state_of r)" "$state" "state"
  wait_for_lines notified.jsonl 2
  expect_eq "$(jq -r '"\(.event) \(.alert.id)"' notified.jsonl | tr '\n' ' ')" "opened 2 resolved 2 " \
    "notifications"
  printf '[recover.auto]\ncritical = "auto"\n' >auto.toml
  run perf-recover -C r --auto --config "$TEST_DIR/auto.toml"
  expect_status 0
  expect_stdout_contains "recovering: critical alert #1"
}

test_kill_9_at_each_part_of_the_rollback_leaves_every_change_reachable() {
  local point state i
  for point in during-snapshot after-snapshot during-reset; do
    rm -rf r
    make_messy_repo
    state=$(state_with_modes r)
    PERFGUARD_TEST_FAULT=$point perf-recover -C r --yes >/dev/null 2>&1
    # A git the kill left running finishes on its own; its lock goes with it.
    for i in $(seq 1 600); do
      [[ -e r/.git/index.lock ]] || break
      sleep 0.05
    done
    if [[ $(snapshot_count r) -eq 0 ]]; then
      expect_eq "$(state_with_modes r)" "$state" "state after a kill $point (no snapshot yet)"
    else
      run perf-recover -C r undo
      expect_status 0
      expect_eq "$(state_with_modes r)" "$state" "state after a kill $point and undo"
    fi
  done
}

test_emergency_recovers_with_a_read_only_store() {
  make_recorded_repo
  local db target
  db=$(store_of r)
  target=$(git -C r rev-parse HEAD~1)
  share_with_other_user
  chmod a-w "$db" "$(dirname "$db")"
  as_other_user perf-recover -C "$TEST_DIR/r" --yes --emergency >"$TEST_DIR/out" 2>"$TEST_DIR/err"
  status=$?
  cat "$TEST_DIR/out" "$TEST_DIR/err" >&2
  chmod u+w "$db" "$(dirname "$db")"
  expect_status 4
  expect_eq "$(git -C r rev-parse HEAD)" "$target" "HEAD"
  expect_eq "$(snapshot_count r)" 1 "snapshots"
  expect_stderr_contains "the record was written to"
}

test_auto_decides_on_a_store_it_cannot_write() {
  make_repo r 3
  breach_commits 1
  local db state
  db=$(store_of r)
  state=$(state_of r)
  printf '[recover.auto]\ncritical = "manual"\n' >auto.toml
  share_with_other_user
  chmod a-w "$db" "$(dirname "$db")"
  as_other_user perf-recover -C "$TEST_DIR/r" --auto --config "$TEST_DIR/auto.toml" \
    >"$TEST_DIR/out" 2>"$TEST_DIR/err"
  status=$?
  cat "$TEST_DIR/out" "$TEST_DIR/err" >&2
  chmod u+w "$db" "$(dirname "$db")"
  expect_status 0
  expect_stdout_contains "not recovering, a person decides: critical alert #1"
  expect_stderr_contains "the decision was not told to the alerts"
  expect_stderr_contains "cannot open the lock file"  # the directory is read-only too
  expect_stderr_lines 2
  expect_eq "$(state_of r)" "$state" "state"
}

test_verify_agrees_with_the_store_after_prune() {
  make_repo r 4
  run perf-recover -C r --yes
  run perf-rollback -C r
  expect_eq "$(snapshot_count r)" 2 "snapshots"
  run perf-recover -C r verify
  expect_status 0
  sleep 0.01
  run perf-recover -C r prune --older-than 1ms
  expect_status 0
  expect_eq "$(snapshot_count r)" 0 "snapshots"
  run perf-recover -C r verify
  expect_status 0
  # A snapshot deleted by hand is still reported.
  run perf-recover -C r --yes
  git -C r update-ref -d "$(git -C r for-each-ref --format='%(refname)' refs/perfguard/snapshots/)"
  run perf-recover -C r verify
  expect_status 1
  expect_stdout_contains "the store records it but refs/perfguard/snapshots/"
}
