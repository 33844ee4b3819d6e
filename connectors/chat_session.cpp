#include "connectors/chat_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace shouhou::connectors {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;

chat_session::chat_session(beast::tcp_stream&& stream, std::shared_ptr<detail::server_state> state)
    : ws_frames("chat", state->config.write_queue_max_frames, state->config.write_queue_max_bytes),
      ws_(std::move(stream)),
      state_(std::move(state)) {}

chat_session::~chat_session() {
  if (conversation_) state_->unwatch(conversation_->id, this);
  state_->remove(this);
}

void chat_session::run(beast::http::request<beast::http::string_body> req) {
  if (!state_->add(shared_from_this())) return;  // stopping: dropping the socket closes it
  accept(req, state_->config);
}

void chat_session::shutdown() { stop_soon(); }

void chat_session::deliver(std::shared_ptr<const bot::unprompted> sent) {
  net::post(ws_.get_executor(), [self = shared_from_this(), sent = std::move(sent)] {
    if (!self->conversation_ || self->conversation_->id != sent->conversation.id) return;
    // Keep the newest state we know of, so our next turn is decided on it.
    if (sent->conversation.state_version > self->conversation_->state_version) {
      self->conversation_ = sent->conversation;
    }
    for (const auto& m : sent->messages) {
      self->send(reply_frame(m, sent->conversation, {}, nullptr, sent->version,
                             self->state_->upload_links()));
    }
  });
}

void chat_session::on_accept(beast::error_code ec) {
  if (ec) {
    spdlog::debug("chat: upgrade failed: {}", ec.message());
    return;
  }
  if (stopping_) return close_going_away();
  read_next();
}

void chat_session::handle(std::string_view text) {
  client_frame frame = parse_client_frame(text, state_->limits);
  if (auto* error = std::get_if<frame_error>(&frame)) {
    send(error_frame(*error));
    return next();
  }
  auto self = shared_from_this();
  if (auto* hello = std::get_if<hello_frame>(&frame)) {
    if (conversation_) {
      send(error_frame({"already_open",
                        "this connection already has conversation " + conversation_->id +
                            "; open a new connection for another",
                        {}}));
      return next();
    }
    busy_ = true;
    state_->engine.open(std::move(hello->shop), std::move(hello->buyer),
                        std::move(hello->conversation), [self](bot::open_result opened) {
                          net::post(self->ws_.get_executor(),
                                    [self, opened = std::move(opened)]() mutable {
                                      self->on_opened(std::move(opened));
                                    });
                        });
    return;
  }
  if (auto* cited = std::get_if<evidence_frame>(&frame)) {
    if (!conversation_) {
      send(error_frame({"no_conversation", "send a hello frame before evidence", cited->id}));
      return next();
    }
    busy_ = true;
    std::string id = cited->id;
    state_->engine.cite_evidence(*conversation_, std::move(cited->id), std::move(cited->evidence),
                                 [self, id = std::move(id)](bot::evidence_result r) mutable {
                                   net::post(
                                       self->ws_.get_executor(),
                                       [self, id = std::move(id), r = std::move(r)]() mutable {
                                         self->on_evidence(std::move(id), std::move(r));
                                       });
                                 });
    return;
  }
  auto& message = std::get<message_frame>(frame);
  if (!conversation_) {
    send(error_frame({"no_conversation", "send a hello frame before messages", message.id}));
    return next();
  }
  busy_ = true;
  // Kept for the answer (and for agents, when a person has the case): the engine takes them.
  std::string id = message.id;
  std::string said = message.text;
  bot::buyer_message m{std::move(message.id), std::move(message.text), std::move(message.order)};
  state_->engine.receive(
      *conversation_, std::move(m),
      [self, id = std::move(id), said = std::move(said)](bot::turn_result turn) mutable {
        net::post(self->ws_.get_executor(), [self, id = std::move(id), said = std::move(said),
                                             turn = std::move(turn)]() mutable {
          self->on_turn(std::move(id), std::move(said), std::move(turn));
        });
      });
}

void chat_session::on_opened(bot::open_result opened) {
  using outcome = bot::open_result::outcome;
  switch (opened.what) {
    case outcome::opened:
    case outcome::resumed:
      conversation_ = opened.conversation;
      state_->watch(conversation_->id, shared_from_this());
      send(welcome_frame(opened));
      tell_who_has_it();
      break;
    case outcome::unknown_conversation:
      send(error_frame({"unknown_conversation",
                        "no conversation with that id; omit \"conversation\" to start a new one",
                        {}}));
      break;
    case outcome::not_yours:
      send(error_frame(
          {"not_your_conversation", "that conversation belongs to another shop or buyer", {}}));
      break;
    case outcome::failed:
      spdlog::error("chat: opening a conversation failed: {}", opened.error);
      send(error_frame({"store_failed", "the conversation could not be opened; try again", {}}));
      break;
  }
  next();
}

void chat_session::on_turn(std::string id, std::string said, bot::turn_result turn) {
  if (!turn.ok) {
    // Not stored, so not acknowledged: the client keeps the message and may send it again.
    spdlog::error("chat: storing message {} of {} failed: {}", id, conversation_->id, turn.error);
    send(error_frame({"store_failed", "the message was not saved; send it again", id}));
  } else {
    send(ack_frame(id, turn.duplicate, turn.messages.size()));
    if (turn.conversation.state_version > conversation_->state_version) {
      conversation_ = turn.conversation;
    }
    bool first = true;
    for (const auto& m : turn.messages) {
      send(reply_frame(m, *conversation_, id, first ? &turn.classification : nullptr, turn.version,
                       state_->upload_links()));
      first = false;
    }
    if (turn.opened_case) {
      state_->announce_opened(turn.opened_case);
    } else if (!turn.duplicate) {
      state_->announce_buyer_activity(turn.conversation, "case.message",
                                      {{"message", {{"id", id}, {"text", said}}}});
    }
  }
  next();
}

void chat_session::tell_who_has_it() {
  if (conversation_->phase != "handed_off" && conversation_->phase != "with_agent") return;
  auto know = state_->knowledge.current();
  auto s = bot::state_from_json(conversation_->state);
  if (!s) return;
  // Not stored: it restates where the conversation is, it does not add to it.
  bot::bot_message notice{
      "notice",
      know->replies->text(s->reason.empty() ? "other" : s->reason, replies::text_kind::handoff,
                          s->flags,
                          {{"shop", conversation_->shop}, {"buyer", conversation_->buyer}}),
      {},
      {}};
  send(reply_frame(notice, *conversation_, {}, nullptr, know->version));
}

void chat_session::on_evidence(std::string id, bot::evidence_result r) {
  using outcome = bot::evidence_result::outcome;
  switch (r.what) {
    case outcome::stored:
    case outcome::duplicate:
      send(ack_frame(id, r.what == outcome::duplicate, r.messages.size()));
      if (r.conversation.state_version > conversation_->state_version)
        conversation_ = r.conversation;
      for (const auto& m : r.messages) {
        send(reply_frame(m, *conversation_, id, nullptr, r.version, state_->upload_links()));
      }
      if (r.opened_case) {
        state_->announce_opened(r.opened_case);
      } else if (r.what == outcome::stored) {
        state_->announce_buyer_activity(r.conversation, "case.evidence", {{"frame", id}});
      }
      break;
    case outcome::unknown_evidence:
    case outcome::unknown_conversation:
      send(error_frame({"unknown_evidence",
                        "no evidence with that id in this conversation; upload it first", id}));
      break;
    case outcome::over_limit:
    case outcome::failed:
      spdlog::error("chat: storing evidence frame {} of {} failed: {}", id, conversation_->id,
                    r.error);
      send(error_frame({"store_failed", "the evidence was not recorded; send it again", id}));
      break;
  }
  next();
}

}  // namespace shouhou::connectors
