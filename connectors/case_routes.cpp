// The agent desk's routes on the HTTP connection: the /v1/agent WebSocket upgrade and the
// /v1/cases API for integrations. Both check the agent's token first (a store lookup, so
// asynchronous), then hand over to the desk.

#include <spdlog/spdlog.h>

#include <algorithm>

#include <boost/asio/post.hpp>

#include "connectors/agent_protocol.hpp"
#include "connectors/agent_session.hpp"
#include "connectors/detail/http_common.hpp"
#include "connectors/http_session.hpp"

namespace shouhou::connectors {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using detail::dump;
using detail::path_of;

namespace {

constexpr std::string_view k_cases = "/v1/cases";

// POST /v1/cases/{id}/{action}: the request type each action names.
std::string request_type(std::string_view action) {
  if (action == "claim" || action == "release" || action == "transfer" || action == "resolve" ||
      action == "request_evidence") {
    return std::string(action);
  }
  if (action == "messages") return "message";
  return {};
}

// "open,claimed" -> the statuses; a word that is not one is an error.
bool split_statuses(std::string_view list, std::vector<std::string>& out) {
  while (!list.empty()) {
    const std::string_view word = list.substr(0, list.find(','));
    if (word != "open" && word != "claimed" && word != "resolved") return false;
    out.emplace_back(word);
    list.remove_prefix(std::min(list.size(), word.size() + 1));
  }
  return true;
}

}  // namespace

void http_session::start_agent(request req) {
  const std::string token = detail::presented_token(req);
  auto shared_req = std::make_shared<request>(std::move(req));
  state_->authenticate_agent(token, [self = shared_from_this(), shared_req,
                                     token](std::optional<std::string> agent) {
    net::post(self->stream_.get_executor(), [self, shared_req, token, agent = std::move(agent)] {
      if (!agent) {
        auto res = self->json_response(
            401,
            dump({{"error",
                   "the agent desk needs an agent's token (Authorization: Bearer, "
                   "or ?token=)"}}),
            false);
        res->set(http::field::www_authenticate, "Bearer");
        res->version(shared_req->version());
        return self->send(res);
      }
      std::make_shared<agent_session>(std::move(self->stream_), self->state_, *agent, token)
          ->run(std::move(*shared_req));
    });
  });
}

void http_session::serve_cases(const request& req) {
  const bool keep_alive = req.keep_alive();
  auto answer = [self = shared_from_this(), keep_alive](unsigned status, std::string body) {
    auto res = self->json_response(status, std::move(body), keep_alive);
    if (status == 401) res->set(http::field::www_authenticate, "Bearer");
    self->send(res);
  };
  auto refuse = [&](unsigned status, std::string code, std::string message) {
    answer(status, dump({{"error", std::move(message)}, {"code", std::move(code)}}));
  };

  // Work out what is asked before the token is looked up: a malformed request is 400 either way.
  const std::string_view path = path_of(req);
  std::string_view rest = path.substr(k_cases.size());
  agent_request r;
  if (rest.empty() || rest == "/") {
    if (req.method() != http::verb::get) return refuse(405, "method_not_allowed", "use GET");
    r.type = "queue";
    if (!split_statuses(detail::query_value(req.target(), "status"), r.statuses)) {
      return refuse(400, "invalid_request",
                    "status must be open, claimed or resolved (comma-separated)");
    }
    r.priority = detail::query_value(req.target(), "priority");
    if (const std::string limit = detail::query_value(req.target(), "limit"); !limit.empty()) {
      const bool digits = limit.size() <= 4 && std::all_of(limit.begin(), limit.end(), [](char c) {
                            return c >= '0' && c <= '9';
                          });
      const std::size_t n = digits ? std::stoul(limit) : 0;
      if (n < 1 || n > bot::k_queue_page_max) {
        return refuse(
            400, "invalid_request",
            "limit must be a whole number from 1 to " + std::to_string(bot::k_queue_page_max));
      }
      r.limit = n;
    }
    if (!r.priority.empty() && r.priority != "urgent" && r.priority != "high" &&
        r.priority != "normal") {
      return refuse(400, "invalid_request", "priority must be urgent, high or normal");
    }
  } else {
    rest.remove_prefix(1);  // the '/'
    const std::string_view id = rest.substr(0, rest.find('/'));
    const std::string_view action =
        id.size() < rest.size() ? rest.substr(id.size() + 1) : std::string_view();
    if (id.empty() || id.size() > state_->limits.max_id_bytes) {
      return refuse(404, "unknown_case", "no such case");
    }
    if (action.empty()) {
      if (req.method() != http::verb::get) return refuse(405, "method_not_allowed", "use GET");
      r.type = "view";
      r.case_id = std::string(id);
    } else {
      const std::string type = request_type(action);
      if (type.empty()) return refuse(404, "not_found", "not found");
      if (req.method() != http::verb::post) return refuse(405, "method_not_allowed", "use POST");
      agent_parse parsed = parse_case_body(type, std::string(id), req.body(), state_->limits);
      if (auto* e = std::get_if<frame_error>(&parsed)) return refuse(400, e->code, e->message);
      r = std::move(std::get<agent_request>(parsed));
    }
  }

  const std::string token = detail::presented_token(req);
  if (token.empty()) return refuse(401, "unauthorized", "an agent's bearer token is required");
  state_->authenticate_agent(token, [self = shared_from_this(), answer,
                                     r = std::move(r)](std::optional<std::string> agent) mutable {
    if (!agent) {
      return net::post(self->stream_.get_executor(), [answer]() mutable {
        answer(401, dump({{"error", "that token is not valid"}, {"code", "unauthorized"}}));
      });
    }
    perform(self->state_->desk.desk, std::move(r), *agent,
            [self, answer](bot::desk_result result, nlohmann::json body) mutable {
              net::post(self->stream_.get_executor(), [self, answer, result = std::move(result),
                                                       body = std::move(body)]() mutable {
                if (result.what != bot::desk_result::outcome::ok) {
                  if (result.what == bot::desk_result::outcome::failed) {
                    spdlog::error("cases: {}", result.error);
                  }
                  return answer(http_status(result.what),
                                dump({{"error", result.error},
                                      {"code", std::string(error_code(result.what))}}));
                }
                nlohmann::json out = {{"ok", true}, {"duplicate", result.duplicate}};
                if (body.is_array()) {
                  out["queue"] = std::move(body);
                  out["total"] = result.total;
                } else if (body.is_object()) {
                  out["case"] = std::move(body);
                } else if (result.record) {
                  out["case"] = self->state_->summary(*result.record);
                }
                answer(200, dump(out));
                self->state_->announce(result);
              });
            });
  });
}

}  // namespace shouhou::connectors
