// The PostgreSQL implementation of Store (see the contract in storage/store.h): one libpqxx
// connection, remade after it is lost; SERIALIZABLE write transactions, each begun under one
// advisory lock (kWriteLock), and retried when they lose a serialization race;
// REPEATABLE READ, READ ONLY read transactions.
//
// Several server processes may share one database: the lock serialises their writes as SQLite's
// write lock serialises one process's, and the exclusion constraint on bookings, the audit
// chain's head row and the order of event positions are then kept across all of them.
#ifndef MEDIATION_STORAGE_PG_STORE_H_
#define MEDIATION_STORAGE_PG_STORE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/database.h"
#include "storage/master_keys.h"
#include "storage/schema.h"
#include "storage/store.h"

namespace mediation::storage {

class PgConnection;

// True when `db` names a PostgreSQL database (a postgresql:// or postgres:// URI) rather than a
// SQLite file.
bool IsPostgresUri(absl::string_view db);

// The advisory lock every write takes (pg_advisory_lock) before its transaction begins, and
// releases after it ends.
inline constexpr int64_t kWriteLock = 0x6d656469;  // "medi"

struct PgOptions {
  // A libpq connection URI or string, e.g.
  // postgresql://mediation@db1,db2/mediation?target_session_attrs=read-write
  std::string conninfo;
  // As in SqliteOptions.
  std::string audit_key{};
  std::shared_ptr<const MasterKeys> master_keys{};
  // How many times a write that lost a serialization race is run in all.
  int max_attempts = 8;
  // How long a write waits for the write lock (or any row lock) before failing UNAVAILABLE.
  std::chrono::milliseconds lock_timeout{5000};
};

class PgStore final : public EngineStore {
 public:
  // Connects. UNAVAILABLE when no server accepts the connection.
  static absl::StatusOr<std::unique_ptr<PgStore>> Open(const PgOptions& options);

  ~PgStore() override;

  absl::Status Read(const TxFn& fn) override;
  absl::Status Write(const TxFn& fn) override;

  void SetAuditKey(std::string key) override { options_.audit_key = std::move(key); }
  void SetMasterKeys(std::shared_ptr<const MasterKeys> keys) override {
    options_.master_keys = std::move(keys);
  }
  absl::StatusOr<MigrationResult> MigrateToLatest() override { return Migrate(); }
  Engine engine() const override { return Engine::kPostgres; }

  // Creates the schema in an empty database (the baseline, storage/pg_schema.sql, recorded as
  // version 14) and applies later migrations; refuses a database newer than this binary. Two
  // servers starting at once migrate one after the other. Refuses a database whose LC_CTYPE or
  // LC_COLLATE is not C: sorting and lower() must agree with SQLite's.
  absl::StatusOr<MigrationResult> Migrate();

  // Refuses a database whose schema is not exactly the one this binary writes.
  absl::Status CheckSchemaIsCurrent();

 private:
  explicit PgStore(PgOptions options);

  // Opens a new connection when there is none or the last one broke.
  absl::Status Connect();
  // Connects if need be, takes the write lock (writes) and begins the transaction; on failure
  // nothing is held.
  absl::Status Begin(bool writable);
  absl::Status RunOnce(const TxFn& fn, bool writable);

  PgOptions options_;
  std::unique_ptr<PgConnection> conn_;
};

// A factory for per-thread connections, each checked against the schema.
StoreFactory PgStoreFactory(PgOptions options);

// PostgreSQL's DatabaseMaintenance: VACUUMs the tables holding keys and sealed text.
class PgMaintenance final : public DatabaseMaintenance {
 public:
  explicit PgMaintenance(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  absl::StatusOr<bool> ForgetDeletedRows() override;

 private:
  std::string conninfo_;
};

// The channel every write NOTIFYs when it commits.
inline constexpr char kChangesChannel[] = "mediation_changes";

// PostgreSQL's InstanceLock: pg_try_advisory_lock on a connection of its own.
class PgInstanceLock final : public InstanceLock {
 public:
  PgInstanceLock(std::string conninfo, int64_t key);
  ~PgInstanceLock() override;
  bool TryHold() override;
  void Release() override;

 private:
  const std::string conninfo_;
  const int64_t key_;
  std::mutex mu_;
  std::unique_ptr<PgConnection> conn_;  // Guarded by mu_.
  bool held_ = false;                   // Guarded by mu_.
};

// PostgreSQL's InstanceRegistry: pg_advisory_lock_shared(key) on a connection of its own.
class PgInstanceRegistry final : public InstanceRegistry {
 public:
  // Marks this process (or, if the database cannot be reached now, at the first count).
  PgInstanceRegistry(std::string conninfo, int64_t key);
  ~PgInstanceRegistry() override;
  absl::StatusOr<int> CountOthers() override;
  void Refresh() override;

 private:
  // Connects and takes the shared lock if the connection is gone; with `check`, first asks the
  // database whether the connection is still there. Throws StorageError.
  void Mark(bool check);

  const std::string conninfo_;
  const int64_t key_;
  std::mutex mu_;
  std::unique_ptr<PgConnection> conn_;  // Guarded by mu_.
};

// PostgreSQL's ChangeListener: LISTEN kChangesChannel on a connection of its own, on a thread.
class PgChangeListener final : public ChangeListener {
 public:
  PgChangeListener(std::string conninfo, std::function<void()> on_change);
  ~PgChangeListener() override;
  void Stop() override;

 private:
  void Run();

  const std::string conninfo_;
  const std::function<void()> on_change_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// The schema version of the PostgreSQL baseline (storage/pg_schema.sql).
inline constexpr int kPgBaselineVersion = 14;

// The text of storage/pg_schema.sql, embedded at build time.
absl::string_view PgBaselineSchema();

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_PG_STORE_H_
