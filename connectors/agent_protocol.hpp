#pragma once
// The agent desk protocol (docs/protocol.md, "Agent desk"): what agents ask, over the /v1/agent
// WebSocket (one JSON text frame per request, with its "type") and over HTTP (/v1/cases/..., the
// route giving the type, the body the rest); and the frames the desk sends back.
//
// Parsing never throws: every problem is a frame_error naming the field.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bot/case_desk.hpp"
#include "connectors/protocol.hpp"

namespace shouhou::connectors {

struct agent_request {
  // "queue", "view", "claim", "release", "transfer", "message", "request_evidence", "resolve"
  std::string type;
  std::string id;       // the agent's id for the request, echoed in the answer; for "message"
                        // it also makes a resend harmless
  std::string case_id;  // every type but "queue"
  std::string to;       // transfer: the agent to hand the case to
  std::string text;     // message
  std::vector<bot::requested_item> items;  // request_evidence
  std::string note;                        // request_evidence (the text to the buyer), resolve
  bot::case_outcome outcome;               // resolve
  std::vector<std::string> statuses;       // queue: "open", "claimed", "resolved"
  std::string priority;                    // queue: "urgent", "high" or "normal"
  std::size_t limit = bot::k_queue_page;   // queue: at most this many cases (1..1000)
};

using agent_parse = std::variant<agent_request, frame_error>;

// A WebSocket frame: {"type": ..., "id": ..., "case": ..., ...}.
agent_parse parse_agent_frame(std::string_view json, const frame_limits& limits);

// An HTTP request body for the route's `type` and case; an empty body is an empty object.
agent_parse parse_case_body(std::string type, std::string case_id, std::string_view json,
                            const frame_limits& limits);

// Does what the request asks of the desk, as `agent`; queue and view answer with their JSON.
void perform(bot::case_desk& desk, agent_request request, std::string agent,
             std::function<void(bot::desk_result, nlohmann::json)> done);

// The HTTP status for a desk outcome (200, 400, 404, 409, 500) and the error code frames carry.
unsigned http_status(bot::desk_result::outcome what);
std::string_view error_code(bot::desk_result::outcome what);

// Frames to agents.
std::string desk_hello_frame(std::string_view agent, const nlohmann::json& queue,
                             std::size_t total);
// The answer to a request: {"type":"result","id":...,"ok":true,...} with the case (summary or,
// for "view", the whole case) or the queue.
std::string desk_result_frame(std::string_view id, const bot::desk_result& result,
                              const nlohmann::json& body);
std::string desk_event_frame(const bot::desk_event& event, const nlohmann::json& summary);

}  // namespace shouhou::connectors
