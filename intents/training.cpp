#include "intents/training.hpp"

#include <linear.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "intents/content_hash.hpp"
#include "intents/detail/intent_file.hpp"
#include "intents/detail/linear_model.hpp"
#include "intents/detail/ngrams.hpp"
#include "intents/reasons.hpp"

namespace shouhou::intents {
namespace {

constexpr std::size_t K = detail::k_classes;

std::size_t reason_index(std::string_view id) {
  return static_cast<std::size_t>(std::find(k_reasons.begin(), k_reasons.end(), id) -
                                  k_reasons.begin());
}

// The observations of every message, made once and shared by every fit.
struct prepared {
  std::vector<detail::observation> obs;
  std::vector<std::size_t> labels;
  std::vector<bool> live;
  std::size_t rules = 0;
};

// A fitted model before calibration and quantisation.
struct raw_weights {
  std::size_t rules = 0;
  int bucket_bits = 20;
  std::vector<double> numbered;        // (rules * k_forms + k_extra_features + 1) x K; bias last
  std::vector<std::uint32_t> buckets;  // ascending
  std::vector<double> grams;           // buckets x K, the idf folded in
  std::vector<double> idf;             // per bucket, 1 without idf
  std::string error;                   // liblinear refused the problem: no model
  int max_n = 3;
};

std::uint32_t bucket_of(std::uint64_t key, int bits) {
  return static_cast<std::uint32_t>(detail::mix(key) >> (64 - bits));
}

std::size_t numbered_features(std::size_t rules) {
  return rules * detail::k_forms + detail::k_extra_features;
}

// The known buckets of one message, by their index in `buckets`, repeats kept.
void known_grams(const detail::observation& o, const std::vector<std::uint32_t>& buckets, int bits,
                 int max_n, std::vector<std::size_t>& out) {
  out.clear();
  for (const std::uint64_t key : o.grams) {
    if (detail::gram_length(key) > max_n) continue;
    const std::uint32_t b = bucket_of(key, bits);
    const auto it = std::lower_bound(buckets.begin(), buckets.end(), b);
    if (it != buckets.end() && *it == b)
      out.push_back(static_cast<std::size_t>(it - buckets.begin()));
  }
}

void silent(const char*) {}

raw_weights fit(const prepared& data, const std::vector<std::size_t>& rows,
                const training_options& options) {
  raw_weights w;
  w.rules = data.rules;
  w.bucket_bits = options.bucket_bits;
  w.max_n = options.max_n;
  // Buckets seen in enough messages.
  std::vector<std::uint32_t> seen_in(std::size_t{1} << options.bucket_bits, 0);
  std::vector<std::uint32_t> mine;
  for (const std::size_t r : rows) {
    mine.clear();
    for (const std::uint64_t key : data.obs[r].grams) {
      if (detail::gram_length(key) <= options.max_n)
        mine.push_back(bucket_of(key, options.bucket_bits));
    }
    std::sort(mine.begin(), mine.end());
    mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
    for (const std::uint32_t b : mine) ++seen_in[b];
  }
  for (std::uint32_t b = 0; b < seen_in.size(); ++b) {
    if (seen_in[b] >= static_cast<std::uint32_t>(std::max(options.min_messages, 1))) {
      w.buckets.push_back(b);
      // Smoothed inverse document frequency, folded into the bucket's weights afterwards.
      w.idf.push_back(options.idf ? 1.0 + std::log((1.0 + static_cast<double>(rows.size())) /
                                                   (1.0 + seen_in[b]))
                                  : 1.0);
    }
  }
  seen_in = {};
  const std::size_t dense = numbered_features(data.rules);
  const std::size_t n = dense + w.buckets.size() + 1;  // and the bias

  // A rule's features enter with the value rule_value and their weights are stored times it, so
  // that the engine, which gives them 1, computes the same.
  const std::size_t rule_features = data.rules * detail::k_forms;
  // liblinear's rows: 1-based ascending indices, ending with index -1.
  std::vector<std::vector<feature_node>> x(rows.size());
  std::vector<std::size_t> known;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const detail::observation& o = data.obs[rows[i]];
    auto& row = x[i];
    for (const auto& [index, value] : o.numbered) {
      row.push_back(feature_node{static_cast<int>(index) + 1,
                                 index < rule_features ? value * options.rule_value : value});
    }
    known_grams(o, w.buckets, options.bucket_bits, options.max_n, known);
    std::sort(known.begin(), known.end());
    const double scale = known.empty() ? 0.0 : 1.0 / std::sqrt(static_cast<double>(known.size()));
    for (std::size_t k = 0; k < known.size();) {
      std::size_t j = k;
      while (j < known.size() && known[j] == known[k]) ++j;
      row.push_back(feature_node{static_cast<int>(dense + known[k]) + 1,
                                 static_cast<double>(j - k) * scale * w.idf[known[k]]});
      k = j;
    }
    std::sort(row.begin(), row.end(),
              [](const feature_node& a, const feature_node& b) { return a.index < b.index; });
    row.push_back(feature_node{static_cast<int>(n), 1.0});
    row.push_back(feature_node{-1, 0.0});
  }
  std::vector<feature_node*> pointers(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) pointers[i] = x[i].data();

  std::array<std::size_t, K> count{};
  for (const std::size_t r : rows) ++count[data.labels[r]];
  w.numbered.assign((dense + 1) * K, 0.0);
  w.grams.assign(w.buckets.size() * K, 0.0);

  set_print_string_function(silent);
  std::atomic<std::size_t> next{0};
  std::mutex refusal_mutex;
  std::string refusal;  // liblinear's word when it refuses the parameters
  const auto work = [&] {
    std::vector<double> y(rows.size());
    for (std::size_t c = next++; c < K; c = next++) {
      if (count[c] == 0) {
        w.numbered[dense * K + c] = -10.0;  // a reason never seen: never chosen
        continue;
      }
      for (std::size_t i = 0; i < rows.size(); ++i) y[i] = data.labels[rows[i]] == c ? 1.0 : -1.0;
      problem prob{};
      prob.l = static_cast<int>(rows.size());
      prob.n = static_cast<int>(n);
      prob.y = y.data();
      prob.x = pointers.data();
      int label = 1;
      const double negatives = static_cast<double>(rows.size() - count[c]);
      double weight =
          std::pow(std::max(negatives, 1.0) / static_cast<double>(count[c]), options.class_balance);
      parameter param{};
      param.solver_type = L2R_LR;
      param.eps = 0.01;
      param.C = options.c;
      param.nr_weight = 1;
      param.weight_label = &label;
      param.weight = &weight;
#if LIBLINEAR_VERSION >= 240
      param.regularize_bias = 1;  // as liblinear 2.3 does, which has no such setting
#endif
      if (const char* refused = check_parameter(&prob, &param); refused != nullptr) {
        std::lock_guard lock(refusal_mutex);
        refusal = refused;
        continue;
      }
      model* m = train(&prob, &param);
      // A binary model holds one vector, for its first label.
      const double sign = m->label[0] == 1 ? 1.0 : -1.0;
      for (std::size_t f = 0; f < dense; ++f)
        w.numbered[f * K + c] = sign * m->w[f] * (f < rule_features ? options.rule_value : 1.0);
      for (std::size_t g = 0; g < w.buckets.size(); ++g) {
        w.grams[g * K + c] = sign * m->w[dense + g] * w.idf[g];
      }
      w.numbered[dense * K + c] = sign * m->w[n - 1];
      free_and_destroy_model(&m);
    }
  };
  const unsigned threads = std::max(
      1u,
      std::min<unsigned>(options.threads ? options.threads : std::thread::hardware_concurrency(),
                         static_cast<unsigned>(K)));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  w.error = refusal;
  return w;
}

// The logits of a fitted, not yet quantised model (what linear_model::logits computes).
void raw_logits(const raw_weights& w, const detail::observation& o, std::vector<std::size_t>& known,
                double* z) {
  const std::size_t dense = numbered_features(w.rules);
  for (std::size_t c = 0; c < K; ++c) z[c] = w.numbered[dense * K + c];
  for (const auto& [index, value] : o.numbered) {
    for (std::size_t c = 0; c < K; ++c) z[c] += w.numbered[index * K + c] * value;
  }
  known_grams(o, w.buckets, w.bucket_bits, w.max_n, known);
  if (known.empty()) return;
  const double scale = 1.0 / std::sqrt(static_cast<double>(known.size()));
  for (const std::size_t g : known) {
    for (std::size_t c = 0; c < K; ++c) z[c] += w.grams[g * K + c] * scale;
  }
}

double log_softmax_at(const double* z, std::size_t y, double inverse_t) {
  double best = z[0] * inverse_t;
  for (std::size_t c = 1; c < K; ++c) best = std::max(best, z[c] * inverse_t);
  double total = 0;
  for (std::size_t c = 0; c < K; ++c) total += std::exp(z[c] * inverse_t - best);
  return z[y] * inverse_t - best - std::log(total);
}

// The temperature that minimises the held-out negative log-likelihood (golden-section search
// over log T).
double fit_temperature(const std::vector<std::array<double, K>>& z,
                       const std::vector<std::size_t>& labels) {
  const auto nll = [&](double log_t) {
    const double inverse = std::exp(-log_t);
    double sum = 0;
    for (std::size_t i = 0; i < z.size(); ++i)
      sum -= log_softmax_at(z[i].data(), labels[i], inverse);
    return sum;
  };
  double lo = std::log(0.05);
  double hi = std::log(20.0);
  const double g = (std::sqrt(5.0) - 1) / 2;
  double a = hi - g * (hi - lo);
  double b = lo + g * (hi - lo);
  double fa = nll(a);
  double fb = nll(b);
  for (int i = 0; i < 60; ++i) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = nll(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = nll(b);
    }
  }
  return std::exp((lo + hi) / 2);
}

}  // namespace

std::vector<training_message> folder_examples(const std::filesystem::path& dir,
                                              std::vector<file_error>& errors) {
  detail::read_result read = detail::read_intent_folder(dir);
  errors.insert(errors.end(), read.errors.begin(), read.errors.end());
  std::vector<training_message> out;
  for (const auto& b : read.data.blocks) {
    if (b.is_flag) continue;
    for (const auto& e : b.examples) out.push_back({e, reason_index(b.id), false});
  }
  for (const auto& e : read.data.training) out.push_back({e.text, reason_index(e.reason), false});
  return out;
}

std::vector<int> stratified_folds(const std::vector<std::size_t>& labels, int k,
                                  std::uint32_t seed) {
  std::vector<int> fold(labels.size(), 0);
  if (k <= 1) return fold;
  std::mt19937 rng(seed);
  std::size_t counter = 0;
  for (std::size_t c = 0; c < K; ++c) {
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] == c) members.push_back(i);
    }
    // Fisher-Yates with the generator's raw output: the same on every platform.
    for (std::size_t i = members.size(); i > 1; --i) {
      std::swap(members[i - 1], members[rng() % i]);
    }
    for (const std::size_t i : members)
      fold[i] = static_cast<int>(counter++ % static_cast<std::size_t>(k));
  }
  return fold;
}

bool in_sealed_fifth(std::string_view text, std::uint32_t seed) {
  const std::string hex = sha256_hex(std::to_string(seed) + ":" + std::string(text));
  return std::strtoull(hex.substr(0, 8).c_str(), nullptr, 16) % 5 == 0;
}

training_result train_model(const engine& e, const std::vector<training_message>& messages,
                            const training_options& options, const std::string& trained_on) {
  training_result result;
  if (messages.empty()) {
    result.error = "nothing to train on";
    return result;
  }
  if (options.bucket_bits < 8 || options.bucket_bits > 26) {
    result.error = "bucket bits must be between 8 and 26";
    return result;
  }
  if (!(options.c > 0) || options.max_n < 1 || options.max_n > detail::k_linear_max_n ||
      !(options.rule_value > 0) || options.class_balance < 0) {
    result.error = "training options out of range: C and the rule value above 0, n-grams of 1 to " +
                   std::to_string(detail::k_linear_max_n) + ", class balance 0 or more";
    return result;
  }
  for (const auto& m : messages) {
    if (m.intent >= K) {
      result.error = "a training message has no reason of the taxonomy";
      return result;
    }
  }
  prepared data;
  data.rules = e.rule_identities().size();
  data.obs.resize(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    e.observe(messages[i].text, data.obs[i]);
    data.labels.push_back(messages[i].intent);
    data.live.push_back(messages[i].live);
  }

  // Held-out logits for the temperature and the threshold.
  std::vector<std::array<double, K>> held_out(messages.size());
  const int folds = std::max(options.calibration_folds, 2);
  const std::vector<int> fold = stratified_folds(data.labels, folds, options.seed + 1);
  std::vector<std::size_t> known;
  for (int f = 0; f < folds; ++f) {
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      if (fold[i] != f) rows.push_back(i);
    }
    const raw_weights w = fit(data, rows, options);
    if (!w.error.empty()) {
      result.error = "liblinear: " + w.error;
      return result;
    }
    for (std::size_t i = 0; i < messages.size(); ++i) {
      if (fold[i] == f) raw_logits(w, data.obs[i], known, held_out[i].data());
    }
  }
  const double t = fit_temperature(held_out, data.labels);
  result.temperature = t;

  // The lowest threshold (in hundredths) at which the live messages answered without asking are
  // right often enough.
  std::vector<std::pair<double, bool>> answered;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (!data.live[i]) continue;
    std::array<double, K> p{};
    std::array<double, K> scaled{};
    for (std::size_t c = 0; c < K; ++c) scaled[c] = held_out[i][c] / t;
    detail::linear_model::probabilities(scaled.data(), p.data());
    const auto best = static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin());
    answered.emplace_back(p[best], best == data.labels[i]);
  }
  result.unsure_below = 0.99;
  for (int h = 30; h <= 99; ++h) {
    const double threshold = h / 100.0;
    std::size_t n = 0;
    std::size_t right = 0;
    for (const auto& [confidence, ok] : answered) {
      if (confidence >= threshold) {
        ++n;
        right += ok;
      }
    }
    if (n > 0 && static_cast<double>(right) >= options.answered_accuracy * static_cast<double>(n)) {
      result.unsure_below = threshold;
      break;
    }
  }
  if (answered.empty()) result.unsure_below = 0.5;

  // The model on everything, its logits divided by the temperature.
  std::vector<std::size_t> all(messages.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  const raw_weights w = fit(data, all, options);
  if (!w.error.empty()) {
    result.error = "liblinear: " + w.error;
    return result;
  }
  detail::linear_model::parts parts;
  parts.bucket_bits = options.bucket_bits;
  parts.max_n = options.max_n;
  parts.unsure_below = result.unsure_below;
  parts.rules = e.rule_identities();
  parts.numbered.reserve(w.numbered.size());
  for (const double v : w.numbered) parts.numbered.push_back(static_cast<float>(v / t));
  double largest = 0;
  for (const double v : w.grams) largest = std::max(largest, std::abs(v / t));
  parts.gram_scale = largest > 0 ? largest / 127.0 : 1.0;
  parts.buckets = w.buckets;
  parts.gram_weights.reserve(w.grams.size());
  for (const double v : w.grams) {
    const double q = std::round(v / t / parts.gram_scale);
    parts.gram_weights.push_back(static_cast<std::int8_t>(std::clamp(q, -127.0, 127.0)));
  }
  char line[200];
  std::snprintf(line, sizeof line,
                "; C=%g class_balance=%g bucket_bits=%d min_messages=%d "
                "max_n=%d idf=%d rule_value=%g temperature=%.3f",
                options.c, options.class_balance, options.bucket_bits, options.min_messages,
                options.max_n, options.idf ? 1 : 0, options.rule_value, t);
  parts.trained_on = trained_on + line;
  result.buckets = parts.buckets.size();
  result.model = detail::linear_model::write(parts);
  return result;
}

}  // namespace shouhou::intents
