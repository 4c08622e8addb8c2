#include "storage/tx.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "storage/crypto.h"
#include "storage/sql.h"

namespace mediation::storage {

Tx::~Tx() {
  for (auto& [purpose_and_case, key] : unwrapped_keys_) Wipe(key);
}

Engine Tx::engine() const { return connection_.engine(); }

int64_t Tx::LastInsertId() { return connection_.LastInsertId(); }

absl::Status Tx::RequireWritable(absl::string_view operation) const {
  if (writable_) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(operation, ": write attempted in a read transaction"));
}

absl::Status StatusFromStorageError(const StorageError& e, absl::string_view operation) {
  const std::string detail = absl::StrCat(operation, ": ", e.what());
  absl::Status status;
  switch (e.kind()) {
    case StorageError::Kind::kBusy:
      status = absl::UnavailableError(absl::StrCat("database busy (", detail, ")"));
      break;
    case StorageError::Kind::kConnection:
      status = absl::UnavailableError(absl::StrCat("database unreachable (", detail, ")"));
      break;
    case StorageError::Kind::kFull:
      status = absl::ResourceExhaustedError(absl::StrCat("disk full (", detail, ")"));
      break;
    case StorageError::Kind::kConstraint:
      status = absl::AbortedError(absl::StrCat("constraint violated (", detail, ")"));
      break;
    case StorageError::Kind::kSerialization:
      status = absl::AbortedError(absl::StrCat("concurrent change (", detail, ")"));
      break;
    case StorageError::Kind::kOther:
      status = absl::InternalError(detail);
      break;
  }
  status.SetPayload(kStorageErrorPayload, absl::Cord(e.engine_code()));
  return status;
}

bool IsStorageError(const absl::Status& status) {
  return status.GetPayload(kStorageErrorPayload).has_value();
}

int64_t SelectInt64(Tx& tx, const std::string& sql) {
  Statement st(tx, sql);
  if (!st.executeStep()) throw StorageError(absl::StrCat("no row from: ", sql));
  return st.getColumn(0).getInt64();
}

}  // namespace mediation::storage
