# Hostile or odd input: config files, output targets, stores and imported records that are
# not what they claim to be. Each case checks the exit code, that the one-line message names
# the problem, and that nothing was changed.

# with_memory_cap CMD…: runs CMD unable to take more than about 2 GB, so a regression that
# reads without bound fails here instead of exhausting the machine. An AddressSanitizer
# build reserves terabytes of address space for its shadow, so there the cap is the
# sanitizer's own limit on one allocation instead of ulimit -v.
with_memory_cap() {
  if grep -qa __asan_init "$(command -v "$1")"; then
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=2000" "$@"
  else
    (ulimit -v 2000000 && exec "$@")
  fi
}

# record STEP BRANCH [DURATION_US] [EXIT_CODE]: one record line in our JSONL. STEP and BRANCH
# are JSON string contents (escapes allowed).
record_n=0
record() {
  local start=$((($(date +%s) - 3600) * 1000000))
  record_n=$((record_n + 1))
  printf '{"trace_id":"%016x","step":"%s","status":"ok","started_us":%d,"duration_us":%s,"exit_code":%s,"branch":"%s","spans":[{"name":"%s part","offset_us":0,"duration_us":10,"exit_code":0,"spans":[]}],"labels":{"note":"%s"}}\n' \
    "$((record_n + 4096))" "$1" "$start" "${3:-1500}" "${4:-0}" "$2" "$1" "$2"
}

# no_raw_escapes FILE: fails when FILE holds an ESC, BEL, CSI (C1) or DEL byte.
no_raw_escapes() {
  if LC_ALL=C grep -q $'[\x1b\x07\x7f]' "$1" || LC_ALL=C grep -q $'\xc2\x9b' "$1"; then
    fail "$1 holds raw control characters: $(od -c "$1" | head -5)"
  fi
}

# ---- 13: configuration only from small regular files --------------------------------------

test_repository_config_linked_to_dev_zero_is_refused_without_reading_it() {
  make_repo r 1
  ln -s /dev/zero r/.perfguard.toml
  before=$(state_of r)
  # Before the fix, the tool read /dev/zero until memory ran out: the limit makes that a quick
  # failure instead of a stalled machine.
  run with_memory_cap perf-baseline -C r stats
  expect_status 2
  expect_stderr_lines 1
  expect_stderr_contains ".perfguard.toml: it is a character device, not a regular file"
  expect_eq "$(state_of r)" "$before" "repository"
  expect_no_file "$(store_of r)"
}

test_repository_config_linked_to_dev_stdin_does_not_wait_for_input() {
  make_repo r 1
  ln -s /dev/stdin r/.perfguard.toml
  mkfifo never
  # stdin is a FIFO this shell holds open for writing and never writes to: reading it would
  # block forever. `timeout` only turns such a hang into a failure; a pass never waits on it.
  before=$(state_of r)
  exec 3<>never
  run timeout 120 perf-commit -C r -m x <never
  exec 3>&-
  expect_status 2
  expect_stderr_contains ".perfguard.toml: it is a FIFO, not a regular file"
  expect_stderr_lines 1
  expect_eq "$(git -C r rev-list --count HEAD)" 1 "commits"
  expect_eq "$(state_of r)" "$before" "repository"
  expect_no_file "$(store_of r)"
}

test_config_file_over_1_mib_is_refused() {
  make_repo r 1
  for i in $(seq 1 40000); do echo "# padding line $i of a config file that is far too big"; done >big.toml
  before=$(state_of r)
  run perf-baseline -C r --config "$TEST_DIR/big.toml" stats
  expect_status 2
  expect_stderr_lines 1
  expect_stderr_contains "big.toml: it is larger than 1 MiB"
  expect_eq "$(state_of r)" "$before" "repository"
  expect_no_file "$(store_of r)"
}

test_import_from_a_character_device_is_refused() {
  make_repo r 1
  run with_memory_cap perf-baseline -C r import /dev/zero --format jsonl
  expect_status 2
  expect_stderr_contains "/dev/zero: a character device"
  expect_stderr_lines 1
  expect_no_file "$(store_of r)"
}

test_import_reads_a_named_fifo_as_a_stream() {
  make_repo r 1
  mkfifo feed
  record commit main >rec.jsonl
  cat rec.jsonl >feed &
  writer=$!
  run perf-baseline -C r import "$TEST_DIR/feed" --format jsonl
  wait "$writer"
  expect_status 0
  expect_stdout_contains "imported 1 step"
  [[ -p feed ]] || fail "the FIFO was replaced"
}

test_import_of_a_line_without_end_is_bounded() {
  make_repo r 1
  run bash -c 'head -c 70000000 /dev/zero | tr "\0" a | perf-baseline -C r import - --format jsonl'
  expect_status 2
  expect_stderr_contains "stdin:1: a line longer than 64 MiB"
  expect_stderr_lines 1
  expect_no_file "$(store_of r)"
}

# ---- 14: -o onto FIFOs, devices and symlinks ----------------------------------------------

# A store with a few records, for the export and output cases.
store_with_records() {
  make_repo r 1
  { record commit main; record commit main; record rollback main; } >recs.jsonl
  perf-baseline -C r import "$TEST_DIR/recs.jsonl" --format jsonl >/dev/null 2>&1 || fail "import"
}

test_output_to_a_full_device_is_an_error_and_the_device_stays() {
  [[ $(id -u) -eq 0 ]] || skip "mknod needs root"
  store_with_records
  mknod full c 1 7 || skip "cannot make device nodes here"
  run perf-baseline -C r export --format jsonl -o "$TEST_DIR/full"
  expect_status 1
  expect_stderr_lines 1
  expect_stderr_contains "cannot write $TEST_DIR/full: No space left on device"
  [[ -c full ]] || fail "the device node was replaced: $(ls -l full)"
  expect_eq "$(find . -maxdepth 1 -name 'full*' | sort)" "./full" "files beside it"
}

test_output_to_a_fifo_writes_through_it() {
  store_with_records
  perf-baseline -C r export --format jsonl >expected || fail "export to stdout"
  mkfifo pipe
  cat pipe >got &
  reader=$!
  run perf-baseline -C r export --format jsonl -o "$TEST_DIR/pipe"
  if [[ ! -p pipe ]]; then
    kill "$reader"  # it waits for a writer that will never come
    fail "the FIFO was replaced: $(ls -l pipe)"
  fi
  wait "$reader"
  expect_status 0
  expect_eq "$(cat got)" "$(cat expected)" "what the reader got"
}

test_output_through_a_symlink_writes_what_it_points_to() {
  store_with_records
  mkdir reports
  echo old >reports/real.jsonl
  ln -s reports/real.jsonl link.jsonl
  run perf-baseline -C r export --format jsonl -o "$TEST_DIR/link.jsonl"
  expect_status 0
  [[ -L link.jsonl ]] || fail "the symlink was replaced by a file"
  expect_eq "$(wc -l <reports/real.jsonl)" 3 "lines in the link's target"
  ln -s reports/page.html page.html
  run perf-baseline -C r report -o "$TEST_DIR/page.html" --since all
  expect_status 0
  [[ -L page.html ]] || fail "the symlink to a new file was replaced"
  grep -q "<html" reports/page.html || fail "the report is not where the link points"
}

test_output_to_a_directory_is_refused() {
  store_with_records
  mkdir out.d
  run perf-baseline -C r export -o "$TEST_DIR/out.d"
  expect_status 2
  expect_stderr_contains "cannot write $TEST_DIR/out.d: it is a directory"
  expect_stderr_lines 1
  expect_eq "$(ls -A out.d)" "" "the directory"
}

# ---- 15: --db on what is not a perfguard store ---------------------------------------------

test_db_on_another_programs_sqlite_file_changes_nothing() {
  make_repo r 1
  sqlite3 other.db "CREATE TABLE t(x); INSERT INTO t VALUES (1); PRAGMA user_version = 3;"
  sum=$(sha256sum <other.db)
  run perf-baseline -C r --db "$TEST_DIR/other.db" stats
  expect_status 4
  expect_stderr_lines 1
  expect_stderr_contains "other.db: not a perfguard store (an SQLite database of another program"
  echo x >r/x
  run perf-commit -C r -m x --db "$TEST_DIR/other.db"
  expect_status 4
  expect_stderr_contains "not a perfguard store"
  expect_eq "$(sha256sum <other.db)" "$sum" "the other program's database"
  for f in other.db-wal other.db-shm other.db-journal; do expect_no_file "$f"; done
}

test_db_on_a_device_is_refused_and_nothing_is_created_beside_it() {
  [[ $(id -u) -eq 0 ]] || skip "mknod needs root"
  make_repo r 1
  mkdir dev
  mknod dev/null c 1 3 || skip "cannot make device nodes here"
  run perf-baseline -C r --db "$TEST_DIR/dev/null" stats
  expect_status 4
  expect_stderr_contains "dev/null: not a perfguard store (it is a character device)"
  expect_stderr_lines 1
  echo x >r/x
  run perf-commit -C r -m x --db "$TEST_DIR/dev/null"
  expect_status 4
  expect_eq "$(git -C r rev-list --count HEAD)" 2 "the commit is made all the same"
  expect_eq "$(ls -A dev)" "null" "files in the device's directory"
  [[ -c dev/null ]] || fail "the device node was replaced"
}

test_db_on_a_fifo_is_refused_without_waiting() {
  make_repo r 1
  mkdir d
  mkfifo d/store.db
  run timeout 120 perf-baseline -C r --db "$TEST_DIR/d/store.db" import --format jsonl recs
  expect_status 4
  expect_stderr_contains "store.db: not a perfguard store (it is a FIFO)"
  expect_stderr_lines 1
  expect_eq "$(ls -A d)" "store.db" "files beside the FIFO"
}

test_store_of_the_previous_version_keeps_working_and_gets_the_id() {
  make_repo r 1
  echo a >r/a && perf-commit -q -C r -m a || fail "first commit"
  db=$(store_of r)
  expect_sql "$db" "PRAGMA application_id" 1885759332
  # A store made before the id: our tables and user_version, application_id 0.
  sql "$db" "PRAGMA application_id = 0" >/dev/null
  expect_sql "$db" "PRAGMA application_id" 0
  run perf-baseline -C r stats --json
  expect_status 0
  echo b >r/b
  run perf-commit -C r -m b
  expect_status 0
  expect_sql "$db" "select count(*) from step_results" 2
  expect_sql "$db" "PRAGMA application_id" 1885759332
}

# ---- 16: control characters never reach the terminal raw ----------------------------------

test_control_characters_in_imported_names_are_escaped_in_text_output() {
  make_repo r 1
  evil='ev\u001b]0;pwned\u0007il\u009b2J\u007f'
  for i in 1 2 3; do record "$evil" "br\\u001b[31mred"; done >evil.jsonl
  run perf-baseline -C r import "$TEST_DIR/evil.jsonl" --format jsonl
  expect_status 0
  perf-baseline -C r compute --min-samples 1 >/dev/null 2>&1 || fail "compute"
  for cmd in stats slowest trend show; do
    run perf-baseline -C r "$cmd"
    expect_status 0
    no_raw_escapes "$TEST_DIR/out"
    expect_stdout_contains 'ev\x1b]0;pwned\x07il\x9b2J\x7f'
  done
  run perf-baseline -C r slowest
  expect_stdout_contains 'br\x1b[31mred'
  # Machine formats keep the exact data.
  run perf-baseline -C r stats --json
  expect_stdout_contains '"step":"ev\u001b]0;pwned\u0007il'
  perf-baseline -C r export --format jsonl | grep -q 'br\\u001b\[31mred' || fail "export changed the branch"
}

# ---- 17: spreadsheet formulas in CSV -------------------------------------------------------

test_csv_export_neutralises_formula_cells_and_imports_back_exactly() {
  make_repo r 1
  {
    record '=cmd|'"'"' /C calc'"'"'!A0' '@SUM(1+1)'
    record '+1' "'=already quoted" 1500 -1
    record '-x' main
  } >in.jsonl
  perf-baseline -C r import "$TEST_DIR/in.jsonl" --format jsonl >/dev/null || fail "import"
  run perf-baseline -C r export --format csv
  expect_status 0
  cp out export.csv
  expect_stdout_contains "'=cmd|"
  expect_stdout_contains "'@SUM(1+1)"
  expect_stdout_contains "''=already quoted"
  expect_stdout_contains "'+1,"
  expect_stdout_contains ",-1,"  # a negative exit code is a number, not a formula
  if grep -qE '(^|,)[=+@]' export.csv; then fail "a cell starts a formula: $(grep -E '(^|,)[=+@]' export.csv)"; fi
  run perf-baseline -C r stats --format csv --since all
  expect_stdout_contains "'=cmd|"
  # Our own CSV imports back to exactly the same records.
  make_repo other 1
  run perf-baseline -C other import "$TEST_DIR/export.csv" --format csv
  expect_status 0
  expect_stdout_contains "imported 3 steps"
  expect_eq "$(perf-baseline -C other export --format csv)" "$(cat export.csv)" "csv round trip"
}

# ---- 18: numbers out of bounds ------------------------------------------------------------

test_imported_numbers_out_of_bounds_are_refused_naming_line_and_field() {
  make_repo r 1
  { record commit main; record commit main 9223372036854775807; } >big.jsonl
  run perf-baseline -C r import "$TEST_DIR/big.jsonl" --format jsonl
  expect_status 2
  expect_stderr_contains 'big.jsonl:2: "duration_us" must be between 0 and 604800000000 (7 days)'
  expect_stderr_lines 1
  expect_sql "$(store_of r)" "select count(*) from step_results" 0
  {
    echo "step,started_us,duration_us,cpu_user_us"
    echo "commit,1700000000000000,1000,99999999999999999"
  } >big.csv
  run perf-baseline -C r import "$TEST_DIR/big.csv" --format csv
  expect_status 2
  expect_stderr_contains 'big.csv:2: "cpu_user_us" must be between 0 and'
  record commit main 1500 70000 >code.jsonl
  run perf-baseline -C r import "$TEST_DIR/code.jsonl" --format jsonl
  expect_status 2
  expect_stderr_contains '"exit_code" must be between -255 and 255'
  echo '{"results":[{"command":"sleep","times":[0.1,900000000]}]}' >hf.json
  run perf-baseline -C r import "$TEST_DIR/hf.json" --format hyperfine
  expect_status 2
  expect_stderr_contains 'run 2 of "sleep": "duration_us" must be between'
  expect_sql "$(store_of r)" "select count(*) from step_results" 0
  # The largest duration allowed still gives sane statistics.
  record commit main 604800000000 >max.jsonl
  run perf-baseline -C r import "$TEST_DIR/max.jsonl" --format jsonl
  expect_status 0
  run perf-baseline -C r stats --json
  expect_stdout_contains '"max_us":604800000000'
}

# ---- 19: options out of range, a deleted directory, repeated labels ------------------------

test_multiplier_must_be_finite_positive_and_in_range() {
  make_repo r 1
  for m in inf nan -1 0 1e999 2000 x; do
    run perf-baseline -C r compute --multiplier "$m"
    expect_status 2
    expect_stderr_lines 1
    expect_stderr_contains "--multiplier: '$m' is not a multiplier"
  done
  expect_no_file "$(store_of r)"
}

test_deleted_current_directory_is_named_in_the_error() {
  make_repo r 1
  mkdir gone
  cd gone || fail "cd"
  rmdir "$TEST_DIR/gone"
  for tool in perf-baseline perf-rollback perf-commit; do
    if [[ $tool == perf-baseline ]]; then run $tool stats; else run $tool; fi
    expect_status 2
    expect_stderr_lines 1
    expect_stderr_contains "$tool: the current directory was deleted"
  done
  expect_no_file "$TEST_DIR/r/.git/perfguard"
  expect_eq "$(git -C "$TEST_DIR/r" status --porcelain)" "" "the repository"
}

test_zero_or_negative_window_is_an_error() {
  make_repo r 1
  for w in 0s 0ms; do
    run perf-baseline -C r stats --since "$w"
    expect_status 2
    expect_stderr_contains "--since: '$w' is not a window: it must be positive"
  done
  run perf-baseline -C r slowest --since -1d
  expect_status 2
  expect_stderr_contains "--since: "
  run perf-baseline -C r compute --window 0s
  expect_status 2
  expect_stderr_contains "--window: '0s' is out of range: it must be positive"
  expect_stderr_lines 1
  run perf-baseline -C r export --since 0s
  expect_status 2
  expect_stderr_lines 1
  expect_no_file "$(store_of r)"
}

test_repeated_label_keeps_its_last_value_once() {
  make_repo r 1
  echo x >r/x
  run perf-commit -C r -m x -k k=1 -k other=o -k k=2 --json
  expect_status 0
  expect_stdout_contains '"labels":{"other":"o","k":"2"}'
  expect_sql "$(store_of r)" "select labels from steps" '{"other":"o","k":"2"}'
}
