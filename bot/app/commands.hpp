#pragma once
// The commands of the `shouhou` executable. Each returns the process exit code.

#include <filesystem>
#include <optional>
#include <string>

#include "bot/config.hpp"

namespace shouhou::app {

int serve(bot::server_config config);

// The SQLite file inside a data folder: every command that opens the database names it this way.
inline std::filesystem::path database_file(const std::filesystem::path& data_dir) {
  return data_dir / "shouhou.db";
}

// `token agent`: with `name`, issues agent `name` a new bearer token (replacing any earlier one)
// and prints it alone on the last line of standard output, once: the database keeps only the
// SHA-256 (intents::sha256_hex) of the whole token, "shh_agent_" prefix included, which is what
// a server compares a presented token's hash with. With `revoke`, removes that agent and their
// token. Exactly one of the two; a name is 1 to 64 of [A-Za-z0-9._-]. Creates `data_dir` if
// missing, and works while a server runs on the same folder. Returns 0; 1 when the database
// fails or there is no agent to revoke; 2 for a bad name or usage.
int token_agent(const std::filesystem::path& data_dir, const std::optional<std::string>& name,
                const std::optional<std::string>& revoke);
// `replies check`: loads intents, replies and policy together, prints every error located.
int replies_check(const std::filesystem::path& intents_dir, const std::filesystem::path& replies_dir,
                  const std::filesystem::path& policy_file);

}  // namespace shouhou::app
