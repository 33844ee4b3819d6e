// Load generator for the buyer chat protocol (and, for comparison, a plain WebSocket echo
// server): N connections on a few client threads, each speaking for one buyer at a time, in a
// closed loop (one message in flight per connection) or an open loop (messages offered on a
// schedule whatever the server does). After K messages a connection closes and comes back as a
// new buyer with a new hello, so conversations keep being created as they are in production.
//
//   turn_load --port P --connections N [--mode closed|open --rate R] [--duration S]
//             [--warmup S] [--messages-per-buyer K] [--threads T] [--server-pid PID]
//             [--protocol shouhou|echo] [--json]
//
// A turn is answered when its `ack` and at least one `reply` naming it have arrived (docs/
// protocol.md); in echo mode when the echo of its frame has. Latency runs from the time the
// message was due: in the open loop that is its scheduled time, not the time it went out, so a
// server that falls behind shows its queue instead of hiding it (coordinated omission). Only
// turns answered inside the measured interval (after the warm-up) are counted; with
// --server-pid the server's CPU time and bytes written over the same interval are divided by
// them.
//
// Each client thread runs its own io_context and owns its connections, so nothing on the message
// path takes a lock; the threads' figures are merged at the end.

#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// What buyers write first, in their own words. None of them asks for a person or complains,
// so a conversation of a few messages stays with the bot and every turn gets a reply.
// clang-format off
constexpr std::string_view k_texts[] = {
    "收到的杯子碎了",
    "快递一直没到，物流也不更新",
    "订单号 1234567890123",
    "我要退货",
    "你好，在吗",
    "发错颜色了，我买的是白色的",
    "才用了两天就坏了",
    "少发了一个配件",
    "衣服尺码不对，能换吗",
    "退款什么时候到账",
    "和图片上的不一样",
    "外包装都压扁了，里面的东西也变形了",
};
// clang-format on

enum class protocol_kind { shouhou, echo };
enum class loop_kind { closed, open };
enum class spacing_kind { poisson, even };

struct options {
  unsigned short port = 0;
  std::size_t connections = 100;
  loop_kind mode = loop_kind::closed;
  double rate = 0;  // open loop: messages per second over all connections
  spacing_kind spacing = spacing_kind::poisson;
  double duration_s = 20;
  double warmup_s = 5;
  unsigned messages_per_buyer = 4;
  unsigned threads = 1;
  int server_pid = 0;
  protocol_kind protocol = protocol_kind::shouhou;
  std::string path;  // request target; default per protocol
  std::size_t connect_concurrency = 200;
  double ramp_timeout_s = 120;
  bool json_out = false;
};

// ---------------------------------------------------------------------------------------------
// A log-bucketed histogram of microseconds, in the manner of HdrHistogram: exact below 256 µs,
// then 128 buckets per power of two (under 0.8% error), so it is small, fixed in size and
// mergeable whatever the run length.
class histogram {
 public:
  histogram() : counts_(k_buckets, 0) {}

  void record(std::uint64_t us) {
    ++counts_[index_of(us)];
    ++count_;
    sum_ += us;
    max_ = std::max(max_, us);
  }

  void merge(const histogram& other) {
    for (std::size_t i = 0; i < k_buckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
  }

  std::uint64_t count() const { return count_; }
  double max_ms() const { return static_cast<double>(max_) / 1000.0; }
  double mean_ms() const {
    return count_ == 0 ? 0 : static_cast<double>(sum_) / static_cast<double>(count_) / 1000.0;
  }

  // The smallest value at or below which a fraction p of the samples lie (the top of its
  // bucket, never above the largest sample).
  double percentile_ms(double p) const {
    if (count_ == 0) return 0;
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < k_buckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return static_cast<double>(std::min(top_of(i), max_)) / 1000.0;
    }
    return max_ms();
  }

 private:
  static constexpr unsigned k_sub_bits = 7;
  static constexpr std::uint64_t k_linear = std::uint64_t{2} << k_sub_bits;  // 256
  static constexpr std::uint64_t k_half = std::uint64_t{1} << k_sub_bits;    // 128
  static constexpr std::size_t k_buckets = k_linear + (64 - k_sub_bits - 1) * k_half;

  static std::size_t index_of(std::uint64_t v) {
    if (v < k_linear) return static_cast<std::size_t>(v);
    const unsigned shift = static_cast<unsigned>(std::bit_width(v)) - (k_sub_bits + 1);
    return static_cast<std::size_t>(k_linear + (shift - 1) * k_half + ((v >> shift) - k_half));
  }

  static std::uint64_t top_of(std::size_t i) {
    if (i < k_linear) return i;
    const std::uint64_t shift = (i - k_linear) / k_half + 1;
    const std::uint64_t lead = (i - k_linear) % k_half + k_half;
    return ((lead + 1) << shift) - 1;
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Reads the top-level string and integer fields a server frame is matched on, in one pass and
// without building a document: the client shares the machine's cores with the server it
// measures, so what it spends per frame is taken from the server. Nested objects (requests,
// history) are skipped, so their own "type" and "id" fields cannot be mistaken for the frame's.
struct frame_fields {
  std::string_view type;
  std::string_view id;
  std::string_view in_reply_to;
  std::string_view code;
  long long replies = -1;
};

frame_fields scan_frame(std::string_view s) {
  frame_fields f;
  int depth = 0;
  bool want_key = false;
  std::string_view key;
  std::size_t i = 0;
  auto take_string = [&](std::string_view value) {
    if (key == "type") {
      f.type = value;
    } else if (key == "id") {
      f.id = value;
    } else if (key == "in_reply_to") {
      f.in_reply_to = value;
    } else if (key == "code") {
      f.code = value;
    }
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') {
      const std::size_t start = ++i;
      while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
      if (i >= s.size()) break;
      const std::string_view text = s.substr(start, i - start);
      ++i;
      if (depth == 1) {
        if (want_key) {
          key = text;
          want_key = false;
        } else if (!key.empty()) {
          take_string(text);
          key = {};
        }
      }
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
      if (depth == 1 && c == '{') want_key = true;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      want_key = true;
      key = {};
    } else if (depth == 1 && !key.empty() && (c == '-' || (c >= '0' && c <= '9'))) {
      const std::size_t start = i;
      while (i < s.size() && (s[i] == '-' || (s[i] >= '0' && s[i] <= '9'))) ++i;
      const std::string_view digits = s.substr(start, i - start);
      if (key == "replies") f.replies = std::atoll(std::string(digits).c_str());
      if (key == "id") f.id = digits;
      key = {};
      continue;
    }
    ++i;
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// /proc figures of a process: CPU seconds (user + system), bytes written to storage
// (write_bytes) and through write calls of any kind (wchar), resident memory.
struct proc_sample {
  bool ok = false;
  double cpu_s = 0;
  std::optional<std::uint64_t> write_bytes;
  std::optional<std::uint64_t> wchar;
  std::optional<std::uint64_t> rss_kb;
};

proc_sample read_proc(int pid) {
  proc_sample out;
  const std::string base = pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid);
  {
    std::ifstream in(base + "/stat");
    std::string line;
    if (!std::getline(in, line)) return out;
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) return out;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int n = 3; rest >> field; ++n) {
      if (n == 14) utime = std::stoull(field);
      if (n == 15) {
        stime = std::stoull(field);
        break;
      }
    }
    out.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    out.ok = true;
  }
  {
    std::ifstream in(base + "/io");  // needs the same user (or ptrace rights)
    std::string name;
    std::uint64_t value = 0;
    while (in >> name >> value) {
      if (name == "write_bytes:") out.write_bytes = value;
      if (name == "wchar:") out.wchar = value;
    }
  }
  {
    std::ifstream in(base + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) out.rss_kb = std::stoull(line.substr(6));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// What every thread reads and the main thread moves on: the phases of the run.
struct run_state {
  std::atomic<bool> traffic{false};
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> window_start{std::numeric_limits<std::int64_t>::max()};
  std::atomic<std::int64_t> window_end{std::numeric_limits<std::int64_t>::max()};
  std::atomic<std::size_t> ready_once{0};  // connections that have reached "ready" at least once

  bool in_window(clock_type::time_point t) const {
    const auto ns = t.time_since_epoch().count();
    return ns >= window_start.load(std::memory_order_relaxed) &&
           ns < window_end.load(std::memory_order_relaxed);
  }
};

enum error_kind : std::size_t {
  e_connect,    // TCP connect refused, timed out or out of ports
  e_handshake,  // the WebSocket upgrade failed
  e_greeting,   // no welcome for the hello (an error frame, or the connection ended first)
  e_closed,     // the server sent a close frame we did not ask for
  e_dropped,    // the connection ended without a close frame (EOF, reset, timeout)
  e_write,      // a write failed
  e_error_frame,
  e_lost,  // messages in flight on a connection that ended before answering them
  e_count
};
constexpr const char* k_error_names[e_count] = {"connect", "handshake", "greeting",     "closed",
                                                "dropped", "write",     "error_frames", "lost"};

struct stats {
  histogram latency;  // due time to answered, for turns answered in the window
  histogram setup;    // connect to welcome (echo: to the end of the handshake), in the window
  std::uint64_t answered = 0;
  std::uint64_t conversations = 0;  // ready in the window
  std::uint64_t acked_without_reply = 0;
  std::uint64_t unsolicited = 0;  // reply frames naming no message of ours (reminders)
  std::uint64_t in_flight_at_end = 0;
  std::uint64_t unsent_at_end = 0;
  std::int64_t oldest_at_end_us = 0;
  std::array<std::uint64_t, e_count> errors{};
  std::array<std::uint64_t, e_count> errors_in_window{};
  std::map<int, std::uint64_t> close_codes;
  std::map<std::string, std::uint64_t> error_codes;

  void merge(const stats& o) {
    latency.merge(o.latency);
    setup.merge(o.setup);
    answered += o.answered;
    conversations += o.conversations;
    acked_without_reply += o.acked_without_reply;
    unsolicited += o.unsolicited;
    in_flight_at_end += o.in_flight_at_end;
    unsent_at_end += o.unsent_at_end;
    oldest_at_end_us = std::max(oldest_at_end_us, o.oldest_at_end_us);
    for (std::size_t k = 0; k < e_count; ++k) {
      errors[k] += o.errors[k];
      errors_in_window[k] += o.errors_in_window[k];
    }
    for (const auto& [code, n] : o.close_codes) close_codes[code] += n;
    for (const auto& [code, n] : o.error_codes) error_codes[code] += n;
  }
};

struct worker;
class slot;

// One WebSocket connection, for one buyer: connect, upgrade, hello and welcome, then up to K
// messages, then a close. A new connection is a new session object, so the completions of an old
// one can never touch the state of the next.
class session : public std::enable_shared_from_this<session> {
 public:
  session(slot& owner, worker& w);

  void run();
  bool ready() const { return phase_ == phase::ready; }
  bool can_send() const;
  bool idle() const { return in_flight_.empty(); }
  bool finished() const;
  void send(clock_type::time_point due, std::string_view text);
  void close();
  void abort();
  std::size_t in_flight() const { return in_flight_.size(); }
  std::optional<clock_type::time_point> oldest_due() const;

 private:
  enum class phase { connecting, handshaking, greeting, ready, closing, ended };
  struct message {
    unsigned number;
    clock_type::time_point due;
    bool acked = false;
    bool replied = false;
  };

  void on_connect(beast::error_code ec);
  void on_handshake(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec);
  void on_frame(std::string_view frame);
  void on_close(beast::error_code ec);
  void enqueue(std::string frame);
  void do_write();
  void on_write(beast::error_code ec);
  void became_ready();
  void answered(std::deque<message>::iterator it);
  void end(error_kind why, bool failed);
  std::deque<message>::iterator find(std::string_view id);

  slot& slot_;
  worker& worker_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  std::deque<message> in_flight_;
  phase phase_ = phase::connecting;
  unsigned sent_ = 0;
  clock_type::time_point started_;
};

struct worker {
  net::io_context ioc{1};
  const options& opt;
  run_state& run;
  std::string run_id;
  stats st;
  std::vector<std::unique_ptr<slot>> slots;
  std::mt19937_64 rng;

  worker(const options& o, run_state& r, std::string id, std::uint64_t seed)
      : opt(o), run(r), run_id(std::move(id)), rng(seed) {}

  void count_error(error_kind k, clock_type::time_point now) {
    ++st.errors[k];
    if (run.in_window(now)) ++st.errors_in_window[k];
  }
};

// One of the N connections the run keeps open: it owns the send schedule and the queue of
// messages that are due but not yet sent, and replaces its session when one ends.
class slot {
 public:
  slot(worker& w, std::size_t index)
      : worker_(w),
        index_(index),
        send_timer_(w.ioc),
        retry_timer_(w.ioc),
        next_text_(index % std::size(k_texts)) {}

  std::size_t index() const { return index_; }
  unsigned next_conversation() { return conversations_++; }

  void open() {
    if (worker_.run.stopping.load()) return;
    current_ = std::make_shared<session>(*this, worker_);
    current_->run();
  }

  void on_ready() {
    backoff_ = 0ms;
    if (!ever_ready_) {
      ever_ready_ = true;
      worker_.run.ready_once.fetch_add(1);
    }
    pump();
  }

  // The session ended: open the next one, at once after a normal close, after a growing pause
  // after a failure so a server that refuses connections is not hammered in a loop.
  void on_session_end(const session* s, bool failed) {
    if (current_.get() != s) return;
    current_.reset();
    if (worker_.run.stopping.load()) return;
    if (!failed) {
      open();
      return;
    }
    backoff_ = std::min<std::chrono::milliseconds>(backoff_ == 0ms ? 50ms : backoff_ * 2, 2000ms);
    retry_timer_.expires_after(backoff_);
    retry_timer_.async_wait([this](beast::error_code ec) {
      if (!ec) open();
    });
  }

  void begin_traffic() {
    if (worker_.opt.mode == loop_kind::open) {
      // Each connection's own schedule starts at a random phase, so the offered load is smooth.
      next_due_ = clock_type::now() + first_gap();
      arm_timer();
    }
    pump();
  }

  // Sends what is due while the session can take it; in the closed loop one message is due
  // whenever none is in flight.
  void pump() {
    if (!current_ || !current_->ready() || !worker_.run.traffic.load()) return;
    if (worker_.run.stopping.load()) return;
    if (worker_.opt.mode == loop_kind::closed && due_.empty() && current_->idle() &&
        current_->can_send()) {
      due_.push_back(clock_type::now());
    }
    while (!due_.empty() && current_->can_send()) {
      current_->send(due_.front(), k_texts[next_text_]);
      next_text_ = (next_text_ + 1) % std::size(k_texts);
      due_.pop_front();
    }
    if (current_->finished()) current_->close();
  }

  void stop() {
    send_timer_.cancel();
    retry_timer_.cancel();
    auto& st = worker_.st;
    const auto now = clock_type::now();
    std::optional<clock_type::time_point> oldest;
    if (!due_.empty()) oldest = due_.front();
    st.unsent_at_end += due_.size();
    if (current_) {
      st.in_flight_at_end += current_->in_flight();
      if (auto d = current_->oldest_due(); d && (!oldest || *d < *oldest)) oldest = d;
      auto s = std::move(current_);
      s->abort();
    }
    if (oldest) {
      st.oldest_at_end_us = std::max<std::int64_t>(
          st.oldest_at_end_us,
          std::chrono::duration_cast<std::chrono::microseconds>(now - *oldest).count());
    }
  }

 private:
  clock_type::duration mean_gap() const {
    const double seconds =
        static_cast<double>(worker_.opt.connections) / std::max(worker_.opt.rate, 1e-9);
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
  }

  clock_type::duration first_gap() {
    if (worker_.opt.spacing == spacing_kind::poisson) return next_gap();  // memoryless
    std::uniform_real_distribution<double> phase(0.0, 1.0);
    return std::chrono::duration_cast<clock_type::duration>(mean_gap() * phase(worker_.rng));
  }

  clock_type::duration next_gap() {
    if (worker_.opt.spacing == spacing_kind::even) return mean_gap();
    std::exponential_distribution<double> gap(1.0);
    return std::chrono::duration_cast<clock_type::duration>(mean_gap() * gap(worker_.rng));
  }

  void arm_timer() {
    send_timer_.expires_at(next_due_);
    send_timer_.async_wait([this](beast::error_code ec) {
      if (ec || worker_.run.stopping.load()) return;
      // A late timer (a busy thread) still dates each message by its own schedule.
      const auto now = clock_type::now();
      while (next_due_ <= now) {
        due_.push_back(next_due_);
        next_due_ += next_gap();
      }
      arm_timer();
      pump();
    });
  }

  worker& worker_;
  std::size_t index_;
  net::steady_timer send_timer_;
  net::steady_timer retry_timer_;
  std::shared_ptr<session> current_;
  std::deque<clock_type::time_point> due_;
  clock_type::time_point next_due_;
  std::chrono::milliseconds backoff_{0};
  std::size_t next_text_;
  unsigned conversations_ = 0;
  bool ever_ready_ = false;
};

session::session(slot& owner, worker& w) : slot_(owner), worker_(w), ws_(w.ioc) {}

void session::run() {
  started_ = clock_type::now();
  const tcp::endpoint to(net::ip::make_address_v4("127.0.0.1"), worker_.opt.port);
  beast::get_lowest_layer(ws_).expires_after(10s);
  beast::get_lowest_layer(ws_).async_connect(
      to, [self = shared_from_this()](beast::error_code ec) { self->on_connect(ec); });
}

void session::on_connect(beast::error_code ec) {
  if (phase_ == phase::ended) return;
  if (ec) return end(e_connect, true);
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = 10s;  // also bounds the closing handshake
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.read_message_max(1 << 20);
  phase_ = phase::handshaking;
  ws_.async_handshake("127.0.0.1:" + std::to_string(worker_.opt.port), worker_.opt.path,
                      [self = shared_from_this()](beast::error_code e) { self->on_handshake(e); });
}

void session::on_handshake(beast::error_code ec) {
  if (phase_ == phase::ended) return;
  if (ec) return end(e_handshake, true);
  ws_.text(true);
  do_read();
  if (worker_.opt.protocol == protocol_kind::echo) return became_ready();
  phase_ = phase::greeting;
  enqueue(R"({"type":"hello","shop":"bench-shop","buyer":"b-)" + worker_.run_id + "-" +
          std::to_string(slot_.index()) + "-" + std::to_string(slot_.next_conversation()) +
          R"("})");
}

void session::became_ready() {
  phase_ = phase::ready;
  const auto now = clock_type::now();
  if (worker_.run.in_window(now)) {
    ++worker_.st.conversations;
    worker_.st.setup.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - started_).count()));
  }
  slot_.on_ready();
}

bool session::can_send() const {
  return phase_ == phase::ready && sent_ < worker_.opt.messages_per_buyer;
}

bool session::finished() const {
  return phase_ == phase::ready && sent_ >= worker_.opt.messages_per_buyer && in_flight_.empty();
}

std::optional<clock_type::time_point> session::oldest_due() const {
  if (in_flight_.empty()) return std::nullopt;
  return in_flight_.front().due;
}

void session::send(clock_type::time_point due, std::string_view text) {
  const unsigned number = ++sent_;
  in_flight_.push_back({number, due});
  // The texts above hold nothing JSON needs escaped, so the frame is put together by hand.
  std::string frame = R"({"type":"message","id":"m)";
  frame += std::to_string(number);
  frame += R"(","text":")";
  frame += text;
  frame += R"("})";
  enqueue(std::move(frame));
}

void session::enqueue(std::string frame) {
  outbox_.push_back(std::move(frame));
  if (outbox_.size() == 1) do_write();
}

void session::do_write() {
  ws_.async_write(
      net::buffer(outbox_.front()),
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
}

void session::on_write(beast::error_code ec) {
  if (phase_ == phase::ended) return;
  if (ec) return end(e_write, true);
  outbox_.pop_front();
  if (!outbox_.empty()) do_write();
}

void session::do_read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->on_read(ec);
  });
}

void session::on_read(beast::error_code ec) {
  if (phase_ == phase::ended) return;
  if (ec) {
    if (phase_ == phase::closing) return;  // our own close is completing; on_close ends it
    if (ec == websocket::error::closed) {
      ++worker_.st.close_codes[static_cast<int>(ws_.reason().code)];
      return end(phase_ == phase::greeting ? e_greeting : e_closed, true);
    }
    return end(phase_ == phase::greeting ? e_greeting : e_dropped, true);
  }
  const auto data = buffer_.cdata();
  on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()));
  buffer_.consume(buffer_.size());
  if (phase_ != phase::ended) do_read();
}

std::deque<session::message>::iterator session::find(std::string_view id) {
  if (id.size() < 2 || id[0] != 'm') return in_flight_.end();
  const auto number = static_cast<unsigned>(std::atoi(std::string(id.substr(1)).c_str()));
  return std::find_if(in_flight_.begin(), in_flight_.end(),
                      [&](const message& m) { return m.number == number; });
}

void session::on_frame(std::string_view frame) {
  const frame_fields f = scan_frame(frame);
  const auto now = clock_type::now();
  if (worker_.opt.protocol == protocol_kind::echo) {
    auto it = find(f.id);
    if (it != in_flight_.end()) answered(it);
    return;
  }
  if (f.type == "welcome") {
    if (phase_ == phase::greeting) became_ready();
    return;
  }
  if (f.type == "ack") {
    auto it = find(f.id);
    if (it == in_flight_.end()) return;
    it->acked = true;
    if (f.replies == 0) {
      // No reply will follow (a person has the conversation): answered, but counted apart.
      ++worker_.st.acked_without_reply;
      return answered(it);
    }
    if (it->replied) answered(it);
    return;
  }
  if (f.type == "reply") {
    auto it = find(f.in_reply_to);
    if (f.in_reply_to.empty()) ++worker_.st.unsolicited;
    if (it == in_flight_.end()) return;  // a second reply to a turn already answered
    it->replied = true;
    if (it->acked) answered(it);
    return;
  }
  if (f.type == "error") {
    worker_.count_error(e_error_frame, now);
    ++worker_.st.error_codes[std::string(f.code)];
    if (phase_ == phase::greeting) return end(e_greeting, true);
    auto it = find(f.id);
    if (it != in_flight_.end()) {
      in_flight_.erase(it);
      slot_.pump();
    }
  }
}

void session::answered(std::deque<message>::iterator it) {
  const auto now = clock_type::now();
  if (worker_.run.in_window(now)) {
    ++worker_.st.answered;
    worker_.st.latency.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - it->due).count()));
  }
  in_flight_.erase(it);
  slot_.pump();
}

void session::close() {
  if (phase_ != phase::ready) return;
  phase_ = phase::closing;
  ws_.async_close(websocket::close_code::normal,
                  [self = shared_from_this()](beast::error_code ec) { self->on_close(ec); });
}

void session::on_close(beast::error_code ec) {
  if (phase_ == phase::ended) return;
  if (ec) return end(e_dropped, true);
  end(e_count, false);
}

// Stops at once at the end of the run: the socket is closed under any pending operation.
void session::abort() {
  phase_ = phase::ended;
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

void session::end(error_kind why, bool failed) {
  if (phase_ == phase::ended) return;
  const bool stopping = worker_.run.stopping.load();
  phase_ = phase::ended;
  const auto now = clock_type::now();
  if (failed && !stopping) {
    worker_.count_error(why, now);
    for (std::size_t i = 0; i < in_flight_.size(); ++i) worker_.count_error(e_lost, now);
  }
  in_flight_.clear();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
  slot_.on_session_end(this, failed);
}

void raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

std::size_t file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return static_cast<std::size_t>(limit.rlim_cur);
}

json percentiles(const histogram& h) {
  return {{"p50", h.percentile_ms(0.50)},
          {"p90", h.percentile_ms(0.90)},
          {"p99", h.percentile_ms(0.99)},
          {"p99.9", h.percentile_ms(0.999)},
          {"max", h.max_ms()},
          {"mean", h.mean_ms()},
          {"count", h.count()}};
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  std::string mode = "closed";
  std::string protocol = "shouhou";
  std::string spacing = "poisson";
  CLI::App app{"Loopback load for shouhou serve (or an echo server): answered turns/s, latency"};
  app.add_option("--port", opt.port, "Server port on 127.0.0.1")->required();
  app.add_option("--connections", opt.connections, "Connections kept open")->capture_default_str();
  app.add_option("--mode", mode, "closed: one message in flight per connection; open: --rate")
      ->check(CLI::IsMember({"closed", "open"}))
      ->capture_default_str();
  app.add_option("--rate", opt.rate, "Open loop: messages per second offered over all connections");
  app.add_option("--spacing", spacing, "Open loop: poisson or even (evenly spaced, random phase)")
      ->check(CLI::IsMember({"poisson", "even"}))
      ->capture_default_str();
  app.add_option("--duration", opt.duration_s, "Seconds measured")->capture_default_str();
  app.add_option("--warmup", opt.warmup_s, "Seconds of load before measuring")
      ->capture_default_str();
  app.add_option("--messages-per-buyer", opt.messages_per_buyer,
                 "Messages per conversation before reconnecting as a new buyer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads", opt.threads, "Client threads")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  app.add_option("--server-pid", opt.server_pid,
                 "Read this process's CPU time and bytes written over the measured interval");
  app.add_option("--protocol", protocol, "shouhou (hello, message, ack + reply) or echo")
      ->check(CLI::IsMember({"shouhou", "echo"}))
      ->capture_default_str();
  app.add_option("--path", opt.path, "Request target (default /v1/chat, echo: /)");
  app.add_option("--connect-concurrency", opt.connect_concurrency,
                 "Connections being opened at once while ramping up")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--ramp-timeout", opt.ramp_timeout_s,
                 "Seconds to wait for every connection to open before starting anyway")
      ->capture_default_str();
  app.add_flag("--json", opt.json_out, "Print one JSON object instead of the report");
  CLI11_PARSE(app, argc, argv);
  opt.mode = mode == "open" ? loop_kind::open : loop_kind::closed;
  opt.protocol = protocol == "echo" ? protocol_kind::echo : protocol_kind::shouhou;
  opt.spacing = spacing == "even" ? spacing_kind::even : spacing_kind::poisson;
  if (opt.path.empty()) opt.path = opt.protocol == protocol_kind::echo ? "/" : "/v1/chat";
  if (opt.mode == loop_kind::open && opt.rate <= 0) {
    std::fprintf(stderr, "turn_load: --mode open needs --rate > 0\n");
    return 2;
  }
  if (opt.connections == 0 || opt.duration_s <= 0 || opt.warmup_s < 0) {
    std::fprintf(stderr, "turn_load: --connections and --duration must be positive\n");
    return 2;
  }
  for (auto text : k_texts) {
    if (text.find_first_of("\"\\") != std::string_view::npos) return 2;  // see session::send
  }

  raise_file_limit();
  if (file_limit() < opt.connections + 64) {
    std::fprintf(stderr, "turn_load: %zu connections need more open files than the limit (%zu)\n",
                 opt.connections, file_limit());
    return 2;
  }

  run_state run;
  const std::string run_id =
      std::to_string(getpid()) + "x" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  std::vector<std::unique_ptr<worker>> workers;
  std::random_device seed_source;
  for (unsigned t = 0; t < opt.threads; ++t) {
    workers.push_back(std::make_unique<worker>(
        opt, run, run_id, (static_cast<std::uint64_t>(seed_source()) << 32) ^ seed_source()));
  }
  for (std::size_t i = 0; i < opt.connections; ++i) {
    auto& w = *workers[i % opt.threads];
    w.slots.push_back(std::make_unique<slot>(w, i));
  }
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    guards.push_back(net::make_work_guard(w->ioc));
    threads.emplace_back([&ioc = w->ioc] { ioc.run(); });
  }

  // Open the connections gradually: a few hundred handshakes (and hellos) at a time, not ten
  // thousand SYNs into the listen backlog at once.
  const auto ramp_start = clock_type::now();
  const auto ramp_deadline = ramp_start + std::chrono::duration_cast<clock_type::duration>(
                                              std::chrono::duration<double>(opt.ramp_timeout_s));
  bool gave_up = false;
  std::size_t started = 0;
  while (run.ready_once.load() < opt.connections) {
    while (started < opt.connections && started - run.ready_once.load() < opt.connect_concurrency) {
      auto& w = *workers[started % opt.threads];
      net::post(w.ioc, [s = w.slots[started / opt.threads].get()] { s->open(); });
      ++started;
    }
    std::this_thread::sleep_for(2ms);
    const auto now = clock_type::now();
    if (run.ready_once.load() == 0 && now - ramp_start > 10s) {
      gave_up = true;  // not one connection in 10 s: the server is not there
      break;
    }
    if (now > ramp_deadline) break;
  }
  const double ramp_s = std::chrono::duration<double>(clock_type::now() - ramp_start).count();
  const std::size_t opened = run.ready_once.load();

  proc_sample server_before, server_after, self_before, self_after;
  clock_type::time_point window_start, window_end;
  if (!gave_up) {
    run.traffic.store(true);
    for (auto& w : workers) {
      net::post(w->ioc, [&w] {
        for (auto& s : w->slots) s->begin_traffic();
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(opt.warmup_s));
    if (opt.server_pid != 0) server_before = read_proc(opt.server_pid);
    self_before = read_proc(0);
    window_start = clock_type::now();
    run.window_start.store(window_start.time_since_epoch().count());
    std::this_thread::sleep_for(std::chrono::duration<double>(opt.duration_s));
    window_end = clock_type::now();
    run.window_end.store(window_end.time_since_epoch().count());
    if (opt.server_pid != 0) server_after = read_proc(opt.server_pid);
    self_after = read_proc(0);
  }

  // Stop: every connection closed at once; what is still in flight is counted, not waited for.
  run.stopping.store(true);
  std::atomic<unsigned> stopped{0};
  for (auto& w : workers) {
    net::post(w->ioc, [&w, &stopped] {
      for (auto& s : w->slots) s->stop();
      stopped.fetch_add(1);
    });
  }
  while (stopped.load() < workers.size()) std::this_thread::sleep_for(1ms);
  guards.clear();
  std::this_thread::sleep_for(200ms);  // let the aborted operations complete
  for (auto& w : workers) w->ioc.stop();
  for (auto& t : threads) t.join();

  stats all;
  for (auto& w : workers) all.merge(w->st);

  if (gave_up) {
    std::fprintf(stderr,
                 "turn_load: no connection to 127.0.0.1:%u opened in 10 s (%llu connect, %llu "
                 "handshake, %llu greeting errors)\n",
                 opt.port, static_cast<unsigned long long>(all.errors[e_connect]),
                 static_cast<unsigned long long>(all.errors[e_handshake]),
                 static_cast<unsigned long long>(all.errors[e_greeting]));
    return 1;
  }

  const double window_s = std::chrono::duration<double>(window_end - window_start).count();
  const double per_s = static_cast<double>(all.answered) / window_s;
  std::uint64_t errors_total = 0;
  std::uint64_t errors_window = 0;
  json errors = json::object();
  json errors_in_window = json::object();
  for (std::size_t k = 0; k < e_count; ++k) {
    errors[k_error_names[k]] = all.errors[k];
    errors_in_window[k_error_names[k]] = all.errors_in_window[k];
    errors_total += all.errors[k];
    errors_window += all.errors_in_window[k];
  }
  json close_codes = json::object();
  for (const auto& [code, n] : all.close_codes) close_codes[std::to_string(code)] = n;

  json out = {
      {"protocol", protocol},
      {"mode", mode},
      {"connections", opt.connections},
      {"connections_opened_in_ramp", opened},
      {"ramp_s", ramp_s},
      {"threads", opt.threads},
      {"messages_per_buyer", opt.messages_per_buyer},
      {"warmup_s", opt.warmup_s},
      {"duration_s", window_s},
      {"offered_per_s", opt.mode == loop_kind::open ? json(opt.rate) : json(nullptr)},
      {"spacing", opt.mode == loop_kind::open ? json(spacing) : json(nullptr)},
      {"answered", all.answered},
      {"answered_per_s", per_s},
      {"latency_ms", percentiles(all.latency)},
      {"conversations_opened", all.conversations},
      {"conversations_per_s", static_cast<double>(all.conversations) / window_s},
      {"setup_ms", percentiles(all.setup)},
      {"acked_without_reply", all.acked_without_reply},
      {"unsolicited_replies", all.unsolicited},
      {"errors", errors_total},
      {"errors_in_window", errors_window},
      {"error_kinds", errors},
      {"error_kinds_in_window", errors_in_window},
      {"close_codes", close_codes},
      {"error_codes", all.error_codes},
      {"in_flight_at_end", all.in_flight_at_end},
      {"unsent_at_end", all.unsent_at_end},
      {"oldest_at_end_ms", static_cast<double>(all.oldest_at_end_us) / 1000.0},
      {"client_cpu_s", self_after.cpu_s - self_before.cpu_s},
  };
  if (opt.server_pid != 0) {
    json server = {{"pid", opt.server_pid}};
    if (server_before.ok && server_after.ok) {
      const double cpu = server_after.cpu_s - server_before.cpu_s;
      server["cpu_s"] = cpu;
      server["cpu_cores"] = cpu / window_s;
      server["cpu_us_per_answered"] =
          all.answered ? json(cpu * 1e6 / static_cast<double>(all.answered)) : json(nullptr);
      auto per = [&](const std::optional<std::uint64_t>& a, const std::optional<std::uint64_t>& b,
                     const char* total, const char* each) {
        if (!a || !b) {
          server[total] = nullptr;
          server[each] = nullptr;
          return;
        }
        server[total] = *b - *a;
        server[each] = all.answered
                           ? json(static_cast<double>(*b - *a) / static_cast<double>(all.answered))
                           : json(nullptr);
      };
      per(server_before.write_bytes, server_after.write_bytes, "write_bytes",
          "write_bytes_per_answered");
      per(server_before.wchar, server_after.wchar, "wchar", "wchar_per_answered");
      server["rss_kb"] = server_after.rss_kb ? json(*server_after.rss_kb) : json(nullptr);
    } else {
      server["error"] = "cannot read /proc/" + std::to_string(opt.server_pid);
    }
    out["server"] = server;
  }

  if (opt.json_out) {
    std::cout << out.dump() << std::endl;
    return 0;
  }

  const auto ms = [](const histogram& h, double p) { return h.percentile_ms(p); };
  std::printf(
      "turn_load: %s, %s loop, %zu connections (%zu opened in %.1f s), %u client thread%s,"
      " %u messages a buyer\n",
      protocol.c_str(), mode.c_str(), opt.connections, opened, ramp_s, opt.threads,
      opt.threads == 1 ? "" : "s", opt.messages_per_buyer);
  if (opt.mode == loop_kind::open) {
    std::printf("offered %.1f messages/s (%s)\n", opt.rate, spacing.c_str());
  }
  std::printf("answered %llu in %.2f s after %.1f s warm-up: %.1f/s\n",
              static_cast<unsigned long long>(all.answered), window_s, opt.warmup_s, per_s);
  std::printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
              ms(all.latency, 0.5), ms(all.latency, 0.9), ms(all.latency, 0.99),
              ms(all.latency, 0.999), all.latency.max_ms());
  std::printf("conversations opened %llu (%.1f/s), setup ms: p50 %.2f  p99 %.2f  max %.2f\n",
              static_cast<unsigned long long>(all.conversations),
              static_cast<double>(all.conversations) / window_s, ms(all.setup, 0.5),
              ms(all.setup, 0.99), all.setup.max_ms());
  std::printf("errors %llu (in the window %llu):", static_cast<unsigned long long>(errors_total),
              static_cast<unsigned long long>(errors_window));
  for (std::size_t k = 0; k < e_count; ++k) {
    if (all.errors[k] != 0) {
      std::printf(" %s %llu", k_error_names[k], static_cast<unsigned long long>(all.errors[k]));
    }
  }
  for (const auto& [code, n] : all.close_codes) {
    std::printf(" close-%d x%llu", code, static_cast<unsigned long long>(n));
  }
  for (const auto& [code, n] : all.error_codes) {
    std::printf(" %s x%llu", code.c_str(), static_cast<unsigned long long>(n));
  }
  std::printf("\n");
  std::printf(
      "acked without reply %llu, unsolicited replies %llu; at the end %llu in flight, %llu"
      " unsent, the oldest due %.1f ms before\n",
      static_cast<unsigned long long>(all.acked_without_reply),
      static_cast<unsigned long long>(all.unsolicited),
      static_cast<unsigned long long>(all.in_flight_at_end),
      static_cast<unsigned long long>(all.unsent_at_end),
      static_cast<double>(all.oldest_at_end_us) / 1000.0);
  std::printf("client cpu %.2f s\n", self_after.cpu_s - self_before.cpu_s);
  if (opt.server_pid != 0) {
    const auto& s = out["server"];
    if (s.contains("error")) {
      std::printf("server: %s\n", s["error"].get<std::string>().c_str());
    } else {
      const auto num = [](const json& v, const char* format) {
        if (!v.is_number()) return std::string("-");
        char text[64];
        std::snprintf(text, sizeof text, format, v.get<double>());
        return std::string(text);
      };
      std::printf(
          "server pid %d: cpu %.2f s (%.2f cores), %s µs per answered; write_bytes %s B,"
          " wchar %s B per answered; rss %s kB\n",
          opt.server_pid, s["cpu_s"].get<double>(), s["cpu_cores"].get<double>(),
          num(s["cpu_us_per_answered"], "%.1f").c_str(),
          num(s["write_bytes_per_answered"], "%.0f").c_str(),
          num(s["wchar_per_answered"], "%.0f").c_str(), num(s["rss_kb"], "%.0f").c_str());
    }
  }
  return 0;
}
