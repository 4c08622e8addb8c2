#include "storage/audit.h"

#include <openssl/sha.h>

#include <array>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kColumns[] = "id, at, call_id, token_id, role, method, objects, outcome";

// The genesis link: the "previous hash" of the first row.
const std::string& Genesis() {
  static const std::string zero(SHA256_DIGEST_LENGTH, '\0');
  return zero;
}

// Length-prefixed fields, so no two different rows encode alike.
std::string Canonical(const AuditRecord& r) {
  std::string out = "audit-v1";
  for (const std::string& field :
       {absl::StrCat(r.id), absl::StrCat(ToMicros(r.at)), r.call_id, absl::StrCat(r.token_id),
        std::string(v1::Role_Name(r.role)), r.method, r.objects, r.outcome}) {
    absl::StrAppend(&out, "|", field.size(), ":", field);
  }
  return out;
}

std::string LinkHash(const std::string& prev, const AuditRecord& r) {
  const std::string data = prev + Canonical(r);
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

AuditRecord ReadRow(SQLite::Statement& st) {
  AuditRecord r;
  r.id = st.getColumn(0).getInt64();
  r.at = FromMicros(st.getColumn(1).getInt64());
  r.call_id = st.getColumn(2).getString();
  r.token_id = OptionalId(st.getColumn(3));
  r.role = EnumFromText<v1::Role>(st.getColumn(4).getString(), v1::Role_Parse);
  r.method = st.getColumn(5).getString();
  r.objects = st.getColumn(6).getString();
  r.outcome = st.getColumn(7).getString();
  return r;
}

std::string Blob(const SQLite::Column& c) {
  if (c.isNull()) return "";
  return std::string(static_cast<const char*>(c.getBlob()), c.getBytes());
}

}  // namespace

absl::StatusOr<int64_t> AppendAudit(Tx& tx, const AuditRecord& record) {
  if (absl::Status s = tx.RequireWritable("append audit"); !s.ok()) return s;
  return Guard("append audit", [&]() -> absl::StatusOr<int64_t> {
    // Writers are serialised (BEGIN IMMEDIATE), so the last row read here stays the last.
    SQLite::Statement last(tx.db(), "SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1");
    int64_t prev_id = 0;
    std::string prev = Genesis();
    if (last.executeStep()) {
      prev_id = last.getColumn(0).getInt64();
      prev = Blob(last.getColumn(1));
    }
    AuditRecord row = record;
    row.id = prev_id + 1;
    const std::string hash = LinkHash(prev, row);
    SQLite::Statement st(
        tx.db(),
        "INSERT INTO audit_events (id, at, call_id, token_id, role, method, "
        "objects, outcome, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(row.id));
    st.bind(2, static_cast<int64_t>(ToMicros(row.at)));
    st.bind(3, row.call_id);
    BindOptionalId(st, 4, row.token_id);
    st.bind(5, v1::Role_Name(row.role));
    st.bind(6, row.method);
    st.bind(7, row.objects);
    st.bind(8, row.outcome);
    st.bind(9, prev.data(), static_cast<int>(prev.size()));
    st.bind(10, hash.data(), static_cast<int>(hash.size()));
    st.exec();
    return row.id;
  });
}

absl::StatusOr<ChainCheck> VerifyAuditChain(Tx& tx) {
  return Guard("verify audit chain", [&]() -> absl::StatusOr<ChainCheck> {
    SQLite::Statement st(tx.db(), absl::StrCat("SELECT ", kColumns,
                                               ", prev_hash, hash FROM audit_events ORDER BY id"));
    ChainCheck check;
    std::string expected_prev = Genesis();
    int64_t expected_id = 1;
    while (st.executeStep()) {
      const AuditRecord row = ReadRow(st);
      const std::string prev = Blob(st.getColumn(8));
      const std::string hash = Blob(st.getColumn(9));
      ++check.rows;
      auto broken = [&](std::string problem) {
        check.intact = false;
        check.first_broken = row.id;
        check.problem = absl::StrCat("row ", row.id, ": ", problem);
      };
      if (prev != expected_prev || row.id != expected_id) {
        broken(absl::StrCat("does not follow row ", expected_id - 1,
                            " (a row is missing or out of order)"));
        break;
      }
      if (hash != LinkHash(prev, row)) {
        broken("its contents do not match its hash (edited)");
        break;
      }
      expected_prev = hash;
      expected_id = row.id + 1;
    }
    check.head_hash = absl::BytesToHexString(expected_prev);
    return check;
  });
}

absl::Status BackfillAuditChain(SQLite::Database& db) {
  SQLite::Statement st(db, absl::StrCat("SELECT ", kColumns, " FROM audit_events ORDER BY id"));
  std::vector<AuditRecord> rows;
  while (st.executeStep()) rows.push_back(ReadRow(st));
  st.reset();
  SQLite::Statement update(db,
                           "UPDATE audit_events SET id = ?, prev_hash = ?, hash = ? WHERE id = ?");
  std::string prev = Genesis();
  int64_t id = 0;
  for (AuditRecord& r : rows) {
    // Renumber densely, so the chain's ids run 1, 2, 3... like rows appended from now on.
    const int64_t old_id = r.id;
    r.id = ++id;
    const std::string hash = LinkHash(prev, r);
    update.reset();
    update.bind(1, static_cast<int64_t>(r.id));
    update.bind(2, prev.data(), static_cast<int>(prev.size()));
    update.bind(3, hash.data(), static_cast<int>(hash.size()));
    update.bind(4, static_cast<int64_t>(old_id));
    update.exec();
    prev = hash;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AuditRecord>> ListAudit(Tx& tx, const AuditFilter& filter,
                                                   const PageCursor& cursor) {
  return Guard("list audit", [&]() -> absl::StatusOr<std::vector<AuditRecord>> {
    // The object filter matches whole words of the space-separated `objects` column.
    SQLite::Statement st(tx.db(),
                         absl::StrCat("SELECT ", kColumns,
                                      " FROM audit_events WHERE (?1 = 0 OR id < ?1) AND (?2 = 0 OR "
                                      "token_id = ?2) AND (?3 = '' OR instr(' ' || objects || "
                                      "' ', ' ' || ?3 || ' ') > 0) ORDER BY id DESC LIMIT ?4"));
    st.bind(1, static_cast<int64_t>(cursor.after_id));
    st.bind(2, static_cast<int64_t>(filter.token_id));
    st.bind(3, filter.object);
    st.bind(4, cursor.limit);
    std::vector<AuditRecord> rows;
    while (st.executeStep()) rows.push_back(ReadRow(st));
    return rows;
  });
}

}  // namespace mediation::storage
