#include "connectors/evidence/blob_store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

namespace shouhou::connectors::evidence {

struct blob_upload::state {
  std::filesystem::path root;
  std::string tmp_dir;
  blob_limits limits;
  blob_io io;
};

namespace {

std::string mib_text(std::uint64_t bytes) {
  if (bytes % k_mib == 0) return std::to_string(bytes / k_mib) + " MiB";
  return std::to_string(bytes) + " bytes";
}

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0xf]);
  }
  return out;
}

// mkdir that tolerates an existing folder; `created` tells whether the parent needs a sync.
status make_dir(const std::string& dir, bool& created) {
  created = false;
  if (::mkdir(dir.c_str(), 0750) == 0) {
    created = true;
    return {};
  }
  if (errno == EEXIST) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
    return error{errc::io, dir + " exists and is not a folder"};
  }
  return detail::os_error("cannot create folder " + dir, errno);
}

}  // namespace

std::uint64_t blob_limits::for_kind(evidence_kind kind) const noexcept {
  switch (kind) {
    case evidence_kind::image:
      return max_image_bytes;
    case evidence_kind::video:
      return max_video_bytes;
    case evidence_kind::document:
      return max_document_bytes;
  }
  return 0;
}

std::uint64_t blob_limits::largest() const noexcept {
  return std::max({max_image_bytes, max_video_bytes, max_document_bytes});
}

bool is_sha256_hex(std::string_view s) noexcept {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

void blob_upload::digest_deleter::operator()(void* ctx) const noexcept {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx));
}

blob_upload::blob_upload(std::shared_ptr<const state> store, unique_fd fd, std::string tmp_path,
                         std::unique_ptr<void, digest_deleter> digest)
    : store_(std::move(store)),
      fd_(std::move(fd)),
      tmp_path_(std::move(tmp_path)),
      digest_(std::move(digest)) {
  head_.reserve(k_sniff_bytes);
}

blob_upload::blob_upload(blob_upload&& other) noexcept
    : store_(std::move(other.store_)),
      fd_(std::move(other.fd_)),
      tmp_path_(std::exchange(other.tmp_path_, {})),
      digest_(std::move(other.digest_)),
      head_(std::move(other.head_)),
      size_(other.size_),
      type_(other.type_),
      failed_(std::move(other.failed_)),
      committed_(other.committed_) {}

blob_upload& blob_upload::operator=(blob_upload&& other) noexcept {
  if (this != &other) {
    abort();
    store_ = std::move(other.store_);
    fd_ = std::move(other.fd_);
    tmp_path_ = std::exchange(other.tmp_path_, {});
    digest_ = std::move(other.digest_);
    head_ = std::move(other.head_);
    size_ = other.size_;
    type_ = other.type_;
    failed_ = std::move(other.failed_);
    committed_ = other.committed_;
  }
  return *this;
}

blob_upload::~blob_upload() { abort(); }

void blob_upload::abort() noexcept {
  fd_.close();
  if (!tmp_path_.empty()) {
    ::unlink(tmp_path_.c_str());
    tmp_path_.clear();
  }
  if (!failed_ && !committed_) failed_ = error{errc::invalid_argument, "upload was aborted"};
}

evidence::error blob_upload::fail(evidence::error e) {
  fd_.close();
  if (!tmp_path_.empty()) {
    ::unlink(tmp_path_.c_str());
    tmp_path_.clear();
  }
  failed_ = e;
  return e;
}

status blob_upload::write(std::string_view chunk) {
  if (failed_) return *failed_;
  if (committed_) return error{errc::invalid_argument, "upload already committed"};
  if (chunk.empty()) return {};

  if (!type_ && head_.size() < k_sniff_bytes) {
    head_.append(chunk.substr(0, k_sniff_bytes - head_.size()));
    if (head_.size() == k_sniff_bytes) {
      auto sniffed = sniff(head_);
      if (!sniffed) return fail(sniffed.error());
      type_ = sniffed.value();
    }
  }
  const std::uint64_t limit =
      type_ ? store_->limits.for_kind(type_->kind) : store_->limits.largest();
  if (chunk.size() > limit - std::min(limit, size_)) {
    return fail(
        error{errc::too_large, type_ ? "file is larger than the " + mib_text(limit) +
                                           " limit for " + std::string(to_string(type_->kind)) + "s"
                                     : "file is larger than the " + mib_text(limit) + " limit"});
  }

  const char* p = chunk.data();
  std::size_t left = chunk.size();
  while (left > 0) {
    const ssize_t n = store_->io.write(fd_.get(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(detail::os_error("cannot store the upload", errno));
    if (n == 0) return fail(detail::os_error("cannot store the upload", ENOSPC));
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(digest_.get()), chunk.data(), chunk.size()) != 1) {
    return fail(error{errc::io, "cannot hash the upload (OpenSSL failure)"});
  }
  size_ += chunk.size();
  return {};
}

result<stored_blob> blob_upload::commit() {
  if (failed_) return *failed_;
  if (committed_) return error{errc::invalid_argument, "upload already committed"};
  if (size_ == 0) {
    return fail(
        error{errc::empty, "file is empty; accepted are " + std::string(accepted_types_text())});
  }
  if (!type_) {
    auto sniffed = sniff(head_);  // a file shorter than k_sniff_bytes
    if (!sniffed) return fail(sniffed.error());
    type_ = sniffed.value();
  }
  if (store_->io.fsync(fd_.get()) != 0) {
    return fail(detail::os_error("cannot store the upload (sync)", errno));
  }
  if (const int err = fd_.close(); err != 0) {
    return fail(detail::os_error("cannot store the upload (close)", err));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(digest_.get()), md, &md_len) != 1) {
    return fail(error{errc::io, "cannot hash the upload (OpenSSL failure)"});
  }
  stored_blob out{hex(md, md_len), size_, *type_, false};

  const std::string root = store_->root.string();
  const std::string dir1 = root + "/" + out.sha256.substr(0, 2);
  const std::string dir2 = dir1 + "/" + out.sha256.substr(2, 2);
  bool created = false;
  if (auto r = make_dir(dir1, created); !r) return fail(r.error());
  if (created) {
    if (auto r = detail::fsync_dir(root); !r) return fail(r.error());
  }
  if (auto r = make_dir(dir2, created); !r) return fail(r.error());
  if (created) {
    if (auto r = detail::fsync_dir(dir1); !r) return fail(r.error());
  }
  const std::string dest = dir2 + "/" + out.sha256;

  struct stat st {};
  if (::lstat(dest.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<std::uint64_t>(st.st_size) == size_) {
    // Same hash and size: the same bytes. A different size would mean a damaged copy, which
    // the rename below replaces.
    out.already_stored = true;
    ::unlink(tmp_path_.c_str());
    tmp_path_.clear();
    committed_ = true;
    return out;
  }
  if (::rename(tmp_path_.c_str(), dest.c_str()) != 0) {
    return fail(detail::os_error("cannot store the upload (rename)", errno));
  }
  tmp_path_.clear();
  committed_ = true;
  if (auto r = detail::fsync_dir(dir2); !r) return r.error();
  return out;
}

result<blob_store> blob_store::open(const std::filesystem::path& root, blob_store_options options) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) {
    return error{ec.value() == ENOSPC ? errc::disk_full : errc::io,
                 "cannot create evidence folder " + root.string() + " (" + ec.message() + ")"};
  }
  auto s = std::make_shared<blob_upload::state>();
  s->root = std::filesystem::absolute(root, ec);
  if (ec) s->root = root;
  s->tmp_dir = (s->root / "tmp").string();
  bool created = false;
  if (auto r = make_dir(s->tmp_dir, created); !r) return r.error();
  s->limits = options.limits;
  s->io = std::move(options.io);
  if (!s->io.write)
    s->io.write = [](int fd, const void* p, std::size_t n) { return ::write(fd, p, n); };
  if (!s->io.fsync) s->io.fsync = [](int fd) { return ::fsync(fd); };
  return blob_store(std::move(s));
}

result<blob_upload> blob_store::begin() const {
  std::unique_ptr<void, blob_upload::digest_deleter> digest(EVP_MD_CTX_new());
  if (!digest ||
      EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(digest.get()), EVP_sha256(), nullptr) != 1) {
    return error{errc::io, "cannot start hashing the upload (OpenSSL failure)"};
  }
  // A random name with O_EXCL: never another upload's file, never a planted symlink.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::string name = detail::random_hex(16);
    if (name.empty()) return error{errc::io, "cannot name the upload: random generator failed"};
    std::string path = state_->tmp_dir + "/upload-" + name + ".part";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd >= 0) {
      return blob_upload(state_, unique_fd(fd), std::move(path), std::move(digest));
    }
    if (errno != EEXIST) return detail::os_error("cannot start the upload", errno);
  }
  return error{errc::io, "cannot start the upload: no free temporary name"};
}

result<std::filesystem::path> blob_store::path_of(std::string_view sha256) const {
  if (!is_sha256_hex(sha256)) {
    return error{errc::invalid_argument, "not a SHA-256 hex digest (64 lowercase hex digits)"};
  }
  return state_->root / std::string(sha256.substr(0, 2)) / std::string(sha256.substr(2, 2)) /
         std::string(sha256);
}

result<read_handle> blob_store::open_for_read(std::string_view sha256) const {
  auto path = path_of(sha256);
  if (!path) return path.error();
  unique_fd fd(::open(path->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) return error{errc::not_found, "no stored file " + std::string(sha256)};
    return detail::os_error("cannot open stored file " + std::string(sha256), errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return detail::os_error("cannot stat stored file", errno);
  if (!S_ISREG(st.st_mode)) return error{errc::io, "stored file is not a regular file"};
  return read_handle{std::move(fd), static_cast<std::uint64_t>(st.st_size)};
}

result<std::size_t> blob_store::clean_tmp() const {
  std::error_code ec;
  std::size_t removed = 0;
  for (std::filesystem::directory_iterator it(state_->tmp_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("upload-") && name.ends_with(".part") &&
        std::filesystem::remove(it->path(), ec)) {
      ++removed;
    }
  }
  if (ec) return error{errc::io, "cannot clean " + state_->tmp_dir + " (" + ec.message() + ")"};
  return removed;
}

const std::filesystem::path& blob_store::root() const noexcept { return state_->root; }

const blob_limits& blob_store::limits() const noexcept { return state_->limits; }

}  // namespace shouhou::connectors::evidence
