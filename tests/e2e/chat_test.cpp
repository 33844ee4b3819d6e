// End-to-end: the real server on a loopback port, spoken to over real WebSockets.

#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <fstream>

#include "e2e/server_process.hpp"

namespace shouhou::e2e {
namespace {

class Chat : public ::testing::Test {
 protected:
  temp_dir data_;
  std::unique_ptr<server_process> server_ = std::make_unique<server_process>(data_.path());
};

TEST_F(Chat, HelloStartsAConversationAndAMessageGetsAckThenReply) {
  ws_client c(server_->port());
  auto welcome = c.hello("shop-1", "buyer-1");
  EXPECT_EQ(welcome["type"], "welcome");
  EXPECT_EQ(welcome["resumed"], false);
  EXPECT_EQ(welcome["conversation"].get<std::string>().size(), 32u);
  EXPECT_FALSE(welcome["version"].get<std::string>().empty());

  auto frames = c.say("m1", "快递一直没到，物流也不更新");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0]["type"], "ack");
  EXPECT_EQ(frames[0]["id"], "m1");
  EXPECT_EQ(frames[1]["type"], "reply");
  EXPECT_EQ(frames[1]["in_reply_to"], "m1");
  EXPECT_EQ(frames[1]["reason"], "not_received");
  EXPECT_GT(frames[1]["confidence"].get<double>(), 0.0);
  EXPECT_FALSE(frames[1]["text"].get<std::string>().empty());
}

// One plain message per refund reason, in words of our own; each gets the reply for its reason.
TEST_F(Chat, EveryReasonGetsItsApologyAndInformationRequest) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"quality_issue", "才用了两天就坏了，开不了机"},
      {"not_as_described", "实物和图片不一样，色差太大了"},
      {"wrong_item", "你们发错货了，我买的是黑色的"},
      {"missing_item", "少了一个，只收到两件"},
      {"damaged", "收到的时候杯子已经碎了"},
      {"not_received", "快递一直没到，物流也不更新"},
      {"late_shipment", "都三天了怎么还不发货"},
      {"counterfeit", "这是假货吧，根本不是正品"},
      {"changed_mind", "不想要了，我要七天无理由退货"},
      {"mistaken_purchase", "不好意思我拍错了，能取消吗"},
      {"refund_request", "我要退款"},
      {"refund_progress", "退款什么时候到账"},
      {"other", "你好，在吗"},
  };
  for (const auto& [reason, text] : cases) {
    ws_client c(server_->port());
    c.hello("shop-1", "buyer-2");
    auto frames = c.say("m1", text);
    ASSERT_EQ(frames.size(), 2u) << text;
    const auto& reply = frames[1];
    EXPECT_EQ(reply["reason"], reason) << text;
    EXPECT_EQ(reply["message"]["reason"], reason) << text;
    EXPECT_EQ(reply["kind"], "answer") << text;
    EXPECT_FALSE(reply["text"].get<std::string>().empty()) << text;
    if (reason != "other" && reason != "refund_request") {
      EXPECT_FALSE(reply["requests"].empty()) << reason << " asks for nothing";
    }
    if (reason == "refund_request") {
      EXPECT_FALSE(reply["quick_replies"].empty());
    }
  }
}

TEST_F(Chat, ResentMessageIdIsAcknowledgedAgainButNotProcessedTwice) {
  std::string conv;
  {
    ws_client c(server_->port());
    conv = c.hello("shop-1", "buyer-3")["conversation"];
    ASSERT_EQ(c.say("m1", "收到货发现屏幕碎了").size(), 2u);
    auto again = c.say("m1", "收到货发现屏幕碎了");
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0]["type"], "ack");
    EXPECT_EQ(again[0]["duplicate"], true);
  }
  ws_client c(server_->port());
  auto welcome = c.hello("shop-1", "buyer-3", conv);
  EXPECT_EQ(welcome["history"].size(), 2u) << welcome.dump();
}

TEST_F(Chat, BadFramesGetErrorsAndTheConnectionStaysOpen) {
  ws_client c(server_->port());
  auto expect_error = [&](const std::string& frame, const std::string& code) {
    c.send(frame);
    auto e = c.read();
    EXPECT_EQ(e["type"], "error") << frame;
    EXPECT_EQ(e["code"], code) << frame;
    EXPECT_FALSE(e["message"].get<std::string>().empty());
  };
  expect_error("{\"type\":", "invalid_json");
  expect_error(R"({"type":"message","id":"m1","text":"你好"})", "no_conversation");
  expect_error(R"({"type":"dance"})", "unknown_type");
  expect_error(R"({"type":"hello","shop":"s"})", "missing_field");
  expect_error(R"({"type":"hello","shop":"s","buyer":5})", "wrong_type");
  c.hello("shop-1", "buyer-4");
  expect_error(R"({"type":"message","id":"m1"})", "missing_field");
  expect_error(R"({"type":"message","id":"m1","text":")" + std::string(2001, 'a') + "\"}",
               "text_too_long");
  expect_error(R"({"type":"hello","shop":"s","buyer":"b"})", "already_open");
  // Still serving this connection.
  EXPECT_EQ(c.say("m2", "你好").size(), 2u);
}

TEST_F(Chat, UnknownOrForeignConversationIsRefused) {
  std::string conv;
  {
    ws_client c(server_->port());
    conv = c.hello("shop-1", "buyer-5")["conversation"];
  }
  ws_client c(server_->port());
  auto e = c.hello("shop-1", "buyer-5", "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(e["code"], "unknown_conversation");
  e = c.hello("shop-1", "intruder", conv);
  EXPECT_EQ(e["code"], "not_your_conversation");
  EXPECT_FALSE(e.contains("history"));
}

TEST_F(Chat, BinaryFrameClosesWith1003AndOtherConnectionsGoOn) {
  ws_client other(server_->port());
  other.hello("shop-1", "buyer-6");
  ws_client c(server_->port());
  c.send_binary("\x01\x02");
  EXPECT_EQ(c.read_until_closed(), 1003);
  EXPECT_EQ(other.say("m1", "你好").size(), 2u);
}

TEST_F(Chat, InvalidUtf8ClosesWith1007) {
  ws_client c(server_->port());
  c.send(std::string("{\"type\":\"hello\",\"shop\":\"\xff\xfe\",\"buyer\":\"b\"}"));
  EXPECT_EQ(c.read_until_closed(), 1007);
  ws_client after(server_->port());
  EXPECT_EQ(after.hello("shop-1", "buyer-7")["type"], "welcome");
}

TEST(ChatLimits, FrameOverTheLimitClosesWith1009) {
  temp_dir data;
  server_process server(data.path(), {"--max-frame-bytes", "1024"});
  // Only the header of a 2000-byte text frame: the server must refuse it from the declared
  // length alone, and no unread payload can turn its close into a reset.
  net::io_context ioc;
  tcp::socket s = raw_upgrade(ioc, server.port());
  const unsigned char header[] = {0x81, 0x80 | 126, 0x07, 0xD0, 1, 2, 3, 4};
  net::write(s, net::buffer(header));
  beast::error_code ec;
  const std::string received = read_to_end(s, ec);
  // The close frame: opcode 0x88, length 2, status 1009 (0x03F1).
  EXPECT_NE(received.find("\x88\x02\x03\xF1"), std::string::npos);
  ws_client after(server.port());
  EXPECT_EQ(after.hello("shop-1", "buyer-8")["type"], "welcome");
}

TEST(ChatLimits, SilentClientIsClosedAfterTheIdleTimeout) {
  temp_dir data;
  server_process server(data.path(), {"--idle-timeout", "1"});
  // A raw TCP client that upgrades and then never answers the server's pings.
  net::io_context ioc;
  tcp::socket s = raw_upgrade(ioc, server.port());
  beast::error_code ec;
  const std::string received = read_to_end(s, ec);
  // The server ended the connection by itself (end of file, not our receive timeout).
  EXPECT_EQ(ec, net::error::eof) << ec.message();
}

TEST(ChatRestart, ConversationSurvivesARestartOfTheServer) {
  temp_dir data;
  std::string conv;
  {
    server_process server(data.path());
    ws_client c(server.port());
    conv = c.hello("shop-1", "buyer-9")["conversation"];
    ASSERT_EQ(c.say("m1", "收到的时候杯子已经碎了").size(), 2u);
    c.close();
    EXPECT_EQ(server.stop(), 0);
  }
  server_process server(data.path());
  ws_client c(server.port());
  auto welcome = c.hello("shop-1", "buyer-9", conv);
  EXPECT_EQ(welcome["type"], "welcome");
  EXPECT_EQ(welcome["resumed"], true);
  ASSERT_EQ(welcome["history"].size(), 2u);
  EXPECT_EQ(welcome["history"][0]["from"], "buyer");
  EXPECT_EQ(welcome["history"][0]["text"], "收到的时候杯子已经碎了");
  EXPECT_EQ(welcome["history"][0]["id"], "m1");
  EXPECT_EQ(welcome["history"][1]["from"], "bot");
  EXPECT_FALSE(welcome["history"][1]["requests"].empty());
  // The old id is still known after the restart.
  auto again = c.say("m1", "收到的时候杯子已经碎了");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]["duplicate"], true);
}

TEST(ChatShutdown, SigtermClosesOpenConnectionsWithGoingAwayAndExitsZero) {
  temp_dir data;
  server_process server(data.path());
  ws_client c(server.port());
  c.hello("shop-1", "buyer-10");
  std::thread stopper([&] { EXPECT_EQ(server.stop(), 0); });
  EXPECT_EQ(c.read_until_closed(), 1001);
  stopper.join();
}

TEST_F(Chat, HealthEndpointAnswersOverPlainHttp) {
  namespace http = beast::http;
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
  http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(json::parse(res.body())["status"], "ok");
}

TEST_F(Chat, ChatCommandSendsEachInputLineAndPrintsTheFrames) {
  auto in = data_.path() / "in.txt";
  auto out = data_.path() / "out.txt";
  std::ofstream(in) << "快递一直没到\n\n你好\n";
  std::string cmd = std::string(SHOUHOU_BINARY) + " chat --json --url ws://127.0.0.1:" +
                    std::to_string(server_->port()) + "/v1/chat --shop s --buyer b < " +
                    in.string() + " > " + out.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream lines(out);
  std::vector<json> frames;
  for (std::string line; std::getline(lines, line);) frames.push_back(json::parse(line));
  ASSERT_EQ(frames.size(), 5u);  // welcome, then ack + reply per non-empty line
  EXPECT_EQ(frames[0]["type"], "welcome");
  EXPECT_EQ(frames[2]["type"], "reply");
  EXPECT_EQ(frames[2]["reason"], "not_received");
  EXPECT_EQ(frames[4]["type"], "reply");
}

}  // namespace
}  // namespace shouhou::e2e
