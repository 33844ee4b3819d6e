// The yardstick for turn_load: a WebSocket server that does nothing but send each frame back,
// built the way Beast's asynchronous examples build one (a listener, one session per connection
// on its own strand, read then write the same buffer), with the same Beast and the same socket
// setting (TCP_NODELAY) as shouhou serve. What a turn of shouhou costs beyond this is the cost of
// the bot itself: parsing, classifying, the store and its commit, the reply.
//
//   echo_server PORT [--threads T]      PORT 0 picks a free port
//
// Listens on 127.0.0.1 only and prints `listening on ws://127.0.0.1:PORT` once it does. Stops
// on SIGINT or SIGTERM.

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

// Errors a busy echo server meets in normal life (a client gone, our own shutdown) are not news.
void fail(beast::error_code ec, const char* what) {
  if (ec == net::error::operation_aborted || ec == websocket::error::closed ||
      ec == net::error::eof || ec == net::error::connection_reset || ec == beast::error::timeout) {
    return;
  }
  std::fprintf(stderr, "echo_server: %s: %s\n", what, ec.message().c_str());
}

// One client connection. Every completion handler holds the session alive; the session ends
// when a read or write fails and no handler is left.
class echo_session : public std::enable_shared_from_this<echo_session> {
 public:
  explicit echo_session(tcp::socket&& socket) : ws_(std::move(socket)) {}

  // Starts on the session's strand, so the handshake runs where every later handler will.
  void run() {
    net::dispatch(ws_.get_executor(),
                  beast::bind_front_handler(&echo_session::on_run, shared_from_this()));
  }

 private:
  void on_run() {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(beast::http::field::server, "shouhou-bench-echo");
    }));
    ws_.read_message_max(64 * 1024);  // as shouhou's --max-frame-bytes default
    ws_.async_accept(beast::bind_front_handler(&echo_session::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec) {
    if (ec) return fail(ec, "accept");
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&echo_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "read");
    // The echo goes back as the kind of frame that came in.
    ws_.text(ws_.got_text());
    ws_.async_write(buffer_.data(),
                    beast::bind_front_handler(&echo_session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "write");
    buffer_.consume(buffer_.size());
    do_read();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
};

// Accepts connections and gives each its own strand and session.
class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& ioc, tcp::endpoint at, beast::error_code& ec)
      : ioc_(ioc), acceptor_(net::make_strand(ioc)), retry_(ioc) {
    acceptor_.open(at.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(at, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  }

  unsigned short port() const {
    beast::error_code ignored;
    return acceptor_.local_endpoint(ignored).port();
  }

  void run() { do_accept(); }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;  // stopped
    if (ec) {
      // Out of file descriptors, most likely: try again shortly instead of spinning.
      fail(ec, "accept");
      retry_.expires_after(std::chrono::milliseconds(50));
      retry_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e) self->do_accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<echo_session>(std::move(socket))->run();
    do_accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
};

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  unsigned threads = 2;
  CLI::App app{"WebSocket echo server on 127.0.0.1, the yardstick for turn_load"};
  app.add_option("port", port, "Port to listen on; 0 picks a free one")->required();
  app.add_option("--threads", threads, "io_context threads")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // Ten thousand connections need more descriptors than the usual soft limit.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }

  net::io_context ioc{static_cast<int>(threads)};
  beast::error_code ec;
  auto server = std::make_shared<listener>(
      ioc, tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), port), ec);
  if (ec) {
    std::fprintf(stderr, "echo_server: cannot listen on 127.0.0.1:%u: %s\n", port,
                 ec.message().c_str());
    return 1;
  }
  server->run();
  std::cout << "listening on ws://127.0.0.1:" << server->port() << std::endl;

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  // Open sessions are simply dropped with the io_context: there is nothing to finish.
  signals.async_wait([&](beast::error_code, int) { ioc.stop(); });

  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}
