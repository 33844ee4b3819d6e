#pragma once
// Sending frames on a WebSocket session: a bounded write_queue written one frame at a time, and
// closing only once what was queued has gone out. Shared by the buyer (chat_session) and agent
// (agent_session) connections.
//
// `Session` derives from ws_frames<Session> and std::enable_shared_from_this<Session>, and has a
// member `ws_` (the websocket stream). Everything runs on the session's strand.

#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <optional>
#include <string>

#include "connectors/write_queue.hpp"

namespace shouhou::connectors {

template <class Session>
class ws_frames {
 protected:
  ws_frames(const char* name, std::size_t max_frames, std::size_t max_bytes)
      : name_(name), queue_(max_frames, max_bytes) {}

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

 private:
  Session& self() { return static_cast<Session&>(*this); }

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
  write_queue queue_;
  bool writing_ = false;
  std::optional<boost::beast::websocket::close_reason> closing_;
  bool close_sent_ = false;
};

}  // namespace shouhou::connectors
