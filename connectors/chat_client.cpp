#include "connectors/chat_client.hpp"

#include <simdjson.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <deque>
#include <istream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <thread>

namespace shouhou::connectors {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

struct ws_url {
  std::string host, port, target;
};

bool parse_url(const std::string& url, ws_url& out) {
  const std::string scheme = "ws://";
  if (url.rfind(scheme, 0) != 0) return false;
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/v1/chat" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos || authority.back() == ']') {
    out.host = authority;
    out.port = "80";
  } else {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  }
  if (out.host.size() > 2 && out.host.front() == '[') out.host = out.host.substr(1, out.host.size() - 2);
  return !out.host.empty() && !out.port.empty();
}

// Human-readable rendering of one server frame; empty for frames not worth a line (acks).
std::string render(std::string_view frame) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(frame.data(), frame.size()).get_object().get(obj)) return std::string(frame);
  auto str = [&](const char* key) {
    std::string_view v;
    return obj[key].get_string().get(v) ? std::string() : std::string(v);
  };
  std::string type = str("type");
  std::string out;
  if (type == "welcome") {
    bool resumed = false;
    if (obj["resumed"].get_bool().get(resumed)) resumed = false;
    out = (resumed ? "resumed conversation " : "new conversation ") + str("conversation");
    simdjson::dom::array history;
    if (!obj["history"].get_array().get(history)) {
      for (auto item : history) {
        std::string_view from, text;
        if (item["from"].get_string().get(from) || item["text"].get_string().get(text)) continue;
        out += "\n  ";
        out += from;
        out += ": ";
        out += text;
      }
    }
  } else if (type == "reply") {
    double confidence = 0;
    if (obj["confidence"].get_double().get(confidence)) confidence = 0;
    char conf[16];
    std::snprintf(conf, sizeof conf, "%.2f", confidence);
    out = "bot [" + str("reason") + " " + conf + ", " + str("kind") + "]: " + str("text");
    simdjson::dom::array requests;
    if (!obj["requests"].get_array().get(requests)) {
      for (auto item : requests) {
        std::string_view label, why;
        if (item["label"].get_string().get(label)) continue;
        out += "\n  - ";
        out += label;
        if (!item["why"].get_string().get(why) && !why.empty()) {
          out += " (";
          out += why;
          out += ")";
        }
      }
    }
    simdjson::dom::array quick;
    if (!obj["quick_replies"].get_array().get(quick) && quick.size() > 0) {
      out += "\n  [";
      bool first = true;
      for (auto q : quick) {
        std::string_view label;
        if (q.get_string().get(label)) continue;
        if (!first) out += " | ";
        out += label;
        first = false;
      }
      out += "]";
    }
  } else if (type == "error") {
    out = "error " + str("code") + ": " + str("message");
  } else if (type != "ack") {
    out = std::string(frame);
  }
  return out;
}

// The WebSocket side, run on one io thread; the caller's thread only posts into it.
class client : public std::enable_shared_from_this<client> {
 public:
  client(const chat_options& options, std::ostream& out, std::ostream& err)
      : options_(options), out_(out), err_(err), resolver_(ioc_), ws_(ioc_) {}

  void start(const ws_url& url) {
    url_ = url;
    resolver_.async_resolve(url.host, url.port,
                            beast::bind_front_handler(&client::on_resolve, shared_from_this()));
    thread_ = std::thread([this] { ioc_.run(); });
  }

  // Blocks until the server welcomed us (true) or the connection failed (false).
  bool wait_welcome() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return welcomed_ || done_; });
    return welcomed_ && !done_;
  }

  void send_message(std::string id, std::string text) {
    nlohmann::json frame = {{"type", "message"}, {"id", id}, {"text", std::move(text)}};
    if (!options_.order.empty()) frame["order"] = options_.order;
    {
      std::lock_guard lock(mutex_);
      pending_.insert(id);
    }
    net::post(ioc_, [self = shared_from_this(),
                     f = frame.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)] {
      self->write(f);
    });
  }

  // Waits for answers to every message sent, closes, and returns whether all were answered.
  bool finish() {
    bool answered;
    {
      std::unique_lock lock(mutex_);
      answered = cv_.wait_for(lock, options_.answer_timeout,
                              [&] { return pending_.empty() || done_; }) &&
                 pending_.empty();
    }
    if (!answered) err_ << "chat: no answer within " << options_.answer_timeout.count() << " s\n";
    net::post(ioc_, [self = shared_from_this()] {
      if (self->ws_.is_open()) {
        self->ws_.async_close(websocket::close_code::normal, [self](beast::error_code) {});
      }
    });
    if (thread_.joinable()) thread_.join();
    return answered && !refused_;
  }

  void stop() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void fail(const std::string& what, beast::error_code ec) {
    {
      std::lock_guard lock(mutex_);
      err_ << "chat: " << what << ": " << ec.message() << "\n";
      done_ = true;
    }
    cv_.notify_all();
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return fail("cannot resolve " + url_.host, ec);
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(ws_).async_connect(
        results, beast::bind_front_handler(&client::on_connect, shared_from_this()));
  }

  void on_connect(beast::error_code ec, tcp::endpoint) {
    if (ec) return fail("cannot connect to " + url_.host + ":" + url_.port, ec);
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_.async_handshake(url_.host + ":" + url_.port, url_.target,
                        beast::bind_front_handler(&client::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec) return fail("WebSocket handshake with " + url_.target + " failed", ec);
    nlohmann::json hello = {{"type", "hello"}, {"shop", options_.shop}, {"buyer", options_.buyer}};
    if (!options_.conversation.empty()) hello["conversation"] = options_.conversation;
    write(hello.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    do_read();
  }

  void write(std::string frame) {
    queue_.push_back(std::move(frame));
    if (queue_.size() == 1) do_write();
  }

  void do_write() {
    ws_.async_write(net::buffer(queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec) return self->fail("sending failed", ec);
                      self->queue_.pop_front();
                      if (!self->queue_.empty()) self->do_write();
                    });
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&client::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      // Our own close ends the read with `closed` or `operation_aborted`: not a loss.
      if (ec != websocket::error::closed && ec != net::error::operation_aborted) {
        fail("connection lost", ec);
      }
      std::lock_guard lock(mutex_);
      done_ = true;
      cv_.notify_all();
      return;
    }
    std::string frame = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    note(frame);
    if (options_.json) {
      out_ << frame << std::endl;
    } else if (auto line = render(frame); !line.empty()) {
      out_ << line << std::endl;
    }
    do_read();
  }

  // Tracks which sent messages are answered, and whether the server refused anything.
  void note(const std::string& frame) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(frame).get_object().get(obj)) return;
    std::string_view type, id;
    if (obj["type"].get_string().get(type)) return;
    std::lock_guard lock(mutex_);
    if (type == "welcome") {
      welcomed_ = true;
    } else if (type == "error") {
      refused_ = true;
      if (!welcomed_) done_ = true;  // the hello itself was refused
      if (!obj["id"].get_string().get(id)) pending_.erase(std::string(id));
    } else if (type == "reply") {
      if (!obj["in_reply_to"].get_string().get(id)) pending_.erase(std::string(id));
    } else if (type == "ack") {
      // No replies follow a resent message, nor a message to a conversation a person has.
      int64_t replies = 0;
      if (obj["replies"].get_int64().get(replies)) replies = 0;
      if (replies == 0 && !obj["id"].get_string().get(id)) pending_.erase(std::string(id));
    }
    cv_.notify_all();
  }

  const chat_options& options_;
  std::ostream& out_;
  std::ostream& err_;
  net::io_context ioc_;
  tcp::resolver resolver_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  ws_url url_;
  std::thread thread_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::set<std::string> pending_;
  bool welcomed_ = false;
  bool refused_ = false;
  bool done_ = false;
};

}  // namespace

int run_chat(const chat_options& options, std::istream& in, std::ostream& out, std::ostream& err) {
  ws_url url;
  if (!parse_url(options.url, url)) {
    err << "chat: \"" << options.url << "\" is not a ws://HOST:PORT/PATH address\n";
    return 2;
  }
  auto c = std::make_shared<client>(options, out, err);
  c->start(url);
  if (!c->wait_welcome()) {
    c->stop();
    return 2;
  }
  // Ids unique across runs, so resuming a conversation never collides with earlier messages.
  const auto run_id = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    c->send_message(std::to_string(run_id) + "-" + std::to_string(n), line);
  }
  return c->finish() ? 0 : 1;
}

}  // namespace shouhou::connectors
