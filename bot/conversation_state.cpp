#include "bot/conversation_state.hpp"

#include <simdjson.h>
#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <type_traits>

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

namespace {

// Readers of one field: absent is the default, present with another type refuses the state.
using object = simdjson::dom::object;

bool read(object& o, const char* key, std::string& out) {
  std::string_view v;
  const auto e = o[key].get_string().get(v);
  if (e == simdjson::NO_SUCH_FIELD) return true;
  if (e) return false;
  out.assign(v);
  return true;
}

template <typename T>
bool read_number(object& o, const char* key, T& out) {
  simdjson::dom::element v;
  const auto e = o[key].get(v);
  if (e == simdjson::NO_SUCH_FIELD) return true;
  if (e) return false;
  if constexpr (std::is_floating_point_v<T>) {
    double d = 0;
    if (v.get_double().get(d)) return false;  // integers read as doubles too
    out = static_cast<T>(d);
  } else {
    std::int64_t i = 0;
    if (v.get_int64().get(i)) return false;
    out = static_cast<T>(i);
  }
  return true;
}

bool read(object& o, const char* key, bool& out) {
  const auto e = o[key].get_bool().get(out);
  return e == simdjson::SUCCESS || e == simdjson::NO_SUCH_FIELD;
}

bool read(object& o, const char* key, std::vector<std::string>& out) {
  simdjson::dom::array a;
  const auto e = o[key].get_array().get(a);
  if (e == simdjson::NO_SUCH_FIELD) return true;
  if (e) return false;
  for (const auto v : a) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    out.emplace_back(s);
  }
  return true;
}

// Calls f(object&) for each object of the array at `key`; false when one is not an object or f
// refuses it.
template <typename F>
bool read_objects(object& o, const char* key, F&& f) {
  simdjson::dom::array a;
  const auto e = o[key].get_array().get(a);
  if (e == simdjson::NO_SUCH_FIELD) return true;
  if (e) return false;
  for (const auto v : a) {
    object item;
    if (v.get_object().get(item) || !f(item)) return false;
  }
  return true;
}

}  // namespace

std::optional<conversation_state> state_from_json(std::string_view text) {
  if (text.empty()) return conversation_state{};
  // One parser per thread: it keeps its buffers, so a turn allocates nothing to read its state.
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;  // simdjson reads a little past the end
  padded.assign(text);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element doc;
  object o;
  if (parser.parse(padded.data(), text.size(), false).get(doc) || doc.get_object().get(o)) {
    return std::nullopt;
  }
  conversation_state s;
  std::string p = "new";
  bool ok = read(o, "phase", p);
  for (auto [value, name] : k_phases) {
    if (name == p) s.phase = value;
  }
  ok = ok && read(o, "reason", s.reason) && read_number(o, "confidence", s.confidence) &&
       read(o, "runner_up", s.runner_up) && read_number(o, "reason_since", s.reason_since_ms) &&
       read_number(o, "unsure_streak", s.unsure_streak);
  ok = ok && read_objects(o, "offered", [&](object& item) {
         replies::quick_reply_option option;
         const bool good = read(item, "label", option.label) && read(item, "reason", option.reason);
         s.offered.push_back(std::move(option));
         return good;
       });
  ok = ok && read_objects(o, "checklist", [&](object& item) {
         checklist_item c;
         const bool good = read(item, "id", c.id) && read(item, "type", c.type) &&
                           read(item, "label", c.label) && read(item, "why", c.why) &&
                           read(item, "done", c.done) && read(item, "value", c.value);
         s.checklist.push_back(std::move(c));
         return good;
       });
  ok = ok && read(o, "flags", s.flags);
  simdjson::dom::object entities;
  if (const auto e = o["entities"].get_object().get(entities); e == simdjson::SUCCESS) {
    for (const auto [key, value] : entities) {
      std::string_view v;
      if (value.get_string().get(v)) return std::nullopt;
      s.entities[std::string(key)] = std::string(v);
    }
  } else if (e != simdjson::NO_SUCH_FIELD) {
    return std::nullopt;
  }
  ok = ok && read(o, "fired", s.fired) && read_number(o, "turns", s.turns) &&
       read_number(o, "reminders_sent", s.reminders_sent) &&
       read(o, "handoff_trigger", s.handoff_trigger) &&
       read_number(o, "handed_off_at", s.handed_off_at_ms) &&
       read(o, "reason_words", s.reason_words) && read(o, "case", s.case_id);
  // A field of the wrong type: the row was written by something else; refuse it whole.
  if (!ok) return std::nullopt;
  return s;
}

}  // namespace shouhou::bot
