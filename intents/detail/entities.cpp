#include "intents/detail/entities.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "intents/detail/han_set.hpp"
#include "intents/detail/utf8.hpp"

namespace shouhou::intents::detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_alnum(char c) { return is_digit(c) || is_lower(c); }

std::size_t count_digits(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), is_digit));
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

bool is_mobile(std::string_view digits) {
  return digits.size() == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9' &&
         all_digits(digits);
}

// prefix letters + a digit count in [lo, hi]
bool letters_then_digits(std::string_view token, std::string_view prefix, std::size_t extra_lo,
                         std::size_t extra_hi, std::size_t lo, std::size_t hi) {
  if (!token.starts_with(prefix)) return false;
  std::size_t i = prefix.size();
  std::size_t extra = 0;
  while (i < token.size() && is_lower(token[i])) {
    ++i;
    ++extra;
  }
  if (extra < extra_lo || extra > extra_hi) return false;
  const std::string_view rest = token.substr(i);
  return all_digits(rest) && rest.size() >= lo && rest.size() <= hi;
}

bool is_carrier_waybill(std::string_view t) {
  if (letters_then_digits(t, "sf", 0, 0, 12, 15)) return true;
  if (letters_then_digits(t, "jd", 0, 2, 11, 15)) return true;
  if (letters_then_digits(t, "yt", 0, 0, 13, 15)) return true;
  if (letters_then_digits(t, "jt", 0, 0, 13, 15)) return true;
  if (letters_then_digits(t, "dpk", 0, 0, 9, 15)) return true;
  // EMS / China Post international style: two letters, nine digits, CN.
  return t.size() == 13 && is_lower(t[0]) && is_lower(t[1]) && all_digits(t.substr(2, 9)) &&
         t.ends_with("cn");
}

constexpr std::array<std::string_view, 7> k_waybill_labels = {
    "运单编号", "运单号", "快递单号", "物流单号", "快递号", "物流号", "单号"};
constexpr std::array<std::string_view, 3> k_order_labels = {"订单编号", "订单号", "订单"};
constexpr std::array<std::string_view, 6> k_label_glue = {"是", "为", ":", "#", " ", "-"};

// Which label (if any) stands right before `pos`, skipping glue such as "是", ":" and spaces.
int label_before(std::string_view text, std::size_t pos) {
  std::string_view before = text.substr(0, pos);
  for (int guard = 0; guard < 4; ++guard) {
    bool stripped = false;
    for (const auto g : k_label_glue) {
      if (before.ends_with(g)) {
        before.remove_suffix(g.size());
        stripped = true;
        break;
      }
    }
    if (!stripped) break;
  }
  // 订单号 ends with 单号: look for order labels first.
  for (const auto l : k_order_labels) {
    if (before.ends_with(l)) return 1;
  }
  for (const auto l : k_waybill_labels) {
    if (before.ends_with(l)) return 2;
  }
  return 0;
}

constexpr std::array<std::string_view, 4> k_money_after = {"块钱", "元", "块", "rmb"};
constexpr std::array<std::string_view, 3> k_money_before = {"¥", "￥", "rmb"};
constexpr std::array<std::string_view, 22> k_classifiers = {
    "个", "件", "只", "瓶", "盒", "箱", "双", "套", "台", "条", "支",
    "包", "袋", "本", "张", "份", "罐", "片", "把", "颗", "粒", "斤"};

// Byte loops: string_view::starts_with calls memcmp, which costs more than these short words.
bool begins(std::string_view s, std::string_view w) {
  if (w.size() > s.size()) return false;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (s[i] != w[i]) return false;
  }
  return true;
}

bool ends(std::string_view s, std::string_view w) {
  return w.size() <= s.size() && begins(s.substr(s.size() - w.size()), w);
}

std::string_view starts_with_any(std::string_view s, const auto& list) {
  for (const auto w : list) {
    if (begins(s, w)) return w;
  }
  return {};
}

std::string_view ends_with_any(std::string_view s, const auto& list) {
  for (const auto w : list) {
    if (ends(s, w)) return w;
  }
  return {};
}

// Order and waybill numbers as carriers and shops print them (SF1402..., EA123456789CN): the
// normaliser lower-cased the message, and agents copy these into the carrier's own site.
std::string printed(std::string_view token) {
  std::string s(token);
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

void add(std::vector<entity>& out, std::string_view kind, std::string_view value) {
  const bool seen = std::any_of(out.begin(), out.end(), [&](const entity& e) {
    return e.kind == kind && e.value == value;
  });
  if (!seen) out.push_back(entity{std::string(kind), std::string(value)});
}


// The digit of a Chinese digit character (一..九, 两), or 0.
char chinese_digit(char32_t cp) {
  static const han_set digits(U"一二两三四五六七八九");
  if (!digits.contains(cp)) return 0;
  switch (cp) {
    case U'一': return '1';
    case U'两': case U'二': return '2';
    case U'三': return '3';
    case U'四': return '4';
    case U'五': return '5';
    case U'六': return '6';
    case U'七': return '7';
    case U'八': return '8';
    case U'九': return '9';
    default: return 0;
  }
}

// One Chinese digit before a classifier, from byte `from` on: 两件, 三个 (numbers with 十 are
// digits already). 一个 is mostly "a" (一个问题), so only 一件/一盒... and 两..九 count.
void chinese_counts(std::string_view text, std::size_t from, std::vector<entity>& out) {
  for (std::size_t p = from; p + 6 <= text.size(); p += utf8_length(text[p])) {
    const char digit = chinese_digit(cjk_at(text, p));
    if (digit == 0) continue;
    const std::string_view cls = starts_with_any(text.substr(p + 3), k_classifiers);
    if (!cls.empty() && !(digit == '1' && cls == "个")) {
      add(out, "count", std::string(1, digit) + std::string(cls));
    }
  }
}

// Order and waybill numbers, phones, amounts and counts written with ASCII digits, from byte
// `from` on, where no run of letters, digits and '-' goes on from before.
void digit_tokens(std::string_view text, std::size_t from, std::vector<entity>& out) {
  for (std::size_t p = from; p < text.size();) {
    const char c = text[p];
    if (!is_alnum(c)) {
      p += utf8_length(c);
      continue;
    }
    const std::size_t start = p;
    while (p < text.size() && (is_alnum(text[p]) || (text[p] == '-' && p + 1 < text.size() &&
                                                      is_alnum(text[p + 1])))) {
      ++p;
    }
    std::string_view token = text.substr(start, p - start);
    if (count_digits(token) == 0) continue;
    if (const int label = label_before(text, start); label != 0) {
      if (token.size() >= 6 && token.size() <= 30) {
        add(out, label == 1 ? "order_no" : "waybill_no", printed(token));
        continue;
      }
    }
    if (is_carrier_waybill(token)) {
      add(out, "waybill_no", printed(token));
      continue;
    }
    // Money and counts: digits, optionally with decimals ("12.5元").
    std::size_t end = p;
    if (all_digits(token) && end + 1 < text.size() && text[end] == '.' && is_digit(text[end + 1])) {
      std::size_t e = end + 1;
      while (e < text.size() && is_digit(text[e]) && e - end <= 2) ++e;
      if (e == text.size() || !is_digit(text[e])) {
        token = text.substr(start, e - start);
        end = e;
        p = e;
      }
    }
    const std::string_view digits_only = token.substr(0, token.find('.'));
    if (!all_digits(digits_only)) {
      // A short token ending in digits glued to a money prefix (rmb48) or a suffix (48rmb).
      if (token.starts_with("rmb") && all_digits(token.substr(3))) add(out, "amount", token.substr(3));
      if (token.ends_with("rmb") && all_digits(token.substr(0, token.size() - 3))) {
        add(out, "amount", token.substr(0, token.size() - 3));
      }
      continue;
    }
    if (is_mobile(token)) {
      add(out, "phone", token);
      continue;
    }
    if (token.size() >= 10 && token.find('.') == std::string_view::npos) {
      add(out, "order_no", token);
      continue;
    }
    std::string_view after = text.substr(end);
    while (after.starts_with(" ")) after.remove_prefix(1);
    std::string_view before = text.substr(0, start);
    while (before.ends_with(" ")) before.remove_suffix(1);
    if (!starts_with_any(after, k_money_after).empty() ||
        !ends_with_any(before, k_money_before).empty()) {
      add(out, "amount", token);
      continue;
    }
    if (token.size() <= 4 && token.find('.') == std::string_view::npos) {
      if (const std::string_view cls = starts_with_any(after, k_classifiers); !cls.empty()) {
        add(out, "count", std::string(token) + std::string(cls));
      }
    }
  }
}

}  // namespace

void extract_entities_into(std::string_view text, std::vector<entity>& out) {
  digit_tokens(text, 0, out);
  // 一..九 and 两 start with E4 or E5.
  for (std::size_t p = 0; p < text.size(); p += utf8_length(text[p])) {
    const auto b = static_cast<unsigned char>(text[p]);
    if ((b == 0xE4 || b == 0xE5) && chinese_digit(cjk_at(text, p)) != 0) {
      chinese_counts(text, p, out);
      break;
    }
  }
}

void extract_entities_into(std::string_view text, const char32_t* chars,
                           const std::uint32_t* at, std::size_t size, std::vector<entity>& out) {
  // Tokens without an ASCII digit give nothing: start at the run holding the first digit.
  for (std::size_t i = 0; i < size; ++i) {
    if (chars[i] < '0' || chars[i] > '9') continue;
    std::size_t from = at[i];
    while (from > 0 && (is_alnum(text[from - 1]) || text[from - 1] == '-')) --from;
    digit_tokens(text, from, out);
    break;
  }
  // As chinese_counts, over the characters.
  for (std::size_t i = 0; i + 1 < size; ++i) {
    const char digit = chinese_digit(chars[i]);
    if (digit == 0 || (digit == '1' && chars[i + 1] == U'个')) continue;
    for (const auto cls : k_classifiers) {
      if (cjk_at(cls, 0) == chars[i + 1]) {
        add(out, "count", std::string(1, digit) + std::string(cls));
        break;
      }
    }
  }
}

std::vector<entity> extract_entities(std::string_view normalized) {
  std::vector<entity> out;
  extract_entities_into(normalized, out);
  return out;
}

}  // namespace shouhou::intents::detail
