// The database schema as an ordered list of forward-only migrations. Each migration runs once,
// inside the same transaction as the row in `schema_migrations` that records it.
#ifndef MEDIATION_STORAGE_SCHEMA_H_
#define MEDIATION_STORAGE_SCHEMA_H_

#include <span>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace SQLite {
class Database;
}

namespace mediation::storage {

struct Migration {
  int version;
  absl::string_view name;
  absl::string_view sql;
  // Optional work in C++ after the SQL, in the same transaction (e.g. computing hashes).
  absl::Status (*after)(SQLite::Database&) = nullptr;
};

// Migrations after PostgreSQL's baseline (version 14) are the same SQL on both engines where
// both accept it; storage/pg_store.cc lists PostgreSQL's.
//
// Version 15: bookings by their resource, active or not. A party's changed email (and
// retention's anonymising) rewrites the holder of every booking of that party, which without
// it scanned every booking (at national volume, 666,236 per party).
inline constexpr absl::string_view kBookingsByResourceSql =
    "CREATE INDEX bookings_by_resource ON bookings (resource, resource_id);";

// All migrations, in version order starting at 1.
std::span<const Migration> Migrations();

// The schema version this binary writes.
int LatestSchemaVersion();

struct MigrationResult {
  int from_version = 0;
  int to_version = 0;
};

// Brings the database up to `target_version` (default: the latest) in one IMMEDIATE transaction.
// Refuses (FAILED_PRECONDITION) a database whose schema is newer than this binary knows.
absl::StatusOr<MigrationResult> Migrate(SQLite::Database& db, int target_version = 0);

// The version recorded in the database; 0 for an empty database.
absl::StatusOr<int> SchemaVersion(SQLite::Database& db);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_SCHEMA_H_
