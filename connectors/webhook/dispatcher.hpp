#pragma once
// Delivers the store's outbox of case events (store::outbox_event: "case.created",
// "case.claimed", "case.resolved") to an external helpdesk by HTTP POST.
//
// The events are written by the bot into the outbox in the same transaction as the change they
// report, so an event exists if and only if its change was committed. This class only reads the
// outbox (store::due_events) and writes back how each attempt went (store::record_attempt).
//
// Delivery contract, as a receiver sees it:
// - Request: POST to the configured URL's path with the event's JSON as the body and the headers
//     Content-Type: application/json
//     X-Shouhou-Event: <type>              e.g. case.claimed
//     X-Shouhou-Delivery: <seq>            decimal; the event's id, the same on every retry
//     X-Shouhou-Signature: sha256=<hex>    HMAC-SHA256(secret, body); see signature.hpp
//     User-Agent: shouhou-webhook
// - Accepted means any 2xx status. Everything else is a failed attempt: no connection, a TLS
//   failure, a timeout, any 1xx/3xx/4xx/5xx (redirects are not followed).
// - At least once, not exactly once: an event is marked delivered only after the 2xx answer has
//   been read *and* recorded in the store. A receiver whose 2xx answer was lost, or a crash
//   between the answer and the record, sees the event again. Receivers de-duplicate on
//   X-Shouhou-Delivery, which never changes for an event.
// - In order per case: an event of a case is sent only once every earlier event of that case is
//   recorded as delivered or given up (the store returns only the head of each case, and the
//   dispatcher waits for the records of one batch before it asks for the next). Events of
//   different cases are not ordered with respect to each other.
// - Signed: verify X-Shouhou-Signature over the raw body before parsing it (verify_signature()).
// - Timing: events go out within a moment of notify() (or within poll_interval without it), one
//   request at a time over a kept-alive connection.
// - Retries: a failed event is tried again after min(retry_max, retry_min * 2^n), n being its
//   failed attempts so far, shortened by a random 0-10% so that many events failing together do
//   not retry in lockstep. An event still failing give_up_after after it was queued is given up:
//   logged (warning, with seq, case and last error) and never sent again, and the case's next
//   event goes on.
//
// Threading: the dispatcher runs one thread of its own (start()); cpp-httplib's client blocks,
// so delivery never runs on the server's Asio threads. notify(), stop() and the destructor may be
// called from any thread; start() once.
//
// Lifetime: `store` and `clock` must outlive the dispatcher; stop it (or destroy it) before
// closing the store.
//
// Writers of events: set outbox_event::created_at_ms (the clock's time of the change); the
// give-up time counts from it, so an event queued with 0 is given up at its first failure.
//
// The secret is never logged; neither is the URL's path or query (it may carry a token).

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "bot/conversation_engine.hpp"
#include "store/store.hpp"

namespace shouhou::connectors::webhook {

// The server fills these from bot::config (webhook_*), which owns the user-facing defaults; the
// defaults here are for the settings it has no option for, and for tests.
struct dispatcher_settings {
  // http://host[:port][/path[?query]] or https://... ; host is a name, an IPv4 address or an
  // [IPv6] address. No user:password@, no #fragment. https verifies the receiver's certificate
  // against the system's CA store and its host name.
  std::string url;
  // The HMAC key. Must not be empty.
  std::string secret;
  // Backoff of failed attempts; both > 0, retry_min <= retry_max.
  std::chrono::milliseconds retry_min{1000};
  std::chrono::milliseconds retry_max{std::chrono::minutes(5)};
  // An event failing this long after it was queued (created_at_ms) is given up. >= 0.
  std::chrono::milliseconds give_up_after{std::chrono::hours(72)};
  // Each of connecting, sending the request and waiting for (each read of) the answer. > 0.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  // How often the outbox is read when nothing wakes the dispatcher earlier (notify(), or the
  // earliest retry it scheduled itself). Events queued by another instance, or left by an
  // earlier run, are found this way. > 0.
  std::chrono::milliseconds poll_interval{std::chrono::seconds(1)};
  // Most events read from the store at once. > 0.
  std::size_t batch_size = 64;
  // Called on the dispatcher's thread after each attempt has been recorded in the store, for
  // metrics and tests. Must be quick; must not call stop().
  std::function<void(const store::outbox_event&, const store::event_attempt&)> on_attempt;
};

class webhook_dispatcher {
 public:
  // Checks the settings and parses the URL once. Returns nullptr and sets `error` to a sentence
  // naming what is wrong (e.g. "webhook URL must start with http:// or https://: ftp://x") when
  // a setting is invalid; the secret never appears in it. Starts nothing.
  static std::unique_ptr<webhook_dispatcher> make(store::store& store, dispatcher_settings settings,
                                                  const bot::clock& clock, std::string& error);

  ~webhook_dispatcher();  // runs stop()
  webhook_dispatcher(const webhook_dispatcher&) = delete;
  webhook_dispatcher& operator=(const webhook_dispatcher&) = delete;

  // Starts the delivery thread. Calls after the first, and calls after stop(), do nothing.
  void start();

  // Wakes the delivery thread to read the outbox now instead of at the next poll: call it after
  // a turn carrying events has committed. Cheap, never blocks on a delivery; any thread.
  void notify() noexcept;

  // Wakes the delivery thread and joins it. Returns promptly: a request in flight has its socket
  // shut down; at worst (the request still connecting, or just starting) it waits for that one
  // request's timeout, plus the store's answer to a query or record already submitted. An
  // attempt cut short by stop() is not recorded, so the event is sent again by the next run.
  // Idempotent.
  void stop();

  // Implementation detail, public only so the .cpp's helpers can name it.
  struct impl;

 private:
  explicit webhook_dispatcher(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace shouhou::connectors::webhook
