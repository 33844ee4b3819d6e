// Failures of a whole batch: the transaction cannot begin (another process holds the write lock)
// or cannot commit (an injected I/O error). Either way no handler may report success.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "test_support.hpp"

namespace shouhou::store::testing {
namespace {

using ::testing::HasSubstr;

TEST(SqliteStoreFailure, ALockedDatabaseFailsEveryOperationOfTheBatch) {
  temp_dir dir;
  sqlite_options options;
  options.busy_timeout_ms = 1;
  auto s = open_store(dir.db(), options);
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  const std::size_t commits_before = s->commits();

  raw_db other(dir.db());
  ASSERT_EQ(other.exec("BEGIN IMMEDIATE"), SQLITE_OK);  // holds the write lock until ROLLBACK
  auto appended = append_async(*s, make_turn("c1", "m-1", 2));
  auto created = create_async(*s, make_conversation("c2"));
  auto loaded = load_async(*s, "c1", 10);

  const turn_result a = appended.get();
  EXPECT_FALSE(a.st.ok);
  EXPECT_FALSE(a.duplicate);
  EXPECT_THAT(a.st.error, HasSubstr("database is locked"));
  EXPECT_THAT(a.st.error, HasSubstr("nothing of this batch was stored"));
  EXPECT_FALSE(created.get().ok);
  const load_result l = loaded.get();
  EXPECT_FALSE(l.st.ok);
  EXPECT_FALSE(l.found.has_value());
  EXPECT_EQ(s->commits(), commits_before);
  ASSERT_EQ(other.exec("ROLLBACK"), SQLITE_OK);

  // The writer goes on, and the failed turn was not stored: it is not a duplicate now.
  const turn_result retry = append(*s, make_turn("c1", "m-1", 2));
  EXPECT_TRUE(retry.st.ok) << retry.st.error;
  EXPECT_FALSE(retry.duplicate);
  EXPECT_FALSE(load(*s, "c2").found.has_value());
}

// A VFS that forwards to the default one but, while armed, fails every write to a WAL file:
// a COMMIT in WAL mode writes its pages to the WAL, so the commit itself fails. Registered as
// the default VFS for the test's lifetime, so the store's connection uses it without any hook.
namespace faulty_vfs {

std::atomic<bool> armed{false};
std::atomic<int> injected{0};
sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs vfs;

struct file {
  sqlite3_file base;   // what SQLite sees; must come first
  sqlite3_file* real;  // the real VFS's file, allocated right after this struct
  bool wal;
};

sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<file*>(f)->real; }
const sqlite3_io_methods* real_methods(sqlite3_file* f) { return real(f)->pMethods; }

int write(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
  if (reinterpret_cast<file*>(f)->wal && armed.load()) {
    ++injected;
    return SQLITE_IOERR_WRITE;
  }
  return real_methods(f)->xWrite(real(f), data, n, offset);
}

const sqlite3_io_methods methods = {
    2,
    [](sqlite3_file* f) { return real_methods(f)->xClose(real(f)); },
    [](sqlite3_file* f, void* data, int n, sqlite3_int64 offset) {
      return real_methods(f)->xRead(real(f), data, n, offset);
    },
    &write,
    [](sqlite3_file* f, sqlite3_int64 size) { return real_methods(f)->xTruncate(real(f), size); },
    [](sqlite3_file* f, int flags) { return real_methods(f)->xSync(real(f), flags); },
    [](sqlite3_file* f, sqlite3_int64* size) { return real_methods(f)->xFileSize(real(f), size); },
    [](sqlite3_file* f, int lock) { return real_methods(f)->xLock(real(f), lock); },
    [](sqlite3_file* f, int lock) { return real_methods(f)->xUnlock(real(f), lock); },
    [](sqlite3_file* f, int* out) { return real_methods(f)->xCheckReservedLock(real(f), out); },
    [](sqlite3_file* f, int op, void* arg) {
      return real_methods(f)->xFileControl(real(f), op, arg);
    },
    [](sqlite3_file* f) { return real_methods(f)->xSectorSize(real(f)); },
    [](sqlite3_file* f) { return real_methods(f)->xDeviceCharacteristics(real(f)); },
    [](sqlite3_file* f, int page, int size, int extend, void volatile** out) {
      return real_methods(f)->xShmMap(real(f), page, size, extend, out);
    },
    [](sqlite3_file* f, int offset, int n, int flags) {
      return real_methods(f)->xShmLock(real(f), offset, n, flags);
    },
    [](sqlite3_file* f) { real_methods(f)->xShmBarrier(real(f)); },
    [](sqlite3_file* f, int remove) { return real_methods(f)->xShmUnmap(real(f), remove); },
    nullptr,
    nullptr,
};

int open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* shim = reinterpret_cast<file*>(f);
  shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
  shim->wal = (flags & SQLITE_OPEN_WAL) != 0;
  const int rc = real_vfs->xOpen(real_vfs, name, shim->real, flags, out_flags);
  shim->base.pMethods = rc == SQLITE_OK ? &methods : nullptr;
  return rc;
}

// Registers the VFS as the default for the lifetime of the object.
struct registration {
  registration() {
    real_vfs = sqlite3_vfs_find(nullptr);
    vfs = sqlite3_vfs{};
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(sizeof(file)) + real_vfs->szOsFile;
    vfs.mxPathname = real_vfs->mxPathname;
    vfs.zName = "shouhou-faulty";
    vfs.xOpen = &open;
    vfs.xDelete = [](sqlite3_vfs*, const char* name, int sync_dir) {
      return real_vfs->xDelete(real_vfs, name, sync_dir);
    };
    vfs.xAccess = [](sqlite3_vfs*, const char* name, int flags, int* out) {
      return real_vfs->xAccess(real_vfs, name, flags, out);
    };
    vfs.xFullPathname = [](sqlite3_vfs*, const char* name, int n, char* out) {
      return real_vfs->xFullPathname(real_vfs, name, n, out);
    };
    vfs.xRandomness = [](sqlite3_vfs*, int n, char* out) {
      return real_vfs->xRandomness(real_vfs, n, out);
    };
    vfs.xSleep = [](sqlite3_vfs*, int us) { return real_vfs->xSleep(real_vfs, us); };
    vfs.xCurrentTime = [](sqlite3_vfs*, double* out) {
      return real_vfs->xCurrentTime(real_vfs, out);
    };
    vfs.xGetLastError = [](sqlite3_vfs*, int n, char* out) {
      return real_vfs->xGetLastError(real_vfs, n, out);
    };
    vfs.xCurrentTimeInt64 = [](sqlite3_vfs*, sqlite3_int64* out) {
      return real_vfs->xCurrentTimeInt64(real_vfs, out);
    };
    EXPECT_EQ(sqlite3_vfs_register(&vfs, 1), SQLITE_OK);
  }
  ~registration() {
    armed = false;
    sqlite3_vfs_unregister(&vfs);
    sqlite3_vfs_register(real_vfs, 1);
  }
};

}  // namespace faulty_vfs

TEST(SqliteStoreFailure, AFailedCommitAcknowledgesNothing) {
  faulty_vfs::registration faulty;
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  ASSERT_TRUE(append(*s, make_turn("c1", "m-0", 1)).st.ok);
  std::size_t commits_before = 0;
  std::future<turn_result> appended;
  std::future<status> created;
  std::future<load_result> loaded;
  {
    writer_gate gate(*s);  // so that all three share one batch
    commits_before = s->commits();
    faulty_vfs::armed = true;
    appended = append_async(*s, make_turn("c1", "m-1", 2));
    created = create_async(*s, make_conversation("c2"));
    loaded = load_async(*s, "c1", 10);
  }
  const turn_result a = appended.get();
  const status c = created.get();
  const load_result l = loaded.get();
  faulty_vfs::armed = false;
  EXPECT_GT(faulty_vfs::injected.load(), 0);

  EXPECT_FALSE(a.st.ok);
  EXPECT_FALSE(a.duplicate);
  EXPECT_THAT(a.st.error, HasSubstr("commit"));
  EXPECT_THAT(a.st.error, HasSubstr("nothing of this batch was stored"));
  EXPECT_FALSE(c.ok);
  EXPECT_FALSE(l.st.ok);
  EXPECT_FALSE(l.found.has_value());
  EXPECT_TRUE(l.history.empty());
  EXPECT_EQ(s->commits(), commits_before);

  // The writer goes on; nothing of the failed batch is visible, now or after a reopen.
  EXPECT_EQ(load(*s, "c1").history.size(), 2u);
  EXPECT_FALSE(load(*s, "c2").found.has_value());
  s.reset();
  s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(load(*s, "c1").history.size(), 2u);
  const turn_result retry = append(*s, make_turn("c1", "m-1", 2));
  EXPECT_TRUE(retry.st.ok) << retry.st.error;
  EXPECT_FALSE(retry.duplicate);
}

}  // namespace
}  // namespace shouhou::store::testing
