#pragma once
// Internal to lib/exchange: our record JSON (output/record_json.h) back into a StepRecord.

#include <string>
#include <string_view>

#include "core/json_reader.h"
#include "trace/span.h"

namespace perfguard::exchange {

// Reads one record object into `record` (reused: its buffers are kept between calls).
// `source` is the text it came from (the identity of a record without a trace_id);
// `defaults` fills the context fields the object lacks. On failure returns false with
// `problem` naming the field and what it must be.
bool record_from_json(JsonValue object, std::string_view source, const RunContext& defaults,
                      StepRecord& record, std::string& problem);

}  // namespace perfguard::exchange
