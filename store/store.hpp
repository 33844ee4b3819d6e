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
  // The write was refused because the conversation's state changed since it was read (another
  // instance or a reminder wrote first): reload and decide again. Implies !ok.
  bool conflict = false;
  // The write was refused because it would pass a limit the caller passed in (e.g. more evidence
  // files than a conversation may hold); nothing was written. Implies !ok.
  bool over_limit = false;

  static status failure(std::string why) { return {false, std::move(why), false, false}; }
};

struct conversation {
  std::string id;
  std::string shop;
  std::string buyer;
  std::int64_t created_at_ms = 0;  // milliseconds since the Unix epoch
  // The conversation engine's state: opaque text (JSON) to the store, with a version that every
  // state write bumps, so that writers based on an old read are refused (status::conflict).
  std::string state;
  std::int64_t state_version = 0;
  std::string phase;              // the state's phase, kept apart for queries ("new" at first)
  std::int64_t remind_at_ms = 0;  // when the buyer is due a reminder; 0 when none is
};

// A new state for a conversation, written only if its version is still `expected_version`.
struct state_update {
  std::int64_t expected_version = 0;
  std::string state;
  std::string phase;
  std::int64_t remind_at_ms = 0;
};

// The moment a conversation goes to a person, with everything the bot knew.
struct handoff_record {
  std::int64_t at_ms = 0;
  std::string trigger;   // why now: "checklist_complete", "wants_human", "escalation", ...
  std::string reason;    // the refund reason at handoff
  std::string snapshot;  // JSON of what the bot knew; cases are built from it
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

// One stored evidence file of a conversation: the metadata of a blob kept elsewhere (by hash).
struct evidence_record {
  std::string id;             // unique; chosen by the caller (random), [A-Za-z0-9_-]
  std::string conversation;   // the conversation it belongs to
  std::string item;           // the checklist item it was uploaded for
  std::string original_name;  // checked file name as the buyer sent it; may be empty
  std::string mime;           // sniffed from the bytes, e.g. "image/jpeg"
  std::string kind;           // "image", "video" or "document"
  std::uint64_t size = 0;
  std::string sha256;         // 64 lowercase hex digits: where the blob is stored
  std::int64_t at_ms = 0;     // milliseconds since the Unix epoch
};

// What one step of a conversation writes, in one transaction: the buyer's message (none for a
// step the bot takes by itself, such as a reminder), the bot's replies, the new state, and the
// handoff if the step hands off. An acknowledged message always has its reply stored too.
struct turn {
  std::string conversation;       // the conversation id
  std::optional<message> inbound;
  std::vector<message> replies;
  std::optional<state_update> state;
  std::optional<handoff_record> handoff;
  // Evidence rows stored with the step (an upload and the checklist mark it causes are
  // acknowledged together). Each row's conversation must be `conversation`.
  std::vector<evidence_record> evidence;
  // When non-zero and `evidence` is not empty: the turn is refused with status::over_limit if the
  // conversation would then hold more than this many evidence rows.
  std::size_t max_evidence = 0;
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

  // Writes a turn atomically. Idempotent on (conversation, inbound.client_id): a turn whose
  // inbound message was stored before writes nothing and reports `duplicate`. Fails if the
  // conversation does not exist, with status::conflict if `state` is out of date, and with
  // status::over_limit if its evidence rows would pass `max_evidence`.
  virtual void append_turn(turn t, turn_handler done) = 0;

  using evidence_handler = std::function<void(status, std::optional<evidence_record>)>;
  using evidence_list_handler = std::function<void(status, std::vector<evidence_record>)>;

  // One evidence row by id; `nullopt` when unknown (status is still ok).
  virtual void load_evidence(std::string id, evidence_handler done) = 0;

  // A conversation's evidence rows, oldest first (empty for an unknown conversation).
  virtual void list_evidence(std::string conversation, evidence_list_handler done) = 0;

  using conversations_handler = std::function<void(status, std::vector<conversation>)>;

  // Conversations whose reminder time is at or before `now_ms`, at most `limit`, earliest first.
  virtual void due_reminders(std::int64_t now_ms, std::size_t limit,
                             conversations_handler done) = 0;
};

}  // namespace shouhou::store
