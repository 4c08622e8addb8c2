// A fresh database for one storage test, on the engine the run is for (tests/support/
// test_database.h: a SQLite file in a temporary directory, or with MEDIATION_TEST_PG set a
// database of its own on that PostgreSQL cluster), reached only through the engine-neutral API
// (storage/database.h, storage/sql.h), so that one test checks the contract on both engines.
#ifndef MEDIATION_TESTS_STORAGE_FRESH_DATABASE_H_
#define MEDIATION_TESTS_STORAGE_FRESH_DATABASE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "storage/database.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_database.h"

namespace mediation::storage {

class FreshDatabase {
 public:
  FreshDatabase() : database_(dir_.File("m.db")) {}

  bool postgres() const { return database_.postgres(); }
  // A directory of the test's own (backups, say), whatever the engine.
  const ::mediation::testing::TempDir& dir() const { return dir_; }

  DatabaseOptions Options(std::string audit_key = {}) const {
    return {.db = database_.db(), .audit_key = std::move(audit_key)};
  }
  // A new connection (storage::OpenDatabase). Does not migrate.
  absl::StatusOr<std::unique_ptr<EngineStore>> Open(std::string audit_key = {}) const {
    return OpenDatabase(Options(std::move(audit_key)));
  }

  // Runs `fn` in a write transaction on a connection of its own, as someone working on the
  // database behind the server's back would.
  absl::Status WriteDirectly(const TxFn& fn) const;
  // Runs one statement that way and returns how many rows it changed; -1 (and a test failure)
  // if it failed.
  int Exec(const std::string& sql) const;
  // The first column of the first row of `sql`, read that way; -1 (and a test failure) if the
  // read failed.
  int64_t SelectOne(const std::string& sql) const;

 private:
  ::mediation::testing::TempDir dir_;
  ::mediation::testing::TestDatabase database_;
};

}  // namespace mediation::storage

#endif  // MEDIATION_TESTS_STORAGE_FRESH_DATABASE_H_
