// The agent desk over the in-memory store. Every case here is a real one: a buyer talks to the
// conversation engine with the shipped knowledge until it hands off, so the case, the state and
// the messages are what production would have stored.

#include "bot/case_desk.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "bot/fake_store.hpp"

namespace shouhou::bot {
namespace {

using json = nlohmann::json;
using outcome = desk_result::outcome;

constexpr std::int64_t k_minute = 60'000;
constexpr std::int64_t k_hour = 3'600'000;

// Said by a buyer: a missing part (checklist: received_photo, waybill_photo) and a request for a
// person in one message, so the first turn hands off.
constexpr const char* k_missing_wants_human = "少发了一个配件，我要找人工客服";

std::vector<std::string> ids_of(const json& list) {
  std::vector<std::string> out;
  for (const auto& x : list) out.push_back(x.value("id", ""));
  return out;
}

class CaseDesk : public ::testing::Test {
 protected:
  CaseDesk() : CaseDesk(false) {}
  explicit CaseDesk(bool webhook) {
    settings_.desk.webhook = webhook;
    engine_ = std::make_unique<conversation_engine>(store_, knowledge_, clock_, settings_);
    desk_ = std::make_unique<case_desk>(store_, knowledge_, clock_, settings_.desk);
  }

  store::conversation open(std::string buyer) {
    open_result out;
    engine_->open("shop-1", std::move(buyer), "", [&](open_result r) { out = std::move(r); });
    EXPECT_EQ(out.what, open_result::outcome::opened) << out.error;
    return out.conversation;
  }

  turn_result say(store::conversation& c, std::string id, std::string text) {
    turn_result out;
    engine_->receive(c, {std::move(id), std::move(text), ""},
                     [&](turn_result r) { out = std::move(r); });
    EXPECT_TRUE(out.ok) << out.error;
    if (out.ok) c = out.conversation;
    return out;
  }

  // A buyer who asks for a person at once; `conv_` is their conversation. Returns the case id.
  std::string handed_off(std::string buyer = "buyer-1", std::string text = k_missing_wants_human) {
    conv_ = open(std::move(buyer));
    const turn_result t = say(conv_, "m1", std::move(text));
    EXPECT_FALSE(t.messages.empty());
    if (!t.opened_case) {
      ADD_FAILURE() << "the message did not hand off";
      return "";
    }
    return t.opened_case->id;
  }

  conversation_state state(const std::string& conversation) {
    auto s = state_from_json(store_.conversations.at(conversation).state);
    EXPECT_TRUE(s);
    return s.value_or(conversation_state{});
  }

  // The desk's calls run synchronously over the fake store; the flags check that they answered.
  desk_result claim(const std::string& id, std::string agent) {
    return call([&](auto done) { desk_->claim(id, std::move(agent), done); });
  }
  desk_result release(const std::string& id, std::string agent) {
    return call([&](auto done) { desk_->release(id, std::move(agent), done); });
  }
  desk_result transfer(const std::string& id, std::string agent, std::string to) {
    return call([&](auto done) { desk_->transfer(id, std::move(agent), std::move(to), done); });
  }
  desk_result send(const std::string& id, std::string agent, std::string client_id,
                   std::string text) {
    return call([&](auto done) {
      desk_->send(id, std::move(agent), std::move(client_id), std::move(text), done);
    });
  }
  desk_result request(const std::string& id, std::string agent, std::vector<requested_item> items,
                      std::string note = "") {
    return call([&](auto done) {
      desk_->request_evidence(id, std::move(agent), std::move(items), std::move(note), done);
    });
  }
  desk_result resolve(const std::string& id, std::string agent, case_outcome o) {
    return call([&](auto done) { desk_->resolve(id, std::move(agent), std::move(o), done); });
  }

  json queue(std::vector<std::string> statuses = {}, std::string priority = "") {
    bool called = false;
    json out;
    desk_->queue(std::move(statuses), std::move(priority), k_queue_page,
                 [&](desk_result r, json j) {
                   called = true;
                   EXPECT_EQ(r.what, outcome::ok) << r.error;
                   out = std::move(j);
                 });
    EXPECT_TRUE(called);
    return out;
  }

  std::pair<desk_result, json> view(const std::string& id) {
    std::pair<desk_result, json> out;
    bool called = false;
    desk_->view(id, [&](desk_result r, json j) {
      called = true;
      out = {std::move(r), std::move(j)};
    });
    EXPECT_TRUE(called);
    return out;
  }

  std::vector<desk_event> warn() {
    bool called = false;
    std::vector<desk_event> out;
    desk_->warn_deadlines([&](std::vector<desk_event> e) {
      called = true;
      out = std::move(e);
    });
    EXPECT_TRUE(called);
    return out;
  }

  std::vector<desk_event> activity(std::string type = "case.message") {
    bool called = false;
    std::vector<desk_event> out;
    desk_->buyer_activity(store_.conversations.at(conv_.id), std::move(type),
                          {{"text", "还要等多久"}}, [&](std::vector<desk_event> e) {
                            called = true;
                            out = std::move(e);
                          });
    EXPECT_TRUE(called);
    return out;
  }

  evidence_result upload(const std::string& item, const std::string& id) {
    store::evidence_record e;
    e.id = id;
    e.conversation = conv_.id;
    e.item = item;
    e.mime = "image/jpeg";
    e.kind = "image";
    e.size = 10;
    e.sha256 = std::string(64, 'c');
    e.at_ms = clock_.now;
    evidence_result out;
    engine_->add_evidence(conv_.id, {e}, 20, [&](evidence_result r) { out = std::move(r); });
    EXPECT_EQ(out.what, evidence_result::outcome::stored) << out.error;
    return out;
  }

  void add_agent(std::string name, char token) {
    bool ok = false;
    store_.put_agent({std::move(name), std::string(64, token), clock_.now},
                     [&](store::status s) { ok = s.ok; });
    ASSERT_TRUE(ok);
  }

  testing::fake_store store_;
  testing::fixed_clock clock_;
  knowledge_base knowledge_{testing::shipped_knowledge()};
  engine_settings settings_;
  std::unique_ptr<conversation_engine> engine_;
  std::unique_ptr<case_desk> desk_;
  store::conversation conv_;

 private:
  template <typename F>
  desk_result call(F f) {
    bool called = false;
    desk_result out;
    f([&](desk_result r) {
      EXPECT_FALSE(called) << "answered twice";
      called = true;
      out = std::move(r);
    });
    EXPECT_TRUE(called) << "never answered";
    return out;
  }
};

class CaseDeskWithWebhook : public CaseDesk {
 protected:
  CaseDeskWithWebhook() : CaseDesk(true) {}
};

// ---- the handoff

// Every other test leans on this: if the intent files stop reading the message this way, the
// failure is here and says so, not scattered over the desk's tests.
TEST_F(CaseDesk, TheShippedKnowledgeHandsOffABuyerWhoAsksForAPerson) {
  auto c = open("buyer-1");
  const turn_result t = say(c, "m1", k_missing_wants_human);
  EXPECT_EQ(t.classification.reason, "missing_item");
  EXPECT_FALSE(t.classification.unsure);
  EXPECT_EQ(t.classification.flags, std::vector<std::string>{"wants_human"});
  ASSERT_TRUE(t.opened_case);
  ASSERT_EQ(t.messages.size(), 1u);
  EXPECT_EQ(t.messages[0].kind, "handoff");
  EXPECT_EQ(c.phase, "handed_off");
}

TEST_F(CaseDesk, AHandoffStoresItsCaseWithTheTurn) {
  const std::string id = handed_off();
  ASSERT_EQ(store_.cases.count(id), 1u);
  const store::case_record& c = store_.cases.at(id);
  EXPECT_EQ(c.conversation, conv_.id);
  EXPECT_EQ(c.shop, "shop-1");
  EXPECT_EQ(c.buyer, "buyer-1");
  EXPECT_EQ(c.reason, "missing_item");
  EXPECT_EQ(c.status, "open");
  EXPECT_EQ(c.version, 0);
  EXPECT_EQ(c.created_at_ms, clock_.now);
  EXPECT_EQ(c.due_at_ms, clock_.now + 24 * k_hour);
  const json details = json::parse(c.details);
  EXPECT_EQ(details["trigger"], "wants_human");
  EXPECT_FALSE(details["fired"].empty()) << "the agent sees why the bot chose the reason";
  EXPECT_EQ(state(conv_.id).case_id, id) << "the state remembers its case";
  EXPECT_TRUE(store_.outbox.empty()) << "no webhook configured";
}

TEST_F(CaseDeskWithWebhook, AHandoffQueuesCaseCreated) {
  const std::string id = handed_off();
  ASSERT_EQ(store_.outbox.size(), 1u);
  EXPECT_EQ(store_.outbox[0].type, "case.created");
  EXPECT_EQ(store_.outbox[0].case_id, id);
  const json body = json::parse(store_.outbox[0].body);
  EXPECT_EQ(body["id"], id + ":0");
  EXPECT_EQ(body["case"]["status"], "open");
  EXPECT_EQ(body["case"]["reason"], "missing_item");
}

TEST_F(CaseDesk, ABuyerAskingForAPersonAgainOpensNoSecondCase) {
  handed_off();
  const turn_result t = say(conv_, "m2", "人呢？我要找人工客服");
  EXPECT_FALSE(t.opened_case);
  EXPECT_TRUE(t.messages.empty());
  EXPECT_EQ(store_.cases.size(), 1u);
}

TEST_F(CaseDesk, AnUploadThatCompletesTheChecklistOpensACase) {
  conv_ = open("buyer-1");
  ASSERT_FALSE(say(conv_, "m1", "收到的包裹少了一个耳机").opened_case);
  ASSERT_EQ(state(conv_.id).phase, phase::collecting);
  EXPECT_FALSE(upload("received_photo", "ev-1").opened_case);
  const evidence_result last = upload("waybill_photo", "ev-2");
  ASSERT_TRUE(last.opened_case);
  EXPECT_EQ(store_.cases.at(last.opened_case->id).status, "open");
  EXPECT_EQ(json::parse(last.opened_case->details)["trigger"], "checklist_complete");
  EXPECT_EQ(state(conv_.id).case_id, last.opened_case->id);
}

// ---- claim, release, transfer

TEST_F(CaseDesk, AClaimGivesTheCaseToTheAgentAndTheConversationToPeople) {
  const std::string id = handed_off();
  clock_.now += 5 * k_minute;
  const desk_result r = claim(id, "小王");
  ASSERT_EQ(r.what, outcome::ok) << r.error;
  ASSERT_TRUE(r.record);
  EXPECT_EQ(r.record->status, "claimed");
  EXPECT_EQ(r.record->agent, "小王");
  EXPECT_EQ(r.record->version, 1);
  EXPECT_EQ(r.record->updated_at_ms, clock_.now);
  const store::case_record& stored = store_.cases.at(id);
  EXPECT_EQ(stored.status, "claimed");
  EXPECT_EQ(stored.agent, "小王");
  EXPECT_EQ(stored.version, 1);
  EXPECT_EQ(store_.conversations.at(conv_.id).phase, "with_agent");
  EXPECT_EQ(state(conv_.id).phase, phase::with_agent);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type, "case.claimed");
  EXPECT_EQ(r.events[0].data["agent"], "小王");
  EXPECT_EQ(r.events[0].record.version, 1);
  EXPECT_TRUE(store_.outbox.empty());
  EXPECT_FALSE(r.to_buyer);
}

TEST_F(CaseDeskWithWebhook, AClaimQueuesCaseClaimed) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  ASSERT_EQ(store_.outbox.size(), 2u);
  EXPECT_EQ(store_.outbox[1].type, "case.claimed");
  const json body = json::parse(store_.outbox[1].body);
  EXPECT_EQ(body["id"], id + ":1");
  EXPECT_EQ(body["case"]["agent"], "小王");
  EXPECT_EQ(body["case"]["status"], "claimed");
}

TEST_F(CaseDesk, OfTwoAgentsOnlyTheFirstGetsTheCase) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  const desk_result r = claim(id, "小李");
  EXPECT_EQ(r.what, outcome::taken);
  EXPECT_NE(r.error.find("小王"), std::string::npos) << r.error;
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(store_.cases.at(id).agent, "小王");
  EXPECT_EQ(store_.cases.at(id).version, 1);
}

TEST_F(CaseDesk, ClaimingYourOwnCaseAgainChangesNothing) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  const auto state_version = store_.conversations.at(conv_.id).state_version;
  const desk_result r = claim(id, "小王");
  EXPECT_EQ(r.what, outcome::ok) << r.error;
  EXPECT_TRUE(r.events.empty());
  ASSERT_TRUE(r.record);
  EXPECT_EQ(r.record->version, 1);
  EXPECT_EQ(store_.cases.at(id).version, 1);
  EXPECT_EQ(store_.conversations.at(conv_.id).state_version, state_version);
}

TEST_F(CaseDeskWithWebhook, ClaimingYourOwnCaseAgainQueuesNothing) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  EXPECT_EQ(store_.outbox.size(), 2u);
}

TEST_F(CaseDesk, AReleasedCaseGoesBackToTheQueue) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  const desk_result r = release(id, "小王");
  ASSERT_EQ(r.what, outcome::ok) << r.error;
  EXPECT_EQ(r.record->status, "open");
  EXPECT_TRUE(r.record->agent.empty());
  EXPECT_EQ(store_.cases.at(id).status, "open");
  EXPECT_TRUE(store_.cases.at(id).agent.empty());
  EXPECT_EQ(store_.cases.at(id).version, 2);
  EXPECT_EQ(store_.conversations.at(conv_.id).phase, "handed_off");
  EXPECT_EQ(state(conv_.id).phase, phase::handed_off);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type, "case.released");
  EXPECT_EQ(claim(id, "小李").what, outcome::ok) << "anyone may claim it now";
}

TEST_F(CaseDesk, OnlyTheAgentWhoHasTheCaseReleasesIt) {
  const std::string id = handed_off();
  EXPECT_EQ(release(id, "小王").what, outcome::taken) << "an open case has nobody to release it";
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  EXPECT_EQ(release(id, "小李").what, outcome::taken);
  EXPECT_EQ(store_.cases.at(id).agent, "小王");
  EXPECT_EQ(store_.cases.at(id).version, 1);
}

TEST_F(CaseDesk, ATransferGoesOnlyToAKnownAgent) {
  add_agent("小王", 'a');
  add_agent("小李", 'b');
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);

  desk_result r = transfer(id, "小王", "nobody");
  EXPECT_EQ(r.what, outcome::invalid);
  EXPECT_NE(r.error.find("nobody"), std::string::npos) << r.error;
  EXPECT_EQ(transfer(id, "小王", "小王").what, outcome::invalid);
  EXPECT_EQ(store_.cases.at(id).version, 1);

  r = transfer(id, "小王", "小李");
  ASSERT_EQ(r.what, outcome::ok) << r.error;
  EXPECT_EQ(r.record->status, "claimed");
  EXPECT_EQ(r.record->agent, "小李");
  EXPECT_EQ(store_.cases.at(id).agent, "小李");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type, "case.transferred");
  EXPECT_EQ(r.events[0].data["from"], "小王");
  EXPECT_EQ(r.events[0].data["to"], "小李");
  EXPECT_EQ(state(conv_.id).phase, phase::with_agent);

  EXPECT_EQ(send(id, "小王", "a1", "还在吗").what, outcome::taken) << "小王 gave it away";
  EXPECT_EQ(send(id, "小李", "b1", "您好，我接手了").what, outcome::ok);
}

TEST_F(CaseDesk, OnlyTheAgentWhoHasTheCaseTransfersIt) {
  add_agent("小张", 'c');
  const std::string id = handed_off();
  EXPECT_EQ(transfer(id, "小王", "小张").what, outcome::taken) << "claim it first";
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  EXPECT_EQ(transfer(id, "小李", "小张").what, outcome::taken);
  EXPECT_EQ(store_.cases.at(id).agent, "小王");
}

// ---- writing to the buyer

TEST_F(CaseDesk, AnAgentsMessageIsStoredAndDeliveredThroughTheConversation) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  clock_.now += k_minute;
  const std::size_t before = store_.messages.size();
  const desk_result r = send(id, "小王", "a1", "您好，我是售后小王，这就帮您核对");
  ASSERT_EQ(r.what, outcome::ok) << r.error;
  EXPECT_FALSE(r.duplicate);

  ASSERT_EQ(store_.messages.size(), before + 1);
  const store::message& m = store_.messages.back();
  EXPECT_EQ(m.conversation, conv_.id);
  EXPECT_EQ(m.dir, store::direction::outbound);
  EXPECT_EQ(m.client_id, "agent:小王:a1");
  EXPECT_EQ(m.text, "您好，我是售后小王，这就帮您核对");
  EXPECT_EQ(m.at_ms, clock_.now);
  const json payload = json::parse(m.payload);
  EXPECT_EQ(payload["kind"], "agent");
  EXPECT_EQ(payload["agent"], "小王");

  ASSERT_TRUE(r.to_buyer);
  EXPECT_EQ(r.to_buyer->conversation.id, conv_.id);
  ASSERT_EQ(r.to_buyer->messages.size(), 1u);
  EXPECT_EQ(r.to_buyer->messages[0].kind, "agent");
  EXPECT_EQ(r.to_buyer->messages[0].text, "您好，我是售后小王，这就帮您核对");
  EXPECT_EQ(r.record->version, 2);
  EXPECT_EQ(store_.cases.at(id).updated_at_ms, clock_.now);

  const json v = view(id).second;
  EXPECT_EQ(v["transcript"].back()["from"], "agent");
  EXPECT_EQ(v["transcript"].back()["agent"], "小王");
}

TEST_F(CaseDesk, AResentAgentMessageIsStoredOnce) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  ASSERT_EQ(send(id, "小王", "a1", "稍等，我查一下仓库").what, outcome::ok);
  const std::size_t stored = store_.messages.size();
  const desk_result again = send(id, "小王", "a1", "稍等，我查一下仓库");
  EXPECT_EQ(again.what, outcome::ok) << again.error;
  EXPECT_TRUE(again.duplicate);
  EXPECT_FALSE(again.to_buyer) << "the buyer got it the first time";
  EXPECT_EQ(store_.messages.size(), stored);
  EXPECT_EQ(store_.cases.at(id).version, 2);
}

TEST_F(CaseDesk, AgentMessageIdsNeverCollideWithTheBuyers) {
  const std::string id = handed_off();  // the buyer's first message was "m1"
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  const desk_result r = send(id, "小王", "m1", "收到，马上处理");
  EXPECT_EQ(r.what, outcome::ok);
  EXPECT_FALSE(r.duplicate);
}

TEST_F(CaseDesk, SendingNeedsTheCaseAndSomethingToSay) {
  const std::string id = handed_off();
  const std::size_t before = store_.messages.size();
  EXPECT_EQ(send(id, "小王", "a1", "你好").what, outcome::taken) << "claim it first";
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  EXPECT_EQ(send(id, "小王", "a1", "").what, outcome::invalid);
  EXPECT_EQ(send(id, "小王", "", "你好").what, outcome::invalid);
  EXPECT_EQ(send("cffffffffffffffff", "小王", "a1", "你好").what, outcome::not_found);
  EXPECT_EQ(store_.messages.size(), before);
}

// ---- asking for more evidence

TEST_F(CaseDesk, RequestingANewItemAddsItToTheChecklist) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  const std::size_t before = store_.messages.size();
  const desk_result r = request(id, "小王", {{"", "video", "开箱视频", "核对包裹里原本有什么"}},
                                "麻烦补一段开箱视频");
  ASSERT_EQ(r.what, outcome::ok) << r.error;

  const conversation_state s = state(conv_.id);
  ASSERT_EQ(s.checklist.size(), 3u);
  EXPECT_EQ(s.checklist[2].id, "extra_3");
  EXPECT_EQ(s.checklist[2].type, "video");
  EXPECT_EQ(s.checklist[2].label, "开箱视频");
  EXPECT_FALSE(s.checklist[2].done);
  EXPECT_EQ(s.phase, phase::with_agent) << "the agent still has it";

  ASSERT_TRUE(r.to_buyer);
  ASSERT_EQ(r.to_buyer->messages.size(), 1u);
  EXPECT_EQ(r.to_buyer->messages[0].kind, "request");
  EXPECT_EQ(r.to_buyer->messages[0].text, "麻烦补一段开箱视频");
  ASSERT_EQ(r.to_buyer->messages[0].requests.size(), 1u);
  EXPECT_EQ(r.to_buyer->messages[0].requests[0].id, "extra_3");
  EXPECT_EQ(r.to_buyer->conversation.state_version,
            store_.conversations.at(conv_.id).state_version);

  ASSERT_EQ(store_.messages.size(), before + 1);
  const json payload = json::parse(store_.messages.back().payload);
  EXPECT_EQ(payload["kind"], "request");
  EXPECT_EQ(payload["requests"][0]["item"], "extra_3");
  EXPECT_EQ(store_.cases.at(id).version, 2);
}

TEST_F(CaseDesk, RequestingAGivenItemAsksForItAgain) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  upload("received_photo", "ev-1");
  ASSERT_TRUE(state(conv_.id).checklist[0].done);
  const desk_result r = request(id, "小王", {{"received_photo", "", "", ""}}, "照片太模糊了");
  ASSERT_EQ(r.what, outcome::ok) << r.error;
  const conversation_state s = state(conv_.id);
  EXPECT_FALSE(s.checklist[0].done);
  EXPECT_TRUE(s.checklist[0].value.empty());
  EXPECT_EQ(s.checklist.size(), 2u) << "no new item";
  ASSERT_EQ(r.to_buyer->messages[0].requests.size(), 1u);
  EXPECT_EQ(r.to_buyer->messages[0].requests[0].id, "received_photo");
}

// A fixed bug: the next buyer message, whatever it said, marked the item done again with the
// number the agent had just rejected.
TEST_F(CaseDesk, ARejectedNumberIsNotTakenAgainByTheNextMessage) {
  const std::string id =
      handed_off("buyer-1", "快递一直没到，订单号 2023111500042，我要找人工客服");
  ASSERT_EQ(store_.cases.at(id).order, "2023111500042");
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  ASSERT_TRUE(state(conv_.id).checklist[0].done);
  ASSERT_EQ(state(conv_.id).checklist[0].id, "order_no");
  ASSERT_EQ(request(id, "小王", {{"order_no", "", "", ""}}, "这个订单号查不到，请再核对一下").what,
            outcome::ok);

  say(conv_, "m2", "稍等我找找");
  EXPECT_FALSE(state(conv_.id).checklist[0].done) << state(conv_.id).checklist[0].value;

  say(conv_, "m3", "应该是 2023111500099");
  EXPECT_TRUE(state(conv_.id).checklist[0].done);
  EXPECT_EQ(state(conv_.id).checklist[0].value, "2023111500099");
}

TEST_F(CaseDesk, RequestingNothingAsksForWhatIsMissingOrIsRefusedWhenNothingIs) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  desk_result r = request(id, "小王", {});
  ASSERT_EQ(r.what, outcome::ok) << r.error;
  ASSERT_TRUE(r.to_buyer);
  const auto& asked = r.to_buyer->messages[0].requests;
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].id, "received_photo");
  EXPECT_EQ(asked[1].id, "waybill_photo");
  EXPECT_FALSE(r.to_buyer->messages[0].text.empty()) << "the reason's follow-up text";

  upload("received_photo", "ev-1");
  upload("waybill_photo", "ev-2");
  const std::size_t before = store_.messages.size();
  r = request(id, "小王", {});
  EXPECT_EQ(r.what, outcome::invalid);
  EXPECT_NE(r.error.find("nothing is missing"), std::string::npos) << r.error;
  EXPECT_EQ(store_.messages.size(), before);
}

TEST_F(CaseDesk, RequestingAnUnknownItemOrAnIncompleteNewOneIsInvalid) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  const auto version = store_.conversations.at(conv_.id).state_version;
  desk_result r = request(id, "小王", {{"damage_photo", "", "", ""}});
  EXPECT_EQ(r.what, outcome::invalid);
  EXPECT_NE(r.error.find("damage_photo"), std::string::npos) << r.error;
  EXPECT_EQ(request(id, "小王", {{"", "photo", "", ""}}).what, outcome::invalid) << "no label";
  EXPECT_EQ(request(id, "小王", {{"", "hologram", "全息图", ""}}).what, outcome::invalid);
  EXPECT_EQ(store_.conversations.at(conv_.id).state_version, version);
  EXPECT_EQ(state(conv_.id).checklist.size(), 2u);
}

TEST_F(CaseDesk, RequestingOnACaseNobodyHasIsRefused) {
  const std::string id = handed_off();
  EXPECT_EQ(request(id, "小王", {}).what, outcome::taken);
}

// ---- resolving

TEST_F(CaseDesk, ResolvingRecordsTheOutcomeAndClosesTheConversation) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  clock_.now += k_hour;
  const desk_result r = resolve(id, "小王", {"partial_refund", 1250, "", "配件折价退款"});
  ASSERT_EQ(r.what, outcome::ok) << r.error;
  const store::case_record& c = store_.cases.at(id);
  EXPECT_EQ(c.status, "resolved");
  EXPECT_EQ(c.agent, "小王");
  EXPECT_EQ(c.warn_at_ms, 0) << "no more deadline warnings";
  EXPECT_EQ(c.updated_at_ms, clock_.now);
  const json o = json::parse(c.outcome);
  EXPECT_EQ(o["kind"], "partial_refund");
  EXPECT_EQ(o["amount"], "12.50");
  EXPECT_EQ(o["amount_fen"], 1250);
  EXPECT_EQ(o["agent"], "小王");
  EXPECT_EQ(o["note"], "配件折价退款");
  EXPECT_EQ(o["at_ms"], clock_.now);
  EXPECT_EQ(store_.conversations.at(conv_.id).phase, "resolved");
  EXPECT_EQ(state(conv_.id).phase, phase::resolved);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type, "case.resolved");
  EXPECT_EQ(r.events[0].record.status, "resolved");
  EXPECT_EQ(r.record->version, c.version);
}

TEST_F(CaseDesk, AnOpenCaseCanBeResolvedWithoutAClaim) {
  const std::string id = handed_off();
  const desk_result r = resolve(id, "小王", {"reissue", 0, "", ""});
  ASSERT_EQ(r.what, outcome::ok) << r.error;
  EXPECT_EQ(store_.cases.at(id).status, "resolved");
  EXPECT_EQ(store_.cases.at(id).agent, "小王");
}

TEST_F(CaseDesk, AnInvalidOutcomeChangesNothing) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  desk_result r = resolve(id, "小王", {"partial_refund", 0, "", ""});
  EXPECT_EQ(r.what, outcome::invalid);
  EXPECT_NE(r.error.find("amount"), std::string::npos) << r.error;
  EXPECT_EQ(resolve(id, "小王", {"rejected", 0, "", ""}).what, outcome::invalid);
  EXPECT_EQ(resolve(id, "小王", {"refund_everything", 0, "", ""}).what, outcome::invalid);
  EXPECT_EQ(store_.cases.at(id).status, "claimed");
  EXPECT_EQ(store_.cases.at(id).version, 1);
}

TEST_F(CaseDesk, AResolvedCaseIsClosedToEveryone) {
  add_agent("小李", 'b');
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  ASSERT_EQ(resolve(id, "小王", {"reissue", 0, "", ""}).what, outcome::ok);
  const std::int64_t version = store_.cases.at(id).version;
  EXPECT_EQ(claim(id, "小李").what, outcome::taken);
  EXPECT_EQ(claim(id, "小王").what, outcome::taken);
  EXPECT_EQ(release(id, "小王").what, outcome::taken);
  EXPECT_EQ(transfer(id, "小王", "小李").what, outcome::taken);
  EXPECT_EQ(send(id, "小王", "a9", "还有别的问题吗").what, outcome::taken);
  EXPECT_EQ(request(id, "小王", {{"received_photo", "", "", ""}}).what, outcome::taken);
  const desk_result again = resolve(id, "小王", {"full_refund", 0, "", ""});
  EXPECT_EQ(again.what, outcome::taken);
  EXPECT_NE(again.error.find("resolved"), std::string::npos) << again.error;
  EXPECT_EQ(store_.cases.at(id).version, version);
  EXPECT_EQ(json::parse(store_.cases.at(id).outcome)["kind"], "reissue");
}

TEST_F(CaseDeskWithWebhook, ResolvingQueuesCaseResolved) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  ASSERT_EQ(release(id, "小王").what, outcome::ok);
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  ASSERT_EQ(resolve(id, "小王", {"compensation", 500, "", "补偿五元"}).what, outcome::ok);
  std::vector<std::string> types;
  for (const auto& e : store_.outbox) types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::string>{"case.created", "case.claimed", "case.claimed",
                                             "case.resolved"}))
      << "releases are not webhook events";
  const json body = json::parse(store_.outbox.back().body);
  EXPECT_EQ(body["id"], id + ":4");
  EXPECT_EQ(body["case"]["outcome"]["kind"], "compensation");
  EXPECT_EQ(body["case"]["outcome"]["amount"], "5.00");
}

TEST_F(CaseDesk, AfterAResolutionTheBuyerStartsAfreshAndANewHandoffOpensANewCase) {
  const std::string first = handed_off();
  ASSERT_EQ(claim(first, "小王").what, outcome::ok);
  ASSERT_EQ(resolve(first, "小王", {"reissue", 0, "", ""}).what, outcome::ok);

  clock_.now += 24 * k_hour;
  turn_result t = say(conv_, "m2", "快递一直没到");
  EXPECT_FALSE(t.opened_case);
  ASSERT_FALSE(t.messages.empty()) << "the bot answers again";
  EXPECT_EQ(conv_.phase, "collecting");
  EXPECT_EQ(state(conv_.id).reason, "not_received");
  EXPECT_TRUE(state(conv_.id).case_id.empty());

  t = say(conv_, "m3", "还是没收到，我要找人工客服");
  ASSERT_TRUE(t.opened_case);
  const std::string second = t.opened_case->id;
  EXPECT_NE(second, first);
  EXPECT_EQ(store_.cases.size(), 2u);
  EXPECT_EQ(store_.cases.at(first).status, "resolved");
  EXPECT_EQ(store_.cases.at(second).status, "open");
  EXPECT_EQ(store_.cases.at(second).reason, "not_received");
  EXPECT_EQ(state(conv_.id).case_id, second);

  // The old case's actions no longer move the conversation.
  EXPECT_EQ(claim(first, "小王").what, outcome::taken);
  EXPECT_EQ(claim(second, "小王").what, outcome::ok);
  EXPECT_EQ(state(conv_.id).phase, phase::with_agent);
  EXPECT_EQ(ids_of(queue()), std::vector<std::string>{second}) << "the first is done";
}

// ---- the queue and the view

TEST_F(CaseDesk, TheQueueListsCasesPeopleMustStillDoMostUrgentFirst) {
  const std::string a = handed_off("buyer-a");  // reissue within 24 h: high at once
  clock_.now += k_minute;
  const std::string b = handed_off("buyer-b", "再不处理我要投诉你们");  // escalation: urgent
  clock_.now += k_minute;
  const std::string c = handed_off("buyer-c", "杯子碎了，我要找人工客服");  // 48 h: normal
  ASSERT_EQ(claim(c, "小王").what, outcome::ok);
  clock_.now += k_minute;
  const std::string d = handed_off("buyer-d", "杯子也碎了，我要找人工客服");
  ASSERT_EQ(resolve(d, "小王", {"reissue", 0, "", ""}).what, outcome::ok);

  const json all = queue();
  EXPECT_EQ(ids_of(all), (std::vector<std::string>{b, a, c}));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["priority"], "urgent");
  EXPECT_EQ(all[1]["priority"], "high");
  EXPECT_EQ(all[2]["priority"], "normal");
  EXPECT_EQ(all[2]["status"], "claimed");
  EXPECT_EQ(all[2]["agent"], "小王");

  EXPECT_EQ(ids_of(queue({}, "high")), std::vector<std::string>{a});
  EXPECT_EQ(ids_of(queue({"claimed"})), std::vector<std::string>{c});
  EXPECT_EQ(ids_of(queue({"resolved"})), std::vector<std::string>{d});
  EXPECT_TRUE(queue({"open"}, "normal").empty());
}

TEST_F(CaseDesk, TheQueueRisesAsCasesWait) {
  const std::string id = handed_off("buyer-c", "杯子碎了，我要找人工客服");
  EXPECT_EQ(queue()[0]["priority"], "normal");
  clock_.now += 2 * k_hour;
  EXPECT_EQ(queue()[0]["priority"], "high") << "waiting over an hour";
  clock_.now += 45 * k_hour;
  EXPECT_EQ(queue()[0]["priority"], "urgent") << "the merchant's 48 hours are nearly over";
}

TEST_F(CaseDesk, ViewingAnUnknownCaseIsNotFound) {
  const auto [r, v] = view("cffffffffffffffff");
  EXPECT_EQ(r.what, outcome::not_found);
  EXPECT_TRUE(v.is_null());
}

TEST_F(CaseDesk, TheViewShowsTheConversationAsItIsNow) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  ASSERT_EQ(send(id, "小王", "a1", "请上传收到的商品照片").what, outcome::ok);
  upload("received_photo", "ev-1");

  const auto [r, v] = view(id);
  ASSERT_EQ(r.what, outcome::ok) << r.error;
  ASSERT_TRUE(r.record);
  EXPECT_EQ(r.record->id, id);
  EXPECT_EQ(v["id"], id);
  EXPECT_EQ(v["status"], "claimed");
  ASSERT_EQ(v["transcript"].size(), 3u) << v["transcript"];
  EXPECT_EQ(v["transcript"][0]["from"], "buyer");
  EXPECT_EQ(v["transcript"][0]["text"], k_missing_wants_human);
  EXPECT_EQ(v["transcript"][1]["from"], "bot");
  EXPECT_EQ(v["transcript"][2]["from"], "agent");
  ASSERT_EQ(v["evidence"].size(), 1u);
  EXPECT_EQ(v["evidence"][0]["link"], "/v1/evidence/ev-1");
  EXPECT_EQ(v["checklist"][0]["done"], true) << "the upload after the handoff counts";
  EXPECT_EQ(v["missing"].size(), 1u);
  EXPECT_EQ(v["missing"][0]["item"], "waybill_photo");
  EXPECT_EQ(v["repeat_claims"], 0);
}

TEST_F(CaseDesk, TheViewListsTheBuyersEarlierCasesWithTheShop) {
  const std::string first = handed_off();
  ASSERT_EQ(resolve(first, "小王", {"reissue", 0, "", ""}).what, outcome::ok);
  clock_.now += k_hour;
  ASSERT_TRUE(say(conv_, "m2", "这次又少发了，转人工").opened_case);
  const std::string second = state(conv_.id).case_id;
  handed_off("buyer-2");  // someone else's case is none of theirs

  json v = view(second).second;
  EXPECT_EQ(ids_of(v["earlier_cases"]), std::vector<std::string>{first});
  EXPECT_EQ(v["earlier_cases"][0]["outcome"], "reissue");
  EXPECT_EQ(v["repeat_claims"], 1);
  v = view(first).second;
  EXPECT_TRUE(v["earlier_cases"].empty()) << "later cases are not earlier";
  EXPECT_EQ(v["status"], "resolved");
}

TEST_F(CaseDesk, AnUnreadableStateStillShowsTheCaseButChangesNothing) {
  const std::string id = handed_off();
  store_.conversations.at(conv_.id).state = "{not json";
  const auto [r, v] = view(id);
  ASSERT_EQ(r.what, outcome::ok) << r.error;
  EXPECT_EQ(v["missing"].size(), 2u) << "the checklist as at the handoff";
  const desk_result claimed = claim(id, "小王");
  EXPECT_EQ(claimed.what, outcome::failed);
  EXPECT_NE(claimed.error.find("cannot be read"), std::string::npos) << claimed.error;
  EXPECT_EQ(store_.cases.at(id).status, "open");
}

// ---- deadlines and buyer activity

TEST_F(CaseDesk, EachDeadlineIsWarnedOnce) {
  const std::int64_t handoff = clock_.now;
  const std::string id = handed_off();  // reissue within 24 h, the merchant's 48 h
  EXPECT_TRUE(warn().empty());

  clock_.now = handoff + 22 * k_hour;
  std::vector<desk_event> events = warn();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "case.deadline");
  EXPECT_EQ(events[0].record.id, id);
  ASSERT_EQ(events[0].data["deadlines"].size(), 1u);
  EXPECT_EQ(events[0].data["deadlines"][0]["id"], "reissue_missing_item");
  EXPECT_EQ(events[0].data["deadlines"][0]["passed"], false);
  EXPECT_EQ(store_.cases.at(id).warn_at_ms, handoff + 46 * k_hour);
  EXPECT_EQ(store_.cases.at(id).status, "open") << "a warning changes nothing else";
  EXPECT_EQ(store_.cases.at(id).updated_at_ms, handoff);
  EXPECT_TRUE(warn().empty()) << "warned already";

  clock_.now = handoff + 47 * k_hour;
  events = warn();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data["deadlines"][0]["id"], "merchant_response");
  EXPECT_EQ(store_.cases.at(id).warn_at_ms, 0);

  clock_.now = handoff + 100 * k_hour;
  EXPECT_TRUE(warn().empty());
}

TEST_F(CaseDesk, AClaimedCaseIsWarnedAndAResolvedOneIsNot) {
  const std::int64_t handoff = clock_.now;
  const std::string claimed = handed_off("buyer-1");
  const std::string resolved = handed_off("buyer-2");
  ASSERT_EQ(claim(claimed, "小王").what, outcome::ok);
  ASSERT_EQ(resolve(resolved, "小王", {"reissue", 0, "", ""}).what, outcome::ok);
  clock_.now = handoff + 23 * k_hour;
  const auto events = warn();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].record.id, claimed);
  EXPECT_EQ(events[0].record.agent, "小王");
  EXPECT_EQ(claim(claimed, "小王").what, outcome::ok) << "the warning kept the claim";
}

TEST_F(CaseDesk, AWarningTimeThatMatchesNoDeadlineIsClearedQuietly) {
  const std::string id = handed_off();
  // Details without deadlines (written by an older version, say) under a due warning time.
  store_.cases.at(id).details = "{}";
  clock_.now += 23 * k_hour;
  EXPECT_TRUE(warn().empty()) << "an event with nothing in it";
  EXPECT_EQ(store_.cases.at(id).warn_at_ms, 0) << "and it is not looked at again";
}

TEST_F(CaseDesk, BuyerActivityIsNewsOnlyWhilePeopleHaveTheConversation) {
  conv_ = open("buyer-1");
  EXPECT_TRUE(activity().empty()) << "a new conversation";
  say(conv_, "m1", "收到的包裹少了一个耳机");
  EXPECT_TRUE(activity().empty()) << "the bot is still collecting";

  const turn_result t = say(conv_, "m2", "算了，我要找人工客服");
  ASSERT_TRUE(t.opened_case);
  std::vector<desk_event> events = activity("case.message");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "case.message");
  EXPECT_EQ(events[0].record.id, t.opened_case->id);
  EXPECT_EQ(events[0].data["text"], "还要等多久");

  ASSERT_EQ(claim(t.opened_case->id, "小王").what, outcome::ok);
  events = activity("case.evidence");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "case.evidence");
  EXPECT_EQ(events[0].record.agent, "小王");

  ASSERT_EQ(resolve(t.opened_case->id, "小王", {"reissue", 0, "", ""}).what, outcome::ok);
  EXPECT_TRUE(activity().empty()) << "resolved";
}

// ---- races and failures

TEST_F(CaseDesk, AClaimThatLosesARaceIsAnsweredTaken) {
  const std::string id = handed_off();
  // Another instance's claim lands between our read and our write.
  store_.before_append = [&] {
    store::case_record& c = store_.cases.at(id);
    c.status = "claimed";
    c.agent = "小李";
    c.version += 1;
  };
  const desk_result r = claim(id, "小王");
  EXPECT_EQ(r.what, outcome::taken);
  EXPECT_NE(r.error.find("小李"), std::string::npos) << r.error;
  EXPECT_EQ(store_.cases.at(id).agent, "小李");
  EXPECT_EQ(store_.cases.at(id).version, 1);
  EXPECT_EQ(state(conv_.id).phase, phase::handed_off) << "our write never happened";
}

TEST_F(CaseDesk, AConflictThatClearsIsRetried) {
  const std::string id = handed_off();
  ASSERT_EQ(claim(id, "小王").what, outcome::ok);
  // A deadline scan bumps the version between our read and our write; the case is still ours.
  store_.before_append = [&] { store_.cases.at(id).version += 1; };
  const desk_result r = send(id, "小王", "a1", "我在处理了");
  ASSERT_EQ(r.what, outcome::ok) << r.error;
  EXPECT_EQ(store_.cases.at(id).version, 3);
  EXPECT_EQ(store_.outbound_of(conv_.id).back().client_id, "agent:小王:a1");
}

TEST_F(CaseDesk, AnActionThatKeepsLosingFailsAfterAFewTries) {
  const std::string id = handed_off();
  int races = 0;
  std::function<void()> race = [&] {
    ++races;
    store_.cases.at(id).version += 1;
    store_.before_append = race;
  };
  store_.before_append = race;
  const desk_result r = claim(id, "小王");
  store_.before_append = nullptr;
  EXPECT_EQ(r.what, outcome::failed);
  EXPECT_EQ(races, 3);
  EXPECT_EQ(store_.cases.at(id).status, "open");
}

TEST_F(CaseDesk, AStoreFailureIsFailedAndAnUnknownCaseNotFound) {
  const std::string id = handed_off();
  store_.fail_next = true;
  EXPECT_EQ(claim(id, "小王").what, outcome::failed);
  EXPECT_EQ(store_.cases.at(id).status, "open");
  EXPECT_EQ(claim("cffffffffffffffff", "小王").what, outcome::not_found);
  EXPECT_EQ(resolve("cffffffffffffffff", "小王", {"reissue", 0, "", ""}).what, outcome::not_found);
}

}  // namespace
}  // namespace shouhou::bot
