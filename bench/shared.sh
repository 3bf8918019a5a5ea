#!/bin/sh
# shared.sh [--runs N] [--quick]
#
# The shared store at a million steps: ships the store baseline.sh makes (--shape mix, 90
# days, 1,000,000 steps with two child spans each; made first if missing) into a fresh
# database of a throwaway PostgreSQL 15 cluster (tests/postgres/cluster, unix socket, fsync
# off as in the tests) with `perf-baseline sync`, three times, and says how many records a
# second the median run is; then measures perf-baseline's compute (--force), stats and
# 30-day trend on both engines with hyperfine (median of --runs runs, default 20, after 3
# warm-ups; the shared store vacuumed and checkpointed first), on the shared store logged
# in with a password and by peer authentication, and prints the ratio of each shared-store
# median to the SQLite one. It measures the same commands on a store of the same shape that
# holds only the last 10 minutes of those runs (about 80 steps), locally and shared, and
# prints what the million steps add to each: the part of a read that grows with the data,
# without what a command costs whatever the data (on the shared store: loading libpq,
# connecting, the login, a new server process's first statements), from the medians and from
# each command's fastest run (steadier: noise only ever adds). The goals: at least
# 100,000 records/s, and what the million steps add to a shared read at most twice what they
# add to a SQLite one.
# --quick: a store of 100,000 steps and 5 runs.
# Builds nothing: the tools come from $BIN (default build/release/tools). Writes under
# ${BENCH_DIR:-/tmp/perfguard-bench}/shared; stops and removes the cluster when done.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
runs=20
steps=1000000
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || { echo "shared.sh: --runs needs a number" >&2; exit 2; }; runs=$2; shift 2 ;;
    --quick) runs=5; steps=100000; shift ;;
    -h|--help) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "shared.sh: unknown argument $1 (usage: shared.sh [--runs N] [--quick])" >&2; exit 2 ;;
  esac
done
case $runs in '' | *[!0-9]*) echo "shared.sh: '$runs' is not a whole number" >&2; exit 2 ;; esac

BIN=${BIN:-$here/../build/release/tools}
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "shared.sh: BIN directory not found" >&2; exit 2; }
for cmd in hyperfine psql sqlite3 git; do
  command -v "$cmd" >/dev/null || { echo "shared.sh: $cmd is not installed" >&2; exit 2; }
done
dir=${BENCH_DIR:-/tmp/perfguard-bench}/shared
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The local store: made by baseline.sh (under this benchmark's own directory), reused while
# it has the same number of steps.
source_db=$dir/source/baseline-mix-90/perf.db
have=$(sqlite3 "$source_db" "select count(*) from step_rows" 2>/dev/null || echo 0)
if [ "$have" -lt "$steps" ] || [ "$have" -gt $((steps + 10)) ]; then
  echo "making a store of $steps steps with baseline.sh ..."
  BIN=$BIN BENCH_DIR=$dir/source sh "$here/baseline.sh" --steps "$steps" --runs 1 >/dev/null
fi
repo=$dir/repo
db=$dir/perf.db
rm -rf "$repo" "$db" "$db-wal" "$db-shm" "$db.ship.lock"
git init -q "$repo"

export LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$dir/gitconfig" XDG_CONFIG_HOME="$dir/xdg"
: >"$GIT_CONFIG_GLOBAL"
mkdir -p "$XDG_CONFIG_HOME"
for var in $(env | sed -n 's/^\(PERFGUARD_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$var"; done

# shellcheck source=bench/cluster.sh
. "$here/cluster.sh"
bench_cluster "$dir"
# The invoking user logs in by peer authentication as well.
sh "$here/../tests/postgres/cluster" peer "$state"

n=$(sqlite3 "$source_db" "select count(*) from step_rows")
echo "shipping $n steps to a fresh shared store, 3 times ..."
for _ in 1 2 3; do
  psql -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS bench" \
    -c "CREATE DATABASE bench" >/dev/null
  rm -f "$db" "$db-wal" "$db-shm" "$db.ship.lock"
  sqlite3 "$source_db" ".backup '$db'"
  t0=$(date +%s%N)
  PERFGUARD_SHARED="postgresql:///bench?host=$PGHOST&user=$PGUSER" \
    "$BIN/perf-baseline" -C "$repo" --db "$db" -q sync
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
done >"$dir/sync-ms"
ms=$(sort -n "$dir/sync-ms" | sed -n 2p)
echo "sync: $n records in $ms ms (median of $(paste -sd' ' "$dir/sync-ms") ms):" \
  "$((n * 1000 / (ms > 0 ? ms : 1))) records/s (goal: 100,000)"

# A store of the same shape with only the last 10 minutes of the runs (counted back from the
# newest), local and shared: the commands' cost beyond it is what the million steps add.
small=$dir/small.db
rm -f "$small" "$small-wal" "$small-shm" "$small.ship.lock"
newest_s=$(($(sqlite3 "$db" "select max(started_us) from step_rows") / 1000000))
"$BIN/perf-baseline" -C "$repo" --db "$db" export --since "$(($(date +%s) - newest_s + 600))s" \
  -o "$dir/small.jsonl"
"$BIN/perf-baseline" -C "$repo" --db "$small" -q import --format jsonl "$dir/small.jsonl"
psql -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS small" \
  -c "CREATE DATABASE small" >/dev/null
PERFGUARD_SHARED="postgresql:///small?host=$PGHOST&user=$PGUSER" \
  "$BIN/perf-baseline" -C "$repo" --db "$small" -q sync
echo "the small store: $(sqlite3 "$small" "select count(*) from step_rows") steps"

# The reads are measured on a settled server, as a team's is most of the time: not while
# autovacuum works through the million rows just written, nor during the checkpoint after.
psql -q -d small -c "VACUUM (ANALYZE)" >/dev/null
psql -q -d bench -c "VACUUM (ANALYZE)" -c "CHECKPOINT" >/dev/null

# The same store read with a password (scram-sha-256, what a team's server asks of remote
# users) and by peer authentication (no password exchange: Debian's default for local
# connections).
password="postgresql:///bench?host=$PGHOST&user=$PGUSER"
peer="postgresql:///bench?host=$PGHOST&user=$(id -un)"
peer_small="postgresql:///small?host=$PGHOST&user=$(id -un)"
echo
echo "| command | SQLite | shared, password | ratio | shared, peer | ratio | the million steps add: SQLite | shared, peer | ratio (goal <= 2) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
: >"$dir/fastest.md"
for cmd in "compute --force" "stats" "trend --days 30"; do
  # shellcheck disable=SC2086
  hyperfine -N -w 3 -r "$runs" --export-json "$dir/hf.json" \
    "$BIN/perf-baseline -C $repo --db $db $cmd" \
    "$BIN/perf-baseline -C $repo --db $password $cmd" \
    "$BIN/perf-baseline -C $repo --db $peer $cmd" \
    "$BIN/perf-baseline -C $repo --db $small $cmd" \
    "$BIN/perf-baseline -C $repo --db $peer_small $cmd" >/dev/null
  python3 - "$dir/hf.json" "$cmd" "$dir/fastest.md" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
a, b, c, d, e = (x["median"] * 1000 for x in r)
local, shared = a - d, c - e
ratio = shared / local if local > 0 else float("inf")
print(f"| `{sys.argv[2]}` | {a:.1f} ms | {b:.1f} ms | {b / a:.2f} | {c:.1f} ms | {c / a:.2f} "
      f"| {local:.1f} ms | {shared:.1f} ms | {ratio:.2f} |")
# The same from each command's fastest run: what the data adds when nothing else got in the
# way, which moves far less between runs than the medians' difference.
# Under half a millisecond on SQLite, no ratio says anything; under nothing is nothing.
a, b, c, d, e = (x["min"] * 1000 for x in r)
local, shared = a - d, c - e
ratio = f"{max(shared, 0) / local:.2f}" if local >= 0.5 else "–"
with open(sys.argv[3], "a") as out:
    out.write(f"| `{sys.argv[2]}` | {local:.1f} ms | {shared:.1f} ms | {ratio} |\n")
EOF
done
echo
echo "The million steps add, from each command's fastest of $runs runs:"
echo
echo "| command | SQLite | shared, peer | ratio (goal <= 2) |"
echo "|---|---:|---:|---:|"
cat "$dir/fastest.md"
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
