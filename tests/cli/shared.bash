# The team's shared store against a real PostgreSQL server (the ctest fixture's cluster, and
# for a server that stops mid-ship, one of the case's own): many clones shipping at once, the
# fleet's answers equal to one local store holding every clone's records, the roles README
# documents, and a server that goes away in the middle of a ship.

# shellcheck source=shared-lib.bash
source "$SOURCE_ROOT/tests/cli/shared-lib.bash"

# same_numbers: the rows on stdin with every decimal number written to 6 places, so that
# sqlite3's 15 significant digits and psql's shortest round trip of the same double compare.
same_numbers() {
  awk -F'|' -v OFS='|' '{ for (i = 1; i <= NF; i++) if ($i ~ /^-?[0-9]+\.[0-9]+$/) $i = sprintf("%.6f", $i); print }'
}

# records FILE N TAG [SLOW]: N records as perf-baseline export writes them, of two steps, each
# with a trace id of its own (TAG keeps two files apart), spread over the last few days; with
# SLOW, every run breaches its threshold.
records() {
  local file=$1 n=$2 tag=$3 slow=${4:-0} now
  now=$(($(date +%s) * 1000000))
  awk -v n="$n" -v tag="$tag" -v now="$now" -v slow="$slow" 'BEGIN {
    srand(tag * 7919 + n);
    for (i = 0; i < n; i++) {
      step = (i % 3 == 0) ? "rollback" : "commit";
      start = now - 3 * 86400000000 + i * 997000 + tag * 13;
      dur = 5000 + int(rand() * 20000) + (i % 50 == 0 || slow ? 900000 : 0);
      status = dur > 800000 ? "breach" : "ok";
      printf "{\"trace_id\":\"%08x%08x\",\"step\":\"%s\",\"status\":\"%s\",\"started_us\":%.0f,", tag, i, step, status, start;
      printf "\"duration_us\":%d,\"threshold_us\":800000,\"exit_code\":%d,\"repo\":\"/srv/clone-%d\",", dur, status == "ok" ? 0 : 3, tag;
      printf "\"branch\":\"%s\",\"host\":\"host-%d\",\"user\":\"ci\",\"tool\":\"perf-%s\",", (i % 2 ? "main" : "dev"), tag % 4, step;
      printf "\"tool_version\":\"0.1.0\",\"git_version\":\"2.39.5\",\"spans\":[{\"name\":\"git\",\"offset_us\":10,\"duration_us\":%d,\"exit_code\":0,\"spans\":[]}],\"labels\":{}}\n", dur - 20;
    }
  }' >"$file"
}

# clone_with_records DIR N TAG [SLOW]: a repository whose local store holds N records
# (imported, which starts the shipper in the background when PERFGUARD_SHARED is set).
clone_with_records() {
  make_repo "$1" 1
  records "$TEST_DIR/$1.jsonl" "$2" "$3" "${4:-0}"
  perf-baseline -C "$1" -q import --format jsonl "$TEST_DIR/$1.jsonl" || fail "import into $1"
}

# The read commands whose output must not depend on the engine.
READS=("stats --since all" "trend --days 7" "trend --days 7 --by hour" "slowest --since all --limit 30"
  "export --format jsonl" "export --format csv" "show")

test_sixteen_clones_recording_and_shipping_at_once_are_all_there_once() {
  fresh_database
  export PERFGUARD_SHARED=$SHARED
  local k pids=()
  for k in $(seq 1 16); do
    make_repo "c$k" 1
    records "c$k.jsonl" 200 "$k"
  done
  # Sixteen imports at once, each starting its shipper in the background when it is done.
  for k in $(seq 1 16); do
    perf-baseline -C "c$k" -q import --format jsonl "$TEST_DIR/c$k.jsonl" &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || fail "an import failed"; done
  # Then each clone's last step: sync waits for its shipper and ships what is left.
  pids=()
  for k in $(seq 1 16); do
    perf-baseline -C "c$k" -q sync &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || fail "a sync failed"; done
  expect_eq "$(pg 'select count(*) from step_rows')" 3200 "records in the shared store"
  expect_eq "$(pg 'select count(*) from (select distinct trace_id, step, started_us from steps) as s')" \
    3200 "distinct records"
  expect_eq "$(pg 'select count(*) from spans')" 3200 "child spans"
  # Shipping again adds nothing.
  run perf-baseline -C c1 sync
  expect_status 0
  expect_stdout_contains "nothing new to ship"
  expect_eq "$(pg 'select count(*) from step_rows')" 3200 "records after shipping again"
}

test_the_fleet_answers_as_one_local_store_holding_every_clone() {
  fresh_database
  export PERFGUARD_SHARED=$SHARED
  clone_with_records a 300 1
  clone_with_records b 200 2
  run perf-baseline -C a sync
  expect_status 0
  run perf-baseline -C b sync
  expect_status 0
  # The union, in one local store of a third repository, by import.
  make_repo union 1
  cat a.jsonl b.jsonl >union.jsonl
  PERFGUARD_SHARED='' perf-baseline -C union -q import --format jsonl "$TEST_DIR/union.jsonl" ||
    fail "import the union"
  local read
  for read in "${READS[@]}"; do
    # shellcheck disable=SC2086
    PERFGUARD_SHARED='' perf-baseline -C union $read >local.out 2>local.err || fail "local $read: $(cat local.err)"
    # shellcheck disable=SC2086
    perf-baseline -C a --shared $read >shared.out 2>shared.err || fail "shared $read: $(cat shared.err)"
    cmp -s local.out shared.out || fail "perf-baseline $read differs: $(diff local.out shared.out | head -5)"
  done
  # Baselines computed over the fleet, then the same views through psql and sqlite3.
  run perf-baseline -C a --shared compute --force
  expect_status 0
  PERFGUARD_SHARED='' perf-baseline -C union -q compute --force || fail "local compute"
  local view local_rows shared_rows
  for view in step_summary daily_trend; do
    local_rows=$(sql "$(store_of union)" "select * from $view" | same_numbers)
    shared_rows=$(pg "select * from $view" | same_numbers)
    expect_eq "$shared_rows" "$local_rows" "view $view"
  done
  expect_eq "$(pg 'select step, n, p50_ms, p95_ms from active_baselines order by step' | same_numbers)" \
    "$(sql "$(store_of union)" 'select step, n, p50_ms, p95_ms from active_baselines order by step' |
      same_numbers)" "the fleet's baselines"
  # A clone's next sync takes the team's baselines back.
  run perf-baseline -C b sync
  expect_status 0
  expect_eq "$(sql "$(store_of b)" 'select step, n, p50_ms from active_baselines order by step' |
    same_numbers)" "$(pg 'select step, n, p50_ms from active_baselines order by step' | same_numbers)" \
    "baselines taken back"
}

test_the_readme_roles_ship_and_read_and_nothing_more() {
  fresh_database
  local grants
  grants=$(sed -n "/^psql .*<<'SQL'\$/,/^SQL\$/p" "$SOURCE_ROOT/README.md" | sed '1d;$d')
  [[ $grants == *"GRANT INSERT"* ]] || fail "no grants found in README.md"
  # The owner's first sync makes the schema; then the README's grants.
  clone_with_records a 50 1
  PERFGUARD_SHARED=$SHARED perf-baseline -C a -q sync || fail "the owner's sync"
  local writer=writer_$DBNAME reader=reader_$DBNAME
  psql -q -v ON_ERROR_STOP=1 -d "$DBNAME" >/dev/null <<EOF || fail "roles"
CREATE ROLE $writer LOGIN PASSWORD 'writer-secret';
CREATE ROLE $reader LOGIN PASSWORD 'reader-secret';
$(echo "$grants" | sed "s/perfguard_reader/$reader/g; s/perfguard_writer/$writer/g")
EOF
  # The writer ships.
  clone_with_records w 80 2
  PGPASSWORD=writer-secret PERFGUARD_SHARED="postgresql:///$DBNAME?host=$PGHOST&user=$writer" \
    perf-baseline -C w sync >out 2>err
  local status=$?
  [[ $status == 0 ]] || fail "the writer's sync exited $status: $(cat err)"
  expect_eq "$(pg 'select count(*) from step_rows')" 130 "records"
  # The reader reads, as the owner does.
  PGPASSWORD=reader-secret perf-baseline -C w --db "postgresql:///$DBNAME?host=$PGHOST&user=$reader" \
    stats --since all >reader.out 2>reader.err || fail "the reader's stats: $(cat reader.err)"
  perf-baseline -C w --db "$SHARED" stats --since all >owner.out || fail "the owner's stats"
  cmp -s reader.out owner.out || fail "the reader reads otherwise: $(diff reader.out owner.out | head -5)"
  # The reader cannot ship, and the writer cannot delete.
  clone_with_records r2 10 3
  PGPASSWORD=reader-secret PERFGUARD_SHARED="postgresql:///$DBNAME?host=$PGHOST&user=$reader" \
    perf-baseline -C r2 sync >out 2>err
  status=$?
  expect_eq "$status" 4 "the reader's sync"
  grep -q "permission denied" err || fail "no permission error: $(cat err)"
  grep -q "secret" err && fail "a password in the error"
  expect_eq "$(pg 'select count(*) from step_rows')" 130 "records after the reader's sync"
  PGPASSWORD=writer-secret psql -X -q -d "$DBNAME" -U "$writer" -c "DELETE FROM step_rows" 2>err &&
    fail "the writer deleted records"
  grep -q "permission denied" err || fail "no permission error for the writer's delete"
}

test_a_server_that_stops_mid_ship_loses_nothing_and_stores_nothing_twice() {
  # A server of the case's own, to stop.
  local state=$TEST_DIR/own-pg.env
  stop_cluster_at_end "$state"
  sh "$SOURCE_ROOT/tests/postgres/cluster" start "$state" || fail "cluster start"
  (
    # shellcheck disable=SC1090
    source "$state"
    psql -q -c "CREATE DATABASE own" >/dev/null
  ) || fail "create database"
  stop_cluster_at_end "$state"
  # shellcheck disable=SC1090
  source "$state"
  export PERFGUARD_SHARED="postgresql:///own?host=$PGHOST&user=$PGUSER"
  make_repo big 1
  records big.jsonl 60000 9
  PERFGUARD_SHARED='' perf-baseline -C big -q import --format jsonl "$TEST_DIR/big.jsonl" || fail "import"
  perf-baseline -C big sync >sync1.out 2>sync1.err &
  local sync=$! i n=0
  # Stop the server once the first batches are committed, while the rest are on their way.
  for i in $(seq 1 2400); do
    n=$(psql -X -qAt -d own -c "select count(*) from step_rows" 2>/dev/null || echo 0)
    [[ $n -gt 0 ]] && break
    sleep 0.02
  done
  sh "$SOURCE_ROOT/tests/postgres/cluster" halt "$state" || fail "halt"
  wait "$sync"
  local status=$?
  sh "$SOURCE_ROOT/tests/postgres/cluster" resume "$state" || fail "resume"
  if [[ $status == 0 ]]; then
    # The ship ended before the server went: nothing to prove about a cut, but still all there.
    echo "note: the ship finished before the server stopped" >&2
  else
    expect_eq "$status" 4 "sync with the server gone"
    grep -q "records stay in the local store for the next ship" sync1.err ||
      fail "no word on what stays local: $(cat sync1.err)"
  fi
  run perf-baseline -C big sync
  expect_status 0
  expect_eq "$(psql -X -qAt -d own -c 'select count(*) from step_rows')" 60000 "records"
  expect_eq "$(psql -X -qAt -d own -c 'select count(distinct (trace_id, step, started_us)) from step_rows')" \
    60000 "distinct records"
  run perf-baseline -C big sync --status --format json
  jq -e '.pending == 0' "$TEST_DIR/out" >/dev/null || fail "pending after the second sync"
}

test_a_shared_store_of_a_newer_schema_is_refused_by_the_read_commands() {
  fresh_database
  export PERFGUARD_SHARED=$SHARED
  clone_with_records a 10 1
  run perf-baseline -C a sync
  expect_status 0
  pg "UPDATE meta SET value = '99' WHERE key = 'schema_version'" >/dev/null
  run perf-baseline -C a --shared stats
  expect_status 4
  expect_stderr_contains "newer"
  expect_stderr_lines 1
  expect_eq "$(pg "select value from meta where key = 'schema_version'")" 99 "left as it was"
}

test_read_commands_on_the_shared_store_say_what_does_not_work_there() {
  fresh_database
  make_repo a 1
  run perf-baseline -C a --shared stats
  expect_status 2
  expect_stderr_contains "no shared store is configured"
  export PERFGUARD_SHARED=$SHARED
  run perf-baseline -C a --shared import --format jsonl /dev/null
  expect_status 2
  expect_stderr_contains "sync\` ships them"
  run perf-commit -C a --db "$SHARED" -m x
  expect_status 2
  expect_stderr_contains "records into the local store"
  expect_eq "$(git -C a rev-list --count HEAD)" 1 "commits"
}

test_perf_alerts_answers_for_the_whole_fleet_from_the_shared_store() {
  fresh_database
  export PERFGUARD_SHARED=$SHARED
  clone_with_records a 20 1 slow
  clone_with_records b 20 2 slow
  # Imported breaches raise alerts in each clone's own store; the shared store has none yet.
  run perf-alerts -C a list --format json
  local local_alerts
  local_alerts=$(jq '.alerts | length' "$TEST_DIR/out")
  run perf-baseline -C a sync
  expect_status 0
  run perf-baseline -C b sync
  expect_status 0
  run perf-alerts -C a --shared scan --since 7d
  expect_status 0
  expect_stdout_contains "alerts changed"
  # Both clones' alerts, from either clone: the fleet, not the clone's own path.
  run perf-alerts -C a --shared list --format json
  expect_status 0
  expect_eq "$(jq -r '[.alerts[].repo] | unique | join(" ")' "$TEST_DIR/out")" "/srv/clone-1 /srv/clone-2" \
    "the repositories of the fleet's alerts"
  run perf-alerts -C b --shared check --fail-on critical
  expect_status 3
  # The local store knows nothing of the fleet's scan.
  run perf-alerts -C a list --format json
  expect_eq "$(jq '.alerts | length' "$TEST_DIR/out")" "$local_alerts" "alerts in a's local store"
}

test_a_repository_path_that_is_not_utf8_ships_and_reads_back_byte_for_byte() {
  fresh_database
  export PERFGUARD_SHARED=$SHARED
  local repo=$'r\xff%41'
  make_repo "$repo" 1
  local i
  for i in 1 2; do
    echo "change $i" >"$repo/file.txt"
    run perf-commit -C "$repo" -m "change $i"
    expect_status 0
  done
  run perf-baseline -C "$repo" sync
  expect_status 0
  expect_eq "$(pg 'select count(*) from step_rows')" 2 "records shipped"
  # The views show the path as the machine formats write it.
  expect_eq "$(pg 'select distinct repo from step_results')" "$TEST_DIR/r%FF%2541" "the repo column"
  PERFGUARD_SHARED='' perf-baseline -C "$repo" export --format jsonl >local.jsonl || fail "local export"
  perf-baseline -C "$repo" --shared export --format jsonl >shared.jsonl || fail "shared export"
  expect_eq "$(wc -l <local.jsonl)" 2 "records exported"
  cmp -s local.jsonl shared.jsonl || fail "the exports differ: $(diff local.jsonl shared.jsonl | head -5)"
}

test_a_filter_on_the_shared_store_answers_as_one_clones_local_store() {
  fresh_database
  export PERFGUARD_SHARED=$SHARED
  clone_with_records a 120 1
  clone_with_records b 90 2
  run perf-baseline -C a sync
  expect_status 0
  run perf-baseline -C b sync
  expect_status 0
  local read
  for read in "stats --since all" "slowest --since all --limit 9" "export --format jsonl"; do
    # shellcheck disable=SC2086
    PERFGUARD_SHARED='' perf-baseline -C a $read >local.out || fail "local $read"
    # shellcheck disable=SC2086
    perf-baseline -C b --shared $read --repo /srv/clone-1 >shared.out || fail "shared $read --repo"
    cmp -s local.out shared.out || fail "$read --repo differs: $(diff local.out shared.out | head -5)"
  done
}
