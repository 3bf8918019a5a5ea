#!/bin/sh
# run.sh [--runs N] [--quick]
#
# Measures what perfguard adds to the git steps it times: perf-commit against bare
# `git add -A` + `git commit`, and perf-rollback against bare `git reset --hard HEAD~1`, on
# the same generated repository (5,000 files, 10,000 commits), interleaved run by run.
# Prints each benchmark's statistics, a Markdown table for README, the machine it ran on,
# and a start-up breakdown. Builds nothing: it uses the tools in $BIN (default:
# build/release/tools, else build-me/tools) and perfguard-interleave beside them.
# Everything it writes goes under ${BENCH_DIR:-/tmp/perfguard-bench}. See bench/README.md.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
runs=
quick=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || { echo "run.sh: --runs needs a number" >&2; exit 2; }; runs=$2; shift 2 ;;
    --runs=*) runs=${1#--runs=}; shift ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (usage: run.sh [--runs N] [--quick])" >&2; exit 2 ;;
  esac
done
if [ "$quick" = 1 ]; then : "${runs:=20}"; breakdown_runs=20; else : "${runs:=100}"; breakdown_runs=50; fi
case $runs in '' | *[!0-9]*) echo "run.sh: --runs wants a whole number, not '$runs'" >&2; exit 2 ;; esac
warmup=5

if [ -z "${BIN:-}" ]; then
  BIN=$here/../build/release/tools
  [ -x "$BIN/perf-commit" ] || BIN=$here/../build-me/tools
fi
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "run.sh: BIN directory not found" >&2; exit 2; }
INTERLEAVE=${INTERLEAVE:-$BIN/../bench/perfguard-interleave}
for tool in "$BIN/perf-commit" "$BIN/perf-rollback" "$INTERLEAVE"; do
  [ -x "$tool" ] || {
    echo "run.sh: $tool not found; build first (cmake -S . -B build/release -G Ninja && ninja -C build/release) or set BIN" >&2
    exit 2
  }
done

BENCH_DIR=${BENCH_DIR:-/tmp/perfguard-bench}
mkdir -p "$BENCH_DIR/results" "$BENCH_DIR/xdg" "$BENCH_DIR/bin"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
results=$BENCH_DIR/results

# Measure copies: a rebuild during the run must not swap the binaries under it.
cp "$BIN/perf-commit" "$BIN/perf-rollback" "$BENCH_DIR/bin/"
cp "$INTERLEAVE" "$BENCH_DIR/bin/perfguard-interleave"
BIN=$BENCH_DIR/bin
INTERLEAVE=$BIN/perfguard-interleave

# The same git and perfguard configuration for everyone: no system or user git config (a
# user's commit signing or hooks path would be measured too), no user perfguard config, no
# PERFGUARD_* overrides, no GIT_* from a calling hook.
export LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$BENCH_DIR/gitconfig" XDG_CONFIG_HOME="$BENCH_DIR/xdg"
: >"$GIT_CONFIG_GLOBAL"
for var in $(env | sed -n 's/^\(PERFGUARD_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$var"; done
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_COMMON_DIR GIT_NAMESPACE

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
sh "$here/make-repo.sh" "$BENCH_DIR/repo"

# A fresh copy of the generated repository for one benchmark, with its index refreshed (a
# copy has new inode numbers and ctimes, which would make the first git command rehash every
# file), and no store left from an earlier run.
fresh_copy() {
  rm -rf "${BENCH_DIR:?}/$1" "$BENCH_DIR/$1.db" "$BENCH_DIR/$1.db-wal" "$BENCH_DIR/$1.db-shm" \
    "$BENCH_DIR/$1.db.journal.jsonl"
  cp -a "$BENCH_DIR/repo" "$BENCH_DIR/$1"
  git -C "$BENCH_DIR/$1" status --porcelain >/dev/null
  [ -z "$(git -C "$BENCH_DIR/$1" status --porcelain)" ] || {
    echo "run.sh: $BENCH_DIR/repo has local changes; delete it and run again" >&2
    exit 1
  }
}

# interleave NAME ARGS...: one interleaved benchmark; JSON and CSV go to $results.
interleave() {
  name=$1
  shift
  echo
  "$INTERLEAVE" --title "$name" --runs "$runs" --warmup "$warmup" \
    --json "$results/$name.json" --csv "$results/$name.csv" "$@"
}

# a. commit: one file changed before every run (untimed), then the timed commit.
fresh_copy commit
file=$(git -C "$BENCH_DIR/commit" ls-files | sed -n '2500p')
prepare="sh -c 'date +%s%N >> $file'"
interleave commit --cwd "$BENCH_DIR/commit" \
  --name "bare git" --prepare "$prepare" --timed "git add -A" --timed "git commit -q -m bench" \
  --name "perf-commit" --prepare "$prepare" \
  --timed "'$BIN/perf-commit' -q -m bench --db '$BENCH_DIR/commit.db'"

# b. rollback: every run starts at the same commit with a clean tree.
fresh_copy rollback
tip=$(git -C "$BENCH_DIR/rollback" rev-parse HEAD)
interleave rollback --cwd "$BENCH_DIR/rollback" \
  --name "bare git" --prepare "git reset -q --hard $tip" --timed "git reset -q --hard HEAD~1" \
  --name "perf-rollback" --prepare "git reset -q --hard $tip" \
  --timed "'$BIN/perf-rollback' -q --no-validate --db '$BENCH_DIR/rollback.db'"

# c. where start-up time goes: single commands, each a variant of one interleaved run.
git -C "$BENCH_DIR/rollback" reset -q --hard "$tip"
echo
"$INTERLEAVE" --title breakdown --runs "$breakdown_runs" --warmup "$warmup" \
  --cwd "$BENCH_DIR/rollback" --json "$results/breakdown.json" --csv "$results/breakdown.csv" \
  --name "true" --timed "true" \
  --name "git --version" --timed "git --version" \
  --name "perf-commit --version" --timed "'$BIN/perf-commit' --version" \
  --name "perf-rollback --version" --timed "'$BIN/perf-rollback' --version" \
  --name "git status --porcelain" --timed "git status --porcelain" \
  --name "git rev-parse HEAD~1" --timed "git rev-parse HEAD~1"
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# The report. CSV columns: variant,n,median_ms,mean_ms,stddev_ms,min_ms,max_ms,
# median_diff_ms,median_ratio,paired_diff_median_ms (row 2: bare git, row 3: the tool).
row() {
  awk -F, -v step="$2" 'NR == 2 { bare = $3 } NR == 3 { tool = $3; added = $8; ratio = $9 }
    END { printf "| %s | %.1f | %.1f | %+.1f | %.2f |\n", step, bare, tool, added, ratio }' \
    "$results/$1.csv"
}
stddevs() { awk -F, 'NR == 2 { b = $5 } NR == 3 { t = $5 } END { printf "%.1f / %.1f", b, t }' "$results/$1.csv"; }
paired() { awk -F, 'NR == 3 { printf "%+.1f", $10 }' "$results/$1.csv"; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
source=$(git -C "$here" describe --always --dirty=', with local changes' 2>/dev/null || true)
fs=$(df -PT "$BENCH_DIR" 2>/dev/null | awk 'NR == 2 { print $2 }')
echo
echo "## Results"
echo
echo "| step | bare git median (ms) | perfguard median (ms) | added (ms) | ratio |"
echo "|---|---:|---:|---:|---:|"
# shellcheck disable=SC2016 # backquotes are Markdown code here
row commit 'commit: `git add -A` + `git commit` vs `perf-commit`'
# shellcheck disable=SC2016
row rollback 'rollback: `git reset --hard HEAD~1` vs `perf-rollback --no-validate`'
echo
echo "$runs interleaved runs per variant after $warmup warm-up runs, one changed file per commit," \
  "on a repository of $(git -C "$BENCH_DIR/repo" ls-files | wc -l | tr -d ' ') files and" \
  "$(git -C "$BENCH_DIR/repo" rev-list --count HEAD) commits. Standard deviation (bare / perfguard):" \
  "commit $(stddevs commit) ms, rollback $(stddevs rollback) ms. Median of the run-by-run" \
  "differences (added, paired): commit $(paired commit) ms, rollback $(paired rollback) ms."
echo
echo "Machine: $(nproc) CPUs${cpu:+ ($cpu)}, $(uname -sr), $(git --version)," \
  "perfguard $("$BIN/perf-commit" --version 2>/dev/null | head -n 1)${source:+ ($source)}, ${fs:-unknown} file system," \
  "load average $load_before before / $load_after after; $(date -u '+%Y-%m-%d %H:%M UTC')."
echo
echo "### Start-up breakdown ($breakdown_runs interleaved runs, medians)"
echo
echo "| command | median (ms) | stddev (ms) | above \`true\` (ms) |"
echo "|---|---:|---:|---:|"
awk -F, 'NR > 1 { printf "| `%s` | %.2f | %.2f | %+.2f |\n", $1, $3, $5, $8 }' "$results/breakdown.csv"
echo
echo "Raw samples: $results/{commit,rollback,breakdown}.json"
