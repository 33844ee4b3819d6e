// End-to-end: a buyer's conversation reaches a person. Agents connect to /v1/agent with their
// tokens, get the queue and the case with everything filled in, claim it (one winner), talk to
// the buyer through the conversation while the bot stays silent, and resolve it; the same over
// the HTTP API; tokens are checked.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <future>

#include "e2e/server_process.hpp"

namespace shouhou::e2e {
namespace {

namespace http = beast::http;

// Reads frames until one satisfies `want`, skipping others (events for other cases, say).
template <class Pred>
json read_until(ws_client& c, Pred want) {
  for (int i = 0; i < 50; ++i) {
    json f = c.read();
    if (want(f)) return f;
  }
  ADD_FAILURE() << "the expected frame never came";
  return json::object();
}

json event_of(ws_client& agent, const std::string& type, const std::string& case_id = "") {
  return read_until(agent, [&](const json& f) {
    return f["type"] == "event" && f["event"] == type &&
           (case_id.empty() || f["case"]["id"] == case_id);
  });
}

json result_of(ws_client& agent, const std::string& id) {
  return read_until(agent, [&](const json& f) {
    return (f["type"] == "result" || f["type"] == "error") && f.value("id", "") == id;
  });
}

json ask(ws_client& agent, json request) {
  const std::string id = request["id"];
  agent.send(request);
  return result_of(agent, id);
}

class AgentDesk : public ::testing::Test {
 protected:
  temp_dir data_;
  std::string alice_ = agent_token(data_.path(), "alice");
  std::string bob_ = agent_token(data_.path(), "bob");
  server_process server_{data_.path()};

  // A buyer who reports a broken item with an order number, then asks for a person.
  struct buyer {
    std::unique_ptr<ws_client> chat;
    std::string conversation;
  };
  // With `photo`, the buyer first uploads a photo of the damage through the link the bot gave.
  buyer hand_off(const std::string& name, bool photo = false) {
    buyer b;
    b.chat = std::make_unique<ws_client>(server_.port());
    b.conversation = b.chat->hello("shop-1", name)["conversation"];
    auto f = b.chat->say("m1", "收到的杯子碎了一个，订单号 1234567890123");
    EXPECT_EQ(f.size(), 2u);
    if (photo && f.size() == 2) {
      std::string link;
      for (const auto& r : f[1]["requests"]) {
        if (r["type"] == "photo" && link.empty()) link = r.value("upload", "");
      }
      EXPECT_FALSE(link.empty()) << f[1].dump();
      // A whole 1x1 PNG (agents are only shown photos whose metadata can be checked); the
      // server copies chunks whole and does not check their CRCs, so they are zero.
      using namespace std::string_literals;
      const std::string png = "\x89PNG\r\n\x1a\n"s +
                              "\0\0\0\x0DIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\0\0\0\0"s +
                              "\0\0\0\x0CIDAT\x78\x9c\x63\x60\x60\x60\0\0\0\x04\0\x01\0\0\0\0"s +
                              "\0\0\0\0IEND\0\0\0\0"s;
      EXPECT_EQ(http_call(server_.port(), http::verb::put, link, "", png).status, 201);
      b.chat->read();  // the bot's confirmation of the upload
    }
    f = b.chat->say("m2", "我要转人工");
    EXPECT_EQ(f.back()["kind"], "handoff") << f.back().dump();
    return b;
  }
};

TEST_F(AgentDesk, AnAgentGetsTheWholeCaseClaimsItTalksToTheBuyerAndResolvesIt) {
  ws_client alice(server_.port(), "/v1/agent", alice_);
  json hello = alice.read();
  EXPECT_EQ(hello["type"], "hello");
  EXPECT_EQ(hello["agent"], "alice");
  EXPECT_TRUE(hello["queue"].empty());

  buyer b = hand_off("buyer-1", true);
  json created = event_of(alice, "case.created");
  const std::string id = created["case"]["id"];
  EXPECT_EQ(created["case"]["status"], "open");
  EXPECT_EQ(created["case"]["conversation"], b.conversation);

  json view = ask(alice, {{"type", "view"}, {"id", "v1"}, {"case", id}})["case"];
  EXPECT_EQ(view["shop"], "shop-1");
  EXPECT_EQ(view["buyer"], "buyer-1");
  EXPECT_EQ(view["order"], "1234567890123");
  EXPECT_EQ(view["reason"], "damaged");
  EXPECT_GT(view["confidence"].get<double>(), 0.0);
  EXPECT_FALSE(view["fired"].empty());
  EXPECT_EQ(view["trigger"], "wants_human");
  EXPECT_TRUE(view["flags"].is_array());
  EXPECT_NE(view["summary"].get<std::string>().find("1234567890123"), std::string::npos);
  EXPECT_GE(view["transcript"].size(), 4u);
  EXPECT_EQ(view["transcript"][0]["from"], "buyer");
  EXPECT_FALSE(view["checklist"].empty());
  EXPECT_FALSE(view["missing"].empty());
  ASSERT_FALSE(view["deadlines"].empty());
  EXPECT_EQ(view["deadlines"][0]["id"], "merchant_response");
  EXPECT_GT(view["deadlines"][0]["due_at_ms"].get<std::int64_t>(),
            view["created_at_ms"].get<std::int64_t>());
  EXPECT_FALSE(view["deadlines"][0]["due_at"].get<std::string>().empty());
  EXPECT_FALSE(view["resolutions"].empty());
  EXPECT_TRUE(view.contains("priority"));
  ASSERT_EQ(view["evidence"].size(), 1u);
  EXPECT_EQ(view["evidence"][0]["mime"], "image/png");
  const std::string link = view["evidence"][0]["link"];
  EXPECT_EQ(http_call(server_.port(), http::verb::get, link, alice_).status, 200);
  EXPECT_EQ(http_call(server_.port(), http::verb::get, link, "not-a-token").status, 401);
  EXPECT_TRUE(view["earlier_cases"].empty());

  json claimed = ask(alice, {{"type", "claim"}, {"id", "c1"}, {"case", id}});
  ASSERT_EQ(claimed["type"], "result") << claimed.dump();
  EXPECT_EQ(claimed["case"]["status"], "claimed");
  EXPECT_EQ(claimed["case"]["agent"], "alice");
  event_of(alice, "case.claimed", id);

  // The bot stays silent on a claimed case; the agent hears the buyer.
  auto f = b.chat->say("m3", "请问什么时候能处理");
  ASSERT_EQ(f[0]["type"], "ack");
  EXPECT_EQ(f[0]["replies"], 0);
  json said = event_of(alice, "case.message", id);
  EXPECT_EQ(said["data"]["message"]["text"], "请问什么时候能处理");

  json sent = ask(alice, {{"type", "message"},
                          {"id", "a1"},
                          {"case", id},
                          {"text", "您好，我是客服小李，马上为您处理"}});
  EXPECT_EQ(sent["type"], "result") << sent.dump();
  json to_buyer = b.chat->read();
  EXPECT_EQ(to_buyer["type"], "reply");
  EXPECT_EQ(to_buyer["kind"], "agent");
  EXPECT_EQ(to_buyer["from"], "agent");
  EXPECT_EQ(to_buyer["text"], "您好，我是客服小李，马上为您处理");
  // A resend of the same message id is not sent twice.
  EXPECT_TRUE(ask(alice, {{"type", "message"},
                          {"id", "a1"},
                          {"case", id},
                          {"text", "您好，我是客服小李，马上为您处理"}})["duplicate"]);

  // A buyer who comes back is told a person has it, and sees the agent's message.
  b.chat->close();
  ws_client again(server_.port());
  json welcome = again.hello("shop-1", "buyer-1", b.conversation);
  EXPECT_EQ(welcome["phase"], "with_agent");
  int agent_lines = 0;
  for (const auto& m : welcome["history"]) agent_lines += m["from"] == "agent";
  EXPECT_EQ(agent_lines, 1) << welcome.dump();
  json notice = again.read();
  EXPECT_EQ(notice["kind"], "notice");
  EXPECT_FALSE(notice["text"].get<std::string>().empty());

  json bad =
      ask(alice, {{"type", "resolve"}, {"id", "r0"}, {"case", id}, {"outcome", "partial_refund"}});
  EXPECT_EQ(bad["code"], "invalid_request");
  json resolved = ask(alice, {{"type", "resolve"},
                              {"id", "r1"},
                              {"case", id},
                              {"outcome", "partial_refund"},
                              {"amount", "12.50"},
                              {"note", "杯子破损，部分退款"}});
  ASSERT_EQ(resolved["type"], "result") << resolved.dump();
  EXPECT_EQ(resolved["case"]["status"], "resolved");
  event_of(alice, "case.resolved", id);

  auto over_http = http_call(server_.port(), http::verb::get, "/v1/cases/" + id, bob_);
  ASSERT_EQ(over_http.status, 200) << over_http.body;
  json c = over_http.parsed()["case"];
  EXPECT_EQ(c["status"], "resolved");
  EXPECT_EQ(c["outcome"]["kind"], "partial_refund");
  EXPECT_EQ(c["outcome"]["amount"], "12.50");
  EXPECT_EQ(c["outcome"]["agent"], "alice");

  // The buyer comes back with something new: a new case, which knows the earlier one.
  auto f2 = again.say("m4", "这次又少发了一个盖子");
  EXPECT_EQ(f2[0]["type"], "ack");
  EXPECT_GE(f2.size(), 2u) << "the bot answers again after a resolution";
  again.say("m5", "我要转人工");
  const std::string second = event_of(alice, "case.created")["case"]["id"];
  EXPECT_NE(second, id);
  json later = ask(alice, {{"type", "view"}, {"id", "v2"}, {"case", second}})["case"];
  ASSERT_EQ(later["earlier_cases"].size(), 1u);
  EXPECT_EQ(later["earlier_cases"][0]["id"], id);
  EXPECT_EQ(later["earlier_cases"][0]["outcome"], "partial_refund");
  EXPECT_EQ(later["repeat_claims"], 1);
}

TEST_F(AgentDesk, TwoAgentsClaimAtOnceAndExactlyOneWins) {
  ws_client alice(server_.port(), "/v1/agent", alice_);
  ws_client bob(server_.port(), "/v1/agent", bob_);
  alice.read();
  bob.read();
  buyer b = hand_off("buyer-2");
  const std::string id = event_of(alice, "case.created")["case"]["id"];
  event_of(bob, "case.created", id);

  alice.send(json{{"type", "claim"}, {"id", "x"}, {"case", id}});
  bob.send(json{{"type", "claim"}, {"id", "x"}, {"case", id}});
  json a = result_of(alice, "x");
  json o = result_of(bob, "x");
  EXPECT_NE(a["type"], o["type"]) << a.dump() << o.dump();
  json& loser = a["type"] == "error" ? a : o;
  EXPECT_EQ(loser["code"], "case_taken");

  // The same race over HTTP, on another case.
  buyer b2 = hand_off("buyer-3");
  const std::string id2 = event_of(alice, "case.created")["case"]["id"];
  auto claim = [&](const std::string& token) {
    return std::async(std::launch::async, [&, token] {
      return http_call(server_.port(), http::verb::post, "/v1/cases/" + id2 + "/claim", token)
          .status;
    });
  };
  auto s1 = claim(alice_);
  auto s2 = claim(bob_);
  std::vector<int> statuses{s1.get(), s2.get()};
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<int>{200, 409}));
}

TEST_F(AgentDesk, RequestsWithoutAValidTokenAreRefused) {
  EXPECT_EQ(upgrade_status(server_.port(), "/v1/agent"), 401);
  EXPECT_EQ(upgrade_status(server_.port(), "/v1/agent", "not-a-token"), 401);
  const std::string admin = [&] {
    std::ifstream in(data_.path() / "admin.token");
    std::string t;
    std::getline(in, t);
    return t;
  }();
  EXPECT_EQ(upgrade_status(server_.port(), "/v1/agent", admin), 401);
  EXPECT_EQ(upgrade_status(server_.port(), "/v1/agent?token=" + alice_), 101);
  EXPECT_EQ(upgrade_status(server_.port(), "/v1/agent", alice_), 101);

  EXPECT_EQ(http_call(server_.port(), http::verb::get, "/v1/cases").status, 401);
  EXPECT_EQ(http_call(server_.port(), http::verb::get, "/v1/cases", "wrong").status, 401);
  EXPECT_EQ(http_call(server_.port(), http::verb::post, "/v1/cases/c1/claim", "wrong").status, 401);
  EXPECT_EQ(http_call(server_.port(), http::verb::get, "/v1/cases", bob_).status, 200);

  // A revoked token stops working at once, while the server runs: also on a connection that was
  // opened with it.
  ws_client open_before(server_.port(), "/v1/agent", bob_);
  EXPECT_EQ(open_before.read()["type"], "hello");
  auto revoked =
      run_shouhou({"token", "agent", "--revoke", "bob", "--data", data_.path().string()});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.out;
  EXPECT_EQ(http_call(server_.port(), http::verb::get, "/v1/cases", bob_).status, 401);
  EXPECT_EQ(upgrade_status(server_.port(), "/v1/agent", bob_), 401);
  open_before.send(json{{"type", "queue"}, {"id", "q"}});
  EXPECT_EQ(open_before.read()["code"], "token_revoked");
  EXPECT_EQ(open_before.read_until_closed(), 1008);
}

TEST_F(AgentDesk, TheHttpApiListsClaimsWritesReleasesAndResolves) {
  buyer b = hand_off("buyer-4");
  auto listed = http_call(server_.port(), http::verb::get, "/v1/cases?status=open", alice_);
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.parsed()["queue"].size(), 1u);
  json summary = listed.parsed()["queue"][0];
  const std::string id = summary["id"];
  const std::string level = summary["priority"];
  EXPECT_EQ(http_call(server_.port(), http::verb::get, "/v1/cases?status=claimed", alice_)
                .parsed()["queue"]
                .size(),
            0u);
  EXPECT_EQ(http_call(server_.port(), http::verb::get, "/v1/cases?priority=" + level, alice_)
                .parsed()["queue"]
                .size(),
            1u);
  EXPECT_EQ(http_call(server_.port(), http::verb::get, "/v1/cases?status=lost", alice_).status,
            400);
  EXPECT_EQ(http_call(server_.port(), http::verb::get, "/v1/cases?limit=0", alice_).status, 400);
  EXPECT_EQ(http_call(server_.port(), http::verb::get, "/v1/cases/nope", alice_).status, 404);

  const std::string base = "/v1/cases/" + id;
  EXPECT_EQ(http_call(server_.port(), http::verb::post, base + "/messages", alice_,
                      R"({"id":"h1","text":"先认领"})")
                .status,
            409);
  EXPECT_EQ(http_call(server_.port(), http::verb::post, base + "/claim", alice_).status, 200);
  EXPECT_EQ(http_call(server_.port(), http::verb::post, base + "/claim", bob_).status, 409);
  EXPECT_EQ(http_call(server_.port(), http::verb::post, base + "/messages", bob_,
                      R"({"id":"h1","text":"我来"})")
                .status,
            409);
  auto sent = http_call(server_.port(), http::verb::post, base + "/messages", alice_,
                        R"({"id":"h1","text":"请补充外包装照片"})");
  EXPECT_EQ(sent.status, 200) << sent.body;
  json to_buyer = b.chat->read();
  EXPECT_EQ(to_buyer["kind"], "agent");
  EXPECT_EQ(to_buyer["text"], "请补充外包装照片");
  EXPECT_EQ(
      http_call(server_.port(), http::verb::post, base + "/messages", alice_, R"({"text":"no id"})")
          .status,
      400);
  EXPECT_EQ(
      http_call(server_.port(), http::verb::post, base + "/messages", alice_, "{not json").status,
      400);

  EXPECT_EQ(http_call(server_.port(), http::verb::post, base + "/release", alice_).status, 200);
  EXPECT_EQ(http_call(server_.port(), http::verb::get, base, bob_).parsed()["case"]["status"],
            "open");
  EXPECT_EQ(http_call(server_.port(), http::verb::post, base + "/resolve", bob_,
                      R"({"outcome":"rejected"})")
                .status,
            400);
  auto done = http_call(server_.port(), http::verb::post, base + "/resolve", bob_,
                        R"({"outcome":"rejected","reason":"人为损坏","note":"照片显示使用痕迹"})");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.parsed()["case"]["status"], "resolved");
  EXPECT_EQ(http_call(server_.port(), http::verb::post, base + "/claim", alice_).status, 409);
  EXPECT_EQ(http_call(server_.port(), http::verb::get, "/v1/cases?status=resolved", alice_)
                .parsed()["queue"]
                .size(),
            1u);
  // A second case: pages say how many there are.
  buyer other = hand_off("buyer-4b");
  json page =
      http_call(server_.port(), http::verb::get, "/v1/cases?status=open,resolved&limit=1", alice_)
          .parsed();
  EXPECT_EQ(page["queue"].size(), 1u);
  EXPECT_EQ(page["total"], 2);
}

TEST_F(AgentDesk, AnAgentCanAskTheBotForMoreEvidence) {
  ws_client alice(server_.port(), "/v1/agent", alice_);
  alice.read();
  buyer b = hand_off("buyer-5");
  const std::string id = event_of(alice, "case.created")["case"]["id"];
  ASSERT_EQ(ask(alice, {{"type", "claim"}, {"id", "c"}, {"case", id}})["type"], "result");
  json asked = ask(alice, {{"type", "request_evidence"},
                           {"id", "e"},
                           {"case", id},
                           {"items", {{{"type", "photo"}, {"label", "商品底部的生产批号照片"}}}}});
  ASSERT_EQ(asked["type"], "result") << asked.dump();
  json request = b.chat->read();
  EXPECT_EQ(request["kind"], "request");
  ASSERT_EQ(request["requests"].size(), 1u);
  EXPECT_EQ(request["requests"][0]["label"], "商品底部的生产批号照片");
  EXPECT_TRUE(request["requests"][0].contains("upload"));
  json view = ask(alice, {{"type", "view"}, {"id", "v"}, {"case", id}})["case"];
  bool listed = false;
  for (const auto& m : view["missing"]) listed |= m["label"] == "商品底部的生产批号照片";
  EXPECT_TRUE(listed) << view["missing"].dump();
}

TEST(AgentDeskDeadlines, AgentsAreWarnedOnceBeforeADeadlineAndCanHandACaseOn) {
  temp_dir data;
  const std::string alice = agent_token(data.path(), "alice");
  const std::string bob = agent_token(data.path(), "bob");
  // A lead longer than the merchant's 48 hours: the warning is due as soon as the case opens.
  server_process server{data.path(), {"--deadline-warning-lead", std::to_string(50 * 3600)}};
  ws_client a(server.port(), "/v1/agent", alice);
  a.read();
  ws_client buyer(server.port());
  buyer.hello("shop-1", "buyer-late");
  buyer.say("m1", "快递一直没到，物流也不更新");
  buyer.say("m2", "我要转人工");
  const std::string id = event_of(a, "case.created")["case"]["id"];
  json warned = event_of(a, "case.deadline", id);
  ASSERT_FALSE(warned["data"]["deadlines"].empty());
  EXPECT_EQ(warned["data"]["deadlines"][0]["id"], "merchant_response");
  EXPECT_EQ(warned["case"]["priority"], "urgent");

  ASSERT_EQ(ask(a, {{"type", "claim"}, {"id", "c"}, {"case", id}})["type"], "result");
  json moved = ask(a, {{"type", "transfer"}, {"id", "t"}, {"case", id}, {"to", "bob"}});
  ASSERT_EQ(moved["type"], "result") << moved.dump();
  EXPECT_EQ(moved["case"]["agent"], "bob");
  EXPECT_EQ(event_of(a, "case.transferred", id)["data"]["to"], "bob");
  EXPECT_EQ(ask(a, {{"type", "transfer"}, {"id", "t2"}, {"case", id}, {"to", "nobody"}})["code"],
            "invalid_request");
  // Bob's now: alice cannot act on it.
  EXPECT_EQ(ask(a, {{"type", "release"}, {"id", "r"}, {"case", id}})["code"], "case_taken");
  auto by_bob = http_call(server.port(), http::verb::post, "/v1/cases/" + id + "/messages", bob,
                          R"({"id":"b1","text":"我是小王，接手您的问题"})");
  EXPECT_EQ(by_bob.status, 200) << by_bob.body;
  // Warned once: the next scans (one a second) do not warn again.
  a.send(json{{"type", "queue"}, {"id", "q"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  a.send(json{{"type", "queue"}, {"id", "q2"}});
  int warnings = 0;
  for (json f = a.read();; f = a.read()) {
    warnings += f["type"] == "event" && f["event"] == "case.deadline";
    if (f.value("id", "") == "q2") break;
  }
  EXPECT_EQ(warnings, 0);
}

}  // namespace
}  // namespace shouhou::e2e
