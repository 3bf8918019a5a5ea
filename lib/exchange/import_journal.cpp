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
    const std::string name = exchange::display_name(input);
    SnapshotRow snapshot;
    exchange::RecordLineHandlers handlers;
    handlers.keep = [&](const exchange::RecordLine& line) {
      JsonValue store = line.root.is_object() ? line.root["store"] : JsonValue{};
      const bool ours = store.is_string()
                            ? options.journal_store.empty() ||
                                  decode_text(store.as_string()) == options.journal_store
                            : !options.journal_shared;
      if (!ours) sink.other_store(line.text);
      return ours;
    };
    handlers.take = [&](const exchange::RecordLine& line, StepRecord& record) -> Result<bool> {
      if (JsonValue s = line.root["snapshot"]; s.valid()) {
        if (!snapshot_from_json(s, snapshot)) {
          return sink.problem({name, line.number,
                               "\"snapshot\" must be an object with id, commit, head, branch, "
                               "created_us, tool and reason",
                               std::string(line.text)});
        }
        if (Status st = sink.snapshot(snapshot); !st) return st.error();
      }
      if (Status st = sink.record(record); !st) return st.error();
      return true;
    };
    return exchange::read_record_lines(input, options, sink, handlers);
  }
};

}  // namespace

std::unique_ptr<Importer> make_journal_importer() {
  return std::make_unique<JournalImporter>();
}

}  // namespace perfguard
