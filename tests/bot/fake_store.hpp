#pragma once
// An in-memory store for unit tests: applies each operation at once, on the caller's thread,
// with the same rules as the real one (idempotent inbound ids, state versions), and can be told
// to fail.

#include <algorithm>
#include <map>

#include "bot/conversation_engine.hpp"
#include "store/store.hpp"

namespace shouhou::testing {

namespace st = shouhou::store;

class fake_store final : public st::store {
 public:
  bool fail_next = false;  // the next operation fails and writes nothing
  std::map<std::string, st::conversation> conversations;
  std::vector<st::message> messages;
  std::vector<st::handoff_record> handoffs;
  std::vector<st::evidence_record> evidence;
  // Run before an append is applied, e.g. to write the conversation "from another instance".
  std::function<void()> before_append;

  void create_conversation(st::conversation c, status_handler done) override {
    if (take_failure()) return done(st::status::failure("injected failure"));
    if (conversations.count(c.id)) return done(st::status::failure("exists"));
    conversations[c.id] = c;
    done({});
  }

  void load_conversation(std::string id, std::size_t limit, load_handler done) override {
    if (take_failure()) return done(st::status::failure("injected failure"), {}, {});
    auto it = conversations.find(id);
    if (it == conversations.end()) return done({}, std::nullopt, {});
    std::vector<st::message> history;
    for (const auto& m : messages) {
      if (m.conversation == id) history.push_back(m);
    }
    if (history.size() > limit) history.erase(history.begin(), history.end() - limit);
    done({}, it->second, history);
  }

  void append_turn(st::turn t, turn_handler done) override {
    if (auto hook = std::exchange(before_append, nullptr)) hook();
    if (take_failure()) return done(st::status::failure("injected failure"), false);
    auto conv = conversations.find(t.conversation);
    if (conv == conversations.end()) return done(st::status::failure("no such conversation"), false);
    if (t.inbound) {
      for (const auto& m : messages) {
        if (m.conversation == t.conversation && m.client_id == t.inbound->client_id &&
            m.dir == st::direction::inbound) {
          return done({}, true);
        }
      }
    }
    if (!t.evidence.empty() && t.max_evidence != 0) {
      std::size_t held = 0;
      for (const auto& e : evidence) held += e.conversation == t.conversation;
      if (held + t.evidence.size() > t.max_evidence) {
        st::status refused = st::status::failure("too many evidence files");
        refused.over_limit = true;
        return done(refused, false);
      }
    }
    if (t.state) {
      if (t.state->expected_version != conv->second.state_version) {
        st::status conflict = st::status::failure("state changed");
        conflict.conflict = true;
        return done(conflict, false);
      }
      conv->second.state = t.state->state;
      conv->second.phase = t.state->phase;
      conv->second.remind_at_ms = t.state->remind_at_ms;
      conv->second.state_version += 1;
    }
    if (t.inbound) push(std::move(*t.inbound), t.conversation);
    for (auto& r : t.replies) push(std::move(r), t.conversation);
    if (t.handoff) handoffs.push_back(*t.handoff);
    for (auto& e : t.evidence) {
      e.conversation = t.conversation;
      evidence.push_back(std::move(e));
    }
    done({}, false);
  }

  void due_reminders(std::int64_t now_ms, std::size_t limit, conversations_handler done) override {
    std::vector<st::conversation> due;
    for (const auto& [id, c] : conversations) {
      if (c.remind_at_ms && c.remind_at_ms <= now_ms && due.size() < limit) due.push_back(c);
    }
    done({}, due);
  }

  void load_evidence(std::string id, evidence_handler done) override {
    if (take_failure()) return done(st::status::failure("injected failure"), std::nullopt);
    for (const auto& e : evidence) {
      if (e.id == id) return done({}, e);
    }
    done({}, std::nullopt);
  }

  void list_evidence(std::string conversation, evidence_list_handler done) override {
    if (take_failure()) return done(st::status::failure("injected failure"), {});
    std::vector<st::evidence_record> out;
    for (const auto& e : evidence) {
      if (e.conversation == conversation) out.push_back(e);
    }
    done({}, out);
  }

  std::vector<st::message> outbound_of(const std::string& id) const {
    std::vector<st::message> out;
    for (const auto& m : messages) {
      if (m.conversation == id && m.dir == st::direction::outbound) out.push_back(m);
    }
    return out;
  }

 private:
  bool take_failure() { return std::exchange(fail_next, false); }
  void push(st::message m, const std::string& conversation) {
    m.conversation = conversation;
    m.seq = static_cast<std::int64_t>(messages.size()) + 1;
    messages.push_back(std::move(m));
  }
};

class fixed_clock final : public bot::clock {
 public:
  std::int64_t now = 1'700'000'000'000;
  std::int64_t now_ms() const override { return now; }
};

// The shipped intent, reply and policy files.
inline std::shared_ptr<const bot::knowledge> shipped_knowledge() {
  auto loaded = bot::load_knowledge(
      {SHOUHOU_SHIPPED_INTENTS, SHOUHOU_SHIPPED_REPLIES, SHOUHOU_SHIPPED_POLICY}, {});
  if (!loaded.snapshot) throw std::runtime_error(intents::to_string(loaded.errors));
  return loaded.snapshot;
}

}  // namespace shouhou::testing
