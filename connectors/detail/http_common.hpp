#pragma once
// Small pieces the HTTP routes share (http_session.cpp, evidence_routes.cpp).

#include <algorithm>
#include <boost/beast/http/field.hpp>
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

// The value of query parameter `name` in a request target, as sent (not percent-decoded: the
// values the routes take are plain words). Empty when absent.
inline std::string query_value(std::string_view target, std::string_view name) {
  const auto query = target.find('?');
  if (query == std::string_view::npos) return {};
  target.remove_prefix(query + 1);
  while (!target.empty()) {
    const std::string_view pair = target.substr(0, target.find('&'));
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    target.remove_prefix(std::min(target.size(), pair.size() + 1));
  }
  return {};
}

// The bearer token a request presents: the Authorization header's, else the `token` query
// parameter's (browsers cannot set headers on a WebSocket). Empty when none.
template <class Message>
std::string presented_token(const Message& req) {
  constexpr std::string_view scheme = "Bearer ";
  const std::string_view header = req[boost::beast::http::field::authorization];
  if (header.starts_with(scheme)) return std::string(header.substr(scheme.size()));
  return query_value(req.target(), "token");
}

inline constexpr std::string_view k_upload_prefix = "/v1/evidence/upload/";
inline constexpr std::string_view k_evidence_prefix = "/v1/evidence/";

}  // namespace shouhou::connectors::detail
