#!/bin/bash
# recover.sh [--runs N] [--quick]
#
# What perf-recover adds to the git steps it runs: on the generated repository
# (make-repo.sh), a clean tree, an instant restart and health check (`true`), --runs
# recoveries (default 50, after 3 warm-ups) to HEAD (`--to HEAD`: a real `git reset --hard`
# that leaves the repository as it was, so every run does the same work), each recorded
# into the repository's store. For each run: the wall time (from before the process starts
# to after it exits) minus the time of its git steps (the spans reset, status and log of its
# own record). Prints the medians of the wall time, the git steps and the difference; the
# goal is a difference of at most 10 ms. The clock is the shell's own ($EPOCHREALTIME), read
# just before the tool is started and just after it is reaped: two `date` processes around
# it would add their own start and exit (about 1.7 ms a run here). The same clock around
# /bin/true is printed as the floor, what starting and reaping any program costs.
# --quick: 10 runs. Builds nothing: perf-recover comes from $BIN (default
# build/release/tools). Writes under ${BENCH_DIR:-/tmp/perfguard-bench}/recover.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

here=$(cd "$(dirname "$0")" && pwd)
runs=50
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || { echo "recover.sh: --runs needs a number" >&2; exit 2; }; runs=$2; shift 2 ;;
    --quick) runs=10; shift ;;
    -h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "recover.sh: unknown argument $1 (usage: recover.sh [--runs N] [--quick])" >&2; exit 2 ;;
  esac
done
case $runs in ''|*[!0-9]*) echo "recover.sh: --runs needs a number" >&2; exit 2 ;; esac

BIN=${BIN:-$here/../build/release/tools}
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "recover.sh: BIN directory not found" >&2; exit 2; }
[ -x "$BIN/perf-recover" ] || { echo "recover.sh: $BIN/perf-recover not found; build first" >&2; exit 2; }
for cmd in jq git; do
  command -v "$cmd" >/dev/null || { echo "recover.sh: $cmd is not installed" >&2; exit 2; }
done

BENCH_ROOT=${BENCH_DIR:-/tmp/perfguard-bench}
mkdir -p "$BENCH_ROOT"
BENCH_ROOT=$(cd "$BENCH_ROOT" && pwd)
dir=$BENCH_ROOT/recover
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/xdg"
cp "$BIN/perf-recover" "$dir/bin/"
export LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$dir/gitconfig" XDG_CONFIG_HOME="$dir/xdg"
: >"$GIT_CONFIG_GLOBAL"
for var in $(env | sed -n 's/^\(PERFGUARD_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$var"; done

sh "$here/make-repo.sh" "$BENCH_ROOT/repo"
cp -a "$BENCH_ROOT/repo" "$dir/repo"

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
: >"$dir/samples"
i=0
while [ $i -lt $((runs + 3)) ]; do
  start=$EPOCHREALTIME
  "$dir/bin/perf-recover" -C "$dir/repo" --yes --json --to HEAD --restart true --health true \
    >"$dir/out.json" 2>/dev/null
  end=$EPOCHREALTIME
  floor_start=$EPOCHREALTIME
  /bin/true
  floor_end=$EPOCHREALTIME
  if [ $i -ge 3 ]; then
    git_us=$(jq '[.steps[0].spans[] | .. | objects | select(.name == "reset" or .name == "status" or .name == "log") | .duration_us] | add' "$dir/out.json")
    echo "$((${end/./} - ${start/./})) $git_us $((${floor_end/./} - ${floor_start/./}))" >>"$dir/samples"
  fi
  i=$((i + 1))
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wall=$(awk '{ print $1 }' "$dir/samples" | median)
git=$(awk '{ print $2 }' "$dir/samples" | median)
added=$(awk '{ print $1 - $2 }' "$dir/samples" | median)
floor=$(awk '{ print $3 }' "$dir/samples" | median)
printf 'perf-recover, %d runs on the generated repository (restart and health: true)\n' "$runs"
printf '  wall time          median %8.2f ms\n' "$(echo "$wall" | awk '{ print $1 / 1000 }')"
printf '  its git steps      median %8.2f ms\n' "$(echo "$git" | awk '{ print $1 / 1000 }')"
printf '  wall minus git     median %8.2f ms   (goal: at most 10 ms)\n' "$(echo "$added" | awk '{ print $1 / 1000 }')"
printf '  /bin/true (floor)  median %8.2f ms\n' "$(echo "$floor" | awk '{ print $1 / 1000 }')"
echo "load average $load_before before / $load_after after; $(date -u '+%Y-%m-%d %H:%M UTC')"
