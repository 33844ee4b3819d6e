#include "connectors/http_session.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>

#include "connectors/chat_session.hpp"

namespace shouhou::connectors {
namespace {

std::string_view path_of(const http_session::request& req) {
  std::string_view target = req.target();
  return target.substr(0, target.find('?'));
}

}  // namespace

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

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
    // An idle keep-alive connection is closed now; one mid-response closes after writing it.
    if (!self->pending_) self->do_close();
  });
}

void http_session::do_read() {
  parser_.emplace();
  parser_->body_limit(state_->config.max_http_body_bytes);
  stream_.expires_after(state_->config.handshake_timeout);
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
    pending_ = res;
    return http::async_write(stream_, *res,
                             beast::bind_front_handler(&http_session::on_write,
                                                       shared_from_this(), false));
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
    auto res = std::make_shared<response>(http::status::not_found, req.version());
    res->set(http::field::content_type, "application/json");
    res->body() = R"({"error":"no WebSocket endpoint here; buyers connect to /v1/chat"})";
    res->keep_alive(false);
    res->prepare_payload();
    pending_ = res;
    return http::async_write(stream_, *res,
                             beast::bind_front_handler(&http_session::on_write,
                                                       shared_from_this(), false));
  }
  const auto& req = parser_->get();
  if (path_of(req) == "/v1/admin/reload" && req.method() == http::verb::post && authorized(req)) {
    return start_reload(req.version(), req.keep_alive());
  }
  send(std::make_shared<response>(handle(req)));
}

void http_session::send(std::shared_ptr<response> res) {
  bool keep_alive = res->keep_alive() && !stopping_;
  pending_ = res;
  http::async_write(stream_, *res,
                    beast::bind_front_handler(&http_session::on_write, shared_from_this(),
                                              keep_alive));
}

bool http_session::authorized(const request& req) const {
  const std::string& token = state_->config.admin_token;
  const std::string_view given = req[http::field::authorization];
  const std::string_view scheme = "Bearer ";
  if (token.empty() || !given.starts_with(scheme)) return false;
  const std::string_view presented = given.substr(scheme.size());
  return presented.size() == token.size() &&
         CRYPTO_memcmp(presented.data(), token.data(), token.size()) == 0;
}

void http_session::start_reload(unsigned version, bool keep_alive) {
  // Compiling the files takes tens of milliseconds: not on a network thread.
  std::thread([self = shared_from_this(), version, keep_alive] {
    auto loaded = self->state_->knowledge.reload(
        self->state_->config.files(), intents::engine_options{self->state_->config.unsure_below});
    nlohmann::json body;
    auto res = std::make_shared<response>(http::status::ok, version);
    if (loaded.snapshot) {
      spdlog::info("reloaded intent, reply and policy files: version {}",
                   loaded.snapshot->version);
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
                                  {"connections_in_conversations", state_->watched()}}
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

void http_session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  pending_.reset();
  if (ec) {
    spdlog::debug("http: write failed: {}", ec.message());
    return do_close();
  }
  if (!keep_alive || stopping_) return do_close();
  do_read();
}

void http_session::do_close() {
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.close();
}

}  // namespace shouhou::connectors
