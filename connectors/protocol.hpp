#pragma once
// The buyer chat protocol on /v1/chat (docs/protocol.md): JSON text frames in both directions.
// Parsing never throws and never trusts the input: every problem becomes a frame_error whose
// code and message are sent back to the client.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

#include "bot/conversation_engine.hpp"

namespace shouhou::connectors {

struct hello_frame {
  std::string shop;
  std::string buyer;
  std::string conversation;  // empty: start a new conversation
};

struct message_frame {
  std::string id;
  std::string text;
  std::string order;
};

// A buyer points at an upload they made, so the bot marks its checklist item.
struct evidence_frame {
  std::string id;        // the client's message id (idempotent like a message's)
  std::string evidence;  // an evidence id from an upload's answer
};

struct frame_error {
  std::string code;     // stable, machine-readable: see docs/protocol.md
  std::string message;  // for people: what was wrong and where
  std::string id;       // the message id, when the frame had a readable one
};

using client_frame = std::variant<hello_frame, message_frame, evidence_frame, frame_error>;

struct frame_limits {
  std::size_t max_text_chars = 2000;  // Unicode code points of a message's text
  std::size_t max_id_bytes = 128;     // ids, shop and buyer names, order numbers
};

client_frame parse_client_frame(std::string_view json, const frame_limits& limits);

// Server frames, serialised. Text that is not valid UTF-8 is replaced, never thrown on.
std::string welcome_frame(const bot::open_result& opened);
// `replies`: how many reply frames follow for this message (0 once a person has the case).
std::string ack_frame(std::string_view id, bool duplicate, std::size_t replies);
// The upload link (request target) for a checklist item of a conversation, or empty when none
// can be made.
using upload_link_maker =
    std::function<std::string(std::string_view conversation, std::string_view item)>;

// One frame per bot message. `in_reply_to` is empty for messages the bot sends by itself
// (reminders); `classification` is the buyer message's, given with the first frame of a turn.
// With `upload`, each requested photo or video carries an "upload" field with its link.
std::string reply_frame(const bot::bot_message& message, const store::conversation& conversation,
                        std::string_view in_reply_to,
                        const intents::classification* classification, std::string_view version,
                        const upload_link_maker& upload = {});
std::string error_frame(const frame_error& error);

// Number of Unicode code points in valid UTF-8 text.
std::size_t utf8_length(std::string_view text);

}  // namespace shouhou::connectors
