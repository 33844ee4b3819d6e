#pragma once
// Test helpers that start the real `shouhou serve` on 127.0.0.1 port 0 with a temporary data
// folder, and speak to it over real sockets. Everything stops by itself: the destructor sends
// SIGTERM and, if the server does not exit, SIGKILL.

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"
namespace shouhou::e2e {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::json;

using shouhou::testing::temp_dir;

// Starts the shouhou binary with `args`, its standard output into a pipe whose read end is
// returned in `out_fd`. `max_file_bytes` > 0: it runs with RLIMIT_FSIZE at that size and SIGXFSZ
// ignored, so a write past it fails with EFBIG, as on a full disk.
inline pid_t spawn_shouhou(std::vector<std::string> args, int& out_fd, long max_file_bytes = 0) {
  args.insert(args.begin(), SHOUHOU_BINARY);
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (max_file_bytes > 0) {
      const rlimit limit{static_cast<rlim_t>(max_file_bytes), static_cast<rlim_t>(max_file_bytes)};
      ::setrlimit(RLIMIT_FSIZE, &limit);
      ::signal(SIGXFSZ, SIG_IGN);  // ignored dispositions survive exec
    }
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  out_fd = out[0];
  return pid;
}

class server_process {
 public:
  // `max_file_bytes`: as for spawn_shouhou.
  explicit server_process(const std::filesystem::path& data, std::vector<std::string> extra = {},
                          long max_file_bytes = 0) {
    std::vector<std::string> args = {"serve",       "--listen",    "127.0.0.1:0", "--data",
                                     data.string(), "--log-level", "warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = spawn_shouhou(std::move(args), stdout_, max_file_bytes);
    std::string line = read_line(std::chrono::seconds(30));
    const std::string prefix = "listening on ws://127.0.0.1:";
    if (line.rfind(prefix, 0) != 0) {
      ADD_FAILURE() << "server did not say where it listens; it printed: " << line;
      return;
    }
    port_ = static_cast<unsigned short>(std::stoi(line.substr(prefix.size())));
    EXPECT_NE(line.find("/v1/chat"), std::string::npos) << line;
  }

  ~server_process() { stop(); }

  unsigned short port() const { return port_; }
  pid_t pid() const { return pid_; }
  void signal(int sig) const { ::kill(pid_, sig); }

  // SIGTERM, then wait up to 20 s; returns the exit status (or -1 when it had to be killed).
  int stop() {
    if (pid_ <= 0) return status_;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        pid_ = 0;
        ::close(stdout_);
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
    ::close(stdout_);
    status_ = -1;
    return status_;
  }

 private:
  std::string read_line(std::chrono::seconds limit) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c;
      if (::read(stdout_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line.push_back(c);
    }
    return line;
  }

  pid_t pid_ = 0;
  int stdout_ = -1;
  int status_ = -1;
  unsigned short port_ = 0;
};

// A synchronous WebSocket client with a receive timeout, so a missing frame fails the test
// instead of hanging it.
class ws_client {
 public:
  // `bearer`: sent as "Authorization: Bearer ..." with the upgrade (agents' connections).
  explicit ws_client(unsigned short port, std::string target = "/v1/chat",
                     const std::string& bearer = "")
      : ws_(ioc_) {
    tcp::endpoint at(net::ip::make_address("127.0.0.1"), port);
    beast::get_lowest_layer(ws_).connect(at);
    timeval tv{10, 0};
    ::setsockopt(beast::get_lowest_layer(ws_).socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO,
                 &tv, sizeof tv);
    if (!bearer.empty()) {
      ws_.set_option(websocket::stream_base::decorator([bearer](websocket::request_type& req) {
        req.set(beast::http::field::authorization, "Bearer " + bearer);
      }));
    }
    ws_.handshake("127.0.0.1:" + std::to_string(port), target);
  }

  void send(const std::string& text) {
    ws_.text(true);
    ws_.write(net::buffer(text));
  }
  void send(const json& frame) { send(frame.dump()); }
  void send_binary(const std::string& bytes) {
    ws_.binary(true);
    ws_.write(net::buffer(bytes));
  }

  json read() {
    beast::flat_buffer buffer;
    ws_.read(buffer);
    return json::parse(beast::buffers_to_string(buffer.data()));
  }

  // Reads until the server closes; returns the close code it sent (0 if none).
  int read_until_closed() {
    beast::flat_buffer buffer;
    beast::error_code ec;
    for (int i = 0; i < 100 && !ec; ++i) {
      ws_.read(buffer, ec);
      buffer.consume(buffer.size());
    }
    return ec == websocket::error::closed ? static_cast<int>(ws_.reason().code) : 0;
  }

  // hello, returning the welcome frame.
  json hello(const std::string& shop, const std::string& buyer, const std::string& conv = "") {
    json frame = {{"type", "hello"}, {"shop", shop}, {"buyer", buyer}};
    if (!conv.empty()) frame["conversation"] = conv;
    send(frame);
    return read();
  }

  // Sends a message and returns the frames that answer it: the ack, then as many replies as it
  // announces (or an error).
  std::vector<json> say(const std::string& id, const std::string& text) {
    send(json{{"type", "message"}, {"id", id}, {"text", text}});
    std::vector<json> frames{read()};
    if (frames[0]["type"] == "ack") {
      for (int n = frames[0]["replies"]; n > 0; --n) frames.push_back(read());
    }
    return frames;
  }

  void close() { ws_.close(websocket::close_code::normal); }

 private:
  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
};

// A raw TCP connection that has done the WebSocket upgrade by hand, for tests that must control
// every byte (or send none). Like any client (RFC 6455 §4.1) it waits for the server's 101
// before it returns, so that what the test sends next is read as frames.
inline tcp::socket raw_upgrade(net::io_context& ioc, unsigned short port) {
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  timeval tv{15, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string upgrade =
      "GET /v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  net::write(s, net::buffer(upgrade));
  std::string response;
  char c;
  while (response.find("\r\n\r\n") == std::string::npos && net::read(s, net::buffer(&c, 1))) {
    response.push_back(c);
  }
  EXPECT_EQ(response.rfind("HTTP/1.1 101 Switching Protocols", 0), 0u) << response;
  return s;
}

// The HTTP status a WebSocket upgrade to `target` gets (101 when it succeeds). Written by hand:
// Beast's client handshake does not hand back a refusal's status.
inline int upgrade_status(unsigned short port, const std::string& target,
                          const std::string& bearer = "") {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  stream.expires_after(std::chrono::seconds(20));
  beast::http::request<beast::http::empty_body> req{beast::http::verb::get, target, 11};
  req.set(beast::http::field::host, "127.0.0.1");
  req.set(beast::http::field::upgrade, "websocket");
  req.set(beast::http::field::connection, "Upgrade");
  req.set(beast::http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(beast::http::field::sec_websocket_version, "13");
  if (!bearer.empty()) req.set(beast::http::field::authorization, "Bearer " + bearer);
  beast::http::write(stream, req);
  beast::flat_buffer buffer;
  beast::http::response_parser<beast::http::empty_body> res;
  beast::error_code ec;
  beast::http::read_header(stream, buffer, res, ec);
  return ec ? 0 : static_cast<int>(res.get().result_int());
}

struct http_reply {
  int status = 0;
  std::string body;
  json parsed() const { return json::parse(body, nullptr, false); }
};

// One HTTP request on a fresh connection; `bearer` goes in the Authorization header.
inline http_reply http_call(unsigned short port, beast::http::verb verb, const std::string& target,
                            const std::string& bearer = "", const std::string& body = "") {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  stream.expires_after(std::chrono::seconds(20));
  beast::http::request<beast::http::string_body> req{verb, target, 11};
  req.set(beast::http::field::host, "127.0.0.1");
  if (!bearer.empty()) req.set(beast::http::field::authorization, "Bearer " + bearer);
  if (!body.empty()) req.set(beast::http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  beast::http::write(stream, req);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(stream, buffer, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

struct run_result {
  int exit_code = -1;
  std::string out;  // standard output; standard error goes to the test's own
};

// Runs the shouhou binary with `args` to completion.
inline run_result run_shouhou(std::vector<std::string> args) {
  int out = -1;
  const pid_t pid = spawn_shouhou(std::move(args), out);
  run_result r;
  char buf[512];
  for (ssize_t n; (n = ::read(out, buf, sizeof buf)) > 0;) r.out.append(buf, n);
  ::close(out);
  int st = 0;
  ::waitpid(pid, &st, 0);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::string last_line(const std::string& out) {
  std::string text = out;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  const auto newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

// A new agent token in the data folder, as `shouhou token agent` prints it.
inline std::string agent_token(const std::filesystem::path& data, const std::string& name) {
  auto r = run_shouhou({"token", "agent", "--name", name, "--data", data.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  return last_line(r.out);
}

// Reads until the peer ends the connection; returns everything received and how it ended.
inline std::string read_to_end(tcp::socket& s, beast::error_code& ec) {
  std::string received;
  char buf[512];
  while (!ec) {
    std::size_t n = s.read_some(net::buffer(buf), ec);
    received.append(buf, n);
  }
  return received;
}

}  // namespace shouhou::e2e
