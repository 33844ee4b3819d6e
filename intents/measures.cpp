#include "intents/measures.hpp"

#include <algorithm>
#include <cmath>

namespace shouhou::intents {

coverage_point at_threshold(const std::vector<judged>& answers, double threshold) {
  coverage_point p;
  p.threshold = threshold;
  std::size_t right = 0;
  for (const judged& a : answers) {
    if (a.confidence < threshold) continue;
    ++p.answered;
    right += a.right;
  }
  if (!answers.empty()) {
    p.coverage = static_cast<double>(p.answered) / static_cast<double>(answers.size());
  }
  if (p.answered) p.accuracy = static_cast<double>(right) / static_cast<double>(p.answered);
  return p;
}

reliability calibration(const std::vector<judged>& answers) {
  reliability r;
  for (const judged& a : answers) {
    const auto b = static_cast<std::size_t>(std::clamp(a.confidence * 10.0, 0.0, 9.0));
    ++r.bins[b].answers;
    r.bins[b].right += a.right;
    r.bins[b].mean_confidence += a.confidence;
  }
  for (auto& b : r.bins) {
    if (b.answers == 0) continue;
    b.mean_confidence /= static_cast<double>(b.answers);
    r.expected_calibration_error += static_cast<double>(b.answers) /
                                    static_cast<double>(answers.size()) *
                                    std::abs(b.accuracy() - b.mean_confidence);
  }
  return r;
}

}  // namespace shouhou::intents
