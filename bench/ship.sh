#!/bin/sh
# ship.sh [--runs N] [--quick] [--shared CONNINFO]
#
# What shipping to a shared store adds to a step: perf-commit of a one-line change in four
# copies of one repository (200 files), interleaved (perfguard-interleave, --runs runs each,
# default 100, after 5 warm-ups): [store] shared unset; set to a server that cannot be
# reached (a socket directory that does not exist) with a perfguard-ship that does nothing
# (/bin/true), which measures the detached start alone; the same with the real
# perfguard-ship, whose work (open the store, fail, keep the failure) runs beside the next
# steps; and set to a server that is up, where the real perfguard-ship ships each record.
# The goals: the start well under 1 ms, and the median with the server down or up within
# 1 ms of the median without shared.
# The server that is up: --shared CONNINFO (a PostgreSQL store this build can reach), or by
# default a throwaway PostgreSQL 15 cluster (tests/postgres/cluster), stopped when done.
# --quick: 20 runs. The shipping rate of a million records is bench/shared.sh's.
# Builds nothing: the tools come from $BIN (default build/release/tools). Writes under
# ${BENCH_DIR:-/tmp/perfguard-bench}/ship.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
runs=100
shared=
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || { echo "ship.sh: --runs needs a number" >&2; exit 2; }; runs=$2; shift 2 ;;
    --shared) [ $# -ge 2 ] || { echo "ship.sh: --shared needs a connection string" >&2; exit 2; }; shared=$2; shift 2 ;;
    --quick) runs=20; shift ;;
    -h|--help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "ship.sh: unknown argument $1 (usage: ship.sh [--runs N] [--quick] [--shared CONNINFO])" >&2; exit 2 ;;
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

# The server that is up.
if [ -z "$shared" ]; then
  # shellcheck source=bench/cluster.sh
  . "$here/cluster.sh"
  bench_cluster "$dir"
  psql -q -c "CREATE DATABASE bench" >/dev/null
  shared="postgresql:///bench?host=$PGHOST&user=$PGUSER"
fi

git init -q "$dir/local"
i=0
while [ $i -lt 200 ]; do echo "file $i" >"$dir/local/f$i.txt"; i=$((i + 1)); done
git -C "$dir/local" add -A
git -C "$dir/local" commit -q -m initial
for copy in started down up; do cp -a "$dir/local" "$dir/$copy"; done
# perf-commit beside a perfguard-ship that does nothing: the start without the work.
mkdir -p "$dir/noop"
cp "$BIN/perf-commit" "$dir/noop/"
cp /bin/true "$dir/noop/perfguard-ship"
# The server up: the store made and the shipper's first connection made before the runs.
echo x >>"$dir/up/f1.txt"
PERFGUARD_SHARED=$shared "$BIN/perf-commit" -C "$dir/up" -q -m first
PERFGUARD_SHARED=$shared "$BIN/perf-baseline" -C "$dir/up" -q sync

unreachable='postgresql://bench@/perf?host=/nonexistent'
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
# `env` in every variant, so that all pay for it; an empty PERFGUARD_SHARED is unset.
"$BIN/perfguard-interleave" --cwd "$dir" --runs "$runs" --warmup 5 \
  --title "perf-commit: [store] shared unset, set to a server that is down, and to one that is up" \
  --json "$dir/commit.json" \
  --name "shared unset" --prepare "sh -c 'echo x >>local/f1.txt'" \
  --timed "env PERFGUARD_SHARED= $BIN/perf-commit -C local -q -m bench" \
  --name "start only" --prepare "sh -c 'echo x >>started/f1.txt'" \
  --timed "env PERFGUARD_SHARED=$unreachable $dir/noop/perf-commit -C started -q -m bench" \
  --name "server down" --prepare "sh -c 'echo x >>down/f1.txt'" \
  --timed "env PERFGUARD_SHARED=$unreachable $BIN/perf-commit -C down -q -m bench" \
  --name "server up" --prepare "sh -c 'echo x >>up/f1.txt'" \
  --timed "env PERFGUARD_SHARED=$shared $BIN/perf-commit -C up -q -m bench"
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
for copy in down up; do
  target=$unreachable
  [ $copy = down ] || target=$shared
  echo "$copy:"
  PERFGUARD_SHARED=$target "$BIN/perf-baseline" -C "$dir/$copy" sync --status | sed 's/^/  /'
done
echo "start only - shared unset: what starting perfguard-ship costs a step;"
echo "server down or up - shared unset: that and the shipper's work competing for the CPU"
echo "load average $load_before before / $load_after after; $(date -u '+%Y-%m-%d %H:%M UTC')"
