#include "connectors/protocol.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace shouhou::connectors {
namespace {

const frame_limits k_limits{10, 16};

frame_error error_of(std::string_view json) {
  auto frame = parse_client_frame(json, k_limits);
  auto* e = std::get_if<frame_error>(&frame);
  EXPECT_NE(e, nullptr) << json;
  return e ? *e : frame_error{};
}

TEST(ProtocolParse, HelloWithAndWithoutConversation) {
  auto frame = parse_client_frame(R"({"type":"hello","shop":"s1","buyer":"b1"})", k_limits);
  ASSERT_TRUE(std::holds_alternative<hello_frame>(frame));
  EXPECT_EQ(std::get<hello_frame>(frame).shop, "s1");
  EXPECT_EQ(std::get<hello_frame>(frame).conversation, "");
  frame = parse_client_frame(R"({"type":"hello","shop":"s","buyer":"b","conversation":"c9"})",
                             k_limits);
  EXPECT_EQ(std::get<hello_frame>(frame).conversation, "c9");
}

TEST(ProtocolParse, MessageAcceptsStringOrIntegerIdAndOptionalOrder) {
  auto frame = parse_client_frame(R"({"type":"message","id":"m1","text":"你好","order":"123"})",
                                  k_limits);
  ASSERT_TRUE(std::holds_alternative<message_frame>(frame));
  EXPECT_EQ(std::get<message_frame>(frame).text, "你好");
  EXPECT_EQ(std::get<message_frame>(frame).order, "123");
  frame = parse_client_frame(R"({"type":"message","id":42,"text":"hi"})", k_limits);
  EXPECT_EQ(std::get<message_frame>(frame).id, "42");
}

TEST(ProtocolParse, EveryBadFrameGetsItsCode) {
  EXPECT_EQ(error_of("{not json").code, "invalid_json");
  EXPECT_EQ(error_of("[1,2]").code, "invalid_frame");
  EXPECT_EQ(error_of(R"({"shop":"s"})").code, "missing_field");
  EXPECT_EQ(error_of(R"({"type":7})").code, "wrong_type");
  EXPECT_EQ(error_of(R"({"type":"bye"})").code, "unknown_type");
  EXPECT_EQ(error_of(R"({"type":"hello","buyer":"b"})").code, "missing_field");
  EXPECT_EQ(error_of(R"({"type":"hello","shop":"","buyer":"b"})").code, "missing_field");
  EXPECT_EQ(error_of(R"({"type":"hello","shop":["s"],"buyer":"b"})").code, "wrong_type");
  EXPECT_EQ(error_of(R"({"type":"hello","shop":"a-very-long-shop-name","buyer":"b"})").code,
            "field_too_long");
  EXPECT_EQ(error_of(R"({"type":"message","text":"hi"})").code, "missing_field");
  EXPECT_EQ(error_of(R"({"type":"message","id":1.5,"text":"hi"})").code, "wrong_type");
  EXPECT_EQ(error_of(R"({"type":"message","id":"m","text":""})").code, "missing_field");
  EXPECT_EQ(error_of(R"({"type":"message","id":"m","text":3})").code, "wrong_type");
  EXPECT_EQ(error_of(R"({"type":"message","id":"m","text":"hi","order":5})").code, "wrong_type");
}

TEST(ProtocolParse, ErrorNamesTheFieldAndKeepsTheMessageId) {
  auto e = error_of(R"({"type":"message","id":"m7","text":5})");
  EXPECT_NE(e.message.find("\"text\""), std::string::npos) << e.message;
  EXPECT_EQ(e.id, "m7");
}

TEST(ProtocolParse, TextLimitCountsCharactersNotBytes) {
  // Ten Chinese characters are 30 bytes but within a 10-character limit.
  auto ok = parse_client_frame(R"({"type":"message","id":"m","text":"一二三四五六七八九十"})",
                               k_limits);
  EXPECT_TRUE(std::holds_alternative<message_frame>(ok));
  auto e = error_of(R"({"type":"message","id":"m","text":"一二三四五六七八九十一"})");
  EXPECT_EQ(e.code, "text_too_long");
  EXPECT_EQ(e.id, "m");
}

TEST(ProtocolParse, Utf8LengthCountsCodePoints) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("abc"), 3u);
  EXPECT_EQ(utf8_length("碎了"), 2u);
  EXPECT_EQ(utf8_length("😀a"), 2u);
}

TEST(ProtocolWrite, FramesAreValidJsonWithTheirFields) {
  auto ack = nlohmann::json::parse(ack_frame("m1", true, 0));
  EXPECT_EQ(ack["type"], "ack");
  EXPECT_EQ(ack["id"], "m1");
  EXPECT_EQ(ack["duplicate"], true);
  EXPECT_EQ(ack["replies"], 0);

  bot::conversation_state state;
  state.phase = bot::phase::collecting;
  state.reason = "damaged";
  state.confidence = 0.9;
  store::conversation conv;
  conv.phase = "collecting";
  conv.state = bot::to_json(state);
  bot::bot_message m{"answer", "抱歉", {{"box_photo", "photo", "外箱照片", "核实运输破损"}}, {"好的"}};
  intents::classification c;
  c.reason = "damaged";
  c.confidence = 0.8;
  c.runner_up = "quality_issue";
  auto reply = nlohmann::json::parse(reply_frame(m, conv, "m1", &c, "v1"));
  EXPECT_EQ(reply["type"], "reply");
  EXPECT_EQ(reply["kind"], "answer");
  EXPECT_EQ(reply["in_reply_to"], "m1");
  EXPECT_EQ(reply["reason"], "damaged");
  EXPECT_EQ(reply["phase"], "collecting");
  EXPECT_EQ(reply["requests"][0]["item"], "box_photo");
  EXPECT_EQ(reply["requests"][0]["type"], "photo");
  EXPECT_EQ(reply["quick_replies"][0], "好的");
  EXPECT_EQ(reply["version"], "v1");
  EXPECT_EQ(reply["message"]["runner_up"], "quality_issue");

  auto reminder = nlohmann::json::parse(reply_frame(m, conv, "", nullptr, "v1"));
  EXPECT_FALSE(reminder.contains("in_reply_to"));
  EXPECT_FALSE(reminder.contains("message"));

  auto err = nlohmann::json::parse(error_frame({"wrong_type", "bad", "m2"}));
  EXPECT_EQ(err["code"], "wrong_type");
  EXPECT_EQ(err["id"], "m2");
}

TEST(ProtocolWrite, InvalidUtf8InTextIsReplacedNotThrown) {
  bot::bot_message m;
  m.text = std::string("ok\xff\xfe", 4);
  EXPECT_NO_THROW(nlohmann::json::parse(reply_frame(m, {}, "m", nullptr, "v")));
}

TEST(ProtocolWrite, WelcomeReplaysHistoryWithPayload) {
  bot::open_result opened;
  opened.what = bot::open_result::outcome::resumed;
  opened.conversation.id = "c1";
  store::message in;
  in.seq = 1;
  in.dir = store::direction::inbound;
  in.client_id = "m1";
  in.text = "碎了";
  store::message out;
  out.seq = 2;
  out.dir = store::direction::outbound;
  out.text = "抱歉";
  out.payload = R"({"requests":[{"item":"x"}],"quick_replies":[]})";
  opened.history = {in, out};
  auto w = nlohmann::json::parse(welcome_frame(opened));
  EXPECT_EQ(w["conversation"], "c1");
  EXPECT_EQ(w["resumed"], true);
  ASSERT_EQ(w["history"].size(), 2u);
  EXPECT_EQ(w["history"][0]["from"], "buyer");
  EXPECT_EQ(w["history"][0]["id"], "m1");
  EXPECT_EQ(w["history"][1]["from"], "bot");
  EXPECT_EQ(w["history"][1]["requests"][0]["item"], "x");
}

}  // namespace
}  // namespace shouhou::connectors
