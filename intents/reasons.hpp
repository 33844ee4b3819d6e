#pragma once
// The refund-reason taxonomy (DESIGN §2): stable ids shared by intent files, reply files,
// corpora and cases. A file naming any other id is an error.

#include <array>
#include <string_view>

namespace shouhou::intents {

inline constexpr std::array<std::string_view, 13> k_reasons = {
    "quality_issue", "not_as_described", "wrong_item",     "missing_item",    "damaged",
    "not_received",  "late_shipment",    "counterfeit",    "changed_mind",    "mistaken_purchase",
    "refund_request", "refund_progress", "other",
};

// Flags a message may carry besides its reason (DESIGN §2).
inline constexpr std::array<std::string_view, 4> k_flags = {"wants_human", "escalation", "angry",
                                                           "risk"};

bool is_reason(std::string_view id);
bool is_flag(std::string_view id);

}  // namespace shouhou::intents
