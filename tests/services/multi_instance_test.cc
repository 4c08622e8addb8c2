// Two server instances on one PostgreSQL database behave as one service: one winner among 50
// clients spread over both booking one slot, a token revoked through one refused by the other at
// once, an event committed through one streamed by the other, and maintenance run by one only.
//
// The instances are two MediationServers in this test's process (each with its own workers,
// connections and event hub; what joins them is only the database), and for the token test the
// built binary as a second process. On SQLite (one process per file) the tests are skipped.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/pg_connection.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::ServerProcess;
using ::mediation::testing::ShareDatabaseOf;
using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::WithToken;

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
// Monday 1 March 2027, 00:00 UTC.
constexpr int64_t kMonday = 1803859200;

std::function<void(ServerOptions&)> FixedClock() {
  return [](ServerOptions& o) {
    o.clock = [] { return absl::FromUnixSeconds(kMonday + 8 * kHour); };
    o.workers = 4;
    o.http_listen = "127.0.0.1:0";
  };
}

class MultiInstanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MEDIATION_POSTGRES_ONLY("several server processes share a PostgreSQL database, not a file");
    first_ = std::make_unique<TestServer>(FixedClock());
    second_ = std::make_unique<TestServer>([this](ServerOptions& o) {
      FixedClock()(o);
      ShareDatabaseOf(*first_, o);
    });
  }

  std::unique_ptr<TestServer> first_;
  std::unique_ptr<TestServer> second_;
};

TEST_F(MultiInstanceTest, FiftyClientsOverBothInstancesBookingOneSlotHaveExactlyOneWinner) {
  TestServer& a = *first_;
  const int64_t org = a.RegisterOrganisation("Northshire Hospitals NHS Trust");
  const int64_t lead = a.RegisterMediator(ValidMediator("Ana Mediator", "ana@mediators.example"));
  const std::string lead_token = a.IssueToken(v1::ROLE_MEDIATOR, lead);
  std::vector<v1::Case> cases;
  for (int i = 0; i < 5; ++i) cases.push_back(a.AllocatedCase(org, lead, lead_token));
  // Wednesday 3 March, 09:00 UTC: the same hour for the one mediator all cases share.
  const int64_t start = kMonday + 2 * kDay + 9 * kHour;

  std::atomic<int> ok{0}, aborted{0}, other{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 50; ++i) {
    clients.emplace_back([&, i] {
      TestServer& via = i % 2 == 0 ? *first_ : *second_;
      v1::BookSessionRequest r;
      r.set_case_id(cases[i % cases.size()].id());
      r.set_kind(v1::SESSION_KIND_JOINT_MEETING);
      r.set_mode(v1::SESSION_MODE_VIDEO);
      r.set_video_link("https://video.example/room/42");
      r.mutable_start()->set_seconds(start);
      r.set_duration_minutes(60);
      r.set_idempotency_key(absl::StrCat("client-", i));
      v1::BookSessionResponse out;
      const grpc::Status s =
          via.scheduling().BookSession(WithToken(via.case_support()).get(), r, &out);
      if (s.ok()) {
        ++ok;
      } else if (s.error_code() == grpc::StatusCode::ABORTED ||
                 s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        ++aborted;
      } else {
        ++other;
        ADD_FAILURE() << s.error_code() << " " << s.error_message();
      }
    });
  }
  for (std::thread& t : clients) t.join();

  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(aborted.load(), 49);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(a.CountRows("sessions"), 1);
  EXPECT_EQ(a.CountRows("bookings", absl::StrCat("resource = 'mediator' AND resource_id = ", lead,
                                                 " AND active = 1")),
            1);
}

// The other instance is a separate server process here: what a process knows of token changes
// (storage::TokenChanges) is its own, so two instances in one process would share it.
TEST_F(MultiInstanceTest, ATokenRevokedThroughOneIsRefusedByAnotherServerProcessAtOnce) {
  ServerProcess other(
      {"--listen=127.0.0.1:0", "--http_listen=127.0.0.1:0", "--db=" + first_->db_path(),
       "--master_key_file=" + first_->dir().File("master.key"),
       "--admin_token_file=" + first_->dir().File("admin.token")},
      first_->dir().File("other.log"));
  const int port = other.WaitForPort();
  ASSERT_GT(port, 0) << other.Log();
  std::unique_ptr<v1::IdentityService::Stub> other_identity = v1::IdentityService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));

  v1::IssueTokenRequest issue;
  issue.set_role(v1::ROLE_CASE_SUPPORT);
  issue.set_label("revoked through the first instance");
  issue.set_idempotency_key("issue-1");
  v1::IssueTokenResponse issued;
  ASSERT_TRUE(
      first_->admin().IssueToken(WithToken(first_->admin_secret()).get(), issue, &issued).ok());

  v1::WhoAmIRequest who;
  v1::WhoAmIResponse me;
  // The other process has looked the token up (and would have kept it, were it caching).
  for (int i = 0; i < 3; ++i) {
    const grpc::Status s = other_identity->WhoAmI(WithToken(issued.secret()).get(), who, &me);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(issued.token().id());
  v1::RevokeTokenResponse revoked;
  ASSERT_TRUE(
      first_->admin().RevokeToken(WithToken(first_->admin_secret()).get(), revoke, &revoked).ok());

  const grpc::Status refused = other_identity->WhoAmI(WithToken(issued.secret()).get(), who, &me);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED) << refused.error_message();
  EXPECT_EQ(other.SignalAndWait(SIGTERM), 0) << other.Log();
}

TEST_F(MultiInstanceTest, AnEventCommittedThroughOneIsStreamedByTheOther) {
  const int64_t org = first_->RegisterOrganisation("Northshire Hospitals NHS Trust");
  // A stream on the second instance that has sent everything so far and now waits.
  const std::string token = second_->case_support();  // Issued before the stream starts.
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token);
  v1::StreamCaseEventsRequest request;
  std::unique_ptr<grpc::ClientReader<v1::CaseEvent>> stream =
      second_->events().StreamCaseEvents(&context, request);

  // Committed through the first instance, after the stream started waiting.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const v1::Case created = first_->CreateReferral(org);

  v1::CaseEvent event;
  std::atomic<bool> got{false};
  std::thread reader([&] { got = stream->Read(&event); });
  for (int i = 0; i < 100 && !got; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  context.TryCancel();
  reader.join();
  ASSERT_TRUE(got.load()) << "the second instance streamed nothing within 5 s";
  EXPECT_EQ(event.case_id(), created.id());
  EXPECT_EQ(event.kind(), v1::CASE_EVENT_KIND_STATE_CHANGED);
}

TEST_F(MultiInstanceTest, MaintenanceRunsInOneInstanceOnly) {
  // The first instance took the maintenance lock when it ran maintenance at start; the second
  // skips maintenance for as long as the first holds the lock, that is until it stops.
  absl::StatusOr<int> holder = first_->server().RunMaintenance();
  ASSERT_TRUE(holder.ok()) << holder.status();
  EXPECT_GE(*holder, 0);
  absl::StatusOr<int> skipped = second_->server().RunMaintenance();
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_EQ(*skipped, -1);
  first_->StopServer();  // Its connections close, and the lock with them.
  // PostgreSQL releases the lock when the closed connection's backend has ended: soon after.
  absl::StatusOr<int> ran = -1;
  for (int tries = 0; tries < 100 && ran.ok() && *ran == -1; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ran = second_->server().RunMaintenance();
  }
  ASSERT_TRUE(ran.ok()) << ran.status();
  EXPECT_GE(*ran, 0);
}

// Event positions follow commit order across processes: a stream waiting on one instance while
// both write receives every event, once, in the order a later reading from position 0 gives
// (an event committed with a lower position after a higher one was sent would be skipped).
TEST_F(MultiInstanceTest, AStreamOnOneInstanceGetsEveryEventWrittenThroughBothInOrder) {
  const int64_t org = first_->RegisterOrganisation("Northshire Hospitals NHS Trust");
  first_->case_support();  // Issued before the writers start.
  second_->case_support();
  constexpr int kWriters = 4, kEach = 10;

  grpc::ClientContext live;
  live.AddMetadata("authorization", "Bearer " + second_->case_support());
  std::unique_ptr<grpc::ClientReader<v1::CaseEvent>> stream =
      second_->events().StreamCaseEvents(&live, {});
  std::vector<v1::CaseEvent> streamed;  // The reader's until it is joined.
  std::atomic<size_t> count{0};
  std::thread reader([&] {
    for (v1::CaseEvent e; count.load() < kWriters * kEach && stream->Read(&e);) {
      streamed.push_back(e);
      ++count;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // The stream waits.

  std::mutex mu;
  std::set<int64_t> created;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      TestServer& via = w % 2 == 0 ? *first_ : *second_;
      for (int i = 0; i < kEach; ++i) {
        const v1::Case c = via.CreateReferral(org);
        std::lock_guard lock(mu);
        created.insert(c.id());
      }
    });
  }
  for (std::thread& t : writers) t.join();
  for (int i = 0; i < 100 && count.load() < kWriters * kEach; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  live.TryCancel();
  reader.join();

  v1::StreamCaseEventsRequest all;
  all.set_stop_at_end(true);
  grpc::ClientContext later;
  later.AddMetadata("authorization", "Bearer " + first_->case_support());
  std::unique_ptr<grpc::ClientReader<v1::CaseEvent>> again =
      first_->events().StreamCaseEvents(&later, all);
  std::vector<int64_t> positions, streamed_positions;
  std::set<int64_t> cases;
  for (v1::CaseEvent e; again->Read(&e);) {
    positions.push_back(e.position());
    cases.insert(e.case_id());
  }
  ASSERT_TRUE(again->Finish().ok());
  for (const v1::CaseEvent& e : streamed) streamed_positions.push_back(e.position());
  ASSERT_EQ(created.size(), static_cast<size_t>(kWriters * kEach));
  EXPECT_EQ(cases, created);
  EXPECT_EQ(positions.size(), created.size());
  EXPECT_TRUE(std::is_sorted(positions.begin(), positions.end()));
  EXPECT_EQ(std::set<int64_t>(positions.begin(), positions.end()).size(), positions.size());
  EXPECT_EQ(streamed_positions, positions);
}

// What a client keeps between calls is in the database, so any instance honours it: a browser
// session made through one serves and ends through the other, and a referral repeated with its
// idempotency key through the other is answered from the first, not made twice.
TEST_F(MultiInstanceTest, ABrowserSessionAndAnIdempotencyKeyWorkOnEitherInstance) {
  const int64_t org = first_->RegisterOrganisation("Northshire Hospitals NHS Trust");
  v1::CreateReferralRequest create = testing::ValidReferral(org);
  create.set_idempotency_key("referral-1");
  v1::CreateReferralResponse made, repeated;
  ASSERT_TRUE(first_->referrals()
                  .CreateReferral(WithToken(first_->case_support()).get(), create, &made)
                  .ok());
  ASSERT_TRUE(second_->referrals()
                  .CreateReferral(WithToken(first_->case_support()).get(), create, &repeated)
                  .ok());
  EXPECT_EQ(repeated.case_().id(), made.case_().id());
  EXPECT_EQ(repeated.case_().reference(), made.case_().reference());
  EXPECT_EQ(first_->CountRows("cases"), 1);
  EXPECT_EQ(first_->CountRows("audit_events", "outcome = 'REPLAYED'"), 1);

  const int first_port = first_->server().http_port();
  const int second_port = second_->server().http_port();
  absl::StatusOr<testing::HttpReply> signed_in = testing::SendHttp(
      first_port, {.target = "/auth/sign-in",
                   .headers = {{"Content-Type", "application/json"}},
                   .body = absl::StrCat(R"({"token":")", first_->case_support(), R"("})")});
  ASSERT_TRUE(signed_in.ok());
  ASSERT_EQ(signed_in->status, 200) << signed_in->body;
  const std::string set_cookie = signed_in->Header("set-cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  auto get_case = [&](int port) {
    absl::StatusOr<testing::HttpReply> reply = testing::SendHttp(
        port, {.target = "/ppa.mediation.v1.ReferralService/GetCase",
               .headers = {{"Content-Type", "application/json"},
                           {"Connect-Protocol-Version", "1"},
                           {"Cookie", cookie}},
               .body = absl::StrCat(R"({"caseId":")", made.case_().id(), R"("})")});
    return reply.ok() ? reply->status : 0;
  };
  EXPECT_EQ(get_case(second_port), 200);
  absl::StatusOr<testing::HttpReply> out = testing::SendHttp(
      second_port, {.target = "/auth/sign-out",
                    .headers = {{"Content-Type", "application/json"}, {"Cookie", cookie}},
                    .body = "{}"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, 200);
  EXPECT_EQ(get_case(first_port), 401);  // Signed out through the other: at once, here too.
}

// Each server process must hold the master key, so a rotation is refused while another process
// serves (and nothing is recorded or written), and runs once it is the only one.
TEST_F(MultiInstanceTest, AKeyRotationIsRefusedWhileAnotherServerProcessServes) {
  v1::RotateMasterKeyResponse rotated;
  const grpc::Status refused =
      first_->admin().RotateMasterKey(WithToken(first_->admin_secret()).get(), {}, &rotated);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(refused.error_message(),
            "1 other server process(es) use this database, and each would need the new master "
            "key: rotate it with this process alone. Stop the others; when GetKeyRotation shows "
            "the rotation ended, copy the master key file to their machines and start them "
            "again (deploy/postgresql/README.md)");
  EXPECT_EQ(first_->CountRows("key_rotations"), 0);
  EXPECT_EQ(first_->CountRows("master_keys"), 1);
  EXPECT_FALSE(std::filesystem::exists(first_->dir().File("master.key.next")));
  EXPECT_EQ(first_->CountRows("audit_events",
                              "method LIKE '%/RotateMasterKey' AND outcome = "
                              "'FAILED_PRECONDITION'"),
            1);

  second_.reset();  // The other process stops: its connections close.
  grpc::Status started;
  for (int i = 0; i < 100; ++i) {  // The database drops a closed connection's locks soon after.
    started =
        first_->admin().RotateMasterKey(WithToken(first_->admin_secret()).get(), {}, &rotated);
    if (started.error_code() != grpc::StatusCode::FAILED_PRECONDITION) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(started.ok()) << started.error_message();
  v1::GetKeyRotationResponse progress;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(first_->admin()
                    .GetKeyRotation(WithToken(first_->admin_secret()).get(), {}, &progress)
                    .ok());
    if (progress.rotation().has_completed_at()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(progress.rotation().has_completed_at()) << progress.DebugString();
  EXPECT_EQ(first_->CountRows("master_keys", "state = 'current'"), 1);
}

// A process started during a rotation (holding both key files) leaves the re-wrapping to the
// process doing it, and carries it on when that one stops: the rotation completes once, and
// every case opens.
TEST_F(MultiInstanceTest, ARotationLeftByAStoppedProcessIsCarriedOnByAnother) {
  const int64_t org = first_->RegisterOrganisation("Northshire Hospitals NHS Trust");
  std::vector<v1::Case> cases;
  for (int i = 0; i < 20; ++i) cases.push_back(first_->CreateReferral(org));
  second_.reset();
  first_->StopServer();  // Its database stays.
  auto slow = std::make_unique<TestServer>([this](ServerOptions& o) {
    FixedClock()(o);
    ShareDatabaseOf(*first_, o);
    o.key_rotation_batch = 1;  // One data key per transaction, 200 ms apart.
    o.key_rotation_pause = absl::Milliseconds(200);
  });
  v1::RotateMasterKeyResponse rotating;
  ASSERT_TRUE(
      slow->admin().RotateMasterKey(WithToken(first_->admin_secret()).get(), {}, &rotating).ok());
  ASSERT_GE(rotating.rotation().keys_total(), 20);
  auto carrier = std::make_unique<TestServer>([this](ServerOptions& o) {
    FixedClock()(o);
    ShareDatabaseOf(*first_, o);
  });
  v1::GetKeyRotationResponse progress;
  ASSERT_TRUE(
      carrier->admin().GetKeyRotation(WithToken(first_->admin_secret()).get(), {}, &progress).ok());
  ASSERT_FALSE(progress.rotation().has_completed_at()) << "the rotation ended too soon to test";
  slow.reset();  // Stops in the middle; its lock goes with its connection.
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(carrier->admin()
                    .GetKeyRotation(WithToken(first_->admin_secret()).get(), {}, &progress)
                    .ok());
    if (progress.rotation().has_completed_at()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(progress.rotation().has_completed_at()) << progress.DebugString();
  EXPECT_EQ(
      first_->CountRows("audit_events", absl::StrCat("method LIKE 'server: master key "
                                                     "rotation ",
                                                     rotating.rotation().id(), " completed%'")),
      1);
  EXPECT_EQ(first_->CountRows("master_keys", "state = 'current'"), 1);
  for (const v1::Case& c : cases) {
    v1::GetCaseRequest get;
    get.set_case_id(c.id());
    v1::GetCaseResponse got;
    ASSERT_TRUE(
        carrier->referrals().GetCase(WithToken(carrier->case_support()).get(), get, &got).ok());
    EXPECT_EQ(got.case_().summary(), c.summary());
    EXPECT_EQ(got.case_().withheld_size(), 0);
  }
}

// The database ends every server connection (as a restart or a failover does): each worker finds
// its connection lost when its next call begins, connects again and serves the call, so no call
// fails, and every acknowledged write is there. (A call whose transaction was running when the
// connection went fails UNAVAILABLE instead, changing nothing: the failover drill's case.)
TEST_F(MultiInstanceTest, ConnectionsEndedByTheDatabaseAreMadeAgainByTheNextCall) {
  second_.reset();  // One instance is enough here.
  const std::string token = first_->case_support();
  auto register_one = [&](int n) {
    v1::RegisterOrganisationRequest r;
    *r.mutable_organisation() = testing::ValidOrganisation(absl::StrCat("Trust ", n));
    r.set_idempotency_key(absl::StrCat("org-", n));
    v1::RegisterOrganisationResponse out;
    return first_->organisations().RegisterOrganisation(WithToken(token).get(), r, &out);
  };
  int acknowledged = 0;
  for (int n = 0; n < 4; ++n) acknowledged += register_one(n).ok() ? 1 : 0;
  ASSERT_EQ(acknowledged, 4);

  // Every backend of the server's database, from a connection of the test's own.
  const std::string db = first_->db_path();
  const std::string name = db.substr(db.rfind('/') + 1, db.find('?') - db.rfind('/') - 1);
  const std::string ended =
      storage::PgConnection(std::getenv("MEDIATION_TEST_PG"))
          .SelectText(absl::StrCat(
              "WITH victims AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE datname = '",
              name, "') SELECT COUNT(*) FROM victims WHERE pg_terminate_backend(pid)"));
  EXPECT_GE(std::stoi(ended), 2);  // At least the workers' connections that served the calls above.

  int ok_after = 0;
  for (int n = 4; n < 24; ++n) {
    const grpc::Status s = register_one(n);
    EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
    if (s.ok()) {
      ++acknowledged;
      ++ok_after;
    }
  }
  EXPECT_EQ(ok_after, 20);
  EXPECT_EQ(first_->CountRows("organisations"), acknowledged);
}

}  // namespace
}  // namespace mediation
