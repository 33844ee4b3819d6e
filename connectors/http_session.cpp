#include "connectors/http_session.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>

#include "connectors/chat_session.hpp"
#include "connectors/detail/http_common.hpp"
#include "connectors/detail/upload_state.hpp"

namespace shouhou::connectors {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using detail::k_evidence_prefix;
using detail::k_upload_prefix;
using detail::path_of;

http_session::http_session(net::ip::tcp::socket&& socket,
                           std::shared_ptr<detail::server_state> state)
    : stream_(std::move(socket)), state_(std::move(state)) {}

http_session::~http_session() { state_->remove(this); }

void http_session::run() {
  if (!state_->add(shared_from_this())) return;
  net::dispatch(stream_.get_executor(),
                beast::bind_front_handler(&http_session::do_read, shared_from_this()));
}

void http_session::shutdown() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    // An idle keep-alive connection is closed now; one mid-response or mid-upload closes after
    // answering it.
    if (!self->pending_ && !self->upload_) self->do_close();
  });
}

void http_session::do_read() {
  header_.emplace();
  // The header decides the body's limit: uploads stream far more than other routes may send.
  // Not boost::none: Beast 1.74 compares the length with the optional, and any value is
  // greater than none, so "no limit" refuses every body.
  header_->body_limit(std::numeric_limits<std::uint64_t>::max());
  stream_.expires_after(state_->config.handshake_timeout);
  http::async_read_header(stream_, buffer_, *header_,
                          beast::bind_front_handler(&http_session::on_header, shared_from_this()));
}

void http_session::on_header(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == net::error::operation_aborted) return do_close();
  if (ec) {
    spdlog::debug("http: reading a header failed: {}", ec.message());
    return do_close();
  }
  if (path_of(header_->get()).starts_with(k_upload_prefix)) return start_upload();
  const auto length = header_->content_length();
  if (length && *length > state_->config.max_http_body_bytes) {
    return on_read(http::error::body_limit, 0);
  }
  parser_.emplace(std::move(*header_));
  header_.reset();
  parser_->body_limit(state_->config.max_http_body_bytes);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == net::error::operation_aborted) return do_close();
  if (ec == http::error::body_limit) {
    auto res = std::make_shared<response>(http::status::payload_too_large, 11);
    res->set(http::field::content_type, "application/json");
    res->body() = R"({"error":"request body is larger than the limit"})";
    res->keep_alive(false);
    res->prepare_payload();
    return write(res, true);
  }
  if (ec) {
    spdlog::debug("http: read failed: {}", ec.message());
    return do_close();
  }
  if (beast::websocket::is_upgrade(parser_->get())) {
    auto req = parser_->release();
    if (req.target() == "/v1/chat" || req.target().starts_with("/v1/chat?")) {
      std::make_shared<chat_session>(std::move(stream_), state_)->run(std::move(req));
      return;
    }
    if (path_of(req) == "/v1/agent") return start_agent(std::move(req));
    auto res = std::make_shared<response>(http::status::not_found, req.version());
    res->set(http::field::content_type, "application/json");
    res->body() =
        R"({"error":"no WebSocket endpoint here; buyers connect to /v1/chat, agents to /v1/agent"})";
    res->keep_alive(false);
    res->prepare_payload();
    return write(res, false);
  }
  const auto& req = parser_->get();
  if (path_of(req) == "/v1/admin/reload" && req.method() == http::verb::post && authorized(req)) {
    return start_reload(req.version(), req.keep_alive());
  }
  if (path_of(req) == "/v1/cases" || path_of(req).starts_with("/v1/cases/")) {
    return serve_cases(req);
  }
  if (path_of(req).starts_with(k_evidence_prefix) &&
      (req.method() == http::verb::get || req.method() == http::verb::head)) {
    return serve_evidence(req);
  }
  send(std::make_shared<response>(handle(req)));
}

void http_session::send(std::shared_ptr<response> res) { write(std::move(res), false); }

void http_session::start_reload(unsigned version, bool keep_alive) {
  // Compiling the files takes tens of milliseconds: not on a network thread.
  std::thread([self = shared_from_this(), version, keep_alive] {
    auto loaded = self->state_->knowledge.reload(
        self->state_->config.files(),
        intents::engine_options{.unsure_below = self->state_->config.unsure_below});
    nlohmann::json body;
    auto res = std::make_shared<response>(http::status::ok, version);
    if (loaded.snapshot) {
      spdlog::info("reloaded intent, reply and policy files: version {}", loaded.snapshot->version);
      body = {{"ok", true}, {"version", loaded.snapshot->version}};
    } else {
      spdlog::warn("reload refused, still serving version {}:\n{}",
                   self->state_->knowledge.current()->version, intents::to_string(loaded.errors));
      nlohmann::json errors = nlohmann::json::array();
      for (const auto& e : loaded.errors) {
        errors.push_back(
            {{"file", e.file}, {"line", e.line}, {"column", e.column}, {"message", e.message}});
      }
      res->result(http::status::unprocessable_entity);
      body = {{"ok", false},
              {"version", self->state_->knowledge.current()->version},
              {"errors", std::move(errors)}};
    }
    res->set(http::field::server, "shouhou");
    res->set(http::field::content_type, "application/json");
    res->keep_alive(keep_alive);
    res->body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    res->prepare_payload();
    net::post(self->stream_.get_executor(), [self, res] { self->send(res); });
  }).detach();
}

http_session::response http_session::handle(const request& req) const {
  response res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "shouhou");
  res.set(http::field::content_type, "application/json");
  const std::string_view target = path_of(req);
  if (target.starts_with("/v1/admin/")) {
    if (!authorized(req)) {
      res.result(http::status::unauthorized);
      res.set(http::field::www_authenticate, "Bearer");
      res.body() = R"({"error":"an admin bearer token is required"})";
    } else if (target == "/v1/admin/status" && req.method() == http::verb::get) {
      res.result(http::status::ok);
      res.body() = nlohmann::json{{"version", state_->knowledge.current()->version},
                                  {"connections_in_conversations", state_->watched()},
                                  {"agents_connected", state_->agents_connected()}}
                       .dump();
    } else if (target == "/v1/admin/reload") {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "POST");
      res.body() = R"({"error":"use POST"})";
    } else {
      res.result(http::status::not_found);
      res.body() = R"({"error":"not found"})";
    }
  } else if (target == "/healthz") {
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
      res.body() = R"({"error":"use GET"})";
    } else {
      res.result(http::status::ok);
      res.body() = R"({"status":"ok","version":")" + state_->knowledge.current()->version + "\"}";
    }
  } else {
    res.result(http::status::not_found);
    res.body() = R"({"error":"not found"})";
  }
  res.prepare_payload();
  return res;
}

void http_session::on_write(bool keep_alive, bool linger, beast::error_code ec, std::size_t) {
  pending_.reset();
  if (ec) {
    spdlog::debug("http: write failed: {}", ec.message());
    return do_close();
  }
  if (linger) return do_linger();
  if (!keep_alive || stopping_) return do_close();
  do_read();
}

std::shared_ptr<http_session::response> http_session::json_response(unsigned status,
                                                                    std::string body,
                                                                    bool keep_alive) const {
  auto res = std::make_shared<response>(static_cast<http::status>(status), 11);
  res->set(http::field::server, "shouhou");
  res->set(http::field::content_type, "application/json");
  res->keep_alive(keep_alive);
  res->body() = std::move(body);
  res->prepare_payload();
  return res;
}

void http_session::do_close() {
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.close();
}

}  // namespace shouhou::connectors
