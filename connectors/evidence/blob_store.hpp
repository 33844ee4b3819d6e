#pragma once
// Content-addressed storage of evidence files under one root folder (e.g. data/evidence):
//   root/tmp/upload-<random>.part   uploads in progress (O_EXCL, mode 0640)
//   root/ab/cd/<sha256 hex>         complete files; ab and cd are the first two hex byte pairs
// A file is fed to a blob_upload in chunks as they arrive from the network. The type is sniffed
// from the first k_sniff_bytes bytes and the per-kind size limit is enforced as soon as the type
// is known, so a wrong type or an over-size body is refused after at most one chunk past the
// point where it became wrong, without reading the rest. Memory per upload is constant (a
// 32-byte head and a SHA-256 context); every chunk goes straight to the temporary file.
//
// commit() fsyncs the file, renames it to its hash path (or, if that exists with the same size,
// drops the temporary: the same file twice is stored once) and fsyncs the folder. Any failure,
// refusal, abort() or destruction before commit removes the temporary file: a broken upload
// leaves nothing behind. One exception, documented rather than hidden: if the final folder sync
// fails after the rename, the complete and correct blob stays (unreferenced) and commit reports
// the error, because another upload of the same bytes may already point at it.
//
// Blocking: write() and commit() do synchronous disk I/O (commit's fsync can take tens of ms on
// slow disks). Calling them from a Beast session's strand is acceptable for local disks; a
// server that must never stall an I/O thread can post commit() to a small thread pool.
//
// Thread safety: blob_store is immutable after open() and may be shared by all threads (copies
// share state). A blob_upload is used by one thread at a time (the session that owns it); many
// uploads may run at once, including of the same bytes.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "connectors/evidence/error.hpp"
#include "connectors/evidence/posix_io.hpp"
#include "connectors/evidence/sniff.hpp"

namespace shouhou::connectors::evidence {

inline constexpr std::uint64_t k_mib = 1024 * 1024;

struct blob_limits {
  std::uint64_t max_image_bytes = 10 * k_mib;
  std::uint64_t max_video_bytes = 200 * k_mib;
  std::uint64_t max_document_bytes = 10 * k_mib;

  std::uint64_t for_kind(evidence_kind kind) const noexcept;
  std::uint64_t largest() const noexcept;
};

// Seam for fault injection in tests (a write that fails with ENOSPC half-way, an fsync that
// fails). Same contract as the POSIX calls: return -1 and set errno on failure. Production code
// leaves the defaults.
struct blob_io {
  std::function<ssize_t(int fd, const void* data, std::size_t size)> write;  // default ::write
  std::function<int(int fd)> fsync;                                          // default ::fsync
};

struct blob_store_options {
  blob_limits limits;
  blob_io io;
};

struct stored_blob {
  std::string sha256;  // 64 lowercase hex digits
  std::uint64_t size = 0;
  file_type type;
  bool already_stored = false;  // the same bytes were stored before; nothing new was written
};

struct read_handle {
  unique_fd fd;  // open for reading at offset 0; beast::file::native_handle(fd.release())
  std::uint64_t size = 0;
};

class blob_store;

// One upload in progress. Move-only; destroying it before commit() aborts it.
class blob_upload {
 public:
  blob_upload(blob_upload&&) noexcept;
  blob_upload& operator=(blob_upload&&) noexcept;
  blob_upload(const blob_upload&) = delete;
  blob_upload& operator=(const blob_upload&) = delete;
  ~blob_upload();

  // Appends a chunk. Errors: unsupported_type (as soon as k_sniff_bytes have arrived),
  // too_large (the chunk that would pass the limit for the sniffed kind; before the type is
  // known, the largest limit), disk_full, io. After an error the temporary file is already gone
  // and every later call returns the same error.
  status write(std::string_view chunk);

  // Finishes the upload. Errors: empty, unsupported_type (short files are sniffed here),
  // disk_full, io, or the earlier write() error; invalid_argument when already committed.
  result<stored_blob> commit();

  // Drops the upload and its temporary file. Idempotent; never fails.
  void abort() noexcept;

  std::uint64_t size() const noexcept { return size_; }
  // The sniffed type, once k_sniff_bytes have arrived (or after commit).
  const std::optional<file_type>& type() const noexcept { return type_; }

 private:
  friend class blob_store;
  struct state;
  struct digest_deleter {
    void operator()(void* ctx) const noexcept;
  };

  blob_upload(std::shared_ptr<const state> store, unique_fd fd, std::string tmp_path,
              std::unique_ptr<void, digest_deleter> digest);
  evidence::error fail(evidence::error e);

  std::shared_ptr<const state> store_;
  unique_fd fd_;
  std::string tmp_path_;
  std::unique_ptr<void, digest_deleter> digest_;  // EVP_MD_CTX, kept opaque to spare includes
  std::string head_;
  std::uint64_t size_ = 0;
  std::optional<file_type> type_;
  std::optional<evidence::error> failed_;
  bool committed_ = false;
};

class blob_store {
 public:
  // Creates root and root/tmp when missing. Errors: io, disk_full.
  static result<blob_store> open(const std::filesystem::path& root,
                                 blob_store_options options = {});

  // Starts an upload (a new temporary file). Errors: io, disk_full.
  result<blob_upload> begin() const;

  // Opens a stored file. Errors: invalid_argument (not 64 lowercase hex digits), not_found, io.
  result<read_handle> open_for_read(std::string_view sha256) const;

  // Where a stored file lives. Errors: invalid_argument.
  result<std::filesystem::path> path_of(std::string_view sha256) const;

  // Removes temporary files left by a crash. Only at start-up, before any begin(): it would
  // delete uploads in progress. Returns how many files were removed.
  result<std::size_t> clean_tmp() const;

  const std::filesystem::path& root() const noexcept;
  const blob_limits& limits() const noexcept;

 private:
  explicit blob_store(std::shared_ptr<const blob_upload::state> s) : state_(std::move(s)) {}
  std::shared_ptr<const blob_upload::state> state_;
};

// True for exactly 64 lowercase hex digits.
bool is_sha256_hex(std::string_view s) noexcept;

}  // namespace shouhou::connectors::evidence
