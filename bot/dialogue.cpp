#include "bot/dialogue.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace shouhou::bot {
namespace {

bool reason_is_specific(std::string_view r) {
  return !r.empty() && r != "other" && r != "refund_request";
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

replies::variables variables_for(const conversation_state& s, const knowledge& know,
                                 const party& who) {
  replies::variables vars{{"shop", who.shop}, {"buyer", who.buyer}};
  if (auto it = s.entities.find("order_no"); it != s.entities.end()) vars["order"] = it->second;
  if (auto it = s.entities.find("waybill_no"); it != s.entities.end()) vars["waybill"] = it->second;
  const auto& rules = know.policy->rules(s.reason);
  if (const auto* d = know.policy->find_deadline(rules.deadline); d && s.reason_since_ms) {
    vars["deadline"] = know.policy->format_time(know.policy->due_at(*d, s.reason_since_ms));
  }
  std::string missing;
  for (const auto* item : s.missing()) {
    if (!missing.empty()) missing += "、";
    missing += item->label;
  }
  vars["missing"] = missing;
  return vars;
}

std::vector<replies::evidence_item> requests_for(const conversation_state& s) {
  std::vector<replies::evidence_item> out;
  for (const auto* item : s.missing())
    out.push_back({item->id, item->type, item->label, item->why});
  return out;
}

// Entities typed by the buyer fill the items of their type.
bool fill_from_entities(conversation_state& s) {
  bool progress = false;
  for (auto& item : s.checklist) {
    if (item.done) continue;
    auto it = s.entities.find(item.type);  // order_no and waybill_no are entity kinds too
    if (it != s.entities.end() && !it->second.empty()) {
      item.done = true;
      item.value = it->second;
      progress = true;
    }
  }
  return progress;
}

// A new checklist for the reason; what was given for the old one carries over.
void set_reason(conversation_state& s, const knowledge& know, const std::string& reason,
                double confidence, std::int64_t now_ms) {
  std::vector<checklist_item> old = std::move(s.checklist);
  s.checklist.clear();
  s.reason = reason;
  s.confidence = confidence;
  s.reason_since_ms = now_ms;
  for (auto& e : know.replies->checklist(reason, {})) {
    checklist_item item{e.id, e.type, e.label, e.why, false, ""};
    for (const auto& o : old) {
      if (o.done && (o.id == item.id || (o.type == item.type && item.type != "text"))) {
        item.done = true;
        item.value = o.value;
        break;
      }
    }
    s.checklist.push_back(std::move(item));
  }
  fill_from_entities(s);
}

step hand_off(step out, const knowledge& know, const party& who, std::string trigger,
              std::int64_t now_ms, std::string apology = {}) {
  auto& s = out.next;
  s.phase = phase::handed_off;
  s.handoff_trigger = trigger;
  s.handed_off_at_ms = now_ms;
  s.offered.clear();
  const auto vars = variables_for(s, know, who);
  std::string text = std::move(apology);
  const std::string handoff =
      know.replies->text(s.reason, replies::text_kind::handoff, s.flags, vars);
  if (!text.empty() && !handoff.empty()) text += '\n';
  text += handoff;
  out.messages.push_back({"handoff", std::move(text), {}, {}});
  out.handoff_trigger = std::move(trigger);
  out.remind_at_ms = 0;
  return out;
}

std::vector<std::string> labels(const std::vector<replies::quick_reply_option>& options) {
  std::vector<std::string> out;
  for (const auto& o : options) out.push_back(o.label);
  return out;
}

// After the buyer gave something (or said nothing): hand off when nothing is missing any more,
// otherwise say what is still missing with the `kind` text and schedule the next reminder.
step ask_for_missing(step out, const knowledge& know, const party& who, replies::text_kind kind,
                     const dialogue_settings& settings, std::int64_t now_ms) {
  auto& s = out.next;
  if (s.missing().empty()) return hand_off(std::move(out), know, who, "checklist_complete", now_ms);
  out.messages.push_back({kind == replies::text_kind::reminder ? "reminder" : "follow_up",
                          know.replies->text(s.reason, kind, s.flags, variables_for(s, know, who)),
                          requests_for(s), labels(s.offered)});
  out.remind_at_ms = now_ms + settings.reminder_after.count();
  return out;
}

}  // namespace

step on_buyer_message(const conversation_state& state, const knowledge& know, const party& who,
                      const intents::classification& c, std::string_view text,
                      std::string_view order, const dialogue_settings& settings,
                      std::int64_t now_ms) {
  step out;
  auto& s = out.next;
  s = state;
  s.turns += 1;
  s.reminders_sent = 0;
  for (const auto& e : c.entities) s.entities[e.kind] = e.value;
  if (!order.empty()) s.entities["order_no"] = std::string(order);

  // 1. A person has it: record, stay silent. Only this message answers what is still asked for
  // (an agent may have asked again for a number the buyer typed before and was wrong).
  if (s.phase == phase::handed_off || s.phase == phase::with_agent) {
    bool answered = false;
    for (auto& item : s.checklist) {
      if (item.done) continue;
      for (const auto& e : c.entities) {
        if (e.kind == item.type) {
          item.done = answered = true;
          item.value = e.value;
        }
      }
      if (!order.empty() && item.type == "order_no" && !item.done) {
        item.done = answered = true;
        item.value = std::string(order);
      }
    }
    if (!answered && c.entities.empty()) {
      for (auto& item : s.checklist) {
        if (!item.done && item.type == "text") {
          item.done = true;
          item.value = trim(text);
          break;
        }
      }
    }
    return out;
  }
  if (s.phase == phase::resolved) {
    // The case is closed; a new message is a new matter. What the buyer typed before (order
    // and waybill numbers) still holds.
    conversation_state next;
    next.turns = s.turns;
    next.entities = std::move(s.entities);
    s = std::move(next);
  }
  for (const auto& f : c.flags) {
    if (!s.has_flag(f)) s.flags.push_back(f);
  }

  // 3. A quick-reply button that names a reason.
  std::string chosen;
  const std::string said = trim(text);
  for (const auto& o : s.offered) {
    if (!o.reason.empty() && o.label == said) chosen = o.reason;
  }
  s.offered.clear();

  const std::string before = s.reason;
  if (!chosen.empty()) {
    if (chosen != s.reason) set_reason(s, know, chosen, 1.0, now_ms);
    s.fired = {"quick reply: " + said};
  } else if (!c.unsure && c.reason != s.reason &&
             (reason_is_specific(c.reason) || s.reason.empty() ||
              (c.reason == "refund_request" && !reason_is_specific(s.reason)))) {
    // 4. Set or refine; "other" and a bare refund request never replace a specific reason.
    set_reason(s, know, c.reason, c.confidence, now_ms);
    s.runner_up = c.runner_up;
    s.fired.clear();  // explained from reason_words when a case opens (case_file.cpp)
    s.reason_words = std::string(text);
  }
  const std::size_t variant = static_cast<std::size_t>(s.turns);

  // 2. The buyer asks for a person, or escalates.
  for (const char* flag : {"escalation", "wants_human"}) {
    if (std::find(c.flags.begin(), c.flags.end(), flag) == c.flags.end()) continue;
    if (s.reason.empty()) {
      set_reason(s, know, c.reason, c.confidence, now_ms);
      s.reason_words = std::string(text);
    }
    const auto vars = variables_for(s, know, who);
    return hand_off(std::move(out), know, who, flag, now_ms,
                    know.replies->apology(s.reason, variant, s.flags, vars));
  }

  // 5. Unsure, with nothing to go on yet: ask the buyer to choose.
  if (chosen.empty() && c.unsure && !reason_is_specific(s.reason)) {
    s.unsure_streak += 1;
    if (s.unsure_streak >= 2) {
      if (s.reason.empty()) {
        set_reason(s, know, c.reason, c.confidence, now_ms);
        s.reason_words = std::string(text);
      }
      return hand_off(std::move(out), know, who, "unsure_twice", now_ms);
    }
    s.phase = phase::unsure;
    for (const auto& candidate : c.candidates) {
      if (s.offered.size() == 3) break;
      if (candidate.reason == "other") continue;
      s.offered.push_back({know.replies->title(candidate.reason), candidate.reason});
    }
    s.offered.push_back({know.replies->title("other"), "other"});
    const auto vars = variables_for(s, know, who);
    out.messages.push_back(
        {"choose", know.replies->request("refund_request", vars), {}, labels(s.offered)});
    return out;
  }
  s.unsure_streak = 0;

  const auto vars = variables_for(s, know, who);
  if (!reason_is_specific(s.reason)) {
    // "other" or a bare refund request: answer, offer the buttons, wait for a reason.
    s.phase = phase::fresh;
    s.offered = know.replies->quick_replies(s.reason.empty() ? "other" : s.reason, vars);
    auto first = know.replies->first_reply(s.reason, variant, vars, s.flags);
    out.messages.push_back({"answer", std::move(first.text), {}, labels(s.offered)});
    return out;
  }

  s.phase = phase::collecting;
  s.offered = know.replies->quick_replies(s.reason, vars);
  if (s.reason != before) {
    // A new or refined reason: apology and the full request, listing only what is missing.
    if (s.missing().empty()) {
      return hand_off(std::move(out), know, who, "checklist_complete", now_ms,
                      know.replies->apology(s.reason, variant, s.flags, vars));
    }
    std::string message = know.replies->apology(s.reason, variant, s.flags, vars);
    const std::string request = know.replies->request(s.reason, vars);
    if (!message.empty() && !request.empty()) message += '\n';
    message += request;
    out.messages.push_back({"answer", std::move(message), requests_for(s), labels(s.offered)});
  } else {
    // 6. The same reason: take what the message gives.
    bool progress = fill_from_entities(s);
    if (!progress && chosen.empty() && c.entities.empty()) {
      for (auto& item : s.checklist) {
        if (!item.done && item.type == "text") {
          item.done = true;
          item.value = said;
          progress = true;
          break;
        }
      }
    }
    return ask_for_missing(std::move(out), know, who, replies::text_kind::follow_up, settings,
                           now_ms);
  }
  out.remind_at_ms = now_ms + settings.reminder_after.count();
  return out;
}

step on_silence(const conversation_state& state, const knowledge& know, const party& who,
                const dialogue_settings& settings, std::int64_t now_ms) {
  step out;
  out.next = state;
  auto& s = out.next;
  if (s.phase != phase::collecting || s.missing().empty()) return out;  // nothing to remind of
  if (s.reminders_sent >= settings.max_reminders) {
    return hand_off(std::move(out), know, who, "no_reply", now_ms);
  }
  s.reminders_sent += 1;
  return ask_for_missing(std::move(out), know, who, replies::text_kind::reminder, settings, now_ms);
}

step on_evidence(const conversation_state& state, const knowledge& know, const party& who,
                 std::string_view item, std::string_view evidence_id,
                 const dialogue_settings& settings, std::int64_t now_ms) {
  step out;
  out.next = state;
  auto& s = out.next;
  auto it = std::find_if(s.checklist.begin(), s.checklist.end(),
                         [&](const checklist_item& c) { return c.id == item; });
  if (it == s.checklist.end()) return out;  // unchanged: the caller need not write the state
  it->done = true;
  it->value = std::string(evidence_id);
  s.reminders_sent = 0;
  if (s.phase != phase::collecting) return out;  // a person has it (or no reason yet): silent
  return ask_for_missing(std::move(out), know, who, replies::text_kind::follow_up, settings,
                         now_ms);
}

step on_agent_request(const conversation_state& state, const knowledge& know, const party& who,
                      const std::vector<requested_item>& items, std::string_view note) {
  step out;
  out.next = state;
  auto& s = out.next;
  std::vector<replies::evidence_item> asked;
  for (const auto& r : items) {
    checklist_item* found = nullptr;
    for (auto& c : s.checklist) {
      if ((!r.item.empty() && c.id == r.item) ||
          (r.item.empty() && c.type == r.type && c.label == r.label)) {
        found = &c;
      }
    }
    if (!found) {
      s.checklist.push_back(
          {"extra_" + std::to_string(s.checklist.size() + 1), r.type, r.label, r.why, false, ""});
      found = &s.checklist.back();
    }
    // Asked again: what was given does not satisfy the agent. A typed number stays in the
    // entities, and the buyer's next message would fill the item with it again.
    if (auto e = s.entities.find(found->type); e != s.entities.end() && e->second == found->value)
      s.entities.erase(e);
    found->done = false;
    found->value.clear();
    asked.push_back({found->id, found->type, found->label, found->why});
  }
  if (items.empty()) {
    for (const auto* c : s.missing()) asked.push_back({c->id, c->type, c->label, c->why});
  }
  std::string text(note);
  if (text.empty()) {
    text = know.replies->text(s.reason, replies::text_kind::follow_up, s.flags,
                              variables_for(s, know, who));
  }
  s.reminders_sent = 0;
  out.messages.push_back({"request", std::move(text), std::move(asked), {}});
  return out;
}

}  // namespace shouhou::bot
