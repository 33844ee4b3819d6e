#include "bot/case_desk.hpp"

#include <algorithm>
#include <limits>

namespace shouhou::bot {
namespace {

using json = nlohmann::json;
using outcome = desk_result::outcome;

constexpr int k_attempts = 3;
constexpr std::size_t k_view_history = 1000;  // transcript lines an agent sees

desk_result refused(outcome what, std::string why) {
  desk_result r;
  r.what = what;
  r.error = std::move(why);
  return r;
}

// An agent may act on a case that is open or theirs; resolved cases are closed to everyone.
std::optional<desk_result> not_theirs(const store::case_record& c, const std::string& agent,
                                      bool open_is_fine) {
  if (c.status == "resolved") return refused(outcome::taken, "case " + c.id + " is resolved");
  if (c.status == "claimed" && c.agent != agent) {
    return refused(outcome::taken, "case " + c.id + " is claimed by " + c.agent);
  }
  if (c.status == "open" && !open_is_fine) {
    return refused(outcome::taken, "case " + c.id + " is not claimed; claim it first");
  }
  return std::nullopt;
}

store::case_update update_of(const store::case_record& c, std::int64_t now) {
  return {c.id, c.version, c.status, c.agent, now, c.warn_at_ms, c.outcome};
}

store::state_update state_of(const store::conversation& conv, const conversation_state& s,
                             std::int64_t remind_at_ms) {
  return {conv.state_version, to_json(s), std::string(to_string(s.phase)), remind_at_ms};
}

}  // namespace

// One agent action: `decide` looks at fresh reads and fills the turn to store and the result to
// answer with; it returns a refusal instead when the action cannot be done.
struct case_desk::action {
  std::string case_id;
  std::string agent;
  std::function<std::optional<desk_result>(const store::case_record&, const store::conversation&,
                                           conversation_state&, const knowledge&, std::int64_t,
                                           store::turn&, desk_result&)>
      decide;
};

case_desk::case_desk(store::store& store, const knowledge_base& knowledge, const clock& clock,
                     desk_settings settings)
    : store_(store), knowledge_(knowledge), clock_(clock), settings_(settings) {}

void case_desk::run(std::shared_ptr<const action> a, int attempts_left, result_handler done) {
  store_.load_case(a->case_id, [this, a, attempts_left, done = std::move(done)](
                                   store::status s, std::optional<store::case_record> c) mutable {
    if (!s.ok) return done(refused(outcome::failed, s.error));
    if (!c) return done(refused(outcome::not_found, "no case " + a->case_id));
    std::string conversation_id = c->conversation;
    store_.load_conversation(
        std::move(conversation_id), 0,
        [this, a, attempts_left, c = std::move(*c), done = std::move(done)](
            store::status ls, std::optional<store::conversation> conv,
            std::vector<store::message>) mutable {
          if (!ls.ok) return done(refused(outcome::failed, ls.error));
          if (!conv) return done(refused(outcome::failed, "the case's conversation is gone"));
          auto state = state_from_json(conv->state);
          if (!state) {
            return done(refused(outcome::failed,
                                "conversation " + conv->id + " has a state that cannot be read"));
          }
          auto know = knowledge_.current();
          const std::int64_t now = clock_.now_ms();
          store::turn t;
          t.conversation = conv->id;
          desk_result result;
          result.what = outcome::ok;
          result.record = c;
          if (auto no = a->decide(c, *conv, *state, *know, now, t, result))
            return done(std::move(*no));
          if (!t.case_change && !t.state && !t.inbound) return done(std::move(result));
          store_.append_turn(std::move(t),
                             [this, a, attempts_left, result = std::move(result),
                              done = std::move(done)](store::status ws, bool duplicate) mutable {
                               if (ws.conflict && attempts_left > 1)
                                 return run(a, attempts_left - 1, std::move(done));
                               if (!ws.ok) return done(refused(outcome::failed, ws.error));
                               if (duplicate) {
                                 desk_result same;
                                 same.what = outcome::ok;
                                 same.duplicate = true;
                                 return done(std::move(same));
                               }
                               done(std::move(result));
                             });
        });
  });
}

void case_desk::claim(std::string case_id, std::string agent, result_handler done) {
  auto a = std::make_shared<action>();
  a->case_id = std::move(case_id);
  a->agent = std::move(agent);
  a->decide = [this, agent = a->agent](const store::case_record& c, const store::conversation& conv,
                                       conversation_state& s, const knowledge& know,
                                       std::int64_t now, store::turn& t,
                                       desk_result& r) -> std::optional<desk_result> {
    if (auto no = not_theirs(c, agent, true)) return no;
    if (c.status == "claimed") return std::nullopt;  // theirs already: nothing to do
    store::case_update u = update_of(c, now);
    u.status = "claimed";
    u.agent = agent;
    if (s.case_id == c.id && s.phase == phase::handed_off) {
      s.phase = phase::with_agent;
      t.state = state_of(conv, s, 0);
    }
    r.record = store::updated(c, u);
    t.case_change = std::move(u);
    r.events.push_back({"case.claimed", *r.record, {{"agent", agent}}});
    if (settings_.webhook)
      t.events.push_back(webhook_event("case.claimed", *r.record, know, now, settings_));
    return std::nullopt;
  };
  run(std::move(a), k_attempts, std::move(done));
}

void case_desk::release(std::string case_id, std::string agent, result_handler done) {
  auto a = std::make_shared<action>();
  a->case_id = std::move(case_id);
  a->agent = std::move(agent);
  a->decide = [agent = a->agent](const store::case_record& c, const store::conversation& conv,
                                 conversation_state& s, const knowledge&, std::int64_t now,
                                 store::turn& t, desk_result& r) -> std::optional<desk_result> {
    if (auto no = not_theirs(c, agent, false)) return no;
    store::case_update u = update_of(c, now);
    u.status = "open";
    u.agent.clear();
    if (s.case_id == c.id && s.phase == phase::with_agent) {
      s.phase = phase::handed_off;
      t.state = state_of(conv, s, 0);
    }
    r.record = store::updated(c, u);
    t.case_change = std::move(u);
    r.events.push_back({"case.released", *r.record, {{"agent", agent}}});
    return std::nullopt;
  };
  run(std::move(a), k_attempts, std::move(done));
}

void case_desk::transfer(std::string case_id, std::string agent, std::string to,
                         result_handler done) {
  if (to == agent)
    return done(refused(outcome::invalid, "a case cannot be transferred to yourself"));
  store_.list_agents(
      [this, case_id = std::move(case_id), agent = std::move(agent), to = std::move(to),
       done = std::move(done)](store::status ls, std::vector<store::agent_record> agents) mutable {
        if (!ls.ok) return done(refused(outcome::failed, ls.error));
        if (std::none_of(agents.begin(), agents.end(),
                         [&](const store::agent_record& r) { return r.name == to; })) {
          return done(refused(outcome::invalid, "no agent named '" + to + "'"));
        }
        auto a = std::make_shared<action>();
        a->case_id = std::move(case_id);
        a->agent = std::move(agent);
        a->decide = [agent = a->agent, to](const store::case_record& c,
                                           const store::conversation& conv, conversation_state& s,
                                           const knowledge&, std::int64_t now, store::turn& t,
                                           desk_result& r) -> std::optional<desk_result> {
          if (auto no = not_theirs(c, agent, false)) return no;
          store::case_update u = update_of(c, now);
          u.agent = to;
          if (s.case_id == c.id && s.phase == phase::handed_off) {
            s.phase = phase::with_agent;
            t.state = state_of(conv, s, 0);
          }
          r.record = store::updated(c, u);
          t.case_change = std::move(u);
          r.events.push_back({"case.transferred", *r.record, {{"from", agent}, {"to", to}}});
          return std::nullopt;
        };
        run(std::move(a), k_attempts, std::move(done));
      });
}

void case_desk::send(std::string case_id, std::string agent, std::string client_id,
                     std::string text, result_handler done) {
  if (text.empty()) return done(refused(outcome::invalid, "the message has no text"));
  if (client_id.empty()) return done(refused(outcome::invalid, "the message has no id"));
  auto a = std::make_shared<action>();
  a->case_id = std::move(case_id);
  a->agent = std::move(agent);
  a->decide = [agent = a->agent, client_id = std::move(client_id), text = std::move(text)](
                  const store::case_record& c, const store::conversation& conv,
                  conversation_state& s, const knowledge& know, std::int64_t now, store::turn& t,
                  desk_result& r) -> std::optional<desk_result> {
    if (auto no = not_theirs(c, agent, false)) return no;
    store::message m;
    m.conversation = conv.id;
    m.dir = store::direction::outbound;
    // Agents' ids live in the conversation's id space with the buyer's: keep them apart.
    m.client_id = "agent:" + agent + ":" + client_id;
    m.text = text;
    m.reason = s.reason;
    m.payload = json{{"kind", "agent"}, {"agent", agent}}.dump();
    m.at_ms = now;
    t.inbound = std::move(m);
    store::case_update u = update_of(c, now);
    r.record = store::updated(c, u);
    t.case_change = std::move(u);
    r.to_buyer = unprompted{conv, {bot_message{"agent", text, {}, {}}}, know.version, std::nullopt};
    return std::nullopt;
  };
  run(std::move(a), k_attempts, std::move(done));
}

void case_desk::request_evidence(std::string case_id, std::string agent,
                                 std::vector<requested_item> items, std::string note,
                                 result_handler done) {
  for (const auto& i : items) {
    static constexpr std::string_view k_types[] = {"photo", "video", "order_no", "waybill_no",
                                                   "text"};
    if (i.item.empty() && (i.label.empty() || std::find(std::begin(k_types), std::end(k_types),
                                                        i.type) == std::end(k_types))) {
      return done(refused(outcome::invalid,
                          "each item needs an existing 'item' id, or a 'type' (photo, video, "
                          "order_no, waybill_no, text) and a 'label'"));
    }
  }
  auto a = std::make_shared<action>();
  a->case_id = std::move(case_id);
  a->agent = std::move(agent);
  a->decide = [agent = a->agent, items = std::move(items), note = std::move(note)](
                  const store::case_record& c, const store::conversation& conv,
                  conversation_state& s, const knowledge& know, std::int64_t now, store::turn& t,
                  desk_result& r) -> std::optional<desk_result> {
    if (auto no = not_theirs(c, agent, false)) return no;
    for (const auto& i : items) {
      if (!i.item.empty() &&
          std::none_of(s.checklist.begin(), s.checklist.end(),
                       [&](const checklist_item& x) { return x.id == i.item; })) {
        return refused(outcome::invalid, "the checklist has no item '" + i.item + "'");
      }
    }
    step st = on_agent_request(s, know, {conv.shop, conv.buyer}, items, note);
    if (st.messages.front().requests.empty()) {
      return refused(outcome::invalid, "nothing is missing; name the items to ask for");
    }
    for (const auto& m : st.messages) {
      store::message out;
      out.conversation = conv.id;
      out.dir = store::direction::outbound;
      out.text = m.text;
      out.reason = st.next.reason;
      out.payload = message_payload(m);
      out.at_ms = now;
      t.replies.push_back(std::move(out));
    }
    t.state = state_of(conv, st.next, 0);
    store::case_update u = update_of(c, now);
    r.record = store::updated(c, u);
    t.case_change = std::move(u);
    r.to_buyer = unprompted{store::updated(conv, *t.state), std::move(st.messages),
                            know.version, std::nullopt};
    return std::nullopt;
  };
  run(std::move(a), k_attempts, std::move(done));
}

void case_desk::resolve(std::string case_id, std::string agent, case_outcome o,
                        result_handler done) {
  if (std::string why = check_outcome(o); !why.empty()) {
    return done(refused(outcome::invalid, std::move(why)));
  }
  auto a = std::make_shared<action>();
  a->case_id = std::move(case_id);
  a->agent = std::move(agent);
  a->decide = [this, agent = a->agent, o = std::move(o)](
                  const store::case_record& c, const store::conversation& conv,
                  conversation_state& s, const knowledge& know, std::int64_t now, store::turn& t,
                  desk_result& r) -> std::optional<desk_result> {
    if (auto no = not_theirs(c, agent, true)) return no;
    store::case_update u = update_of(c, now);
    u.status = "resolved";
    u.agent = agent;
    u.warn_at_ms = 0;
    u.outcome = to_json(o, agent, now).dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.case_id == c.id) {
      s.phase = phase::resolved;
      t.state = state_of(conv, s, 0);
    }
    r.record = store::updated(c, u);
    t.case_change = std::move(u);
    r.events.push_back({"case.resolved", *r.record, {{"agent", agent}}});
    if (settings_.webhook)
      t.events.push_back(webhook_event("case.resolved", *r.record, know, now, settings_));
    return std::nullopt;
  };
  run(std::move(a), k_attempts, std::move(done));
}

void case_desk::queue(std::vector<std::string> statuses, std::string priority, std::size_t limit,
                      std::function<void(desk_result, json)> done) {
  store::case_query q;
  q.statuses = statuses.empty() ? std::vector<std::string>{"open", "claimed"} : std::move(statuses);
  // Every match: the most urgent may be the newest.
  q.limit = std::numeric_limits<std::size_t>::max();
  store_.find_cases(std::move(q),
                    [this, priority = std::move(priority), limit, done = std::move(done)](
                        store::status s, std::vector<store::case_record> cases) mutable {
                      if (!s.ok) return done(refused(outcome::failed, s.error), json::array());
                      const std::int64_t now = clock_.now_ms();
                      auto know = knowledge_.current();
                      sort_queue(cases, now, settings_);
                      desk_result ok;
                      ok.what = outcome::ok;
                      json out = json::array();
                      for (const auto& c : cases) {
                        if (!priority.empty() && priority_of(c, now, settings_).level != priority)
                          continue;
                        if (++ok.total <= limit)
                          out.push_back(case_summary(c, *know, now, settings_));
                      }
                      done(std::move(ok), std::move(out));
                    });
}

void case_desk::view(std::string case_id, std::function<void(desk_result, json)> done) {
  auto fail = [](store::status s) { return refused(outcome::failed, std::move(s.error)); };
  store_.load_case(std::move(case_id), [this, fail, done = std::move(done)](
                                           store::status s,
                                           std::optional<store::case_record> c) mutable {
    if (!s.ok) return done(fail(std::move(s)), nullptr);
    if (!c) return done(refused(outcome::not_found, "no such case"), nullptr);
    std::string conversation_id = c->conversation;
    store_.load_conversation(
        std::move(conversation_id), k_view_history,
        [this, fail, c = std::move(*c), done = std::move(done)](
            store::status ls, std::optional<store::conversation> conv,
            std::vector<store::message> history) mutable {
          if (!ls.ok) return done(fail(std::move(ls)), nullptr);
          std::optional<conversation_state> state;
          if (conv) state = state_from_json(conv->state);
          std::string same_conversation = c.conversation;
          store_.list_evidence(
              std::move(same_conversation),
              [this, fail, c = std::move(c), state = std::move(state), history = std::move(history),
               done = std::move(done)](store::status es,
                                       std::vector<store::evidence_record> evidence) mutable {
                if (!es.ok) return done(fail(std::move(es)), nullptr);
                store::case_query q;
                q.shop = c.shop;
                q.buyer = c.buyer;
                store_.find_cases(
                    std::move(q),
                    [this, fail, c = std::move(c), state = std::move(state),
                     history = std::move(history), evidence = std::move(evidence),
                     done = std::move(done)](store::status fs,
                                             std::vector<store::case_record> earlier) mutable {
                      if (!fs.ok) return done(fail(std::move(fs)), nullptr);
                      auto know = knowledge_.current();
                      case_sources src{c, state ? &*state : nullptr, history, evidence, earlier};
                      desk_result ok;
                      ok.what = outcome::ok;
                      ok.record = c;
                      done(std::move(ok), case_view(src, *know, clock_.now_ms(), settings_));
                    });
              });
        });
  });
}

void case_desk::buyer_activity(store::conversation after, std::string type, json data,
                               std::function<void(std::vector<desk_event>)> done) {
  auto state = state_from_json(after.state);
  if (!state || state->case_id.empty() ||
      (state->phase != phase::handed_off && state->phase != phase::with_agent)) {
    return done({});
  }
  store_.load_case(state->case_id,
                   [type = std::move(type), data = std::move(data), done = std::move(done)](
                       store::status s, std::optional<store::case_record> c) mutable {
                     if (!s.ok || !c) return done({});
                     done({desk_event{std::move(type), std::move(*c), std::move(data)}});
                   });
}

void case_desk::warn_deadlines(std::function<void(std::vector<desk_event>)> done) {
  const std::int64_t now = clock_.now_ms();
  store::case_query q;
  q.statuses = {"open", "claimed"};
  q.warn_due_by_ms = now;
  q.limit = 100;
  store_.find_cases(
      std::move(q), [this, now, done = std::move(done)](
                        store::status s, std::vector<store::case_record> due) mutable {
        if (!s.ok || due.empty()) return done({});
        auto events = std::make_shared<std::vector<desk_event>>();
        auto remaining = std::make_shared<std::size_t>(due.size());
        auto shared_done =
            std::make_shared<std::function<void(std::vector<desk_event>)>>(std::move(done));
        for (auto& c : due) {
          std::int64_t next = 0;
          json deadlines = deadlines_to_warn(c, now, settings_, next);
          store::case_update u = update_of(c, c.updated_at_ms);
          u.warn_at_ms = next;
          store::turn t;
          t.conversation = c.conversation;
          desk_event e{"case.deadline", store::updated(c, u),
                       {{"deadlines", std::move(deadlines)}}};
          t.case_change = std::move(u);
          store_.append_turn(std::move(t), [events, remaining, shared_done, e = std::move(e)](
                                               store::status ws, bool) mutable {
            // A conflict means an agent changed the case meanwhile: the next scan sees it again.
            if (ws.ok && !e.data["deadlines"].empty()) events->push_back(std::move(e));
            if (--*remaining == 0) (*shared_done)(std::move(*events));
          });
        }
      });
}

}  // namespace shouhou::bot
