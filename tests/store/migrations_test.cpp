#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string_view>
#include <vector>

#include "store/detail/migrations.hpp"
#include "test_support.hpp"

namespace shouhou::store::testing {
namespace {

using ::testing::HasSubstr;

constexpr int k_latest = 4;

TEST(SqliteMigrations, OpenCreatesTheSchemaAtTheLatestVersion) {
  temp_dir dir;
  {
    auto s = open_store(dir.db());
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->schema_version(), k_latest);
    EXPECT_EQ(detail::schema_steps().size(), static_cast<std::size_t>(k_latest));
  }
  raw_db db(dir.db());
  EXPECT_EQ(db.scalar("PRAGMA user_version"), k_latest);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name ="
                      " 'handoffs'"),
            0)
      << "cases replaced it in version 4";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN"
                      " ('cases', 'agents', 'outbox')"),
            3);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_foreign_key_list('cases') WHERE"
                      " \"table\" = 'conversations' AND \"from\" = 'conversation'"),
            1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_index_info('cases_status_created')"), 2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_index_info('cases_shop_buyer_created')"), 3);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_index_list('cases') WHERE"
                      " name = 'cases_warn_at' AND partial = 1"),
            1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_index_list('outbox') WHERE"
                      " name = 'outbox_pending' AND partial = 1"),
            1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_index_list('agents') WHERE \"unique\" = 1"), 2)
      << "the name and the token hash";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_table_info('conversations') WHERE name IN"
                      " ('state', 'state_version', 'phase', 'remind_at_ms')"),
            4);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_index_info('evidence_conversation')"), 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_foreign_key_list('evidence') WHERE"
                      " \"table\" = 'conversations' AND \"from\" = 'conversation'"),
            1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN"
                      " ('conversations', 'messages')"),
            2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_index_list('messages') WHERE"
                      " name = 'messages_client_id' AND \"unique\" = 1 AND partial = 1"),
            1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_index_info('messages_conversation_seq')"), 2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pragma_foreign_key_list('messages') WHERE"
                      " \"table\" = 'conversations' AND \"from\" = 'conversation'"),
            1);
}

TEST(SqliteMigrations, ReopeningDoesNotMigrateAgain) {
  temp_dir dir;
  {
    auto s = open_store(dir.db());
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  }
  {
    raw_db db(dir.db());
    const detail::migration_result again =
        detail::migrate(db.get(), dir.db(), detail::schema_steps());
    EXPECT_TRUE(again.st.ok) << again.st.error;
    EXPECT_EQ(again.applied, 0);
    EXPECT_EQ(again.version, k_latest);
  }
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->schema_version(), k_latest);
  EXPECT_TRUE(load(*s, "c1").found.has_value());
}

TEST(SqliteMigrations, ANewerSchemaIsRefused) {
  temp_dir dir;
  {
    raw_db db(dir.db());
    ASSERT_EQ(db.exec("PRAGMA user_version = 7"), SQLITE_OK);
  }
  std::string error;
  auto s = sqlite_store::open(dir.db(), {}, error);
  EXPECT_EQ(s, nullptr);
  EXPECT_THAT(error, HasSubstr(dir.db()));
  EXPECT_THAT(error, HasSubstr("schema version 7, newer than version " + std::to_string(k_latest)));
  raw_db db(dir.db());
  EXPECT_EQ(db.scalar("PRAGMA user_version"), 7);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema"), 0);
}

TEST(SqliteMigrations, AFailingStepLeavesThePreviousVersion) {
  temp_dir dir;
  raw_db db(dir.db());
  const std::vector<std::string_view> steps = {
      "CREATE TABLE first(x);",
      "CREATE TABLE second(x); INSERT INTO no_such_table VALUES(1);",
  };
  const detail::migration_result r = detail::migrate(db.get(), dir.db(), steps);
  EXPECT_FALSE(r.st.ok);
  EXPECT_THAT(r.st.error, HasSubstr("to schema version 2"));
  EXPECT_THAT(r.st.error, HasSubstr("no_such_table"));
  EXPECT_EQ(r.applied, 1);
  EXPECT_EQ(r.version, 1);
  EXPECT_EQ(db.scalar("PRAGMA user_version"), 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'first'"), 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'second'"), 0);
}

TEST(SqliteMigrations, AMissingFolderIsAClearError) {
  temp_dir dir;
  const std::string path = dir.file("no-such-folder/shouhou.db");
  std::string error;
  auto s = sqlite_store::open(path, {}, error);
  EXPECT_EQ(s, nullptr);
  EXPECT_THAT(error, HasSubstr(path));
  EXPECT_THAT(error, HasSubstr("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "no-such-folder"));
}

TEST(SqliteMigrations, AFileThatIsNotADatabaseIsAClearError) {
  temp_dir dir;
  {
    std::ofstream out(dir.db());
    for (int i = 0; i < 200; ++i) out << "this is not an SQLite database\n";
  }
  std::string error;
  auto s = sqlite_store::open(dir.db(), {}, error);
  EXPECT_EQ(s, nullptr);
  EXPECT_THAT(error, HasSubstr(dir.db()));
  EXPECT_THAT(error, HasSubstr("not a database"));
}

TEST(SqliteMigrations, AVersion1DatabaseIsUpgradedWithItsData) {
  temp_dir dir;
  {
    raw_db db(dir.db());
    const auto steps = detail::schema_steps().first(1);
    ASSERT_TRUE(detail::migrate(db.get(), dir.db(), steps).st.ok);
    ASSERT_EQ(db.exec("INSERT INTO conversations VALUES('old', 's', 'b', 1)"), SQLITE_OK);
  }
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->schema_version(), k_latest);
  auto got = load(*s, "old");
  ASSERT_TRUE(got.found.has_value());
  EXPECT_EQ(got.found->phase, "new");
  EXPECT_EQ(got.found->state_version, 0);
  EXPECT_EQ(got.found->remind_at_ms, 0);
}

// A handoff recorded before cases existed was waiting for a person: it becomes an open case.
TEST(SqliteMigrations, AVersion3HandoffBecomesAnOpenCase) {
  temp_dir dir;
  {
    raw_db db(dir.db());
    ASSERT_TRUE(detail::migrate(db.get(), dir.db(), detail::schema_steps().first(3)).st.ok);
    ASSERT_EQ(db.exec("INSERT INTO conversations(id, shop, buyer, created_at_ms)"
                      " VALUES('old', 'shop-9', 'buyer-9', 1)"),
              SQLITE_OK);
    ASSERT_EQ(db.exec("INSERT INTO handoffs(conversation, at_ms, trigger, reason, snapshot)"
                      " VALUES('old', 42, 'wants_human', 'damaged', '{\"missing\":[]}'),"
                      " ('old', 43, 'escalation', 'counterfeit', '{}')"),
              SQLITE_OK);
  }
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->schema_version(), k_latest);

  auto got = load_case(*s, "h1");
  ASSERT_TRUE(got.st.ok) << got.st.error;
  ASSERT_TRUE(got.value.has_value());
  const case_record& c = *got.value;
  EXPECT_EQ(c.conversation, "old");
  EXPECT_EQ(c.shop, "shop-9");
  EXPECT_EQ(c.buyer, "buyer-9");
  EXPECT_EQ(c.reason, "damaged");
  EXPECT_EQ(c.status, "open");
  EXPECT_EQ(c.agent, "");
  EXPECT_EQ(c.created_at_ms, 42);
  EXPECT_EQ(c.updated_at_ms, 42);
  EXPECT_EQ(c.due_at_ms, 0);
  EXPECT_EQ(c.warn_at_ms, 0);
  EXPECT_EQ(c.details, R"({"missing":[]})");
  EXPECT_EQ(c.outcome, "");
  EXPECT_EQ(c.version, 0);
  ASSERT_TRUE(load_case(*s, "h2").value.has_value());
  EXPECT_EQ(load_case(*s, "h2").value->reason, "counterfeit");
  case_query open_cases;
  open_cases.statuses = {"open"};
  EXPECT_EQ(find_cases(*s, open_cases).size(), 2u);

  raw_db db(dir.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'handoffs'"), 0);
}

}  // namespace
}  // namespace shouhou::store::testing
