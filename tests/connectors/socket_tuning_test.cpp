#include "connectors/detail/socket_tuning.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace shouhou::connectors::detail {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// Regression: replies waited ~40 ms behind their ack (Nagle's algorithm and delayed ACKs).
TEST(SocketTuning, AcceptedSocketsSendSmallFramesWithoutDelay) {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(ioc);
  client.connect(acceptor.local_endpoint());
  tcp::socket accepted = acceptor.accept();
  tcp::no_delay before;
  accepted.get_option(before);
  ASSERT_FALSE(before.value()) << "the test needs a socket that starts with Nagle on";
  tune_accepted_socket(accepted);
  tcp::no_delay after;
  accepted.get_option(after);
  EXPECT_TRUE(after.value());
}

}  // namespace
}  // namespace shouhou::connectors::detail
