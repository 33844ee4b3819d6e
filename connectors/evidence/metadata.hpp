#pragma once
// Removes metadata that can give away a buyer's location or identity (EXIF with its GPS IFD, XMP,
// free-text chunks, timestamps) from the image types we accept, for the copy agents see by
// default. The stored evidence stays as uploaded (its SHA-256 is the evidence) and buyers get
// their own file back unchanged; JPEG is handled by exif.hpp, the rest here.
//
// Whole-buffer, not streaming: images are at most 10 MiB (blob_limits), and a whole buffer lets
// every length be checked against the real end before anything is read. Every length field is
// treated as hostile; a structure that cannot be walked safely is an error (malformed or
// truncated), never a partial copy, so the caller can refuse to show it instead of leaking.
//
// Per format:
//  - PNG: whole chunks are copied (CRCs stay valid) from a list of chunks that cannot carry text:
//    IHDR PLTE IDAT IEND, tRNS gAMA cHRM sRGB iCCP sBIT bKGD pHYs hIST cICP mDCV cLLI, and the
//    APNG chunks acTL fcTL fdAT. Everything else is dropped: eXIf, tEXt, zTXt, iTXt, tIME, and
//    unknown ancillary chunks (a private chunk may hold anything; dropping one never breaks
//    decoding). An unknown critical chunk is an error: a decoder must refuse it anyway, and
//    dropping it would change the picture. Bytes after IEND are dropped (appended files).
//  - WebP: chunks VP8X ICCP ANIM ANMF ALPH "VP8 " VP8L are kept; EXIF, "XMP " and unknown chunks
//    are dropped; the VP8X EXIF (0x08) and XMP (0x04) flags are cleared and the RIFF size is
//    rewritten. Bytes after the RIFF end are dropped. A simple file (one VP8 or VP8L chunk) has
//    nothing to drop and comes back byte-identical.
//  - HEIC/HEIF (ISO BMFF): the top-level meta box is parsed (iinf with infe versions 0..3, iloc
//    versions 0..2, idat). Every byte of every extent of each 'Exif' item and each 'mime' item
//    of content type application/rdf+xml (XMP) is overwritten with zeros in place, so the box
//    structure and all offsets stay valid and the metadata is unreadable. Extents are located
//    with construction_method 0 (file offsets) or 1 (inside idat); method 2 (item reference) or
//    data in another file (data_reference_index != 0) for such an item is an error. Metadata in
//    a sequence's moov (track udta/meta) is not examined.
//
// Thread safety: pure functions.

#include <string>
#include <string_view>

#include "connectors/evidence/error.hpp"

namespace shouhou::connectors::evidence {

// Errors: malformed (no PNG signature, bad chunk type or length, unknown critical chunk),
// truncated (a chunk runs past the end, or no IEND).
result<std::string> strip_png_metadata(std::string_view png);

// Errors: malformed (not RIFF/WEBP, bad RIFF size, VP8X too short), truncated (a chunk runs past
// the RIFF end or the RIFF size past the buffer).
result<std::string> strip_webp_metadata(std::string_view webp);

// Zeroes the Exif and XMP items of `heif` in place and returns it; the size never changes.
// Errors: malformed (box sizes that do not nest, duplicate or unparseable iinf/iloc/idat, an
// extent outside the file or idat, an Exif/XMP item stored by reference or in another file).
result<std::string> strip_heif_metadata(std::string heif);

// The copy to show agents of a file of type `mime`, exactly as sniff() names it: image/jpeg
// (strip_jpeg_metadata), image/png, image/webp, image/heic, image/heif, image/heic-sequence,
// image/heif-sequence. Any other type (GIF, videos, PDF) comes back unchanged.
result<std::string> strip_location_metadata(std::string_view mime, std::string bytes);

}  // namespace shouhou::connectors::evidence
