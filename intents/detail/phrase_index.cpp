#include "intents/detail/phrase_index.hpp"

#include <algorithm>
#include <unordered_map>

#include "intents/detail/utf8.hpp"

namespace shouhou::intents::detail {
namespace {

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

// Case-insensitive matching compares 'A' with 'a'; normalised text has no capitals, but the
// index should not depend on that.
char32_t lower(char32_t cp) { return cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp; }

bool is_digit(char32_t cp) { return cp >= '0' && cp <= '9'; }

}  // namespace

bool is_caseless_char(char32_t cp) {
  return cp < 0x80 || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3FFFF);
}

bool code_points::decode(std::string_view text) {
  if (cp.size() < text.size() + 1) {
    cp.resize(text.size() + 1);
    at.resize(text.size() + 1);
  }
  std::size_t n = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  for (std::size_t p = 0; p < text.size(); ++n) {
    const unsigned char b0 = bytes[p];
    char32_t c = b0;
    std::size_t len = 1;
    if (b0 >= 0xE0 && b0 < 0xF0 && p + 2 < text.size() && (bytes[p + 1] & 0xC0) == 0x80 &&
        (bytes[p + 2] & 0xC0) == 0x80) {
      // Most characters: three bytes (Chinese), where only overlong forms and surrogates are
      // not valid and neither of the two folding characters can be.
      c = ((b0 & 0x0Fu) << 12) | ((bytes[p + 1] & 0x3Fu) << 6) | (bytes[p + 2] & 0x3Fu);
      if (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF) || c == 0x212A) return false;
      len = 3;
    } else if (b0 >= 0x80) {
      len = decode_utf8_strict(text, p, c);
      if (len == 0 || c == 0x212A || c == 0x17F) return false;
    } else {
      c = lower(c);
    }
    cp[n] = c;
    at[n] = static_cast<std::uint32_t>(p);
    p += len;
  }
  at[n] = static_cast<std::uint32_t>(text.size());
  size = n;
  return true;
}

bool phrase_index::indexable(std::string_view phrase) {
  for (std::size_t p = 0; p < phrase.size(); ++p) {
    if (phrase[p] == k_text_end && (p == 0 || p + 1 != phrase.size())) return false;
    if (phrase[p] == k_digit_run && p + 1 < phrase.size() &&
        (phrase[p + 1] == k_digit_run || is_digit(static_cast<unsigned char>(phrase[p + 1])))) {
      return false;
    }
  }
  return !phrase.empty();
}

// By the rules indexable() checks: the end of the text last and not first, a digit run followed
// by neither a digit nor another run.
unsigned phrase_index::product_check::after(unsigned state, std::string_view option) {
  if (option.empty()) return state;
  constexpr char D = k_digit_run;
  constexpr char E = k_text_end;
  const auto digit_or_run = [](char c) {
    return c == D || is_digit(static_cast<unsigned char>(c));
  };
  bool broken = (state & (k_broken | k_ended)) != 0 || ((state & k_empty) != 0 && option[0] == E) ||
                ((state & k_ends_digits) != 0 && digit_or_run(option[0]));
  for (std::size_t p = 0; p < option.size() && !broken; ++p) {
    broken = (option[p] == E && p + 1 != option.size()) ||
             (option[p] == D && p + 1 < option.size() && digit_or_run(option[p + 1]));
  }
  return (option.back() == D ? k_ends_digits : 0) | (option.back() == E ? k_ended : 0) |
         (broken ? k_broken : 0);
}

void phrase_index::product_check::add(const std::vector<std::string>& options) {
  std::uint16_t next = 0;
  for (unsigned state = 0; state < 16; ++state) {
    if ((states_ >> state & 1) == 0) continue;
    for (const auto& o : options) next = static_cast<std::uint16_t>(next | 1u << after(state, o));
  }
  states_ = next;
}

bool phrase_index::product_check::every_phrase() const {
  for (unsigned state = 0; state < 16; ++state) {
    if ((states_ >> state & 1) != 0 && (state & (k_empty | k_broken)) != 0) return false;
  }
  return true;
}

bool phrase_index::add(std::string_view phrase, std::uint32_t id) {
  return add_product(product{{std::string(phrase)}}, id);
}

bool phrase_index::add_product(const product& groups, std::uint32_t id) {
  product_check check;
  for (const auto& options : groups) check.add(options);
  if (groups.empty() || !check.every_phrase()) return false;
  // The options as characters, the steps as their keys.
  std::vector<std::vector<std::vector<char32_t>>> decoded(groups.size());
  // At most as many new nodes as the phrases so far times the characters of the next group.
  std::size_t phrases = 1;
  std::size_t bound = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::size_t characters = 0;
    for (const auto& option : groups[g]) {
      auto& chars = decoded[g].emplace_back();
      for (std::size_t p = 0; p < option.size();) {
        if (option[p] == k_digit_run || option[p] == k_text_end) {
          chars.push_back(option[p] == k_digit_run ? k_digits_key : k_end_key);
          ++p;
          continue;
        }
        char32_t c = 0;
        const std::size_t len = decode_utf8_strict(option, p, c);
        if (len == 0) return false;
        chars.push_back(lower(c));
        p += len;
      }
      characters += chars.size();
    }
    bound += std::min<std::size_t>(phrases * characters, k_max_nodes + 1);
    phrases = std::min<std::size_t>(phrases * groups[g].size(), k_max_nodes + 1);
    if (nodes_ + bound > k_max_nodes) return false;
  }
  if (depth_.empty()) {
    depth_.push_back(0);
    first_.push_back(0);
  }
  // Group by group: the nodes where the phrases so far end, each extended by every option.
  std::vector<std::uint32_t> ends = {0};
  std::vector<std::uint32_t> next;
  for (const auto& options : decoded) {
    next.clear();
    for (const std::uint32_t from : ends) {
      for (const auto& chars : options) {
        std::uint32_t node = from;
        for (const char32_t c : chars) {
          // Children are never the root, so 0 means none.
          std::uint32_t child = building_.slots.empty() ? 0 : building_.find(key_of(node, c));
          if (child == 0) {
            child = nodes_++;
            building_.insert_growing(key_of(node, c), child);
            depth_.push_back(depth_[node] + 1);
            first_.push_back(node == 0 ? c : first_[node]);
          }
          node = child;
        }
        next.push_back(node);
      }
    }
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    ends.swap(next);
  }
  for (const std::uint32_t node : ends) ends_.emplace_back(node, id);
  return true;
}

void phrase_index::build() {
  // The trie's edges by parent, and each node's ids, in order.
  struct edge {
    std::uint32_t from;
    char32_t c;
    std::uint32_t to;
  };
  std::vector<std::size_t> first_edge(nodes_ + 1, 0);
  const auto each_edge = [&](auto&& f) {
    for (const std::uint64_t slot : building_.slots) {
      if (slot == 0) continue;
      const std::uint64_t key = slot >> k_child_bits;
      f(edge{static_cast<std::uint32_t>(key >> 21) - 1, static_cast<char32_t>(key & 0x1FFFFF),
             static_cast<std::uint32_t>(slot) & ((1u << k_child_bits) - 1)});
    }
  };
  each_edge([&](const edge& e) { ++first_edge[e.from + 1]; });
  for (std::uint32_t n = 0; n < nodes_; ++n) first_edge[n + 1] += first_edge[n];
  std::vector<edge> edges(first_edge[nodes_]);
  {
    std::vector<std::size_t> next(first_edge.begin(), first_edge.end() - 1);
    each_edge([&](const edge& e) { edges[next[e.from]++] = e; });
  }
  for (std::uint32_t n = 0; n < nodes_; ++n) {
    std::sort(edges.begin() + static_cast<std::ptrdiff_t>(first_edge[n]),
              edges.begin() + static_cast<std::ptrdiff_t>(first_edge[n + 1]),
              [](const edge& a, const edge& b) { return a.c < b.c; });
  }
  std::sort(ends_.begin(), ends_.end());
  ends_.erase(std::unique(ends_.begin(), ends_.end()), ends_.end());
  std::vector<std::size_t> first_end(nodes_ + 1, 0);
  for (const auto& [node, id] : ends_) ++first_end[node + 1];
  for (std::uint32_t n = 0; n < nodes_; ++n) first_end[n + 1] += first_end[n];

  // Nodes two or more characters deep with the same ids and the same edges to the same nodes are
  // one node: the trie becomes a graph that shares the ends of phrases. A cross product of groups
  // ("(收到|到手)(只有|就)(一|两)(个|件)") then takes about as many nodes as it has phrases in its
  // groups, not as it has phrases, and the tables stay small enough for the cache. Children are
  // numbered after their parents, so walking the nodes backwards meets every child first. The
  // root and its children are never merged: their edges are found by character, not by node.
  std::vector<std::uint32_t> merged(nodes_, 0);  // per node: its node in the graph, numbered
                                                 // backwards for now
  std::vector<std::uint32_t> kept;               // per node of the graph: the trie node it keeps
  std::unordered_map<std::string, std::uint32_t> by_signature;
  std::string signature;
  for (std::uint32_t n = nodes_; n-- > 0;) {
    if (depth_[n] >= 2) {
      signature.clear();
      const auto put = [&](std::uint32_t v) {
        signature.append(reinterpret_cast<const char*>(&v), sizeof v);
      };
      for (std::size_t k = first_end[n]; k < first_end[n + 1]; ++k) put(ends_[k].second);
      put(~0u);
      for (std::size_t k = first_edge[n]; k < first_edge[n + 1]; ++k) {
        put(static_cast<std::uint32_t>(edges[k].c));
        put(merged[edges[k].to]);
      }
      const auto [it, added] =
          by_signature.try_emplace(signature, static_cast<std::uint32_t>(kept.size()));
      if (!added) {
        merged[n] = it->second;
        continue;
      }
    }
    merged[n] = static_cast<std::uint32_t>(kept.size());
    kept.push_back(n);
  }
  by_signature = {};
  const auto graph_nodes = static_cast<std::uint32_t>(kept.size());
  for (auto& m : merged) m = graph_nodes - 1 - m;  // the root is node 0 again
  std::reverse(kept.begin(), kept.end());
  nodes_ = graph_nodes;

  first_id_.assign(nodes_ + 1, 0);
  ids_.clear();
  std::vector<std::uint8_t> terminal(nodes_, 0);
  for (std::uint32_t g = 0; g < nodes_; ++g) {
    const std::uint32_t n = kept[g];
    for (std::size_t k = first_end[n]; k < first_end[n + 1]; ++k) ids_.push_back(ends_[k].second);
    first_id_[g + 1] = static_cast<std::uint32_t>(ids_.size());
    terminal[g] = first_end[n + 1] > first_end[n] ? 1 : 0;
  }
  std::array<std::size_t, 3> count{};
  steps_.assign(nodes_, 0);
  bool any_step = false;
  for (std::uint32_t g = 0; g < nodes_; ++g) {
    const std::uint32_t n = kept[g];
    for (std::size_t k = first_edge[n]; k < first_edge[n + 1]; ++k) {
      ++count[std::min<std::uint32_t>(depth_[n], 2)];
      const char32_t c = edges[k].c;
      if (c == k_digits_key || c == k_end_key) {
        steps_[g] |= c == k_digits_key ? k_has_digits : k_has_end;
        any_step = true;
      }
    }
  }
  if (!any_step) steps_ = {};
  // The small tables at most half full, so that a probe for a missing edge ends after a slot or
  // two; the deep one fuller, to take fewer cache lines.
  singles_table_.assign(count[0], 50);
  pairs_table_.assign(count[1], 50);
  deep_table_.assign(count[2], 75);
  for (std::uint32_t g = 0; g < nodes_; ++g) {
    const std::uint32_t n = kept[g];
    for (std::size_t k = first_edge[n]; k < first_edge[n + 1]; ++k) {
      const std::uint32_t to = merged[edges[k].to];
      const std::uint32_t child = to | (terminal[to] ? k_terminal : 0);
      const char32_t c = edges[k].c;
      switch (std::min<std::uint32_t>(depth_[n], 2)) {
        case 0: singles_table_.insert(key_of(0, c), child); break;
        case 1: pairs_table_.insert(pair_key(first_[n], c), child); break;
        default: deep_table_.insert(key_of(g, c), child); break;
      }
    }
  }
  // The filters: whole one-character phrases, and the first two characters of longer ones.
  for (std::size_t k = first_edge[0]; k < first_edge[1]; ++k) {
    const edge& e = edges[k];
    if (e.c < 0x10000 && first_end[e.to + 1] > first_end[e.to]) set_bit(singles_, e.c);
    for (std::size_t j = first_edge[e.to]; j < first_edge[e.to + 1]; ++j) {
      set_bit(pairs_, pair_hash(e.c, edges[j].c));
    }
  }
  digits_root_ = singles_table_.find(key_of(0, k_digits_key));
  building_ = {};
  depth_ = {};
  first_ = {};
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
  used = 0;
  mask = size - 1;
  shift = 64 - bits;
}

void phrase_index::edge_table::insert_growing(std::uint64_t key, std::uint32_t child) {
  if ((used + 1) * 2 > slots.size()) {
    std::vector<std::uint64_t> old;
    old.swap(slots);
    assign(std::max<std::size_t>(old.size() * 2, 1024), 100);
    for (const std::uint64_t e : old) {
      if (e == 0) continue;
      insert(e >> k_child_bits, static_cast<std::uint32_t>(e) & ((1u << k_child_bits) - 1));
    }
  }
  insert(key, child);
}

void phrase_index::edge_table::insert(std::uint64_t key, std::uint32_t child) {
  std::size_t at = slot_of(key);
  while (slots[at] != 0) at = (at + 1) & mask;
  slots[at] = (key << k_child_bits) | child;
  ++used;
}

std::uint32_t phrase_index::edge_table::find(std::uint64_t key) const {
  for (std::size_t at = slot_of(key);; at = (at + 1) & mask) {
    const std::uint64_t e = slots[at];
    if (e == 0) return 0;
    if ((e >> k_child_bits) == key) return static_cast<std::uint32_t>(e) & ((1u << k_child_bits) - 1);
  }
}

struct phrase_index::walk_state {
  const code_points& text;
  std::vector<occurrence>& out;
  std::size_t start = 0;  // the character the walk began at
  char32_t first = 0;     // its first step: a character or k_digits_key
  // The last digit run measured, [run_from, run_to): a long number is walked from each of its
  // digits, and should be measured once.
  std::size_t run_from = 0;
  std::size_t run_to = 0;

  std::size_t run_end(std::size_t j) {
    if (j >= run_from && j < run_to) return run_to;
    run_from = j;
    run_to = j;
    while (run_to < text.size && is_digit(text.cp[run_to])) ++run_to;
    return run_to;
  }
};

std::uint32_t phrase_index::child(std::uint32_t node, std::uint32_t depth, char32_t first,
                                  char32_t c) const {
  if (depth == 0) return singles_table_.find(key_of(0, c));
  if (depth == 1) return pairs_table_.find(pair_key(first, c));
  return deep_table_.find(key_of(node, c));
}

void phrase_index::emit(walk_state& w, std::uint32_t e) const {
  const std::uint32_t node = e & (k_terminal - 1);
  for (std::uint32_t k = first_id_[node]; k < first_id_[node + 1]; ++k) {
    w.out.push_back(occurrence{ids_[k], w.text.at[w.start]});
  }
}

// `e`: the node reached (with its terminal bit) after `depth` steps, the text taken up to
// character `j`.
void phrase_index::take_steps(walk_state& w, std::uint32_t e, std::uint32_t depth,
                              std::size_t j) const {
  const std::uint32_t node = e & (k_terminal - 1);
  const std::uint8_t steps = steps_[node];
  if (steps == 0) return;
  if ((steps & k_has_end) != 0 && j == w.text.size) {
    if (const std::uint32_t end = child(node, depth, w.first, k_end_key); (end & k_terminal) != 0) {
      emit(w, end);
    }
  }
  if ((steps & k_has_digits) != 0 && j < w.text.size && is_digit(w.text.cp[j])) {
    walk(w, child(node, depth, w.first, k_digits_key), depth + 1, w.run_end(j));
  }
}

void phrase_index::walk(walk_state& w, std::uint32_t e, std::uint32_t depth, std::size_t j) const {
  while (e != 0) {
    if ((e & k_terminal) != 0) emit(w, e);
    if (steps_[e & (k_terminal - 1)] != 0) take_steps(w, e, depth, j);
    if (j == w.text.size) return;
    e = child(e & (k_terminal - 1), depth, w.first, w.text.cp[j]);
    ++depth;
    ++j;
  }
}

void phrase_index::scan(const code_points& text, std::vector<occurrence>& out) const {
  walk_state w{text, out};
  const bool steps = !steps_.empty();
  const std::size_t n = text.size;
  const char32_t* cp = text.cp.data();
  for (std::size_t i = 0; i < n; ++i) {
    const char32_t first = cp[i];
    w.start = i;
    if (first >= 0x10000 || bit(singles_, first)) {
      if (const std::uint32_t e = singles_table_.find(key_of(0, first)); (e & k_terminal) != 0) {
        emit(w, e);
      }
    }
    if (steps) {
      if (digits_root_ != 0 && is_digit(first)) {
        w.first = k_digits_key;
        walk(w, digits_root_, 1, w.run_end(i));
      }
      // A step right after the first character: the pair probe below cannot see it.
      if (i + 1 == n || is_digit(cp[i + 1])) {
        if (const std::uint32_t e = singles_table_.find(key_of(0, first)); e != 0) {
          w.first = first;
          take_steps(w, e, 1, i + 1);
        }
      }
    }
    if (i + 1 == n || !bit(pairs_, pair_hash(first, cp[i + 1]))) continue;
    std::uint32_t e = pairs_table_.find(pair_key(first, cp[i + 1]));
    w.first = first;
    for (std::size_t j = i + 2; e != 0; ++j) {
      if ((e & k_terminal) != 0) emit(w, e);
      if (steps && steps_[e & (k_terminal - 1)] != 0) {
        take_steps(w, e, static_cast<std::uint32_t>(j - i), j);
      }
      if (j == n) break;
      e = deep_table_.find(key_of(e & (k_terminal - 1), cp[j]));
    }
  }
}

std::size_t phrase_index::memory_bytes() const {
  return (singles_table_.slots.capacity() + pairs_table_.slots.capacity() +
          deep_table_.slots.capacity()) * sizeof(std::uint64_t) +
         (first_id_.capacity() + ids_.capacity()) * sizeof(std::uint32_t) + steps_.capacity() +
         sizeof(singles_) + sizeof(pairs_);
}

}  // namespace shouhou::intents::detail
