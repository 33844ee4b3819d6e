#include "bot/conversation_state.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

namespace shouhou::bot {
namespace {

using json = nlohmann::json;

constexpr std::array<std::pair<phase, std::string_view>, 6> k_phases = {{
    {phase::fresh, "new"},
    {phase::unsure, "unsure"},
    {phase::collecting, "collecting"},
    {phase::handed_off, "handed_off"},
    {phase::with_agent, "with_agent"},
    {phase::resolved, "resolved"},
}};

}  // namespace

std::string_view to_string(phase p) {
  for (auto [value, name] : k_phases) {
    if (value == p) return name;
  }
  return "new";
}

std::vector<const checklist_item*> conversation_state::missing() const {
  std::vector<const checklist_item*> out;
  for (const auto& item : checklist) {
    if (!item.done) out.push_back(&item);
  }
  return out;
}

bool conversation_state::has_flag(std::string_view f) const {
  return std::find(flags.begin(), flags.end(), f) != flags.end();
}

std::string to_json(const conversation_state& s) {
  json checklist = json::array();
  for (const auto& i : s.checklist) {
    checklist.push_back({{"id", i.id}, {"type", i.type}, {"label", i.label}, {"why", i.why},
                         {"done", i.done}, {"value", i.value}});
  }
  json offered = json::array();
  for (const auto& o : s.offered) offered.push_back({{"label", o.label}, {"reason", o.reason}});
  json j = {{"phase", to_string(s.phase)},
            {"reason", s.reason},
            {"confidence", s.confidence},
            {"runner_up", s.runner_up},
            {"reason_since", s.reason_since_ms},
            {"unsure_streak", s.unsure_streak},
            {"offered", std::move(offered)},
            {"checklist", std::move(checklist)},
            {"flags", s.flags},
            {"entities", s.entities},
            {"fired", s.fired},
            {"turns", s.turns},
            {"reminders_sent", s.reminders_sent},
            {"handoff_trigger", s.handoff_trigger},
            {"handed_off_at", s.handed_off_at_ms},
            {"reason_words", s.reason_words},
            {"case", s.case_id}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<conversation_state> state_from_json(std::string_view text) {
  if (text.empty()) return conversation_state{};
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    conversation_state s;
    const std::string p = j.value("phase", "new");
    for (auto [value, name] : k_phases) {
      if (name == p) s.phase = value;
    }
    s.reason = j.value("reason", "");
    s.confidence = j.value("confidence", 0.0);
    s.runner_up = j.value("runner_up", "");
    s.reason_since_ms = j.value("reason_since", std::int64_t{0});
    s.unsure_streak = j.value("unsure_streak", 0);
    for (const auto& o : j.value("offered", json::array())) {
      s.offered.push_back({o.value("label", ""), o.value("reason", "")});
    }
    for (const auto& i : j.value("checklist", json::array())) {
      s.checklist.push_back({i.value("id", ""), i.value("type", ""), i.value("label", ""),
                             i.value("why", ""), i.value("done", false), i.value("value", "")});
    }
    s.flags = j.value("flags", std::vector<std::string>{});
    s.entities = j.value("entities", std::map<std::string, std::string>{});
    s.fired = j.value("fired", std::vector<std::string>{});
    s.turns = j.value("turns", 0);
    s.reminders_sent = j.value("reminders_sent", 0);
    s.handoff_trigger = j.value("handoff_trigger", "");
    s.handed_off_at_ms = j.value("handed_off_at", std::int64_t{0});
    s.reason_words = j.value("reason_words", "");
    s.case_id = j.value("case", "");
    return s;
  } catch (const json::exception&) {
    // A field of the wrong type: the row was written by something else; refuse it whole.
    return std::nullopt;
  }
}

}  // namespace shouhou::bot
