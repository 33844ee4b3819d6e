#pragma once
// One plain HTTP connection: reads requests with a time and size limit, answers the HTTP routes,
// and hands a WebSocket upgrade for /v1/chat to a chat_session.
//
// Evidence routes (docs/protocol.md, "Evidence"):
//   PUT|POST /v1/evidence/upload/{conv}/{item}?exp=&sig=  the header is read first and the
//     signed link checked before any body byte is read; the body then streams in chunks of
//     k_chunk_bytes into blob_uploads (PUT: one raw file; POST: multipart/form-data files), so
//     memory per connection stays flat whatever the size. Every chunk read has its own
//     handshake_timeout deadline: a client that stops sending is cut. A refusal mid-body answers
//     at once and then drains (bounded) before closing, so the client can read the answer.
//     Success (201) only after the rows and the checklist mark are committed.
//   GET /v1/evidence/{id}  with the admin bearer token, or a buyer's signed read link.
//
// Agent desk routes (docs/protocol.md, "Agent desk"): the /v1/agent WebSocket upgrade and
// /v1/cases, with an agent's bearer token (header, or `token` query parameter for browsers).
//
// Everything runs on the connection's strand; blob writes are synchronous there (see
// blob_store.hpp on why that is acceptable for local disks).

#include <openssl/crypto.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>

#include "connectors/detail/server_state.hpp"
#include "connectors/evidence/error.hpp"

namespace shouhou::connectors {

class http_session : public detail::connection, public std::enable_shared_from_this<http_session> {
 public:
  http_session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<detail::server_state> state);
  ~http_session() override;

  using request = boost::beast::http::request<boost::beast::http::string_body>;
  using response = boost::beast::http::response<boost::beast::http::string_body>;

  static constexpr std::size_t k_chunk_bytes = 64 * 1024;

  void run();
  void shutdown() override;

 private:
  struct upload;  // an evidence upload in progress; defined in the .cpp

  void do_read();
  void on_header(boost::beast::error_code ec, std::size_t bytes);
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  response handle(const request& req) const;
  void send(std::shared_ptr<response> res);
  // Writes `res`; `linger`: the request body was not read to its end, so after writing, stop
  // sending, drain what the client still sends (bounded), then close.
  template <class Body>
  void write(std::shared_ptr<boost::beast::http::response<Body>> res, bool linger);
  // The request carries the admin bearer token (compared in constant time).
  template <class Fields>
  bool authorized(const boost::beast::http::header<true, Fields>& req) const;
  void start_reload(unsigned version, bool keep_alive);
  void on_write(bool keep_alive, bool linger, boost::beast::error_code ec, std::size_t bytes);
  void do_close();

  // Evidence.
  void start_upload();
  void do_read_chunk();
  void on_chunk(boost::beast::error_code ec, std::size_t bytes);
  evidence::status feed(std::string_view bytes);
  void finish_upload();
  void on_stored(bot::evidence_result result);
  void fail_upload(const evidence::error& e);
  void serve_evidence(const request& req);
  // Serves a stored file to an agent (metadata removed from photos) or to the buyer of
  // `buyer_conversation`.
  void fetch_evidence(std::string id, bool agent, std::string buyer_conversation, bool head,
                      unsigned version, bool keep_alive);

  // Agent desk (case_routes.cpp): the /v1/agent upgrade and the /v1/cases routes, each after the
  // agent's token is checked.
  void start_agent(request req);
  void serve_cases(const request& req);
  void do_linger();
  void on_linger(boost::beast::error_code ec, std::size_t bytes);
  std::shared_ptr<response> json_response(unsigned status, std::string body, bool keep_alive) const;

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<detail::server_state> state_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> header_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::buffer_body>> body_;
  std::unique_ptr<upload> upload_;
  std::unique_ptr<char[]> chunk_;  // k_chunk_bytes, allocated for the first upload
  std::size_t lingered_ = 0;
  std::shared_ptr<void> pending_;  // the response being written
  bool stopping_ = false;
};

// Member templates used by both http_session.cpp and evidence_routes.cpp.

template <class Body>
void http_session::write(std::shared_ptr<boost::beast::http::response<Body>> res, bool linger) {
  if (linger) res->keep_alive(false);
  bool keep_alive = res->keep_alive() && !stopping_;
  pending_ = res;
  boost::beast::http::async_write(stream_, *res,
                                  [self = shared_from_this(), res, keep_alive, linger](
                                      boost::beast::error_code ec, std::size_t n) {
                                    self->on_write(keep_alive, linger, ec, n);
                                  });
}

template <class Fields>
bool http_session::authorized(const boost::beast::http::header<true, Fields>& req) const {
  const std::string& token = state_->config.admin_token;
  const std::string_view given = req[boost::beast::http::field::authorization];
  const std::string_view scheme = "Bearer ";
  if (token.empty() || !given.starts_with(scheme)) return false;
  const std::string_view presented = given.substr(scheme.size());
  return presented.size() == token.size() &&
         CRYPTO_memcmp(presented.data(), token.data(), token.size()) == 0;
}

}  // namespace shouhou::connectors
