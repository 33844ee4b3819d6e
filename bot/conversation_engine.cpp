#include "bot/conversation_engine.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace shouhou::bot {

std::int64_t system_clock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string new_conversation_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // OpenSSL's generator only fails when it cannot be seeded; an id that could collide or be
    // guessed is worse than stopping.
    std::abort();
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string id;
  id.reserve(32);
  for (unsigned char b : bytes) {
    id.push_back(digits[b >> 4]);
    id.push_back(digits[b & 0xf]);
  }
  return id;
}

std::string reply_payload(const replies::reply& reply) {
  nlohmann::json requests = nlohmann::json::array();
  for (const auto& item : reply.requests) {
    requests.push_back(
        {{"item", item.id}, {"type", item.type}, {"label", item.label}, {"why", item.why}});
  }
  nlohmann::json payload = {{"requests", std::move(requests)},
                            {"quick_replies", reply.quick_replies}};
  return payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

conversation_engine::conversation_engine(store::store& store, const knowledge_base& knowledge,
                                         const clock& clock, std::size_t history_limit)
    : store_(store), knowledge_(knowledge), clock_(clock), history_limit_(history_limit) {}

void conversation_engine::open(std::string shop, std::string buyer, std::string conversation_id,
                               std::function<void(open_result)> done) {
  std::string version = knowledge_.current()->version;
  if (conversation_id.empty()) {
    store::conversation c{new_conversation_id(), std::move(shop), std::move(buyer),
                          clock_.now_ms()};
    store_.create_conversation(
        c, [c, version, done = std::move(done)](store::status s) mutable {
          open_result r;
          r.version = std::move(version);
          if (!s.ok) {
            r.error = std::move(s.error);
            return done(std::move(r));
          }
          r.what = open_result::outcome::opened;
          r.conversation = std::move(c);
          done(std::move(r));
        });
    return;
  }
  store_.load_conversation(
      std::move(conversation_id), history_limit_,
      [shop = std::move(shop), buyer = std::move(buyer), version, done = std::move(done)](
          store::status s, std::optional<store::conversation> c,
          std::vector<store::message> history) mutable {
        open_result r;
        r.version = std::move(version);
        if (!s.ok) {
          r.error = std::move(s.error);
        } else if (!c) {
          r.what = open_result::outcome::unknown_conversation;
        } else if (c->shop != shop || c->buyer != buyer) {
          // Same answer shape as for a wrong id would leak less, but a clear error helps the
          // widget developer; the history itself is never returned.
          r.what = open_result::outcome::not_yours;
        } else {
          r.what = open_result::outcome::resumed;
          r.conversation = std::move(*c);
          r.history = std::move(history);
        }
        done(std::move(r));
      });
}

void conversation_engine::receive(const store::conversation& conversation, buyer_message message,
                                  std::function<void(turn_result)> done) {
  // One snapshot for the whole turn: a reload in between cannot mix versions.
  auto know = knowledge_.current();
  turn_result result;
  result.version = know->version;
  result.classification = know->intents->classify(message.text);

  replies::variables vars{{"shop", conversation.shop}, {"buyer", conversation.buyer}};
  std::string order = message.order;
  if (order.empty()) {
    for (const auto& e : result.classification.entities) {
      if (e.kind == "order_no") {
        order = e.value;
        break;
      }
    }
  }
  if (!order.empty()) vars.emplace("order", order);
  // Rotate apology variants per message, deterministically so a resend would pick the same one.
  std::size_t variant = std::hash<std::string>{}(conversation.id + "/" + message.id);
  result.reply = know->replies->first_reply(result.classification.reason, variant, vars);

  const std::int64_t now = clock_.now_ms();
  store::turn t;
  t.inbound.conversation = conversation.id;
  t.inbound.dir = store::direction::inbound;
  t.inbound.client_id = message.id;
  t.inbound.text = std::move(message.text);
  t.inbound.reason = result.classification.reason;
  t.inbound.confidence = result.classification.confidence;
  t.inbound.order = std::move(order);
  t.inbound.at_ms = now;

  store::message out;
  out.conversation = conversation.id;
  out.dir = store::direction::outbound;
  out.text = result.reply.text;
  out.reason = result.classification.reason;
  out.confidence = result.classification.confidence;
  out.payload = reply_payload(result.reply);
  out.at_ms = now;
  t.replies.push_back(std::move(out));

  store_.append_turn(std::move(t), [result = std::move(result), done = std::move(done)](
                                       store::status s, bool duplicate) mutable {
    result.ok = s.ok;
    result.error = std::move(s.error);
    result.duplicate = duplicate;
    done(std::move(result));
  });
}

}  // namespace shouhou::bot
