// Opening the database by its name, whichever engine holds it: a file path is SQLite
// (storage/sqlite_store.h), a postgresql:// URI is PostgreSQL (storage/pg_store.h).
#ifndef MEDIATION_STORAGE_DATABASE_H_
#define MEDIATION_STORAGE_DATABASE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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

// `text` with the password of `conninfo` (a URI's user:password@, or password=...) replaced by
// "[hidden]": for log lines that name the database, and for libpq's messages, which can quote
// the connection string.
std::string HidePassword(std::string text, absl::string_view conninfo);

// Opens one connection. Does not migrate.
absl::StatusOr<std::unique_ptr<EngineStore>> OpenDatabase(const DatabaseOptions& options);

// Per-thread connections, each checked against the schema.
StoreFactory DatabaseStoreFactory(const DatabaseOptions& options);

// The engine's DatabaseMaintenance.
std::unique_ptr<DatabaseMaintenance> MaintenanceFor(const DatabaseOptions& options);

// A lock that at most one server process holds at a time, across every process on the database:
// for work that must run exactly once however many instances serve (delivering the outbox,
// maintenance). Thread-safe.
class InstanceLock {
 public:
  virtual ~InstanceLock() = default;
  // True while this process holds the lock: it takes it when free, and keeps it until the
  // process ends or its connection to the database is lost (then another may take it).
  virtual bool TryHold() = 0;
  // Gives the lock up if this process holds it.
  virtual void Release() = 0;
};

// PostgreSQL: a session advisory lock `key` on a connection of the lock's own. SQLite: null (one
// process serves a file; nothing to share).
std::unique_ptr<InstanceLock> InstanceLockFor(const DatabaseOptions& options, int64_t key);

// Marks this process as one of the server processes on the database for as long as it runs,
// and counts the others: for what only one process may do while others serve (a master key
// rotation needs every process to hold the new key). Thread-safe.
class InstanceRegistry {
 public:
  virtual ~InstanceRegistry() = default;
  // How many other server processes are marked now (marking this one again first if its
  // connection was lost). UNAVAILABLE when the database cannot be asked.
  virtual absl::StatusOr<int> CountOthers() = 0;
  // Checks the mark is still there (a failover or restart of the database ends it with the
  // connection) and makes it again if not. Each process calls this on every maintenance tick,
  // so after such an event the count is complete again within one tick.
  virtual void Refresh() = 0;
};

// PostgreSQL: a shared advisory lock `key` on a connection of its own, counted in pg_locks for
// this database. SQLite: null (one process serves a file).
std::unique_ptr<InstanceRegistry> RegisterInstance(const DatabaseOptions& options, int64_t key);

// Wakes this process when a write commits through any server process on the database
// (PostgreSQL LISTEN/NOTIFY). Thread-safe; `on_change` runs on the listener's own thread, and
// also after its connection was remade (changes may have been missed meanwhile).
class ChangeListener {
 public:
  virtual ~ChangeListener() = default;
  // Stops listening; `on_change` is not called after this returns.
  virtual void Stop() = 0;
};

// PostgreSQL: a listener on a connection of its own. SQLite: null (no other process writes).
std::unique_ptr<ChangeListener> ListenForChanges(const DatabaseOptions& options,
                                                 std::function<void()> on_change);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_DATABASE_H_
