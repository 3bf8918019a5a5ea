// The baselines table of the shared store.

#include "store/postgres/postgres_engine.h"

namespace perfguard {

namespace {

constexpr std::string_view kColumns =
    "id, step, scope, repo, branch, active, computed_us, window_us, n, min_us, p50_us, p75_us,"
    " p90_us, p95_us, p99_us, max_us, mean_us, stddev_us, mad_us, multiplier, min_change, reason,"
    " replaces_id, method";
constexpr std::string_view kReadWhat = "cannot read the baselines";
constexpr std::string_view kWriteWhat = "cannot store the baselines";

Baseline read_baseline(const pq::Rows& r, int i) {
  Baseline b;
  b.id = r.int64(i, 0);
  b.key.step = r.text(i, 1);
  b.key.scope = parse_baseline_scope(r.text(i, 2)).value_or(BaselineScope::all);
  b.key.repo = r.text(i, 3);
  b.key.branch = r.text(i, 4);
  b.active = r.boolean(i, 5);
  b.computed_us = r.int64(i, 6);
  b.window = Duration::micros(r.int64(i, 7));
  Summary& m = b.summary;
  m.n = r.int64(i, 8);
  double* fields[] = {&m.min, &m.p50, &m.p75,  &m.p90,    &m.p95,
                      &m.p99, &m.max, &m.mean, &m.stddev, &m.mad};
  for (int f = 0; f < 10; ++f) *fields[f] = r.real(i, 9 + f);
  b.multiplier = r.real(i, 19);
  b.min_change = r.real(i, 20);
  b.reason = r.text(i, 21);
  b.replaces_id = r.optional_int64(i, 22);
  m.method = parse_summary_method(r.text(i, 23)).value_or(SummaryMethod::exact);
  return b;
}

class PostgresBaselineUpdate final : public BaselineUpdate {
 public:
  explicit PostgresBaselineUpdate(pq::Connection& c) : c_(c) {}

  Result<std::optional<Baseline>> active(const BaselineKey& key) override {
    auto rows =
        c_.exec(kReadWhat,
                "SELECT " + std::string(kColumns) +
                    " FROM baselines WHERE active AND step = $1 AND scope = $2"
                    " AND repo = $3 AND branch = $4",
                pq::Params().add(key.step).add(to_string(key.scope)).add(key.repo).add(key.branch));
    if (!rows) return rows.error();
    if (rows->size() == 0) return std::optional<Baseline>();
    return std::optional<Baseline>(read_baseline(*rows, 0));
  }

  Result<std::int64_t> activate(const Baseline& b) override {
    if (b.replaces_id) {
      auto off = c_.exec(kWriteWhat,
                         "UPDATE baselines SET active = false, deactivated_us = $2 WHERE id = $1",
                         pq::Params().add(*b.replaces_id).add(b.computed_us));
      if (!off) return off.error();
    }
    const Summary& m = b.summary;
    pq::Params p;
    p.add(b.key.step).add(to_string(b.key.scope)).add(b.key.repo).add(b.key.branch);
    p.add(b.computed_us).add(b.window.us).add(m.n);
    for (double v : {m.min, m.p50, m.p75, m.p90, m.p95, m.p99, m.max, m.mean, m.stddev, m.mad}) {
      p.add(v);
    }
    p.add(b.multiplier).add(b.min_change).add(b.reason).add(b.replaces_id);
    p.add(to_string(m.method));
    auto id = c_.exec(
        kWriteWhat,
        "INSERT INTO baselines (step, scope, repo, branch, active, computed_us, window_us, n,"
        " min_us, p50_us, p75_us, p90_us, p95_us, p99_us, max_us, mean_us, stddev_us, mad_us,"
        " multiplier, min_change, reason, replaces_id, method) VALUES ($1, $2, $3, $4, true, $5,"
        " $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        " RETURNING id",
        p);
    if (!id) return id.error();
    return id->int64(0, 0);
  }

 private:
  pq::Connection& c_;
};

}  // namespace

Status PostgresStore::update_baselines(const std::function<Status(BaselineUpdate&)>& update) {
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  if (Status s = tx.begin(kWriteWhat); !s) return s;
  // One computation at a time, as the SQLite file's write lock makes them: two cannot both
  // replace the same baseline.
  if (auto locked = c.exec(kWriteWhat, "LOCK TABLE baselines IN SHARE ROW EXCLUSIVE MODE");
      !locked) {
    return locked.error();
  }
  PostgresBaselineUpdate baselines(c);
  if (Status s = update(baselines); !s) return s;
  return tx.commit(kWriteWhat);
}

Result<std::vector<Baseline>> PostgresStore::active_baselines(const std::string& step) {
  auto rows = connection_->exec(kReadWhat,
                                "SELECT " + std::string(kColumns) +
                                    " FROM baselines WHERE active AND ($1 = '' OR step = $1)"
                                    " ORDER BY step COLLATE \"C\", scope COLLATE \"C\","
                                    " repo COLLATE \"C\", branch COLLATE \"C\"",
                                pq::Params().add(step));
  if (!rows) return rows.error();
  std::vector<Baseline> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(read_baseline(*rows, i));
  return out;
}

}  // namespace perfguard
