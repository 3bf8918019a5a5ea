// The baselines table of the shared store.

#include <map>
#include <string>
#include <tuple>

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

// The baselines of one update: the active ones read once, under the lock, and each
// activation one statement. Every statement is a round trip, and a computation asks for each
// key's active baseline before it decides.
class PostgresBaselineUpdate final : public BaselineUpdate {
 public:
  PostgresBaselineUpdate(pq::Connection& c, const pq::Rows& active) : c_(c) {
    for (int i = 0; i < active.size(); ++i) {
      Baseline b = read_baseline(active, i);
      active_.insert_or_assign(key_of(b.key), std::move(b));
    }
  }

  Result<std::optional<Baseline>> active(const BaselineKey& key) override {
    auto it = active_.find(key_of(key));
    if (it == active_.end()) return std::optional<Baseline>();
    return std::optional<Baseline>(it->second);
  }

  Result<std::int64_t> activate(const Baseline& b) override {
    const Summary& m = b.summary;
    pq::Params p;
    p.add(b.key.step).add(to_string(b.key.scope)).add(b.key.repo).add(b.key.branch);
    p.add(b.computed_us).add(b.window.us).add(m.n);
    for (double v : {m.min, m.p50, m.p75, m.p90, m.p95, m.p99, m.max, m.mean, m.stddev, m.mad}) {
      p.add(v);
    }
    p.add(b.multiplier).add(b.min_change).add(b.reason).add(b.replaces_id);
    p.add(to_string(m.method));
    // The baseline it replaces goes inactive first (the insert reads the update's count), so
    // that the new one is the key's only active one when the unique index checks it.
    auto id = c_.exec(
        kWriteWhat,
        "WITH replaced AS (UPDATE baselines SET active = false, deactivated_us = $5"
        " WHERE id = $21 RETURNING id)"
        " INSERT INTO baselines (step, scope, repo, branch, active, computed_us, window_us, n,"
        " min_us, p50_us, p75_us, p90_us, p95_us, p99_us, max_us, mean_us, stddev_us, mad_us,"
        " multiplier, min_change, reason, replaces_id, method)"
        " SELECT $1::text, $2::text, $3::text, $4::text, true, $5::bigint, $6::bigint,"
        " $7::bigint, $8::float8, $9::float8, $10::float8, $11::float8, $12::float8,"
        " $13::float8, $14::float8, $15::float8, $16::float8, $17::float8, $18::float8,"
        " $19::float8, $20::text, $21::bigint, $22::text FROM (SELECT count(*) FROM replaced) AS r"
        " RETURNING id",
        p);
    if (!id) return id.error();
    if (b.replaces_id) {
      std::erase_if(active_, [&](const auto& entry) { return entry.second.id == *b.replaces_id; });
    }
    Baseline stored = b;
    stored.id = id->int64(0, 0);
    stored.active = true;
    active_.insert_or_assign(key_of(b.key), stored);
    return stored.id;
  }

 private:
  using Key = std::tuple<std::string, BaselineScope, std::string, std::string>;
  static Key key_of(const BaselineKey& k) { return {k.step, k.scope, k.repo, k.branch}; }

  pq::Connection& c_;
  std::map<Key, Baseline> active_;
};

}  // namespace

Status PostgresStore::update_baselines(const std::function<Status(BaselineUpdate&)>& update) {
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  // One computation at a time, as the SQLite file's write lock makes them: two cannot both
  // replace the same baseline. The active baselines are read once the lock is held; the
  // transaction, the lock and the read are one round trip.
  auto active =
      tx.begin_with(kWriteWhat, "LOCK TABLE baselines IN SHARE ROW EXCLUSIVE MODE; SELECT " +
                                    std::string(kColumns) + " FROM baselines WHERE active");
  if (!active) return active.error();
  PostgresBaselineUpdate baselines(c, *active);
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
