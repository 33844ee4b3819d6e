#include "intents/detail/normalize.hpp"

#include <Lexicon.hpp>
#include <MarisaDict.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "intents/detail/han_set.hpp"
#include "intents/detail/utf8.hpp"

namespace shouhou::intents::detail {
namespace {

// --- UTF-8 -----------------------------------------------------------------------------------

void encode(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Same, to a buffer with room for 4 bytes; returns the end of what was written.
char* encode_to(char32_t cp, char* w) {
  if (cp < 0x80) {
    *w++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *w++ = static_cast<char>(0xC0 | (cp >> 6));
    *w++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *w++ = static_cast<char>(0xE0 | (cp >> 12));
    *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *w++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *w++ = static_cast<char>(0xF0 | (cp >> 18));
    *w++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *w++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return w;
}

// --- Traditional -> Simplified ----------------------------------------------------------------

// Basic-plane characters only (every common Traditional character is there); 0 = unchanged.
struct traditional_table {
  std::vector<char16_t> to_simplified;
  // One bit per code point: has an entry in to_simplified. 8 KiB that stay in the L1 cache,
  // where the 128 KiB table would push the pattern matcher's states out (most text has no
  // Traditional character at all).
  std::vector<std::uint64_t> has_entry;
  std::size_t size = 0;
  bool maps(char32_t cp) const {
    return cp < 0x10000 && !has_entry.empty() && ((has_entry[cp >> 6] >> (cp & 63)) & 1) != 0;
  }
};

const traditional_table& traditional() {
  static const traditional_table table = [] {
    traditional_table t;
    std::FILE* f = std::fopen(SHOUHOU_OPENCC_TS_CHARACTERS, "rb");
    if (f == nullptr) return t;
    try {
      const auto dict = opencc::MarisaDict::NewFromFile(f);
      t.to_simplified.assign(0x10000, 0);
      t.has_entry.assign(0x10000 / 64, 0);
      for (const auto& entry : *dict->GetLexicon()) {
        const std::string key = entry->Key();
        const std::string value = entry->GetDefault();
        char32_t from = 0;
        char32_t to = 0;
        if (key.empty() || value.empty() || decode_utf8(key, 0, from) != key.size() ||
            decode_utf8(value, 0, to) != value.size() || from >= 0x10000 || to >= 0x10000 ||
            from == to) {
          continue;
        }
        t.to_simplified[from] = static_cast<char16_t>(to);
        t.has_entry[from >> 6] |= std::uint64_t{1} << (from & 63);
        ++t.size;
      }
    } catch (...) {  // a damaged data file: leave Traditional characters as they are
      t.to_simplified.clear();
      t.has_entry.clear();
      t.size = 0;
    }
    std::fclose(f);
    return t;
  }();
  return table;
}

// --- per-character mapping --------------------------------------------------------------------

constexpr char32_t k_drop = 0xFFFFFFFF;

bool is_emoji(char32_t cp) {
  return (cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF) ||
         (cp >= 0x2B00 && cp <= 0x2BFF) || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0x200D ||
         cp == 0x200B || cp == 0x20E3 || cp == 0xFEFF;
}

char32_t map_char(char32_t cp, const traditional_table& t) {
  if (cp < 0x80) return cp;
  if (cp >= 0xFF01 && cp <= 0xFF5E) return cp - 0xFEE0;  // full-width ASCII
  switch (cp) {
    case 0x3000: return ' ';
    case 0x3002: case 0xFF61: case 0x2026: case 0x00B7: case 0x30FB: return '.';  // 。｡…·・
    case 0x3001: case 0xFF64: return ',';                                        // 、
    case 0x300C: case 0x300E: case 0x3010: case 0x3016: return '[';            // 「『【〖
    case 0x300D: case 0x300F: case 0x3011: case 0x3017: return ']';
    case 0x201C: case 0x201D: return '"';
    case 0x2018: case 0x2019: return '\'';
    case 0x2014: case 0x2015: return '-';  // —
    default: break;
  }
  if (is_emoji(cp)) return k_drop;
  if (t.maps(cp)) return t.to_simplified[cp];
  return cp;
}

// --- Chinese numbers --------------------------------------------------------------------------

// 0..9 for a digit character, 10/100/1000/10000 for a unit, -1 otherwise.
int numeral_value(char32_t cp) {
  static const han_set numerals(U"零一二两三四五六七八九十百千万");
  if (!numerals.contains(cp)) return -1;
  switch (cp) {
    case U'零': return 0;
    case U'一': return 1;
    case U'二': case U'两': return 2;
    case U'三': return 3;
    case U'四': return 4;
    case U'五': return 5;
    case U'六': return 6;
    case U'七': return 7;
    case U'八': return 8;
    case U'九': return 9;
    case U'十': return 10;
    case U'百': return 100;
    case U'千': return 1000;
    case U'万': return 10000;
    default: return -1;
  }
}

// Units after which a single digit is a quantity: 三天 -> 3天, 两个月 -> 2个月.
constexpr std::array<std::string_view, 20> k_units = {
    "小时", "天",   "日",     "周",     "星期",     "礼拜",   "年",     "分钟",   "元",   "块",
    "个月", "个星期", "个小时", "个礼拜", "个工作日", "个多月", "个多星期", "个多小时", "毛", "秒"};

// First characters of k_units, and what follows 个 in them: a cheap test for normalize_into.
bool is_unit_start(char32_t cp) {
  switch (cp) {
    case U'小': case U'天': case U'日': case U'周': case U'星': case U'礼': case U'年':
    case U'分': case U'元': case U'块': case U'毛': case U'秒':
      return true;
    default:
      return false;
  }
}

bool is_unit_after_ge(char32_t cp) {
  switch (cp) {
    case U'月': case U'星': case U'小': case U'礼': case U'工': case U'多':
      return true;
    default:
      return false;
  }
}

bool unit_follows(std::string_view rest) {
  for (const auto u : k_units) {
    if (rest.starts_with(u)) return true;
  }
  return false;
}

// Value of a run of numeral characters, or -1 when it is not one well-formed number with a unit
// character (三四 "three or four", 千万 "by all means" and 万一 "in case" are not numbers).
long long parse_number(const std::vector<int>& digits) {
  long long total = 0;
  long long section = 0;
  int digit = -1;
  bool any_unit = false;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    const int v = digits[i];
    if (v == 0 && digit == -1 && i > 0) continue;  // 一百零五: 零 only holds a place
    if (v < 10) {
      if (digit != -1) return -1;
      digit = v;
    } else if (v < 10000) {
      if (digit == -1) {
        if (v != 10 || i != 0) return -1;  // only 十 may stand first alone: 十五 = 15
        digit = 1;
      }
      section += static_cast<long long>(digit) * v;
      digit = -1;
      any_unit = true;
    } else {
      if (digit != -1) section += digit;
      if (section == 0) return -1;
      total += section * 10000;
      section = 0;
      digit = -1;
      any_unit = true;
    }
  }
  if (digit != -1) section += digit;
  return any_unit ? total + section : -1;
}

// Rewrites Chinese numbers in place, from byte `from` on (the caller knows none comes earlier);
// the Arabic form is never longer than the Chinese one.
void convert_numbers(std::string& s, std::size_t from) {
  std::size_t write = from;
  thread_local std::vector<int> digits;
  for (std::size_t read = from; read < s.size();) {
    char32_t cp = 0;
    std::size_t len = decode_utf8(s, read, cp);
    if (len == 0) len = 1;
    if (len != 3 || numeral_value(cp) < 0) {
      for (std::size_t i = 0; i < len; ++i) s[write++] = s[read + i];
      read += len;
      continue;
    }
    const std::size_t start = read;
    digits.clear();
    while (read < s.size()) {
      const std::size_t l = decode_utf8(s, read, cp);
      if (l != 3) break;
      const int v = numeral_value(cp);
      if (v < 0) break;
      digits.push_back(v);
      read += l;
    }
    long long value = parse_number(digits);
    // 十分 is mostly the adverb "very" (十分满意), not ten points or minutes.
    if (digits.size() == 1 && digits[0] == 10 && std::string_view(s).substr(read).starts_with("分") &&
        !std::string_view(s).substr(read).starts_with("分钟")) {
      value = -1;
    }
    if (value < 0 && digits.size() == 1 && digits[0] < 10 &&
        unit_follows(std::string_view(s).substr(read))) {
      value = digits[0];
    }
    if (value < 0) {
      for (std::size_t i = start; i < read; ++i) s[write++] = s[i];
      continue;
    }
    const std::string number = std::to_string(value);
    for (const char c : number) s[write++] = c;
  }
  s.resize(write);
}

bool is_space(char32_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

constexpr int k_max_repeat = 3;

}  // namespace

namespace {

// `chars`: null, or where to record each character written and its byte offset. False when they
// were not all recorded (an invalid byte passed through, a number converted, a character that
// code_points::decode refuses): the caller decodes the output instead.
bool normalize_to(std::string_view text, std::string& out, code_points* chars) {
  const traditional_table& t = traditional();
  bool recorded = chars != nullptr;
  if (recorded && chars->cp.size() < text.size() + 1) {
    chars->cp.resize(text.size() + 1);
    chars->at.resize(text.size() + 1);
  }
  std::size_t n = 0;
  // The output is never longer than 1.5 times the input: only a 2-byte character could map to a
  // 3-byte one; everything else keeps its length or shrinks.
  out.resize(text.size() + text.size() / 2 + 4);
  char* const begin = out.data();
  char* w = begin;
  std::size_t first_numeral = std::string::npos;
  bool numbers = false;  // a Chinese number may need converting
  char32_t last = 0;  // for the repeat cut
  int run = 0;
  char32_t prev = 0;  // the last character written, and whether the last two were numerals
  bool prev_numeral = false;
  bool prev2_numeral = false;
  for (std::size_t p = 0; p < text.size();) {
    char32_t cp = static_cast<unsigned char>(text[p]);
    if (cp < 0x80) {
      ++p;
    } else if ((cp & 0xF0) == 0xE0 && p + 2 < text.size() &&
               (static_cast<unsigned char>(text[p + 1]) & 0xC0) == 0x80 &&
               (static_cast<unsigned char>(text[p + 2]) & 0xC0) == 0x80) {
      // The common case, a 3-byte character; CJK ideographs only need the Traditional table.
      cp = ((cp & 0x0F) << 12) | ((static_cast<unsigned char>(text[p + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(text[p + 2]) & 0x3Fu);
      p += 3;
      if (cp >= 0x4E00 && cp <= 0x9FFF) {
        if (t.maps(cp)) cp = t.to_simplified[cp];
      } else {
        cp = map_char(cp, t);
      }
    } else {
      const std::size_t len = decode_utf8(text, p, cp);
      if (len == 0) {  // not UTF-8: pass the byte through
        recorded = false;
        *w++ = text[p++];
        last = 0;
        run = 0;
        continue;
      }
      p += len;
      cp = map_char(cp, t);
    }
    if (cp == k_drop) continue;
    if (is_space(cp)) {
      cp = ' ';
    } else if (cp >= 'A' && cp <= 'Z') {
      cp = cp - 'A' + 'a';
    }
    const bool alnum = (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z');
    if (cp == last && !alnum) {
      if (cp == ' ' || run >= k_max_repeat) continue;
      ++run;
    } else {
      last = cp;
      run = 1;
    }
    if (cp >= 0x4E00 && cp <= 0x9FFF) {
      // convert_numbers changes something only where a numeral unit (十百千万) stands or a single
      // digit precedes a unit of time or money (k_units): look for those on the way.
      const int v = numeral_value(cp);
      if (v >= 0 && first_numeral == std::string::npos) {
        first_numeral = static_cast<std::size_t>(w - begin);
      }
      if (v >= 10 || (prev_numeral && is_unit_start(cp)) ||
          (prev == U'个' && prev2_numeral && is_unit_after_ge(cp))) {
        numbers = true;
      }
      prev2_numeral = prev_numeral;
      prev_numeral = v >= 0;
    } else {
      prev2_numeral = prev_numeral;
      prev_numeral = false;
    }
    prev = cp;
    if (recorded) {
      if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || cp == 0x212A || cp == 0x17F) {
        recorded = false;
      }
      chars->cp[n] = cp;
      chars->at[n] = static_cast<std::uint32_t>(w - begin);
      ++n;
    }
    w = encode_to(cp, w);
  }
  out.resize(static_cast<std::size_t>(w - begin));
  if (numbers) {
    convert_numbers(out, first_numeral);
    recorded = false;
  }
  if (recorded) {
    chars->at[n] = static_cast<std::uint32_t>(out.size());
    chars->size = n;
  }
  return recorded;
}

}  // namespace

void normalize_into(std::string_view text, std::string& out) { normalize_to(text, out, nullptr); }

bool normalize_into(std::string_view text, std::string& out, code_points& chars) {
  return normalize_to(text, out, &chars) || chars.decode(out);
}

std::string normalize(std::string_view text) {
  std::string out;
  normalize_into(text, out);
  return out;
}

bool has_full_width(std::string_view text) {
  for (std::size_t p = 0; p < text.size();) {
    char32_t cp = 0;
    const std::size_t len = decode_utf8(text, p, cp);
    if (len == 0) {
      ++p;
      continue;
    }
    if (cp == 0x3000 || (cp >= 0xFF01 && cp <= 0xFF5E)) return true;
    p += len;
  }
  return false;
}

std::size_t traditional_table_size() { return traditional().size; }

std::string pattern_problem(std::string_view re) {
  const traditional_table& t = traditional();
  for (std::size_t p = 0; p < re.size();) {
    char32_t cp = 0;
    const std::size_t len = decode_utf8(re, p, cp);
    if (len == 0) return "pattern is not valid UTF-8";
    const std::string_view ch = re.substr(p, len);
    p += len;
    if (cp < 0x80) continue;
    const char32_t mapped = map_char(cp, t);
    if (mapped == k_drop) {
      return "pattern has an emoji or invisible character '" + std::string(ch) +
             "'; messages lose them before matching";
    }
    if (mapped < 0x80) {
      std::string ascii(1, static_cast<char>(mapped));
      if (ascii == ".") ascii = "\\.";
      return "pattern has the full-width or Chinese punctuation '" + std::string(ch) +
             "'; messages are converted before matching, so write " + ascii + " instead";
    }
    if (mapped != cp) {
      std::string simplified;
      encode(mapped, simplified);
      return "pattern has the Traditional character '" + std::string(ch) +
             "'; messages are converted to Simplified before matching, so write '" + simplified +
             "' instead";
    }
  }
  std::string converted(re);
  convert_numbers(converted, 0);
  if (converted != re) {
    return "pattern has a Chinese number that messages carry as digits (e.g. 四十八 -> 48, "
           "三天 -> 3天); write it as it becomes: " + converted;
  }
  return {};
}

}  // namespace shouhou::intents::detail
