# perf-recover verify, diagnose and optimize (perf-recover-inspect): snapshots checked object
# by object and against the store, the repository diagnosed, and the recommendations shown,
# applied and scheduled, on real repositories and real snapshots taken by perf-rollback.

# rollback_with_snapshot [FLAGS…]: a local change to r/file.txt rolled back by perf-rollback,
# which snapshots it first; SNAPSHOT_ID is that snapshot, LOCAL_BLOB the blob of the change
# (which only the snapshot holds).
rollback_with_snapshot() {
  echo "local change $RANDOM$RANDOM" >r/file.txt
  LOCAL_BLOB=$(git -C r hash-object file.txt)
  run perf-rollback -C r --json "$@"
  expect_status 0
  SNAPSHOT_ID=$(jq -r '.snapshot.id' "$TEST_DIR/out")
  [[ -n $SNAPSHOT_ID && $SNAPSHOT_ID != null ]] || fail "no snapshot id in perf-rollback's output"
}

# loose_object_path OID: where r keeps OID as a loose object.
loose_object_path() {
  echo "r/.git/objects/${1:0:2}/${1:2}"
}

# snapshot_blob ID: the blob of the local change, which the snapshot holds under files/.
snapshot_blob() {
  git -C r ls-tree -r "refs/perfguard/snapshots/$1" -- "files/$LOCAL_BLOB" | awk '{ print $3 }'
}

# only_git_on_path DIR: DIR holds git, perf-recover and perf-recover-inspect and nothing else,
# so that no crontab, systemctl or launchctl can be found on PATH=DIR.
only_git_on_path() {
  mkdir -p "$1"
  ln -s "$(command -v git)" "$1/git"
  ln -s "$PERFGUARD_BIN/perf-recover" "$1/perf-recover"
  ln -s "$PERFGUARD_BIN/perf-recover-inspect" "$1/perf-recover-inspect"
}

config_and_refs() {
  git -C "$1" config --list --local
  git -C "$1" for-each-ref
  cat "$HOME/.gitconfig"
}

# --- verify

test_verify_passes_on_the_snapshots_perf_rollback_took() {
  make_repo r 3
  rollback_with_snapshot
  rollback_with_snapshot
  run perf-recover -C r verify
  expect_status 0
  expect_stdout_contains "verified 2 snapshots"
  expect_stdout_contains "the store records 2 snapshots: all present and readable, in agreement"
  expect_eq "$(grep -c . "$TEST_DIR/out")" 1 "lines of output"
}

test_verify_names_a_deleted_blob_of_a_snapshot_and_exits_1() {
  make_repo r 3
  rollback_with_snapshot
  local blob
  blob=$(snapshot_blob "$SNAPSHOT_ID")
  [[ -n $blob ]] || fail "the snapshot holds no blob under files/"
  expect_file_exists "$(loose_object_path "$blob")"
  rm -f "$(loose_object_path "$blob")"
  run perf-recover -C r verify
  expect_status 1
  expect_stdout_contains "snapshot $SNAPSHOT_ID: files/$blob ($blob) missing"
  expect_eq "$(grep -c "$blob" "$TEST_DIR/out")" 1 "lines naming the blob"
  expect_stdout_contains "1 problem"
}

test_verify_names_a_damaged_object_as_unreadable() {
  make_repo r 3
  rollback_with_snapshot
  local blob file
  blob=$(snapshot_blob "$SNAPSHOT_ID")
  file=$(loose_object_path "$blob")
  chmod u+w "$file"
  printf 'not zlib at all' >"$file"
  run perf-recover -C r verify
  expect_status 1
  expect_stdout_contains "files/$blob ($blob) unreadable"
}

test_verify_finds_a_store_record_whose_ref_is_gone() {
  make_repo r 3
  rollback_with_snapshot
  git -C r update-ref -d "refs/perfguard/snapshots/$SNAPSHOT_ID" || fail "deleting the ref"
  run perf-recover -C r verify
  expect_status 1
  expect_stdout_contains "snapshot $SNAPSHOT_ID: the store records it but refs/perfguard/snapshots/$SNAPSHOT_ID does not exist"
}

test_verify_finds_a_snapshot_the_store_does_not_record() {
  make_repo r 3
  rollback_with_snapshot
  rollback_with_snapshot --no-record
  run perf-recover -C r verify
  expect_status 1
  expect_stdout_contains "snapshot $SNAPSHOT_ID: the store has no record of it"
  expect_eq "$(grep -c 'snapshot ' "$TEST_DIR/out")" 1 "problem lines"
}

test_verify_finds_a_store_row_naming_another_commit() {
  make_repo r 3
  rollback_with_snapshot
  sql "$(store_of r)" "update snapshots set commit_id = '$(git -C r rev-parse HEAD)'"
  run perf-recover -C r verify
  expect_status 1
  expect_stdout_contains "snapshot $SNAPSHOT_ID: the ref points to"
}

test_verify_without_a_store_checks_the_refs_alone() {
  make_repo r 3
  rollback_with_snapshot --no-record
  expect_no_file "$(store_of r)"
  run perf-recover -C r verify
  expect_status 0
  expect_stdout_contains "verified 1 snapshot"
  expect_stdout_contains "the store has no records"
  expect_no_file "$(store_of r)"
}

test_verify_json_lists_each_problem_with_its_kind() {
  make_repo r 3
  rollback_with_snapshot
  local blob
  blob=$(snapshot_blob "$SNAPSHOT_ID")
  rm -f "$(loose_object_path "$blob")"
  run perf-recover -C r verify --json
  expect_status 1
  expect_eq "$(jq -r '.problems[] | "\(.kind) \(.snapshot) \(.object) \(.path)"' "$TEST_DIR/out")" \
    "missing_object $SNAPSHOT_ID $blob files/$blob" "the problem"
  expect_eq "$(jq -r '"\(.ok) \(.snapshots) \(.store) \(.stored)"' "$TEST_DIR/out")" \
    "false 1 true 1" "the members"
  run perf-recover -C r verify --format csv
  expect_status 1
  expect_eq "$(head -n 1 "$TEST_DIR/out")" "kind,snapshot,object,path,message" "csv header"
}

test_verify_with_no_snapshots_says_so_and_exits_0() {
  make_repo r 1
  run perf-recover -C r verify
  expect_status 0
  expect_stderr_contains "perf-recover: no snapshots to verify"
  expect_stderr_lines 1
}

# --- diagnose

test_diagnose_lists_the_figures_settings_and_machine() {
  make_repo r 3
  run perf-recover -C r diagnose
  expect_status 0
  local word
  for word in loose_objects packs commits index_entries index_version commit_graph_layers \
    disk_free load_1m core.untrackedCache core.fsmonitor index.threads core.preloadIndex \
    feature.manyFiles gc.auto pack.packSizeLimit "commit-graph absent"; do
    expect_stdout_contains "$word"
  done
}

test_diagnose_recommends_untracked_cache_and_commit_graph_where_they_are_missing() {
  make_repo r 3
  run perf-recover -C r diagnose
  expect_status 0
  expect_stdout_contains "git commit-graph write --reachable"
  expect_stdout_contains "git config core.untrackedCache true"
}

test_diagnose_stops_recommending_what_is_set() {
  make_repo r 3
  git -C r config core.untrackedCache true
  git -C r commit-graph write --reachable
  run perf-recover -C r diagnose
  expect_status 0
  expect_stdout_contains "commit-graph present"
  grep -q "git config core.untrackedCache" "$TEST_DIR/out" && fail "still recommends the untracked cache"
  grep -q "commit-graph write" "$TEST_DIR/out" && fail "still recommends a commit-graph"
  true
}

test_diagnose_recommends_gc_when_auto_gc_is_off() {
  make_repo r 1
  git -C r config gc.auto 0
  run perf-recover -C r diagnose --format jsonl
  expect_status 0
  expect_eq "$(jq -r 'select(.section == "recommendation" and .name == "gc.auto") | .command' "$TEST_DIR/out")" \
    "git config gc.auto 6700" "the gc.auto recommendation"
}

# (The case's name must not hold the word it looks for: it is in the test's directory.)
test_diagnose_never_recommends_dropping_the_index_checksum() {
  make_repo r 3
  git -C r config feature.manyFiles true
  local format
  for format in text json csv; do
    run perf-recover -C r diagnose --format "$format"
    expect_status 0
    grep -qi skiphash "$TEST_DIR/out" "$TEST_DIR/err" && fail "diagnose ($format) says skipHash"
  done
  run perf-recover -C r optimize
  grep -qi skiphash "$TEST_DIR/out" "$TEST_DIR/err" && fail "optimize says skipHash"
  true
}

test_diagnose_says_fscache_is_for_windows_only() {
  make_repo r 1
  run perf-recover -C r diagnose
  expect_status 0
  expect_stdout_contains "core.fscache exists on Windows only"
  grep -q "git config core.fscache" "$TEST_DIR/out" && fail "recommends core.fscache"
  true
}

test_diagnose_lists_the_slowest_recorded_steps_with_their_spans() {
  make_repo r 1
  echo change >r/file.txt
  run perf-commit -C r -m change
  expect_status 0
  run perf-recover -C r diagnose --json
  expect_status 0
  expect_eq "$(jq -r '.items[] | select(.section == "step") | .name' "$TEST_DIR/out")" "commit" "the step"
  jq -r '.items[] | select(.section == "step") | .detail' "$TEST_DIR/out" | grep -q "add " ||
    fail "the step's child spans are not named"
}

test_diagnose_ranks_recommendations_each_with_a_command() {
  make_repo r 3
  run perf-recover -C r diagnose --json
  expect_status 0
  expect_eq "$(jq -r '[.items[] | select(.section == "recommendation") | .rank] | map(tostring) | join(" ")' "$TEST_DIR/out")" \
    "1 2" "ranks"
  expect_eq "$(jq -r '[.items[] | select(.section == "recommendation" and (.command | startswith("git ") | not))] | length' "$TEST_DIR/out")" \
    0 "recommendations without a git command"
}

# --- optimize

test_optimize_shows_the_plan_and_changes_nothing() {
  make_repo r 3
  touch "$HOME/.gitconfig"
  config_and_refs r >before.txt
  state_of r >state-before.txt
  run perf-recover -C r optimize
  expect_status 0
  expect_stdout_contains "would run"
  expect_stdout_contains "git config core.untrackedCache true"
  config_and_refs r >after.txt
  state_of r >state-after.txt
  cmp -s before.txt after.txt || fail "optimize changed the config or the refs: $(diff before.txt after.txt)"
  cmp -s state-before.txt state-after.txt || fail "optimize changed the work tree or index"
  expect_no_file r/.git/objects/info/commit-graph
}

test_optimize_apply_sets_the_config_and_diagnose_stops_recommending_it() {
  make_repo r 3
  touch "$HOME/.gitconfig"
  cp "$HOME/.gitconfig" global-before
  echo uncommitted >r/file.txt
  state_of r >state-before.txt
  run perf-recover -C r optimize --apply --runs 1
  expect_status 0
  expect_stdout_contains "git config core.untrackedCache true"
  expect_stdout_contains "done"
  local step
  for step in commit rollback validate status; do
    grep -qE "^$step +[0-9]" "$TEST_DIR/out" || fail "no timing of $step"
  done
  expect_eq "$(git -C r config --local core.untrackedCache)" true "core.untrackedCache"
  expect_file_exists r/.git/objects/info/commit-graph
  cmp -s global-before "$HOME/.gitconfig" || fail "the global config was changed"
  state_of r >state-after.txt
  cmp -s state-before.txt state-after.txt || fail "the work tree, index or HEAD changed"
  run perf-recover -C r diagnose
  expect_status 0
  grep -q "git config core.untrackedCache" "$TEST_DIR/out" && fail "still recommends the untracked cache"
  grep -q "commit-graph write" "$TEST_DIR/out" && fail "still recommends a commit-graph"
  ls r/.git/perfguard | grep -q clone && fail "a throwaway clone was left behind"
  true
}

test_optimize_apply_with_nothing_to_do_times_nothing() {
  make_repo r 3
  git -C r config core.untrackedCache true
  git -C r commit-graph write --reachable
  run perf-recover -C r optimize --apply
  expect_status 0
  expect_stdout_contains "nothing to do"
}

test_optimize_apply_refuses_during_a_rebase_and_changes_nothing() {
  make_repo r 1
  git -C r checkout -qb other
  echo theirs >r/file.txt && git -C r commit -qam theirs
  git -C r checkout -q main
  echo ours >r/file.txt && git -C r commit -qam ours
  git -C r checkout -q other
  git -C r rebase main >/dev/null 2>&1 && fail "the rebase did not stop on its conflict"
  [[ -d r/.git/rebase-merge ]] || fail "no rebase in progress"
  touch "$HOME/.gitconfig"
  config_and_refs r >before.txt
  run perf-recover -C r optimize --apply
  expect_status 5
  expect_stderr_contains "perf-recover: a rebase is in progress"
  expect_stderr_lines 1
  config_and_refs r >after.txt
  cmp -s before.txt after.txt || fail "the refused run changed something"
}

test_optimize_apply_refuses_before_the_first_commit() {
  git init -q r
  touch "$HOME/.gitconfig"
  config_and_refs r >before.txt
  run perf-recover -C r optimize --apply
  expect_status 5
  expect_stderr_contains "perf-recover: HEAD has no commit yet"
  config_and_refs r >after.txt
  cmp -s before.txt after.txt || fail "the refused run changed something"
}

test_schedule_prints_crontab_lines_where_git_cannot_schedule() {
  make_repo r 1
  only_git_on_path bin
  touch "$HOME/.gitconfig"
  cp "$HOME/.gitconfig" global-before
  PATH=$PWD/bin run perf-recover -C r optimize --schedule
  expect_status 0
  expect_stderr_contains "perf-recover: git maintenance start could not register maintenance"
  expect_stderr_lines 1
  expect_stdout_contains "17 3 * * * git -C $PWD/r gc --auto"
  expect_stdout_contains "27 4 * * 0 git -C $PWD/r repack -ad"
  expect_stdout_contains "37 5 1 * * git -C $PWD/r fsck --full"
  cmp -s global-before "$HOME/.gitconfig" || fail "the global config was changed"
  PATH=$PWD/bin run perf-recover -C r optimize --schedule --json
  expect_eq "$(jq -r '.items[] | select(.section == "schedule") | .applied' "$TEST_DIR/out")" \
    false "registered"
  expect_eq "$(jq -r '[.items[] | select(.section == "crontab")] | length' "$TEST_DIR/out")" \
    4 "crontab lines"
}

# --- bad input

test_outside_a_repository_each_command_exits_2_with_one_line() {
  mkdir plain
  local command
  for command in verify diagnose optimize; do
    GIT_CEILING_DIRECTORIES=$PWD run perf-recover -C plain "$command"
    expect_status 2
    expect_stderr_lines 1
    grep -q '^perf-recover: ' "$TEST_DIR/err" || fail "$command: the error is not prefixed"
  done
}

test_a_bare_repository_is_refused_with_one_line() {
  git init -q --bare b.git
  local command
  for command in verify diagnose "optimize --apply"; do
    # shellcheck disable=SC2086
    run perf-recover -C b.git $command
    expect_status 2
    expect_stderr_contains "is a bare repository"
    expect_stderr_lines 1
  done
}

test_an_empty_repository_is_diagnosed_and_has_nothing_to_verify() {
  git init -q r
  run perf-recover -C r verify
  expect_status 0
  expect_stderr_contains "no snapshots to verify"
  run perf-recover -C r diagnose
  expect_status 0
  expect_stdout_contains "git config core.untrackedCache true"
  grep -q "commit-graph write" "$TEST_DIR/out" && fail "a commit-graph for no commits"
  true
}

test_an_unknown_option_exits_2_and_changes_nothing() {
  make_repo r 1
  touch "$HOME/.gitconfig"
  config_and_refs r >before.txt
  local command
  for command in verify diagnose optimize; do
    run perf-recover -C r "$command" --bogus
    expect_status 2
    grep -q '^perf-recover: ' "$TEST_DIR/err" || fail "$command: the error is not prefixed"
  done
  run perf-recover -C r optimize --runs 0 --apply
  expect_status 2
  config_and_refs r >after.txt
  cmp -s before.txt after.txt || fail "a usage error changed something"
}

test_perf_recover_itself_does_not_load_libgit2() {
  command -v ldd >/dev/null || skip "ldd is not installed"
  ldd "$PERFGUARD_BIN/perf-recover" | grep -q libgit2 && fail "perf-recover links libgit2"
  ldd "$PERFGUARD_BIN/perf-recover-inspect" | grep -q libgit2 || fail "perf-recover-inspect does not link libgit2"
  true
}
