#include "intents/detail/linear_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "intents/content_hash.hpp"
#include "intents/detail/ngrams.hpp"

namespace shouhou::intents::detail {
namespace {

constexpr std::string_view k_magic = "shouhou keyword model 2\n";

// Little-endian, whatever the machine, so that a file is the same everywhere.
void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
std::uint32_t get_u32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::size_t numbered_rows(std::size_t rules) { return rules * k_forms + k_extra_features + 1; }

}  // namespace

std::uint64_t rule_identity(std::string_view target, int kind, std::string_view text,
                            int occurrence) {
  std::string key(target);
  key += '\0';
  key += std::to_string(kind);
  key += '\0';
  key += text;
  key += '\0';
  key += std::to_string(occurrence);
  const std::string hex = sha256_hex(key);
  return std::strtoull(hex.substr(0, 16).c_str(), nullptr, 16);
}

std::string linear_model::write(const parts& p) {
  std::string body;
  for (const std::uint64_t r : p.rules) put_u64(body, r);
  for (const float w : p.numbered) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &w, sizeof bits);
    put_u32(body, bits);
  }
  for (const std::uint32_t b : p.buckets) put_u32(body, b);
  for (const std::int8_t w : p.gram_weights) body.push_back(static_cast<char>(w));

  std::string out(k_magic);
  const std::size_t header_from = out.size();
  out += "bucket_bits: " + std::to_string(p.bucket_bits) + "\n";
  out += "max_n: " + std::to_string(p.max_n) + "\n";
  out += "unsure_below: " + exact(p.unsure_below) + "\n";
  out += "gram_scale: " + exact(p.gram_scale) + "\n";
  out += "rules: " + std::to_string(p.rules.size()) + "\n";
  out += "buckets: " + std::to_string(p.buckets.size()) + "\n";
  std::string trained_on = p.trained_on;
  std::replace(trained_on.begin(), trained_on.end(), '\n', ' ');
  out += "trained_on: " + trained_on + "\n";
  // The checksum covers the header lines above it and the body: a damaged setting is as wrong
  // as a damaged weight.
  out += "sha256: " + sha256_hex(out.substr(header_from) + body) + "\n\n";
  out += body;
  return out;
}

std::optional<linear_model> linear_model::read(std::string_view bytes, std::string& error) {
  if (bytes.substr(0, k_magic.size()) != k_magic) {
    error =
        "not a keyword model file (or another version of the format): retrain it with "
        "`shouhou intents train`";
    return std::nullopt;
  }
  std::size_t at = k_magic.size();
  const auto header = [&](std::string_view key, std::string& value) {
    const std::size_t nl = bytes.find('\n', at);
    if (nl == std::string_view::npos) return false;
    const std::string_view line = bytes.substr(at, nl - at);
    if (line.substr(0, key.size()) != key || line.substr(key.size(), 2) != ": ") return false;
    value = std::string(line.substr(key.size() + 2));
    at = nl + 1;
    return true;
  };
  const auto number = [](const std::string& s, double& v) {
    if (s.empty()) return false;
    char* end = nullptr;
    v = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size() && std::isfinite(v);
  };
  const auto count = [](const std::string& s, std::size_t& v) {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    v = static_cast<std::size_t>(std::stoul(s));
    return true;
  };
  parts p;
  std::string v;
  double bits = 0;
  std::size_t rules = 0;
  std::size_t buckets = 0;
  std::string sha;
  if (!header("bucket_bits", v) || !number(v, bits) || bits < 8 || bits > 26 ||
      bits != std::floor(bits)) {
    error = "corrupt header: bucket_bits";
    return std::nullopt;
  }
  p.bucket_bits = static_cast<int>(bits);
  double max_n = 0;
  if (!header("max_n", v) || !number(v, max_n) || max_n < 1 || max_n > k_linear_max_n ||
      max_n != std::floor(max_n)) {
    error = "corrupt header: max_n";
    return std::nullopt;
  }
  p.max_n = static_cast<int>(max_n);
  if (!header("unsure_below", v) || !number(v, p.unsure_below) || p.unsure_below < 0 ||
      p.unsure_below > 1) {
    error = "corrupt header: unsure_below";
    return std::nullopt;
  }
  if (!header("gram_scale", v) || !number(v, p.gram_scale) || p.gram_scale < 0) {
    error = "corrupt header: gram_scale";
    return std::nullopt;
  }
  if (!header("rules", v) || !count(v, rules)) {
    error = "corrupt header: rules";
    return std::nullopt;
  }
  if (!header("buckets", v) || !count(v, buckets) || buckets > (std::size_t{1} << p.bucket_bits)) {
    error = "corrupt header: buckets";
    return std::nullopt;
  }
  const std::size_t covered_end = bytes.find("\nsha256: ", k_magic.size());
  if (!header("trained_on", p.trained_on) || !header("sha256", sha) || at >= bytes.size() ||
      bytes[at] != '\n' || covered_end == std::string_view::npos) {
    error = "corrupt header";
    return std::nullopt;
  }
  ++at;
  const std::string_view body = bytes.substr(at);
  const std::string_view covered_header = bytes.substr(k_magic.size(), covered_end + 1 - k_magic.size());
  const std::size_t want =
      rules * 8 + numbered_rows(rules) * k_classes * 4 + buckets * 4 + buckets * k_classes;
  if (body.size() != want) {
    error = "truncated or corrupt: the body holds " + std::to_string(body.size()) +
            " bytes where the header promises " + std::to_string(want);
    return std::nullopt;
  }
  if (sha256_hex(std::string(covered_header) + std::string(body)) != sha) {
    error = "corrupt: the file does not match its checksum";
    return std::nullopt;
  }
  const auto* b = reinterpret_cast<const unsigned char*>(body.data());
  p.rules.resize(rules);
  for (auto& r : p.rules) {
    r = get_u64(b);
    b += 8;
  }
  p.numbered.resize(numbered_rows(rules) * k_classes);
  for (auto& w : p.numbered) {
    const std::uint32_t u = get_u32(b);
    std::memcpy(&w, &u, sizeof w);
    b += 4;
  }
  p.buckets.resize(buckets);
  for (auto& k : p.buckets) {
    k = get_u32(b);
    b += 4;
  }
  p.gram_weights.assign(reinterpret_cast<const std::int8_t*>(b),
                        reinterpret_cast<const std::int8_t*>(b) + buckets * k_classes);
  return from(std::move(p), error);
}

std::optional<linear_model> linear_model::from(parts p, std::string& error) {
  const std::size_t space = std::size_t{1} << p.bucket_bits;
  if (p.numbered.size() != numbered_rows(p.rules.size()) * k_classes ||
      p.gram_weights.size() != p.buckets.size() * k_classes) {
    error = "corrupt: the weights do not add up to the counts";
    return std::nullopt;
  }
  for (const float w : p.numbered) {
    if (!std::isfinite(w)) {
      error = "corrupt: a weight is not a number";
      return std::nullopt;
    }
  }
  for (std::size_t i = 0; i < p.buckets.size(); ++i) {
    if (p.buckets[i] >= space || (i > 0 && p.buckets[i] <= p.buckets[i - 1])) {
      error = "corrupt: the buckets are not ascending numbers below 2^bucket_bits";
      return std::nullopt;
    }
  }
  linear_model m;
  m.words_.assign((space + 63) / 64, word{});
  m.rows_.resize(p.buckets.size());
  for (std::size_t i = 0; i < p.buckets.size(); ++i) {
    m.words_[p.buckets[i] >> 6].bits |= std::uint64_t{1} << (p.buckets[i] & 63);
    std::memcpy(m.rows_[i].w, &p.gram_weights[i * k_classes], k_classes);
  }
  std::uint32_t rank = 0;
  for (auto& w : m.words_) {
    w.rank = rank;
    rank += static_cast<std::uint32_t>(__builtin_popcountll(w.bits));
  }
  m.rule_row_.resize(p.rules.size());
  for (std::size_t i = 0; i < p.rules.size(); ++i) m.rule_row_[i] = static_cast<std::int32_t>(i);
  m.parts_ = std::move(p);
  return m;
}

bool linear_model::bind(const std::vector<std::uint64_t>& engine_rules, std::string& error,
                        std::size_t& first_unknown) {
  std::vector<std::pair<std::uint64_t, std::int32_t>> known;
  known.reserve(parts_.rules.size());
  for (std::size_t i = 0; i < parts_.rules.size(); ++i) {
    known.emplace_back(parts_.rules[i], static_cast<std::int32_t>(i));
  }
  std::sort(known.begin(), known.end());
  std::vector<std::int32_t> rows(engine_rules.size(), -1);
  std::size_t matched = 0;
  for (std::size_t i = 0; i < engine_rules.size(); ++i) {
    const auto it = std::lower_bound(known.begin(), known.end(),
                                     std::make_pair(engine_rules[i], std::int32_t{-1}));
    if (it == known.end() || it->first != engine_rules[i]) {
      first_unknown = i;
      error =
          "the model was trained without this rule (it is new or was changed since): "
          "retrain with `shouhou intents train`";
      return false;
    }
    rows[i] = it->second;
    ++matched;
  }
  if (matched != parts_.rules.size()) {
    first_unknown = engine_rules.size();
    error = "the model was trained with " + std::to_string(parts_.rules.size() - matched) +
            " rule(s) the intent files no longer have: retrain with `shouhou intents train`";
    return false;
  }
  rule_row_ = std::move(rows);
  return true;
}

const float* linear_model::numbered_row(std::uint32_t index) const {
  const std::size_t engine_rules = rule_row_.size();
  std::size_t row = 0;
  if (index < engine_rules * k_forms) {
    const std::int32_t r = rule_row_[index / k_forms];
    row = static_cast<std::size_t>(r) * k_forms + index % k_forms;
  } else {
    row = parts_.rules.size() * k_forms + (index - engine_rules * k_forms);
  }
  return &parts_.numbered[row * k_classes];
}

std::size_t linear_model::logits(const observation& o, double* z) const {
  const float* bias = &parts_.numbered[(numbered_rows(parts_.rules.size()) - 1) * k_classes];
  for (std::size_t c = 0; c < k_classes; ++c) z[c] = bias[c];
  for (const auto& [index, value] : o.numbered) {
    const float* w = numbered_row(index);
    for (std::size_t c = 0; c < k_classes; ++c) z[c] += static_cast<double>(w[c]) * value;
  }
  alignas(64) std::int32_t sum[16] = {};
  std::size_t known = 0;
  const int shift = 64 - parts_.bucket_bits;
  for (const std::uint64_t key : o.grams) {
    if (gram_length(key) > parts_.max_n) continue;
    const auto b = static_cast<std::uint32_t>(mix(key) >> shift);
    const word& w = words_[b >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (b & 63);
    if ((w.bits & bit) == 0) continue;
    const std::size_t r =
        w.rank + static_cast<std::size_t>(__builtin_popcountll(w.bits & (bit - 1)));
    const std::int8_t* row = rows_[r].w;
    for (std::size_t c = 0; c < 16; ++c) sum[c] += row[c];
    ++known;
  }
  if (known > 0) {
    const double scale = parts_.gram_scale / std::sqrt(static_cast<double>(known));
    for (std::size_t c = 0; c < k_classes; ++c) z[c] += sum[c] * scale;
  }
  return known;
}

void linear_model::probabilities(const double* z, double* p) {
  double best = z[0];
  for (std::size_t c = 1; c < k_classes; ++c) best = std::max(best, z[c]);
  double total = 0;
  for (std::size_t c = 0; c < k_classes; ++c) {
    p[c] = std::exp(z[c] - best);
    total += p[c];
  }
  for (std::size_t c = 0; c < k_classes; ++c) p[c] /= total;
}

std::size_t linear_model::memory_bytes() const {
  return words_.capacity() * sizeof(word) + rows_.capacity() * sizeof(gram_row) +
         parts_.numbered.capacity() * sizeof(float) + parts_.buckets.capacity() * 4 +
         parts_.gram_weights.capacity() + parts_.rules.capacity() * 8 + rule_row_.capacity() * 4;
}

}  // namespace shouhou::intents::detail
