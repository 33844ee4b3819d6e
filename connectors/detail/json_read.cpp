#include "connectors/detail/json_read.hpp"

namespace shouhou::connectors::detail {

std::optional<frame_error> read_string(simdjson::dom::object& obj, const char* name, bool required,
                                       std::size_t max_bytes, std::string& out) {
  simdjson::dom::element value;
  if (obj[name].get(value) != simdjson::SUCCESS) {
    if (!required) return std::nullopt;
    return frame_error{"missing_field", std::string("field \"") + name + "\" is required", {}};
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return frame_error{"wrong_type", std::string("field \"") + name + "\" must be a string", {}};
  }
  if (required && text.empty()) {
    return frame_error{
        "missing_field", std::string("field \"") + name + "\" must not be empty", {}};
  }
  if (text.size() > max_bytes) {
    return frame_error{"field_too_long",
                       std::string("field \"") + name + "\" is longer than " +
                           std::to_string(max_bytes) + " bytes",
                       {}};
  }
  out.assign(text);
  return std::nullopt;
}

std::optional<frame_error> read_id(simdjson::dom::object& obj, std::size_t max_bytes,
                                   std::string& out) {
  simdjson::dom::element value;
  if (obj["id"].get(value) != simdjson::SUCCESS) {
    return frame_error{"missing_field", "field \"id\" is required", {}};
  }
  int64_t number = 0;
  if (value.get_int64().get(number) == simdjson::SUCCESS) {
    out = std::to_string(number);
    return std::nullopt;
  }
  return read_string(obj, "id", true, max_bytes, out);
}

}  // namespace shouhou::connectors::detail
