#include "connectors/evidence/exif.hpp"

#include <cstdint>
#include <cstring>
#include <functional>

namespace shouhou::connectors::evidence {
namespace {

constexpr unsigned char k_soi = 0xD8, k_eoi = 0xD9, k_sos = 0xDA, k_app0 = 0xE0, k_app1 = 0xE1,
                        k_app2 = 0xE2, k_app14 = 0xEE, k_com = 0xFE;

constexpr std::string_view k_exif_id{"Exif\0\0", 6};
constexpr std::string_view k_xmp_id{"http://ns.adobe.com/xap/1.0/\0", 29};
constexpr std::string_view k_icc_id{"ICC_PROFILE\0", 12};

unsigned char at(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }

bool is_standalone(unsigned char m) { return m == 0x01 || (m >= 0xD0 && m <= 0xD7); }

struct segment {
  unsigned char marker;
  std::string_view whole;    // marker bytes through the end of the payload
  std::string_view payload;  // after the length field; empty for standalone markers
};

struct walk_end {
  std::size_t pos = 0;  // where the walk stopped (after EOI or at the end of input)
  bool saw_sos = false;
  bool saw_eoi = false;
  bool scan_truncated = false;
};

// Calls `visit` for each segment, and `scan` for each run of entropy-coded data, in order, up to
// and including the first EOI. Before the first SOS, a cut segment is an error; after it, the
// walk stops there and reports scan_truncated.
result<walk_end> walk(std::string_view j, const std::function<void(const segment&)>& visit,
                      const std::function<void(std::string_view)>& scan) {
  if (j.size() < 2 || at(j, 0) != 0xFF || at(j, 1) != k_soi) {
    return error{errc::malformed, "not a JPEG (no start-of-image marker)"};
  }
  walk_end end;
  std::size_t pos = 2;
  bool in_scan = false;
  while (true) {
    if (in_scan) {
      // Entropy-coded data: FF 00 is a stuffed byte and FF D0..D7 a restart marker; any other
      // FF xx ends the scan.
      std::size_t p = pos;
      while (true) {
        const void* ff = p < j.size() ? std::memchr(j.data() + p, 0xFF, j.size() - p) : nullptr;
        if (ff == nullptr) {
          scan(j.substr(pos));
          end.pos = j.size();
          end.scan_truncated = true;
          return end;
        }
        p = static_cast<std::size_t>(static_cast<const char*>(ff) - j.data());
        std::size_t q = p + 1;
        while (q < j.size() && at(j, q) == 0xFF) ++q;
        if (q == j.size()) {
          scan(j.substr(pos, p - pos));
          end.pos = j.size();
          end.scan_truncated = true;
          return end;
        }
        if (at(j, q) == 0x00 || (at(j, q) >= 0xD0 && at(j, q) <= 0xD7)) {
          p = q + 1;
          continue;
        }
        scan(j.substr(pos, p - pos));
        pos = q - 1;  // the FF right before the marker code; fill bytes are dropped
        in_scan = false;
        break;
      }
    }
    // Between segments: skip anything up to the next FF, then any fill FFs.
    while (pos < j.size() && at(j, pos) != 0xFF) ++pos;
    while (pos + 1 < j.size() && at(j, pos + 1) == 0xFF) ++pos;
    if (pos + 1 >= j.size()) {
      if (!end.saw_sos) return error{errc::truncated, "JPEG ends before its image data"};
      end.pos = j.size();
      end.scan_truncated = true;
      return end;
    }
    const std::size_t start = pos;
    const unsigned char m = at(j, pos + 1);
    pos += 2;
    if (m == k_eoi) {
      if (!end.saw_sos) return error{errc::malformed, "JPEG has no image data"};
      visit(segment{m, j.substr(start, 2), {}});
      end.pos = pos;
      end.saw_eoi = true;
      return end;
    }
    if (m == k_soi) return error{errc::malformed, "JPEG has a second start-of-image marker"};
    if (is_standalone(m)) {
      visit(segment{m, j.substr(start, 2), {}});
      continue;
    }
    if (pos + 2 > j.size()) {
      if (!end.saw_sos) return error{errc::truncated, "JPEG is cut inside a segment header"};
      end.pos = start;
      end.scan_truncated = true;
      return end;
    }
    const std::size_t len = (std::size_t{at(j, pos)} << 8) | at(j, pos + 1);
    if (len < 2) return error{errc::malformed, "JPEG segment with a length below 2"};
    if (pos + len > j.size()) {
      if (!end.saw_sos) {
        return error{errc::truncated, "JPEG segment at offset " + std::to_string(start) +
                                          " runs past the end of the file"};
      }
      end.pos = start;
      end.scan_truncated = true;
      return end;
    }
    visit(segment{m, j.substr(start, 2 + len), j.substr(pos + 2, len - 2)});
    pos += len;
    if (m == k_sos) {
      end.saw_sos = true;
      in_scan = true;
    }
  }
}

struct tiff_reader {
  std::string_view t;
  bool big_endian;
  bool ok(std::size_t off, std::size_t n) const { return off <= t.size() && n <= t.size() - off; }
  std::uint32_t u16(std::size_t off) const {
    return big_endian ? (std::uint32_t{at(t, off)} << 8) | at(t, off + 1)
                      : (std::uint32_t{at(t, off + 1)} << 8) | at(t, off);
  }
  std::uint32_t u32(std::size_t off) const {
    return big_endian ? (u16(off) << 16) | u16(off + 2) : (u16(off + 2) << 16) | u16(off);
  }
};

// Orientation and GPS presence from an Exif APP1 payload; anything unreadable counts as absent.
void read_exif(std::string_view payload, jpeg_metadata& md) {
  md.has_exif = true;
  const std::string_view tiff = payload.substr(k_exif_id.size());
  if (tiff.size() < 8) return;
  tiff_reader r{tiff, tiff.substr(0, 2) == "MM"};
  if (!r.big_endian && tiff.substr(0, 2) != "II") return;
  if (r.u16(2) != 42) return;
  const std::size_t ifd = r.u32(4);
  if (!r.ok(ifd, 2)) return;
  const std::size_t count = r.u16(ifd);
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t e = ifd + 2 + 12 * k;
    if (!r.ok(e, 12)) return;
    const std::uint32_t tag = r.u16(e);
    if (tag == 0x8825) md.has_gps = true;
    if (tag == 0x0112 && r.u16(e + 2) == 3 && r.u32(e + 4) >= 1) {
      const std::uint32_t v = r.u16(e + 8);
      if (v >= 1 && v <= 8) md.orientation = static_cast<int>(v);
    }
  }
}

// APP1 with a big-endian TIFF holding one IFD0 entry: Orientation (SHORT, 1 value).
std::string orientation_segment(int orientation) {
  std::string s("\xFF\xE1\x00\x22", 4);  // length 34 = 2 + 32
  s += k_exif_id;
  s += std::string_view("MM\x00\x2A\x00\x00\x00\x08", 8);
  s += std::string_view("\x00\x01", 2);
  s += std::string_view("\x01\x12\x00\x03\x00\x00\x00\x01", 8);
  s.push_back('\0');
  s.push_back(static_cast<char>(orientation));
  s += std::string_view("\x00\x00", 2);
  s += std::string_view("\x00\x00\x00\x00", 4);
  return s;
}

bool keep_segment(const segment& s) {
  if (s.marker == k_app0) return true;
  if (s.marker == k_app2) return s.payload.starts_with(k_icc_id);
  if (s.marker == k_app14) return s.payload.starts_with("Adobe");
  if (s.marker >= 0xE0 && s.marker <= 0xEF) return false;
  return s.marker != k_com;
}

}  // namespace

result<jpeg_metadata> inspect_jpeg(std::string_view jpeg) {
  jpeg_metadata md;
  auto end = walk(
      jpeg,
      [&](const segment& s) {
        if (s.marker != k_app1) return;
        if (s.payload.starts_with(k_exif_id)) {
          if (!md.has_exif) read_exif(s.payload, md);
        } else if (s.payload.starts_with(k_xmp_id)) {
          md.has_xmp = true;
        }
      },
      [](std::string_view) {});
  if (!end) return end.error();
  return md;
}

result<stripped_jpeg> strip_jpeg_metadata(std::string_view jpeg) {
  auto md = inspect_jpeg(jpeg);
  if (!md) return md.error();
  stripped_jpeg out;
  out.removed_gps = md->has_gps;
  out.jpeg.reserve(jpeg.size());
  out.jpeg.append("\xFF\xD8", 2);
  bool orientation_pending = md->orientation >= 2;
  auto end = walk(
      jpeg,
      [&](const segment& s) {
        if (!keep_segment(s)) {
          ++out.segments_removed;
          return;
        }
        // JFIF wants APP0 first; the new Exif goes right after the leading APP0s.
        if (orientation_pending && s.marker != k_app0) {
          out.jpeg += orientation_segment(md->orientation);
          out.kept_orientation = true;
          orientation_pending = false;
        }
        out.jpeg += s.whole;
      },
      [&](std::string_view data) { out.jpeg += data; });
  if (!end) return end.error();
  if (end->scan_truncated) {
    out.scan_truncated = true;
    out.jpeg.append("\xFF\xD9", 2);
  }
  return out;
}

}  // namespace shouhou::connectors::evidence
