#!/bin/sh
# hooks.sh [--runs N] [--quick]
#
# What perfguard's git hooks cost a person's `git commit`: the same `git commit -q -m` of a
# one-line change in two copies of one repository (200 files), one without hooks and one with
# `perfguard-hooks install`, interleaved (perfguard-interleave, --runs runs each, default 100,
# after 5 warm-ups). A commit runs four of the hooks (pre-commit, prepare-commit-msg,
# commit-msg, post-commit; post-commit writes the record to the store), so the difference of
# the medians over four is what each hook adds; the goal is at most 5 ms a hook.
# --quick: 20 runs.
# Builds nothing: the tools come from $BIN (default build/release/tools). Writes under
# ${BENCH_DIR:-/tmp/perfguard-bench}/hooks.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
runs=100
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || { echo "hooks.sh: --runs needs a number" >&2; exit 2; }; runs=$2; shift 2 ;;
    --quick) runs=20; shift ;;
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "hooks.sh: unknown argument $1 (usage: hooks.sh [--runs N] [--quick])" >&2; exit 2 ;;
  esac
done

BIN=${BIN:-$here/../build/release/tools}
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "hooks.sh: BIN directory not found" >&2; exit 2; }
INTERLEAVE=${INTERLEAVE:-$BIN/../bench/perfguard-interleave}
for tool in "$BIN/perfguard-hooks" "$BIN/perf-alerts" "$INTERLEAVE"; do
  [ -x "$tool" ] || { echo "hooks.sh: $tool not found; build first or set BIN" >&2; exit 2; }
done
command -v git >/dev/null || { echo "hooks.sh: git is not installed" >&2; exit 2; }

BENCH_ROOT=${BENCH_DIR:-/tmp/perfguard-bench}
mkdir -p "$BENCH_ROOT"
BENCH_ROOT=$(cd "$BENCH_ROOT" && pwd)
dir=$BENCH_ROOT/hooks
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/xdg"
cp "$BIN/perfguard-hooks" "$BIN/perf-alerts" "$INTERLEAVE" "$dir/bin/"
BIN=$dir/bin
export LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$dir/gitconfig" XDG_CONFIG_HOME="$dir/xdg"
: >"$GIT_CONFIG_GLOBAL"
git config --global user.name bench
git config --global user.email bench@example.com
git config --global init.defaultBranch main
for var in $(env | sed -n 's/^\(PERFGUARD_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$var"; done

git init -q "$dir/plain"
i=0
while [ $i -lt 200 ]; do echo "file $i" >"$dir/plain/f$i.txt"; i=$((i + 1)); done
git -C "$dir/plain" add -A
git -C "$dir/plain" commit -q -m initial
rm -f "$dir/plain/.git/hooks/"*.sample
cp -a "$dir/plain" "$dir/hooked"
"$BIN/perfguard-hooks" -C "$dir/hooked" -q install

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
"$BIN/perfguard-interleave" --cwd "$dir" --runs "$runs" --warmup 5 \
  --title "git commit: without hooks, and with perfguard's" --json "$dir/hooks.json" \
  --name "no hooks" --prepare "sh -c 'echo x >>plain/f1.txt && git -C plain add f1.txt'" \
  --timed "git -C plain commit -q -m bench" \
  --name "perfguard hooks" --prepare "sh -c 'echo x >>hooked/f1.txt && git -C hooked add f1.txt'" \
  --timed "git -C hooked commit -q -m bench"
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
recorded=$(git -C "$dir/hooked" rev-list --count HEAD)
echo "commits in the hooked repository: $recorded (each recorded by post-commit)"
echo "each hook adds (median with hooks - median without) / 4"
echo "load average $load_before before / $load_after after; $(date -u '+%Y-%m-%d %H:%M UTC')"
