#pragma once
// Errors of the evidence building blocks, as values. Nothing in connectors/evidence/ throws on
// bad input, I/O failure or a refused upload; every such outcome is an `error` with a stable code
// (for the HTTP status and for tests) and a message meant to be sent to the buyer or agent as is.
//
// Thread safety: plain values; no shared state.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace shouhou::connectors::evidence {

enum class errc {
  invalid_argument,  // caller passed something the API refuses (bad id, bad hash, bad state)
  malformed,         // request target, header or body does not follow the expected shape
  expired,           // signed link past its expiry
  forged,            // signed link whose signature does not match
  wrong_purpose,     // a valid link used for the other operation (read link used to upload)
  unsupported_type,  // file bytes are not an accepted type
  empty,             // empty file or body
  too_large,         // size limit passed
  too_many,          // count limit passed (multipart parts)
  truncated,         // input ended early (multipart without closing boundary, cut JPEG)
  not_found,         // no such stored file
  disk_full,         // ENOSPC, EDQUOT or EFBIG while writing
  io,                // any other operating-system failure
};

// Stable lower_snake name of a code, e.g. "too_large" (for logs and JSON error bodies).
std::string_view to_string(errc code) noexcept;

// The HTTP status an integrator would normally answer with: 400 malformed/invalid/empty/
// truncated, 403 forged/wrong_purpose, 410 expired, 404 not_found, 413 too_large/too_many,
// 415 unsupported_type, 507 disk_full, 500 io.
int http_status(errc code) noexcept;

struct error {
  errc code;
  std::string message;  // complete sentence for people; never contains secrets
};

// Either a T or an error. Callers check ok() first, as with RE2's ok(); value() on an error or
// error() on a value is a programming error (undefined behaviour, like optional::operator*).
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : value_(std::in_place_index<0>, std::move(value)) {}        // NOLINT: implicit
  result(evidence::error e) : value_(std::in_place_index<1>, std::move(e)) {}  // NOLINT

  bool ok() const noexcept { return value_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return *std::get_if<0>(&value_); }
  const T& value() const& { return *std::get_if<0>(&value_); }
  T&& value() && { return std::move(*std::get_if<0>(&value_)); }
  T* operator->() { return std::get_if<0>(&value_); }
  const T* operator->() const { return std::get_if<0>(&value_); }

  const evidence::error& error() const { return *std::get_if<1>(&value_); }

 private:
  std::variant<T, evidence::error> value_;
};

// Success with nothing to return, or an error.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(evidence::error e) : error_(std::move(e)) {}  // NOLINT: implicit

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const evidence::error& error() const { return *error_; }

 private:
  std::optional<evidence::error> error_;
};

using status = result<void>;

}  // namespace shouhou::connectors::evidence
