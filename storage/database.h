// Opening the database by its name, whichever engine holds it: a file path is SQLite
// (storage/sqlite_store.h), a postgresql:// URI is PostgreSQL (storage/pg_store.h).
#ifndef MEDIATION_STORAGE_DATABASE_H_
#define MEDIATION_STORAGE_DATABASE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/commit_group.h"
#include "storage/master_keys.h"
#include "storage/schema.h"
#include "storage/store.h"

namespace mediation::storage {

// A connection opened directly on an engine, with what start-up needs beyond Store.
class EngineStore : public Store {
 public:
  // For the start-up connection, opened before the master key (and so the audit key) is read.
  virtual void SetAuditKey(std::string key) = 0;
  virtual void SetMasterKeys(std::shared_ptr<const MasterKeys> keys) = 0;
  // Applies pending migrations (storage/schema.h); refuses a database newer than this binary.
  virtual absl::StatusOr<MigrationResult> MigrateToLatest() = 0;
  virtual Engine engine() const = 0;
};

struct DatabaseOptions {
  // A SQLite file path, or a postgresql:// (postgres://) URI.
  std::string db;
  std::string audit_key{};
  std::shared_ptr<const MasterKeys> master_keys{};
  // SQLite only (see SqliteOptions).
  std::chrono::milliseconds busy_timeout{5000};
  std::shared_ptr<CommitGroup> commit_group{};
  int64_t max_page_count = 0;
};

// Opens one connection. Does not migrate.
absl::StatusOr<std::unique_ptr<EngineStore>> OpenDatabase(const DatabaseOptions& options);

// Per-thread connections, each checked against the schema.
StoreFactory DatabaseStoreFactory(const DatabaseOptions& options);

// The engine's DatabaseMaintenance.
std::unique_ptr<DatabaseMaintenance> MaintenanceFor(const DatabaseOptions& options);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_DATABASE_H_
