// The SQL the typed operations (storage/*.h) run, over either engine.
//
// The operations are written once, in SQL both SQLite and PostgreSQL accept: `?` placeholders
// (PostgreSQL's are rewritten to $1, $2, ...), integers for instants, booleans and ids, TEXT for
// text and BLOB/BYTEA for bytes. Where the dialects differ, an operation asks
// `tx.engine()` and gives each its own SQL. Each engine implements SqlConnection and
// StatementImpl; Statement and Column are the only face the operations see.
//
// Errors are thrown as StorageError and turned into a status by Guard (storage/sql_util.h) or by
// the store's transaction runner: nothing thrown crosses the storage boundary.
//
// Internal to storage/ (and tests that inspect rows); nothing above the storage layer includes it.
#ifndef MEDIATION_STORAGE_SQL_H_
#define MEDIATION_STORAGE_SQL_H_

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/tx.h"

namespace mediation::storage {

// What went wrong in the database, as far as a caller can act on it.
class StorageError : public std::runtime_error {
 public:
  enum class Kind {
    kBusy,           // Another connection held a lock too long (SQLite BUSY/LOCKED).
    kFull,           // The disk (or the database's size limit) is full.
    kConstraint,     // A constraint, trigger or exclusion refused the change.
    kConnection,     // The connection to the database server was lost or could not be made.
    kSerialization,  // A concurrent transaction won (PostgreSQL 40001/40P01): run it again.
    kOther,          // Anything else: a bug or corruption.
  };

  StorageError(Kind kind, const std::string& message, std::string engine_code = {})
      : std::runtime_error(message), kind_(kind), engine_code_(std::move(engine_code)) {}
  // Corruption found by the storage code itself (an unknown stored enum, say).
  explicit StorageError(const std::string& message) : StorageError(Kind::kOther, message) {}

  Kind kind() const { return kind_; }
  // The engine's own code: SQLite's extended result code, or PostgreSQL's SQLSTATE.
  const std::string& engine_code() const { return engine_code_; }

 private:
  Kind kind_;
  std::string engine_code_;
};

// A status for `e`: UNAVAILABLE for a busy database or a lost connection, RESOURCE_EXHAUSTED for
// a full disk, ABORTED for a violated constraint or a lost serialization race, INTERNAL
// otherwise. It carries kStorageErrorPayload (see IsStorageError): its message holds the
// engine's own text, which belongs in the server log, not in an answer to a caller.
absl::Status StatusFromStorageError(const StorageError& e, absl::string_view operation);

// The type of a value read: SQLite's storage classes, which PostgreSQL's column types map onto.
enum class ValueType { kNull, kInteger, kFloat, kText, kBlob };

// The engine's side of one prepared statement. Owned by its SqlConnection.
class StatementImpl {
 public:
  virtual ~StatementImpl() = default;

  // Parameters are numbered from 1.
  virtual void BindNull(int index) = 0;
  virtual void BindInt64(int index, int64_t value) = 0;
  virtual void BindDouble(int index, double value) = 0;
  virtual void BindText(int index, absl::string_view value) = 0;
  virtual void BindBlob(int index, absl::string_view bytes) = 0;

  // Runs the statement on first call; then moves to the next row. False when there is none.
  virtual bool Step() = 0;
  // Runs the statement to the end; returns the number of rows it changed.
  virtual int Exec() = 0;

  // The current row's columns, numbered from 0.
  virtual int ColumnCount() const = 0;
  virtual ValueType Type(int index) const = 0;
  virtual int64_t Int64(int index) const = 0;
  virtual double Double(int index) const = 0;
  // Text, or for a BLOB/BYTEA column its bytes.
  virtual std::string Text(int index) const = 0;

  // Makes the statement runnable again, keeping its bindings.
  virtual void Reset() = 0;
};

// One connection to the database, used by one thread at a time.
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  virtual Engine engine() const = 0;
  // A statement for `sql`, prepared once per connection where possible. Give it back with
  // Release; it must be released before the connection is destroyed.
  virtual StatementImpl* Acquire(const std::string& sql) = 0;
  virtual void Release(StatementImpl* statement) = 0;
  // The id of the row the last INSERT into a table with an id column made.
  virtual int64_t LastInsertId() = 0;
};

// One column of a statement's current row. Valid until the statement steps on.
class Column {
 public:
  Column(const StatementImpl& statement, int index) : st_(&statement), index_(index) {}

  ValueType type() const { return st_->Type(index_); }
  bool isNull() const { return type() == ValueType::kNull; }
  bool isBlob() const { return type() == ValueType::kBlob; }
  int64_t getInt64() const { return st_->Int64(index_); }
  int getInt() const { return static_cast<int>(st_->Int64(index_)); }
  double getDouble() const { return st_->Double(index_); }
  // Text, or a blob's bytes.
  std::string getString() const { return st_->Text(index_); }

 private:
  const StatementImpl* st_;
  int index_;
};

// A statement of the transaction's connection, given back when this goes out of scope.
class Statement {
 public:
  Statement(Tx& tx, const std::string& sql) : conn_(&tx.connection()), st_(conn_->Acquire(sql)) {}
  ~Statement() { conn_->Release(st_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index) { st_->BindNull(index); }
  template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
  void bind(int index, T value) {
    st_->BindInt64(index, static_cast<int64_t>(value));
  }
  void bind(int index, double value) { st_->BindDouble(index, value); }
  void bind(int index, const std::string& value) { st_->BindText(index, value); }
  void bind(int index, const char* value) { st_->BindText(index, value); }
  // A BLOB (SQLite) or BYTEA (PostgreSQL).
  void bind(int index, const void* data, int size) {
    st_->BindBlob(index, absl::string_view(static_cast<const char*>(data), size));
  }
  void bindBlob(int index, absl::string_view bytes) { st_->BindBlob(index, bytes); }

  bool executeStep() { return st_->Step(); }
  int exec() { return st_->Exec(); }
  void reset() { st_->Reset(); }

  Column getColumn(int index) const { return Column(*st_, index); }
  bool isColumnNull(int index) const { return st_->Type(index) == ValueType::kNull; }
  int getColumnCount() const { return st_->ColumnCount(); }

 private:
  SqlConnection* conn_;
  StatementImpl* st_;
};

// The first column of the first row of `sql`, which must return a row.
int64_t SelectInt64(Tx& tx, const std::string& sql);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_SQL_H_
