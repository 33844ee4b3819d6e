#pragma once
// The dialogue policy: given what the bot knows about a conversation and what just happened,
// decide the next state and what to say. Pure functions: no clock, no store, no network, so every
// transition is unit-tested directly.
//
// The rules, in order, for a buyer message (see docs/conversation.md for the whole picture):
// 1. Once handed to a person the bot says nothing more; it still records numbers the buyer types.
// 2. `wants_human` or `escalation` hands off at once, with the flag's handoff text.
// 3. A tap on a quick-reply button that names a reason sets that reason for sure.
// 4. A confident specific reason sets or refines the current one (我要退货 then 屏幕碎了 ends
//    at damaged); messages that are "other" or only ask for a refund keep the current reason.
// 5. With no reason yet and an unsure classification, the buyer is asked to choose among the
//    top candidates; the second unsure turn in a row hands off.
// 6. Numbers typed fill order_no / waybill_no items; otherwise a message answers the first
//    missing text item. The bot then says what is still missing, never asking again for what
//    it has; a complete checklist hands off.
// Silence: while items are missing, a reminder after `reminder_after`; after `max_reminders`
// the conversation hands off.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bot/conversation_state.hpp"
#include "bot/knowledge.hpp"
#include "intents/engine.hpp"

namespace shouhou::bot {

struct dialogue_settings {
  std::chrono::milliseconds reminder_after{std::chrono::minutes(10)};
  int max_reminders = 2;
};

// One message the bot sends.
struct bot_message {
  std::string kind;  // "answer", "follow_up", "choose", "reminder", "handoff"
  std::string text;
  std::vector<replies::evidence_item> requests;  // what is still missing, to upload or type
  std::vector<std::string> quick_replies;
};

struct step {
  conversation_state next;
  std::vector<bot_message> messages;
  std::string handoff_trigger;    // non-empty when this step hands the conversation to a person
  std::int64_t remind_at_ms = 0;  // when to remind the buyer; 0 for never
};

// Who the conversation is with, for the templates' {shop} and {buyer}.
struct party {
  std::string shop;
  std::string buyer;
};

step on_buyer_message(const conversation_state& state, const knowledge& know, const party& who,
                      const intents::classification& c, std::string_view text,
                      std::string_view order, const dialogue_settings& settings,
                      std::int64_t now_ms);

// The buyer has been silent since the reminder time passed.
step on_silence(const conversation_state& state, const knowledge& know, const party& who,
                const dialogue_settings& settings, std::int64_t now_ms);

// Evidence for checklist item `item` was stored as `evidence_id` (an upload, or a chat frame
// naming one). The item is marked done with the id as its value and the reminder count restarts.
// While the bot is collecting, it confirms with the follow_up text listing what is still missing,
// or hands off ("checklist_complete") when nothing is. Once a person has the case the item is
// marked silently. An item the checklist does not have (the reason changed since the link was
// given) changes nothing and says nothing: the file stays stored for the agent, no error.
step on_evidence(const conversation_state& state, const knowledge& know, const party& who,
                 std::string_view item, std::string_view evidence_id,
                 const dialogue_settings& settings, std::int64_t now_ms);

// Something an agent wants from the buyer: an item of the checklist by id, or a new one.
struct requested_item {
  std::string item;   // an existing checklist item's id; empty for a new item
  std::string type;   // for a new item: photo, video, order_no, waybill_no or text
  std::string label;  // for a new item: what to show the buyer
  std::string why;
};

// An agent asks the bot to request more evidence on a case a person has: the items (existing or
// new, marked not done again) are requested in a "request" message carrying upload requests;
// with no items, everything still missing is. `note` is the message text; empty: the reason's
// follow_up text. The phase stays as it is (the bot asks, the agent decides).
step on_agent_request(const conversation_state& state, const knowledge& know, const party& who,
                      const std::vector<requested_item>& items, std::string_view note);

}  // namespace shouhou::bot
