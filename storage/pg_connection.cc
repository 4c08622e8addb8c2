#include "storage/pg_connection.h"

#include <cstdlib>
#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "storage/database.h"

namespace mediation::storage {
namespace {

// PostgreSQL type OIDs (pg_type.h).
constexpr pqxx::oid kBoolOid = 16;
constexpr pqxx::oid kByteaOid = 17;
constexpr pqxx::oid kInt8Oid = 20;
constexpr pqxx::oid kInt2Oid = 21;
constexpr pqxx::oid kInt4Oid = 23;
constexpr pqxx::oid kFloat4Oid = 700;
constexpr pqxx::oid kFloat8Oid = 701;
constexpr pqxx::oid kNumericOid = 1700;

StorageError::Kind KindOfSqlState(const std::string& state) {
  if (state == "40001" || state == "40P01") return StorageError::Kind::kSerialization;
  if (absl::StartsWith(state, "23")) return StorageError::Kind::kConstraint;
  if (state == "53100") return StorageError::Kind::kFull;
  // Connection exceptions; the server shutting down or starting; a standby (read-only) where a
  // primary was expected, as after a failover until the connection is remade.
  // 08P01 (a protocol violation, such as a wrong parameter count) leaves the session usable.
  if ((absl::StartsWith(state, "08") && state != "08P01") || absl::StartsWith(state, "57P") ||
      state == "25006") {
    return StorageError::Kind::kConnection;
  }
  if (state == "55P03") return StorageError::Kind::kBusy;  // lock_not_available
  return StorageError::Kind::kOther;
}

class PgStatement final : public StatementImpl {
 public:
  PgStatement(PgConnection& conn) : conn_(conn) {}

  void Start(std::string name, std::string insert_table, bool returns_id) {
    name_ = std::move(name);
    insert_table_ = std::move(insert_table);
    returns_id_ = returns_id;
    params_.clear();
    Reset();
  }

  void BindNull(int index) override { Slot(index).reset(); }
  void BindInt64(int index, int64_t value) override { Slot(index) = absl::StrCat(value); }
  void BindDouble(int index, double value) override { Slot(index) = absl::StrCat(value); }
  void BindText(int index, absl::string_view value) override { Slot(index) = std::string(value); }
  void BindBlob(int index, absl::string_view bytes) override {
    Slot(index) = absl::StrCat("\\x", absl::BytesToHexString(bytes));
  }

  bool Step() override {
    if (!executed_) Execute();
    ++row_;
    return row_ < rows_;
  }
  int Exec() override {
    Execute();
    return static_cast<int>(result_.affected_rows());
  }

  int ColumnCount() const override { return static_cast<int>(result_.columns()); }
  ValueType Type(int index) const override {
    const pqxx::field f = Field(index);
    if (f.is_null()) return ValueType::kNull;
    switch (result_.column_type(index)) {
      case kBoolOid:
      case kInt2Oid:
      case kInt4Oid:
      case kInt8Oid:
        return ValueType::kInteger;
      case kFloat4Oid:
      case kFloat8Oid:
      case kNumericOid:
        return ValueType::kFloat;
      case kByteaOid:
        return ValueType::kBlob;
      default:
        return ValueType::kText;
    }
  }
  int64_t Int64(int index) const override {
    const pqxx::field f = Field(index);
    if (f.is_null()) return 0;
    const absl::string_view text(f.c_str(), f.size());
    if (text == "t") return 1;
    if (text == "f") return 0;
    int64_t value = 0;
    if (absl::SimpleAtoi(text, &value)) return value;
    double d = 0;
    if (absl::SimpleAtod(text, &d)) return static_cast<int64_t>(d);
    throw StorageError(absl::StrCat("column ", index, " is not a number"));
  }
  double Double(int index) const override {
    const pqxx::field f = Field(index);
    if (f.is_null()) return 0;
    double d = 0;
    if (!absl::SimpleAtod(absl::string_view(f.c_str(), f.size()), &d)) {
      throw StorageError(absl::StrCat("column ", index, " is not a number"));
    }
    return d;
  }
  std::string Text(int index) const override {
    const pqxx::field f = Field(index);
    if (f.is_null()) return std::string();
    const absl::string_view text(f.c_str(), f.size());
    if (result_.column_type(index) != kByteaOid) return std::string(text);
    if (!absl::StartsWith(text, "\\x")) {
      throw StorageError(absl::StrCat("column ", index, " is BYTEA in an unexpected format"));
    }
    return absl::HexStringToBytes(text.substr(2));
  }

  void Reset() override {
    executed_ = false;
    row_ = -1;
    rows_ = 0;
    result_ = pqxx::result();
  }

 private:
  std::optional<std::string>& Slot(int index) {
    if (index < 1) throw StorageError(absl::StrCat("parameter ", index, " out of range"));
    if (params_.size() < static_cast<size_t>(index)) params_.resize(index);
    return params_[index - 1];
  }

  pqxx::field Field(int index) const {
    if (row_ < 0 || row_ >= rows_) {
      throw StorageError("no current row");
    }
    return result_[static_cast<pqxx::result::size_type>(row_)][index];
  }

  void Execute() {
    std::vector<const char*> values;
    values.reserve(params_.size());
    for (const std::optional<std::string>& p : params_) {
      values.push_back(p.has_value() ? p->c_str() : nullptr);
    }
    try {
      result_ = conn_.work().exec_prepared(name_, pqxx::prepare::make_dynamic_params(values));
    } catch (...) {
      RethrowAsStorageError(&conn_);
    }
    executed_ = true;
    row_ = -1;
    rows_ = static_cast<int64_t>(result_.size());
    if (insert_table_.empty()) return;
    std::optional<int64_t> id;
    if (returns_id_) {
      // The ids the RETURNING added are this layer's, not rows of the statement (an INSERT
      // gives none, as on SQLite).
      if (rows_ > 0) id = result_[static_cast<pqxx::result::size_type>(rows_ - 1)][0].as<int64_t>();
      rows_ = 0;
    }
    conn_.Inserted(insert_table_, id);
  }

  PgConnection& conn_;
  std::string name_;
  std::string insert_table_;
  bool returns_id_ = false;
  std::vector<std::optional<std::string>> params_;
  pqxx::result result_;
  bool executed_ = false;
  int64_t row_ = -1;
  int64_t rows_ = 0;  // The statement's own rows in result_.
};

// The table `sql` inserts into, or "" when it is not an INSERT.
std::string InsertTable(absl::string_view sql) {
  sql = absl::StripLeadingAsciiWhitespace(sql);
  constexpr absl::string_view kInsert = "INSERT INTO ";
  if (!absl::StartsWithIgnoreCase(sql, kInsert)) return "";
  sql.remove_prefix(kInsert.size());
  size_t end = 0;
  while (end < sql.size() &&
         (absl::ascii_isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) {
    ++end;
  }
  return std::string(sql.substr(0, end));
}

}  // namespace

std::string PgPlaceholders(absl::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int highest = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      out.push_back(c);
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
      continue;
    }
    if (c != '?') {
      out.push_back(c);
      continue;
    }
    size_t j = i + 1;
    while (j < sql.size() && absl::ascii_isdigit(static_cast<unsigned char>(sql[j]))) ++j;
    int number = 0;
    if (j > i + 1) {
      (void)absl::SimpleAtoi(sql.substr(i + 1, j - i - 1), &number);
    } else {
      number = highest + 1;
    }
    if (number > highest) highest = number;
    absl::StrAppend(&out, "$", number);
    i = j - 1;
  }
  return out;
}

void RethrowAsStorageError(PgConnection* conn) {
  auto broken = [&] {
    if (conn != nullptr) conn->MarkBroken();
  };
  try {
    throw;
  } catch (const StorageError&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    broken();
    throw StorageError(StorageError::Kind::kConnection, e.what(), "08006");
  } catch (const pqxx::in_doubt_error& e) {
    broken();
    throw StorageError(StorageError::Kind::kConnection, e.what(), "08007");
  } catch (const pqxx::statement_completion_unknown& e) {
    broken();
    throw StorageError(StorageError::Kind::kConnection, e.what(), "40003");
  } catch (const pqxx::deadlock_detected& e) {
    throw StorageError(StorageError::Kind::kSerialization, e.what(), "40P01");
  } catch (const pqxx::transaction_rollback& e) {
    throw StorageError(StorageError::Kind::kSerialization, e.what(), "40001");
  } catch (const pqxx::sql_error& e) {
    const StorageError::Kind kind = KindOfSqlState(e.sqlstate());
    if (kind == StorageError::Kind::kConnection) broken();
    throw StorageError(kind, e.what(), e.sqlstate());
  } catch (const std::exception& e) {
    throw StorageError(StorageError::Kind::kOther, e.what());
  }
}

PgConnection::PgConnection(const std::string& conninfo) {
  try {
    conn_ = std::make_unique<pqxx::connection>(conninfo);
    // Errors without DETAIL lines: those quote row values (a duplicate key's email, a failing
    // row), which must not reach the server's log.
    conn_->set_verbosity(pqxx::connection_base::terse);
    work_ = std::make_unique<pqxx::nontransaction>(*conn_, "mediation");
  } catch (const std::exception& e) {
    healthy_ = false;
    throw StorageError(StorageError::Kind::kConnection,
                       HidePassword(absl::StrCat("could not connect: ", e.what()), conninfo),
                       "08001");
  }
}

PgConnection::~PgConnection() {
  idle_.clear();
  work_.reset();
  conn_.reset();
}

StatementImpl* PgConnection::Acquire(const std::string& sql) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    Prepared prepared{.name = absl::StrCat("s", prepared_.size() + 1),
                      .insert_table = InsertTable(sql)};
    std::string text = PgPlaceholders(sql);
    // An INSERT returns the id it made, saving LastInsertId a round trip.
    if (!prepared.insert_table.empty() &&
        absl::AsciiStrToUpper(sql).find("RETURNING") == std::string::npos) {
      if (const std::string& column = IdentityColumn(prepared.insert_table); !column.empty()) {
        absl::StrAppend(&text, " RETURNING ", column);
        prepared.returns_id = true;
      }
    }
    try {
      conn_->prepare(prepared.name, text);
    } catch (...) {
      RethrowAsStorageError(this);
    }
    it = prepared_.emplace(sql, std::move(prepared)).first;
  }
  std::unique_ptr<StatementImpl> statement;
  if (idle_.empty()) {
    statement = std::make_unique<PgStatement>(*this);
  } else {
    statement = std::move(idle_.back());
    idle_.pop_back();
  }
  static_cast<PgStatement*>(statement.get())
      ->Start(it->second.name, it->second.insert_table, it->second.returns_id);
  return statement.release();
}

void PgConnection::Release(StatementImpl* statement) {
  std::unique_ptr<StatementImpl> owned(statement);
  owned->Reset();
  idle_.push_back(std::move(owned));
}

const std::string& PgConnection::IdentityColumn(const std::string& table) {
  auto it = identity_columns_.find(table);
  if (it != identity_columns_.end()) return it->second;
  std::string column;
  try {
    const pqxx::result r = work_->exec(
        absl::StrCat("SELECT attname FROM pg_attribute WHERE attrelid = CAST(", work_->quote(table),
                     " AS regclass) AND attidentity <> '' LIMIT 1"));
    if (!r.empty()) column = r[0][0].c_str();
  } catch (...) {
    RethrowAsStorageError(this);
  }
  return identity_columns_.emplace(table, std::move(column)).first->second;
}

int64_t PgConnection::LastInsertId() {
  if (last_insert_table_.empty()) throw StorageError("LastInsertId before any INSERT");
  if (last_insert_id_.has_value()) return *last_insert_id_;
  const std::string table = last_insert_table_;
  // The table's identity column (id, or fee_schedules' version).
  StatementImpl* st = Acquire(
      "SELECT currval(pg_get_serial_sequence(CAST(?1 AS text), (SELECT attname FROM pg_attribute "
      "WHERE attrelid = CAST(CAST(?1 AS text) AS regclass) AND attidentity <> '' LIMIT 1)))");
  std::unique_ptr<StatementImpl, std::function<void(StatementImpl*)>> release(
      st, [this](StatementImpl* s) { Release(s); });
  st->BindText(1, table);
  if (!st->Step()) throw StorageError("currval() returned no row");
  return st->Int64(0);
}

std::string PgConnection::SelectText(const std::string& sql) {
  try {
    const pqxx::result r = work_->exec(sql);
    return r.empty() || r[0][0].is_null() ? std::string() : std::string(r[0][0].c_str());
  } catch (...) {
    RethrowAsStorageError(this);
  }
}

void PgConnection::Run(const std::string& sql) {
  try {
    work_->exec(sql);
  } catch (...) {
    RethrowAsStorageError(this);
  }
}

}  // namespace mediation::storage
