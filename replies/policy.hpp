#pragma once
// The platform's after-sales rules as configuration (DESIGN §3): deadlines and the resolutions an
// agent may offer per reason. Read from one YAML file (replies/policy.yaml by default); the
// format is in replies/README.md ("The policy file").
//
// Immutable once loaded; every const member is safe from any thread.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "intents/file_error.hpp"

namespace shouhou::replies {

// The resolutions of DESIGN §3, the only ids a policy may name.
inline constexpr std::string_view k_resolutions[] = {
    "full_refund", "partial_refund", "return_and_refund", "exchange",
    "reissue",     "compensation",   "rejected"};

struct deadline_rule {
  std::string id;     // e.g. "merchant_response"
  std::string label;  // what people read, e.g. "商家处理售后申请"
  enum class unit { hours, days, working_days } unit = unit::hours;
  int amount = 0;
};

struct reason_rules {
  std::string deadline;                  // id of the deadline {deadline} shows; may be empty
  std::vector<std::string> resolutions;  // allowed, in the order they are suggested
};

class policy {
 public:
  struct load_result {
    std::shared_ptr<const replies::policy> policy;  // null when `errors` is not empty
    std::vector<intents::file_error> errors;
  };
  static load_result load(const std::filesystem::path& file);

  const std::vector<deadline_rule>& deadlines() const { return deadlines_; }
  const deadline_rule* find_deadline(std::string_view id) const;
  // The rules of a reason; a reason the file does not list gets no deadline and every resolution.
  const reason_rules& rules(std::string_view reason) const;

  // When a deadline that starts at `from_ms` passes (ms since the Unix epoch). Working days skip
  // Saturdays and Sundays in the policy's time zone.
  std::int64_t due_at(const deadline_rule& rule, std::int64_t from_ms) const;
  // "11月24日 15:00" in the policy's time zone, as buyers read times.
  std::string format_time(std::int64_t ms) const;

  const std::string& version() const { return version_; }  // hex SHA-256 of the file

 private:
  std::vector<deadline_rule> deadlines_;
  std::vector<std::pair<std::string, reason_rules>> reasons_;
  reason_rules all_resolutions_;
  int utc_offset_minutes_ = 8 * 60;
  std::string version_;
};

}  // namespace shouhou::replies
