#!/bin/sh
# run.sh [--runs N] [--quick] [--repo DIR]... [--no-generated]
#
# Measures what perfguard adds to the git steps it times: perf-commit against bare
# `git add -A` + `git commit`, and perf-rollback against bare `git reset --hard HEAD~1`, on
# the same repository, interleaved run by run: the generated one (5,000 files, 10,000
# commits) and every repository given with --repo (cloned first; --no-generated leaves the
# generated one out). Prints each benchmark's statistics, a Markdown table for README, the
# machine it ran on, and a start-up breakdown. Builds nothing: it uses the tools in $BIN
# (default: build/release/tools, else build-me/tools) and perfguard-interleave beside them.
# Everything it writes goes under ${BENCH_DIR:-/tmp/perfguard-bench}. See bench/README.md.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
runs=
quick=0
generated=1
sources=
usage="usage: run.sh [--runs N] [--quick] [--repo DIR]... [--no-generated]"
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || { echo "run.sh: --runs needs a number" >&2; exit 2; }; runs=$2; shift 2 ;;
    --runs=*) runs=${1#--runs=}; shift ;;
    --quick) quick=1; shift ;;
    --repo | --repo=*)
      if [ "$1" = --repo ]; then
        [ $# -ge 2 ] || { echo "run.sh: --repo needs a directory" >&2; exit 2; }
        source_dir=$2
        shift 2
      else
        source_dir=${1#--repo=}
        shift
      fi
      git -C "$source_dir" rev-parse --verify -q HEAD~1 >/dev/null 2>&1 || {
        echo "run.sh: --repo $source_dir: not a git repository with at least two commits" >&2
        exit 2
      }
      case $source_dir in *'
'*) echo "run.sh: --repo: a directory name with a newline is not supported" >&2; exit 2 ;; esac
      sources="$sources$(cd "$source_dir" && pwd)
"
      ;;
    --no-generated) generated=0; shift ;;
    -h|--help) sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 ($usage)" >&2; exit 2 ;;
  esac
done
if [ "$generated" = 0 ] && [ -z "$sources" ]; then
  echo "run.sh: --no-generated leaves nothing to measure: give --repo DIR too" >&2
  exit 2
fi
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

# The repositories measured, one "NAME DIR" line each: the generated one is "generated" in
# $BENCH_DIR/repo; a --repo is cloned once into $BENCH_DIR/repos/NAME (its committed history
# only, at its HEAD) and reused by later runs.
repos=
if [ "$generated" = 1 ]; then
  sh "$here/make-repo.sh" "$BENCH_DIR/repo"
  repos="generated $BENCH_DIR/repo
"
fi
old_ifs=$IFS
IFS='
'
for source_dir in $sources; do
  name=$(basename "$source_dir" | sed 's/\.git$//; s/[^A-Za-z0-9._-]/_/g')
  [ "$name" != generated ] || name="generated-repo"
  while printf '%s' "$repos" | grep -q "^$name "; do name=$name-2; done
  clone=$BENCH_DIR/repos/$name
  if [ "$(cat "$clone.source" 2>/dev/null)" != "$source_dir" ] ||
    [ -z "$(git -C "$clone" config user.email 2>/dev/null)" ] ||
    [ "$(git -C "$clone" rev-parse HEAD 2>/dev/null)" != "$(git -C "$source_dir" rev-parse HEAD)" ]; then
    rm -rf "$clone" "$clone.source"
    mkdir -p "$BENCH_DIR/repos"
    echo "run.sh: cloning $source_dir into $clone" >&2
    git clone -q "$source_dir" "$clone"
    git -C "$clone" checkout -q -B bench "$(git -C "$source_dir" rev-parse HEAD)"
    # The same identity as the generated repository: the user configuration is turned off.
    git -C "$clone" config user.name "perfguard bench"
    git -C "$clone" config user.email "bench@perfguard.invalid"
    printf '%s\n' "$source_dir" >"$clone.source"
  fi
  repos="$repos$name $clone
"
done
IFS=$old_ifs

# A fresh copy of a repository for one benchmark, with its index refreshed (a copy has new
# inode numbers and ctimes, which would make the first git command rehash every file), and
# no store left from an earlier run.
fresh_copy() {
  rm -rf "${BENCH_DIR:?}/$1" "$BENCH_DIR/$1.db" "$BENCH_DIR/$1.db-wal" "$BENCH_DIR/$1.db-shm" \
    "$BENCH_DIR/$1.db.journal.jsonl"
  cp -a "$2" "$BENCH_DIR/$1"
  git -C "$BENCH_DIR/$1" status --porcelain >/dev/null
  [ -z "$(git -C "$BENCH_DIR/$1" status --porcelain)" ] || {
    echo "run.sh: $2 has local changes; delete it and run again" >&2
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

# Each repository's two benchmarks; the generated one's files keep their plain names
# (commit/, rollback/, results/commit.json, ...), the others' have -NAME after them.
printf '%s' "$repos" | while read -r name repo; do
  suffix=
  [ "$name" = generated ] || suffix=-$name

  # a. commit: one file changed before every run (untimed), then the timed commit.
  fresh_copy "commit$suffix" "$repo"
  count=$(git -C "$BENCH_DIR/commit$suffix" ls-files | wc -l)
  line=$((count / 2 + 1))
  file=$(git -C "$BENCH_DIR/commit$suffix" ls-files | sed -n "${line}p")
  prepare="sh -c 'date +%s%N >> \"\$1\"' sh '$file'"
  interleave "commit$suffix" --cwd "$BENCH_DIR/commit$suffix" \
    --name "bare git" --prepare "$prepare" --timed "git add -A" --timed "git commit -q -m bench" \
    --name "perf-commit" --prepare "$prepare" \
    --timed "'$BIN/perf-commit' -q -m bench --db '$BENCH_DIR/commit$suffix.db'"

  # b. rollback: every run starts at the same commit with a clean tree.
  fresh_copy "rollback$suffix" "$repo"
  tip=$(git -C "$BENCH_DIR/rollback$suffix" rev-parse HEAD)
  interleave "rollback$suffix" --cwd "$BENCH_DIR/rollback$suffix" \
    --name "bare git" --prepare "git reset -q --hard $tip" --timed "git reset -q --hard HEAD~1" \
    --name "perf-rollback" --prepare "git reset -q --hard $tip" \
    --timed "'$BIN/perf-rollback' -q --no-validate --db '$BENCH_DIR/rollback$suffix.db'"
  git -C "$BENCH_DIR/rollback$suffix" reset -q --hard "$tip"
done

# c. where start-up time goes: single commands, each a variant of one interleaved run, in
# the first repository's rollback copy (a clean tree at its tip).
first=$(printf '%s' "$repos" | sed -n '1s/ .*//p')
first_suffix=
[ "$first" = generated ] || first_suffix=-$first
echo
"$INTERLEAVE" --title breakdown --runs "$breakdown_runs" --warmup "$warmup" \
  --cwd "$BENCH_DIR/rollback$first_suffix" --json "$results/breakdown.json" \
  --csv "$results/breakdown.csv" \
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
  awk -F, -v repo="$2" -v step="$3" 'NR == 2 { bare = $3 }
    NR == 3 { tool = $3; added = $8; ratio = $9; paired = $10 }
    END { printf "| %s | %s | %.1f | %.1f | %+.1f | %+.1f | %.2f |\n", repo, step, bare, tool,
          added, paired, ratio }' "$results/$1.csv"
}
stddevs() { awk -F, 'NR == 2 { b = $5 } NR == 3 { t = $5 } END { printf "%.1f / %.1f", b, t }' "$results/$1.csv"; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
source=$(git -C "$here" describe --always --dirty=', with local changes' 2>/dev/null || true)
fs=$(df -PT "$BENCH_DIR" 2>/dev/null | awk 'NR == 2 { print $2 }')
echo
echo "## Results"
echo
echo "| repository | step | bare git median (ms) | perfguard median (ms) | added (ms) | paired (ms) | ratio |"
echo "|---|---|---:|---:|---:|---:|---:|"
printf '%s' "$repos" | while read -r name repo; do
  suffix=
  [ "$name" = generated ] || suffix=-$name
  # shellcheck disable=SC2016 # backquotes are Markdown code here
  row "commit$suffix" "$name" '`git add -A` + `git commit` vs `perf-commit`'
  # shellcheck disable=SC2016
  row "rollback$suffix" "$name" '`git reset --hard HEAD~1` vs `perf-rollback --no-validate`'
done
echo
echo "$runs interleaved runs per variant after $warmup warm-up runs, one changed file per commit." \
  "*added* is the difference of the medians, *paired* the median of the run-by-run differences."
printf '%s' "$repos" | while read -r name repo; do
  suffix=
  [ "$name" = generated ] || suffix=-$name
  echo "- $name: $(git -C "$repo" ls-files | wc -l | tr -d ' ') files," \
    "$(git -C "$repo" rev-list --count HEAD) commits; standard deviation (bare / perfguard):" \
    "commit $(stddevs "commit$suffix") ms, rollback $(stddevs "rollback$suffix") ms."
done
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
echo "Raw samples: $results/*.json"
