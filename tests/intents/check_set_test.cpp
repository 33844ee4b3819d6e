// The shipped intent files on intents/checks/, four labelled sets written for this project by
// writers who had not seen the intent files: own.jsonl and fresh.jsonl (now also used to find
// wording the files miss), blind.jsonl and blind2.jsonl (only measured). A floor on each catches
// an edit of the intent files that makes the engine worse on wording it was not shaped for. The
// floors sit a little under the measured figures (intents/README.md); raise them when the engine
// gets better.

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "intents/commands.hpp"

namespace shouhou::intents {
namespace {

struct check_set {
  const char* name;  // intents/checks/<name>.jsonl
  int messages;
  double min_accuracy;
  double min_macro_f1;
};

double figure(const std::string& report, const std::string& name) {
  const std::size_t at = report.find("\n" + name + ": ");
  if (at == std::string::npos) return -1.0;
  return std::stod(report.substr(at + name.size() + 3));
}

class CheckSet : public ::testing::TestWithParam<check_set> {};

TEST_P(CheckSet, TheShippedFilesStayAboveTheFloor) {
  const std::filesystem::path dir = SHOUHOU_SHIPPED_INTENTS;
  const auto corpus = dir.parent_path() / "checks" / (std::string(GetParam().name) + ".jsonl");
  std::ostringstream out;
  std::ostringstream err;
  eval_request request;
  request.corpora = {corpus};
  request.intents = dir;
  request.min_macro_f1 = GetParam().min_macro_f1;
  ASSERT_NE(eval_command(request, out, err), k_exit_unusable) << err.str();
  // Only the figures are shown: the misclassified lines of the blind set are not to be read.
  const std::string report = out.str();
  const std::string figures = report.substr(0, report.find("\nreason "));
  EXPECT_GE(figure(report, "accuracy"), GetParam().min_accuracy) << figures;
  EXPECT_GE(figure(report, "macro-F1"), GetParam().min_macro_f1) << figures;
  EXPECT_NE(report.find(" (" + std::to_string(GetParam().messages) + " messages)"),
            std::string::npos)
      << figures;
}

INSTANTIATE_TEST_SUITE_P(HandWritten, CheckSet,
                         ::testing::Values(check_set{"own", 390, 0.95, 0.95},
                                           check_set{"fresh", 702, 0.93, 0.93},
                                           check_set{"blind", 390, 0.79, 0.80},
                                           check_set{"blind2", 312, 0.85, 0.85}),
                         [](const ::testing::TestParamInfo<check_set>& set) {
                           return std::string(set.param.name);
                         });

}  // namespace
}  // namespace shouhou::intents
