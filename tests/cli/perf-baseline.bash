# perf-baseline: baselines, statistics, trends and the slowest runs of the recorded steps.

# new_store DIR: a repository whose store perf-commit created with one real commit.
new_store() {
  make_repo "$1" 1
  echo first >"$1/first.txt"
  perf-commit -q -C "$1" -m first || fail "perf-commit could not create the store"
  db=$(store_of "$1")
}

# add_runs DB STEP STATUS AGE_S DURATION_US...: steps added with plain SQL, as an import of
# old data might; perf-baseline rolls them up when it opens the store. STATUS is the stored
# code (0 ok, 1 breach, 2 failed, 3 timeout, 4 interrupted); each run started AGE_S seconds
# ago (plus a random fraction of a second). BRANCH (env) names the branch, default main.
add_runs() {
  local db=$1 step=$2 status=$3 age=$4 values="" d
  shift 4
  for d in "$@"; do values+="${values:+,}($d)"; done
  sql "$db" "
    INSERT OR IGNORE INTO names (name) VALUES ('$step');
    INSERT OR IGNORE INTO contexts (repo, branch) VALUES ('/src/app', '${BRANCH:-main}');
    WITH d(us) AS (VALUES $values)
    INSERT INTO step_rows (trace_id, name_id, started_us, duration_us, status, threshold_us,
      exit_code, context_id)
    SELECT abs(random()), (SELECT id FROM names WHERE name = '$step'),
      (CAST(strftime('%s', 'now') AS INTEGER) - $age) * 1000000 + abs(random()) % 1000000,
      us, $status, 1000000, 0,
      (SELECT id FROM contexts WHERE repo = '/src/app' AND branch = '${BRANCH:-main}' AND host = '')
    FROM d;" || fail "add_runs"
}

# json_get FILE PATH: a value from a JSON document, by SQLite's JSON path.
json_get() { sqlite3 :memory: "SELECT json_extract(readfile('$1'), '$2')"; }

test_missing_store_exits_4_with_one_line_and_creates_nothing() {
  make_repo r 1
  run perf-baseline -C r stats
  expect_status 4
  expect_stderr_lines 1
  expect_stderr_contains "perf-baseline: "
  expect_stderr_contains "perf.db"
  expect_no_file "$(store_of r)"
}

test_corrupt_store_exits_4() {
  make_repo r 1
  head -c 8192 /dev/urandom >bad.db
  sum=$(sha256sum <bad.db)
  run perf-baseline -C r --db "$TEST_DIR/bad.db" show
  expect_status 4
  expect_stderr_lines 1
  expect_stderr_contains "bad.db"
  expect_eq "$(sha256sum <bad.db)" "$sum" "the corrupt store"
  expect_eq "$(ls -A | grep -v -x -e out -e err)" "$(printf 'bad.db\nhome\nr')" "files beside it"
}

test_stats_counts_real_runs_failures_and_breaches() {
  new_store r
  for i in 1 2; do echo "$i" >"r/f$i" && perf-commit -q -C r -m "c$i"; done
  perf-commit -q -C r -m "nothing to commit" 2>/dev/null
  echo slow >r/slow && perf-commit -q -C r -m slow --threshold 1us --warn-only
  run perf-baseline -C r stats --json
  expect_status 0
  expect_eq "$(json_get out '$.command')" stats
  expect_eq "$(json_get out '$.steps[0].step')" commit
  expect_eq "$(json_get out '$.steps[0].count')" 5
  expect_eq "$(json_get out '$.steps[0].n')" 4 "completed runs"
  expect_eq "$(json_get out '$.steps[0].failures')" 1
  expect_eq "$(json_get out '$.steps[0].breaches')" 1
  expect_eq "$(json_get out '$.steps[0].exact')" 1
  expect_sql "$db" "select (select max(duration_us) from steps where status in ('ok', 'breach'))
    = $(json_get out '$.steps[0].max_us')" 1
  run perf-baseline -C r stats
  expect_status 0
  expect_stdout_contains "step "
  expect_stdout_contains "commit "
  grep -q "^commit  *5  *1  *1 " out || fail "text row: runs 5, failed 1, breaches 1"
}

test_stats_percentiles_are_percentile_cont_of_completed_runs() {
  new_store r
  add_runs "$db" validate 0 60 1000 2000 3000 4000 10000
  add_runs "$db" validate 2 60 999999  # failed: not a timing
  run perf-baseline -C r stats --step validate --format csv
  expect_status 0
  header=$(head -n 1 out)
  expect_eq "$header" "step,count,n,ok,breaches,failures,failed,timeouts,interrupted,mean_us,stddev_us,min_us,p50_us,p75_us,p90_us,p95_us,p99_us,max_us,mad_us,exact,method"
  # sorted 1000 2000 3000 4000 10000: p50 3000, p75 4000, p90 rank 3.6 -> 7600, p99 rank 3.96 -> 9760
  expect_eq "$(sed -n 2p out)" "validate,6,5,5,0,1,1,0,0,4000,3535.5339059327375,1000,3000,4000,7600,8800,9760,10000,1000,true,exact"
}

test_every_format_has_the_same_rows() {
  new_store r
  add_runs "$db" rollback 0 60 5000 6000
  run perf-baseline -C r stats --format tsv
  expect_status 0
  expect_eq "$(wc -l <out)" 3 "tsv lines: header and two steps"
  head -n 1 out | grep -q "^step	count	n	" || fail "tsv header"
  run perf-baseline -C r stats --format jsonl
  expect_eq "$(wc -l <out)" 2 "jsonl lines"
  head -n 1 out >line.json
  expect_eq "$(json_get line.json '$.step')" commit
  run perf-baseline -C r stats --format yaml
  expect_status 2
  expect_stderr_contains "unknown --format 'yaml'"
}

test_no_runs_in_the_window_is_a_clear_message_and_exit_0() {
  new_store r
  add_runs "$db" commit 0 $((10 * 86400)) 5000
  run perf-baseline -C r stats --step rollback
  expect_status 0
  expect_stdout_contains "no steps recorded in the last 7d"
  run perf-baseline -C r stats --step rollback --json
  expect_status 0
  expect_eq "$(json_get out '$.steps')" "[]"
  run perf-baseline -C r trend --step rollback
  expect_status 0
  expect_stdout_contains "no steps recorded in the last 30 days"
  run perf-baseline -C r show
  expect_status 0
  expect_stdout_contains "no active baseline: compute one with \`perf-baseline compute\`"
}

test_compute_with_too_few_samples_says_how_many_stores_nothing_exits_0() {
  new_store r
  run perf-baseline -C r compute
  expect_status 0
  expect_stdout_contains "too few"
  expect_stdout_contains "1 completed run in the last 7d, 10 needed"
  expect_sql "$db" "select count(*) from baselines" 0
  run perf-baseline -C r compute --step rollback --json
  expect_status 0
  expect_eq "$(json_get out '$.baselines[0].result')" too_few_samples
  expect_eq "$(json_get out '$.baselines[0].n')" 0
  expect_eq "$(json_get out '$.baselines[0].needed')" 10
}

test_compute_stores_keeps_and_replaces_only_when_a_percentile_moves() {
  new_store r
  add_runs "$db" rollback 0 3600 $(seq 100000 1000 119000)
  add_runs "$db" rollback 3 3600 5000000  # killed at its timeout: left out
  run perf-baseline -C r compute --step rollback
  expect_status 0
  expect_stdout_contains "stored"
  expect_stdout_contains "first baseline (1 failed run left out)"
  expect_sql "$db" "select n, p50_ms, min_ms, max_ms from active_baselines" "20|109.5|100.0|119.0"
  run perf-baseline -C r compute --step rollback
  expect_status 0
  expect_stdout_contains "kept"
  expect_stdout_contains "stays: largest move p50 +0.0%, within 5.0%"
  expect_sql "$db" "select count(*) from baselines" 1
  add_runs "$db" rollback 0 60 $(seq 130000 1000 149000)
  run perf-baseline -C r compute --step rollback --format csv
  expect_status 0
  expect_eq "$(cut -d, -f1,5 out | sed -n 2p)" "rollback,replaced"
  expect_sql "$db" "select count(*), sum(active) from baselines" "2|1"
  expect_sql "$db" "select reason, replaces_id is not null from baselines where active" "moved|1"
  run perf-baseline -C r compute --step rollback --force --min-change 90%
  expect_status 0
  expect_sql "$db" "select reason from baselines where active" "forced"
}

test_compute_per_branch_keeps_one_baseline_per_branch() {
  new_store r
  BRANCH=main add_runs "$db" commit 0 60 $(seq 1000 100 2900)
  BRANCH=dev add_runs "$db" commit 0 60 $(seq 5000 100 6900)
  run perf-baseline -C r compute --step commit --scope branch --min-samples 5
  expect_status 0
  expect_sql "$db" "select branch || ':' || n from active_baselines where scope = 'branch' order by branch" "dev:20
main:20"
  # The repository's own commit is a branch of its own, with too few runs.
  grep -q "^commit  $(cd r && pwd)  *main  *too few  *1 " out || fail "the real repository's row"
  expect_sql "$db" "select count(*) from active_baselines where repo = '$(cd r && pwd)'" 0
}

test_show_gives_threshold_and_headroom_to_p99() {
  new_store r
  printf '[thresholds]\nrollback = "200ms"\n' >r/.perfguard.toml
  add_runs "$db" rollback 0 60 $(seq 100000 1000 119000)
  add_runs "$db" trace2-fetch 0 60 $(seq 1 20)
  perf-baseline -q -C r compute || fail "compute"
  run perf-baseline -C r show --format csv
  expect_status 0
  head -n 1 out | grep -q "^id,step,scope,repo,branch,computed_at,computed_us,window_us,n," ||
    fail "csv header"
  line=$(grep '^[0-9]*,rollback,' out)
  # p99 of 100..119 ms: rank 18.81 -> 118.81ms; headroom 200 - 118.81 = 81.19ms (40.6%)
  expect_eq "$(echo "$line" | cut -d, -f 15,22,23)" "118810,200000,81190"
  expect_eq "$(echo "$line" | cut -d, -f 24 | cut -c1-5)" "40.59"
  expect_eq "$(grep ',trace2-fetch,' out | cut -d, -f 22,23,24)" ",," "no threshold, no headroom"
  run perf-baseline -C r show
  expect_status 0
  expect_stdout_contains "headroom"
  grep -q "^rollback .* 200ms  *81.2ms (41%)" out || fail "text headroom"
}

test_trend_draws_an_ascii_chart_when_piped() {
  new_store r
  add_runs "$db" validate 0 $((2 * 86400)) 1000 2000 3000
  add_runs "$db" validate 0 1 4000 8000
  run perf-baseline -C r trend --days 5 --step validate
  expect_status 0
  expect_eq "$(wc -l <out)" 3 "header and two days"
  expect_stdout_contains "p50 # p95 -"
  grep -q "^validate  $(date -u +%F)  *2 .*  #*-*$" out || fail "today's row with an ASCII bar"
  LC_ALL=C.UTF-8 grep -q "[█░]" out && fail "Unicode in a pipe"
  run perf-baseline -C r trend --days 5 --step validate --json
  expect_eq "$(json_get out '$.points[1].n')" 2
  expect_eq "$(json_get out '$.points[1].p50_us')" 6000
  expect_eq "$(json_get out '$.by')" day
  run perf-baseline -C r trend --by hour --days 1 --format csv
  expect_eq "$(cut -d, -f2 out | sed -n 2p)" hour
}

test_trend_uses_unicode_blocks_on_a_utf8_terminal_only() {
  require_terminal
  new_store r
  add_runs "$db" commit 0 60 4000 8000
  LANG=C.UTF-8 LC_ALL=C.UTF-8 script -qec "perf-baseline -C r trend" /dev/null >tty.txt
  grep -q "█" tty.txt || fail "no block characters on a UTF-8 terminal"
  LANG=C LC_ALL=C script -qec "perf-baseline -C r trend" /dev/null >tty.txt
  grep -q "#" tty.txt || fail "no ASCII bar on a non-UTF-8 terminal"
  LC_ALL=C.UTF-8 grep -q "█" tty.txt && fail "block characters without a UTF-8 locale"
  true
}

test_slowest_lists_runs_with_their_slowest_child_spans() {
  new_store r
  echo x >r/x && perf-commit -q -C r -m x
  # Which of git's two parts took longer is up to the machine: make it certain.
  sql "$db" "UPDATE span_rows SET duration_us = CASE
      WHEN name_id = (SELECT id FROM names WHERE name = 'commit') THEN 900000 ELSE 100000 END" ||
    fail "set the span durations"
  run perf-baseline -C r slowest --limit 1 --json
  expect_status 0
  expect_eq "$(json_get out '$.steps[0].step')" commit
  expect_eq "$(json_get out '$.steps[0].duration_us')" \
    "$(sql "$db" 'select max(duration_us) from steps')"
  expect_eq "$(json_get out '$.steps[1]')" ""
  spans=$(json_get out '$.steps[0].spans')
  [[ $spans == *'"name":"commit"'* && $spans == *'"name":"add"'* ]] || fail "spans: $spans"
  run perf-baseline -C r slowest
  expect_status 0
  expect_stdout_contains "slowest spans"
  grep -q "commit .*, add " out || fail "text lists the slowest span first"
  run perf-baseline -C r slowest --format csv --spans 1
  expect_eq "$(head -n 1 out)" "trace_id,step,status,started_at,started_us,duration_us,threshold_us,repo,branch,spans"
  grep -q ",commit:[0-9]*$" out || fail "csv spans cell"
}

test_bad_option_values_are_usage_errors() {
  new_store r
  for args in "compute --scope team" "compute --min-change 7" "compute --window soon" \
    "compute --min-samples 0" "trend --by week" "trend --days 0" "stats --since yesterday" \
    "slowest --limit 0" "frobnicate"; do
    # shellcheck disable=SC2086 # split on purpose
    run perf-baseline -C r $args
    expect_status 2
    expect_stderr_lines 1
    expect_stderr_contains "perf-baseline: "
  done
  expect_sql "$(store_of r)" "select count(*) from baselines" 0
  run perf-baseline -C r
  expect_status 2
}

test_help_lists_every_subcommand() {
  run perf-baseline --help
  expect_status 0
  for sub in compute show stats trend slowest; do expect_stdout_contains "$sub"; done
  run perf-baseline compute --help
  expect_status 0
  for opt in --step --window --min-samples --multiplier --scope --min-change --force; do
    expect_stdout_contains "$opt"
  done
}

test_stats_from_a_named_store_outside_any_repository() {
  make_repo r 1
  echo x >r/x && perf-commit -C r -m x -q --db "$TEST_DIR/ci.db" || fail "commit"
  mkdir elsewhere
  (cd elsewhere && GIT_CEILING_DIRECTORIES=$TEST_DIR perf-baseline stats --db "$TEST_DIR/ci.db" --format csv) >out 2>err
  status=$?
  expect_status 0
  grep -q "^commit," out || fail "no commit row in: $(cat out)"
  (cd elsewhere && GIT_CEILING_DIRECTORIES=$TEST_DIR perf-baseline stats) >out 2>err
  status=$?
  expect_status 2
  expect_stderr_contains "not a git repository"
}

# -q: a query still writes the data it was asked for; a command that changes something
# prints nothing on success.
test_quiet_keeps_a_querys_data_and_silences_everything_else() {
  make_repo r 1
  local i
  for i in 1 2 3; do
    echo "$i" >>r/file.txt
    perf-commit -C r -q -m "change $i" || fail "commit $i"
  done
  for cmd in stats show trend slowest; do
    run perf-baseline -C r -q "$cmd"
    expect_status 0
    [[ -s out ]] || fail "perf-baseline -q $cmd wrote no data"
    [[ -s err ]] && fail "perf-baseline -q $cmd wrote to stderr: $(cat err)"
  done
  run perf-baseline -C r -q compute --min-samples 1
  expect_status 0
  [[ -s out || -s err ]] && fail "compute -q printed something"
  run perf-baseline -C r -q report -o "$TEST_DIR/r.html"
  expect_status 0
  [[ -s out || -s err ]] && fail "report -q printed something"
  true
}

# csv_field FILE ROW_MATCH COLUMN: the named column of the first CSV row matching ROW_MATCH.
csv_field() {
  awk -F, -v col="$3" -v match_="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
    $0 ~ match_ { print $c; exit }' "$1"
}

# prom_value FILE SERIES: the value of one Prometheus sample, by its full name and labels.
prom_value() { grep -F "$2 " "$1" | sed 's/.* //'; }

# close_to GOT WANT: within 0.78% (a histogram bucket) of WANT.
close_to() {
  awk -v g="$1" -v w="$2" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= w / 128 + 1e-9) }'
}

test_view_stats_compute_report_and_prometheus_agree_on_the_same_runs() {
  new_store r
  # 101 completed runs of 1..101 ms (percentile_cont ranks are whole: p50 51ms, p95 96ms,
  # p99 100ms), one a breach; and runs that did not complete, which are counted, not timed.
  add_runs "$db" validate 0 120 $(seq 1000 1000 100000)
  add_runs "$db" validate 1 120 101000
  add_runs "$db" validate 2 120 5 7
  add_runs "$db" validate 3 120 300000000
  add_runs "$db" validate 4 120 900
  perf-baseline -C r -q compute --step validate || fail "compute"
  perf-baseline -C r show --format csv >show.csv || fail "show"
  perf-baseline -C r stats --step validate --format csv >stats.csv || fail "stats"
  perf-baseline -C r export --format prometheus --step validate >prom || fail "export"
  perf-baseline -C r report --since all --step validate -o "$TEST_DIR/report.html" -q || fail "report"

  # Counts: exactly the same everywhere.
  expect_sql "$db" "select n, ok, breaches, failures, timeouts, interrupted from step_summary
    where step = 'validate'" "105|100|1|2|1|1"
  expect_eq "$(csv_field stats.csv '^validate,' count)" 105 "stats count"
  expect_eq "$(csv_field stats.csv '^validate,' n)" 101 "stats n"
  expect_eq "$(csv_field stats.csv '^validate,' failures)" 4 "stats failures (failed, timeout, interrupted)"
  expect_eq "$(csv_field show.csv ',validate,' n)" 101 "baseline n"
  local series='{repo="/src/app",step="validate"'
  expect_eq "$(prom_value prom "perfguard_step_duration_seconds_count$series}")" 101 "prometheus count"
  expect_eq "$(prom_value prom "perfguard_step_duration_seconds_bucket$series,le=\"+Inf\"}")" 101 "prometheus +Inf"
  expect_eq "$(prom_value prom "perfguard_step_duration_seconds_bucket$series,le=\"0.05\"}")" \
    "$(sql "$db" "select count(*) from steps where step = 'validate' and status in ('ok', 'breach') and duration_us <= 50000")" \
    "prometheus le=0.05"
  for status in ok:100 breach:1 failed:2 timeout:1 interrupted:1; do
    expect_eq "$(prom_value prom "perfguard_step_runs_total$series,status=\"${status%:*}\"}")" "${status#*:}" "runs_total $status"
  done
  expect_eq "$(prom_value prom "perfguard_step_duration_seconds_sum$series}")" \
    "$(sql "$db" "select round(sum(duration_us) / 1e6, 6) from steps where step = 'validate' and status in ('ok', 'breach')")" "prometheus sum"
  grep -q '<td><a href="#step-1">validate</a></td><td>105</td><td>101</td><td>51ms</td><td>96ms</td><td>100ms</td><td>101ms</td><td class="bad">1</td><td class="bad">4</td>' report.html ||
    fail "report table: runs 105, n 101, p50 51ms, p95 96ms, p99 100ms, max 101ms, 1 breach, 4 failures"

  # Percentiles: exact, the same number from the view, stats and the baseline.
  for p in p50:51000 p95:96000 p99:100000; do
    expect_sql "$db" "select ${p%:*}_ms * 1000 from step_summary where step = 'validate'" "${p#*:}.0"
    # (written as plain numbers: 100000, not 1e+05)
    expect_eq "$(csv_field stats.csv '^validate,' "${p%:*}_us")" "${p#*:}" "stats ${p%:*}"
    expect_eq "$(csv_field show.csv ',validate,' "${p%:*}_us")" "${p#*:}" "baseline ${p%:*}"
  done
  expect_eq "$(csv_field stats.csv '^validate,' method)" exact "stats method"
  expect_eq "$(csv_field show.csv ',validate,' method)" exact "baseline method"
  expect_sql "$db" "select method from active_baselines where step = 'validate'" exact
}

test_above_the_exact_limit_every_consumer_agrees_within_a_histogram_bucket() {
  new_store r
  # 6,000 completed runs (more than the 5,000 read exactly) and 60 failed, over the last day.
  sql "$db" "
    INSERT OR IGNORE INTO names (name) VALUES ('fetch');
    INSERT OR IGNORE INTO contexts (repo, branch) VALUES ('/src/app', 'main');
    INSERT INTO step_rows (trace_id, name_id, started_us, duration_us, status, threshold_us,
      exit_code, context_id)
    SELECT value, (SELECT id FROM names WHERE name = 'fetch'),
      (CAST(strftime('%s', 'now') AS INTEGER) - 86400 + value * 14) * 1000000,
      20000 + (value * 7919) % 400000 + (value % 7) * 1000, CASE WHEN value % 101 = 0 THEN 2 ELSE 0 END,
      NULL, 0, (SELECT id FROM contexts WHERE repo = '/src/app' AND branch = 'main' AND host = '')
    FROM generate_series(1, 6060);" || fail "insert"
  local n
  n=$(sql "$db" "select n - failures from step_summary where step = 'fetch'")
  [[ $n -gt 5000 ]] || fail "only $n completed runs"
  perf-baseline -C r -q compute --step fetch || fail "compute"
  perf-baseline -C r show --format csv >show.csv || fail "show"
  perf-baseline -C r stats --step fetch --format csv >stats.csv || fail "stats"
  perf-baseline -C r stats --step fetch >stats.txt || fail "stats text"
  perf-baseline -C r export --format prometheus --step fetch >prom || fail "export"
  perf-baseline -C r report --since all --step fetch -o "$TEST_DIR/report.html" -q || fail "report"

  expect_eq "$(csv_field stats.csv '^fetch,' n)" "$n" "stats n"
  expect_eq "$(csv_field show.csv ',fetch,' n)" "$n" "baseline n"
  expect_eq "$(prom_value prom 'perfguard_step_duration_seconds_count{repo="/src/app",step="fetch"}')" "$n" "prometheus count"
  expect_eq "$(prom_value prom 'perfguard_step_runs_total{repo="/src/app",step="fetch",status="failed"}')" \
    "$(sql "$db" "select failures from step_summary where step = 'fetch'")" "prometheus failed"
  expect_eq "$(csv_field stats.csv '^fetch,' method)" histogram "stats method"
  expect_eq "$(csv_field show.csv ',fetch,' method)" histogram "baseline method"
  expect_sql "$db" "select method from active_baselines where step = 'fetch'" histogram
  local p want
  for p in p50 p75 p90 p95 p99; do
    want=$(sql "$db" "select ${p}_ms * 1000 from step_summary where step = 'fetch'")
    close_to "$(csv_field stats.csv '^fetch,' "${p}_us")" "$want" || fail "stats $p: not within 0.78% of $want"
    close_to "$(csv_field show.csv ',fetch,' "${p}_us")" "$want" || fail "baseline $p: not within 0.78% of $want"
  done
  # Mean, min and max stay exact.
  expect_eq "$(csv_field stats.csv '^fetch,' max_us | awk '{ printf "%d", $1 }')" "$(sql "$db" "select cast(max_ms * 1000 as int) from step_summary where step = 'fetch'")" "max"
  # The report's summary is the same summary as stats: the same p50, p95 and p99 text.
  local row
  row=$(grep '^fetch ' stats.txt) || fail "stats text row"
  read -r _ _ _ _ _ _ _ p50 _ p95 p99 _ <<<"$row"
  grep -q "<td>$n</td><td>$p50</td><td>$p95</td><td>$p99</td>" report.html ||
    fail "report table: n $n, p50 $p50, p95 $p95, p99 $p99 as in stats"
}

# place_records FILE TAG HOST REPO BRANCH PROVIDER: 30 JSONL records of commit and rollback
# run on HOST in REPO on BRANCH, in CI PROVIDER (empty: outside CI), started in the last day.
place_records() {
  local now
  now=$(($(date +%s) * 1000000))
  awk -v tag="$2" -v host="$3" -v repo="$4" -v branch="$5" -v ci="$6" -v now="$now" 'BEGIN {
    for (i = 0; i < 30; i++) {
      step = (i % 3 == 0) ? "rollback" : "commit";
      dur = 5000 + (i * 7919 + tag * 104729) % 40000;
      printf "{\"trace_id\":\"%08x%08x\",\"step\":\"%s\",\"status\":\"ok\",", tag, i, step;
      printf "\"started_us\":%.0f,\"duration_us\":%d,\"threshold_us\":800000,", now - 80000000000 + i * 997000 + tag * 13, dur;
      printf "\"exit_code\":0,\"repo\":\"%s\",\"branch\":\"%s\",\"host\":\"%s\",", repo, branch, host;
      printf "\"user\":\"u\",\"ci_provider\":\"%s\",\"ci_job\":\"\",\"tool\":\"perf-%s\",", ci, step;
      printf "\"tool_version\":\"0.1.0\",\"git_version\":\"2.39.5\",\"spans\":[{\"name\":\"git\",";
      printf "\"offset_us\":10,\"duration_us\":%d,\"exit_code\":0,\"spans\":[]}],\"labels\":{}}\n", dur - 20;
    }
  }' >"$1"
}

# store_of_records DB FILE...: a store holding exactly the records of the files.
store_of_records() {
  local db=$1
  shift
  cat "$@" >"$db.jsonl"
  perf-baseline --db "$db" -q import --format jsonl "$db.jsonl" || fail "import into $db"
}

test_run_filters_answer_as_a_store_of_only_the_matching_runs() {
  place_records one.jsonl 1 host-a /srv/one main github
  place_records two.jsonl 2 host-b /srv/two dev ""
  place_records three.jsonl 3 host-a /srv/two main gitlab
  store_of_records all.db one.jsonl two.jsonl three.jsonl
  local filter files read k=0
  while IFS='|' read -r filter files; do
    k=$((k + 1))
    # shellcheck disable=SC2086
    store_of_records "want$k.db" $files
    for read in "stats --since all" "trend --days 7" "slowest --since all --limit 7" \
      "export --format jsonl"; do
      # shellcheck disable=SC2086
      perf-baseline --db "want$k.db" $read >want.out || fail "$read on the matching runs"
      # shellcheck disable=SC2086
      perf-baseline --db all.db $read $filter >got.out || fail "$read $filter"
      [[ -s want.out ]] || fail "$read: no output to compare"
      cmp -s want.out got.out || fail "$read $filter differs: $(diff want.out got.out | head -5)"
    done
  done <<'CASES'
--host host-a|one.jsonl three.jsonl
--repo /srv/two|two.jsonl three.jsonl
--branch dev|two.jsonl
--runner ci|one.jsonl three.jsonl
--runner local|two.jsonl
--runner github|one.jsonl
--host host-a --repo /srv/two|three.jsonl
--branch main --runner gitlab|three.jsonl
CASES
  # Nothing matches: no runs, not every run.
  run perf-baseline --db all.db stats --since all --host nowhere
  expect_status 0
  expect_stdout_contains "no steps"
}

test_compute_takes_repo_and_branch_only_where_its_scope_keys_by_them() {
  place_records one.jsonl 1 host-a /srv/one main github
  place_records two.jsonl 2 host-b /srv/two dev ""
  store_of_records all.db one.jsonl two.jsonl
  run perf-baseline --db all.db compute --repo /srv/one
  expect_status 2
  expect_stderr_contains "--scope repo"
  run perf-baseline --db all.db compute --scope repo --branch main
  expect_status 2
  expect_eq "$(sql all.db 'select count(*) from baselines')" 0 "nothing stored when refused"
  run perf-baseline --db all.db compute --scope branch --branch dev --min-samples 5
  expect_status 0
  expect_eq "$(sql all.db 'select distinct branch from baselines')" dev "only dev's baselines"
}
