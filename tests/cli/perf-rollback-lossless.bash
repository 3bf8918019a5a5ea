# perf-rollback and --undo lose nothing in the states real repositories are in: ignored
# files, assume-unchanged entries, attributes that rewrite bytes, nested repositories,
# permission bits, linked work trees, intent-to-add entries and interrupted merges.

# These cases prove what is restored, not how fast: a loaded machine must not turn a
# rollback into a breach (exit 3). The threshold cases pass their own --threshold.
export PERFGUARD_THRESHOLDS_ROLLBACK=1h PERFGUARD_THRESHOLDS_VALIDATE=1h

# shellcheck source=exact_state.bash
source "$(dirname "${BASH_SOURCE[0]}")/exact_state.bash"

# expect_undo_restores DIR [TARGET]: rolls DIR back (to TARGET), then undoes, and fails
# unless every path, byte, mode and index flag is as it was.
expect_undo_restores() {
  local dir=$1 target=${2:-HEAD~1} before after
  before=$(exact_state "$dir")
  run perf-rollback -C "$dir" --no-validate "$target"
  expect_status 0
  run perf-rollback -C "$dir" --no-validate --undo
  expect_status 0
  after=$(exact_state "$dir")
  if [[ "$before" != "$after" ]]; then
    diff <(echo "$before") <(echo "$after") >&2
    fail "undo did not restore $dir exactly"
  fi
}

test_ignored_file_the_target_tracks_is_held_and_restored() {
  git init -q r && cd r || fail "init"
  echo K=old >.env && git add -A && git commit -qm 1
  git rm -q --cached .env && echo .env >.gitignore && git add .gitignore && git commit -qm 2
  echo K=secret >.env
  run perf-rollback --no-validate -q
  expect_status 0
  expect_eq "$(cat .env)" "K=old" "the target's .env"
  run perf-rollback --no-validate -q --undo
  expect_status 0
  expect_eq "$(cat .env)" "K=secret" "the ignored file is back"
}

test_ignored_files_inside_a_directory_the_target_replaces_are_restored() {
  make_repo r 1
  echo 'build/' >r/.gitignore && git -C r add .gitignore && git -C r commit -qm ignore
  echo artefact >r/build && git -C r add -f build && git -C r commit -qm 'build was a file'
  git -C r rm -q --cached build && git -C r commit -qm 'untrack build'
  rm r/build && mkdir -p r/build/deep && echo obj >r/build/x.o && echo deep >r/build/deep/y.o
  expect_undo_restores r HEAD~1
}

test_untracked_files_in_the_way_are_restored_with_their_modes() {
  make_repo r 1
  echo target >r/key && git -C r add key && git -C r commit -qm key
  git -C r rm -q key && git -C r commit -qm 'no key'
  printf 'private\n' >r/key && chmod 600 r/key
  mkdir -m 700 r/keys.d && echo a >r/keys.d/a
  expect_undo_restores r HEAD~1
}

test_assume_unchanged_edit_survives_rollback_and_undo() {
  make_repo r 2
  echo 'port=1' >r/config.ini && git -C r add config.ini && git -C r commit -qm config
  git -C r update-index --assume-unchanged config.ini
  echo 'port=2 local' >r/config.ini
  expect_undo_restores r HEAD~1
  expect_eq "$(cat r/config.ini)" "port=2 local" "the local edit"
}

test_assume_unchanged_file_the_target_changes_is_restored() {
  make_repo r 1
  echo 'port=1' >r/config.ini && git -C r add config.ini && git -C r commit -qm config
  echo 'port=9' >r/config.ini && git -C r commit -qam 'config 2'
  git -C r update-index --assume-unchanged config.ini
  echo 'port=local' >r/config.ini
  expect_undo_restores r HEAD~1
}

test_undo_is_byte_for_byte_under_eol_and_ident_attributes() {
  make_repo r 1
  printf 'lf\nline\n' >r/notes.txt && printf '$Id$\n' >r/id.c && git -C r add -A &&
    git -C r commit -qm 'before attributes'
  printf '*.txt text eol=crlf\n*.c ident\n' >r/.gitattributes && git -C r add .gitattributes &&
    git -C r commit -qm attributes
  printf 'lf\nline\nmore\n' >r/notes.txt && printf '$Id: local $\n' >r/id.c
  printf 'untracked lf\n' >r/new.txt
  git -C r commit -qam change
  printf 'edited lf\n' >r/notes.txt
  expect_undo_restores r HEAD~2
  expect_eq "$(od -c r/new.txt | grep -c '\\r')" 0 "the untracked file is still LF"
}

test_untracked_nested_repository_keeps_its_uncommitted_files() {
  make_repo r 1
  git init -q r/vendor/lib && echo wip >r/vendor/lib/work.c && echo staged >r/vendor/lib/s.c &&
    git -C r/vendor/lib add s.c
  echo file >r/vendor/file && git -C r add vendor/file && git -C r commit -qm vendor
  expect_undo_restores r HEAD~1
}

test_nested_repository_in_the_way_of_the_target_is_restored() {
  make_repo r 1
  echo x >r/lib && git -C r add lib && git -C r commit -qm 'lib is a file'
  git -C r rm -q lib && git -C r commit -qm 'no lib'
  git init -q r/lib && echo wip >r/lib/work.c && chmod 700 r/lib/work.c
  expect_undo_restores r HEAD~1
  expect_eq "$(git -C r/lib status --porcelain)" "?? work.c" "the nested repository works"
}

test_permission_bits_beyond_644_and_755_come_back() {
  make_repo r 1
  echo one >r/secret.conf && git -C r add secret.conf && git -C r commit -qm secret
  echo two >r/secret.conf && git -C r commit -qam 'secret 2'
  chmod 600 r/secret.conf
  printf 'key\n' >r/id_rsa && chmod 600 r/id_rsa
  expect_undo_restores r HEAD~1
  expect_eq "$(stat -c %a r/secret.conf)" 600 "mode of the tracked file"
}

test_symlinks_in_the_way_are_restored() {
  make_repo r 1
  echo t >r/link && git -C r add link && git -C r commit -qm 'link is a file'
  git -C r rm -q link && git -C r commit -qm 'no link'
  ln -s /etc/hostname r/link
  expect_undo_restores r HEAD~1
}

test_intent_to_add_entry_survives_rollback_and_undo() {
  make_repo r 2
  echo planned >r/planned.txt && git -C r add -N planned.txt
  expect_undo_restores r HEAD~1
  expect_eq "$(git -C r status --porcelain planned.txt)" " A planned.txt" "still intent-to-add"
}

test_deleted_and_replaced_tracked_paths_are_restored() {
  make_repo r 2
  mkdir r/dir && echo a >r/dir/a && git -C r add dir && git -C r commit -qm dir
  rm -r r/dir && echo 'now a file' >r/dir
  rm r/file.txt
  expect_undo_restores r HEAD~2
}

test_undo_in_a_linked_worktree_restores_that_worktree_snapshot() {
  make_repo r 3
  git -C r worktree add -q ../wt HEAD
  echo main-local >r/file.txt
  perf-rollback -C r -q --no-validate || fail "rollback in the main work tree"
  echo wt-local >wt/file.txt
  perf-rollback -C wt -q --no-validate || fail "rollback in the linked work tree"
  main_after=$(exact_state r)
  run perf-rollback -C wt --undo --no-validate
  expect_status 0
  expect_eq "$(cat wt/file.txt)" "wt-local" "the linked work tree's change"
  expect_eq "$(exact_state r)" "$main_after" "the main work tree untouched"
  run perf-rollback -C r --undo --no-validate
  expect_status 0
  expect_eq "$(cat r/file.txt)" "main-local" "the main work tree's change"
}

test_undo_of_another_worktrees_snapshot_is_refused_exit_5() {
  make_repo r 3
  git -C r worktree add -q ../wt HEAD
  perf-rollback -C r -q --no-validate || fail "rollback"
  id=$(git -C r for-each-ref --format='%(refname:lstrip=3)' refs/perfguard/snapshots/)
  before=$(exact_state wt)
  run perf-rollback -C wt --undo "$id"
  expect_status 5
  expect_stderr_contains "belongs to the work tree"
  expect_stderr_lines 1
  expect_eq "$(exact_state wt)" "$before" "nothing changed"
}

test_list_snapshots_marks_another_worktrees_snapshots() {
  make_repo r 3
  git -C r worktree add -q ../wt HEAD
  perf-rollback -C r -q --no-validate || fail "rollback in the main work tree"
  perf-rollback -C wt -q --no-validate || fail "rollback in the linked work tree"
  run perf-rollback -C wt --list-snapshots
  expect_status 0
  expect_eq "$(grep -c '\[main work tree\]' out)" 1 "the main work tree's snapshot is marked"
  expect_eq "$(grep -c '\[' out)" 1 "this work tree's is not"
  run perf-rollback -C r --list-snapshots --format jsonl
  expect_stdout_contains '"worktree":"worktrees/wt"'
  expect_stdout_contains '"worktree":""'
}

test_fifo_in_the_way_is_refused_before_anything_changes_exit_5() {
  make_repo r 1
  echo x >r/pipe && git -C r add pipe && git -C r commit -qm pipe
  git -C r rm -q pipe && git -C r commit -qm 'no pipe'
  mkfifo r/pipe
  before=$(exact_state r)
  run perf-rollback -C r
  expect_status 5
  expect_stderr_contains "pipe is a FIFO"
  expect_stderr_lines 1
  expect_eq "$(exact_state r)" "$before" "nothing changed"
  expect_eq "$(snapshot_count r)" 0 "no snapshot"
}

test_snapshot_objects_pass_fsck() {
  make_repo r 2
  echo K=1 >r/.env && echo .env >r/.gitignore && echo local >r/file.txt && chmod 600 r/file.txt
  git -C r add -N .gitignore
  perf-rollback -C r -q --no-validate || fail "rollback"
  run git -C r fsck --strict --no-dangling
  expect_status 0
  [[ -s err ]] && fail "fsck reported: $(cat err)"
  true
}

test_ctrl_c_while_the_snapshot_is_taken_exits_130_and_changes_nothing() {
  make_repo r 2
  echo local >r/file.txt
  before=$(exact_state r)
  PERFGUARD_TEST_FAULT=during-snapshot:INT run perf-rollback -C r
  expect_status 130
  expect_stderr_contains "perf-rollback: interrupted"
  expect_stderr_lines 1
  expect_eq "$(exact_state r)" "$before" "nothing changed"
  expect_eq "$(snapshot_count r)" 0 "no snapshot"
}

test_message_search_target_is_accepted() {
  make_repo r 3
  run perf-rollback -C r --no-validate ':/commit 1'
  expect_status 0
  expect_eq "$(git -C r log -1 --format=%s)" "commit 1" "rolled back to the commit found"
}

test_shallow_clone_says_history_is_missing_not_root() {
  make_repo r 3
  git clone -q --depth 1 "file://$PWD/r" s 2>/dev/null || fail "shallow clone"
  echo local >s/file.txt
  before=$(exact_state s)
  run perf-rollback -C s
  expect_status 5
  expect_stderr_contains "not in this shallow clone"
  expect_stderr_lines 1
  expect_eq "$(exact_state s)" "$before" "nothing changed"
  expect_eq "$(snapshot_count s)" 0 "no snapshot"
}
