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

// A case: a conversation handed to people, from the handoff to its resolution. The bot builds it
// at handoff (bot/case_file.hpp) and it is stored in the same transaction as that turn.
struct case_record {
  std::string id;            // unique; chosen by the caller (random), [a-z0-9]
  std::string conversation;  // the conversation it came from
  std::string shop;
  std::string buyer;
  std::string order;         // the order number known at handoff; may be empty
  std::string reason;        // refund reason id at handoff
  std::string status;        // "open" (in the queue), "claimed" (an agent has it), "resolved"
  std::string agent;         // the agent who claimed or resolved it; empty while open
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t due_at_ms = 0;   // the nearest deadline of the case; 0 when none
  std::int64_t warn_at_ms = 0;  // when the next deadline warning is due; 0 when none is
  std::string details;          // JSON the bot built at handoff: opaque to the store
  std::string outcome;          // JSON of the resolution; empty until resolved
  // Bumped by every change. A change names the version it was decided on and is refused
  // (status::conflict) when the case changed meanwhile: so of two agents claiming at once,
  // exactly one wins.
  std::int64_t version = 0;
};

// New values for a stored case's changing fields, written only if the case is still at
// `expected_version` (then its version becomes expected_version + 1).
struct case_update {
  std::string id;
  std::int64_t expected_version = 0;
  std::string status;
  std::string agent;
  std::int64_t updated_at_ms = 0;
  std::int64_t warn_at_ms = 0;
  std::string outcome;
};

// The conversation as it reads once `u` is committed (the same in every store).
inline conversation updated(conversation c, const state_update& u) {
  c.state = u.state;
  c.phase = u.phase;
  c.remind_at_ms = u.remind_at_ms;
  c.state_version += 1;
  return c;
}

// The record as it reads once `u` is committed: what every store does to the case (SQLite in its
// UPDATE), for callers that answer with the new record without reading it back.
inline case_record updated(case_record c, const case_update& u) {
  c.status = u.status;
  c.agent = u.agent;
  c.updated_at_ms = u.updated_at_ms;
  c.warn_at_ms = u.warn_at_ms;
  c.outcome = u.outcome;
  c.version += 1;
  return c;
}

// A webhook event, queued in the transaction of the change it reports (a durable outbox), and
// delivered later by connectors/webhook.
struct outbox_event {
  std::int64_t seq = 0;        // assigned by the store: the order of delivery
  std::string case_id;         // events of one case are delivered one at a time, in seq order
  std::string type;            // "case.created", "case.claimed", "case.resolved"
  std::string body;            // the JSON to POST
  std::int64_t created_at_ms = 0;
  int attempts = 0;               // failed attempts so far
  std::int64_t next_attempt_ms = 0;  // not before this time (0: at once)
  std::string last_error;         // why the last attempt failed
};

// What one delivery attempt of an outbox event came to.
struct event_attempt {
  std::int64_t seq = 0;
  std::int64_t at_ms = 0;
  bool delivered = false;             // the receiver accepted it: never sent again
  bool given_up = false;              // failed for good: never sent again, later events go on
  std::int64_t next_attempt_ms = 0;   // when neither: try again then
  std::string error;                  // why it failed (empty when delivered)
};

// Which cases to list.
struct case_query {
  std::vector<std::string> statuses;  // any of these; empty: every status
  std::string shop;                   // with `buyer`: only that buyer's cases with that shop
  std::string buyer;                  // (each filters on its own when the other is empty)
  std::int64_t warn_due_by_ms = 0;    // non-zero: only cases with 0 < warn_at_ms <= this
  std::size_t limit = 1000;           // the oldest first (created_at_ms, then id)
};

// An agent of the desk, known by the SHA-256 of their bearer token (the token itself is never
// stored).
struct agent_record {
  std::string name;
  std::string token_sha256;  // 64 lowercase hex digits
  std::int64_t created_at_ms = 0;
};

enum class direction { inbound, outbound };

// One chat message, either the buyer's (inbound) or the bot's or an agent's (outbound).
struct message {
  std::int64_t seq = 0;        // assigned by the store: order of messages within the store
  std::string conversation;    // conversation id
  direction dir = direction::inbound;
  std::string client_id;       // the sender's message id (a turn's `inbound`); empty for replies
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

// What one step of a conversation writes, in one transaction: the message that caused it (the
// buyer's, or an agent's; none for a step the bot takes by itself, such as a reminder), the bot's
// replies, the new state, and the case it opens or changes. An acknowledged message always has
// its reply stored too.
struct turn {
  std::string conversation;       // the conversation id
  // De-duplicated on (conversation, client_id): a buyer's message (direction inbound), or an
  // agent's message to the buyer (direction outbound, with the agent's own id for it). Both
  // sides share that one id space, so an agent's ids must be ones no buyer sends (prefix them).
  std::optional<message> inbound;
  std::vector<message> replies;
  std::optional<state_update> state;
  // A handoff opens a case (its status "open", version 0).
  std::optional<case_record> opened_case;
  // A change to an existing case of this conversation (claim, release, resolve, ...); refused
  // with status::conflict like `state` when the case changed since it was read.
  std::optional<case_update> case_change;
  // Webhook events to queue with the change (empty when no webhook is configured).
  std::vector<outbox_event> events;
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

  using case_handler = std::function<void(status, std::optional<case_record>)>;
  using cases_handler = std::function<void(status, std::vector<case_record>)>;

  // One case by id; `nullopt` when unknown (status is still ok).
  virtual void load_case(std::string id, case_handler done) = 0;

  // The cases matching `q`, oldest first.
  virtual void find_cases(case_query q, cases_handler done) = 0;

  using events_handler = std::function<void(status, std::vector<outbox_event>)>;

  // Outbox events ready to send at `now_ms`, at most `limit`, in seq order: neither delivered
  // nor given up, next attempt due, and no earlier event of the same case still waiting (so each
  // case's events arrive in order).
  virtual void due_events(std::int64_t now_ms, std::size_t limit, events_handler done) = 0;

  // Records how an attempt to deliver an outbox event went.
  virtual void record_attempt(event_attempt a, status_handler done) = 0;

  using agent_handler = std::function<void(status, std::optional<agent_record>)>;
  using agents_handler = std::function<void(status, std::vector<agent_record>)>;

  // Creates an agent, or gives an existing one a new token (the old one stops working).
  virtual void put_agent(agent_record a, status_handler done) = 0;
  // Removes an agent and their token; `found` says whether there was one of that name.
  virtual void revoke_agent(std::string name, std::function<void(status, bool found)> done) = 0;
  // The agent whose token has this SHA-256; `nullopt` when none.
  virtual void find_agent(std::string token_sha256, agent_handler done) = 0;
  // Every agent, by name.
  virtual void list_agents(agents_handler done) = 0;
};

}  // namespace shouhou::store
