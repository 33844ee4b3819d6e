#include "connectors/protocol.hpp"

#include <simdjson.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "connectors/detail/json_read.hpp"

namespace shouhou::connectors {
namespace {

using detail::read_id;
using detail::read_string;

using json = nlohmann::json;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

client_frame parse_hello(simdjson::dom::object& obj, const frame_limits& limits) {
  hello_frame hello;
  if (auto e = read_string(obj, "shop", true, limits.max_id_bytes, hello.shop)) return *e;
  if (auto e = read_string(obj, "buyer", true, limits.max_id_bytes, hello.buyer)) return *e;
  if (auto e = read_string(obj, "conversation", false, limits.max_id_bytes, hello.conversation)) {
    return *e;
  }
  return hello;
}

client_frame parse_evidence(simdjson::dom::object& obj, const frame_limits& limits) {
  evidence_frame frame;
  if (auto e = read_id(obj, limits.max_id_bytes, frame.id)) return *e;
  if (auto e = read_string(obj, "evidence", true, limits.max_id_bytes, frame.evidence)) {
    e->id = frame.id;
    return *e;
  }
  return frame;
}

client_frame parse_message(simdjson::dom::object& obj, const frame_limits& limits) {
  message_frame message;
  if (auto e = read_id(obj, limits.max_id_bytes, message.id)) return *e;
  // Text can be long; its limit is in characters, checked below.
  auto e = read_string(obj, "text", true, std::string::npos, message.text);
  if (!e) e = read_string(obj, "order", false, limits.max_id_bytes, message.order);
  if (!e && utf8_length(message.text) > limits.max_text_chars) {
    e = frame_error{"text_too_long",
                    "field \"text\" is longer than " + std::to_string(limits.max_text_chars) +
                        " characters",
                    {}};
  }
  if (e) {
    e->id = message.id;
    return *e;
  }
  return message;
}

}  // namespace

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

client_frame parse_client_frame(std::string_view text, const frame_limits& limits) {
  // One parser per thread: it keeps its buffers between frames, and sessions run on many threads.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(text.data(), text.size()).get(doc); err != simdjson::SUCCESS) {
    return frame_error{"invalid_json",
                       std::string("frame is not valid JSON: ") + simdjson::error_message(err),
                       {}};
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return frame_error{"invalid_frame", "frame must be a JSON object", {}};
  }
  std::string type;
  if (auto e = read_string(obj, "type", true, 32, type)) return *e;
  if (type == "hello") return parse_hello(obj, limits);
  if (type == "message") return parse_message(obj, limits);
  if (type == "evidence") return parse_evidence(obj, limits);
  return frame_error{"unknown_type",
                     "unknown frame type \"" + type +
                         "\" (expected \"hello\", \"message\" or \"evidence\")",
                     {}};
}

namespace {

json requests_json(const std::vector<replies::evidence_item>& items,
                   std::string_view conversation, const upload_link_maker& upload) {
  json out = json::array();
  for (const auto& item : items) {
    json r = {{"item", item.id}, {"type", item.type}, {"label", item.label}, {"why", item.why}};
    if (upload && (item.type == "photo" || item.type == "video")) {
      if (std::string link = upload(conversation, item.id); !link.empty()) r["upload"] = link;
    }
    out.push_back(std::move(r));
  }
  return out;
}

json history_item(const store::message& m) {
  json item = {{"seq", m.seq},
               {"from", m.dir == store::direction::inbound ? "buyer" : "bot"},
               {"text", m.text},
               {"at", m.at_ms}};
  if (m.dir == store::direction::inbound) item["id"] = m.client_id;
  if (!m.reason.empty()) item["reason"] = m.reason;
  if (!m.payload.empty()) {
    // The payload was written by the bot; a damaged one is skipped, not fatal.
    json payload = json::parse(m.payload, nullptr, false);
    if (payload.is_object()) {
      for (auto& [key, value] : payload.items()) item[key] = value;
      if (payload.value("kind", "") == "agent") item["from"] = "agent";
    }
  }
  return item;
}

// The conversation's reason and phase, as the frames show them.
json conversation_json(const store::conversation& c) {
  json out = {{"phase", c.phase.empty() ? "new" : c.phase}};
  if (auto state = bot::state_from_json(c.state)) {
    if (!state->reason.empty()) out["reason"] = state->reason;
    out["confidence"] = state->confidence;
    out["flags"] = state->flags;
  }
  return out;
}

}  // namespace

std::string welcome_frame(const bot::open_result& opened) {
  json history = json::array();
  for (const auto& m : opened.history) history.push_back(history_item(m));
  json frame = {{"type", "welcome"},
                {"conversation", opened.conversation.id},
                {"resumed", opened.what == bot::open_result::outcome::resumed},
                {"history", std::move(history)},
                {"version", opened.version}};
  frame.update(conversation_json(opened.conversation));
  return dump(frame);
}

std::string ack_frame(std::string_view id, bool duplicate, std::size_t replies) {
  return dump({{"type", "ack"}, {"id", id}, {"duplicate", duplicate}, {"replies", replies}});
}

std::string reply_frame(const bot::bot_message& message, const store::conversation& conversation,
                        std::string_view in_reply_to,
                        const intents::classification* classification,
                        std::string_view version, const upload_link_maker& upload) {
  json frame = {{"type", "reply"},
                {"kind", message.kind},
                {"from", message.kind == "agent" ? "agent" : "bot"},
                {"text", message.text},
                {"reason", "other"},
                {"confidence", 0.0},
                {"flags", json::array()},
                {"requests", requests_json(message.requests, conversation.id, upload)},
                {"quick_replies", message.quick_replies},
                {"version", version}};
  frame.update(conversation_json(conversation));
  if (!in_reply_to.empty()) frame["in_reply_to"] = in_reply_to;
  if (classification) {
    json m = {{"reason", classification->reason},
              {"confidence", classification->confidence},
              {"unsure", classification->unsure},
              {"flags", classification->flags}};
    if (!classification->runner_up.empty()) m["runner_up"] = classification->runner_up;
    frame["message"] = std::move(m);
  }
  return dump(frame);
}

std::string error_frame(const frame_error& error) {
  json frame = {{"type", "error"}, {"code", error.code}, {"message", error.message}};
  if (!error.id.empty()) frame["id"] = error.id;
  return dump(frame);
}

}  // namespace shouhou::connectors
