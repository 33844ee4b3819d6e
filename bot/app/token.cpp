#include <openssl/rand.h>

#include <chrono>
#include <future>
#include <iostream>
#include <memory>
#include <string_view>

#include "bot/app/commands.hpp"
#include "intents/content_hash.hpp"
#include "store/sqlite_store.hpp"

namespace shouhou::app {
namespace {

// Makes a leaked token recognisable (in logs, pastes, secret scanners) as one of ours.
constexpr std::string_view k_agent_token_prefix = "shh_agent_";
constexpr std::size_t k_max_name_chars = 64;

bool valid_agent_name(std::string_view name) {
  if (name.empty() || name.size() > k_max_name_chars) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// 32 random bytes as 64 lowercase hex digits after the prefix; nullopt without randomness.
std::optional<std::string> new_agent_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return std::nullopt;
  static constexpr char digits[] = "0123456789abcdef";
  std::string token(k_agent_token_prefix);
  for (unsigned char b : bytes) {
    token.push_back(digits[b >> 4]);
    token.push_back(digits[b & 0xf]);
  }
  return token;
}

std::unique_ptr<store::sqlite_store> open_database(const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    std::cerr << "shouhou: cannot create data folder " << data_dir << ": " << ec.message() << "\n";
    return nullptr;
  }
  std::string error;
  auto db = store::sqlite_store::open(database_file(data_dir).string(), {}, error);
  if (!db) std::cerr << "shouhou: " << error << "\n";
  return db;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int issue(store::store& db, const std::string& name) {
  const std::optional<std::string> token = new_agent_token();
  if (!token) {
    std::cerr << "shouhou: cannot make a token for agent '" << name << "': no randomness\n";
    return 1;
  }
  std::promise<store::status> stored;
  db.put_agent({name, intents::sha256_hex(*token), now_ms()},
               [&](store::status st) { stored.set_value(std::move(st)); });
  if (const store::status st = stored.get_future().get(); !st.ok) {
    std::cerr << "shouhou: " << st.error << "\n";
    return 1;
  }
  std::cout << "token for agent '" << name << "', shown this once (only its SHA-256 is kept;"
            << " any earlier token of '" << name << "' no longer works):\n"
            << *token << "\n";
  return 0;
}

int revoke(store::store& db, const std::string& name) {
  std::promise<std::pair<store::status, bool>> revoked;
  db.revoke_agent(name, [&](store::status st, bool found) {
    revoked.set_value({std::move(st), found});
  });
  const auto [st, found] = revoked.get_future().get();
  if (!st.ok) {
    std::cerr << "shouhou: " << st.error << "\n";
    return 1;
  }
  if (!found) {
    std::cerr << "shouhou: there is no agent '" << name << "' to revoke\n";
    return 1;
  }
  std::cout << "revoked agent '" << name << "': their token no longer works\n";
  return 0;
}

}  // namespace

int token_agent(const std::filesystem::path& data_dir, const std::optional<std::string>& name,
                const std::optional<std::string>& revoke_name) {
  if (name.has_value() == revoke_name.has_value()) {
    std::cerr << "shouhou: token agent needs either --name NAME (issue a token) or --revoke NAME\n";
    return 2;
  }
  const std::string& who = name ? *name : *revoke_name;
  if (!valid_agent_name(who)) {
    std::cerr << "shouhou: agent name \"" << who << "\" is not 1 to " << k_max_name_chars
              << " letters, digits, '.', '_' or '-'\n";
    return 2;
  }
  auto db = open_database(data_dir);
  if (!db) return 1;
  return name ? issue(*db, who) : revoke(*db, who);
}

}  // namespace shouhou::app
