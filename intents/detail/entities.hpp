#pragma once
// Entity extraction from a normalised message (see normalize.hpp): one hand-written scan over the
// runs of ASCII letters and digits, no regular expressions, no allocation for messages without
// digits. Kinds and values:
// - "waybill_no": the token after 运单号/运单编号/快递单号/物流单号/快递号/单号 (6..30 letters or
//   digits), or a bare token in a common carrier's format: SF + 12..15 digits (顺丰),
//   JD + 0..2 letters + 11..15 digits (京东), YT + 13..15 digits (圆通), JT + 13..15 digits
//   (极兔), DPK + 9..15 digits (德邦), two letters + 9 digits + CN (EMS/邮政); value lower-cased.
// - "order_no": the token after 订单号/订单编号/订单 (6..30 letters, digits or '-'), or any bare run
//   of 10 or more digits (not glued to letters) that is not a mobile number.
// - "phone": an 11-digit mainland mobile number (1[3-9] and nine more digits).
// - "amount": a sum of money: a number (with up to two decimals) before 元/块/rmb, or after ¥/￥/
//   rmb; value the number as written ("48", "12.5").
// - "count": a small whole number (Arabic, or one Chinese digit 一..九/两) before a classifier
//   such as 个/件/只/瓶/盒/箱/双/套/台/条/支/包/袋/本/张/份; value the number and classifier
//   ("2件").
// Values appear once per kind and value, in the order found. Thread-safe: no shared state.

#include <cstdint>
#include <string_view>
#include <vector>

#include "intents/engine.hpp"

namespace shouhou::intents::detail {

std::vector<entity> extract_entities(std::string_view normalized);

// Same, appending to `out`.
void extract_entities_into(std::string_view normalized, std::vector<entity>& out);

// Same, given the text's characters and their byte offsets as well: the characters show where
// digits are, so most of the text is not scanned at all.
void extract_entities_into(std::string_view normalized, const char32_t* chars,
                           const std::uint32_t* at, std::size_t size, std::vector<entity>& out);

}  // namespace shouhou::intents::detail
