#!/bin/sh
# alerts.sh [--runs N] [--quick]
#
# What perf-alerts costs, against its goals:
#  1. the rules evaluated as a step is recorded add at most 1 ms to perf-commit: perf-commit
#     with [alerts] enabled against perf-commit with it switched off (both through --config),
#     interleaved (perfguard-interleave, --runs runs each, default 100), on the generated
#     repository (make-repo.sh) with the 1,000,000-step store of baseline.sh (--shape mix,
#     90 days; made first when missing);
#  2. perf-alerts list and check answer in at most 5 ms with 10,000 alerts in the store
#     (hyperfine, 30 runs after 5 warm-ups): 10,000 breaches on as many branches, imported as
#     JSONL, each opening a threshold alert through the import's own rule evaluation.
# --quick: 20 interleaved runs, 10 hyperfine runs, and a 100,000-step store.
# Builds nothing: the tools come from $BIN (default build/release/tools). Writes under
# ${BENCH_DIR:-/tmp/perfguard-bench}/alerts.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
runs=100
hf_runs=30
quick=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || { echo "alerts.sh: --runs needs a number" >&2; exit 2; }; runs=$2; shift 2 ;;
    --quick) quick=1; runs=20; hf_runs=10; shift ;;
    -h|--help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "alerts.sh: unknown argument $1 (usage: alerts.sh [--runs N] [--quick])" >&2; exit 2 ;;
  esac
done

BIN=${BIN:-$here/../build/release/tools}
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "alerts.sh: BIN directory not found" >&2; exit 2; }
INTERLEAVE=${INTERLEAVE:-$BIN/../bench/perfguard-interleave}
for tool in "$BIN/perf-commit" "$BIN/perf-alerts" "$BIN/perf-baseline" "$INTERLEAVE"; do
  [ -x "$tool" ] || { echo "alerts.sh: $tool not found; build first or set BIN" >&2; exit 2; }
done
for cmd in hyperfine sqlite3 git; do
  command -v "$cmd" >/dev/null || { echo "alerts.sh: $cmd is not installed" >&2; exit 2; }
done

BENCH_ROOT=${BENCH_DIR:-/tmp/perfguard-bench}
mkdir -p "$BENCH_ROOT"
BENCH_ROOT=$(cd "$BENCH_ROOT" && pwd)
dir=$BENCH_ROOT/alerts
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/xdg"
cp "$BIN/perf-commit" "$BIN/perf-alerts" "$BIN/perf-baseline" "$INTERLEAVE" "$dir/bin/"
BIN=$dir/bin
export LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$dir/gitconfig" XDG_CONFIG_HOME="$dir/xdg"
: >"$GIT_CONFIG_GLOBAL"
for var in $(env | sed -n 's/^\(PERFGUARD_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$var"; done

# 1. Evaluation on record.
if [ "$quick" = 1 ]; then steps=100000; else steps=1000000; fi
store=$BENCH_ROOT/baseline-mix-90/perf.db
if [ ! -f "$store" ] || [ "$(sqlite3 "$store" 'select count(*) from step_rows')" -lt "$steps" ]; then
  echo "== making the $steps-step store (baseline.sh)" >&2
  BIN=$BIN sh "$here/baseline.sh" --steps "$steps" --runs 3 >/dev/null
fi
sh "$here/make-repo.sh" "$BENCH_ROOT/repo"
rm -rf "$dir/repo"
cp -a "$BENCH_ROOT/repo" "$dir/repo"
cp "$store" "$dir/perf.db"
printf '[alerts]\nenabled = true\n' >"$dir/on.toml"
printf '[alerts]\nenabled = false\n' >"$dir/off.toml"
file=$(git -C "$dir/repo" ls-files | sed -n 100p)
prepare="sh -c 'echo x >>$file'"
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
"$BIN/perfguard-interleave" --cwd "$dir/repo" --runs "$runs" --warmup 5 \
  --title "perf-commit: rules evaluated on record, or not" --json "$dir/record.json" \
  --name "alerts off" --prepare "$prepare" \
  --timed "$BIN/perf-commit -q -m bench --config $dir/off.toml --db $dir/perf.db" \
  --name "alerts on" --prepare "$prepare" \
  --timed "$BIN/perf-commit -q -m bench --config $dir/on.toml --db $dir/perf.db"

# 2. list and check with 10,000 alerts.
now=$(date +%s%6N)
alerts_repo=$dir/alerts-repo
git init -q "$alerts_repo"
awk -v now="$now" -v repo="$alerts_repo" 'BEGIN {
  for (i = 1; i <= 10000; i++)
    printf "{\"trace_id\":\"%016x\",\"step\":\"commit\",\"status\":\"breach\",\"started_us\":%.0f," \
      "\"duration_us\":1500000,\"threshold_us\":1000000,\"exit_code\":3,\"repo\":\"%s\"," \
      "\"branch\":\"b%05d\"}\n", i, now - 3600000000 + i * 1000, repo, i
}' >"$dir/breaches.jsonl"
"$BIN/perf-baseline" -C "$alerts_repo" -q import --format jsonl "$dir/breaches.jsonl"
n=$(sqlite3 "$(git -C "$alerts_repo" rev-parse --absolute-git-dir)/perfguard/perf.db" \
  'select count(*) from open_alerts')
echo "alerts in the store: $n"
hyperfine -N -i --runs "$hf_runs" --warmup 5 --export-json "$dir/gate.json" \
  "$BIN/perf-alerts -C $alerts_repo list --limit 20" \
  "$BIN/perf-alerts -C $alerts_repo list --json" \
  "$BIN/perf-alerts -C $alerts_repo check --fail-on critical -q" || true
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
echo "load average $load_before before / $load_after after; $(date -u '+%Y-%m-%d %H:%M UTC')"
