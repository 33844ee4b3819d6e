#include "connectors/http_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>

#include "connectors/chat_session.hpp"

namespace shouhou::connectors {

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
  auto res = std::make_shared<response>(handle(parser_->get()));
  bool keep_alive = res->keep_alive() && !stopping_;
  pending_ = res;
  http::async_write(stream_, *res,
                    beast::bind_front_handler(&http_session::on_write, shared_from_this(),
                                              keep_alive));
}

http_session::response http_session::handle(const request& req) const {
  response res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "shouhou");
  res.set(http::field::content_type, "application/json");
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));
  if (target == "/healthz") {
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
