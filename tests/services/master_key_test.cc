// The master key: created on first start, never in the database, and a missing or wrong key
// stops the server at start with a clear message.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/server/server.h"
#include "storage/crypto.h"
#include "storage/data_keys.h"
#include "storage/database.h"
#include "storage/master_keys.h"
#include "storage/pg_connection.h"
#include "storage/sql.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_database.h"

namespace mediation {
namespace {

using ::mediation::testing::TempDir;

class MasterKeyTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<MediationServer>> Start() {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.db_path = database_.db();
    o.master_key_path = dir_.File("master.key");
    o.admin_token_path = dir_.File("admin.token");
    o.workers = 1;
    o.log_stream = log_;
    return MediationServer::Start(o);
  }
  ~MasterKeyTest() override { std::fclose(log_); }

  TempDir dir_;
  testing::TestDatabase database_{dir_.File("m.db")};
  std::FILE* log_ = std::fopen("/dev/null", "w");
};

int64_t CountMasterKeys(storage::Store& store) {
  int64_t count = -1;
  const absl::Status read = store.Read([&](storage::Tx& tx) {
    count = storage::SelectInt64(tx, "SELECT COUNT(*) FROM master_keys");
    return absl::OkStatus();
  });
  return read.ok() ? count : -1;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_F(MasterKeyTest, TheFirstStartCreatesAPrivateKeyFileThatNeverEntersTheDatabase) {
  absl::StatusOr<std::unique_ptr<MediationServer>> server = Start();
  ASSERT_TRUE(server.ok()) << server.status();
  struct stat st {};
  ASSERT_EQ(::stat(dir_.File("master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream in(dir_.File("master.key"));
  std::string line;
  std::getline(in, line);
  ASSERT_TRUE(absl::StartsWith(line, "mediation-master-key-v1:"));
  const std::string encoded = line.substr(24);
  std::string key;
  ASSERT_TRUE(absl::Base64Unescape(encoded, &key));
  ASSERT_EQ(key.size(), 32u);
  // The audit key, a data key of the database, unwrapped with the master key.
  std::string audit_key;
  {
    auto keys = std::make_shared<storage::MasterKeys>();
    keys->Hold(1, key);
    keys->SetWrapping(1);
    absl::StatusOr<std::unique_ptr<storage::EngineStore>> store =
        storage::OpenDatabase({.db = database_.db(), .master_keys = keys});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)
                    ->Read([&](storage::Tx& tx) -> absl::Status {
                      absl::StatusOr<storage::DataKey> k =
                          storage::GetDataKey(tx, storage::KeyPurpose::kAudit, 0);
                      if (!k.ok()) return k.status();
                      audit_key = k->key;
                      return absl::OkStatus();
                    })
                    .ok());
  }
  ASSERT_EQ(audit_key.size(), 32u);
  // While it runs (the write-ahead log holds the newest pages): in no file of the database,
  // in neither form, nor the audit key it wraps. SQLite's files: the tests through TestServer
  // read PostgreSQL's (TestServer::DiskBytes).
  if (!database_.postgres()) {
    std::string disk;
    for (const char* file : {"m.db", "m.db-wal", "m.db-shm"}) disk += FileBytes(dir_.File(file));
    ASSERT_GT(disk.size(), 4096u);
    EXPECT_FALSE(absl::StrContains(disk, key));
    EXPECT_FALSE(absl::StrContains(disk, encoded));
    EXPECT_FALSE(absl::StrContains(disk, audit_key));
  }
  server->reset();
  // The same key starts it again.
  EXPECT_TRUE(Start().ok());
}

TEST_F(MasterKeyTest, AKeyFileThatIsASymbolicLinkIsRefused) {
  ASSERT_TRUE(Start().ok());
  ASSERT_EQ(::rename(dir_.File("master.key").c_str(), dir_.File("real.key").c_str()), 0);
  ASSERT_EQ(::symlink(dir_.File("real.key").c_str(), dir_.File("master.key").c_str()), 0);
  absl::StatusOr<std::unique_ptr<MediationServer>> server = Start();
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(server.status().message(), "is a symbolic link"))
      << server.status();
}

TEST_F(MasterKeyTest, ALostKeyCheckDoesNotLetANewKeyReplaceTheOld) {
  ASSERT_TRUE(Start().ok());  // The first start writes the bootstrap audit row, linked by the key.
  // As an intruder with the database would: past the data keys' references to it (SQLite
  // checks them only on connections that ask; PostgreSQL's superuser can switch them off).
  if (database_.postgres()) {
    storage::PgConnection db(database_.db());
    db.Run("BEGIN");
    db.Run("SET LOCAL session_replication_role = replica");
    db.Run("DELETE FROM master_keys");
    db.Run("COMMIT");
  } else {
    SQLite::Database db(database_.db(), SQLite::OPEN_READWRITE);
    ASSERT_EQ(db.exec("DELETE FROM master_keys"), 1);
  }
  absl::StatusOr<std::unique_ptr<storage::EngineStore>> store =
      storage::OpenDatabase({.db = database_.db()});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(CountMasterKeys(**store), 0);
  ASSERT_EQ(::unlink(dir_.File("master.key").c_str()), 0);
  absl::StatusOr<std::unique_ptr<MediationServer>> server = Start();
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(server.status().message(), "records no master key"))
      << server.status();
  struct stat st {};
  EXPECT_NE(::stat(dir_.File("master.key").c_str(), &st), 0);  // No new key was made.
}

TEST_F(MasterKeyTest, AWrongKeyStopsTheServerAtStart) {
  ASSERT_TRUE(Start().ok());
  ASSERT_EQ(::unlink(dir_.File("master.key").c_str()), 0);
  {
    std::ofstream out(dir_.File("master.key"));
    out << "mediation-master-key-v1:" << absl::Base64Escape(storage::NewKey()) << "\n";
  }
  ::chmod(dir_.File("master.key").c_str(), 0600);
  absl::StatusOr<std::unique_ptr<MediationServer>> server = Start();
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      absl::StrContains(server.status().message(), "is not a key this database was used with"))
      << server.status();
}

TEST_F(MasterKeyTest, AMissingKeyStopsTheServerAtStart) {
  ASSERT_TRUE(Start().ok());
  ASSERT_EQ(::unlink(dir_.File("master.key").c_str()), 0);
  absl::StatusOr<std::unique_ptr<MediationServer>> server = Start();
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(server.status().message(), "is missing")) << server.status();
}

TEST_F(MasterKeyTest, AKeyFileOthersCanReadIsRefused) {
  ASSERT_TRUE(Start().ok());
  ::chmod(dir_.File("master.key").c_str(), 0644);
  absl::StatusOr<std::unique_ptr<MediationServer>> server = Start();
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(server.status().message(), "readable by others"));
}

TEST(CryptoTest, SealedTextOpensOnlyWithItsKeyAndBinding) {
  const std::string key = storage::NewKey();
  const std::string sealed = storage::Seal(key, "private words", "note:1:2");
  EXPECT_EQ(*storage::Open(key, sealed, "note:1:2"), "private words");
  EXPECT_EQ(storage::Open(key, sealed, "note:1:3").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(storage::Open(storage::NewKey(), sealed, "note:1:2").status().code(),
            absl::StatusCode::kDataLoss);
  std::string flipped = sealed;
  flipped[30] ^= 1;
  EXPECT_EQ(storage::Open(key, flipped, "note:1:2").status().code(), absl::StatusCode::kDataLoss);
  // Two seals of the same text differ (fresh nonces).
  EXPECT_NE(storage::Seal(key, "private words", "note:1:2"), sealed);
}

}  // namespace
}  // namespace mediation
