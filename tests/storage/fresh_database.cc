#include "tests/storage/fresh_database.h"

#include <gtest/gtest.h>

#include "storage/sql.h"

namespace mediation::storage {

absl::Status FreshDatabase::WriteDirectly(const TxFn& fn) const {
  absl::StatusOr<std::unique_ptr<EngineStore>> conn = Open();
  if (!conn.ok()) return conn.status();
  return (*conn)->Write(fn);
}

int FreshDatabase::Exec(const std::string& sql) const {
  int changed = -1;
  const absl::Status s = WriteDirectly([&](Tx& tx) -> absl::Status {
    changed = Statement(tx, sql).exec();
    return absl::OkStatus();
  });
  if (!s.ok()) {
    ADD_FAILURE() << sql << ": " << s;
    return -1;
  }
  return changed;
}

int64_t FreshDatabase::SelectOne(const std::string& sql) const {
  absl::StatusOr<std::unique_ptr<EngineStore>> conn = Open();
  int64_t value = -1;
  const absl::Status s = !conn.ok() ? conn.status() : (*conn)->Read([&](Tx& tx) -> absl::Status {
    value = SelectInt64(tx, sql);
    return absl::OkStatus();
  });
  if (!s.ok()) {
    ADD_FAILURE() << sql << ": " << s;
    return -1;
  }
  return value;
}

}  // namespace mediation::storage
