#pragma once
// The commands of the `shouhou` executable. Each returns the process exit code.

#include <filesystem>

#include "bot/config.hpp"

namespace shouhou::app {

int serve(bot::server_config config);
// `replies check`: loads intents, replies and policy together, prints every error located.
int replies_check(const std::filesystem::path& intents_dir, const std::filesystem::path& replies_dir,
                  const std::filesystem::path& policy_file);

}  // namespace shouhou::app
