// End-to-end: `shouhou token agent` issues and revokes agents' tokens in the data folder's
// database, keeping only their hashes; also while a server runs on the same folder.

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <iterator>
#include <regex>

#include "e2e/server_process.hpp"
#include "intents/content_hash.hpp"
#include "store/sqlite_store.hpp"

namespace shouhou::e2e {
namespace {

std::vector<store::agent_record> agents_in(const std::filesystem::path& data) {
  std::string error;
  auto db = store::sqlite_store::open((data / "shouhou.db").string(), {}, error);
  EXPECT_NE(db, nullptr) << error;
  if (!db) return {};
  std::promise<std::vector<store::agent_record>> p;
  db->list_agents([&](store::status st, std::vector<store::agent_record> agents) {
    EXPECT_TRUE(st.ok) << st.error;
    p.set_value(std::move(agents));
  });
  return p.get_future().get();
}

// Every byte of the database's files, WAL included, to search for what must not be there.
std::string database_bytes(const std::filesystem::path& data) {
  std::string bytes;
  for (const char* name : {"shouhou.db", "shouhou.db-wal"}) {
    std::ifstream in(data / name, std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return bytes;
}

const std::regex k_token_format("shh_agent_[0-9a-f]{64}");

TEST(TokenAgent, IssuesATokenPrintedOnceAndStoresOnlyItsHash) {
  temp_dir dir;
  const auto data = dir.path() / "fresh";  // created by the command
  const run_result r = run_shouhou({"token", "agent", "--name", "alice.w-1", "--data", data});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string token = last_line(r.out);
  EXPECT_TRUE(std::regex_match(token, k_token_format)) << token;
  EXPECT_NE(r.out.find("alice.w-1"), std::string::npos) << "says for whom: " << r.out;

  const auto agents = agents_in(data);
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(agents[0].name, "alice.w-1");
  EXPECT_EQ(agents[0].token_sha256, intents::sha256_hex(token));
  EXPECT_GT(agents[0].created_at_ms, 0);
  const std::string stored = database_bytes(data);
  EXPECT_NE(stored.find(agents[0].token_sha256), std::string::npos) << "the hash is there";
  EXPECT_EQ(stored.find(token.substr(10)), std::string::npos) << "the token is not";
}

TEST(TokenAgent, IssuingAgainReplacesTheToken) {
  temp_dir dir;
  const run_result first = run_shouhou({"token", "agent", "--name", "bob", "--data", dir.path()});
  const run_result second = run_shouhou({"token", "agent", "--name", "bob", "--data", dir.path()});
  ASSERT_EQ(first.exit_code, 0);
  ASSERT_EQ(second.exit_code, 0);
  const std::string token = last_line(second.out);
  ASSERT_TRUE(std::regex_match(token, k_token_format)) << token;
  EXPECT_NE(last_line(first.out), token);
  const auto agents = agents_in(dir.path());
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(agents[0].token_sha256, intents::sha256_hex(token));
}

TEST(TokenAgent, RevokeRemovesTheAgentAndASecondRevokeExits1) {
  temp_dir dir;
  ASSERT_EQ(run_shouhou({"token", "agent", "--name", "carol", "--data", dir.path()}).exit_code, 0);
  ASSERT_EQ(run_shouhou({"token", "agent", "--name", "dave", "--data", dir.path()}).exit_code, 0);

  const run_result revoked =
      run_shouhou({"token", "agent", "--revoke", "carol", "--data", dir.path()});
  EXPECT_EQ(revoked.exit_code, 0);
  EXPECT_NE(revoked.out.find("carol"), std::string::npos) << revoked.out;
  const auto agents = agents_in(dir.path());
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(agents[0].name, "dave");

  const run_result again =
      run_shouhou({"token", "agent", "--revoke", "carol", "--data", dir.path()});
  EXPECT_EQ(again.exit_code, 1);
}

TEST(TokenAgent, ABadNameOrUsageExits2AndWritesNothing) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  for (const std::string& bad :
       std::vector<std::string>{"", "has space", "semi;colon", "名字", std::string(65, 'a')}) {
    EXPECT_EQ(run_shouhou({"token", "agent", "--name", bad, "--data", data}).exit_code, 2)
        << "\"" << bad << "\"";
  }
  EXPECT_EQ(run_shouhou({"token", "agent", "--revoke", "a/b", "--data", data}).exit_code, 2);
  EXPECT_EQ(run_shouhou({"token", "agent", "--data", data}).exit_code, 2) << "neither";
  EXPECT_EQ(
      run_shouhou({"token", "agent", "--name", "a", "--revoke", "a", "--data", data}).exit_code, 2)
      << "both";
  EXPECT_FALSE(std::filesystem::exists(data)) << "refused before touching the folder";
  EXPECT_EQ(
      run_shouhou({"token", "agent", "--name", std::string(64, 'a'), "--data", data}).exit_code, 0)
      << "64 characters are allowed";
}

TEST(TokenAgent, WorksWhileAServerRunsOnTheSameFolder) {
  temp_dir dir;
  server_process server(dir.path());
  ASSERT_NE(server.port(), 0);
  const run_result r = run_shouhou({"token", "agent", "--name", "erin", "--data", dir.path()});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_match(last_line(r.out), k_token_format));
  EXPECT_EQ(run_shouhou({"token", "agent", "--revoke", "erin", "--data", dir.path()}).exit_code, 0);
  EXPECT_EQ(server.stop(), 0) << "the server went on and stopped cleanly";
}

}  // namespace
}  // namespace shouhou::e2e
