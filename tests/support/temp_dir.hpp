#pragma once
// A fresh folder for one test under $SHOUHOU_TEST_TMP (set by ctest to the build tree) or the
// system's temp folder, named after the test, removed with everything in it when the test ends.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace shouhou::testing {

class temp_dir {
 public:
  temp_dir() {
    const char* base = std::getenv("SHOUHOU_TEST_TMP");
    const std::filesystem::path root = base != nullptr && *base != '\0'
                                           ? std::filesystem::path(base)
                                           : std::filesystem::temp_directory_path();
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "test";
    if (test != nullptr) name = std::string(test->test_suite_name()) + "-" + test->name();
    path_ = root / (name + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string db() const { return file("shouhou.db"); }

 private:
  std::filesystem::path path_;
};

}  // namespace shouhou::testing
