# Helpers for the CLI suites. A test fails at the first expectation that does not hold;
# the message says which promise broke.

setup_test_env() {
  export HOME="$1/home" TEST_DIR="$1"
  unset XDG_CONFIG_HOME XDG_STATE_HOME GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE PERFGUARD_DB \
    CI GITHUB_ACTIONS GITLAB_CI BUILDKITE JENKINS_URL NO_COLOR
  export GIT_CONFIG_NOSYSTEM=1 LC_ALL=C.UTF-8
  git config --global user.name "Test User"
  git config --global user.email test@example.com
  git config --global init.defaultBranch main
  git config --global commit.gpgsign false
  git config --global advice.detachedHead false
}

fail() { echo "FAILED: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }

# require_consumer PROGRAM PACKAGE: the program that reads one of our formats (promtool,
# xmllint, protoc, …) is there, or the case fails saying how to get it: a format no one checked
# is not a pass. scripts/install-deps installs every PACKAGE named here.
require_consumer() {
  command -v "$1" >/dev/null ||
    fail "$1 is not installed: the Debian package $2 has it (scripts/install-deps installs it)"
}

# can_make_terminal: whether a pseudo-terminal can be made here (none without /dev/pts, as
# in a chroot with only /dev bound).
can_make_terminal() {
  script -qec true /dev/null </dev/null >/dev/null 2>&1
}

# require_terminal: skips the case when it cannot have a pseudo-terminal of its own, from
# script(1) or zsh's zpty.
require_terminal() {
  command -v script >/dev/null || skip "script (util-linux) is not installed"
  can_make_terminal || skip "no pseudo-terminal can be made here (is /dev/pts mounted?)"
}

# make_repo DIR [COMMITS]: a repository with COMMITS commits (default 2) of file.txt.
make_repo() {
  local dir=$1 n=${2:-2} i
  git init -q "$dir" || fail "git init"
  for ((i = 1; i <= n; i++)); do
    echo "version $i" >"$dir/file.txt"
    git -C "$dir" add -A && git -C "$dir" commit -qm "commit $i" || fail "commit $i"
  done
}

# run CMD…: runs it, keeping stdout in $TEST_DIR/out, stderr in $TEST_DIR/err, status in $status.
run() {
  "$@" >"$TEST_DIR/out" 2>"$TEST_DIR/err"
  status=$?
  echo "\$ $* -> $status" >&2
  sed 's/^/  out: /' "$TEST_DIR/out" >&2
  sed 's/^/  err: /' "$TEST_DIR/err" >&2
}

expect_status() {
  [[ $status -eq $1 ]] || fail "expected exit $1, got $status"
}
expect_stdout_contains() {
  grep -qF -- "$1" "$TEST_DIR/out" || fail "stdout lacks: $1"
}
expect_stderr_contains() {
  grep -qF -- "$1" "$TEST_DIR/err" || fail "stderr lacks: $1"
}
expect_stderr_lines() {
  local n
  n=$(grep -c . "$TEST_DIR/err")
  [[ $n -eq $1 ]] || fail "expected $1 line(s) on stderr, got $n"
}
expect_eq() {
  [[ "$1" == "$2" ]] || fail "${3:-value}: expected '$2', got '$1'"
}
expect_file_exists() { [[ -e $1 ]] || fail "missing file $1"; }
expect_no_file() { [[ ! -e $1 ]] || fail "file should not exist: $1"; }

# sql DB QUERY: the query's result from the store, through the public views.
sql() { sqlite3 -batch -noheader "$1" "$2"; }
expect_sql() {
  local got
  got=$(sql "$1" "$2")
  [[ "$got" == "$3" ]] || fail "sql '$2': expected '$3', got '$got'"
}

# The default store of a repository.
store_of() { echo "$(git -C "$1" rev-parse --path-format=absolute --git-common-dir)/perfguard/perf.db"; }

# state_of DIR: HEAD, branch, index, work tree contents (bytes) and status, as one text to
# compare before and after.
state_of() {
  (
    cd "$1" || exit 1
    echo "HEAD $(git rev-parse HEAD) $(git symbolic-ref -q HEAD || echo detached)"
    echo "index:"; git ls-files -s
    echo "status:"; git status --porcelain=v1 --untracked-files=all
    echo "files:"; find . -path ./.git -prune -o -type f -print0 | sort -z | xargs -0 sha256sum
  )
}

snapshot_count() { git -C "$1" for-each-ref refs/perfguard/snapshots/ | wc -l; }

# share_with_other_user: lets the user of as_other_user work in this test's directory.
share_with_other_user() {
  if [[ $(id -u) -eq 0 ]]; then
    chmod -R a+rwX "$TEST_DIR" 2>/dev/null
    chmod a+x "$(dirname "$TEST_DIR")"
  fi
}

# as_other_user CMD…: runs CMD as an unprivileged user when we are root (root ignores file
# permissions, so a read-only store is only read-only to someone else). The project and its
# build may be where that user cannot go (a clone under a 0700 /root): a tool from
# $PERFGUARD_BIN runs from a copy in the test's directory, and TMPDIR is one of the test's.
as_other_user() {
  if [[ $(id -u) -ne 0 ]]; then
    "$@"
    return
  fi
  command -v setpriv >/dev/null || skip "setpriv is not installed"
  local other=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  local bin=$TEST_DIR/.other-user/bin tmp=$TEST_DIR/.other-user/tmp cmd=$1
  shift
  mkdir -p "$bin" "$tmp"
  if [[ $cmd != */* && -x $PERFGUARD_BIN/$cmd ]]; then cmd=$PERFGUARD_BIN/$cmd; fi
  if [[ $cmd == "$PERFGUARD_BIN"/* ]]; then
    cp "$cmd" "$bin/" || fail "copying $cmd for the other user"
    cmd=$bin/$(basename "$cmd")
  fi
  # Only what the user needs to reach the copy: the test decides what else is theirs.
  chmod a+x "$(dirname "$TEST_DIR")" "$TEST_DIR" "$TEST_DIR/.other-user"
  chmod a+rx "$bin" "$bin"/*
  chmod 1777 "$tmp"
  "${other[@]}" test -x "$TEST_DIR" ||
    fail "user 65534 cannot reach $TEST_DIR: run the suite with a TMPDIR every user can traverse"
  "${other[@]}" env HOME="$HOME" TMPDIR="$tmp" PATH="$bin:/usr/local/bin:/usr/bin:/bin" \
    GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' "$cmd" "$@"
}

# hold_file PATH: a live process (not this shell) keeps PATH open, created if need be, until
# the test ends, as a running git keeps its lock open. It has the file open when this
# returns: the descriptor is inherited at fork(). Sets $HOLDER_PID.
hold_file() {
  exec {fd}>>"$1" || fail "opening $1"
  sleep 1000 &
  HOLDER_PID=$!
  exec {fd}>&-
  kill_at_end "$HOLDER_PID"
}

# kill_at_end PID…: killed (and reaped) when the test ends, whether it passed or not.
TEST_PIDS=()
kill_at_end() { TEST_PIDS+=("$@"); }
# unmount_at_end DIR: unmounted when the test ends (after its processes are killed).
TEST_MOUNTS=()
unmount_at_end() { TEST_MOUNTS+=("$1"); }
# stop_cluster_at_end STATE: the PostgreSQL cluster tests/postgres/cluster started with STATE
# is stopped and removed when the test ends.
TEST_CLUSTERS=()
stop_cluster_at_end() { TEST_CLUSTERS+=("$1"); }
end_test() {
  local pid dir state
  for pid in "${TEST_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  TEST_PIDS=()
  for dir in "${TEST_MOUNTS[@]}"; do umount "$dir" 2>/dev/null || umount -l "$dir"; done
  TEST_MOUNTS=()
  for state in "${TEST_CLUSTERS[@]}"; do sh "$SOURCE_ROOT/tests/postgres/cluster" stop "$state"; done
  TEST_CLUSTERS=()
}

# The project's source tree.
SOURCE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# mount_small_tmpfs DIR SIZE: a tmpfs of SIZE at DIR (made), unmounted when the test ends;
# skips the test when it cannot be mounted (not root, or no permission in this container).
mount_small_tmpfs() {
  [[ $(id -u) -eq 0 ]] || skip "mounting a tmpfs needs root"
  mkdir -p "$1"
  mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" 2>/dev/null || skip "cannot mount a tmpfs here"
  unmount_at_end "$1"
}

# break_store DB / mend_store DB: while broken, a directory stands where the store was (its
# file and sidecars kept aside), so the tools cannot open it and write to the journal.
break_store() {
  local f
  for f in "$1" "$1-wal" "$1-shm"; do [[ -e $f ]] && mv "$f" "$f.aside"; done
  mkdir "$1"
}
mend_store() {
  local f
  rmdir "$1" || fail "mend_store: $1 is not the empty directory break_store made"
  for f in "$1" "$1-wal" "$1-shm"; do [[ -e $f.aside ]] && mv "$f.aside" "$f"; done
  return 0
}

# with_trace2 DIR CMD…: runs CMD with git writing trace2 events into DIR (absolute).
with_trace2() {
  local dir=$1
  shift
  GIT_TRACE2_EVENT=$dir GIT_TRACE2_EVENT_NESTING=5 "$@"
}

# wait_for_lines FILE N: until FILE has at least N lines (at most 90 s: a detached sender,
# on a loaded machine).
wait_for_lines() {
  local i
  for ((i = 0; i < 900; i++)); do
    [[ -f $1 && $(wc -l <"$1") -ge $2 ]] && return 0
    sleep 0.1
  done
  fail "$1 did not reach $2 lines"
}

# wait_for_file PATH: until PATH exists (made by a process the test started); the bound is
# only for one that hangs.
wait_for_file() {
  local i
  for i in $(seq 1 2400); do
    [[ -e $1 ]] && return 0
    sleep 0.05
  done
  fail "$1 never appeared"
}

# expect_refused_by_held_lock LOCK: the last run refused (exit 5) for LOCK, which a running
# process ($HOLDER_PID, from hold_file) has open; the lock is still there.
expect_refused_by_held_lock() {
  expect_status 5
  expect_stderr_contains "$1 exists: it is held by a running process"
  expect_stderr_contains "pid $HOLDER_PID"
  expect_stderr_lines 1
  expect_file_exists "$1"
}

# expect_refused_by_stale_lock LOCK: the last run refused (exit 5) for LOCK, whose owner is
# gone, and said how to remove it; the lock is still there.
expect_refused_by_stale_lock() {
  expect_status 5
  expect_stderr_contains "$1 exists: its owner is gone (no process has it open"
  expect_stderr_contains "remove it with rm -f $1"
  expect_stderr_lines 1
  expect_file_exists "$1"
}

# run_the_advised_rm: runs the `rm -f PATH` the last refusal advised.
run_the_advised_rm() {
  local path
  path=$(sed -n 's/.*remove it with rm -f //p' "$TEST_DIR/err")
  [[ -n $path ]] || fail "no rm command advised"
  rm -f "$path"
}

# wait_for_exit PID: until PID has ended (gone, or a zombie nobody has reaped yet: it has
# no open files left); the bound is only for one that hangs.
wait_for_exit() {
  local i state
  for i in $(seq 1 2400); do
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
    [[ -z $state || $state == Z ]] && return 0
    sleep 0.05
  done
  fail "process $1 did not end"
}
