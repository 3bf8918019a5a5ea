#include "store/postgres/schema.h"

#include "store/store.h"

namespace perfguard::pgschema {

namespace {

// The shared store's schema, version 8 as the SQLite file's (store/sqlite/schema.cpp), with
// tables made for PostgreSQL and the same public views: the same names, the same columns in
// the same order, the same meaning (ISO-8601 UTC text, milliseconds as double precision,
// percentile_cont, which PostgreSQL has itself). Text is ordered byte by byte (COLLATE "C"),
// as SQLite orders it, whatever the database's locale.
//  - step_rows holds a step with its context's id; a step is the same step when its trace,
//    step name and start agree (the unique index step_rows_identity, which also serves every
//    read of one step's time range). HEADs are the recorded text; usage is stored as it is.
//  - span_rows holds child spans keyed (step_id, seq); deleting steps deletes their spans.
//  - step_hours holds the per-step, per-hour rollups (the SQLite file's, without the id
//    lists): counts by status and, of the completed steps, the sum, m2, min, max and the
//    histogram (stats/histogram.h). The hours of a window, every step's, are read through
//    the index on hour. Writers rebuild the hours they add to before they commit, under an
//    advisory lock per hour. Steps inserted, changed or deleted by other means mark their
//    hours in stale_hours (the triggers below); readers read those hours from the steps until
//    a writer or catch_up rebuilds them.
//  - The alerts, their events and runs, the outbox and the health figures are the SQLite
//    file's tables; changes to them are ordered by an advisory lock (postgres/alert_rows.h)
//    as the file's write lock orders them.
constexpr std::string_view kVersion8 = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE contexts (
  id BIGSERIAL PRIMARY KEY,
  repo TEXT NOT NULL DEFAULT '',
  branch TEXT NOT NULL DEFAULT '',
  host TEXT NOT NULL DEFAULT '',
  "user" TEXT NOT NULL DEFAULT '',
  ci_provider TEXT NOT NULL DEFAULT '',
  ci_job TEXT NOT NULL DEFAULT '',
  tool TEXT NOT NULL DEFAULT '',
  tool_version TEXT NOT NULL DEFAULT '',
  git_version TEXT NOT NULL DEFAULT '',
  UNIQUE (repo, branch, host, "user", ci_provider, ci_job, tool, tool_version, git_version)
);

CREATE TABLE step_rows (
  id BIGSERIAL PRIMARY KEY,
  trace_id BIGINT NOT NULL,
  step TEXT COLLATE "C" NOT NULL,
  started_us BIGINT NOT NULL,
  duration_us BIGINT NOT NULL,
  status SMALLINT NOT NULL CHECK (status BETWEEN 0 AND 4),
  threshold_us BIGINT,
  exit_code INTEGER NOT NULL,
  context_id BIGINT NOT NULL,
  head_before TEXT NOT NULL DEFAULT '',
  head_after TEXT NOT NULL DEFAULT '',
  cpu_user_us BIGINT NOT NULL DEFAULT 0,
  cpu_sys_us BIGINT NOT NULL DEFAULT 0,
  max_rss_kb BIGINT NOT NULL DEFAULT 0,
  labels TEXT
);
CREATE UNIQUE INDEX step_rows_identity ON step_rows (step, started_us, trace_id);

CREATE TABLE span_rows (
  step_id BIGINT NOT NULL,
  seq INTEGER NOT NULL,
  parent_seq INTEGER,
  name TEXT NOT NULL,
  offset_us BIGINT NOT NULL,
  duration_us BIGINT NOT NULL,
  exit_code INTEGER,
  cpu_user_us BIGINT,
  cpu_sys_us BIGINT,
  max_rss_kb BIGINT,
  PRIMARY KEY (step_id, seq)
);

CREATE TABLE step_hours (
  step TEXT COLLATE "C" NOT NULL,
  hour BIGINT NOT NULL,
  n_ok BIGINT NOT NULL DEFAULT 0,
  n_breach BIGINT NOT NULL DEFAULT 0,
  n_failed BIGINT NOT NULL DEFAULT 0,
  n_timeout BIGINT NOT NULL DEFAULT 0,
  n_interrupted BIGINT NOT NULL DEFAULT 0,
  sum_us BIGINT,
  m2 DOUBLE PRECISION,
  min_us BIGINT,
  max_us BIGINT,
  histogram BYTEA,
  PRIMARY KEY (step, hour)
);

CREATE INDEX step_hours_by_hour ON step_hours (hour);

CREATE TABLE stale_hours (
  step TEXT COLLATE "C" NOT NULL,
  hour BIGINT NOT NULL,
  PRIMARY KEY (step, hour)
);

-- Steps changed by anything but a writer (which sets perfguard.rollups to 'kept' and
-- rebuilds its hours itself) mark their hours stale; deleted steps take their spans along.
CREATE FUNCTION perfguard_steps_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('perfguard.rollups', true), '') <> 'kept' THEN
    INSERT INTO stale_hours SELECT DISTINCT step, started_us / 3600000000 FROM new_rows
      ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION perfguard_steps_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM span_rows WHERE step_id IN (SELECT id FROM old_rows);
  IF coalesce(current_setting('perfguard.rollups', true), '') <> 'kept' THEN
    INSERT INTO stale_hours SELECT DISTINCT step, started_us / 3600000000 FROM old_rows
      ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION perfguard_steps_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stale_hours
    SELECT step, started_us / 3600000000 FROM old_rows
    UNION SELECT step, started_us / 3600000000 FROM new_rows
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER step_rows_inserted AFTER INSERT ON step_rows
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION perfguard_steps_inserted();
CREATE TRIGGER step_rows_deleted AFTER DELETE ON step_rows
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION perfguard_steps_deleted();
CREATE TRIGGER step_rows_updated AFTER UPDATE ON step_rows
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION perfguard_steps_updated();

CREATE TABLE snapshots (
  id TEXT PRIMARY KEY,
  commit_id TEXT NOT NULL,
  head TEXT NOT NULL,
  branch TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  tool TEXT NOT NULL,
  reason TEXT NOT NULL
);

CREATE TABLE pruned_snapshots (
  id TEXT PRIMARY KEY,
  pruned_us BIGINT NOT NULL
);

CREATE TABLE baselines (
  id BIGSERIAL PRIMARY KEY,
  step TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('all', 'repo', 'branch')),
  repo TEXT NOT NULL DEFAULT '',
  branch TEXT NOT NULL DEFAULT '',
  active BOOLEAN NOT NULL DEFAULT true,
  computed_us BIGINT NOT NULL,
  window_us BIGINT NOT NULL,
  n BIGINT NOT NULL,
  min_us DOUBLE PRECISION,
  p50_us DOUBLE PRECISION,
  p75_us DOUBLE PRECISION,
  p90_us DOUBLE PRECISION,
  p95_us DOUBLE PRECISION,
  p99_us DOUBLE PRECISION,
  max_us DOUBLE PRECISION,
  mean_us DOUBLE PRECISION,
  stddev_us DOUBLE PRECISION,
  mad_us DOUBLE PRECISION,
  multiplier DOUBLE PRECISION NOT NULL,
  min_change DOUBLE PRECISION NOT NULL,
  reason TEXT NOT NULL,
  replaces_id BIGINT REFERENCES baselines (id),
  deactivated_us BIGINT,
  method TEXT NOT NULL DEFAULT 'exact' CHECK (method IN ('exact', 'histogram'))
);
CREATE UNIQUE INDEX baselines_one_active ON baselines (step, scope, repo, branch) WHERE active;

CREATE TABLE alerts (
  id BIGSERIAL PRIMARY KEY,
  rule TEXT NOT NULL,
  step TEXT NOT NULL,
  repo TEXT NOT NULL DEFAULT '',
  branch TEXT NOT NULL DEFAULT '',
  severity SMALLINT NOT NULL CHECK (severity BETWEEN 0 AND 2),
  state SMALLINT NOT NULL CHECK (state BETWEEN 0 AND 3),
  summary TEXT NOT NULL,
  value DOUBLE PRECISION,
  limit_value DOUBLE PRECISION,
  first_seen_us BIGINT NOT NULL,
  last_seen_us BIGINT NOT NULL,
  count BIGINT NOT NULL DEFAULT 1,
  clear_runs BIGINT NOT NULL DEFAULT 0,
  evaluated_to_us BIGINT NOT NULL DEFAULT 0,
  snoozed_until_us BIGINT,
  acknowledged_by TEXT NOT NULL DEFAULT '',
  resolved_us BIGINT,
  host TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alerts_unresolved ON alerts (rule, step, repo, branch) WHERE state < 3;

CREATE TABLE alert_events (
  id BIGSERIAL PRIMARY KEY,
  alert_id BIGINT NOT NULL REFERENCES alerts (id),
  at_us BIGINT NOT NULL,
  "by" TEXT NOT NULL,
  from_state SMALLINT,
  to_state SMALLINT NOT NULL,
  severity SMALLINT NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_events_by_alert ON alert_events (alert_id);

CREATE TABLE alert_runs (
  alert_id BIGINT NOT NULL REFERENCES alerts (id),
  trace_id BIGINT NOT NULL,
  step TEXT NOT NULL,
  started_us BIGINT NOT NULL,
  duration_us BIGINT NOT NULL,
  status SMALLINT NOT NULL,
  seen_us BIGINT NOT NULL,
  PRIMARY KEY (alert_id, trace_id, step)
);

CREATE TABLE notifications (
  id BIGSERIAL PRIMARY KEY,
  alert_id BIGINT NOT NULL REFERENCES alerts (id),
  event TEXT NOT NULL,
  channel TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_us BIGINT NOT NULL,
  claimed_until_us BIGINT,
  sent_us BIGINT,
  gave_up BOOLEAN NOT NULL DEFAULT false,
  last_error TEXT NOT NULL DEFAULT ''
);

CREATE TABLE health_figures (
  repo TEXT NOT NULL,
  name TEXT NOT NULL,
  measured_us BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (repo, name, measured_us)
);

-- The views' building blocks: SQLite's strftime and printf forms, and the status names.
CREATE FUNCTION perfguard_time(us BIGINT) RETURNS TEXT LANGUAGE sql STABLE AS $$
  SELECT to_char(to_timestamp((us / 1000000)::double precision) AT TIME ZONE 'UTC',
    'YYYY-MM-DD"T"HH24:MI:SS') || '.' || lpad((us % 1000000)::text, 6, '0') || 'Z' $$;
CREATE FUNCTION perfguard_seconds(us BIGINT) RETURNS TEXT LANGUAGE sql STABLE AS $$
  SELECT to_char(to_timestamp((us / 1000000)::double precision) AT TIME ZONE 'UTC',
    'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
CREATE FUNCTION perfguard_day(us BIGINT) RETURNS TEXT LANGUAGE sql STABLE AS $$
  SELECT to_char(to_timestamp((us / 1000000)::double precision) AT TIME ZONE 'UTC',
    'YYYY-MM-DD') $$;
CREATE FUNCTION perfguard_status(code SMALLINT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE code WHEN 0 THEN 'ok' WHEN 1 THEN 'breach' WHEN 2 THEN 'failed'
    WHEN 3 THEN 'timeout' ELSE 'interrupted' END $$;
CREATE FUNCTION perfguard_trace(id BIGINT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
  SELECT lpad(to_hex(id), 16, '0') $$;
CREATE FUNCTION perfguard_now_us() RETURNS BIGINT LANGUAGE sql STABLE AS $$
  SELECT floor(extract(epoch FROM now()))::bigint * 1000000 $$;

CREATE VIEW steps AS
SELECT
  s.id AS id,
  s.trace_id AS trace_id,
  s.step AS step,
  s.started_us AS started_us,
  s.duration_us AS duration_us,
  perfguard_status(s.status) AS status,
  s.threshold_us AS threshold_us,
  s.exit_code AS exit_code,
  s.context_id AS context_id,
  nullif(s.head_before, '') AS head_before,
  nullif(s.head_after, '') AS head_after,
  s.cpu_user_us AS cpu_user_us,
  s.cpu_sys_us AS cpu_sys_us,
  s.max_rss_kb AS max_rss_kb,
  s.labels AS labels
FROM step_rows AS s;

CREATE VIEW spans AS
SELECT
  p.step_id AS step_id,
  p.seq AS seq,
  p.parent_seq AS parent_seq,
  p.name AS name,
  p.offset_us AS offset_us,
  p.duration_us AS duration_us,
  p.exit_code AS exit_code,
  p.cpu_user_us AS cpu_user_us,
  p.cpu_sys_us AS cpu_sys_us,
  p.max_rss_kb AS max_rss_kb
FROM span_rows AS p;

CREATE VIEW step_results AS
SELECT
  s.id AS id,
  perfguard_trace(s.trace_id) AS trace_id,
  s.step AS step,
  perfguard_time(s.started_us) AS started_at,
  s.started_us AS started_us,
  s.duration_us / 1000.0::double precision AS duration_ms,
  s.duration_us AS duration_us,
  s.threshold_us / 1000.0::double precision AS threshold_ms,
  perfguard_status(s.status) AS status,
  s.exit_code AS exit_code,
  c.repo AS repo,
  c.branch AS branch,
  s.head_before AS head_before,
  s.head_after AS head_after,
  c.host AS host,
  c."user" AS "user",
  c.ci_provider AS ci_provider,
  c.ci_job AS ci_job,
  c.tool AS tool,
  c.tool_version AS tool_version,
  c.git_version AS git_version,
  s.cpu_user_us / 1000.0::double precision AS cpu_user_ms,
  s.cpu_sys_us / 1000.0::double precision AS cpu_sys_ms,
  s.max_rss_kb AS max_rss_kb,
  coalesce(s.labels, '{}') AS labels
FROM step_rows AS s JOIN contexts AS c ON c.id = s.context_id;

CREATE VIEW child_spans AS
SELECT
  s.id AS step_id,
  perfguard_trace(s.trace_id) AS trace_id,
  s.step AS step,
  p.seq AS seq,
  p.parent_seq AS parent_seq,
  p.name AS name,
  p.offset_us / 1000.0::double precision AS offset_ms,
  p.duration_us / 1000.0::double precision AS duration_ms,
  p.exit_code AS exit_code,
  p.cpu_user_us / 1000.0::double precision AS cpu_user_ms,
  p.cpu_sys_us / 1000.0::double precision AS cpu_sys_ms,
  p.max_rss_kb AS max_rss_kb
FROM span_rows AS p JOIN step_rows AS s ON s.id = p.step_id;

CREATE VIEW step_summary AS
SELECT
  step,
  count(*) AS n,
  count(*) FILTER (WHERE status = 0) AS ok,
  count(*) FILTER (WHERE status = 1) AS breaches,
  count(*) FILTER (WHERE status = 2) AS failures,
  count(*) FILTER (WHERE status = 3) AS timeouts,
  count(*) FILTER (WHERE status = 4) AS interrupted,
  avg(duration_us::double precision) FILTER (WHERE status <= 1) / 1000.0::double precision
    AS mean_ms,
  min(duration_us) FILTER (WHERE status <= 1) / 1000.0::double precision AS min_ms,
  percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_us) FILTER (WHERE status <= 1)
    / 1000.0::double precision AS p50_ms,
  percentile_cont(0.75) WITHIN GROUP (ORDER BY duration_us) FILTER (WHERE status <= 1)
    / 1000.0::double precision AS p75_ms,
  percentile_cont(0.90) WITHIN GROUP (ORDER BY duration_us) FILTER (WHERE status <= 1)
    / 1000.0::double precision AS p90_ms,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_us) FILTER (WHERE status <= 1)
    / 1000.0::double precision AS p95_ms,
  percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_us) FILTER (WHERE status <= 1)
    / 1000.0::double precision AS p99_ms,
  max(duration_us) FILTER (WHERE status <= 1) / 1000.0::double precision AS max_ms,
  perfguard_time(max(started_us)) AS last_at
FROM step_rows
GROUP BY step
ORDER BY step COLLATE "C";

CREATE VIEW daily_trend AS
SELECT
  step,
  perfguard_day(started_us) AS day,
  count(*) AS n,
  avg(duration_us::double precision) FILTER (WHERE status <= 1) / 1000.0::double precision
    AS mean_ms,
  percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_us) FILTER (WHERE status <= 1)
    / 1000.0::double precision AS p50_ms,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_us) FILTER (WHERE status <= 1)
    / 1000.0::double precision AS p95_ms,
  max(duration_us) FILTER (WHERE status <= 1) / 1000.0::double precision AS max_ms,
  count(*) FILTER (WHERE status = 1) AS breaches,
  count(*) FILTER (WHERE status = 2) AS failures,
  count(*) FILTER (WHERE status = 3) AS timeouts
FROM step_rows
GROUP BY step, perfguard_day(started_us)
ORDER BY step COLLATE "C", 2;

CREATE VIEW slowest_recent AS
SELECT
  s.id AS id,
  perfguard_trace(s.trace_id) AS trace_id,
  s.step AS step,
  c.repo AS repo,
  c.branch AS branch,
  perfguard_status(s.status) AS status,
  perfguard_time(s.started_us) AS started_at,
  s.duration_us / 1000.0::double precision AS duration_ms,
  s.threshold_us / 1000.0::double precision AS threshold_ms
FROM step_rows AS s JOIN contexts AS c ON c.id = s.context_id
WHERE s.started_us >= perfguard_now_us() - 7 * 86400 * 1000000::bigint
ORDER BY s.duration_us DESC, s.started_us DESC;

CREATE VIEW active_baselines AS
SELECT
  id,
  step,
  scope,
  repo,
  branch,
  perfguard_time(computed_us) AS computed_at,
  window_us / 1000.0::double precision AS window_ms,
  n,
  min_us / 1000.0::double precision AS min_ms,
  p50_us / 1000.0::double precision AS p50_ms,
  p75_us / 1000.0::double precision AS p75_ms,
  p90_us / 1000.0::double precision AS p90_ms,
  p95_us / 1000.0::double precision AS p95_ms,
  p99_us / 1000.0::double precision AS p99_ms,
  max_us / 1000.0::double precision AS max_ms,
  mean_us / 1000.0::double precision AS mean_ms,
  stddev_us / 1000.0::double precision AS stddev_ms,
  mad_us / 1000.0::double precision AS mad_ms,
  multiplier,
  reason,
  method
FROM baselines
WHERE active
ORDER BY step COLLATE "C", scope COLLATE "C", repo COLLATE "C", branch COLLATE "C";

CREATE VIEW open_alerts AS
SELECT
  id,
  rule,
  step,
  repo,
  branch,
  CASE severity WHEN 0 THEN 'info' WHEN 1 THEN 'warning' ELSE 'critical' END AS severity,
  CASE WHEN state = 0 THEN 'open' WHEN state = 1 THEN 'acknowledged'
    WHEN snoozed_until_us <= perfguard_now_us() THEN 'open'
    ELSE 'snoozed' END AS state,
  summary,
  value,
  limit_value,
  perfguard_seconds(first_seen_us) AS first_seen,
  perfguard_seconds(last_seen_us) AS last_seen,
  count,
  CASE WHEN snoozed_until_us IS NULL THEN NULL
    ELSE perfguard_seconds(snoozed_until_us) END AS snoozed_until,
  acknowledged_by,
  host
FROM alerts
WHERE state < 3
ORDER BY alerts.severity DESC, last_seen_us DESC, id DESC;

CREATE VIEW alert_history AS
SELECT
  e.alert_id AS alert_id,
  perfguard_seconds(e.at_us) AS at,
  e."by" AS "by",
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
  perfguard_seconds(measured_us) AS measured_at,
  value
FROM health_figures
ORDER BY repo COLLATE "C", name COLLATE "C", measured_us;
)sql";

constexpr Migration kMigrations[] = {
    {8, kVersion8},
};

static_assert(kMigrations[std::size(kMigrations) - 1].to_version == kSchemaVersion,
              "the last migration must produce kSchemaVersion");

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

}  // namespace perfguard::pgschema
