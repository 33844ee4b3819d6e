#include "connectors/agent_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "connectors/agent_protocol.hpp"

namespace shouhou::connectors {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;

agent_session::agent_session(beast::tcp_stream&& stream,
                             std::shared_ptr<detail::server_state> state, std::string agent,
                             std::string token)
    : ws_frames("agent", state->config.write_queue_max_frames, state->config.write_queue_max_bytes),
      ws_(std::move(stream)),
      state_(std::move(state)),
      agent_(std::move(agent)),
      token_(std::move(token)) {}

agent_session::~agent_session() {
  state_->leave_desk(this);
  state_->remove(this);
}

void agent_session::run(beast::http::request<beast::http::string_body> req) {
  if (!state_->add(shared_from_this())) return;
  accept(req, state_->config);
}

void agent_session::shutdown() { stop_soon(); }

void agent_session::deliver(std::shared_ptr<const std::string> frame) {
  net::post(ws_.get_executor(),
            [self = shared_from_this(), frame = std::move(frame)] { self->send(*frame); });
}

void agent_session::on_accept(beast::error_code ec) {
  if (ec) {
    spdlog::debug("agent: upgrade failed: {}", ec.message());
    return;
  }
  if (stopping_) return close_going_away();
  // Joined before the queue is read: an event between the two is sent after the snapshot, so
  // nothing falls in between (at worst a case shows in both, which the version tells apart).
  state_->join_desk(shared_from_this());
  busy_ = true;
  auto self = shared_from_this();
  state_->desk.desk.queue(
      {}, {}, bot::k_queue_page, [self](bot::desk_result r, nlohmann::json queue) {
        net::post(self->ws_.get_executor(), [self, r = std::move(r), queue = std::move(queue)] {
          if (r.what != bot::desk_result::outcome::ok) {
            spdlog::error("agent: reading the queue failed: {}", r.error);
            return self->close_after_flush(websocket::close_code::internal_error,
                                           "the queue could not be read", false);
          }
          self->send(desk_hello_frame(self->agent_, queue, r.total));
          self->next();
        });
      });
}

void agent_session::handle(std::string_view text) {
  agent_parse parsed = parse_agent_frame(text, state_->limits);
  if (auto* error = std::get_if<frame_error>(&parsed)) {
    send(error_frame(*error));
    return next();
  }
  busy_ = true;
  auto self = shared_from_this();
  state_->authenticate_agent(token_, [self, request = std::move(std::get<agent_request>(parsed))](
                                         std::optional<std::string> agent) mutable {
    const bool still = agent == self->agent_;
    net::post(self->ws_.get_executor(), [self, request = std::move(request), still]() mutable {
      if (!still) {
        self->send(
            error_frame({"token_revoked", "this agent's token is no longer valid", request.id}));
        return self->close_after_flush(websocket::close_code::policy_error, "token revoked", false);
      }
      self->act(std::move(request));
    });
  });
}

void agent_session::act(agent_request request) {
  auto self = shared_from_this();
  std::string id = request.id;
  perform(state_->desk.desk, std::move(request), agent_,
          [self, id = std::move(id)](bot::desk_result r, nlohmann::json body) mutable {
            net::post(self->ws_.get_executor(), [self, id = std::move(id), r = std::move(r),
                                                 body = std::move(body)]() mutable {
              if (body.is_null() && r.record) body = self->state_->summary(*r.record);
              self->send(desk_result_frame(id, r, body));
              // The answer first, then what everyone (this agent too) is told.
              self->state_->announce(r);
              self->next();
            });
          });
}

}  // namespace shouhou::connectors
