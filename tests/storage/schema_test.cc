#include "storage/schema.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "storage/sqlite_store.h"
#include "tests/support/temp_dir.h"

namespace mediation::storage {
namespace {

using ::mediation::testing::TempDir;

std::vector<std::string> Tables(SQLite::Database& db) {
  std::vector<std::string> names;
  SQLite::Statement st(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  while (st.executeStep()) names.push_back(st.getColumn(0).getString());
  return names;
}

TEST(SchemaTest, MigratesAnEmptyDatabaseToTheLatestVersion) {
  TempDir dir;
  SQLite::Database db(dir.File("m.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);

  absl::StatusOr<MigrationResult> result = Migrate(db);

  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->from_version, 0);
  EXPECT_EQ(result->to_version, LatestSchemaVersion());
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM schema_migrations").getInt(),
            static_cast<int>(Migrations().size()));
  EXPECT_EQ(Tables(db), (std::vector<std::string>{"access_tokens",
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
                                                  "sqlite_sequence",
                                                  "venues",
                                                  "working_hours"}));
}

TEST(SchemaTest, MigratingTwiceChangesNothing) {
  TempDir dir;
  SQLite::Database db(dir.File("m.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  ASSERT_TRUE(Migrate(db).ok());

  absl::StatusOr<MigrationResult> again = Migrate(db);

  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->from_version, LatestSchemaVersion());
  EXPECT_EQ(again->to_version, LatestSchemaVersion());
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM schema_migrations").getInt(),
            static_cast<int>(Migrations().size()));
}

TEST(SchemaTest, MigratesFromAnOlderVersionKeepingItsRows) {
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

TEST(SchemaTest, RefusesADatabaseNewerThanTheBinaryAndLeavesItUnchanged) {
  TempDir dir;
  SQLite::Database db(dir.File("m.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  ASSERT_TRUE(Migrate(db).ok());
  const int newer = LatestSchemaVersion() + 1;
  db.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (" +
          std::to_string(newer) + ", 'from the future', 0)");

  absl::StatusOr<MigrationResult> result = Migrate(db);

  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("newer mediation-server"), std::string::npos)
      << result.status();
  EXPECT_EQ(*SchemaVersion(db), newer);
}

TEST(SchemaTest, WorkerConnectionsRefuseASchemaThatIsNotCurrent) {
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
