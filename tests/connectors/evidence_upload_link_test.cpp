#include "connectors/evidence/upload_link.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace shouhou::connectors::evidence {
namespace {

namespace fs = std::filesystem;

using shouhou::testing::temp_dir;

secret_key key_of(unsigned char seed) {
  std::array<unsigned char, k_secret_bytes> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<unsigned char>(seed + i);
  return secret_key(b);
}

constexpr std::int64_t k_now = 1'700'000'000;
constexpr std::int64_t k_exp = k_now + 3600;
const std::string k_conv = "0123456789abcdef0123456789abcdef";

class EvidenceUploadLink : public ::testing::Test {
 protected:
  link_signer signer_{key_of(1)};

  std::string upload() { return signer_.upload_target(k_conv, "damage_photo", k_exp).value(); }
  std::string read() { return signer_.read_target(k_conv, "ev_42", k_exp).value(); }
  std::string sig_of(const std::string& target) { return target.substr(target.find("sig=") + 4); }
  void expect_error(const std::string& target, errc code) {
    auto r = signer_.verify(target, k_now);
    ASSERT_FALSE(r.ok()) << target;
    EXPECT_EQ(r.error().code, code) << target << ": " << r.error().message;
  }
};

TEST_F(EvidenceUploadLink, UploadRoundTrip) {
  const std::string t = upload();
  EXPECT_EQ(t.rfind("/v1/evidence/upload/" + k_conv + "/damage_photo?exp=1700003600&sig=", 0), 0u)
      << t;
  EXPECT_EQ(sig_of(t).size(), 43u);
  auto r = signer_.verify_upload(t, k_now);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->purpose, link_purpose::upload);
  EXPECT_EQ(r->conversation, k_conv);
  EXPECT_EQ(r->subject, "damage_photo");
  EXPECT_EQ(r->expires, k_exp);
}

TEST_F(EvidenceUploadLink, ReadRoundTrip) {
  const std::string t = read();
  EXPECT_EQ(t.rfind("/v1/evidence/ev_42?conv=" + k_conv + "&exp=1700003600&sig=", 0), 0u) << t;
  auto r = signer_.verify_read(t, k_now);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->purpose, link_purpose::read);
  EXPECT_EQ(r->conversation, k_conv);
  EXPECT_EQ(r->subject, "ev_42");
}

TEST_F(EvidenceUploadLink, ValidUntilTheExpirySecondInclusive) {
  EXPECT_TRUE(signer_.verify(upload(), k_exp).ok());
  auto r = signer_.verify(upload(), k_exp + 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::expired);
  EXPECT_EQ(http_status(r.error().code), 410);
}

TEST_F(EvidenceUploadLink, ForgedSignature) {
  std::string t = upload();
  t.back() = t.back() == 'A' ? 'B' : 'A';
  expect_error(t, errc::forged);
  // A link signed with another server's key.
  link_signer other(key_of(2));
  expect_error(other.upload_target(k_conv, "damage_photo", k_exp).value(), errc::forged);
  // An expired forgery is called forged, not expired.
  std::string old = upload();
  old.back() = old.back() == 'A' ? 'B' : 'A';
  auto r = signer_.verify(old, k_exp + 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::forged);
}

TEST_F(EvidenceUploadLink, TamperedFieldsAreForged) {
  const std::string sig = sig_of(upload());
  const std::string other_conv = "fedcba9876543210fedcba9876543210";
  expect_error("/v1/evidence/upload/" + other_conv + "/damage_photo?exp=1700003600&sig=" + sig,
               errc::forged);
  expect_error("/v1/evidence/upload/" + k_conv + "/waybill_photo?exp=1700003600&sig=" + sig,
               errc::forged);
  expect_error("/v1/evidence/upload/" + k_conv + "/damage_photo?exp=1800000000&sig=" + sig,
               errc::forged);
  const std::string rsig = sig_of(read());
  expect_error("/v1/evidence/ev_43?conv=" + k_conv + "&exp=1700003600&sig=" + rsig, errc::forged);
  expect_error("/v1/evidence/ev_42?conv=" + other_conv + "&exp=1700003600&sig=" + rsig,
               errc::forged);
}

TEST_F(EvidenceUploadLink, ReadLinkCannotUpload) {
  // Same conversation and subject, but the purpose is part of what is signed.
  const std::string rsig = sig_of(signer_.read_target(k_conv, "damage_photo", k_exp).value());
  expect_error("/v1/evidence/upload/" + k_conv + "/damage_photo?exp=1700003600&sig=" + rsig,
               errc::forged);
  auto wrong = signer_.verify_upload(read(), k_now);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, errc::wrong_purpose);
  auto wrong2 = signer_.verify_read(upload(), k_now);
  ASSERT_FALSE(wrong2.ok());
  EXPECT_EQ(wrong2.error().code, errc::wrong_purpose);
}

TEST_F(EvidenceUploadLink, MalformedTargets) {
  const std::string sig = sig_of(upload());
  const std::string q = "?exp=1700003600&sig=" + sig;
  const std::string base = "/v1/evidence/upload/" + k_conv + "/damage_photo";
  for (const std::string& t : {
           std::string(),
           base,                                          // no query at all
           base + "?exp=1700003600",                      // no sig
           base + "?sig=" + sig,                          // no exp
           base + "?exp=17000036x0&sig=" + sig,           // exp not a number
           base + "?exp=01700003600&sig=" + sig,          // leading zero
           base + "?exp=1234567890123456789&sig=" + sig,  // too many digits
           base + "?exp=&sig=" + sig,
           base + "?exp=1700003600&sig=" + sig.substr(1),
           base + "?exp=1700003600&sig=" + sig + "A",
           base + "?exp=1700003600&sig=" + sig.substr(0, 42) + "=",
           base + "?exp=1700003600&exp=1700003600&sig=" + sig,
           base + q + "&sig=" + sig,
           base + "/" + q,  // trailing slash
           base + "/extra" + q,
           "/v1/evidence/upload//damage_photo" + q,
           "/v1/evidence/upload/" + k_conv + q,
           "/v1/other/upload/" + k_conv + "/damage_photo" + q,
           "/v1/evidence/upload/" + k_conv + "/damage_photo#x" + q,
           "/v1/evidence/ev_42?exp=1700003600&sig=" + sig,  // read link without conv
       }) {
    expect_error(t, errc::malformed);
  }
}

TEST_F(EvidenceUploadLink, PathTricksInIdsAreRefused) {
  const std::string q = "?exp=1700003600&sig=" + sig_of(upload());
  for (const std::string& id :
       {std::string(".."), std::string("."), std::string("a.b"), std::string("%2e%2e"),
        std::string("a%2Fb"), std::string("a\\b"), std::string("a b"), std::string("\xE7\x85\xA7"),
        std::string(k_max_id_bytes + 1, 'a')}) {
    expect_error("/v1/evidence/upload/" + id + "/damage_photo" + q, errc::malformed);
    expect_error("/v1/evidence/upload/" + k_conv + "/" + id + q, errc::malformed);
    expect_error("/v1/evidence/" + id + "?conv=" + k_conv + "&exp=1700003600&sig=x",
                 errc::malformed);
  }
  expect_error("/v1/evidence/upload/../" + k_conv + "/damage_photo" + q, errc::malformed);
  expect_error("/v1/evidence/upload/" + k_conv + "/../damage_photo" + q, errc::malformed);
}

TEST_F(EvidenceUploadLink, SigningRefusesBadIds) {
  for (const std::string& id :
       {std::string(), std::string("../x"), std::string("a/b"), std::string("a.b"),
        std::string("a\nb"), std::string(k_max_id_bytes + 1, 'a')}) {
    auto up = signer_.upload_target(k_conv, id, k_exp);
    ASSERT_FALSE(up.ok()) << id;
    EXPECT_EQ(up.error().code, errc::invalid_argument);
    EXPECT_FALSE(signer_.upload_target(id, "item", k_exp).ok());
    EXPECT_FALSE(signer_.read_target(k_conv, id, k_exp).ok());
  }
  EXPECT_FALSE(signer_.upload_target(k_conv, "item", -1).ok());
  const std::string longest(k_max_id_bytes, 'Z');
  auto ok = signer_.upload_target(longest, longest, k_exp);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(signer_.verify(ok.value(), k_now).ok());
}

TEST_F(EvidenceUploadLink, UnknownParametersAreIgnoredAndOrderDoesNotMatter) {
  const std::string sig = sig_of(read());
  auto r = signer_.verify_read(
      "/v1/evidence/ev_42?t=123&sig=" + sig + "&exp=1700003600&conv=" + k_conv, k_now);
  EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST(EvidenceSecret, CreatedOnceWithMode0600AndReused) {
  temp_dir dir;
  const fs::path data = dir.path() / "data" / "nested";
  auto first = load_or_create_secret(data);
  ASSERT_TRUE(first.ok()) << first.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((data / "secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto second = load_or_create_secret(data);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(first->bytes(), second->bytes());
  // Only the key is left behind, no temporary file.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(data)) ++entries;
  EXPECT_EQ(entries, 1u);
  // Links signed with the reloaded key verify.
  link_signer a(first.value()), b(second.value());
  EXPECT_TRUE(b.verify(a.upload_target("c1", "i1", k_exp).value(), k_now).ok());
}

TEST(EvidenceSecret, TwoDataFoldersGetDifferentKeys) {
  temp_dir dir;
  auto a = load_or_create_secret(dir.path() / "a");
  auto b = load_or_create_secret(dir.path() / "b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->bytes(), b->bytes());
}

TEST(EvidenceSecret, RefusesWrongSizeAndOpenPermissions) {
  temp_dir dir;
  { std::ofstream(dir.path() / "secret.key") << "short"; }
  fs::permissions(dir.path() / "secret.key", fs::perms::owner_read | fs::perms::owner_write);
  auto r = load_or_create_secret(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("exactly 32 bytes, found 5"), std::string::npos)
      << r.error().message;

  { std::ofstream(dir.path() / "secret.key", std::ios::trunc) << std::string(32, 'k'); }
  fs::permissions(dir.path() / "secret.key",
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  auto open = load_or_create_secret(dir.path());
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message.find("chmod 600"), std::string::npos) << open.error().message;
}

TEST(EvidenceSecret, UncreatableFolderIsAnError) {
  temp_dir dir;
  { std::ofstream(dir.path() / "plain_file") << "x"; }
  auto r = load_or_create_secret(dir.path() / "plain_file" / "data");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::io);
}

}  // namespace
}  // namespace shouhou::connectors::evidence
