// A transaction handed to the callback of Store::Read or Store::Write. The typed operations in
// storage/*.h take a Tx; they are the only code that sees SQL.
#ifndef MEDIATION_STORAGE_TX_H_
#define MEDIATION_STORAGE_TX_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace SQLite {
class Database;
class Exception;
}  // namespace SQLite

namespace mediation::storage {

class Tx {
 public:
  // `audit_key` (not owned, may be empty) keys the audit trail's links; see storage/audit.h.
  Tx(SQLite::Database& db, bool writable, absl::string_view audit_key = {})
      : db_(db), writable_(writable), audit_key_(audit_key) {}
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;

  SQLite::Database& db() { return db_; }
  bool writable() const { return writable_; }
  absl::string_view audit_key() const { return audit_key_; }

  // REQUIRES: called at the start of every write operation. Fails if this is a read transaction.
  absl::Status RequireWritable(absl::string_view operation) const;

 private:
  SQLite::Database& db_;
  bool writable_;
  absl::string_view audit_key_;
};

// Statuses made from SQLite errors carry this payload. Their messages hold SQLite's own text,
// which belongs in the server log, not in an answer to a caller.
inline constexpr absl::string_view kStorageErrorPayload = "mediation.storage/sqlite";

// Maps a SQLite error to a status: UNAVAILABLE for a busy or locked database, RESOURCE_EXHAUSTED
// for a full disk, ABORTED for a violated constraint, INTERNAL otherwise.
absl::Status StatusFromSqlite(const SQLite::Exception& e, absl::string_view operation);

// True for a status made by StatusFromSqlite.
bool IsStorageError(const absl::Status& status);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_TX_H_
