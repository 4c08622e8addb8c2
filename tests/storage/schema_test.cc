#include "storage/schema.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "storage/pg_store.h"
#include "storage/sql.h"
#include "storage/sqlite_store.h"
#include "tests/storage/fresh_database.h"

namespace mediation::storage {
namespace {

using ::mediation::testing::TempDir;

// Schema tests run on the engine the run is for, through storage::OpenDatabase; a database is
// migrated by MigrateToLatest (SQLite: storage/schema.h's migrations, one row each in
// schema_migrations; PostgreSQL: storage/pg_schema.sql, recorded as version kPgBaselineVersion,
// then the migrations after it).
class SchemaTest : public ::testing::Test {
 protected:
  std::unique_ptr<EngineStore> OpenStore() {
    absl::StatusOr<std::unique_ptr<EngineStore>> store = db_.Open();
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // The rows schema_migrations holds once the latest version is in place.
  int64_t MigrationRowsAtLatest() const {
    return db_.postgres() ? LatestSchemaVersion() - kPgBaselineVersion + 1
                          : static_cast<int64_t>(Migrations().size());
  }

  std::vector<std::string> Tables() {
    std::vector<std::string> names;
    EXPECT_TRUE(db_.Open()
                    .value()
                    ->Read([&](Tx& tx) -> absl::Status {
                      Statement st(tx, tx.engine() == Engine::kPostgres
                                           ? "SELECT CAST(tablename AS text) FROM pg_tables "
                                             "WHERE schemaname = current_schema() ORDER BY 1"
                                           : "SELECT name FROM sqlite_master WHERE type = "
                                             "'table' ORDER BY name");
                      while (st.executeStep()) names.push_back(st.getColumn(0).getString());
                      return absl::OkStatus();
                    })
                    .ok());
    return names;
  }

  FreshDatabase db_;
};

// Every table of the schema, on both engines (SQLite adds its own sqlite_sequence).
std::vector<std::string> SchemaTables() {
  return {"access_tokens",
          "agreement_signatures",
          "agreement_versions",
          "allocations",
          "audit_events",
          "audit_head",
          "bookings",
          "browser_sessions",
          "case_events",
          "case_links",
          "case_state_history",
          "cases",
          "charge_indications",
          "charge_items",
          "data_keys",
          "fee_schedules",
          "idempotent_calls",
          "key_rotations",
          "master_keys",
          "mediator_conflicts",
          "mediator_experience",
          "mediator_leave",
          "mediators",
          "notes",
          "organisations",
          "outbox",
          "parties",
          "party_availability",
          "party_sign_in_links",
          "referral_revisions",
          "refused_anonymous_calls",
          "reminder_opt_outs",
          "rooms",
          "schema_migrations",
          "screening_answers",
          "screening_decisions",
          "session_changes",
          "sessions",
          "venues",
          "working_hours"};
}

TEST_F(SchemaTest, MigratesAnEmptyDatabaseToTheLatestVersion) {
  std::unique_ptr<EngineStore> store = OpenStore();
  ASSERT_NE(store, nullptr);

  absl::StatusOr<MigrationResult> result = store->MigrateToLatest();

  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->from_version, 0);
  EXPECT_EQ(result->to_version, LatestSchemaVersion());
  EXPECT_EQ(db_.SelectOne("SELECT COUNT(*) FROM schema_migrations"), MigrationRowsAtLatest());
  EXPECT_EQ(db_.SelectOne("SELECT MIN(version) FROM schema_migrations"),
            db_.postgres() ? kPgBaselineVersion : 1);
  std::vector<std::string> expected = SchemaTables();
  if (!db_.postgres()) {
    expected.insert(std::upper_bound(expected.begin(), expected.end(), "sqlite_sequence"),
                    "sqlite_sequence");
  }
  EXPECT_EQ(Tables(), expected);
}

TEST_F(SchemaTest, MigratingTwiceChangesNothing) {
  std::unique_ptr<EngineStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->MigrateToLatest().ok());

  absl::StatusOr<MigrationResult> again = store->MigrateToLatest();

  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->from_version, LatestSchemaVersion());
  EXPECT_EQ(again->to_version, LatestSchemaVersion());
  EXPECT_EQ(db_.SelectOne("SELECT COUNT(*) FROM schema_migrations"), MigrationRowsAtLatest());
}

TEST(SqliteSchemaTest, MigratesFromAnOlderVersionKeepingItsRows) {
  MEDIATION_SQLITE_ONLY(
      "PostgreSQL has no version before its baseline; "
      "SchemaTest.PostgresRefusesAVersionOlderThanItsBaseline is its twin");
  TempDir dir;
  SQLite::Database db(dir.File("m.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  ASSERT_TRUE(Migrate(db, /*target_version=*/1).ok());
  ASSERT_EQ(*SchemaVersion(db), 1);
  EXPECT_FALSE(db.tableExists("cases"));
  db.exec(
      "INSERT INTO organisations (name, kind, nation, care_setting, sector, ods_code, "
      "contact_name, contact_email, contact_phone, contact_job_title, created_at) VALUES "
      "('Old Trust', 'ORGANISATION_KIND_NHS_TRUST', 'NATION_WALES', 'CARE_SETTING_SECONDARY', "
      "'SECTOR_PUBLIC', 'RX1', 'A', 'a@example.org', '', '', 1)");

  absl::StatusOr<MigrationResult> result = Migrate(db);

  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->from_version, 1);
  EXPECT_EQ(result->to_version, LatestSchemaVersion());
  EXPECT_TRUE(db.tableExists("cases"));
  EXPECT_EQ(db.execAndGet("SELECT name FROM organisations WHERE ods_code = 'RX1'").getString(),
            "Old Trust");
}

TEST_F(SchemaTest, RefusesADatabaseNewerThanTheBinaryAndLeavesItUnchanged) {
  std::unique_ptr<EngineStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->MigrateToLatest().ok());
  const int newer = LatestSchemaVersion() + 1;
  ASSERT_EQ(db_.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (" +
                     std::to_string(newer) + ", 'from the future', 0)"),
            1);

  absl::StatusOr<MigrationResult> result = store->MigrateToLatest();

  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("newer mediation-server"), std::string::npos)
      << result.status();
  EXPECT_EQ(db_.SelectOne("SELECT MAX(version) FROM schema_migrations"), newer);
  EXPECT_EQ(db_.SelectOne("SELECT COUNT(*) FROM schema_migrations"), MigrationRowsAtLatest() + 1);
}

// PostgreSQL's first schema is the baseline (version 14): a lower recorded version was not made
// by this server, and is refused rather than built upon.
TEST_F(SchemaTest, PostgresRefusesAVersionOlderThanItsBaseline) {
  MEDIATION_POSTGRES_ONLY(
      "SQLite upgrades older versions (MigratesFromAnOlderVersionKeepingItsRows)");
  ASSERT_EQ(db_.Exec("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, "
                     "name TEXT NOT NULL, applied_at BIGINT NOT NULL)"),
            0);
  ASSERT_EQ(db_.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (" +
                     std::to_string(kPgBaselineVersion - 1) + ", 'from elsewhere', 0)"),
            1);
  std::unique_ptr<EngineStore> store = OpenStore();
  ASSERT_NE(store, nullptr);

  absl::StatusOr<MigrationResult> result = store->MigrateToLatest();

  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("older than PostgreSQL's first"), std::string::npos)
      << result.status();
  EXPECT_EQ(db_.SelectOne("SELECT MAX(version) FROM schema_migrations"), kPgBaselineVersion - 1);
  EXPECT_EQ(Tables(), (std::vector<std::string>{"schema_migrations"}));
}

// Worker connections (DatabaseStoreFactory) never migrate: they refuse a database that has not
// been migrated yet, or that a newer binary has migrated since.
TEST_F(SchemaTest, WorkerConnectionsRefuseASchemaThatIsNotCurrent) {
  const StoreFactory workers = DatabaseStoreFactory(db_.Options());
  EXPECT_EQ(workers().status().code(), absl::StatusCode::kFailedPrecondition);

  std::unique_ptr<EngineStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->MigrateToLatest().ok());
  EXPECT_TRUE(workers().ok());

  ASSERT_EQ(db_.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (" +
                     std::to_string(LatestSchemaVersion() + 1) + ", 'from the future', 0)"),
            1);
  EXPECT_EQ(workers().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SqliteSchemaTest, WorkerConnectionsRefuseAnOlderSchema) {
  MEDIATION_SQLITE_ONLY("PostgreSQL has no version before its baseline");
  TempDir dir;
  {
    SQLite::Database db(dir.File("m.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    ASSERT_TRUE(Migrate(db, 1).ok());
  }
  absl::StatusOr<std::unique_ptr<Store>> store = SqliteStoreFactory({.path = dir.File("m.db")})();
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mediation::storage
