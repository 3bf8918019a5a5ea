# Every machine format read by the program that reads it in real life, never only by our
# own readers:
#   perf-baseline export --format prometheus   promtool check metrics (Debian: prometheus)
#   perf-alerts check --format junit           xmllint --schema, Jenkins' JUnit schema
#                                              (Debian: libxml2-utils; tests/consumers/junit-10.xsd)
#   perf-alerts check --format github          GitHub's rules for workflow commands
#                                              (tests/consumers/github-commands.py)
#   perf-alerts check --format gitlab          GitLab's Code Quality report fields, with jq
#   perf-baseline export --format otlp         protoc and python3-protobuf's json_format, on
#                                              OpenTelemetry's own .proto files
# with the text users' data can hold: quotes, backslashes, line feeds, `::`, `<`, `&`, `]]>`,
# control characters and bytes that are not UTF-8, in a repository's path, a branch, a step's
# name, a label. A consumer that is not installed fails the case (require_consumer): install
# them with scripts/install-deps.

consumers=$here/../consumers
NOW_US=$(date +%s%6N)

# What a jsonl record can carry (its strings are JSON, bytes that are not UTF-8 as %XX, TEXT
# ENCODING in perfguard(7)): ", \, line feed, carriage return, ::, <, &, ]]>, C0 controls,
# %, the comma and colon GitHub's properties reserve, U+FFFF (which XML cannot hold), and
# the bytes E9 FF.
HOSTILE='\"q\" \\b\n::error::x <&]]> \u0001\u001b\r 100%, a:b caf%E9%FF \uffff'

# hostile_record STEP_PREFIX STATUS AGE_US DURATION_US REPO BRANCH: one jsonl record, breach
# over a 1 s threshold when STATUS says so, with a label and two levels of child spans; all
# its text fields are hostile.
hostile_record() {
  local trace
  trace=$(printf '%016x' $((RANDOM * 32768 * 32768 + RANDOM * 32768 + RANDOM + 1)))
  printf '{"trace_id":"%s","step":"%s %s","status":"%s","started_us":%d,"duration_us":%d,' \
    "$trace" "$1" "$HOSTILE" "$2" $((NOW_US - $3)) "$4"
  printf '"threshold_us":1000000,"exit_code":0,"repo":"%s","branch":"%s","host":"h %s",' \
    "$5" "$6" "$HOSTILE"
  printf '"labels":{"note %s":"%s"},' "$HOSTILE" "$HOSTILE"
  printf '"spans":[{"name":"git %s","offset_us":10,"duration_us":500,"exit_code":1,' "$HOSTILE"
  printf '"spans":[{"name":"hook","offset_us":20,"duration_us":100}]},'
  printf '{"name":"git gc","offset_us":600,"duration_us":300}]}\n'
}

# hostile_store DB: records with hostile text in DB: a run within its threshold, then
# breaches (which alerts name) in two repositories, one on a branch.
hostile_store() {
  {
    hostile_record deploy ok 6000000 200000 "/srv/a $HOSTILE" 'fix,100%:<&\"]]>%FF'
    hostile_record deploy breach 5000000 2000000 "/srv/a $HOSTILE" 'fix,100%:<&\"]]>%FF'
    hostile_record build breach 3000000 3000000 "/srv/b $HOSTILE" ""
  } >hostile.jsonl
  run perf-baseline --db "$1" import --format jsonl "$TEST_DIR/hostile.jsonl"
  expect_status 0
}

# hostile_repo: a real repository whose path holds ", \, a line feed and a byte that is not
# UTF-8, with commits recorded by perf-commit (one over its threshold); its path in $repo.
hostile_repo() {
  repo=$'r "q" \\b\nline\xe9'
  make_repo "$repo" 1
  echo 2 >>"$repo/file.txt"
  run perf-commit -C "$repo" --threshold 1h -m two
  expect_status 0
  echo 3 >>"$repo/file.txt"
  run perf-commit -C "$repo" --threshold 1us -m three
  expect_status 3
}

# expect_utf8 FILE
expect_utf8() {
  iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1 || fail "$1 is not UTF-8: $(head -c 300 "$1")"
}

# promtool_accepts FILE: promtool check metrics reads FILE without an error or a lint
# complaint, and its histograms are histograms, its labels the records' text (jsonl
# export of the same store in the second argument).
promtool_accepts() {
  require_consumer promtool prometheus
  promtool check metrics <"$1" >promtool.out 2>&1 || fail "promtool: $(cat promtool.out)"
  [[ ! -s promtool.out ]] || fail "promtool complains: $(cat promtool.out)"
  python3 "$consumers/prometheus-histograms.py" "$1" "$2" || fail "not a histogram family"
}

test_promtool_accepts_label_values_with_quotes_backslashes_line_feeds_and_bytes_not_utf8() {
  hostile_repo
  db=$(store_of "$repo")
  hostile_store "$db"
  run perf-baseline --db "$db" export --format prometheus
  expect_status 0
  cp out metrics.txt
  expect_utf8 metrics.txt
  expect_stdout_contains 'r \"q\" \\b\nline%E9",step="commit"'
  run perf-baseline --db "$db" export --format jsonl
  cp out records.jsonl
  promtool_accepts metrics.txt records.jsonl
  expect_eq "$(grep -c '_bucket{' metrics.txt)" $((14 * 3)) "buckets: 14 for each of 3 series"
}

test_promtool_accepts_a_window_and_an_empty_store() {
  hostile_repo
  db=$(store_of "$repo")
  run perf-baseline --db "$db" export --format prometheus --since 1d
  expect_status 0
  cp out metrics.txt
  run perf-baseline --db "$db" export --format jsonl --since 1d
  cp out records.jsonl
  promtool_accepts metrics.txt records.jsonl
  expect_stdout_contains '"step":"commit"'
  run perf-baseline --db "$db" prune --older-than 1ms
  expect_status 0
  run perf-baseline --db "$db" export --format prometheus
  expect_status 0
  cp out empty.txt
  : >none.jsonl
  promtool_accepts empty.txt none.jsonl
}

# junit_valid FILE: xmllint reads FILE and finds it valid against Jenkins' JUnit schema.
junit_valid() {
  require_consumer xmllint libxml2-utils
  xmllint --noout --schema "$consumers/junit-10.xsd" "$1" >xmllint.out 2>&1 ||
    fail "xmllint: $(cat xmllint.out)"
  grep -q ' validates$' xmllint.out || fail "xmllint did not validate: $(cat xmllint.out)"
}

test_junit_with_no_alert_no_store_or_a_pause_is_valid() {
  make_repo r 1
  run perf-alerts -C r check --format junit
  expect_status 0
  cp out no-store.xml
  junit_valid no-store.xml
  echo 2 >>r/file.txt
  run perf-commit -C r --threshold 1h -m fine
  expect_status 0
  run perf-alerts -C r check --format junit
  expect_status 0
  cp out passing.xml
  junit_valid passing.xml
  grep -q 'failures="0"' passing.xml || fail "a passing report with failures"
  echo 3 >>r/file.txt
  run perf-commit -C r --threshold 1us -m slow
  mkdir -p r/.git/perfguard
  printf 'since=%d\nby=ops\nreason=incident\n' "$NOW_US" >r/.git/perfguard/paused
  run perf-alerts -C r check --format junit
  expect_status 0
  cp out paused.xml
  junit_valid paused.xml
}

test_junit_with_blocking_alerts_is_valid_one_failure_each() {
  make_repo r 1
  local i
  for i in 1 2 3; do
    echo "$i" >>r/file.txt
    run perf-commit -C r --threshold 1us -m "slow $i"
  done
  run perf-alerts -C r check --format junit --fail-on info
  expect_status 3
  cp out report.xml
  junit_valid report.xml
  run perf-alerts -C r list --json
  local alerts
  alerts=$(jq '.alerts | length' out)
  [[ $alerts -ge 2 ]] || fail "three breaches raised $alerts alerts"
  expect_eq "$(grep -c '<failure ' report.xml)" "$alerts" "one failure per alert"
}

# Reads the JUnit report with Python's XML parser (expat) and holds each failing case
# against its alert: the name, the message and the text say the alert's words, with the
# characters XML cannot hold as U+FFFD.
junit_text_is_the_alerts() {
  python3 - "$1" "$2" <<'EOF' || fail "the JUnit report does not say what the alerts say"
import json, re, sys, xml.etree.ElementTree as ET
alerts = json.load(open(sys.argv[2], encoding="utf-8"))["alerts"]
def xml_text(s):
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd", s)
cases = ET.parse(sys.argv[1]).getroot().find("testsuite").findall("testcase")
assert len(cases) == len(alerts), (len(cases), len(alerts))
for case, a in zip(cases, alerts):
    subject = f"{a['rule']} on {a['step']}" + (f" ({a['branch']})" if a["branch"] else "")
    assert case.get("name") == xml_text(f"#{a['id']} {subject}"), (case.get("name"), subject)
    failure = case.find("failure")
    assert failure.get("message") == xml_text(a["summary"]), (failure.get("message"), a)
    assert failure.text.startswith(xml_text(a["summary"]) + "\nrepository: " + xml_text(a["repo"]) + "\n"), failure.text
    assert failure.get("type") == a["severity"]
print(f"{len(cases)} failing cases, each its alert's text")
EOF
}

test_junit_of_alerts_with_markup_controls_and_bytes_not_utf8_is_valid_and_exact() {
  hostile_store "$TEST_DIR/s.db"
  run perf-alerts --db "$TEST_DIR/s.db" scan
  expect_status 0
  run perf-alerts --db "$TEST_DIR/s.db" check --format junit --fail-on info
  expect_status 3
  cp out report.xml
  expect_utf8 report.xml
  junit_valid report.xml
  run perf-alerts --db "$TEST_DIR/s.db" list --json
  cp out alerts.json
  expect_eq "$(jq '.alerts | length' alerts.json)" 2 "alerts of two breaching steps"
  junit_text_is_the_alerts report.xml alerts.json
}

test_github_commands_decode_to_the_alerts_text_one_command_each() {
  hostile_store "$TEST_DIR/s.db"
  run perf-alerts --db "$TEST_DIR/s.db" scan
  hostile_record warn breach 1000000 2000000 "/srv/c" "main" >warn.jsonl
  PERFGUARD_ALERTS_THRESHOLD_SEVERITY=warning run perf-baseline --db "$TEST_DIR/s.db" import \
    --format jsonl "$TEST_DIR/warn.jsonl"
  expect_status 0
  run perf-alerts --db "$TEST_DIR/s.db" check --format github --fail-on info
  expect_status 3
  cp out report.txt
  expect_utf8 report.txt
  run perf-alerts --db "$TEST_DIR/s.db" list --json
  cp out alerts.json
  expect_eq "$(jq '.alerts | length' alerts.json)" 3 "alerts"
  python3 "$consumers/github-commands.py" report.txt alerts.json || fail "GitHub reads other commands"
  # The `::error::x` of every text stays inside its message, after the command's own `::`.
  expect_eq "$(grep -c '^::error title=perfguard #' report.txt)" 2 "error lines"
  expect_eq "$(grep -c '^::warning title=perfguard #' report.txt)" 1 "warning lines"
  grep -q '^::error::x' report.txt && fail "a text started a command of its own"
  return 0
}

test_github_says_paused_as_a_notice() {
  make_repo r 1
  echo 2 >>r/file.txt
  run perf-commit -C r --threshold 1us -m slow
  mkdir -p r/.git/perfguard
  printf 'since=%d\nby=ops\nreason=incident\n' "$NOW_US" >r/.git/perfguard/paused
  run perf-alerts -C r check --format github
  expect_status 0
  expect_eq "$(cat out)" "::notice title=perfguard::paused: monitoring is off for an emergency" "notice"
}

# GitLab documents a Code Quality report as a JSON array of issues, each with a description,
# a check_name, a fingerprint unique in the report, a severity of info, minor, major,
# critical or blocker, and a location: a path relative to the repository and lines.begin, a
# line number.
gitlab_report_is_code_quality() {
  jq -e '
    type == "array" and
    all(.[];
      (keys - ["categories", "check_name", "content", "description", "engine_name",
               "fingerprint", "location", "other_locations", "remediation_points", "severity",
               "type"] | length == 0) and
      (.description | type == "string" and length > 0) and
      (.check_name | type == "string" and length > 0) and
      (.fingerprint | type == "string" and length > 0) and
      (.severity | IN("info", "minor", "major", "critical", "blocker")) and
      (.location.path | type == "string" and length > 0 and (startswith("/") | not)) and
      (.location.lines.begin | type == "number" and . >= 1 and floor == .)) and
    ([.[].fingerprint] | length == (unique | length))' "$1" >/dev/null ||
    fail "not a Code Quality report as GitLab documents it: $(head -c 500 "$1")"
}

test_gitlab_code_quality_of_hostile_alerts_has_the_documented_fields_and_their_text() {
  hostile_store "$TEST_DIR/s.db"
  run perf-alerts --db "$TEST_DIR/s.db" scan
  run perf-alerts --db "$TEST_DIR/s.db" check --format gitlab --fail-on info
  expect_status 3
  cp out report.json
  expect_utf8 report.json
  require_consumer jq jq
  gitlab_report_is_code_quality report.json
  run perf-alerts --db "$TEST_DIR/s.db" list --json
  cp out alerts.json
  expect_eq "$(jq -c '[.[].description]' report.json)" \
    "$(jq -c '[.alerts[] | "#\(.id) \(.summary)"]' alerts.json)" "descriptions"
  make_repo r 1
  run perf-alerts -C r check --format gitlab
  expect_status 0
  expect_eq "$(cat out)" "[]" "no alert, no issue"
}

# otlp_decodes EXPORT STORE: protoc compiles OpenTelemetry's .proto files, and the export
# parses strictly into an ExportTraceServiceRequest that holds what STORE holds.
otlp_decodes() {
  require_consumer protoc protobuf-compiler
  local py
  for py in python3 /usr/bin/python3; do
    "$py" -c 'import google.protobuf' 2>/dev/null && break
    py=
  done
  [[ -n $py ]] ||
    fail "no python3 here has google.protobuf: the Debian package python3-protobuf has it (scripts/install-deps installs it)"
  mkdir -p generated
  (cd "$consumers" && protoc -I . --python_out="$TEST_DIR/generated" \
    opentelemetry/proto/common/v1/common.proto opentelemetry/proto/resource/v1/resource.proto \
    opentelemetry/proto/trace/v1/trace.proto \
    opentelemetry/proto/collector/trace/v1/trace_service.proto) || fail "protoc"
  "$py" "$consumers/otlp-check.py" "$1" "$TEST_DIR/generated" "$2" ||
    fail "the OTLP export is not the store's spans"
}

test_otlp_of_real_commits_and_hostile_records_decodes_into_the_stores_spans() {
  hostile_repo
  db=$(store_of "$repo")
  hostile_store "$db"
  [[ $(sql "$db" "select count(*) from spans") -ge 8 ]] || fail "too few child spans to compare"
  run perf-baseline --db "$db" export --format otlp
  expect_status 0
  cp out traces.json
  expect_utf8 traces.json
  otlp_decodes traces.json "$db"
}

test_otlp_of_an_empty_window_decodes() {
  make_repo r 1
  echo 2 >>r/file.txt
  run perf-commit -C r --threshold 1h -m two
  run perf-baseline -C r export --format otlp --since 1d
  expect_status 0
  cp out traces.json
  otlp_decodes traces.json "$(store_of r)"
  run perf-baseline -C r prune --older-than 1ms
  run perf-baseline -C r export --format otlp
  expect_status 0
  cp out empty.json
  expect_eq "$(jq -c . empty.json)" '{"resourceSpans":[]}' "an empty export"
  otlp_decodes empty.json "$(store_of r)"
}
