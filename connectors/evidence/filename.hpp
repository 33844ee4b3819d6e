#pragma once
// The original name of an uploaded file, kept only as metadata (shown to agents, offered in
// Content-Disposition when a file is downloaded). It is never used to build a path: files are
// stored by hash. Still, a name is refused rather than cleaned when it is one the issue lists as
// bad input, because silently rewriting "../../etc/passwd" into "etcpasswd" hides an attack from
// the logs and from the agent, and a buyer whose phone sent a normal name never sees a refusal.
//
// Refused (errc::malformed, message says which rule):
//   - empty, or longer than k_max_filename_bytes bytes;
//   - not valid UTF-8 (overlong forms, surrogates, code points above U+10FFFF, cut sequences);
//   - a path separator '/' or '\', or a name that is "." or "..";
//   - control characters: C0 (U+0000-U+001F), DEL (U+007F), C1 (U+0080-U+009F);
//   - bidirectional controls (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which would let
//     "invoice_gpj.exe" display as "invoice_exe.jpg" in the agent console.
// Accepted as is: any other UTF-8, including Chinese names, spaces and "a..b.jpg" (a run of dots
// inside a name is not a path step once separators are refused).
//
// Thread safety: pure functions.

#include <cstddef>
#include <string>
#include <string_view>

#include "connectors/evidence/error.hpp"

namespace shouhou::connectors::evidence {

inline constexpr std::size_t k_max_filename_bytes = 255;

// Returns the name unchanged when it may be stored, else an error naming the rule it breaks.
result<std::string> check_filename(std::string_view name);

// A Content-Disposition header value for serving a stored file under a checked name:
//   attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name>
// (RFC 6266). The fallback replaces non-ASCII, '"', '\' and '%' with '_'. `inline_view` uses
// "inline" instead of "attachment" (for images shown in the agent console). An empty name gives
// just the disposition type.
std::string content_disposition_value(std::string_view checked_name, bool inline_view = false);

}  // namespace shouhou::connectors::evidence
