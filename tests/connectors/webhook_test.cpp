// The webhook deliverer against a real SQLite store and a real HTTP receiver (httplib::Server on
// a loopback port chosen at run time). Nothing here sleeps to make an assertion true: tests wait
// on conditions with generous upper bounds, and check what was recorded, not how long it took.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bot/conversation_engine.hpp"
#include "connectors/webhook/dispatcher.hpp"
#include "connectors/webhook/signature.hpp"
#include "store/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace shouhou::connectors::webhook {
namespace {

using namespace std::chrono_literals;

// Long enough that only a broken dispatcher ever reaches it.
constexpr auto k_patience = 30s;
const std::string k_secret = "test-secret-\x01\xff-not-text";

// ---------------------------------------------------------------------------------------------
// Signature

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

// Independent of the code under test: OpenSSL's HMAC() one-shot, not EVP_Q_mac.
std::string reference_signature(const std::string& secret, const std::string& body) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), out, &len);
  return "sha256=" + hex(out, len);
}

TEST(WebhookSignature, MatchesRfc4231TestCase2) {
  EXPECT_EQ(sign_body("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookSignature, MatchesOpenSslOneShotHmacOnBinaryBodies) {
  std::mt19937 rng(7);
  for (std::size_t n : {0u, 1u, 63u, 64u, 65u, 1000u}) {
    std::string body(n, '\0');
    for (char& c : body) c = static_cast<char>(rng());
    const std::string sig = sign_body(k_secret, body);
    EXPECT_EQ(sig, reference_signature(k_secret, body)) << n;
    EXPECT_EQ(sig.size(), 7u + 64u);
  }
}

TEST(WebhookSignature, VerifyAcceptsItsOwnSignatureInEitherCase) {
  const std::string body = R"({"type":"case.created","case":"c1"})";
  std::string sig = sign_body(k_secret, body);
  EXPECT_TRUE(verify_signature(k_secret, body, sig));
  for (std::size_t i = 7; i < sig.size(); ++i) sig[i] = static_cast<char>(std::toupper(sig[i]));
  EXPECT_TRUE(verify_signature(k_secret, body, sig));
}

TEST(WebhookSignature, VerifyRejectsTamperedBodyWrongSecretAndMalformedHeaders) {
  const std::string body = R"({"type":"case.created","case":"c1"})";
  const std::string sig = sign_body(k_secret, body);
  std::string tampered = body;
  tampered[tampered.size() - 3] = '2';
  EXPECT_FALSE(verify_signature(k_secret, tampered, sig));
  EXPECT_FALSE(verify_signature(k_secret, body + "\n", sig));
  EXPECT_FALSE(verify_signature("another secret", body, sig));
  EXPECT_FALSE(verify_signature("", body, sig));

  std::string flipped = sig;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_FALSE(verify_signature(k_secret, body, flipped));
  EXPECT_FALSE(verify_signature(k_secret, body, sig.substr(7)));            // no prefix
  EXPECT_FALSE(verify_signature(k_secret, body, "sha1=" + sig.substr(7)));  // other prefix
  EXPECT_FALSE(verify_signature(k_secret, body, sig.substr(0, sig.size() - 2)));
  EXPECT_FALSE(verify_signature(k_secret, body, sig + "00"));
  std::string not_hex = sig;
  not_hex[10] = 'g';
  EXPECT_FALSE(verify_signature(k_secret, body, not_hex));
  EXPECT_FALSE(verify_signature(k_secret, body, ""));
}

TEST(WebhookSignature, EmptySecretSignsNothing) { EXPECT_EQ(sign_body("", "body"), ""); }

// ---------------------------------------------------------------------------------------------
// Dispatcher fixtures

using shouhou::testing::temp_dir;

// A loopback port nothing listens on (bound once to learn a free number, then released).
int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct request_seen {
  std::string path;
  std::string query_x;
  std::string content_type;
  std::string event;
  std::string delivery;
  std::string signature;
  std::string user_agent;
  std::string body;
  int status = 0;  // what the receiver answered
};

// The helpdesk: records every request and answers what `answer` says (200 unless told).
class receiver {
 public:
  using answer_fn = std::function<int(const request_seen&, std::size_t index)>;

  explicit receiver(answer_fn answer = nullptr) : answer_(std::move(answer)) {
    server_.Post("/hooks/shouhou", [this](const httplib::Request& req, httplib::Response& res) {
      request_seen seen;
      seen.path = req.path;
      seen.query_x = req.get_param_value("x");
      seen.content_type = req.get_header_value("Content-Type");
      seen.event = req.get_header_value("X-Shouhou-Event");
      seen.delivery = req.get_header_value("X-Shouhou-Delivery");
      seen.signature = req.get_header_value("X-Shouhou-Signature");
      seen.user_agent = req.get_header_value("User-Agent");
      seen.body = req.body;
      std::size_t index = 0;
      answer_fn respond;
      {
        std::lock_guard lock(mutex_);
        index = count_++;
        respond = answer_;
      }
      seen.status = respond ? respond(seen, index) : 200;
      res.status = seen.status;
      res.set_content("{}", "application/json");
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(std::move(seen));
      }
    });
  }
  ~receiver() { stop(); }
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;

  // Listens on `port` (0: any free port) and returns the port.
  int start(int port = 0) {
    if (port == 0) {
      port = server_.bind_to_any_port("127.0.0.1");
    } else if (!server_.bind_to_port("127.0.0.1", port)) {
      port = -1;
    }
    EXPECT_GT(port, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the listen loop runs would be lost; the socket already accepts meanwhile.
    while (!server_.is_running()) std::this_thread::yield();
    return port;
  }

  void stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }

  std::vector<request_seen> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<request_seen> seen_;
  std::size_t count_ = 0;
  answer_fn answer_;
};

// What the dispatcher reported through on_attempt.
class attempt_log {
 public:
  struct entry {
    store::outbox_event event;
    store::event_attempt attempt;
  };

  std::function<void(const store::outbox_event&, const store::event_attempt&)> hook() {
    return [this](const store::outbox_event& e, const store::event_attempt& a) {
      {
        std::lock_guard lock(mutex_);
        entries_.push_back({e, a});
      }
      changed_.notify_all();
    };
  }

  bool wait_for(const std::function<bool(const std::vector<entry>&)>& done) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, k_patience, [&] { return done(entries_); });
  }

  // Waits until this many attempts were recorded as delivered. The receiver has seen each of
  // them by then (it logs a request before answering it).
  bool wait_delivered(std::size_t n) {
    return wait_for([n](const std::vector<entry>& log) {
      return static_cast<std::size_t>(std::count_if(
                 log.begin(), log.end(), [](const entry& x) { return x.attempt.delivered; })) >= n;
    });
  }

  std::vector<entry> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<entry> entries_;
};

std::string body_of(const std::string& case_id, int n, const std::string& extra = "") {
  return R"({"case":")" + case_id + R"(","n":)" + std::to_string(n) + extra + "}";
}

class WebhookDispatcher : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    store_ = store::sqlite_store::open(dir_.db(), {}, error);
    ASSERT_NE(store_, nullptr) << error;
    store::conversation c;
    c.id = "conv1";
    c.shop = "shop";
    c.buyer = "buyer";
    c.created_at_ms = clock_.now_ms();
    std::promise<store::status> created;
    store_->create_conversation(c, [&created](store::status st) { created.set_value(st); });
    const store::status st = created.get_future().get();
    ASSERT_TRUE(st.ok) << st.error;
  }

  // Queues events (case id, type, body) in one turn, as the bot does with a case change.
  void queue(const std::vector<store::outbox_event>& events) {
    store::turn t;
    t.conversation = "conv1";
    t.inbound.emplace();
    t.inbound->conversation = "conv1";
    t.inbound->client_id = "m" + std::to_string(++turns_);
    t.inbound->text = "turn " + std::to_string(turns_);
    t.inbound->at_ms = clock_.now_ms();
    t.events = events;
    std::promise<store::status> done;
    store_->append_turn(std::move(t),
                        [&done](store::status st, bool) { done.set_value(std::move(st)); });
    const store::status st = done.get_future().get();
    ASSERT_TRUE(st.ok) << st.error;
  }

  store::outbox_event event(const std::string& case_id, const std::string& type, int n,
                            const std::string& extra = "") {
    store::outbox_event e;
    e.case_id = case_id;
    e.type = type;
    e.body = body_of(case_id, n, extra);
    e.created_at_ms = clock_.now_ms();
    return e;
  }

  dispatcher_settings settings_for(int port) {
    dispatcher_settings s;
    s.url = "http://127.0.0.1:" + std::to_string(port) + "/hooks/shouhou?x=1";
    s.secret = k_secret;
    s.retry_min = 20ms;
    s.retry_max = 200ms;
    s.timeout = 10s;
    s.poll_interval = 50ms;
    s.batch_size = 4;
    s.on_attempt = attempts_.hook();
    return s;
  }

  std::unique_ptr<webhook_dispatcher> make(dispatcher_settings s) {
    std::string error;
    auto d = webhook_dispatcher::make(*store_, std::move(s), clock_, error);
    EXPECT_NE(d, nullptr) << error;
    EXPECT_EQ(error, "");
    return d;
  }

  // Requests answered 2xx, by case, in the order they arrived.
  static std::map<std::string, std::vector<std::string>> accepted_bodies_by_case(
      const std::vector<request_seen>& seen) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& r : seen) {
      if (r.status / 100 != 2) continue;
      const auto at = r.body.find(R"("case":")") + 8;
      out[r.body.substr(at, r.body.find('"', at) - at)].push_back(r.body);
    }
    return out;
  }

  static std::map<std::string, int> accepted_count_by_delivery(
      const std::vector<request_seen>& seen) {
    std::map<std::string, int> out;
    for (const auto& r : seen) {
      if (r.status / 100 == 2) ++out[r.delivery];
    }
    return out;
  }

  temp_dir dir_;
  bot::system_clock clock_;
  std::unique_ptr<store::sqlite_store> store_;
  attempt_log attempts_;
  int turns_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Dispatcher tests

TEST_F(WebhookDispatcher, RefusesBadSettingsAtConstructionNamingTheProblem) {
  const std::vector<std::string> bad_urls = {
      "",
      "127.0.0.1:8080/hook",
      "ftp://example.com/hook",
      "http://",
      "http:///hook",
      "http://example.com:/hook",
      "http://example.com:0/hook",
      "http://example.com:65536/hook",
      "http://example.com:80x/hook",
      "http://user:pw@example.com/hook",
      "http://exa mple.com/hook",
      "http://example.com/ho ok",
      "http://example.com/hook#frag",
      "http://[::1/hook",
      "http://[zz::1]/hook",
      "http://ex%61mple.com/",
  };
  for (const auto& url : bad_urls) {
    dispatcher_settings s = settings_for(1);
    s.url = url;
    std::string error;
    EXPECT_EQ(webhook_dispatcher::make(*store_, s, clock_, error), nullptr) << url;
    EXPECT_NE(error.find("webhook URL"), std::string::npos) << url << ": " << error;
    EXPECT_EQ(error.find(k_secret), std::string::npos) << error;
  }

  const std::vector<std::pair<std::function<void(dispatcher_settings&)>, std::string>> bad = {
      {[](dispatcher_settings& s) { s.secret.clear(); }, "secret"},
      {[](dispatcher_settings& s) { s.retry_min = 0ms; }, "retry"},
      {[](dispatcher_settings& s) { s.retry_max = 10ms; }, "retry"},
      {[](dispatcher_settings& s) { s.give_up_after = -1ms; }, "give-up"},
      {[](dispatcher_settings& s) { s.timeout = 0ms; }, "timeout"},
      {[](dispatcher_settings& s) { s.poll_interval = 0ms; }, "poll"},
      {[](dispatcher_settings& s) { s.batch_size = 0; }, "batch"},
  };
  for (const auto& [change, word] : bad) {
    dispatcher_settings s = settings_for(1);
    change(s);
    std::string error;
    EXPECT_EQ(webhook_dispatcher::make(*store_, s, clock_, error), nullptr) << word;
    EXPECT_NE(error.find(word), std::string::npos) << error;
  }
}

TEST_F(WebhookDispatcher, AcceptsHttpAndHttpsUrlShapes) {
  for (const std::string url :
       {"http://example.com", "HTTP://example.com:8080", "http://example.com?token=1",
        "https://helpdesk.example.com/hooks/shouhou", "https://[::1]:8443/x",
        "http://127.0.0.1/a/b?c=d"}) {
    dispatcher_settings s = settings_for(1);
    s.url = url;
    std::string error;
    EXPECT_NE(webhook_dispatcher::make(*store_, s, clock_, error), nullptr) << url << ": " << error;
  }
}

TEST_F(WebhookDispatcher, DeliversEventsInOrderPerCaseWithSignedHeaders) {
  receiver r;
  const int port = r.start();
  // Two cases, interleaved, more events than one batch.
  queue({event("ca", "case.created", 1), event("cb", "case.created", 1)});
  queue({event("ca", "case.claimed", 2)});
  queue({event("cb", "case.claimed", 2), event("ca", "case.resolved", 3)});
  queue({event("cb", "case.resolved", 3)});

  auto d = make(settings_for(port));
  d->start();
  ASSERT_TRUE(attempts_.wait_delivered(6));
  d->stop();

  const auto seen = r.seen();
  ASSERT_EQ(seen.size(), 6u);
  std::map<std::string, std::int64_t> seq_of_body;
  for (const auto& entry : attempts_.entries()) {
    EXPECT_TRUE(entry.attempt.delivered);
    EXPECT_EQ(entry.attempt.seq, entry.event.seq);
    EXPECT_EQ(entry.attempt.error, "");
    seq_of_body[entry.event.body] = entry.event.seq;
  }
  for (const auto& req : seen) {
    EXPECT_EQ(req.path, "/hooks/shouhou");
    EXPECT_EQ(req.query_x, "1");
    EXPECT_EQ(req.content_type, "application/json");
    EXPECT_EQ(req.user_agent, "shouhou-webhook");
    EXPECT_TRUE(verify_signature(k_secret, req.body, req.signature)) << req.signature;
    EXPECT_EQ(req.signature, reference_signature(k_secret, req.body));
    EXPECT_EQ(req.delivery, std::to_string(seq_of_body.at(req.body)));
  }
  const auto by_case = accepted_bodies_by_case(seen);
  EXPECT_EQ(by_case.at("ca"),
            (std::vector<std::string>{body_of("ca", 1), body_of("ca", 2), body_of("ca", 3)}));
  EXPECT_EQ(by_case.at("cb"),
            (std::vector<std::string>{body_of("cb", 1), body_of("cb", 2), body_of("cb", 3)}));
  std::map<std::string, std::string> type_of_body;
  for (const auto& req : seen) type_of_body[req.body] = req.event;
  EXPECT_EQ(type_of_body[body_of("ca", 1)], "case.created");
  EXPECT_EQ(type_of_body[body_of("ca", 2)], "case.claimed");
  EXPECT_EQ(type_of_body[body_of("cb", 3)], "case.resolved");
}

TEST_F(WebhookDispatcher, DeliveredEventsAreNotSentAgainByTheNextRun) {
  receiver r;
  const int port = r.start();
  queue({event("ca", "case.created", 1), event("ca", "case.claimed", 2)});
  {
    auto d = make(settings_for(port));
    d->start();
    ASSERT_TRUE(attempts_.wait_delivered(2));
  }
  // If the first two were not recorded as delivered, the new dispatcher would send them first:
  // the store hands out only the head of each case.
  queue({event("ca", "case.resolved", 3)});
  auto d = make(settings_for(port));
  d->start();
  ASSERT_TRUE(attempts_.wait_delivered(3));
  d->stop();
  const auto by_case = accepted_bodies_by_case(r.seen());
  EXPECT_EQ(by_case.at("ca"),
            (std::vector<std::string>{body_of("ca", 1), body_of("ca", 2), body_of("ca", 3)}));
}

TEST_F(WebhookDispatcher, NotifyWakesItBeforeThePollInterval) {
  receiver r;
  const int port = r.start();
  dispatcher_settings s = settings_for(port);
  s.poll_interval = std::chrono::hours(1);
  auto d = make(s);
  d->start();  // its first look finds nothing, then it sleeps for the poll interval
  queue({event("ca", "case.created", 1)});
  d->notify();
  ASSERT_TRUE(attempts_.wait_delivered(1));
  d->stop();
}

TEST_F(WebhookDispatcher, ServerErrorsAndRedirectsAreRetriedUntilAcceptedExactlyOnceEach) {
  // The first requests fail with a 5xx, a redirect or a 4xx, whichever event they carry.
  const std::vector<int> first_answers = {500, 503, 302, 404, 500, 500};
  receiver r([&](const request_seen&, std::size_t index) {
    return index < first_answers.size() ? first_answers[index] : 200;
  });
  const int port = r.start();
  queue({event("ca", "case.created", 1), event("cb", "case.created", 1)});
  queue({event("ca", "case.claimed", 2), event("cb", "case.claimed", 2)});

  dispatcher_settings s = settings_for(port);
  s.retry_min = 20ms;
  s.retry_max = 80ms;
  auto d = make(s);
  d->start();
  ASSERT_TRUE(attempts_.wait_delivered(4));
  d->stop();

  const auto seen = r.seen();
  EXPECT_EQ(seen.size(), first_answers.size() + 4);
  for (const auto& [delivery, count] : accepted_count_by_delivery(seen)) {
    EXPECT_EQ(count, 1) << "event " << delivery;
  }
  EXPECT_EQ(accepted_count_by_delivery(seen).size(), 4u);
  const auto by_case = accepted_bodies_by_case(seen);
  EXPECT_EQ(by_case.at("ca"), (std::vector<std::string>{body_of("ca", 1), body_of("ca", 2)}));
  EXPECT_EQ(by_case.at("cb"), (std::vector<std::string>{body_of("cb", 1), body_of("cb", 2)}));
  for (const auto& req : seen) EXPECT_TRUE(verify_signature(k_secret, req.body, req.signature));

  // The backoff the dispatcher chose, read from what it recorded (not from the clock): retry_min
  // doubling per failed attempt up to retry_max, minus at most 10% of jitter.
  int failures = 0;
  for (const auto& [e, a] : attempts_.entries()) {
    if (a.delivered) continue;
    ++failures;
    EXPECT_FALSE(a.given_up);
    EXPECT_NE(a.error.find("HTTP "), std::string::npos) << a.error;
    const std::int64_t full = std::min<std::int64_t>(80, std::int64_t{20} << e.attempts);
    const std::int64_t wait = a.next_attempt_ms - a.at_ms;
    EXPECT_LE(wait, full) << "attempt " << e.attempts;
    EXPECT_GE(wait, full - full / 10) << "attempt " << e.attempts;
  }
  EXPECT_EQ(failures, static_cast<int>(first_answers.size()));
}

TEST_F(WebhookDispatcher, EventsWaitWhileTheReceiverIsDownAndArriveOnceEachAfterwards) {
  const int port = unused_port();
  queue({event("ca", "case.created", 1), event("cb", "case.created", 1)});
  queue({event("ca", "case.claimed", 2), event("ca", "case.resolved", 3)});
  queue({event("cb", "case.claimed", 2)});

  auto d = make(settings_for(port));
  d->start();
  // Both cases' heads have failed a few times against the closed port; nothing behind them went.
  ASSERT_TRUE(attempts_.wait_for([](const std::vector<attempt_log::entry>& log) {
    std::map<std::string, int> failed;
    for (const auto& [e, a] : log) ++failed[e.case_id];
    return failed["ca"] >= 3 && failed["cb"] >= 3;
  }));
  const std::size_t failed_before = attempts_.entries().size();
  for (const auto& [e, a] : attempts_.entries()) {
    EXPECT_FALSE(a.delivered);
    EXPECT_FALSE(a.given_up);
    EXPECT_EQ(e.body, body_of(e.case_id, 1));  // only the heads; nothing behind them went
    EXPECT_NE(a.error.find("no answer"), std::string::npos) << a.error;
  }

  receiver r;
  ASSERT_EQ(r.start(port), port);
  ASSERT_TRUE(attempts_.wait_delivered(5));
  d->stop();
  RecordProperty("failed_attempts_while_down", static_cast<int>(failed_before));

  const auto seen = r.seen();
  EXPECT_EQ(seen.size(), 5u);
  for (const auto& [delivery, count] : accepted_count_by_delivery(seen)) {
    EXPECT_EQ(count, 1) << "event " << delivery;
  }
  const auto by_case = accepted_bodies_by_case(seen);
  EXPECT_EQ(by_case.at("ca"),
            (std::vector<std::string>{body_of("ca", 1), body_of("ca", 2), body_of("ca", 3)}));
  EXPECT_EQ(by_case.at("cb"), (std::vector<std::string>{body_of("cb", 1), body_of("cb", 2)}));
}

TEST_F(WebhookDispatcher, AGivenUpEventLetsTheCasesNextEventGo) {
  receiver r([](const request_seen& req, std::size_t) {
    return req.body.find("reject-me") != std::string::npos ? 500 : 200;
  });
  const int port = r.start();
  store::outbox_event stale = event("ca", "case.created", 1, R"(,"note":"reject-me")");
  stale.created_at_ms = clock_.now_ms() - 60'000;  // queued a minute ago
  queue({stale, event("ca", "case.claimed", 2)});

  dispatcher_settings s = settings_for(port);
  s.give_up_after = 1s;
  auto d = make(s);
  d->start();
  ASSERT_TRUE(attempts_.wait_delivered(1));
  d->stop();

  const auto seen = r.seen();
  ASSERT_EQ(seen.size(), 2u);  // the stale one once (refused, and past its time), then the next
  EXPECT_EQ(seen[0].status, 500);
  EXPECT_EQ(seen[1].body, body_of("ca", 2));
  EXPECT_EQ(seen[1].status, 200);
  const auto log = attempts_.entries();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_TRUE(log[0].attempt.given_up);
  EXPECT_FALSE(log[0].attempt.delivered);
  EXPECT_EQ(log[0].attempt.error, "HTTP 500");
  EXPECT_TRUE(log[1].attempt.delivered);
}

TEST_F(WebhookDispatcher, HttpsUrlSpeaksTlsAndAPlainReceiverIsAFailedAttempt) {
  receiver r;
  const int port = r.start();
  queue({event("ca", "case.created", 1)});
  dispatcher_settings s = settings_for(port);
  s.url = "https://127.0.0.1:" + std::to_string(port) + "/hooks/shouhou";
  auto d = make(s);
  d->start();
  ASSERT_TRUE(
      attempts_.wait_for([](const std::vector<attempt_log::entry>& log) { return !log.empty(); }));
  d->stop();
  const auto log = attempts_.entries();
  EXPECT_FALSE(log[0].attempt.delivered);
  EXPECT_NE(log[0].attempt.error.find("SSL"), std::string::npos) << log[0].attempt.error;
  for (const auto& req : r.seen()) EXPECT_NE(req.status / 100, 2);
}

TEST_F(WebhookDispatcher, StopReturnsWhileTheReceiverHangs) {
  std::promise<void> entered;
  std::shared_future<void> release;
  std::promise<void> release_promise;
  release = release_promise.get_future().share();
  std::once_flag entered_once;
  receiver r([&](const request_seen&, std::size_t) {
    std::call_once(entered_once, [&] { entered.set_value(); });
    release.wait();
    return 200;
  });
  const int port = r.start();
  queue({event("ca", "case.created", 1)});
  dispatcher_settings s = settings_for(port);
  s.timeout = std::chrono::minutes(2);  // far beyond the wait below: stop() must not need it
  auto d = make(s);
  d->start();
  entered.get_future().wait();  // the request is in flight, its answer withheld

  const auto began = std::chrono::steady_clock::now();
  auto stopped = std::async(std::launch::async, [&] { d->stop(); });
  const bool returned = stopped.wait_for(k_patience) == std::future_status::ready;
  const auto took = std::chrono::steady_clock::now() - began;
  release_promise.set_value();
  ASSERT_TRUE(returned);
  RecordProperty(
      "stop_ms",
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  // Cut short by stop(): not recorded, so the event is still due for the next run.
  EXPECT_TRUE(attempts_.entries().empty());
  std::promise<std::vector<store::outbox_event>> due;
  store_->due_events(clock_.now_ms(), 10,
                     [&due](store::status, std::vector<store::outbox_event> events) {
                       due.set_value(std::move(events));
                     });
  const auto still_due = due.get_future().get();
  ASSERT_EQ(still_due.size(), 1u);
  EXPECT_EQ(still_due[0].attempts, 0);
}

}  // namespace
}  // namespace shouhou::connectors::webhook
