#include "store/schema.h"

#include "store/store.h"

namespace perfguard::schema {

namespace {

// Version 1, sized for the goal of about 150 bytes per recorded step with two child spans
// (measured: see test_store.cpp): a context is stored once and referenced; HEADs are 20-byte
// blobs; child spans live in a WITHOUT ROWID table keyed (step_id, seq) and store their
// start as an offset from the step's; and nothing derivable is stored twice:
//  - a step's cpu_user_us / cpu_sys_us / max_rss_kb are NULL when they equal the sum (cpu)
//    or maximum (memory) over its direct child spans, which is how the step timer computes
//    them; step_results and Store::recent_steps fill them back in.
//  - (trace_id, step) is unique, but checked by Store::record through steps_by_step_time
//    (a record is the same record when its trace, step and start agree) rather than by a
//    second index on every step: the index would cost 25 bytes a step.
//
// The views are a public interface (`sqlite3 perf.db 'select * from step_summary'`): their
// column names are a contract, like `--format json`. Add columns, never rename or remove.
// Times are ISO-8601 UTC text; durations are milliseconds (REAL); percentiles are
// percentile_cont: for sorted x[0..n-1], p -> x at rank (n-1)p, interpolated linearly
// (each row weighs max(0, 1 - |row - rank|), so only the two closest rows count).
constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE contexts (
  id INTEGER PRIMARY KEY,
  repo TEXT NOT NULL DEFAULT '',
  branch TEXT NOT NULL DEFAULT '',
  host TEXT NOT NULL DEFAULT '',
  user TEXT NOT NULL DEFAULT '',
  ci_provider TEXT NOT NULL DEFAULT '',
  ci_job TEXT NOT NULL DEFAULT '',
  tool TEXT NOT NULL DEFAULT '',
  tool_version TEXT NOT NULL DEFAULT '',
  git_version TEXT NOT NULL DEFAULT '',
  UNIQUE (repo, branch, host, user, ci_provider, ci_job, tool, tool_version, git_version)
);

CREATE TABLE steps (
  id INTEGER PRIMARY KEY,
  trace_id INTEGER NOT NULL,
  step TEXT NOT NULL,
  started_us INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'breach', 'failed', 'timeout', 'interrupted')),
  threshold_us INTEGER,
  exit_code INTEGER NOT NULL,
  context_id INTEGER NOT NULL REFERENCES contexts (id),
  head_before BLOB,
  head_after BLOB,
  cpu_user_us INTEGER,
  cpu_sys_us INTEGER,
  max_rss_kb INTEGER,
  labels TEXT
);
CREATE INDEX steps_by_step_time ON steps (step, started_us);

CREATE TABLE spans (
  step_id INTEGER NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  parent_seq INTEGER,
  name TEXT NOT NULL,
  offset_us INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  exit_code INTEGER,
  cpu_user_us INTEGER,
  cpu_sys_us INTEGER,
  max_rss_kb INTEGER,
  PRIMARY KEY (step_id, seq)
) WITHOUT ROWID;

CREATE TABLE snapshots (
  id TEXT PRIMARY KEY,
  commit_id TEXT NOT NULL,
  head TEXT NOT NULL,
  branch TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  tool TEXT NOT NULL,
  reason TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE VIEW step_results AS
SELECT
  s.id AS id,
  printf('%016x', s.trace_id) AS trace_id,
  s.step AS step,
  strftime('%Y-%m-%dT%H:%M:%S', s.started_us / 1000000, 'unixepoch')
    || printf('.%06dZ', s.started_us % 1000000) AS started_at,
  s.started_us AS started_us,
  s.duration_us / 1000.0 AS duration_ms,
  s.duration_us AS duration_us,
  s.threshold_us / 1000.0 AS threshold_ms,
  s.status AS status,
  s.exit_code AS exit_code,
  c.repo AS repo,
  c.branch AS branch,
  CASE typeof(s.head_before) WHEN 'blob' THEN lower(hex(s.head_before))
    ELSE coalesce(s.head_before, '') END AS head_before,
  CASE typeof(s.head_after) WHEN 'blob' THEN lower(hex(s.head_after))
    ELSE coalesce(s.head_after, '') END AS head_after,
  c.host AS host,
  c.user AS user,
  c.ci_provider AS ci_provider,
  c.ci_job AS ci_job,
  c.tool AS tool,
  c.tool_version AS tool_version,
  c.git_version AS git_version,
  coalesce(s.cpu_user_us, (SELECT sum(p.cpu_user_us) FROM spans AS p
    WHERE p.step_id = s.id AND p.parent_seq IS NULL)) / 1000.0 AS cpu_user_ms,
  coalesce(s.cpu_sys_us, (SELECT sum(p.cpu_sys_us) FROM spans AS p
    WHERE p.step_id = s.id AND p.parent_seq IS NULL)) / 1000.0 AS cpu_sys_ms,
  coalesce(s.max_rss_kb, (SELECT max(p.max_rss_kb) FROM spans AS p
    WHERE p.step_id = s.id AND p.parent_seq IS NULL)) AS max_rss_kb,
  coalesce(s.labels, '{}') AS labels
FROM steps AS s JOIN contexts AS c ON c.id = s.context_id;

CREATE VIEW child_spans AS
SELECT
  s.id AS step_id,
  printf('%016x', s.trace_id) AS trace_id,
  s.step AS step,
  p.seq AS seq,
  p.parent_seq AS parent_seq,
  p.name AS name,
  p.offset_us / 1000.0 AS offset_ms,
  p.duration_us / 1000.0 AS duration_ms,
  p.exit_code AS exit_code,
  p.cpu_user_us / 1000.0 AS cpu_user_ms,
  p.cpu_sys_us / 1000.0 AS cpu_sys_ms,
  p.max_rss_kb AS max_rss_kb
FROM spans AS p JOIN steps AS s ON s.id = p.step_id;

CREATE VIEW step_summary AS
WITH ranked AS (
  SELECT step, status, duration_us, started_us,
    ROW_NUMBER() OVER (PARTITION BY step ORDER BY duration_us) - 1 AS r,
    COUNT(*) OVER (PARTITION BY step) AS n
  FROM steps
)
SELECT
  step,
  COUNT(*) AS n,
  SUM(status = 'ok') AS ok,
  SUM(status = 'breach') AS breaches,
  SUM(status = 'failed') AS failures,
  SUM(status = 'timeout') AS timeouts,
  SUM(status = 'interrupted') AS interrupted,
  AVG(duration_us) / 1000.0 AS mean_ms,
  MIN(duration_us) / 1000.0 AS min_ms,
  SUM(duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.50))) / 1000.0 AS p50_ms,
  SUM(duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.75))) / 1000.0 AS p75_ms,
  SUM(duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.90))) / 1000.0 AS p90_ms,
  SUM(duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.95))) / 1000.0 AS p95_ms,
  SUM(duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.99))) / 1000.0 AS p99_ms,
  MAX(duration_us) / 1000.0 AS max_ms,
  strftime('%Y-%m-%dT%H:%M:%S', MAX(started_us) / 1000000, 'unixepoch')
    || printf('.%06dZ', MAX(started_us) % 1000000) AS last_at
FROM ranked
GROUP BY step
ORDER BY step;

CREATE VIEW daily_trend AS
WITH daily AS (
  SELECT step, status, duration_us,
    strftime('%Y-%m-%d', started_us / 1000000, 'unixepoch') AS day
  FROM steps
), ranked AS (
  SELECT step, status, duration_us, day,
    ROW_NUMBER() OVER (PARTITION BY step, day ORDER BY duration_us) - 1 AS r,
    COUNT(*) OVER (PARTITION BY step, day) AS n
  FROM daily
)
SELECT
  step,
  day,
  COUNT(*) AS n,
  AVG(duration_us) / 1000.0 AS mean_ms,
  SUM(duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.50))) / 1000.0 AS p50_ms,
  SUM(duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.95))) / 1000.0 AS p95_ms,
  MAX(duration_us) / 1000.0 AS max_ms,
  SUM(status = 'breach') AS breaches,
  SUM(status = 'failed') AS failures,
  SUM(status = 'timeout') AS timeouts
FROM ranked
GROUP BY step, day
ORDER BY step, day;

CREATE VIEW slowest_recent AS
SELECT
  s.id AS id,
  printf('%016x', s.trace_id) AS trace_id,
  s.step AS step,
  c.repo AS repo,
  c.branch AS branch,
  s.status AS status,
  strftime('%Y-%m-%dT%H:%M:%S', s.started_us / 1000000, 'unixepoch')
    || printf('.%06dZ', s.started_us % 1000000) AS started_at,
  s.duration_us / 1000.0 AS duration_ms,
  s.threshold_us / 1000.0 AS threshold_ms
FROM steps AS s JOIN contexts AS c ON c.id = s.context_id
WHERE s.started_us >= (CAST(strftime('%s', 'now') AS INTEGER) - 7 * 86400) * 1000000
ORDER BY s.duration_us DESC, s.started_us DESC;
)sql";

constexpr Migration kMigrations[] = {
    {1, kVersion1},
};

static_assert(kMigrations[std::size(kMigrations) - 1].to_version == kSchemaVersion,
              "the last migration must produce kSchemaVersion");

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

}  // namespace perfguard::schema
