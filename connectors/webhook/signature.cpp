#include "connectors/webhook/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <optional>

namespace shouhou::connectors::webhook {
namespace {

constexpr std::size_t k_digest_bytes = 32;
using digest = std::array<unsigned char, k_digest_bytes>;

std::optional<digest> hmac_sha256(std::string_view secret, std::string_view body) noexcept {
  if (secret.empty()) return std::nullopt;
  digest out{};
  std::size_t out_len = 0;
  // EVP_Q_mac rather than the HMAC() one-shot so that the tests, which use HMAC(), check this
  // against an independent code path.
  const unsigned char* mac =
      EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(body.data()), body.size(), out.data(),
                out.size(), &out_len);
  if (mac == nullptr || out_len != k_digest_bytes) return std::nullopt;
  return out;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string sign_body(std::string_view secret, std::string_view body) {
  const auto mac = hmac_sha256(secret, body);
  if (!mac) return {};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(k_signature_prefix);
  out.reserve(k_signature_prefix.size() + 2 * k_digest_bytes);
  for (const unsigned char b : *mac) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0f]);
  }
  return out;
}

bool verify_signature(std::string_view secret, std::string_view body,
                      std::string_view header) noexcept {
  if (header.size() != k_signature_prefix.size() + 2 * k_digest_bytes ||
      header.substr(0, k_signature_prefix.size()) != k_signature_prefix) {
    return false;
  }
  const std::string_view hex = header.substr(k_signature_prefix.size());
  digest given{};
  for (std::size_t i = 0; i < k_digest_bytes; ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    given[i] = static_cast<unsigned char>((hi << 4) | lo);
  }
  const auto expected = hmac_sha256(secret, body);
  if (!expected) return false;
  return CRYPTO_memcmp(given.data(), expected->data(), k_digest_bytes) == 0;
}

}  // namespace shouhou::connectors::webhook
