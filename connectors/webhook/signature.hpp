#pragma once
// Signing of webhook bodies, so a receiver can tell the events come from this bot and were not
// altered on the way.
//
// Every request carries the header
//   X-Shouhou-Signature: sha256=<64 lowercase hex digits>
// whose digits are HMAC-SHA256(secret, body) over the exact bytes of the request body, as sent
// (no re-serialisation, no trimming, no added newline). A receiver recomputes the HMAC over the
// raw body it read, before parsing it, and compares in constant time; verify_signature() below
// does exactly that and is what receivers written in C++ should call.
//
// The secret is never part of any output of this module and never logged.
//
// Thread safety: free functions without shared state; callable from any thread.

#include <string>
#include <string_view>

namespace shouhou::connectors::webhook {

inline constexpr std::string_view k_signature_header = "X-Shouhou-Signature";
inline constexpr std::string_view k_signature_prefix = "sha256=";

// "sha256=" followed by the 64 lowercase hex digits of HMAC-SHA256(secret, body). Returns an
// empty string when `secret` is empty (anyone could forge a signature made with no key) or
// when OpenSSL fails.
std::string sign_body(std::string_view secret, std::string_view body);

// True when `header` is the signature of `body` under `secret`: "sha256=" followed by 64 hex
// digits (either case) equal to the HMAC. The digests are compared with CRYPTO_memcmp, so the
// time taken does not tell an attacker how many leading bytes of a guess were right. False for
// an empty secret and for any header of another shape.
bool verify_signature(std::string_view secret, std::string_view body,
                      std::string_view header) noexcept;

}  // namespace shouhou::connectors::webhook
