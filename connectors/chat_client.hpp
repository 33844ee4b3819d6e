#pragma once
// `shouhou chat`: a terminal client for the buyer chat. Each line of input is sent as a buyer
// message; every frame the server sends is printed as it arrives (raw JSON, one a line, with
// `json`). At the end of input it waits for the answers to what it sent, then closes, so it works
// in a pipe as well as by hand.

#include <chrono>
#include <iosfwd>
#include <string>

namespace shouhou::connectors {

struct chat_options {
  std::string url = "ws://127.0.0.1:8080/v1/chat";
  std::string shop = "demo-shop";
  std::string buyer = "demo-buyer";
  std::string conversation;  // resume this conversation instead of starting one
  std::string order;         // order number sent with every message
  bool json = false;
  std::chrono::seconds answer_timeout{10};  // longest wait for an answer after the input ends
};

// Returns the process exit code: 0 when every message was answered, 1 when the server refused
// something or an answer did not come, 2 when the server could not be reached or refused
// the hello.
int run_chat(const chat_options& options, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace shouhou::connectors
