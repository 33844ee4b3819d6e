#pragma once
// Signed, expiring links that let a buyer upload evidence for one checklist item of one
// conversation, or read back one of their own files, without any session or login.
//
// Link shapes (request targets, relative to the bot's own HTTP port):
//   upload: /v1/evidence/upload/{conversation}/{item}?exp={unix_seconds}&sig={sig}
//   read:   /v1/evidence/{evidence_id}?conv={conversation}&exp={unix_seconds}&sig={sig}
// sig = base64url without padding (43 characters) of
//   HMAC-SHA256(secret, "shouhou-evidence-v1\n" purpose "\n" conversation "\n" subject "\n" exp)
// where purpose is "upload" or "read" and subject is the item or the evidence id. The purpose is
// signed, so a read link cannot be turned into an upload link (or back) by editing the path.
//
// Ids (conversation, item, evidence id) are 1..k_max_id_bytes bytes of [A-Za-z0-9_-]: nothing
// that could be a path separator, a dot segment or percent-encoding ever reaches a handler, and
// the canonical string cannot be made ambiguous with a newline. A target with '%', '#', dot
// segments, empty segments or a trailing slash is malformed, never decoded.
//
// Query parameters other than conv, exp and sig are ignored (a widget may add cache busters); a
// repeated conv, exp or sig is malformed. Checks run in the order: shape (malformed), signature
// (forged; compared with CRYPTO_memcmp), expiry (expired), so "expired" is only ever said of a link
// this server really issued.
//
// Every instance behind one load balancer must share the same secret.key.
//
// Thread safety: link_signer is immutable after construction; all const members may be called
// from any number of threads at once.

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "connectors/evidence/error.hpp"

namespace shouhou::connectors::evidence {

inline constexpr std::size_t k_max_id_bytes = 128;
inline constexpr std::size_t k_secret_bytes = 32;

// 1..k_max_id_bytes bytes, each in [A-Za-z0-9_-].
bool is_valid_id(std::string_view id) noexcept;

// The HMAC key. Wiped from memory when destroyed. Copyable (the signer keeps its own copy).
class secret_key {
 public:
  explicit secret_key(const std::array<unsigned char, k_secret_bytes>& bytes) noexcept;
  secret_key(const secret_key&) = default;
  secret_key& operator=(const secret_key&) = default;
  ~secret_key();

  const std::array<unsigned char, k_secret_bytes>& bytes() const noexcept { return bytes_; }

 private:
  std::array<unsigned char, k_secret_bytes> bytes_;
};

// Reads data_dir/secret.key (exactly 32 bytes). When it does not exist, creates data_dir if
// needed and writes 32 bytes from RAND_bytes with mode 0600: into a temporary file, fsynced, then
// link()ed to secret.key so that two processes starting at once never overwrite each other's key
// (the loser reads the winner's), then the folder is fsynced.
// Errors (io): unreadable file, wrong size ("secret.key must be exactly 32 bytes, found 7"),
// readable or writable by group or others (like ssh, a key others can read is refused rather than
// silently used), random generator failure, any write failure (the temporary file is removed).
result<secret_key> load_or_create_secret(const std::filesystem::path& data_dir);

enum class link_purpose { upload, read };

struct link_claims {
  link_purpose purpose;
  std::string conversation;
  std::string subject;   // checklist item (upload) or evidence id (read)
  std::int64_t expires;  // unix seconds; the link is valid while now <= expires
};

class link_signer {
 public:
  explicit link_signer(secret_key key) noexcept;

  // The request target for an upload link. Errors (invalid_argument): an id that fails
  // is_valid_id, or expires < 0.
  result<std::string> upload_target(std::string_view conversation, std::string_view item,
                                    std::int64_t expires) const;

  // The request target for a buyer's read-back link of one stored file.
  result<std::string> read_target(std::string_view conversation, std::string_view evidence_id,
                                  std::int64_t expires) const;

  // Parses and checks any evidence link target (path and query as received, e.g. Beast's
  // request::target()). Errors: malformed (with what is wrong), forged, expired.
  result<link_claims> verify(std::string_view target, std::int64_t now_unix) const;

  // As verify(), and also wrong_purpose when the link is of the other kind. Use these in
  // handlers so a route can never accept the wrong kind of link by forgetting a check.
  result<link_claims> verify_upload(std::string_view target, std::int64_t now_unix) const;
  result<link_claims> verify_read(std::string_view target, std::int64_t now_unix) const;

  // The signature for a canonical claim (exposed for tests and tooling).
  std::string signature(const link_claims& claims) const;

 private:
  secret_key key_;
};

}  // namespace shouhou::connectors::evidence
