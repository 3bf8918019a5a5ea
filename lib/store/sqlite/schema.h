#pragma once
// Internal to the store: the schema, as a list of forward migrations.

#include <cstdint>
#include <span>
#include <string_view>

namespace perfguard::schema {

// Migration `to_version` takes a file at `to_version - 1` to `to_version`. Migration 1
// creates everything. Each runs inside the store's BEGIN IMMEDIATE transaction, followed
// by `PRAGMA user_version = to_version`; the last one's version is kSchemaVersion.
struct Migration {
  int to_version;
  std::string_view sql;
};

std::span<const Migration> migrations();

// A child span's key in span_rows: its step's id and its sequence number in one rowid
// (version 4). A step's spans from kSpansPerStepKey on are in span_rows_more, keyed
// (step_id, seq). The schema's SQL and the engine's statements spell it 256 (and `>> 8`,
// `& 255`).
inline constexpr std::int64_t kSpansPerStepKey = 256;
constexpr std::int64_t span_key(std::int64_t step_id, std::int64_t seq) {
  return step_id * kSpansPerStepKey + seq;
}

}  // namespace perfguard::schema
