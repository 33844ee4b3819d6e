#include "bot/conversation_engine.hpp"

#include <openssl/rand.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

namespace shouhou::bot {
namespace {

constexpr int k_attempts = 3;  // decisions per message when other writers keep getting there first

std::vector<store::message> outbound(const std::string& conversation,
                                     const std::vector<bot_message>& messages,
                                     const conversation_state& s, std::int64_t now) {
  std::vector<store::message> out;
  for (const auto& m : messages) {
    store::message r;
    r.conversation = conversation;
    r.dir = store::direction::outbound;
    r.text = m.text;
    r.reason = s.reason;
    r.confidence = s.confidence;
    r.payload = message_payload(m);
    r.at_ms = now;
    out.push_back(std::move(r));
  }
  return out;
}

store::state_update update_for(const store::conversation& current, const step& st) {
  return {current.state_version, to_json(st.next), std::string(to_string(st.next.phase)),
          st.remind_at_ms};
}

// A step that hands off opens a case, stored with the turn. Call before the state is written:
// the state remembers the case.
std::optional<store::case_record> open_case_for(step& st, store::turn& t,
                                                const store::conversation& c, const knowledge& know,
                                                std::int64_t now, const desk_settings& desk) {
  if (st.handoff_trigger.empty()) return std::nullopt;
  st.next.case_id = new_case_id();
  store::case_record opened = open_case(c, st.next, know, st.next.case_id, now, desk);
  t.opened_case = opened;
  if (desk.webhook) t.events.push_back(webhook_event("case.created", opened, know, now, desk));
  return opened;
}

}  // namespace

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

std::string message_payload(const bot_message& message) {
  nlohmann::json requests = nlohmann::json::array();
  for (const auto& item : message.requests) {
    requests.push_back(
        {{"item", item.id}, {"type", item.type}, {"label", item.label}, {"why", item.why}});
  }
  nlohmann::json payload = {{"kind", message.kind},
                            {"requests", std::move(requests)},
                            {"quick_replies", message.quick_replies}};
  return payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

conversation_engine::conversation_engine(store::store& store, const knowledge_base& knowledge,
                                         const clock& clock, engine_settings settings)
    : store_(store), knowledge_(knowledge), clock_(clock), settings_(settings) {}

void conversation_engine::open(std::string shop, std::string buyer, std::string conversation_id,
                               std::function<void(open_result)> done) {
  std::string version = knowledge_.current()->version;
  if (conversation_id.empty()) {
    store::conversation c;
    c.id = new_conversation_id();
    c.shop = std::move(shop);
    c.buyer = std::move(buyer);
    c.created_at_ms = clock_.now_ms();
    c.phase = std::string(to_string(phase::fresh));
    store_.create_conversation(c, [c, version, done = std::move(done)](store::status s) mutable {
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
      std::move(conversation_id), settings_.history_limit,
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
          r.what = open_result::outcome::not_yours;  // and the history is never returned
        } else {
          r.what = open_result::outcome::resumed;
          r.conversation = std::move(*c);
          r.history = std::move(history);
        }
        done(std::move(r));
      });
}

void conversation_engine::receive(store::conversation current, buyer_message message,
                                  std::function<void(turn_result)> done) {
  decide_and_store(std::move(current), std::move(message), k_attempts, std::move(done));
}

void conversation_engine::decide_and_store(store::conversation current, buyer_message message,
                                           int attempts_left,
                                           std::function<void(turn_result)> done) {
  // One snapshot for the whole turn: a reload in between cannot mix versions.
  auto know = knowledge_.current();
  turn_result result;
  result.version = know->version;
  auto state = state_from_json(current.state);
  if (!state) {
    result.error = "conversation " + current.id + " has a state that cannot be read";
    return done(std::move(result));
  }
  result.classification = know->intents->classify(message.text);
  const std::int64_t now = clock_.now_ms();
  step st = on_buyer_message(*state, *know, {current.shop, current.buyer}, result.classification,
                             message.text, message.order, settings_.dialogue, now);

  store::turn t;
  t.conversation = current.id;
  store::message in;
  in.conversation = current.id;
  in.dir = store::direction::inbound;
  in.client_id = message.id;
  in.text = message.text;
  in.reason = result.classification.reason;
  in.confidence = result.classification.confidence;
  auto order = st.next.entities.find("order_no");
  in.order =
      message.order.empty() && order != st.next.entities.end() ? order->second : message.order;
  in.at_ms = now;
  t.inbound = std::move(in);
  result.opened_case = open_case_for(st, t, current, *know, now, settings_.desk);
  t.replies = outbound(current.id, st.messages, st.next, now);
  t.state = update_for(current, st);

  result.messages = std::move(st.messages);
  result.conversation = store::updated(current, *t.state);
  store_.append_turn(
      std::move(t),
      [this, result = std::move(result), current = std::move(current), message = std::move(message),
       attempts_left, done = std::move(done)](store::status s, bool duplicate) mutable {
        if (s.conflict && attempts_left > 1) {
          // Someone wrote this conversation since `current` was read: read it again, decide again.
          store_.load_conversation(
              current.id, 0,
              [this, message = std::move(message), attempts_left, done = std::move(done)](
                  store::status ls, std::optional<store::conversation> fresh,
                  std::vector<store::message>) mutable {
                if (!ls.ok || !fresh) {
                  turn_result failed;
                  failed.error = ls.ok ? "conversation disappeared" : ls.error;
                  return done(std::move(failed));
                }
                decide_and_store(std::move(*fresh), std::move(message), attempts_left - 1,
                                 std::move(done));
              });
          return;
        }
        result.ok = s.ok;
        result.error = std::move(s.error);
        result.duplicate = duplicate;
        if (!s.ok || duplicate) {
          result.messages.clear();
          result.conversation = current;
          result.opened_case.reset();
        }
        done(std::move(result));
      });
}

void conversation_engine::send_due_reminders(std::function<void(std::vector<unprompted>)> done) {
  const std::int64_t now = clock_.now_ms();
  store_.due_reminders(
      now, settings_.reminders_per_scan,
      [this, now, done = std::move(done)](store::status s,
                                          std::vector<store::conversation> due) mutable {
        if (!s.ok || due.empty()) return done({});
        auto know = knowledge_.current();
        // Collects the steps that were stored; the last write's handler hands them over.
        auto sent = std::make_shared<std::vector<unprompted>>();
        auto remaining = std::make_shared<std::size_t>(due.size());
        auto shared_done =
            std::make_shared<std::function<void(std::vector<unprompted>)>>(std::move(done));
        for (auto& c : due) {
          auto state = state_from_json(c.state);
          step st = state ? on_silence(*state, *know, {c.shop, c.buyer}, settings_.dialogue, now)
                          : step{};
          store::turn t;
          t.conversation = c.id;
          auto opened = open_case_for(st, t, c, *know, now, settings_.desk);
          t.replies = outbound(c.id, st.messages, st.next, now);
          t.state = update_for(c, st);
          if (!state) t.state->state = c.state;  // unreadable: keep it, stop reminding
          unprompted u{store::updated(c, *t.state), std::move(st.messages), know->version,
                       std::move(opened)};
          store_.append_turn(std::move(t), [sent, remaining, shared_done, u = std::move(u)](
                                               store::status ws, bool) mutable {
            // A conflict means the buyer wrote meanwhile: that turn rescheduled the reminder.
            if (ws.ok && !u.messages.empty()) sent->push_back(std::move(u));
            if (--*remaining == 0) (*shared_done)(std::move(*sent));
          });
        }
      });
}

void conversation_engine::add_evidence(std::string conversation_id,
                                       std::vector<store::evidence_record> rows,
                                       std::size_t max_per_conversation,
                                       std::function<void(evidence_result)> done) {
  if (rows.empty()) {
    evidence_result r;
    r.error = "no evidence to store";
    return done(std::move(r));
  }
  evidence_step e;
  e.item = rows.front().item;
  e.evidence_id = rows.front().id;
  e.rows = std::move(rows);
  e.max = max_per_conversation;
  store_.load_conversation(
      std::move(conversation_id), 0,
      [this, e = std::move(e), done = std::move(done)](store::status s,
                                                       std::optional<store::conversation> c,
                                                       std::vector<store::message>) mutable {
        if (!s.ok || !c) {
          evidence_result r;
          r.what = s.ok ? evidence_result::outcome::unknown_conversation
                        : evidence_result::outcome::failed;
          r.error = s.ok ? "no such conversation" : std::move(s.error);
          return done(std::move(r));
        }
        mark_and_store(std::move(*c), std::move(e), k_attempts, std::move(done));
      });
}

void conversation_engine::cite_evidence(store::conversation current, std::string client_id,
                                        std::string evidence_id,
                                        std::function<void(evidence_result)> done) {
  std::string id = evidence_id;
  store_.load_evidence(
      std::move(id), [this, current = std::move(current), client_id = std::move(client_id),
                      evidence_id = std::move(evidence_id), done = std::move(done)](
                         store::status s, std::optional<store::evidence_record> row) mutable {
        evidence_result r;
        if (!s.ok) {
          r.error = std::move(s.error);
          return done(std::move(r));
        }
        if (!row || row->conversation != current.id) {
          r.what = evidence_result::outcome::unknown_evidence;
          r.error = "no evidence " + evidence_id + " in this conversation";
          return done(std::move(r));
        }
        evidence_step e;
        e.item = row->item;
        e.evidence_id = row->id;
        store::message in;
        in.conversation = current.id;
        in.dir = store::direction::inbound;
        in.client_id = std::move(client_id);
        in.text = "[evidence " + row->id + "]";
        in.payload = nlohmann::json{{"evidence", row->id}, {"item", row->item}}.dump();
        in.at_ms = clock_.now_ms();
        e.inbound = std::move(in);
        mark_and_store(std::move(current), std::move(e), k_attempts, std::move(done));
      });
}

void conversation_engine::find_evidence(std::string evidence_id,
                                        store::store::evidence_handler done) {
  store_.load_evidence(std::move(evidence_id), std::move(done));
}

void conversation_engine::mark_and_store(store::conversation current, evidence_step e,
                                         int attempts_left,
                                         std::function<void(evidence_result)> done) {
  auto know = knowledge_.current();
  evidence_result result;
  result.version = know->version;
  const std::int64_t now = clock_.now_ms();
  auto state = state_from_json(current.state);
  store::turn t;
  t.conversation = current.id;
  t.inbound = e.inbound;
  t.evidence = e.rows;
  t.max_evidence = e.max;
  step st;
  if (state) {
    st = on_evidence(*state, *know, {current.shop, current.buyer}, e.item, e.evidence_id,
                     settings_.dialogue, now);
    // Nothing changed (an item the checklist does not have): keep the state and its reminder;
    // the rows are still stored.
    if (!st.messages.empty() || to_json(st.next) != to_json(*state)) {
      result.opened_case = open_case_for(st, t, current, *know, now, settings_.desk);
      t.replies = outbound(current.id, st.messages, st.next, now);
      t.state = update_for(current, st);
      result.conversation = store::updated(current, *t.state);
    } else {
      result.conversation = current;
    }
  } else {
    result.conversation = current;  // unreadable state: store the file, leave the state alone
  }
  result.messages = std::move(st.messages);
  store_.append_turn(std::move(t), [this, result = std::move(result), current = std::move(current),
                                    e = std::move(e), attempts_left, done = std::move(done)](
                                       store::status s, bool duplicate) mutable {
    if (s.conflict && attempts_left > 1) {
      std::string id = current.id;
      store_.load_conversation(std::move(id), 0,
                               [this, e = std::move(e), attempts_left, done = std::move(done)](
                                   store::status ls, std::optional<store::conversation> fresh,
                                   std::vector<store::message>) mutable {
                                 if (!ls.ok || !fresh) {
                                   evidence_result failed;
                                   failed.error = ls.ok ? "conversation disappeared" : ls.error;
                                   return done(std::move(failed));
                                 }
                                 mark_and_store(std::move(*fresh), std::move(e), attempts_left - 1,
                                                std::move(done));
                               });
      return;
    }
    using outcome = evidence_result::outcome;
    if (!s.ok) {
      result.what = s.over_limit ? outcome::over_limit : outcome::failed;
      result.error = std::move(s.error);
    } else {
      result.what = duplicate ? outcome::duplicate : outcome::stored;
    }
    if (result.what != outcome::stored) {
      result.messages.clear();
      result.conversation = std::move(current);
      result.opened_case.reset();
    }
    done(std::move(result));
  });
}

}  // namespace shouhou::bot
