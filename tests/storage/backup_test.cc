// Backups at the storage level: file names, a SQLite database that stays busy, and PostgreSQL,
// which the server does not back up itself.
#include "storage/backup.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "absl/time/clock.h"
#include "storage/sqlite_connection.h"
#include "tests/storage/fresh_database.h"
#include "tests/support/temp_dir.h"

namespace mediation::storage {
namespace {

using ::mediation::testing::TempDir;

TEST(BackupLabelTest, KeepsLettersAndDigitsAndJoinsTheRestWithOneDash) {
  EXPECT_EQ(SanitizeBackupLabel("before upgrade"), "before-upgrade");
  EXPECT_EQ(SanitizeBackupLabel("  ../../etc/passwd  "), "etc-passwd");
  EXPECT_EQ(SanitizeBackupLabel("Nightly_2026-12-01"), "Nightly-2026-12-01");
  EXPECT_EQ(SanitizeBackupLabel("caf\xc3\xa9 v2!"), "caf-v2");
  EXPECT_EQ(SanitizeBackupLabel("!!!"), "");
  EXPECT_EQ(SanitizeBackupLabel(""), "");
}

// A database in rollback-journal mode, where a writer's EXCLUSIVE lock keeps readers out (in WAL
// mode nothing a writer does can), and a second connection holding that lock.
class BusyBackupTest : public ::testing::Test {
 protected:
  BusyBackupTest()
      : source_(dir_.File("source.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE),
        locker_(dir_.File("source.db"), SQLite::OPEN_READWRITE) {
    source_.exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)");
    source_.exec("INSERT INTO schema_migrations VALUES (7, 0)");
    source_.setBusyTimeout(0);
    locker_.exec("BEGIN EXCLUSIVE");
    locker_.exec("INSERT INTO schema_migrations VALUES (8, 0)");
  }

  void SetUp() override { MEDIATION_SQLITE_ONLY("SQLite's online backup and its file locks"); }

  BackupOptions Options() {
    return {.dir = dir_.File("backups"),
            .label = "busy",
            .taken_at = absl::FromUnixSeconds(1'780'000'000),
            .busy_limit = absl::Milliseconds(300)};
  }

  size_t FilesInBackupDir() {
    std::error_code ec;
    size_t n = 0;
    for ([[maybe_unused]] const auto& e :
         std::filesystem::directory_iterator(dir_.File("backups"), ec)) {
      ++n;
    }
    return n;
  }

  TempDir dir_;
  SQLite::Database source_;
  SQLite::Database locker_;
};

TEST_F(BusyBackupTest, ADatabaseBusyPastTheLimitIsUnavailableAndLeavesNoFile) {
  source_.exec("BEGIN");
  SqliteConnection conn(source_);
  Tx tx(conn, /*writable=*/false);
  const absl::Time start = absl::Now();
  absl::StatusOr<BackupFile> file = BackupDatabase(tx, Options());
  const absl::Duration waited = absl::Now() - start;
  source_.exec("ROLLBACK");

  EXPECT_EQ(file.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(file.status().message(),
            "the database stayed busy for 300ms; no backup was written; try again later");
  EXPECT_GE(waited, absl::Milliseconds(200));
  EXPECT_LT(waited, absl::Seconds(2));
  EXPECT_EQ(FilesInBackupDir(), 0u);
}

TEST_F(BusyBackupTest, ABackupWaitsOutAShortLockAndCopiesWhatWasCommitted) {
  std::thread release([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    locker_.exec("COMMIT");
  });
  source_.exec("BEGIN");
  SqliteConnection conn(source_);
  Tx tx(conn, /*writable=*/false);
  absl::StatusOr<BackupFile> file = BackupDatabase(tx, Options());
  source_.exec("ROLLBACK");
  release.join();

  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->file_name, "mediation-20260528T202640Z-busy.db");
  EXPECT_EQ(file->schema_version, 8);
  EXPECT_EQ(FilesInBackupDir(), 1u);
  SQLite::Database copy(file->path, SQLite::OPEN_READONLY);
  EXPECT_EQ(copy.execAndGet("SELECT COUNT(*) FROM schema_migrations").getInt(), 2);
  EXPECT_EQ(copy.execAndGet("PRAGMA integrity_check").getString(), "ok");
  EXPECT_EQ(copy.execAndGet("PRAGMA journal_mode").getString(), "delete");
}

// storage/store.h: backups are the engine's; on PostgreSQL they are pg_dump's or
// pg_basebackup's, and BackupDatabase says so rather than write anything.
TEST(PostgresBackupTest, IsRefusedAndWritesNothing) {
  MEDIATION_POSTGRES_ONLY("SQLite's backups are tested above");
  FreshDatabase db;
  absl::StatusOr<std::unique_ptr<EngineStore>> store = db.Open();
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->MigrateToLatest().ok());
  const std::string dir = db.dir().File("backups");
  absl::StatusOr<BackupFile> file;
  ASSERT_TRUE((*store)
                  ->Read([&](Tx& tx) -> absl::Status {
                    file = BackupDatabase(
                        tx, {.dir = dir, .label = "nightly", .taken_at = absl::Now()});
                    return absl::OkStatus();
                  })
                  .ok());

  EXPECT_EQ(file.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(file.status().message().find("pg_dump"), std::string::npos) << file.status();
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace mediation::storage
