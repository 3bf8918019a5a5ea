#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/duration.h"

namespace perfguard {

// CPU time and peak memory of a child process, from rusage.
struct ResourceUsage {
  std::int64_t cpu_user_us = 0;
  std::int64_t cpu_sys_us = 0;
  std::int64_t max_rss_kb = 0;
};

// One timed part of a step. Times are microseconds: `start_us` is wall-clock (Unix epoch),
// `duration` comes from the monotonic clock.
struct Span {
  std::string name;
  std::int64_t start_us = 0;
  Duration duration;
  std::optional<int> exit_code;  // of the child process timed, if any
  ResourceUsage usage;
  std::vector<Span> children;
};

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
};

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

// A new random trace id (63 bits, never 0).
std::uint64_t new_trace_id();

}  // namespace perfguard
