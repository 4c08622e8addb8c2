#include "storage/database.h"

#include <string>
#include <utility>
#include <vector>

#include "storage/pg_store.h"
#include "storage/sqlite_store.h"

namespace mediation::storage {
namespace {

SqliteOptions SqliteOptionsOf(const DatabaseOptions& o) {
  return {.path = o.db,
          .busy_timeout = o.busy_timeout,
          .audit_key = o.audit_key,
          .master_keys = o.master_keys,
          .commit_group = o.commit_group,
          .max_page_count = o.max_page_count};
}

PgOptions PgOptionsOf(const DatabaseOptions& o) {
  return {.conninfo = o.db,
          .audit_key = o.audit_key,
          .master_keys = o.master_keys,
          .lock_timeout = o.busy_timeout};
}

}  // namespace

std::string HidePassword(std::string text, absl::string_view conninfo) {
  std::vector<std::string> secrets;
  const size_t scheme = conninfo.find("://");
  if (scheme != std::string::npos) {
    const size_t at = conninfo.find('@', scheme + 3);
    const size_t colon = conninfo.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      secrets.emplace_back(conninfo.substr(colon + 1, at - colon - 1));
    }
  }
  for (size_t p = conninfo.find("password="); p != std::string::npos;
       p = conninfo.find("password=", p + 1)) {
    const size_t start = p + 9;
    const size_t end = conninfo.find_first_of("& ", start);
    secrets.emplace_back(
        conninfo.substr(start, end == absl::string_view::npos ? end : end - start));
  }
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t p = text.find(secret); p != std::string::npos; p = text.find(secret, p)) {
      text.replace(p, secret.size(), "[hidden]");
    }
  }
  return text;
}

absl::StatusOr<std::unique_ptr<EngineStore>> OpenDatabase(const DatabaseOptions& options) {
  if (IsPostgresUri(options.db)) {
    absl::StatusOr<std::unique_ptr<PgStore>> store = PgStore::Open(PgOptionsOf(options));
    if (!store.ok()) return store.status();
    return std::unique_ptr<EngineStore>(std::move(*store));
  }
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(SqliteOptionsOf(options));
  if (!store.ok()) return store.status();
  return std::unique_ptr<EngineStore>(std::move(*store));
}

StoreFactory DatabaseStoreFactory(const DatabaseOptions& options) {
  if (IsPostgresUri(options.db)) return PgStoreFactory(PgOptionsOf(options));
  return SqliteStoreFactory(SqliteOptionsOf(options));
}

std::unique_ptr<DatabaseMaintenance> MaintenanceFor(const DatabaseOptions& options) {
  if (IsPostgresUri(options.db)) return std::make_unique<PgMaintenance>(options.db);
  return std::make_unique<SqliteMaintenance>(SqliteOptionsOf(options));
}

std::unique_ptr<InstanceLock> InstanceLockFor(const DatabaseOptions& options, int64_t key) {
  if (!IsPostgresUri(options.db)) return nullptr;
  return std::make_unique<PgInstanceLock>(options.db, key);
}

std::unique_ptr<InstanceRegistry> RegisterInstance(const DatabaseOptions& options, int64_t key) {
  if (!IsPostgresUri(options.db)) return nullptr;
  return std::make_unique<PgInstanceRegistry>(options.db, key);
}

std::unique_ptr<ChangeListener> ListenForChanges(const DatabaseOptions& options,
                                                 std::function<void()> on_change) {
  if (!IsPostgresUri(options.db)) return nullptr;
  return std::make_unique<PgChangeListener>(options.db, std::move(on_change));
}

}  // namespace mediation::storage
