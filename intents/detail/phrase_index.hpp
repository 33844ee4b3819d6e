#pragma once
// Where literal phrases occur in a normalised message: a trie over code points, walked from every
// character, whose nodes with the same future (the same ids ending there, the same edges on) are
// stored once, so that the many phrases of a cross product of groups take few nodes. It stands in
// for the regular-expression set for rules (or alternatives of rules) that are lists of literal
// phrases, which are most of them: the set's DFA over so many Chinese phrases grows to ~10 MiB of
// states, one cache miss per byte, while the walk touches a table of a few hundred KiB and mostly
// stops at the first character.
//
// Exact only where a case-insensitive regex would match the same bytes: the caller adds phrases
// of lower-case ASCII and characters without case (see is_caseless_char), and scan() refuses text
// that is not valid UTF-8 or holds the two characters that fold onto ASCII letters (K, ſ).
//
// Two steps stand for more than one character, so that patterns such as `少了\d+个` and
// `假的(\.|$)` need no regex: a run of ASCII digits (`\d+`) and the end of the text (`$`). Only
// where a match starts is reported, so a digit run is taken whole: a phrase never has a digit
// right after it (indexable() says so), and then a shorter run could not match either.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shouhou::intents::detail {

// True for a character a case-insensitive match compares as itself: ASCII, CJK, kana, Hangul.
bool is_caseless_char(char32_t cp);

// A message decoded once, for the index, the keyword model and the marker pass.
struct code_points {
  std::vector<char32_t> cp;
  std::vector<std::uint32_t> at;  // byte offset of each character; at[size] is the text's size
  std::size_t size = 0;
  // False, with the contents unspecified, when the text is not valid UTF-8 or holds U+212A
  // or U+017F.
  bool decode(std::string_view text);
};

class phrase_index {
 public:
  // In a phrase, these bytes (never part of UTF-8) are the two steps: one or more ASCII
  // digits, and the end of the text.
  static constexpr char k_digit_run = '\xF8';
  static constexpr char k_text_end = '\xF9';
  // True when the steps stand where the walk can take them: the end of the text last and not
  // first, a digit run followed by neither a digit nor another run.
  static bool indexable(std::string_view phrase);
  // `phrase`: UTF-8 with the steps above, not empty, ASCII lower-cased, only caseless
  // characters, indexable. False (nothing added) when it is not, or when the trie is full (a
  // million characters).
  bool add(std::string_view phrase, std::uint32_t id);

  // A cross product of groups of phrases: every phrase made of one option of each group in turn
  // (an empty option lets its group be skipped), as a pattern such as `(收到|到手)(的)?(只有|就)`
  // spells them. Adding one costs as much as the trie it makes, not as the phrases it spells.
  using product = std::vector<std::vector<std::string>>;
  // Whether every phrase of a product is indexable, taken group by group: add() the groups in
  // turn; every_phrase() says whether each phrase of the groups so far is.
  class product_check {
   public:
    void add(const std::vector<std::string>& options);
    bool every_phrase() const;

   private:
    // What a phrase so far is, as bits: a state; states_ holds one bit per state that some
    // phrase is in.
    static constexpr unsigned k_empty = 1;
    static constexpr unsigned k_ends_digits = 2;  // ends with a digit run
    static constexpr unsigned k_ended = 4;        // holds the end of the text
    static constexpr unsigned k_broken = 8;       // not indexable, whatever follows
    // The state of a phrase in `state` once `option` is appended.
    static unsigned after(unsigned state, std::string_view option);
    std::uint16_t states_ = 1u << k_empty;  // the empty phrase
  };
  // As add() for each phrase of `groups`; false (nothing added) when one is not indexable, an
  // option is not UTF-8, or the trie would be full.
  bool add_product(const product& groups, std::uint32_t id);
  // After the last add(); the index is then immutable and scan() thread-safe.
  void build();
  std::size_t memory_bytes() const;
  // Nodes after build(), where the ends phrases share are stored once.
  std::size_t nodes() const { return nodes_; }

  struct occurrence {
    std::uint32_t id;
    std::uint32_t start;  // byte offset of the phrase in the text
  };
  // Appends every (id, start) where a phrase of `id` starts, by increasing start (one id may
  // repeat at a start).
  void scan(const code_points& text, std::vector<occurrence>& out) const;

 private:
  // Edges in open addressing, one 64-bit word each: the key in the high bits, the child in the
  // low k_child_bits (its top bit: a phrase ends at the child). 0 is an empty slot.
  struct edge_table {
    std::vector<std::uint64_t> slots;
    std::uint64_t mask = 0;
    unsigned shift = 64;
    std::size_t slot_of(std::uint64_t key) const {
      return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift);
    }
    std::size_t used = 0;
    void assign(std::size_t edges, std::size_t per_slot_percent);
    void insert(std::uint64_t key, std::uint32_t child);
    // Same, doubling the table when it is half full (while the trie is built).
    void insert_growing(std::uint64_t key, std::uint32_t child);
    // The child (with its terminal bit), or 0 when there is none.
    std::uint32_t find(std::uint64_t key) const;
  };
  static constexpr unsigned k_child_bits = 21;
  static constexpr std::uint32_t k_terminal = 1u << (k_child_bits - 1);
  // Nodes stay below 2^20, so keys of 42 bits fit beside the child.
  static constexpr std::uint32_t k_max_nodes = k_terminal - 2;
  // The steps as keys, past the last code point.
  static constexpr char32_t k_digits_key = 0x110000;
  static constexpr char32_t k_end_key = 0x110001;
  static constexpr std::uint8_t k_has_digits = 1;
  static constexpr std::uint8_t k_has_end = 2;
  static std::uint64_t key_of(std::uint32_t node, char32_t cp) {
    return (static_cast<std::uint64_t>(node + 1) << 21) | cp;
  }
  static std::uint64_t pair_key(char32_t a, char32_t b) {
    return (static_cast<std::uint64_t>(a) << 21) | b;
  }
  // Most walks end within two characters, so the first two characters take one probe, in a
  // table keyed by the pair; a one-character phrase is looked up by its character. The deep
  // table is probed only by walks that are likely to find a phrase.
  edge_table singles_table_;  // root -> child by character
  edge_table pairs_table_;    // root -> grandchild by the first two characters
  edge_table deep_table_;     // the edges of nodes two or more characters deep
  std::uint32_t nodes_ = 1;   // the root is node 0
  // Per node: which steps leave it (k_has_digits, k_has_end); empty when no phrase has one, so
  // that plain phrases pay nothing for them.
  std::vector<std::uint8_t> steps_;
  std::uint32_t digits_root_ = 0;  // the root's digit-run child, with its terminal bit, or 0
  // The child of `node` (at `depth`, reached from the root by a walk starting with `first`)
  // by `c`, with its terminal bit, or 0.
  std::uint32_t child(std::uint32_t node, std::uint32_t depth, char32_t first, char32_t c) const;
  struct walk_state;
  // Adds the ids of `e`, a terminal node, at the walk's start.
  void emit(walk_state& w, std::uint32_t e) const;
  void take_steps(walk_state& w, std::uint32_t e, std::uint32_t depth, std::size_t j) const;
  void walk(walk_state& w, std::uint32_t e, std::uint32_t depth, std::size_t j) const;
  // Building only: the edges, each node's depth and first character, and per phrase its end
  // node and id.
  edge_table building_;
  std::vector<std::uint32_t> depth_;
  std::vector<char32_t> first_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ends_;
  // Per node: its ids in ids_[first_id_[node] .. first_id_[node + 1]).
  std::vector<std::uint32_t> first_id_;
  std::vector<std::uint32_t> ids_;
  // Filters that stay in the L1 cache (8 KiB each), so that most characters cost no probe: one
  // bit per basic-plane character that is a whole phrase, and one per hash of the first two
  // characters of longer phrases.
  std::array<std::uint64_t, 1024> singles_{};
  std::array<std::uint64_t, 1024> pairs_{};
};

}  // namespace shouhou::intents::detail
