# Every command's data output honours --format, and nothing but data reaches stdout: each
# command in each machine format, with stderr set aside, must give output that parses.

# A repository with a few recorded commits and rollbacks, and a baseline.
make_recorded_repo() {
  make_repo r 4
  local i
  for i in 1 2 3; do
    echo "change $i" >r/file.txt
    perf-commit -C r -q -m "change $i" || fail "commit $i"
  done
  perf-rollback -C r -q --no-validate || fail "rollback"
  perf-baseline -C r compute --min-samples 1 -q >/dev/null || fail "compute"
}

# expect_parses FORMAT: stdout ($TEST_DIR/out) is well-formed FORMAT.
expect_parses() {
  case $1 in
    json) jq -e . out >/dev/null || fail "not one JSON value: $(head -c 300 out)" ;;
    jsonl)
      while IFS= read -r line; do
        jq -e . <<<"$line" >/dev/null || fail "not a JSON line: $line"
      done <out ;;
    csv | tsv)
      local sep=, fields
      [[ $1 == tsv ]] && sep=$'\t'
      [[ -s out ]] || return 0
      # Every line has as many fields as the header (no quoted separators in these cells).
      fields=$(head -1 out | awk -F"$sep" '{print NF}')
      awk -F"$sep" -v n="$fields" 'NF != n { exit 1 }' out ||
        fail "$1 lines with another number of fields than the header: $(head -c 300 out)" ;;
  esac
}

# Runs one command in every machine format and checks what reached stdout.
expect_data_only() {
  local format
  for format in json jsonl csv tsv; do
    "$@" --format "$format" >out 2>/dev/null
    status=$?
    [[ $status -eq 0 || $status -eq 3 ]] || fail "$* --format $format exited $status"
    expect_parses "$format"
  done
}

test_perf_baseline_queries_write_only_data_in_every_format() {
  make_recorded_repo
  local cmd
  for cmd in stats show trend slowest; do
    expect_data_only perf-baseline -C r "$cmd"
  done
  expect_data_only perf-baseline -C r compute --min-samples 1
}

test_perf_rollback_commands_write_only_data_in_every_format() {
  make_recorded_repo
  expect_data_only perf-rollback -C r --list-snapshots
  expect_data_only perf-rollback -C r --dry-run
  expect_data_only perf-rollback -C r --undo --dry-run
}

test_perf_commit_and_perf_rollback_steps_write_only_data_in_every_format() {
  make_repo r 6
  local format
  for format in json jsonl csv tsv; do
    echo "$format" >r/file.txt
    perf-commit -C r -m "$format" --format "$format" >out 2>/dev/null || fail "perf-commit --format $format"
    expect_parses "$format"
    perf-rollback -C r --format "$format" >out 2>/dev/null || fail "perf-rollback --format $format"
    expect_parses "$format"
  done
}
