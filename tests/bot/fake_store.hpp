#pragma once
// An in-memory store for unit tests: applies each operation at once, on the caller's thread,
// with the same rules as the real one (idempotent ids of the message causing a turn, state and
// case versions, one pending webhook event at a time per case, agents unique by token hash), and
// can be told to fail. A refused turn writes nothing: every check runs before any change.

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "bot/conversation_engine.hpp"
#include "store/store.hpp"

namespace shouhou::testing {

namespace st = shouhou::store;

class fake_store final : public st::store {
 public:
  bool fail_next = false;  // the next operation fails and writes nothing
  std::map<std::string, st::conversation> conversations;
  std::vector<st::message> messages;
  // Cases by id (so tests can look one up with cases.at(id)); the versions are maintained.
  std::map<std::string, st::case_record> cases;
  // An outbox row: the event plus what became of it.
  struct outbox_row : st::outbox_event {
    std::int64_t delivered_at_ms = 0;  // 0 while not delivered
    std::int64_t given_up_at_ms = 0;   // 0 while not given up
    bool pending() const { return delivered_at_ms == 0 && given_up_at_ms == 0; }
  };
  std::vector<outbox_row> outbox;                  // in seq order; seq is the 1-based position
  std::map<std::string, st::agent_record> agents;  // by name
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
    if (conv == conversations.end())
      return done(st::status::failure("no such conversation"), false);
    if (t.inbound && t.inbound->client_id.empty()) {
      return done(st::status::failure("the turn's message has no client_id"), false);
    }
    if (t.inbound && is_duplicate(t.conversation, t.inbound->client_id)) return done({}, true);
    if (st::status refused = check_turn(t, conv->second); !refused.ok) return done(refused, false);

    if (t.state) conv->second = st::updated(std::move(conv->second), *t.state);
    if (t.inbound) push(std::move(*t.inbound), t.conversation, true);
    for (auto& r : t.replies) push(std::move(r), t.conversation, false);
    for (auto& e : t.evidence) {
      e.conversation = t.conversation;
      evidence.push_back(std::move(e));
    }
    if (t.opened_case) {
      st::case_record c = std::move(*t.opened_case);
      c.conversation = t.conversation;
      if (c.status.empty()) c.status = "open";
      c.version = 0;
      cases[c.id] = std::move(c);
    }
    if (t.case_change) apply_change(*t.case_change);
    for (auto& e : t.events) {
      outbox_row row;
      static_cast<st::outbox_event&>(row) = std::move(e);
      row.seq = static_cast<std::int64_t>(outbox.size()) + 1;
      row.attempts = 0;
      row.last_error.clear();
      outbox.push_back(std::move(row));
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

  void load_case(std::string id, case_handler done) override {
    if (take_failure()) return done(st::status::failure("injected failure"), std::nullopt);
    auto it = cases.find(id);
    if (it == cases.end()) return done({}, std::nullopt);
    done({}, it->second);
  }

  // Like the real store, `shop` and `buyer` filter independently.
  void find_cases(st::case_query q, cases_handler done) override {
    if (take_failure()) return done(st::status::failure("injected failure"), {});
    std::vector<st::case_record> out;
    for (const auto& [id, c] : cases) {
      if (matches(q, c)) out.push_back(c);
    }
    std::sort(out.begin(), out.end(), [](const st::case_record& a, const st::case_record& b) {
      return std::tie(a.created_at_ms, a.id) < std::tie(b.created_at_ms, b.id);
    });
    if (out.size() > q.limit) out.resize(q.limit);
    done({}, out);
  }

  void due_events(std::int64_t now_ms, std::size_t limit, events_handler done) override {
    if (take_failure()) return done(st::status::failure("injected failure"), {});
    std::vector<st::outbox_event> out;
    std::set<std::string> waiting;  // cases with an earlier pending event, due or not
    for (const auto& row : outbox) {
      if (!row.pending()) continue;
      const bool first_of_case = waiting.insert(row.case_id).second;
      if (first_of_case && row.next_attempt_ms <= now_ms && out.size() < limit) {
        out.push_back(row);
      }
    }
    done({}, out);
  }

  void record_attempt(st::event_attempt a, status_handler done) override {
    if (take_failure()) return done(st::status::failure("injected failure"));
    if (a.delivered && a.given_up) return done(st::status::failure("delivered and given up"));
    if (a.seq < 1 || a.seq > static_cast<std::int64_t>(outbox.size())) {
      return done(st::status::failure("no such event"));
    }
    outbox_row& row = outbox[static_cast<std::size_t>(a.seq - 1)];
    if (!row.pending()) return done(st::status::failure("event already delivered or given up"));
    if (a.delivered) {
      row.delivered_at_ms = a.at_ms;
    } else {
      row.attempts += 1;
      row.last_error = a.error;
      if (a.given_up) {
        row.given_up_at_ms = a.at_ms;
      } else {
        row.next_attempt_ms = a.next_attempt_ms;
      }
    }
    done({});
  }

  void put_agent(st::agent_record a, status_handler done) override {
    if (take_failure()) return done(st::status::failure("injected failure"));
    if (a.name.empty() || a.token_sha256.size() != 64) {
      return done(st::status::failure("bad agent record"));
    }
    for (const auto& [name, other] : agents) {
      if (name != a.name && other.token_sha256 == a.token_sha256) {
        return done(st::status::failure("token already used by agent " + name));
      }
    }
    auto [it, added] = agents.try_emplace(a.name, a);
    if (!added) it->second.token_sha256 = a.token_sha256;  // keeps created_at_ms
    done({});
  }

  void revoke_agent(std::string name, std::function<void(st::status, bool)> done) override {
    if (take_failure()) return done(st::status::failure("injected failure"), false);
    done({}, agents.erase(name) != 0);
  }

  void find_agent(std::string token_sha256, agent_handler done) override {
    if (take_failure()) return done(st::status::failure("injected failure"), std::nullopt);
    for (const auto& [name, a] : agents) {
      if (a.token_sha256 == token_sha256) return done({}, a);
    }
    done({}, std::nullopt);
  }

  void list_agents(agents_handler done) override {
    if (take_failure()) return done(st::status::failure("injected failure"), {});
    std::vector<st::agent_record> out;
    for (const auto& [name, a] : agents) out.push_back(a);  // std::map: already by name
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

  // Either side's message ids share one namespace per conversation, as in the real store.
  bool is_duplicate(const std::string& conversation, const std::string& client_id) const {
    return std::any_of(messages.begin(), messages.end(), [&](const st::message& m) {
      return m.conversation == conversation && m.client_id == client_id;
    });
  }

  static bool valid_status(const std::string& s) {
    return s == "open" || s == "claimed" || s == "resolved";
  }

  static st::status conflict(std::string why) {
    st::status s = st::status::failure(std::move(why));
    s.conflict = true;
    return s;
  }

  // Every reason the real store would refuse the turn, checked before anything is written.
  st::status check_turn(const st::turn& t, const st::conversation& conv) const {
    if (!t.evidence.empty() && t.max_evidence != 0) {
      std::size_t held = 0;
      for (const auto& e : evidence) held += e.conversation == t.conversation;
      if (held + t.evidence.size() > t.max_evidence) {
        st::status refused = st::status::failure("too many evidence files");
        refused.over_limit = true;
        return refused;
      }
    }
    if (t.state && t.state->expected_version != conv.state_version) {
      return conflict("state changed");
    }
    if (t.opened_case) {
      const st::case_record& c = *t.opened_case;
      if (c.id.empty()) return st::status::failure("the opened case has no id");
      if (cases.count(c.id)) return st::status::failure("case " + c.id + " exists already");
      if (!c.conversation.empty() && c.conversation != t.conversation) {
        return st::status::failure("the opened case belongs to another conversation");
      }
      if (!c.status.empty() && !valid_status(c.status)) {
        return st::status::failure("bad case status " + c.status);
      }
    }
    if (t.case_change) {
      const st::case_update& u = *t.case_change;
      // A case opened by this very turn can be changed by it too, as in SQL.
      const bool opened_here = t.opened_case && t.opened_case->id == u.id;
      auto it = cases.find(u.id);
      if (!opened_here && it == cases.end()) return st::status::failure("no case " + u.id);
      if (!opened_here && it->second.conversation != t.conversation) {
        return st::status::failure("case " + u.id + " belongs to another conversation");
      }
      const std::int64_t version = opened_here ? 0 : it->second.version;
      if (u.expected_version != version) return conflict("case " + u.id + " changed");
      if (!valid_status(u.status)) return st::status::failure("bad case status " + u.status);
    }
    for (const auto& e : t.events) {
      if (e.case_id.empty()) return st::status::failure("an event names no case");
    }
    return {};
  }

  void apply_change(const st::case_update& u) {
    st::case_record& c = cases.at(u.id);
    c = st::updated(std::move(c), u);
  }

  static bool matches(const st::case_query& q, const st::case_record& c) {
    if (!q.statuses.empty() &&
        std::find(q.statuses.begin(), q.statuses.end(), c.status) == q.statuses.end()) {
      return false;
    }
    if (!q.shop.empty() && c.shop != q.shop) return false;
    if (!q.buyer.empty() && c.buyer != q.buyer) return false;
    if (q.warn_due_by_ms != 0 && !(c.warn_at_ms > 0 && c.warn_at_ms <= q.warn_due_by_ms)) {
      return false;
    }
    return true;
  }

  // The message causing a turn keeps its direction and id; replies never carry an id.
  void push(st::message m, const std::string& conversation, bool caused_turn) {
    m.conversation = conversation;
    if (!caused_turn) m.client_id.clear();
    m.seq = static_cast<std::int64_t>(messages.size()) + 1;
    messages.push_back(std::move(m));
  }
};

// A classification written by hand, so tests pin the policy rather than the intent files.
inline intents::classification said(std::string reason, double confidence = 0.9,
                                    std::vector<std::string> flags = {},
                                    std::vector<intents::entity> entities = {}) {
  intents::classification c;
  c.reason = std::move(reason);
  c.confidence = confidence;
  c.flags = std::move(flags);
  c.entities = std::move(entities);
  return c;
}

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
