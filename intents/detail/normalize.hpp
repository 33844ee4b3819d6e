#pragma once
// Text normalisation applied to every message (and every keyword) before matching. One pass over
// the bytes, no allocation beyond the output string; in order of application per character:
// - full-width ASCII forms (U+FF01..U+FF5E) become their half-width twins ("ＯＫ！" -> "ok!"), and
//   the Chinese punctuation 。、…·「」『』【】“”‘’ becomes ASCII (". , . . [ ] [ ] [ ] \" \" ' '");
// - Traditional characters become Simplified (退貨 -> 退货, 質量 -> 质量), one character at a time,
//   from OpenCC's TSCharacters table read once per process (see traditional_table_size());
// - emoji, variation selectors and zero-width joiners are dropped;
// - U+3000 and runs of ASCII whitespace become one space; ASCII letters are lower-cased;
// - a run of one repeated character is cut to three ("!!!!!!" -> "!!!", "差差差差" -> "差差差");
// - Chinese numbers become Arabic where they are numbers: any well-formed number with a unit
//   digit 十/百/千/万 (四十八 -> 48, 二十四小时 -> 24小时, 十天 -> 10天) and a single digit
//   (一..九, 两, 零) right before a unit of time or money (三天 -> 3天, 两周 -> 2周, 五块 -> 5块).
//   Other single digits stay (一个, 一直, 一样), so patterns keep their words.
// Invalid UTF-8 bytes pass through unchanged.

#include <cstddef>
#include <string>
#include <string_view>

#include "intents/detail/phrase_index.hpp"

namespace shouhou::intents::detail {

std::string normalize(std::string_view text);

// Same, into `out` (cleared first), so callers can reuse one buffer per thread.
void normalize_into(std::string_view text, std::string& out);

// Same, and `out` decoded into `chars`: what chars.decode(out) would give and return, mostly
// without a second pass (the characters are known as they are written).
bool normalize_into(std::string_view text, std::string& out, code_points& chars);

// True when `text` holds a full-width ASCII form or U+3000: such a character can never match
// normalised text, so the loader rejects it in patterns.
bool has_full_width(std::string_view text);

// Empty, or why a pattern can never match normalised text as written: it holds a full-width form,
// Chinese punctuation, a Traditional character, an emoji, or a Chinese number that messages carry
// as digits. The loader reports it (file:line:column) instead of compiling a dead pattern.
std::string pattern_problem(std::string_view re);

// Number of Traditional characters the normaliser knows (0 when OpenCC's data file could not be
// read, in which case Traditional characters pass through unchanged).
std::size_t traditional_table_size();

}  // namespace shouhou::intents::detail
