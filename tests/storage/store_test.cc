// The storage contract (storage/store.h) and the typed operations over it, on the engine the
// run is for: every test here runs on SQLite and, as storage_tests' *.pg tests, on PostgreSQL,
// but for the few about one engine's own settings.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "storage/audit.h"
#include "storage/cases.h"
#include "storage/crypto.h"
#include "storage/data_keys.h"
#include "storage/organisations.h"
#include "storage/pg_store.h"
#include "storage/sql.h"
#include "storage/tokens.h"
#include "tests/storage/fresh_database.h"

namespace mediation::storage {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EngineStore>> store = db_.Open(std::string(32, 'k'));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->MigrateToLatest().ok());
    // A master key, as the server holds one: sealed texts (a case's summary) need it.
    const std::string key = NewKey();
    ASSERT_TRUE(store_
                    ->Write([&](Tx& tx) {
                      return InsertMasterKey(tx, MasterKeys::MakeCheck(key),
                                             MasterKeyState::kCurrent, absl::Now())
                          .status();
                    })
                    .ok());
    keys_->Hold(1, key);
    keys_->SetWrapping(1);
    store_->SetMasterKeys(keys_);
  }

  OrganisationRecord Org(const std::string& name, const std::string& ods = "") {
    OrganisationRecord o;
    o.name = name;
    o.kind = v1::ORGANISATION_KIND_GP_PRACTICE;
    o.nation = v1::NATION_NORTHERN_IRELAND;
    o.care_setting = v1::CARE_SETTING_PRIMARY;
    o.sector = v1::SECTOR_INDEPENDENT;
    o.ods_code = ods;
    o.contact = {.name = "Ann", .email = "ann@example.org", .phone = "", .job_title = ""};
    o.created_at = absl::FromUnixSeconds(1790000000);
    return o;
  }

  // Counted through a connection of its own: what is committed, not what this one sees.
  int64_t Count(const std::string& table) {
    return db_.SelectOne(absl::StrCat("SELECT COUNT(*) FROM ", table));
  }

  FreshDatabase db_;
  std::shared_ptr<MasterKeys> keys_ = std::make_shared<MasterKeys>();
  std::unique_ptr<EngineStore> store_;
};

TEST_F(StoreTest, OpensInWalModeWithFullSyncAndForeignKeys) {
  MEDIATION_SQLITE_ONLY(
      "SQLite's pragmas; PostgresTransactionsHaveTheContractsIsolation is its twin");
  int64_t synchronous = -1, foreign_keys = -1;
  std::string journal;
  ASSERT_TRUE(store_
                  ->Read([&](Tx& tx) -> absl::Status {
                    Statement mode(tx, "PRAGMA journal_mode");
                    if (mode.executeStep()) journal = mode.getColumn(0).getString();
                    synchronous = SelectInt64(tx, "PRAGMA synchronous");
                    foreign_keys = SelectInt64(tx, "PRAGMA foreign_keys");
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(journal, "wal");
  EXPECT_EQ(synchronous, 2);  // FULL
  EXPECT_EQ(foreign_keys, 1);
}

// Reads see one snapshot and cannot write; writes are SERIALIZABLE and each holds the write lock
// (kWriteLock) that serialises writes across server processes.
TEST_F(StoreTest, PostgresTransactionsHaveTheContractsIsolation) {
  MEDIATION_POSTGRES_ONLY("PostgreSQL's transaction settings; SQLite's are checked by its pragmas");
  struct Seen {
    std::string isolation, read_only;
    int64_t write_locks = -1;
  };
  auto look = [](Seen& seen) {
    return [&seen](Tx& tx) -> absl::Status {
      Statement st(tx,
                   "SELECT current_setting('transaction_isolation'), "
                   "current_setting('transaction_read_only')");
      if (!st.executeStep()) return absl::InternalError("no settings");
      seen.isolation = st.getColumn(0).getString();
      seen.read_only = st.getColumn(1).getString();
      seen.write_locks = SelectInt64(
          tx, absl::StrCat("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                           "pid = pg_backend_pid() AND granted AND classid = 0 AND objsubid = 1 "
                           "AND CAST(objid AS bigint) = ",
                           kWriteLock));
      return absl::OkStatus();
    };
  };
  Seen read, write;
  ASSERT_TRUE(store_->Read(look(read)).ok());
  ASSERT_TRUE(store_->Write(look(write)).ok());
  EXPECT_EQ(read.isolation, "repeatable read");
  EXPECT_EQ(read.read_only, "on");
  EXPECT_EQ(read.write_locks, 0);
  EXPECT_EQ(write.isolation, "serializable");
  EXPECT_EQ(write.read_only, "off");
  EXPECT_EQ(write.write_locks, 1);
}

TEST_F(StoreTest, AFailedWriteRollsBackEverythingItWrote) {
  absl::Status status = store_->Write([&](Tx& tx) -> absl::Status {
    if (!InsertOrganisation(tx, Org("First")).ok()) return absl::InternalError("setup");
    return absl::FailedPreconditionError("changed my mind");
  });

  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("organisations"), 0);
}

TEST_F(StoreTest, AnExceptionInsideAWriteRollsBackAndBecomesAStatus) {
  absl::Status status = store_->Write([&](Tx& tx) -> absl::Status {
    (void)InsertOrganisation(tx, Org("First"));
    Statement(tx, "INSERT INTO no_such_table VALUES (1)").exec();
    return absl::OkStatus();
  });

  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(IsStorageError(status));
  EXPECT_EQ(Count("organisations"), 0);
}

TEST_F(StoreTest, ReadTransactionsRefuseWrites) {
  absl::Status status = store_->Read(
      [&](Tx& tx) -> absl::Status { return InsertOrganisation(tx, Org("First")).status(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Count("organisations"), 0);
}

TEST_F(StoreTest, DuplicateOdsCodeIsAlreadyExists) {
  ASSERT_TRUE(
      store_->Write([&](Tx& tx) { return InsertOrganisation(tx, Org("A", "Y123")).status(); })
          .ok());
  absl::Status status =
      store_->Write([&](Tx& tx) { return InsertOrganisation(tx, Org("B", "Y123")).status(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Count("organisations"), 1);
}

TEST_F(StoreTest, CaseRoundTripsWithPartiesLinksReferenceAndHistory) {
  CaseRecord stored;
  ASSERT_TRUE(store_
                  ->Write([&](Tx& tx) -> absl::Status {
                    absl::StatusOr<OrganisationRecord> org = InsertOrganisation(tx, Org("Org"));
                    if (!org.ok()) return org.status();
                    CaseRecord c;
                    c.organisation_id = org->id;
                    c.state = v1::CASE_STATE_REFERRED;
                    c.referrer = {.name = "R", .email = "r@example.org"};
                    c.summary = "summary";
                    c.concern_level = v1::CONCERN_LEVEL_HIGH;
                    c.concern_type = v1::CONCERN_TYPE_BYSTANDER;
                    c.created_at = c.updated_at = absl::FromCivil(
                        absl::CivilSecond(2026, 3, 29, 0, 30, 0), absl::UTCTimeZone());
                    for (const char* name : {"P1", "P2", "P3"}) {
                      PartyRecord p;
                      p.contact = {.name = name, .email = std::string(name) + "@example.org"};
                      p.profession = v1::PROFESSION_PHARMACIST;
                      c.parties.push_back(p);
                    }
                    c.linked_case_references = {"PPA-1", "PPA/2"};
                    absl::StatusOr<CaseRecord> inserted = InsertCase(tx, c);
                    if (!inserted.ok()) return inserted.status();
                    stored = *inserted;
                    return absl::OkStatus();
                  })
                  .ok());

  CaseRecord read;
  std::vector<HistoryRecord> history;
  ASSERT_TRUE(store_
                  ->Read([&](Tx& tx) -> absl::Status {
                    absl::StatusOr<CaseRecord> c = GetCase(tx, stored.id);
                    if (!c.ok()) return c.status();
                    read = *c;
                    absl::StatusOr<std::vector<HistoryRecord>> h = CaseHistory(tx, stored.id);
                    if (!h.ok()) return h.status();
                    history = *h;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(read.reference, "AM-2026-" + std::string(6 - std::to_string(stored.id).size(), '0') +
                                std::to_string(stored.id));
  EXPECT_EQ(read.state, v1::CASE_STATE_REFERRED);
  EXPECT_EQ(read.concern_level, v1::CONCERN_LEVEL_HIGH);
  EXPECT_EQ(read.concern_type, v1::CONCERN_TYPE_BYSTANDER);
  ASSERT_EQ(read.parties.size(), 3u);
  EXPECT_EQ(read.parties[0].contact.name, "P1");
  EXPECT_EQ(read.parties[2].position, 3);
  EXPECT_EQ(read.parties[1].id, stored.parties[1].id);
  EXPECT_EQ(read.linked_case_references, (std::vector<std::string>{"PPA-1", "PPA/2"}));
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].from, v1::CASE_STATE_UNSPECIFIED);
  EXPECT_EQ(history[0].to, v1::CASE_STATE_REFERRED);
}

TEST_F(StoreTest, ForeignKeysRejectACaseOfAnUnknownOrganisation) {
  absl::Status status = store_->Write([&](Tx& tx) -> absl::Status {
    CaseRecord c;
    c.organisation_id = 999;
    c.state = v1::CASE_STATE_REFERRED;
    return InsertCase(tx, c).status();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Count("cases"), 0);
}

// Token caches rely on this (storage/tokens.h): a change to a token is in progress from when it
// begins until its transaction has ended, committed or not.
TEST_F(StoreTest, ATokenChangeIsInProgressUntilItsTransactionEnds) {
  TokenRecord t;
  t.sha256 = std::string(32, 'x');
  t.role = v1::ROLE_CASE_SUPPORT;
  t.label = "x";
  t.created_at = absl::FromUnixSeconds(1800000000);
  const TokenChangeState start = TokenChanges();
  ASSERT_EQ(start.in_progress, 0u);
  TokenChangeState inside;
  int64_t id = 0;
  ASSERT_TRUE(store_
                  ->Write([&](Tx& tx) -> absl::Status {
                    absl::StatusOr<TokenRecord> stored = InsertToken(tx, t);
                    if (!stored.ok()) return stored.status();
                    id = stored->id;
                    inside = TokenChanges();
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(inside, (TokenChangeState{.version = start.version + 1, .in_progress = 1}));
  const TokenChangeState committed = TokenChanges();
  EXPECT_EQ(committed, (TokenChangeState{.version = start.version + 2, .in_progress = 0}));

  // A revocation whose transaction fails ends too.
  EXPECT_EQ(store_
                ->Write([&](Tx& tx) -> absl::Status {
                  if (absl::Status s = SetTokenRevoked(tx, id, t.created_at); !s.ok()) return s;
                  return absl::AbortedError("changed my mind");
                })
                .code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(TokenChanges(), (TokenChangeState{.version = committed.version + 2, .in_progress = 0}));
}

TEST_F(StoreTest, TokensAreFoundByHashAndListedNewestFirstWithoutInactiveOnes) {
  const absl::Time now = absl::FromUnixSeconds(1800000000);
  auto token = [&](char fill, std::optional<absl::Time> expires,
                   std::optional<absl::Time> revoked) {
    TokenRecord t;
    t.sha256 = std::string(32, fill);
    t.role = v1::ROLE_CASE_SUPPORT;
    t.label = std::string(1, fill);
    t.created_at = now - absl::Hours(1);
    t.expires_at = expires;
    t.revoked_at = revoked;
    return t;
  };
  ASSERT_TRUE(store_
                  ->Write([&](Tx& tx) -> absl::Status {
                    for (const TokenRecord& t : {token('a', std::nullopt, std::nullopt),
                                                 token('b', now - absl::Minutes(1), std::nullopt),
                                                 token('c', std::nullopt, now - absl::Minutes(5)),
                                                 token('d', now + absl::Hours(1), std::nullopt)}) {
                      if (absl::Status s = InsertToken(tx, t).status(); !s.ok()) return s;
                    }
                    return absl::OkStatus();
                  })
                  .ok());

  std::vector<TokenRecord> active, all;
  TokenRecord found;
  ASSERT_TRUE(store_
                  ->Read([&](Tx& tx) -> absl::Status {
                    active = *ListTokens(tx, false, now, {.after_id = 0, .limit = 10});
                    all = *ListTokens(tx, true, now, {.after_id = 0, .limit = 10});
                    found = *FindTokenByHash(tx, std::string(32, 'c'));
                    EXPECT_EQ(FindTokenByHash(tx, std::string(32, 'z')).status().code(),
                              absl::StatusCode::kNotFound);
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(active.size(), 2u);
  EXPECT_EQ(active[0].label, "d");
  EXPECT_EQ(active[1].label, "a");
  EXPECT_EQ(all.size(), 4u);
  EXPECT_EQ(found.label, "c");
  EXPECT_EQ(found.revoked_at, now - absl::Minutes(5));
}

TEST_F(StoreTest, AuditFilterMatchesWholeObjectWords) {
  ASSERT_TRUE(store_
                  ->Write([&](Tx& tx) -> absl::Status {
                    for (const char* objects : {"case:1", "case:12 organisation:3", "case:123"}) {
                      AuditRecord r;
                      r.at = absl::FromUnixSeconds(1);
                      r.call_id = "c";
                      r.method = "m";
                      r.objects = objects;
                      r.outcome = "OK";
                      if (absl::Status s = AppendAudit(tx, r).status(); !s.ok()) return s;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  std::vector<AuditRecord> rows;
  ASSERT_TRUE(store_
                  ->Read([&](Tx& tx) -> absl::Status {
                    rows = *ListAudit(tx, {.token_id = 0, .object = "case:12"},
                                      {.after_id = 0, .limit = 10});
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].objects, "case:12 organisation:3");
}

TEST_F(StoreTest, TwoConnectionsSeeEachOthersCommittedWrites) {
  absl::StatusOr<std::unique_ptr<Store>> other = DatabaseStoreFactory(db_.Options())();
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(
      store_->Write([&](Tx& tx) { return InsertOrganisation(tx, Org("Seen")).status(); }).ok());
  std::vector<OrganisationRecord> orgs;
  ASSERT_TRUE((*other)
                  ->Read([&](Tx& tx) -> absl::Status {
                    orgs =
                        *ListOrganisations(tx, v1::NATION_UNSPECIFIED, {.after_id = 0, .limit = 5});
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(orgs.size(), 1u);
  EXPECT_EQ(orgs[0].name, "Seen");
  EXPECT_EQ(orgs[0].nation, v1::NATION_NORTHERN_IRELAND);
}

}  // namespace
}  // namespace mediation::storage
