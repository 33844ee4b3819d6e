#pragma once
// Internal to connectors/evidence/: small POSIX helpers shared by upload_link.cpp and
// blob_store.cpp. Not part of the module's offer; the integrator does not need this header.
//
// Thread safety: functions are reentrant; unique_fd is a move-only owner used by one thread.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "connectors/evidence/error.hpp"

namespace shouhou::connectors::evidence {

// Owns a file descriptor and closes it when destroyed.
class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd();

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  // Gives up ownership (e.g. to beast::file::native_handle); the caller must close it.
  int release() noexcept { return std::exchange(fd_, -1); }
  // Closes now; returns errno of a failing close, else 0.
  int close() noexcept;

 private:
  int fd_ = -1;
};

namespace detail {

// "what (strerror)" as an error whose code is disk_full for ENOSPC, EDQUOT and EFBIG, else io.
evidence::error os_error(std::string_view what, int err);

// Lowercase hex of `n` random bytes from RAND_bytes; empty when the generator fails.
std::string random_hex(std::size_t n);

// fsync of a folder, so that a rename or new entry in it survives a crash.
status fsync_dir(const std::string& dir);

}  // namespace detail
}  // namespace shouhou::connectors::evidence
