#pragma once
// Cases: what the bot hands to people. A case is built once, at handoff, from what the bot knew
// (reason, confidence, flags, what fired, checklist, deadlines, resolutions) and stored with that
// turn; what keeps changing (the transcript, the evidence, the checklist as the buyer sends more,
// the priority as time passes) is read fresh whenever an agent looks. The JSON shapes are part
// of the agent protocol (docs/protocol.md, "Cases"): change them only by adding fields.
//
// Pure functions: no store, no clock, no network.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/conversation_state.hpp"
#include "bot/knowledge.hpp"
#include "store/store.hpp"

namespace shouhou::bot {

struct desk_settings {
  // Agents are warned this long before a deadline of a case passes; a case whose nearest
  // deadline is this close is urgent.
  std::chrono::milliseconds warning_lead{std::chrono::hours(2)};
  // Queue webhook events (case.created, case.claimed, case.resolved) with each case change.
  bool webhook = false;
};

// A fresh case id: 16 random lowercase hex digits after "c".
std::string new_case_id();

// The case a handoff opens (status "open", version 0), built from the conversation's state after
// the handoff step.
store::case_record open_case(const store::conversation& conversation,
                             const conversation_state& state, const knowledge& know,
                             std::string case_id, std::int64_t now_ms,
                             const desk_settings& settings);

// How urgent a case is now. Levels, most urgent first: "urgent" (escalation, counterfeit, or a
// deadline passed or within the warning lead), "high" (angry, risk, a deadline within a day, or
// waiting in the queue over an hour), "normal".
struct case_priority {
  int rank = 2;  // 0 urgent, 1 high, 2 normal: sorts most urgent first
  std::string level = "normal";
  std::vector<std::string> why;  // what raised it, e.g. "flag escalation", "deadline in 1 h"
};
case_priority priority_of(const store::case_record& c, std::int64_t now_ms,
                          const desk_settings& settings);

// Orders a queue: most urgent first, then the nearest deadline, then the longest waiting.
void sort_queue(std::vector<store::case_record>& cases, std::int64_t now_ms,
                const desk_settings& settings);

// A case as a queue shows it (and as events and the webhook carry it).
nlohmann::json case_summary(const store::case_record& c, const knowledge& know, std::int64_t now_ms,
                            const desk_settings& settings);

// Everything there is to read about a case, for the agent who opens it.
struct case_sources {
  const store::case_record& record;
  const conversation_state* state = nullptr;      // the conversation's state now, if readable
  const std::vector<store::message>& transcript;  // oldest first
  const std::vector<store::evidence_record>& evidence;
  const std::vector<store::case_record>& earlier;  // the buyer's other cases with the shop
};
nlohmann::json case_view(const case_sources& sources, const knowledge& know, std::int64_t now_ms,
                         const desk_settings& settings);

// The webhook event for a case change, for the outbox. Its id (case id and version) is stable.
store::outbox_event webhook_event(std::string_view type, const store::case_record& c,
                                  const knowledge& know, std::int64_t now_ms,
                                  const desk_settings& settings);

// The deadlines of a case (from its details) that a warning at `now_ms` should name: those whose
// warning time has come since the last warning. `next_warn_at_ms` gets when the next one is due
// (0: none left).
nlohmann::json deadlines_to_warn(const store::case_record& c, std::int64_t now_ms,
                                 const desk_settings& settings, std::int64_t& next_warn_at_ms);

// Outcomes agents resolve cases with (DESIGN §3's resolutions).
struct case_outcome {
  std::string kind;             // one of replies::k_resolutions
  std::int64_t amount_fen = 0;  // partial_refund and compensation: in fen (0.01 CNY)
  std::string reason;           // rejected: why (required)
  std::string note;             // for the record
};
// "12", "12.5", "12.50" yuan as fen; nullopt for anything else (negative, 3 decimals, junk,
// more than 100 million yuan).
std::optional<std::int64_t> parse_yuan(std::string_view text);

// Checks an outcome: empty when valid, else what is wrong (for a 400 / error frame).
std::string check_outcome(const case_outcome& o);
nlohmann::json to_json(const case_outcome& o, std::string_view agent, std::int64_t at_ms);

}  // namespace shouhou::bot
