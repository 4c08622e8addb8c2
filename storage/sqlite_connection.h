// The SQLite engine behind storage/sql.h: statements prepared once per connection and reused,
// and SQLite's errors turned into StorageError. Internal to storage/.
//
// Preparing is most of the CPU time of a short call (parsing the SQL and resolving the schema on
// every statement), so each connection keeps its prepared statements, up to a limit. A
// statement already in use (the same SQL nested in its own loop) or one beyond the limit is
// prepared afresh and finalized when released.
#ifndef MEDIATION_STORAGE_SQLITE_CONNECTION_H_
#define MEDIATION_STORAGE_SQLITE_CONNECTION_H_

#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "absl/strings/string_view.h"
#include "storage/sql.h"

namespace mediation::storage {

// The StorageError for a SQLite exception: kBusy for BUSY/LOCKED, kFull for FULL,
// kConstraint for CONSTRAINT, kOther otherwise; the engine code is the extended result code.
StorageError FromSqliteException(const SQLite::Exception& e);

class SqliteConnection final : public SqlConnection {
 public:
  // `db` must outlive this.
  explicit SqliteConnection(SQLite::Database& db) : db_(db) {}
  ~SqliteConnection() override;

  Engine engine() const override { return Engine::kSqlite; }
  StatementImpl* Acquire(const std::string& sql) override;
  void Release(StatementImpl* statement) override;
  int64_t LastInsertId() override { return db_.getLastInsertRowid(); }

  SQLite::Database& db() { return db_; }
  size_t cached() const { return cache_.size(); }

 private:
  static constexpr size_t kCapacity = 512;
  SQLite::Database& db_;
  std::unordered_map<std::string, std::unique_ptr<StatementImpl>> cache_;
};

// Runs `body` (which uses SQLiteCpp directly: migrations, backups) and turns an exception into a
// status. `body` returns absl::Status or absl::StatusOr<T>.
template <typename Fn>
auto SqliteGuard(absl::string_view operation, Fn&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const SQLite::Exception& e) {
    return StatusFromStorageError(FromSqliteException(e), operation);
  } catch (const StorageError& e) {
    return StatusFromStorageError(e, operation);
  }
}

// The SQLite database under a transaction of a SQLite store. REQUIRES: tx.engine() == kSqlite.
SQLite::Database& SqliteDatabaseOf(Tx& tx);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_SQLITE_CONNECTION_H_
