#include "bot/case_file.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace shouhou::bot {
namespace {

using json = nlohmann::json;

constexpr std::int64_t k_hour_ms = 3'600'000;
// Past this, a case nobody has claimed is high priority whatever else it is.
constexpr std::int64_t k_long_wait_ms = k_hour_ms;
// A deadline closer than this makes a case high priority.
constexpr std::int64_t k_deadline_soon_ms = 24 * k_hour_ms;
// Characters of the buyer's words in the one-line summary.
constexpr std::size_t k_summary_words = 40;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The first `n` code points of valid UTF-8 text, with an ellipsis when cut.
std::string first_chars(std::string_view text, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t count = 0; i < text.size(); ++count) {
    if (count == n) return std::string(text.substr(0, i)) + "…";
    const auto lead = static_cast<unsigned char>(text[i]);
    i += lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  }
  return std::string(text);
}

json parse_details(const store::case_record& c) {
  json j = json::parse(c.details, nullptr, false);
  return j.is_object() ? j : json::object();
}

std::vector<std::string> strings(const json& j, std::string_view key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string duration_text(std::int64_t ms) {
  const std::int64_t minutes = std::max<std::int64_t>(ms, 0) / 60'000;
  if (minutes < 120) return std::to_string(minutes) + " min";
  return std::to_string(minutes / 60) + " h";
}

json checklist_json(const std::vector<checklist_item>& items) {
  json out = json::array();
  for (const auto& i : items) {
    out.push_back({{"item", i.id},
                   {"type", i.type},
                   {"label", i.label},
                   {"done", i.done},
                   {"value", i.value}});
  }
  return out;
}

json missing_json(const std::vector<checklist_item>& items) {
  json out = json::array();
  for (const auto& i : items) {
    if (!i.done) out.push_back({{"item", i.id}, {"type", i.type}, {"label", i.label}});
  }
  return out;
}

// The deadlines that run for a reason from `since`: DESIGN §3's merchant response (whatever the
// reason) and the reason's own deadline, each once.
json deadlines_for(const std::string& reason, std::int64_t since, const knowledge& know) {
  json out = json::array();
  for (const std::string& id :
       {std::string("merchant_response"), know.policy->rules(reason).deadline}) {
    const auto* d = know.policy->find_deadline(id);
    if (!d || std::any_of(out.begin(), out.end(), [&](const json& j) { return j["id"] == id; })) {
      continue;
    }
    out.push_back(
        {{"id", d->id}, {"label", d->label}, {"due_at_ms", know.policy->due_at(*d, since)}});
  }
  return out;
}

std::string summary_line(const conversation_state& s, const knowledge& know) {
  std::string line = know.replies->title(s.reason.empty() ? "other" : s.reason);
  if (!s.reason_words.empty()) line += "：“" + first_chars(s.reason_words, k_summary_words) + "”";
  if (auto it = s.entities.find("order_no"); it != s.entities.end()) line += "；订单 " + it->second;
  std::string missing;
  for (const auto* item : s.missing()) missing += (missing.empty() ? "" : "、") + item->label;
  line += missing.empty() ? "；材料已齐" : "；还缺 " + missing;
  return line;
}

std::string order_of(const conversation_state& s) {
  auto it = s.entities.find("order_no");
  return it == s.entities.end() ? std::string() : it->second;
}

std::string from_of(const store::message& m, std::string& agent) {
  if (m.dir == store::direction::inbound) return "buyer";
  json payload = json::parse(m.payload, nullptr, false);
  if (payload.is_object() && payload.value("kind", "") == "agent") {
    agent = payload.value("agent", "");
    return "agent";
  }
  return "bot";
}

}  // namespace

std::string new_case_id() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // see new_conversation_id
  static constexpr char digits[] = "0123456789abcdef";
  std::string id = "c";
  for (unsigned char b : bytes) {
    id.push_back(digits[b >> 4]);
    id.push_back(digits[b & 0xf]);
  }
  return id;
}

// What fired for the current reason, for the agent. Not kept in the state (it is long, and every
// turn would write it again): explained here, once, from the buyer's words that set the reason,
// unless the state says how else it was set (a quick reply).
std::vector<std::string> fired_for(const conversation_state& s, const knowledge& know) {
  if (!s.fired.empty() || s.reason_words.empty()) return s.fired;
  return know.intents->classify(s.reason_words, true).explanation;
}

store::case_record open_case(const store::conversation& conversation, const conversation_state& s,
                             const knowledge& know, std::string case_id, std::int64_t now_ms,
                             const desk_settings& settings) {
  store::case_record c;
  c.id = std::move(case_id);
  c.conversation = conversation.id;
  c.shop = conversation.shop;
  c.buyer = conversation.buyer;
  c.order = order_of(s);
  c.reason = s.reason.empty() ? "other" : s.reason;
  c.status = "open";
  c.created_at_ms = now_ms;
  c.updated_at_ms = now_ms;

  json deadlines = deadlines_for(c.reason, s.reason_since_ms ? s.reason_since_ms : now_ms, know);
  for (const auto& d : deadlines) {
    const std::int64_t due = d["due_at_ms"].get<std::int64_t>();
    if (c.due_at_ms == 0 || due < c.due_at_ms) c.due_at_ms = due;
  }
  if (c.due_at_ms)
    c.warn_at_ms = std::max<std::int64_t>(c.due_at_ms - settings.warning_lead.count(), 1);

  json details = {{"trigger", s.handoff_trigger},
                  {"confidence", s.confidence},
                  {"runner_up", s.runner_up},
                  {"flags", s.flags},
                  {"fired", fired_for(s, know)},
                  {"summary", summary_line(s, know)},
                  {"buyer_words", s.reason_words},
                  {"entities", s.entities},
                  {"checklist", checklist_json(s.checklist)},
                  {"deadlines", std::move(deadlines)},
                  {"resolutions", know.policy->rules(c.reason).resolutions},
                  {"knowledge_version", know.version},
                  {"handed_off_at_ms", now_ms}};
  c.details = dump(details);
  return c;
}

case_priority priority_of(const store::case_record& c, std::int64_t now_ms,
                          const desk_settings& settings) {
  case_priority p;
  auto raise = [&](int rank, std::string why) {
    p.rank = std::min(p.rank, rank);
    p.why.push_back(std::move(why));
  };
  const json details = parse_details(c);
  const auto flags = strings(details, "flags");
  if (contains(flags, "escalation")) raise(0, "flag escalation");
  if (c.reason == "counterfeit") raise(0, "reason counterfeit");
  if (contains(flags, "angry")) raise(1, "flag angry");
  if (contains(flags, "risk")) raise(1, "flag risk");
  if (c.status != "resolved" && c.due_at_ms) {
    const std::int64_t left = c.due_at_ms - now_ms;
    if (left <= 0) {
      raise(0, "deadline passed");
    } else if (left <= settings.warning_lead.count()) {
      raise(0, "deadline in " + duration_text(left));
    } else if (left <= k_deadline_soon_ms) {
      raise(1, "deadline in " + duration_text(left));
    }
  }
  if (c.status == "open" && now_ms - c.created_at_ms > k_long_wait_ms) {
    raise(1, "waiting " + duration_text(now_ms - c.created_at_ms));
  }
  static constexpr const char* k_levels[] = {"urgent", "high", "normal"};
  p.level = k_levels[p.rank];
  return p;
}

void sort_queue(std::vector<store::case_record>& cases, std::int64_t now_ms,
                const desk_settings& settings) {
  struct keyed {
    int rank;
    std::int64_t due;
    store::case_record* c;
  };
  std::vector<keyed> keys;
  for (auto& c : cases) {
    keys.push_back({priority_of(c, now_ms, settings).rank,
                    c.due_at_ms ? c.due_at_ms : std::numeric_limits<std::int64_t>::max(), &c});
  }
  std::stable_sort(keys.begin(), keys.end(), [](const keyed& a, const keyed& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.due != b.due) return a.due < b.due;
    return a.c->created_at_ms < b.c->created_at_ms;
  });
  std::vector<store::case_record> sorted;
  sorted.reserve(cases.size());
  for (auto& k : keys) sorted.push_back(std::move(*k.c));
  cases = std::move(sorted);
}

json case_summary(const store::case_record& c, const knowledge& know, std::int64_t now_ms,
                  const desk_settings& settings) {
  const json details = parse_details(c);
  const case_priority p = priority_of(c, now_ms, settings);
  json outcome = json::parse(c.outcome, nullptr, false);
  return {{"id", c.id},
          {"conversation", c.conversation},
          {"shop", c.shop},
          {"buyer", c.buyer},
          {"order", c.order},
          {"reason", c.reason},
          {"reason_title", know.replies->title(c.reason)},
          {"confidence", details.value("confidence", 0.0)},
          {"flags", strings(details, "flags")},
          {"summary", details.value("summary", "")},
          {"status", c.status},
          {"agent", c.agent},
          {"priority", p.level},
          {"priority_why", p.why},
          {"created_at_ms", c.created_at_ms},
          {"updated_at_ms", c.updated_at_ms},
          {"waiting_ms", c.status == "resolved" ? 0 : now_ms - c.created_at_ms},
          {"due_at_ms", c.due_at_ms},
          {"due_at", c.due_at_ms ? know.policy->format_time(c.due_at_ms) : ""},
          {"outcome", outcome.is_object() ? outcome : json(nullptr)},
          {"version", c.version}};
}

json case_view(const case_sources& src, const knowledge& know, std::int64_t now_ms,
               const desk_settings& settings) {
  const store::case_record& c = src.record;
  const json details = parse_details(c);
  json view = case_summary(c, know, now_ms, settings);
  view["trigger"] = details.value("trigger", "");
  view["runner_up"] = details.value("runner_up", "");
  view["fired"] = strings(details, "fired");
  view["buyer_words"] = details.value("buyer_words", "");
  view["entities"] = details.value("entities", json::object());
  view["handed_off_at_ms"] = details.value("handed_off_at_ms", c.created_at_ms);
  view["knowledge_version"] = details.value("knowledge_version", "");
  // The checklist as it is now: the buyer may have sent more since the handoff, and the agent
  // may have asked for more.
  if (src.state) {
    view["checklist"] = checklist_json(src.state->checklist);
    view["missing"] = missing_json(src.state->checklist);
  } else {
    view["checklist"] = details.value("checklist", json::array());
    json missing = json::array();
    for (const auto& i : view["checklist"]) {
      // The same shape as missing_json's, whichever branch an agent gets.
      if (!i.value("done", false)) {
        missing.push_back({{"item", i.value("item", "")},
                           {"type", i.value("type", "")},
                           {"label", i.value("label", "")}});
      }
    }
    view["missing"] = std::move(missing);
  }
  json deadlines = json::array();
  for (const auto& d : details.value("deadlines", json::array())) {
    const std::int64_t due = d.value("due_at_ms", std::int64_t{0});
    deadlines.push_back({{"id", d.value("id", "")},
                         {"label", d.value("label", "")},
                         {"due_at_ms", due},
                         {"due_at", know.policy->format_time(due)},
                         {"passed", due <= now_ms}});
  }
  view["deadlines"] = std::move(deadlines);
  view["resolutions"] = details.value("resolutions", json::array());

  json transcript = json::array();
  for (const auto& m : src.transcript) {
    std::string agent;
    json line = {{"seq", m.seq}, {"from", from_of(m, agent)}, {"text", m.text}, {"at_ms", m.at_ms}};
    if (!agent.empty()) line["agent"] = agent;
    if (m.dir == store::direction::inbound && !m.reason.empty()) {
      line["reason"] = m.reason;
      line["confidence"] = m.confidence;
    }
    transcript.push_back(std::move(line));
  }
  view["transcript"] = std::move(transcript);

  json evidence = json::array();
  for (const auto& e : src.evidence) {
    evidence.push_back({{"id", e.id},
                        {"item", e.item},
                        {"kind", e.kind},
                        {"mime", e.mime},
                        {"size", e.size},
                        {"sha256", e.sha256},
                        {"name", e.original_name},
                        {"at_ms", e.at_ms},
                        {"link", "/v1/evidence/" + e.id}});
  }
  view["evidence"] = std::move(evidence);

  json earlier = json::array();
  for (const auto& e : src.earlier) {
    if (e.id == c.id || e.created_at_ms > c.created_at_ms) continue;
    json outcome = json::parse(e.outcome, nullptr, false);
    earlier.push_back({{"id", e.id},
                       {"reason", e.reason},
                       {"status", e.status},
                       {"outcome", outcome.is_object() ? outcome.value("kind", "") : ""},
                       {"created_at_ms", e.created_at_ms}});
  }
  // Several claims from one buyer with one shop is the repeat-claim signal of DESIGN §2's `risk`.
  view["repeat_claims"] = earlier.size();
  view["earlier_cases"] = std::move(earlier);
  return view;
}

store::outbox_event webhook_event(std::string_view type, const store::case_record& c,
                                  const knowledge& know, std::int64_t now_ms,
                                  const desk_settings& settings) {
  store::outbox_event e;
  e.case_id = c.id;
  e.type = std::string(type);
  e.created_at_ms = now_ms;
  e.body = dump({{"id", c.id + ":" + std::to_string(c.version)},
                 {"type", e.type},
                 {"at_ms", now_ms},
                 {"case", case_summary(c, know, now_ms, settings)}});
  return e;
}

json deadlines_to_warn(const store::case_record& c, std::int64_t now_ms,
                       const desk_settings& settings, std::int64_t& next_warn_at_ms) {
  const json details = parse_details(c);
  const std::int64_t lead = settings.warning_lead.count();
  json due = json::array();
  next_warn_at_ms = 0;
  // 0 is "no warning due" (resolved, or every deadline warned): not "warn of all since 0".
  if (c.warn_at_ms == 0) return due;
  for (const auto& d : details.value("deadlines", json::array())) {
    const std::int64_t at = d.value("due_at_ms", std::int64_t{0});
    const std::int64_t warn = std::max<std::int64_t>(at - lead, 1);
    if (warn >= c.warn_at_ms && warn <= now_ms) {
      due.push_back({{"id", d.value("id", "")},
                     {"label", d.value("label", "")},
                     {"due_at_ms", at},
                     {"passed", at <= now_ms}});
    } else if (warn > now_ms && (next_warn_at_ms == 0 || warn < next_warn_at_ms)) {
      next_warn_at_ms = warn;
    }
  }
  return due;
}

std::optional<std::int64_t> parse_yuan(std::string_view text) {
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view cents = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  };
  if (whole.empty() || whole.size() > 9 || !digits(whole) || !digits(cents) || cents.size() > 2 ||
      (dot != std::string_view::npos && cents.empty())) {
    return std::nullopt;
  }
  std::int64_t fen = 0;
  for (char ch : whole) fen = fen * 10 + (ch - '0');
  fen *= 100;
  if (!cents.empty()) fen += (cents[0] - '0') * 10 + (cents.size() == 2 ? cents[1] - '0' : 0);
  if (fen > 100'000'000LL * 100) return std::nullopt;
  return fen;
}

std::string check_outcome(const case_outcome& o) {
  if (!std::any_of(std::begin(replies::k_resolutions), std::end(replies::k_resolutions),
                   [&](std::string_view r) { return r == o.kind; })) {
    std::string known;
    for (auto r : replies::k_resolutions) known += (known.empty() ? "" : ", ") + std::string(r);
    return "outcome '" + o.kind + "' is not one of: " + known;
  }
  if (o.amount_fen < 0) return "amount must not be negative";
  if (o.kind == "partial_refund" && o.amount_fen == 0) {
    return "a partial_refund needs an amount (yuan, e.g. \"12.50\")";
  }
  if (o.kind == "rejected" && o.reason.empty()) return "a rejected case needs a reason";
  return {};
}

json to_json(const case_outcome& o, std::string_view agent, std::int64_t at_ms) {
  json j = {{"kind", o.kind}, {"note", o.note}, {"agent", agent}, {"at_ms", at_ms}};
  if (o.amount_fen) {
    j["amount_fen"] = o.amount_fen;
    j["amount"] = std::to_string(o.amount_fen / 100) + "." + (o.amount_fen % 100 < 10 ? "0" : "") +
                  std::to_string(o.amount_fen % 100);
    j["currency"] = "CNY";
  }
  if (!o.reason.empty()) j["reason"] = o.reason;
  return j;
}

}  // namespace shouhou::bot
