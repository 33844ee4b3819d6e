#include "replies/policy.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "intents/content_hash.hpp"
#include "intents/reasons.hpp"

namespace shouhou::replies {
namespace {

bool is_resolution(std::string_view id) {
  return std::find(std::begin(k_resolutions), std::end(k_resolutions), id) !=
         std::end(k_resolutions);
}

// Collects located errors while walking the YAML tree.
struct reader {
  std::string file;
  std::vector<intents::file_error>& errors;

  void error(const YAML::Node& at, std::string message) {
    const YAML::Mark m = at.Mark();
    errors.push_back(
        {file, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, std::move(message)});
  }

  bool expect_map(const YAML::Node& n, const std::string& what) {
    if (n.IsMap()) return true;
    error(n, what + " must be a mapping");
    return false;
  }

  // The keys of `n` not in `allowed` are errors (a typo must not be ignored silently).
  void only_keys(const YAML::Node& n, std::initializer_list<std::string_view> allowed,
                 const std::string& where) {
    for (const auto& kv : n) {
      const std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        error(kv.first, "unknown key '" + key + "' in " + where + " (expected " + list + ")");
      }
    }
  }

  std::vector<std::string> resolutions(const YAML::Node& n, const std::string& where) {
    std::vector<std::string> out;
    if (!n.IsSequence()) {
      error(n, where + " must be a list of resolutions");
      return out;
    }
    for (const auto& item : n) {
      const std::string id = item.IsScalar() ? item.Scalar() : "";
      if (!is_resolution(id)) {
        error(item, "unknown resolution '" + id +
                        "' (expected full_refund, partial_refund, return_and_refund, exchange, "
                        "reissue, compensation or rejected)");
      } else {
        out.push_back(id);
      }
    }
    return out;
  }
};

// Days since 1970-01-01 to a weekday, 0 = Monday.
int weekday(std::int64_t days) { return static_cast<int>(((days % 7) + 7 + 3) % 7); }

}  // namespace

policy::load_result policy::load(const std::filesystem::path& file) {
  load_result result;
  const std::string name = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    result.errors.push_back({name, 0, 0, "policy file not found or not readable"});
    return result;
  }
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  auto p = std::shared_ptr<policy>(new policy());
  p->version_ = intents::sha256_hex(text);
  p->all_resolutions_.resolutions.assign(std::begin(k_resolutions), std::end(k_resolutions));
  reader r{name, result.errors};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    result.errors.push_back({name, e.mark.is_null() ? 0 : e.mark.line + 1,
                             e.mark.is_null() ? 0 : e.mark.column + 1, e.msg});
    return result;
  }
  if (!r.expect_map(root, "the policy file")) return result;
  r.only_keys(root, {"timezone", "deadlines", "reasons", "resolutions"}, "the policy file");

  if (const auto tz = root["timezone"]) {
    int hours = 0, minutes = 0;
    char sign = 0;
    const std::string s = tz.IsScalar() ? tz.Scalar() : "";
    if (std::sscanf(s.c_str(), "%c%d:%d", &sign, &hours, &minutes) != 3 ||
        (sign != '+' && sign != '-') || hours > 14 || minutes > 59 || s.size() != 6) {
      r.error(tz, "timezone must look like \"+08:00\"");
    } else {
      p->utc_offset_minutes_ = (sign == '-' ? -1 : 1) * (hours * 60 + minutes);
    }
  }

  if (const auto deadlines = root["deadlines"]; deadlines && r.expect_map(deadlines, "deadlines")) {
    for (const auto& kv : deadlines) {
      const std::string id = kv.first.Scalar();
      const std::string where = "deadline '" + id + "'";
      if (!r.expect_map(kv.second, where)) continue;
      r.only_keys(kv.second, {"label", "hours", "days", "working_days"}, where);
      deadline_rule rule;
      rule.id = id;
      rule.label =
          kv.second["label"] && kv.second["label"].IsScalar() ? kv.second["label"].Scalar() : id;
      int units = 0;
      for (auto [key, unit] : {std::pair{"hours", deadline_rule::unit::hours},
                               std::pair{"days", deadline_rule::unit::days},
                               std::pair{"working_days", deadline_rule::unit::working_days}}) {
        const auto v = kv.second[key];
        if (!v) continue;
        ++units;
        int amount = 0;
        if (!v.IsScalar() || !YAML::convert<int>::decode(v, amount) || amount <= 0) {
          r.error(v, std::string(key) + " of " + where + " must be a whole number above 0");
        }
        rule.unit = unit;
        rule.amount = amount;
      }
      if (units != 1) {
        r.error(kv.second, where + " needs exactly one of hours, days, working_days");
      }
      p->deadlines_.push_back(std::move(rule));
    }
  }

  if (const auto all = root["resolutions"]) {
    p->all_resolutions_.resolutions = r.resolutions(all, "resolutions");
  }

  if (const auto reasons = root["reasons"]; reasons && r.expect_map(reasons, "reasons")) {
    for (const auto& kv : reasons) {
      const std::string id = kv.first.Scalar();
      const std::string where = "reason '" + id + "'";
      if (!intents::is_reason(id)) {
        r.error(kv.first, "unknown reason '" + id + "'");
        continue;
      }
      if (!r.expect_map(kv.second, where)) continue;
      r.only_keys(kv.second, {"deadline", "resolutions"}, where);
      reason_rules rules;
      if (const auto d = kv.second["deadline"]) {
        rules.deadline = d.IsScalar() ? d.Scalar() : "";
        if (!p->find_deadline(rules.deadline)) {
          r.error(d, "unknown deadline '" + rules.deadline + "' in " + where);
        }
      }
      if (const auto res = kv.second["resolutions"]) {
        rules.resolutions = r.resolutions(res, "resolutions of " + where);
      } else {
        rules.resolutions = p->all_resolutions_.resolutions;
      }
      p->reasons_.emplace_back(id, std::move(rules));
    }
  }
  if (result.errors.empty()) result.policy = std::move(p);
  return result;
}

const deadline_rule* policy::find_deadline(std::string_view id) const {
  for (const auto& d : deadlines_) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

const reason_rules& policy::rules(std::string_view reason) const {
  for (const auto& [id, rules] : reasons_) {
    if (id == reason) return rules;
  }
  return all_resolutions_;
}

std::int64_t policy::due_at(const deadline_rule& rule, std::int64_t from_ms) const {
  constexpr std::int64_t hour = 3'600'000, day = 24 * hour;
  switch (rule.unit) {
    case deadline_rule::unit::hours:
      return from_ms + rule.amount * hour;
    case deadline_rule::unit::days:
      return from_ms + rule.amount * day;
    case deadline_rule::unit::working_days: {
      const std::int64_t offset = std::int64_t{utc_offset_minutes_} * 60'000;
      std::int64_t at = from_ms;
      for (int left = rule.amount; left > 0;) {
        at += day;
        const std::int64_t local_day = (at + offset) / day;
        if (weekday(local_day) < 5) --left;
      }
      return at;
    }
  }
  return from_ms;
}

std::string policy::format_time(std::int64_t ms) const {
  const std::int64_t local = ms + std::int64_t{utc_offset_minutes_} * 60'000;
  std::int64_t days = local / 86'400'000;
  const std::int64_t in_day = local % 86'400'000;
  // Civil date from days since the epoch (proleptic Gregorian calendar).
  days += 719468;
  const std::int64_t era = days / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  char out[64];
  std::snprintf(out, sizeof out, "%d月%d日 %02d:%02d", m, d, static_cast<int>(in_day / 3'600'000),
                static_cast<int>(in_day / 60'000 % 60));
  return out;
}

}  // namespace shouhou::replies
