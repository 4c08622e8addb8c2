#include "storage/pg_store.h"

#include <chrono>
#include <exception>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/pg_connection.h"
#include "storage/sql_util.h"
#include "storage/tokens.h"

namespace mediation::storage {
namespace {

// Migrations after the baseline, each the PostgreSQL twin of the SQLite migration of the same
// version (storage/schema.cc). Empty while the baseline is the latest version.
struct PgMigration {
  int version;
  absl::string_view name;
  absl::string_view sql;
};
constexpr PgMigration kPgMigrations[] = {
    {kPgBaselineVersion, "baseline (the SQLite schema at version 14)", ""},
    {15, "bookings by resource, active or not", kBookingsByResourceSql},
};

// The lock migrations take, so servers starting together migrate one after the other.
constexpr int64_t kMigrationLock = 0x6d696772;  // "migr"

int LatestPgVersion() { return kPgMigrations[std::size(kPgMigrations) - 1].version; }

absl::Status RunFn(const TxFn& fn, Tx& tx) {
  try {
    return fn(tx);
  } catch (const StorageError& e) {
    return StatusFromStorageError(e, "transaction");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("transaction threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("transaction threw a non-standard exception");
  }
}

// Runs statements outside the typed operations, turning errors into a status.
absl::Status Run(PgConnection& conn, const std::string& sql, absl::string_view operation) {
  try {
    conn.Run(sql);
    return absl::OkStatus();
  } catch (const StorageError& e) {
    return StatusFromStorageError(e, operation);
  }
}

bool LostRace(const absl::Status& status) {
  const auto code = status.GetPayload(kStorageErrorPayload);
  return code.has_value() && (*code == "40001" || *code == "40P01");
}

int RecordedVersion(Tx& tx) {
  if (SelectInt64(tx,
                  "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE 1 "
                  "END") == 0) {
    return 0;
  }
  return static_cast<int>(
      SelectInt64(tx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
}

}  // namespace

bool IsPostgresUri(absl::string_view db) {
  return absl::StartsWith(db, "postgresql://") || absl::StartsWith(db, "postgres://");
}

PgStore::PgStore(PgOptions options) : options_(std::move(options)) {}

PgStore::~PgStore() = default;

absl::StatusOr<std::unique_ptr<PgStore>> PgStore::Open(const PgOptions& options) {
  std::unique_ptr<PgStore> store(new PgStore(options));
  if (absl::Status s = store->Connect(); !s.ok()) return s;
  return store;
}

absl::Status PgStore::Connect() {
  if (conn_ != nullptr && conn_->healthy()) return absl::OkStatus();
  conn_.reset();
  try {
    auto conn = std::make_unique<PgConnection>(options_.conninfo);
    // A standby (after a failover, with a URI that does not ask for a read-write server) takes
    // no writes: refuse it, so the next call connects again.
    if (conn->SelectText("SELECT pg_is_in_recovery()") == "t") {
      return absl::UnavailableError(
          "the PostgreSQL server reached is a standby (read-only); add "
          "target_session_attrs=read-write to --db to reach the primary");
    }
    // Times are integers; nothing depends on the session's zone, but keep it fixed. A write
    // waits for the write lock at most lock_timeout (then UNAVAILABLE, 55P03), never for ever.
    conn->Run(absl::StrCat("SET TIME ZONE 'UTC'; SET bytea_output = 'hex'; SET lock_timeout = ",
                           options_.lock_timeout.count()));
    conn_ = std::move(conn);
    return absl::OkStatus();
  } catch (const StorageError& e) {
    return StatusFromStorageError(e, "connect to PostgreSQL");
  }
}

absl::Status PgStore::Read(const TxFn& fn) { return RunOnce(fn, /*writable=*/false); }

absl::Status PgStore::Write(const TxFn& fn) {
  std::minstd_rand jitter(std::random_device{}());
  absl::Status status;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    status = RunOnce(fn, /*writable=*/true);
    if (!LostRace(status)) return status;
    // Another transaction won; wait a little (growing, with jitter) and run it again.
    const int ceiling_ms = std::min(100, 2 << attempt);
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + jitter() % ceiling_ms));
  }
  return status;
}

absl::Status PgStore::Begin(bool writable) {
  if (absl::Status s = Connect(); !s.ok()) return s;
  PgConnection& conn = *conn_;
  // A write takes the write lock before its transaction begins: its snapshot is then taken
  // after every earlier write committed (a lock taken inside it would be waited for with a
  // snapshot from before). The lock is the session's, released after the commit, and with the
  // connection if that is lost.
  if (writable) {
    absl::Status locked =
        Run(conn, absl::StrCat("SELECT pg_advisory_lock(", kWriteLock, ")"), "take the write lock");
    if (!locked.ok()) return locked;
  }
  absl::Status begun = Run(conn,
                           writable ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                                    : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                           "begin a transaction");
  if (!begun.ok() && writable && conn.healthy()) {
    (void)Run(conn, absl::StrCat("SELECT pg_advisory_unlock(", kWriteLock, ")"),
              "release the write lock");
  }
  return begun;
}

absl::Status PgStore::RunOnce(const TxFn& fn, bool writable) {
  absl::Status status = Begin(writable);
  // A connection found lost before anything of the transaction ran (the database restarted or
  // failed over since this worker's last call): connect again once, rather than fail the call.
  if (!status.ok() && conn_ != nullptr && !conn_->healthy()) {
    conn_.reset();
    status = Begin(writable);
  }
  if (conn_ == nullptr) return status;  // Not connected: nothing to end.
  PgConnection& conn = *conn_;
  if (!status.ok() && conn.healthy()) return status;  // Refused (the lock's timeout, say).
  // Write transactions of this process do not overlap (the lock), as SqliteStore's do not.
  const uint64_t tokens_before = writable ? TokenChangesBegun() : 0;
  if (status.ok()) {
    Tx tx(conn, writable, options_.audit_key, options_.master_keys.get());
    status = RunFn(fn, tx);
    // Other server processes on the database wake their event streams (PgChangeListener);
    // the notification is delivered only if the transaction commits.
    if (writable && status.ok() && conn.healthy()) {
      status = Run(conn, absl::StrCat("NOTIFY ", kChangesChannel), "notify");
    }
    if (status.ok() && conn.healthy()) {
      status = Run(conn, "COMMIT", "commit");
    } else if (status.ok()) {
      status = absl::UnavailableError("the connection to PostgreSQL was lost");
    }
  }
  if (!status.ok() && conn.healthy()) (void)Run(conn, "ROLLBACK", "roll back");
  if (writable) {
    // Counted before the lock goes: no other write of this process has begun meanwhile.
    const uint64_t token_changes = TokenChangesBegun() - tokens_before;
    if (conn.healthy()) {
      (void)Run(conn, absl::StrCat("SELECT pg_advisory_unlock(", kWriteLock, ")"),
                "release the write lock");
    }
    EndTokenChanges(token_changes);
  }
  // A connection an error called lost is closed now, not at the next call: if its session were
  // in fact alive, it would hold the write lock (and a transaction) until then.
  if (!conn.healthy()) conn_.reset();
  return status;
}

absl::StatusOr<MigrationResult> PgStore::Migrate() {
  MigrationResult result;
  absl::Status status = Write([&](Tx& tx) -> absl::Status {
    return Guard("migrate schema", [&]() -> absl::Status {
      Statement(tx, absl::StrCat("SELECT pg_advisory_xact_lock(", kMigrationLock, ")")).exec();
      Statement locale(tx,
                       "SELECT datcollate, datctype FROM pg_database WHERE datname = "
                       "current_database()");
      if (!locale.executeStep()) throw StorageError("the current database is not listed");
      for (int i = 0; i < 2; ++i) {
        const std::string value = locale.getColumn(i).getString();
        if (value != "C" && value != "POSIX") {
          return absl::FailedPreconditionError(absl::StrCat(
              "the database's ", i == 0 ? "LC_COLLATE" : "LC_CTYPE", " is '", value,
              "', not C: create it with CREATE DATABASE ... TEMPLATE template0 LOCALE 'C' "
              "ENCODING 'UTF8' (deploy/postgresql/README.md)"));
        }
      }
      result.from_version = RecordedVersion(tx);
      if (result.from_version > LatestPgVersion()) {
        return absl::FailedPreconditionError(
            absl::StrCat("the database schema is version ", result.from_version,
                         " but this server knows only up to ", LatestPgVersion(),
                         "; run a newer mediation-server (the database is unchanged)"));
      }
      if (result.from_version > 0 && result.from_version < kPgBaselineVersion) {
        return absl::FailedPreconditionError(
            absl::StrCat("the database schema is version ", result.from_version,
                         ", older than PostgreSQL's first (", kPgBaselineVersion,
                         "): it was not made by this "
                         "server"));
      }
      for (const PgMigration& m : kPgMigrations) {
        if (m.version <= result.from_version) continue;
        const absl::string_view sql = m.version == kPgBaselineVersion ? PgBaselineSchema() : m.sql;
        static_cast<PgConnection&>(tx.connection()).Run(std::string(sql));
        Statement record(tx,
                         "INSERT INTO schema_migrations (version, name, applied_at) "
                         "VALUES (?, ?, ?)");
        record.bind(1, m.version);
        record.bind(2, std::string(m.name));
        record.bind(3, ToMicros(absl::Now()));
        record.exec();
      }
      result.to_version = RecordedVersion(tx);
      return absl::OkStatus();
    });
  });
  if (!status.ok()) return status;
  return result;
}

absl::Status PgStore::CheckSchemaIsCurrent() {
  int version = 0;
  absl::Status read = Read([&](Tx& tx) -> absl::Status {
    return Guard("read schema version", [&]() -> absl::Status {
      version = RecordedVersion(tx);
      return absl::OkStatus();
    });
  });
  if (!read.ok()) return read;
  if (version != LatestSchemaVersion()) {
    return absl::FailedPreconditionError(absl::StrCat("database schema is version ", version,
                                                      "; this server needs version ",
                                                      LatestSchemaVersion()));
  }
  return absl::OkStatus();
}

StoreFactory PgStoreFactory(PgOptions options) {
  return [options]() -> absl::StatusOr<std::unique_ptr<Store>> {
    absl::StatusOr<std::unique_ptr<PgStore>> store = PgStore::Open(options);
    if (!store.ok()) return store.status();
    if (absl::Status s = (*store)->CheckSchemaIsCurrent(); !s.ok()) return s;
    return std::unique_ptr<Store>(std::move(*store));
  };
}

absl::StatusOr<bool> PgMaintenance::ForgetDeletedRows() {
  try {
    PgConnection conn(conninfo_);
    // VACUUM cannot run inside a transaction block; the nontransaction runs it on its own.
    conn.Run(
        "VACUUM data_keys, notes, idempotent_calls, outbox, cases, parties, referral_revisions, "
        "agreement_versions, mediator_conflicts, access_tokens, bookings, party_sign_in_links, "
        "browser_sessions");
    return true;
  } catch (const StorageError& e) {
    return StatusFromStorageError(e, "vacuum");
  }
}

PgInstanceLock::PgInstanceLock(std::string conninfo, int64_t key)
    : conninfo_(std::move(conninfo)), key_(key) {}

PgInstanceLock::~PgInstanceLock() = default;

bool PgInstanceLock::TryHold() {
  std::lock_guard lock(mu_);
  try {
    if (conn_ != nullptr && conn_->healthy() && held_) {
      conn_->Run("SELECT 1");  // Still connected, so still held.
      return true;
    }
    if (conn_ == nullptr || !conn_->healthy()) conn_ = std::make_unique<PgConnection>(conninfo_);
    held_ = conn_->SelectText(absl::StrCat("SELECT pg_try_advisory_lock(", key_, ")")) == "t";
    return held_;
  } catch (const StorageError&) {
    conn_.reset();  // The lock went with the connection.
    held_ = false;
    return false;
  }
}

PgInstanceRegistry::PgInstanceRegistry(std::string conninfo, int64_t key)
    : conninfo_(std::move(conninfo)), key_(key) {
  std::lock_guard lock(mu_);
  try {
    Mark(/*check=*/false);
  } catch (const StorageError&) {
    conn_.reset();  // Marked at the next refresh or count instead.
  }
}

PgInstanceRegistry::~PgInstanceRegistry() = default;

void PgInstanceRegistry::Mark(bool check) {
  if (conn_ != nullptr && conn_->healthy() && check) {
    try {
      conn_->Run("SELECT 1");
    } catch (const StorageError&) {
      conn_.reset();
    }
  }
  if (conn_ != nullptr && conn_->healthy()) return;
  conn_ = std::make_unique<PgConnection>(conninfo_);
  conn_->Run(absl::StrCat("SELECT pg_advisory_lock_shared(", key_, ")"));
}

void PgInstanceRegistry::Refresh() {
  std::lock_guard lock(mu_);
  try {
    Mark(/*check=*/true);
  } catch (const StorageError&) {
    conn_.reset();  // The database is away: marked again at the next refresh.
  }
}

absl::StatusOr<int> PgInstanceRegistry::CountOthers() {
  std::lock_guard lock(mu_);
  try {
    Mark(/*check=*/true);
    // A bigint advisory key is held as (classid, objid) = (high, low 32 bits), objsubid 1.
    int others = 0;
    (void)absl::SimpleAtoi(
        conn_->SelectText(absl::StrCat(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = "
            "1 AND classid = ",
            key_ >> 32, " AND objid = ", key_ & 0xffffffff,
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND pid <> pg_backend_pid()")),
        &others);
    return others;
  } catch (const StorageError&) {
    conn_.reset();
    return absl::UnavailableError(
        "the database could not be asked which server processes share it; try again shortly");
  }
}

void PgInstanceLock::Release() {
  std::lock_guard lock(mu_);
  if (!held_ || conn_ == nullptr) return;
  held_ = false;
  try {
    conn_->Run(absl::StrCat("SELECT pg_advisory_unlock(", key_, ")"));
  } catch (const StorageError&) {
    conn_.reset();  // Gone with the connection.
  }
}

namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::function<void()>& on_change)
      : pqxx::notification_receiver(conn, kChangesChannel), on_change_(on_change) {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override { on_change_(); }

 private:
  const std::function<void()>& on_change_;
};

}  // namespace

PgChangeListener::PgChangeListener(std::string conninfo, std::function<void()> on_change)
    : conninfo_(std::move(conninfo)), on_change_(std::move(on_change)) {
  thread_ = std::thread([this] { Run(); });
}

PgChangeListener::~PgChangeListener() { Stop(); }

void PgChangeListener::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void PgChangeListener::Run() {
  while (!stopping_) {
    try {
      pqxx::connection conn(conninfo_);
      Receiver receiver(conn, on_change_);
      conn.get_notifs();  // LISTEN is in place: anything missed before is read again below.
      on_change_();
      while (!stopping_) conn.await_notification(0, 200000);  // Wakes to see stopping_.
    } catch (const std::exception&) {
      // The connection was lost (or could not be made): try again shortly.
      for (int i = 0; i < 10 && !stopping_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
}

}  // namespace mediation::storage
