#pragma once
// The version of supervisor-edited files: a SHA-256 of their content, in lowercase hex. Intents,
// replies, the policy and the bot's knowledge snapshot all name what is live this way.

#include <string>
#include <string_view>

namespace shouhou::intents {

std::string sha256_hex(std::string_view data);

}  // namespace shouhou::intents
