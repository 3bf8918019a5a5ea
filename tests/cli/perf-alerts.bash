# perf-alerts: the rules as steps are recorded and on scan, the lifecycle of an alert, and
# the CI gate. Histories the rules need (baselines, anomalies, trends) are imported as JSONL
# records with chosen durations and times, then judged by `perf-alerts scan`.

NOW_US=$(date +%s%6N)
HOUR_US=3600000000
DAY_US=86400000000

# run_record STEP STATUS AGE_US DURATION_US [BRANCH] [THRESHOLD_US]: one JSONL record of
# repository $PWD/r, started AGE_US ago.
run_record() {
  local trace
  trace=$(printf '%016x' $((RANDOM * 32768 * 32768 + RANDOM * 32768 + RANDOM + 1)))
  printf '{"trace_id":"%s","step":"%s","status":"%s","started_us":%d,"duration_us":%d,' \
    "$trace" "$1" "$2" $((NOW_US - $3)) "$4"
  printf '"threshold_us":%d,"exit_code":0,"repo":"%s","branch":"%s"}\n' \
    "${6:-1000000}" "$PWD/r" "${5:-main}"
}

# import_records FILE: into r's store.
import_records() {
  run perf-baseline -C r import --format jsonl "$TEST_DIR/$1"
  expect_status 0
}

# breach_commit [FLAGS…]: a commit of r that breaches (threshold 1us).
breach_commit() {
  echo "$RANDOM" >>r/file.txt
  run perf-commit -C r --threshold 1us -m breach "$@"
}

ok_commit() {
  echo "$RANDOM" >>r/file.txt
  run perf-commit -C r --threshold 1h -m fine "$@"
}

alerts_sql() { sql "$(store_of r)" "$1"; }

test_threshold_breach_opens_a_critical_alert_named_on_the_result_line() {
  make_repo r 1
  breach_commit
  expect_status 3
  expect_stdout_contains "— alert #1 critical"
  expect_sql "$(store_of r)" "select rule, step, branch, severity, state, count from open_alerts" \
    "threshold|commit|main|critical|open|1"
  expect_sql "$(store_of r)" "select repo from open_alerts" "$PWD/r"
  expect_sql "$(store_of r)" "select count(*) from alert_history where alert_id = 1 and to_state = 'open' and from_state is null" 1
}

test_a_run_within_its_threshold_opens_no_alert() {
  make_repo r 1
  ok_commit
  expect_status 0
  grep -q "alert #" "$TEST_DIR/out" && fail "a run within threshold named an alert"
  expect_sql "$(store_of r)" "select count(*) from open_alerts" 0
}

test_the_json_result_lists_the_alerts_the_step_raised() {
  make_repo r 1
  breach_commit --json
  expect_status 3
  expect_eq "$(jq -r '.alerts[0] | "\(.id) \(.change) \(.rule) \(.severity)"' "$TEST_DIR/out")" \
    "1 opened threshold critical" "alerts in the json result"
}

test_the_same_rule_on_the_same_step_bumps_the_open_alert() {
  make_repo r 1
  breach_commit
  breach_commit
  expect_stdout_contains "— alert #1 critical"
  expect_sql "$(store_of r)" "select count(*) from alerts where rule = 'threshold'" 1
  expect_sql "$(store_of r)" "select count from open_alerts where rule = 'threshold'" 2
  run perf-alerts -C r show 1 --json
  expect_status 0
  expect_eq "$(jq '.runs | length' "$TEST_DIR/out")" 2 "runs behind the alert"
}

test_another_branch_has_an_alert_of_its_own() {
  make_repo r 1
  breach_commit
  git -C r checkout -qb feature
  breach_commit
  expect_sql "$(store_of r)" "select group_concat(branch, ',') from (select branch from open_alerts where rule = 'threshold' order by branch)" "feature,main"
}

test_consecutive_fires_on_the_third_breach_in_a_row_not_the_second() {
  make_repo r 1
  breach_commit
  breach_commit
  expect_sql "$(store_of r)" "select count(*) from alerts where rule = 'consecutive'" 0
  breach_commit
  expect_sql "$(store_of r)" "select severity || ' ' || summary from open_alerts where rule = 'consecutive'" \
    "critical the last 3 commit runs all breached their threshold"
}

test_consecutive_is_broken_by_a_run_within_threshold() {
  make_repo r 1
  breach_commit
  breach_commit
  ok_commit
  breach_commit
  expect_sql "$(store_of r)" "select count(*) from alerts where rule = 'consecutive'" 0
}

test_failure_fires_after_three_failed_commits_in_a_row() {
  make_repo r 1
  for i in 1 2; do
    run perf-commit -C r -m nothing
    expect_status 1
  done
  expect_sql "$(store_of r)" "select count(*) from alerts where rule = 'failure'" 0
  run perf-commit -C r -m nothing
  expect_status 1
  expect_sql "$(store_of r)" "select severity || ' ' || summary from open_alerts where rule = 'failure'" \
    "warning commit failed 3 times in a row"
}

test_failure_count_per_step_comes_from_config() {
  make_repo r 1
  printf '[alerts.failure]\ncommit = 1\nseverity = "critical"\n' >r/.perfguard.toml
  git -C r add .perfguard.toml && git -C r commit -qm config
  run perf-commit -C r -m nothing
  expect_status 1
  expect_sql "$(store_of r)" "select severity || ' ' || summary from open_alerts where rule = 'failure'" \
    "critical commit failed"
}

test_an_alert_resolves_itself_after_resolve_after_clear_runs() {
  make_repo r 1
  printf '[alerts]\nresolve_after = 2\n' >r/.perfguard.toml
  breach_commit
  ok_commit
  expect_sql "$(store_of r)" "select state from alerts where id = 1" 0
  ok_commit
  expect_sql "$(store_of r)" "select count(*) from open_alerts" 0
  expect_sql "$(store_of r)" "select by || ' ' || from_state || ' ' || to_state || ' ' || note from alert_history where alert_id = 1 and to_state = 'resolved'" \
    "perfguard open resolved cleared for 2 evaluations in a row"
}

test_a_rule_switched_off_raises_nothing() {
  make_repo r 1
  printf '[alerts.threshold]\nenabled = false\n' >r/.perfguard.toml
  breach_commit
  expect_status 3
  expect_sql "$(store_of r)" "select count(*) from alerts where rule = 'threshold'" 0
  PERFGUARD_ALERTS_ENABLED=false breach_commit
  PERFGUARD_ALERTS_ENABLED=false breach_commit
  expect_sql "$(store_of r)" "select count(*) from alerts" 0
}

test_ack_records_who_when_and_why_and_check_lets_it_pass() {
  make_repo r 1
  breach_commit
  run perf-alerts -C r check
  expect_status 3
  run perf-alerts -C r ack 1 --by alice --note "looking at the disk"
  expect_status 0
  expect_stdout_contains "#1 acknowledged"
  expect_sql "$(store_of r)" "select state, acknowledged_by from open_alerts" "acknowledged|alice"
  expect_sql "$(store_of r)" "select by || '|' || from_state || '|' || to_state || '|' || note from alert_history where to_state = 'acknowledged'" \
    "alice|open|acknowledged|looking at the disk"
  run perf-alerts -C r check
  expect_status 0
  expect_stdout_contains "no open alert at or above critical"
}

test_ack_takes_the_user_name_by_default_and_hash_ids() {
  make_repo r 1
  breach_commit
  run perf-alerts -C r ack '#1'
  expect_status 0
  expect_sql "$(store_of r)" "select acknowledged_by from open_alerts" "$(id -un)"
}

test_snooze_lets_check_pass_until_it_runs_out() {
  make_repo r 1
  breach_commit
  run perf-alerts -C r snooze 1 --for 1s --note "deploy in progress"
  expect_status 0
  expect_stdout_contains "#1 snoozed until"
  run perf-alerts -C r check
  expect_status 0
  sleep 2
  run perf-alerts -C r check
  expect_status 3
  run perf-alerts -C r list --json
  expect_eq "$(jq -r '.alerts[0].state' "$TEST_DIR/out")" open "a snooze that ran out"
}

test_snooze_needs_a_duration() {
  make_repo r 1
  breach_commit
  run perf-alerts -C r snooze 1
  expect_status 2
  run perf-alerts -C r snooze 1 --for soon
  expect_status 2
  expect_stderr_contains "--for"
  expect_sql "$(store_of r)" "select state from open_alerts" "open"
}

test_resolve_by_hand_keeps_the_note_and_a_second_resolve_is_refused() {
  make_repo r 1
  breach_commit
  run perf-alerts -C r resolve 1 --note "disk replaced"
  expect_status 0
  expect_sql "$(store_of r)" "select count(*) from open_alerts" 0
  expect_sql "$(store_of r)" "select note from alert_history where to_state = 'resolved'" "disk replaced"
  run perf-alerts -C r resolve 1
  expect_status 2
  expect_stderr_contains "alert #1 is resolved already"
  run perf-alerts -C r list --all --json
  expect_eq "$(jq -r '.alerts[0].state' "$TEST_DIR/out")" resolved "listed with --all"
}

test_a_breach_after_a_resolve_opens_a_new_alert() {
  make_repo r 1
  breach_commit
  run perf-alerts -C r resolve 1
  breach_commit
  expect_stdout_contains "— alert #2 critical"
  expect_sql "$(store_of r)" "select id from open_alerts where rule = 'threshold'" 2
}

test_an_unknown_alert_id_exits_2_and_changes_nothing() {
  make_repo r 1
  breach_commit
  before=$(alerts_sql "select count(*) from alert_events")
  run perf-alerts -C r ack 1 999
  expect_status 2
  expect_stderr_contains "no alert #999"
  expect_sql "$(store_of r)" "select state from alerts where id = 1" 0
  expect_sql "$(store_of r)" "select count(*) from alert_events" "$before"
  run perf-alerts -C r show 999
  expect_status 2
  run perf-alerts -C r ack seventeen
  expect_status 2
  expect_stderr_contains "'seventeen' is not an alert id"
}

test_bad_severity_state_and_window_exit_2() {
  make_repo r 1
  breach_commit
  run perf-alerts -C r check --fail-on urgent
  expect_status 2
  expect_stderr_contains "'urgent' is not a severity"
  run perf-alerts -C r list --state closed
  expect_status 2
  run perf-alerts -C r list --since 0s
  expect_status 2
  printf '[alerts.anomaly]\nz = "high"\n' >r/.perfguard.toml
  run perf-alerts -C r list
  expect_status 2
  expect_stderr_contains "alerts.anomaly.z: expected a number, got a string"
}

test_list_filters_by_severity_state_and_step() {
  make_repo r 1
  PERFGUARD_ALERTS_THRESHOLD_SEVERITY=warning breach_commit
  git -C r checkout -qb other
  breach_commit
  run perf-alerts -C r list --json
  expect_eq "$(jq '.alerts | length' "$TEST_DIR/out")" 2 "every unresolved alert"
  expect_eq "$(jq -r '.alerts[0].severity' "$TEST_DIR/out")" critical "most severe first"
  run perf-alerts -C r list --severity critical --json
  expect_eq "$(jq -r '[.alerts[].branch] | join(",")' "$TEST_DIR/out")" other "--severity critical"
  run perf-alerts -C r ack 1
  run perf-alerts -C r list --state acknowledged --format csv
  expect_status 0
  expect_eq "$(tail -n +2 "$TEST_DIR/out" | cut -d, -f1)" 1 "--state acknowledged"
  run perf-alerts -C r list --step rollback
  expect_stdout_contains "no unresolved alerts"
}

test_check_exit_codes_at_each_fail_on_level() {
  make_repo r 1
  PERFGUARD_ALERTS_THRESHOLD_SEVERITY=warning breach_commit
  run perf-alerts -C r check --fail-on critical
  expect_status 0
  run perf-alerts -C r check --fail-on warning
  expect_status 3
  expect_stdout_contains "1 open alert at or above warning"
  run perf-alerts -C r check --fail-on info
  expect_status 3
}

test_check_without_a_store_passes() {
  make_repo r 1
  run perf-alerts -C r check
  expect_status 0
  expect_no_file "$(store_of r)"
}

test_check_junit_is_xml_with_a_failure_per_blocking_alert() {
  make_repo r 1
  breach_commit
  breach_commit
  breach_commit
  run perf-alerts -C r check --format junit
  expect_status 3
  python3 - "$TEST_DIR/out" <<'EOF' || fail "the JUnit report is not what CI systems read"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suite = root.find("testsuite")
cases = suite.findall("testcase")
failures = [c for c in cases if c.find("failure") is not None]
assert int(suite.get("failures")) == len(failures) == 2, suite.attrib
assert {f.find("failure").get("type") for f in failures} == {"critical"}
assert any("consecutive" in c.get("classname") for c in failures)
EOF
  run perf-alerts -C r ack 1 2
  run perf-alerts -C r check --format junit
  expect_status 0
  python3 -c "import sys, xml.etree.ElementTree as ET; s = ET.parse(sys.argv[1]).getroot().find('testsuite'); assert s.get('failures') == '0' and len(s.findall('testcase')) == 1" \
    "$TEST_DIR/out" || fail "a passing JUnit report"
}

test_check_github_lines_are_workflow_commands_escaped() {
  make_repo r 1
  git -C r checkout -qb "fix,100%"
  breach_commit
  PERFGUARD_ALERTS_THRESHOLD_SEVERITY=warning breach_commit
  run perf-alerts -C r check --format github --fail-on info
  expect_status 3
  expect_eq "$(grep -c '^::error title=perfguard #1 critical%3A threshold on commit (fix%2C100%25)::commit took ' "$TEST_DIR/out")" 1 "github line"
  run perf-alerts -C r ack 1
  run perf-alerts -C r check --format github --fail-on info
  expect_status 0
  expect_eq "$(cat "$TEST_DIR/out")" "" "an acknowledged alert is not reported"
}

test_check_gitlab_is_a_code_quality_report() {
  make_repo r 1
  breach_commit
  run perf-alerts -C r check --format gitlab
  expect_status 3
  expect_eq "$(jq -r '.[0] | "\(.check_name) \(.severity) \(.location.lines.begin) \(.fingerprint | length)"' "$TEST_DIR/out")" \
    "perfguard.threshold critical 1 40" "code quality issue"
  run perf-alerts -C r check --json
  expect_eq "$(jq -r '"\(.status) \(.fail_on) \(.alerts | length)"' "$TEST_DIR/out")" "fail critical 1" "check --json"
}

test_the_pause_mark_stops_rules_and_lets_everything_pass() {
  make_repo r 1
  breach_commit
  mkdir -p r/.git/perfguard
  printf 'since=%d\nby=ops\nreason=incident\n' "$NOW_US" >r/.git/perfguard/paused
  run perf-alerts -C r check
  expect_status 0
  expect_stdout_contains "paused"
  run perf-alerts -C r check --format junit
  expect_status 0
  breach_commit
  expect_status 0
  expect_stdout_contains "(paused: not enforced)"
  expect_sql "$(store_of r)" "select count from open_alerts where rule = 'threshold'" 1
  run perf-alerts -C r scan
  expect_status 0
  expect_stderr_contains "paused"
  rm r/.git/perfguard/paused
  run perf-alerts -C r check
  expect_status 3
}

test_scan_judges_each_run_once() {
  make_repo r 1
  PERFGUARD_ALERTS_ENABLED=false breach_commit
  expect_sql "$(store_of r)" "select count(*) from alerts" 0
  run perf-alerts -C r scan
  expect_status 0
  expect_stdout_contains "#1 opened critical"
  run perf-alerts -C r scan --json
  expect_status 0
  expect_eq "$(jq '.changes | length' "$TEST_DIR/out")" 0 "a second scan"
  expect_sql "$(store_of r)" "select count from alerts where rule = 'threshold'" 1
  run perf-alerts -C r resolve 1
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select count(*) from open_alerts" 0
}

test_baseline_rule_fires_above_p99_times_the_multiplier_and_critical_above_twice() {
  make_repo r 1
  for i in $(seq 20); do run_record commit ok $((2 * HOUR_US + i * 1000000)) 10000; done >hist.jsonl
  import_records hist.jsonl
  run perf-baseline -C r compute --multiplier 2
  expect_status 0
  run_record commit ok $HOUR_US 19000 >next.jsonl
  import_records next.jsonl
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select count(*) from alerts where rule = 'baseline'" 0
  run_record commit ok $((HOUR_US - 1000000)) 25000 >next.jsonl
  import_records next.jsonl
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select severity from open_alerts where rule = 'baseline'" warning
  run_record commit ok $((HOUR_US - 2000000)) 45000 >next.jsonl
  import_records next.jsonl
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select severity || ' ' || count from open_alerts where rule = 'baseline'" "critical 2"
  expect_sql "$(store_of r)" "select count(*) from alert_history where note like 'escalated:%'" 1
}

test_anomaly_fires_on_an_outlier_not_on_a_run_near_the_median() {
  make_repo r 1
  for i in $(seq 30); do run_record commit ok $((3 * HOUR_US - i * 1000000)) $((10000 + (i % 3) * 1000)); done >hist.jsonl
  run_record commit ok $((2 * HOUR_US)) 11500 >>hist.jsonl
  import_records hist.jsonl
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select count(*) from alerts where rule = 'anomaly'" 0
  run_record commit ok $HOUR_US 60000 >next.jsonl
  import_records next.jsonl
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select severity from open_alerts where rule = 'anomaly'" warning
  expect_sql "$(store_of r)" "select summary like 'commit took 60ms, a robust z-score of % against its last 30 runs (median 11ms)' from open_alerts where rule = 'anomaly'" 1
}

test_anomaly_needs_its_minimum_of_samples() {
  make_repo r 1
  for i in $(seq 9); do run_record commit ok $((3 * HOUR_US - i * 1000000)) $((10000 + (i % 3) * 1000)); done >hist.jsonl
  run_record commit ok $HOUR_US 60000 >>hist.jsonl
  import_records hist.jsonl
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select count(*) from alerts where rule = 'anomaly'" 0
}

test_rollback_rate_fires_above_five_in_the_last_hour() {
  make_repo r 1
  for i in $(seq 5); do run_record rollback ok $((i * 60000000)) 30000; done >hist.jsonl
  import_records hist.jsonl
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select count(*) from alerts where rule = 'rollback_rate'" 0
  run_record recover ok 1000000 30000 >next.jsonl
  import_records next.jsonl
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select severity || ' ' || value || ' ' || summary from open_alerts where rule = 'rollback_rate'" \
    "warning 6.0 more than 5 rollbacks and recoveries in the last 1h"
}

test_degradation_fires_when_the_week_median_rises_by_more_than_20_percent() {
  make_repo r 1
  for i in $(seq 12); do run_record commit ok $((10 * DAY_US + i * HOUR_US)) 10000; done >hist.jsonl
  for i in $(seq 12); do run_record commit ok $((2 * DAY_US + i * HOUR_US)) 11500; done >>hist.jsonl
  import_records hist.jsonl
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select count(*) from alerts where rule = 'degradation'" 0
  for i in $(seq 12); do run_record commit ok $((DAY_US + i * 60000000)) 20000; done >next.jsonl
  import_records next.jsonl
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select severity || ' ' || branch from open_alerts where rule = 'degradation'" "warning "
}

test_prediction_says_when_the_p95_will_pass_the_threshold() {
  make_repo r 1
  # p95 rising 50ms a day from 400ms ten days ago to 900ms today. The rule draws its line
  # through each calendar day's p95 (UTC), taken at the middle of the day, so from a moment a
  # fraction f into today 1s is 2.5 - f days away (and across midnight the same: the day of
  # the runs becomes yesterday). Each day's runs are a few microseconds before this time of
  # that day, so none falls into the day before, whenever the test runs.
  local NOW_US
  NOW_US=$(date +%s%6N)
  for d in $(seq 0 10); do
    for i in 1 2 3; do run_record commit ok $(((10 - d) * DAY_US + i)) $((400000 + d * 50000)); done
  done >hist.jsonl
  import_records hist.jsonl
  run perf-alerts -C r scan
  local value want
  value=$(sql "$(store_of r)" "select value from open_alerts where rule = 'prediction'")
  want=$(awk -v now="$NOW_US" -v day="$DAY_US" 'BEGIN { printf "%.4f", 2.5 - (now % day) / day }')
  awk -v v="$value" -v w="$want" 'BEGIN { exit !(v != "" && v - w < 0.1 && w - v < 0.1) }' ||
    fail "prediction: expected about $want days, got '$value'"
  local days
  days=$(awk -v v="$value" 'BEGIN { n = int(v + 0.5); print (n < 1 ? 1 : n) }')
  expect_sql "$(store_of r)" "select severity || ' ' || summary from open_alerts where rule = 'prediction'" \
    "info at this rate commit p95 passes 1s in about $days $([ "$days" = 1 ] && echo day || echo days)"
}

test_prediction_stays_quiet_for_a_flat_history() {
  make_repo r 1
  for d in $(seq 0 10); do
    for i in 1 2 3; do run_record commit ok $(((10 - d) * DAY_US + i * HOUR_US)) 400000; done
  done >hist.jsonl
  import_records hist.jsonl
  run perf-alerts -C r scan
  expect_sql "$(store_of r)" "select count(*) from alerts where rule = 'prediction'" 0
}

test_show_prints_the_alert_its_runs_and_history() {
  make_repo r 1
  breach_commit
  run perf-alerts -C r ack 1 --note "on it"
  run perf-alerts -C r show 1
  expect_status 0
  grep -qE '^rule +threshold$' "$TEST_DIR/out" || fail "no rule line"
  expect_stdout_contains "runs behind it:"
  expect_stdout_contains "open -> acknowledged  on it"
}

test_a_snooze_that_ran_out_is_listed_as_open() {
  make_repo r 1
  breach_commit
  run perf-alerts -C r snooze 1 --for 1s
  run perf-alerts -C r list --state snoozed --json
  expect_eq "$(jq '.alerts | length' "$TEST_DIR/out")" 1 "snoozed while the snooze runs"
  sleep 2
  run perf-alerts -C r list --state open --json
  expect_eq "$(jq -r '.alerts[0].state' "$TEST_DIR/out")" open "--state open after the snooze"
  run perf-alerts -C r list --state snoozed --json
  expect_eq "$(jq '.alerts | length' "$TEST_DIR/out")" 0 "--state snoozed after the snooze"
  expect_sql "$(store_of r)" "select state from open_alerts" open
}

test_check_with_a_store_named_that_does_not_exist_fails() {
  make_repo r 1
  run perf-alerts -C r --db "$TEST_DIR/typo.db" check
  expect_status 4
  expect_no_file "$TEST_DIR/typo.db"
}

test_check_refuses_an_unknown_format() {
  make_repo r 1
  run perf-alerts -C r check --format xml
  expect_status 2
  expect_stderr_contains "expected text, json, jsonl, csv, tsv, junit, github or gitlab"
}

test_list_and_check_in_a_repository_show_its_own_alerts() {
  make_repo r 1
  make_repo other 1
  db="$TEST_DIR/shared.db"
  breach_commit --db "$db"
  echo x >>other/file.txt
  run perf-commit -C other --db "$db" --threshold 1h -m fine
  run perf-alerts -C other --db "$db" check
  expect_status 0
  run perf-alerts -C other --db "$db" list
  expect_stdout_contains "no unresolved alerts"
  run perf-alerts -C r --db "$db" check
  expect_status 3
  run perf-alerts --db "$db" list --json
  expect_eq "$(jq '.alerts | length' "$TEST_DIR/out")" 1 "outside a repository: every repository"
}

# start_receiver [ARGS…]: the test webhook receiver; its URL in $RECEIVER.
start_receiver() {
  python3 "$here/http-receiver.py" "$TEST_DIR/port" "$TEST_DIR/requests.jsonl" "$@" &
  RECEIVER_PID=$!
  local i
  for ((i = 0; i < 600; i++)); do [[ -s $TEST_DIR/port ]] && break; sleep 0.1; done
  [[ -s $TEST_DIR/port ]] || fail "the receiver did not start"
  RECEIVER="http://127.0.0.1:$(cat "$TEST_DIR/port")/hook/s3cret"
}
stop_receiver() { kill "$RECEIVER_PID" 2>/dev/null; wait "$RECEIVER_PID" 2>/dev/null; }

user_config() {
  mkdir -p "$HOME/.config/perfguard"
  cat >"$HOME/.config/perfguard/config.toml"
}

test_the_notify_command_gets_the_alert_document_on_stdin() {
  make_repo r 1
  printf '[alerts]\nnotify = ["sh", "-c", "cat >>%s/notified.jsonl; echo >>%s/notified.jsonl"]\n' \
    "$TEST_DIR" "$TEST_DIR" | user_config
  breach_commit
  expect_status 3
  wait_for_lines notified.jsonl 1
  expect_eq "$(head -1 notified.jsonl | jq -r '"\(.type) \(.event) \(.alert.id) \(.alert.rule) \(.alert.severity) \(.alert.step) \(.alert.branch)"')" \
    "perfguard.alert opened 1 threshold critical commit main" "the document"
  run perf-alerts -C r notify --retry
  expect_stdout_contains "nothing to send"
  expect_eq "$(wc -l <notified.jsonl)" 1 "sent once"
}

test_webhooks_get_json_slack_and_pagerduty_and_nothing_twice() {
  make_repo r 1
  start_receiver
  user_config <<EOF2
[[alerts.webhook]]
url = "$RECEIVER/json"
[[alerts.webhook]]
url = "$RECEIVER/slack"
format = "slack"
[[alerts.webhook]]
url = "$RECEIVER/pd"
format = "pagerduty"
routing_key = "R0UT1NGKEY"
min_severity = "critical"
EOF2
  breach_commit
  wait_for_lines requests.jsonl 3
  run perf-alerts -C r resolve 1 --note done
  wait_for_lines requests.jsonl 6
  run perf-alerts -C r notify --retry
  expect_stdout_contains "nothing to send"
  stop_receiver
  expect_eq "$(wc -l <requests.jsonl)" 6 "one request per webhook, opened and resolved"
  expect_eq "$(jq -r 'select(.path | endswith("/pd")) | .body | fromjson | .event_action' requests.jsonl | tr '\n' ' ')" \
    "trigger resolve " "pagerduty: trigger, then resolve"
  expect_eq "$(jq -r 'select(.path | endswith("/pd")) | .body | fromjson | .dedup_key' requests.jsonl | sort -u | wc -l)" \
    1 "one dedup_key for the alert"
  expect_eq "$(jq -r 'select(.path | endswith("/json")) | .body | fromjson | "\(.event) \(.alert.id)"' requests.jsonl | tr '\n' ' ')" \
    "opened 1 resolved 1 " "json webhook"
  jq -r 'select(.path | endswith("/slack")) | .body | fromjson | .text' requests.jsonl | head -1 | grep -q "commit took" ||
    fail "slack text"
  expect_eq "$(jq -r 'select(.path | endswith("/pd")) | .body | fromjson | select(.event_action == "trigger") | "\(.event_action) \(.routing_key) \(.payload.severity) \(.dedup_key | length > 0)"' requests.jsonl)" \
    "trigger R0UT1NGKEY critical true" "pagerduty event"
  grep -q "s3cret" "$(store_of r)" && fail "the webhook URL's secret is in the store"
  true
}

test_a_failed_webhook_is_retried_and_sent_once() {
  make_repo r 1
  start_receiver --fail 1 --status 500
  printf '[[alerts.webhook]]\nurl = "%s"\n' "$RECEIVER" | user_config
  breach_commit
  wait_for_lines requests.jsonl 1
  local i sent=0
  # The detached sender holds the notification until its attempt is over (at most 90 s).
  for ((i = 0; i < 450; i++)); do
    run perf-alerts -C r notify --retry
    if grep -q "opened via webhook" "$TEST_DIR/out"; then sent=1; break; fi
    sleep 0.2
  done
  [[ $sent -eq 1 ]] || fail "the retry was never sent"
  run perf-alerts -C r notify --retry
  expect_stdout_contains "nothing to send"
  stop_receiver
  expect_eq "$(wc -l <requests.jsonl)" 2 "the failed request and its retry"
}

test_an_untrusted_repository_cannot_notify_or_post() {
  make_repo r 1
  start_receiver
  printf '[alerts]\nnotify = ["touch", "%s/pwned"]\n[[alerts.webhook]]\nurl = "%s"\n' \
    "$TEST_DIR" "$RECEIVER" >r/.perfguard.toml
  git -C r add .perfguard.toml && git -C r commit -qm config
  breach_commit
  expect_status 3
  expect_stderr_contains "alerts.notify: ignored"
  expect_stderr_contains "alerts.webhook: ignored: a repository file cannot set webhooks"
  run perf-alerts -C r notify --retry
  run perf-alerts -C r notify --test
  sleep 1
  stop_receiver
  expect_no_file pwned
  [[ ! -s requests.jsonl ]] || fail "an untrusted webhook got a request"
}

test_notify_test_says_what_each_channel_answered() {
  make_repo r 1
  start_receiver
  printf '[alerts]\nnotify = ["sh", "-c", "cat >%s/test.json"]\n[[alerts.webhook]]\nurl = "%s"\n' \
    "$TEST_DIR" "$RECEIVER" | user_config
  run perf-alerts -C r notify --test
  expect_status 0
  expect_stdout_contains "notify: "
  expect_stdout_contains "http://127.0.0.1:"
  grep -q s3cret "$TEST_DIR/out" && fail "the URL's path was printed"
  expect_eq "$(jq -r .event test.json)" test "the command's test document"
  stop_receiver
}

test_health_figures_match_git_and_are_recorded() {
  make_repo r 3
  run perf-alerts -C r health --json
  expect_status 0
  expect_eq "$(jq -r '.figures[] | select(.name == "commits") | .value' "$TEST_DIR/out")" \
    "$(git -C r rev-list --count HEAD)" "commits"
  expect_eq "$(jq -r '.figures[] | select(.name == "loose_objects") | .value' "$TEST_DIR/out")" \
    "$(git -C r count-objects -v | sed -n 's/^count: //p')" "loose objects"
  expect_sql "$(store_of r)" "select value from health_trend where name = 'commits'" 3.0
}

test_health_over_its_limit_raises_an_alert_and_clears_it() {
  make_repo r 3
  printf '[alerts.health]\nmax_commits = 2\n' >r/.perfguard.toml
  run perf-alerts -C r health
  expect_status 0
  expect_stdout_contains "alert #1 opened warning: commits is 3, at or above 2"
  expect_sql "$(store_of r)" "select rule, step, branch from open_alerts" "health|commits|"
  printf '[alerts]\nresolve_after = 1\n[alerts.health]\nmax_commits = 100\n' >r/.perfguard.toml
  sleep 0.01
  run perf-alerts -C r health
  expect_stdout_contains "alert #1 resolved"
}
