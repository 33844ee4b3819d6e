#include "connectors/evidence/multipart.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace shouhou::connectors::evidence {
namespace {

using namespace std::string_literals;

const std::string k_boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
const std::string k_content_type = "multipart/form-data; boundary=" + k_boundary;

struct part_record {
  part_info info;
  std::string data;
  bool ended = false;
};

// Records every callback; checks they come in a legal order.
struct recorder {
  std::vector<part_record> parts;
  bool order_ok = true;
  std::size_t data_calls = 0;

  multipart_callbacks callbacks() {
    return {[this](const part_info& p) -> status {
              if (!parts.empty() && !parts.back().ended) order_ok = false;
              parts.push_back({p, {}, false});
              return {};
            },
            [this](std::string_view d) -> status {
              if (parts.empty() || parts.back().ended || d.empty()) order_ok = false;
              if (!parts.empty()) parts.back().data += d;
              ++data_calls;
              return {};
            },
            [this]() -> status {
              if (parts.empty() || parts.back().ended) order_ok = false;
              if (!parts.empty()) parts.back().ended = true;
              return {};
            }};
  }
};

std::string file_part(const std::string& name, const std::string& filename, const std::string& type,
                      const std::string& data) {
  return "--" + k_boundary + "\r\nContent-Disposition: form-data; name=\"" + name +
         "\"; filename=\"" + filename + "\"\r\nContent-Type: " + type + "\r\n\r\n" + data + "\r\n";
}

std::string field_part(const std::string& name, const std::string& value) {
  return "--" + k_boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" +
         value + "\r\n";
}

std::string closing() { return "--" + k_boundary + "--\r\n"; }

multipart_parser make(recorder& rec, multipart_limits limits = {}) {
  auto p = multipart_parser::create(k_content_type, rec.callbacks(), limits);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return std::move(p).value();
}

// Data that keeps almost matching the delimiter.
const std::string k_almost = k_boundary.substr(0, k_boundary.size() - 1);
const std::string k_tricky = "line\r\n--" + k_boundary.substr(0, 10) + "\r\r\n--\r\n-" + "\r\n--" +
                             k_almost + "Y\r\n-\r\n--" + k_almost + "\r\n--" + k_almost;

TEST(EvidenceMultipart, BoundaryFromContentType) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc").value(), "abc");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;BOUNDARY=\"a b:c\"").value(), "a b:c");
  EXPECT_EQ(multipart_boundary("multipart/form-data; charset=utf-8; boundary=x; ").value(), "x");
  for (const char* bad :
       {"multipart/form-data",
        "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
        "multipart/mixed; boundary=abc", "image/jpeg", "", "multipart/form-data; boundary=\"abc",
        "multipart/form-data; boundary=a;boundary=b", "multipart/form-data; boundary=a<b"}) {
    auto r = multipart_boundary(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, errc::malformed);
    }
  }
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')).ok());
  EXPECT_TRUE(multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'a')).ok());
  auto missing = multipart_parser::create("multipart/form-data", recorder().callbacks());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "multipart Content-Type has no boundary");
}

TEST(EvidenceMultipart, SingleFile) {
  recorder rec;
  auto p = make(rec);
  const std::string body = file_part("file", "IMG_0001.JPG", "image/jpeg",
                                     "\xFF\xD8\xFF"
                                     "data") +
                           closing();
  ASSERT_TRUE(p.feed(body).ok());
  ASSERT_TRUE(p.finish().ok());
  EXPECT_TRUE(p.done());
  ASSERT_EQ(rec.parts.size(), 1u);
  EXPECT_TRUE(rec.order_ok);
  EXPECT_EQ(rec.parts[0].info.name, "file");
  EXPECT_EQ(rec.parts[0].info.filename, "IMG_0001.JPG");
  EXPECT_EQ(rec.parts[0].info.content_type, "image/jpeg");
  EXPECT_EQ(rec.parts[0].data,
            "\xFF\xD8\xFF"
            "data");
  EXPECT_TRUE(rec.parts[0].ended);
}

std::string several_body() {
  return "preamble ignored\r\n" + field_part("item", "damage_photo") +
         file_part("files", "照片 1.jpg", "image/jpeg", std::string("\0\r\n\xFF", 4) + k_tricky) +
         file_part("files", "", "application/octet-stream", "") + field_part("note", "") +
         file_part("files", "b.mp4", "video/mp4", "\r\n--" + k_boundary.substr(0, 5) + "\r") +
         closing() + "epilogue ignored --" + k_boundary + "\r\n";
}

void expect_several(const recorder& rec) {
  ASSERT_EQ(rec.parts.size(), 5u);
  EXPECT_TRUE(rec.order_ok);
  EXPECT_EQ(rec.parts[0].info.name, "item");
  EXPECT_FALSE(rec.parts[0].info.filename.has_value());
  EXPECT_EQ(rec.parts[0].data, "damage_photo");
  EXPECT_EQ(rec.parts[1].info.filename, "照片 1.jpg");
  EXPECT_EQ(rec.parts[1].data, std::string("\0\r\n\xFF", 4) + k_tricky);
  EXPECT_EQ(rec.parts[2].info.filename, "");
  EXPECT_EQ(rec.parts[2].data, "");
  EXPECT_EQ(rec.parts[3].info.name, "note");
  EXPECT_EQ(rec.parts[3].data, "");
  EXPECT_EQ(rec.parts[4].data, "\r\n--" + k_boundary.substr(0, 5) + "\r");
  for (const auto& part : rec.parts) EXPECT_TRUE(part.ended);
}

TEST(EvidenceMultipart, SeveralFilesAndFields) {
  recorder rec;
  auto p = make(rec);
  ASSERT_TRUE(p.feed(several_body()).ok());
  ASSERT_TRUE(p.finish().ok());
  expect_several(rec);
}

TEST(EvidenceMultipart, EverySplitPoint) {
  const std::string body = several_body();
  for (std::size_t k = 0; k <= body.size(); ++k) {
    recorder rec;
    auto p = make(rec);
    ASSERT_TRUE(p.feed(body.substr(0, k)).ok()) << k;
    ASSERT_TRUE(p.feed(body.substr(k)).ok()) << k;
    ASSERT_TRUE(p.finish().ok()) << k;
    expect_several(rec);
    if (::testing::Test::HasFailure()) FAIL() << "split at " << k;
  }
}

TEST(EvidenceMultipart, EveryPairOfSplitPointsOfASmallBody) {
  const std::string body = field_part("a", "x\r\n--" + k_boundary.substr(0, 3)) +
                           file_part("f", "n", "t", "\r\n--\r\n") + closing();
  for (std::size_t i = 0; i <= body.size(); ++i) {
    for (std::size_t j = i; j <= body.size(); ++j) {
      recorder rec;
      auto p = make(rec);
      ASSERT_TRUE(p.feed(body.substr(0, i)).ok());
      ASSERT_TRUE(p.feed(body.substr(i, j - i)).ok());
      ASSERT_TRUE(p.feed(body.substr(j)).ok());
      ASSERT_TRUE(p.finish().ok());
      ASSERT_EQ(rec.parts.size(), 2u) << i << "," << j;
      ASSERT_EQ(rec.parts[0].data, "x\r\n--" + k_boundary.substr(0, 3)) << i << "," << j;
      ASSERT_EQ(rec.parts[1].data, "\r\n--\r\n") << i << "," << j;
    }
  }
}

TEST(EvidenceMultipart, OneByteAtATimeAndRandomData) {
  std::mt19937 rng(12345);
  // Random bytes drawn mostly from the delimiter's own characters, to stress partial matches.
  const std::string alphabet = "\r\n-" + k_boundary.substr(0, 8) + "\xFF";
  for (int round = 0; round < 30; ++round) {
    std::string data;
    const std::size_t n = rng() % 3000;
    for (std::size_t i = 0; i < n; ++i) data.push_back(alphabet[rng() % alphabet.size()]);
    const std::string body = file_part("f", "r.bin", "application/octet-stream", data) + closing();
    recorder rec;
    auto p = make(rec);
    for (std::size_t at = 0; at < body.size();) {
      const std::size_t step = round == 0 ? 1 : 1 + rng() % 200;
      ASSERT_TRUE(p.feed(body.substr(at, step)).ok());
      at += step;
    }
    ASSERT_TRUE(p.finish().ok());
    ASSERT_EQ(rec.parts.size(), 1u);
    ASSERT_EQ(rec.parts[0].data, data) << "round " << round;
  }
}

TEST(EvidenceMultipart, TruncatedBodyIsAnErrorAtEveryCut) {
  const std::string body =
      field_part("item", "x") + file_part("f", "a.jpg", "image/jpeg", "abc") + closing();
  const std::size_t complete = body.size() - 2;  // after the closing "--"
  for (std::size_t k = 0; k < complete; ++k) {
    recorder rec;
    auto p = make(rec);
    ASSERT_TRUE(p.feed(body.substr(0, k)).ok()) << k;
    auto r = p.finish();
    ASSERT_FALSE(r.ok()) << k;
    EXPECT_EQ(r.error().code, errc::truncated);
    EXPECT_NE(r.error().message.find("ended before the closing multipart boundary"),
              std::string::npos);
  }
  recorder rec;
  auto p = make(rec);
  ASSERT_TRUE(p.feed(body.substr(0, complete)).ok());
  EXPECT_TRUE(p.finish().ok());
}

TEST(EvidenceMultipart, HugePartStaysBounded) {
  recorder rec;
  std::size_t delivered = 0;
  multipart_callbacks cb{[](const part_info&) -> status { return {}; },
                         [&](std::string_view d) -> status {
                           delivered += d.size();
                           return {};
                         },
                         []() -> status { return {}; }};
  auto created = multipart_parser::create(k_content_type, cb);
  ASSERT_TRUE(created.ok());
  auto& p = created.value();
  const std::string head =
      "--" + k_boundary +
      "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"v.mp4\"\r\n\r\n";
  ASSERT_TRUE(p.feed(head).ok());
  // 64 MiB in 64 KiB chunks, each ending in a partial delimiter.
  std::string chunk(64 * 1024, 'v');
  chunk.replace(chunk.size() - 8, 8, "\r\n--" + k_boundary.substr(0, 4));
  const std::size_t before = p.buffered_bytes();
  std::size_t fed = 0;
  for (int i = 0; i < 1024; ++i) {
    ASSERT_TRUE(p.feed(chunk).ok());
    fed += chunk.size();
    // Everything but a possible delimiter prefix has been handed on already.
    ASSERT_GE(delivered + k_boundary.size() + 4, fed);
    ASSERT_EQ(p.buffered_bytes(), before);
  }
  EXPECT_LE(p.buffered_bytes(), multipart_limits{}.max_header_bytes);
  ASSERT_TRUE(p.feed("\r\n" + closing()).ok());
  ASSERT_TRUE(p.finish().ok());
  EXPECT_EQ(delivered, fed);
}

TEST(EvidenceMultipart, Limits) {
  {
    recorder rec;
    multipart_limits lim;
    lim.max_parts = 2;
    auto p = make(rec, lim);
    auto r = p.feed(field_part("a", "1") + field_part("b", "2") + field_part("c", "3") + closing());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, errc::too_many);
    EXPECT_EQ(rec.parts.size(), 2u);
    EXPECT_EQ(p.feed("more").error().code, errc::too_many);  // stays failed
  }
  {
    recorder rec;
    multipart_limits lim;
    lim.max_header_bytes = 100;
    auto p = make(rec, lim);
    auto r = p.feed("--" + k_boundary + "\r\nContent-Disposition: form-data; name=\"" +
                    std::string(200, 'n') + "\"\r\n\r\n");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, errc::too_large);
    EXPECT_TRUE(rec.parts.empty());
  }
  {
    recorder rec;
    multipart_limits lim;
    lim.max_preamble_bytes = 100;
    auto p = make(rec, lim);
    auto r = p.feed(std::string(500, 'x'));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, errc::malformed);
  }
}

TEST(EvidenceMultipart, MalformedParts) {
  const std::string b = "--" + k_boundary;
  for (const std::string& body : {
           b + "\r\n\r\ndata\r\n" + closing(),                              // no headers
           b + "\r\nContent-Type: text/plain\r\n\r\ndata\r\n" + closing(),  // no disposition
           b + "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n" + closing(),
           b + "\r\nContent-Disposition: form-data\r\n\r\nx\r\n" + closing(),  // no name
           b + "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n" + closing(),
           b + "\r\nno colon here\r\n\r\nx\r\n" + closing(),
           b + "X\r\n",  // junk after boundary
           b + "\n",
       }) {
    recorder rec;
    auto p = make(rec);
    auto r = p.feed(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, errc::malformed) << body;
  }
}

TEST(EvidenceMultipart, CallbackErrorStopsParsing) {
  int data_calls = 0;
  multipart_callbacks cb{[](const part_info&) -> status { return {}; },
                         [&](std::string_view) -> status {
                           ++data_calls;
                           return error{errc::too_large, "file is larger than the limit"};
                         },
                         []() -> status { return {}; }};
  auto p = multipart_parser::create(k_content_type, cb).value();
  auto r = p.feed(file_part("f", "a", "b", "0123456789") + closing());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::too_large);
  EXPECT_EQ(data_calls, 1);
  EXPECT_EQ(p.finish().error().code, errc::too_large);
}

TEST(EvidenceMultipart, ContentDisposition) {
  auto cd = parse_content_disposition(
      "form-data; name=files; filename=\"C:\\fakepath\\a.jpg\"; filename*=UTF-8''%E7%85%A7.jpg");
  ASSERT_TRUE(cd.ok()) << cd.error().message;
  EXPECT_EQ(cd->type, "form-data");
  EXPECT_EQ(cd->name, "files");
  EXPECT_EQ(cd->filename, "照.jpg");
  // Backslashes stay literal, so the file-name check sees a Windows path for what it is.
  auto win = parse_content_disposition("form-data; name=\"f\"; filename=\"..\\..\\x.jpg\"");
  ASSERT_TRUE(win.ok());
  EXPECT_EQ(win->filename, "..\\..\\x.jpg");
  EXPECT_FALSE(parse_content_disposition("form-data; name=a; name=b").ok());
  EXPECT_FALSE(parse_content_disposition("form-data; filename*=latin1''x").ok());
  EXPECT_FALSE(parse_content_disposition("").ok());
}

TEST(EvidenceMultipart, TransportPaddingAfterBoundary) {
  recorder rec;
  auto p = make(rec);
  ASSERT_TRUE(p.feed("--" + k_boundary +
                     "  \t\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--" + k_boundary +
                     "--")
                  .ok());
  ASSERT_TRUE(p.finish().ok());
  ASSERT_EQ(rec.parts.size(), 1u);
  EXPECT_EQ(rec.parts[0].data, "v");
}

}  // namespace
}  // namespace shouhou::connectors::evidence
