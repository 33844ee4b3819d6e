#pragma once
// An in-memory store for unit tests: applies each operation at once, on the caller's thread,
// and can be told to fail.

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
    if (take_failure()) return done(st::status::failure("injected failure"), false);
    if (!conversations.count(t.inbound.conversation)) {
      return done(st::status::failure("no such conversation"), false);
    }
    for (const auto& m : messages) {
      if (m.conversation == t.inbound.conversation && m.client_id == t.inbound.client_id &&
          m.dir == st::direction::inbound) {
        return done({}, true);
      }
    }
    push(std::move(t.inbound));
    for (auto& r : t.replies) push(std::move(r));
    done({}, false);
  }

 private:
  bool take_failure() {
    bool f = fail_next;
    fail_next = false;
    return f;
  }
  void push(st::message m) {
    m.seq = static_cast<std::int64_t>(messages.size()) + 1;
    messages.push_back(std::move(m));
  }
};

class fixed_clock final : public bot::clock {
 public:
  std::int64_t now = 1'700'000'000'000;
  std::int64_t now_ms() const override { return now; }
};

}  // namespace shouhou::testing
