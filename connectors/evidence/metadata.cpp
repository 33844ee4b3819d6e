#include "connectors/evidence/metadata.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "connectors/evidence/exif.hpp"

namespace shouhou::connectors::evidence {
namespace {

unsigned char at(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }

std::uint32_t be32(std::string_view s, std::size_t i) {
  return (std::uint32_t{at(s, i)} << 24) | (std::uint32_t{at(s, i + 1)} << 16) |
         (std::uint32_t{at(s, i + 2)} << 8) | std::uint32_t{at(s, i + 3)};
}

std::uint32_t le32(std::string_view s, std::size_t i) {
  return (std::uint32_t{at(s, i + 3)} << 24) | (std::uint32_t{at(s, i + 2)} << 16) |
         (std::uint32_t{at(s, i + 1)} << 8) | std::uint32_t{at(s, i)};
}

void put_le32(std::string& s, std::size_t i, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) s[i + static_cast<std::size_t>(k)] = static_cast<char>(v >> (8 * k));
}

bool is_letter(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

template <std::size_t N>
bool one_of(std::string_view v, const std::array<std::string_view, N>& list) {
  for (auto x : list)
    if (v == x) return true;
  return false;
}

// ---- PNG ----

constexpr std::string_view k_png_signature{"\x89PNG\r\n\x1a\n", 8};

// Chunks whose content is pixels, colour or layout; none of them has room for free text.
constexpr std::array<std::string_view, 19> k_png_keep{
    "IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT",
    "bKGD", "pHYs", "hIST", "cICP", "mDCV", "cLLI", "acTL", "fcTL", "fdAT"};

// ---- WebP ----

constexpr std::array<std::string_view, 7> k_webp_keep{"VP8X", "ICCP", "ANIM", "ANMF",
                                                      "ALPH", "VP8 ", "VP8L"};

// ---- ISO BMFF ----

struct box {
  std::string_view type;
  std::size_t start = 0;    // offset of the box header in the file
  std::size_t payload = 0;  // offset of the payload in the file
  std::size_t end = 0;      // offset one past the box
};

// The boxes directly inside [begin, end) of `f`. Every box must nest exactly.
result<std::vector<box>> children(std::string_view f, std::size_t begin, std::size_t end) {
  std::vector<box> out;
  std::size_t pos = begin;
  while (pos < end) {
    if (end - pos < 8) {
      return error{errc::malformed, "HEIF box header cut at offset " + std::to_string(pos)};
    }
    std::uint64_t size = be32(f, pos);
    std::size_t header = 8;
    if (size == 1) {
      if (end - pos < 16) return error{errc::malformed, "HEIF large box header cut"};
      size = (std::uint64_t{be32(f, pos + 8)} << 32) | be32(f, pos + 12);
      header = 16;
    } else if (size == 0) {
      size = end - pos;  // runs to the end of its container
    }
    if (size < header || size > end - pos) {
      return error{errc::malformed,
                   "HEIF box at offset " + std::to_string(pos) + " has an impossible size"};
    }
    box b;
    b.type = f.substr(pos + 4, 4);
    b.start = pos;
    b.payload = pos + header;
    b.end = pos + static_cast<std::size_t>(size);
    out.push_back(b);
    pos = b.end;
  }
  return out;
}

// Bounds-checked big-endian reader over [pos, end) of a box payload.
struct reader {
  std::string_view f;
  std::size_t pos;
  std::size_t end;
  bool failed = false;

  std::uint64_t uint(std::size_t bytes) {
    if (failed || end - pos < bytes) {
      failed = true;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < bytes; ++k) v = (v << 8) | at(f, pos + k);
    pos += bytes;
    return v;
  }
  std::string_view fourcc() {
    if (failed || end - pos < 4) {
      failed = true;
      return {};
    }
    pos += 4;
    return f.substr(pos - 4, 4);
  }
  // A NUL-terminated string; a missing NUL at the end of the box is tolerated (some writers).
  std::string_view cstring() {
    if (failed) return {};
    const std::size_t start = pos;
    while (pos < end && f[pos] != '\0') ++pos;
    const std::string_view s = f.substr(start, pos - start);
    if (pos < end) ++pos;
    return s;
  }
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[k]) != lower(b[k])) return false;
  }
  return true;
}

// The ids of the items to blank: 'Exif' items and XMP ('mime' with application/rdf+xml).
result<std::vector<std::uint32_t>> secret_items(std::string_view f, const box& iinf) {
  reader r{f, iinf.payload, iinf.end};
  const auto version = r.uint(1);
  r.uint(3);
  r.uint(version == 0 ? 2 : 4);  // entry_count; the infe boxes themselves are authoritative
  if (r.failed) return error{errc::malformed, "HEIF iinf box is cut"};
  auto entries = children(f, r.pos, iinf.end);
  if (!entries) return entries.error();
  std::vector<std::uint32_t> ids;
  for (const box& e : entries.value()) {
    if (e.type != "infe") continue;
    reader ir{f, e.payload, e.end};
    const auto v = ir.uint(1);
    ir.uint(3);
    std::uint64_t id = 0;
    bool secret = false;
    if (v <= 1) {
      id = ir.uint(2);
      ir.uint(2);    // protection index
      ir.cstring();  // item_name
      secret = iequals(ir.cstring(), "application/rdf+xml");
    } else if (v <= 3) {
      id = ir.uint(v == 2 ? 2 : 4);
      ir.uint(2);
      const std::string_view type = ir.fourcc();
      if (type == "Exif") secret = true;
      if (type == "mime") {
        ir.cstring();  // item_name
        secret = iequals(ir.cstring(), "application/rdf+xml");
      }
    } else {
      return error{errc::malformed, "HEIF infe box of unknown version " + std::to_string(v)};
    }
    if (ir.failed) return error{errc::malformed, "HEIF infe box is cut"};
    if (secret) ids.push_back(static_cast<std::uint32_t>(id));
  }
  return ids;
}

struct extent {
  std::uint64_t offset;
  std::uint64_t length;  // 0: to the end of the source
  int method;            // 0 file, 1 idat
};

// Zeroes [offset, offset+length) of the source [src_begin, src_end) in `f`.
status blank(std::string& f, std::size_t src_begin, std::size_t src_end, const extent& e) {
  const std::uint64_t size = src_end - src_begin;
  if (e.offset > size) {
    return error{errc::malformed, "HEIF Exif/XMP extent starts outside its data"};
  }
  const std::uint64_t length = e.length == 0 ? size - e.offset : e.length;
  if (length > size - e.offset) {
    return error{errc::malformed, "HEIF Exif/XMP extent runs outside its data"};
  }
  const std::size_t from = src_begin + static_cast<std::size_t>(e.offset);
  std::fill(f.begin() + static_cast<std::ptrdiff_t>(from),
            f.begin() + static_cast<std::ptrdiff_t>(from + static_cast<std::size_t>(length)), '\0');
  return {};
}

// The extents of the items in `ids`, from iloc.
result<std::vector<extent>> locate(std::string_view f, const box& iloc,
                                   const std::vector<std::uint32_t>& ids) {  // sorted
  reader r{f, iloc.payload, iloc.end};
  const auto version = r.uint(1);
  r.uint(3);
  if (r.failed) return error{errc::malformed, "HEIF iloc box is cut"};
  if (version > 2) return error{errc::malformed, "HEIF iloc box of unknown version"};
  const auto sizes = r.uint(1);
  const auto sizes2 = r.uint(1);
  const std::size_t offset_size = sizes >> 4, length_size = sizes & 0xF;
  const std::size_t base_offset_size = sizes2 >> 4;
  const std::size_t index_size = version == 0 ? 0 : (sizes2 & 0xF);
  for (std::size_t s : {offset_size, length_size, base_offset_size, index_size}) {
    if (s != 0 && s != 4 && s != 8) {
      return error{errc::malformed, "HEIF iloc field size not 0, 4 or 8"};
    }
  }
  const auto count = r.uint(version < 2 ? 2 : 4);
  std::vector<extent> out;
  for (std::uint64_t i = 0; i < count && !r.failed; ++i) {
    const auto id = r.uint(version < 2 ? 2 : 4);
    int method = 0;
    if (version >= 1) method = static_cast<int>(r.uint(2) & 0xF);
    const auto data_ref = r.uint(2);
    const auto base = r.uint(base_offset_size);
    const auto extents = r.uint(2);
    const bool wanted = std::binary_search(ids.begin(), ids.end(), id);
    if (wanted && extents > 0 && (method >= 2 || data_ref != 0)) {
      return error{errc::malformed,
                   "HEIF Exif/XMP item stored by reference or in another file; cannot blank it"};
    }
    if (offset_size + length_size + index_size == 0) {
      // Extents without fields take no bytes: one "whole source from base" covers them all,
      // and looping up to 65535 times per item would let a small box cost a lot of time.
      if (wanted && extents > 0) out.push_back(extent{base, 0, method});
      continue;
    }
    for (std::uint64_t k = 0; k < extents && !r.failed; ++k) {
      r.uint(index_size);
      const auto off = r.uint(offset_size);
      const auto len = r.uint(length_size);
      if (!wanted || r.failed) continue;
      if (off > UINT64_MAX - base) return error{errc::malformed, "HEIF iloc offset overflows"};
      out.push_back(extent{base + off, len, method});
    }
  }
  if (r.failed) return error{errc::malformed, "HEIF iloc box is cut"};
  return out;
}

}  // namespace

result<std::string> strip_png_metadata(std::string_view png) {
  if (!png.starts_with(k_png_signature)) return error{errc::malformed, "not a PNG (no signature)"};
  std::string out(k_png_signature);
  out.reserve(png.size());
  std::size_t pos = k_png_signature.size();
  while (true) {
    if (png.size() - pos < 12) return error{errc::truncated, "PNG ends before its IEND chunk"};
    const std::uint32_t len = be32(png, pos);
    if (len > 0x7FFFFFFFu) return error{errc::malformed, "PNG chunk length above 2^31-1"};
    const std::string_view type = png.substr(pos + 4, 4);
    for (char c : type) {
      if (!is_letter(static_cast<unsigned char>(c))) {
        return error{errc::malformed,
                     "PNG chunk with an invalid type at offset " + std::to_string(pos)};
      }
    }
    if (len > png.size() - pos - 12) {
      return error{errc::truncated,
                   "PNG chunk at offset " + std::to_string(pos) + " runs past the end of the file"};
    }
    const std::string_view chunk = png.substr(pos, 12 + std::size_t{len});
    pos += chunk.size();
    const bool critical = (at(type, 0) & 0x20) == 0;
    if (one_of(type, k_png_keep)) {
      out += chunk;
    } else if (critical) {
      return error{errc::malformed, "PNG has an unknown critical chunk " + std::string(type)};
    }
    if (type == "IEND") return out;
  }
}

result<std::string> strip_webp_metadata(std::string_view webp) {
  if (webp.size() < 12 || webp.substr(0, 4) != "RIFF" || webp.substr(8, 4) != "WEBP") {
    return error{errc::malformed, "not a WebP (no RIFF/WEBP header)"};
  }
  const std::uint32_t riff = le32(webp, 4);
  if (riff < 4) return error{errc::malformed, "WebP RIFF size too small"};
  if (riff > webp.size() - 8) return error{errc::truncated, "WebP is shorter than its RIFF size"};
  const std::size_t end = 8 + std::size_t{riff};
  std::string out(webp.substr(0, 12));
  out.reserve(end);
  std::optional<std::size_t> vp8x;  // offset of the VP8X flags byte in `out`
  std::size_t pos = 12;
  while (pos < end) {
    if (end - pos < 8) return error{errc::truncated, "WebP chunk header cut at the RIFF end"};
    const std::string_view type = webp.substr(pos, 4);
    const std::size_t len = le32(webp, pos + 4);
    if (len > end - pos - 8) {
      return error{errc::truncated,
                   "WebP chunk at offset " + std::to_string(pos) + " runs past the RIFF end"};
    }
    // Chunks are padded to even sizes; a writer that left off the last pad byte gets one.
    const std::size_t padded = len + (len & 1);
    const std::size_t have = std::min(padded, end - pos - 8);
    if (one_of(type, k_webp_keep)) {
      if (type == "VP8X") {
        if (len < 10) return error{errc::malformed, "WebP VP8X chunk shorter than 10 bytes"};
        if (!vp8x) vp8x = out.size() + 8;
      }
      out += webp.substr(pos, 8 + have);
      if (have < padded) out.push_back('\0');
    }
    pos += 8 + have;
  }
  // EXIF 0x08 and XMP 0x04 announce chunks that are gone now.
  if (vp8x) out[*vp8x] = static_cast<char>(at(out, *vp8x) & ~0x0Cu);
  put_le32(out, 4, static_cast<std::uint32_t>(out.size() - 8));
  return out;
}

result<std::string> strip_heif_metadata(std::string heif) {
  const std::string_view f = heif;
  auto top = children(f, 0, f.size());
  if (!top) return top.error();
  const box* meta = nullptr;
  for (const box& b : top.value()) {
    if (b.type != "meta") continue;
    if (meta) return error{errc::malformed, "HEIF has two top-level meta boxes"};
    meta = &b;
  }
  if (!meta) return heif;  // no items, so no Exif or XMP item
  if (meta->end - meta->payload < 4) return error{errc::malformed, "HEIF meta box is cut"};
  auto inner = children(f, meta->payload + 4, meta->end);  // meta is a FullBox
  if (!inner) return inner.error();
  const box *iinf = nullptr, *iloc = nullptr, *idat = nullptr;
  for (const box& b : inner.value()) {
    const box** slot = b.type == "iinf"   ? &iinf
                       : b.type == "iloc" ? &iloc
                       : b.type == "idat" ? &idat
                                          : nullptr;
    if (!slot) continue;
    if (*slot) return error{errc::malformed, "HEIF meta has two " + std::string(b.type) + " boxes"};
    *slot = &b;
  }
  if (!iinf) return heif;
  auto ids = secret_items(f, *iinf);
  if (!ids) return ids.error();
  if (ids->empty()) return heif;
  std::sort(ids->begin(), ids->end());  // for binary_search in locate()
  if (!iloc) return error{errc::malformed, "HEIF has Exif/XMP items but no iloc box"};
  auto extents = locate(f, *iloc, ids.value());
  if (!extents) return extents.error();
  for (const extent& e : extents.value()) {
    if (e.method == 1 && !idat) return error{errc::malformed, "HEIF item in idat but no idat box"};
    auto done =
        e.method == 0 ? blank(heif, 0, heif.size(), e) : blank(heif, idat->payload, idat->end, e);
    if (!done) return done.error();
  }
  return heif;
}

result<std::string> strip_location_metadata(std::string_view mime, std::string bytes) {
  if (mime == "image/jpeg") {
    auto stripped = strip_jpeg_metadata(bytes);
    if (!stripped) return stripped.error();
    return std::move(stripped->jpeg);
  }
  if (mime == "image/png") return strip_png_metadata(bytes);
  if (mime == "image/webp") return strip_webp_metadata(bytes);
  if (mime == "image/heic" || mime == "image/heif" || mime == "image/heic-sequence" ||
      mime == "image/heif-sequence") {
    return strip_heif_metadata(std::move(bytes));
  }
  return bytes;
}

}  // namespace shouhou::connectors::evidence
