// The journal (store/journal.h): our record JSON, one object per line, as `--format jsonl`,
// with two members of its own. "snapshot" carries the row of the snapshot a rollback took;
// "store" (only in the shared fallback journal) names the store the record was meant for:
// a line meant for another store is handed back to the sink as it is, to be left in place.
#include <string>

#include "core/json_reader.h"
#include "core/text_encoding.h"
#include "exchange/exchange.h"
#include "exchange/input.h"
#include "exchange/record_reader.h"
#include "store/store.h"

namespace perfguard {

namespace {

// The snapshot member's row; false when a field is missing or of the wrong type.
bool snapshot_from_json(JsonValue object, SnapshotRow& row) {
  if (!object.is_object()) return false;
  auto text = [&](const char* key, std::string& out) {
    JsonValue v = object[key];
    if (!v.is_string()) return false;
    out = decode_text(v.as_string());
    return true;
  };
  JsonValue created = object["created_us"];
  if (!created.is_number() || !created.as_int64()) return false;
  row.created_us = *created.as_int64();
  return text("id", row.id) && !row.id.empty() && text("commit", row.commit) &&
         text("head", row.head) && text("branch", row.branch) && text("tool", row.tool) &&
         text("reason", row.reason);
}

class JournalImporter : public Importer {
 public:
  Status read(const std::filesystem::path& input, const ImportOptions& options,
              ImportSink& sink) override {
    exchange::LineReader reader;
    if (Status s = reader.open(input); !s) return s;
    const std::string name = exchange::display_name(input);
    JsonDocument doc;
    StepRecord record;
    SnapshotRow snapshot;
    std::string problem;
    std::string_view line;
    while (reader.next(line)) {
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank
      if (auto error = doc.parse(line)) {
        if (!sink.problem({name, reader.line_number(),
                           "column " + std::to_string(error->column) + ": " + error->message,
                           std::string(line)})) {
          break;
        }
        continue;
      }
      JsonValue store = doc.root().is_object() ? doc.root()["store"] : JsonValue{};
      const bool ours = store.is_string()
                            ? options.journal_store.empty() ||
                                  decode_text(store.as_string()) == options.journal_store
                            : !options.journal_shared;
      if (!ours) {
        sink.other_store(line);
        continue;
      }
      if (!exchange::record_from_json(doc.root(), line, options.context, record, problem)) {
        if (!sink.problem({name, reader.line_number(), problem, std::string(line)})) break;
        continue;
      }
      if (auto bad_number = exchange::out_of_bounds(record)) {
        if (!sink.problem({name, reader.line_number(), *bad_number, std::string(line)})) break;
        continue;
      }
      if (JsonValue s = doc.root()["snapshot"]; s.valid()) {
        if (!snapshot_from_json(s, snapshot)) {
          if (!sink.problem({name, reader.line_number(),
                             "\"snapshot\" must be an object with id, commit, head, branch, "
                             "created_us, tool and reason",
                             std::string(line)})) {
            break;
          }
          continue;
        }
        if (Status st = sink.snapshot(snapshot); !st) return st;
      }
      if (Status s = sink.record(record); !s) return s;
    }
    return reader.status();
  }
};

}  // namespace

std::unique_ptr<Importer> make_journal_importer() {
  return std::make_unique<JournalImporter>();
}

}  // namespace perfguard
