#include "storage/audit.h"

#include "storage/sql_util.h"

namespace mediation::storage {

absl::StatusOr<int64_t> AppendAudit(Tx& tx, const AuditRecord& record) {
  if (absl::Status s = tx.RequireWritable("append audit"); !s.ok()) return s;
  return Guard("append audit", [&]() -> absl::StatusOr<int64_t> {
    SQLite::Statement st(tx.db(),
                         "INSERT INTO audit_events (at, call_id, token_id, role, method, objects, "
                         "outcome) VALUES (?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(ToMicros(record.at)));
    st.bind(2, record.call_id);
    BindOptionalId(st, 3, record.token_id);
    st.bind(4, v1::Role_Name(record.role));
    st.bind(5, record.method);
    st.bind(6, record.objects);
    st.bind(7, record.outcome);
    st.exec();
    return tx.db().getLastInsertRowid();
  });
}

absl::StatusOr<std::vector<AuditRecord>> ListAudit(Tx& tx, const AuditFilter& filter,
                                                   const PageCursor& cursor) {
  return Guard("list audit", [&]() -> absl::StatusOr<std::vector<AuditRecord>> {
    // The object filter matches whole words of the space-separated `objects` column.
    SQLite::Statement st(
        tx.db(),
        "SELECT id, at, call_id, token_id, role, method, objects, outcome "
        "FROM audit_events WHERE (?1 = 0 OR id < ?1) AND (?2 = 0 OR token_id = ?2) "
        "AND (?3 = '' OR instr(' ' || objects || ' ', ' ' || ?3 || ' ') > 0) "
        "ORDER BY id DESC LIMIT ?4");
    st.bind(1, static_cast<int64_t>(cursor.after_id));
    st.bind(2, static_cast<int64_t>(filter.token_id));
    st.bind(3, filter.object);
    st.bind(4, cursor.limit);
    std::vector<AuditRecord> rows;
    while (st.executeStep()) {
      AuditRecord r;
      r.id = st.getColumn(0).getInt64();
      r.at = FromMicros(st.getColumn(1).getInt64());
      r.call_id = st.getColumn(2).getString();
      r.token_id = OptionalId(st.getColumn(3));
      r.role = EnumFromText<v1::Role>(st.getColumn(4).getString(), v1::Role_Parse);
      r.method = st.getColumn(5).getString();
      r.objects = st.getColumn(6).getString();
      r.outcome = st.getColumn(7).getString();
      rows.push_back(std::move(r));
    }
    return rows;
  });
}

}  // namespace mediation::storage
