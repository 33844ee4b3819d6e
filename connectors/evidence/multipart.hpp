#pragma once
// Streaming multipart/form-data parser (RFC 7578 over RFC 2046), for POST uploads of one or more
// files as browsers send them. Bytes are fed in chunks of any size as they arrive (e.g. each
// buffer of a Beast buffer_body read); part data is handed on at once, so memory is bounded by
// the header limit plus the boundary length, however large a part is. A boundary that straddles
// two chunks is recognised; bytes that only looked like the start of a boundary are handed on
// as data once they turn out not to be one.
//
// Not interpreted, on purpose: percent-escapes and backslashes in quoted parameter values are
// kept literally (browsers escape '"' as %22 and never use backslash escapes; decoding a
// backslash would hide a Windows path separator from the file-name check). Content-Type of a
// part is reported as sent but never trusted: the file's type is sniffed from its bytes. The
// file name is reported raw; run it through check_filename() before storing it.
//
// Errors: every problem becomes an error value from feed() or finish(); after the first error
// the parser makes no more callbacks and returns that error again. The caller then aborts
// whatever part it was storing (no on_part_end is called for it).
//
// Thread safety: one parser per request, used by one thread at a time.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/evidence/error.hpp"

namespace shouhou::connectors::evidence {

struct multipart_limits {
  std::size_t max_header_bytes = 8 * 1024;     // one part's header block, CRLFs included
  std::size_t max_parts = 32;                  // fields and files together
  std::size_t max_preamble_bytes = 16 * 1024;  // junk before the first boundary (browsers: 0)
};

struct part_info {
  std::string name;                     // form field name (required by RFC 7578)
  std::optional<std::string> filename;  // present for file inputs; "" for an empty file input
  std::string content_type;             // as sent, empty if none; informational only
};

// Callbacks return an error to stop parsing at once (e.g. a blob_upload refusing the data as
// too large): feed() then returns that error.
struct multipart_callbacks {
  std::function<status(const part_info& part)> on_part_begin;
  std::function<status(std::string_view data)> on_part_data;  // never called with empty data
  std::function<status()> on_part_end;
};

// The boundary parameter of a multipart/form-data Content-Type header value, quoted or not.
// Errors (malformed): another media type, no boundary, or a boundary that RFC 2046 forbids
// (empty, over 70 characters, characters outside its set).
result<std::string> multipart_boundary(std::string_view content_type);

struct content_disposition {
  std::string type;  // lowercased, e.g. "form-data" or "attachment"
  std::optional<std::string> name;
  std::optional<std::string> filename;  // filename*=UTF-8''... preferred over filename=
};

// Parses a Content-Disposition value (also useful for a PUT that names its file that way).
// Errors (malformed): no type, duplicate parameters, unterminated quotes, bad filename*.
result<content_disposition> parse_content_disposition(std::string_view value);

class multipart_parser {
 public:
  // Errors: those of multipart_boundary(); invalid_argument when a callback is missing.
  static result<multipart_parser> create(std::string_view content_type,
                                         multipart_callbacks callbacks,
                                         multipart_limits limits = {});

  // Consumes all of `bytes`. Errors: malformed (bad boundary line, part header without
  // Content-Disposition form-data and a name, preamble too long), too_large (part header block
  // over the limit), too_many (more parts than the limit), or a callback's error.
  status feed(std::string_view bytes);

  // The body has ended. Errors: truncated when the closing boundary was not seen.
  status finish();

  bool done() const noexcept { return state_ == state::epilogue; }
  std::size_t parts() const noexcept { return parts_; }
  // Bytes held inside the parser: at most max_header_bytes, whatever the part sizes.
  std::size_t buffered_bytes() const noexcept { return header_.capacity(); }

 private:
  enum class state { preamble, boundary_tail, headers, body, epilogue };
  enum class tail { start, dash, padding, cr };

  multipart_parser(std::string boundary, multipart_callbacks callbacks, multipart_limits limits);
  status fail(evidence::error e);
  status scan(std::string_view data, std::size_t& i);  // preamble and body
  status emit(std::string_view data);
  status on_delimiter();
  status tail_byte(char c);
  status header_byte(char c);
  status begin_part();

  std::string delimiter_;              // CRLF "--" boundary
  std::vector<std::size_t> fallback_;  // KMP failure function of delimiter_
  multipart_callbacks callbacks_;
  multipart_limits limits_;
  state state_ = state::preamble;
  tail tail_ = tail::start;
  std::size_t match_ = 2;  // bytes of delimiter_ matched; the body starts after a virtual CRLF
  std::size_t preamble_bytes_ = 0;
  std::size_t padding_bytes_ = 0;
  std::size_t parts_ = 0;
  std::string header_;
  std::optional<evidence::error> failed_;
};

}  // namespace shouhou::connectors::evidence
