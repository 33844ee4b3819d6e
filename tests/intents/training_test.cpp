// The trained keyword model (issue 12): training, its file, cross-validation, the figures of
// calibration and coverage. Every message here was written for these tests.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "intents/commands.hpp"
#include "intents/detail/intent_file.hpp"
#include "intents/detail/linear_model.hpp"
#include "intents/engine.hpp"
#include "intents/measures.hpp"
#include "intents/reasons.hpp"
#include "intents/training.hpp"
#include "support/temp_dir.hpp"

namespace shouhou::intents {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;


void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A small folder: three reasons with a rule each.
void write_folder(const fs::path& dir) {
  fs::create_directories(dir);
  write(dir / "r.yaml",
        "reason: damaged\npatterns:\n  - {re: \"碎了|裂了\", weight: 3}\n---\n"
        "reason: wrong_item\npatterns:\n  - {re: \"发错\", weight: 3}\n---\n"
        "reason: not_received\nkeywords:\n  - 没收到\n");
}

// A fresh folder holding the small intent files (intents/) and a corpus (c.jsonl).
class training_folder {
 public:
  explicit training_folder(const std::string& corpus) {
    write_folder(path() / "intents");
    write(path() / "c.jsonl", corpus);
  }
  const fs::path& path() const { return folder_.path(); }

 private:
  shouhou::testing::temp_dir folder_;
};

std::string line(const std::string& text, const std::string& intent) {
  return nlohmann::json({{"text", text}, {"intent", intent}, {"sample", "random"}}).dump() + "\n";
}

// Sentences of four reasons, each several times in other words.
std::string small_corpus() {
  std::string s;
  for (const char* t : {"杯子碎了", "盘子裂了一道缝", "到手就是碎的", "碗摔得粉碎", "玻璃全碎了",
                        "盒子里的瓶子碎了"}) {
    s += line(t, "damaged");
  }
  for (const char* t : {"发错颜色了", "我要的蓝色给我发成红色", "尺码发错了", "款式不对发错货",
                        "发来的型号不是我买的", "发错货了吧"}) {
    s += line(t, "wrong_item");
  }
  for (const char* t : {"快递一直没收到", "等了十天还没到", "物流好几天不动", "包裹到哪里了",
                        "显示签收但我没收到", "东西迟迟不到"}) {
    s += line(t, "not_received");
  }
  for (const char* t :
       {"你好在吗", "请问有发票吗", "谢谢客服", "能便宜点吗", "这个什么时候上新", "好的知道了"}) {
    s += line(t, "other");
  }
  return s;
}

training_options small_options() {
  training_options o;
  o.bucket_bits = 14;
  o.min_messages = 1;
  o.calibration_folds = 2;
  return o;
}

train_request train_into(const fs::path& dir, const fs::path& corpus) {
  train_request r;
  r.corpora = {corpus};
  r.intents = dir;
  r.training = small_options();
  return r;
}

TEST(Training, TheSameInputsGiveTheSameFileByteForByte) {
  const training_folder folder(small_corpus());
  const fs::path& dir = folder.path();
  std::ostringstream out, err;
  auto r = train_into(dir / "intents", dir / "c.jsonl");
  r.out = dir / "a.model";
  ASSERT_EQ(train_command(r, out, err), 0) << err.str();
  r.training.threads = 4;
  ASSERT_EQ(train_command(r, out, err), 0) << err.str();
  r.out = dir / "b.model";
  r.training.threads = 1;  // one thread or several: the same weights
  ASSERT_EQ(train_command(r, out, err), 0) << err.str();
  EXPECT_FALSE(read(dir / "a.model").empty());
  EXPECT_EQ(read(dir / "a.model"), read(dir / "b.model"));
  EXPECT_FALSE(fs::exists(dir / "a.model.partial"));
}

TEST(Training, AModelOnATinyCorpusClassifiesItsOwnSentences) {
  const training_folder folder(small_corpus());
  const fs::path& dir = folder.path();
  std::ostringstream out, err;
  ASSERT_EQ(train_command(train_into(dir / "intents", dir / "c.jsonl"), out, err), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("keyword.model"));
  const auto loaded = engine::load(dir / "intents");
  ASSERT_TRUE(loaded.engine) << to_string(loaded.errors);
  ASSERT_NE(loaded.engine->model(), nullptr);
  EXPECT_TRUE(loaded.engine->stats().trained_model);
  std::vector<labelled_message> lines;
  std::size_t skipped = 0;
  std::string error;
  ASSERT_TRUE(read_corpus(dir / "c.jsonl", lines, skipped, error)) << error;
  for (const auto& l : lines) {
    const classification c = loaded.engine->classify(l.text, true);
    EXPECT_EQ(c.reason, k_reasons[l.intent]) << l.text;
    EXPECT_GT(c.confidence, 0.0);
    EXPECT_LE(c.confidence, 1.0);
    // The explanation says what the model made of the rules and how sure it is.
    EXPECT_THAT(c.explanation.back(), HasSubstr("trained model"));
  }
  const classification c = loaded.engine->classify("杯子碎了", true);
  EXPECT_THAT(c.explanation.front(), HasSubstr("learnt"));
  // The candidates are probabilities, best first.
  double total = 0;
  for (std::size_t k = 0; k < c.candidates.size(); ++k) {
    total += c.candidates[k].confidence;
    if (k > 0) {
      EXPECT_LE(c.candidates[k].confidence, c.candidates[k - 1].confidence);
    }
  }
  EXPECT_LE(total, 1.0 + 1e-9);
}

TEST(Training, OptionsOutOfRangeAreRefusedNotTrainedInto) {
  const training_folder folder(small_corpus());
  const fs::path& dir = folder.path();
  for (const auto& change : std::vector<std::function<void(training_options&)>>{
           [](training_options& o) { o.c = 0; }, [](training_options& o) { o.max_n = 6; },
           [](training_options& o) { o.rule_value = 0; }}) {
    auto r = train_into(dir / "intents", dir / "c.jsonl");
    change(r.training);
    std::ostringstream out, err;
    EXPECT_EQ(train_command(r, out, err), k_exit_unusable);
    EXPECT_THAT(err.str(), HasSubstr("out of range"));
  }
  EXPECT_FALSE(fs::exists(dir / "intents" / detail::k_model_file));
}

TEST(Training, TheUnsureThresholdIsTheModelsUnlessTheServerSetsOne) {
  const training_folder folder(small_corpus());
  const fs::path& dir = folder.path();
  std::ostringstream out, err;
  ASSERT_EQ(train_command(train_into(dir / "intents", dir / "c.jsonl"), out, err), 0) << err.str();
  const auto own = engine::load(dir / "intents");
  ASSERT_TRUE(own.engine);
  const double threshold = own.engine->model()->unsure_below();
  const classification c = own.engine->classify("你好在吗");
  EXPECT_EQ(c.unsure, c.confidence < threshold);
  engine_options never;
  never.unsure_below = 0.0;
  EXPECT_FALSE(engine::load(dir / "intents", never).engine->classify("你好在吗").unsure);
  engine_options always;
  always.unsure_below = 1.0;
  EXPECT_TRUE(engine::load(dir / "intents", always).engine->classify("杯子碎了").unsure);
}

// Messages of unique nonsense with random labels: a model can only learn them by heart, so a
// cross-validation that tested on what it trained on would score far above chance.
std::string memorisable_corpus() {
  std::mt19937 rng(7);
  const char* reasons[] = {"damaged", "wrong_item", "not_received", "other"};
  std::string s;
  for (int i = 0; i < 160; ++i) {
    std::string text;
    for (int k = 0; k < 6; ++k) {
      // Characters of the CJK Extension A block, each message its own.
      const char32_t cp = 0x3400 + static_cast<char32_t>(rng() % 6000);
      text += static_cast<char>(0xE0 | (cp >> 12));
      text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      text += static_cast<char>(0x80 | (cp & 0x3F));
    }
    s += line(text, reasons[rng() % 4]);
  }
  return s;
}

TEST(CrossValidation, NeverTrainsOnTheFoldItTests) {
  const training_folder folder(memorisable_corpus());
  const fs::path& dir = folder.path();
  std::ostringstream out, err;
  // Trained on everything and tested on the same lines, the model knows them by heart...
  auto train = train_into(dir / "intents", dir / "c.jsonl");
  train.training.c = 100;
  ASSERT_EQ(train_command(train, out, err), 0) << err.str();
  eval_request plain;
  plain.corpora = {dir / "c.jsonl"};
  plain.intents = dir / "intents";
  plain.json = true;
  std::ostringstream seen;
  ASSERT_EQ(eval_command(plain, seen, err), 0) << err.str();
  EXPECT_GT(nlohmann::json::parse(seen.str())["accuracy"].get<double>(), 0.9);
  // ...while cross-validated it is near chance (a quarter; the largest class is about a third).
  eval_request cv = plain;
  cv.cross_validate = 4;
  cv.training = train.training;
  std::ostringstream held_out;
  ASSERT_EQ(eval_command(cv, held_out, err), 0) << err.str();
  const auto j = nlohmann::json::parse(held_out.str());
  EXPECT_LT(j["accuracy"].get<double>(), 0.5);
  EXPECT_EQ(j["messages"], 160);
}

TEST(CrossValidation, FoldsAreStratifiedAndFixedBySeed) {
  std::vector<std::size_t> labels;
  for (std::size_t i = 0; i < 100; ++i) labels.push_back(i < 60 ? 0 : i < 90 ? 1 : 2);
  const auto folds = stratified_folds(labels, 5, 1);
  EXPECT_EQ(folds, stratified_folds(labels, 5, 1));
  EXPECT_NE(folds, stratified_folds(labels, 5, 2));
  for (int f = 0; f < 5; ++f) {
    std::array<int, 3> per{};
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (folds[i] == f) ++per[labels[i]];
    }
    EXPECT_EQ(per[0], 12);
    EXPECT_EQ(per[1], 6);
    EXPECT_EQ(per[2], 2);
  }
}

TEST(CrossValidation, TheSealedFifthIsMeasuredButNeverListed) {
  const training_folder folder(memorisable_corpus());
  const fs::path& dir = folder.path();
  std::size_t sealed = 0;
  std::vector<labelled_message> lines;
  std::size_t skipped = 0;
  std::string error;
  ASSERT_TRUE(read_corpus(dir / "c.jsonl", lines, skipped, error));
  for (const auto& l : lines) sealed += in_sealed_fifth(l.text, 11);
  EXPECT_GT(sealed, 16u);  // about a fifth of 160
  EXPECT_LT(sealed, 50u);
  eval_request cv;
  cv.corpora = {dir / "c.jsonl"};
  cv.intents = dir / "intents";
  cv.json = true;
  cv.cross_validate = 3;
  cv.sealed_fifth = 11;
  cv.training = small_options();
  std::ostringstream out, err;
  ASSERT_EQ(eval_command(cv, out, err), 0) << err.str();
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["sealed_fifth"]["messages"], sealed);
  for (const auto& m : j["misclassified"]) {
    EXPECT_FALSE(in_sealed_fifth(m["text"].get<std::string>(), 11)) << m.dump();
  }
  EXPECT_TRUE(j["sealed_fifth"]["misclassified"].empty());
}

TEST(ModelFile, ReadsBackWhatWasWritten) {
  detail::linear_model::parts p;
  p.bucket_bits = 10;
  p.max_n = 2;
  p.unsure_below = 0.61;
  p.gram_scale = 0.125;
  p.trained_on = "a test";
  p.rules = {11, 22};
  p.numbered.assign((2 * detail::k_forms + detail::k_extra_features + 1) * detail::k_classes, 0.5f);
  p.buckets = {3, 700};
  p.gram_weights.assign(2 * detail::k_classes, 7);
  const std::string bytes = detail::linear_model::write(p);
  std::string error;
  const auto m = detail::linear_model::read(bytes, error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(detail::linear_model::write(m->contents()), bytes);
  EXPECT_DOUBLE_EQ(m->unsure_below(), 0.61);
  EXPECT_EQ(bytes.find("a test"), bytes.find("trained_on: ") + 12);
}

TEST(ModelFile, ACorruptOrTruncatedFileIsRefusedSayingWhy) {
  const training_folder folder(small_corpus());
  const fs::path& dir = folder.path();
  std::ostringstream out, err;
  ASSERT_EQ(train_command(train_into(dir / "intents", dir / "c.jsonl"), out, err), 0) << err.str();
  const fs::path model = dir / "intents" / detail::k_model_file;
  const std::string good = read(model);
  const auto refused = [&](const std::string& bytes) {
    write(model, bytes);
    const auto loaded = engine::load(dir / "intents");
    EXPECT_FALSE(loaded.engine);
    EXPECT_EQ(loaded.errors.size(), 1u);
    return loaded.errors.empty() ? file_error{} : loaded.errors.front();
  };
  std::string flipped = good;
  flipped[flipped.size() - 5] ^= 0x40;
  file_error e = refused(flipped);
  EXPECT_EQ(e.file, model.string());
  EXPECT_THAT(e.message, HasSubstr("checksum"));
  EXPECT_THAT(refused(good.substr(0, good.size() - 3)).message, HasSubstr("truncated"));
  EXPECT_THAT(refused("hello\n").message, HasSubstr("not a keyword model"));
  EXPECT_THAT(refused("").message, HasSubstr("not a keyword model"));  // an empty file is no model
  // A setting in the header is covered by the checksum too.
  std::string setting = good;
  const std::size_t at = setting.find("unsure_below: 0.");
  ASSERT_NE(at, std::string::npos);
  setting[at + 16] = setting[at + 16] == '1' ? '2' : '1';
  EXPECT_THAT(refused(setting).message, HasSubstr("checksum"));
  EXPECT_THAT(refused(good.substr(0, 40)).message, HasSubstr("corrupt"));
  write(model, good);
  EXPECT_TRUE(engine::load(dir / "intents").engine);
}

TEST(ModelFile, AModelOfOtherRulesIsALocatedError) {
  const training_folder folder(small_corpus());
  const fs::path& dir = folder.path();
  std::ostringstream out, err;
  ASSERT_EQ(train_command(train_into(dir / "intents", dir / "c.jsonl"), out, err), 0) << err.str();
  // A rule changed since training: the error points at it.
  write(dir / "intents" / "r.yaml",
        "reason: damaged\npatterns:\n  - {re: \"碎了|裂了\", weight: 3}\n---\n"
        "reason: wrong_item\npatterns:\n  - {re: \"发错|错发\", weight: 3}\n---\n"
        "reason: not_received\nkeywords:\n  - 没收到\n");
  auto loaded = engine::load(dir / "intents");
  ASSERT_FALSE(loaded.engine);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_THAT(loaded.errors[0].file, HasSubstr("r.yaml"));
  EXPECT_EQ(loaded.errors[0].line, 7);  // the changed pattern
  EXPECT_THAT(loaded.errors[0].message, HasSubstr("intents train"));
  // A rule removed since training: the error names the model file.
  write(dir / "intents" / "r.yaml",
        "reason: damaged\npatterns:\n  - {re: \"碎了|裂了\", weight: 3}\n---\n"
        "reason: wrong_item\npatterns:\n  - {re: \"发错\", weight: 3}\n");
  loaded = engine::load(dir / "intents");
  ASSERT_FALSE(loaded.engine);
  EXPECT_THAT(loaded.errors[0].file, HasSubstr(detail::k_model_file));
  EXPECT_THAT(loaded.errors[0].message, HasSubstr("no longer"));
  // Training loads the rules whatever the model: it retrains.
  ASSERT_EQ(train_command(train_into(dir / "intents", dir / "c.jsonl"), out, err), 0) << err.str();
  EXPECT_TRUE(engine::load(dir / "intents").engine);
}

TEST(Measures, CoverageAndCalibrationOfAHandCheckedExample) {
  const std::vector<judged> answers = {
      {0.95, true}, {0.95, true}, {0.85, false}, {0.55, true}, {0.35, false}};
  const coverage_point p = at_threshold(answers, 0.5);
  EXPECT_EQ(p.answered, 4u);
  EXPECT_DOUBLE_EQ(p.coverage, 0.8);
  EXPECT_DOUBLE_EQ(p.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(at_threshold(answers, 0.9).accuracy, 1.0);
  EXPECT_EQ(at_threshold(answers, 0.99).answered, 0u);
  const reliability r = calibration(answers);
  EXPECT_EQ(r.bins[9].answers, 2u);
  EXPECT_DOUBLE_EQ(r.bins[9].mean_confidence, 0.95);
  EXPECT_DOUBLE_EQ(r.bins[9].accuracy(), 1.0);
  EXPECT_EQ(r.bins[8].answers, 1u);
  EXPECT_EQ(r.bins[5].right, 1u);
  EXPECT_EQ(r.bins[0].answers, 0u);
  // (2 x |1 - 0.95| + |0 - 0.85| + |1 - 0.55| + |0 - 0.35|) / 5
  EXPECT_NEAR(r.expected_calibration_error, 0.35, 1e-12);
  EXPECT_EQ(calibration({{1.0, true}}).bins[9].answers, 1u);  // 1.0 falls in the last bin
}

}  // namespace
}  // namespace shouhou::intents
