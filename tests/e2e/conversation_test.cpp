// End-to-end: whole conversations through evidence prompts to handoff, reminders delivered live,
// and reloading the files while buyers talk.

#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <fstream>

#include "e2e/server_process.hpp"

namespace shouhou::e2e {
namespace {

namespace http = beast::http;

// The first line of a file (a token).
std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

std::string read_whole(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

http::response<http::string_body> request(unsigned short port, http::verb verb,
                                          const std::string& target, const std::string& token) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res;
}

std::vector<std::string> items(const json& reply) {
  std::vector<std::string> out;
  for (const auto& r : reply["requests"]) out.push_back(r["item"]);
  return out;
}

class Conversation : public ::testing::Test {
 protected:
  temp_dir data_;
  server_process server_{data_.path()};
};

TEST_F(Conversation, NotReceivedWalksThroughItsChecklistToHandoff) {
  ws_client c(server_.port());
  c.hello("shop-1", "buyer-1");
  auto f = c.say("m1", "快递一直没到，物流也不更新");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(items(f[1]), (std::vector<std::string>{"order_no", "waybill_no", "sign_place"}));

  f = c.say("m2", "订单号 1234567890123");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1]["kind"], "follow_up");
  EXPECT_EQ(items(f[1]), (std::vector<std::string>{"waybill_no", "sign_place"}))
      << "never asks again for the order number";
  EXPECT_EQ(f[1]["reason"], "not_received");

  f = c.say("m3", "运单号 SF1234567890123");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(items(f[1]), (std::vector<std::string>{"sign_place"}));

  f = c.say("m4", "显示放在驿站了，可我去问了说没有");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1]["kind"], "handoff");
  EXPECT_EQ(f[1]["phase"], "handed_off");

  // A person has it now: the bot acknowledges and stays quiet.
  f = c.say("m5", "还有多久");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]["replies"], 0);
}

TEST_F(Conversation, ARefundRequestIsRefinedToItsReasonAndThePersonIsAskedFor) {
  ws_client c(server_.port());
  c.hello("shop-1", "buyer-2");
  auto f = c.say("m1", "我要退货");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1]["reason"], "refund_request");
  EXPECT_FALSE(f[1]["quick_replies"].empty());

  f = c.say("m2", "收到货发现屏幕碎了");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1]["reason"], "damaged");
  EXPECT_EQ(f[1]["kind"], "answer");
  EXPECT_FALSE(f[1]["requests"].empty());

  f = c.say("m3", "我要转人工");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1]["kind"], "handoff");
  EXPECT_EQ(f[1]["reason"], "damaged") << "asking for a person keeps the reason";
}

TEST_F(Conversation, AComplaintHandsOffAtOnce) {
  ws_client c(server_.port());
  c.hello("shop-1", "buyer-3");
  auto f = c.say("m1", "少了一个，只收到两件，我要投诉你们");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1]["kind"], "handoff");
  EXPECT_EQ(f[1]["reason"], "missing_item");
  EXPECT_EQ(f[1]["phase"], "handed_off");
}

TEST_F(Conversation, TheStateSurvivesAReconnect) {
  std::string conv;
  {
    ws_client c(server_.port());
    conv = c.hello("shop-1", "buyer-4")["conversation"];
    c.say("m1", "快递一直没到");
    c.say("m2", "订单号 1234567890123");
  }
  ws_client c(server_.port());
  auto welcome = c.hello("shop-1", "buyer-4", conv);
  EXPECT_EQ(welcome["phase"], "collecting");
  EXPECT_EQ(welcome["reason"], "not_received");
  auto f = c.say("m3", "运单号 SF1234567890123");
  EXPECT_EQ(items(f[1]), (std::vector<std::string>{"sign_place"}));
}

TEST(ConversationReminders, ASilentBuyerIsRemindedLiveThenHandedOff) {
  temp_dir data;
  server_process server(data.path(), {"--reminder-after", "1", "--max-reminders", "1"});
  ws_client c(server.port());
  c.hello("shop-1", "buyer-5");
  c.say("m1", "快递一直没到");
  auto reminder = c.read();  // within a few seconds, unasked
  EXPECT_EQ(reminder["type"], "reply");
  EXPECT_EQ(reminder["kind"], "reminder");
  EXPECT_FALSE(reminder.contains("in_reply_to"));
  EXPECT_EQ(reminder["requests"].size(), 3u);
  auto handoff = c.read();
  EXPECT_EQ(handoff["kind"], "handoff");
  EXPECT_EQ(handoff["phase"], "handed_off");
}

TEST_F(Conversation, AdminEndpointsNeedTheToken) {
  const std::string token = read_file(data_.path() / "admin.token");
  ASSERT_EQ(token.size(), 48u);
  EXPECT_EQ(request(server_.port(), http::verb::post, "/v1/admin/reload", "").result(),
            http::status::unauthorized);
  EXPECT_EQ(request(server_.port(), http::verb::post, "/v1/admin/reload", "wrong").result(),
            http::status::unauthorized);
  EXPECT_EQ(request(server_.port(), http::verb::get, "/v1/admin/status", "").result(),
            http::status::unauthorized);
  auto status = request(server_.port(), http::verb::get, "/v1/admin/status", token);
  EXPECT_EQ(status.result(), http::status::ok);
  EXPECT_FALSE(json::parse(status.body())["version"].get<std::string>().empty());
}

// Copies of the shipped files that the test may change.
struct editable_files {
  explicit editable_files(const std::filesystem::path& root) : dir(root) {
    using std::filesystem::copy;
    using std::filesystem::copy_options;
    copy(SHOUHOU_SHIPPED_INTENTS, dir / "intents", copy_options::recursive);
    copy(SHOUHOU_SHIPPED_REPLIES, dir / "replies", copy_options::recursive);
    std::filesystem::copy_file(SHOUHOU_SHIPPED_POLICY, dir / "policy.yaml");
  }
  std::vector<std::string> flags() const {
    return {"--intents", (dir / "intents").string(), "--replies", (dir / "replies").string(),
            "--policy", (dir / "policy.yaml").string()};
  }
  void misspell_damaged_request() const { edit_damaged("  request:", "  requst: 坏"); }
  // Replaces the damaged reply's request text.
  void set_damaged_request(const std::string& text) const {
    edit_damaged("  request:", "  request: " + text);
  }
  void edit_damaged(const std::string& prefix, const std::string& replacement) const {
    auto path = dir / "replies" / "damaged.yaml";
    std::ifstream in(path);
    std::string all((std::istreambuf_iterator<char>(in)), {}), out, line;
    std::istringstream lines(all);
    while (std::getline(lines, line)) {
      if (line.rfind(prefix, 0) == 0) line = replacement;
      out += line + "\n";
    }
    std::ofstream(path) << out;
  }
  std::filesystem::path dir;
};

TEST(ConversationReload, NewMessagesGetTheNewTextAndABrokenFileIsRefused) {
  temp_dir root;
  editable_files files(root.path());
  std::filesystem::create_directories(root.path() / "data");
  server_process server(root.path() / "data", files.flags());
  const std::string token = read_file(root.path() / "data" / "admin.token");

  // Conversations running before and across the reload.
  ws_client before(server.port());
  before.hello("shop-1", "buyer-6");
  auto old_reply = before.say("m1", "收到的杯子碎了");
  const std::string old_version = old_reply[1]["version"];

  files.set_damaged_request("请拍一张破损处的照片发给我们，新版文字。");
  auto res = request(server.port(), http::verb::post, "/v1/admin/reload", token);
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  const std::string new_version = json::parse(res.body())["version"];
  EXPECT_NE(new_version, old_version);

  ws_client after(server.port());
  EXPECT_EQ(after.hello("shop-1", "buyer-7")["version"], new_version);
  auto new_reply = after.say("m1", "收到的杯子碎了");
  EXPECT_NE(new_reply[1]["text"].get<std::string>().find("新版文字"), std::string::npos);
  EXPECT_EQ(new_reply[1]["version"], new_version);
  // The conversation that was open goes on, on the new files, and lost nothing.
  auto next = before.say("m2", "订单号 1234567890123");
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[1]["version"], new_version);

  // A broken file: refused with its location; the previous files stay live.
  files.misspell_damaged_request();
  res = request(server.port(), http::verb::post, "/v1/admin/reload", token);
  EXPECT_EQ(res.result(), http::status::unprocessable_entity);
  auto body = json::parse(res.body());
  EXPECT_EQ(body["ok"], false);
  EXPECT_EQ(body["version"], new_version);
  bool located = false;  // the misspelt key, at its file, line and column
  for (const auto& e : body["errors"]) {
    located |= e["file"].get<std::string>().ends_with("damaged.yaml") && e["line"] > 1 &&
               e["column"] == 3 &&
               e["message"].get<std::string>().find("requst") != std::string::npos;
  }
  EXPECT_TRUE(located) << body.dump();
  ws_client later(server.port());
  EXPECT_EQ(later.hello("shop-1", "buyer-8")["version"], new_version);
  EXPECT_EQ(later.say("m1", "你好").size(), 2u);
}

TEST(ConversationReload, ACorruptOrStaleKeywordModelIsRefusedAndTheOldFilesServe) {
  temp_dir root;
  editable_files files(root.path());
  std::filesystem::create_directories(root.path() / "data");
  server_process server(root.path() / "data", files.flags());
  const std::string token = read_file(root.path() / "data" / "admin.token");
  ws_client c(server.port());
  const std::string version = c.hello("shop-1", "buyer-10")["version"];
  const auto model = files.dir / "intents" / "keyword.model";
  const std::string good = read_whole(model);

  // A byte flipped in the weights: refused, located at the model file.
  std::string bad = good;
  bad[bad.size() / 2] ^= 0x20;
  std::ofstream(model, std::ios::binary | std::ios::trunc) << bad;
  auto res = request(server.port(), http::verb::post, "/v1/admin/reload", token);
  EXPECT_EQ(res.result(), http::status::unprocessable_entity);
  auto body = json::parse(res.body());
  EXPECT_EQ(body["version"], version);
  ASSERT_FALSE(body["errors"].empty());
  EXPECT_TRUE(body["errors"][0]["file"].get<std::string>().ends_with("keyword.model"))
      << body.dump();
  EXPECT_NE(body["errors"][0]["message"].get<std::string>().find("checksum"), std::string::npos)
      << body.dump();
  auto f = c.say("m1", "收到的杯子碎了");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1]["reason"], "damaged");
  EXPECT_EQ(f[1]["version"], version);

  // The model back, but a rule changed since it was trained: refused at the rule.
  std::ofstream(model, std::ios::binary | std::ios::trunc) << good;
  {
    const auto rules = files.dir / "intents" / "damaged.yaml";
    std::string text = read_whole(rules);
    const std::size_t at = text.find("碎了|");
    ASSERT_NE(at, std::string::npos);
    text.insert(at, "碎成渣|");
    std::ofstream(rules, std::ios::binary | std::ios::trunc) << text;
  }
  res = request(server.port(), http::verb::post, "/v1/admin/reload", token);
  EXPECT_EQ(res.result(), http::status::unprocessable_entity);
  body = json::parse(res.body());
  EXPECT_TRUE(body["errors"][0]["file"].get<std::string>().ends_with("damaged.yaml"))
      << body.dump();
  EXPECT_NE(body["errors"][0]["message"].get<std::string>().find("intents train"),
            std::string::npos);
  EXPECT_EQ(c.say("m2", "快递一直没到").size(), 2u);
}

TEST(ConversationReload, SighupReloadsToo) {
  temp_dir root;
  editable_files files(root.path());
  std::filesystem::create_directories(root.path() / "data");
  server_process server(root.path() / "data", files.flags());
  ws_client c(server.port());
  const std::string old_version = c.hello("shop-1", "buyer-9")["version"];
  files.set_damaged_request("挂起信号之后的新文字。");
  server.signal(SIGHUP);
  const std::string token = read_file(root.path() / "data" / "admin.token");
  std::string version = old_version;
  for (int i = 0; i < 100 && version == old_version; ++i) {  // the reload is asynchronous
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    version = json::parse(
        request(server.port(), http::verb::get, "/v1/admin/status", token).body())["version"];
  }
  EXPECT_NE(version, old_version);
  EXPECT_NE(c.say("m1", "收到的杯子碎了")[1]["text"].get<std::string>().find("挂起信号"),
            std::string::npos);
}

}  // namespace
}  // namespace shouhou::e2e
