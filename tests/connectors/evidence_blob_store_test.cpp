#include "connectors/evidence/blob_store.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace shouhou::connectors::evidence {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

using shouhou::testing::temp_dir;

// SHA-256 computed independently of the code under test.
std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  char buf[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    out += buf;
  }
  return out;
}

std::string jpeg_bytes(std::size_t n, char fill = 'j') {
  std::string s = "\xFF\xD8\xFF\xE0"s;
  s.resize(n, fill);
  return s;
}

std::string mp4_bytes(std::size_t n) {
  std::string s(
      "\0\0\0\x18"
      "ftypmp42\0\0\0\0isommp42"s);
  s.resize(n, 'v');
  return s;
}

std::size_t count_files(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) ++n;
  return n;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class EvidenceBlobStore : public ::testing::Test {
 protected:
  temp_dir dir_;
  fs::path root_ = dir_.path() / "evidence";

  blob_store open(blob_store_options options = {}) {
    auto s = blob_store::open(root_, std::move(options));
    EXPECT_TRUE(s.ok()) << s.error().message;
    return std::move(s).value();
  }
  blob_upload begin(const blob_store& s) {
    auto u = s.begin();
    EXPECT_TRUE(u.ok()) << u.error().message;
    return std::move(u).value();
  }
  std::size_t tmp_files() { return count_files(root_ / "tmp"); }
};

TEST(EvidenceBlobStoreHash, TestDigestIsRight) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(EvidenceBlobStore, CommitStoresByHashInChunks) {
  blob_store store = open();
  const std::string data = jpeg_bytes(100'000);
  blob_upload up = begin(store);
  EXPECT_EQ(tmp_files(), 1u);
  // Uneven chunks, including ones shorter than the sniffing head.
  std::size_t at = 0;
  for (std::size_t step : {1u, 2u, 30u, 7u, 4096u}) {
    ASSERT_TRUE(up.write(std::string_view(data).substr(at, step)).ok());
    at += step;
  }
  ASSERT_TRUE(up.type().has_value());
  EXPECT_EQ(up.type()->mime, "image/jpeg");
  ASSERT_TRUE(up.write(std::string_view(data).substr(at)).ok());
  auto r = up.commit();
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string hex = sha256_hex(data);
  EXPECT_EQ(r->sha256, hex);
  EXPECT_EQ(r->size, data.size());
  EXPECT_EQ(r->type.kind, evidence_kind::image);
  EXPECT_EQ(r->type.mime, "image/jpeg");
  EXPECT_FALSE(r->already_stored);
  const fs::path expected = root_ / hex.substr(0, 2) / hex.substr(2, 2) / hex;
  EXPECT_EQ(store.path_of(hex).value(), fs::absolute(expected));
  EXPECT_EQ(read_all(expected), data);
  EXPECT_EQ(tmp_files(), 0u);
}

TEST_F(EvidenceBlobStore, SameBytesTwiceAreStoredOnce) {
  blob_store store = open();
  const std::string data = mp4_bytes(5000);
  blob_upload a = begin(store);
  ASSERT_TRUE(a.write(data).ok());
  auto first = a.commit();
  ASSERT_TRUE(first.ok());
  blob_upload b = begin(store);
  ASSERT_TRUE(b.write(data.substr(0, 10)).ok());
  ASSERT_TRUE(b.write(data.substr(10)).ok());
  auto second = b.commit();
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->already_stored);
  EXPECT_EQ(first->sha256, second->sha256);
  EXPECT_EQ(second->type.mime, "video/mp4");
  EXPECT_EQ(count_files(root_), 1u);
}

TEST_F(EvidenceBlobStore, ConcurrentUploadsOfTheSameBytes) {
  blob_store store = open();
  const std::string data = jpeg_bytes(300'000, 'c');
  std::vector<std::string> hashes(8);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < hashes.size(); ++t) {
    threads.emplace_back([&, t] {
      auto up = store.begin();
      if (!up) return;
      for (std::size_t at = 0; at < data.size(); at += 8192) {
        if (!up->write(std::string_view(data).substr(at, 8192))) return;
      }
      auto r = up->commit();
      if (r) hashes[t] = r->sha256;
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& h : hashes) EXPECT_EQ(h, sha256_hex(data));
  EXPECT_EQ(count_files(root_), 1u);
}

TEST_F(EvidenceBlobStore, OverLimitIsRefusedAtTheFirstChunkPastIt) {
  blob_store_options options;
  options.limits.max_image_bytes = 1000;
  options.limits.max_video_bytes = 3000;
  blob_store store = open(std::move(options));
  const std::string data = jpeg_bytes(2000);

  blob_upload up = begin(store);
  ASSERT_TRUE(up.write(data.substr(0, 600)).ok());
  ASSERT_TRUE(up.write(data.substr(600, 400)).ok());  // exactly at the limit
  auto r = up.write(data.substr(1000, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::too_large);
  EXPECT_EQ(r.error().message, "file is larger than the 1000 bytes limit for images");
  EXPECT_EQ(tmp_files(), 0u);
  // Later calls repeat the refusal.
  EXPECT_EQ(up.write("x").error().code, errc::too_large);
  EXPECT_EQ(up.commit().error().code, errc::too_large);
  EXPECT_EQ(count_files(root_), 0u);

  // The video limit applies to videos.
  blob_upload video = begin(store);
  ASSERT_TRUE(video.write(mp4_bytes(2500)).ok());
  EXPECT_TRUE(video.commit().ok());
}

TEST_F(EvidenceBlobStore, OverLimitBeforeTheTypeIsKnownUsesTheLargestLimit) {
  blob_store_options options;
  options.limits = {10, 20, 10};
  blob_store store = open(std::move(options));
  blob_upload up = begin(store);
  auto r = up.write(jpeg_bytes(21));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::too_large);
  EXPECT_EQ(tmp_files(), 0u);
}

TEST_F(EvidenceBlobStore, EmptyIsRefused) {
  blob_store store = open();
  blob_upload up = begin(store);
  ASSERT_TRUE(up.write("").ok());
  auto r = up.commit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::empty);
  EXPECT_EQ(count_files(root_), 0u);
}

TEST_F(EvidenceBlobStore, WrongTypeIsRefusedAsSoonAsItIsKnown) {
  blob_store store = open();
  blob_upload up = begin(store);
  std::string zip = "PK\x03\x04"s + std::string(100, 'z');
  ASSERT_TRUE(up.write(zip.substr(0, 31)).ok());  // not enough to decide yet
  auto r = up.write(zip.substr(31));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::unsupported_type);
  EXPECT_NE(r.error().message.find("ZIP archive"), std::string::npos);
  EXPECT_EQ(count_files(root_), 0u);

  // A whole file shorter than the head is sniffed at commit.
  blob_upload small = begin(store);
  ASSERT_TRUE(small.write("hello\n").ok());
  auto s = small.commit();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, errc::unsupported_type);
  EXPECT_EQ(count_files(root_), 0u);
}

TEST_F(EvidenceBlobStore, AbortAndDestructorCleanUp) {
  blob_store store = open();
  {
    blob_upload up = begin(store);
    ASSERT_TRUE(up.write(jpeg_bytes(5000)).ok());
    EXPECT_EQ(tmp_files(), 1u);
    up.abort();
    EXPECT_EQ(tmp_files(), 0u);
    EXPECT_FALSE(up.write("x").ok());
    EXPECT_FALSE(up.commit().ok());
  }
  {
    blob_upload up = begin(store);
    ASSERT_TRUE(up.write(jpeg_bytes(5000)).ok());
    blob_upload moved = std::move(up);
    EXPECT_EQ(tmp_files(), 1u);
  }
  EXPECT_EQ(count_files(root_), 0u);
}

TEST_F(EvidenceBlobStore, DiskFullOnWriteIsAnErrorAndLeavesNothing) {
  // Injected: the disk accepts 4096 bytes, then a short write, then ENOSPC (as Linux does).
  auto written = std::make_shared<std::size_t>(0);
  blob_store_options options;
  options.io.write = [written](int fd, const void* p, std::size_t n) -> ssize_t {
    const std::size_t room = 4096 - std::min<std::size_t>(4096, *written);
    if (room == 0) {
      errno = ENOSPC;
      return -1;
    }
    const ssize_t r = ::write(fd, p, std::min(n, room));
    if (r > 0) *written += static_cast<std::size_t>(r);
    return r;
  };
  blob_store store = open(std::move(options));
  blob_upload up = begin(store);
  ASSERT_TRUE(up.write(jpeg_bytes(3000)).ok());
  auto r = up.write(std::string(3000, 'j'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::disk_full);
  EXPECT_NE(r.error().message.find("disk full"), std::string::npos) << r.error().message;
  EXPECT_EQ(http_status(r.error().code), 507);
  EXPECT_EQ(count_files(root_), 0u);
}

TEST_F(EvidenceBlobStore, FailedSyncIsAnErrorAndLeavesNothing) {
  blob_store_options options;
  options.io.fsync = [](int) {
    errno = EIO;
    return -1;
  };
  blob_store store = open(std::move(options));
  blob_upload up = begin(store);
  ASSERT_TRUE(up.write(jpeg_bytes(3000)).ok());
  auto r = up.commit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, errc::io);
  EXPECT_EQ(count_files(root_), 0u);
}

// Runs in a forked child: returns 0 when a write past RLIMIT_FSIZE is reported as disk_full and
// nothing is left behind, else a code saying which step went wrong.
int write_past_file_size_limit(const fs::path& root) {
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit lim{};
  lim.rlim_cur = lim.rlim_max = 64 * 1024;
  if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 10;
  auto store = blob_store::open(root);
  if (!store) return 11;
  auto up = store->begin();
  if (!up) return 12;
  const std::string chunk = jpeg_bytes(16 * 1024);
  status last;
  for (int i = 0; i < 64 && last.ok(); ++i) last = up->write(chunk);
  if (last.ok()) return 13;
  if (last.error().code != errc::disk_full) return 14;
  if (count_files(root) != 0) return 15;
  return 0;
}

// The real kernel path, without mounting anything: a child process with RLIMIT_FSIZE set and
// SIGXFSZ ignored gets EFBIG from write(2) past the limit, exactly where a full disk would fail.
TEST_F(EvidenceBlobStore, RealWriteFailureFromTheKernel) {
  const fs::path root = root_;
  EXPECT_EXIT(std::_Exit(write_past_file_size_limit(root)), ::testing::ExitedWithCode(0), "");
}

TEST_F(EvidenceBlobStore, OpenForReadValidatesTheHash) {
  blob_store store = open();
  const std::string data = jpeg_bytes(777);
  blob_upload up = begin(store);
  ASSERT_TRUE(up.write(data).ok());
  auto stored = up.commit();
  ASSERT_TRUE(stored.ok());

  auto h = store.open_for_read(stored->sha256);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->size, data.size());
  std::string back(data.size(), '\0');
  ASSERT_EQ(::read(h->fd.get(), back.data(), back.size()), static_cast<ssize_t>(back.size()));
  EXPECT_EQ(back, data);

  for (const std::string& bad :
       {std::string("../../etc/passwd"), std::string(64, 'A'), std::string(63, 'a'),
        std::string(65, 'a'), stored->sha256.substr(0, 62) + "/."}) {
    auto r = store.open_for_read(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, errc::invalid_argument);
  }
  auto missing = store.open_for_read(std::string(64, '0'));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, errc::not_found);
}

TEST_F(EvidenceBlobStore, CleanTmpRemovesCrashLeftovers) {
  blob_store store = open();
  { std::ofstream(root_ / "tmp" / "upload-deadbeef.part") << "partial"; }
  auto r = store.clean_tmp();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 1u);
  EXPECT_EQ(tmp_files(), 0u);
}

}  // namespace
}  // namespace shouhou::connectors::evidence
