#include "store/sqlite/schema.h"

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

// Version 2: slimmer rows (under 150 bytes a step with two child spans, from about 195), the
// per-hour rollups that make the analytics fast, and the baselines.
//  - Step and span names are interned in `names`; a status is a small integer. The v1 tables
//    `steps` and `spans` become views with exactly their old columns, so every v1 query, view
//    and `DELETE FROM steps` still works; the data lives in step_rows and span_rows.
//  - head_after is x'' (an empty blob, no bytes) when it equals head_before, as for every
//    validation; NULL still means empty (an unborn HEAD).
//  - No index on (step, time): it cost 25 bytes a step. Time ranges go through step_hours,
//    whose rows list the ids of each hour's steps (sorted, as varint deltas: about a byte a
//    step, as step ids grow with time while steps are recorded), and Store::record checks
//    for a record already stored through the same lists. first_id and last_id bound them.
//  - step_hours: one row per step name per UTC hour (hour = started_us / 3600000000): how
//    many steps ended in each status, the id range, and of the completed steps (ok and
//    breach) the sum of durations, the sum of squared deviations from their mean (m2, so
//    that hours merge into an exact standard deviation), min, max and a log-linear histogram
//    (lib/stats/histogram.h; about two bytes a step). Counts, mean, stddev, min and max read
//    from it are exact, percentiles within 0.78%. Store::record keeps the rows in the same
//    transaction as the steps; rows added by other means (plain SQL) are
//    rolled up by the next writer (meta 'rolled_up_to' holds the last step id rolled up);
//    a deleted or changed step marks its hour stale (triggers below, which also set meta
//    'stale_hours') and readers then read that hour's steps themselves, until the next write
//    to it, or the next perf-baseline command (catch_up_rollups), rebuilds the row.
//  - baselines: see lib/store/baselines.h. At most one active baseline per
//    (step, scope, repo, branch); replaced ones stay, inactive.
constexpr std::string_view kVersion2 = R"sql(
CREATE TABLE names (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
INSERT INTO names (name) SELECT step FROM steps GROUP BY step ORDER BY min(id);
INSERT OR IGNORE INTO names (name) SELECT name FROM spans GROUP BY name ORDER BY min(step_id);

CREATE TABLE step_rows (
  id INTEGER PRIMARY KEY,
  trace_id INTEGER NOT NULL,
  name_id INTEGER NOT NULL REFERENCES names (id),
  started_us INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),
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
INSERT INTO step_rows (id, trace_id, name_id, started_us, duration_us, status, threshold_us,
  exit_code, context_id, head_before, head_after, cpu_user_us, cpu_sys_us, max_rss_kb, labels)
SELECT s.id, s.trace_id, n.id, s.started_us, s.duration_us,
  CASE s.status WHEN 'ok' THEN 0 WHEN 'breach' THEN 1 WHEN 'failed' THEN 2
    WHEN 'timeout' THEN 3 ELSE 4 END,
  s.threshold_us, s.exit_code, s.context_id, s.head_before,
  CASE WHEN s.head_after = s.head_before THEN x'' ELSE s.head_after END,
  s.cpu_user_us, s.cpu_sys_us, s.max_rss_kb, s.labels
FROM steps AS s JOIN names AS n ON n.name = s.step
ORDER BY s.id;

CREATE TABLE span_rows (
  step_id INTEGER NOT NULL REFERENCES step_rows (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  parent_seq INTEGER,
  name_id INTEGER NOT NULL REFERENCES names (id),
  offset_us INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  exit_code INTEGER,
  cpu_user_us INTEGER,
  cpu_sys_us INTEGER,
  max_rss_kb INTEGER,
  PRIMARY KEY (step_id, seq)
) WITHOUT ROWID;
INSERT INTO span_rows (step_id, seq, parent_seq, name_id, offset_us, duration_us, exit_code,
  cpu_user_us, cpu_sys_us, max_rss_kb)
SELECT p.step_id, p.seq, p.parent_seq, n.id, p.offset_us, p.duration_us, p.exit_code,
  p.cpu_user_us, p.cpu_sys_us, p.max_rss_kb
FROM spans AS p JOIN names AS n ON n.name = p.name
ORDER BY p.step_id, p.seq;

-- The v1 views read `steps` and `spans` by name and keep working over the views below.
DROP TABLE spans;
DROP TABLE steps;

CREATE VIEW steps AS
SELECT
  s.id AS id,
  s.trace_id AS trace_id,
  n.name AS step,
  s.started_us AS started_us,
  s.duration_us AS duration_us,
  CASE s.status WHEN 0 THEN 'ok' WHEN 1 THEN 'breach' WHEN 2 THEN 'failed'
    WHEN 3 THEN 'timeout' ELSE 'interrupted' END AS status,
  s.threshold_us AS threshold_us,
  s.exit_code AS exit_code,
  s.context_id AS context_id,
  s.head_before AS head_before,
  CASE WHEN s.head_after = x'' THEN s.head_before ELSE s.head_after END AS head_after,
  s.cpu_user_us AS cpu_user_us,
  s.cpu_sys_us AS cpu_sys_us,
  s.max_rss_kb AS max_rss_kb,
  s.labels AS labels
FROM step_rows AS s JOIN names AS n ON n.id = s.name_id;


CREATE VIEW spans AS
SELECT
  p.step_id AS step_id,
  p.seq AS seq,
  p.parent_seq AS parent_seq,
  n.name AS name,
  p.offset_us AS offset_us,
  p.duration_us AS duration_us,
  p.exit_code AS exit_code,
  p.cpu_user_us AS cpu_user_us,
  p.cpu_sys_us AS cpu_sys_us,
  p.max_rss_kb AS max_rss_kb
FROM span_rows AS p JOIN names AS n ON n.id = p.name_id;

-- v1 code that deletes steps (or spans) still works, and keeps the rollups right.
CREATE TRIGGER steps_delete INSTEAD OF DELETE ON steps
BEGIN
  DELETE FROM step_rows WHERE id = old.id;
END;
CREATE TRIGGER spans_delete INSTEAD OF DELETE ON spans
BEGIN
  DELETE FROM span_rows WHERE step_id = old.step_id AND seq = old.seq;
END;

CREATE TABLE step_hours (
  name_id INTEGER NOT NULL,
  hour INTEGER NOT NULL,
  n_ok INTEGER NOT NULL DEFAULT 0,
  n_breach INTEGER NOT NULL DEFAULT 0,
  n_failed INTEGER NOT NULL DEFAULT 0,
  n_timeout INTEGER NOT NULL DEFAULT 0,
  n_interrupted INTEGER NOT NULL DEFAULT 0,
  first_id INTEGER NOT NULL,
  last_id INTEGER NOT NULL,
  stale INTEGER NOT NULL DEFAULT 0,
  sum_us INTEGER,
  m2 REAL,
  min_us INTEGER,
  max_us INTEGER,
  histogram BLOB,
  ids BLOB,
  PRIMARY KEY (name_id, hour)
) WITHOUT ROWID;

CREATE TRIGGER step_rows_deleted AFTER DELETE ON step_rows
BEGIN
  UPDATE step_hours SET stale = 1
    WHERE name_id = old.name_id AND hour = old.started_us / 3600000000;
  INSERT OR IGNORE INTO meta (key, value) VALUES ('stale_hours', '1');
END;

CREATE TRIGGER step_rows_changed
AFTER UPDATE OF name_id, started_us, duration_us, status ON step_rows
BEGIN
  UPDATE step_hours SET stale = 1
    WHERE name_id = old.name_id AND hour = old.started_us / 3600000000;
  INSERT INTO step_hours (name_id, hour, first_id, last_id, stale)
    VALUES (new.name_id, new.started_us / 3600000000, new.id, new.id, 1)
    ON CONFLICT (name_id, hour) DO UPDATE SET stale = 1,
      first_id = min(first_id, excluded.first_id), last_id = max(last_id, excluded.last_id);
  INSERT OR IGNORE INTO meta (key, value) VALUES ('stale_hours', '1');
END;

-- Steps from the last seven days, found through the hours' id ranges instead of a scan.
DROP VIEW slowest_recent;
CREATE VIEW slowest_recent AS
SELECT
  s.id AS id,
  printf('%016x', s.trace_id) AS trace_id,
  n.name AS step,
  c.repo AS repo,
  c.branch AS branch,
  CASE s.status WHEN 0 THEN 'ok' WHEN 1 THEN 'breach' WHEN 2 THEN 'failed'
    WHEN 3 THEN 'timeout' ELSE 'interrupted' END AS status,
  strftime('%Y-%m-%dT%H:%M:%S', s.started_us / 1000000, 'unixepoch')
    || printf('.%06dZ', s.started_us % 1000000) AS started_at,
  s.duration_us / 1000.0 AS duration_ms,
  s.threshold_us / 1000.0 AS threshold_ms
FROM step_rows AS s
  JOIN names AS n ON n.id = s.name_id
  JOIN contexts AS c ON c.id = s.context_id
WHERE s.id >= coalesce((SELECT min(first_id) FROM step_hours
    WHERE hour >= (CAST(strftime('%s', 'now') AS INTEGER) - 7 * 86400) / 3600), 0)
  AND s.started_us >= (CAST(strftime('%s', 'now') AS INTEGER) - 7 * 86400) * 1000000
ORDER BY s.duration_us DESC, s.started_us DESC;

CREATE TABLE baselines (
  id INTEGER PRIMARY KEY,
  step TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('all', 'repo', 'branch')),
  repo TEXT NOT NULL DEFAULT '',
  branch TEXT NOT NULL DEFAULT '',
  active INTEGER NOT NULL DEFAULT 1,
  computed_us INTEGER NOT NULL,
  window_us INTEGER NOT NULL,
  n INTEGER NOT NULL,
  min_us REAL,
  p50_us REAL,
  p75_us REAL,
  p90_us REAL,
  p95_us REAL,
  p99_us REAL,
  max_us REAL,
  mean_us REAL,
  stddev_us REAL,
  mad_us REAL,
  multiplier REAL NOT NULL,
  min_change REAL NOT NULL,
  reason TEXT NOT NULL,
  replaces_id INTEGER REFERENCES baselines (id),
  deactivated_us INTEGER
);
CREATE UNIQUE INDEX baselines_one_active ON baselines (step, scope, repo, branch) WHERE active;

CREATE VIEW active_baselines AS
SELECT
  id,
  step,
  scope,
  repo,
  branch,
  strftime('%Y-%m-%dT%H:%M:%S', computed_us / 1000000, 'unixepoch')
    || printf('.%06dZ', computed_us % 1000000) AS computed_at,
  window_us / 1000.0 AS window_ms,
  n,
  min_us / 1000.0 AS min_ms,
  p50_us / 1000.0 AS p50_ms,
  p75_us / 1000.0 AS p75_ms,
  p90_us / 1000.0 AS p90_ms,
  p95_us / 1000.0 AS p95_ms,
  p99_us / 1000.0 AS p99_ms,
  max_us / 1000.0 AS max_ms,
  mean_us / 1000.0 AS mean_ms,
  stddev_us / 1000.0 AS stddev_ms,
  mad_us / 1000.0 AS mad_ms,
  multiplier,
  reason
FROM baselines
WHERE active
ORDER BY step, scope, repo, branch;
)sql";

// Version 3: one definition of a step's timing. A failed, killed or interrupted step stopped
// early, so its duration says little about how long the step takes: stats, baselines, the
// report and the rollups time the completed runs (ok and breach) only, and count the others
// as failures. step_summary and daily_trend put every run into their timing columns; they
// now time the completed runs too (NULL when a step has none), with the same columns.
constexpr std::string_view kVersion3 = R"sql(
DROP VIEW step_summary;
CREATE VIEW step_summary AS
WITH ranked AS (
  SELECT step, status, duration_us, started_us,
    status IN ('ok', 'breach') AS timed,
    ROW_NUMBER() OVER (PARTITION BY step, status IN ('ok', 'breach')
      ORDER BY duration_us) - 1 AS r,
    COUNT(*) OVER (PARTITION BY step, status IN ('ok', 'breach')) AS n
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
  AVG(CASE WHEN timed THEN duration_us END) / 1000.0 AS mean_ms,
  MIN(CASE WHEN timed THEN duration_us END) / 1000.0 AS min_ms,
  SUM(CASE WHEN timed THEN duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.50)) END) / 1000.0
    AS p50_ms,
  SUM(CASE WHEN timed THEN duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.75)) END) / 1000.0
    AS p75_ms,
  SUM(CASE WHEN timed THEN duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.90)) END) / 1000.0
    AS p90_ms,
  SUM(CASE WHEN timed THEN duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.95)) END) / 1000.0
    AS p95_ms,
  SUM(CASE WHEN timed THEN duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.99)) END) / 1000.0
    AS p99_ms,
  MAX(CASE WHEN timed THEN duration_us END) / 1000.0 AS max_ms,
  strftime('%Y-%m-%dT%H:%M:%S', MAX(started_us) / 1000000, 'unixepoch')
    || printf('.%06dZ', MAX(started_us) % 1000000) AS last_at
FROM ranked
GROUP BY step
ORDER BY step;

DROP VIEW daily_trend;
CREATE VIEW daily_trend AS
WITH daily AS (
  SELECT step, status, duration_us, status IN ('ok', 'breach') AS timed,
    strftime('%Y-%m-%d', started_us / 1000000, 'unixepoch') AS day
  FROM steps
), ranked AS (
  SELECT step, status, duration_us, day, timed,
    ROW_NUMBER() OVER (PARTITION BY step, day, timed ORDER BY duration_us) - 1 AS r,
    COUNT(*) OVER (PARTITION BY step, day, timed) AS n
  FROM daily
)
SELECT
  step,
  day,
  COUNT(*) AS n,
  AVG(CASE WHEN timed THEN duration_us END) / 1000.0 AS mean_ms,
  SUM(CASE WHEN timed THEN duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.50)) END) / 1000.0
    AS p50_ms,
  SUM(CASE WHEN timed THEN duration_us * MAX(0.0, 1.0 - ABS(r - (n - 1) * 0.95)) END) / 1000.0
    AS p95_ms,
  MAX(CASE WHEN timed THEN duration_us END) / 1000.0 AS max_ms,
  SUM(status = 'breach') AS breaches,
  SUM(status = 'failed') AS failures,
  SUM(status = 'timeout') AS timeouts
FROM ranked
GROUP BY step, day
ORDER BY step, day;
)sql";

// Version 4: a baseline says how its percentiles and MAD were found. Up to kExactSamples
// (lib/stats/statistics.h) completed runs in its window they are exact; above, compute reads
// the hourly rollups' histograms (within 0.78%) instead of every run. `method` is 'exact' or
// 'histogram'; every baseline stored before was exact. active_baselines gains the column, at
// the end.
constexpr std::string_view kVersion4 = R"sql(
ALTER TABLE baselines ADD COLUMN method TEXT NOT NULL DEFAULT 'exact'
  CHECK (method IN ('exact', 'histogram'));

DROP VIEW active_baselines;
CREATE VIEW active_baselines AS
SELECT
  id,
  step,
  scope,
  repo,
  branch,
  strftime('%Y-%m-%dT%H:%M:%S', computed_us / 1000000, 'unixepoch')
    || printf('.%06dZ', computed_us % 1000000) AS computed_at,
  window_us / 1000.0 AS window_ms,
  n,
  min_us / 1000.0 AS min_ms,
  p50_us / 1000.0 AS p50_ms,
  p75_us / 1000.0 AS p75_ms,
  p90_us / 1000.0 AS p90_ms,
  p95_us / 1000.0 AS p95_ms,
  p99_us / 1000.0 AS p99_ms,
  max_us / 1000.0 AS max_ms,
  mean_us / 1000.0 AS mean_ms,
  stddev_us / 1000.0 AS stddev_ms,
  mad_us / 1000.0 AS mad_ms,
  multiplier,
  reason,
  method
FROM baselines
WHERE active
ORDER BY step, scope, repo, branch;
)sql";

// Version 5: child spans in a rowid table whose key is the step's id and the span's sequence
// number at once (id = step_id * 256 + seq). Appended in key order, its pages fill (those of
// the WITHOUT ROWID table keyed (step_id, seq) were about 88% full), and the key is one
// varint: a step with two child spans takes about 146 bytes instead of 153. A step's spans
// from the 257th on live in span_rows_more, keyed (step_id, seq) as before. The `spans` view
// keeps its columns; deleting a step deletes its spans by trigger (this needed
// foreign_keys on before), and step_results reads a step's spans by key range.
constexpr std::string_view kVersion5 = R"sql(
CREATE TABLE span_rows_v5 (
  id INTEGER PRIMARY KEY,
  parent_seq INTEGER,
  name_id INTEGER NOT NULL REFERENCES names (id),
  offset_us INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  exit_code INTEGER,
  cpu_user_us INTEGER,
  cpu_sys_us INTEGER,
  max_rss_kb INTEGER
);
INSERT INTO span_rows_v5 (id, parent_seq, name_id, offset_us, duration_us, exit_code,
  cpu_user_us, cpu_sys_us, max_rss_kb)
SELECT step_id * 256 + seq, parent_seq, name_id, offset_us, duration_us, exit_code,
  cpu_user_us, cpu_sys_us, max_rss_kb
FROM span_rows WHERE seq < 256 ORDER BY step_id, seq;

CREATE TABLE span_rows_more (
  step_id INTEGER NOT NULL,
  seq INTEGER NOT NULL CHECK (seq >= 256),
  parent_seq INTEGER,
  name_id INTEGER NOT NULL REFERENCES names (id),
  offset_us INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  exit_code INTEGER,
  cpu_user_us INTEGER,
  cpu_sys_us INTEGER,
  max_rss_kb INTEGER,
  PRIMARY KEY (step_id, seq)
) WITHOUT ROWID;
INSERT INTO span_rows_more SELECT * FROM span_rows WHERE seq >= 256 ORDER BY step_id, seq;

DROP VIEW child_spans;
DROP VIEW step_results;
DROP TRIGGER spans_delete;
DROP VIEW spans;
DROP TABLE span_rows;
ALTER TABLE span_rows_v5 RENAME TO span_rows;

CREATE VIEW spans AS
SELECT
  p.id >> 8 AS step_id,
  p.id & 255 AS seq,
  p.parent_seq AS parent_seq,
  n.name AS name,
  p.offset_us AS offset_us,
  p.duration_us AS duration_us,
  p.exit_code AS exit_code,
  p.cpu_user_us AS cpu_user_us,
  p.cpu_sys_us AS cpu_sys_us,
  p.max_rss_kb AS max_rss_kb
FROM span_rows AS p JOIN names AS n ON n.id = p.name_id
UNION ALL
SELECT
  p.step_id, p.seq, p.parent_seq, n.name, p.offset_us, p.duration_us, p.exit_code,
  p.cpu_user_us, p.cpu_sys_us, p.max_rss_kb
FROM span_rows_more AS p JOIN names AS n ON n.id = p.name_id;

CREATE TRIGGER spans_delete INSTEAD OF DELETE ON spans
BEGIN
  DELETE FROM span_rows WHERE old.seq < 256 AND id = old.step_id * 256 + old.seq;
  DELETE FROM span_rows_more WHERE step_id = old.step_id AND seq = old.seq;
END;

CREATE TRIGGER step_rows_spans_deleted AFTER DELETE ON step_rows
BEGIN
  DELETE FROM span_rows WHERE id BETWEEN old.id * 256 AND old.id * 256 + 255;
  DELETE FROM span_rows_more WHERE step_id = old.id;
END;

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
  coalesce(s.cpu_user_us,
    (SELECT sum(p.cpu_user_us) FROM span_rows AS p
      WHERE p.id BETWEEN s.id * 256 AND s.id * 256 + 255 AND p.parent_seq IS NULL)
    + coalesce((SELECT sum(p.cpu_user_us) FROM span_rows_more AS p
      WHERE p.step_id = s.id AND p.parent_seq IS NULL), 0)) / 1000.0 AS cpu_user_ms,
  coalesce(s.cpu_sys_us,
    (SELECT sum(p.cpu_sys_us) FROM span_rows AS p
      WHERE p.id BETWEEN s.id * 256 AND s.id * 256 + 255 AND p.parent_seq IS NULL)
    + coalesce((SELECT sum(p.cpu_sys_us) FROM span_rows_more AS p
      WHERE p.step_id = s.id AND p.parent_seq IS NULL), 0)) / 1000.0 AS cpu_sys_ms,
  coalesce(s.max_rss_kb,
    max((SELECT max(p.max_rss_kb) FROM span_rows AS p
      WHERE p.id BETWEEN s.id * 256 AND s.id * 256 + 255 AND p.parent_seq IS NULL),
      coalesce((SELECT max(p.max_rss_kb) FROM span_rows_more AS p
      WHERE p.step_id = s.id AND p.parent_seq IS NULL), 0))) AS max_rss_kb,
  coalesce(s.labels, '{}') AS labels
FROM steps AS s JOIN contexts AS c ON c.id = s.context_id;
)sql";

// Version 6: alerts (perf-alerts). An alert is one rule on one step (or health figure) in one
// repository and branch; while it is unresolved the rule firing again bumps it (the partial
// unique index keeps one unresolved alert per key). evaluated_to_us is the start of the
// newest run its rule has judged: a run is judged once, however often the rules run. Every
// transition is a row of alert_events, never deleted. alert_runs keeps the recorded steps
// that made an alert fire (by trace id and step, which every engine shares, with their start,
// duration and status; the newest 100 an alert). notifications is the outbox: one row per
// alert event and channel, sent at most once after it is claimed. health_figures keeps each
// `perf-alerts health` measurement. Views: open_alerts, alert_history, health_trend.
constexpr std::string_view kVersion6 = R"sql(
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  rule TEXT NOT NULL,
  step TEXT NOT NULL,
  repo TEXT NOT NULL DEFAULT '',
  branch TEXT NOT NULL DEFAULT '',
  severity INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 2),
  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),
  summary TEXT NOT NULL,
  value REAL,
  limit_value REAL,
  first_seen_us INTEGER NOT NULL,
  last_seen_us INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 1,
  clear_runs INTEGER NOT NULL DEFAULT 0,
  evaluated_to_us INTEGER NOT NULL DEFAULT 0,
  snoozed_until_us INTEGER,
  acknowledged_by TEXT NOT NULL DEFAULT '',
  resolved_us INTEGER,
  host TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alerts_unresolved ON alerts (rule, step, repo, branch) WHERE state < 3;
CREATE INDEX alerts_by_key ON alerts (rule, step, repo, branch, evaluated_to_us);
CREATE INDEX alerts_by_rank ON alerts (severity DESC, last_seen_us DESC, id DESC)
  WHERE state < 3;

CREATE TABLE alert_events (
  id INTEGER PRIMARY KEY,
  alert_id INTEGER NOT NULL REFERENCES alerts (id),
  at_us INTEGER NOT NULL,
  by TEXT NOT NULL,
  from_state INTEGER,
  to_state INTEGER NOT NULL,
  severity INTEGER NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_events_by_alert ON alert_events (alert_id);

CREATE TABLE alert_runs (
  alert_id INTEGER NOT NULL REFERENCES alerts (id),
  trace_id INTEGER NOT NULL,
  step TEXT NOT NULL,
  started_us INTEGER NOT NULL,
  duration_us INTEGER NOT NULL,
  status INTEGER NOT NULL,
  seen_us INTEGER NOT NULL,
  PRIMARY KEY (alert_id, trace_id, step)
) WITHOUT ROWID;

CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  alert_id INTEGER NOT NULL REFERENCES alerts (id),
  event TEXT NOT NULL,
  channel TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_us INTEGER NOT NULL,
  claimed_until_us INTEGER,
  sent_us INTEGER,
  gave_up INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notifications_pending ON notifications (next_attempt_us)
  WHERE sent_us IS NULL AND NOT gave_up;

CREATE TABLE health_figures (
  repo TEXT NOT NULL,
  name TEXT NOT NULL,
  measured_us INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (repo, name, measured_us)
) WITHOUT ROWID;

CREATE VIEW open_alerts AS
SELECT
  id,
  rule,
  step,
  repo,
  branch,
  CASE severity WHEN 0 THEN 'info' WHEN 1 THEN 'warning' ELSE 'critical' END AS severity,
  CASE WHEN state = 0 THEN 'open' WHEN state = 1 THEN 'acknowledged'
    WHEN snoozed_until_us <= CAST(strftime('%s', 'now') AS INTEGER) * 1000000 THEN 'open'
    ELSE 'snoozed' END AS state,
  summary,
  value,
  limit_value,
  strftime('%Y-%m-%dT%H:%M:%SZ', first_seen_us / 1000000, 'unixepoch') AS first_seen,
  strftime('%Y-%m-%dT%H:%M:%SZ', last_seen_us / 1000000, 'unixepoch') AS last_seen,
  count,
  CASE WHEN snoozed_until_us IS NULL THEN NULL
    ELSE strftime('%Y-%m-%dT%H:%M:%SZ', snoozed_until_us / 1000000, 'unixepoch')
  END AS snoozed_until,
  acknowledged_by,
  host
FROM alerts
WHERE state < 3
ORDER BY alerts.severity DESC, last_seen_us DESC;

CREATE VIEW alert_history AS
SELECT
  e.alert_id AS alert_id,
  strftime('%Y-%m-%dT%H:%M:%SZ', e.at_us / 1000000, 'unixepoch') AS at,
  e.by AS by,
  CASE e.from_state WHEN 0 THEN 'open' WHEN 1 THEN 'acknowledged' WHEN 2 THEN 'snoozed'
    WHEN 3 THEN 'resolved' END AS from_state,
  CASE e.to_state WHEN 0 THEN 'open' WHEN 1 THEN 'acknowledged' WHEN 2 THEN 'snoozed'
    ELSE 'resolved' END AS to_state,
  CASE e.severity WHEN 0 THEN 'info' WHEN 1 THEN 'warning' ELSE 'critical' END AS severity,
  e.note AS note,
  a.rule AS rule,
  a.step AS step,
  a.repo AS repo,
  a.branch AS branch
FROM alert_events AS e JOIN alerts AS a ON a.id = e.alert_id
ORDER BY e.id;

CREATE VIEW health_trend AS
SELECT
  repo,
  name,
  strftime('%Y-%m-%dT%H:%M:%SZ', measured_us / 1000000, 'unixepoch') AS measured_at,
  value
FROM health_figures
ORDER BY repo, name, measured_us;
)sql";

// Version 7: alert_counts, the number of unresolved alerts by repository, severity and state,
// kept by triggers on alerts, so that `perf-alerts check` (a pre-push hook, a CI step) counts
// what blocks without reading every alert. A snooze's expiry depends on the time of the
// question, so snoozed alerts are counted row by row through alerts_snoozed.
constexpr std::string_view kVersion7 = R"sql(
CREATE TABLE alert_counts (
  repo TEXT NOT NULL,
  severity INTEGER NOT NULL,
  state INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (repo, severity, state)
) WITHOUT ROWID;
INSERT INTO alert_counts
  SELECT repo, severity, state, count(*) FROM alerts WHERE state < 3 GROUP BY 1, 2, 3;
CREATE INDEX alerts_snoozed ON alerts (snoozed_until_us) WHERE state = 2;

CREATE TRIGGER alert_counts_insert AFTER INSERT ON alerts WHEN NEW.state < 3 BEGIN
  INSERT INTO alert_counts VALUES (NEW.repo, NEW.severity, NEW.state, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER alert_counts_update AFTER UPDATE OF repo, severity, state ON alerts BEGIN
  UPDATE alert_counts SET n = n - 1
    WHERE OLD.state < 3 AND repo = OLD.repo AND severity = OLD.severity AND state = OLD.state;
  DELETE FROM alert_counts
    WHERE n = 0 AND repo = OLD.repo AND severity = OLD.severity AND state = OLD.state;
  INSERT INTO alert_counts SELECT NEW.repo, NEW.severity, NEW.state, 1 WHERE NEW.state < 3
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER alert_counts_delete AFTER DELETE ON alerts WHEN OLD.state < 3 BEGIN
  UPDATE alert_counts SET n = n - 1
    WHERE repo = OLD.repo AND severity = OLD.severity AND state = OLD.state;
  DELETE FROM alert_counts
    WHERE n = 0 AND repo = OLD.repo AND severity = OLD.severity AND state = OLD.state;
END;
)sql";

// Version 8: pruned_snapshots, the snapshots deleted on purpose (perf-recover prune), so that
// the store's knowledge of snapshots (its rows, and the "snapshot" labels of the steps that
// took them, which stay) agrees with the refs that are left.
constexpr std::string_view kVersion8 = R"sql(
CREATE TABLE pruned_snapshots (
  id TEXT PRIMARY KEY,
  pruned_us INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

constexpr Migration kMigrations[] = {
    {1, kVersion1}, {2, kVersion2}, {3, kVersion3}, {4, kVersion4},
    {5, kVersion5}, {6, kVersion6}, {7, kVersion7}, {8, kVersion8},
};

static_assert(kMigrations[std::size(kMigrations) - 1].to_version == kSchemaVersion,
              "the last migration must produce kSchemaVersion");

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

}  // namespace perfguard::schema
