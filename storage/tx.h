// A transaction handed to the callback of Store::Read or Store::Write. The typed operations in
// storage/*.h take a Tx; they are the only code that sees SQL.
#ifndef MEDIATION_STORAGE_TX_H_
#define MEDIATION_STORAGE_TX_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace mediation::storage {

class MasterKeys;
class SqlConnection;

// The database engines a Store can run on.
enum class Engine { kSqlite, kPostgres };

class Tx {
 public:
  // `audit_key` (not owned, may be empty) keys the audit trail's links; see storage/audit.h.
  // `master_keys` (not owned, may be null) unwrap data keys; see storage/data_keys.h. Without
  // them, operations on sealed data fail with FAILED_PRECONDITION.
  Tx(SqlConnection& connection, bool writable, absl::string_view audit_key = {},
     const MasterKeys* master_keys = nullptr)
      : connection_(connection),
        writable_(writable),
        audit_key_(audit_key),
        master_keys_(master_keys) {}
  ~Tx();
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;

  // The connection its statements run on (storage/sql.h).
  SqlConnection& connection() { return connection_; }
  Engine engine() const;
  // The id the last INSERT of this transaction gave its row.
  int64_t LastInsertId();
  bool writable() const { return writable_; }
  absl::string_view audit_key() const { return audit_key_; }
  const MasterKeys* master_keys() const { return master_keys_; }

  // Data keys unwrapped in this transaction, by purpose and case (storage/data_keys.cc), so a
  // list of many rows of one case unwraps its key once. Wiped when the transaction ends.
  std::map<std::pair<int, int64_t>, std::string>& unwrapped_keys() { return unwrapped_keys_; }

  // REQUIRES: called at the start of every write operation. Fails if this is a read transaction.
  absl::Status RequireWritable(absl::string_view operation) const;

 private:
  SqlConnection& connection_;
  bool writable_;
  absl::string_view audit_key_;
  const MasterKeys* master_keys_;
  std::map<std::pair<int, int64_t>, std::string> unwrapped_keys_;
};

// Statuses made from database errors carry this payload. Their messages hold the engine's own
// text, which belongs in the server log, not in an answer to a caller.
inline constexpr absl::string_view kStorageErrorPayload = "mediation.storage/engine";

// True for a status made by StatusFromStorageError (storage/sql.h).
bool IsStorageError(const absl::Status& status);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_TX_H_
