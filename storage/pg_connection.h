// The PostgreSQL engine behind storage/sql.h, on libpqxx. Internal to storage/.
//
// Statements are the operations' shared SQL with `?` and `?N` placeholders rewritten to $N,
// prepared once per connection (named s1, s2, ...) and run with text parameters: integers in
// decimal, bytes as BYTEA hex ('\x...'), so PostgreSQL infers each parameter's type from where it
// is used. Results are read whole; BYTEA values are decoded, booleans read as 1 and 0.
#ifndef MEDIATION_STORAGE_PG_CONNECTION_H_
#define MEDIATION_STORAGE_PG_CONNECTION_H_

#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/sql.h"

namespace mediation::storage {

// `sql` with SQLite's `?` and `?N` placeholders as PostgreSQL's $N (outside quoted text).
std::string PgPlaceholders(absl::string_view sql);

class PgConnection final : public SqlConnection {
 public:
  // Connects with a libpq connection string or URI. Throws StorageError (kConnection) when no
  // server could be reached.
  explicit PgConnection(const std::string& conninfo);
  ~PgConnection() override;

  Engine engine() const override { return Engine::kPostgres; }
  StatementImpl* Acquire(const std::string& sql) override;
  void Release(StatementImpl* statement) override;
  int64_t LastInsertId() override;

  // Runs `sql` (no parameters, no rows wanted): BEGIN, COMMIT, ROLLBACK, SET ...
  void Run(const std::string& sql);
  // Runs `sql` (no parameters) and returns the first column of its first row as text ("t" or
  // "f" for a boolean); "" when there is no row or the value is NULL.
  std::string SelectText(const std::string& sql);

  // False once an error said the connection is gone; the store then opens a new one.
  bool healthy() const { return healthy_; }
  void MarkBroken() { healthy_ = false; }

  pqxx::nontransaction& work() { return *work_; }
  // Called by a statement that INSERTs into `table` when it runs, with the id of the last row
  // it inserted when its RETURNING gave one (LastInsertId then needs no round trip; otherwise
  // it reads that table's id sequence: lastval() could be a trigger's insert into another table).
  void Inserted(const std::string& table, std::optional<int64_t> id) {
    last_insert_table_ = table;
    last_insert_id_ = id;
  }
  pqxx::connection& raw() { return *conn_; }

 private:
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::nontransaction> work_;
  bool healthy_ = true;
  // Prepared statements by the operations' SQL text: their names and the table an INSERT
  // writes ("" for other statements).
  struct Prepared {
    std::string name;
    std::string insert_table;
    // The INSERT was prepared with RETURNING its table's identity column.
    bool returns_id = false;
  };
  // The identity column of `table` ("" if it has none), looked up once per connection.
  const std::string& IdentityColumn(const std::string& table);

  std::unordered_map<std::string, Prepared> prepared_;
  std::unordered_map<std::string, std::string> identity_columns_;
  std::string last_insert_table_;
  std::optional<int64_t> last_insert_id_;
  std::vector<std::unique_ptr<StatementImpl>> idle_;
};

// Called inside a catch block: rethrows the exception being handled as a StorageError (a libpqxx
// exception mapped by its kind or SQLSTATE), and marks `conn` (may be null) broken when the
// error says the connection is gone.
[[noreturn]] void RethrowAsStorageError(PgConnection* conn);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_PG_CONNECTION_H_
