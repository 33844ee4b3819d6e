#pragma once
// The conversation engine: turns a buyer's messages into stored turns and replies.
//
// It holds no per-conversation state in memory: everything it needs is in the store, so several
// instances behind a load balancer (routing by conversation id) behave like one, and a restart
// loses nothing. It never touches the network; connectors call it and deliver what it returns.
//
// Thread safety: all members may be called from any thread. Handlers run on the store's thread
// (see store::store); they must be quick and post real work elsewhere.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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
  std::string id;     // the buyer's own id for the message; a resend reuses it
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
  bool ok = false;         // false: nothing was stored, `error` says why; do not acknowledge
  std::string error;
  bool duplicate = false;  // the message id was stored before; acknowledge, nothing new to send
  intents::classification classification;
  replies::reply reply;    // what to send the buyer (when ok and not duplicate)
  std::string version;     // knowledge version that handled the turn
};

class conversation_engine {
 public:
  conversation_engine(store::store& store, const knowledge_base& knowledge, const clock& clock,
                      std::size_t history_limit);

  // Starts a new conversation (empty `conversation_id`) or resumes one.
  void open(std::string shop, std::string buyer, std::string conversation_id,
            std::function<void(open_result)> done);

  // Classifies the message, composes the reply, and stores both in one transaction. `done` runs
  // once the transaction has committed (or failed): only then may the message be acknowledged.
  void receive(const store::conversation& conversation, buyer_message message,
               std::function<void(turn_result)> done);

 private:
  store::store& store_;
  const knowledge_base& knowledge_;
  const clock& clock_;
  std::size_t history_limit_;
};

// A fresh conversation id: 128 random bits as 32 lowercase hex digits.
std::string new_conversation_id();

// The JSON kept with an outbound message so a resumed conversation can show it again:
// {"requests":[{"item","type","label","why"}...],"quick_replies":[...]}.
std::string reply_payload(const replies::reply& reply);

}  // namespace shouhou::bot
