#pragma once
// Decides what an uploaded file is from its own first bytes (magic numbers). The file name and the
// Content-Type the client sent are never consulted: both are chosen by the sender and a wrong one
// would let an HTML page or an executable be served back as a "photo".
//
// Accepted: JPEG, PNG, WebP, GIF (images); HEIC/HEIF (images, ISO BMFF `ftyp` brands heic heix
// hevc heim heis hevm hevs mif1 msf1); MP4 and MOV (videos, ISO BMFF brands isom iso2..iso6 mp41
// mp42 avc1 M4V M4VH M4VP f4v dash qt, or QuickTime files that begin with a moov, mdat, wide,
// free, skip or pnot atom); PDF (documents).
//
// How many bytes: pass the first k_sniff_bytes bytes of the file, or the whole file when it is
// shorter. The answer is then final: there is no "need more" state. A signature longer than the
// bytes given simply does not match, so a file shorter than its own signature is refused ("file
// too short to recognise"); the blob store buffers the head until it has k_sniff_bytes bytes or
// the upload ends, then asks once.
//
// Thread safety: pure functions.

#include <cstddef>
#include <string>
#include <string_view>

#include "connectors/evidence/error.hpp"

namespace shouhou::connectors::evidence {

inline constexpr std::size_t k_sniff_bytes = 32;

enum class evidence_kind { image, video, document };

std::string_view to_string(evidence_kind kind) noexcept;  // "image", "video", "document"

struct file_type {
  evidence_kind kind;
  std::string_view mime;       // e.g. "image/jpeg"; static storage
  std::string_view extension;  // without dot, e.g. "jpg"; static storage
};

// The accepted types, for messages: "JPEG, PNG, WebP, GIF or HEIC/HEIF images, MP4 or MOV videos,
// PDF documents".
std::string_view accepted_types_text() noexcept;

// The type of a file whose first bytes are `head` (see above for how many).
// Errors (code unsupported_type, or empty for no bytes), messages like:
//   "file type not accepted: this is a ZIP archive; accepted are JPEG, PNG, ..."
//   "file type not accepted: unrecognised data; accepted are ..."
//   "file too short to recognise (5 bytes); accepted are ..."
result<file_type> sniff(std::string_view head);

}  // namespace shouhou::connectors::evidence
