#pragma once
// Reply-file templates (see replies/README.md, "Texts and variables").
//
//   {name}      a variable, one of k_variables
//   [ ... ]     an optional part: left out when any variable inside it has no value
//   {{ }} [[ ]] a literal brace or square bracket
//
// A variable outside an optional part that has no value renders as the empty string. A template
// is parsed once at load time; render() is const and thread-safe.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "replies/book.hpp"

namespace shouhou::replies::detail {

// The variables a reply text may use. A fixed list, so a typo is a load error, not a hole in a
// message the buyer reads.
inline constexpr std::array<std::string_view, 8> k_variables = {
    "buyer",      // the buyer's nickname
    "shop",       // the shop's name
    "order",      // the order number
    "waybill",    // the waybill (tracking) number
    "product",    // the product's short name
    "deadline",   // the platform deadline that applies (from the policy file), as text
    "ship_date",  // the promised ship date (late_shipment)
    "missing",    // the checklist items still missing, their labels joined by "、"
};

bool is_variable(std::string_view name);

class text_template {
 public:
  // A problem found while parsing. `ch` is the offending character ('{', '}', '[' or ']') and
  // `ordinal` counts the occurrences of `ch` in the source before it (escaped ones included),
  // so the loader can find the same character in the file and report its line and column.
  struct error {
    char ch = 0;
    std::size_t ordinal = 0;
    std::string message;
  };

  text_template() = default;

  // Parses `source`; appends every problem to `errors` (the template is still usable: a bad
  // brace is kept as a literal character).
  static text_template parse(std::string_view source, std::vector<error>& errors);

  // Fills in the variables. A variable absent from `vars` or mapped to "" has no value.
  std::string render(const variables& vars) const;

  bool empty() const { return parts_.empty(); }

 private:
  struct piece {
    std::string text;  // literal text, or the variable's name
    bool variable = false;
  };
  struct part {
    std::vector<piece> pieces;
    bool optional = false;  // written [ ... ]
  };

  std::vector<part> parts_;
};

}  // namespace shouhou::replies::detail
