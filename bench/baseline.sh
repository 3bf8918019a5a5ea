#!/bin/sh
# baseline.sh [--steps N] [--runs N] [--shape mix|one] [--days N] [--quick]
#
# The store's speed at scale: generates a store of N recorded steps (default 1,000,000)
# through the real schema, then measures perf-baseline's analytics on it with hyperfine
# (median of --runs runs, default 30, after 5 warm-up runs) against the goals: compute
# (--force, so that every run stores a baseline) <= 50 ms, show and stats <= 5 ms, a 30-day
# trend <= 10 ms, at most 150 bytes of store per recorded step. Prints a Markdown table and
# the store's size by table. Builds nothing: the tools come from $BIN (default
# build/release/tools, else the first build*/tools holding perf-baseline). Writes under
# ${BENCH_DIR:-/tmp/perfguard-bench}/baseline-SHAPE-DAYS.
#
# The data, --shape mix (the default): 3 steps with 2 child spans each, as perfguard
# records them: commit (add, commit), and rollback (snapshot, reset) followed by its
# validate (status, log); runs evenly over --days days (default 90; 365 for a store that
# spans a year) up to now, 8 contexts (2 repositories x 2 branches x 2 tools), log-normal
# durations drifting by day, 1% slow outliers (some breach), 0.7% failed, killed or
# interrupted; commit HEAD A -> B, rollback B -> A, validate at A.
# --shape one: one step (commit, with its 2 child spans) and every one of its N runs in
# the last 6.5 days, so all of them are in compute's 7-day window (what importing a
# hyperfine file of a million runs of one command gives). --days does not apply.
# Rows are inserted with SQL in start-time order (as recording does), then the tool rolls
# them up, as it does for any step added without perfguard.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
steps=1000000
runs=30
shape=mix
days=90
while [ $# -gt 0 ]; do
  case $1 in
    --steps) [ $# -ge 2 ] || { echo "baseline.sh: --steps needs a number" >&2; exit 2; }; steps=$2; shift 2 ;;
    --runs) [ $# -ge 2 ] || { echo "baseline.sh: --runs needs a number" >&2; exit 2; }; runs=$2; shift 2 ;;
    --shape) [ $# -ge 2 ] || { echo "baseline.sh: --shape needs mix or one" >&2; exit 2; }; shape=$2; shift 2 ;;
    --days) [ $# -ge 2 ] || { echo "baseline.sh: --days needs a number" >&2; exit 2; }; days=$2; shift 2 ;;
    --quick) steps=100000; runs=10; shift ;;
    -h|--help) sed -n '2,25s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "baseline.sh: unknown argument $1 (usage: baseline.sh [--steps N] [--runs N] [--shape mix|one] [--days N] [--quick])" >&2; exit 2 ;;
  esac
done
case $shape in
  mix | one) ;;
  *) echo "baseline.sh: --shape must be mix or one, not '$shape'" >&2; exit 2 ;;
esac
for n in "$steps" "$runs" "$days"; do
  case $n in '' | *[!0-9]*) echo "baseline.sh: '$n' is not a whole number" >&2; exit 2 ;; esac
done
[ "$steps" -ge 3 ] || { echo "baseline.sh: --steps must be at least 3" >&2; exit 2; }

if [ -z "${BIN:-}" ]; then
  BIN=$here/../build/release/tools
  if [ ! -x "$BIN/perf-baseline" ]; then
    for dir in "$here"/../build*/tools; do
      if [ -x "$dir/perf-baseline" ]; then BIN=$dir; break; fi
    done
  fi
fi
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "baseline.sh: BIN directory not found" >&2; exit 2; }
for tool in "$BIN/perf-baseline" "$BIN/perf-commit"; do
  [ -x "$tool" ] || { echo "baseline.sh: $tool not found; build first or set BIN" >&2; exit 2; }
done
for cmd in hyperfine sqlite3 git; do
  command -v "$cmd" >/dev/null || { echo "baseline.sh: $cmd is not installed" >&2; exit 2; }
done

[ "$days" -ge 8 ] || { echo "baseline.sh: --days must be at least 8" >&2; exit 2; }
[ "$shape" = one ] && days=7
BENCH_DIR=${BENCH_DIR:-/tmp/perfguard-bench}/baseline-$shape-$days
mkdir -p "$BENCH_DIR/results" "$BENCH_DIR/xdg" "$BENCH_DIR/bin"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
results=$BENCH_DIR/results
# Measure copies: a rebuild during the run must not swap the binaries under it.
cp "$BIN/perf-baseline" "$BIN/perf-commit" "$BENCH_DIR/bin/"
BIN=$BENCH_DIR/bin

export LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$BENCH_DIR/gitconfig" XDG_CONFIG_HOME="$BENCH_DIR/xdg"
: >"$GIT_CONFIG_GLOBAL"
for var in $(env | sed -n 's/^\(PERFGUARD_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$var"; done
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_COMMON_DIR

# The store is created by perfguard itself (one real commit in a throwaway repository), so
# it has exactly the schema a user's store has.
repo=$BENCH_DIR/repo
db=$BENCH_DIR/perf.db
rm -rf "$repo" "$db" "$db-wal" "$db-shm"
git init -q "$repo"
git -C "$repo" config user.name bench
git -C "$repo" config user.email bench@example.com
echo x >"$repo/file"
"$BIN/perf-commit" -q -C "$repo" --db "$db" -m "create the store"

now_us=$(($(date +%s) * 1000000))
if [ "$shape" = mix ]; then
  traces=$(((steps * 2 + 2) / 3))  # commits are one step, rollbacks two (with validate)
  steps=$(((traces + 1) / 2 + traces / 2 * 2))
  span_us=$((days * 86400 * 1000000))
  kind="value % 2"                      # even: commit, odd: rollback + validate
  before="(i + 1) / 2 + (i / 2) * 2"    # steps before trace i
else
  traces=$steps
  span_us=$((13 * 43200 * 1000000))     # 6.5 days: all in a 7-day window
  kind="0"
  before="i"
fi
gap_us=$((span_us / traces))
# A standard normal deviate (Box-Muller), fresh on every use.
z="(sqrt(-2.0 * ln((abs(random()) % 1000000 + 1) / 1000001.0)) * cos(6.283185307179586 * (abs(random()) % 1000000) / 1000000.0))"

echo "generating $steps steps ($traces traces) in $db ..."
t0=$(date +%s%N)
sqlite3 -batch "$db" <<EOF
PRAGMA foreign_keys = ON;
BEGIN IMMEDIATE;
INSERT OR IGNORE INTO names (name) VALUES ('commit'), ('add'), ('rollback'), ('snapshot'),
  ('reset'), ('validate'), ('status'), ('log');
CREATE TEMP TABLE n AS SELECT
  (SELECT id FROM names WHERE name = 'commit') AS commit_step,
  (SELECT id FROM names WHERE name = 'add') AS add_span,
  (SELECT id FROM names WHERE name = 'rollback') AS rollback_step,
  (SELECT id FROM names WHERE name = 'snapshot') AS snapshot_span,
  (SELECT id FROM names WHERE name = 'reset') AS reset_span,
  (SELECT id FROM names WHERE name = 'validate') AS validate_step,
  (SELECT id FROM names WHERE name = 'status') AS status_span,
  (SELECT id FROM names WHERE name = 'log') AS log_span,
  (SELECT coalesce(max(id), 0) FROM step_rows) AS base_id,
  (SELECT coalesce(max(id), 0) FROM contexts) AS base_context;
INSERT INTO contexts (repo, branch, host, user, ci_provider, ci_job, tool, tool_version, git_version)
SELECT r.repo, b.branch, 'build-1.ci.example.com', 'ci', 'github', '', t.tool, '0.1.0', '2.39.5'
FROM (SELECT 'perf-commit' AS tool UNION ALL SELECT 'perf-rollback') AS t,
  (SELECT '/srv/ci/payments-service' AS repo UNION ALL SELECT '/srv/ci/ledger') AS r,
  (SELECT 'main' AS branch UNION ALL SELECT 'release/2.4') AS b
ORDER BY t.tool, r.repo, b.branch;

-- One row per trace: its start, kind (0: commit, 1: rollback + validate), and the
-- durations of its spans. Durations are log-normal, drift by +-10% over weeks, and 1 in
-- 100 is 20 times slower; fate 0-4 of 1000 fails, 5 is killed at a timeout, 6 interrupted.
CREATE TEMP TABLE t AS
SELECT i, kind, t0, trace, ha, hb, fate, context,
  CAST(a * drift AS INTEGER) AS a, CAST(b * drift * slow AS INTEGER) AS b,
  CAST(c * drift AS INTEGER) AS c, CAST(d * drift AS INTEGER) AS d,
  -- steps before this trace: one per commit trace, two per rollback trace
  $before AS before
FROM (
  SELECT value AS i, $kind AS kind,
    $now_us - $span_us + value * $gap_us + abs(random()) % 1000000 AS t0,
    abs(random()) AS trace,
    randomblob(20) AS ha, randomblob(20) AS hb,
    abs(random()) % 1000 AS fate,
    (value / 7) % 4 AS context,
    1.0 + 0.1 * sin(value * $gap_us / 864000000000.0) AS drift,
    CASE WHEN abs(random()) % 100 = 0 THEN 20.0 ELSE 1.0 END AS slow,
    CASE $kind WHEN 0 THEN 12000 * exp(0.4 * $z) ELSE 8000 * exp(0.3 * $z) END AS a,
    CASE $kind WHEN 0 THEN 60000 * exp(0.5 * $z) ELSE 40000 * exp(0.5 * $z) END AS b,
    15000 * exp(0.4 * $z) AS c,
    4000 * exp(0.3 * $z) AS d
  FROM generate_series(0, $traces - 1)
);

-- The steps, with explicit ids in start-time order.
INSERT INTO step_rows (id, trace_id, name_id, started_us, duration_us, status, threshold_us,
  exit_code, context_id, head_before, head_after)
SELECT id, trace, name_id, started, duration,
  CASE WHEN fate < 5 THEN 2 WHEN fate = 5 THEN 3 WHEN fate = 6 THEN 4
    WHEN duration > threshold THEN 1 ELSE 0 END,
  threshold,
  CASE WHEN fate < 5 THEN 1 WHEN fate = 5 THEN 124 WHEN fate = 6 THEN 130
    WHEN duration > threshold THEN 3 ELSE 0 END,
  context_id, head_before, head_after
FROM (
  SELECT n.base_id + 1 + t.before AS id, t.trace, n.commit_step AS name_id, t.t0 AS started,
    t.a + t.b + 150 AS duration, 1000000 AS threshold, t.fate,
    n.base_context + 1 + t.context AS context_id, t.ha AS head_before, t.hb AS head_after
  FROM t, n WHERE t.kind = 0
  UNION ALL
  SELECT n.base_id + 1 + t.before, t.trace, n.rollback_step, t.t0, t.a + t.b + 120, 2000000,
    t.fate, n.base_context + 5 + t.context, t.hb, t.ha
  FROM t, n WHERE t.kind = 1
  UNION ALL
  SELECT n.base_id + 2 + t.before, t.trace, n.validate_step, t.t0 + t.a + t.b + 500,
    t.c + t.d + 110, 5000000, 1000, n.base_context + 5 + t.context, t.ha, x''
  FROM t, n WHERE t.kind = 1
)
ORDER BY id;

-- Two child spans per step, with the child processes' CPU time and peak memory (the
-- snapshot is timed in-process: no exit code, usage 0, as the step timer records it).
-- A span's key is its step's id and its sequence number in one (id = step_id * 256 + seq).
INSERT INTO span_rows (id, parent_seq, name_id, offset_us, duration_us, exit_code,
  cpu_user_us, cpu_sys_us, max_rss_kb)
SELECT step_id * 256 + seq, NULL, name_id, offset_us, duration_us, exit_code,
  CASE WHEN rss > 0 THEN duration_us / 2 ELSE 0 END,
  CASE WHEN rss > 0 THEN duration_us / 4 ELSE 0 END, rss
FROM (
  SELECT n.base_id + 1 + t.before AS step_id, 0 AS seq, n.add_span AS name_id, 40 AS offset_us,
    t.a AS duration_us, 0 AS exit_code, 7000 + t.trace % 2000 AS rss FROM t, n WHERE t.kind = 0
  UNION ALL
  SELECT n.base_id + 1 + t.before, 1, n.commit_step, t.a + 80, t.b,
    CASE WHEN t.fate < 5 THEN 1 ELSE 0 END, 8000 + t.trace % 8000 FROM t, n WHERE t.kind = 0
  UNION ALL
  SELECT n.base_id + 1 + t.before, 0, n.snapshot_span, 30, t.a, NULL, 0
  FROM t, n WHERE t.kind = 1
  UNION ALL
  SELECT n.base_id + 1 + t.before, 1, n.reset_span, t.a + 80, t.b,
    CASE WHEN t.fate < 5 THEN 128 ELSE 0 END, 9000 + t.trace % 4000 FROM t, n WHERE t.kind = 1
  UNION ALL
  SELECT n.base_id + 2 + t.before, 0, n.status_span, 40, t.c, 0, 11000 + t.trace % 3000
  FROM t, n WHERE t.kind = 1
  UNION ALL
  SELECT n.base_id + 2 + t.before, 1, n.log_span, t.c + 70, t.d, 0, 6000 + t.trace % 1000
  FROM t, n WHERE t.kind = 1
)
ORDER BY step_id, seq;
COMMIT;
EOF
t1=$(date +%s%N)
# The first perfguard command rolls the new steps up (HourRollups::catch_up).
"$BIN/perf-baseline" -C "$repo" --db "$db" stats --step none >/dev/null
t2=$(date +%s%N)
sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
recorded=$(sqlite3 "$db" 'SELECT count(*) FROM step_rows')
awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$recorded" 'BEGIN {
  printf "generated in %.1f s, rolled up by perf-baseline in %.1f s: %d steps\n", (b - a) / 1e9, (c - b) / 1e9, n }'

# measure NAME ARGS...: the median of perf-baseline ARGS, in milliseconds, into $results.
measure() {
  name=$1
  shift
  hyperfine -N --style basic --warmup 5 --runs "$runs" --export-csv "$results/$name.csv" \
    "$BIN/perf-baseline -C $repo --db $db $*" >"$results/$name.txt" 2>&1 || {
    cat "$results/$name.txt" >&2
    exit 1
  }
  awk -F, 'NR == 2 { printf "%.2f", $4 * 1000 }' "$results/$name.csv"
}
# cpu NAME: the mean CPU time (user + system) of the runs of NAME, in ms. Unlike the wall
# time, it hardly grows when other processes share the cores.
cpu() { awk -F, 'NR == 2 { printf "%.2f", ($5 + $6) * 1000 }' "$results/$1.csv"; }
row() {  # row LABEL NAME MEDIAN_MS GOAL_MS
  verdict=$(awk -v m="$3" -v g="$4" 'BEGIN { print (g == "" ? "" : (m <= g ? "yes" : "NO")) }')
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$3" "$(cpu "$2")" "${4:-}" "$verdict"
}

window_runs=$(sqlite3 "$db" "SELECT coalesce(sum(n_ok + n_breach), 0) FROM step_hours
  WHERE name_id = (SELECT id FROM names WHERE name = 'commit')
  AND hour >= ($now_us - 7 * 86400000000) / 3600000000")
method=$("$BIN/perf-baseline" -C "$repo" --db "$db" compute --step commit --force --format csv |
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "method") c = i } NR == 2 { print $c }')
compute=$(measure compute compute --step commit --force)
compute_all=$(measure compute-all compute --force)
compute_branch=$(measure compute-branch compute --step commit --scope branch --force)
show=$(measure show show)
stats=$(measure stats stats)
stats_all=$(measure stats-all stats --since all)
trend=$(measure trend trend)
trend_hour=$(measure trend-hour trend --by hour --days 7)
slowest=$(measure slowest slowest)
version=$(measure version --version)

pages=$(sqlite3 "$db" 'PRAGMA page_count')
page_size=$(sqlite3 "$db" 'PRAGMA page_size')
bytes=$((pages * page_size))
per_step=$(awk -v b="$bytes" -v n="$recorded" 'BEGIN { printf "%.1f", b / n }')

echo
if [ "$shape" = mix ]; then
  about="3 steps over $days days"
else
  about="1 step, every run in the last 7 days"
fi
echo "## perf-baseline at $(printf "%'d" "$recorded" 2>/dev/null || echo "$recorded") recorded steps ($about)"
echo
echo "| measure | median (ms) | cpu (ms) | goal (ms) | met |"
echo "|---|---:|---:|---:|---|"
row "\`compute --step commit --force\` (7-day window, $window_runs completed runs, $method)" compute "$compute" 50
row "\`compute --force\` (every step)" compute-all "$compute_all" 50
row "\`compute --step commit --scope branch --force\` (reads every run)" compute-branch "$compute_branch" ""
row "\`show\`" show "$show" 5
row "\`stats\` (7 days)" stats "$stats" 5
row "\`stats --since all\` ($days days)" stats-all "$stats_all" ""
row "\`trend\` (30 days by day)" trend "$trend" 10
row "\`trend --by hour --days 7\`" trend-hour "$trend_hour" ""
row "\`slowest\` (24 hours)" slowest "$slowest" ""
row "\`--version\` (start-up alone)" version "$version" ""
echo
echo "| store | bytes per step | goal | met |"
echo "|---|---:|---:|---|"
verdict=$(awk -v b="$per_step" 'BEGIN { print (b <= 150 ? "yes" : "NO") }')
echo "| $bytes bytes for $recorded steps | $per_step | 150 | $verdict |"
echo
echo "Bytes per step by table and index (dbstat):"
sqlite3 "$db" "SELECT printf('  %-28s %7.1f', name, sum(pgsize) * 1.0 / $recorded)
  FROM dbstat GROUP BY name HAVING sum(pgsize) * 1.0 / $recorded >= 0.05 ORDER BY sum(pgsize) DESC"
echo
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo "hyperfine medians of $runs runs after 5 warm-up runs (cpu: mean user + system time); $(nproc) x ${cpu:-unknown CPU};" \
  "load $(cut -d' ' -f1-3 /proc/loadavg); SQLite $(sqlite3 --version | cut -d' ' -f1) (CLI)."
echo "Raw results: $results"
