#pragma once
// The conversation engine: turns a buyer's messages (and their silences) into stored turns and
// the bot's messages, following the dialogue policy (bot/dialogue.hpp).
//
// It holds no per-conversation state in memory: the state lives in the store with a version, and
// every write says which version it was decided on. A write based on an old read is refused
// (another instance, or a reminder, wrote first) and the engine reloads and decides again. So
// several instances behind a load balancer behave like one, and a restart loses nothing.
// It never touches the network; connectors call it and deliver what it returns.
//
// Thread safety: all members may be called from any thread. Handlers run on the store's thread
// (see store::store); they must be quick and post real work elsewhere.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bot/case_file.hpp"
#include "bot/conversation_state.hpp"
#include "bot/dialogue.hpp"
#include "bot/knowledge.hpp"
#include "store/store.hpp"

namespace shouhou::bot {

class clock {
 public:
  virtual ~clock() = default;
  virtual std::int64_t now_ms() const = 0;  // milliseconds since the Unix epoch
};

class system_clock final : public clock {
 public:
  std::int64_t now_ms() const override;
};

// A buyer's chat message as a connector received it.
struct buyer_message {
  std::string id;  // the buyer's own id for the message; a resend reuses it
  std::string text;
  std::string order;  // order number the client attached, if any
};

struct open_result {
  enum class outcome {
    opened,                // a new conversation
    resumed,               // an existing one, with its history
    unknown_conversation,  // the id given is not in the store
    not_yours,             // the id exists but belongs to another shop or buyer
    failed,                // the store failed; `error` says why
  };
  outcome what = outcome::failed;
  std::string error;
  store::conversation conversation;
  std::vector<store::message> history;  // oldest first
  std::string version;                  // knowledge version live when opened
};

struct turn_result {
  bool ok = false;  // false: nothing was stored, `error` says why; do not acknowledge
  std::string error;
  bool duplicate = false;  // the message id was stored before; acknowledge, nothing new to send
  intents::classification classification;
  std::vector<bot_message> messages;  // what to send the buyer, in order (may be none)
  store::conversation conversation;   // the conversation after the turn (state and version)
  std::string version;                // knowledge version that handled the turn
  std::optional<store::case_record> opened_case;  // the case this turn's handoff opened
};

// Messages the bot sent by itself (a reminder, or a handoff after silence).
struct unprompted {
  store::conversation conversation;  // after the step
  std::vector<bot_message> messages;
  std::string version;
  std::optional<store::case_record> opened_case;  // the case a handoff after silence opened
};

// What storing or citing evidence did.
struct evidence_result {
  enum class outcome {
    stored,            // rows (if any) and the checklist mark committed together
    duplicate,         // the chat frame's client id was stored before; nothing new
    unknown_evidence,  // no such evidence id in this conversation
    unknown_conversation,
    over_limit,  // the conversation would pass its maximum of evidence files
    failed,      // the store failed; `error` says why; nothing was stored
  };
  outcome what = outcome::failed;
  std::string error;
  std::vector<bot_message> messages;  // the confirmation (or handoff), possibly none
  store::conversation conversation;   // after the step
  std::string version;
  std::optional<store::case_record> opened_case;  // the case a complete checklist opened
};

struct engine_settings {
  std::size_t history_limit = 200;
  dialogue_settings dialogue;
  std::size_t reminders_per_scan = 100;
  desk_settings desk;
};

class conversation_engine {
 public:
  conversation_engine(store::store& store, const knowledge_base& knowledge, const clock& clock,
                      engine_settings settings);

  // Starts a new conversation (empty `conversation_id`) or resumes one.
  void open(std::string shop, std::string buyer, std::string conversation_id,
            std::function<void(open_result)> done);

  // Classifies the message, decides, and stores the message, the bot's messages and the new
  // state in one transaction. `current` is the conversation as the caller last saw it. `done`
  // runs once the transaction has committed (or failed): only then may the message be
  // acknowledged.
  void receive(store::conversation current, buyer_message message,
               std::function<void(turn_result)> done);

  // Sends every reminder that is due now (and hands off those whose reminders ran out); `done`
  // gets what was sent, for delivery to connected buyers.
  void send_due_reminders(std::function<void(std::vector<unprompted>)> done);

  // An upload arrived: stores `rows` (all for one conversation and checklist item) and marks the
  // item with the first row's id (bot/dialogue.hpp on_evidence), in one transaction, retrying
  // on state conflicts like receive(). Refused as over_limit when the conversation would hold
  // more than `max_per_conversation` rows (0: no limit). `done` runs once committed or failed.
  void add_evidence(std::string conversation_id, std::vector<store::evidence_record> rows,
                    std::size_t max_per_conversation, std::function<void(evidence_result)> done);

  // A chat frame names stored evidence: marks its item. Idempotent on `client_id` like buyer
  // messages (stored as an inbound message). Evidence of another conversation is
  // unknown_evidence, the same answer as a missing id, so ids cannot be probed.
  void cite_evidence(store::conversation current, std::string client_id, std::string evidence_id,
                     std::function<void(evidence_result)> done);

  // One evidence row, for serving the file (checks of who may read it are the caller's).
  void find_evidence(std::string evidence_id, store::store::evidence_handler done);

 private:
  struct evidence_step {
    std::string item;
    std::string evidence_id;
    std::optional<store::message> inbound;  // the chat frame, for idempotency
    std::vector<store::evidence_record> rows;
    std::size_t max = 0;
  };
  void mark_and_store(store::conversation current, evidence_step e, int attempts_left,
                      std::function<void(evidence_result)> done);

  void decide_and_store(store::conversation current, buyer_message message, int attempts_left,
                        std::function<void(turn_result)> done);

  store::store& store_;
  const knowledge_base& knowledge_;
  const clock& clock_;
  engine_settings settings_;
};

// A fresh conversation id: 128 random bits as 32 lowercase hex digits.
std::string new_conversation_id();

// The JSON kept with an outbound message so a resumed conversation can show it again:
// {"kind":...,"requests":[{"item","type","label","why"}...],"quick_replies":[...]}.
std::string message_payload(const bot_message& message);

}  // namespace shouhou::bot
