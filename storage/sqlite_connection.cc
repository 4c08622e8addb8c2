#include "storage/sqlite_connection.h"

#include <sqlite3.h>

#include <string>
#include <utility>

namespace mediation::storage {
namespace {

// Runs `body`, rethrowing a SQLite exception as a StorageError.
template <typename Fn>
auto Translate(Fn&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const SQLite::Exception& e) {
    throw FromSqliteException(e);
  }
}

class SqliteStatement final : public StatementImpl {
 public:
  SqliteStatement(SQLite::Database& db, const std::string& sql, bool cached)
      : st_(Translate([&] { return SQLite::Statement(db, sql); })), cached_(cached) {}

  void BindNull(int index) override {
    Translate([&] { st_.bind(index); });
  }
  void BindInt64(int index, int64_t value) override {
    Translate([&] { st_.bind(index, static_cast<int64_t>(value)); });
  }
  void BindDouble(int index, double value) override {
    Translate([&] { st_.bind(index, value); });
  }
  void BindText(int index, absl::string_view value) override {
    Translate([&] { st_.bind(index, std::string(value)); });
  }
  void BindBlob(int index, absl::string_view bytes) override {
    Translate([&] { st_.bind(index, bytes.data(), static_cast<int>(bytes.size())); });
  }

  bool Step() override {
    return Translate([&] { return st_.executeStep(); });
  }
  int Exec() override {
    return Translate([&] { return st_.exec(); });
  }

  int ColumnCount() const override { return st_.getColumnCount(); }
  ValueType Type(int index) const override {
    return Translate([&] {
      switch (st_.getColumn(index).getType()) {
        case SQLITE_INTEGER:
          return ValueType::kInteger;
        case SQLITE_FLOAT:
          return ValueType::kFloat;
        case SQLITE_TEXT:
          return ValueType::kText;
        case SQLITE_NULL:
          return ValueType::kNull;
        default:
          return ValueType::kBlob;
      }
    });
  }
  int64_t Int64(int index) const override {
    return Translate([&] { return st_.getColumn(index).getInt64(); });
  }
  double Double(int index) const override {
    return Translate([&] { return st_.getColumn(index).getDouble(); });
  }
  std::string Text(int index) const override {
    return Translate([&] { return st_.getColumn(index).getString(); });
  }

  void Reset() override {
    Translate([&] { st_.reset(); });
  }

  // Makes a cached statement ready for its next user.
  void Clear() {
    st_.tryReset();  // Its result repeats the statement's last error, already reported.
    try {
      st_.clearBindings();
    } catch (const SQLite::Exception&) {
      // Cannot happen on a reset statement; if it did, the next bind replaces every value.
    }
  }

  bool cached() const { return cached_; }
  bool in_use = false;

 private:
  mutable SQLite::Statement st_;
  bool cached_;
};

}  // namespace

StorageError FromSqliteException(const SQLite::Exception& e) {
  StorageError::Kind kind = StorageError::Kind::kOther;
  switch (e.getErrorCode() & 0xff) {  // The primary result code.
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      kind = StorageError::Kind::kBusy;
      break;
    case SQLITE_FULL:
      kind = StorageError::Kind::kFull;
      break;
    case SQLITE_CONSTRAINT:
      kind = StorageError::Kind::kConstraint;
      break;
    default:
      break;
  }
  const int code = e.getExtendedErrorCode() > 0 ? e.getExtendedErrorCode() : e.getErrorCode();
  return StorageError(kind, e.what(), std::to_string(code));
}

SqliteConnection::~SqliteConnection() = default;

StatementImpl* SqliteConnection::Acquire(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end() && cache_.size() < kCapacity) {
    // Prepared before it is stored, so SQL that fails to prepare leaves no entry.
    auto statement = std::make_unique<SqliteStatement>(db_, sql, /*cached=*/true);
    it = cache_.emplace(sql, std::move(statement)).first;
  }
  if (it != cache_.end()) {
    auto* statement = static_cast<SqliteStatement*>(it->second.get());
    if (!statement->in_use) {
      statement->in_use = true;
      return statement;
    }
  }
  return new SqliteStatement(db_, sql, /*cached=*/false);
}

void SqliteConnection::Release(StatementImpl* statement) {
  auto* st = static_cast<SqliteStatement*>(statement);
  if (!st->cached()) {
    delete st;
    return;
  }
  st->Clear();
  st->in_use = false;
}

SQLite::Database& SqliteDatabaseOf(Tx& tx) {
  return static_cast<SqliteConnection&>(tx.connection()).db();
}

}  // namespace mediation::storage
