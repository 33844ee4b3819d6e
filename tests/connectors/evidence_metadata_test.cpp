#include "connectors/evidence/metadata.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace shouhou::connectors::evidence {
namespace {

using namespace std::string_literals;

// ---- builders ----

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string be16(std::uint32_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string le32(std::uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
          static_cast<char>(v >> 24)};
}

std::uint32_t crc32(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) {
    c ^= static_cast<unsigned char>(ch);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

std::string png_chunk(const std::string& type, const std::string& data) {
  return be32(static_cast<std::uint32_t>(data.size())) + type + data + be32(crc32(type + data));
}

const std::string k_sig = "\x89PNG\r\n\x1a\n"s;
const std::string k_ihdr = png_chunk("IHDR", "\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0"s);
const std::string k_idat = png_chunk("IDAT", "\x78\x9c\x63\x60\x60\x60\0\0\0\x04\0\x01"s);
const std::string k_iend = png_chunk("IEND", "");
const std::string k_exif_tiff = "MM\0\x2A\0\0\0\x08\0\0GPSSECRET-31.23N"s;

std::string png_with_metadata() {
  return k_sig + k_ihdr + png_chunk("eXIf", k_exif_tiff) +
         png_chunk("tEXt", "Comment\0taken at GPSSECRET home"s) + k_idat +
         png_chunk("tIME", "\x07\xEA\x0B\x16\x01\x02\x03"s) + k_iend;
}

std::string riff_chunk(const std::string& type, const std::string& data) {
  std::string c = type + le32(static_cast<std::uint32_t>(data.size())) + data;
  if (data.size() % 2) c.push_back('\0');
  return c;
}

std::string riff(const std::string& chunks) {
  return "RIFF" + le32(static_cast<std::uint32_t>(4 + chunks.size())) + "WEBP" + chunks;
}

const std::string k_vp8 = riff_chunk("VP8 ", "\x30\x01\0\x9d\x01\x2a\x01\0\x01\0\0\0"s);
const std::string k_iccp = riff_chunk("ICCP", "icc-profile-bytes"s);

std::string vp8x(unsigned char flags) {
  return riff_chunk("VP8X", std::string(1, static_cast<char>(flags)) + "\0\0\0\0\0\0\0\0\0"s);
}

std::string webp_with_metadata() {
  return riff(vp8x(0x20 | 0x08 | 0x04) + k_iccp + k_vp8 +
              riff_chunk("EXIF", "Exif\0\0"s + k_exif_tiff + "x") +
              riff_chunk("XMP ", "<x:xmpmeta>GPSSECRET</x:xmpmeta>"));
}

std::string box(const std::string& type, const std::string& payload) {
  return be32(static_cast<std::uint32_t>(8 + payload.size())) + type + payload;
}
std::string full_box(const std::string& type, unsigned version, const std::string& payload) {
  return box(type, std::string(1, static_cast<char>(version)) + "\0\0\0"s + payload);
}

std::string infe(unsigned version, std::uint32_t id, const std::string& type,
                 const std::string& rest = "\0"s) {
  return full_box("infe", version, (version == 2 ? be16(id) : be32(id)) + be16(0) + type + rest);
}

const std::string k_hevc = "HEVC-PIXELS-0123456789";
const std::string k_heif_exif = "\0\0\0\0Exif\0\0"s + k_exif_tiff;
const std::string k_xmp = "<x:xmpmeta>GPSSECRET-XMP</x:xmpmeta>";

struct heif_sample {
  std::string file;
  std::size_t exif_at = 0;  // where the Exif bytes are in `file`
  std::size_t xmp_at = 0;
};

// ftyp heic + meta(hdlr, pitm, iinf[hvc1, Exif, mime XMP], iloc[, idat]) + mdat. With
// `in_idat`, iloc is version 1 and the Exif item lives in idat (construction_method 1);
// otherwise iloc is version `iloc_version` and everything is in mdat. `exif_length_extra` makes
// the Exif extent lie about its length.
heif_sample heif(bool in_idat = false, unsigned iloc_version = 0,
                 std::uint32_t exif_length_extra = 0, unsigned infe_version = 2) {
  const std::string ftyp = box("ftyp", "heic\0\0\0\0mif1heic"s);
  auto build = [&](std::uint32_t mdat_payload) {
    const std::string hdlr = full_box("hdlr", 0, be32(0) + "pict" + std::string(12, '\0') + "\0"s);
    const std::string pitm = full_box("pitm", 0, be16(1));
    const std::string iinf =
        full_box("iinf", 0,
                 be16(3) + infe(infe_version, 1, "hvc1") + infe(infe_version, 2, "Exif") +
                     infe(infe_version, 3, "mime", "\0application/rdf+xml\0"s));
    const unsigned v = in_idat ? 1 : iloc_version;
    auto id = [&](std::uint32_t n) { return v < 2 ? be16(n) : be32(n); };
    auto item = [&](std::uint32_t n, unsigned method, std::uint32_t off, std::uint32_t len) {
      return id(n) + (v >= 1 ? be16(method) : ""s) + be16(0) + be16(1) + be32(off) + be32(len);
    };
    const std::uint32_t exif_len =
        static_cast<std::uint32_t>(k_heif_exif.size()) + exif_length_extra;
    std::string items =
        item(1, 0, mdat_payload, static_cast<std::uint32_t>(k_hevc.size())) +
        (in_idat ? item(2, 1, 3, exif_len)
                 : item(2, 0, mdat_payload + static_cast<std::uint32_t>(k_hevc.size()), exif_len)) +
        item(3, 0,
             mdat_payload +
                 static_cast<std::uint32_t>(k_hevc.size() + (in_idat ? 0 : k_heif_exif.size())),
             static_cast<std::uint32_t>(k_xmp.size()));
    const std::string iloc = full_box("iloc", v, "\x44\x00"s + (v < 2 ? be16(3) : be32(3)) + items);
    const std::string idat = in_idat ? box("idat", "abc" + k_heif_exif + "def") : "";
    return full_box("meta", 0, hdlr + pitm + iinf + iloc + idat);
  };
  const std::size_t meta_size = build(0).size();
  const auto mdat_payload = static_cast<std::uint32_t>(ftyp.size() + meta_size + 8);
  const std::string meta = build(mdat_payload);
  heif_sample s;
  const std::string mdat = box("mdat", k_hevc + (in_idat ? "" : k_heif_exif) + k_xmp);
  s.file = ftyp + meta + mdat;
  s.exif_at = in_idat ? ftyp.size() + meta.find("abc") + 3 : mdat_payload + k_hevc.size();
  s.xmp_at = mdat_payload + k_hevc.size() + (in_idat ? 0 : k_heif_exif.size());
  return s;
}

// ---- PNG ----

TEST(EvidenceMetadataPng, TextExifAndTimeChunksAreDroppedTheRestIsByteIdentical) {
  auto out = strip_png_metadata(png_with_metadata());
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out.value(), k_sig + k_ihdr + k_idat + k_iend);
  EXPECT_EQ(out->find("GPSSECRET"), std::string::npos);
}

TEST(EvidenceMetadataPng, ColourChunksAreKeptUnknownAncillaryDroppedTrailingBytesDropped) {
  const std::string colour = png_chunk("gAMA", be32(45455)) + png_chunk("iCCP", "p\0\0zz"s) +
                             png_chunk("pHYs", std::string(9, '\1'));
  const std::string in = k_sig + k_ihdr + colour + png_chunk("prVt", "GPSSECRET") + k_idat +
                         k_iend + "appended GPSSECRET";
  auto out = strip_png_metadata(in);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out.value(), k_sig + k_ihdr + colour + k_idat + k_iend);
}

TEST(EvidenceMetadataPng, LyingOrTruncatedLengthsAndBadChunksAreRefused) {
  const std::string good = png_with_metadata();
  // Cut anywhere before the end of IEND: refused, never a partial copy.
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(strip_png_metadata(good.substr(0, n)).ok()) << n;
  }
  std::string lying = good;
  lying.replace(k_sig.size() + k_ihdr.size(), 4, be32(0x7FFFFFF0));  // eXIf length
  auto r = strip_png_metadata(lying);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::truncated);
  lying.replace(k_sig.size() + k_ihdr.size(), 4, be32(0xFFFFFFFF));
  EXPECT_EQ(strip_png_metadata(lying).error().code, errc::malformed);
  EXPECT_EQ(strip_png_metadata(k_sig + k_ihdr + png_chunk("ABCD", "x") + k_iend).error().code,
            errc::malformed);  // unknown critical chunk
  EXPECT_EQ(strip_png_metadata(k_sig + k_ihdr + png_chunk("a1cd", "x") + k_iend).error().code,
            errc::malformed);  // not a chunk type
  EXPECT_EQ(strip_png_metadata("GIF89a").error().code, errc::malformed);
}

// ---- WebP ----

TEST(EvidenceMetadataWebp, ExifAndXmpChunksGoFlagsAreClearedRiffSizeIsRight) {
  auto out = strip_webp_metadata(webp_with_metadata());
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out.value(), riff(vp8x(0x20) + k_iccp + k_vp8));
  EXPECT_EQ(out->find("GPSSECRET"), std::string::npos);
  EXPECT_EQ(out->substr(4, 4), le32(static_cast<std::uint32_t>(out->size() - 8)));
}

TEST(EvidenceMetadataWebp, ASimpleFileIsReturnedUnchanged) {
  const std::string simple = riff(k_vp8);
  auto out = strip_webp_metadata(simple);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out.value(), simple);
  const std::string lossless = riff(riff_chunk("VP8L", "\x2f\0\0\0\0"s));
  EXPECT_EQ(strip_webp_metadata(lossless).value(), lossless);
}

TEST(EvidenceMetadataWebp, BadSizesAreRefused) {
  const std::string good = webp_with_metadata();
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(strip_webp_metadata(good.substr(0, n)).ok()) << n;
  }
  std::string lying = good;
  lying.replace(16, 4, le32(0xFFFFFF00));  // VP8X length
  EXPECT_EQ(strip_webp_metadata(lying).error().code, errc::truncated);
  EXPECT_EQ(strip_webp_metadata(riff(riff_chunk("VP8X", "\x08"))).error().code, errc::malformed);
}

// ---- HEIC/HEIF ----

void expect_blanked(const heif_sample& s, const std::string& out) {
  ASSERT_EQ(out.size(), s.file.size());
  std::string expected = s.file;
  expected.replace(s.exif_at, k_heif_exif.size(), std::string(k_heif_exif.size(), '\0'));
  expected.replace(s.xmp_at, k_xmp.size(), std::string(k_xmp.size(), '\0'));
  EXPECT_EQ(out, expected);
  EXPECT_EQ(out.find("GPSSECRET"), std::string::npos);
  EXPECT_NE(out.find(k_hevc), std::string::npos);
}

TEST(EvidenceMetadataHeif, ExifAndXmpItemBytesAreZeroedEverythingElseIdentical) {
  const auto s = heif();
  ASSERT_EQ(s.file.substr(s.exif_at, k_heif_exif.size()), k_heif_exif);
  ASSERT_EQ(s.file.substr(s.xmp_at, k_xmp.size()), k_xmp);
  auto out = strip_heif_metadata(s.file);
  ASSERT_TRUE(out.ok()) << out.error().message;
  expect_blanked(s, out.value());
}

TEST(EvidenceMetadataHeif, IlocVersionsOneAndTwoInfeVersionThreeAndIdatAreHandled) {
  for (const auto& s : {heif(false, 1), heif(false, 2), heif(false, 2, 0, 3), heif(true)}) {
    ASSERT_EQ(s.file.substr(s.exif_at, k_heif_exif.size()), k_heif_exif);
    auto out = strip_heif_metadata(s.file);
    ASSERT_TRUE(out.ok()) << out.error().message;
    expect_blanked(s, out.value());
  }
}

TEST(EvidenceMetadataHeif, AnExtentOutsideTheFileOrIdatIsRefused) {
  auto r = strip_heif_metadata(heif(false, 0, 1000).file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::malformed);
  EXPECT_FALSE(strip_heif_metadata(heif(true, 1, 7).file).ok());  // past the end of idat
  // A box that claims more than its parent holds.
  std::string s = heif().file;
  s.replace(0, 4, be32(0xFFFF));
  EXPECT_FALSE(strip_heif_metadata(s).ok());
}

TEST(EvidenceMetadataHeif, AFileWithoutExifItemsIsUnchanged) {
  const std::string plain = box("ftyp", "heic\0\0\0\0mif1heic"s) + box("mdat", k_hevc);
  EXPECT_EQ(strip_heif_metadata(plain).value(), plain);
}

// ---- dispatcher ----

TEST(EvidenceMetadataDispatch, EachImageTypeGoesToItsStripperOthersAreUnchanged) {
  EXPECT_EQ(strip_location_metadata("image/png", png_with_metadata()).value(),
            k_sig + k_ihdr + k_idat + k_iend);
  EXPECT_EQ(strip_location_metadata("image/webp", webp_with_metadata()).value(),
            riff(vp8x(0x20) + k_iccp + k_vp8));
  for (const char* mime :
       {"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"}) {
    auto out = strip_location_metadata(mime, heif().file);
    ASSERT_TRUE(out.ok()) << mime;
    EXPECT_EQ(out->find("GPSSECRET"), std::string::npos) << mime;
  }
  EXPECT_FALSE(strip_location_metadata("image/jpeg", "not a jpeg").ok());
  EXPECT_EQ(strip_location_metadata("image/gif", "GIF89a GPSSECRET").value(), "GIF89a GPSSECRET");
  EXPECT_EQ(strip_location_metadata("application/pdf", "%PDF-1.7").value(), "%PDF-1.7");
}

// Random byte changes and cuts never crash or read out of bounds (run under the ASan build), and
// a HEIF answer always keeps the size.
TEST(EvidenceMetadataFuzz, RandomCorruptionNeverCrashes) {
  std::mt19937 rng(20261122);
  const std::vector<std::pair<std::string, std::string>> samples{
      {"image/png", png_with_metadata()},
      {"image/webp", webp_with_metadata()},
      {"image/heic", heif().file},
      {"image/heic", heif(true).file},
      {"image/heif", heif(false, 2, 0, 3).file}};
  for (const auto& [mime, sample] : samples) {
    for (int round = 0; round < 2000; ++round) {
      std::string bytes = sample;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
      if (rng() % 4 == 0) bytes.resize(rng() % (bytes.size() + 1));
      const std::size_t size = bytes.size();
      auto out = strip_location_metadata(mime, std::move(bytes));
      if (!out.ok()) {
        EXPECT_FALSE(out.error().message.empty());
      } else if (mime != "image/png" && mime != "image/webp") {
        EXPECT_EQ(out->size(), size);
      }
    }
  }
}

}  // namespace
}  // namespace shouhou::connectors::evidence
