#include "connectors/agent_protocol.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "connectors/detail/json_read.hpp"

namespace shouhou::connectors {
namespace {

using json = nlohmann::json;
using detail::read_id;
using detail::read_string;

constexpr std::size_t k_max_note_bytes = 4000;
constexpr std::size_t k_max_items = 20;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

frame_error wrong(std::string field, std::string what) {
  return {"invalid_field", "field \"" + field + "\" " + what, {}};
}

// "status": "open" or ["open","claimed"]; the same for HTTP's comma-separated query values.
std::optional<frame_error> read_statuses(simdjson::dom::object& obj,
                                         std::vector<std::string>& out) {
  simdjson::dom::element value;
  if (obj["status"].get(value) != simdjson::SUCCESS) return std::nullopt;
  auto add = [&](std::string_view s) -> std::optional<frame_error> {
    if (s != "open" && s != "claimed" && s != "resolved") {
      return wrong("status", "must be \"open\", \"claimed\" or \"resolved\"");
    }
    out.emplace_back(s);
    return std::nullopt;
  };
  std::string_view one;
  if (value.get_string().get(one) == simdjson::SUCCESS) return add(one);
  simdjson::dom::array many;
  if (value.get_array().get(many) != simdjson::SUCCESS) {
    return wrong("status", "must be a string or an array of strings");
  }
  for (auto v : many) {
    if (v.get_string().get(one) != simdjson::SUCCESS) return wrong("status", "must hold strings");
    if (auto e = add(one)) return e;
  }
  return std::nullopt;
}

std::optional<frame_error> read_items(simdjson::dom::object& obj, const frame_limits& limits,
                                      std::vector<bot::requested_item>& out) {
  simdjson::dom::element value;
  if (obj["items"].get(value) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::array items;
  if (value.get_array().get(items) != simdjson::SUCCESS) return wrong("items", "must be an array");
  if (items.size() > k_max_items) {
    return wrong("items", "may hold at most " + std::to_string(k_max_items) + " items");
  }
  for (auto v : items) {
    simdjson::dom::object item;
    if (v.get_object().get(item) != simdjson::SUCCESS) return wrong("items", "must hold objects");
    bot::requested_item r;
    if (auto e = read_string(item, "item", false, limits.max_id_bytes, r.item)) return e;
    if (auto e = read_string(item, "type", false, 32, r.type)) return e;
    if (auto e = read_string(item, "label", false, 200, r.label)) return e;
    if (auto e = read_string(item, "why", false, 400, r.why)) return e;
    out.push_back(std::move(r));
  }
  return std::nullopt;
}

std::optional<frame_error> read_outcome(simdjson::dom::object& obj, bot::case_outcome& out) {
  if (auto e = read_string(obj, "outcome", true, 32, out.kind)) return e;
  simdjson::dom::element amount;
  if (obj["amount"].get(amount) == simdjson::SUCCESS) {
    // A decimal string is exact; a JSON number must have at most two decimals as written.
    std::optional<std::int64_t> fen;
    std::string_view text;
    double number = 0;
    if (amount.get_string().get(text) == simdjson::SUCCESS) {
      fen = bot::parse_yuan(text);
    } else if (amount.get_double().get(number) == simdjson::SUCCESS && number >= 0 &&
               number <= 1e8) {
      const double cents = number * 100;
      if (std::fabs(cents - std::round(cents)) < 1e-6) fen = std::llround(cents);
    }
    if (!fen) return wrong("amount", "must be yuan with at most two decimals, e.g. \"12.50\"");
    out.amount_fen = *fen;
  }
  if (auto e = read_string(obj, "reason", false, k_max_note_bytes, out.reason)) return e;
  return read_string(obj, "note", false, k_max_note_bytes, out.note);
}

// Everything after the type and id; `case_id` already known for HTTP routes.
std::optional<frame_error> read_body(simdjson::dom::object& obj, agent_request& r,
                                     const frame_limits& limits, bool case_in_body) {
  if (r.type != "queue" && case_in_body) {
    if (auto e = read_string(obj, "case", true, limits.max_id_bytes, r.case_id)) return e;
  }
  if (r.type == "queue") {
    if (auto e = read_statuses(obj, r.statuses)) return e;
    if (auto e = read_string(obj, "priority", false, 16, r.priority)) return e;
    if (!r.priority.empty() && r.priority != "urgent" && r.priority != "high" &&
        r.priority != "normal") {
      return wrong("priority", "must be \"urgent\", \"high\" or \"normal\"");
    }
    simdjson::dom::element limit;
    if (obj["limit"].get(limit) == simdjson::SUCCESS) {
      std::int64_t n = 0;
      if (limit.get_int64().get(n) != simdjson::SUCCESS || n < 1 ||
          n > static_cast<std::int64_t>(bot::k_queue_page_max)) {
        return wrong("limit",
                     "must be a whole number from 1 to " + std::to_string(bot::k_queue_page_max));
      }
      r.limit = static_cast<std::size_t>(n);
    }
    return std::nullopt;
  }
  if (r.type == "transfer") return read_string(obj, "to", true, limits.max_id_bytes, r.to);
  if (r.type == "message") {
    if (auto e = read_string(obj, "text", true, std::string::npos, r.text)) return e;
    if (utf8_length(r.text) > limits.max_text_chars) {
      return wrong("text",
                   "is longer than " + std::to_string(limits.max_text_chars) + " characters");
    }
    return std::nullopt;
  }
  if (r.type == "request_evidence") {
    if (auto e = read_items(obj, limits, r.items)) return e;
    return read_string(obj, "note", false, k_max_note_bytes, r.note);
  }
  if (r.type == "resolve") return read_outcome(obj, r.outcome);
  return std::nullopt;
}

bool known_type(std::string_view t) {
  static constexpr std::string_view k_types[] = {
      "queue", "view", "claim", "release", "transfer", "message", "request_evidence", "resolve"};
  return std::find(std::begin(k_types), std::end(k_types), t) != std::end(k_types);
}

std::optional<frame_error> parse_object(std::string_view text, simdjson::dom::object& obj) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(text.data(), text.size()).get(doc); err != simdjson::SUCCESS) {
    return frame_error{
        "invalid_json", std::string("not valid JSON: ") + simdjson::error_message(err), {}};
  }
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return frame_error{"invalid_frame", "must be a JSON object", {}};
  }
  return std::nullopt;
}

}  // namespace

agent_parse parse_agent_frame(std::string_view text, const frame_limits& limits) {
  simdjson::dom::object obj;
  if (auto e = parse_object(text, obj)) return *e;
  agent_request r;
  if (auto e = read_string(obj, "type", true, 32, r.type)) return *e;
  if (!known_type(r.type)) {
    return frame_error{"unknown_type",
                       "unknown frame type \"" + r.type +
                           "\" (expected queue, view, claim, release, transfer, message, "
                           "request_evidence or resolve)",
                       {}};
  }
  if (auto e = read_id(obj, limits.max_id_bytes, r.id)) return *e;
  if (auto e = read_body(obj, r, limits, true)) {
    e->id = r.id;
    return *e;
  }
  return r;
}

agent_parse parse_case_body(std::string type, std::string case_id, std::string_view text,
                            const frame_limits& limits) {
  agent_request r;
  r.type = std::move(type);
  r.case_id = std::move(case_id);
  simdjson::dom::object obj;
  const bool empty = std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
  });
  if (auto e = parse_object(empty ? std::string_view("{}") : text, obj)) return *e;
  // Over HTTP a message's id makes a resend harmless as it does over the WebSocket.
  if (r.type == "message") {
    if (auto e = read_id(obj, limits.max_id_bytes, r.id)) return *e;
  }
  if (auto e = read_body(obj, r, limits, false)) return *e;
  return r;
}

void perform(bot::case_desk& desk, agent_request r, std::string agent,
             std::function<void(bot::desk_result, json)> done) {
  auto plain = [done](bot::desk_result result) mutable {
    json body = nullptr;
    done(std::move(result), std::move(body));
  };
  if (r.type == "queue")
    return desk.queue(std::move(r.statuses), std::move(r.priority), r.limit, std::move(done));
  if (r.type == "view") return desk.view(std::move(r.case_id), std::move(done));
  if (r.type == "claim")
    return desk.claim(std::move(r.case_id), std::move(agent), std::move(plain));
  if (r.type == "release")
    return desk.release(std::move(r.case_id), std::move(agent), std::move(plain));
  if (r.type == "transfer") {
    return desk.transfer(std::move(r.case_id), std::move(agent), std::move(r.to), std::move(plain));
  }
  if (r.type == "message") {
    return desk.send(std::move(r.case_id), std::move(agent), std::move(r.id), std::move(r.text),
                     std::move(plain));
  }
  if (r.type == "request_evidence") {
    return desk.request_evidence(std::move(r.case_id), std::move(agent), std::move(r.items),
                                 std::move(r.note), std::move(plain));
  }
  if (r.type == "resolve") {
    return desk.resolve(std::move(r.case_id), std::move(agent), std::move(r.outcome),
                        std::move(plain));
  }
  bot::desk_result unknown;
  unknown.what = bot::desk_result::outcome::invalid;
  unknown.error = "unknown request type " + r.type;
  plain(std::move(unknown));
}

unsigned http_status(bot::desk_result::outcome what) {
  using outcome = bot::desk_result::outcome;
  switch (what) {
    case outcome::ok:
      return 200;
    case outcome::invalid:
      return 400;
    case outcome::not_found:
      return 404;
    case outcome::taken:
      return 409;
    case outcome::failed:
      return 500;
  }
  return 500;
}

std::string_view error_code(bot::desk_result::outcome what) {
  using outcome = bot::desk_result::outcome;
  switch (what) {
    case outcome::ok:
      return "";
    case outcome::invalid:
      return "invalid_request";
    case outcome::not_found:
      return "unknown_case";
    case outcome::taken:
      return "case_taken";
    case outcome::failed:
      return "store_failed";
  }
  return "store_failed";
}

std::string desk_hello_frame(std::string_view agent, const json& queue, std::size_t total) {
  return dump({{"type", "hello"}, {"agent", agent}, {"queue", queue}, {"total", total}});
}

std::string desk_result_frame(std::string_view id, const bot::desk_result& result,
                              const json& body) {
  if (result.what != bot::desk_result::outcome::ok) {
    return error_frame({std::string(error_code(result.what)), result.error, std::string(id)});
  }
  json frame = {{"type", "result"}, {"id", id}, {"ok", true}, {"duplicate", result.duplicate}};
  if (body.is_array()) {
    frame["queue"] = body;
    frame["total"] = result.total;
  } else if (body.is_object()) {
    frame["case"] = body;
  }
  return dump(frame);
}

std::string desk_event_frame(const bot::desk_event& event, const json& summary) {
  return dump({{"type", "event"}, {"event", event.type}, {"case", summary}, {"data", event.data}});
}

}  // namespace shouhou::connectors
