#include "intents/detail/phrase_index.hpp"

#include <algorithm>

namespace shouhou::intents::detail {
namespace {

// Decodes the character at `p`; returns its length, or 0 for an invalid or truncated sequence
// (overlong forms and surrogates included, as a regex engine's UTF-8 decoding would not match
// them as characters).
std::size_t decode(std::string_view s, std::size_t p, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[p]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1Fu;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0Fu;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07u;
    min = 0x10000;
  } else {
    return 0;
  }
  if (p + len > s.size()) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[p + i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool bit(const std::array<std::uint64_t, 1024>& bits, std::uint32_t i) {
  return ((bits[(i >> 6) & 1023] >> (i & 63)) & 1) != 0;
}

void set_bit(std::array<std::uint64_t, 1024>& bits, std::uint32_t i) {
  bits[(i >> 6) & 1023] |= std::uint64_t{1} << (i & 63);
}

// 16 bits from a pair of characters.
std::uint32_t pair_hash(char32_t a, char32_t b) {
  return static_cast<std::uint32_t>(((a * 0x9E3779B1u) ^ (b * 0x85EBCA77u)) >> 16);
}

constexpr std::uint32_t k_child_mask = (1u << 22) - 1;
// Node numbers stay below 2^20 so that an edge's key (node + 1, code point) fits in 41 bits.
constexpr std::uint32_t k_max_nodes = (1u << 20) - 2;

// Case-insensitive matching compares 'A' with 'a'; normalised text has no capitals, but the
// index should not depend on that.
char32_t lower(char32_t cp) { return cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp; }

}  // namespace

bool is_caseless_char(char32_t cp) {
  return cp < 0x80 || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3FFFF);
}

bool phrase_index::add(std::string_view phrase, std::uint32_t id) {
  if (depth_.empty()) depth_.push_back(0);
  std::size_t chars = 0;
  for (std::size_t p = 0; p < phrase.size(); ++chars) {
    char32_t cp = 0;
    const std::size_t len = decode(phrase, p, cp);
    if (len == 0) return false;
    p += len;
  }
  if (chars == 0 || nodes_ + chars > k_max_nodes) return false;
  std::uint32_t node = 0;
  for (std::size_t p = 0; p < phrase.size();) {
    char32_t cp = 0;
    p += decode(phrase, p, cp);
    cp = lower(cp);
    if (node == 0) {
      if (chars == 1 && cp < 0x10000) set_bit(singles_, cp);
      if (chars > 1) {
        char32_t second = 0;
        decode(phrase, p, second);
        set_bit(pairs_, pair_hash(cp, lower(second)));
      }
    }
    const auto [it, added] = building_.try_emplace(key_of(node, cp), nodes_);
    if (added) {
      depth_.push_back(static_cast<std::uint8_t>(std::min(depth_[node] + 1, 2)));
      ++nodes_;
    }
    node = it->second;
  }
  ends_.emplace_back(node, id);
  return true;
}

void phrase_index::build() {
  std::vector<std::uint8_t> terminal(nodes_, 0);
  std::sort(ends_.begin(), ends_.end());
  ends_.erase(std::unique(ends_.begin(), ends_.end()), ends_.end());
  first_id_.assign(nodes_ + 1, 0);
  for (const auto& [node, id] : ends_) {
    terminal[node] = 1;
    ++first_id_[node + 1];
  }
  for (std::uint32_t n = 0; n < nodes_; ++n) first_id_[n + 1] += first_id_[n];
  ids_.clear();
  for (const auto& [node, id] : ends_) ids_.push_back(id);
  std::array<std::size_t, 3> count{};
  for (const auto& [key, node] : building_) ++count[depth_[(key >> 21) - 1]];
  // The small tables at most half full, so that a probe for a missing edge ends after a slot or
  // two; the deep one fuller, to take fewer cache lines.
  edges_[0].assign(count[0], 50);
  edges_[1].assign(count[1], 50);
  edges_[2].assign(count[2], 75);
  for (const auto& [key, node] : building_) {
    edges_[depth_[(key >> 21) - 1]].insert(
        key, (key << k_child_bits) | node | (terminal[node] ? k_terminal : 0));
  }
  building_ = {};
  depth_ = {};
  ends_ = {};
}

void phrase_index::edge_table::assign(std::size_t edges, std::size_t per_slot_percent) {
  std::size_t size = 16;
  unsigned bits = 4;
  while (size * per_slot_percent < edges * 100) {
    size *= 2;
    ++bits;
  }
  slots.assign(size, 0);
  mask = size - 1;
  shift = 64 - bits;
}

void phrase_index::edge_table::insert(std::uint64_t key, std::uint64_t word) {
  std::size_t at = slot_of(key);
  while (slots[at] != 0) at = (at + 1) & mask;
  slots[at] = word;
}

std::uint32_t phrase_index::edge_table::find(std::uint64_t key) const {
  for (std::size_t at = slot_of(key);; at = (at + 1) & mask) {
    const std::uint64_t e = slots[at];
    if (e == 0) return 0;
    if ((e >> k_child_bits) == key) return static_cast<std::uint32_t>(e) & ((1u << k_child_bits) - 1);
  }
}

bool phrase_index::scan(std::string_view text, std::vector<occurrence>& out) const {
  // Decoded once: most characters are looked at again as the second of a pair.
  thread_local std::vector<char32_t> cps;
  thread_local std::vector<std::uint32_t> at;
  if (cps.size() < text.size()) {
    cps.resize(text.size());
    at.resize(text.size());
  }
  std::size_t n = 0;
  for (std::size_t p = 0; p < text.size(); ++n) {
    const auto b0 = static_cast<unsigned char>(text[p]);
    char32_t cp = b0;
    std::size_t len = 1;
    if (b0 >= 0x80) {
      len = decode(text, p, cp);
      if (len == 0 || cp == 0x212A || cp == 0x17F) return false;
    }
    cps[n] = lower(cp);
    at[n] = static_cast<std::uint32_t>(p);
    p += len;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const char32_t first = cps[i];
    const bool single = first >= 0x10000 || bit(singles_, first);
    const bool pair = i + 1 < n && bit(pairs_, pair_hash(first, cps[i + 1]));
    if (!single && !pair) continue;
    std::uint32_t node = 0;
    for (std::size_t j = i; j < n; ++j) {
      const std::uint32_t e = edges_[std::min<std::size_t>(j - i, 2)].find(key_of(node, cps[j]));
      if (e == 0) break;
      node = e & k_child_mask;
      if (e & k_terminal) {
        for (std::uint32_t k = first_id_[node]; k < first_id_[node + 1]; ++k) {
          out.push_back(occurrence{ids_[k], at[i]});
        }
      }
    }
  }
  return true;
}

std::size_t phrase_index::memory_bytes() const {
  std::size_t edges = 0;
  for (const auto& t : edges_) edges += t.slots.capacity() * sizeof(std::uint64_t);
  return edges + first_id_.capacity() * sizeof(std::uint32_t) +
         ids_.capacity() * sizeof(std::uint32_t) + sizeof(singles_) + sizeof(pairs_);
}

}  // namespace shouhou::intents::detail
