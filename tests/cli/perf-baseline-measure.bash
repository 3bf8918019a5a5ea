# perf-baseline measure: synthetic runs in a throwaway clone; the user's work is untouched.

# user_repo DIR: a repository with history, local changes (staged, unstaged, untracked) and
# a store.
user_repo() {
  make_repo "$1" 3
  echo staged >"$1/staged.txt" && git -C "$1" add staged.txt
  echo "local edit" >>"$1/file.txt"
  echo untracked >"$1/untracked.txt"
  db=$(store_of "$1")
}

# everything_of DIR: the work tree, index, HEAD and every ref but refs/perfguard, as text.
everything_of() {
  state_of "$1"
  echo "index bytes: $(sha256sum <"$1/.git/index")"
  echo "HEAD file: $(cat "$1/.git/HEAD")"
  echo "refs:"; git -C "$1" for-each-ref --format='%(refname) %(objectname)' | grep -v '^refs/perfguard/'
  echo "config: $(sha256sum <"$1/.git/config")"
  echo "objects: $(find "$1/.git/objects" -type f | sort | sha256sum)"
}

measure_dirs() { find "$(dirname "$db")" -maxdepth 1 -name 'measure-*' 2>/dev/null; }

test_measure_records_runs_times_steps_as_synthetic() {
  user_repo r
  run perf-baseline -C r measure --runs 3
  expect_status 0
  expect_stdout_contains "recorded 3 runs of commit, rollback, validate with synthetic=true"
  expect_sql "$db" "select count(*) from steps" 9
  expect_sql "$db" "select step, count(*) from steps group by step order by step" \
    "$(printf 'commit|3\nrollback|3\nvalidate|3')"
  expect_sql "$db" "select count(*) from steps where labels like '%\"synthetic\":\"true\"%'
    or labels like '%synthetic=true%'" 9
  [[ -z $(measure_dirs) ]] || fail "the throwaway clone is still there: $(measure_dirs)"
}

test_measure_leaves_work_tree_index_head_and_refs_unchanged() {
  user_repo r
  git -C r branch feature
  git -C r tag v1
  everything_of r >before
  run perf-baseline -C r measure --runs 2
  expect_status 0
  everything_of r >after
  diff before after || fail "measure changed the user's repository"
  [[ -z $(measure_dirs) ]] || fail "the throwaway clone is still there"
}

test_measure_steps_option_chooses_what_is_recorded() {
  user_repo r
  run perf-baseline -C r measure --runs 2 --steps commit --format jsonl
  expect_status 0
  expect_eq "$(wc -l <out)" 2 "jsonl lines"
  grep -q '"step":"commit"' out || fail "no commit record"
  grep -q '"synthetic"' out || fail "the records are not labelled synthetic"
  expect_sql "$db" "select count(*) from steps where step = 'commit'" 2
  expect_sql "$db" "select count(*) from steps where step != 'commit'" 0
}

test_measure_json_and_csv_formats() {
  user_repo r
  run perf-baseline -C r measure --runs 1 --steps commit,validate --json
  expect_status 0
  expect_eq "$(sqlite3 :memory: "select json_array_length(json_extract(readfile('out'), '\$.steps'))")" 2
  run perf-baseline -C r measure --runs 1 --steps rollback --format csv
  expect_status 0
  expect_eq "$(wc -l <out)" 2 "csv header and one row"
}

test_measure_bad_steps_or_runs_is_usage_error_and_records_nothing() {
  user_repo r
  everything_of r >before
  run perf-baseline -C r measure --steps commit,merge
  expect_status 2
  expect_stderr_contains "'merge' is not a step"
  expect_stderr_lines 1
  run perf-baseline -C r measure --runs 0
  expect_status 2
  expect_stderr_contains "--runs"
  expect_stderr_lines 1
  expect_no_file "$db"
  everything_of r >after
  diff before after || fail "the repository changed"
}

test_measure_refuses_an_unborn_head() {
  git init -q r
  echo x >r/x
  run perf-baseline -C r measure --runs 1
  expect_status 5
  expect_stderr_contains "unborn"
  expect_stderr_lines 1
  expect_eq "$(git -C r status --porcelain)" "?? x" "work tree"
  expect_no_file "$(store_of r)"
}

test_measure_ctrl_c_exits_130_and_leaves_no_clone() {
  user_repo r
  everything_of r >before
  # A slow git: every `git add` in the clone sleeps, so the signal lands mid-run.
  mkdir -p bin
  cat >bin/git <<EOF
#!/bin/sh
case " \$* " in *" add "*) sleep 0.4 ;; esac
exec $(command -v git) "\$@"
EOF
  chmod +x bin/git
  PATH="$TEST_DIR/bin:$PATH" perf-baseline -C r measure --runs 50 >out 2>err &
  local pid=$! i
  for ((i = 0; i < 1200; i++)); do  # up to a minute on a loaded machine
    [[ -n $(measure_dirs) ]] && break
    sleep 0.05
  done
  [[ -n $(measure_dirs) ]] || fail "measure never made its clone"
  sleep 1
  kill -INT $pid
  wait $pid
  status=$?
  cat err >&2
  expect_status 130
  grep -q "interrupted" err || fail "no word of the interrupt"
  [[ -z $(measure_dirs) ]] || fail "the throwaway clone is still there: $(measure_dirs)"
  everything_of r >after
  diff before after || fail "the interrupted measure changed the user's repository"
}

test_measure_sigterm_also_cleans_up() {
  user_repo r
  mkdir -p bin
  cat >bin/git <<EOF
#!/bin/sh
case " \$* " in *" add "*) sleep 0.4 ;; esac
exec $(command -v git) "\$@"
EOF
  chmod +x bin/git
  everything_of r >before
  PATH="$TEST_DIR/bin:$PATH" perf-baseline -C r measure --runs 50 >out 2>err &
  local pid=$! i
  # Mid-run: once the throwaway clone is there, not after a guessed time.
  for ((i = 0; i < 2400; i++)); do
    [[ -n $(measure_dirs) ]] && break
    sleep 0.05
  done
  [[ -n $(measure_dirs) ]] || fail "measure never made its clone"
  kill -TERM $pid
  wait $pid
  status=$?
  cat err >&2
  expect_status 130
  grep -q "interrupted" err || fail "no word of the interrupt"
  [[ -z $(measure_dirs) ]] || fail "the throwaway clone is still there"
  everything_of r >after
  diff before after || fail "the interrupted measure changed the user's repository"
}

test_measure_removes_the_clone_a_killed_measure_left() {
  user_repo r
  mkdir -p bin
  # A git whose first `add` in the clone says so and then waits to be killed.
  cat >bin/git <<EOF
#!/bin/sh
case " \$* " in *" add "*) touch "$TEST_DIR/in-add"; exec sleep 600 ;; esac
exec $(command -v git) "\$@"
EOF
  chmod +x bin/git
  PATH="$TEST_DIR/bin:$PATH" setsid perf-baseline -C r measure --runs 5 >out 2>err &
  local pid=$! i
  for ((i = 0; i < 1200; i++)); do [[ -e in-add ]] && break; sleep 0.05; done
  [[ -e in-add ]] || fail "the measure never reached its clone's git add"
  while pgrep -s "$pid" >/dev/null; do pkill -KILL -s "$pid"; sleep 0.05; done
  wait "$pid" 2>/dev/null
  [[ -n $(measure_dirs) ]] || fail "the killed measure left no clone to clean up"
  run perf-baseline -C r measure --runs 1
  expect_status 0
  [[ -z $(measure_dirs) ]] || fail "the killed measure's clone is still there: $(measure_dirs)"
}
