// End-to-end: a helpdesk behind the webhook hears of every case, even when it was down while the
// cases happened: the server started with --webhook-url, the helpdesk an HTTP server of this test
// on a port chosen at run time, stopped and started again on the same port.

#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <set>

#include "connectors/webhook/signature.hpp"
#include "e2e/server_process.hpp"

namespace shouhou::e2e {
namespace {

namespace http = beast::http;

constexpr const char* k_secret = "helpdesk-shared-secret";

struct delivery {
  std::string event;
  std::string id;
  std::string signature;
  std::string body;
};

// The helpdesk: records what it is sent; runs on its own thread until destroyed.
class helpdesk {
 public:
  // port 0: any free port; else that port (to come back where the bot expects us).
  explicit helpdesk(int port = 0) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      got_.push_back({req.get_header_value("X-Shouhou-Event"),
                      req.get_header_value("X-Shouhou-Delivery"),
                      req.get_header_value("X-Shouhou-Signature"), req.body});
      res.status = 200;
    });
    port_ = port == 0 ? server_.bind_to_any_port("127.0.0.1")
                      : (server_.bind_to_port("127.0.0.1", port) ? port : -1);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the loop runs would be lost, and the destructor's join would wait forever.
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~helpdesk() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<delivery> received() {
    std::lock_guard lock(mutex_);
    return got_;
  }
  // Waits (bounded) until `n` deliveries came.
  std::vector<delivery> wait_for(std::size_t n) {
    for (int i = 0; i < 300 && received().size() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return received();
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::mutex mutex_;
  std::vector<delivery> got_;
};

TEST(Webhook, AHelpdeskThatWasDownGetsEveryCaseEventOnceInOrder) {
  temp_dir data;
  const std::string alice = agent_token(data.path(), "alice");
  int port = 0;
  {
    helpdesk probe;  // only to learn a free port; it goes down at once
    port = probe.port();
  }
  ASSERT_GT(port, 0);
  server_process server{data.path(),
                        {"--webhook-url", "http://127.0.0.1:" + std::to_string(port) + "/hook",
                         "--webhook-secret", k_secret, "--webhook-retry-min", "50",
                         "--webhook-retry-max", "200", "--webhook-timeout", "2"}};

  // While the helpdesk is down: a case is opened, claimed and resolved.
  ws_client buyer(server.port());
  buyer.hello("shop-1", "buyer-hook");
  buyer.say("m1", "收到的杯子碎了一个");
  buyer.say("m2", "我要转人工");
  auto listed = http_call(server.port(), http::verb::get, "/v1/cases", alice);
  ASSERT_EQ(listed.parsed()["queue"].size(), 1u) << listed.body;
  const std::string id = listed.parsed()["queue"][0]["id"];
  const std::string base = "/v1/cases/" + id;
  ASSERT_EQ(http_call(server.port(), http::verb::post, base + "/claim", alice).status, 200);
  ASSERT_EQ(http_call(server.port(), http::verb::post, base + "/resolve", alice,
                      R"({"outcome":"reissue","note":"补发一个新杯子"})")
                .status,
            200);
  // Long enough for several failed attempts each (retries every 50-200 ms).
  std::this_thread::sleep_for(std::chrono::seconds(1));

  helpdesk desk(port);
  ASSERT_EQ(desk.port(), port);
  auto got = desk.wait_for(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].event, "case.created");
  EXPECT_EQ(got[1].event, "case.claimed");
  EXPECT_EQ(got[2].event, "case.resolved");
  std::set<std::string> ids;
  for (const auto& d : got) {
    EXPECT_TRUE(connectors::webhook::verify_signature(k_secret, d.body, d.signature)) << d.body;
    EXPECT_FALSE(connectors::webhook::verify_signature("another secret", d.body, d.signature));
    json body = json::parse(d.body);
    EXPECT_EQ(body["type"], d.event);
    EXPECT_EQ(body["case"]["id"], id);
    ids.insert(d.id);
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(json::parse(got[2].body)["case"]["outcome"]["kind"], "reissue");

  // Delivered means done: nothing comes again (several retry periods later).
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_EQ(desk.received().size(), 3u);
}

}  // namespace
}  // namespace shouhou::e2e
