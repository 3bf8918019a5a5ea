#!/bin/sh
# ship.sh [--runs N] [--quick] [--shared CONNINFO] [--records N]
#
# What shipping to a shared store costs. First, what it adds to a step: perf-commit of a
# one-line change in three copies of one repository (200 files), interleaved
# (perfguard-interleave, --runs runs each, default 100, after 5 warm-ups): [store] shared unset;
# set to a server that cannot be reached (a socket directory that does not exist) with a
# perfguard-ship that does nothing (/bin/true), which measures the detached start alone; and
# the same with the real perfguard-ship, whose work (open the store, fail, keep the failure)
# runs beside the next steps and competes with them for the CPU. The goal for the start: well
# under 1 ms.
# Then, with --shared CONNINFO (a PostgreSQL store this build can reach): --records records
# (default 100,000) imported into a fresh local store and shipped by `perf-baseline sync`,
# twice (the second finds nothing new); records per second.
# --quick: 20 runs, 10,000 records.
# Builds nothing: the tools come from $BIN (default build/release/tools). Writes under
# ${BENCH_DIR:-/tmp/perfguard-bench}/ship.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
runs=100
records=100000
shared=
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || { echo "ship.sh: --runs needs a number" >&2; exit 2; }; runs=$2; shift 2 ;;
    --records) [ $# -ge 2 ] || { echo "ship.sh: --records needs a number" >&2; exit 2; }; records=$2; shift 2 ;;
    --shared) [ $# -ge 2 ] || { echo "ship.sh: --shared needs a connection string" >&2; exit 2; }; shared=$2; shift 2 ;;
    --quick) runs=20; records=10000; shift ;;
    -h|--help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "ship.sh: unknown argument $1 (usage: ship.sh [--runs N] [--quick] [--shared CONNINFO] [--records N])" >&2; exit 2 ;;
  esac
done

BIN=${BIN:-$here/../build/release/tools}
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "ship.sh: BIN directory not found" >&2; exit 2; }
INTERLEAVE=${INTERLEAVE:-$BIN/../bench/perfguard-interleave}
for tool in "$BIN/perf-commit" "$BIN/perf-baseline" "$BIN/perfguard-ship" "$INTERLEAVE"; do
  [ -x "$tool" ] || { echo "ship.sh: $tool not found; build first or set BIN" >&2; exit 2; }
done
command -v git >/dev/null || { echo "ship.sh: git is not installed" >&2; exit 2; }

BENCH_ROOT=${BENCH_DIR:-/tmp/perfguard-bench}
mkdir -p "$BENCH_ROOT"
BENCH_ROOT=$(cd "$BENCH_ROOT" && pwd)
dir=$BENCH_ROOT/ship
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/xdg"
# perfguard-ship beside perf-commit, where the tools look for it first.
cp "$BIN/perf-commit" "$BIN/perf-baseline" "$BIN/perfguard-ship" "$INTERLEAVE" "$dir/bin/"
BIN=$dir/bin
export LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$dir/gitconfig" XDG_CONFIG_HOME="$dir/xdg"
: >"$GIT_CONFIG_GLOBAL"
git config --global user.name bench
git config --global user.email bench@example.com
git config --global init.defaultBranch main
for var in $(env | sed -n 's/^\(PERFGUARD_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$var"; done

git init -q "$dir/local"
i=0
while [ $i -lt 200 ]; do echo "file $i" >"$dir/local/f$i.txt"; i=$((i + 1)); done
git -C "$dir/local" add -A
git -C "$dir/local" commit -q -m initial
cp -a "$dir/local" "$dir/shipping"
cp -a "$dir/local" "$dir/started"
# perf-commit beside a perfguard-ship that does nothing: the start without the work.
mkdir -p "$dir/noop"
cp "$BIN/perf-commit" "$dir/noop/"
cp /bin/true "$dir/noop/perfguard-ship"

unreachable='postgresql://bench@/perf?host=/nonexistent'
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
# `env` in both variants, so that both pay for it; an empty PERFGUARD_SHARED is unset.
"$BIN/perfguard-interleave" --cwd "$dir" --runs "$runs" --warmup 5 \
  --title "perf-commit: [store] shared unset, and set to a server that cannot be reached" \
  --json "$dir/commit.json" \
  --name "shared unset" --prepare "sh -c 'echo x >>local/f1.txt'" \
  --timed "env PERFGUARD_SHARED= $BIN/perf-commit -C local -q -m bench" \
  --name "start only" --prepare "sh -c 'echo x >>started/f1.txt'" \
  --timed "env PERFGUARD_SHARED=$unreachable $dir/noop/perf-commit -C started -q -m bench" \
  --name "shared unreachable" --prepare "sh -c 'echo x >>shipping/f1.txt'" \
  --timed "env PERFGUARD_SHARED=$unreachable $BIN/perf-commit -C shipping -q -m bench"
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
db=$(git -C "$dir/shipping" rev-parse --path-format=absolute --git-common-dir)/perfguard/perf.db
PERFGUARD_SHARED=$unreachable "$BIN/perf-baseline" -C "$dir/shipping" sync --status |
  sed 's/^/  /'
echo "start only - shared unset: what starting perfguard-ship costs a step;"
echo "shared unreachable - shared unset: that and the shipper's work competing for the CPU"
echo "load average $load_before before / $load_after after; $(date -u '+%Y-%m-%d %H:%M UTC')"

[ -n "$shared" ] || {
  echo "sync throughput: skipped (give --shared CONNINFO, a PostgreSQL store this build reaches)"
  exit 0
}
git init -q "$dir/bulk"
start=$(($(date +%s) * 1000000 - records * 1000000))
awk -v n="$records" -v start="$start" 'BEGIN {
  for (i = 0; i < n; i++)
    printf "{\"trace_id\":\"%016x\",\"step\":\"commit\",\"status\":\"ok\",\"started_us\":%d,\"duration_us\":%d,\"exit_code\":0,\"spans\":[{\"name\":\"add\",\"offset_us\":40,\"duration_us\":9000,\"exit_code\":0,\"spans\":[]},{\"name\":\"commit\",\"offset_us\":9100,\"duration_us\":20000,\"exit_code\":0,\"spans\":[]}],\"labels\":{}}\n",
      i + 1, start + i * 1000000, 30000 + i % 5000
}' >"$dir/records.jsonl"
"$BIN/perf-baseline" -C "$dir/bulk" -q import "$dir/records.jsonl" --format jsonl
for round in first second; do
  PERFGUARD_SHARED=$shared "$BIN/perf-baseline" -C "$dir/bulk" sync --format json >"$dir/sync-$round.json"
  echo "sync ($round): $(cat "$dir/sync-$round.json")"
done
awk 'match($0, /"shipped":[0-9]+/) { n = substr($0, RSTART + 10, RLENGTH - 10) }
  match($0, /"seconds":[0-9.e+-]+/) { s = substr($0, RSTART + 10, RLENGTH - 10) }
  END { if (s > 0) printf "throughput: %d records in %.2f s, %.0f records/s\n", n, s, n / s }' \
  "$dir/sync-first.json"
