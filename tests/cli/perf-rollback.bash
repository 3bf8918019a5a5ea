# perf-rollback: snapshot, roll back, validate; nothing is ever lost.

# These cases prove what is restored, not how fast: a loaded machine must not turn a
# rollback into a breach (exit 3). The threshold cases pass their own --threshold.
export PERFGUARD_THRESHOLDS_ROLLBACK=1h PERFGUARD_THRESHOLDS_VALIDATE=1h

# A repository with three commits and every kind of local change: staged, unstaged,
# untracked, a deletion, an executable bit, names with spaces and non-ASCII characters.
make_dirty_repo() {
  make_repo "$1" 3
  (
    cd "$1" || exit 1
    printf 'staged\n' >staged.txt && git add staged.txt
    printf 'staged then changed\n' >both.txt && git add both.txt && printf 'changed again\n' >both.txt
    printf 'version 3 edited\n' >file.txt
    printf 'untracked\n' >"untracked file.txt"
    printf 'naïve café\n' >"données é.txt"
    mkdir -p "new dir" && printf 'deep\n' >"new dir/ünïcode name.md"
    printf '#!/bin/sh\n' >tool.sh && chmod +x tool.sh
    printf 'ignored\n' >build.log && printf '*.log\n' >.gitignore
  )
}

test_rollback_moves_head_and_validates() {
  make_repo r 3
  before=$(git -C r rev-parse HEAD)
  run perf-rollback -C r
  expect_status 0
  expect_eq "$(git -C r rev-parse HEAD)" "$(git -C r rev-parse "$before~1")" "HEAD"
  expect_stdout_contains "rollback "
  expect_stdout_contains "validate "
  expect_stdout_contains "undo with \`perf-rollback --undo "
  db=$(store_of r)
  expect_sql "$db" "select group_concat(step || ':' || status, ' ') from (select * from step_results order by step)" "rollback:ok validate:ok"
  expect_sql "$db" "select group_concat(name, ',') from (select name from child_spans where step = 'rollback' order by offset_ms)" "snapshot,reset"
  expect_sql "$db" "select group_concat(name, ',') from (select name from child_spans where step = 'validate' order by offset_ms)" "status,log"
  expect_sql "$db" "select count(distinct trace_id) from step_results" 1
  expect_sql "$db" "select head_before = '$before' from step_results where step = 'rollback'" 1
  expect_sql "$db" "select count(*) from snapshots" 1
}

test_rollback_with_every_kind_of_change_then_undo_restores_byte_for_byte() {
  make_dirty_repo r
  state_before=$(state_of r)
  head_before=$(git -C r rev-parse HEAD)
  run perf-rollback -C r HEAD~2
  expect_status 0
  expect_eq "$(git -C r rev-parse HEAD)" "$(git -C r rev-parse "$head_before~2")" "HEAD after rollback"
  run perf-rollback -C r --undo
  expect_status 0
  state_after=$(state_of r)
  if [[ "$state_before" != "$state_after" ]]; then
    diff <(echo "$state_before") <(echo "$state_after") >&2
    fail "undo did not restore the repository exactly"
  fi
  expect_eq "$(cat r/build.log)" "ignored" "ignored file untouched"
}

test_undo_of_a_named_snapshot_and_undo_of_the_undo() {
  make_repo r 3
  echo local >r/file.txt
  run perf-rollback -C r --json
  expect_status 0
  id=$(sed -n 's/.*"snapshot":{"id":"\([^"]*\)".*/\1/p' out)
  [[ -n $id ]] || fail "no snapshot id in the json output"
  after_rollback=$(state_of r)
  run perf-rollback -C r --undo "$id"
  expect_status 0
  expect_eq "$(cat r/file.txt)" "local" "the local change is back"
  run perf-rollback -C r --undo
  expect_status 0
  expect_eq "$(state_of r)" "$after_rollback" "undoing the undo"
}

test_list_snapshots_shows_each_newest_first() {
  make_repo r 4
  perf-rollback -C r -q && perf-rollback -C r -q || fail "rollbacks"
  run perf-rollback -C r --list-snapshots
  expect_status 0
  expect_eq "$(wc -l <out)" 2 "two snapshots"
  first=$(head -1 out | cut -d' ' -f1)
  expect_eq "$first" "$(git -C r for-each-ref --sort=-refname --format='%(refname:lstrip=3)' refs/perfguard/snapshots/ | head -1)" "newest first"
}

test_refuses_unborn_head_exit_5() {
  git init -q r
  echo x >r/x
  run perf-rollback -C r
  expect_status 5
  expect_stderr_contains "no commit yet"
  expect_stderr_lines 1
  expect_eq "$(git -C r status --porcelain)" "?? x" "work tree"
  expect_eq "$(git -C r for-each-ref)" "" "refs"
  expect_no_file "$(store_of r)"
}

test_refuses_rollback_past_root_commit_exit_5() {
  make_repo r 1
  echo local >r/file.txt
  before=$(state_of r)
  run perf-rollback -C r
  expect_status 5
  expect_stderr_contains "perf-rollback: HEAD~1 does not exist: HEAD is the root commit"
  expect_stderr_lines 1
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_eq "$(snapshot_count r)" 0 "no snapshot"
}

test_unknown_target_is_usage_error_exit_2() {
  make_repo r 2
  before=$(state_of r)
  run perf-rollback -C r no-such-branch
  expect_status 2
  expect_stderr_contains "unknown revision 'no-such-branch'"
  expect_stderr_lines 1
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_eq "$(snapshot_count r)" 0 "no snapshot"
}

expect_refused_in_progress() {
  local what=$1
  before=$(state_of r)
  run perf-rollback -C r
  expect_status 5
  expect_stderr_contains "$what is in progress"
  expect_stderr_lines 1
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_eq "$(snapshot_count r)" 0 "no snapshot"
}

# Two branches that change the same line of file.txt.
make_conflicting_branches() {
  make_repo r 2
  git -C r checkout -q -b other HEAD~1
  echo other >r/file.txt && git -C r commit -qam other
  git -C r checkout -q main
}

test_refuses_during_merge_exit_5() {
  make_conflicting_branches
  git -C r merge -q other >/dev/null 2>&1 && fail "merge should conflict"
  expect_refused_in_progress "merge"
}

# The snapshot holds the index file itself and the merge's state files, so even a merge
# with unresolved conflicts can be rolled back with --force and put back exactly.
test_force_over_unresolved_conflicts_then_undo_restores_the_merge_exactly() {
  make_conflicting_branches
  git -C r merge -q other >/dev/null 2>&1 && fail "merge should conflict"
  before=$(state_of r; cat r/.git/MERGE_HEAD r/.git/MERGE_MSG)
  run perf-rollback -C r --force HEAD
  expect_status 0
  expect_no_file r/.git/MERGE_HEAD
  expect_eq "$(git -C r ls-files -u | wc -l)" 0 "no conflict after the rollback"
  run perf-rollback -C r --undo
  expect_status 0
  expect_eq "$(state_of r; cat r/.git/MERGE_HEAD r/.git/MERGE_MSG)" "$before" "the merge is back"
  git -C r merge --abort || fail "the merge can be aborted as before"
}

test_force_runs_over_a_merge_without_conflicts() {
  make_conflicting_branches
  echo extra >r/extra.txt && git -C r add extra.txt && git -C r commit -qm extra
  git -C r checkout -q -b side HEAD~1 && echo side >r/side.txt && git -C r add side.txt &&
    git -C r commit -qm side && git -C r checkout -q main
  git -C r merge -q --no-commit side >/dev/null 2>&1 || fail "clean merge"
  run perf-rollback -C r --force HEAD
  expect_status 0
  expect_eq "$(snapshot_count r)" 1 "snapshot taken"
}

test_refuses_during_rebase_exit_5() {
  make_conflicting_branches
  git -C r checkout -q other
  git -C r rebase -q main >/dev/null 2>&1 && fail "rebase should conflict"
  expect_refused_in_progress "rebase"
}

test_refuses_during_cherry_pick_exit_5() {
  make_conflicting_branches
  git -C r cherry-pick other >/dev/null 2>&1 && fail "cherry-pick should conflict"
  expect_refused_in_progress "cherry-pick"
}

test_refuses_while_index_lock_held_naming_it_exit_5() {
  make_repo r 2
  echo local >r/file.txt
  state=$(state_of r)
  touch r/.git/index.lock
  before=$(git -C r rev-parse HEAD)
  run perf-rollback -C r
  expect_status 5
  expect_stderr_contains "$(cd r && pwd)/.git/index.lock exists"
  expect_stderr_lines 1
  expect_eq "$(git -C r rev-parse HEAD)" "$before" "HEAD unchanged"
  expect_eq "$(snapshot_count r)" 0 "no snapshot"
  rm r/.git/index.lock
  expect_eq "$(state_of r)" "$state" "nothing changed"
}

# expect_rollback_refused_by_lock LOCK-NAME held|stale [--undo]: a rollback (or an undo)
# over a lock git needs is refused before anything runs, saying whether the lock's owner
# still runs.
expect_rollback_refused_by_lock() {
  make_dirty_repo r
  if [[ ${3:-} == --undo ]]; then
    perf-rollback -C r -q || fail "rollback"
  fi
  local lock snapshots
  lock=$(cd r && pwd)/.git/$1
  before=$(state_of r)
  snapshots=$(snapshot_count r)
  if [[ $2 == held ]]; then hold_file "$lock"; else : >"$lock"; fi
  run perf-rollback -C r ${3:-}
  if [[ $2 == held ]]; then expect_refused_by_held_lock "$lock"; else expect_refused_by_stale_lock "$lock"; fi
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_eq "$(snapshot_count r)" "$snapshots" "no snapshot taken"
  if [[ $2 == stale ]]; then
    run_the_advised_rm
    run perf-rollback -C r ${3:-}
    expect_status 0
  fi
}

test_index_lock_held_by_a_running_process_refuses_rollback_saying_so_exit_5() {
  expect_rollback_refused_by_lock index.lock held
}

test_stale_index_lock_refuses_rollback_giving_the_rm_command_exit_5() {
  expect_rollback_refused_by_lock index.lock stale
}

test_index_lock_held_by_a_running_process_refuses_undo_saying_so_exit_5() {
  expect_rollback_refused_by_lock index.lock held --undo
}

test_stale_index_lock_refuses_undo_giving_the_rm_command_exit_5() {
  expect_rollback_refused_by_lock index.lock stale --undo
}

test_dry_run_prints_plan_and_changes_nothing() {
  make_dirty_repo r
  before=$(state_of r)
  run perf-rollback -C r --dry-run
  expect_status 0
  expect_stdout_contains "would run: git reset --hard"
  expect_stdout_contains "local changes"
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_eq "$(snapshot_count r)" 0 "no snapshot"
  expect_no_file "$(store_of r)"
}

test_keep_refuses_to_touch_local_changes_but_snapshot_is_kept() {
  make_repo r 3
  echo local >r/file.txt
  run perf-rollback -C r --keep
  expect_status 1
  expect_eq "$(cat r/file.txt)" "local" "local change kept"
  expect_eq "$(snapshot_count r)" 1 "snapshot taken first"
  expect_sql "$(store_of r)" "select status from step_results" "failed"
}

test_paths_restores_only_those_paths() {
  make_repo r 1
  echo a1 >r/a && echo b1 >r/b && git -C r add -A && git -C r commit -qm ab1
  echo a2 >r/a && echo b2 >r/b && git -C r add -A && git -C r commit -qm ab2
  head=$(git -C r rev-parse HEAD)
  run perf-rollback -C r HEAD~1 -- a
  expect_status 0
  expect_eq "$(cat r/a)" a1 "a restored"
  expect_eq "$(cat r/b)" b2 "b untouched"
  expect_eq "$(git -C r rev-parse HEAD)" "$head" "HEAD not moved"
  expect_sql "$(store_of r)" "select count(*) from child_spans where name = 'restore'" 1
}

test_no_validate_records_only_rollback() {
  make_repo r 2
  run perf-rollback -C r --no-validate
  expect_status 0
  expect_sql "$(store_of r)" "select group_concat(step) from step_results" "rollback"
}

test_threshold_breach_exits_3_after_rolling_back() {
  make_repo r 2
  run perf-rollback -C r --threshold 1us
  expect_status 3
  expect_eq "$(git -C r rev-list --count HEAD)" 1 "rolled back"
  expect_sql "$(store_of r)" "select status from step_results where step = 'rollback'" "breach"
  run perf-rollback -C r HEAD --validate-threshold 1us
  expect_status 3
  expect_sql "$(store_of r)" "select count(*) from step_results where step = 'validate' and status = 'breach'" 1
}

test_detached_head_rollback_and_undo() {
  make_repo r 3
  git -C r checkout -q --detach
  before=$(state_of r)
  run perf-rollback -C r
  expect_status 0
  run perf-rollback -C r --undo
  expect_status 0
  expect_eq "$(state_of r)" "$before" "detached HEAD restored"
}

test_undo_refuses_on_another_branch() {
  make_repo r 3
  perf-rollback -C r -q || fail "rollback"
  git -C r checkout -q -b elsewhere
  run perf-rollback -C r --undo
  expect_status 5
  expect_stderr_contains "was taken on branch main but HEAD is on elsewhere"
}

# Every commit reachable and every change recoverable after a kill at PERFGUARD_TEST_FAULT.
# wait_for_session SID: until every process of that session (the tool and the git
# children it started in their own process groups) has exited.
wait_for_session() {
  local i
  for i in $(seq 1 2400); do  # a bound only for a hung process, not a timing guess
    pgrep -s "$1" >/dev/null || return 0
    sleep 0.05
  done
  fail "processes of session $1 still running"
}

expect_recoverable_after_kill() {
  local fault=$1
  make_dirty_repo r
  before=$(state_of r)
  PERFGUARD_TEST_FAULT=$fault setsid perf-rollback -C r HEAD~2 >/dev/null 2>&1 &
  pid=$!
  wait $pid
  status=$?
  expect_status 137
  wait_for_session $pid  # the orphaned git reset, if any, finishes
  expect_eq "$(snapshot_count r)" 1 "the snapshot ref exists"
  git -C r merge-base --is-ancestor "$(echo "$before" | awk 'NR==1{print $2}')" \
    "$(git -C r for-each-ref --format='%(objectname)' refs/perfguard/snapshots/)" ||
    fail "the old HEAD is not reachable from the snapshot"
  rm -f r/.git/index.lock  # as the refusal message says, when no git is running
  run perf-rollback -C r --undo --no-validate
  expect_status 0
  expect_eq "$(state_of r)" "$before" "restored exactly"
}

test_kill_9_just_after_snapshot_loses_nothing() {
  expect_recoverable_after_kill after-snapshot
}

test_kill_9_during_reset_loses_nothing() {
  expect_recoverable_after_kill during-reset
}

test_kill_9_at_random_moments_loses_nothing() {
  make_dirty_repo r
  for i in $(seq 1 200); do echo "$i" >"r/bulk $i.txt"; done
  git -C r add -A >/dev/null
  for i in $(seq 1 200); do echo "changed $i" >"r/bulk $i.txt"; done
  before=$(state_of r)
  for delay in 0.005 0.01 0.02 0.04 0.08; do
    setsid perf-rollback -C r HEAD~2 -q >/dev/null 2>&1 &
    pid=$!
    sleep $delay
    pkill -KILL -s $pid  # the tool and every git it started, as a power cut would
    wait $pid 2>/dev/null
    wait_for_session $pid
    # A git killed at any instant may leave any of its locks (index.lock, HEAD.lock, the
    # branch's, ORIG_HEAD.lock, a snapshot ref's): no process of the session runs any more, so
    # every lock left is ownerless and, as the refusal message says, removed by hand.
    find r/.git -name '*.lock' -type f -print -delete >&2
    if [[ $(snapshot_count r) -gt 0 ]]; then
      perf-rollback -C r --undo "$(git -C r for-each-ref --sort=refname --format='%(refname:lstrip=3)' refs/perfguard/snapshots/ | head -1)" -q --no-validate ||
        fail "undo after a kill at ${delay}s"
    fi
    expect_eq "$(state_of r)" "$before" "state after a kill at ${delay}s"
    git -C r for-each-ref --format='%(refname)' refs/perfguard/snapshots/ | xargs -r -n1 git -C r update-ref -d
  done
}

test_store_failure_still_rolls_back_exit_4() {
  make_repo r 2
  mkdir store.db
  run perf-rollback -C r --db "$TEST_DIR/store.db"
  expect_status 4
  expect_eq "$(git -C r rev-list --count HEAD)" 1 "rolled back"
  expect_eq "$(grep -c . store.db.journal.jsonl)" 2 "rollback and validate in the journal"
}

test_rollback_in_a_linked_worktree() {
  make_repo r 3
  git -C r worktree add -q ../wt HEAD
  run perf-rollback -C wt
  expect_status 0
  expect_eq "$(git -C wt rev-list --count HEAD)" 2 "worktree HEAD moved"
  expect_eq "$(git -C r rev-list --count HEAD)" 3 "main worktree untouched"
}

test_dry_run_undo_prints_plan_and_changes_nothing() {
  make_repo r 3
  echo local >r/file.txt
  perf-rollback -C r -q || fail "rollback"
  before=$(state_of r)
  run perf-rollback -C r --undo --dry-run
  expect_status 0
  expect_stdout_contains "would restore snapshot"
  expect_stdout_contains "with its local changes"
  expect_eq "$(state_of r)" "$before" "nothing changed"
  expect_eq "$(snapshot_count r)" 1 "no new snapshot"
}

test_list_snapshots_in_every_format() {
  make_repo r 3
  perf-rollback -C r -q || fail "rollback"
  id=$(git -C r for-each-ref --format='%(refname:lstrip=3)' refs/perfguard/snapshots/)
  run perf-rollback -C r --list-snapshots --format jsonl
  expect_stdout_contains "{\"id\":\"$id\""
  run perf-rollback -C r --list-snapshots --format csv
  expect_eq "$(head -1 out)" "id,ref,commit,head,branch,dirty,created_at,tool,reason,worktree"
  expect_eq "$(sed -n 2p out | cut -d, -f1)" "$id"
  run perf-rollback -C r --list-snapshots --format tsv
  expect_eq "$(sed -n 2p out | cut -f5)" "refs/heads/main"
  run perf-rollback -C r --list-snapshots --json
  expect_eq "$(head -c 8 out)" "[{\"id\":\"" "json array"
}

test_paths_are_relative_to_the_current_directory() {
  make_repo r 1
  mkdir -p r/sub && echo a1 >r/sub/a && echo top1 >r/a && git -C r add -A && git -C r commit -qm one
  echo a2 >r/sub/a && echo top2 >r/a && git -C r add -A && git -C r commit -qm two
  (cd r/sub && perf-rollback -q HEAD~1 -- a) || fail "rollback from sub"
  expect_eq "$(cat r/sub/a)" a1 "sub/a restored"
  expect_eq "$(cat r/a)" top2 "top-level a untouched"
}

test_untracked_file_where_the_target_has_one_is_snapshotted_and_restored() {
  make_repo r 1
  echo "tracked then" >r/gone.txt && git -C r add gone.txt && git -C r commit -qm add-gone
  git -C r rm -q gone.txt && git -C r commit -qm rm-gone
  echo "my own, untracked" >r/gone.txt
  before=$(state_of r)
  run perf-rollback -C r HEAD~1
  expect_status 0
  expect_eq "$(cat r/gone.txt)" "tracked then" "the target's file is checked out"
  run perf-rollback -C r --undo
  expect_status 0
  expect_eq "$(state_of r)" "$before" "the untracked file is back"
}

test_untracked_files_elsewhere_survive_a_clean_rollback() {
  make_repo r 3
  echo mine >r/notes.txt
  run perf-rollback -C r
  expect_status 0
  expect_eq "$(cat r/notes.txt)" mine "untouched"
  run perf-rollback -C r --undo
  expect_status 0
  expect_eq "$(cat r/notes.txt)" mine "still there"
  expect_eq "$(git -C r rev-list --count HEAD)" 3 "HEAD back"
}

# A repository whose last commit adds, deletes, changes, makes executable and replaces with
# a symlink, so that a rollback to HEAD~1 undoes each kind of change.
make_varied_history() {
  make_repo "$1" 1
  (
    cd "$1" || exit 1
    printf 'stays\n' >keep.txt && printf 'goes\n' >gone.txt && printf 'plain\n' >run.sh
    printf 'a file\n' >pointer && mkdir -p deep/er && printf 'deep\n' >deep/er/x.txt
    git add -A && git commit -qm base
    printf 'new\n' >added.txt && git rm -q gone.txt && printf 'changed\n' >deep/er/x.txt
    chmod +x run.sh && rm pointer && ln -s keep.txt pointer
    git add -A && git commit -qm changes
  ) || fail "history"
}

# After the snapshot has proven the tree clean, the reset does not prove it again: it runs as
# `git reset --keep`, and ends exactly as `git reset --hard` ends.
test_clean_rollback_ends_as_git_reset_hard_ends() {
  make_varied_history r
  echo mine >r/notes.txt
  cp -a r twin
  target=$(git -C r rev-parse HEAD~1)
  GIT_TRACE=$TEST_DIR/trace run perf-rollback -C r --no-validate
  expect_status 0
  grep -q "built-in: git reset --keep --no-recurse-submodules $target" trace ||
    fail "not a two-way reset: $(grep built-in trace)"
  git -C twin reset -q --hard --no-recurse-submodules "$target" || fail "git reset --hard"
  expect_eq "$(state_of r)" "$(state_of twin)" "HEAD, index, status and files"
  for repo in r twin; do
    (
      cd $repo || exit 1
      echo "ORIG_HEAD $(git rev-parse ORIG_HEAD)"
      git reflog -1 --format='HEAD %H %gs' HEAD
      git reflog -1 --format='branch %H %gs' refs/heads/main
      find . -path ./.git -prune -o -printf '%p %y %m %l\n' | sort
    ) >"$repo.facts"
  done
  expect_eq "$(cat r.facts)" "$(cat twin.facts)" "ORIG_HEAD, reflogs, kinds, modes and links"
  expect_eq "$(cat r/deep/er/x.txt)" deep "the target's content"
  run perf-rollback -C r --undo --no-validate
  expect_status 0
  expect_eq "$(git -C r rev-parse HEAD)" "$(git -C twin rev-parse ORIG_HEAD)" "undone"
}

# Whatever untracked stands where the target puts a file (a file, an ignored file, a
# directory, a file on the way to the path) makes the snapshot hold it and the reset --hard
# at once: no two-way attempt that git would refuse.
test_something_untracked_in_the_way_resets_hard_at_once() {
  for kind in file ignored directory on-the-way; do
    rm -rf r trace
    make_varied_history r
    { git -C r rm -q -r deep && git -C r commit -qm "rm deep"; } || fail "rm deep"
    case $kind in
      file) echo mine >r/gone.txt ;;
      ignored) echo 'gone.txt' >r/.git/info/exclude && echo mine >r/gone.txt ;;
      directory) mkdir r/gone.txt && echo mine >r/gone.txt/inside ;;
      on-the-way) echo mine >r/deep ;;
    esac
    GIT_TRACE=$TEST_DIR/trace run perf-rollback -C r --no-validate HEAD~2
    expect_status 0
    grep -q "built-in: git reset --hard" trace || fail "$kind: not reset --hard: $(grep built-in trace)"
    ! grep -q "reset --keep" trace || fail "$kind: a two-way attempt"
    expect_eq "$(snapshot_count r)" 1 "$kind: one snapshot"
    run perf-rollback -C r --undo --no-validate
    expect_status 0
    case $kind in
      directory) expect_eq "$(cat r/gone.txt/inside)" mine "$kind: back" ;;
      on-the-way) expect_eq "$(cat r/deep)" mine "$kind: back" ;;
      *) expect_eq "$(cat r/gone.txt)" mine "$kind: back" ;;
    esac
  done
}

# stopped_after_snapshot DIR ARGS…: starts perf-rollback in DIR with ARGS, stopped just after
# its snapshot (as a change made at that instant finds it); its pid in $pid.
stopped_after_snapshot() {
  local dir=$1 i
  shift
  PERFGUARD_TEST_FAULT=after-snapshot:STOP perf-rollback -C "$dir" "$@" >"$TEST_DIR/out" 2>"$TEST_DIR/err" &
  pid=$!
  for i in $(seq 1 2400); do  # a bound only for a hung process, not a timing guess
    [[ $(ps -o stat= -p $pid) == T* ]] && return 0
    sleep 0.05
  done
  fail "perf-rollback never reached its snapshot"
}

# The snapshot is taken before the tree is scanned: a change made at that instant, to a file
# the target leaves alone, is found by the scan as any local change is, held, and discarded
# as `reset --hard` discards it; HEAD, ORIG_HEAD and the reflog are the one reset's.
test_a_change_made_after_the_snapshot_to_a_file_the_target_leaves_alone_is_held() {
  make_varied_history r
  head=$(git -C r rev-parse HEAD)
  kept=$(cat r/keep.txt)
  stopped_after_snapshot r --no-validate
  echo "written during the rollback" >r/keep.txt
  kill -CONT $pid
  wait $pid
  expect_eq "$?" 0 "exit"
  expect_eq "$(git -C r rev-parse HEAD ORIG_HEAD)" "$(git -C r rev-parse "$head~1" "$head")" \
    "HEAD and ORIG_HEAD"
  expect_eq "$(git -C r reflog -1 --format=%gs)" "reset: moving to $(git -C r rev-parse HEAD)" \
    "one reset in the reflog"
  expect_eq "$(git -C r reflog --format=%gs | grep -c '^reset')" 1 "only one"
  expect_eq "$(cat r/keep.txt)" "$kept" "reset as --hard resets"
  expect_eq "$(cat r/gone.txt)" goes "the target's files are out"
  expect_eq "$(git -C r status --porcelain)" "" "clean"
  expect_eq "$(snapshot_count r)" 1 "one snapshot"
  run perf-rollback -C r --undo --no-validate
  expect_status 0
  expect_eq "$(git -C r rev-parse HEAD)" "$head" "HEAD back"
  expect_eq "$(cat r/keep.txt)" "written during the rollback" "the change is back"
}

test_a_change_made_after_the_snapshot_to_a_file_the_target_changes_is_snapshotted() {
  make_varied_history r
  head=$(git -C r rev-parse HEAD)
  stopped_after_snapshot r --no-validate
  echo "written during the rollback" >r/deep/er/x.txt
  kill -CONT $pid
  wait $pid
  expect_eq "$?" 0 "exit"
  expect_eq "$(git -C r rev-parse HEAD)" "$(git -C r rev-parse "$head~1")" "HEAD moved"
  expect_eq "$(cat r/deep/er/x.txt)" deep "reset as --hard resets"
  expect_eq "$(snapshot_count r)" 1 "one snapshot, taken again after git refused"
  expect_eq "$(git -C r reflog show --format=%gs "$(git -C r for-each-ref --format='%(refname)' refs/perfguard/snapshots/)" | head -1)" \
    "perfguard: snapshot before rollback to HEAD~1 (again)" "the snapshot's ref moved to the whole one"
  expect_sql "$(store_of r)" "select group_concat(name, ',') from (select name from child_spans where step = 'rollback' order by offset_ms)" "snapshot,reset,snapshot,reset"
  run perf-rollback -C r --undo --no-validate
  expect_status 0
  expect_eq "$(git -C r rev-parse HEAD)" "$head" "HEAD back"
  expect_eq "$(cat r/deep/er/x.txt)" "written during the rollback" "the change is back"
}

test_kill_9_during_a_clean_rollback_loses_nothing() {
  make_varied_history r
  before=$(state_of r)
  PERFGUARD_TEST_FAULT=during-reset setsid perf-rollback -C r >/dev/null 2>&1 &
  pid=$!
  wait $pid
  expect_eq "$?" 137 "killed"
  wait_for_session $pid
  rm -f r/.git/index.lock
  run perf-rollback -C r --undo --no-validate
  expect_status 0
  expect_eq "$(state_of r)" "$before" "restored exactly"
}

# Killed between the two-way reset and the scan's snapshot of the edits it kept: the
# partial snapshot puts HEAD, the reset's paths and their index entries back, and the edits
# never left.
test_kill_9_after_the_two_way_reset_of_a_dirty_tree_loses_nothing() {
  make_varied_history r
  echo "an edit" >>r/keep.txt
  chmod 600 r/file.txt
  before=$(state_of r)
  PERFGUARD_TEST_FAULT=after-two-way-reset setsid perf-rollback -C r >/dev/null 2>&1 &
  pid=$!
  wait $pid
  expect_eq "$?" 137 "killed"
  wait_for_session $pid
  expect_eq "$(git -C r rev-parse HEAD)" "$(git -C r rev-parse ORIG_HEAD~1)" "HEAD had moved"
  expect_eq "$(tail -1 r/keep.txt)" "an edit" "the edit kept by the two-way reset"
  expect_eq "$(git -C r for-each-ref --format='%(contents)' refs/perfguard/snapshots/ | grep Dirty)" \
    "Perfguard-Dirty: unknown" "a partial snapshot"
  run perf-rollback -C r --undo --no-validate
  expect_status 0
  expect_eq "$(state_of r)" "$before" "restored exactly"
}

test_head_lock_held_by_a_running_process_refuses_rollback_saying_so_exit_5() {
  expect_rollback_refused_by_lock HEAD.lock held
}

test_stale_branch_lock_refuses_rollback_giving_the_rm_command_exit_5() {
  expect_rollback_refused_by_lock refs/heads/main.lock stale
}

test_stale_head_lock_refuses_undo_giving_the_rm_command_exit_5() {
  expect_rollback_refused_by_lock HEAD.lock stale --undo
}

test_branch_lock_held_by_a_running_process_refuses_undo_saying_so_exit_5() {
  expect_rollback_refused_by_lock refs/heads/main.lock held --undo
}

test_dry_run_writes_its_plan_in_every_format_and_only_data_on_stdout() {
  make_repo r 3
  echo local >r/file.txt
  before=$(state_of r)
  run perf-rollback -C r --dry-run --json
  expect_status 0
  jq -e '.action == "rollback" and .target == "HEAD~1" and .local_changes == 1 and
    (.command | startswith("git reset --hard"))' out >/dev/null || fail "json plan: $(cat out)"
  run perf-rollback -C r --dry-run --format csv
  expect_eq "$(head -1 out | cut -d, -f1-4)" "action,head,branch,local_changes" "csv header"
  expect_eq "$(wc -l <out)" 2 "csv: a header and one row"
  run perf-rollback -C r --dry-run --format tsv
  expect_eq "$(sed -n 2p out | cut -f1)" "rollback" "tsv row"
  perf-rollback -C r -q || fail "rollback"
  after=$(state_of r)
  run perf-rollback -C r --undo --dry-run --format jsonl
  expect_status 0
  jq -e '.action == "undo" and .snapshot_dirty == true and .command == null' out >/dev/null ||
    fail "jsonl undo plan: $(cat out)"
  expect_eq "$(state_of r)" "$after" "nothing changed"
  expect_eq "$(snapshot_count r)" 1 "no snapshot taken by a dry run"
}

test_snapshot_ref_and_reflog_are_what_git_reads_and_fsck_accepts() {
  make_repo r 3
  echo local >r/file.txt
  run perf-rollback -C r --json
  expect_status 0
  id=$(sed -n 's/.*"snapshot":{"id":"\([^"]*\)","commit":"\([0-9a-f]*\)".*/\1/p' out)
  commit=$(sed -n 's/.*"snapshot":{"id":"\([^"]*\)","commit":"\([0-9a-f]*\)".*/\2/p' out)
  [[ -n $id && -n $commit ]] || fail "no snapshot in the json output"
  ref=refs/perfguard/snapshots/$id
  expect_eq "$(git -C r for-each-ref --format='%(objectname) %(refname)' refs/perfguard/)" \
    "$commit $ref" "for-each-ref"
  # The snapshot was taken before the tree was scanned, holding what a two-way reset writes;
  # git refused over the local change, and it was taken again, whole, under the same name.
  expect_eq "$(git -C r reflog show --format='%H %gs' "$ref" | head -1)" \
    "$commit perfguard: snapshot before rollback to HEAD~1 (again)" "the newest reflog entry"
  expect_eq "$(git -C r reflog show --format='%gs' "$ref" | tail -1)" \
    "perfguard: snapshot before rollback to HEAD~1" "the first reflog entry"
  expect_eq "$(git -C r reflog show --format='%gn <%ge>' "$ref" | sort -u)" \
    "perfguard <perfguard@localhost>" "the reflog entries' identity"
  expect_eq "$(git -C r log -1 --format=%ct "$commit")" \
    "$(git -C r reflog show --format=%gd --date=unix "$ref" | sed 's/.*@{\(.*\)}/\1/' | sort -u)" \
    "the reflog entries' time"
  [[ ! -e r/.git/$ref.lock ]] || fail "the ref's lock was left behind"
  git -C r fsck --strict --no-dangling >fsck.out 2>&1 || { cat fsck.out >&2; fail "git fsck"; }
  [[ ! -s fsck.out ]] || { cat fsck.out >&2; fail "git fsck said something"; }
  # Deleting the snapshot the way git does takes its reflog with it.
  git -C r update-ref -d "$ref" "$commit" || fail "update-ref -d"
  [[ ! -e r/.git/logs/$ref ]] || fail "the reflog outlived its ref"
}

# The commits, trees and paths that the snapshot takes from git's objects in-process must be
# the ones git names, loose or packed: each rollback is checked against git's own answer.
test_targets_resolve_as_git_resolves_them_loose_and_packed() {
  make_repo r 1
  (
    cd r || exit 1
    mkdir -p a/b c && echo 1 >a/b/f && echo 2 >c/g && git add -A && git commit -qm two
    git checkout -q -b side && echo side >side.txt && git add -A && git commit -qm side
    git checkout -q main && git rm -q -r c && echo 3 >a/h && git add -A && git commit -qm three
    git merge -q --no-edit side && echo 4 >>a/b/f && git add -A && git commit -qm four
  ) || fail "history"
  tip=$(git -C r rev-parse HEAD)
  for layout in loose packed; do
    [[ $layout == loose ]] || git -C r gc -q --aggressive || fail "gc"
    for target in HEAD~1 HEAD^^2 HEAD~3 @~2 "$(git -C r rev-parse HEAD~2)" HEAD; do
      git -C r reset -q --hard "$tip"
      echo local >>r/a/h
      want=$(git -C r rev-parse "$target^{commit}")
      want_paths=$(git -C r diff-index --cached --name-only "$want" | sort)
      run perf-rollback -C r --no-validate --json "$target"
      expect_status 0
      expect_eq "$(git -C r rev-parse HEAD)" "$want" "HEAD after a rollback to $target ($layout)"
      commit=$(sed -n 's/.*"snapshot":{"id":"[^"]*","commit":"\([0-9a-f]*\)".*/\1/p' out)
      held=$(git -C r cat-file blob "$commit:manifest" | tr '\0' '\n' | sed -n 's/^[fa] [0-7]* [-0-9a-f]* //p' | sort)
      for p in $want_paths a/h; do
        grep -qxF "$p" <<<"$held" || fail "the snapshot before $target ($layout) lacks $p"
      done
      run perf-rollback -C r --undo
      expect_status 0
      expect_eq "$(git -C r rev-parse HEAD)" "$tip" "HEAD after the undo ($layout)"
      expect_eq "$(tail -n 1 r/a/h)" "local" "the local change is back ($layout)"
    done
  done
}
