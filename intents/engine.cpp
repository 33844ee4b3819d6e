#include "intents/engine.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>

#include "intents/detail/entities.hpp"
#include "intents/detail/intent_file.hpp"
#include "intents/detail/keyword_model.hpp"
#include "intents/detail/linear_model.hpp"
#include "intents/detail/literal_sequence.hpp"
#include "intents/detail/ngrams.hpp"
#include "intents/detail/normalize.hpp"
#include "intents/detail/phrase_index.hpp"
#include "intents/detail/utf8.hpp"
#include "intents/reasons.hpp"

namespace shouhou::intents {
namespace {

using detail::rule;
using detail::rule_kind;

// Scoring constants; intents/README.md explains them to supervisors.
constexpr double k_prior = 1.0;           // confidence = best / (best + second + k_prior)
constexpr double k_unsure_below = 0.5;    // without a trained model or engine_options' own
// With a trained model, reasons at least this probable are listed as candidates.
constexpr double k_candidate_floor = 0.01;
constexpr double k_stated = 1.0;          // a reason scoring this much sets fallbacks aside
constexpr double k_contrast_boost = 1.5;  // matches after the last 但是/就是/只是/...
constexpr int k_max_occurrences = 8;      // per rule and message, when looking for negations
// Fusion with the keyword model, per unit of engine_options::model_weight: a reason loses
// k_model_log x ln(P(model's favourite) / P(reason)); `other` starts at k_other_prior. Tuned on the
// development corpus (bench/README.md, intents/README.md step 7).
constexpr double k_model_log = 0.2;
constexpr double k_other_prior = 0.5;
// With no pattern evidence at all, the model alone names a reason only when this sure.
constexpr double k_model_alone = 0.9;
// The model's features: character 1- and 2-grams seen (weighted) at least twice in training.
constexpr int k_model_max_n = 2;
constexpr double k_model_min_count = 2.0;

constexpr int64_t k_set_max_mem = 64 << 20;
// An alternative expanding to more phrases than this is not indexed whole: past it, a cross
// product of groups is checked by comparing bytes where its leading phrases occur (the same
// limit). The index stores shared ends once and takes a product without spelling it out, so the
// limit costs load time more than memory: with the files of this writing 1,024 / 4,096 / 16,384
// gave 39 / 26 / 16 checked rules, loads of 58 / 75 / 113 ms, and classify +3% from 1,024 to
// 4,096, +2% more to 16,384 (bench/README.md).
constexpr std::size_t k_max_alternative_phrases = 4096;
constexpr int64_t k_rule_max_mem = 2 << 20;

constexpr std::size_t k_targets = k_reasons.size() + k_flags.size();

// Index ids besides rule numbers: a start to check with the rule's anchored regex, and a phrase
// the set needs.
constexpr std::uint32_t k_check = 1u << 31;
constexpr std::uint32_t k_gate = ~0u;

// A negator right before a match (optionally with one filler word between) negates it.
// Longest first, so 没有 wins over 没.
constexpr std::array<std::string_view, 10> k_negators = {"并不是", "并没有", "不是", "没有", "并非",
                                                         "没",     "不",     "无",   "未",   "别"};
constexpr std::array<std::string_view, 8> k_fillers = {"任何", "因为", "什么", "出现",
                                                       "发现", "都",   "也",   "有"};
// The clause after the last of these weighs more: "不是质量问题,就是不想要了". So does what follows
// a complaint the buyer waves aside: "质量差就不说了,色差也太大了".
constexpr std::array<std::string_view, 15> k_contrast = {
    "但是", "可是",   "不过",   "就是",   "只是",   "而是",   "然而",  "但",
    "不说了", "也就罢了", "就罢了", "就算了", "都算了", "先不说", "且不说"};

RE2::Options rule_options(int64_t max_mem) {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingUTF8);
  o.set_log_errors(false);
  o.set_never_capture(true);
  o.set_case_sensitive(false);
  o.set_max_mem(max_mem);
  return o;
}

std::size_t target_index(const std::string& id) {
  for (std::size_t i = 0; i < k_reasons.size(); ++i) {
    if (k_reasons[i] == id) return i;
  }
  for (std::size_t i = 0; i < k_flags.size(); ++i) {
    if (k_flags[i] == id) return k_reasons.size() + i;
  }
  return k_targets;  // not reached: the reader accepts known ids only
}

// True when `word` stands in `text` at byte `p`. A byte loop: std::string_view::starts_with calls
// memcmp, which costs more than the comparison for these 3-9 byte words.
inline bool has_at(std::string_view text, std::size_t p, std::string_view word) {
  if (p > text.size() || word.size() > text.size() - p) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (text[p + i] != word[i]) return false;
  }
  return true;
}

// True when `word` ends in `text` right before byte `end`.
inline bool ends_at(std::string_view text, std::size_t end, std::string_view word) {
  return end >= word.size() && has_at(text, end - word.size(), word);
}

// Length of the UTF-8 character that ends right before `end`.
std::size_t last_char_len(std::string_view s, std::size_t end) {
  std::size_t n = 0;
  while (n < end && n < 4) {
    ++n;
    if ((static_cast<unsigned char>(s[end - n]) & 0xC0) != 0x80) break;
  }
  return n;
}

std::size_t first_char_len(std::string_view s, std::size_t pos) {
  return pos >= s.size() ? 0 : std::min(detail::utf8_length(s[pos]), s.size() - pos);
}

// The negator that negates a match starting at `start`, or empty. A-not-A questions
// (是不是假货, 有没有少件, 能不能用) are not negations.
std::string_view negator_before(std::string_view text, std::size_t start) {
  for (int pass = 0; pass < 2; ++pass) {
    std::size_t end = start;
    if (pass == 1) {
      const auto filler = std::find_if(k_fillers.begin(), k_fillers.end(),
                                       [&](auto f) { return ends_at(text, start, f); });
      if (filler == k_fillers.end()) return {};
      end = start - filler->size();
    }
    for (const auto neg : k_negators) {
      if (!ends_at(text, end, neg)) continue;
      const std::size_t neg_pos = end - neg.size();
      const std::size_t prev_len = last_char_len(text, neg_pos);
      const std::size_t first_len = first_char_len(text, neg_pos);
      const std::size_t next_len = first_char_len(text, neg_pos + first_len);
      if (prev_len > 0 && prev_len == next_len &&
          text.substr(neg_pos - prev_len, prev_len) == text.substr(neg_pos + first_len, next_len)) {
        return {};  // 是不是 / 有没有 / 能不能
      }
      return neg;
    }
  }
  return {};
}

// True when the pattern has a gap: '.', a negated class, \S, \W, \D or \p followed by *, + or
// {n,m}. Over UTF-8 Chinese such gaps make RE2::Set 100-1000x slower (issue 3).
bool has_gap(std::string_view re) {
  for (std::size_t i = 0; i < re.size(); ++i) {
    std::size_t after = std::string_view::npos;
    if (re[i] == '\\' && i + 1 < re.size()) {
      const char c = re[i + 1];
      if (c == 'S' || c == 'W' || c == 'D') {
        after = i + 2;
      } else if (c == 'p' || c == 'P') {
        after = i + 2;
        if (after < re.size() && re[after] == '{') {
          const std::size_t close = re.find('}', after);
          after = close == std::string_view::npos ? re.size() : close + 1;
        } else {
          ++after;
        }
      }
      if (after == std::string_view::npos) {
        ++i;
        continue;
      }
    } else if (re[i] == '[') {
      const bool negated = i + 1 < re.size() && re[i + 1] == '^';
      std::size_t j = i + (negated ? 2 : 1);
      if (j < re.size() && re[j] == ']') ++j;
      while (j < re.size() && re[j] != ']') j += re[j] == '\\' ? 2 : 1;
      if (!negated) {
        i = j;
        continue;
      }
      after = j + 1;
    } else if (re[i] == '.') {
      after = i + 1;
    } else {
      continue;
    }
    if (after < re.size() && (re[after] == '*' || re[after] == '+' || re[after] == '{')) {
      return true;
    }
  }
  return false;
}

std::string format_weight(double w) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, w, std::chars_format::general, 3);
  return std::string(buf, r.ptr);
}

// Literal expansions of a simple pattern, for the keyword model: "碎了|(压|摔)(碎|坏)" gives 碎了,
// 压碎, 压坏, 摔碎, 摔坏. Patterns with anything but literals, groups of literals, '|' and '?' give
// nothing; so does an expansion past 64 phrases.
std::vector<std::string> literal_phrases(std::string_view re) {
  constexpr std::size_t k_max_phrases = 64;
  std::vector<std::string> out;
  // Split at top-level '|'.
  std::vector<std::string_view> branches;
  int depth = 0;
  std::size_t from = 0;
  for (std::size_t i = 0; i < re.size(); ++i) {
    if (re[i] == '\\') return {};
    if (re[i] == '(') ++depth;
    if (re[i] == ')') --depth;
    if (re[i] == '|' && depth == 0) {
      branches.push_back(re.substr(from, i - from));
      from = i + 1;
    }
  }
  branches.push_back(re.substr(from));
  for (const auto branch : branches) {
    std::vector<std::string> partial = {""};
    for (std::size_t i = 0; i < branch.size();) {
      std::vector<std::string> options;
      if (branch[i] == '(') {
        const std::size_t close = branch.find(')', i);
        if (close == std::string_view::npos) return {};
        std::string_view inside = branch.substr(i + 1, close - i - 1);
        if (inside.starts_with("?:")) inside.remove_prefix(2);
        if (inside.find_first_of("()[].*+?{}^$") != std::string_view::npos) return {};
        std::size_t s = 0;
        for (std::size_t j = 0; j <= inside.size(); ++j) {
          if (j == inside.size() || inside[j] == '|') {
            options.emplace_back(inside.substr(s, j - s));
            s = j + 1;
          }
        }
        i = close + 1;
      } else {
        if (std::string_view("[].*+{}^$)").find(branch[i]) != std::string_view::npos) return {};
        std::size_t len = 1;
        const auto b = static_cast<unsigned char>(branch[i]);
        if (b >= 0xC0) len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
        options.emplace_back(branch.substr(i, len));
        i += len;
      }
      if (i < branch.size() && branch[i] == '?') {
        options.emplace_back();
        ++i;
      }
      std::vector<std::string> next;
      for (const auto& p : partial) {
        for (const auto& o : options) next.push_back(p + o);
      }
      if (next.size() > k_max_phrases) return {};
      partial = std::move(next);
    }
    for (auto& p : partial) out.push_back(std::move(p));
    if (out.size() > k_max_phrases) return {};
  }
  return out;
}

// The code point of the UTF-8 character at `p` (ASCII letters lower-cased), or 0 past the end.
char32_t code_point_at(std::string_view s, std::size_t p) {
  if (p >= s.size()) return 0;
  const auto b0 = static_cast<unsigned char>(s[p]);
  if (b0 < 0x80) return b0 >= 'A' && b0 <= 'Z' ? b0 - 'A' + 'a' : b0;
  const std::size_t len = first_char_len(s, p);
  char32_t cp = b0 & (len == 2 ? 0x1Fu : len == 3 ? 0x0Fu : 0x07u);
  for (std::size_t i = 1; i < len; ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[p + i]) & 0x3Fu);
  return cp;
}

// The characters a match of `r` can start with, sorted; empty when that is not known.
std::vector<char32_t> first_chars_of(const rule& r) {
  std::vector<char32_t> out;
  if (r.regex == RE2::QuoteMeta(r.text)) {
    if (!r.text.empty()) out.push_back(code_point_at(r.text, 0));
    return out;
  }
  for (const auto& phrase : literal_phrases(r.regex)) {
    if (phrase.empty()) return {};
    out.push_back(code_point_at(phrase, 0));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The top-level alternatives of a pattern ("a|(b|c)d" gives "a" and "(b|c)d"); the whole
// pattern when it sets flags ("(?i)..."), which reach across alternatives.
std::vector<std::string_view> alternatives(std::string_view re) {
  std::vector<std::string_view> out;
  int depth = 0;
  bool in_class = false;
  std::size_t from = 0;
  for (std::size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      if (c == ']') in_class = false;
    } else if (c == '[') {
      in_class = true;
      if (i + 1 < re.size() && re[i + 1] == '^') ++i;
      if (i + 1 < re.size() && re[i + 1] == ']') ++i;
    } else if (c == '(') {
      if (i + 1 < re.size() && re[i + 1] == '?' && !(i + 2 < re.size() && re[i + 2] == ':')) {
        return {re};
      }
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == '|' && depth == 0) {
      out.push_back(re.substr(from, i - from));
      from = i + 1;
    }
  }
  out.push_back(re.substr(from));
  return out;
}

// Appends to `out` the phrases of a sequence of literal characters (ASCII lower-cased; `\.`
// and other escaped ASCII signs stand for themselves; `\d+` and `$` become the index's steps).
// False when it holds anything else, or a character that case-insensitive matching could compare
// with another one.
bool literal_run(std::string_view run, std::string& out) {
  for (std::size_t i = 0; i < run.size();) {
    char c = run[i];
    if (run.compare(i, 3, "\\d+") == 0) {
      out += detail::phrase_index::k_digit_run;
      i += 3;
      continue;
    }
    if (c == '$') {
      out += detail::phrase_index::k_text_end;
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= run.size()) return false;
      c = run[i + 1];
      const bool sign = static_cast<unsigned char>(c) < 0x80 && !(c >= '0' && c <= '9') &&
                        !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z');
      if (!sign) return false;
      out += c;
      i += 2;
      continue;
    }
    if (std::string_view("()[].*+?{}^$|").find(c) != std::string_view::npos) return false;
    const std::size_t len = first_char_len(run, i);
    if (!detail::is_caseless_char(code_point_at(run, i))) return false;
    if (len == 1) {
      out += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    } else {
      out.append(run.substr(i, len));
    }
    i += len;
  }
  return true;
}

// One element of an alternative: a group, a class, an escape or a character, with its quantifier.
struct element {
  std::size_t end = 0;    // where the next element starts
  bool literal = false;   // `options` lists every string it matches (once)
  bool optional = false;  // may match nothing: ?, * or {0,...}
  bool repeated = false;  // +, * or {...}
  std::vector<std::string> options;
};

bool alternative_phrases(std::string_view alt, std::size_t limit, std::vector<std::string>& out);

// Reads the element at `i`. False where these helpers do not follow the syntax: an alternation
// at this level (a pattern that sets flags reaches across its alternatives), a flags group, an
// unclosed group or class.
bool read_element(std::string_view alt, std::size_t i, element& e) {
  e = element{};
  std::size_t end = i;
  const auto skip_class = [&](std::size_t j) {  // from '[' to past its ']'
    ++j;
    if (j < alt.size() && alt[j] == '^') ++j;
    if (j < alt.size() && alt[j] == ']') ++j;
    while (j < alt.size() && alt[j] != ']') j += alt[j] == '\\' ? 2 : 1;
    return j + 1;
  };
  if (alt[i] == '|') return false;
  if (alt[i] == '(') {
    if (alt.compare(i, 2, "(?") == 0 && alt.compare(i, 3, "(?:") != 0) return false;
    int depth = 0;
    std::size_t j = i;
    while (j < alt.size()) {
      if (alt[j] == '\\') {
        j += 2;
        continue;
      }
      if (alt[j] == '[') {
        j = skip_class(j);
        continue;
      }
      if (alt[j] == '(') ++depth;
      if (alt[j] == ')' && --depth == 0) break;
      ++j;
    }
    if (j >= alt.size()) return false;
    end = j + 1;
    std::string_view inside = alt.substr(i + 1, j - i - 1);
    if (inside.starts_with("?:")) inside.remove_prefix(2);
    e.literal = true;
    for (const std::string_view option : alternatives(inside)) {
      std::string run;
      if (literal_run(option, run)) {
        e.options.push_back(std::move(run));
        continue;
      }
      // A group inside the group ("(发痒|头皮屑(很多|变多))"): the strings it matches, when few.
      if (option.find('(') == std::string_view::npos ||
          !alternative_phrases(option, k_max_alternative_phrases, e.options)) {
        e.literal = false;
        break;
      }
    }
  } else if (alt[i] == '[') {
    end = skip_class(i);
    if (end > alt.size()) return false;
  } else {
    end = alt.compare(i, 3, "\\d+") == 0 ? i + 3
          : alt[i] == '\\'               ? i + 2
                                         : i + first_char_len(alt, i);
    e.options.emplace_back();
    e.literal = end <= alt.size() && literal_run(alt.substr(i, end - i), e.options.back());
    // `\d+?` is a lazy repeat, not an optional run.
    if (end == i + 3 && alt[i] == '\\' && end < alt.size() && alt[end] == '?') e.literal = false;
  }
  if (!e.literal) e.options.clear();
  if (end < alt.size() && (alt[end] == '?' || alt[end] == '*')) {
    e.optional = true;
    e.repeated = alt[end] == '*';
    ++end;
  } else if (end < alt.size() && alt[end] == '+') {
    e.repeated = true;
    ++end;
  } else if (end < alt.size() && alt[end] == '{') {
    e.repeated = true;
    e.optional = alt.compare(end, 2, "{0") == 0 || alt.compare(end, 2, "{,") == 0;
    const std::size_t close = alt.find('}', end);
    if (close == std::string_view::npos) return false;
    end = close + 1;
  }
  if (e.repeated && end < alt.size() && (alt[end] == '?' || alt[end] == '+')) ++end;  // lazy
  e.end = end;
  return true;
}

// `partial` x `options`, when every result is indexable and there are at most `limit`.
bool extend(std::vector<std::string>& partial, const std::vector<std::string>& options,
            std::size_t limit, bool whole) {
  std::vector<std::string> next;
  for (const auto& p : partial) {
    for (const auto& o : options) {
      next.push_back(p + o);
      if (next.size() > limit) return false;
      // A phrase that will be extended may be empty or end its text mid-way only at the end.
      if (whole && !detail::phrase_index::indexable(next.back())) return false;
    }
  }
  partial.swap(next);
  return true;
}

// `count` x `n` (n >= 1), or limit + 1 when that is more than `limit`.
std::size_t times(std::size_t count, std::size_t n, std::size_t limit) {
  return count > limit / n ? limit + 1 : count * n;
}

// The groups of `alt` when it is a sequence of literal elements, optional ones included, with no
// other repeat: what a literal_sequence checks. False for anything else.
bool literal_groups(std::string_view alt, std::vector<detail::literal_sequence::group>& out) {
  element e;
  for (std::size_t i = 0; i < alt.size(); i = e.end) {
    if (!read_element(alt, i, e) || !e.literal || e.repeated) return false;
    out.push_back({std::move(e.options), e.optional});
  }
  return !out.empty();
}

// The strings one alternative matches, as the groups they are made of, when it is a sequence of
// literal characters and groups of literal alternatives (which may hold such groups), each
// optionally followed by '?': "(压|摔)(碎|坏)了?" is 2 x 2 x 2 = 8 phrases. `\d+` and `$` are
// taken where the index can walk them. False for anything else (classes, other repeats, ^), past
// `limit` phrases, or when a phrase is not indexable. The index takes the groups without
// spelling the phrases out.
bool alternative_product(std::string_view alt, std::size_t limit,
                         detail::phrase_index::product& out) {
  std::vector<detail::literal_sequence::group> parsed;
  if (!literal_groups(alt, parsed)) return false;
  detail::phrase_index::product groups;
  detail::phrase_index::product_check check;
  std::size_t count = 1;
  for (auto& g : parsed) {
    if (g.optional) g.options.emplace_back();
    count = times(count, g.options.size(), limit);
    if (count > limit) return false;
    check.add(g.options);
    groups.push_back(std::move(g.options));
  }
  if (!check.every_phrase()) return false;
  out = std::move(groups);
  return true;
}

// The same phrases spelt out, for a group inside a group.
bool alternative_phrases(std::string_view alt, std::size_t limit, std::vector<std::string>& out) {
  detail::phrase_index::product groups;
  if (!alternative_product(alt, limit, groups)) return false;
  std::vector<std::string> partial = {""};
  for (const auto& options : groups) extend(partial, options, limit, false);  // within `limit`
  for (auto& p : partial) out.push_back(std::move(p));
  return true;
}

// The phrases every match of `alt` starts with, as the groups they are made of: its leading
// literal elements, optional ones included, up to its last required one before anything else (a
// ^ or \b in front, which match no character, skipped). False when there are none, or past
// `limit` for the first element.
bool leading_product(std::string_view alt, std::size_t limit, detail::phrase_index::product& out) {
  std::size_t i = 0;
  while (alt.compare(i, 1, "^") == 0 || alt.compare(i, 2, "\\b") == 0) i += alt[i] == '^' ? 1 : 2;
  detail::phrase_index::product groups;
  detail::phrase_index::product_check check;
  std::size_t count = 1;
  std::size_t required = 0;  // groups up to the last required element
  element e;
  for (; i < alt.size(); i = e.end) {
    if (!read_element(alt, i, e) || !e.literal || e.repeated) break;
    if (e.optional) e.options.emplace_back();
    const std::size_t next_count = times(count, e.options.size(), limit);
    detail::phrase_index::product_check next = check;
    next.add(e.options);
    // A phrase that will be extended may be empty or end its text mid-way only at the end.
    if (next_count > limit || !next.every_phrase()) break;
    count = next_count;
    check = next;
    groups.push_back(std::move(e.options));
    if (!e.optional) required = groups.size();
  }
  if (required == 0) return false;
  groups.resize(required);
  out = std::move(groups);
  return true;
}

// Phrases one of which every match of `alt` holds: the first run of consecutive literal elements
// that must match. False when there is none.
bool required_phrases(std::string_view alt, std::size_t limit, std::vector<std::string>& out) {
  std::vector<std::string> partial = {""};
  element e;
  for (std::size_t i = 0; i < alt.size(); i = e.end) {
    if (!read_element(alt, i, e)) return false;
    const bool required = e.literal && !e.optional && !e.repeated;
    if (required && extend(partial, e.options, limit, true)) continue;
    if (!partial[0].empty()) break;
    partial = {""};
  }
  if (partial[0].empty()) return false;
  for (auto& p : partial) out.push_back(std::move(p));
  return true;
}

// A clause ends at ASCII punctuation or a space (the normaliser made them ASCII).
bool is_clause_break(char c) {
  return c == ',' || c == '.' || c == '!' || c == '?' || c == ';' || c == '~' || c == ' ' ||
         c == ':' || c == '\n';
}

// Words that make the rest of their clause a supposition: "如果坏了能退吗" states no problem.
constexpr std::array<std::string_view, 7> k_hypothetical = {"如果", "要是", "万一", "假如",
                                                            "假设", "若是", "担心"};

// The marker that makes the match at `start` hypothetical, or empty.
std::string_view hypothetical_before(std::string_view text, std::size_t start) {
  std::size_t clause = start;
  while (clause > 0 && !is_clause_break(text[clause - 1])) --clause;
  const std::string_view before = text.substr(clause, start - clause);
  if (before.size() < 6) return {};
  for (const auto m : k_hypothetical) {
    if (before.find(m) != std::string_view::npos) return m;
  }
  return {};
}

// True when a pattern looks at what comes before its match: ^, \A, \b or \B (conservatively: any
// '^', also inside a class, and any backslash before A, b or B).
bool depends_on_context(std::string_view re) {
  if (re.find('^') != std::string_view::npos) return true;
  for (std::size_t i = 0; i + 1 < re.size(); ++i) {
    if (re[i] == '\\' && (re[i + 1] == 'A' || re[i + 1] == 'b' || re[i + 1] == 'B')) return true;
  }
  return false;
}

// The characters the marker words start with, taken from the word lists so that a new word needs
// no other change.
struct marker_starts {
  std::u32string negator;
  std::u32string hypothetical;
  std::u32string contrast;
  // All of them, as one bit test: most characters of a message start no marker.
  std::array<std::uint64_t, 0x10000 / 64> any{};

  marker_starts() {
    const auto collect = [this](const auto& words, std::u32string& out) {
      for (const std::string_view w : words) {
        const char32_t c = code_point_at(w, 0);
        if (out.find(c) == std::u32string::npos) out.push_back(c);
        if (c < 0x10000) any[c >> 6] |= std::uint64_t{1} << (c & 63);
      }
    };
    collect(k_negators, negator);
    collect(k_hypothetical, hypothetical);
    collect(k_contrast, contrast);
  }

  bool may_start(char32_t cp) const {
    return cp < 0x10000 && ((any[cp >> 6] >> (cp & 63)) & 1) != 0;
  }
};

const marker_starts& starts_of_markers() {
  static const marker_starts starts;
  return starts;
}

// Where the markers of one message are, found in one pass over its characters.
struct markers {
  // Where a match starting there is negated (negator_before is not empty there).
  std::vector<std::uint32_t> negations;
  // Per clause with a supposition: where its first marker ends; matches from there to the
  // clause's end do not count.
  std::vector<std::uint32_t> suppositions;
  // Where the clause after the last contrast marker starts, or npos.
  std::size_t contrast = std::string_view::npos;
};

// `chars`: the text decoded, or null when it is not valid UTF-8 (then the bytes are walked).
void find_markers(std::string_view text, const detail::code_points* chars, markers& out) {
  out.negations.clear();
  out.suppositions.clear();
  out.contrast = std::string_view::npos;
  const auto propose = [&](std::size_t at) {
    if (at <= text.size() && !negator_before(text, at).empty() &&
        std::find(out.negations.begin(), out.negations.end(), at) == out.negations.end()) {
      out.negations.push_back(static_cast<std::uint32_t>(at));
    }
  };
  bool in_supposition = false;
  // The character `cp` at byte `p` may start a marker.
  const marker_starts& starts = starts_of_markers();
  const auto at_marker = [&](std::size_t p, char32_t cp) {
    if (starts.negator.find(cp) != std::u32string::npos) {
      for (const auto neg : k_negators) {
        if (!has_at(text, p, neg)) continue;
        const std::size_t end = p + neg.size();
        propose(end);
        for (const auto f : k_fillers) {
          if (has_at(text, end, f)) propose(end + f.size());
        }
      }
    }
    if (!in_supposition && starts.hypothetical.find(cp) != std::u32string::npos) {
      for (const auto m : k_hypothetical) {
        if (has_at(text, p, m)) {
          out.suppositions.push_back(static_cast<std::uint32_t>(p + m.size()));
          in_supposition = true;
          break;
        }
      }
    }
    if (starts.contrast.find(cp) != std::u32string::npos) {
      for (const auto c : k_contrast) {
        if (has_at(text, p, c)) {
          out.contrast = p + c.size();
          break;
        }
      }
    }
  };
  if (chars != nullptr) {
    for (std::size_t i = 0; i < chars->size; ++i) {
      const char32_t cp = chars->cp[i];
      if (cp < 0x80) {
        if (is_clause_break(static_cast<char>(cp))) in_supposition = false;
      } else if (starts.may_start(cp)) {
        at_marker(chars->at[i], cp);
      }
    }
    return;
  }
  for (std::size_t p = 0; p < text.size();) {
    const auto lead = static_cast<unsigned char>(text[p]);
    if (lead < 0xE0 || lead >= 0xF0) {
      if (is_clause_break(text[p])) in_supposition = false;
      p += first_char_len(text, p);
      continue;
    }
    // Only a few first characters can start a marker; compare whole words only for them.
    const char32_t cp = detail::cjk_at(text, p);
    if (starts.may_start(cp)) at_marker(p, cp);
    p += 3;
  }
}

// How a start the index found for a rule is confirmed: by comparing bytes when each of the
// rule's other alternatives is a sequence of groups of phrases, else with their anchored regex.
struct start_check {
  std::vector<detail::literal_sequence> sequences;
  std::unique_ptr<RE2> regex;

  bool matches_at(std::string_view text, std::size_t at) const {
    if (regex) {
      return regex->Match(re2::StringPiece(text.data(), text.size()), at, text.size(),
                          RE2::ANCHOR_START, nullptr, 0);
    }
    return std::any_of(sequences.begin(), sequences.end(),
                       [&](const auto& q) { return q.matches_at(text, at); });
  }
};

}  // namespace

struct engine::impl {
  engine_options options;
  std::vector<rule> rules;
  std::vector<std::size_t> target;            // per rule: index into reasons then flags
  std::vector<std::string> where;             // per rule: "file.yaml:line"
  std::vector<std::unique_ptr<RE2>> regexes;  // per rule, to find where it matched
  // The alternatives of rules that are lists of literal phrases (most of them), by rule. Found
  // by walking a trie, not by the regex set: a set over them all builds ~10 MiB of DFA states,
  // and every byte of a message then costs a cache miss.
  detail::phrase_index index;
  // The other alternatives, one entry per rule that has any (joined by '|'), matched once per
  // message; set_rule maps an entry to its rule.
  std::unique_ptr<RE2::Set> set;
  // The same anchored at the start: which rules match right after a negator.
  std::unique_ptr<RE2::Set> anchored;
  std::vector<std::uint32_t> set_rule;
  // Per rule whose other alternatives all start with literal phrases: those alternatives, matched
  // anchored where the index found such a phrase (an index id with k_check); else null.
  std::vector<std::unique_ptr<start_check>> starts;
  // The index reports k_gate where a phrase occurs that one of the set's rules needs; without
  // one the set cannot match and is not run.
  bool gated = false;
  // Per rule: the pattern depends on what precedes the match (^, \b, \B, \A), so matching it on
  // a suffix of the text could differ; such rules are placed by the exact search.
  std::vector<std::uint8_t> context_sensitive;
  // Per rule: the characters a match can start with (code points, sorted), from its literal
  // phrases; empty when unknown (any character). Lets most negation points and tie-breaks skip
  // the regex engine.
  std::vector<std::vector<char32_t>> first_chars;
  std::array<double, k_flags.size()> flag_threshold{};
  // Reasons with `fallback: true` (refund_request): set aside when another reason is stated.
  std::array<bool, k_reasons.size()> fallback{};
  detail::keyword_model model{k_reasons.size(), k_model_max_n, k_model_min_count};
  // The trained model of the folder, bound to `rules`; when present it decides instead of the
  // naive Bayes model and the hand-set fusion.
  std::optional<detail::linear_model> linear;
  std::vector<std::uint64_t> identities;  // per rule, as a model names it
  engine_stats stats;
};

engine::engine(std::unique_ptr<impl> p, std::string version)
    : impl_(std::move(p)), version_(std::move(version)) {}

engine::~engine() = default;

const engine_stats& engine::stats() const { return impl_->stats; }

engine::load_result engine::load(const std::filesystem::path& dir, engine_options options) {
  const auto started = std::chrono::steady_clock::now();
  load_result result;
  detail::read_result read = detail::read_intent_folder(dir);
  result.errors = std::move(read.errors);

  auto p = std::make_unique<impl>();
  p->options = options;
  p->flag_threshold.fill(1.0);
  for (const auto& b : read.data.blocks) {
    if (b.is_flag) p->flag_threshold[target_index(b.id) - k_reasons.size()] = b.threshold;
    if (!b.is_flag) p->fallback[target_index(b.id)] = b.fallback;
  }
  // The set runs only when a phrase that each of its rules needs occurs (when all have one).
  bool gated = true;
  std::vector<std::string> gates;
  p->set = std::make_unique<RE2::Set>(rule_options(k_set_max_mem), RE2::UNANCHORED);
  p->anchored = std::make_unique<RE2::Set>(rule_options(k_set_max_mem), RE2::ANCHOR_START);
  for (auto& r : read.data.rules) {
    const auto error = [&](std::string message) {
      result.errors.push_back(file_error{r.file, r.line, r.column, std::move(message)});
    };
    auto re = std::make_unique<RE2>(r.regex, rule_options(k_rule_max_mem));
    if (!re->ok()) {
      error("bad pattern: " + re->error());
      continue;
    }
    if (RE2::FullMatch("", *re)) {
      error("pattern matches an empty message, so it would fire on every message");
      continue;
    }
    if (r.kind != rule_kind::keyword && has_gap(r.regex)) {
      error(
          "pattern has a gap (.*, .{0,8}, [^,]*, \\S+ ...): that makes matching slow; "
          "list the phrases instead (碎了|裂了|破了)");
      continue;
    }
    const bool context_sensitive = depends_on_context(r.regex);
    // Alternatives that are lists of phrases go to the index, the rest to the set; or, when each
    // of the rest starts with a few literal phrases, those phrases go to the index and every
    // start found is checked (start_check), so that the rule needs no set.
    std::vector<detail::phrase_index::product> products;
    std::vector<detail::phrase_index::product> leading;
    std::vector<std::string> required;
    bool all_leading = true;
    bool all_required = true;
    std::string rest;
    std::vector<std::string_view> rest_alternatives;
    for (const std::string_view alt : alternatives(r.regex)) {
      // An alternative with ^ or \b goes to the set whole; its siblings without them can still
      // be indexed: the rule is then placed by its regex, which sees them all.
      detail::phrase_index::product groups;
      if (!depends_on_context(alt) && alternative_product(alt, k_max_alternative_phrases, groups)) {
        products.push_back(std::move(groups));
      } else {
        if (!rest.empty()) rest += '|';
        rest.append(alt);
        rest_alternatives.push_back(alt);
        all_leading = leading_product(alt, k_max_alternative_phrases, groups) && all_leading;
        if (!groups.empty()) leading.push_back(std::move(groups));
        all_required = required_phrases(alt, k_max_alternative_phrases, required) && all_required;
      }
    }
    std::unique_ptr<start_check> starts;
    if (!rest.empty() && all_leading) {
      starts = std::make_unique<start_check>();
      for (const std::string_view alt : rest_alternatives) {
        std::vector<detail::literal_sequence::group> groups;
        if (depends_on_context(alt) || !literal_groups(alt, groups)) {
          starts->sequences.clear();
          starts->regex = std::make_unique<RE2>(rest, rule_options(k_rule_max_mem));
          break;
        }
        starts->sequences.emplace_back(std::move(groups));
      }
      if (starts->regex && !starts->regex->ok()) starts.reset();
    }
    std::string set_error;
    if (!rest.empty() && !starts &&
        (p->set->Add(rest, &set_error) < 0 || p->anchored->Add(rest, &set_error) < 0)) {
      error("bad pattern: " + set_error);
      continue;
    }
    const auto id = static_cast<std::uint32_t>(p->rules.size());
    bool all_added = true;
    if (!rest.empty() && !starts) {
      p->set_rule.push_back(id);
      gated = gated && all_required;
      gates.insert(gates.end(), required.begin(), required.end());
    }
    for (const auto& groups : products) all_added = p->index.add_product(groups, id) && all_added;
    if (starts) {
      for (const auto& groups : leading) {
        all_added = p->index.add_product(groups, id | k_check) && all_added;
      }
    }
    if (!all_added) {
      // The trie holds a million characters while it is built; the shipped files take 158,000.
      result.errors.push_back(file_error{
          r.file, r.line, r.column,
          "too many phrases in all (the phrase index is full): make the largest groups smaller"});
      continue;
    }
    p->starts.push_back(std::move(starts));
    p->context_sensitive.push_back(context_sensitive ? 1 : 0);
    p->first_chars.push_back(first_chars_of(r));
    p->target.push_back(target_index(r.target));
    p->where.push_back(std::filesystem::path(r.file).filename().string() + ":" +
                       std::to_string(r.line));
    p->regexes.push_back(std::move(re));
    p->rules.push_back(std::move(r));
  }
  if (result.errors.empty() && p->rules.empty()) {
    result.errors.push_back(file_error{dir.string(), 0, 0, "the intent files define no patterns"});
  }
  if (!result.errors.empty()) return result;
  p->gated = gated;
  if (gated) {
    for (const auto& phrase : gates) p->index.add(phrase, k_gate);
  }
  p->index.build();
  if (!p->set_rule.empty() && (!p->set->Compile() || !p->anchored->Compile())) {
    result.errors.push_back(
        file_error{dir.string(), 0, 0, "the patterns together exceed the matcher's memory budget"});
    return result;
  }

  // Rules as a trained model names them; identical rules are told apart by their order.
  std::map<std::string, int> occurrences;
  for (const auto& r : p->rules) {
    const int kind = static_cast<int>(r.kind);
    std::string key = r.target + '\0' + std::to_string(kind) + '\0' + r.text;
    p->identities.push_back(detail::rule_identity(r.target, kind, r.text, occurrences[key]++));
  }
  if (!read.data.model_file.empty() && options.use_model) {
    std::string error;
    auto model = detail::linear_model::read(read.data.model_bytes, error);
    std::size_t unknown = p->rules.size();
    if (model && !model->bind(p->identities, error, unknown)) model.reset();
    if (!model) {
      if (unknown < p->rules.size()) {
        const rule& r = p->rules[unknown];
        result.errors.push_back(
            file_error{r.file, r.line, r.column, error + " (" + read.data.model_file + ")"});
      } else {
        result.errors.push_back(file_error{read.data.model_file, 0, 0, error});
      }
      return result;
    }
    p->linear = std::move(*model);
  }

  // The naive Bayes keyword model, when there is no trained one: examples, keywords and literal
  // patterns of every reason.
  std::size_t examples = read.data.training.size();
  for (const auto& b : read.data.blocks) {
    if (!b.is_flag) examples += b.examples.size();
  }
  for (const auto& b : read.data.blocks) {
    if (b.is_flag || p->linear) continue;
    const std::size_t t = target_index(b.id);
    for (const auto& e : b.examples) p->model.add(t, detail::normalize(e), 1.0);
  }
  for (const auto& e : read.data.training) {
    if (!p->linear) p->model.add(target_index(e.reason), detail::normalize(e.text), 1.0);
  }
  for (const auto& r : p->rules) {
    if (p->linear) break;
    const std::size_t t = target_index(r.target);
    if (t >= k_reasons.size() || r.kind == rule_kind::negative) continue;
    if (r.kind == rule_kind::keyword) {
      p->model.add(t, r.text, r.weight);
    } else {
      for (const auto& phrase : literal_phrases(r.regex)) p->model.add(t, phrase, r.weight);
    }
  }
  p->model.train();

  p->stats.files = read.data.files.size();
  p->stats.example_files = read.data.example_files.size();
  p->stats.patterns = p->rules.size();
  p->stats.examples = examples;
  p->stats.model_features = p->linear ? p->linear->contents().buckets.size() : p->model.features();
  p->stats.trained_model = p->linear.has_value();
  p->stats.traditional_chars = detail::traditional_table_size();
  p->stats.set_rules = p->set_rule.size();
  p->stats.checked_rules = static_cast<std::size_t>(std::count_if(
      p->starts.begin(), p->starts.end(), [](const auto& r) { return r != nullptr; }));
  p->stats.regex_checked_rules = static_cast<std::size_t>(std::count_if(
      p->starts.begin(), p->starts.end(), [](const auto& r) { return r && r->regex; }));
  p->stats.compile_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  result.engine = std::shared_ptr<const engine>(new engine(std::move(p), read.data.version));
  return result;
}

namespace {

// Where `re` first matches in `text` at or after `from`, or npos.
std::size_t find_from(const RE2& re, std::string_view text, std::size_t from) {
  re2::StringPiece match;
  if (from > text.size() || !re.Match(re2::StringPiece(text.data(), text.size()), from, text.size(),
                                      RE2::UNANCHORED, &match, 1)) {
    return std::string_view::npos;
  }
  return static_cast<std::size_t>(match.data() - text.data());
}

// How one fired rule counted, kept so the explanation can be written afterwards, if asked.
enum class outcome : std::uint8_t { counted, contrast, negated, hypothetical, veto };

struct hit {
  std::uint32_t rule;
  outcome how;
  float weight;       // what it added (or subtracted)
  std::string_view cue;  // the negator or hypothetical marker (static storage)
};

struct scratch {
  std::string text;
  detail::code_points chars;
  std::vector<detail::phrase_index::occurrence> occurrences;  // of indexed rules, by start
  std::vector<int> fired;
  std::vector<int> more;             // fired in a part of the text
  std::vector<std::uint8_t> set_hit;  // per rule: its alternatives in the set matched
  std::vector<std::uint8_t> placed;  // per rule: k_bad, k_boosted bits
  markers marks;
  std::vector<hit> hits;
};

constexpr std::uint8_t k_bad = 1;      // may have an occurrence that is negated or supposed
constexpr std::uint8_t k_boosted = 2;  // has an occurrence after the contrast

scratch& thread_scratch() {
  thread_local scratch s;
  return s;
}

}  // namespace

namespace {

// Keeps the index's occurrences that are matches: a start to check becomes one where the rule's
// anchored regex matches there. True when the set may match (a phrase it needs occurred).
bool confirm(const engine::impl& m, std::string_view text,
             std::vector<detail::phrase_index::occurrence>& occurrences) {
  bool gate = !m.gated;
  std::size_t kept = 0;
  std::size_t checked_from = 0;  // the first kept occurrence at the current start
  for (std::size_t k = 0; k < occurrences.size(); ++k) {
    auto o = occurrences[k];
    if (o.id == k_gate) {
      gate = true;
      continue;
    }
    if ((o.id & k_check) != 0) {
      o.id &= ~k_check;
      while (checked_from < kept && occurrences[checked_from].start < o.start) ++checked_from;
      // Several phrases of a rule may start at one place: check it once.
      bool seen = false;
      for (std::size_t j = checked_from; j < kept && !seen; ++j) seen = occurrences[j].id == o.id;
      if (seen || !m.starts[o.id]->matches_at(text, o.start)) continue;
    }
    occurrences[kept++] = o;
  }
  occurrences.resize(kept);
  return gate;
}

}  // namespace

std::size_t engine::match_only(std::string_view normalized_text) const {
  scratch& s = thread_scratch();
  s.occurrences.clear();
  bool gate = true;
  if (s.chars.decode(normalized_text)) {
    impl_->index.scan(s.chars, s.occurrences);
    gate = confirm(*impl_, normalized_text, s.occurrences);
  }
  s.fired.clear();
  if (!impl_->set_rule.empty() && gate) impl_->set->Match(normalized_text, &s.fired);
  return s.occurrences.size() + s.fired.size();
}

namespace {

// Where indexed rule `i` next matches at or after `from`, or npos: the leftmost start, as the
// regex engine would find it. The occurrences are few and in start order.
std::size_t next_occurrence(const std::vector<detail::phrase_index::occurrence>& occurrences,
                            std::size_t i, std::size_t from) {
  for (const auto& o : occurrences) {
    if (o.id == i && o.start >= from) return o.start;
  }
  return std::string_view::npos;
}

// Where rule `i` first matches in `text`, if before `limit`; else npos or something >= limit.
// With known first characters, candidate starts are tried with an anchored match (cheap);
// otherwise one unanchored search.
std::size_t first_position(const engine::impl& m, std::size_t i, std::string_view text,
                           std::size_t limit, const scratch& s, bool indexed) {
  if (indexed) return next_occurrence(s.occurrences, i, 0);
  const auto& first = m.first_chars[i];
  if (first.empty() || m.context_sensitive[i]) return find_from(*m.regexes[i], text, 0);
  const re2::StringPiece whole(text.data(), text.size());
  for (std::size_t p = 0; p < text.size() && p < limit; p += first_char_len(text, p)) {
    if (!std::binary_search(first.begin(), first.end(), code_point_at(text, p))) continue;
    if (m.regexes[i]->Match(whole, p, text.size(), RE2::ANCHOR_START, nullptr, 0)) return p;
  }
  return std::string_view::npos;
}

}  // namespace

classification engine::classify(std::string_view raw) const {
  return classify(raw, impl_->options.explain);
}

namespace {

// What the rules make of a message, before any model: the first half of classify(), shared with
// observe().
struct analysis {
  bool decoded = false;
  bool one_by_one = false;                // every rule went through its own regex
  bool fallback = false;                  // a set ran out of memory
  std::array<double, k_targets> score{};  // after negative cues, vetoes and fallbacks
  std::array<bool, k_targets> vetoed{};
  std::array<bool, k_reasons.size()> set_aside{};
  std::size_t stated = k_reasons.size();  // the stated reason that set fallbacks aside
  bool indexed(const scratch& s, std::size_t i) const { return !one_by_one && s.set_hit[i] == 0; }
};

void analyse(const engine::impl& m, std::string_view raw, scratch& s, analysis& a) {
  // The index answers for valid UTF-8 only; otherwise every rule goes through its regex.
  const bool decoded = detail::normalize_into(raw, s.text, s.chars);
  a.decoded = decoded;
  const std::string_view text = s.text;

  std::vector<int>& fired = s.fired;
  fired.clear();
  s.occurrences.clear();
  bool one_by_one = !decoded;
  bool gate = true;
  if (decoded) {
    m.index.scan(s.chars, s.occurrences);
    gate = confirm(m, text, s.occurrences);
  }
  bool fallback = false;  // a set ran out of memory
  s.more.clear();
  if (!one_by_one && !m.set_rule.empty() && gate) {
    RE2::Set::ErrorInfo info{};
    if (!m.set->Match(text, &s.more, &info) && info.kind != RE2::Set::kNoError) fallback = true;
    for (const int k : s.more) fired.push_back(static_cast<int>(m.set_rule[static_cast<std::size_t>(k)]));
  }
  if (one_by_one || fallback) {
    // Slow but right.
    fired.clear();
    for (std::size_t i = 0; i < m.regexes.size(); ++i) {
      if (RE2::PartialMatch(text, *m.regexes[i])) fired.push_back(static_cast<int>(i));
    }
    one_by_one = true;
  } else {
    for (const auto& o : s.occurrences) fired.push_back(static_cast<int>(o.id));
  }
  std::sort(fired.begin(), fired.end());
  fired.erase(std::unique(fired.begin(), fired.end()), fired.end());
  // A rule whose alternatives in the set did not match (most rules have none there) matched
  // only where the index found it: it is placed from those occurrences, with no regex work.
  s.set_hit.assign(m.rules.size(), 0);
  if (!one_by_one) {
    for (const int k : s.more) s.set_hit[m.set_rule[static_cast<std::size_t>(k)]] = 1;
  }
  const auto indexed = [&](std::size_t i) { return !one_by_one && s.set_hit[i] == 0; };

  std::array<double, k_targets>& score = a.score;
  std::array<double, k_targets> penalty{};
  std::array<bool, k_targets>& vetoed = a.vetoed;
  find_markers(text, decoded ? &s.chars : nullptr, s.marks);
  const std::size_t boost_from = s.marks.contrast;
  const bool has_contrast = boost_from != std::string_view::npos;
  std::vector<hit>& hits = s.hits;
  hits.clear();

  // Where each fired rule matched matters only near a negator, in a supposition or after a
  // contrast. The markers are found once (one pass each); the rules that match right after a
  // negator (the anchored set, at each negation point), in a supposition (the set over the text
  // from the supposition on) or after the contrast (the set over that part) are found with a few
  // more set matches. Only a rule that may be negated or supposed is then searched occurrence by
  // occurrence, since it may have a good occurrence elsewhere.
  const bool look =
      has_contrast || !s.marks.negations.empty() || !s.marks.suppositions.empty();
  bool search_all = one_by_one;  // search every fired rule
  // The sets run again only for rules whose alternatives there matched.
  const bool need_sets = !one_by_one && std::any_of(fired.begin(), fired.end(), [&](int i) {
    return s.set_hit[static_cast<std::size_t>(i)] != 0;
  });
  if (look) s.placed.assign(m.rules.size(), 0);
  if (look && !one_by_one) {
    // Indexed phrases: an occurrence at a negation point or from a supposition on may not
    // count; one from the contrast on is boosted. (Suppositions are in text order.)
    const std::size_t supposed_from =
        s.marks.suppositions.empty() ? std::string_view::npos : s.marks.suppositions.front();
    for (const auto& o : s.occurrences) {
      std::uint8_t bits = 0;
      if (o.start >= supposed_from ||
          std::find(s.marks.negations.begin(), s.marks.negations.end(), o.start) !=
              s.marks.negations.end()) {
        bits |= k_bad;
      }
      if (has_contrast && o.start >= boost_from) bits |= k_boosted;
      s.placed[o.id] |= bits;
    }
  }
  if (look && need_sets) {
    const auto mark = [&](const RE2::Set& set, std::size_t from, std::uint8_t bit) {
      s.more.clear();
      RE2::Set::ErrorInfo part{};
      if (!set.Match(text.substr(from), &s.more, &part) && part.kind != RE2::Set::kNoError) {
        search_all = true;
      }
      for (const int k : s.more) s.placed[m.set_rule[static_cast<std::size_t>(k)]] |= bit;
    };
    for (const std::uint32_t at : s.marks.negations) {
      // Run the anchored set only when a fired rule can start with the character there.
      const char32_t c = code_point_at(text, at);
      const bool any = std::any_of(fired.begin(), fired.end(), [&](int i) {
        if (s.set_hit[static_cast<std::size_t>(i)] == 0) return false;
        const auto& first = m.first_chars[static_cast<std::size_t>(i)];
        return first.empty() || std::binary_search(first.begin(), first.end(), c);
      });
      if (any) mark(*m.anchored, at, k_bad);
    }
    for (const std::uint32_t at : s.marks.suppositions) mark(*m.set, at, k_bad);
    if (has_contrast) mark(*m.set, boost_from, k_boosted);
  }

  for (const int index : fired) {
    const auto i = static_cast<std::size_t>(index);
    const rule& r = m.rules[i];
    const std::size_t t = m.target[i];
    // The best occurrence decides: not negated nor supposed, and after a contrast if any.
    double mult = 1.0;
    outcome how = outcome::counted;
    std::string_view cue;
    const bool literal = indexed(i);
    if (look && (literal || !search_all) && !(s.placed[i] & k_bad) && !m.context_sensitive[i]) {
      if (s.placed[i] & k_boosted) {
        mult = k_contrast_boost;
        how = outcome::contrast;
      }
    } else if (look) {
      mult = 0.0;
      std::size_t from = 0;
      for (int n = 0; n < k_max_occurrences; ++n) {
        const std::size_t start =
            literal ? next_occurrence(s.occurrences, i, from) : find_from(*m.regexes[i], text, from);
        if (start == std::string_view::npos) break;
        from = start + std::max<std::size_t>(first_char_len(text, start), 1);
        if (const std::string_view neg = negator_before(text, start); !neg.empty()) {
          if (mult == 0.0) {
            how = outcome::negated;
            cue = neg;
          }
          continue;
        }
        if (const std::string_view hyp = hypothetical_before(text, start); !hyp.empty()) {
          if (mult == 0.0) {
            how = outcome::hypothetical;
            cue = hyp;
          }
          continue;
        }
        const bool boosted = has_contrast && start >= boost_from;
        if ((boosted ? k_contrast_boost : 1.0) > mult) {
          mult = boosted ? k_contrast_boost : 1.0;
          how = boosted ? outcome::contrast : outcome::counted;
          cue = {};
        }
        if (mult == k_contrast_boost || !has_contrast) break;  // cannot do better
      }
      if (mult == 0.0 && how == outcome::counted) continue;  // not found again: cannot happen
    }
    const double w = r.weight * mult;
    if (r.kind == rule_kind::negative) {
      if (mult > 0 && r.veto) {
        vetoed[t] = true;
        how = outcome::veto;
      } else {
        penalty[t] += w;
      }
    } else {
      score[t] += w;
    }
    hits.push_back(hit{static_cast<std::uint32_t>(i), how, static_cast<float>(w), cue});
  }

  for (std::size_t t = 0; t < k_targets; ++t) {
    score[t] = vetoed[t] ? 0.0 : std::max(0.0, score[t] - penalty[t]);
  }
  // A fallback reason ("I want a refund", no reason given) is set aside when the message also
  // states a reason with at least k_stated weight: "碎了,我要退货" is damaged.
  std::size_t& stated = a.stated;
  for (std::size_t t = 0; t + 1 < k_reasons.size() && stated == k_reasons.size(); ++t) {
    if (!m.fallback[t] && score[t] >= k_stated) stated = t;
  }
  std::array<bool, k_reasons.size()>& set_aside = a.set_aside;
  if (stated != k_reasons.size()) {
    for (std::size_t t = 0; t < k_reasons.size(); ++t) {
      if (m.fallback[t] && score[t] > 0) {
        set_aside[t] = true;
        score[t] = 0.0;
      }
    }
  }
  a.one_by_one = one_by_one;
  a.fallback = fallback;
}

// The flags the rules' scores reach.
void flags_of(const engine::impl& m, const analysis& a, std::vector<std::string>& out) {
  for (std::size_t f = 0; f < k_flags.size(); ++f) {
    const double fs = a.score[k_reasons.size() + f];
    if (fs > 0 && fs >= m.flag_threshold[f]) out.emplace_back(k_flags[f]);
  }
}

void entities_of(const scratch& s, bool decoded, std::vector<entity>& out) {
  if (decoded) {
    detail::extract_entities_into(s.text, s.chars.cp.data(), s.chars.at.data(), s.chars.size, out);
  } else {
    detail::extract_entities_into(s.text, out);
  }
}

constexpr std::array<std::string_view, detail::k_entity_features> k_entity_kinds = {
    "order_no", "waybill_no", "phone", "amount", "count"};

detail::form form_of(outcome how) {
  switch (how) {
    case outcome::contrast:
      return detail::form::contrast;
    case outcome::negated:
      return detail::form::negated;
    case outcome::hypothetical:
      return detail::form::supposed;
    default:
      return detail::form::counted;
  }
}

// What the trained model reads (detail::observation): the message's n-grams, the rules that
// fired in their forms, the rules' scores, flags, entity kinds, length and a question mark.
void observe_into(const engine::impl& m, const analysis& a, const scratch& s,
                  const std::vector<std::string>& flags, const std::vector<entity>& entities,
                  detail::observation& o) {
  o.grams.clear();
  o.numbered.clear();
  const auto add_gram = [&](std::uint64_t key) { o.grams.push_back(key); };
  std::size_t chars = 0;
  detail::gram_window window;
  if (a.decoded) {
    for (std::size_t i = 0; i < s.chars.size; ++i) {
      detail::next_long_char(s.chars.cp[i], detail::k_linear_max_n, window, add_gram);
    }
    chars = s.chars.size;
  } else {
    // Not UTF-8: each byte is a character (the n-grams of such text are rare and mean little).
    for (const char c : s.text) {
      detail::next_long_char(static_cast<unsigned char>(c), detail::k_linear_max_n, window,
                             add_gram);
      chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }
  }
  for (const hit& h : s.hits) {
    o.numbered.emplace_back(static_cast<std::uint32_t>(h.rule * detail::k_forms +
                                                       static_cast<std::uint32_t>(form_of(h.how))),
                            1.0f);
  }
  auto extra = static_cast<std::uint32_t>(m.rules.size() * detail::k_forms);
  for (std::size_t t = 0; t < k_reasons.size(); ++t) {
    if (a.score[t] > 0) {
      o.numbered.emplace_back(extra + t, static_cast<float>(std::log1p(a.score[t])));
    }
  }
  extra += detail::k_score_features;
  for (std::size_t f = 0; f < k_flags.size(); ++f) {
    if (std::find(flags.begin(), flags.end(), k_flags[f]) != flags.end()) {
      o.numbered.emplace_back(extra + f, 1.0f);
    }
  }
  extra += detail::k_flag_features;
  for (std::size_t k = 0; k < k_entity_kinds.size(); ++k) {
    if (std::any_of(entities.begin(), entities.end(),
                    [&](const entity& e) { return e.kind == k_entity_kinds[k]; })) {
      o.numbered.emplace_back(extra + k, 1.0f);
    }
  }
  extra += detail::k_entity_features;
  const std::uint32_t length = chars <= 2    ? 0
                               : chars <= 5  ? 1
                               : chars <= 10 ? 2
                               : chars <= 20 ? 3
                               : chars <= 50 ? 4
                                             : 5;
  o.numbered.emplace_back(extra + length, 1.0f);
  extra += detail::k_length_features;
  if (s.text.find('?') != std::string::npos || s.text.find("吗") != std::string::npos) {
    o.numbered.emplace_back(extra, 1.0f);
  }
}

// "damaged", or "flag angry": what rule `i` is about, for explanations.
std::string target_name(const engine::impl& m, std::size_t i) {
  const std::size_t t = m.target[i];
  return t < k_reasons.size() ? std::string(k_reasons[t])
                              : "flag " + std::string(k_flags[t - k_reasons.size()]);
}

// How a fired rule counted, for explanations: ", negated by 没有", ", supposed after 如果",
// ", after a contrast" and `boost`, or nothing.
std::string how_it_counted(const hit& h, const std::string& boost) {
  switch (h.how) {
    case outcome::negated:
      return ", negated by " + std::string(h.cue);
    case outcome::hypothetical:
      return ", supposed after " + std::string(h.cue);
    case outcome::contrast:
      return ", after a contrast" + boost;
    default:
      return "";
  }
}

// Without a trained model: the rules' scores fused by hand with the naive Bayes model.
classification classify_plain(const engine::impl& m, std::string_view raw, bool explain) {
  scratch& s = thread_scratch();
  analysis a;
  analyse(m, raw, s, a);
  const std::string_view text = s.text;
  const bool decoded = a.decoded;
  const bool fallback = a.fallback;
  std::array<double, k_targets>& score = a.score;
  const std::array<bool, k_targets>& vetoed = a.vetoed;
  const std::array<bool, k_reasons.size()>& set_aside = a.set_aside;
  const std::size_t stated = a.stated;
  std::vector<hit>& hits = s.hits;
  const auto indexed = [&](std::size_t i) { return a.indexed(s, i); };
  classification out;
  const std::array<double, k_targets> pattern_score = score;

  // Fusion with the keyword model (intents/README.md, "How a message is scored"). When some
  // reason's patterns scored, every reason that scored, and `other`, is ranked by
  //   pattern score + model_weight x k_model_log x ln(P(reason) / P(model's favourite))
  //   (+ k_other_prior for `other`)
  // so the model never adds, it takes away from the reasons it finds unlikely, by how unlikely.
  // With no pattern evidence at all, the model alone names a reason only when it is very sure.
  std::array<double, k_reasons.size()> posterior{};
  std::size_t known_pairs = 0;
  constexpr std::size_t k_other = k_reasons.size() - 1;
  static_assert(k_reasons[k_other] == "other");
  bool any_pattern = false;
  for (std::size_t t = 0; t < k_reasons.size(); ++t) any_pattern = any_pattern || score[t] > 0;
  const double model_log = m.options.model_weight * k_model_log;
  if (model_log > 0) {
    known_pairs = decoded ? m.model.score(s.chars.cp.data(), s.chars.size, posterior.data())
                          : m.model.score(text, posterior.data());
    if (known_pairs > 0 && !any_pattern) {
      // No evidence from the patterns: the model alone, only when it is sure. Its favourite gets
      // model_weight x (P - 1/13) / (1 - 1/13), as much as a weak pattern.
      constexpr double chance = 1.0 / static_cast<double>(k_reasons.size());
      std::size_t fav = 0;
      for (std::size_t t = 1; t < k_reasons.size(); ++t) {
        if (posterior[t] > posterior[fav]) fav = t;
      }
      bool denied_fav = vetoed[fav];
      for (const hit& h : hits) {
        if (m.target[h.rule] == fav && m.rules[h.rule].kind != rule_kind::negative &&
            (h.how == outcome::negated || h.how == outcome::hypothetical)) {
          denied_fav = true;
        }
      }
      if (!denied_fav && posterior[fav] >= k_model_alone) {
        score[fav] = m.options.model_weight * (posterior[fav] - chance) / (1.0 - chance);
      }
    } else if (known_pairs > 0) {
      // A reason whose words were negated or supposed ("没坏", "如果坏了") is not the model's
      // favourite: it would learn those very words back from the patterns.
      std::array<bool, k_reasons.size()> denied{};
      for (const hit& h : hits) {
        const std::size_t t = m.target[h.rule];
        if (t < k_reasons.size() && m.rules[h.rule].kind != rule_kind::negative &&
            (h.how == outcome::negated || h.how == outcome::hypothetical)) {
          denied[t] = true;
        }
      }
      double favourite = 0.0;
      for (std::size_t t = 0; t < k_reasons.size(); ++t) {
        if (!vetoed[t] && !denied[t]) favourite = std::max(favourite, posterior[t]);
      }
      if (favourite > 0) {
        std::array<double, k_reasons.size()> fused{};
        std::size_t winner = k_reasons.size();
        for (std::size_t t = 0; t < k_reasons.size(); ++t) {
          if (score[t] <= 0 && (t != k_other || vetoed[t])) continue;
          // Rounded to 1/1000, so that equal evidence stays a tie (broken by order) rather than
          // being decided by the last bits of a float.
          const double term =
              std::round(model_log * std::log(std::max(posterior[t], 1e-12) / favourite) *
                         1000.0) / 1000.0;
          fused[t] = score[t] + term + (t == k_other ? k_other_prior : 0.0);
          if (winner == k_reasons.size() || fused[t] > fused[winner]) winner = t;
        }
        for (std::size_t t = 0; t < k_reasons.size(); ++t) {
          if (score[t] <= 0 && t != k_other) continue;
          // `other` takes part when its own patterns scored or when it wins.
          score[t] = (score[t] > 0 || t == winner) ? std::max(0.0, fused[t]) : 0.0;
        }
      }
    }
  }

  std::array<std::size_t, k_reasons.size()> order{};
  std::size_t n = 0;
  for (std::size_t t = 0; t < k_reasons.size(); ++t) {
    if (score[t] > 0) order[n++] = t;
  }
  // Insertion sort, stable and without the buffer std::stable_sort allocates (n <= 13).
  for (std::size_t k = 1; k < n; ++k) {
    const std::size_t moving = order[k];
    std::size_t j = k;
    for (; j > 0 && score[order[j - 1]] < score[moving]; --j) order[j] = order[j - 1];
    order[j] = moving;
  }
  // Equal best scores: the reason stated first wins. Positions are only looked up then.
  if (n > 1 && score[order[0]] == score[order[1]]) {
    const auto position = [&](std::size_t t) {
      std::size_t pos = std::string_view::npos;
      for (const hit& h : hits) {
        if (m.target[h.rule] != t || h.weight <= 0 ||
            m.rules[h.rule].kind == rule_kind::negative) {
          continue;
        }
        pos = std::min(pos, first_position(m, h.rule, text, pos, s, indexed(h.rule)));
      }
      return pos;
    };
    std::size_t best_k = 0;
    std::size_t best_pos = position(order[0]);
    for (std::size_t k = 1; k < n && score[order[k]] == score[order[0]]; ++k) {
      if (const std::size_t pos = position(order[k]); pos < best_pos) {
        best_pos = pos;
        best_k = k;
      }
    }
    std::rotate(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(best_k),
                order.begin() + static_cast<std::ptrdiff_t>(best_k) + 1);
  }
  if (n == 0) {
    out.reason = "other";
    out.confidence = 0.0;
  } else {
    const double best = score[order[0]];
    const double second = n > 1 ? score[order[1]] : 0.0;
    const double denominator = best + second + k_prior;
    out.candidates.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
      out.candidates.push_back(
          candidate{std::string(k_reasons[order[k]]), score[order[k]] / denominator});
    }
    out.reason = out.candidates[0].reason;
    out.confidence = out.candidates[0].confidence;
    if (n > 1) {
      out.runner_up = out.candidates[1].reason;
      out.runner_up_confidence = out.candidates[1].confidence;
    }
  }
  out.unsure = out.confidence < m.options.unsure_below.value_or(k_unsure_below);

  flags_of(m, a, out.flags);  // the fusion above changed the reasons' scores only
  entities_of(s, decoded, out.entities);

  if (explain) {
    if (fallback) out.explanation.emplace_back("note: the pattern set ran out of memory; matched one by one");
    for (const hit& h : hits) {
      const rule& r = m.rules[h.rule];
      std::string line = target_name(m, h.rule);
      if (r.kind == rule_kind::negative) {
        line += h.how == outcome::veto ? " veto" : " -" + format_weight(h.weight);
        line += " negative";
      } else {
        line += " +" + format_weight(h.weight);
        line += r.kind == rule_kind::keyword ? " keyword" : " pattern";
      }
      line += " \"" + r.text + "\" (" + m.where[h.rule] +
              how_it_counted(h, " x" + format_weight(k_contrast_boost)) + ")";
      out.explanation.push_back(std::move(line));
    }
    for (std::size_t t = 0; t < k_reasons.size(); ++t) {
      if (set_aside[t]) {
        out.explanation.push_back(std::string(k_reasons[t]) + " set aside (fallback): " +
                                  std::string(k_reasons[stated]) + " is stated");
      }
    }
    if (known_pairs > 0) {
      std::string line = "keyword model (" + std::to_string(known_pairs) + " known n-grams):";
      for (std::size_t t = 0; t < k_reasons.size(); ++t) {
        const double change = score[t] - pattern_score[t];
        if (score[t] <= 0 && pattern_score[t] <= 0) continue;
        line += " " + std::string(k_reasons[t]) + " p=" + format_weight(posterior[t]) + " " +
                (change >= 0 ? "+" : "") + format_weight(change);
      }
      out.explanation.push_back(std::move(line));
    }
    if (n == 0) out.explanation.emplace_back("nothing decisive fired: other");
  }
  return out;
}

}  // namespace

void engine::observe(std::string_view raw, detail::observation& out) const {
  const impl& m = *impl_;
  scratch& s = thread_scratch();
  analysis a;
  analyse(m, raw, s, a);
  std::vector<std::string> flags;
  std::vector<entity> entities;
  flags_of(m, a, flags);
  entities_of(s, a.decoded, entities);
  observe_into(m, a, s, flags, entities, out);
}

classification engine::classify_with(std::string_view raw, bool explain,
                                     const detail::linear_model& model) const {
  const impl& m = *impl_;
  scratch& s = thread_scratch();
  analysis a;
  analyse(m, raw, s, a);
  classification out;
  flags_of(m, a, out.flags);
  entities_of(s, a.decoded, out.entities);
  thread_local detail::observation o;
  observe_into(m, a, s, out.flags, out.entities, o);
  std::array<double, detail::k_classes> z{};
  std::array<double, detail::k_classes> p{};
  const std::size_t known = model.logits(o, z.data());
  detail::linear_model::probabilities(z.data(), p.data());

  std::array<std::size_t, detail::k_classes> order{};
  // Insertion sort, stable (on equal probabilities the reason listed first in the taxonomy) and
  // without the buffer std::stable_sort allocates.
  for (std::size_t t = 0; t < order.size(); ++t) {
    std::size_t j = t;
    for (; j > 0 && p[order[j - 1]] < p[t]; --j) order[j] = order[j - 1];
    order[j] = t;
  }
  for (const std::size_t t : order) {
    if (t != order[0] && p[t] < k_candidate_floor) break;
    out.candidates.push_back(candidate{std::string(k_reasons[t]), p[t]});
  }
  out.reason = out.candidates[0].reason;
  out.confidence = out.candidates[0].confidence;
  if (out.candidates.size() > 1) {
    out.runner_up = out.candidates[1].reason;
    out.runner_up_confidence = out.candidates[1].confidence;
  }
  out.unsure = out.confidence < m.options.unsure_below.value_or(model.unsure_below());

  if (explain) {
    const std::size_t best = order[0];
    const std::string for_best = " for " + std::string(k_reasons[best]);
    if (a.fallback)
      out.explanation.emplace_back("note: the pattern set ran out of memory; matched one by one");
    for (const hit& h : s.hits) {
      const rule& r = m.rules[h.rule];
      std::string line = target_name(m, h.rule);
      line += r.kind == rule_kind::negative  ? " negative"
              : r.kind == rule_kind::keyword ? " keyword"
                                             : " pattern";
      line += " \"" + r.text + "\" (" + m.where[h.rule] + how_it_counted(h, "");
      if (h.how == outcome::veto) line += ", veto";
      const auto index = static_cast<std::uint32_t>(h.rule * detail::k_forms +
                                                    static_cast<std::uint32_t>(form_of(h.how)));
      const double learnt = model.numbered_row(index)[best];
      line += "): learnt " + std::string(learnt >= 0 ? "+" : "") + format_weight(learnt) + for_best;
      out.explanation.push_back(std::move(line));
    }
    std::string line = "trained model (" + std::to_string(known) + " known n-grams):";
    for (std::size_t k = 0; k < out.candidates.size() && k < 4; ++k) {
      line += " " + out.candidates[k].reason + " p=" + format_weight(out.candidates[k].confidence);
    }
    out.explanation.push_back(std::move(line));
  }
  return out;
}

const std::vector<std::uint64_t>& engine::rule_identities() const { return impl_->identities; }

double engine::unsure_below() const {
  return impl_->options.unsure_below.value_or(impl_->linear ? impl_->linear->unsure_below()
                                                            : k_unsure_below);
}

const detail::linear_model* engine::model() const {
  return impl_->linear ? &*impl_->linear : nullptr;
}

classification engine::classify(std::string_view raw, bool explain) const {
  return impl_->linear ? classify_with(raw, explain, *impl_->linear)
                       : classify_plain(*impl_, raw, explain);
}

}  // namespace shouhou::intents
