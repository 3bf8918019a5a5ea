// What the alert rules and perf-recover read of the recorded steps in the shared store: a
// step's recent runs in one repository (and branch), and what a repository's newest steps
// say of the commits they left HEAD at.

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "store/postgres/postgres_engine.h"
#include "store/postgres/rollups.h"

namespace perfguard {

namespace {

// As the SQLite engine: a branch with a short history costs no more than a long one.
constexpr std::int64_t kRecentRunsExamined = 2000;

}  // namespace

Result<std::vector<RecentRun>> PostgresStore::recent_runs(const RunQuery& q) {
  constexpr std::string_view kWhat = "cannot read the recent runs";
  std::vector<RecentRun> out;
  if (q.limit <= 0) return out;
  pq::Connection& c = *connection_;
  pq::Params params;
  params.add(q.step).add(q.since_us).add(kRecentRunsExamined).add(q.repo);
  std::string branch;
  if (q.branch) {
    params.add(*q.branch);
    branch = " AND c.branch = $5";
  }
  // The step's newest runs, then those of the place asked for among them.
  auto rows =
      c.exec(kWhat,
             "SELECT r.trace_id, r.started_us, r.duration_us, r.status, r.threshold_us"
             " FROM (SELECT * FROM step_rows WHERE step = $1 AND started_us >= $2"
             " ORDER BY started_us DESC, (trace_id < 0) DESC, trace_id DESC LIMIT $3)"
             " AS r JOIN contexts AS c ON c.id = r.context_id WHERE c.repo = $4" +
                 branch + " ORDER BY r.started_us DESC, (r.trace_id < 0) DESC, r.trace_id DESC",
             params);
  if (!rows) return rows.error();
  for (int i = 0; i < rows->size() && static_cast<int>(out.size()) < q.limit; ++i) {
    RecentRun run;
    run.trace_id = static_cast<std::uint64_t>(rows->int64(i, 0));
    run.started_us = rows->int64(i, 1);
    run.duration_us = rows->int64(i, 2);
    run.status = status_from_code(rows->int64(i, 3));
    run.threshold_us = rows->optional_int64(i, 4);
    out.push_back(run);
  }
  return out;
}

Result<std::vector<HeadVerdict>> PostgresStore::head_verdicts(const std::string& repo) {
  constexpr std::string_view kWhat = "cannot read the recorded commits";
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  if (Status s = tx.begin(kWhat, "ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s) {
    return s.error();
  }
  auto alerted = c.exec(kWhat,
                        "SELECT r.trace_id, r.step FROM alert_runs AS r"
                        " JOIN alerts AS a ON a.id = r.alert_id"
                        " WHERE a.state < 3 AND a.severity = 2 AND a.repo IN ($1, '')",
                        pq::Params().add(repo));
  if (!alerted) return alerted.error();
  std::set<std::pair<std::int64_t, std::string>> alerted_runs;
  for (int i = 0; i < alerted->size(); ++i) {
    alerted_runs.emplace(alerted->int64(i, 0), std::string(alerted->text(i, 1)));
  }
  auto steps = c.exec(kWhat,
                      "SELECT s.trace_id, s.step, s.status, s.started_us, s.head_after"
                      " FROM step_rows AS s"
                      " WHERE s.id > (SELECT coalesce(max(id), 0) FROM step_rows) - $2"
                      " AND s.context_id IN (SELECT id FROM contexts WHERE repo = $1)",
                      pq::Params().add(repo).add(kHeadVerdictsExamined));
  if (!steps) return steps.error();
  std::map<std::string, HeadVerdict> by_head;
  for (int i = 0; i < steps->size(); ++i) {
    std::string head(steps->text(i, 4));
    if (head.empty()) continue;
    HeadVerdict& v = by_head[head];
    v.head = head;
    ++v.runs;
    if (steps->int64(i, 2) != 0) ++v.not_ok;
    v.last_us = std::max(v.last_us, steps->int64(i, 3));
    if (alerted_runs.count({steps->int64(i, 0), std::string(steps->text(i, 1))})) {
      v.alerted = true;
    }
  }
  if (Status s = tx.commit(kWhat); !s) return s.error();
  std::vector<HeadVerdict> out;
  out.reserve(by_head.size());
  for (auto& [head, verdict] : by_head) out.push_back(std::move(verdict));
  return out;
}

}  // namespace perfguard
