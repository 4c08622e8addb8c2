#include "storage/sqlite_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <exception>

#include "absl/strings/str_cat.h"
#include "storage/sql_util.h"

namespace mediation::storage {

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  return Guard(
      absl::StrCat("open database ", options.path),
      [&]() -> absl::StatusOr<std::unique_ptr<SqliteStore>> {
        auto db = std::make_unique<SQLite::Database>(
            options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX);
        db->setBusyTimeout(static_cast<int>(options.busy_timeout.count()));
        const std::string mode = db->execAndGet("PRAGMA journal_mode = WAL").getString();
        if (mode != "wal") {
          return absl::FailedPreconditionError(
              absl::StrCat("could not switch ", options.path, " to WAL mode (got '", mode, "')"));
        }
        // Every acknowledged write must survive a power cut, not only a process crash.
        db->exec("PRAGMA synchronous = FULL");
        db->exec("PRAGMA foreign_keys = ON");
        // Deleted content (destroyed keys and notes, forgotten responses) is overwritten with
        // zeros, not left in free pages. Debian's SQLite does this by default; say so anyway.
        db->exec("PRAGMA secure_delete = ON");
        // Reads dominate (an allocation proposal reads the whole roster): keep up to 64 MiB of
        // pages per connection, and map the file rather than copy it in page by page.
        db->exec("PRAGMA cache_size = -65536");
        db->exec("PRAGMA mmap_size = 268435456");
        return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db), options.audit_key));
      });
}

SqliteStore::SqliteStore(std::unique_ptr<SQLite::Database> db, std::string audit_key)
    : db_(std::move(db)), audit_key_(std::move(audit_key)) {}

SqliteStore::~SqliteStore() = default;

absl::Status SqliteStore::Read(const TxFn& fn) { return Run(fn, /*writable=*/false); }

absl::Status SqliteStore::Write(const TxFn& fn) { return Run(fn, /*writable=*/true); }

absl::Status SqliteStore::Run(const TxFn& fn, bool writable) {
  absl::Status status = Guard("begin transaction", [&]() -> absl::Status {
    db_->exec(writable ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    return absl::OkStatus();
  });
  if (!status.ok()) return status;

  Tx tx(*db_, writable, audit_key_);
  try {
    status = fn(tx);
  } catch (const SQLite::Exception& e) {
    status = StatusFromSqlite(e, "transaction");
  } catch (const std::exception& e) {
    status = absl::InternalError(absl::StrCat("transaction threw: ", e.what()));
  }
  if (status.ok()) {
    status = Guard("commit", [&]() -> absl::Status {
      db_->exec("COMMIT");
      return absl::OkStatus();
    });
    if (status.ok()) return status;
  }
  // SQLite may already have rolled back by itself (for example after SQLITE_FULL).
  if (sqlite3_get_autocommit(db_->getHandle()) == 0) {
    try {
      db_->exec("ROLLBACK");
    } catch (const SQLite::Exception&) {
      // Nothing more can be done; the connection reports the original failure.
    }
  }
  return status;
}

absl::StatusOr<bool> SqliteStore::TruncateLog() {
  return Guard("truncate the write-ahead log", [&]() -> absl::StatusOr<bool> {
    // The first column is 1 when a reader or writer kept the checkpoint from finishing.
    SQLite::Statement st(*db_, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (!st.executeStep()) return false;
    return st.getColumn(0).getInt() == 0;
  });
}

absl::StatusOr<MigrationResult> SqliteStore::Migrate(int target_version) {
  return storage::Migrate(*db_, target_version);
}

absl::Status SqliteStore::CheckSchemaIsCurrent() {
  absl::StatusOr<int> version = SchemaVersion(*db_);
  if (!version.ok()) return version.status();
  if (*version != LatestSchemaVersion()) {
    return absl::FailedPreconditionError(absl::StrCat("database schema is version ", *version,
                                                      "; this server needs version ",
                                                      LatestSchemaVersion()));
  }
  return absl::OkStatus();
}

StoreFactory SqliteStoreFactory(SqliteOptions options) {
  return [options]() -> absl::StatusOr<std::unique_ptr<Store>> {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
    if (!store.ok()) return store.status();
    if (absl::Status s = (*store)->CheckSchemaIsCurrent(); !s.ok()) return s;
    return std::unique_ptr<Store>(std::move(*store));
  };
}

}  // namespace mediation::storage
