// Online backup and restore: a backup taken while writers keep writing is one consistent point
// in time holding every write acknowledged before it began; restored with
// deploy/restore-backup.sh under a new server (same master key) it is the same database, row for
// row, and its notes decrypt. It holds neither the master key nor note text in clear.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/core/secrets.h"
#include "storage/schema.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TempDir;
using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::ValidOrganisation;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every table of the database at `path` (sqlite_* tables aside), each as its sorted rows, each
// row as the hex of its values.
std::map<std::string, std::vector<std::string>> DumpTables(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::vector<std::string> tables;
  SQLite::Statement list(db,
                         "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                         "'sqlite_%' ORDER BY name");
  while (list.executeStep()) tables.push_back(list.getColumn(0).getString());
  std::map<std::string, std::vector<std::string>> dump;
  for (const std::string& table : tables) {
    std::vector<std::string>& rows = dump[table];
    // Of the outbox, the messages, not their delivery: a restored server's delivery worker goes
    // on sending what the backup holds as soon as it starts.
    SQLite::Statement select(db, table == "outbox"
                                     ? std::string("SELECT id, message_id, kind, case_id, "
                                                   "session_id, recipient_email, subject, "
                                                   "message, due_at FROM outbox")
                                     : absl::StrCat("SELECT * FROM \"", table, "\""));
    while (select.executeStep()) {
      std::string row;
      for (int i = 0; i < select.getColumnCount(); ++i) {
        const SQLite::Column c = select.getColumn(i);
        absl::StrAppend(&row, i == 0 ? "" : "|",
                        c.isNull() ? "NULL" : absl::BytesToHexString(c.getString()));
      }
      rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end());  // Some tables have no rowid to order by.
  }
  return dump;
}

std::string IntegrityCheck(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("PRAGMA integrity_check").getString();
}

// Runs deploy/restore-backup.sh; returns its exit code, and its output in `*output`.
int RunRestoreScript(const std::string& backup, const std::string& db, std::string* output) {
  const std::string log = db + ".restore.log";
  const std::string command = absl::StrCat(MEDIATION_SOURCE_DIR, "/deploy/restore-backup.sh '",
                                           backup, "' '", db, "' > '", log, "' 2>&1");
  const int status = std::system(command.c_str());
  *output = Slurp(log);
  std::filesystem::remove(log);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// One write acknowledged OK by the server, and whether it was acknowledged before the backup
// call began.
struct Acknowledged {
  enum Kind { kReferral, kOrganisation, kNote } kind;
  int64_t id;
  std::string content;  // The case's reference, the organisation's name or the note's text.
  bool before_backup;
};

class BackupTest : public ::testing::Test {
 protected:
  BackupTest() : server_([](ServerOptions& o) { o.workers = 6; }) {}

  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    mediator_ = server_.RegisterMediator(ValidMediator("Morgan Ellis", "morgan@example.org"));
    mediator_token_ = server_.IssueToken(v1::ROLE_MEDIATOR, mediator_);
    case_ = server_.AllocatedCase(org_, mediator_, mediator_token_);
  }

  grpc::Status Backup(const std::string& token, const std::string& label,
                      v1::BackupDatabaseResponse* out) {
    v1::BackupDatabaseRequest request;
    request.set_label(label);
    return server_.admin().BackupDatabase(WithToken(token).get(), request, out);
  }

  std::vector<std::string> BackupDirEntries() {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(server_.dir().File("backups"), ec)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // Writer `w` creates referrals, organisations and notes in turn until `stop`.
  void Write(int w, const std::atomic<bool>& backup_started, const std::atomic<bool>& stop) {
    for (int n = 0; !stop.load(); ++n) {
      Acknowledged ack{};
      grpc::Status status;
      switch (n % 3) {
        case 0: {
          v1::CreateReferralResponse out;
          status = server_.referrals().CreateReferral(WithToken(server_.case_support()).get(),
                                                      ValidReferral(org_), &out);
          ack = {Acknowledged::kReferral, out.case_().id(), out.case_().reference(), false};
          break;
        }
        case 1: {
          v1::RegisterOrganisationRequest r;
          *r.mutable_organisation() = ValidOrganisation(absl::StrCat("Trust ", w, "-", n));
          v1::RegisterOrganisationResponse out;
          status = server_.organisations().RegisterOrganisation(
              WithToken(server_.case_support()).get(), r, &out);
          ack = {Acknowledged::kOrganisation, out.organisation().id(), r.organisation().name(),
                 false};
          break;
        }
        default: {
          v1::AddNoteRequest r;
          r.set_case_id(case_.id());
          r.set_visibility(v1::NOTE_VISIBILITY_SHARED);
          r.set_text(absl::StrCat("Confidential-plaintext-", w, "-", n, "-Dr Reed felt unheard."));
          v1::AddNoteResponse out;
          status = server_.notes().AddNote(WithToken(mediator_token_).get(), r, &out);
          ack = {Acknowledged::kNote, out.note().id(), r.text(), false};
          break;
        }
      }
      if (!status.ok()) {
        ADD_FAILURE() << "writer " << w << ": " << status.error_message();
        return;
      }
      ack.before_backup = !backup_started.load();
      std::lock_guard lock(mu_);
      acknowledged_.push_back(ack);
    }
  }

  TestServer server_;
  int64_t org_ = 0;
  int64_t mediator_ = 0;
  std::string mediator_token_;
  v1::Case case_;
  std::mutex mu_;
  std::vector<Acknowledged> acknowledged_;  // Guarded by mu_.
};

// The server copies a SQLite database itself; PostgreSQL is backed up with its own tools (the
// call says so: OnPostgreSQLTheCallSaysWhatToUseInsteadAndWritesNoFile).
constexpr char kCopiesTheFile[] = "copies the SQLite file";

TEST_F(BackupTest, OnPostgreSQLTheCallSaysWhatToUseInsteadAndWritesNoFile) {
  MEDIATION_POSTGRES_ONLY("the refusal is PostgreSQL's");
  v1::BackupDatabaseResponse out;
  const grpc::Status status = Backup(server_.admin_secret(), "nightly", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(),
            "this server stores its data in PostgreSQL, which it does not copy itself: back it up "
            "with pg_dump or pg_basebackup and archive its write-ahead log (see "
            "deploy/postgresql/)");
  EXPECT_EQ(out.file_name(), "");
  EXPECT_EQ(BackupDirEntries(), std::vector<std::string>{});
  EXPECT_EQ(server_.CountRows("audit_events",
                              "method LIKE '%/BackupDatabase' AND outcome = "
                              "'FAILED_PRECONDITION'"),
            1);
}

TEST_F(BackupTest, ABackupUnderLoadRestoresAsTheSameDatabaseWithEveryEarlierWrite) {
  MEDIATION_SQLITE_ONLY(kCopiesTheFile);
  std::atomic<bool> backup_started{false}, stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] { Write(w, backup_started, stop); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  backup_started = true;
  v1::BackupDatabaseResponse backup;
  const grpc::Status status = Backup(server_.admin_secret(), "under load", &backup);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  for (std::thread& t : writers) t.join();
  ASSERT_TRUE(status.ok()) << status.error_message();

  // The file is what the answer says, complete, private, and alone in the directory.
  EXPECT_TRUE(absl::StartsWith(backup.file_name(), "mediation-")) << backup.file_name();
  EXPECT_TRUE(absl::EndsWith(backup.file_name(), "Z-under-load.db")) << backup.file_name();
  EXPECT_EQ(backup.path(), server_.dir().File("backups/" + backup.file_name()));
  EXPECT_EQ(BackupDirEntries(), std::vector<std::string>{backup.file_name()});
  const std::string bytes = Slurp(backup.path());
  EXPECT_EQ(backup.size_bytes(), static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(backup.sha256(), absl::BytesToHexString(Sha256(bytes)));
  EXPECT_EQ(backup.schema_version(), storage::LatestSchemaVersion());
  struct stat st {};
  ASSERT_EQ(::stat(backup.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(server_.dir().File("backups").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(IntegrityCheck(backup.path()), "ok");
  {
    SQLite::Database db(backup.path(), SQLite::OPEN_READONLY);
    EXPECT_EQ(backup.page_count() * db.execAndGet("PRAGMA page_size").getInt64(),
              backup.size_bytes());
  }

  // Neither the master key nor any note's text is in it; the admin secret neither.
  const std::string key_file = Slurp(server_.dir().File("master.key"));
  std::string key;
  ASSERT_TRUE(absl::Base64Unescape(
      absl::StripAsciiWhitespace(absl::StripPrefix(key_file, "mediation-master-key-v1:")), &key));
  ASSERT_EQ(key.size(), 32u);
  EXPECT_FALSE(absl::StrContains(bytes, key));
  EXPECT_FALSE(absl::StrContains(bytes, absl::StripAsciiWhitespace(key_file)));
  EXPECT_FALSE(absl::StrContains(bytes, server_.admin_secret()));
  EXPECT_FALSE(absl::StrContains(bytes, "Confidential-plaintext-"));
  EXPECT_FALSE(absl::StrContains(bytes, "Dr Reed felt unheard"));

  // Every write acknowledged before the backup began is in it, with its content; every case in
  // it is whole.
  const std::map<std::string, std::vector<std::string>> at_backup = DumpTables(backup.path());
  int before = 0, after = 0, after_included = 0;
  {
    SQLite::Database db(backup.path(), SQLite::OPEN_READONLY);
    for (const Acknowledged& a : acknowledged_) {
      (a.before_backup ? before : after)++;
      const char* sql = a.kind == Acknowledged::kReferral ? "SELECT reference FROM cases "
                                                            "WHERE id = ?"
                        : a.kind == Acknowledged::kOrganisation
                            ? "SELECT name FROM organisations "
                              "WHERE id = ?"
                            : "SELECT id FROM notes WHERE id = ?";
      SQLite::Statement q(db, sql);
      q.bind(1, static_cast<int64_t>(a.id));
      const bool found = q.executeStep();
      if (a.before_backup) {
        EXPECT_TRUE(found) << "write acknowledged before the backup is missing: " << a.content;
      }
      if (!found) continue;
      if (!a.before_backup) ++after_included;
      if (a.kind != Acknowledged::kNote) {
        EXPECT_EQ(q.getColumn(0).getString(), a.content);
      }
    }
    EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM cases WHERE (SELECT COUNT(*) FROM parties p "
                            "WHERE p.case_id = cases.id) <> 2")
                  .getInt(),
              0);
    EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM cases WHERE NOT EXISTS (SELECT 1 FROM "
                            "case_state_history h WHERE h.case_id = cases.id)")
                  .getInt(),
              0);
  }
  EXPECT_GT(before, 10) << "the writers did too little before the backup to test anything";
  EXPECT_GT(after, 0);
  std::cout << "acknowledged before the backup: " << before << ", after: " << after << " ("
            << after_included << " of them in the backup)\n";

  // Restore it with the documented script under a new server with the same master key.
  TempDir restored_dir;
  const std::string restored_db = restored_dir.File("mediation.db");
  std::string restore_output;
  ASSERT_EQ(RunRestoreScript(backup.path(), restored_db, &restore_output), 0) << restore_output;
  std::filesystem::copy_file(server_.dir().File("master.key"), restored_dir.File("master.key"));
  TestServer restored([&](ServerOptions& o) {
    o.db_path = restored_db;
    o.master_key_path = restored_dir.File("master.key");
    o.admin_token_path = restored_dir.File("admin.token");
  });
  EXPECT_FALSE(std::filesystem::exists(restored_dir.File("admin.token")))
      << "the restored database has its ADMIN token; no new one is made";
  EXPECT_EQ(DumpTables(restored_db), at_backup);

  // Through the restored server: the audit chain verifies, and notes decrypt.
  v1::VerifyAuditChainResponse chain;
  ASSERT_TRUE(
      restored.admin().VerifyAuditChain(WithToken(server_.admin_secret()).get(), {}, &chain).ok());
  EXPECT_TRUE(chain.intact()) << chain.problem();
  int notes_read = 0;
  for (const Acknowledged& a : acknowledged_) {
    if (a.kind != Acknowledged::kNote || !a.before_backup) continue;
    v1::GetNoteRequest get;
    get.set_note_id(a.id);
    v1::GetNoteResponse note;
    const grpc::Status read =
        restored.notes().GetNote(WithToken(mediator_token_).get(), get, &note);
    ASSERT_TRUE(read.ok()) << read.error_message();
    EXPECT_EQ(note.note().text(), a.content);
    ++notes_read;
  }
  EXPECT_GT(notes_read, 0);
  EXPECT_EQ(IntegrityCheck(restored_db), "ok");
}

TEST_F(BackupTest, TheRestoreScriptRefusesADatabaseInUseAndABrokenBackup) {
  MEDIATION_SQLITE_ONLY(kCopiesTheFile);
  v1::BackupDatabaseResponse backup;
  ASSERT_TRUE(Backup(server_.admin_secret(), "", &backup).ok());
  const int64_t cases = server_.CountRows("cases");
  std::string output;

  // The running server has the database open.
  EXPECT_EQ(RunRestoreScript(backup.path(), server_.db_path(), &output), 1);
  EXPECT_TRUE(absl::StrContains(output, "is in use (is mediation-server running?)")) << output;

  // A damaged backup: a page in the middle overwritten.
  std::string damaged = Slurp(backup.path());
  ASSERT_GT(damaged.size(), 20 * 4096u);
  std::fill(damaged.begin() + 10 * 4096, damaged.begin() + 12 * 4096, '\x5a');
  const std::string damaged_path = server_.dir().File("damaged.db");
  std::ofstream(damaged_path, std::ios::binary) << damaged;
  TempDir elsewhere;
  EXPECT_EQ(RunRestoreScript(damaged_path, elsewhere.File("mediation.db"), &output), 1);
  EXPECT_TRUE(absl::StrContains(output, "damaged.db")) << output;
  EXPECT_FALSE(std::filesystem::exists(elsewhere.File("mediation.db")));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(elsewhere.path()),
                          std::filesystem::directory_iterator()),
            0)
      << "nothing is left behind";
  EXPECT_EQ(server_.CountRows("cases"), cases);
}

TEST_F(BackupTest, OnlyAnAdministratorMayBackUpAndRefusalsWriteNothing) {
  for (const std::string& token :
       {server_.case_support(), server_.senior_adviser(), mediator_token_,
        server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_)}) {
    v1::BackupDatabaseResponse out;
    const grpc::Status status = Backup(token, "", &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
    EXPECT_EQ(out.file_name(), "");
  }
  v1::BackupDatabaseResponse out;
  EXPECT_EQ(Backup("", "", &out).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(BackupDirEntries(), std::vector<std::string>{});
  EXPECT_EQ(server_.CountRows("audit_events",
                              "method LIKE '%/BackupDatabase' AND outcome = 'PERMISSION_DENIED'"),
            4);
}

TEST_F(BackupTest, ABadLabelIsRefusedNamingTheField) {
  v1::BackupDatabaseResponse out;
  grpc::Status status = Backup(server_.admin_secret(), "!!!", &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "label: ")) << status.error_message();
  status = Backup(server_.admin_secret(), std::string(65, 'a'), &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "label: at most 64 characters");
  EXPECT_EQ(BackupDirEntries(), std::vector<std::string>{});
}

TEST_F(BackupTest, EveryBackupIsAuditedAndNoneReplacesAnother) {
  MEDIATION_SQLITE_ONLY(kCopiesTheFile);
  v1::BackupDatabaseResponse first, second;
  ASSERT_TRUE(Backup(server_.admin_secret(), "nightly", &first).ok());
  ASSERT_TRUE(Backup(server_.admin_secret(), "nightly", &second).ok());
  EXPECT_NE(first.file_name(), second.file_name());
  EXPECT_EQ(BackupDirEntries().size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(first.path()));
  EXPECT_EQ(first.sha256(), absl::BytesToHexString(Sha256(Slurp(first.path()))));

  auto db = server_.OpenDb();
  EXPECT_EQ(db->execAndGet("SELECT COUNT(*) FROM audit_events WHERE method = "
                           "'/ppa.mediation.v1.AdminService/BackupDatabase' AND outcome = 'OK'")
                .getInt(),
            2);
  // The second backup holds the first one's audit row: it was committed before the answer.
  SQLite::Database copy(second.path(), SQLite::OPEN_READONLY);
  EXPECT_EQ(copy.execAndGet("SELECT COUNT(*) FROM audit_events WHERE method LIKE "
                            "'%/BackupDatabase'")
                .getInt(),
            1);
}

TEST_F(BackupTest, TwoBackupsInTheSameSecondGetDistinctNames) {
  MEDIATION_SQLITE_ONLY(kCopiesTheFile);
  TestServer fixed([](ServerOptions& o) {
    o.clock = [] {
      return absl::FromCivil(absl::CivilSecond(2026, 12, 1, 9, 30, 0), absl::UTCTimeZone());
    };
  });
  v1::BackupDatabaseRequest request;
  request.set_label("Before upgrade (v2)");
  v1::BackupDatabaseResponse first, second;
  ASSERT_TRUE(
      fixed.admin().BackupDatabase(WithToken(fixed.admin_secret()).get(), request, &first).ok());
  ASSERT_TRUE(
      fixed.admin().BackupDatabase(WithToken(fixed.admin_secret()).get(), request, &second).ok());
  EXPECT_EQ(first.file_name(), "mediation-20261201T093000Z-Before-upgrade-v2.db");
  EXPECT_EQ(second.file_name(), "mediation-20261201T093000Z-Before-upgrade-v2-2.db");
  EXPECT_EQ(first.snapshot_at().seconds(),
            absl::ToUnixSeconds(
                absl::FromCivil(absl::CivilSecond(2026, 12, 1, 9, 30, 0), absl::UTCTimeZone())));
}

}  // namespace
}  // namespace mediation
