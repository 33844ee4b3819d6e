#pragma once
// What the bot knows about one conversation between turns. Stored as JSON in the store's
// conversations.state column, so every instance and every restart sees the same state.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replies/book.hpp"

namespace shouhou::bot {

// new -> (unsure) -> collecting -> handed_off -> with_agent -> resolved
enum class phase { fresh, unsure, collecting, handed_off, with_agent, resolved };

std::string_view to_string(phase p);  // "new", "unsure", "collecting", ...

struct checklist_item {
  std::string id;
  std::string type;   // photo, video, order_no, waybill_no, text
  std::string label;
  std::string why;
  bool done = false;
  std::string value;  // what satisfied it: the number, the buyer's words, the upload's id
};

struct conversation_state {
  bot::phase phase = phase::fresh;
  std::string reason;                 // current refund reason; empty until one is known
  double confidence = 0.0;
  std::string runner_up;
  std::int64_t reason_since_ms = 0;   // when the current reason was set: deadlines start here
  int unsure_streak = 0;              // unsure turns in a row
  std::vector<replies::quick_reply_option> offered;  // buttons shown last, with their reasons
  std::vector<checklist_item> checklist;
  std::vector<std::string> flags;     // every flag any buyer message carried
  std::map<std::string, std::string> entities;  // kind -> latest value (order_no, ...)
  // What fired for the current reason, when it was set other than by the buyer's words (a quick
  // reply); empty otherwise: the case explains reason_words when it opens (case_file.cpp).
  std::vector<std::string> fired;
  int turns = 0;                      // buyer messages handled
  int reminders_sent = 0;             // since the buyer last wrote
  std::string handoff_trigger;        // why it was handed off
  std::int64_t handed_off_at_ms = 0;
  std::string reason_words;           // the buyer's message that set the current reason
  std::string case_id;                // the case people work on; empty before the first handoff

  std::vector<const checklist_item*> missing() const;
  bool has_flag(std::string_view f) const;
};

std::string to_json(const conversation_state& s);
// Empty text (a conversation the bot has not answered yet) is the fresh state; text that does
// not parse is nullopt.
std::optional<conversation_state> state_from_json(std::string_view text);

}  // namespace shouhou::bot
