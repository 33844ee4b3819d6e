#pragma once
// One buyer's WebSocket connection on /v1/chat.
//
// Frames are handled one at a time, in order: the next frame is read only when the previous one
// has been answered, so replies keep the order of messages and a fast sender is slowed down to the
// store's pace instead of queueing without bound. Outgoing frames go through a bounded
// write_queue. Everything runs on the connection's strand; the engine's completions are posted
// back onto it.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <memory>
#include <optional>
#include <string>

#include "connectors/detail/server_state.hpp"
#include "connectors/ws_frames.hpp"

namespace shouhou::connectors {

class chat_session : public detail::connection,
                     public detail::conversation_viewer,
                     public ws_frames<chat_session>,
                     public std::enable_shared_from_this<chat_session> {
 public:
  chat_session(boost::beast::tcp_stream&& stream, std::shared_ptr<detail::server_state> state);
  ~chat_session() override;

  // Completes the WebSocket upgrade `req` asked for and starts reading.
  void run(boost::beast::http::request<boost::beast::http::string_body> req);
  void shutdown() override;
  void deliver(std::shared_ptr<const bot::unprompted> sent) override;

 private:
  void on_accept(boost::beast::error_code ec);
  void handle(std::string_view text);
  void on_opened(bot::open_result opened);
  void on_turn(std::string id, std::string said, bot::turn_result turn);
  void on_evidence(std::string id, bot::evidence_result result);

  // Tells a buyer who comes back to a conversation people have that a person has it.
  void tell_who_has_it();

  friend class ws_frames<chat_session>;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  std::shared_ptr<detail::server_state> state_;
  std::optional<store::conversation> conversation_;
};

}  // namespace shouhou::connectors
