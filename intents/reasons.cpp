#include "intents/reasons.hpp"

#include <algorithm>

namespace shouhou::intents {

bool is_reason(std::string_view id) {
  return std::find(k_reasons.begin(), k_reasons.end(), id) != k_reasons.end();
}

bool is_flag(std::string_view id) {
  return std::find(k_flags.begin(), k_flags.end(), id) != k_flags.end();
}

}  // namespace shouhou::intents
