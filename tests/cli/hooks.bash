# perfguard-hooks: the hooks time a person's own git commands (the commit without the editor,
# merges, checkouts, rebases), never fail them, chain the user's hooks and put them back
# exactly, and hold a push while a critical alert is open.

HOOKS="pre-commit prepare-commit-msg commit-msg post-commit post-merge post-checkout post-rewrite pre-push"

hook_commits() {
  [[ -f $(store_of r) ]] || { echo 0; return; }
  sql "$(store_of r)" "select count(*) from step_results where step = 'commit' and labels like '%\"source\":\"hook\"%'"
}

# stamps_left REPO: commit stamps still on disk.
stamps_left() { find "$(dirname "$(store_of "$1")")/hook-stamps" -type f 2>/dev/null | wc -l; }

# commit_in REPO [GIT COMMIT ARGS…]: changes file.txt and commits it with git itself.
commit_in() {
  local repo=$1
  shift
  echo "$RANDOM$RANDOM" >>"$repo/file.txt"
  git -C "$repo" add -A
  run git -C "$repo" commit "$@"
}

installed_repo() {
  make_repo r 1
  run perfguard-hooks -C r install
  expect_status 0
}

# own_copy: perfguard-hooks (and perf-alerts when asked) copied to $TEST_DIR/bin, for cases
# that take the binary away or leave perf-alerts out.
own_copy() {
  mkdir -p "$TEST_DIR/bin"
  cp "$PERFGUARD_BIN/perfguard-hooks" "$TEST_DIR/bin/" || fail "copying perfguard-hooks"
  [[ ${1:-} == with-perf-alerts ]] && cp "$PERFGUARD_BIN/perf-alerts" "$TEST_DIR/bin/"
  chmod -R a+rx "$TEST_DIR/bin"
}

# A PATH without the build directory (nor a copy): the tools can only be found where a hook
# file names them.
PLAIN_PATH=/usr/local/bin:/usr/bin:/bin

test_a_plain_commit_is_recorded_once_as_a_hook_commit_with_its_two_parts() {
  installed_repo
  commit_in r -qm "by hand"
  expect_status 0
  expect_eq "$(hook_commits)" 1 "hook commits"
  db=$(store_of r)
  expect_sql "$db" "select step, status, exit_code, tool from step_results" "commit|ok|0|perfguard-hooks"
  expect_sql "$db" "select labels from step_results" '{"source":"hook","timing":"hook-stamps"}'
  expect_sql "$db" "select group_concat(name, ',') from (select name from child_spans order by offset_ms)" \
    "before-editor,after-editor"
  expect_sql "$db" "select head_before = '$(git -C r rev-parse HEAD~1)' and head_after = '$(git -C r rev-parse HEAD)' from step_results" 1
  expect_sql "$db" "select threshold_ms from step_results" "1000.0"
  expect_eq "$(stamps_left r)" 0 "stamps left behind"
}

test_the_editor_time_is_left_out() {
  installed_repo
  # The editor writes the message and how long it was open (µs); it stays open for a while.
  cat >"$TEST_DIR/editor" <<'SH'
#!/bin/sh
start=$(date +%s%6N)
sleep 1
echo "edited message" >"$1"
echo $(( $(date +%s%6N) - start )) >"$EDITOR_LOG"
SH
  chmod +x "$TEST_DIR/editor"
  echo more >>r/file.txt
  git -C r add -A
  start=$(date +%s%6N)
  EDITOR_LOG=$TEST_DIR/editor.us GIT_EDITOR=$TEST_DIR/editor run git -C r commit -q
  total=$(( $(date +%s%6N) - start ))
  expect_status 0
  expect_eq "$(git -C r log -1 --format=%s)" "edited message" "message"
  editor=$(cat "$TEST_DIR/editor.us")
  recorded=$(sql "$(store_of r)" "select duration_us from step_results")
  # The record is what git took around the editor: never more than the whole command less the
  # time the editor was open.
  (( recorded > 0 && recorded <= total - editor )) ||
    fail "recorded ${recorded}us, command ${total}us, editor ${editor}us"
}

test_no_verify_records_nothing_and_leaks_nothing_into_the_next_commit() {
  installed_repo
  commit_in r -qm "skipped" --no-verify
  expect_status 0
  expect_eq "$(hook_commits)" 0 "after --no-verify"
  commit_in r -qm "timed"
  expect_eq "$(hook_commits)" 1 "after an ordinary commit"
  expect_eq "$(stamps_left r)" 0 "stamps left behind"
}

test_a_commit_that_stops_after_pre_commit_leaves_no_stamp_for_later() {
  installed_repo
  echo x >>r/file.txt
  git -C r add -A
  # An empty message ends the commit after pre-commit and prepare-commit-msg.
  run git -C r commit -q -m ""
  expect_status 1
  commit_in r -qm "timed"
  expect_eq "$(hook_commits)" 1 "hook commits"
  expect_eq "$(stamps_left r)" 0 "the stopped commit's stamp was removed"
}

test_perf_commit_is_not_recorded_twice() {
  installed_repo
  echo x >>r/file.txt
  run perf-commit -C r -qm "with perf-commit"
  expect_status 0
  expect_sql "$(store_of r)" "select count(*), group_concat(tool) from step_results" "1|perf-commit"
  expect_eq "$(stamps_left r)" 0 "stamps"
}

test_a_breach_warns_in_one_line_and_the_commit_succeeds() {
  installed_repo
  printf '[thresholds]\ncommit = "1us"\n' >r/.perfguard.toml
  commit_in r -qm "slow"
  expect_status 0
  expect_stderr_contains "perfguard-hooks: warning: commit took "
  expect_stderr_contains "threshold (not counting the editor)"
  expect_stderr_lines 1
  expect_sql "$(store_of r)" "select status, exit_code, threshold_ms from step_results" "breach|0|0.001"
}

test_paused_records_but_never_warns() {
  installed_repo
  printf '[thresholds]\ncommit = "1us"\n' >r/.perfguard.toml
  mkdir -p "$(dirname "$(store_of r)")"
  printf 'since=1\nby=test\nreason=drill\n' >"$(dirname "$(store_of r)")/paused"
  commit_in r -qm "paused"
  expect_status 0
  expect_stderr_lines 0
  expect_eq "$(hook_commits)" 1 "recorded while paused"
  expect_sql "$(store_of r)" "select count(*) from alerts" 0
}

test_a_corrupt_store_never_fails_the_commit_and_the_record_goes_to_the_journal() {
  installed_repo
  mkdir -p "$(dirname "$(store_of r)")"
  head -c 4096 /dev/urandom >"$(store_of r)"
  commit_in r -qm "corrupt store"
  expect_status 0
  expect_eq "$(git -C r log -1 --format=%s)" "corrupt store" "commit made"
  expect_stderr_contains "perf-baseline --db"
  expect_file_exists "$(store_of r).journal.jsonl"
  grep -q '"source":"hook"' "$(store_of r).journal.jsonl" || fail "journal lacks the hook's record"
}

test_a_broken_store_and_bad_config_never_fail_the_commit() {
  installed_repo
  commit_in r -qm first
  break_store "$(store_of r)"
  commit_in r -qm "broken store"
  expect_status 0
  expect_eq "$(git -C r log -1 --format=%s)" "broken store" "commit made"
  mend_store "$(store_of r)"
  printf '[thresholds]\ncommit = "soon"\n' >r/.perfguard.toml
  commit_in r -qm "bad config"
  expect_status 0
  expect_eq "$(git -C r log -1 --format=%s)" "bad config" "commit made"
  expect_stderr_contains "this commit was not recorded"
  expect_stderr_lines 1
}

test_a_read_only_store_never_fails_the_commit() {
  [[ $(id -u) -eq 0 ]] || { installed_repo; chmod a-w "$(store_of r)" 2>/dev/null; }
  if [[ $(id -u) -eq 0 ]]; then
    own_copy
    make_repo r 1
    run "$TEST_DIR/bin/perfguard-hooks" -C r install
    expect_status 0
    commit_in r -qm first
    share_with_other_user
    chmod a-w "$(store_of r)"
    echo y >>r/file.txt
    git -C r add -A
    chmod -R a+rwX r/.git/objects r/.git/refs r/.git/logs 2>/dev/null
    chmod a+rw r/.git/index
    run as_other_user git -C r commit -qm "read-only store"
  else
    commit_in r -qm first
    chmod a-w "$(store_of r)"
    commit_in r -qm "read-only store"
  fi
  expect_status 0
  expect_eq "$(git -C r log -1 --format=%s)" "read-only store" "commit made"
}

test_a_missing_binary_warns_once_and_the_user_hook_still_runs() {
  own_copy
  make_repo r 1
  printf '#!/bin/sh\necho ran >"%s/user-hook-ran"\n' "$TEST_DIR" >r/.git/hooks/post-commit
  chmod +x r/.git/hooks/post-commit
  run "$TEST_DIR/bin/perfguard-hooks" -C r install
  expect_status 0
  rm "$TEST_DIR/bin/perfguard-hooks"
  echo x >>r/file.txt
  git -C r add -A
  PATH=$PLAIN_PATH run git -C r commit -qm "no binary"
  expect_status 0
  expect_eq "$(git -C r log -1 --format=%s)" "no binary" "commit made"
  expect_stderr_contains "perfguard-hooks: warning: perfguard-hooks is not installed: pre-commit runs without it"
  expect_file_exists "$TEST_DIR/user-hook-ran"
}

test_a_failing_user_pre_commit_still_blocks_and_args_and_stdin_reach_user_hooks() {
  make_repo r 1
  printf '#!/bin/sh\n[ ! -e "%s/block" ]\n' "$TEST_DIR" >r/.git/hooks/pre-commit
  printf '#!/bin/sh\ncp "$1" "%s/msg-seen"\n' "$TEST_DIR" >r/.git/hooks/commit-msg
  printf '#!/bin/sh\necho "$@" >"%s/push-args"\ncat >"%s/push-stdin"\n' "$TEST_DIR" "$TEST_DIR" >r/.git/hooks/pre-push
  chmod +x r/.git/hooks/pre-commit r/.git/hooks/commit-msg r/.git/hooks/pre-push
  run perfguard-hooks -C r install
  expect_status 0
  expect_stdout_contains "3 of your hooks chained"
  touch "$TEST_DIR/block"
  commit_in r -qm "blocked"
  expect_status 1
  expect_eq "$(git -C r log -1 --format=%s)" "commit 1" "blocked by the user's pre-commit"
  rm "$TEST_DIR/block"
  run git -C r commit -qm "let through"
  expect_status 0
  expect_eq "$(cat "$TEST_DIR/msg-seen")" "let through" "commit-msg got the message file"
  expect_eq "$(hook_commits)" 1 "recorded"
  git init -q --bare remote.git
  run git -C r push -q "$TEST_DIR/remote.git" main
  expect_status 0
  expect_eq "$(cat "$TEST_DIR/push-args")" "$TEST_DIR/remote.git $TEST_DIR/remote.git" "pre-push args"
  grep -q "refs/heads/main $(git -C r rev-parse HEAD) refs/heads/main" "$TEST_DIR/push-stdin" ||
    fail "pre-push stdin did not reach the user's hook"
}

test_install_twice_changes_nothing() {
  make_repo r 1
  printf '#!/bin/sh\nexit 0\n' >r/.git/hooks/pre-commit
  chmod 700 r/.git/hooks/pre-commit
  run perfguard-hooks -C r install
  expect_status 0
  first=$(cd r/.git/hooks && sha256sum $HOOKS && stat -c '%n %a %Y' $HOOKS)
  saved=$(cd r/.git/perfguard/saved-hooks && sha256sum * && stat -c '%n %a' *)
  sleep 1.1  # so that a rewrite would show in the mtimes
  run perfguard-hooks -C r install
  expect_status 0
  expect_eq "$(cd r/.git/hooks && sha256sum $HOOKS && stat -c '%n %a %Y' $HOOKS)" "$first" "hooks after a second install"
  expect_eq "$(cd r/.git/perfguard/saved-hooks && sha256sum * && stat -c '%n %a' *)" "$saved" "saved hooks"
  run perfguard-hooks -C r status
  expect_status 0
  expect_stdout_contains "pre-commit          chained"
  expect_stdout_contains "post-commit         installed"
  run perfguard-hooks -C r status --json
  expect_status 0
  expect_eq "$(jq -r '"\(.installed) \(.hooks | length) \(.hooks[0].name) \(.hooks[0].state)"' "$TEST_DIR/out")" \
    "true 8 pre-commit chained" "status --json"
}

test_uninstall_puts_back_bytes_and_modes_and_removes_what_it_added() {
  make_repo r 1
  hooks=r/.git/hooks
  printf '#!/bin/sh\n# caf\xc3\xa9 \x01 no newline at the end' >$hooks/pre-commit
  chmod 4750 $hooks/pre-commit
  printf '#!/bin/sh\nexit 0\n' >$hooks/commit-msg
  chmod 644 $hooks/commit-msg
  ln -s pre-commit $hooks/pre-push
  cp -a $hooks "$TEST_DIR/before"
  run perfguard-hooks -C r install
  expect_status 0
  run perfguard-hooks -C r uninstall
  expect_status 0
  for h in pre-commit commit-msg; do
    cmp $hooks/$h "$TEST_DIR/before/$h" || fail "$h bytes not restored"
    expect_eq "$(stat -c %a $hooks/$h)" "$(stat -c %a "$TEST_DIR/before/$h")" "$h mode"
  done
  expect_eq "$(readlink $hooks/pre-push)" pre-commit "pre-push symlink"
  for h in prepare-commit-msg post-commit post-merge post-checkout post-rewrite; do
    expect_no_file $hooks/$h
  done
  expect_eq "$(ls -A $hooks | sort)" "$(ls -A "$TEST_DIR/before" | sort)" "hooks directory listing"
  expect_no_file r/.git/perfguard/saved-hooks
  run perfguard-hooks -C r status
  expect_status 1
  expect_stdout_contains "pre-commit          foreign"
  expect_stdout_contains "post-commit         missing"
}

test_core_hooks_path_is_honoured() {
  make_repo r 1
  git -C r config core.hooksPath .githooks
  run perfguard-hooks -C r install
  expect_status 0
  expect_stdout_contains "$TEST_DIR/r/.githooks"
  expect_file_exists r/.githooks/post-commit
  expect_no_file r/.git/hooks/post-commit
  commit_in r -qm "through core.hooksPath"
  expect_eq "$(hook_commits)" 1 "recorded"
}

test_global_install_sets_core_hooks_path_runs_the_repository_hook_and_uninstall_unsets_it() {
  export GIT_CONFIG_GLOBAL=$HOME/.gitconfig XDG_CONFIG_HOME=$TEST_DIR/xdg
  make_repo r 1
  printf '#!/bin/sh\necho ran >"%s/local-hook-ran"\n' "$TEST_DIR" >r/.git/hooks/pre-commit
  chmod +x r/.git/hooks/pre-commit
  cp "$HOME/.gitconfig" "$TEST_DIR/gitconfig.before"
  run perfguard-hooks install --global
  expect_status 0
  expect_eq "$(git config --global core.hooksPath)" "$XDG_CONFIG_HOME/perfguard/hooks" "core.hooksPath"
  run perfguard-hooks status --global
  expect_status 0
  commit_in r -qm "global"
  expect_status 0
  expect_file_exists "$TEST_DIR/local-hook-ran"
  expect_eq "$(hook_commits)" 1 "recorded once"
  run perfguard-hooks install --global
  expect_status 0
  run perfguard-hooks uninstall --global
  expect_status 0
  run git config --global --get core.hooksPath
  expect_status 1
  cmp "$HOME/.gitconfig" "$TEST_DIR/gitconfig.before" || fail "global config not as it was"
  expect_no_file "$XDG_CONFIG_HOME/perfguard/hooks"
}

test_global_install_into_an_existing_global_hooks_path_chains_and_leaves_it_set() {
  export GIT_CONFIG_GLOBAL=$HOME/.gitconfig XDG_CONFIG_HOME=$TEST_DIR/xdg
  mkdir -p "$TEST_DIR/my-hooks"
  printf '#!/bin/sh\necho "$1" >"%s/global-user-hook"\n' "$TEST_DIR" >"$TEST_DIR/my-hooks/post-checkout"
  printf '#!/bin/sh\ncat >"%s/global-push-stdin"\n' "$TEST_DIR" >"$TEST_DIR/my-hooks/pre-push"
  chmod 755 "$TEST_DIR/my-hooks/post-checkout" "$TEST_DIR/my-hooks/pre-push"
  cp "$TEST_DIR/my-hooks/post-checkout" "$TEST_DIR/post-checkout.before"
  make_repo r 2
  git config --global core.hooksPath "$TEST_DIR/my-hooks"
  run perfguard-hooks install --global
  expect_status 0
  expect_stdout_contains "$TEST_DIR/my-hooks (2 of your hooks chained)"
  run git -C r checkout -q -b other
  expect_status 0
  expect_file_exists "$TEST_DIR/global-user-hook"
  expect_sql "$(store_of r)" "select step, labels from step_results" 'checkout|{"source":"hook","timing":"process-start"}'
  # A pre-push of the global directory and one of the repository: each reads all of stdin.
  printf '#!/bin/sh\ncat >"%s/local-push-stdin"\n' "$TEST_DIR" >r/.git/hooks/pre-push
  chmod 755 r/.git/hooks/pre-push
  git init -q --bare remote.git
  run git -C r push -q "$TEST_DIR/remote.git" other
  expect_status 0
  for f in global-push-stdin local-push-stdin; do
    grep -q "refs/heads/other $(git -C r rev-parse HEAD) refs/heads/other" "$TEST_DIR/$f" ||
      fail "$f: the hook did not get the refs on stdin"
  done
  run perfguard-hooks uninstall --global
  expect_status 0
  expect_eq "$(git config --global core.hooksPath)" "$TEST_DIR/my-hooks" "core.hooksPath kept"
  cmp "$TEST_DIR/my-hooks/post-checkout" "$TEST_DIR/post-checkout.before" || fail "user hook not restored"
  expect_eq "$(ls "$TEST_DIR/my-hooks" | tr '\n' ' ')" "post-checkout pre-push " "only the user's hooks are left"
}

# open_critical_alert: a breach of perf-commit opens the threshold rule's critical alert.
open_critical_alert() {
  echo "$RANDOM" >>r/file.txt
  run perf-commit -C r --threshold 1us -qm breach
  expect_status 3
  expect_sql "$(store_of r)" "select severity from open_alerts" critical
}

test_pre_push_blocks_while_a_critical_alert_is_open_and_passes_without_one() {
  installed_repo
  git init -q --bare remote.git
  run git -C r push -q "$TEST_DIR/remote.git" main
  expect_status 0
  open_critical_alert
  run git -C r push -q "$TEST_DIR/remote.git" main
  expect_status 1
  expect_stderr_contains "perfguard-hooks: push blocked: a critical alert is open"
  expect_eq "$(git -C remote.git rev-parse main)" "$(git -C r rev-parse HEAD~1)" "remote unchanged"
  run git -C r push -q --no-verify "$TEST_DIR/remote.git" main
  expect_status 0
}

test_pre_push_passes_while_paused() {
  installed_repo
  git init -q --bare remote.git
  open_critical_alert
  printf 'since=1\nby=test\nreason=drill\n' >"$(dirname "$(store_of r)")/paused"
  run git -C r push -q "$TEST_DIR/remote.git" main
  expect_status 0
  expect_eq "$(git -C remote.git rev-parse main)" "$(git -C r rev-parse HEAD)" "pushed"
}

test_pre_push_warns_and_passes_without_perf_alerts() {
  own_copy
  make_repo r 1
  run "$TEST_DIR/bin/perfguard-hooks" -C r install
  git init -q --bare remote.git
  PATH=$PLAIN_PATH run git -C r push -q "$TEST_DIR/remote.git" main
  expect_status 0
  expect_stderr_contains "perfguard-hooks: warning: perf-alerts is not installed: the push goes on without the alert gate"
}

test_checkout_merge_and_rebase_are_recorded_and_the_rest_skipped() {
  installed_repo
  db=$(store_of r)
  run git -C r checkout -q -b topic
  expect_status 0
  echo t >r/topic.txt && git -C r add topic.txt
  run git -C r commit -qm "on topic"
  run git -C r checkout -q main
  commit_in r -qm "on main"
  run git -C r checkout -q HEAD~1 -- file.txt  # a file checkout: not timed
  git -C r checkout -q HEAD -- file.txt
  run git -C r rebase -q main topic  # its own checkout on the way is not a checkout
  expect_status 0
  run git -C r checkout -q main
  run git -C r merge -q --no-ff --no-edit topic
  expect_status 0
  run git -C r commit -q --amend -m "amended"  # post-rewrite amend: post-commit has it
  expect_status 0
  expect_sql "$db" "select step || ':' || count(*) from step_results group by step order by step" \
    "checkout:3
commit:3
merge:1
rebase:1"
  expect_sql "$db" "select count(*) from step_results where step <> 'commit' and labels = '{\"source\":\"hook\",\"timing\":\"process-start\"}' and duration_us > 0" 5
}

test_a_clone_s_first_checkout_is_not_recorded() {
  make_repo src 1
  export GIT_CONFIG_GLOBAL=$HOME/.gitconfig XDG_CONFIG_HOME=$TEST_DIR/xdg
  run perfguard-hooks install --global
  expect_status 0
  run git clone -q src r
  expect_status 0
  expect_no_file "$(store_of r)"
}

test_bad_input_changes_nothing() {
  mkdir plain
  run perfguard-hooks -C plain install
  expect_status 2
  expect_stderr_lines 1
  expect_stderr_contains "perfguard-hooks: "
  run perfguard-hooks -C plain status
  expect_status 2
  run perfguard-hooks run not-a-hook
  expect_status 2
  expect_stderr_contains "'not-a-hook' is not a hook perfguard runs"
  run perfguard-hooks install --bogus
  expect_status 2
  make_repo r 1
  share_with_other_user
  chmod 755 r/.git/hooks
  before=$(ls -la r/.git/hooks)
  if [[ $(id -u) -eq 0 ]]; then
    run as_other_user perfguard-hooks -C r install
  else
    chmod 555 r/.git/hooks
    run perfguard-hooks -C r install
  fi
  expect_status 2
  expect_stderr_lines 1
  expect_stderr_contains "is not writable"
  chmod 755 r/.git/hooks
  expect_eq "$(ls -la r/.git/hooks)" "$before" "hooks directory untouched"
  expect_no_file r/.git/perfguard/saved-hooks
}

test_the_hook_scripts_and_the_pre_commit_framework_entries_name_real_hooks() {
  local src=$here/../..
  for h in $HOOKS; do
    [[ -x $src/hooks/$h ]] || fail "hooks/$h missing or not executable"
    grep -q "perfguard-hooks run $h \"\$@\"" "$src/hooks/$h" || fail "hooks/$h does not run $h"
    sh -n "$src/hooks/$h" || fail "hooks/$h is not valid sh"
  done
  command -v python3 >/dev/null || skip "python3 is not installed"
  python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
  python3 - "$src/.pre-commit-hooks.yaml" >"$TEST_DIR/entries" <<'PY' || fail "pre-commit entries"
import sys, yaml
entries = yaml.safe_load(open(sys.argv[1]))
assert isinstance(entries, list) and entries
for e in entries:
    assert e["language"] == "system" and e["always_run"] is True and e["pass_filenames"] is False, e
    words = e["entry"].split()
    assert words[:2] == ["perfguard-hooks", "run"] and len(words) == 3, e
    assert e["stages"] == [words[2]], e
    print(words[2])
PY
  for h in $(cat "$TEST_DIR/entries"); do
    [[ " $HOOKS " == *" $h "* ]] || fail "entry runs unknown hook $h"
    mkdir -p plain
    (cd plain && run perfguard-hooks run "$h" </dev/null)
    (cd plain && perfguard-hooks run "$h" </dev/null) || fail "perfguard-hooks run $h fails"
  done
  expect_eq "$(sort "$TEST_DIR/entries" | tr '\n' ' ')" "commit-msg post-commit pre-commit pre-push prepare-commit-msg " "entries"
}

test_the_commit_is_timed_under_a_wrapper_as_the_pre_commit_framework_runs_it() {
  command -v python3 >/dev/null || skip "python3 is not installed"
  make_repo r 1
  # Each hook runs perfguard-hooks through another program, as the framework's python does:
  # git → sh → python3 → perfguard-hooks.
  for h in pre-commit prepare-commit-msg commit-msg post-commit; do
    printf '#!/bin/sh\nexec python3 -c "import subprocess, sys; sys.exit(subprocess.call([\\"perfguard-hooks\\", \\"run\\", \\"%s\\"] + sys.argv[1:]))" "$@"\n' "$h" >r/.git/hooks/$h
    chmod +x r/.git/hooks/$h
  done
  commit_in r -qm "under a wrapper"
  expect_status 0
  expect_eq "$(hook_commits)" 1 "recorded through the wrapper"
  expect_eq "$(stamps_left r)" 0 "stamps left behind"
}
