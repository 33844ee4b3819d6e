#pragma once
// The store seam: everything the bot persists goes through this interface, so the conversation
// engine can be tested against an in-memory fake and a server database can replace SQLite later.
//
// Contract shared by every implementation:
// - Operations are asynchronous. The handler runs exactly once, on a thread owned by the store,
//   after the operation's transaction has committed (or failed). Handlers must be quick and must
//   not call back into the store synchronously expecting ordering; post work elsewhere instead.
// - A handler called with `status.ok == false` means nothing of that operation was written.
// - Operations submitted from one thread are applied in submission order.
// - Thread safety: every member function may be called from any thread.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace shouhou::store {

struct status {
  bool ok = true;
  std::string error;  // what went wrong, for logs and error frames; empty when ok

  static status failure(std::string why) { return {false, std::move(why)}; }
};

struct conversation {
  std::string id;
  std::string shop;
  std::string buyer;
  std::int64_t created_at_ms = 0;  // milliseconds since the Unix epoch
};

enum class direction { inbound, outbound };

// One chat message, either the buyer's (inbound) or the bot's or an agent's (outbound).
struct message {
  std::int64_t seq = 0;        // assigned by the store: order of messages within the store
  std::string conversation;    // conversation id
  direction dir = direction::inbound;
  std::string client_id;       // the buyer's message id (inbound); empty for outbound
  std::string text;
  std::string reason;          // refund reason id classified (inbound) or answered (outbound)
  double confidence = 0.0;     // of `reason`, in [0, 1]
  std::string order;           // order number the buyer gave with the message, if any
  std::string payload;         // JSON the connector needs to replay the message (e.g. requests)
  std::int64_t at_ms = 0;      // milliseconds since the Unix epoch
};

// A buyer's message with the replies it produced, written in one transaction so that an
// acknowledged message always has its reply stored too.
struct turn {
  message inbound;
  std::vector<message> replies;
};

class store {
 public:
  virtual ~store() = default;

  using status_handler = std::function<void(status)>;
  using load_handler =
      std::function<void(status, std::optional<conversation>, std::vector<message> history)>;
  // `duplicate` is true when (conversation, inbound.client_id) was stored before; then nothing
  // was written and the earlier turn stands.
  using turn_handler = std::function<void(status, bool duplicate)>;

  // Creates a conversation; fails if the id exists.
  virtual void create_conversation(conversation c, status_handler done) = 0;

  // Loads a conversation and its messages in `seq` order; `nullopt` when the id is unknown
  // (status is still ok). At most `history_limit` of the most recent messages are returned.
  virtual void load_conversation(std::string id, std::size_t history_limit,
                                 load_handler done) = 0;

  // Appends a buyer message and its replies atomically, idempotent on
  // (inbound.conversation, inbound.client_id). Fails if the conversation does not exist.
  virtual void append_turn(turn t, turn_handler done) = 0;
};

}  // namespace shouhou::store
