#include "storage/sqlite_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <exception>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "storage/sql_util.h"
#include "storage/sqlite_connection.h"
#include "storage/tokens.h"

namespace mediation::storage {

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  return SqliteGuard(
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
        // Reads dominate (an allocation proposal reads the whole roster): map the file rather
        // than copy it in page by page, and keep up to 16 MiB of pages per connection (1 GiB at
        // most with the default 64 workers).
        db->exec("PRAGMA cache_size = -16384");
        db->exec("PRAGMA mmap_size = 268435456");
        if (options.max_page_count > 0) {
          db->exec(absl::StrCat("PRAGMA max_page_count = ", options.max_page_count));
        }
        return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db), options));
      });
}

SqliteStore::SqliteStore(std::unique_ptr<SQLite::Database> db, const SqliteOptions& options)
    : db_(std::move(db)),
      conn_(std::make_unique<SqliteConnection>(*db_)),
      audit_key_(options.audit_key),
      master_keys_(options.master_keys),
      commit_group_(options.commit_group) {}

SqliteStore::~SqliteStore() = default;

absl::Status SqliteStore::Read(const TxFn& fn) { return Run(fn, /*writable=*/false); }

absl::Status SqliteStore::Write(const TxFn& fn) {
  if (commit_group_ == nullptr) return Run(fn, /*writable=*/true);
  return commit_group_->Write(
      fn, [this](absl::Span<CommitGroup::Request* const> batch) { RunBatch(batch); });
}

namespace {

// Runs a statement without results (BEGIN, COMMIT, SAVEPOINT...), prepared once per connection.
absl::Status Exec(SqlConnection& conn, const char* sql) {
  try {
    StatementImpl* st = conn.Acquire(sql);
    absl::Cleanup release = [&] { conn.Release(st); };
    st->Exec();
    return absl::OkStatus();
  } catch (const StorageError& e) {
    return StatusFromStorageError(e, sql);
  }
}

// Runs `fn`, turning anything it throws into a status.
absl::Status RunFn(const TxFn& fn, Tx& tx) {
  try {
    return fn(tx);
  } catch (const StorageError& e) {
    return StatusFromStorageError(e, "transaction");
  } catch (const SQLite::Exception& e) {
    return StatusFromStorageError(FromSqliteException(e), "transaction");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("transaction threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("transaction threw a non-standard exception");
  }
}

bool InTransaction(SQLite::Database& db) { return sqlite3_get_autocommit(db.getHandle()) == 0; }

// Rolls back what is left of a failed transaction. SQLite may already have rolled back by
// itself (for example after SQLITE_FULL).
void RollBack(SqliteConnection& conn) {
  if (InTransaction(conn.db())) (void)Exec(conn, "ROLLBACK");
}

}  // namespace

absl::Status SqliteStore::Run(const TxFn& fn, bool writable) {
  absl::Status status = Exec(*conn_, writable ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
  if (!status.ok()) return status;
  // The token changes this transaction begins end with it (storage/tokens.h). A write
  // transaction holds the write lock, so no other begins any meanwhile.
  const uint64_t tokens_before = TokenChangesBegun();
  Tx tx(*conn_, writable, audit_key_, master_keys_.get());
  status = RunFn(fn, tx);
  const uint64_t token_changes = TokenChangesBegun() - tokens_before;
  if (status.ok()) status = Exec(*conn_, "COMMIT");
  if (!status.ok()) RollBack(*conn_);
  EndTokenChanges(token_changes);
  return status;
}

void SqliteStore::RunBatch(absl::Span<CommitGroup::Request* const> batch) {
  if (batch.size() == 1) {
    batch[0]->status = Run(*batch[0]->fn, /*writable=*/true);
    return;
  }
  size_t next = 0;
  while (next < batch.size()) {
    if (absl::Status begun = Exec(*conn_, "BEGIN IMMEDIATE"); !begun.ok()) {
      for (; next < batch.size(); ++next) batch[next]->status = begun;
      return;
    }
    const uint64_t tokens_before = TokenChangesBegun();
    // The functions that succeeded in this transaction: they succeed only if it commits.
    std::vector<CommitGroup::Request*> held;
    absl::Status broken;  // Set when the transaction as a whole was lost.
    for (; next < batch.size() && broken.ok(); ++next) {
      CommitGroup::Request& request = *batch[next];
      request.status = Exec(*conn_, "SAVEPOINT call");
      if (!request.status.ok()) {
        broken = request.status;
        continue;
      }
      Tx tx(*conn_, /*writable=*/true, audit_key_, master_keys_.get());
      request.status = RunFn(*request.fn, tx);
      if (!InTransaction(*db_)) {
        // SQLite rolled the whole transaction back (a full disk, an I/O error): the writes
        // held in it are lost with this one, and fail with its reason.
        if (request.status.ok()) {
          request.status = absl::InternalError("the transaction was rolled back by SQLite");
        }
        broken = request.status;
        continue;
      }
      if (request.status.ok()) {
        broken = Exec(*conn_, "RELEASE call");
        if (broken.ok()) {
          held.push_back(&request);
        } else {
          request.status = broken;
        }
        continue;
      }
      // Only this function's writes are undone; the savepoint then ends.
      broken = Exec(*conn_, "ROLLBACK TO call");
      if (broken.ok()) broken = Exec(*conn_, "RELEASE call");
    }
    const uint64_t token_changes = TokenChangesBegun() - tokens_before;
    const absl::Status committed = broken.ok() ? Exec(*conn_, "COMMIT") : broken;
    if (!committed.ok()) {
      RollBack(*conn_);
      for (CommitGroup::Request* r : held) r->status = committed;
    }
    EndTokenChanges(token_changes);
  }
}

absl::StatusOr<bool> SqliteStore::TruncateLog() {
  return SqliteGuard("truncate the write-ahead log", [&]() -> absl::StatusOr<bool> {
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

absl::StatusOr<bool> SqliteMaintenance::ForgetDeletedRows() {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options_);
  if (!store.ok()) return store.status();
  return (*store)->TruncateLog();
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
