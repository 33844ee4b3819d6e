// Evidence rows: stored with a turn, refused past the per-conversation maximum, loaded back.

#include <gtest/gtest.h>

#include <future>

#include "test_support.hpp"

namespace shouhou::store::testing {
namespace {

evidence_record make_evidence(const std::string& id, const std::string& conversation) {
  evidence_record e;
  e.id = id;
  e.conversation = conversation;
  e.item = "damage_photo";
  e.original_name = "破损.jpg";
  e.mime = "image/jpeg";
  e.kind = "image";
  e.size = 1234;
  e.sha256 = std::string(64, 'a');
  e.at_ms = 1'700'000'000'000;
  return e;
}

turn evidence_turn(const std::string& conversation, std::vector<evidence_record> rows,
                   std::size_t max = 0) {
  turn t;
  t.conversation = conversation;
  t.evidence = std::move(rows);
  t.max_evidence = max;
  return t;
}

std::optional<evidence_record> load_one(store& s, const std::string& id) {
  std::promise<std::optional<evidence_record>> p;
  s.load_evidence(id, [&](status st, std::optional<evidence_record> e) {
    EXPECT_TRUE(st.ok) << st.error;
    p.set_value(std::move(e));
  });
  return p.get_future().get();
}

std::vector<evidence_record> list(store& s, const std::string& conversation) {
  std::promise<std::vector<evidence_record>> p;
  s.list_evidence(conversation, [&](status st, std::vector<evidence_record> rows) {
    EXPECT_TRUE(st.ok) << st.error;
    p.set_value(std::move(rows));
  });
  return p.get_future().get();
}

TEST(SqliteEvidence, RowsRoundTripEveryFieldAndListByConversation) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  ASSERT_TRUE(create(*s, make_conversation("c2")).ok);
  auto r = append(*s, evidence_turn("c1", {make_evidence("e1", "c1"), make_evidence("e2", "c1")}));
  ASSERT_TRUE(r.st.ok) << r.st.error;
  ASSERT_TRUE(append(*s, evidence_turn("c2", {make_evidence("e3", "c2")})).st.ok);

  auto e1 = load_one(*s, "e1");
  ASSERT_TRUE(e1.has_value());
  const evidence_record want = make_evidence("e1", "c1");
  EXPECT_EQ(e1->conversation, want.conversation);
  EXPECT_EQ(e1->item, want.item);
  EXPECT_EQ(e1->original_name, want.original_name);
  EXPECT_EQ(e1->mime, want.mime);
  EXPECT_EQ(e1->kind, want.kind);
  EXPECT_EQ(e1->size, want.size);
  EXPECT_EQ(e1->sha256, want.sha256);
  EXPECT_EQ(e1->at_ms, want.at_ms);
  EXPECT_FALSE(load_one(*s, "nope").has_value());

  auto rows = list(*s, "c1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, "e1");
  EXPECT_EQ(rows[1].id, "e2");
  EXPECT_EQ(list(*s, "c2").size(), 1u);
  EXPECT_TRUE(list(*s, "unknown").empty());
}

TEST(SqliteEvidence, PassingThePerConversationMaximumIsRefusedAndWritesNothing) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  ASSERT_TRUE(append(*s, evidence_turn("c1", {make_evidence("e1", "c1")}, 2)).st.ok);
  auto refused = append(*s, evidence_turn("c1", {make_evidence("e2", "c1"),
                                                 make_evidence("e3", "c1")}, 2));
  EXPECT_FALSE(refused.st.ok);
  EXPECT_TRUE(refused.st.over_limit);
  EXPECT_FALSE(refused.st.conflict);
  EXPECT_NE(refused.st.error.find("limit of 2"), std::string::npos) << refused.st.error;
  EXPECT_EQ(list(*s, "c1").size(), 1u);
  EXPECT_TRUE(append(*s, evidence_turn("c1", {make_evidence("e2", "c1")}, 2)).st.ok);
}

TEST(SqliteEvidence, EvidenceAndStateAreOneTransaction) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  turn t = evidence_turn("c1", {make_evidence("e1", "c1")});
  t.state = state_update{7, "{}", "collecting", 0};  // out of date: the version is 0
  auto r = append(*s, t);
  EXPECT_TRUE(r.st.conflict);
  EXPECT_FALSE(load_one(*s, "e1").has_value()) << "the conflict rolled the evidence back";
  t.state->expected_version = 0;
  ASSERT_TRUE(append(*s, t).st.ok);
  EXPECT_TRUE(load_one(*s, "e1").has_value());
  EXPECT_EQ(load(*s, "c1").found->state_version, 1);
}

TEST(SqliteEvidence, ADuplicateIdOrAnUnknownConversationFails) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  ASSERT_TRUE(append(*s, evidence_turn("c1", {make_evidence("e1", "c1")})).st.ok);
  EXPECT_FALSE(append(*s, evidence_turn("c1", {make_evidence("e1", "c1")})).st.ok);
  EXPECT_FALSE(append(*s, evidence_turn("nope", {make_evidence("e9", "nope")})).st.ok);
  EXPECT_FALSE(load_one(*s, "e9").has_value());
}

}  // namespace
}  // namespace shouhou::store::testing
