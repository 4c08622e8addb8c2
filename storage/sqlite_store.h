// The SQLite implementation of Store: one connection, opened with WAL, synchronous=FULL,
// foreign keys on and a busy timeout.
#ifndef MEDIATION_STORAGE_SQLITE_STORE_H_
#define MEDIATION_STORAGE_SQLITE_STORE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "storage/commit_group.h"
#include "storage/database.h"
#include "storage/master_keys.h"
#include "storage/schema.h"
#include "storage/sqlite_connection.h"
#include "storage/store.h"

namespace SQLite {
class Database;
}

namespace mediation::storage {

struct SqliteOptions {
  std::string path;
  // How long a connection waits for another's write lock before failing with UNAVAILABLE.
  std::chrono::milliseconds busy_timeout{5000};
  // The key of the audit trail's links (32 bytes; see storage/audit.h). Without it, appending
  // to or verifying the audit trail fails.
  std::string audit_key{};
  // The master keys that unwrap data keys (storage/data_keys.h); shared by every connection of
  // one server. Without them, sealed data cannot be read or written.
  std::shared_ptr<const MasterKeys> master_keys{};
  // Shared by every connection of one server to batch their writes into one commit (see
  // storage/commit_group.h). Without it each Write commits on its own.
  std::shared_ptr<CommitGroup> commit_group{};
  // If positive, the most pages the database may grow to on this connection (PRAGMA
  // max_page_count): a write past it fails as a full disk does. For tests.
  int64_t max_page_count = 0;
};

class SqliteStore final : public EngineStore {
 public:
  // Opens (creating if absent) the database file. Does not migrate: see OpenAndMigrate.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);

  ~SqliteStore() override;

  absl::Status Read(const TxFn& fn) override;
  absl::Status Write(const TxFn& fn) override;
  // Copies the write-ahead log into the database file and truncates it; false when a reader
  // kept it from being truncated now. See DatabaseMaintenance::ForgetDeletedRows.
  absl::StatusOr<bool> TruncateLog();

  // For the start-up connection, opened before the master key (and so the audit key) is read.
  void SetAuditKey(std::string key) override { audit_key_ = std::move(key); }
  void SetMasterKeys(std::shared_ptr<const MasterKeys> keys) override {
    master_keys_ = std::move(keys);
  }
  absl::StatusOr<MigrationResult> MigrateToLatest() override { return Migrate(); }
  Engine engine() const override { return Engine::kSqlite; }

  // Applies pending migrations; see storage/schema.h.
  absl::StatusOr<MigrationResult> Migrate(int target_version = 0);

  // Refuses a database whose schema is not exactly the one this binary writes.
  absl::Status CheckSchemaIsCurrent();

 private:
  SqliteStore(std::unique_ptr<SQLite::Database> db, const SqliteOptions& options);

  absl::Status Run(const TxFn& fn, bool writable);

  // Runs a group's batch in as few transactions as possible: one, unless a function's failure
  // made SQLite roll the whole transaction back.
  void RunBatch(absl::Span<CommitGroup::Request* const> batch);

  std::unique_ptr<SQLite::Database> db_;
  // Declared after db_: its statements are finalized before the connection closes.
  std::unique_ptr<SqliteConnection> conn_;
  std::string audit_key_;
  std::shared_ptr<const MasterKeys> master_keys_;
  std::shared_ptr<CommitGroup> commit_group_;
};

// SQLite's DatabaseMaintenance: truncates the log through a connection of its own.
class SqliteMaintenance final : public DatabaseMaintenance {
 public:
  explicit SqliteMaintenance(SqliteOptions options) : options_(std::move(options)) {}
  absl::StatusOr<bool> ForgetDeletedRows() override;

 private:
  SqliteOptions options_;
};

// A factory for per-thread connections to `options.path`, each checked against the schema.
StoreFactory SqliteStoreFactory(SqliteOptions options);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_SQLITE_STORE_H_
