// Supervisors edit the intent files by hand, so the reader meets every kind of broken text. The
// shipped files, mangled in many seeded ways, must never crash or throw the loader, and must give
// either a working engine or errors that point into the file.

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "intents/detail/intent_file.hpp"
#include "intents/engine.hpp"

namespace shouhou::intents {
namespace {

namespace fs = std::filesystem;

// Pieces that break YAML, flow mappings, regexes, numbers or UTF-8 when dropped anywhere.
const std::vector<std::string> k_splinters = {
    "{", "}", "[", "]", ":", "\"", "'", "\\", "(", ")", "|", "*", "?", "{0,8}", "\t", "\n", "#",
    "---", "- ", "re: ", "text: ", "weight: ", "weight: -3", "weight: 1e9", "veto: maybe",
    "fallback: 1", "threshold: x", "reason: ", "flag: ", "\xff", "\xe4\xb8", "\xef\xbc\x8c", "ａ",
    "四十八", "&anchor", "*alias", "!!binary", "<<: ", "%YAML 1.2", std::string(1, '\0')};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// One random change: drop, insert or replace bytes, cut the file, or move, repeat and drop lines.
std::string mangle(const std::string& text, std::mt19937& rng) {
  const auto pick = [&](std::size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  std::string out = text;
  const std::size_t changes = 1 + pick(3);
  for (std::size_t c = 0; c < changes; ++c) {
    switch (pick(7)) {
      case 0:  // drop a few bytes (may split a UTF-8 character)
        if (!out.empty()) out.erase(pick(out.size()), 1 + pick(6));
        break;
      case 1:
        out.insert(pick(out.size() + 1), k_splinters[pick(k_splinters.size())]);
        break;
      case 2:
        if (!out.empty()) out[pick(out.size())] = static_cast<char>(pick(256));
        break;
      case 3:
        out.resize(pick(out.size() + 1));
        break;
      default: {
        auto lines = lines_of(out);
        if (lines.empty()) break;
        const std::size_t a = pick(lines.size());
        const std::size_t b = pick(lines.size());
        if (c % 3 == 0) {
          std::swap(lines[a], lines[b]);
        } else if (c % 3 == 1) {
          lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(a), lines[b]);
        } else {
          lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(a));
        }
        out = joined(lines);
      }
    }
  }
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> shipped_files() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(SHOUHOU_SHIPPED_INTENTS)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every error names the file it was given and a place inside the text (or 0: the whole file).
void expect_located(const std::vector<file_error>& errors, const std::string& file,
                    const std::string& text) {
  const int lines = static_cast<int>(lines_of(text).size()) + 1;
  for (const auto& e : errors) {
    EXPECT_EQ(e.file, file);
    EXPECT_GE(e.line, 0) << e.to_string();
    EXPECT_LE(e.line, lines) << e.to_string();
    EXPECT_GE(e.column, 0) << e.to_string();
    EXPECT_FALSE(e.message.empty()) << e.to_string();
  }
}

TEST(IntentFileFuzz, MangledShippedFilesGiveLocatedErrorsNeverACrash) {
  std::mt19937 rng(20261122);
  const auto files = shipped_files();
  ASSERT_GE(files.size(), 13u);
  std::size_t broken = 0;
  std::size_t runs = 0;
  for (const auto& path : files) {
    const std::string original = read(path);
    const std::string name = path.filename().string();
    for (int i = 0; i < 250; ++i) {
      const std::string text = mangle(original, rng);
      detail::intent_files out;
      std::vector<file_error> errors;
      ASSERT_NO_THROW(detail::read_intent_text(name, text, out, errors)) << name << " #" << i;
      expect_located(errors, name, text);
      if (::testing::Test::HasFailure()) {
        FAIL() << "the mangled " << name << " (#" << i << ") was:\n" << text;
      }
      broken += errors.empty() ? 0 : 1;
      ++runs;
    }
  }
  // The mangling must really break files, or the test proves nothing.
  EXPECT_GT(broken, runs / 4);
}

TEST(IntentFileFuzz, TheLoaderReturnsAnEngineOrErrorsForMangledFolders) {
  std::mt19937 rng(7);
  const auto files = shipped_files();
  const char* env = std::getenv("SHOUHOU_TEST_TMP");
  const fs::path dir = (env != nullptr ? fs::path(env) : fs::temp_directory_path()) /
                       ("intents_fuzz_" + std::to_string(::getpid()));
  std::size_t loaded = 0;
  std::size_t refused = 0;
  for (int i = 0; i < 60; ++i) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path& victim = files[static_cast<std::size_t>(i) % files.size()];
    for (const auto& path : files) {
      std::ofstream(dir / path.filename(), std::ios::binary)
          << (path == victim ? mangle(read(path), rng) : read(path));
    }
    engine::load_result r;
    ASSERT_NO_THROW(
        r = engine::load(dir, engine_options{.model_weight = 0, .unsure_below = std::nullopt}))
        << victim;
    EXPECT_NE(r.engine == nullptr, r.errors.empty()) << victim;
    if (r.engine) {
      ++loaded;
      EXPECT_NO_THROW(r.engine->classify("收到的杯子碎了,我要退货", true));
    } else {
      ++refused;
      for (const auto& e : r.errors) EXPECT_FALSE(e.message.empty()) << e.to_string();
    }
  }
  fs::remove_all(dir);
  EXPECT_GT(refused, 0u);
  EXPECT_GT(loaded + refused, 0u);
}

}  // namespace
}  // namespace shouhou::intents
