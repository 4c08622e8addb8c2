// The audit trail's keyed chain at the storage level: what verification finds, and what an
// attacker without the key cannot hide.
#include "storage/audit.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include "absl/strings/str_cat.h"
#include "storage/sql.h"
#include "tests/storage/fresh_database.h"

namespace mediation::storage {
namespace {

const std::string kKey(32, 'k');

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EngineStore>> store = db_.Open(kKey);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->MigrateToLatest().ok());
  }

  void Append(int n) {
    ASSERT_TRUE(store_
                    ->Write([&](Tx& tx) -> absl::Status {
                      for (int i = 0; i < n; ++i) {
                        AuditRecord r{.at = absl::FromUnixSeconds(1000 + i),
                                      .call_id = absl::StrCat("call-", i),
                                      .token_id = 1,
                                      .role = v1::ROLE_ADMIN,
                                      .method = "/m",
                                      .objects = "case:1",
                                      .outcome = "OK"};
                        if (absl::Status s = AppendAudit(tx, r).status(); !s.ok()) return s;
                      }
                      return absl::OkStatus();
                    })
                    .ok());
  }

  ChainCheck Verify() {
    ChainCheck check;
    absl::Status s = store_->Read([&](Tx& tx) -> absl::Status {
      absl::StatusOr<ChainCheck> c = VerifyAuditChain(tx);
      if (!c.ok()) return c.status();
      check = *c;
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return check;
  }

  // Runs `sql` through a connection of its own, as someone editing the database directly would,
  // and returns how many rows it changed.
  int Tamper(const std::string& sql) { return db_.Exec(sql); }

  FreshDatabase db_;
  std::unique_ptr<EngineStore> store_;
};

TEST_F(AuditTest, AnAppendedTrailVerifies) {
  Append(5);
  const ChainCheck check = Verify();
  EXPECT_TRUE(check.intact) << check.problem;
  EXPECT_EQ(check.rows, 5);
  EXPECT_EQ(check.head_hash.size(), 64u);
}

TEST_F(AuditTest, AnEmptyTrailVerifies) {
  const ChainCheck check = Verify();
  EXPECT_TRUE(check.intact) << check.problem;
  EXPECT_EQ(check.rows, 0);
}

TEST_F(AuditTest, RowsCutOffTheEndAreFound) {
  Append(5);
  ASSERT_EQ(Tamper("DELETE FROM audit_events WHERE id >= 4"), 2);
  const ChainCheck check = Verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.first_broken, 4);
  EXPECT_EQ(check.problem,
            "row 4: missing: the trail ends at row 3 but its head names row 5 (rows were cut off "
            "the end)");
}

TEST_F(AuditTest, RowsAppendedAfterACutStillShowTheGap) {
  Append(5);
  ASSERT_EQ(Tamper("DELETE FROM audit_events WHERE id = 5"), 1);
  Append(1);  // The server carries on: its next row follows the head, i.e. the missing row 5.
  const ChainCheck check = Verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.first_broken, 6);
  EXPECT_EQ(check.problem,
            "row 6: does not follow row 4 (a row is missing, out of order or was inserted)");
}

TEST_F(AuditTest, AChainRecomputedWithoutTheKeyIsFound) {
  Append(4);
  // An attacker edits row 2 and recomputes every link after it with plain SHA-256: the best
  // anyone without the key file can do.
  ASSERT_EQ(Tamper("UPDATE audit_events SET outcome = 'PERMISSION_DENIED' WHERE id = 2"), 1);
  const TxFn relink = [](Tx& tx) -> absl::Status {
    Statement rows(tx, "SELECT id, prev_hash, outcome FROM audit_events ORDER BY id");
    std::string prev;
    std::vector<std::pair<int64_t, std::string>> relinked;
    while (rows.executeStep()) {
      const int64_t id = rows.getColumn(0).getInt64();
      if (id == 1) {
        prev = std::string(32, '\0');
      }
      std::string data = absl::StrCat(prev, id, rows.getColumn(2).getString());
      unsigned char digest[SHA256_DIGEST_LENGTH];
      SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
      prev.assign(reinterpret_cast<const char*>(digest), sizeof digest);
      relinked.emplace_back(id, prev);
    }
    rows.reset();
    for (const auto& [id, hash] : relinked) {
      if (id < 2) continue;
      Statement update(tx, "UPDATE audit_events SET hash = ? WHERE id = ?");
      update.bind(1, hash.data(), static_cast<int>(hash.size()));
      update.bind(2, static_cast<int64_t>(id));
      EXPECT_EQ(update.exec(), 1);
    }
    return absl::OkStatus();
  };
  ASSERT_TRUE(db_.WriteDirectly(relink).ok());
  const ChainCheck check = Verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.first_broken, 2);
  EXPECT_EQ(check.problem, "row 2: its contents do not match its link (edited)");
}

TEST_F(AuditTest, TheSameDigitsStoredAsABlobAreAnEdit) {
  MEDIATION_SQLITE_ONLY("only SQLite can store a blob in an integer column");
  Append(3);
  ASSERT_EQ(Tamper("UPDATE audit_events SET token_id = CAST('1' AS BLOB) WHERE id = 2"), 1);
  const ChainCheck check = Verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.first_broken, 2);
}

TEST_F(AuditTest, AnUnknownRoleIsReportedNotThrown) {
  Append(3);
  ASSERT_EQ(Tamper("UPDATE audit_events SET role = 'ROLE_EMPEROR' WHERE id = 3"), 1);
  const ChainCheck check = Verify();
  EXPECT_FALSE(check.intact);
  EXPECT_EQ(check.first_broken, 3);
}

TEST_F(AuditTest, AnAlteredOrMissingHeadIsFound) {
  Append(3);
  ASSERT_EQ(Tamper("UPDATE audit_head SET last_id = 2"), 1);
  EXPECT_EQ(Verify().problem, "row 3: the trail's head record was altered");
  ASSERT_EQ(Tamper("DELETE FROM audit_head"), 1);
  EXPECT_EQ(Verify().problem, "row 3: the trail's head record is missing");
}

TEST_F(AuditTest, AnotherKeyDoesNotVerify) {
  Append(2);
  absl::StatusOr<std::unique_ptr<EngineStore>> other = db_.Open(std::string(32, 'x'));
  ASSERT_TRUE(other.ok());
  absl::StatusOr<ChainCheck> check;
  ASSERT_TRUE((*other)
                  ->Read([&](Tx& tx) -> absl::Status {
                    check = VerifyAuditChain(tx);
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->intact);
  EXPECT_EQ(check->first_broken, 1);
}

TEST_F(AuditTest, WithoutAKeyNothingIsAppended) {
  absl::StatusOr<std::unique_ptr<EngineStore>> keyless = db_.Open();
  ASSERT_TRUE(keyless.ok());
  const absl::Status s = (*keyless)->Write([](Tx& tx) -> absl::Status {
    return AppendAudit(tx, {.call_id = "c", .method = "/m", .outcome = "OK"}).status();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Tamper("DELETE FROM audit_events"), 0);
}

TEST_F(AuditTest, RowsFromBeforeTheChainAreLinkedOnceAtStart) {
  // A database from before schema version 6: rows without links, and no head.
  Append(3);
  ASSERT_EQ(Tamper("UPDATE audit_events SET prev_hash = NULL, hash = NULL"), 3);
  ASSERT_EQ(Tamper("DELETE FROM audit_head"), 1);
  int64_t linked = -1;
  ASSERT_TRUE(store_
                  ->Write([&](Tx& tx) -> absl::Status {
                    absl::StatusOr<int64_t> n = LinkUnchainedAuditRows(tx);
                    if (!n.ok()) return n.status();
                    linked = *n;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(linked, 3);
  EXPECT_TRUE(Verify().intact) << Verify().problem;
  Append(1);
  EXPECT_TRUE(Verify().intact);
  EXPECT_EQ(Verify().rows, 4);

  // Once any row is linked, unlinked rows are damage, not history: they stay unlinked.
  ASSERT_EQ(Tamper("UPDATE audit_events SET hash = NULL WHERE id = 2"), 1);
  ASSERT_TRUE(store_
                  ->Write([&](Tx& tx) -> absl::Status {
                    absl::StatusOr<int64_t> n = LinkUnchainedAuditRows(tx);
                    if (!n.ok()) return n.status();
                    linked = *n;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(linked, 0);
  EXPECT_FALSE(Verify().intact);
  EXPECT_EQ(Verify().first_broken, 2);
}

}  // namespace
}  // namespace mediation::storage
