#include "storage/tx.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "storage/crypto.h"

namespace mediation::storage {

Tx::~Tx() {
  for (auto& [purpose_and_case, key] : unwrapped_keys_) Wipe(key);
}

absl::Status Tx::RequireWritable(absl::string_view operation) const {
  if (writable_) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(operation, ": write attempted in a read transaction"));
}

absl::Status StatusFromSqlite(const SQLite::Exception& e, absl::string_view operation) {
  const std::string detail = absl::StrCat(operation, ": ", e.what());
  absl::Status status;
  switch (e.getErrorCode() & 0xff) {  // The primary result code.
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      status = absl::UnavailableError(absl::StrCat("database busy (", detail, ")"));
      break;
    case SQLITE_FULL:
      status = absl::ResourceExhaustedError(absl::StrCat("disk full (", detail, ")"));
      break;
    case SQLITE_CONSTRAINT:
      status = absl::AbortedError(absl::StrCat("constraint violated (", detail, ")"));
      break;
    default:
      status = absl::InternalError(detail);
  }
  status.SetPayload(kStorageErrorPayload, absl::Cord(std::to_string(e.getErrorCode())));
  return status;
}

bool IsStorageError(const absl::Status& status) {
  return status.GetPayload(kStorageErrorPayload).has_value();
}

}  // namespace mediation::storage
