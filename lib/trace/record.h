#pragma once
// The record of one step: what every tool appends to the store and every exporter, importer
// and query reads. Its context fields are listed once, in kContextFields, for every place
// that stores, reads or writes them one by one.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/duration.h"
#include "trace/span.h"

namespace perfguard {

// In this order: the store keeps a status as its number (see store/sqlite/rollups.h).
enum class StepStatus { ok, breach, failed, timeout, interrupted };

const char* to_string(StepStatus status);
std::optional<StepStatus> parse_step_status(std::string_view text);

// Where and by whom a step ran: attached to every record.
struct RunContext {
  std::string repo;    // absolute path of the work tree
  std::string branch;  // short name; empty when detached or unborn
  std::string host;
  std::string user;
  std::string ci_provider;  // github, gitlab, jenkins, buildkite, ci; empty outside CI
  std::string ci_job;       // the provider's job id, when it has one
  std::string tool;         // perf-commit, perf-rollback, …
  std::string tool_version;
  std::string git_version;  // "2.39.5"

  friend bool operator==(const RunContext&, const RunContext&) = default;
};

// A context field: its name in the store, the machine formats and the exports, and its
// member. In this order in the store's contexts table and every export.
struct ContextField {
  std::string_view name;
  std::string RunContext::*member;
};

inline constexpr std::array<ContextField, 9> kContextFields{{
    {"repo", &RunContext::repo},
    {"branch", &RunContext::branch},
    {"host", &RunContext::host},
    {"user", &RunContext::user},
    {"ci_provider", &RunContext::ci_provider},
    {"ci_job", &RunContext::ci_job},
    {"tool", &RunContext::tool},
    {"tool_version", &RunContext::tool_version},
    {"git_version", &RunContext::git_version},
}};

// Where the record formats (jsonl, csv, the result tables) put a record's two heads among its
// context fields: before kContextFields[kHeadsBeforeContextField], that is after repo and
// branch: repo, branch, head_before, head_after, host, user, …
inline constexpr std::size_t kHeadsBeforeContextField = 2;

using Labels = std::vector<std::pair<std::string, std::string>>;

// The result of one step (commit, rollback, validate, recover): its root span plus
// everything a later query needs. One invocation shares one trace id across its steps.
struct StepRecord {
  std::uint64_t trace_id = 0;  // random, 63 bits; (trace_id, step) is unique
  std::string step;            // commit, rollback, validate, recover
  Span root;                   // root.name == step
  StepStatus status = StepStatus::ok;
  std::optional<Duration> threshold;
  int exit_code = 0;        // the tool's exit code for this step
  std::string head_before;  // 40 hex, empty when unborn
  std::string head_after;
  RunContext context;
  Labels labels;  // -k key=value, plus tool facts (snapshot, target, error)
};

// What the step timer makes a step's usage: its children's CPU times added up and the largest
// of their peak memories. None when the span has no children.
std::optional<ResourceUsage> children_usage(const Span& span);

// A new random trace id (63 bits, never 0).
std::uint64_t new_trace_id();

}  // namespace perfguard
