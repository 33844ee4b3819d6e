#include "connectors/webhook/dispatcher.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "connectors/webhook/signature.hpp"

namespace shouhou::connectors::webhook {
namespace {

struct parsed_url {
  bool https = false;
  std::string host;  // as written; IPv6 without its brackets
  int port = 0;
  std::string path;    // with the query, never empty
  std::string origin;  // scheme://host:port, IPv6 in brackets: for httplib and for logs
};

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

bool is_ipv6_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Only what a helpdesk endpoint needs; anything else is refused rather than guessed at, so a
// typo is found at start-up instead of as a stream of failed deliveries.
std::optional<parsed_url> parse_url(std::string_view url, std::string& error) {
  const auto fail = [&](std::string why) {
    error = "webhook URL " + why + ": " + std::string(url);
    return std::nullopt;
  };
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail("must not contain spaces or control characters");
    }
  }
  parsed_url out;
  std::string_view rest;
  if (starts_with_nocase(url, "http://")) {
    rest = url.substr(7);
  } else if (starts_with_nocase(url, "https://")) {
    out.https = true;
    rest = url.substr(8);
  } else {
    return fail("must start with http:// or https://");
  }
  if (rest.find('#') != std::string_view::npos) return fail("must not have a #fragment");
  const std::size_t path_at = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path =
      path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
  if (authority.find('@') != std::string_view::npos) {
    return fail("must not carry user:password@ (put credentials in the secret, not the URL)");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("has an unclosed [ in its host");
    const std::string_view v6 = authority.substr(1, close - 1);
    if (v6.empty() || !std::all_of(v6.begin(), v6.end(), is_ipv6_char)) {
      return fail("has an invalid IPv6 address");
    }
    out.host = std::string(v6);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("has something after its IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return fail("has an empty port");
    }
  } else {
    const std::size_t colon = authority.find(':');
    const std::string_view host = authority.substr(0, colon);
    if (host.empty()) return fail("has no host");
    if (!std::all_of(host.begin(), host.end(), is_host_char)) {
      return fail("has an invalid host");
    }
    out.host = std::string(host);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return fail("has an empty port");
    }
  }
  if (port_text.empty()) {
    out.port = out.https ? 443 : 80;
  } else {
    int port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return fail("has an invalid port (1-65535)");
    }
    out.port = port;
  }
  if (path.empty()) {
    out.path = "/";
  } else if (path.front() == '?') {
    out.path = "/" + std::string(path);
  } else {
    out.path = std::string(path);
  }
  return out;
}

// Waits for an asynchronous store call; the store promises to run every handler exactly once.
// The handler shares the promise, so the promise outlives a set_value() still returning on the
// store's thread after get() has already woken here.
template <class T>
class waiter {
 public:
  waiter() : promise_(std::make_shared<std::promise<T>>()), future_(promise_->get_future()) {}
  std::shared_ptr<std::promise<T>> promise() const { return promise_; }
  T get() { return future_.get(); }

 private:
  std::shared_ptr<std::promise<T>> promise_;
  std::future<T> future_;
};

struct query_result {
  store::status st;
  std::vector<store::outbox_event> events;
};

}  // namespace

struct webhook_dispatcher::impl {
  impl(store::store& s, dispatcher_settings set, const bot::clock& c, parsed_url u,
       std::unique_ptr<httplib::Client> cl)
      : store(s),
        settings(std::move(set)),
        clock(c),
        url(std::move(u)),
        client(std::move(cl)),
        rng(std::random_device{}()) {}

  store::store& store;
  const dispatcher_settings settings;
  const bot::clock& clock;
  const parsed_url url;
  const std::unique_ptr<httplib::Client> client;

  // Only the delivery thread touches these.
  std::mt19937_64 rng;
  // Retry times this dispatcher scheduled, so it wakes for them sooner than the next poll.
  std::priority_queue<std::int64_t, std::vector<std::int64_t>, std::greater<>> retries;
  std::int64_t last_query_ms = 0;
  std::string last_store_error;

  std::mutex mutex;
  std::condition_variable wake;
  bool woken = false;                 // guarded by mutex
  bool started = false;               // guarded by mutex
  std::atomic<bool> stopping{false};  // written under mutex, read anywhere
  std::mutex join_mutex;              // two stop()s at once must not both join
  std::thread thread;

  void run();
  bool pass();
  std::optional<store::event_attempt> attempt(const store::outbox_event& e);
  std::chrono::milliseconds next_wait();
  std::int64_t backoff_ms(int attempts);
  void store_failed(const char* what, const store::status& st);
};

std::int64_t webhook_dispatcher::impl::backoff_ms(int attempts) {
  const std::int64_t max = settings.retry_max.count();
  std::int64_t delay = settings.retry_min.count();
  for (int i = 0; i < attempts && delay < max; ++i) delay = delay > max / 2 ? max : delay * 2;
  delay = std::min(delay, max);
  const std::int64_t jitter = std::uniform_int_distribution<std::int64_t>(0, delay / 10)(rng);
  return std::max<std::int64_t>(1, delay - jitter);
}

void webhook_dispatcher::impl::store_failed(const char* what, const store::status& st) {
  // A closed or broken store fails every poll; say so once per distinct error, not every second.
  if (st.error != last_store_error) {
    spdlog::warn("webhook: {} failed: {}", what, st.error);
    last_store_error = st.error;
  }
}

// POSTs one event and decides what the attempt came to; nullopt when stop() cut it short.
std::optional<store::event_attempt> webhook_dispatcher::impl::attempt(
    const store::outbox_event& e) {
  store::event_attempt a;
  a.seq = e.seq;
  const std::string signature = sign_body(settings.secret, e.body);
  if (signature.empty()) {
    a.error = "could not sign the body (OpenSSL failure)";
  } else {
    const httplib::Headers headers = {
        {"X-Shouhou-Event", e.type},
        {"X-Shouhou-Delivery", std::to_string(e.seq)},
        {std::string(k_signature_header), signature},
        {"User-Agent", "shouhou-webhook"},
    };
    const httplib::Result res = client->Post(url.path, headers, e.body, "application/json");
    if (res && res->status >= 200 && res->status < 300) {
      a.delivered = true;
    } else if (!res && stopping.load()) {
      // The receiver may or may not have it; leave the event due so that the next run sends it
      // again, rather than count an attempt the receiver never judged.
      return std::nullopt;
    } else if (res) {
      a.error = "HTTP " + std::to_string(res->status);
    } else {
      a.error = "no answer: " + httplib::to_string(res.error());
    }
  }
  a.at_ms = clock.now_ms();
  if (a.delivered) return a;
  if (a.at_ms - e.created_at_ms >= settings.give_up_after.count()) {
    a.given_up = true;
    spdlog::warn("webhook: gave up on event {} ({}) of case {} after {} attempts: {}", e.seq,
                 e.type, e.case_id, e.attempts + 1, a.error);
  } else {
    a.next_attempt_ms = a.at_ms + backoff_ms(e.attempts);
    spdlog::debug("webhook: event {} ({}) of case {} failed, attempt {}: {}", e.seq, e.type,
                  e.case_id, e.attempts + 1, a.error);
  }
  return a;
}

// Returns true when there may be more due events right away: the batch was full, or an event
// was finished with, so the next event of its case is now the head and due.
bool webhook_dispatcher::impl::pass() {
  const std::int64_t now = clock.now_ms();
  waiter<query_result> queried;
  store.due_events(
      now, settings.batch_size,
      [p = queried.promise()](store::status st, std::vector<store::outbox_event> events) {
        p->set_value({std::move(st), std::move(events)});
      });
  query_result due = queried.get();
  last_query_ms = now;
  if (!due.st.ok) {
    store_failed("reading the outbox", due.st);
    return false;
  }

  // due_events gives at most one event per case (its head), so the events of a batch are of
  // different cases and may be sent one after the other without waiting for each record; their
  // records then share one commit. Every record is waited for before the next query, which is
  // the only way a case's next event can come up: so it is never sent before its predecessor
  // is recorded as delivered or given up.
  struct sent {
    const store::outbox_event* event;
    store::event_attempt attempt;
    waiter<store::status> recorded;
  };
  std::vector<sent> batch;
  batch.reserve(due.events.size());
  for (const store::outbox_event& e : due.events) {
    if (stopping.load()) break;
    std::optional<store::event_attempt> a = attempt(e);
    if (!a) break;
    sent& s = batch.emplace_back(sent{&e, std::move(*a), {}});
    store.record_attempt(s.attempt,
                         [p = s.recorded.promise()](store::status st) { p->set_value(st); });
  }

  bool finished_any = false;
  bool store_ok = true;
  for (sent& s : batch) {
    const store::status st = s.recorded.get();
    if (!st.ok) {
      // Not recorded: the event stays due and is sent again (at least once).
      store_failed("recording a delivery attempt", st);
      store_ok = false;
      continue;
    }
    if (s.attempt.next_attempt_ms != 0) {
      retries.push(s.attempt.next_attempt_ms);
    } else {
      finished_any = true;
    }
    if (settings.on_attempt) settings.on_attempt(*s.event, s.attempt);
  }
  if (store_ok && !last_store_error.empty()) {
    spdlog::info("webhook: the store answers again");
    last_store_error.clear();
  }
  if (!store_ok || stopping.load()) return false;
  return finished_any || due.events.size() >= settings.batch_size;
}

std::chrono::milliseconds webhook_dispatcher::impl::next_wait() {
  // Retries at or before the last query's time were seen by it (sent, or not due by the store's
  // reckoning); later ones are still to come.
  while (!retries.empty() && retries.top() <= last_query_ms) retries.pop();
  std::chrono::milliseconds wait = settings.poll_interval;
  if (!retries.empty()) {
    const std::int64_t until = retries.top() - clock.now_ms();
    wait = std::min(wait, std::chrono::milliseconds(std::max<std::int64_t>(0, until)));
  }
  return wait;
}

void webhook_dispatcher::impl::run() {
  while (!stopping.load()) {
    {
      std::lock_guard lock(mutex);
      woken = false;  // a notify() from here on asks for another pass
    }
    bool more = false;
    try {
      more = pass();
    } catch (const std::exception& ex) {
      // Only an on_attempt callback or an allocation failure can get here; keep delivering.
      spdlog::error("webhook: delivery pass failed: {}", ex.what());
    }
    std::unique_lock lock(mutex);
    if (stopping.load()) break;
    if (more || woken) continue;
    wake.wait_for(lock, next_wait(), [this] { return stopping.load() || woken; });
  }
}

std::unique_ptr<webhook_dispatcher> webhook_dispatcher::make(store::store& store,
                                                             dispatcher_settings settings,
                                                             const bot::clock& clock,
                                                             std::string& error) {
  error.clear();
  if (settings.secret.empty()) {
    error = "webhook secret must not be empty";
    return nullptr;
  }
  if (settings.retry_min.count() <= 0 || settings.retry_max < settings.retry_min) {
    error = "webhook retry times must satisfy 0 < retry_min <= retry_max";
    return nullptr;
  }
  if (settings.give_up_after.count() < 0) {
    error = "webhook give-up time must not be negative";
    return nullptr;
  }
  if (settings.timeout.count() <= 0) {
    error = "webhook timeout must be positive";
    return nullptr;
  }
  if (settings.poll_interval.count() <= 0) {
    error = "webhook poll interval must be positive";
    return nullptr;
  }
  if (settings.batch_size == 0) {
    error = "webhook batch size must be positive";
    return nullptr;
  }
  auto url = parse_url(settings.url, error);
  if (!url) return nullptr;

  const std::string host =
      url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
  url->origin =
      std::string(url->https ? "https://" : "http://") + host + ":" + std::to_string(url->port);
  auto client = std::make_unique<httplib::Client>(url->origin);
  if (!client->is_valid()) {
    error = url->https ? "webhook URL is https:// but TLS could not be set up: " + settings.url
                       : "webhook URL is not usable: " + settings.url;
    return nullptr;
  }
  client->set_connection_timeout(settings.timeout);
  client->set_read_timeout(settings.timeout);
  client->set_write_timeout(settings.timeout);
  // Reusing the connection saves a handshake per event; a connection the receiver closed
  // meanwhile costs one failed attempt, which the retry covers.
  client->set_keep_alive(true);
  client->set_follow_location(false);
  // httplib writes the headers and the body separately; with Nagle's algorithm the body would
  // wait for the receiver's delayed ACK (40 ms on Linux) on every event.
  client->set_tcp_nodelay(true);

  return std::unique_ptr<webhook_dispatcher>(new webhook_dispatcher(std::make_unique<impl>(
      store, std::move(settings), clock, std::move(*url), std::move(client))));
}

webhook_dispatcher::webhook_dispatcher(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

webhook_dispatcher::~webhook_dispatcher() { stop(); }

void webhook_dispatcher::start() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->started || impl_->stopping.load()) return;
  impl_->started = true;
  spdlog::info("webhook: delivering case events to {}", impl_->url.origin);
  impl_->thread = std::thread([this] { impl_->run(); });
}

void webhook_dispatcher::notify() noexcept {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->woken = true;
  }
  impl_->wake.notify_one();
}

void webhook_dispatcher::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping.store(true);
  }
  impl_->wake.notify_one();
  // Outside our mutex: this may wait for a connect in progress inside httplib.
  impl_->client->stop();
  std::lock_guard join_lock(impl_->join_mutex);
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id()) {
    impl_->thread.join();
  }
}

}  // namespace shouhou::connectors::webhook
