#include "connectors/evidence/filename.hpp"

#include <cstdint>

namespace shouhou::connectors::evidence {
namespace {

evidence::error refuse(std::string_view why) {
  return {errc::malformed, "file name refused: " + std::string(why)};
}

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i, or -1 when the
// sequence is invalid (strict RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
std::int32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  std::size_t len = 0;
  std::int32_t cp = 0;
  std::int32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return -1;
  }
  if (i + len > s.size()) return -1;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += len;
  return cp;
}

bool is_bidi_control(std::int32_t cp) {
  return cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

result<std::string> check_filename(std::string_view name) {
  if (name.empty()) return refuse("empty");
  if (name.size() > k_max_filename_bytes) {
    return refuse("longer than " + std::to_string(k_max_filename_bytes) + " bytes");
  }
  if (name == "." || name == "..") return refuse("'.' and '..' are not file names");
  for (std::size_t i = 0; i < name.size();) {
    const std::int32_t cp = next_code_point(name, i);
    if (cp < 0) return refuse("not valid UTF-8");
    if (cp == '/' || cp == '\\') return refuse("contains a path separator");
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
      return refuse("contains a control character");
    }
    if (is_bidi_control(cp)) return refuse("contains a text direction control character");
  }
  return std::string(name);
}

std::string content_disposition_value(std::string_view checked_name, bool inline_view) {
  std::string out = inline_view ? "inline" : "attachment";
  if (checked_name.empty()) return out;
  out += "; filename=\"";
  for (char c : checked_name) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7F && c != '"' && c != '\\' && c != '%' ? c : '_');
  }
  out += "\"; filename*=UTF-8''";
  static constexpr char digits[] = "0123456789ABCDEF";
  for (char c : checked_name) {
    const auto u = static_cast<unsigned char>(c);
    const bool attr_char = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                           (u >= '0' && u <= '9') || c == '!' || c == '#' || c == '$' || c == '&' ||
                           c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' ||
                           c == '|' || c == '~';
    if (attr_char) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(digits[u >> 4]);
      out.push_back(digits[u & 0xF]);
    }
  }
  return out;
}

}  // namespace shouhou::connectors::evidence
