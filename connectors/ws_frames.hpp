#pragma once
// What the buyer (chat_session) and agent (agent_session) WebSocket connections share: accepting
// the upgrade with the server's limits and timeouts, reading text frames, and sending through a
// bounded write_queue written one frame at a time, closing only once what was queued went out.
//
// `Session` derives from ws_frames<Session> and std::enable_shared_from_this<Session>, has a
// member `ws_` (the websocket stream), and members on_accept(error_code) and
// handle(std::string_view text). Everything runs on the session's strand.

#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <optional>
#include <string>

#include "bot/config.hpp"
#include "connectors/write_queue.hpp"

namespace shouhou::connectors {

template <class Session>
class ws_frames {
 protected:
  ws_frames(const char* name, std::size_t max_frames, std::size_t max_bytes)
      : name_(name), queue_(max_frames, max_bytes) {}

  // Completes the upgrade `req` asked for; then Session::on_accept runs.
  template <class Request>
  void accept(const Request& req, const bot::server_config& config) {
    auto& ws = self().ws_;
    // The HTTP phase's deadline is replaced by the WebSocket's own handshake and idle timeouts,
    // with pings so that a silent but live client is kept and a dead one is noticed.
    boost::beast::get_lowest_layer(ws).expires_never();
    boost::beast::websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = config.handshake_timeout;
    timeouts.idle_timeout = config.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws.set_option(timeouts);
    ws.set_option(boost::beast::websocket::stream_base::decorator(
        [](boost::beast::websocket::response_type& res) {
          res.set(boost::beast::http::field::server, "shouhou");
        }));
    ws.read_message_max(config.max_frame_bytes);
    ws.text(true);
    ws.async_accept(
        req, [s = self().shared_from_this()](boost::beast::error_code ec) { s->on_accept(ec); });
  }

  // Reads the next frame; a text frame goes to Session::handle, a binary one closes with 1003.
  void read_next() {
    self().ws_.async_read(
        buffer_, [s = self().shared_from_this()](boost::beast::error_code ec, std::size_t) {
          static_cast<ws_frames&>(*s).on_read(ec);
        });
  }

  // Queues a frame; a client that lets too many pile up unread is closed with 1008.
  void send(std::string frame) {
    if (closing_) return;
    if (!queue_.push(std::move(frame))) {
      spdlog::warn("{}: closing a connection whose client does not read its frames", name_);
      return close_after_flush(boost::beast::websocket::close_code::policy_error,
                               "too many unread frames", true);
    }
    if (!writing_) do_write();
  }

  // Closes with `code` once the frame being written (and, unless `drop_unsent`, every queued
  // frame) has gone out.
  void close_after_flush(boost::beast::websocket::close_code code, std::string reason,
                         bool drop_unsent) {
    if (closing_) return;
    closing_ = boost::beast::websocket::close_reason(code, reason);
    if (drop_unsent) queue_.drop_all_but_front();
    if (!writing_) do_close();
  }

  bool closing() const { return closing_.has_value(); }

  // The server is stopping: close once the frame being handled (if any) is answered. Any thread.
  void stop_soon() {
    boost::asio::post(self().ws_.get_executor(), [s = self().shared_from_this()] {
      auto& base = static_cast<ws_frames&>(*s);
      base.stopping_ = true;
      if (!base.busy_) base.close_going_away();
    });
  }

  // A frame is answered: read the next one, or close when the server is stopping.
  void next() {
    busy_ = false;
    if (closing()) return;
    if (stopping_) return close_going_away();
    read_next();
  }

  // Frames are handled one at a time: set while one waits for the engine or the desk.
  bool busy_ = false;
  bool stopping_ = false;  // the server asked us to close

  void close_going_away() {
    close_after_flush(boost::beast::websocket::close_code::going_away, "server shutting down",
                      false);
  }

 private:
  Session& self() { return static_cast<Session&>(*this); }

  void on_read(boost::beast::error_code ec) {
    namespace websocket = boost::beast::websocket;
    if (ec) {
      // Beast has already answered protocol violations with their close codes: 1009 for frames
      // over read_message_max, 1007 for text that is not UTF-8. Nothing more to do here.
      if (ec != websocket::error::closed && ec != boost::asio::error::operation_aborted) {
        spdlog::debug("{}: read ended: {}", name_, ec.message());
      }
      return;
    }
    if (!self().ws_.got_text()) {
      buffer_.consume(buffer_.size());
      return close_after_flush(websocket::close_code::unknown_data,
                               "binary frames are not accepted; send JSON text frames", true);
    }
    std::string text = boost::beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    self().handle(text);
  }

  void do_write() {
    writing_ = true;
    self().ws_.async_write(
        boost::asio::buffer(queue_.front()),
        [s = self().shared_from_this()](boost::beast::error_code ec, std::size_t) {
          static_cast<ws_frames&>(*s).on_write(ec);
        });
  }

  void on_write(boost::beast::error_code ec) {
    writing_ = false;
    if (ec) {
      spdlog::debug("{}: write failed: {}", name_, ec.message());
      return;
    }
    queue_.pop();
    if (!queue_.empty()) return do_write();
    if (closing_) do_close();
  }

  void do_close() {
    if (close_sent_) return;
    close_sent_ = true;
    self().ws_.async_close(
        *closing_, [s = self().shared_from_this(), name = name_](boost::beast::error_code ec) {
          if (ec) spdlog::debug("{}: close failed: {}", name, ec.message());
        });
  }

  const char* name_;
  boost::beast::flat_buffer buffer_;
  write_queue queue_;
  bool writing_ = false;
  std::optional<boost::beast::websocket::close_reason> closing_;
  bool close_sent_ = false;
};

}  // namespace shouhou::connectors
