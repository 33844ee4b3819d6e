#pragma once
// Figures of how sure answers are against how often they are right, for `intents eval`: what is
// answered at a confidence threshold, and the reliability of the confidences.

#include <array>
#include <cstddef>
#include <vector>

namespace shouhou::intents {

struct judged {
  double confidence = 0;  // of the answer given
  bool right = false;
};

// Of the answers at least `threshold` sure: which part of all they are, and which part of them
// is right (0 when there are none).
struct coverage_point {
  double threshold = 0, coverage = 0, accuracy = 0;
  std::size_t answered = 0;
};
coverage_point at_threshold(const std::vector<judged>& answers, double threshold);

// Reliability in ten bins of confidence ([0, 0.1), ..., [0.9, 1.0]): per bin the answers, their
// mean confidence and how many are right; and the expected calibration error, the mean over the
// answers of |accuracy of its bin - mean confidence of its bin|.
struct reliability_bin {
  std::size_t answers = 0, right = 0;
  double mean_confidence = 0;
  double accuracy() const {
    return answers ? static_cast<double>(right) / static_cast<double>(answers) : 0;
  }
};
struct reliability {
  std::array<reliability_bin, 10> bins{};
  double expected_calibration_error = 0;
};
reliability calibration(const std::vector<judged>& answers);

}  // namespace shouhou::intents
