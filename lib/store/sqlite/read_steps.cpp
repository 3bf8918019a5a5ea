// Reading recorded steps back whole: root span, child spans, labels and context.

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "store/alerts.h"
#include "store/sqlite/heads.h"
#include "store/sqlite/rollups.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sql.h"
#include "store/sqlite/sqlite_store.h"

namespace perfguard {

namespace {

using sql::column_text;
using sql::prepare;
using sql::Statement;

struct SpanRow {
  int seq;
  std::optional<int> parent_seq;
  Span span;
};

// Rebuilds the tree from the depth-first rows. A parent always precedes its children, so
// only rows whose parent has a smaller seq are attached (a damaged row cannot loop).
void attach_children(Span& parent, std::optional<int> parent_seq, std::vector<SpanRow>& rows) {
  for (SpanRow& row : rows) {
    if (row.parent_seq != parent_seq) continue;
    if (parent_seq && row.seq <= *parent_seq) continue;
    Span child = std::move(row.span);
    attach_children(child, row.seq, rows);
    parent.children.push_back(std::move(child));
  }
}

// The steps `where` selects (after "WHERE", with its ORDER BY and LIMIT), whole, each with
// its id, from one read transaction; `bind` binds the parameters `where` names.
Status read_steps(sqlite3* db, const std::filesystem::path& path, const std::string& where,
                  const std::function<void(sqlite3_stmt*)>& bind,
                  const std::function<Status(std::int64_t, StepRecord&)>& visit) {
  constexpr std::string_view kWhat = "cannot read the recorded steps";
  std::string text =
      "SELECT s.id, s.trace_id, s.step, s.started_us, s.duration_us, s.status, s.threshold_us,"
      " s.exit_code, s.head_before, s.head_after, s.cpu_user_us, s.cpu_sys_us, s.max_rss_kb,"
      " s.labels";
  for (const ContextField& field : kContextFields) {
    text += ", c.";
    text += field.name;
  }
  text += " FROM steps AS s JOIN contexts AS c ON c.id = s.context_id WHERE ";
  text += where;

  // One read transaction, so the steps and their spans come from the same snapshot.
  sql::ReadTransaction read(db);
  if (!read.ok()) return sql::error(db, path, kWhat);

  Statement steps = prepare(db, text);
  // A step's spans by their key range, in key order (which is seq order), and the rest of a
  // step with more (schema::kSpansPerStepKey), read only when the range is full.
  Statement spans = prepare(db,
                            "SELECT p.id & 255, p.parent_seq, n.name, p.offset_us, p.duration_us,"
                            " p.exit_code, p.cpu_user_us, p.cpu_sys_us, p.max_rss_kb"
                            " FROM span_rows AS p JOIN names AS n ON n.id = p.name_id"
                            " WHERE p.id BETWEEN ?1 * 256 AND ?1 * 256 + 255 ORDER BY p.id");
  Statement more_spans = prepare(db,
                                 "SELECT p.seq, p.parent_seq, n.name, p.offset_us,"
                                 " p.duration_us, p.exit_code, p.cpu_user_us, p.cpu_sys_us,"
                                 " p.max_rss_kb FROM span_rows_more AS p"
                                 " JOIN names AS n ON n.id = p.name_id WHERE p.step_id = ?1"
                                 " ORDER BY p.seq");
  Statement labels = prepare(db, "SELECT key, value FROM json_each(?1)");
  if (!steps || !spans || !more_spans || !labels) return sql::error(db, path, kWhat);
  bind(steps.get());

  sqlite3_stmt* s = steps.get();
  int rc;
  std::vector<SpanRow> rows;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    StepRecord r;
    std::int64_t id = sqlite3_column_int64(s, 0);
    r.trace_id = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
    r.step = column_text(s, 2);
    r.root.name = r.step;
    r.root.start_us = sqlite3_column_int64(s, 3);
    r.root.duration = Duration::micros(sqlite3_column_int64(s, 4));
    r.status = parse_step_status(column_text(s, 5)).value_or(StepStatus::failed);
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
      r.threshold = Duration::micros(sqlite3_column_int64(s, 6));
    }
    r.exit_code = sqlite3_column_int(s, 7);
    r.head_before = sql::column_head(s, 8);
    r.head_after = sql::column_head(s, 9);
    std::optional<std::int64_t> usage[3];
    for (int i = 0; i < 3; ++i) {
      if (sqlite3_column_type(s, 10 + i) != SQLITE_NULL) usage[i] = sqlite3_column_int64(s, 10 + i);
    }
    for (std::size_t i = 0; i < kContextFields.size(); ++i) {
      r.context.*kContextFields[i].member = column_text(s, 14 + static_cast<int>(i));
    }

    if (sqlite3_column_type(s, 13) != SQLITE_NULL) {
      sqlite3_stmt* l = labels.get();
      sqlite3_reset(l);
      std::string json = column_text(s, 13);
      sql::bind_borrowed_text(l, 1, json);
      while ((rc = sqlite3_step(l)) == SQLITE_ROW) {
        r.labels.emplace_back(column_text(l, 0), column_text(l, 1));
      }
      if (rc != SQLITE_DONE) return sql::error(db, path, kWhat);
    }

    rows.clear();
    for (sqlite3_stmt* p : {spans.get(), more_spans.get()}) {
      if (p == more_spans.get() &&
          (rows.empty() || rows.back().seq != schema::kSpansPerStepKey - 1)) {
        break;  // the range is not full: there are no more
      }
      sqlite3_reset(p);
      sqlite3_bind_int64(p, 1, id);
      while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
        SpanRow row;
        row.seq = sqlite3_column_int(p, 0);
        if (sqlite3_column_type(p, 1) != SQLITE_NULL) row.parent_seq = sqlite3_column_int(p, 1);
        row.span.name = column_text(p, 2);
        row.span.start_us = r.root.start_us + sqlite3_column_int64(p, 3);
        row.span.duration = Duration::micros(sqlite3_column_int64(p, 4));
        if (sqlite3_column_type(p, 5) != SQLITE_NULL) row.span.exit_code = sqlite3_column_int(p, 5);
        row.span.usage = {sqlite3_column_int64(p, 6), sqlite3_column_int64(p, 7),
                          sqlite3_column_int64(p, 8)};
        rows.push_back(std::move(row));
      }
      if (rc != SQLITE_DONE) return sql::error(db, path, kWhat);
    }
    attach_children(r.root, std::nullopt, rows);
    ResourceUsage derived = children_usage(r.root).value_or(ResourceUsage{});
    r.root.usage = {usage[0].value_or(derived.cpu_user_us), usage[1].value_or(derived.cpu_sys_us),
                    usage[2].value_or(derived.max_rss_kb)};
    if (Status visited = visit(id, r); !visited) return visited;
  }
  if (rc != SQLITE_DONE) return sql::error(db, path, kWhat);
  return {};
}

}  // namespace

Result<ContextSelection> SqliteStore::contexts_matching(const RunFilter& filter) {
  if (filter.empty()) return ContextSelection{};
  sqlite3* db = db_;
  const std::filesystem::path& path = path_;
  std::string text = "SELECT id";
  for (const ContextField& field : kContextFields) {
    text += ", ";
    text += field.name;
  }
  text += " FROM contexts";
  Statement read = prepare(db, text);
  if (!read) return sql::error(db, path, "cannot read the recorded steps");
  std::vector<std::pair<std::int64_t, RunContext>> out;
  int rc;
  while ((rc = sqlite3_step(read.get())) == SQLITE_ROW) {
    RunContext context;
    for (std::size_t i = 0; i < kContextFields.size(); ++i) {
      context.*kContextFields[i].member = column_text(read.get(), 1 + static_cast<int>(i));
    }
    out.emplace_back(sqlite3_column_int64(read.get(), 0), std::move(context));
  }
  if (rc != SQLITE_DONE) return sql::error(db, path, "cannot read the recorded steps");
  return select_contexts(filter, out);
}

Status SqliteStore::for_each_step(const StepQuery& query,
                                  const std::function<Status(StepRecord&)>& visit) {
  std::string where = "1";
  auto places = contexts_matching(query.where_ran);
  if (!places) return places.error();
  if (places->none()) return {};
  where += places->condition("s.context_id");
  if (!query.step.empty()) where += " AND s.step = ?1";
  if (query.since_us) where += " AND s.started_us >= ?2";
  if (query.before_us) where += " AND s.started_us < ?3";
  where += query.newest_first
               ? " ORDER BY s.started_us DESC, (s.trace_id < 0) DESC, s.trace_id DESC, s.step DESC"
               : " ORDER BY s.started_us, (s.trace_id < 0), s.trace_id, s.step";
  where += " LIMIT ?4";
  return read_steps(
      db_, path_, where,
      [&](sqlite3_stmt* steps) {
        if (!query.step.empty()) sql::bind_borrowed_text(steps, 1, query.step);
        if (query.since_us) sqlite3_bind_int64(steps, 2, *query.since_us);
        if (query.before_us) sqlite3_bind_int64(steps, 3, *query.before_us);
        sqlite3_bind_int(steps, 4, query.limit > 0 ? query.limit : -1);
      },
      [&](std::int64_t, StepRecord& r) { return visit(r); });
}

Status SqliteStore::for_each_step_after(
    std::int64_t after_id, int limit,
    const std::function<Status(std::int64_t, StepRecord&)>& visit) {
  return read_steps(
      db_, path_, "s.id > ?1 ORDER BY s.id LIMIT ?2",
      [&](sqlite3_stmt* steps) {
        sqlite3_bind_int64(steps, 1, after_id);
        sqlite3_bind_int(steps, 2, limit > 0 ? limit : -1);
      },
      visit);
}

Status SqliteStore::for_each_newest_step(std::int64_t since_us,
                                         const std::function<Status(StepRecord&)>& visit) {
  constexpr std::string_view kWhat = "cannot read the newest steps";
  sql::ReadTransaction tx(db_);
  // The places, as (repository, branch): a handful.
  Statement contexts = prepare(db_, "SELECT id, repo, branch FROM contexts");
  Statement names =
      prepare(db_, "SELECT DISTINCT name_id FROM step_hours WHERE hour >= ?1 ORDER BY name_id");
  Statement hours = prepare(db_,
                            "SELECT hour, first_id, last_id, stale, ids FROM step_hours"
                            " WHERE name_id = ?1 AND hour >= ?2 ORDER BY hour DESC");
  // The hour's steps only: its id ranges may hold other hours' (rollups.h).
  Statement rows = prepare(db_,
                           "SELECT id, started_us, trace_id, context_id FROM step_rows"
                           " WHERE id BETWEEN ?1 AND ?2 AND name_id = ?3 AND started_us >= ?4"
                           " AND started_us / 3600000000 = ?5");
  if (!tx.ok() || !contexts || !names || !hours || !rows) return sql::error(db_, path_, kWhat);
  std::map<std::int64_t, std::size_t> place_of;  // context id -> place
  std::size_t place_count = 0;
  {
    std::map<std::pair<std::string, std::string>, std::size_t> places;
    int rc;
    while ((rc = sqlite3_step(contexts.get())) == SQLITE_ROW) {
      auto [it, added] = places.try_emplace(
          {column_text(contexts.get(), 1), column_text(contexts.get(), 2)}, places.size());
      place_of[sqlite3_column_int64(contexts.get(), 0)] = it->second;
    }
    if (rc != SQLITE_DONE) return sql::error(db_, path_, kWhat);
    place_count = places.size();
  }

  // Name by name, hour by hour, newest first, until every place has its newest run of the
  // name or the hours run out: usually one hour. A place that never ran a name costs a read
  // of that name's whole window, four narrow columns a row (a branch that only commits makes
  // the scan read every rollback since `since_us`), still far less than the steps whole.
  const std::int64_t from_hour = hour_of(std::max<std::int64_t>(since_us, 0));
  sqlite3_bind_int64(names.get(), 1, from_hour);
  sqlite3_bind_int64(rows.get(), 4, since_us);
  std::vector<std::int64_t> ids;
  int rc;
  while ((rc = sqlite3_step(names.get())) == SQLITE_ROW) {
    const std::int64_t name_id = sqlite3_column_int64(names.get(), 0);
    struct Newest {
      RecentRun run;
      std::int64_t id = 0;
    };
    std::vector<std::optional<Newest>> newest(place_count);
    std::size_t found = 0;
    sqlite3_reset(hours.get());
    sqlite3_bind_int64(hours.get(), 1, name_id);
    sqlite3_bind_int64(hours.get(), 2, from_hour);
    int h = SQLITE_DONE;
    while (found < place_count && (h = sqlite3_step(hours.get())) == SQLITE_ROW) {
      IdRanges ranges;
      if (!row_ranges(hours.get(), 1, ranges)) {
        return sql::error(path_, kWhat, "a damaged rollup row");
      }
      const std::int64_t hour = sqlite3_column_int64(hours.get(), 0);
      for (const auto& [first, last] : ranges) {
        sqlite3_reset(rows.get());
        sqlite3_bind_int64(rows.get(), 1, first);
        sqlite3_bind_int64(rows.get(), 2, last);
        sqlite3_bind_int64(rows.get(), 3, name_id);
        sqlite3_bind_int64(rows.get(), 5, hour);
        int r;
        while ((r = sqlite3_step(rows.get())) == SQLITE_ROW) {
          auto place = place_of.find(sqlite3_column_int64(rows.get(), 3));
          if (place == place_of.end()) continue;
          Newest candidate;
          candidate.id = sqlite3_column_int64(rows.get(), 0);
          candidate.run.started_us = sqlite3_column_int64(rows.get(), 1);
          candidate.run.trace_id = static_cast<std::uint64_t>(sqlite3_column_int64(rows.get(), 2));
          std::optional<Newest>& slot = newest[place->second];
          if (!slot) ++found;
          if (!slot || newer(candidate.run, slot->run)) slot = candidate;
        }
        if (r != SQLITE_DONE) return sql::error(db_, path_, kWhat);
      }
    }
    if (found < place_count && h != SQLITE_DONE) return sql::error(db_, path_, kWhat);
    for (const auto& slot : newest) {
      if (slot) ids.push_back(slot->id);
    }
  }
  if (rc != SQLITE_DONE) return sql::error(db_, path_, kWhat);
  if (ids.empty()) return {};

  std::string where = "s.id IN (";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) where += ',';
    where += std::to_string(ids[i]);
  }
  where += ") ORDER BY s.id";
  return read_steps(
      db_, path_, where, [](sqlite3_stmt*) {},
      [&](std::int64_t, StepRecord& r) { return visit(r); });
}

}  // namespace perfguard
