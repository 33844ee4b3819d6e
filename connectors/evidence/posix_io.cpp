#include "connectors/evidence/posix_io.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shouhou::connectors::evidence {

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

unique_fd::~unique_fd() { close(); }

int unique_fd::close() noexcept {
  if (fd_ < 0) return 0;
  // Linux releases the descriptor even when close fails, so it must not be retried.
  const int rc = ::close(std::exchange(fd_, -1));
  return rc == 0 ? 0 : errno;
}

namespace detail {

evidence::error os_error(std::string_view what, int err) {
  const bool full = err == ENOSPC || err == EDQUOT || err == EFBIG;
  std::string message(what);
  if (full) message += ": disk full";
  message += " (";
  message += std::strerror(err);
  message += ")";
  return {full ? errc::disk_full : errc::io, std::move(message)};
}

std::string random_hex(std::size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
    return {};
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

status fsync_dir(const std::string& dir) {
  unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return os_error("cannot open folder " + dir + " to sync it", errno);
  if (::fsync(fd.get()) != 0) return os_error("cannot sync folder " + dir, errno);
  return {};
}

}  // namespace detail
}  // namespace shouhou::connectors::evidence
