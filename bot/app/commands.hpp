#pragma once
// The commands of the `shouhou` executable. Each returns the process exit code.

#include <filesystem>

#include "bot/config.hpp"

namespace shouhou::app {

int serve(const bot::server_config& config);
int intents_check(const std::filesystem::path& intents_dir);

}  // namespace shouhou::app
