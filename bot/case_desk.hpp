#pragma once
// The agent desk's logic: the queue, a case's full view, and what agents do with cases (claim,
// release, transfer, write to the buyer, ask for more evidence, resolve), each stored in one
// transaction with the conversation's state and the webhook events it causes.
//
// Concurrency is the store's: every change names the case version (and the conversation state
// version) it was decided on, so of two agents claiming at once exactly one wins; the other's
// change is refused, re-read, and then answered "taken". Nothing is held in memory between calls,
// so several server instances share one desk.
//
// Thread safety: all members may be called from any thread; handlers run on the store's thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bot/case_file.hpp"
#include "bot/conversation_engine.hpp"

namespace shouhou::bot {

// Something every connected agent is told.
struct desk_event {
  // "case.created", "case.claimed", "case.released", "case.transferred", "case.resolved",
  // "case.message" (the buyer wrote on a case people have), "case.evidence" (the buyer sent a
  // file), "case.deadline" (a deadline is near or passed)
  std::string type;
  store::case_record record;                       // the case after the change
  nlohmann::json data = nlohmann::json::object();  // what the type adds (docs/protocol.md)
};

// Cases a queue answer holds by default, and at most.
inline constexpr std::size_t k_queue_page = 200;
inline constexpr std::size_t k_queue_page_max = 1000;

struct desk_result {
  enum class outcome {
    ok,
    not_found,  // no such case (404)
    invalid,    // the request itself is wrong: `error` says how (400)
    taken,      // another agent has the case, or it is resolved (409)
    failed,     // the store failed (500)
  };
  outcome what = outcome::failed;
  std::string error;
  bool duplicate = false;  // a message id sent before: nothing new was done
  std::size_t total = 0;   // queue: how many cases matched (the answer holds at most `limit`)
  std::optional<store::case_record> record;  // the case after the action
  std::vector<desk_event> events;            // for every connected agent
  std::optional<unprompted> to_buyer;        // for the buyer's open connections
};

class case_desk {
 public:
  case_desk(store::store& store, const knowledge_base& knowledge, const clock& clock,
            desk_settings settings);

  using result_handler = std::function<void(desk_result)>;

  // Cases with any of `statuses` (empty: open and claimed), of `priority` level if not empty,
  // most urgent first (sort_queue), as case_summary objects: the first `limit` of them
  // (desk_result::total says how many there are), so that a long queue does not make a frame
  // larger than a connection may hold.
  void queue(std::vector<std::string> statuses, std::string priority, std::size_t limit,
             std::function<void(desk_result, nlohmann::json)> done);
  // The whole case (case_view).
  void view(std::string case_id, std::function<void(desk_result, nlohmann::json)> done);

  void claim(std::string case_id, std::string agent, result_handler done);
  void release(std::string case_id, std::string agent, result_handler done);
  // To another agent of the desk (an unknown name is invalid).
  void transfer(std::string case_id, std::string agent, std::string to, result_handler done);
  // Delivered through the buyer's conversation; `client_id` makes a resend harmless.
  void send(std::string case_id, std::string agent, std::string client_id, std::string text,
            result_handler done);
  void request_evidence(std::string case_id, std::string agent, std::vector<requested_item> items,
                        std::string note, result_handler done);
  void resolve(std::string case_id, std::string agent, case_outcome outcome, result_handler done);

  // The buyer did something on a conversation people have (`after` is the conversation after
  // it): the event for agents, or none when the conversation has no case.
  void buyer_activity(store::conversation after, std::string type, nlohmann::json data,
                      std::function<void(std::vector<desk_event>)> done);

  // Warns of every deadline whose warning time has come, once each.
  void warn_deadlines(std::function<void(std::vector<desk_event>)> done);

  const desk_settings& settings() const { return settings_; }

 private:
  struct action;
  void run(std::shared_ptr<const action> a, int attempts_left, result_handler done);

  store::store& store_;
  const knowledge_base& knowledge_;
  const clock& clock_;
  desk_settings settings_;
};

}  // namespace shouhou::bot
