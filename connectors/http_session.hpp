#pragma once
// One plain HTTP connection: reads requests with a time and size limit, answers the HTTP routes,
// and hands a WebSocket upgrade for /v1/chat to a chat_session.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>

#include "connectors/detail/server_state.hpp"

namespace shouhou::connectors {

class http_session : public detail::connection,
                     public std::enable_shared_from_this<http_session> {
 public:
  http_session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<detail::server_state> state);
  ~http_session() override;

  using request = boost::beast::http::request<boost::beast::http::string_body>;
  using response = boost::beast::http::response<boost::beast::http::string_body>;

  void run();
  void shutdown() override;

 private:

  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  response handle(const request& req) const;
  void send(std::shared_ptr<response> res);
  // The request carries the admin bearer token (compared in constant time).
  bool authorized(const request& req) const;
  void start_reload(unsigned version, bool keep_alive);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void do_close();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<detail::server_state> state_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<response> pending_;
  bool stopping_ = false;
};

}  // namespace shouhou::connectors
