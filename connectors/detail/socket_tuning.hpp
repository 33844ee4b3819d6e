#pragma once
// Options every accepted connection gets.

#include <boost/asio/ip/tcp.hpp>

namespace shouhou::connectors::detail {

// Chat frames are small and come in pairs (ack, then reply): with Nagle's algorithm on, the reply
// waits for the client's delayed ACK of the ack, about 40 ms on Linux. Errors are ignored: an
// untuned socket still works, only slower.
inline void tune_accepted_socket(boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
}

}  // namespace shouhou::connectors::detail
