// Reading recorded steps back whole from the shared store: root span, child spans, labels
// and context.

#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/json_reader.h"
#include "core/text_encoding.h"
#include "store/postgres/postgres_engine.h"
#include "store/postgres/rollups.h"

namespace perfguard {

namespace {

constexpr std::string_view kWhat = "cannot read the recorded steps";
// Steps read a batch at a time, with one query for the batch's spans.
constexpr int kStepsPerBatch = 2000;

struct SpanRow {
  int seq;
  std::optional<int> parent_seq;
  Span span;
};

// Rebuilds the tree from the depth-first rows (as the SQLite engine does).
void attach_children(Span& parent, std::optional<int> parent_seq, std::vector<SpanRow>& rows) {
  for (SpanRow& row : rows) {
    if (row.parent_seq != parent_seq) continue;
    if (parent_seq && row.seq <= *parent_seq) continue;
    Span child = std::move(row.span);
    attach_children(child, row.seq, rows);
    parent.children.push_back(std::move(child));
  }
}

// The labels column's JSON (write.cpp), each key and value decoded.
void read_labels(std::string_view json, Labels& labels) {
  JsonDocument doc;
  if (doc.parse(json)) return;
  for (const auto& [key, value] : doc.root().members()) {
    labels.emplace_back(decode_text(key),
                        decode_text(value.is_string() ? value.as_string() : value.raw_number()));
  }
}

// The columns of a whole step, from step_rows AS s JOIN contexts AS c.
std::string select_steps() {
  std::string text =
      "SELECT s.id, s.trace_id, s.step, s.started_us, s.duration_us, s.status, s.threshold_us,"
      " s.exit_code, s.head_before, s.head_after, s.cpu_user_us, s.cpu_sys_us, s.max_rss_kb,"
      " s.labels";
  for (const ContextField& field : kContextFields) {
    text += ", c.\"";
    text += field.name;
    text += "\"";
  }
  return text + " FROM step_rows AS s JOIN contexts AS c ON c.id = s.context_id";
}

// The steps `text` (select_steps() and its conditions) selects, whole, a batch at a time.
Status read_steps(pq::Connection& c, const std::string& text, const pq::Params& params,
                  const std::function<Status(StepRecord&)>& visit) {
  std::vector<StepRecord> records;
  std::vector<std::int64_t> ids;
  std::unordered_map<std::int64_t, std::vector<SpanRow>> spans;
  return c.for_each_batch(
      kWhat, text, params,
      [&](const pq::Rows& r) -> Status {
        records.clear();
        ids.clear();
        spans.clear();
        for (int i = 0; i < r.size(); ++i) {
          StepRecord rec;
          ids.push_back(r.int64(i, 0));
          rec.trace_id = static_cast<std::uint64_t>(r.int64(i, 1));
          rec.step = r.text(i, 2);
          rec.root.name = rec.step;
          rec.root.start_us = r.int64(i, 3);
          rec.root.duration = Duration::micros(r.int64(i, 4));
          rec.status = status_from_code(r.int64(i, 5));
          if (auto t = r.optional_int64(i, 6)) rec.threshold = Duration::micros(*t);
          rec.exit_code = static_cast<int>(r.int64(i, 7));
          rec.head_before = r.text(i, 8);
          rec.head_after = r.text(i, 9);
          rec.root.usage = {r.int64(i, 10), r.int64(i, 11), r.int64(i, 12)};
          if (!r.null(i, 13)) read_labels(r.encoded(i, 13), rec.labels);
          for (std::size_t f = 0; f < kContextFields.size(); ++f) {
            rec.context.*kContextFields[f].member = r.text(i, 14 + static_cast<int>(f));
          }
          records.push_back(std::move(rec));
        }
        auto rows = c.exec(kWhat,
                           "SELECT step_id, seq, parent_seq, name, offset_us, duration_us,"
                           " exit_code, cpu_user_us, cpu_sys_us, max_rss_kb FROM span_rows"
                           " WHERE step_id = ANY($1::bigint[]) ORDER BY step_id, seq",
                           pq::Params().add_array(ids));
        if (!rows) return rows.error();
        for (int i = 0; i < rows->size(); ++i) {
          SpanRow row;
          row.seq = static_cast<int>(rows->int64(i, 1));
          if (auto p = rows->optional_int64(i, 2)) row.parent_seq = static_cast<int>(*p);
          row.span.name = rows->text(i, 3);
          row.span.start_us = rows->int64(i, 4);  // the offset, until its step is known
          row.span.duration = Duration::micros(rows->int64(i, 5));
          if (auto code = rows->optional_int64(i, 6)) row.span.exit_code = static_cast<int>(*code);
          row.span.usage = {rows->int64(i, 7), rows->int64(i, 8), rows->int64(i, 9)};
          spans[rows->int64(i, 0)].push_back(std::move(row));
        }
        for (std::size_t i = 0; i < records.size(); ++i) {
          StepRecord& rec = records[i];
          if (auto it = spans.find(ids[i]); it != spans.end()) {
            for (SpanRow& row : it->second) row.span.start_us += rec.root.start_us;
            attach_children(rec.root, std::nullopt, it->second);
          }
          if (Status s = visit(rec); !s) return s;
        }
        return {};
      },
      kStepsPerBatch);
}

}  // namespace

Result<ContextSelection> PostgresStore::contexts_matching(const RunFilter& filter) {
  if (filter.empty()) return ContextSelection{};
  pq::Connection& c = *connection_;
  std::string text = "SELECT id";
  for (const ContextField& field : kContextFields) {
    text += ", \"";
    text += field.name;
    text += "\"";
  }
  text += " FROM contexts";
  auto rows = c.exec(kWhat, text);
  if (!rows) return rows.error();
  std::vector<std::pair<std::int64_t, RunContext>> out;
  for (int i = 0; i < rows->size(); ++i) {
    RunContext context;
    for (std::size_t f = 0; f < kContextFields.size(); ++f) {
      context.*kContextFields[f].member = rows->text(i, 1 + static_cast<int>(f));
    }
    out.emplace_back(rows->int64(i, 0), std::move(context));
  }
  return select_contexts(filter, out);
}

Status PostgresStore::for_each_step(const StepQuery& query,
                                    const std::function<Status(StepRecord&)>& visit) {
  pq::Connection& c = *connection_;
  // One snapshot for the contexts, the steps and their spans.
  pq::Transaction tx(c);
  if (Status s = tx.begin(kWhat, "ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s) return s;
  std::string text = select_steps() + " WHERE true";
  pq::Params params;
  int n = 0;
  auto places = contexts_matching(query.where_ran);
  if (!places) return places.error();
  if (places->none()) return {};
  text += places->condition("s.context_id");
  if (!query.step.empty()) {
    text += " AND s.step = $" + std::to_string(++n);
    params.add(query.step);
  }
  if (query.since_us) {
    text += " AND s.started_us >= $" + std::to_string(++n);
    params.add(*query.since_us);
  }
  if (query.before_us) {
    text += " AND s.started_us < $" + std::to_string(++n);
    params.add(*query.before_us);
  }
  text += query.newest_first
              ? " ORDER BY s.started_us DESC, (s.trace_id < 0) DESC, s.trace_id DESC, s.step DESC"
              : " ORDER BY s.started_us, (s.trace_id < 0), s.trace_id, s.step";
  if (query.limit > 0) {
    text += " LIMIT $" + std::to_string(++n);
    params.add(query.limit);
  }

  if (Status read = read_steps(c, text, params, visit); !read) return read;
  return tx.commit(kWhat);
}

Status PostgresStore::for_each_newest_step(std::int64_t since_us,
                                           const std::function<Status(StepRecord&)>& visit) {
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  if (Status s = tx.begin(kWhat, "ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s) return s;
  // In the order of alerts.h's `newer`.
  const std::string text =
      select_steps() +
      " WHERE s.id IN (SELECT DISTINCT ON (n.step, nc.repo, nc.branch) n.id"
      " FROM step_rows AS n JOIN contexts AS nc ON nc.id = n.context_id WHERE n.started_us >= $1"
      " ORDER BY n.step, nc.repo, nc.branch, n.started_us DESC, (n.trace_id < 0) DESC,"
      " n.trace_id DESC) ORDER BY s.id";
  if (Status read = read_steps(c, text, pq::Params().add(since_us), visit); !read) return read;
  return tx.commit(kWhat);
}

}  // namespace perfguard
