#pragma once
// A bounded queue of outgoing frames for one connection. A client that does not read its frames
// must not make the server hold unbounded memory: past either limit, push() refuses and the
// session closes the connection.
//
// Not thread-safe: owned by one session and used on its strand.

#include <cstddef>
#include <deque>
#include <string>

namespace shouhou::connectors {

class write_queue {
 public:
  write_queue(std::size_t max_frames, std::size_t max_bytes)
      : max_frames_(max_frames), max_bytes_(max_bytes) {}

  // Adds a frame at the back. Returns false, adding nothing, when it would hold more than
  // max_frames frames or max_bytes bytes.
  bool push(std::string frame) {
    if (frames_.size() + 1 > max_frames_ || bytes_ + frame.size() > max_bytes_) return false;
    bytes_ += frame.size();
    frames_.push_back(std::move(frame));
    return true;
  }

  bool empty() const { return frames_.empty(); }
  std::size_t size() const { return frames_.size(); }
  std::size_t bytes() const { return bytes_; }
  const std::string& front() const { return frames_.front(); }

  void pop() {
    bytes_ -= frames_.front().size();
    frames_.pop_front();
  }

  // Drops every frame but the front one, which may be in the middle of being written.
  void drop_all_but_front() {
    while (frames_.size() > 1) {
      bytes_ -= frames_.back().size();
      frames_.pop_back();
    }
  }

 private:
  std::size_t max_frames_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::deque<std::string> frames_;
};

}  // namespace shouhou::connectors
