#include "connectors/evidence/sniff.hpp"

#include <array>
#include <cstdint>

namespace shouhou::connectors::evidence {
namespace {

constexpr file_type k_jpeg{evidence_kind::image, "image/jpeg", "jpg"};
constexpr file_type k_png{evidence_kind::image, "image/png", "png"};
constexpr file_type k_gif{evidence_kind::image, "image/gif", "gif"};
constexpr file_type k_webp{evidence_kind::image, "image/webp", "webp"};
constexpr file_type k_heic{evidence_kind::image, "image/heic", "heic"};
constexpr file_type k_heic_sequence{evidence_kind::image, "image/heic-sequence", "heic"};
constexpr file_type k_heif{evidence_kind::image, "image/heif", "heif"};
constexpr file_type k_heif_sequence{evidence_kind::image, "image/heif-sequence", "heif"};
constexpr file_type k_mp4{evidence_kind::video, "video/mp4", "mp4"};
constexpr file_type k_mov{evidence_kind::video, "video/quicktime", "mov"};
constexpr file_type k_pdf{evidence_kind::document, "application/pdf", "pdf"};

bool starts_with(std::string_view data, std::string_view prefix, std::size_t at = 0) {
  return data.size() >= at + prefix.size() && data.substr(at, prefix.size()) == prefix;
}

std::uint32_t be32(std::string_view d, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(d[at])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(d[at + 1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(d[at + 2])} << 8) |
         std::uint32_t{static_cast<unsigned char>(d[at + 3])};
}

std::uint32_t le32(std::string_view d, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(d[at + 3])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(d[at + 2])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(d[at + 1])} << 8) |
         std::uint32_t{static_cast<unsigned char>(d[at])};
}

// The accepted type an ISO BMFF brand stands for, if any.
const file_type* brand_type(std::string_view brand) {
  static constexpr std::array<std::string_view, 3> heic{"heic", "heix", "heim"};
  static constexpr std::array<std::string_view, 3> heic_seq{"hevc", "hevs", "hevm"};
  static constexpr std::array<std::string_view, 15> mp4{"isom", "iso2", "iso3", "iso4", "iso5",
                                                        "iso6", "mp41", "mp42", "avc1", "M4V ",
                                                        "M4VH", "M4VP", "f4v ", "dash", "MSNV"};
  for (auto b : heic)
    if (brand == b) return &k_heic;
  for (auto b : heic_seq)
    if (brand == b) return &k_heic_sequence;
  if (brand == "heis") return &k_heic;  // scalable HEVC still image
  if (brand == "mif1") return &k_heif;
  if (brand == "msf1") return &k_heif_sequence;
  for (auto b : mp4)
    if (brand == b) return &k_mp4;
  if (brand == "qt  ") return &k_mov;
  return nullptr;
}

struct ftyp_answer {
  const file_type* type = nullptr;
  std::string_view refused;  // what it is, when it is a known ISO file we refuse
  std::string major;         // printable major brand, for the generic message
};

// `head` starts with an ftyp box. The major brand decides when it is one we know; otherwise the
// compatible brands that fit in both the box and the head are tried in order, because HEIF
// writers often put mif1 or heic only there.
ftyp_answer sniff_ftyp(std::string_view head) {
  ftyp_answer a;
  const std::string_view major = head.substr(8, 4);
  if ((a.type = brand_type(major))) return a;
  if (major == "avif" || major == "avis") {
    a.refused = "an AVIF image";
    return a;
  }
  const std::size_t box = be32(head, 0);
  const std::size_t end = std::min(box, head.size());
  for (std::size_t at = 16; at + 4 <= end; at += 4) {
    if ((a.type = brand_type(head.substr(at, 4)))) return a;
  }
  if (starts_with(major, "3gp") || starts_with(major, "3g2")) {
    a.refused = "a 3GP video";
  } else if (major == "M4A " || major == "M4B ") {
    a.refused = "an M4A audio file";
  } else if (major == "crx ") {
    a.refused = "a Canon raw photo (CR3)";
  } else if (major == "jp2 " || major == "jpx ") {
    a.refused = "a JPEG 2000 image";
  }
  for (char c : major) a.major.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return a;
}

// Printable ASCII and whitespace, and UTF-8 sequences (one cut by the end of the head is fine).
bool looks_like_text(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') return false;
      if (c == 0x7f) return false;
      ++i;
      continue;
    }
    const std::size_t len = (c & 0xE0) == 0xC0   ? 2
                            : (c & 0xF0) == 0xE0 ? 3
                            : (c & 0xF8) == 0xF0 ? 4
                                                 : 0;
    if (len == 0 || c == 0xC0 || c == 0xC1) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k == s.size()) return true;
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Markup is named because it is the dangerous case: served from our origin it would run script.
std::string_view sniff_text(std::string_view head) {
  std::string_view t = head;
  if (starts_with(t, "\xEF\xBB\xBF")) t.remove_prefix(3);
  while (!t.empty() && (t[0] == ' ' || t[0] == '\t' || t[0] == '\r' || t[0] == '\n')) {
    t.remove_prefix(1);
  }
  const std::string l = lower_ascii(t);
  for (std::string_view tag : {"<!doctype html", "<html", "<head", "<body", "<script", "<iframe",
                               "<!--", "<meta", "<title", "<div", "<a "}) {
    if (starts_with(l, tag)) return "an HTML file";
  }
  if (starts_with(l, "<svg") || starts_with(l, "<?xml")) return "an SVG or XML file";
  return looks_like_text(head) ? "a text file" : std::string_view{};
}

// Known formats we refuse, named so the buyer understands what went wrong.
std::string_view sniff_refused(std::string_view h) {
  const auto u = [&](std::size_t i) { return static_cast<unsigned char>(h[i]); };
  if (starts_with(h, "PK\x03\x04") || starts_with(h, "PK\x05\x06") ||
      starts_with(h, "PK\x07\x08")) {
    return "a ZIP archive";
  }
  if (starts_with(h, "Rar!\x1A\x07")) return "a RAR archive";
  if (starts_with(h, "7z\xBC\xAF\x27\x1C")) return "a 7-Zip archive";
  if (starts_with(h, "\x1F\x8B")) return "a gzip archive";
  if (starts_with(h, "BZh")) return "a bzip2 archive";
  if (starts_with(h, std::string_view("\xFD"
                                      "7zXZ\0",
                                      6)))
    return "an xz archive";
  if (starts_with(h,
                  "\x7F"
                  "ELF"))
    return "an executable (ELF)";
  if (starts_with(h, "MZ")) return "an executable (Windows)";
  if (starts_with(h, "\xFE\xED\xFA\xCE") || starts_with(h, "\xFE\xED\xFA\xCF") ||
      starts_with(h, "\xCE\xFA\xED\xFE") || starts_with(h, "\xCF\xFA\xED\xFE")) {
    return "an executable (Mach-O)";
  }
  if (starts_with(h, "\xCA\xFE\xBA\xBE")) return "an executable (Mach-O or Java class)";
  if (starts_with(h, std::string_view("\0asm", 4))) return "a WebAssembly module";
  if (starts_with(h, "#!AMR")) return "an AMR audio file";
  if (starts_with(h, "#!")) return "a script";
  if (starts_with(h, "BM") && (h.size() < 18 || [&] {
        const std::uint32_t dib = le32(h, 14);
        return dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 ||
               dib == 124;
      }())) {
    return "a BMP image";
  }
  if (starts_with(h, std::string_view("II*\0", 4)) ||
      starts_with(h, std::string_view("MM\0*", 4))) {
    return "a TIFF image (or a camera raw file)";
  }
  if (starts_with(h, std::string_view("\0\0\1\0", 4))) return "an icon (ICO)";
  if (starts_with(h, "RIFF") && h.size() >= 12) {
    if (starts_with(h, "AVI ", 8)) return "an AVI video";
    if (starts_with(h, "WAVE", 8)) return "a WAV audio file";
    return "a RIFF file";
  }
  if (starts_with(h, "\x1A\x45\xDF\xA3")) return "a Matroska or WebM video";
  if (starts_with(h, "FLV\x01")) return "a Flash video";
  if (starts_with(h, "OggS")) return "an Ogg audio or video file";
  if (starts_with(h, "fLaC")) return "a FLAC audio file";
  if (starts_with(h, "ID3")) return "an MP3 audio file";
  if (starts_with(h, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) {
    return "a legacy Microsoft Office document";
  }
  if (starts_with(h, "{\\rtf")) return "an RTF document";
  if (starts_with(h, "8BPS")) return "a Photoshop image";
  if (starts_with(h, "%!PS")) return "a PostScript file";
  if (starts_with(h, std::string_view("SQLite format 3\0", 16))) return "an SQLite database";
  if (starts_with(h, std::string_view("\0\0\0\x0CjP  \r\n\x87\n", 12))) return "a JPEG 2000 image";
  if (starts_with(h, "\xFF\x0A") || starts_with(h, std::string_view("\0\0\0\x0CJXL ", 8))) {
    return "a JPEG XL image";
  }
  if (starts_with(h, "\xFF\xFE") || starts_with(h, "\xFE\xFF")) return "a text file (UTF-16)";
  // MPEG audio frame sync (MP3 without ID3 tag, AAC ADTS): 11 set bits.
  if (h.size() >= 2 && u(0) == 0xFF && (u(1) & 0xE0) == 0xE0) return "an MP3 or AAC audio file";
  return sniff_text(h);
}

std::string refusal(std::string_view what) {
  return "file type not accepted: this is " + std::string(what) + "; accepted are " +
         std::string(accepted_types_text());
}

}  // namespace

std::string_view to_string(evidence_kind kind) noexcept {
  switch (kind) {
    case evidence_kind::image:
      return "image";
    case evidence_kind::video:
      return "video";
    case evidence_kind::document:
      return "document";
  }
  return "unknown";
}

std::string_view accepted_types_text() noexcept {
  return "JPEG, PNG, WebP, GIF or HEIC/HEIF images, MP4 or MOV videos, PDF documents";
}

result<file_type> sniff(std::string_view head) {
  if (head.size() > k_sniff_bytes) head = head.substr(0, k_sniff_bytes);
  if (head.empty()) {
    return error{errc::empty, "file is empty; accepted are " + std::string(accepted_types_text())};
  }
  if (starts_with(head, "\xFF\xD8\xFF")) return k_jpeg;
  if (starts_with(head, "\x89PNG\r\n\x1A\n")) return k_png;
  if (starts_with(head, "GIF87a") || starts_with(head, "GIF89a")) return k_gif;
  if (starts_with(head, "RIFF") && starts_with(head, "WEBP", 8)) return k_webp;
  if (starts_with(head, "%PDF-")) return k_pdf;
  if (head.size() >= 12 && starts_with(head, "ftyp", 4) && be32(head, 0) >= 16) {
    ftyp_answer a = sniff_ftyp(head);
    if (a.type) return *a.type;
    if (!a.refused.empty()) return error{errc::unsupported_type, refusal(a.refused)};
    return error{errc::unsupported_type, refusal("an ISO media file of brand '" + a.major + "'")};
  }
  if (head.size() >= 8) {
    // QuickTime files from older cameras start with an atom other than ftyp.
    const std::string_view atom = head.substr(4, 4);
    const std::uint32_t size = be32(head, 0);
    const bool plausible_size = size == 0 || size == 1 || size >= 8;
    if (plausible_size && (atom == "moov" || atom == "mdat" || atom == "wide" || atom == "free" ||
                           atom == "skip" || atom == "pnot")) {
      return k_mov;
    }
  }
  if (std::string_view what = sniff_refused(head); !what.empty()) {
    return error{errc::unsupported_type, refusal(what)};
  }
  if (head.size() < k_sniff_bytes) {
    return error{errc::unsupported_type,
                 "file too short to recognise (" + std::to_string(head.size()) +
                     " bytes); accepted are " + std::string(accepted_types_text())};
  }
  return error{errc::unsupported_type, "file type not accepted: unrecognised data; accepted are " +
                                           std::string(accepted_types_text())};
}

}  // namespace shouhou::connectors::evidence
