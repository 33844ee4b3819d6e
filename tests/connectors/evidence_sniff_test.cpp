#include "connectors/evidence/sniff.hpp"

#include <gtest/gtest.h>

#include <string>

namespace shouhou::connectors::evidence {
namespace {

using namespace std::string_literals;

// The signature followed by filler up to k_sniff_bytes, as the blob store would pass it.
std::string head(std::string signature, char fill = '\0') {
  if (signature.size() < k_sniff_bytes) signature.resize(k_sniff_bytes, fill);
  return signature;
}

std::string ftyp(std::string major, std::string compatible = "") {
  std::string box = "\0\0\0\0ftyp"s + major + "\0\0\0\0"s + compatible;
  box[3] = static_cast<char>(box.size());
  return head(box);
}

void expect_type(const std::string& bytes, evidence_kind kind, std::string_view mime,
                 std::string_view ext) {
  auto r = sniff(bytes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, kind);
  EXPECT_EQ(r->mime, mime);
  EXPECT_EQ(r->extension, ext);
}

void expect_refused(const std::string& bytes, std::string_view says) {
  auto r = sniff(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::unsupported_type);
  EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("accepted are JPEG, PNG, WebP, GIF or HEIC/HEIF images"),
            std::string::npos)
      << r.error().message;
}

TEST(EvidenceSniff, AcceptsImages) {
  expect_type(head("\xFF\xD8\xFF\xE0"s), evidence_kind::image, "image/jpeg", "jpg");
  expect_type(head("\xFF\xD8\xFF\xE1\x00\x10"
                   "Exif"s),
              evidence_kind::image, "image/jpeg", "jpg");
  expect_type(head("\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR"s), evidence_kind::image, "image/png", "png");
  expect_type(head("GIF87a"), evidence_kind::image, "image/gif", "gif");
  expect_type(head("GIF89a"), evidence_kind::image, "image/gif", "gif");
  expect_type(head("RIFF\x10\0\0\0WEBPVP8 "s), evidence_kind::image, "image/webp", "webp");
}

TEST(EvidenceSniff, AcceptsHeicAndHeifByMajorOrCompatibleBrand) {
  for (const char* brand : {"heic", "heix", "heim", "heis"}) {
    expect_type(ftyp(brand), evidence_kind::image, "image/heic", "heic");
  }
  for (const char* brand : {"hevc", "hevs", "hevm"}) {
    expect_type(ftyp(brand), evidence_kind::image, "image/heic-sequence", "heic");
  }
  expect_type(ftyp("mif1", "mif1heic"), evidence_kind::image, "image/heif", "heif");
  expect_type(ftyp("msf1"), evidence_kind::image, "image/heif-sequence", "heif");
  // An unknown major brand with heic among the compatible ones (as some writers do).
  expect_type(ftyp("zzzz", "mif1heic"), evidence_kind::image, "image/heif", "heif");
}

TEST(EvidenceSniff, AcceptsMp4AndMov) {
  for (const char* brand : {"isom", "iso2", "mp41", "mp42", "avc1", "M4V ", "dash"}) {
    expect_type(ftyp(brand), evidence_kind::video, "video/mp4", "mp4");
  }
  expect_type(ftyp("3gp5", "isom"), evidence_kind::video, "video/mp4", "mp4");
  expect_type(ftyp("qt  ", "qt  "), evidence_kind::video, "video/quicktime", "mov");
  for (const char* atom : {"moov", "mdat", "wide", "free", "skip", "pnot"}) {
    expect_type(head("\0\0\0\x08"s + atom), evidence_kind::video, "video/quicktime", "mov");
  }
}

TEST(EvidenceSniff, AcceptsPdf) {
  expect_type(head("%PDF-1.7\n"), evidence_kind::document, "application/pdf", "pdf");
}

TEST(EvidenceSniff, ShortFilesAreDecidedOnWhatTheyHave) {
  // A whole file shorter than k_sniff_bytes: its signature is enough.
  expect_type("\xFF\xD8\xFF"s, evidence_kind::image, "image/jpeg", "jpg");
  expect_type("%PDF-"s, evidence_kind::document, "application/pdf", "pdf");
  // A signature cut short cannot match.
  auto r = sniff("\xFF\xD8"s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("file too short to recognise (2 bytes); accepted are", 0), 0u)
      << r.error().message;
  auto cut_png = sniff("\x89PNG"s);
  ASSERT_FALSE(cut_png.ok());
  EXPECT_NE(cut_png.error().message.find("too short"), std::string::npos);
}

TEST(EvidenceSniff, EmptyIsItsOwnError) {
  auto r = sniff("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::empty);
}

TEST(EvidenceSniff, OnlyTheFirstBytesCount) {
  std::string zip_later = head("\xFF\xD8\xFF\xE0"s) + "PK\x03\x04";
  expect_type(zip_later, evidence_kind::image, "image/jpeg", "jpg");
}

TEST(EvidenceSniff, NamesWhatItRefuses) {
  expect_refused(head("PK\x03\x04\x14\0"s), "this is a ZIP archive");
  expect_refused(head("\x7F"
                      "ELF\x02\x01\x01"s),
                 "an executable (ELF)");
  expect_refused(head("MZ\x90\0"s), "an executable (Windows)");
  expect_refused(head("BM\x36\0\x0C\0\0\0\0\0\x36\0\0\0\x28\0\0\0"s), "a BMP image");
  expect_refused(head("\x1F\x8B\x08\0"s), "a gzip archive");
  expect_refused(head("Rar!\x1A\x07\x01\0"s), "a RAR archive");
  expect_refused(head("II*\0\x08\0\0\0"s), "a TIFF image");
  expect_refused(head("RIFF\x10\0\0\0AVI LIST"s), "an AVI video");
  expect_refused(head("\x1A\x45\xDF\xA3"s), "a Matroska or WebM video");
  expect_refused(head("#!/bin/sh\nrm -rf /\n", ' '), "a script");
  expect_refused(ftyp("avif", "mif1avif"), "an AVIF image");
  expect_refused(ftyp("3gp5", "3gp5"), "a 3GP video");
  expect_refused(ftyp("abcd"), "an ISO media file of brand 'abcd'");
}

TEST(EvidenceSniff, NamesMarkupAndText) {
  expect_refused(head("<!DOCTYPE html><html>", ' '), "an HTML file");
  expect_refused(head("\xEF\xBB\xBF  \n<html><script>"s, ' '), "an HTML file");
  expect_refused(head("<?xml version=\"1.0\"?><svg", ' '), "an SVG or XML file");
  expect_refused(head("<svg xmlns=", ' '), "an SVG or XML file");
  expect_refused(head("order 12345, please refund", ' '), "a text file");
  expect_refused("hello\n", "a text file");
}

TEST(EvidenceSniff, UnrecognisedBinary) {
  std::string junk(k_sniff_bytes, '\x01');
  expect_refused(junk, "file type not accepted: unrecognised data");
}

}  // namespace
}  // namespace shouhou::connectors::evidence
