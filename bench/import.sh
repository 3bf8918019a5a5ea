#!/bin/sh
# import.sh [--steps N] [--runs R] [--format jsonl|hyperfine] [--query-runs Q]
#
# Import speed and store size at scale: generates a file of N recorded steps (default
# 1,000,000), imports it into a fresh store with `perf-baseline import`, R times (default
# 3), and prints rows per second (a row is one step record with its spans), the median, the
# store's bytes per step, and the time of importing the same file again (which must add
# nothing). Right after the last import, with no checkpoint of its own (the store as the
# import left it), it measures with hyperfine (median of Q runs, default 20, after 3
# warm-up runs) `compute --force` (goal <= 50 ms), `show` and `stats` (<= 5 ms) and a
# 30-day `trend` (<= 10 ms).
#   --format jsonl (the default): the shape perf-commit records: two child spans, SHA-1
#     HEADs, rusage, a threshold, a few contexts, one step (commit) spread over 90 days.
#   --format hyperfine: one hyperfine result of N runs of one command (imported with
#     --step commit), which hyperfine lays end to end up to the file's time: all N in the
#     7-day window, one step with no child spans.
# Uses the tools in $BIN (default: build/release/tools, else build/tools); writes under
# ${BENCH_DIR:-/tmp/perfguard-bench}/import-FORMAT. See bench/README.md.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
steps=1000000
runs=3
format=jsonl
query_runs=20
while [ $# -gt 0 ]; do
  case $1 in
    --format) [ $# -ge 2 ] || { echo "import.sh: --format needs jsonl or hyperfine" >&2; exit 2; }; format=$2; shift 2 ;;
    --query-runs) [ $# -ge 2 ] || { echo "import.sh: --query-runs needs a number" >&2; exit 2; }; query_runs=$2; shift 2 ;;
    --steps) [ $# -ge 2 ] || { echo "import.sh: --steps needs a number" >&2; exit 2; }; steps=$2; shift 2 ;;
    --steps=*) steps=${1#--steps=}; shift ;;
    --runs) [ $# -ge 2 ] || { echo "import.sh: --runs needs a number" >&2; exit 2; }; runs=$2; shift 2 ;;
    --runs=*) runs=${1#--runs=}; shift ;;
    -h|--help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "import.sh: unknown argument $1 (usage: import.sh [--steps N] [--runs R] [--format jsonl|hyperfine] [--query-runs Q])" >&2; exit 2 ;;
  esac
done
case $format in
  jsonl | hyperfine) ;;
  *) echo "import.sh: --format must be jsonl or hyperfine, not '$format'" >&2; exit 2 ;;
esac
for v in "$steps" "$runs" "$query_runs"; do
  case $v in '' | *[!0-9]* | 0) echo "import.sh: --steps and --runs want positive whole numbers" >&2; exit 2 ;; esac
done

if [ -z "${BIN:-}" ]; then
  BIN=$here/../build/release/tools
  [ -x "$BIN/perf-baseline" ] || BIN=$here/../build/tools
fi
BIN=$(cd "$BIN" 2>/dev/null && pwd) || { echo "import.sh: BIN directory not found" >&2; exit 2; }
[ -x "$BIN/perf-baseline" ] || {
  echo "import.sh: $BIN/perf-baseline not found; build first or set BIN" >&2
  exit 2
}

command -v hyperfine >/dev/null || { echo "import.sh: hyperfine is not installed" >&2; exit 2; }
dir=${BENCH_DIR:-/tmp/perfguard-bench}/import-$format
rm -rf "$dir"
mkdir -p "$dir"
# Absolute: with -C, a relative --db or input would be taken from the repository.
dir=$(cd "$dir" && pwd)
input=$dir/steps.$format
git init -q "$dir/repo"

now_us() { date +%s%6N; }

echo "generating $steps steps ($format) ..." >&2
if [ "$format" = hyperfine ]; then
  # Log-normal-ish run times around 0.2 s (a product of uniforms), 0.5% failing (exit 1):
  # laid end to end, a million of them span about two and a half days.
  awk -v n="$steps" 'BEGIN {
    srand(42)
    printf("{\"results\":[{\"command\":\"git commit -q -m bench\",\"mean\":0.2,\"stddev\":0.05,")
    printf("\"median\":0.2,\"user\":0.1,\"system\":0.05,\"min\":0.05,\"max\":2,\"times\":[")
    for (i = 0; i < n; i++) printf("%s%.6f", i ? "," : "", 0.05 + 0.3 * rand() * rand() + 0.05 * rand())
    printf("],\"exit_codes\":[")
    for (i = 0; i < n; i++) printf("%s%d", i ? "," : "", (i % 200 == 7) ? 1 : 0)
    printf("]}]}\n")
  }' >"$input"
else
# mawk and gawk both: integers past 2^31 are printed with %.0f, hex ids as two halves.
awk -v n="$steps" -v end_s="$(date +%s)" 'BEGIN {
  srand(42)
  hex = "0123456789abcdef"
  span_s = 90 * 86400
  for (i = 0; i < n; i++) {
    start_s = end_s - span_s + int(i * span_s / n)
    frac = int(rand() * 1000000)
    add = 8000 + int(rand() * 30000); commit = 20000 + int(rand() * 200000)
    dur = add + commit + 150
    sha1 = ""; sha2 = ""
    for (k = 0; k < 40; k++) { sha1 = sha1 substr(hex, int(rand() * 16) + 1, 1); sha2 = sha2 substr(hex, int(rand() * 16) + 1, 1) }
    v = i % 6
    branch = (v % 2) ? "feature/faster-rollback" : "main"
    host = "build-" (v % 3) ".ci.example.com"
    au = int(add / 2); as = int(add / 4); ar = 7000 + int(rand() * 2000)
    cu = int(commit / 2); cs = int(commit / 4); cr = 8000 + int(rand() * 8000)
    status = (dur > 200000) ? "breach" : "ok"
    printf("{\"trace_id\":\"%08x%08x\",\"step\":\"commit\",\"status\":\"%s\",\"started_at\":\"%s.%06dZ\",", int(rand() * 2147483647), i + 1, status, strftime("%Y-%m-%dT%H:%M:%S", start_s, 1), frac)
    printf("\"started_us\":%.0f,\"duration_us\":%d,\"threshold_us\":200000,\"exit_code\":%d,", start_s * 1000000 + frac, dur, status == "ok" ? 0 : 3)
    printf("\"repo\":\"/home/alice/src/payments-service\",\"branch\":\"%s\",\"head_before\":\"%s\",\"head_after\":\"%s\",", branch, sha1, sha2)
    printf("\"host\":\"%s\",\"user\":\"alice\",\"ci_provider\":\"github\",\"ci_job\":\"\",\"tool\":\"perf-commit\",\"tool_version\":\"0.1.0\",\"git_version\":\"2.39.5\",", host)
    printf("\"cpu_user_us\":%d,\"cpu_sys_us\":%d,\"max_rss_kb\":%d,\"spans\":[", au + cu, as + cs, (ar > cr ? ar : cr))
    printf("{\"name\":\"add\",\"offset_us\":40,\"duration_us\":%d,\"exit_code\":0,\"cpu_user_us\":%d,\"cpu_sys_us\":%d,\"max_rss_kb\":%d,\"spans\":[]},", add, au, as, ar)
    printf("{\"name\":\"commit\",\"offset_us\":%d,\"duration_us\":%d,\"exit_code\":0,\"cpu_user_us\":%d,\"cpu_sys_us\":%d,\"max_rss_kb\":%d,\"spans\":[]}", 80 + add, commit, cu, cs, cr)
    printf("],\"labels\":{}}\n")
  }
}' >"$input"
fi
bytes_in=$(wc -c <"$input")
echo "input: $steps steps, $bytes_in bytes ($((bytes_in / steps)) bytes a line)" >&2

rates=""
run=1
while [ "$run" -le "$runs" ]; do
  db=$dir/perf-$run.db
  rm -f "$db" "$db-wal" "$db-shm"
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?")
  t0=$(now_us)
  if [ "$format" = hyperfine ]; then
    "$BIN/perf-baseline" -C "$dir/repo" --db "$db" import --format hyperfine --step commit "$input" -q
  else
    "$BIN/perf-baseline" -C "$dir/repo" --db "$db" import --format jsonl "$input" -q
  fi
  t1=$(now_us)
  us=$((t1 - t0))
  rate=$((steps * 1000000 / us))
  echo "run $run: $steps steps in $((us / 1000)) ms: $rate rows/s (load average before: $load)" >&2
  rates="$rates $rate"
  run=$((run + 1))
done
median=$(printf '%s\n' $rates | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }')

db=$dir/perf-$runs.db
# The store as the import left it: its write-ahead log too, no checkpoint of our own.
wal_bytes=$(wc -c <"$db-wal" 2>/dev/null || echo 0)
after_import_bytes=$(($(wc -c <"$db") + wal_bytes))

# measure NAME ARGS...: the median of perf-baseline ARGS on the imported store, in ms.
measure() {
  name=$1
  shift
  hyperfine -N --style basic --warmup 3 --runs "$query_runs" --export-csv "$dir/$name.csv" \
    "$BIN/perf-baseline -C $dir/repo --db $db $*" >"$dir/$name.txt" 2>&1 || {
    cat "$dir/$name.txt" >&2
    exit 1
  }
  awk -F, 'NR == 2 { printf "%.2f", $4 * 1000 }' "$dir/$name.csv"
}
verdict() { awk -v m="$1" -v g="$2" 'BEGIN { print (m <= g ? "yes" : "NO") }'; }
# cpu NAME: the mean CPU time (user + system) of NAME's runs, in ms: hardly inflated by load.
cpu() { awk -F, 'NR == 2 { printf "%.2f", ($5 + $6) * 1000 }' "$dir/$1.csv"; }
query_load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
method=$("$BIN/perf-baseline" -C "$dir/repo" --db "$db" compute --force --format csv |
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "method") c = i } NR == 2 { print $c }')
q_compute=$(measure compute compute --force)
q_show=$(measure show show)
q_stats=$(measure stats stats)
q_trend=$(measure trend trend)

sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
db_bytes=$(wc -c <"$db")
stored=$(sqlite3 "$db" 'SELECT count(*) FROM steps')

t0=$(now_us)
if [ "$format" = hyperfine ]; then
  again=$("$BIN/perf-baseline" -C "$dir/repo" --db "$db" import --format hyperfine --step commit "$input" --json)
else
  again=$("$BIN/perf-baseline" -C "$dir/repo" --db "$db" import --format jsonl "$input" --json)
fi
t1=$(now_us)
reimport_ms=$(((t1 - t0) / 1000))

echo
echo "| measure | value |"
echo "|---|---|"
echo "| steps imported | $stored |"
echo "| import, median of $runs runs | $median rows/s |"
echo "| runs | $(echo $rates | sed 's/ / rows\/s, /g') rows/s |"
echo "| store size | $db_bytes bytes, $((db_bytes / stored)) bytes/step (goal <= 150); right after the import, with its log: $after_import_bytes bytes ($wal_bytes in the log) |"
echo "| importing the same file again | $reimport_ms ms, adds nothing: $again |"
echo "| machine | $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) |"
echo "(the import reads on one thread and stores on another: with the second core busy, expect less)"
echo
echo "Right after the import, no checkpoint (hyperfine medians of $query_runs runs; load average $query_load):"
echo
echo "| command | median (ms) | cpu (ms) | goal (ms) | met |"
echo "|---|---:|---:|---:|---|"
echo "| \`compute --force\` ($method) | $q_compute | $(cpu compute) | 50 | $(verdict "$q_compute" 50) |"
echo "| \`show\` | $q_show | $(cpu show) | 5 | $(verdict "$q_show" 5) |"
echo "| \`stats\` (7 days) | $q_stats | $(cpu stats) | 5 | $(verdict "$q_stats" 5) |"
echo "| \`trend\` (30 days) | $q_trend | $(cpu trend) | 10 | $(verdict "$q_trend" 10) |"
