#include "storage/idempotency.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/crypto.h"
#include "storage/data_keys.h"
#include "storage/master_keys.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

std::string Binding(int64_t token_id, absl::string_view key) {
  return absl::StrCat("kept-response:", token_id, ":", key);
}

// How schema versions 7 and 8 bound a response sealed with the master key.
std::string LegacyBinding(int64_t token_id, absl::string_view key) {
  return absl::StrCat("stored-response:", token_id, ":", key);
}

std::string Blob(const Column& c) { return c.getString(); }

}  // namespace

absl::StatusOr<std::optional<IdempotentCallRecord>> FindIdempotentCall(Tx& tx, int64_t token_id,
                                                                       const std::string& key) {
  absl::StatusOr<std::optional<IdempotentCallRecord>> found =
      Guard("find idempotent call", [&]() -> absl::StatusOr<std::optional<IdempotentCallRecord>> {
        Statement st(tx,
                     "SELECT method, request_sha256, sealed_response, created_at "
                     "FROM idempotent_calls WHERE token_id = ? AND idempotency_key = ?");
        st.bind(1, static_cast<int64_t>(token_id));
        st.bind(2, key);
        if (!st.executeStep()) return std::nullopt;
        IdempotentCallRecord r;
        r.token_id = token_id;
        r.key = key;
        r.method = st.getColumn(0).getString();
        r.request_sha256 = st.getColumn(1).getString();
        r.response = Blob(st.getColumn(2));
        r.created_at = FromMicros(st.getColumn(3).getInt64());
        return r;
      });
  if (!found.ok() || !found->has_value()) return found;
  absl::StatusOr<DataKey> data_key = GetDataKey(tx, KeyPurpose::kResponses, 0);
  if (!data_key.ok()) return data_key.status();
  absl::StatusOr<std::string> response =
      data_key->state == DataKey::State::kLive
          ? Open(data_key->key, (*found)->response, Binding(token_id, key))
          : absl::DataLossError("no responses key");
  if (!response.ok()) {
    return absl::DataLossError(
        absl::StrCat("the response kept for idempotency key '", key, "' does not open"));
  }
  (*found)->response = *std::move(response);
  return found;
}

absl::Status InsertIdempotentCall(Tx& tx, const IdempotentCallRecord& record) {
  if (absl::Status s = tx.RequireWritable("insert idempotent call"); !s.ok()) return s;
  absl::StatusOr<std::string> data_key =
      GetOrCreateDataKey(tx, KeyPurpose::kResponses, 0, record.created_at);
  if (!data_key.ok()) return data_key.status();
  const std::string sealed = Seal(*data_key, record.response, Binding(record.token_id, record.key));
  return Guard("insert idempotent call", [&]() -> absl::Status {
    Statement st(tx,
                 "INSERT INTO idempotent_calls (token_id, idempotency_key, method, "
                 "request_sha256, sealed_response, created_at) VALUES (?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(record.token_id));
    st.bind(2, record.key);
    st.bind(3, record.method);
    st.bind(4, record.request_sha256);
    st.bind(5, sealed.data(), static_cast<int>(sealed.size()));
    st.bind(6, static_cast<int64_t>(ToMicros(record.created_at)));
    st.exec();
    return absl::OkStatus();
  });
}

absl::StatusOr<int> ForgetIdempotentCallsBefore(Tx& tx, absl::Time cutoff) {
  if (absl::Status s = tx.RequireWritable("forget idempotent calls"); !s.ok()) return s;
  return Guard("forget idempotent calls", [&]() -> absl::StatusOr<int> {
    Statement st(tx, "DELETE FROM idempotent_calls WHERE created_at < ?");
    st.bind(1, static_cast<int64_t>(ToMicros(cutoff)));
    return st.exec();
  });
}

absl::StatusOr<int> ResealLegacyResponses(Tx& tx, int64_t master_key_id, absl::Time now) {
  if (absl::Status s = tx.RequireWritable("reseal kept responses"); !s.ok()) return s;
  if (tx.master_keys() == nullptr) {
    return absl::FailedPreconditionError("resealing kept responses needs the master keys");
  }
  struct Row {
    int64_t token_id;
    std::string key;
    std::string sealed;
  };
  absl::StatusOr<std::vector<Row>> rows =
      Guard("list kept responses", [&]() -> absl::StatusOr<std::vector<Row>> {
        Statement st(tx, "SELECT token_id, idempotency_key, sealed_response FROM idempotent_calls");
        std::vector<Row> out;
        while (st.executeStep()) {
          out.push_back(
              {st.getColumn(0).getInt64(), st.getColumn(1).getString(), Blob(st.getColumn(2))});
        }
        return out;
      });
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return 0;
  absl::StatusOr<std::string> data_key = GetOrCreateDataKey(tx, KeyPurpose::kResponses, 0, now);
  if (!data_key.ok()) return data_key.status();
  int resealed = 0;
  for (const Row& r : *rows) {
    if (Open(*data_key, r.sealed, Binding(r.token_id, r.key)).ok()) continue;
    absl::StatusOr<std::string> response =
        tx.master_keys()->Unwrap(master_key_id, LegacyBinding(r.token_id, r.key), r.sealed);
    if (!response.ok()) continue;
    const std::string sealed = Seal(*data_key, *response, Binding(r.token_id, r.key));
    absl::Status updated = Guard("reseal kept response", [&]() -> absl::Status {
      Statement st(tx,
                   "UPDATE idempotent_calls SET sealed_response = ? WHERE token_id = ? AND "
                   "idempotency_key = ?");
      st.bind(1, sealed.data(), static_cast<int>(sealed.size()));
      st.bind(2, static_cast<int64_t>(r.token_id));
      st.bind(3, r.key);
      st.exec();
      return absl::OkStatus();
    });
    if (!updated.ok()) return updated;
    ++resealed;
  }
  return resealed;
}

}  // namespace mediation::storage
