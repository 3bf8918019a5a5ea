# perf-baseline import, export and prune, and the passive trace2 watch: the real binaries,
# real git, real hyperfine output.

# some_commits DIR N: N commits timed by perf-commit in a repository at DIR.
some_commits() {
  local dir=$1 n=$2 i
  make_repo "$dir" 1
  for ((i = 1; i <= n; i++)); do
    echo "change $i" >"$dir/change.txt"
    perf-commit -C "$dir" -q -m "change $i" || fail "perf-commit $i"
  done
}

# old_record DAYS_AGO STEP: one record line in our JSONL, started DAYS_AGO days ago.
old_record() {
  local start=$((($(date +%s) - $1 * 86400) * 1000000))
  printf '{"trace_id":"%016x","step":"%s","status":"ok","started_us":%d,"duration_us":1500,"exit_code":0,"spans":[{"name":"a","offset_us":0,"duration_us":1000,"exit_code":0,"spans":[]}],"labels":{}}\n' \
    "$((1000 + $1))" "$2" "$start"
}

test_import_of_an_export_adds_the_steps_once() {
  some_commits r 3
  run perf-baseline -C r export --format jsonl -o "$TEST_DIR/all.jsonl"
  expect_status 0
  expect_eq "$(wc -l <all.jsonl)" 3 "exported lines"
  make_repo other 1
  run perf-baseline -C other import "$TEST_DIR/all.jsonl" --format jsonl
  expect_status 0
  expect_stdout_contains "imported 3 steps"
  db=$(store_of other)
  expect_sql "$db" "select count(*) from step_results where step = 'commit'" 3
  expect_sql "$db" "select count(*) from child_spans" 6
  run perf-baseline -C other import "$TEST_DIR/all.jsonl" --format jsonl
  expect_status 0
  expect_stdout_contains "imported 0 steps (3 already stored)"
  expect_sql "$db" "select count(*) from step_results" 3
  # The same records, field for field.
  run perf-baseline -C other export --format jsonl
  expect_eq "$(cat "$TEST_DIR/out")" "$(cat all.jsonl)" "records after a round trip"
}

test_import_reads_stdin_and_says_so_in_json() {
  make_repo r 1
  old_record 1 deploy | perf-baseline -C r import - --format jsonl --json >out 2>err
  expect_eq "$?" 0 "exit"
  expect_eq "$(jq -r '.imported, .duplicates, .skipped' out | tr '\n' ' ')" "1 0 0 " "json counts"
}

test_bad_line_is_named_by_file_and_line_and_nothing_is_imported() {
  make_repo r 1
  { old_record 1 deploy; echo '{"step": "deploy", oops}'; old_record 2 deploy;
    echo '{"step":"deploy","started_us":1,"duration_us":"slow"}'; } >in.jsonl
  run perf-baseline -C r import "$TEST_DIR/in.jsonl" --format jsonl
  expect_status 2
  expect_stderr_contains "perf-baseline: $TEST_DIR/in.jsonl:2: column 20: expected a member name in double quotes"
  expect_stderr_contains "perf-baseline: $TEST_DIR/in.jsonl:4: \"duration_us\" must be an integer"
  expect_stderr_contains "nothing imported: 2 bad lines; fix or remove them, or pass --skip-bad"
  expect_stderr_lines 3  # each bad line, then what to do
  expect_sql "$(store_of r)" "select count(*) from step_results" 0
  run perf-baseline -C r import "$TEST_DIR/in.jsonl" --format jsonl --skip-bad
  expect_status 0
  expect_stdout_contains "imported 2 steps (2 bad lines skipped)"
  expect_stderr_contains "in.jsonl:2: column 20"
  expect_sql "$(store_of r)" "select count(*) from step_results" 2
}

test_journal_is_taken_back_and_removed() {
  some_commits r 1
  db=$(store_of r)
  # The store cannot be opened (not a database): perf-commit journals and exits 4.
  mv "$db" "$db.good"
  echo "not a database" >"$db"
  echo x >r/x
  run perf-commit -C r -m "while the store is broken"
  expect_status 4
  expect_stderr_contains "(take it back later with \`perf-baseline --db $db import --format journal\`)"
  expect_file_exists "$db.journal.jsonl"
  mv "$db.good" "$db"
  run perf-baseline -C r import --format journal
  expect_status 0
  expect_stdout_contains "imported 1 step"
  expect_stderr_contains "removed the journal $db.journal.jsonl"
  expect_no_file "$db.journal.jsonl"
  expect_sql "$db" "select count(*) from step_results" 2
  run perf-baseline -C r import --format journal
  expect_status 0
  expect_stderr_contains "no journal at $db.journal.jsonl: nothing to import"
}

# journal_commit DIR DB: one commit timed by perf-commit while the store DB cannot be opened
# (break_store): it is made, its record goes to a journal, and perf-commit exits 4.
journal_commit() {
  JOURNAL_COMMITS=$((${JOURNAL_COMMITS:-0} + 1))
  echo "journaled $JOURNAL_COMMITS" >"$1/journaled.txt"
  run perf-commit -C "$1" -m "journaled $JOURNAL_COMMITS" --db "$2"
  expect_status 4
}

# expect_each_commit_once DB N: the store holds N commit records, each a different commit.
expect_each_commit_once() {
  expect_sql "$1" "select count(*), count(distinct head_after) from step_results where step = 'commit'" "$2|$2"
}

test_journal_cut_by_a_full_disk_loses_no_record_and_glues_none() {
  mount_small_tmpfs small 1m
  make_repo r 1
  db=$TEST_DIR/small/perf.db
  break_store "$db"
  journal_commit r "$db"
  journal_commit r "$db"
  # The disk fills: the journal's last page has room for part of a record at most.
  head -c 2M /dev/zero >small/fill 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    journal_commit r "$db"
    grep -qF "$HOME/.local/state/perfguard/journal.jsonl" "$TEST_DIR/err" && break
  done
  expect_stderr_contains "the record was written to $HOME/.local/state/perfguard/journal.jsonl"
  expect_eq "$(tail -c 1 "$db.journal.jsonl" | od -An -c | tr -d ' ')" '\n' "the journal ends in a whole line"
  # Space comes back; the next records go beside the store again.
  rm small/fill
  journal_commit r "$db"
  journal_commit r "$db"
  mend_store "$db"
  run perf-baseline --db "$db" import --format journal --skip-bad
  expect_status 0
  expect_stdout_contains "imported $JOURNAL_COMMITS steps"
  expect_each_commit_once "$db" "$JOURNAL_COMMITS"
  expect_eq "$(git -C r rev-list --count HEAD)" $((JOURNAL_COMMITS + 1)) "every commit was made"
  expect_no_file "$db.journal.jsonl"
  expect_no_file "$HOME/.local/state/perfguard/journal.jsonl"
}

# ns_import PIDFILE ARGS…: perf-baseline ARGS… as the first child of the init of a new PID
# namespace (the init itself ignores SIGKILL from within), so every run gets the same PID,
# written to PIDFILE. Sets $status.
ns_import() {
  local pidfile=$1
  shift
  run unshare -pf --mount-proc sh -c 'pidfile=$1; shift; perf-baseline "$@" & echo $! >"$pidfile"; wait $!' \
    sh "$pidfile" "$@"
}

test_import_killed_then_one_with_the_same_pid_loses_nothing() {
  [[ $(id -u) -eq 0 ]] || skip "a PID namespace needs root"
  unshare -pf --mount-proc true 2>/dev/null || skip "cannot make a PID namespace here"
  make_repo r 1
  db=$TEST_DIR/s.db
  break_store "$db"
  journal_commit r "$db"
  journal_commit r "$db"
  mend_store "$db"
  # Killed with SIGKILL once it has moved the journal aside, before anything is stored.
  PERFGUARD_TEST_FAULT=import-journal-taken ns_import pid.1 --db "$db" import --format journal
  expect_status 137
  expect_eq "$(ls "$db".journal.jsonl.importing-* | wc -l)" 1 "the killed import's file is left"
  break_store "$db"
  journal_commit r "$db"
  journal_commit r "$db"
  mend_store "$db"
  ns_import pid.2 --db "$db" import --format journal
  expect_status 0
  expect_eq "$(cat pid.2)" "$(cat pid.1)" "the second import had the killed one's PID"
  expect_stderr_contains ", left by an earlier import"
  expect_stdout_contains "imported 4 steps"
  expect_each_commit_once "$db" 4
  expect_eq "$(ls "$db".journal.jsonl* 2>/dev/null | wc -l)" 0 "journal files left"
}

test_rollback_through_the_journal_keeps_its_snapshot_row() {
  make_repo r 3
  db=$TEST_DIR/s.db
  run perf-rollback -C r --db "$db"
  expect_status 0
  break_store "$db"
  run perf-rollback -C r --db "$db"
  expect_status 4
  mend_store "$db"
  run perf-baseline --db "$db" import --format journal
  expect_status 0
  expect_stdout_contains "imported 2 steps (1 snapshot)"
  expect_eq "$(snapshot_count r)" 2 "snapshot refs"
  expect_sql "$db" "select count(*) from step_results where step = 'rollback'" 2
  expect_sql "$db" "select group_concat(id, ' ') from (select id from snapshots order by id)" \
    "$(git -C r for-each-ref --sort=refname --format='%(refname:lstrip=3)' refs/perfguard/snapshots/ | paste -sd ' ')"
}

test_two_imports_at_once_both_succeed_each_record_once() {
  make_repo r 1
  db=$TEST_DIR/s.db
  local trial i pids
  for trial in $(seq 1 12); do
    break_store "$db"
    journal_commit r "$db"
    journal_commit r "$db"
    mend_store "$db"
    rm -f go
    pids=()
    for i in 1 2; do
      (until [[ -e go ]]; do :; done; exec perf-baseline --db "$db" import --format journal) \
        >"out.$i" 2>"err.$i" &
      pids+=($!)
    done
    sleep 0.2
    touch go  # both start at once
    for i in 1 2; do
      wait "${pids[$((i - 1))]}"
      status=$?
      cat "out.$i" "err.$i" >&2
      [[ $status -eq 0 ]] || fail "trial $trial: import $i exited $status"
    done
    expect_each_commit_once "$db" $((trial * 2))
    expect_eq "$(ls "$db".journal.jsonl* 2>/dev/null | wc -l)" 0 "trial $trial: journal files left"
  done
}

test_fallback_journal_gives_each_store_its_records_by_the_command_it_names() {
  make_repo r1 1
  make_repo r2 1
  mkdir a b
  share_with_other_user
  chmod 0555 a b  # neither store's directory can be written: both go to the fallback journal
  fallback=$HOME/.local/state/perfguard/journal.jsonl
  local hint=() d
  for d in 1 2; do
    store=$TEST_DIR/$([[ $d == 1 ]] && echo a || echo b)/perf.db
    echo "x$d" >"r$d/x"
    as_other_user "$PERFGUARD_BIN/perf-commit" -C "$TEST_DIR/r$d" -m "r$d" --db "$store" >out 2>err
    status=$?
    cat err >&2
    expect_status 4
    expect_stderr_contains "the record was written to $fallback"
    expect_stderr_contains "(take it back later with \`perf-baseline --db $store import --format journal\`)"
    hint[d]=$(sed -n 's/.*take it back later with `\(.*\)`).*/\1/p' err)
  done
  expect_eq "$(grep -c . "$fallback")" 2 "records in the fallback journal"
  chmod 0755 a b
  run eval "${hint[1]}"
  expect_status 0
  expect_stdout_contains "imported 1 step (1 record left for other stores)"
  expect_sql a/perf.db "select group_concat(repo) from step_results" "$TEST_DIR/r1"
  expect_eq "$(grep -c . "$fallback")" 1 "records left in the fallback journal"
  grep -qF "\"store\":\"$TEST_DIR/b/perf.db\"" "$fallback" || fail "the record left is not b's"
  # Named, the fallback journal gives store a nothing of b's.
  run perf-baseline --db a/perf.db import --format journal "$fallback"
  expect_status 0
  expect_stdout_contains "imported 0 steps (1 record left for other stores)"
  expect_sql a/perf.db "select count(*) from step_results" 1
  run eval "${hint[2]}"
  expect_status 0
  expect_stdout_contains "imported 1 step"
  expect_sql b/perf.db "select group_concat(repo) from step_results" "$TEST_DIR/r2"
  expect_no_file "$fallback"
}

test_hyperfine_runs_become_steps_named_after_the_command_or_step() {
  command -v hyperfine >/dev/null || skip "hyperfine is not installed"
  make_repo r 2
  hyperfine -N --runs 4 --warmup 1 --export-json hf.json "git -C r status" "git -C r log -1" \
    >/dev/null 2>&1 || fail "hyperfine"
  run perf-baseline -C r import "$TEST_DIR/hf.json" --format hyperfine
  expect_status 0
  expect_stdout_contains "imported 8 steps"
  db=$(store_of r)
  expect_sql "$db" "select count(*) from step_results where step = 'git -C r status'" 4
  expect_sql "$db" "select distinct json_extract(labels, '$.command') from step_results where step = 'git -C r log -1'" "git -C r log -1"
  expect_sql "$db" "select distinct tool from step_results" hyperfine
  run perf-baseline -C r import "$TEST_DIR/hf.json" --format hyperfine
  expect_stdout_contains "imported 0 steps (8 already stored)"
  make_repo named 1
  run perf-baseline -C named import "$TEST_DIR/hf.json" --format hyperfine --step status
  expect_status 0
  expect_sql "$(store_of named)" "select group_concat(distinct step) from step_results" status
}

test_trace2_merge_with_conflicts_becomes_a_step_with_merge_ort_phases() {
  make_repo r 1
  git -C r checkout -qb side && echo side >r/file.txt && git -C r commit -qam side
  git -C r checkout -q main && echo main >r/file.txt && git -C r commit -qam main
  mkdir events
  with_trace2 "$TEST_DIR/events" git -C r merge side >/dev/null 2>&1 && fail "the merge should conflict"
  # Resolve it and commit: a second command.
  echo resolved >r/file.txt && git -C r add file.txt
  with_trace2 "$TEST_DIR/events" git -C r commit -qm merged || fail "commit"
  # No wait: every file holds its process's last event.
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 2 steps"
  expect_stdout_contains "event files removed"
  [[ -z $(ls events) ]] || fail "event files left: $(ls events)"
  db=$(store_of r)
  expect_sql "$db" "select status, exit_code, tool from step_results where step = 'git:merge'" "failed|1|git"
  expect_sql "$db" "select json_extract(labels, '$.argv') from step_results where step = 'git:merge'" "git -C r merge side"
  expect_sql "$db" "select count(*) from step_results where step = 'git:commit' and status = 'ok'" 1
  # merge-ort's phases, nested as git nested them.
  expect_sql "$db" "select count(*) > 0 from child_spans where step = 'git:merge' and name = 'merge:incore_recursive' and parent_seq is null" 1
  expect_sql "$db" "select count(*) from child_spans as c join child_spans as p
    on p.step_id = c.step_id and p.seq = c.parent_seq
    where c.step = 'git:merge' and c.name = 'merge:process_entries' and p.name = 'merge:incore_recursive'" 1
  expect_sql "$db" "select count(*) from child_spans where step = 'git:merge' and name = 'git:stash' and exit_code = 0" 1
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_stdout_contains "imported 0 steps"
}

test_trace2_directory_comes_from_git_config_and_the_import_leaves_no_trace() {
  make_repo r 1
  mkdir events
  git config --global trace2.eventTarget "$TEST_DIR/events"
  git -C r status >/dev/null
  git -C r log -1 >/dev/null
  run perf-baseline -C r import --format trace2
  expect_status 0
  expect_stdout_contains "imported 2 steps"
  # perf-baseline asked git for trace2.eventTarget with tracing off: no file of its own.
  [[ -z $(ls events) ]] || fail "event files left: $(ls events)"
  expect_sql "$(store_of r)" "select group_concat(step, ',') from (select step from step_results order by started_us)" "git:status,git:log"
  git config --global --unset trace2.eventTarget
  run perf-baseline -C r import --format trace2
  expect_status 2
  expect_stderr_contains "no trace2 directory: name it, or point trace2.eventTarget at one"
}

test_trace2_leaves_a_running_command_for_next_time() {
  make_repo r 1
  mkdir events
  mkfifo feed
  # git hash-object --stdin runs until its input ends.
  with_trace2 "$TEST_DIR/events" git -C r hash-object --stdin <feed >hash.out &
  exec 7>feed
  sleep 1.5
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 0 steps (1 event file left for next time)"
  echo data >&7
  exec 7>&-
  wait
  sleep 1.2
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  expect_stdout_contains "imported 1 step"
  expect_sql "$(store_of r)" "select step, status from step_results" "git:hash-object|ok"
}

test_trace2_max_files_marker_is_removed_so_git_traces_again() {
  make_repo r 1
  mkdir events
  git config --global trace2.maxFiles 1
  with_trace2 "$TEST_DIR/events" git -C r status >/dev/null
  with_trace2 "$TEST_DIR/events" git -C r status >/dev/null
  expect_file_exists events/git-trace2-discard
  sleep 1.2
  run perf-baseline -C r import --format trace2 "$TEST_DIR/events"
  expect_status 0
  [[ -z $(ls events) ]] || fail "event files left: $(ls events)"
  with_trace2 "$TEST_DIR/events" git -C r status >/dev/null
  [[ -n $(ls events) ]] || fail "git does not trace again"
}

test_prometheus_export_is_valid_exposition() {
  some_commits r 3
  printf '[thresholds]\ncommit = "1us"\n' >r/.perfguard.toml
  echo y >r/y && perf-commit -C r -q -m breach
  run perf-baseline -C r export --format prometheus
  expect_status 0
  expect_stdout_contains '# TYPE perfguard_step_duration_seconds histogram'
  expect_stdout_contains "perfguard_step_duration_seconds_bucket{repo=\"$(cd r && pwd)\",step=\"commit\",le=\"+Inf\"} 4"
  expect_stdout_contains "perfguard_step_runs_total{repo=\"$(cd r && pwd)\",step=\"commit\",status=\"breach\"} 1"
  expect_stdout_contains "perfguard_step_duration_seconds_count{repo=\"$(cd r && pwd)\",step=\"commit\"} 4"
  expect_stdout_contains "perfguard_step_breaches_total{repo=\"$(cd r && pwd)\",step=\"commit\"} 1"
  [[ $(tail -c 1 out | od -An -c | tr -d ' ') == '\n' ]] || fail "no trailing newline"
  require_consumer promtool prometheus
  promtool check metrics <out >promtool.out 2>&1 || fail "promtool: $(cat promtool.out)"
}

test_prometheus_export_to_a_file_for_the_textfile_collector() {
  some_commits r 1
  mkdir textfile
  echo stale >textfile/perfguard.prom
  run perf-baseline -C r export --format prometheus -o "$TEST_DIR/textfile/perfguard.prom"
  expect_status 0
  grep -q '^# HELP perfguard_step_duration_seconds ' textfile/perfguard.prom || fail "not replaced"
  [[ $(ls textfile) == perfguard.prom ]] || fail "temporary files left: $(ls textfile)"
}

test_otlp_export_has_resource_scope_and_linked_spans() {
  some_commits r 2
  run perf-baseline -C r export --format otlp
  expect_status 0
  jq -e '.resourceSpans | length == 1' out >/dev/null || fail "one resource"
  expect_eq "$(jq -r '.resourceSpans[0].resource.attributes[] | select(.key == "service.name") | .value.stringValue' out)" perfguard "service.name"
  expect_eq "$(jq -r '.resourceSpans[0].scopeSpans[0].scope.name' out)" perfguard "scope"
  expect_eq "$(jq '[.resourceSpans[0].scopeSpans[0].spans[]] | length' out)" 6 "spans"
  jq -e '[.resourceSpans[0].scopeSpans[0].spans[] | (.traceId | test("^[0-9a-f]{32}$")) and (.spanId | test("^[0-9a-f]{16}$")) and (.startTimeUnixNano | test("^[0-9]+$"))] | all' out >/dev/null ||
    fail "ids and times"
  # Every child's parent is a span of the same trace.
  jq -e '[.resourceSpans[0].scopeSpans[0].spans[]] as $s | [$s[] | select(.parentSpanId) | .parentSpanId as $p | .traceId as $t | any($s[]; .spanId == $p and .traceId == $t)] | all and length == 4' out >/dev/null ||
    fail "parent links"
  jq -e '[.resourceSpans[0].scopeSpans[0].spans[] | select(.parentSpanId | not) | .status.code] == [1, 1]' out >/dev/null ||
    fail "root status"
}

test_csv_export_imports_back() {
  some_commits r 2
  run perf-baseline -C r export --format csv -o "$TEST_DIR/steps.csv"
  expect_status 0
  expect_eq "$(head -1 steps.csv | cut -d, -f1-3)" "trace_id,step,status" "header"
  make_repo other 1
  run perf-baseline -C other import "$TEST_DIR/steps.csv" --format csv
  expect_status 0
  expect_stdout_contains "imported 2 steps"
  expect_sql "$(store_of other)" "select count(*) from child_spans" 4
}

test_export_since_and_step_narrow_what_is_written() {
  make_repo r 1
  { old_record 1 deploy; old_record 3 deploy; old_record 1 build; } >in.jsonl
  perf-baseline -C r import "$TEST_DIR/in.jsonl" --format jsonl -q || fail import
  run perf-baseline -C r export --since 2d --step deploy
  expect_status 0
  expect_eq "$(wc -l <out)" 1 "lines"
  expect_stdout_contains '"step":"deploy"'
}

test_prune_counts_in_a_dry_run_then_removes_old_steps_and_spans() {
  some_commits r 1
  perf-baseline -C r import - --format jsonl -q < <(old_record 100 commit; old_record 120 commit; old_record 10 commit) ||
    fail import
  db=$(store_of r)
  run perf-baseline -C r prune --older-than 90d --dry-run
  expect_status 0
  expect_stdout_contains "would remove 2 steps and 2 child spans that started before"
  expect_sql "$db" "select count(*) from step_results" 4
  run perf-baseline -C r prune --older-than 90d --json
  expect_status 0
  expect_eq "$(jq -r '.steps, .spans, .dry_run' out | tr '\n' ' ')" "2 2 false " "json"
  expect_sql "$db" "select count(*) from step_results" 2
  expect_sql "$db" "select count(*) from child_spans" 3
}

test_usage_errors_exit_2() {
  make_repo r 1
  run perf-baseline -C r import x --format xml
  expect_status 2
  expect_stderr_contains "'xml' is not an import format: jsonl, csv, hyperfine, journal or trace2"
  expect_stderr_lines 1
  expect_no_file "$(store_of r)"
  run perf-baseline -C r import missing.jsonl --format jsonl
  expect_status 2
  expect_stderr_contains "cannot read missing.jsonl: No such file or directory"
  expect_stderr_lines 1
  run perf-baseline -C r export --format json
  expect_status 2
  expect_stderr_contains "is not an export format"
  expect_stderr_lines 1
  run perf-baseline -C r prune
  expect_status 2
  expect_stderr_lines 1
  run perf-baseline -C r prune --older-than soon
  expect_status 2
  expect_stderr_contains "--older-than"
  expect_stderr_lines 1
  run perf-baseline -C r import x.json --format jsonl --step s
  expect_status 2
  expect_stderr_contains "--step names hyperfine's runs"
  expect_stderr_lines 1
  [[ ! -e $(store_of r) ]] || expect_sql "$(store_of r)" "select count(*) from steps" 0
}

# ---- bytes that are not UTF-8 --------------------------------------------------------------

# hex_of: stdin's bytes as uppercase hex, as sqlite's hex() writes them.
hex_of() { od -An -tx1 -v | tr -d ' \n' | tr a-f A-F; }

# percent_decode TEXT: the bytes TEXT stands for (TEXT ENCODING in perfguard(7)): each %XX
# is that byte, every other character is itself.
percent_decode() {
  printf '%b' "$(sed -E 's/\\/\\\\/g; s/%([0-9A-Fa-f]{2})/\\x\1/g' <<<"$1")"
}

# expect_utf8 FILE: FILE is valid UTF-8 throughout.
expect_utf8() {
  iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1 || fail "$1 is not valid UTF-8: $(head -c 300 "$1")"
}

# csv_column FILE NAME: the column NAME of the first row of the csv FILE (no quoted commas).
csv_column() {
  local col
  col=$(head -1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1)
  [[ -n $col ]] || fail "$1 has no column $2"
  awk -F, -v c="$col" 'NR == 2 { print $c }' "$1"
}

# A repository whose path is not UTF-8 (0xFF never is; 0xE9 is é in Latin-1), on a branch
# whose name is not either, with two commits recorded by perf-commit. Sets $dir and $db.
commits_in_a_path_that_is_not_utf8() {
  dir=$'caf\xe9-r\xff'
  make_repo "$dir" 1
  git -C "$dir" checkout -q -b $'b\xe9' || fail "a branch named in Latin-1"
  local i
  for i in 1 2; do
    echo "change $i" >"$dir/change.txt"
    perf-commit -C "$dir" -q -m "change $i" -k $'note=caf\xe9' --threshold 1h || fail "perf-commit $i"
  done
  db=$(store_of "$dir")
}

test_a_path_that_is_not_utf8_is_the_same_encoded_text_in_every_format() {
  commits_in_a_path_that_is_not_utf8
  local bytes text
  bytes=$(sql "$db" "select distinct hex(repo) from step_results")
  expect_eq "$bytes" "$(printf '%s' "$(cd "$dir" && pwd -P)" | hex_of)" "the path perf-commit recorded"
  text="$(cd "$dir" && pwd -P | LC_ALL=C sed 's/\xe9/%E9/; s/\xff/%FF/')"
  [[ $text == *caf%E9-r%FF ]] || fail "the expected text: $text"

  perf-baseline -C "$dir" export --format jsonl -o "$TEST_DIR/all.jsonl" || fail "export jsonl"
  perf-baseline -C "$dir" export --format csv -o "$TEST_DIR/all.csv" || fail "export csv"
  perf-baseline -C "$dir" export --format prometheus -o "$TEST_DIR/all.prom" || fail "export prometheus"
  perf-baseline -C "$dir" export --format otlp -o "$TEST_DIR/all.otlp.json" || fail "export otlp"
  perf-baseline -C "$dir" slowest --since all --format json >slowest.json || fail "slowest json"
  perf-baseline -C "$dir" slowest --since all --format tsv >slowest.tsv || fail "slowest tsv"
  perf-baseline -C "$dir" report --since all -o "$TEST_DIR/report.html" -q || fail "report"
  echo "change 3" >"$dir/change.txt"
  perf-commit -C "$dir" -m "change 3" --threshold 1h --format json >commit.json ||
    fail "perf-commit --format json"
  for f in all.jsonl all.csv all.prom all.otlp.json slowest.json slowest.tsv report.html commit.json; do
    expect_utf8 "$f"
  done

  # One text for the one path, whatever the format.
  expect_eq "$(jq -r .repo all.jsonl | sort -u)" "$text" "jsonl repo"
  expect_eq "$(csv_column all.csv repo)" "$text" "csv repo"
  expect_eq "$(sed -n 's/^perfguard_step_breaches_total{repo="\([^"]*\)",step="commit"} .*/\1/p' all.prom)" \
    "$text" "prometheus repo"
  expect_eq "$(jq -r '[.resourceSpans[].scopeSpans[].spans[].attributes[] | select(.key == "perfguard.repo") | .value.stringValue] | unique[]' all.otlp.json)" \
    "$text" "otlp repo"
  expect_eq "$(jq -r '[.steps[].repo] | unique[]' slowest.json)" "$text" "slowest --format json repo"
  expect_eq "$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "repo") c = i } NR == 2 { print $c }' slowest.tsv)" \
    "$text" "slowest --format tsv repo"
  expect_eq "$(jq -r '.steps[0].repo' commit.json)" "$text" "perf-commit --format json repo"
  grep -qF "$text" report.html || fail "the report names the repository as $text"
  expect_eq "$(jq -r .branch all.jsonl | sort -u)" "b%E9" "jsonl branch"
  expect_eq "$(csv_column all.csv branch)" "b%E9" "csv branch"
  expect_eq "$(jq -r .labels.note all.jsonl | sort -u)" "caf%E9" "jsonl label"

  # Decoded, it is the bytes of the path.
  expect_eq "$(percent_decode "$text" | hex_of)" "$bytes" "the decoded path"
}

test_prometheus_export_of_a_path_that_is_not_utf8_passes_promtool() {
  require_consumer promtool prometheus
  commits_in_a_path_that_is_not_utf8
  run perf-baseline -C "$dir" export --format prometheus
  expect_status 0
  expect_stdout_contains 'caf%E9-r%FF",step="commit"}'
  promtool check metrics <out >promtool.out 2>&1 || fail "promtool: $(cat promtool.out)"
}

test_export_then_import_gives_back_the_bytes_of_a_path_that_is_not_utf8() {
  commits_in_a_path_that_is_not_utf8
  perf-baseline -C "$dir" export --format jsonl -o "$TEST_DIR/all.jsonl" || fail "export jsonl"
  perf-baseline -C "$dir" export --format csv -o "$TEST_DIR/all.csv" || fail "export csv"
  local fields="hex(repo), hex(branch), hex(labels)"
  local want
  want=$(sql "$db" "select $fields from step_results order by started_us")
  [[ $want == *636166E92D72FF* ]] || fail "the store holds the path's bytes: $want"
  for format in jsonl csv; do
    make_repo "into-$format" 1
    run perf-baseline -C "into-$format" import "$TEST_DIR/all.$format" --format "$format"
    expect_status 0
    expect_stdout_contains "imported 2 steps"
    expect_eq "$(sql "$(store_of "into-$format")" "select $fields from step_results order by started_us")" \
      "$want" "repo, branch and labels imported from $format"
  done
  run perf-baseline -C into-jsonl export --format jsonl
  expect_eq "$(cat out)" "$(cat all.jsonl)" "the records exported again"
}

test_journal_keeps_the_bytes_of_a_path_that_is_not_utf8() {
  commits_in_a_path_that_is_not_utf8
  local want
  want=$(sql "$db" "select distinct hex(repo) || ' ' || hex(branch) from step_results")
  break_store "$db"
  echo x >"$dir/x"
  run perf-commit -C "$dir" -m "while the store is broken" -k $'note=caf\xe9'
  expect_status 4
  expect_utf8 "$db.journal.jsonl"
  mend_store "$db"
  run perf-baseline -C "$dir" import --format journal
  expect_status 0
  expect_stdout_contains "imported 1 step"
  expect_sql "$db" "select count(*) from step_results" 3
  expect_sql "$db" "select distinct hex(repo) || ' ' || hex(branch) from step_results" "$want"
}

# ---- what an import leaves when it does not finish ----------------------------------------

# deploy_records N: N record lines in our JSONL, each its own trace, a minute apart.
deploy_records() {
  local i
  for ((i = 1; i <= $1; i++)); do
    printf '{"trace_id":"%016x","step":"deploy","status":"ok","started_us":%d,"duration_us":1500,"exit_code":0}\n' \
      "$((0x5000 + i))" "$((1700000000000000 + i * 60000000))"
  done
}

# expect_each_deploy_once DB N: the store holds N deploy records, each a different trace.
expect_each_deploy_once() {
  expect_sql "$1" "select count(*), count(distinct trace_id) from step_results where step = 'deploy'" "$2|$2"
}

test_import_that_refuses_its_input_makes_no_store() {
  make_repo r 1
  local db
  db=$(store_of r)
  mkdir d
  { echo '{"step":"deploy","started_us":1}'; deploy_records 3; } >bad-first.jsonl
  printf 'step,started_us\ndeploy,soon\n' >bad.csv
  local input file format
  for input in "missing.jsonl jsonl" "d jsonl" "bad-first.jsonl jsonl" "bad.csv csv"; do
    read -r file format <<<"$input"
    run perf-baseline -C r import "$TEST_DIR/$file" --format "$format"
    expect_status 2
    expect_no_file "$db"
    expect_no_file "$(dirname "$db")"
  done
  run perf-baseline -C r import --format journal
  expect_status 0
  expect_no_file "$(dirname "$db")"
  run perf-baseline -C r import "$TEST_DIR/bad-first.jsonl" --format jsonl --skip-bad
  expect_status 0
  expect_each_deploy_once "$db" 3
}

# wait_until_open PID FILE: until process PID has FILE open; the bound is only for one that
# dies or hangs first.
wait_until_open() {
  local i fd
  for i in $(seq 1 2400); do
    for fd in /proc/"$1"/fd/*; do
      [[ $(readlink "$fd" 2>/dev/null) == "$2" ]] && return 0
    done
    [[ -e /proc/$1 ]] || fail "process $1 ended before it opened $2"
    sleep 0.05
  done
  fail "process $1 never opened $2"
}

test_import_stopped_by_ctrl_c_stores_nothing_and_the_next_takes_every_record_once() {
  make_repo r 1
  deploy_records 1000 >in.jsonl
  # Ctrl-C once the first batch of 256 records is stored, before the import commits.
  PERFGUARD_TEST_FAULT=import-batch-stored:INT run perf-baseline -C r import "$TEST_DIR/in.jsonl" --format jsonl
  expect_status 130
  expect_stderr_contains "perf-baseline: interrupted: nothing imported (the 256 steps read so far were rolled back); $TEST_DIR/in.jsonl is left for the next import, which takes it all"
  expect_stderr_lines 1
  expect_eq "$(cat out)" "" "stdout"
  expect_sql "$(store_of r)" "select count(*) from steps" 0
  run perf-baseline -C r import "$TEST_DIR/in.jsonl" --format jsonl
  expect_status 0
  expect_stdout_contains "imported 1000 steps"
  expect_each_deploy_once "$(store_of r)" 1000
}

test_import_from_a_fifo_stopped_by_sigterm_stores_nothing() {
  make_repo r 1
  deploy_records 600 >in.jsonl
  mkfifo r/feed
  perf-baseline -C r import feed --format jsonl >out 2>err &
  local pid=$!
  kill_at_end "$pid"
  wait_until_open "$pid" "$(pwd -P)/r/feed"  # its signal handlers are in place by then
  exec 3>r/feed
  head -300 in.jsonl >&3
  kill -TERM "$pid"
  # Its writer gone, an import that went on would read to the end and store what it read.
  exec 3>&-
  wait "$pid"
  status=$?
  sed 's/^/  err: /' err >&2
  expect_status 130
  expect_stderr_contains "perf-baseline: interrupted: nothing imported"
  expect_stderr_contains "what was read from feed is not stored: import it again"
  expect_stderr_lines 1
  db=$(store_of r)
  [[ ! -e $db ]] || expect_sql "$db" "select count(*) from steps" 0
  run perf-baseline -C r import "$TEST_DIR/in.jsonl" --format jsonl
  expect_status 0
  expect_stdout_contains "imported 600 steps"
  expect_each_deploy_once "$db" 600
}

test_journal_import_stopped_by_ctrl_c_leaves_the_journal_for_the_next_import() {
  make_repo r 1
  db=$TEST_DIR/s.db
  break_store "$db"
  journal_commit r "$db"
  journal_commit r "$db"
  mend_store "$db"
  local journal
  journal=$(cat "$db.journal.jsonl")
  PERFGUARD_TEST_FAULT=import-batch-stored:INT run perf-baseline --db "$db" import --format journal
  expect_status 130
  expect_stderr_contains "perf-baseline: interrupted: nothing imported (the 2 steps read so far were rolled back); the journal is left for the next \`import --format journal\`"
  expect_stderr_lines 1
  expect_sql "$db" "select count(*) from steps" 0
  # Back at its name, as it was: appenders and the next import find it there.
  expect_eq "$(cat "$db.journal.jsonl")" "$journal" "the journal"
  expect_eq "$(ls "$db".journal.jsonl.* 2>/dev/null | wc -l)" 0 "files left aside"
  run perf-baseline --db "$db" import --format journal
  expect_status 0
  expect_stdout_contains "imported 2 steps"
  expect_each_commit_once "$db" 2
  expect_eq "$(ls "$db".journal.jsonl* 2>/dev/null | wc -l)" 0 "journal files left"
}

# ---- progress on a terminal ----------------------------------------------------------------

# screen FILE: the lines a terminal shows once FILE's bytes (what a command wrote to it) are
# drawn: `\r` goes back to the start of the line, ESC[K erases to its end, other escape
# sequences (the line's style) draw nothing. Trailing spaces and empty lines are dropped.
screen() {
  python3 - "$1" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
lines, col, i = [""], 0, 0
while i < len(data):
    c = data[i]
    if c == "\r":
        col = 0
    elif c == "\n":
        lines.append("")
        col = 0
    elif c == "\x1b":
        m = re.match(r"\x1b\[[0-9;]*([A-Za-z])", data[i:])
        if m and m.group(1) == "K":
            lines[-1] = lines[-1][:col]
        i += len(m.group(0)) if m else 1
        continue
    else:
        line = lines[-1].ljust(col)
        lines[-1] = line[:col] + c + line[col + 1:]
        col += 1
    i += 1
print("\n".join(l.rstrip() for l in lines if l.strip()))
PY
}

# on_terminal CMD: runs the shell command CMD with a pseudo-terminal as its stdin, stdout
# and stderr; what it wrote to the terminal is in tty.txt.
on_terminal() {
  script -qfec "$1" /dev/null </dev/null >tty.txt || fail "$1 failed on a terminal: $(cat -v tty.txt)"
}

test_import_shows_progress_on_a_terminal_only_and_clears_it() {
  require_terminal
  make_repo r 1
  deploy_records 20000 >many.jsonl
  # The line at once rather than after 0.75 s: this machine may import them faster.
  export PERFGUARD_PROGRESS_DELAY=0s
  on_terminal "perf-baseline -C r import '$TEST_DIR/many.jsonl' --format jsonl"
  grep -aq "importing jsonl: [0-9,]* records" tty.txt ||
    fail "no progress line on the terminal: $(cat -v tty.txt | head -c 600)"
  # Cleared: what the terminal shows in the end is the command's own output.
  expect_eq "$(screen tty.txt)" "imported 20000 steps" "the terminal's lines"
  expect_each_deploy_once "$(store_of r)" 20000

  # NO_COLOR: the same line in plain text, cleared with spaces, no escape sequence at all.
  NO_COLOR=1 on_terminal "perf-baseline -C r import '$TEST_DIR/many.jsonl' --format jsonl"
  grep -aq "importing jsonl: [0-9,]* records" tty.txt ||
    fail "no plain progress line: $(cat -v tty.txt | head -c 600)"
  grep -aq $'\e' tty.txt && fail "an escape sequence with NO_COLOR: $(cat -v tty.txt | head -c 600)"
  expect_eq "$(screen tty.txt)" "imported 0 steps (20000 already stored)" "the terminal's lines"

  # stderr to a file, on a terminal otherwise: not a byte of progress in the file or on it.
  on_terminal "perf-baseline -C r import '$TEST_DIR/many.jsonl' --format jsonl 2>'$TEST_DIR/err'"
  [[ ! -s err ]] || fail "stderr in a file got: $(cat -v err | head -c 600)"
  grep -aq "importing" tty.txt && fail "progress on stdout: $(cat -v tty.txt | head -c 600)"
  # --quiet: none either.
  on_terminal "perf-baseline -C r -q import '$TEST_DIR/many.jsonl' --format jsonl"
  grep -aq "importing" tty.txt && fail "progress with --quiet: $(cat -v tty.txt | head -c 600)"
  # In a pipe (a CI log): none.
  run perf-baseline -C r import "$TEST_DIR/many.jsonl" --format jsonl
  expect_status 0
  expect_stderr_lines 0
}
