// Storage failures reach the caller as clear errors, leave nothing half-written, and are audited.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

class FaultInjectionTest : public ::testing::Test {
 protected:
  FaultInjectionTest()
      : plan_(std::make_shared<FaultPlan>()),
        server_([this](ServerOptions& o) { o.store_wrapper = FaultyStores(plan_); }) {}

  void SetUp() override { org_ = server_.RegisterOrganisation("Trust"); }

  grpc::Status CreateReferral() {
    v1::CreateReferralResponse out;
    return server_.referrals().CreateReferral(WithToken(server_.case_support()).get(),
                                              ValidReferral(org_), &out);
  }

  std::string LastAuditOutcome() {
    return server_.QueryBytes("SELECT outcome FROM audit_events ORDER BY id DESC LIMIT 1");
  }

  std::shared_ptr<FaultPlan> plan_;
  TestServer server_;
  int64_t org_ = 0;
};

// PostgreSQL's store runs a write again when it loses a serialization race. The answer and the
// audit row are those of the run that committed: nothing listed twice, no id of the rolled-back
// run (on PostgreSQL its ids are not reused).
TEST_F(FaultInjectionTest, AWriteRunAgainAnswersAndAuditsOnlyTheRunThatCommitted) {
  const int64_t mediator = server_.RegisterMediator(
      ::mediation::testing::ValidMediator("Lead Mediator", "lead@mediators.example"));
  server_.SettleOutbox();
  plan_->RepeatNextWrite();
  v1::SetWorkingPatternRequest pattern;
  pattern.set_mediator_id(mediator);
  for (const int day : {1, 3}) {  // Monday and Wednesday.
    v1::WorkingHours* h = pattern.add_hours();
    h->set_weekday(day);
    h->mutable_start()->set_hours(9);
    h->mutable_end()->set_hours(13);
  }
  v1::SetWorkingPatternResponse set;
  ASSERT_TRUE(server_.mediators()
                  .SetWorkingPattern(WithToken(server_.admin_secret()).get(), pattern, &set)
                  .ok());
  EXPECT_EQ(set.hours_size(), 2);
  EXPECT_EQ(server_.CountRows("working_hours", absl::StrCat("mediator_id = ", mediator)), 2);

  server_.SettleOutbox();
  plan_->RepeatNextWrite();
  v1::CreateReferralResponse created;
  ASSERT_TRUE(
      server_.referrals()
          .CreateReferral(WithToken(server_.case_support()).get(), ValidReferral(org_), &created)
          .ok());
  EXPECT_EQ(created.case_().parties_size(), 2);
  EXPECT_EQ(server_.CountRows("cases"), 1);
  EXPECT_EQ(server_.QueryBytes("SELECT objects FROM audit_events WHERE method LIKE "
                               "'%/CreateReferral'"),
            absl::StrCat("organisation:", org_, " case:", created.case_().id()));
}

TEST_F(FaultInjectionTest, AFullDiskIsResourceExhaustedAndLeavesNoPartialCase) {
  server_.SettleOutbox();
  plan_->FailWrite(1, SqliteFailure(SQLITE_FULL, "database or disk is full"));

  grpc::Status status = CreateReferral();

  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StartsWith(status.error_message(),
                               "the server's storage is full; nothing was saved (call id "))
      << status.error_message();
  EXPECT_FALSE(absl::StrContains(status.error_message(), "disk is full"));
  EXPECT_EQ(server_.CountRows("cases"), 0);
  EXPECT_EQ(server_.CountRows("parties"), 0);
  EXPECT_EQ(server_.CountRows("case_state_history"), 0);
  EXPECT_EQ(LastAuditOutcome(), "RESOURCE_EXHAUSTED");
  // The refusal's audit row names the organisation asked for, not the case id that was rolled
  // back (and will be reused by the next case).
  EXPECT_EQ(server_.QueryBytes("SELECT objects FROM audit_events ORDER BY id DESC LIMIT 1"),
            "organisation:" + std::to_string(org_));
}

TEST_F(FaultInjectionTest, AConfidentialReadIsNotAnsweredWhenItsAuditRowCannotBeWritten) {
  const int64_t lead = server_.RegisterMediator(
      ::mediation::testing::ValidMediator("Lead Mediator", "lead@mediators.example"));
  const std::string token = server_.IssueToken(v1::ROLE_MEDIATOR, lead);
  const v1::Case c = server_.AllocatedCase(org_, lead, token);
  v1::AddNoteRequest add;
  add.set_case_id(c.id());
  add.set_visibility(v1::NOTE_VISIBILITY_PRIVATE);
  add.set_text("words that must not leave unrecorded");
  v1::AddNoteResponse added;
  ASSERT_TRUE(server_.notes().AddNote(WithToken(token).get(), add, &added).ok());
  const int64_t audit_rows = server_.CountRows("audit_events");

  server_.SettleOutbox();
  plan_->FailWrite(1, SqliteFailure(SQLITE_FULL, "database or disk is full"));
  v1::GetNoteRequest get;
  get.set_note_id(added.note().id());
  v1::GetNoteResponse read;
  const grpc::Status status = server_.notes().GetNote(WithToken(token).get(), get, &read);

  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_FALSE(read.has_note());
  EXPECT_EQ(server_.CountRows("audit_events"), audit_rows);
}

TEST_F(FaultInjectionTest, AnInternalFailureIsLoggedWithItsCallIdAndAnsweredWithoutDetail) {
  server_.SettleOutbox();
  plan_->FailWrite(1, SqliteFailure(SQLITE_IOERR, "disk I/O error at page 7"));

  grpc::Status status = CreateReferral();

  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_FALSE(absl::StrContains(status.error_message(), "page 7"));
  const size_t at = status.error_message().rfind("call id ");
  ASSERT_NE(at, std::string::npos);
  const std::string call_id =
      status.error_message().substr(at + 8, status.error_message().size() - at - 9);
  const std::string log = server_.Log();
  EXPECT_TRUE(absl::StrContains(log, "disk I/O error at page 7 call_id=" + call_id)) << log;
  EXPECT_EQ(server_.CountRows("cases"), 0);
}

TEST_F(FaultInjectionTest, ABusyDatabaseIsUnavailableAndTheNextTrySucceeds) {
  server_.SettleOutbox();
  plan_->FailWrite(1, SqliteFailure(SQLITE_BUSY, "database is locked"));
  EXPECT_EQ(CreateReferral().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(server_.CountRows("cases"), 0);
  EXPECT_TRUE(CreateReferral().ok());
  EXPECT_EQ(server_.CountRows("cases"), 1);
  EXPECT_EQ(server_.CountRows("parties"), 2);
}

TEST_F(FaultInjectionTest, ShutdownDrainsACallAlreadyInFlight) {
  plan_->HoldNextRead();
  grpc::Status in_flight;
  v1::WhoAmIResponse me;
  std::thread caller([&] {
    in_flight = server_.identity().WhoAmI(WithToken(server_.case_support()).get(), {}, &me);
  });
  plan_->WaitUntilHeld();
  std::thread stopper([&] { server_.server().Shutdown(); });
  // Give shutdown time to begin while the call is still held.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  plan_->Release();
  caller.join();
  stopper.join();
  EXPECT_TRUE(in_flight.ok()) << in_flight.error_message();
  EXPECT_EQ(me.token().role(), v1::ROLE_CASE_SUPPORT);
  EXPECT_TRUE(absl::StrContains(server_.Log(), "stopped cleanly"));
}

}  // namespace
}  // namespace mediation
