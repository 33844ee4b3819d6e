#pragma once
// Removes metadata that can give away a buyer (EXIF GPS position, camera serial numbers, XMP,
// IPTC, comments, embedded preview images) from a JPEG before agents see it. The stored evidence
// stays byte-for-byte as uploaded (its SHA-256 is the evidence); this makes the copy that is
// shown by default.
//
// Whole-buffer, not streaming: images are at most 10 MiB (blob_limits), the function is called
// once per view or once per stored derivative, and a whole buffer lets it check every length
// against the real end before reading.
//
// What is kept: SOI, APP0 (JFIF), APP2 ICC_PROFILE (colours), APP14 Adobe (colour transform),
// every table and frame segment, the image data up to the first EOI. What is dropped: every APP1
// (Exif, XMP), APP13 (Photoshop/IPTC), other APP2 (MPF, which points at appended images), the
// other APPn, COM, and anything after EOI (appended images or other files). The Exif orientation
// is kept by writing a new minimal Exif segment with only that tag, so phone photos are not shown
// sideways.
//
// Robustness: every read is bounds-checked. Bytes that are not a marker between header segments
// are skipped (as libjpeg does). A file cut inside its header segments is refused (truncated); a
// file cut inside the image data is copied with an EOI appended, and says so.
//
// Thread safety: pure functions.

#include <cstddef>
#include <string>
#include <string_view>

#include "connectors/evidence/error.hpp"

namespace shouhou::connectors::evidence {

struct jpeg_metadata {
  bool has_exif = false;
  bool has_gps = false;  // Exif IFD0 has a GPS IFD pointer (tag 0x8825)
  bool has_xmp = false;
  int orientation = 0;  // Exif orientation 1..8, 0 when absent or unreadable
};

// Reads the metadata segments before the image data. Errors: malformed (not a JPEG, no image
// data), truncated.
result<jpeg_metadata> inspect_jpeg(std::string_view jpeg);

struct stripped_jpeg {
  std::string jpeg;
  std::size_t segments_removed = 0;
  bool removed_gps = false;  // the original had an Exif GPS IFD
  bool kept_orientation = false;
  bool scan_truncated = false;  // image data ended without EOI; one was appended
};

// Errors: malformed (does not start with SOI, no image data, bad segment length), truncated
// (cut before the image data).
result<stripped_jpeg> strip_jpeg_metadata(std::string_view jpeg);

}  // namespace shouhou::connectors::evidence
