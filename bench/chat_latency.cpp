// Loopback load for a running `shouhou serve`: B buyers, each on its own connection and thread,
// each opening a new conversation and sending M messages one after another (send, then wait for
// the reply). Prints the time from sending a message to receiving its first reply, as
// percentiles, and the messages per second all buyers together got answered.
//
//   chat_latency PORT [BUYERS=1] [MESSAGES=200]
//
// With BUYERS=1 it measures the first reply on an idle server; with many buyers it shows how
// group commit shares each fsync among them.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

const char* k_texts[] = {"快递一直没到，物流也不更新", "收到的杯子碎了", "才用了两天就坏了",
                         "我要退款", "订单号 1234567890123", "你好，在吗"};

std::vector<double> run_buyer(unsigned short port, int index, int messages) {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws(ioc);
  beast::get_lowest_layer(ws).connect({net::ip::make_address("127.0.0.1"), port});
  ws.handshake("127.0.0.1", "/v1/chat");
  ws.text(true);
  beast::flat_buffer buffer;
  auto read = [&] {
    buffer.consume(buffer.size());
    ws.read(buffer);
    return json::parse(beast::buffers_to_string(buffer.data()));
  };
  ws.write(net::buffer(
      json{{"type", "hello"}, {"shop", "bench"}, {"buyer", "b" + std::to_string(index)}}.dump()));
  read();
  std::vector<double> ms;
  for (int i = 0; i < messages; ++i) {
    const std::string frame =
        json{{"type", "message"}, {"id", i}, {"text", k_texts[i % std::size(k_texts)]}}.dump();
    const auto start = clock_type::now();
    ws.write(net::buffer(frame));
    json ack = read();
    int replies = ack.value("replies", 0);
    if (replies > 0) {
      read();  // the first reply is the one the buyer waits for
      ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
      for (int r = 1; r < replies; ++r) read();
    }
  }
  ws.close(websocket::close_code::normal);
  return ms;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: chat_latency PORT [BUYERS=1] [MESSAGES=200]\n");
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::stoi(argv[1]));
  const int buyers = argc > 2 ? std::stoi(argv[2]) : 1;
  const int messages = argc > 3 ? std::stoi(argv[3]) : 200;
  std::mutex mutex;
  std::vector<double> all;
  std::vector<std::thread> threads;
  const auto start = clock_type::now();
  for (int b = 0; b < buyers; ++b) {
    threads.emplace_back([&, b] {
      auto ms = run_buyer(port, b, messages);
      std::lock_guard lock(mutex);
      all.insert(all.end(), ms.begin(), ms.end());
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  std::sort(all.begin(), all.end());
  std::printf("buyers %d, replies %zu, %.0f replies/s; first reply ms: p50 %.2f p90 %.2f p99 %.2f max %.2f\n",
              buyers, all.size(), static_cast<double>(all.size()) / seconds, percentile(all, 0.5),
              percentile(all, 0.9), percentile(all, 0.99), all.empty() ? 0 : all.back());
  return 0;
}
