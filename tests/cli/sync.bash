# Shipping to the team's shared store ([store] shared): perfguard-ship started by the tools that
# record, the warning given once when it cannot ship, and `perf-baseline sync`. The cases named
# *_postgres_* need a PostgreSQL server (ctest's cli.sync starts one:
# tests/postgres/cluster) and fail without one.

# A shared store no one can reach: its socket directory does not exist.
UNREACHABLE='postgresql://nobody@/none?host=/nonexistent'

# commits DIR N: N commits timed by perf-commit in a repository at DIR.
commits() {
  local dir=$1 n=$2 i
  [[ -d $dir ]] || make_repo "$dir" 1
  for ((i = 1; i <= n; i++)); do
    echo "change $i $RANDOM" >"$dir/change.txt"
    perf-commit -C "$dir" -q -m "change $i" || fail "perf-commit $i"
  done
}

# wait_for_sql DB QUERY VALUE: until the query gives VALUE (a shipper in the background
# writes it); the bound is only for one that hangs.
wait_for_sql() {
  local i
  for i in $(seq 1 2400); do
    [[ $(sql "$1" "$2" 2>/dev/null) == "$3" ]] && return 0
    sleep 0.05
  done
  fail "sql '$2' never gave '$3' (last: '$(sql "$1" "$2" 2>&1)')"
}

# wait_for_shippers DB: until no shipper holds the store's ship lock (flock -n takes it).
wait_for_shippers() {
  local i
  for i in $(seq 1 2400); do
    flock -n "$1.ship.lock" true && return 0
    sleep 0.05
  done
  fail "a shipper of $1 never ended"
}

test_sync_without_a_shared_store_exits_2_and_changes_nothing() {
  commits r 2
  db=$(store_of r)
  before=$(sql "$db" "select count(*) from meta")
  run perf-baseline -C r sync
  expect_status 2
  expect_stderr_contains "perf-baseline: no shared store to sync with: set [store] shared"
  expect_stderr_lines 1
  run perf-baseline -C r sync --status
  expect_status 2
  expect_stderr_lines 1
  expect_sql "$db" "select count(*) from meta" "$before"
  expect_no_file "$db.ship.lock"
}

test_no_shipper_is_started_without_a_shared_store() {
  commits r 3
  expect_no_file "$(store_of r).ship.lock"
  expect_sql "$(store_of r)" "select count(*) from meta where key like 'ship.%'" 0
}

test_a_repository_file_cannot_name_the_shared_store() {
  make_repo r 1
  printf '[store]\nshared = "postgresql://collector@evil.example/loot"\n' >r/.perfguard.toml
  echo change >r/change.txt
  run perf-commit -C r -m change
  expect_status 0
  expect_stderr_contains "store.shared: ignored: a repository file cannot set the shared store"
  expect_no_file "$(store_of r).ship.lock"
  run perf-baseline -C r sync
  expect_status 2
}

test_a_commit_ships_in_the_background_and_a_failure_is_said_once() {
  commits r 1
  db=$(store_of r)
  export PERFGUARD_SHARED=$UNREACHABLE
  echo one >r/one.txt
  run perf-commit -C r -q -m one
  expect_status 0
  expect_stderr_lines 0
  # The shipper, detached, could not ship and kept that for the next run to say.
  wait_for_sql "$db" "select value from meta where key = 'ship.failure_reported'" 0
  expect_sql "$db" "select value from meta where key = 'ship.failure_target'" "$UNREACHABLE"

  echo two >r/two.txt
  run perf-commit -C r -q -m two
  expect_status 0
  expect_stderr_lines 1
  expect_stderr_contains "perf-commit: warning: 3 records are not shipped to the shared store $UNREACHABLE ("
  expect_stderr_contains "); they stay local and the next ship takes them"
  expect_sql "$db" "select value from meta where key = 'ship.failure_reported'" 1

  # The same outage: not said again.
  wait_for_shippers "$db"
  echo three >r/three.txt
  run perf-commit -C r -q -m three
  expect_status 0
  expect_stderr_lines 0
  expect_sql "$db" "select count(*) from step_results" 4
}

test_the_password_is_neither_shown_nor_on_a_command_line() {
  commits r 1
  db=$(store_of r)
  export PERFGUARD_SHARED='postgresql://nobody:hunter2@/none?host=/nonexistent'
  echo one >r/one.txt
  perf-commit -C r -q -m one || fail "perf-commit"
  wait_for_sql "$db" "select count(*) from meta where key = 'ship.failure_at_us'" 1
  run sqlite3 "$db" "select value from meta where key like 'ship.%'"
  grep -q hunter2 "$TEST_DIR/out" && fail "the password is in the store"
  echo two >r/two.txt
  run perf-commit -C r -q -m two
  expect_stderr_contains "shared store postgresql://nobody@/none?host=/nonexistent ("
  grep -q hunter2 "$TEST_DIR/err" && fail "the password is shown"
  run perf-baseline -C r sync
  expect_status 4
  grep -q hunter2 "$TEST_DIR/err" && fail "sync shows the password"
  # The tools start perfguard-ship with -C, --db and --config only: it reads the connection
  # string from the environment itself. A shipper caught running must not have it in argv.
  for cmdline in /proc/[0-9]*/cmdline; do
    if tr '\0' ' ' <"$cmdline" 2>/dev/null | grep -q 'perfguard-ship.*hunter2'; then
      fail "a shipper has the password on its command line"
    fi
  done
}

test_sync_with_an_unreachable_shared_store_exits_4_naming_it_and_keeps_the_records() {
  commits r 3
  db=$(store_of r)
  export PERFGUARD_SHARED=$UNREACHABLE
  run perf-baseline -C r sync
  expect_status 4
  expect_stderr_lines 1
  expect_stderr_contains "perf-baseline: "
  expect_stderr_contains "$UNREACHABLE"
  expect_stderr_contains "; 3 records stay in the local store for the next ship"
  expect_sql "$db" "select count(*) from step_results" 3
  # Said in the foreground already: the next tool does not say it again.
  echo more >r/more.txt
  run perf-commit -C r -q -m more
  expect_status 0
  expect_stderr_lines 0
}

test_sync_status_says_what_is_pending_without_connecting() {
  commits r 2
  export PERFGUARD_SHARED=$UNREACHABLE
  run perf-baseline -C r sync --status
  expect_status 0
  expect_stdout_contains "shared store:  $UNREACHABLE"
  expect_stdout_contains "pending:       2 records"
  expect_stdout_contains "shipped up to: nothing yet"
  expect_stdout_contains "last success:  never"
  expect_stdout_contains "last failure:  none since the last success"
  run perf-baseline -C r sync
  expect_status 4
  run perf-baseline -C r sync --status --format json
  expect_status 0
  jq -e --arg t "$UNREACHABLE" '.target == $t and .pending == 2 and .shipped_id == null
    and .last_success == null and (.last_failure | type) == "string"
    and .failure_reported == true' "$TEST_DIR/out" >/dev/null || fail "status json"
}

test_the_detached_shipper_leaves_the_work_to_one_that_holds_the_lock() {
  commits r 1
  db=$(store_of r)
  export PERFGUARD_SHARED=$UNREACHABLE
  # A shipper at work (here: this test holding the lock): the one perf-commit starts finds
  # the lock held and leaves, recording nothing.
  exec 9>"$db.ship.lock"
  flock -n 9 || fail "cannot take the ship lock"
  echo one >r/one.txt
  perf-commit -C r -q -m one || fail "perf-commit"
  # perfguard-ship run in the foreground the same way returns at once with nothing done.
  run perfguard-ship -C r
  expect_status 0
  expect_sql "$db" "select count(*) from meta where key like 'ship.%'" 0
  exec 9>&-
  # Now one ships (this one, or the detached one if it came late) and keeps its failure.
  perfguard-ship -C r 2>/dev/null
  wait_for_sql "$db" "select count(*) from meta where key = 'ship.failure_at_us'" 1
}

test_the_detached_shipper_keeps_none_of_the_tools_descriptors_open() {
  make_repo r 1
  # perf-commit beside a stand-in shipper that stays a while (the tools look beside
  # themselves first), and says where it is.
  mkdir -p bin
  cp "$PERFGUARD_BIN/perf-commit" bin/
  cat >bin/perfguard-ship <<EOF
#!/bin/sh
echo \$\$ >"$TEST_DIR/stand-in.pid"
exec sleep 60
EOF
  chmod +x bin/perfguard-ship
  mkfifo out
  echo one >r/one.txt
  # A reader of a descriptor the tool inherited (as a CI runner reads a step's pipe) sees its
  # end when the tool exits, not when the shipper does.
  PERFGUARD_SHARED=$UNREACHABLE bin/perf-commit -C r -q -m one 9>out &
  local tool=$!
  timeout 30 cat out >/dev/null || fail "the pipe stayed open after perf-commit exited"
  wait "$tool" || fail "perf-commit"
  local i
  for i in $(seq 1 600); do [[ -s stand-in.pid ]] && break; sleep 0.05; done
  [[ -s stand-in.pid ]] || fail "the stand-in shipper never started"
  kill "$(cat stand-in.pid)" 2>/dev/null || true
}

# ---- with the PostgreSQL engine and a server --------------------------------------------------

# require_postgres: a server (tests/postgres/cluster's state in PERFGUARD_TEST_POSTGRES); sets
# SHARED to a fresh database of it. Without one the case fails: it would prove nothing.
require_postgres() {
  [[ -n ${PERFGUARD_TEST_POSTGRES:-} && -f $PERFGUARD_TEST_POSTGRES ]] ||
    fail "no PostgreSQL server (ctest's cli.sync starts one: tests/postgres/cluster)"
  # shellcheck disable=SC1090
  source "$PERFGUARD_TEST_POSTGRES"
  local db="sync_$RANDOM$RANDOM"
  psql -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >/dev/null || fail "create database"
  SHARED="postgresql:///$db?host=$PGHOST&user=$PGUSER"
}

test_postgres_sync_ships_every_record_once_and_says_so() {
  require_postgres
  commits r 5
  export PERFGUARD_SHARED=$SHARED
  wait_for_shippers "$(store_of r)"
  run perf-baseline -C r sync --format json
  expect_status 0
  jq -e '.shipped == 5 and .new == 5 and .already_there == 0' "$TEST_DIR/out" >/dev/null ||
    fail "sync json"
  run perf-baseline -C r sync
  expect_status 0
  expect_stdout_contains "nothing new to ship to "
  run perf-baseline -C r sync --status --format json
  jq -e '.pending == 0 and .failure == null' "$TEST_DIR/out" >/dev/null || fail "status after sync"
}

test_postgres_prune_all_then_a_new_record_is_shipped() {
  require_postgres
  commits r 3
  export PERFGUARD_SHARED=$SHARED
  wait_for_shippers "$(store_of r)"
  run perf-baseline -C r sync
  expect_status 0
  perf-baseline -C r prune --older-than 1us -q || fail "prune"
  echo after >r/after.txt
  PERFGUARD_SHARED= perf-commit -C r -q -m after || fail "perf-commit"
  run perf-baseline -C r sync --format json
  expect_status 0
  jq -e '.shipped == 1 and .new == 1' "$TEST_DIR/out" >/dev/null || fail "the new record"
}
