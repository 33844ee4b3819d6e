#include "connectors/evidence/filename.hpp"

#include <gtest/gtest.h>

#include <string>

namespace shouhou::connectors::evidence {
namespace {

using namespace std::string_literals;

void expect_refused(const std::string& name, std::string_view why) {
  auto r = check_filename(name);
  ASSERT_FALSE(r.ok()) << name;
  EXPECT_EQ(r.error().code, errc::malformed);
  EXPECT_EQ(r.error().message, "file name refused: " + std::string(why)) << name;
}

TEST(EvidenceFilename, AcceptsOrdinaryNamesUnchanged) {
  for (const std::string& name : {"IMG_0001.JPG"s, "照片 2024-05-01.jpg"s, "a..b.jpg"s, "..hidden"s,
                                  "unboxing (1).mp4"s, "😀.png"s, std::string(255, 'a')}) {
    auto r = check_filename(name);
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().message;
    EXPECT_EQ(r.value(), name);
  }
}

TEST(EvidenceFilename, RefusesBadNames) {
  expect_refused("", "empty");
  expect_refused(std::string(256, 'a'), "longer than 255 bytes");
  expect_refused(".", "'.' and '..' are not file names");
  expect_refused("..", "'.' and '..' are not file names");
  expect_refused("../../etc/passwd", "contains a path separator");
  expect_refused("photos/a.jpg", "contains a path separator");
  expect_refused("C:\\Users\\me\\a.jpg", "contains a path separator");
  expect_refused("..\\a.jpg", "contains a path separator");
  expect_refused("a\0b.jpg"s, "contains a control character");
  expect_refused("a\nb.jpg", "contains a control character");
  expect_refused("a\x1b[31m.jpg", "contains a control character");
  expect_refused("a\x7f.jpg", "contains a control character");
  expect_refused("a\xC2\x85.jpg", "contains a control character");  // U+0085, C1
  expect_refused("a\xC2\x9F.jpg", "contains a control character");  // U+009F, C1
  expect_refused("invoice_\xE2\x80\xAEgpj.exe", "contains a text direction control character");
  expect_refused("a\xE2\x81\xA6.jpg", "contains a text direction control character");
}

TEST(EvidenceFilename, RefusesInvalidUtf8) {
  for (const std::string& bad :
       {"\xFF.jpg"s, "\xC0\xAF.jpg"s /* overlong '/' */, "\xE0\x80\xAF.jpg"s,
        "\xED\xA0\x80.jpg"s /* surrogate */, "\xF4\x90\x80\x80.jpg"s /* above U+10FFFF */,
        "a\xE7\x85"s, "\x80.jpg"s}) {
    expect_refused(bad, "not valid UTF-8");
  }
}

TEST(EvidenceFilename, ContentDispositionValue) {
  EXPECT_EQ(content_disposition_value("a b.jpg"),
            "attachment; filename=\"a b.jpg\"; filename*=UTF-8''a%20b.jpg");
  EXPECT_EQ(content_disposition_value("照.jpg", true),
            "inline; filename=\"___.jpg\"; filename*=UTF-8''%E7%85%A7.jpg");
  EXPECT_EQ(content_disposition_value("q\"%.pdf"),
            "attachment; filename=\"q__.pdf\"; filename*=UTF-8''q%22%25.pdf");
  EXPECT_EQ(content_disposition_value(""), "attachment");
}

}  // namespace
}  // namespace shouhou::connectors::evidence
