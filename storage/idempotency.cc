#include "storage/idempotency.h"

#include "storage/sql_util.h"

namespace mediation::storage {

absl::StatusOr<std::optional<IdempotentCallRecord>> FindIdempotentCall(Tx& tx, int64_t token_id,
                                                                       const std::string& key) {
  return Guard("find idempotent call",
               [&]() -> absl::StatusOr<std::optional<IdempotentCallRecord>> {
                 Statement st(tx.db(),
                              "SELECT method, request_sha256, sealed_response, created_at "
                              "FROM idempotent_calls WHERE token_id = ? AND "
                              "idempotency_key = ?");
                 st.bind(1, static_cast<int64_t>(token_id));
                 st.bind(2, key);
                 if (!st.executeStep()) return std::nullopt;
                 IdempotentCallRecord r;
                 r.token_id = token_id;
                 r.key = key;
                 r.method = st.getColumn(0).getString();
                 r.request_sha256 = st.getColumn(1).getString();
                 r.sealed_response.assign(static_cast<const char*>(st.getColumn(2).getBlob()),
                                          st.getColumn(2).getBytes());
                 r.created_at = FromMicros(st.getColumn(3).getInt64());
                 return r;
               });
}

absl::Status InsertIdempotentCall(Tx& tx, const IdempotentCallRecord& record) {
  if (absl::Status s = tx.RequireWritable("insert idempotent call"); !s.ok()) return s;
  return Guard("insert idempotent call", [&]() -> absl::Status {
    Statement st(tx.db(),
                 "INSERT INTO idempotent_calls (token_id, idempotency_key, method, "
                 "request_sha256, sealed_response, created_at) VALUES (?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(record.token_id));
    st.bind(2, record.key);
    st.bind(3, record.method);
    st.bind(4, record.request_sha256);
    st.bind(5, record.sealed_response.data(), static_cast<int>(record.sealed_response.size()));
    st.bind(6, static_cast<int64_t>(ToMicros(record.created_at)));
    st.exec();
    return absl::OkStatus();
  });
}

absl::StatusOr<int> ForgetIdempotentCallsBefore(Tx& tx, absl::Time cutoff) {
  if (absl::Status s = tx.RequireWritable("forget idempotent calls"); !s.ok()) return s;
  return Guard("forget idempotent calls", [&]() -> absl::StatusOr<int> {
    Statement st(tx.db(), "DELETE FROM idempotent_calls WHERE created_at < ?");
    st.bind(1, static_cast<int64_t>(ToMicros(cutoff)));
    return st.exec();
  });
}

}  // namespace mediation::storage
