#pragma once
// One agent's WebSocket connection on /v1/agent (docs/protocol.md, "Agent desk"), opened after
// the agent's token was checked. On open it sends the queue; then it answers the agent's
// requests one at a time, in order, and passes on every desk event as it happens.
//
// Everything runs on the connection's strand; the desk's completions are posted back onto it.

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <memory>
#include <string>

#include "connectors/agent_protocol.hpp"
#include "connectors/detail/server_state.hpp"
#include "connectors/ws_frames.hpp"

namespace shouhou::connectors {

class agent_session : public detail::connection,
                      public detail::desk_viewer,
                      public ws_frames<agent_session>,
                      public std::enable_shared_from_this<agent_session> {
 public:
  // `token` is checked again before every request, so a revoked agent is cut off at once.
  agent_session(boost::beast::tcp_stream&& stream, std::shared_ptr<detail::server_state> state,
                std::string agent, std::string token);
  ~agent_session() override;

  // Completes the WebSocket upgrade `req` asked for, sends the queue, and starts reading.
  void run(boost::beast::http::request<boost::beast::http::string_body> req);
  void shutdown() override;
  void deliver(std::shared_ptr<const std::string> frame) override;

 private:
  friend class ws_frames<agent_session>;

  void on_accept(boost::beast::error_code ec);
  void handle(std::string_view text);
  void act(agent_request request);  // the request of an agent whose token still holds

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  std::shared_ptr<detail::server_state> state_;
  const std::string agent_;
  const std::string token_;
};

}  // namespace shouhou::connectors
