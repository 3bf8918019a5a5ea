// `hyperfine --export-json` output: every run in a result's times[] becomes one step
// record (a root span without children), named after the command or --step, with the
// command (and any --parameter-scan values) as labels and the run's exit code.
//
// hyperfine does not record when a run started. The runs are laid end to end, in the
// file's order, ending at the file's modification time (for stdin: the time of the import),
// so importing the same file again adds nothing; the ids come from the file's content, the
// result and the run.
#include <sys/stat.h>

#include <cmath>
#include <limits>

#include "core/json_reader.h"
#include "exchange/exchange.h"
#include "exchange/input.h"

namespace perfguard {

namespace {

class HyperfineImporter : public Importer {
 public:
  Status read(const std::filesystem::path& input, const ImportOptions& options,
              ImportSink& sink) override {
    auto text = exchange::read_input(input);
    if (!text) return text.error();
    const std::string name = exchange::display_name(input);
    std::int64_t end_us = options.now_us;
    struct stat st;
    if (input != "-" && ::stat(input.c_str(), &st) == 0) {
      end_us = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000 + st.st_mtim.tv_nsec / 1000;
    }

    JsonDocument doc;
    if (auto error = doc.parse(*text)) {
      sink.problem({name,
                    error->line,
                    "column " + std::to_string(error->column) + ": " + error->message,
                    {}});
      return {};
    }
    auto problem = [&](JsonValue at, std::string message) {
      std::size_t line = exchange::line_at(*text, at.offset());
      return sink.problem({name, line, std::move(message), {}});
    };
    JsonValue results = doc.root().find("results");
    if (!results.is_array()) {
      problem(doc.root(), "expected an object with a \"results\" array (hyperfine --export-json)");
      return {};
    }

    // Check every result first: the runs' times are laid out over all of them.
    std::vector<JsonValue> good;
    std::int64_t total_us = 0;
    for (JsonValue result : results.items()) {
      std::string message;
      JsonValue where = result;
      if (!check(result, message, where)) {
        if (!problem(where, message)) return {};
        continue;
      }
      for (JsonValue t : result["times"].items()) total_us += to_us(t.as_double());
      good.push_back(result);
    }

    const std::string document_id = std::to_string(stable_trace_id(*text));
    std::int64_t cursor = end_us - total_us;
    StepRecord r;
    for (std::size_t i = 0; i < good.size(); ++i) {
      JsonValue result = good[i];
      const std::string command(result["command"].as_string());
      JsonValue codes = result["exit_codes"];
      std::vector<JsonValue> code_values;
      for (JsonValue c : codes.items()) code_values.push_back(c);
      std::size_t run = 0;
      for (JsonValue t : result["times"].items()) {
        r = StepRecord{};
        r.trace_id = stable_trace_id(document_id + ":" + std::to_string(i) + ":" +
                                     std::to_string(run) + ":" + command);
        r.step = options.step.empty() ? command : options.step;
        r.root.name = r.step;
        r.root.start_us = cursor;
        r.root.duration = Duration::micros(to_us(t.as_double()));
        cursor += r.root.duration.us;
        if (run < code_values.size()) {
          // null: killed by a signal
          auto code = code_values[run].as_int64();
          r.exit_code = code ? static_cast<int>(*code) : 1;
        }
        r.status = r.exit_code == 0 ? StepStatus::ok : StepStatus::failed;
        r.context = options.context;
        r.context.tool = "hyperfine";
        r.context.tool_version.clear();
        r.labels.emplace_back("command", command);
        for (auto [key, value] : result["parameters"].members()) {
          r.labels.emplace_back(
              "parameter." + std::string(key),
              value.is_string() ? std::string(value.as_string()) : std::string(value.raw_number()));
        }
        if (auto bad_number = exchange::out_of_bounds(r)) {
          if (!problem(t, "run " + std::to_string(run + 1) + " of \"" + command +
                              "\": " + *bad_number)) {
            return {};
          }
        } else if (Status s = sink.record(r); !s) {
          return s;
        }
        ++run;
      }
    }
    return {};
  }

 private:
  static std::int64_t to_us(double seconds) { return std::llround(seconds * 1e6); }

  static bool check(JsonValue result, std::string& message, JsonValue& where) {
    if (!result.is_object()) {
      message = "expected a result object in \"results\"";
      return false;
    }
    JsonValue command = result["command"];
    if (!command.is_string() || command.as_string().empty()) {
      message = "a result needs a \"command\" string";
      return false;
    }
    JsonValue times = result["times"];
    if (!times.is_array()) {
      message = "result \"" + std::string(command.as_string()) +
                "\" has no \"times\" array (hyperfine 1.3 or later writes one)";
      return false;
    }
    for (JsonValue t : times.items()) {
      if (!t.is_number() || t.as_double() < 0 || t.as_double() > 1e9) {
        where = t;
        message = "\"times\" must hold run times in seconds, 0 or more";
        return false;
      }
    }
    JsonValue codes = result["exit_codes"];
    if (codes && !codes.is_null()) {
      if (!codes.is_array() || codes.size() != times.size()) {
        where = codes;
        message = "\"exit_codes\" must be an array as long as \"times\"";
        return false;
      }
      for (JsonValue c : codes.items()) {
        auto v = c.as_int64();
        if (!c.is_null() &&
            (!v || *v < std::numeric_limits<int>::min() || *v > std::numeric_limits<int>::max())) {
          where = c;
          message = "\"exit_codes\" must hold integers (or null)";
          return false;
        }
      }
    }
    JsonValue parameters = result["parameters"];
    if (parameters && !parameters.is_null()) {
      if (!parameters.is_object()) {
        where = parameters;
        message = "\"parameters\" must be an object";
        return false;
      }
      for (auto [key, value] : parameters.members()) {
        if (!value.is_string() && !value.is_number()) {
          where = value;
          message = "parameter \"" + std::string(key) + "\" must be a string or a number";
          return false;
        }
      }
    }
    return true;
  }
};

}  // namespace

std::unique_ptr<Importer> make_hyperfine_importer() {
  return std::make_unique<HyperfineImporter>();
}

}  // namespace perfguard
