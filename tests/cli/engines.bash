# Both store engines give one answer: for the same records, every read command prints the
# same bytes from the team's shared store (PostgreSQL, lib/store/postgres) as from a local
# store (SQLite, lib/store/sqlite), in every output format and with every option that changes
# what is read (README "Sharing results across a team", perfguard(7) SHARING RESULTS).
#
# Each case builds a fleet: a clone with real perf-commit and perf-rollback runs, in CI and
# out of it, and ten days of records imported from other clones (every status, thresholds and
# none, nested child spans, labels, six places of repositories, hosts, users and CI providers,
# branches, a step that slows down and one heading for its threshold); ships it with
# `perf-baseline sync` to a fresh database whose default collation is en-US, not bytewise (as
# a team's server often has); and compares every read of the local store with the same read
# of the shared one.

# shellcheck source=shared-lib.bash
source "$SOURCE_ROOT/tests/cli/shared-lib.bash"

# --- The fleet --------------------------------------------------------------------------

# fleet_times: NOW_US, the time the records are placed from; SINCE_CUT, a --since whose cut
# falls at minute 30 of an hour five or six hours back, with records 10 to 25 minutes either
# side of it, in the same hour; CUT_US, that cut.
fleet_times() {
  STARTED=$SECONDS
  NOW_US=$(($(date +%s%N) / 1000))
  local minute=$(((NOW_US / 60000000) % 60))
  SINCE_CUT="$((300 + (minute + 30) % 60))m"
  CUT_US=$((NOW_US - ${SINCE_CUT%m} * 60000000))
}

# fleet_records FILE SEED: about 8,500 records as perf-baseline export writes them, over the
# last ten days (fleet_times). No record starts within 10 minutes of a cut the cases use (now
# less 1h, 3h, 24h, 2d, 3d, 7d or 10d, and SINCE_CUT but for the records put around it), so
# the seconds between a local read and its shared twin move no record across a cut. Besides:
# records in the current hour, two runs that started at the same microsecond and took as long
# (on two hosts), a burst of rollbacks, failed validations, breached recoveries and a fetch
# nine times as slow as usual in the last hour, commit 12% slower each of the last five days,
# rollback rising steadily over ten: its daily p95s rise from about 0.35 s to 1.4 s, a line
# that crosses its 2 s threshold six to nine days from now whatever the hour of the day (no
# rollback breaches at random, so that no day's p95 is a few outliers and the prediction rule
# fires by a wide margin both ways).
fleet_records() {
  awk -v now="$NOW_US" -v cut="$CUT_US" -v seed="$2" '
    function rnd(a, b) { return a + (b - a) * rand() }
    function lognormal(median, spread,   u, z) {
      u = rand(); if (u < 1e-9) u = 1e-9
      z = sqrt(-2 * log(u)) * cos(6.283185307 * rand())
      return int(median * exp(spread * z))
    }
    function near_cut(t,   i) {
      for (i = 1; i <= ncuts; i++) if (t > cuts[i] - 600e6 && t < cuts[i] + 600e6) return 1
      return 0
    }
    function span(name, off, dur, code, kids) {
      return sprintf("{\"name\":\"%s\",\"offset_us\":%d,\"duration_us\":%d,\"exit_code\":%s,\"cpu_user_us\":%d,\"cpu_sys_us\":%d,\"max_rss_kb\":%d,\"spans\":[%s]}", name, off, dur, code, int(dur * 0.4), int(dur * 0.1), 4000 + int(rand() * 9000), kids)
    }
    # Child spans as the tools and git trace2 nest them.
    function spans_of(step, dur, code,   a, b, c) {
      if (step == "commit") {
        a = int(dur * rnd(0.25, 0.4)); b = dur - a - 60; c = int(b * 0.3)
        return span("add", 20, a, 0, "") "," span("commit", a + 40, b, code, span("hook:pre-commit", a + 60, c, 0, span("child:lint", a + 80, int(c * 0.8), 0, "")) "," span("hook:post-commit", a + 80 + c, int(b * 0.1), 0, ""))
      }
      if (step == "rollback") {
        a = int(dur * rnd(0.3, 0.6)); b = dur - a - 50
        return span("snapshot", 15, a, 0, span("git:write-tree", 30, int(a * 0.5), 0, "")) "," span("reset", a + 30, b, code, "")
      }
      if (step == "validate") {
        a = int(dur * 0.7)
        return span("status", 10, a, code, "") "," span("log", a + 20, dur - a - 30, 0, "")
      }
      if (step == "recover") {
        a = int(dur / 5)
        return span("snapshot", 10, a, 0, "") "," span("rollback", a + 20, a, 0, "") "," span("validate", 2 * a + 30, a, 0, "") "," span("restart", 3 * a + 40, a, code, "") "," span("health", 4 * a + 50, a - 60, 0, "")
      }
      if (step == "git:status") {
        a = int(dur * 0.6)
        return span("index:do_read_index", 5, a, "null", span("index:refresh", 10, int(a * 0.5), "null", "")) "," span("child:fsmonitor", a + 10, int(dur * 0.2), 0, "")
      }
      return ""
    }
    function branch_of(   r) {
      r = rand()
      if (r < 0.55) return "main"
      if (r < 0.75) return "dev"
      if (r < 0.88) return "feature/login"
      if (r < 0.92) return "release/2026.12"
      if (r < 0.95) return "HOTFIX-42"
      if (r < 0.96) return "wip/%FF%25x"
      return ""
    }
    function slowdown(t, s) {
      if (s == "commit" && t > now - 5 * D) return 1 + (t - (now - 5 * D)) / D * 0.12
      if (s == "rollback") return 1 + (t - (now - 10 * D)) / D * 0.3
      return 1
    }
    # One record of step s at time t in place p; status forced when given.
    function record(t, s, p, forced,   dur, thr, status, code, labels, r) {
      nrec++
      thr = threshold[s]
      dur = lognormal(median[s] * slowdown(t, s), 0.35)
      if (dur < 200) dur = 200
      r = rand()
      if (forced != "") status = forced
      else if (r < 0.015) status = "failed"
      else if (r < 0.02 && thr != "null") status = "timeout"
      else if (r < 0.025) status = "interrupted"
      else if (r < 0.045 && thr != "null" && s != "rollback") status = "breach"
      else status = (thr != "null" && dur > thr) ? "breach" : "ok"
      if (status == "breach" && dur <= thr) dur = int(thr * rnd(1.05, 1.6))
      if (status == "ok" && thr != "null" && dur > thr) dur = int(thr * 0.9)
      if (status == "timeout") dur = thr * 3
      if (status == "failed") dur = int(dur * 0.3) + 100
      if (took) dur = took
      code = status == "failed" ? 1 : status == "timeout" ? 124 : status == "interrupted" ? 130 : status == "breach" ? 3 : 0
      labels = "{}"
      if (nrec % 17 == 0) labels = "{\"synthetic\":\"true\"}"
      else if (nrec % 23 == 0) labels = "{\"pipeline\":\"nightly\",\"note\":\"=1+2, \\\"quoted\\\"\"}"
      else if (nrec % 29 == 0) labels = "{\"équipe\":\"données\"}"
      printf "{\"trace_id\":\"%08x%08x\",\"step\":\"%s\",\"status\":\"%s\",\"started_us\":%.0f,\"duration_us\":%d,\"threshold_us\":%s,\"exit_code\":%d,", seed, nrec, s, status, t, dur, thr, code
      printf "\"repo\":\"%s\",\"branch\":\"%s\",\"head_before\":\"%040x\",\"head_after\":\"%040x\",\"host\":\"%s\",\"user\":\"%s\",\"ci_provider\":\"%s\",\"ci_job\":\"%s\",", repo[p], on != "" ? on : branch_of(), nrec, nrec + 1, hosts[p, int(rand() * nhosts[p])], user[p], ci[p], ci[p] == "" ? "" : 1000 + nrec % 97
      printf "\"tool\":\"%s\",\"tool_version\":\"0.1.0\",\"git_version\":\"2.39.5\",\"cpu_user_us\":%d,\"cpu_sys_us\":%d,\"max_rss_kb\":%d,", tool[s], int(dur * 0.3), int(dur * 0.05), 5000 + nrec % 3000
      printf "\"spans\":[%s],\"labels\":%s}\n", spans_of(s, dur, code), labels
    }
    function step(name, n, med, thr, by) {
      steps[++nsteps] = name; count[name] = n; median[name] = med; threshold[name] = thr; tool[name] = by
    }
    BEGIN {
      srand(seed)
      H = 3600e6; D = 24 * H
      ncuts = split("1 3 24 48 72 168 240", back, " ")
      for (i = 1; i <= ncuts; i++) cuts[i] = now - back[i] * H
      cuts[++ncuts] = cut
      step("commit", 6000, 90000, 1000000, "perf-commit")
      step("rollback", 700, 200000, 2000000, "perf-rollback")
      step("validate", 500, 60000, 5000000, "perf-rollback")
      step("recover", 60, 3000000, 10000000, "perf-recover")
      step("git:status", 900, 25000, "null", "perf-baseline")
      step("git:fetch", 200, 800000, "null", "perf-baseline")
      step("Deploy", 150, 4000000, "null", "perf-baseline")
      # The places: a repository, its hosts, a user, a CI provider (none: a laptop).
      np = split("/srv/app|/home/ana/app|/builds/app|/var/lib/jenkins/app|/srv/agents/app|/home/bo/app", repo, "|")
      nhosts[1] = 2; hosts[1, 0] = "build-1"; hosts[1, 1] = "build-2"; user[1] = "runner"; ci[1] = "github"
      nhosts[2] = 1; hosts[2, 0] = "laptop-ana"; user[2] = "ana"; ci[2] = ""
      nhosts[3] = 2; hosts[3, 0] = "runner-3"; hosts[3, 1] = "runner-4"; user[3] = "gitlab-runner"; ci[3] = "gitlab"
      nhosts[4] = 1; hosts[4, 0] = "ci-jenkins"; user[4] = "jenkins"; ci[4] = "jenkins"
      nhosts[5] = 1; hosts[5, 0] = "bk-agent-1"; user[5] = "buildkite-agent"; ci[5] = "buildkite"
      nhosts[6] = 2; hosts[6, 0] = "build-2"; hosts[6, 1] = "desk-bo"; user[6] = "bo"; ci[6] = "ci"
      for (k = 1; k <= nsteps; k++) {
        for (i = 0; i < count[steps[k]]; i++) {
          t = now - int(rand() * 9.8 * D)
          if (near_cut(t)) continue
          r = rand()
          record(t, steps[k], r < 0.4 ? 1 : r < 0.6 ? 2 : r < 0.75 ? 3 : r < 0.85 ? 4 : r < 0.93 ? 5 : 6, "")
        }
      }
      # The current hour, from its middle on; the hour of the cut, either side of it; two
      # runs as slow, started at the same microsecond on two hosts.
      hour = int(now / H) * H
      split("commit git:status Deploy", now_steps, " ")
      for (i = 0; i < 12; i++) record(int(hour + (now - hour) * (0.5 + 0.04 * i)), now_steps[1 + i % 3], 1 + i % np, "")
      for (i = 0; i < 8; i++) record(cut + (i < 4 ? -1 : 1) * (600e6 + (i % 4) * 250e6), steps[1 + i % 4], 1 + i % 3, "")
      t = now - 2 * H - 123457
      for (i = 0; i < 2; i++) { srand(seed + 99); record(t, "commit", 1 + 5 * i, "breach") }
      srand(seed + 100)
      # The last hour, on one branch of each place: many rollbacks on a laptop, validations
      # that failed, recoveries that breached three times running; a fetch nine times as slow,
      # on a branch of its own (too few fetches for a baseline of the branch).
      on = "main"
      for (i = 0; i < 7; i++) record(now - (5 + 5 * i) * 60e6, "rollback", 2, "ok")
      for (i = 0; i < 3; i++) record(now - (15 - i) * 60e6, "validate", 5, "failed")
      for (i = 0; i < 3; i++) record(now - (30 - i) * 60e6, "recover", 3, "breach")
      on = "spike/mirror"; took = 9000000; record(now - 20 * 60e6, "git:fetch", 1, "ok")
    }' >"$1" || fail "fleet_records"
}

# real_runs DIR: perf-commit and perf-rollback as a laptop and four CI providers run them in
# the repository DIR: ok, breached, failed, killed at the timeout; with labels.
real_runs() {
  local dir=$1
  echo 2 >"$dir/file.txt"
  perf-commit -C "$dir" -q -m two -k pipeline=nightly || fail "perf-commit"
  echo 3 >"$dir/file.txt"
  GITHUB_ACTIONS=true GITHUB_RUN_ID=41 GITHUB_JOB=build perf-commit -C "$dir" -q -m three ||
    fail "perf-commit in GitHub Actions"
  echo 4 >"$dir/file.txt"
  CI=true perf-commit -C "$dir" -q -m four --threshold 1us
  expect_eq "$?" 3 "perf-commit over its threshold"
  perf-commit -C "$dir" -q -m nothing
  expect_eq "$?" 1 "perf-commit with nothing to commit"
  GITLAB_CI=true CI_JOB_ID=77 perf-rollback -C "$dir" -q || fail "perf-rollback in GitLab CI"
  # A pre-commit hook that outlives the timeout.
  printf '#!/bin/sh\nsleep 30\n' >"$dir/.git/hooks/pre-commit"
  chmod +x "$dir/.git/hooks/pre-commit"
  echo 5 >"$dir/file.txt"
  BUILDKITE=true BUILDKITE_JOB_ID=9 perf-commit -C "$dir" -q -m five --timeout 300ms
  expect_eq "$?" 124 "perf-commit killed at its timeout"
  rm "$dir/.git/hooks/pre-commit"
  JENKINS_URL=http://ci.example.com/ BUILD_TAG=jenkins-app-3 \
    perf-rollback -C "$dir" -q --threshold 1us HEAD~1
  expect_eq "$?" 3 "perf-rollback over its threshold"
}

# fleet_clone DIR: a repository with real runs and the fleet's records (fleet_records) in its
# local store; the records are in $TEST_DIR/DIR.jsonl.
fleet_clone() {
  make_repo "$1" 2
  real_runs "$1"
  fleet_records "$TEST_DIR/$1.jsonl" 7
  perf-baseline -C "$1" -q import --format jsonl "$TEST_DIR/$1.jsonl" || fail "import into $1"
}

# ship_to_fresh_database DIR…: a fresh database (en-US collation) as the shared store
# (PERFGUARD_SHARED), and each DIR's records shipped to it.
ship_to_fresh_database() {
  fresh_database "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
  export PERFGUARD_SHARED=$SHARED
  local dir
  for dir in "$@"; do
    perf-baseline -C "$dir" -q sync || fail "sync $dir"
  done
}

# --- Comparing ------------------------------------------------------------------------

# What differs from one run of a command to the next, whatever the engine, normalised: a
# time at or after the comparisons began (the minute COMPARING_FROM, or COMPARING_FROM_US,
# start_comparing) is the clock of a command (an alert's first_seen, a baseline's
# computed_at, a snooze's end, a JUnit report's timestamp), and the local command and its
# shared twin ran a moment apart; since_us, the report's since, Prometheus' "since" and a
# prune's "before" are now less the window; a prediction alert's value is days from now.
normalise_run_time() {
  COMPARING_FROM=$COMPARING_FROM COMPARING_FROM_US=$COMPARING_FROM_US perl -pe '
    BEGIN { ($minute, $us) = ($ENV{COMPARING_FROM}, $ENV{COMPARING_FROM_US}) }
    s/"since_us":\d+/"since_us":<since>/g;
    s/"since":"[-0-9T:.]+Z"/"since":"<since>"/g;
    s/(runs started since )[-0-9T:.]+Z/$1<since>/g;
    s/("before":"|started before )[-0-9T:.]+Z/$1<before>/g;
    s/(in about \d+ days?"?(?:[,\t]|","value":))[-+0-9.e]+/$1<days from now>/g;
    s{(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?Z?)}{
      my $key = substr($1, 0, 16) =~ tr/ /T/r;
      $key ge $minute ? "<run time>" : $1 }ge;
    s/(?<![0-9.])(\d{16,})(?![0-9])/$1 >= $us ? "<run time>" : $1/ge;'
}

# The two ways a comparison reads the same records: LOCAL_STORE and SHARED_STORE, the common
# options that name each store (start_comparing).
LOCAL_STORE=()
SHARED_STORE=()
COMPARED=0

# start_comparing LOCAL… -- SHARED…: the comparisons from now on read the local store with
# the options LOCAL and the shared store with SHARED.
COMPARING_FROM=
COMPARING_FROM_US=
start_comparing() {
  STARTED=${STARTED:-$SECONDS}
  LOCAL_STORE=()
  while [[ $1 != -- ]]; do
    LOCAL_STORE+=("$1")
    shift
  done
  shift
  SHARED_STORE=("$@")
  # From the first comparison of the case on (a case may compare two ways).
  COMPARING_FROM=${COMPARING_FROM:-$(date -u +%Y-%m-%dT%H:%M)}
  COMPARING_FROM_US=${COMPARING_FROM_US:-$(($(date +%s%N) / 1000))}
}

# same_answer TOOL ARG…: TOOL with ARGs on the local store and on the shared store exit with
# the same status and print the same bytes on stdout and stderr (normalise_run_time aside).
# A comparison the turn of an hour split (trend's days, the windows of the hourly rules) is
# made again, once.
same_answer() {
  local tool=$1 hour local_status shared_status
  shift
  for _ in 1 2; do
    hour=$(date -u +%Y-%m-%dT%H)
    "$tool" "${LOCAL_STORE[@]}" "$@" >local.raw 2>local.err
    local_status=$?
    "$tool" "${SHARED_STORE[@]}" "$@" >shared.raw 2>shared.err
    shared_status=$?
    [[ $(date -u +%Y-%m-%dT%H) == "$hour" ]] && break
  done
  normalise_run_time <local.raw >local.out
  normalise_run_time <shared.raw >shared.out
  COMPARED=$((COMPARED + 1))
  [[ $local_status == "$shared_status" ]] ||
    fail "$tool $*: exit $local_status from the local store, $shared_status from the shared one: $(cat local.err shared.err)"
  cmp -s local.out shared.out ||
    fail "$tool $* differs (< local, > shared): $(diff local.out shared.out | head -8)"
  cmp -s local.err shared.err ||
    fail "$tool $*: stderr differs (< local, > shared): $(diff local.err shared.err | head -4)"
}

# same_change TOOL ARG…: same_answer for a command that changes the store (a scan, a
# transition), which cannot be made twice: when the hour is about to turn (its last 20
# seconds), it waits until it has, so that both stores see the same hour (the hourly rules'
# windows move with it).
same_change() {
  while ((10#$(date -u +%M%S) > 5940)); do sleep 1; done
  same_answer "$@"
}

# all_compared: says how many comparisons the case made (the suite's log), and drops its
# database (a case that fails leaves it, to look into).
all_compared() {
  echo "$COMPARED comparisons, all the same, in $((SECONDS - STARTED))s" >&2
  psql -X -q -d postgres -c "DROP DATABASE $DBNAME WITH (FORCE)" || fail "drop database $DBNAME"
}

# --- Cases ----------------------------------------------------------------------------

# A clone's fleet shipped to a fresh database; its reads compared, -C app against
# -C app --shared.
clone_shipped() {
  fleet_times
  fleet_clone app
  ship_to_fresh_database app
  start_comparing -C app -- -C app --shared
}

test_stats_trend_and_slowest_print_the_same_in_every_format_from_both_engines() {
  clone_shipped
  # Where the two runs as slow as each other are among the slowest commits of the last 3h.
  local tie
  tie=$(perf-baseline -C app --format csv slowest --since 3h --step commit --limit 100 |
    awk -F, -v t=$((NOW_US - 7200000000 - 123457)) '$5 == t { print NR - 1; exit }')
  [[ -n $tie ]] || fail "the two runs as slow as each other are not among the slowest"
  local format read
  for format in text json jsonl csv tsv; do
    for read in "stats" "stats --since all" "stats --since 24h" "stats --since $SINCE_CUT" \
      "stats --since 3d --step commit" "stats --step Deploy" "stats --step git:status --since all" \
      "stats --step nosuch" "trend" "trend --days 7" "trend --days 1 --by hour" \
      "trend --days 3 --by hour --step rollback" "trend --days 10 --step commit" \
      "slowest" "slowest --since all --limit 50" "slowest --since $SINCE_CUT --spans 0" \
      "slowest --since 7d --limit 5 --spans 10 --step recover" \
      "slowest --since 3h --step commit --limit $tie" \
      "slowest --since 3h --step commit --limit $((tie + 1))"; do
      # shellcheck disable=SC2086 # the words of the read
      same_answer perf-baseline --format "$format" $read
    done
  done
  same_answer perf-baseline --json stats --since all
  same_answer perf-baseline -q trend --days 2 --by hour
  # The answers hold what the records say: every run, from the histograms above 5,000 runs;
  # the two runs as slow as each other listed one after the other.
  perf-baseline -C app --shared --json stats --since all >stats.json || fail "stats"
  expect_eq "$(jq '[.steps[].count] | add' stats.json)" "$(($(wc -l <app.jsonl) + 9))" "runs counted"
  expect_eq "$(jq -r '.steps[] | select(.step == "commit") | .method' stats.json)" histogram \
    "commit's method over every run"
  perf-baseline -C app --shared --format csv slowest --since 3h --step commit --limit $((tie + 1)) |
    tail -2 | cut -d, -f5,6 | uniq | wc -l >distinct
  expect_eq "$(cat distinct)" 1 "the last two of the slowest, as slow and started together"
  all_compared
}

test_every_export_format_the_report_and_a_dry_run_prune_are_the_same_from_both_engines() {
  clone_shipped
  local format read
  for format in jsonl csv prometheus otlp; do
    for read in "" "--since $SINCE_CUT" "--since 7d --step git:fetch"; do
      # shellcheck disable=SC2086 # the words of the read
      same_answer perf-baseline export --format "$format" $read
    done
    # Written to a file: the same file, and nothing on stdout.
    same_answer perf-baseline export --format "$format" --since 3d -o "$TEST_DIR/export.$format"
    mv "export.$format" "export.local.$format"
    perf-baseline -C app --shared export --format "$format" --since 3d -o "$TEST_DIR/export.$format" ||
      fail "export -o from the shared store"
    # Only the window's start differs: the two exports ran a moment apart.
    normalise_run_time <"export.local.$format" >local.out
    normalise_run_time <"export.$format" >shared.out
    cmp -s local.out shared.out || fail "export -o differs: $(diff local.out shared.out | head -5)"
    COMPARED=$((COMPARED + 1))
  done
  # The export holds every record, as imported.
  perf-baseline -C app --shared export --format jsonl >all.jsonl || fail "export"
  expect_eq "$(wc -l <all.jsonl)" "$(($(wc -l <app.jsonl) + 9))" "records exported"
  expect_eq "$(jq -c 'del(.started_at)' all.jsonl | sort | grep -cFxf <(jq -c 'del(.started_at)' app.jsonl | sort))" \
    "$(wc -l <app.jsonl)" "imported records exported as they were"
  # The HTML report: the whole page, to stdout and as a file with its summary line.
  for read in "" "--since 2d --step commit" "--since $SINCE_CUT --step validate"; do
    # shellcheck disable=SC2086 # the words of the read
    same_answer perf-baseline report -o - $read
  done
  for format in text json; do
    same_answer perf-baseline --format "$format" report -o "$TEST_DIR/report.html" --since 7d
    mv report.html report.local.html
    perf-baseline -C app --shared report -o "$TEST_DIR/report.html" --since 7d >/dev/null || fail "report"
    # The page says when it was made, to the minute: the two runs may fall either side of one.
    normalise_run_time <report.local.html >local.out
    normalise_run_time <report.html >shared.out
    cmp -s local.out shared.out || fail "report -o differs: $(diff local.out shared.out | head -5)"
    COMPARED=$((COMPARED + 1))
  done
  grep -q "<svg" report.html || fail "no chart in the report"
  # What a prune would remove.
  for read in "--older-than 3d" "--older-than 7d"; do
    # shellcheck disable=SC2086 # the words of the read
    {
      same_answer perf-baseline prune $read --dry-run
      same_answer perf-baseline --json prune $read --dry-run
    }
  done
  all_compared
}

# expect_filtered FILTER AWK: the shared store's export with FILTER holds exactly the records
# of all.tsv (its whole export: trace id, step, start, host, repo, branch, CI provider) that
# the awk condition AWK selects, and some.
expect_filtered() {
  local filter=$1 want got
  want=$(awk -F'\t' "$2" all.tsv)
  [[ -n $want ]] || fail "no record for $filter in the fleet: the case proves nothing"
  # shellcheck disable=SC2086 # the words of the filter
  got=$(perf-baseline -C app --shared export --format jsonl $filter | jq -r "$TSV") ||
    fail "export $filter"
  [[ $got == "$want" ]] || fail "export $filter: $(diff <(echo "$want") <(echo "$got") | head -4)"
}
TSV='[.trace_id, .step, .started_us, .host, .repo, .branch, .ci_provider] | @tsv'

test_the_fleet_filters_narrow_every_read_alike_on_both_engines() {
  clone_shipped
  perf-baseline -C app --shared export --format jsonl >all.jsonl || fail "export"
  local me filter formats=(text json jsonl csv tsv) exports=(jsonl csv otlp prometheus) i=0
  # The host of the real runs: this machine's name.
  me=$(jq -r --arg r "$TEST_DIR/app" 'select(.repo == $r) | .host' all.jsonl | head -1)
  [[ -n $me ]] || fail "no real run in the export"
  local filters=("--host build-2" "--host $me" "--repo /srv/app" "--repo $TEST_DIR/app"
    "--branch main" "--branch HOTFIX-42" "--branch "$'wip/\xff%x' "--runner ci" "--runner local"
    "--runner github" "--runner gitlab" "--runner buildkite" "--runner jenkins"
    "--host build-2 --branch dev --runner ci" "--repo /home/ana/app --runner local --branch feature/login")
  # Every command that takes the filters, with each filter, in a format and a window that
  # change from one filter to the next.
  local windows=(3d "$SINCE_CUT" 24h all) days=("--days 3" "--days 1 --by hour")
  for filter in "${filters[@]}"; do
    local format=${formats[i % 5]} export=${exports[i % 4]} since=${windows[i % 4]} trend=${days[i % 2]}
    i=$((i + 1))
    # shellcheck disable=SC2086 # the words of the filter and the trend
    {
      same_answer perf-baseline --format "$format" stats --since "$since" $filter
      same_answer perf-baseline --format "$format" trend $trend $filter
      same_answer perf-baseline --format "$format" slowest --since 3d --limit 10 $filter
      same_answer perf-baseline export --format "$export" --since 2d $filter
    }
  done
  local report
  for report in "--host build-2" "--repo /srv/app" "--branch HOTFIX-42" "--runner ci" \
    "--repo /home/ana/app --runner local --branch feature/login"; do
    # shellcheck disable=SC2086 # the words of the filter
    same_answer perf-baseline report -o - --since 7d $report
  done
  # And each filter keeps the runs it names, no more and no fewer.
  jq -r "$TSV" all.jsonl >all.tsv
  # shellcheck disable=SC2016 # $N: awk's fields
  {
    expect_filtered "--host build-2" '$4 == "build-2"'
    expect_filtered "--host $me" "\$4 == \"$me\""
    expect_filtered "--repo $TEST_DIR/app" "\$5 == \"$TEST_DIR/app\""
    expect_filtered "--branch HOTFIX-42" '$6 == "HOTFIX-42"'
    expect_filtered "--branch "$'wip/\xff%x' '$6 == "wip/%FF%25x"'
    expect_filtered "--runner ci" '$7 != ""'
    expect_filtered "--runner local" '$7 == ""'
    local provider
    for provider in github gitlab buildkite jenkins; do
      expect_filtered "--runner $provider" "\$7 == \"$provider\""
    done
    expect_filtered "--host build-2 --branch dev --runner ci --since 3d" \
      "\$4 == \"build-2\" && \$6 == \"dev\" && \$7 != \"\" && \$3 >= $((NOW_US - 259200000000))"
  }
  all_compared
}

test_compute_stores_the_same_baselines_in_every_scope_and_show_says_so() {
  clone_shipped
  # The same computations in the same order on each store: what each stores (or keeps) and
  # what show says after it.
  local compute format
  for compute in "" "" "--force --window 10d" "--step commit --window 2d --force" \
    "--scope repo" "--scope branch --min-samples 5" \
    "--scope branch --repo /srv/app --branch main --force --multiplier 3" \
    "--scope repo --repo /home/ana/app --window 3d --min-change 1%" "--scope repo --repo $TEST_DIR/app --min-samples 1" \
    "--min-samples 100000" "--step nosuch" "--step Deploy --min-change 0.5"; do
    # shellcheck disable=SC2086 # the words of the computation
    same_answer perf-baseline compute $compute
    same_answer perf-baseline show
  done
  for format in json jsonl csv tsv; do
    same_answer perf-baseline --format "$format" compute --scope branch --min-samples 3 --force
    same_answer perf-baseline --format "$format" show
  done
  same_answer perf-baseline -q compute --force --window 10d
  same_answer perf-baseline --json show
  # What show says is what compute stored, and every scope is there.
  perf-baseline -C app --shared --json show >show.json || fail "show"
  expect_eq "$(jq -r '[.baselines[].scope] | unique | join(" ")' show.json)" "all branch repo" "scopes"
  expect_eq "$(jq -r '.baselines[] | select(.scope == "all" and .step == "commit") | .method' show.json)" \
    histogram "commit's baseline over more than 5,000 runs"
  expect_eq "$(pg 'select count(*) from active_baselines')" "$(jq '.baselines | length' show.json)" \
    "active baselines in the shared store"
  all_compared
}

# Two clones of a fleet, a (with the real runs) and b, each with half of its records, shipped
# to the shared store; and union.db, one local store holding both clones' records, imported
# b's first, so that no row id need match the shared store's. No rule judges a run until the
# scans compared (PERFGUARD_ALERTS_ENABLED=false until then). The comparisons read union.db
# from outside any repository (every repository's alerts) and the shared store as
# --db postgresql://….
fleet_of_two_clones() {
  fleet_times
  export PERFGUARD_ALERTS_ENABLED=false
  make_repo a 2
  real_runs a
  make_repo b 1
  fleet_records fleet.jsonl 11
  awk 'NR % 2' fleet.jsonl >a.jsonl
  awk 'NR % 2 == 0' fleet.jsonl >b.jsonl
  perf-baseline -C a -q import --format jsonl "$TEST_DIR/a.jsonl" || fail "import into a"
  perf-baseline -C b -q import --format jsonl "$TEST_DIR/b.jsonl" || fail "import into b"
  ship_to_fresh_database a b
  # From here on the shared store is named by its URI, and no tool ships: union.db's records
  # must not go there, nor the team's baselines come back into union.db in the middle.
  unset PERFGUARD_SHARED
  local clone
  for clone in b a; do
    perf-baseline -C "$clone" export --format jsonl >"$clone.all.jsonl" || fail "export $clone"
    perf-baseline --db "$TEST_DIR/union.db" -q import --format jsonl "$TEST_DIR/$clone.all.jsonl" ||
      fail "import $clone into union.db"
  done
  unset PERFGUARD_ALERTS_ENABLED
  start_comparing --db "$TEST_DIR/union.db" -- --db "$SHARED"
}

test_perf_alerts_scans_lists_shows_and_checks_the_fleet_as_one_local_store_holding_it() {
  fleet_of_two_clones
  # Baselines first, for the baseline rule; then the scans.
  same_change perf-baseline compute
  same_change perf-baseline compute --scope branch --min-samples 5
  same_change perf-alerts scan --since 7d
  same_change perf-alerts --json scan --since all
  local rules
  rules=$(perf-alerts --db "$SHARED" --json list | jq -r '[.alerts[].rule] | unique | join(" ")')
  expect_eq "$rules" "anomaly baseline consecutive degradation failure prediction rollback_rate threshold" \
    "the rules that fired"
  local format read id ids=()
  for format in text json; do
    for read in "list" "list --all" "list --severity warning" "list --severity critical" \
      "list --state open" "list --step commit" "list --since 24h" "list --limit 3" \
      "list --repo /srv/app" "list --branch main" "list --repo /home/ana/app --branch dev" \
      "check" "check --fail-on warning" "check --fail-on info --repo $TEST_DIR/a" \
      "check --branch HOTFIX-42 --fail-on warning"; do
      # shellcheck disable=SC2086 # the words of the read
      same_answer perf-alerts --format "$format" $read
    done
  done
  for format in jsonl csv tsv; do
    for read in "list --all" "list --severity critical --step rollback" "check --fail-on info"; do
      # shellcheck disable=SC2086 # the words of the read
      same_answer perf-alerts --format "$format" $read
    done
  done
  same_answer perf-alerts -q check
  same_answer perf-alerts -q check --fail-on info --branch dev
  for format in junit github gitlab; do
    same_answer perf-alerts check --fail-on info --format "$format"
    same_answer perf-alerts check --format "$format" --repo /srv/app
  done
  mapfile -t ids < <(perf-alerts --db "$SHARED" --json list --all | jq -r '.alerts[].id' | sort -n)
  [[ ${#ids[@]} -ge 20 ]] || fail "only ${#ids[@]} alerts: the case proves little"
  local n=0
  for id in "${ids[@]}"; do
    same_answer perf-alerts show "$id"
    ((n++ % 4)) || same_answer perf-alerts --json show "#$id"
  done
  # People's transitions, then what the lists, shows and the gate say.
  same_change perf-alerts ack "${ids[0]}" "${ids[1]}" --by ana --note "on it"
  same_change perf-alerts snooze "${ids[2]}" --for 2h --by bo
  same_change perf-alerts resolve "${ids[3]}" --by ana --note "fixed in 4f2a"
  same_change perf-alerts --json scan --since all
  for read in "list --all" "list --state acknowledged" "list --state snoozed" \
    "list --state resolved" "check --fail-on info" "show ${ids[0]}" "show ${ids[2]}" "show ${ids[3]}"; do
    # shellcheck disable=SC2086 # the words of the read
    same_answer perf-alerts --json $read
    # shellcheck disable=SC2086
    same_answer perf-alerts $read
  done
  # The reads of perf-baseline too: the fleet is one store whatever its row ids.
  local tie
  tie=$(perf-baseline --db "$SHARED" --format csv slowest --since 3h --step commit --limit 100 |
    awk -F, -v t=$((NOW_US - 7200000000 - 123457)) '$5 == t { print NR - 1; exit }')
  [[ -n $tie ]] || fail "the two runs as slow as each other are not among the slowest"
  for read in "stats --since all" "--json trend --days 10" "--format csv trend --days 1 --by hour" \
    "slowest --since 3h --step commit --limit $tie" "slowest --since all --limit 40" \
    "--format tsv slowest --since 7d --host build-2" "export --format csv --since 2d" \
    "export --format otlp --since $SINCE_CUT" "export --format prometheus" "report -o - --since 7d" \
    "show"; do
    # shellcheck disable=SC2086 # the words of the read
    same_answer perf-baseline $read
  done
  all_compared
}

test_alerts_list_and_check_filter_by_repository_and_branch_on_the_shared_store() {
  fleet_of_two_clones
  same_change perf-alerts scan --since 7d
  perf-alerts --db "$SHARED" --json list --all >all.json || fail "list"
  local repo branch want got pairs=0
  while IFS=$'\t' read -r repo branch; do
    want=$(jq -c --arg r "$repo" --arg b "$branch" '[.alerts[] | select(.repo == $r and .branch == $b)]' all.json)
    # The branch as the command line gives it: the bytes its JSON text percent-encodes.
    perf-alerts --db "$SHARED" --json list --all --repo "$repo" \
      --branch "$(printf '%b' "${branch//%/\\x}")" >one.json ||
      fail "list"
    got=$(jq -c '.alerts' one.json)
    [[ $got == "$want" ]] || fail "list --repo $repo --branch '$branch': $(diff <(echo "$want") <(echo "$got") | head -4)"
    pairs=$((pairs + 1))
  done < <(jq -r '.alerts[] | select(.branch != "") | [.repo, .branch] | @tsv' all.json | sort -u)
  [[ $pairs -ge 5 ]] || fail "only $pairs repository and branch pairs with alerts: the case proves little"
  for repo in $(jq -r '.alerts[].repo' all.json | sort -u); do
    want=$(jq -c --arg r "$repo" '[.alerts[] | select(.repo == $r)]' all.json)
    got=$(perf-alerts --db "$SHARED" --json list --all --repo "$repo" | jq -c '.alerts')
    [[ $got == "$want" ]] || fail "list --repo $repo: $(diff <(echo "$want") <(echo "$got") | head -4)"
  done
  for branch in main dev HOTFIX-42; do
    want=$(jq -c --arg b "$branch" '[.alerts[] | select(.branch == $b)]' all.json)
    got=$(perf-alerts --db "$SHARED" --json list --all --branch "$branch" | jq -c '.alerts')
    [[ $got == "$want" ]] || fail "list --branch $branch: $(diff <(echo "$want") <(echo "$got") | head -4)"
  done
  # The gate: only the alerts the filters keep can fail it (every alert is open after a scan).
  IFS=$'\t' read -r repo branch < <(jq -r '[.alerts[] | select(.branch == "main")] |
    group_by(.repo) | max_by(length) | .[0] | [.repo, .branch] | @tsv' all.json)
  run perf-alerts --db "$SHARED" check --fail-on info --repo "$repo" --branch "$branch"
  expect_status 3
  expect_eq "$(grep -c '^#' "$TEST_DIR/out")" \
    "$(jq --arg r "$repo" '[.alerts[] | select(.repo == $r and .branch == "main")] | length' all.json)" \
    "alerts failing the gate for $repo on main"
  run perf-alerts --db "$SHARED" check --fail-on info --repo /srv/elsewhere
  expect_status 0
  # Run in a repository, a local store answers for that repository: as the shared store does
  # for its path. (a's own runs breached and were killed: it has alerts.)
  expect_eq "$(jq --arg r "$TEST_DIR/a" '[.alerts[] | select(.repo == $r)] | length > 0' all.json)" true \
    "alerts on a's runs"
  local read status
  for read in "list --all" "--json list" "check --fail-on info" "--format junit check"; do
    # shellcheck disable=SC2086 # the words of the read
    perf-alerts -C a --db "$TEST_DIR/union.db" $read >local.raw 2>&1
    status=$?
    # shellcheck disable=SC2086
    perf-alerts --db "$SHARED" $read --repo "$TEST_DIR/a" >shared.raw 2>&1
    expect_eq "$?" "$status" "exit of $read"
    normalise_run_time <local.raw >local.out
    normalise_run_time <shared.raw >shared.out
    cmp -s local.out shared.out || fail "$read in a differs: $(diff local.out shared.out | head -6)"
    COMPARED=$((COMPARED + 1))
  done
  all_compared
}
