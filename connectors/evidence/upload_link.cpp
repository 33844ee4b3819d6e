#include "connectors/evidence/upload_link.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <optional>
#include <system_error>
#include <vector>

#include "connectors/evidence/posix_io.hpp"

namespace shouhou::connectors::evidence {
namespace {

constexpr std::string_view k_prefix = "/v1/evidence/";
constexpr std::size_t k_sig_chars = 43;  // base64url of 32 bytes, no padding

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

std::string base64url(const unsigned char* data, std::size_t n) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const unsigned v = (unsigned{data[i]} << 16) | (unsigned{data[i + 1]} << 8) | data[i + 2];
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  if (n - i == 1) {
    const unsigned v = unsigned{data[i]} << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
  } else if (n - i == 2) {
    const unsigned v = (unsigned{data[i]} << 16) | (unsigned{data[i + 1]} << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
  }
  return out;
}

std::string_view purpose_name(link_purpose p) {
  return p == link_purpose::upload ? "upload" : "read";
}

evidence::error malformed(std::string what) {
  return {errc::malformed, "malformed evidence link: " + std::move(what)};
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const std::size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

result<secret_key> read_secret(const std::filesystem::path& file, int fd_raw) {
  unique_fd fd(fd_raw);
  const std::string name = file.string();
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return detail::os_error("cannot stat " + name, errno);
  if (!S_ISREG(st.st_mode)) return error{errc::io, name + " is not a regular file"};
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return error{errc::io, name + " is readable or writable by group or others (mode " +
                               std::string(mode) + "); run chmod 600 on it"};
  }
  if (st.st_size != static_cast<off_t>(k_secret_bytes)) {
    return error{errc::io, name + " must be exactly " + std::to_string(k_secret_bytes) +
                               " bytes, found " + std::to_string(st.st_size)};
  }
  std::array<unsigned char, k_secret_bytes> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return detail::os_error("cannot read " + name, errno);
    if (n == 0) return error{errc::io, name + " shrank while being read"};
    got += static_cast<std::size_t>(n);
  }
  secret_key key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

result<secret_key> create_secret(const std::filesystem::path& dir,
                                 const std::filesystem::path& file) {
  std::array<unsigned char, k_secret_bytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return error{errc::io, "cannot create the evidence link secret: random generator failed"};
  }
  const std::string suffix = detail::random_hex(8);
  if (suffix.empty())
    return error{errc::io, "cannot create the evidence link secret: random generator failed"};
  const std::string tmp = (dir / ("secret.key.tmp-" + suffix)).string();
  unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return detail::os_error("cannot create " + tmp, errno);
  auto fail = [&](evidence::error e) -> result<secret_key> {
    fd.close();
    ::unlink(tmp.c_str());
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return e;
  };
  // The umask could only narrow 0600, but make the mode exact rather than depend on it.
  if (::fchmod(fd.get(), 0600) != 0) return fail(detail::os_error("cannot chmod " + tmp, errno));
  std::size_t put = 0;
  while (put < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + put, bytes.size() - put);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(detail::os_error("cannot write " + tmp, errno));
    put += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail(detail::os_error("cannot sync " + tmp, errno));
  if (const int err = fd.close(); err != 0)
    return fail(detail::os_error("cannot close " + tmp, err));
  // link() instead of rename(): it refuses to replace a key another process created meanwhile.
  if (::link(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    OPENSSL_cleanse(bytes.data(), bytes.size());
    if (err == EEXIST) {
      const int other = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (other < 0) return detail::os_error("cannot open " + file.string(), errno);
      return read_secret(file, other);
    }
    return detail::os_error("cannot create " + file.string(), err);
  }
  ::unlink(tmp.c_str());
  if (auto synced = detail::fsync_dir(dir.string()); !synced) return synced.error();
  secret_key key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

}  // namespace

bool is_valid_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > k_max_id_bytes) return false;
  for (char c : id)
    if (!is_id_char(c)) return false;
  return true;
}

secret_key::secret_key(const std::array<unsigned char, k_secret_bytes>& bytes) noexcept
    : bytes_(bytes) {}

secret_key::~secret_key() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

result<secret_key> load_or_create_secret(const std::filesystem::path& data_dir) {
  const std::filesystem::path file = data_dir / "secret.key";
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) return read_secret(file, fd);
  if (errno != ENOENT) return detail::os_error("cannot open " + file.string(), errno);
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    return error{errc::io,
                 "cannot create data folder " + data_dir.string() + " (" + ec.message() + ")"};
  return create_secret(data_dir, file);
}

link_signer::link_signer(secret_key key) noexcept : key_(std::move(key)) {}

std::string link_signer::signature(const link_claims& claims) const {
  std::string canonical = "shouhou-evidence-v1\n";
  canonical += purpose_name(claims.purpose);
  canonical += '\n';
  canonical += claims.conversation;
  canonical += '\n';
  canonical += claims.subject;
  canonical += '\n';
  canonical += std::to_string(claims.expires);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const auto& k = key_.bytes();
  if (HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()),
           reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), mac,
           &mac_len) == nullptr) {
    return {};  // never matches: verify() requires k_sig_chars characters
  }
  return base64url(mac, mac_len);
}

result<std::string> link_signer::upload_target(std::string_view conversation, std::string_view item,
                                               std::int64_t expires) const {
  if (!is_valid_id(conversation)) return error{errc::invalid_argument, "invalid conversation id"};
  if (!is_valid_id(item)) return error{errc::invalid_argument, "invalid checklist item id"};
  if (expires < 0) return error{errc::invalid_argument, "negative expiry"};
  const link_claims c{link_purpose::upload, std::string(conversation), std::string(item), expires};
  const std::string sig = signature(c);
  if (sig.size() != k_sig_chars) return error{errc::io, "cannot sign the link (HMAC failed)"};
  return std::string(k_prefix) + "upload/" + c.conversation + "/" + c.subject +
         "?exp=" + std::to_string(expires) + "&sig=" + sig;
}

result<std::string> link_signer::read_target(std::string_view conversation,
                                             std::string_view evidence_id,
                                             std::int64_t expires) const {
  if (!is_valid_id(conversation)) return error{errc::invalid_argument, "invalid conversation id"};
  if (!is_valid_id(evidence_id)) return error{errc::invalid_argument, "invalid evidence id"};
  if (expires < 0) return error{errc::invalid_argument, "negative expiry"};
  const link_claims c{link_purpose::read, std::string(conversation), std::string(evidence_id),
                      expires};
  const std::string sig = signature(c);
  if (sig.size() != k_sig_chars) return error{errc::io, "cannot sign the link (HMAC failed)"};
  return std::string(k_prefix) + c.subject + "?conv=" + c.conversation +
         "&exp=" + std::to_string(expires) + "&sig=" + sig;
}

result<link_claims> link_signer::verify(std::string_view target, std::int64_t now_unix) const {
  if (target.size() > 4096) return malformed("too long");
  for (char c : target) {
    // Anything that would need decoding or that a proxy could reinterpret is refused outright.
    if (c == '%' || c == '#' || c == '\\' || static_cast<unsigned char>(c) <= 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f) {
      return malformed("unexpected character in the link");
    }
  }
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return malformed("no signature");
  const std::string_view path = target.substr(0, q);
  const std::string_view query = target.substr(q + 1);
  if (!path.starts_with(k_prefix)) return malformed("not an evidence link");

  link_claims claims{};
  const std::vector<std::string_view> segs = split(path.substr(k_prefix.size()), '/');
  if (segs.size() == 3 && segs[0] == "upload") {
    claims.purpose = link_purpose::upload;
    if (!is_valid_id(segs[1])) return malformed("invalid conversation id");
    if (!is_valid_id(segs[2])) return malformed("invalid checklist item id");
    claims.conversation = segs[1];
    claims.subject = segs[2];
  } else if (segs.size() == 1) {
    claims.purpose = link_purpose::read;
    if (!is_valid_id(segs[0])) return malformed("invalid evidence id");
    claims.subject = segs[0];
  } else {
    return malformed("unknown path");
  }

  std::optional<std::string_view> conv, exp, sig;
  for (std::string_view param : split(query, '&')) {
    const std::size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
    std::optional<std::string_view>* slot = key == "conv"  ? &conv
                                            : key == "exp" ? &exp
                                            : key == "sig" ? &sig
                                                           : nullptr;
    if (slot == nullptr) continue;
    if (slot->has_value()) return malformed("repeated parameter " + std::string(key));
    *slot = value;
  }
  if (!exp) return malformed("no exp parameter");
  if (!sig) return malformed("no sig parameter");
  // At most 18 digits always fits in int64; no leading zeros keeps one spelling per expiry.
  if (exp->empty() || exp->size() > 18 || (exp->size() > 1 && (*exp)[0] == '0')) {
    return malformed("bad exp parameter");
  }
  for (char c : *exp)
    if (c < '0' || c > '9') return malformed("bad exp parameter");
  std::from_chars(exp->data(), exp->data() + exp->size(), claims.expires);
  if (sig->size() != k_sig_chars) return malformed("bad sig parameter");
  for (char c : *sig)
    if (!is_id_char(c)) return malformed("bad sig parameter");
  if (claims.purpose == link_purpose::read) {
    if (!conv) return malformed("no conv parameter");
    if (!is_valid_id(*conv)) return malformed("invalid conversation id");
    claims.conversation = *conv;
  }

  const std::string expected = signature(claims);
  if (expected.size() != k_sig_chars ||
      CRYPTO_memcmp(expected.data(), sig->data(), k_sig_chars) != 0) {
    return error{errc::forged, "evidence link is not valid (signature does not match)"};
  }
  if (now_unix > claims.expires) {
    return error{errc::expired, "evidence link has expired; ask in the chat for a new one"};
  }
  return claims;
}

result<link_claims> link_signer::verify_upload(std::string_view target,
                                               std::int64_t now_unix) const {
  auto r = verify(target, now_unix);
  if (r && r->purpose != link_purpose::upload) {
    return error{errc::wrong_purpose, "this link is for reading a file, not for uploading"};
  }
  return r;
}

result<link_claims> link_signer::verify_read(std::string_view target, std::int64_t now_unix) const {
  auto r = verify(target, now_unix);
  if (r && r->purpose != link_purpose::read) {
    return error{errc::wrong_purpose, "this link is for uploading, not for reading a file"};
  }
  return r;
}

}  // namespace shouhou::connectors::evidence
