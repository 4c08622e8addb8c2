// Real storage faults under concurrent writers, with group commit on: a write that fails, a full
// disk (a real SQLITE_FULL, from PRAGMA max_page_count) and a database another process keeps
// locked. Each caller gets a clear code and a message without internals; every call answered OK
// is on disk with its content, and every refused call left nothing.
// (tests/services/fault_injection_test.cc covers the single-call cases.)
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/pg_connection.h"
#include "storage/pg_store.h"
#include "storage/sql.h"
#include "tests/support/faulty_store.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::FaultPlan;
using ::mediation::testing::FaultyStores;
using ::mediation::testing::SqliteFailure;
using ::mediation::testing::TestServer;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;

// The outcome of one CreateReferral, identified by the unique referrer address it was sent with.
struct Outcome {
  std::string summary;
  grpc::Status status;
  int64_t case_id = 0;
};

// Runs `writers` threads, each creating up to `per_writer` referrals (stopping at its first
// failure), and returns every outcome. Summaries start with `batch`; `padding` makes each
// referral that many bytes bigger.
std::vector<Outcome> CreateReferralsConcurrently(TestServer& server, const std::string& batch,
                                                 int64_t org, int writers, int per_writer,
                                                 size_t padding = 0) {
  std::mutex mu;
  std::vector<Outcome> outcomes;
  std::vector<std::thread> threads;
  const std::string token = server.case_support();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int n = 0; n < per_writer; ++n) {
        v1::CreateReferralRequest request = ValidReferral(org);
        request.set_summary(absl::StrCat(batch, " referral ", w, "-", n, " of the fault test.",
                                         padding > 0 ? " " : "", std::string(padding, 'x')));
        // The summary is sealed in the file; the referrer's address (plain) names the write.
        request.mutable_referrer()->set_email(absl::StrCat(
            "referrer+", absl::AsciiStrToLower(batch), "-", w, "-", n, "@example.nhs.uk"));
        v1::CreateReferralResponse response;
        Outcome o;
        o.summary = request.referrer().email();
        o.status = server.referrals().CreateReferral(WithToken(token).get(), request, &response);
        o.case_id = response.case_().id();
        const bool failed = !o.status.ok();
        {
          std::lock_guard lock(mu);
          outcomes.push_back(std::move(o));
        }
        if (failed) return;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return outcomes;
}

// Every referral answered OK is stored whole (its case, both parties, its first state) and every
// refused one left no row: the exact counts, and each referral by its referrer's address.
void ExpectExactlyTheAcknowledgedReferrals(TestServer& server,
                                           const std::vector<Outcome>& outcomes) {
  int64_t acknowledged = 0;
  ASSERT_TRUE(server
                  .ReadStore([&](storage::Tx& tx) -> absl::Status {
                    for (const Outcome& o : outcomes) {
                      storage::Statement q(tx, "SELECT id FROM cases WHERE referrer_email = ?");
                      q.bind(1, o.summary);
                      if (o.status.ok()) {
                        ++acknowledged;
                        EXPECT_TRUE(q.executeStep())
                            << "acknowledged but missing: " << o.summary.substr(0, 40);
                        EXPECT_EQ(q.getColumn(0).getInt64(), o.case_id);
                      } else {
                        EXPECT_FALSE(q.executeStep())
                            << "refused but stored: " << o.summary.substr(0, 40);
                      }
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(server.CountRows("cases"), acknowledged);
  EXPECT_EQ(server.CountRows("parties"), 2 * acknowledged);
  EXPECT_EQ(server.CountRows("case_state_history"), acknowledged);
  if (!server.on_postgres()) {
    EXPECT_EQ(server.OpenDb()->execAndGet("PRAGMA integrity_check").getString(), "ok");
  }
}

// "<fixed text> (call id <id>)": the id, or "" when the message is not of that form.
std::string CallIdIn(const std::string& message, const std::string& fixed_text) {
  const std::string prefix = fixed_text + " (call id ";
  if (!absl::StartsWith(message, prefix) || !absl::EndsWith(message, ")")) return "";
  return message.substr(prefix.size(), message.size() - prefix.size() - 1);
}

TEST(StorageFaultsTest, AFailingWriteAmongConcurrentWritersLosesOnlyItself) {
  auto plan = std::make_shared<FaultPlan>();
  TestServer server([&](ServerOptions& o) {
    o.workers = 8;
    o.store_wrapper = FaultyStores(plan);
    // The plan counts every write: no delivery writes among the calls' (the emails wait).
    o.delivery.enabled = false;
  });
  const int64_t org = server.RegisterOrganisation("Northshire Hospitals NHS Trust");
  server.case_support();
  plan->FailWrite(12, SqliteFailure(SQLITE_IOERR, "disk I/O error reading page 9 of x.db"));

  const std::vector<Outcome> outcomes =
      CreateReferralsConcurrently(server, "Concurrent", org, 8, 5);

  int failed = 0;
  for (const Outcome& o : outcomes) {
    if (o.status.ok()) continue;
    ++failed;
    EXPECT_EQ(o.status.error_code(), grpc::StatusCode::INTERNAL);
    const std::string id = CallIdIn(o.status.error_message(),
                                    "internal error; the service team can trace it by its call id");
    EXPECT_NE(id, "") << o.status.error_message();
    EXPECT_FALSE(absl::StrContains(o.status.error_message(), "page 9"));
    EXPECT_TRUE(absl::StrContains(server.Log(), "disk I/O error reading page 9 of x.db"))
        << "the detail goes to the log, under the call id";
    EXPECT_TRUE(absl::StrContains(server.Log(), "call_id=" + id));
  }
  EXPECT_EQ(failed, 1);
  ExpectExactlyTheAcknowledgedReferrals(server, outcomes);
}

TEST(StorageFaultsTest, AFullDiskIsResourceExhaustedAndNoRefusedWriteLeavesAnything) {
  MEDIATION_SQLITE_ONLY(
      "fills the database with SQLite's max_page_count; a full PostgreSQL disk maps to the same "
      "status (storage/pg_connection.cc: SQLSTATE 53100) but is not simulated");
  // The pages a new database takes, so the limit leaves room for a few referrals only.
  int64_t fresh_pages = 0;
  {
    TestServer probe;
    probe.RegisterOrganisation("Probe");
    fresh_pages = probe.OpenDb()->execAndGet("PRAGMA page_count").getInt64();
  }
  TestServer server([&](ServerOptions& o) {
    o.workers = 8;
    o.max_page_count = fresh_pages + 24;
  });
  const int64_t org = server.RegisterOrganisation("Northshire Hospitals NHS Trust");
  server.case_support();

  // Referrals of about 6 KB each: the limit is met within a few dozen.
  const std::vector<Outcome> outcomes =
      CreateReferralsConcurrently(server, "Large", org, 8, 50, /*padding=*/6000);

  int full = 0, ok = 0;
  for (const Outcome& o : outcomes) {
    if (o.status.ok()) {
      ++ok;
      continue;
    }
    ++full;
    EXPECT_EQ(o.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << o.status.error_message();
    EXPECT_NE(CallIdIn(o.status.error_message(), "the server's storage is full; nothing was saved"),
              "")
        << o.status.error_message();
    EXPECT_FALSE(absl::StrContains(o.status.error_message(), "disk is full"));
  }
  EXPECT_GT(ok, 0);
  EXPECT_EQ(full, 8) << "every writer meets the full disk once and stops";
  std::cout << ok << " referrals stored, " << full << " refused with RESOURCE_EXHAUSTED\n";
  ExpectExactlyTheAcknowledgedReferrals(server, outcomes);

  // Reads still work on a full disk.
  v1::WhoAmIResponse me;
  EXPECT_TRUE(server.identity().WhoAmI(WithToken(server.case_support()).get(), {}, &me).ok());
}

// Another connection holding the lock every write takes: SQLite's write lock (BEGIN IMMEDIATE),
// or on PostgreSQL the servers' write lock (storage/pg_store.h), until destroyed.
class WriteLockHeldElsewhere {
 public:
  explicit WriteLockHeldElsewhere(const TestServer& server) {
    if (server.on_postgres()) {
      pg_ = std::make_unique<storage::PgConnection>(server.db_path());
      pg_->Run(absl::StrCat("SELECT pg_advisory_lock(", storage::kWriteLock, ")"));
    } else {
      sqlite_ = server.OpenDbForTampering();
      sqlite_->exec("BEGIN IMMEDIATE");
    }
  }
  ~WriteLockHeldElsewhere() {
    if (pg_) pg_->Run(absl::StrCat("SELECT pg_advisory_unlock(", storage::kWriteLock, ")"));
    if (sqlite_) sqlite_->exec("ROLLBACK");
  }

 private:
  std::unique_ptr<SQLite::Database> sqlite_;
  std::unique_ptr<storage::PgConnection> pg_;
};

TEST(StorageFaultsTest, ADatabaseLockedElsewhereIsUnavailableAndChangesNothing) {
  TestServer server([](ServerOptions& o) {
    o.workers = 4;
    o.busy_timeout = absl::Milliseconds(200);
  });
  const int64_t org = server.RegisterOrganisation("Northshire Hospitals NHS Trust");
  server.case_support();
  const std::vector<Outcome> before = CreateReferralsConcurrently(server, "Before", org, 2, 2);
  const int64_t audit_rows = server.CountRows("audit_events");

  // Another process holds the write lock for longer than the server waits.
  auto other = std::make_unique<WriteLockHeldElsewhere>(server);
  const absl::Time start = absl::Now();
  std::vector<Outcome> during = CreateReferralsConcurrently(server, "Locked", org, 4, 1);
  const absl::Duration took = absl::Now() - start;
  // Reads go on: readers never wait for a writer (WAL; PostgreSQL's snapshots).
  v1::WhoAmIResponse me;
  EXPECT_TRUE(server.identity().WhoAmI(WithToken(server.case_support()).get(), {}, &me).ok());
  other.reset();

  ASSERT_EQ(during.size(), 4u);
  for (const Outcome& o : during) {
    EXPECT_EQ(o.status.error_code(), grpc::StatusCode::UNAVAILABLE) << o.status.error_message();
    EXPECT_NE(CallIdIn(o.status.error_message(), "the database is busy; try again shortly"), "")
        << o.status.error_message();
    EXPECT_FALSE(absl::StrContains(o.status.error_message(), "locked"));
  }
  EXPECT_LT(took, absl::Seconds(4)) << "each call waits about the busy timeout, not longer";
  // Nothing was written: neither the cases nor (the lock held) their refusals' audit rows.
  std::vector<Outcome> all = before;
  all.insert(all.end(), during.begin(), during.end());
  ExpectExactlyTheAcknowledgedReferrals(server, all);
  EXPECT_EQ(server.CountRows("audit_events"), audit_rows);

  // Once the lock is gone, the same call succeeds.
  const std::vector<Outcome> after = CreateReferralsConcurrently(server, "After", org, 2, 1);
  for (const Outcome& o : after) EXPECT_TRUE(o.status.ok()) << o.status.error_message();
  all.insert(all.end(), after.begin(), after.end());
  ExpectExactlyTheAcknowledgedReferrals(server, all);
}

}  // namespace
}  // namespace mediation
