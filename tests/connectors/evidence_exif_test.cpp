#include "connectors/evidence/exif.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace shouhou::connectors::evidence {
namespace {

using namespace std::string_literals;

std::string seg(unsigned char marker, const std::string& payload) {
  std::string s{'\xFF', static_cast<char>(marker)};
  const std::size_t len = payload.size() + 2;
  s.push_back(static_cast<char>(len >> 8));
  s.push_back(static_cast<char>(len & 0xFF));
  return s + payload;
}

struct tiff_writer {
  bool le;
  std::string out;
  void u16(std::uint32_t v) {
    if (le) {
      out.push_back(static_cast<char>(v & 0xFF));
      out.push_back(static_cast<char>(v >> 8));
    } else {
      out.push_back(static_cast<char>(v >> 8));
      out.push_back(static_cast<char>(v & 0xFF));
    }
  }
  void u32(std::uint32_t v) {
    if (le) {
      u16(v & 0xFFFF);
      u16(v >> 16);
    } else {
      u16(v >> 16);
      u16(v & 0xFFFF);
    }
  }
  void entry(std::uint32_t tag, std::uint32_t type, std::uint32_t count) {
    u16(tag);
    u16(type);
    u32(count);
  }
};

// An Exif APP1 payload: IFD0 with Orientation and a GPS IFD pointer; the GPS IFD holds a
// latitude reference and a 16-byte GPSProcessingMethod that contains a marker text.
std::string exif_payload(bool little_endian, int orientation) {
  tiff_writer w{little_endian, {}};
  w.out = little_endian ? "II" : "MM";
  w.u16(42);
  w.u32(8);
  w.u16(2);  // IFD0 at 8: 2 entries
  w.entry(0x0112, 3, 1);
  w.u16(static_cast<std::uint32_t>(orientation));
  w.u16(0);
  w.entry(0x8825, 4, 1);
  w.u32(38);  // GPS IFD right after IFD0 (8 + 2 + 24 + 4)
  w.u32(0);
  w.u16(2);  // GPS IFD at 38
  w.entry(0x0001, 2, 2);
  w.out += "N\0\0\0"s;
  w.entry(0x001B, 7, 16);
  w.u32(68);  // 38 + 2 + 24 + 4
  w.u32(0);
  w.out += "GPSSECRET-31.23N";
  return "Exif\0\0"s + w.out;
}

const std::string k_soi = "\xFF\xD8"s;
const std::string k_eoi = "\xFF\xD9"s;
const std::string k_app0 = seg(0xE0, "JFIF\0\x01\x01\0\0\x01\0\x01\0\0"s);
const std::string k_icc = seg(0xE2, "ICC_PROFILE\0\x01\x01profile-bytes"s);
const std::string k_dqt = seg(0xDB, "\0"s + std::string(64, '\x10'));
const std::string k_sof = seg(0xC0, "\x08\0\x10\0\x10\x01\x01\x11\0"s);
const std::string k_dht = seg(0xC4, "\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x05"s);
const std::string k_sos = seg(0xDA, "\x01\x01\0\0\x3F\0"s);
const std::string k_scan = "\x12\x34\xFF\x00\x56\xFF\xD0\x78\x9A"s;

std::string full_jpeg(bool little_endian = false) {
  return k_soi + k_app0 + seg(0xE1, exif_payload(little_endian, 6)) +
         seg(0xE1, "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta exif:GPSLatitude='31'/>"s) + k_icc +
         seg(0xE2, "MPF\0II*\0more"s) + seg(0xED, "Photoshop 3.0\0IPTC city"s) +
         seg(0xFE, "taken at home") + k_dqt + k_sof + k_dht + k_sos + k_scan + k_eoi +
         "PK\x03\x04appended-after-eoi"s;
}

// What strip_jpeg_metadata writes for orientation 6: Exif, big-endian TIFF, one IFD0 entry.
const std::string k_orientation6 =
    "\xFF\xE1\0\x22"
    "Exif\0\0"
    "MM\0\x2A\0\0\0\x08"
    "\0\x01"
    "\x01\x12\0\x03\0\0\0\x01\0\x06\0\0"
    "\0\0\0\0"s;

TEST(EvidenceExif, InspectFindsGpsAndOrientation) {
  for (bool le : {false, true}) {
    auto md = inspect_jpeg(full_jpeg(le));
    ASSERT_TRUE(md.ok()) << md.error().message;
    EXPECT_TRUE(md->has_exif);
    EXPECT_TRUE(md->has_gps);
    EXPECT_TRUE(md->has_xmp);
    EXPECT_EQ(md->orientation, 6);
  }
}

TEST(EvidenceExif, StripRemovesGpsAndKeepsTheImage) {
  for (bool le : {false, true}) {
    auto r = strip_jpeg_metadata(full_jpeg(le));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->removed_gps);
    EXPECT_TRUE(r->kept_orientation);
    EXPECT_FALSE(r->scan_truncated);
    EXPECT_EQ(r->segments_removed, 5u);  // Exif, XMP, MPF, IPTC, COM
    EXPECT_EQ(r->jpeg, k_soi + k_app0 + k_orientation6 + k_icc + k_dqt + k_sof + k_dht + k_sos +
                           k_scan + k_eoi);
    EXPECT_EQ(r->jpeg.find("GPSSECRET"), std::string::npos);
    EXPECT_EQ(r->jpeg.find("xmpmeta"), std::string::npos);
    EXPECT_EQ(r->jpeg.find("taken at home"), std::string::npos);
    EXPECT_EQ(r->jpeg.find("appended"), std::string::npos);

    auto again = inspect_jpeg(r->jpeg);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->has_gps);
    EXPECT_FALSE(again->has_xmp);
    EXPECT_EQ(again->orientation, 6);
  }
}

TEST(EvidenceExif, NoOrientationNoNewExif) {
  const std::string plain =
      k_soi + k_app0 + seg(0xE1, exif_payload(false, 1)) + k_dqt + k_sof + k_sos + k_scan + k_eoi;
  auto r = strip_jpeg_metadata(plain);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->kept_orientation);
  EXPECT_EQ(r->jpeg, k_soi + k_app0 + k_dqt + k_sof + k_sos + k_scan + k_eoi);
}

TEST(EvidenceExif, TruncatedAtEveryLength) {
  const std::string jpeg = full_jpeg();
  const std::size_t scan_start = jpeg.find(k_sos) + k_sos.size();
  for (std::size_t k = 0; k < jpeg.size(); ++k) {
    auto r = strip_jpeg_metadata(std::string_view(jpeg).substr(0, k));
    if (k < scan_start) {
      ASSERT_FALSE(r.ok()) << k;
      EXPECT_TRUE(r.error().code == errc::truncated || r.error().code == errc::malformed) << k;
      continue;
    }
    ASSERT_TRUE(r.ok()) << k << ": " << r.error().message;
    EXPECT_EQ(r->jpeg.substr(0, 2), k_soi);
    EXPECT_EQ(r->jpeg.substr(r->jpeg.size() - 2), k_eoi) << k;
    EXPECT_EQ(r->jpeg.find("GPSSECRET"), std::string::npos);
  }
  auto cut = strip_jpeg_metadata(std::string_view(jpeg).substr(0, scan_start + 3));
  ASSERT_TRUE(cut.ok());
  EXPECT_TRUE(cut->scan_truncated);
  auto in_exif =
      strip_jpeg_metadata(std::string_view(jpeg).substr(0, k_soi.size() + k_app0.size() + 20));
  ASSERT_FALSE(in_exif.ok());
  EXPECT_EQ(in_exif.error().code, errc::truncated);
  EXPECT_NE(in_exif.error().message.find("runs past the end"), std::string::npos);
}

TEST(EvidenceExif, MalformedInputIsRefusedOrCopiedSafely) {
  EXPECT_EQ(strip_jpeg_metadata("").error().code, errc::malformed);
  EXPECT_EQ(strip_jpeg_metadata("\x89PNG\r\n\x1A\n"s).error().code, errc::malformed);
  EXPECT_EQ(strip_jpeg_metadata(k_soi + "\xFF\xE1\0\x01"s + k_sos).error().code, errc::malformed);
  EXPECT_EQ(strip_jpeg_metadata(k_soi + k_app0 + k_eoi).error().code, errc::malformed);
  EXPECT_EQ(strip_jpeg_metadata(k_soi + k_soi).error().code, errc::malformed);

  // Exif whose offsets and counts point far outside the segment: read as no orientation.
  const std::string wild = "Exif\0\0MM\0\x2A\xFF\xFF\xFF\xF0"s;
  const std::string huge_count = "Exif\0\0II\x2A\0\x08\0\0\0\xFF\xFF\x12\x01"s;
  for (const std::string& exif : {wild, huge_count, "Exif\0\0"s, "Exif\0\0XX\0\x2A\0\0\0\x08"s}) {
    const std::string jpeg = k_soi + seg(0xE1, exif) + k_sof + k_sos + k_scan + k_eoi;
    auto md = inspect_jpeg(jpeg);
    ASSERT_TRUE(md.ok());
    EXPECT_TRUE(md->has_exif);
    EXPECT_EQ(md->orientation, 0);
    auto r = strip_jpeg_metadata(jpeg);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->jpeg, k_soi + k_sof + k_sos + k_scan + k_eoi);
  }

  // Junk between segments is skipped, fill bytes before a marker are allowed.
  auto junk =
      strip_jpeg_metadata(k_soi + "junk"s + "\xFF\xFF"s + k_sof.substr(1) + k_sos + k_scan + k_eoi);
  ASSERT_TRUE(junk.ok());
  EXPECT_EQ(junk->jpeg, k_soi + k_sof + k_sos + k_scan + k_eoi);
}

TEST(EvidenceExif, RandomlyDamagedFilesNeverBreakTheCopy) {
  const std::string original = full_jpeg(true);
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    std::string damaged = original;
    for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
      damaged[2 + rng() % (damaged.size() - 2)] = static_cast<char>(rng());
    }
    auto r = strip_jpeg_metadata(damaged);
    if (!r.ok()) continue;
    ASSERT_GE(r->jpeg.size(), 4u);
    EXPECT_EQ(r->jpeg.substr(0, 2), k_soi);
    EXPECT_EQ(r->jpeg.substr(r->jpeg.size() - 2), k_eoi);
  }
}

}  // namespace
}  // namespace shouhou::connectors::evidence
