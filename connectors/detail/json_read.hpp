#pragma once
// Reading fields of a parsed JSON object (simdjson DOM) into strings, with the checks every frame
// and request body needs: a wrong type, an empty required field and an over-long value each
// become a frame_error naming the field.

#include <simdjson.h>

#include <cstddef>
#include <optional>
#include <string>

#include "connectors/protocol.hpp"

namespace shouhou::connectors::detail {

// Reads an optional string field into `out`. Returns an error when present but not a string,
// when longer than `max_bytes`, or when required and absent or empty.
std::optional<frame_error> read_string(simdjson::dom::object& obj, const char* name, bool required,
                                       std::size_t max_bytes, std::string& out);

// Message ids may be strings or integers: widgets commonly count messages.
std::optional<frame_error> read_id(simdjson::dom::object& obj, std::size_t max_bytes,
                                   std::string& out);

}  // namespace shouhou::connectors::detail
