#include "storage/audit.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

// `transport` comes last and is encoded only when set, so rows written before it existed keep
// their links.
constexpr char kColumns[] = "id, at, call_id, token_id, role, method, objects, outcome, transport";
constexpr int kColumnCount = 9;

// The genesis link: the "previous link" of the first row.
const std::string& Genesis() {
  static const std::string zero(SHA256_DIGEST_LENGTH, '\0');
  return zero;
}

// The canonical encoding of stored values: a type tag and, for text and blobs, the length, so
// no two different rows (nor the same digits stored as text instead of an integer) encode alike.
void AppendInteger(std::string& out, int64_t v) { absl::StrAppend(&out, "i", v, ";"); }
void AppendText(std::string& out, absl::string_view v) {
  absl::StrAppend(&out, "t", v.size(), ":", v, ";");
}
void AppendNull(std::string& out) { out += "n;"; }

void AppendColumn(std::string& out, const Column& c) {
  switch (c.type()) {
    case ValueType::kInteger:
      AppendInteger(out, c.getInt64());
      break;
    case ValueType::kText:
      AppendText(out, c.getString());
      break;
    case ValueType::kNull:
      AppendNull(out);
      break;
    case ValueType::kFloat:
      absl::StrAppend(&out, "f", c.getString(), ";");
      break;
    case ValueType::kBlob: {
      const std::string bytes = c.getString();
      absl::StrAppend(&out, "b", bytes.size(), ":", bytes, ";");
      break;
    }
  }
}

std::string Hmac(absl::string_view key, absl::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(), &length);
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

std::string Link(absl::string_view key, absl::string_view prev, absl::string_view canonical) {
  return Hmac(key, absl::StrCat("audit-v2|", prev.size(), ":", prev, "|", canonical));
}

std::string HeadMac(absl::string_view key, int64_t last_id, absl::string_view last_hash) {
  return Hmac(key, absl::StrCat("audit-head-v1|", last_id, "|", last_hash));
}

// The stored values of the row `st` is on (selected with kColumns first).
std::string CanonicalStored(Statement& st) {
  std::string out;
  for (int i = 0; i < kColumnCount; ++i) {
    if (i == kColumnCount - 1 && st.getColumn(i).isNull()) break;
    AppendColumn(out, st.getColumn(i));
  }
  return out;
}

// The same encoding, of the values AppendAudit binds.
std::string CanonicalBound(const AuditRecord& r) {
  std::string out;
  AppendInteger(out, r.id);
  AppendInteger(out, ToMicros(r.at));
  AppendText(out, r.call_id);
  if (r.token_id > 0) {
    AppendInteger(out, r.token_id);
  } else {
    AppendNull(out);
  }
  AppendText(out, v1::Role_Name(r.role));
  AppendText(out, r.method);
  AppendText(out, r.objects);
  AppendText(out, r.outcome);
  if (!r.transport.empty()) AppendText(out, r.transport);
  return out;
}

AuditRecord ReadRow(Statement& st) {
  AuditRecord r;
  r.id = st.getColumn(0).getInt64();
  r.at = FromMicros(st.getColumn(1).getInt64());
  r.call_id = st.getColumn(2).getString();
  r.token_id = OptionalId(st.getColumn(3));
  r.role = EnumFromText<v1::Role>(st.getColumn(4).getString(), v1::Role_Parse);
  r.method = st.getColumn(5).getString();
  r.objects = st.getColumn(6).getString();
  r.outcome = st.getColumn(7).getString();
  r.transport = st.getColumn(8).isNull() ? "" : st.getColumn(8).getString();
  return r;
}

std::string Blob(const Column& c) {
  if (c.isNull()) return "";
  return c.getString();
}

absl::Status RequireKey(const Tx& tx, absl::string_view operation) {
  if (tx.audit_key().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(operation, ": the audit trail's key is not set on this connection"));
  }
  return absl::OkStatus();
}

void WriteHead(Tx& tx, int64_t last_id, const std::string& last_hash) {
  const std::string mac = HeadMac(tx.audit_key(), last_id, last_hash);
  Statement st(tx,
               "INSERT INTO audit_head (id, last_id, last_hash, mac) VALUES (1, ?, ?, ?) "
               "ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, "
               "last_hash = excluded.last_hash, mac = excluded.mac");
  st.bind(1, static_cast<int64_t>(last_id));
  st.bind(2, last_hash.data(), static_cast<int>(last_hash.size()));
  st.bind(3, mac.data(), static_cast<int>(mac.size()));
  st.exec();
}

}  // namespace

absl::StatusOr<int64_t> AppendAudit(Tx& tx, const AuditRecord& record) {
  if (absl::Status s = tx.RequireWritable("append audit"); !s.ok()) return s;
  if (absl::Status s = RequireKey(tx, "append audit"); !s.ok()) return s;
  return Guard("append audit", [&]() -> absl::StatusOr<int64_t> {
    // Writers are serialised (BEGIN IMMEDIATE), so what is read here stays the last.
    // The new row follows the head, not whatever row is last now: if rows were cut off the end,
    // the next row still names the missing link, so the gap stays visible. A head that is
    // missing or does not verify (while rows exist) gives the genesis link: a visible break.
    const int64_t last_row = SelectInt64(tx, "SELECT COALESCE(MAX(id), 0) FROM audit_events");
    int64_t head_id = 0;
    std::string prev = Genesis();
    Statement head(tx, "SELECT last_id, last_hash, mac FROM audit_head WHERE id = 1");
    if (head.executeStep()) {
      const int64_t id = head.getColumn(0).getInt64();
      const std::string hash = Blob(head.getColumn(1));
      if (Blob(head.getColumn(2)) == HeadMac(tx.audit_key(), id, hash)) {
        head_id = id;
        prev = hash;
      }
    }
    AuditRecord row = record;
    row.id = std::max(last_row, head_id) + 1;
    const std::string hash = Link(tx.audit_key(), prev, CanonicalBound(row));
    Statement st(
        tx,
        "INSERT INTO audit_events (id, at, call_id, token_id, role, method, "
        "objects, outcome, prev_hash, hash, transport) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?)");
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
    if (row.transport.empty()) {
      st.bind(11);
    } else {
      st.bind(11, row.transport);
    }
    st.exec();
    WriteHead(tx, row.id, hash);
    return row.id;
  });
}

absl::StatusOr<ChainCheck> VerifyAuditChain(Tx& tx) {
  if (absl::Status s = RequireKey(tx, "verify audit chain"); !s.ok()) return s;
  return Guard("verify audit chain", [&]() -> absl::StatusOr<ChainCheck> {
    Statement st(
        tx, absl::StrCat("SELECT ", kColumns, ", prev_hash, hash FROM audit_events ORDER BY id"));
    ChainCheck check;
    auto broken = [&](int64_t row, std::string problem) {
      check.intact = false;
      check.first_broken = row;
      check.problem = absl::StrCat("row ", row, ": ", problem);
    };
    std::string expected_prev = Genesis();
    int64_t prev_id = 0;
    while (st.executeStep()) {
      const int64_t id = st.getColumn(0).getInt64();
      const std::string prev = Blob(st.getColumn(kColumnCount));
      const std::string hash = Blob(st.getColumn(kColumnCount + 1));
      ++check.rows;
      if (prev != expected_prev) {
        broken(id, absl::StrCat("does not follow row ", prev_id,
                                " (a row is missing, out of order or was inserted)"));
        break;
      }
      if (hash != Link(tx.audit_key(), prev, CanonicalStored(st))) {
        broken(id, "its contents do not match its link (edited)");
        break;
      }
      expected_prev = hash;
      prev_id = id;
    }
    check.head_hash = absl::BytesToHexString(expected_prev);
    if (!check.intact) return check;

    Statement head(tx, "SELECT last_id, last_hash, mac FROM audit_head WHERE id = 1");
    if (!head.executeStep()) {
      if (check.rows > 0) broken(prev_id, "the trail's head record is missing");
      return check;
    }
    const int64_t last_id = head.getColumn(0).getInt64();
    const std::string last_hash = Blob(head.getColumn(1));
    if (Blob(head.getColumn(2)) != HeadMac(tx.audit_key(), last_id, last_hash)) {
      broken(prev_id, "the trail's head record was altered");
    } else if (last_id != prev_id || last_hash != expected_prev) {
      broken(prev_id + 1,
             absl::StrCat("missing: the trail ends at row ", prev_id, " but its head names row ",
                          last_id, " (rows were cut off the end)"));
    }
    return check;
  });
}

absl::StatusOr<int64_t> LinkUnchainedAuditRows(Tx& tx) {
  if (absl::Status s = tx.RequireWritable("link audit rows"); !s.ok()) return s;
  if (absl::Status s = RequireKey(tx, "link audit rows"); !s.ok()) return s;
  return Guard("link audit rows", [&]() -> absl::StatusOr<int64_t> {
    if (SelectInt64(tx, "SELECT COUNT(*) FROM audit_events WHERE hash IS NOT NULL") > 0) {
      return 0;
    }
    Statement st(tx, absl::StrCat("SELECT ", kColumns, " FROM audit_events ORDER BY id"));
    std::vector<std::pair<int64_t, std::string>> rows;
    while (st.executeStep()) rows.emplace_back(st.getColumn(0).getInt64(), CanonicalStored(st));
    Statement update(tx, "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?");
    std::string prev = Genesis();
    for (const auto& [id, canonical] : rows) {
      const std::string hash = Link(tx.audit_key(), prev, canonical);
      update.reset();
      update.bind(1, prev.data(), static_cast<int>(prev.size()));
      update.bind(2, hash.data(), static_cast<int>(hash.size()));
      update.bind(3, static_cast<int64_t>(id));
      update.exec();
      prev = hash;
    }
    if (!rows.empty()) WriteHead(tx, rows.back().first, prev);
    return static_cast<int64_t>(rows.size());
  });
}

absl::StatusOr<std::vector<AuditRecord>> ListAudit(Tx& tx, const AuditFilter& filter,
                                                   const PageCursor& cursor) {
  return Guard("list audit", [&]() -> absl::StatusOr<std::vector<AuditRecord>> {
    // The object filter matches whole words of the space-separated `objects` column.
    // SQLite's instr() is PostgreSQL's strpos().
    const char* position = tx.engine() == Engine::kSqlite ? "instr" : "strpos";
    Statement st(tx, absl::StrCat("SELECT ", kColumns,
                                  " FROM audit_events WHERE (?1 = 0 OR id < ?1) AND (?2 = 0 OR "
                                  "token_id = ?2) AND (?3 = '' OR ",
                                  position,
                                  "(' ' || objects || ' ', ' ' || ?3 || ' ') > 0) ORDER BY id "
                                  "DESC LIMIT ?4"));
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
