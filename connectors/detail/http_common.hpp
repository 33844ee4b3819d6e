#pragma once
// Small pieces the HTTP routes share (http_session.cpp, evidence_routes.cpp).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "connectors/evidence/error.hpp"

namespace shouhou::connectors::detail {

template <class Message>
std::string_view path_of(const Message& req) {
  std::string_view target = req.target();
  return target.substr(0, target.find('?'));
}

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

inline std::string error_body(const evidence::error& e) {
  return dump({{"error", e.message}, {"code", evidence::to_string(e.code)}});
}

inline constexpr std::string_view k_upload_prefix = "/v1/evidence/upload/";
inline constexpr std::string_view k_evidence_prefix = "/v1/evidence/";

}  // namespace shouhou::connectors::detail
