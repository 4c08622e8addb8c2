// Idempotency keys, through the real server: for every create RPC, a repeat with the same key
// answers with the first response and changes nothing; the same key with another request is
// refused; keys are per token, expire after a day, and a race between two repeats creates once.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ppa/mediation/v1/api_files.h"
#include "services/core/policy.h"
#include "storage/sql.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::google::protobuf::Message;
using ::google::protobuf::util::MessageDifferencer;
using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::ValidOrganisation;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;

constexpr int64_t kMonday = 1803859200;  // 2027-03-01 00:00 UTC.
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

// Every table and every row in it, except the trail of the calls themselves: what a repeated
// call must leave exactly as it was. Of the outbox, the messages themselves (which a repeat
// must not write again), not how their delivery is going, which the delivery worker changes
// meanwhile.
std::map<std::string, std::vector<std::string>> Contents(const TestServer& server) {
  std::map<std::string, std::vector<std::string>> out;
  const absl::Status read = server.ReadStore([&](storage::Tx& tx) -> absl::Status {
    std::vector<std::string> tables;
    {
      storage::Statement st(
          tx, tx.engine() == storage::Engine::kSqlite
                  ? "SELECT name FROM sqlite_master WHERE type = 'table'"
                  : "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                    "'public' AND table_type = 'BASE TABLE'");
      while (st.executeStep()) {
        const std::string name = st.getColumn(0).getString();
        if (name != "audit_events" && name != "audit_head" && name != "idempotent_calls" &&
            name != "sqlite_sequence") {
          tables.push_back(name);
        }
      }
    }
    for (const std::string& table : tables) {
      storage::Statement st(tx, table == "outbox"
                                    ? "SELECT id, message_id, kind, case_id, session_id, "
                                      "recipient_email, subject, due_at FROM outbox"
                                    : "SELECT * FROM " + table);
      std::vector<std::string>& rows = out[table];
      while (st.executeStep()) {
        std::string row;
        for (int i = 0; i < st.getColumnCount(); ++i) {
          absl::StrAppend(&row, st.getColumn(i).isNull() ? "NULL" : st.getColumn(i).getString(),
                          "|");
        }
        rows.push_back(std::move(row));
      }
      std::sort(rows.begin(), rows.end());
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(read.ok()) << read;
  return out;
}

// One create RPC: `prepare` builds what it needs; `call` makes the request with `key`
// (changing something in it when `vary`) and fills `out`.
struct CreateRpc {
  std::function<void()> prepare = [] {};
  std::function<grpc::Status(const std::string& key, bool vary, std::unique_ptr<Message>& out)>
      call;
};

class IdempotencyTest : public ::testing::TestWithParam<std::string> {
 protected:
  IdempotencyTest()
      : now_(std::make_shared<std::atomic<int64_t>>(kMonday + 8 * kHour)),
        server_([now = now_](ServerOptions& o) {
          o.clock = [now] { return absl::FromUnixSeconds(now->load()); };
        }) {}

  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    lead_ = server_.RegisterMediator(ValidMediator("Lead Mediator", "lead@mediators.example"));
    lead_token_ = server_.IssueToken(v1::ROLE_MEDIATOR, lead_);
  }

  // A case with its lead accepted, and (when `booked`) a joint session on Wednesday.
  void AllocateCase(bool booked) {
    case_ = server_.AllocatedCase(org_, lead_, lead_token_);
    if (!booked) return;
    v1::BookSessionResponse out;
    ASSERT_TRUE(server_.scheduling()
                    .BookSession(WithToken(server_.case_support()).get(), Book(), &out)
                    .ok());
  }

  v1::BookSessionRequest Book(int64_t start = kMonday + 2 * kDay + 9 * kHour) {
    v1::BookSessionRequest r;
    r.set_case_id(case_.id());
    r.set_kind(v1::SESSION_KIND_JOINT_MEETING);
    r.set_mode(v1::SESSION_MODE_VIDEO);
    r.set_video_link("https://video.example/joint");
    r.mutable_start()->set_seconds(start);
    r.set_duration_minutes(120);
    return r;
  }

  v1::DraftAgreementRequest Draft(const std::string& words) {
    v1::DraftAgreementRequest r;
    r.set_case_id(case_.id());
    v1::AgreementItem* item = r.mutable_content()->add_items();
    item->set_commitment(words);
    item->add_party_ids(case_.parties(0).id());
    item->add_party_ids(case_.parties(1).id());
    return r;
  }

  // Calls `method` of `stub` with `token` and the request `r` (its key set to `key`).
  template <typename Stub, typename Request, typename Response>
  grpc::Status Call(Stub& stub,
                    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const std::string& token, Request r, const std::string& key,
                    std::unique_ptr<Message>& out) {
    r.set_idempotency_key(key);
    auto response = std::make_unique<Response>();
    grpc::Status s = (stub.*method)(WithToken(token).get(), r, response.get());
    out = std::move(response);
    return s;
  }

  // The create RPCs, by method name.
  std::map<std::string, CreateRpc> Rpcs() {
    std::map<std::string, CreateRpc> rpcs;
    rpcs["AdminService/IssueToken"].call = [this](const std::string& key, bool vary, auto& out) {
      v1::IssueTokenRequest r;
      r.set_role(v1::ROLE_CASE_SUPPORT);
      r.set_label(vary ? "Another label" : "Case support team");
      return Call(server_.admin(), &v1::AdminService::Stub::IssueToken, server_.admin_secret(), r,
                  key, out);
    };
    rpcs["OrganisationService/RegisterOrganisation"].call = [this](const std::string& key,
                                                                   bool vary, auto& out) {
      v1::RegisterOrganisationRequest r;
      *r.mutable_organisation() = ValidOrganisation(vary ? "Other Trust" : "Southshire Trust");
      return Call(server_.organisations(), &v1::OrganisationService::Stub::RegisterOrganisation,
                  server_.case_support(), r, key, out);
    };
    rpcs["ReferralService/CreateReferral"].call = [this](const std::string& key, bool vary,
                                                         auto& out) {
      v1::CreateReferralRequest r = ValidReferral(org_);
      if (vary) r.set_summary("A different concern.");
      return Call(server_.referrals(), &v1::ReferralService::Stub::CreateReferral,
                  server_.case_support(), r, key, out);
    };
    rpcs["CaseService/IssuePartySignInLink"] = {
        .prepare = [this] { case_ = server_.CreateReferral(org_); },
        .call =
            [this](const std::string& key, bool vary, auto& out) {
              v1::IssuePartySignInLinkRequest r;
              r.set_case_id(case_.id());
              r.set_party_id(case_.parties(vary ? 1 : 0).id());
              return Call(server_.cases(), &v1::CaseService::Stub::IssuePartySignInLink,
                          server_.case_support(), r, key, out);
            }};
    rpcs["ScreeningService/RecordScreeningAnswer"] = {
        .prepare = [this] { case_ = server_.CreateReferral(org_); },
        .call =
            [this](const std::string& key, bool vary, auto& out) {
              v1::RecordScreeningAnswerRequest r;
              r.set_case_id(case_.id());
              r.set_criterion(v1::CRITERION_NOT_CONTRACTUAL);
              r.set_answer(vary ? v1::CRITERION_ANSWER_UNKNOWN : v1::CRITERION_ANSWER_MET);
              if (vary) r.set_note("Checking with HR.");
              return Call(server_.screening(), &v1::ScreeningService::Stub::RecordScreeningAnswer,
                          server_.case_support(), r, key, out);
            }};
    rpcs["ScreeningService/RecordScreeningDecision"] = {
        .prepare =
            [this] {
              case_ = server_.CreateReferral(org_);
              server_.AnswerAll(case_, v1::CRITERION_ANSWER_MET);
            },
        .call =
            [this](const std::string& key, bool vary, auto& out) {
              v1::RecordScreeningDecisionRequest r;
              r.set_case_id(case_.id());
              if (vary) r.set_justification("Confirmed after a call.");
              return Call(server_.screening(), &v1::ScreeningService::Stub::RecordScreeningDecision,
                          server_.senior_adviser(), r, key, out);
            }};
    rpcs["ChargesService/IndicateCharges"] = {
        .prepare =
            [this] {
              case_ = server_.CreateReferral(org_);
              server_.MakeSuitable(case_);
            },
        .call =
            [this](const std::string& key, bool vary, auto& out) {
              v1::IndicateChargesRequest r;
              r.set_case_id(case_.id());
              r.set_days(vary ? 2 : 1);
              r.set_mode(v1::SESSION_MODE_VIDEO);
              return Call(server_.charges(), &v1::ChargesService::Stub::IndicateCharges,
                          server_.senior_adviser(), r, key, out);
            }};
    rpcs["MediatorService/RegisterMediator"].call = [this](const std::string& key, bool vary,
                                                           auto& out) {
      v1::RegisterMediatorRequest r;
      *r.mutable_mediator() = ValidMediator(vary ? "Other Mediator" : "New Mediator",
                                            vary ? "other@mediators.example" : "new@m.example");
      return Call(server_.mediators(), &v1::MediatorService::Stub::RegisterMediator,
                  server_.admin_secret(), r, key, out);
    };
    rpcs["MediatorService/AddLeave"].call = [this](const std::string& key, bool vary, auto& out) {
      v1::AddLeaveRequest r;
      r.set_mediator_id(lead_);
      v1::Date* first = r.mutable_leave()->mutable_first_day();
      first->set_year(2027);
      first->set_month(8);
      first->set_day(vary ? 9 : 2);
      *r.mutable_leave()->mutable_last_day() = *first;
      return Call(server_.mediators(), &v1::MediatorService::Stub::AddLeave, lead_token_, r, key,
                  out);
    };
    rpcs["MediatorService/DeclareConflict"].call = [this](const std::string& key, bool vary,
                                                          auto& out) {
      v1::DeclareConflictRequest r;
      r.set_mediator_id(lead_);
      r.mutable_conflict()->set_kind(v1::CONFLICT_KIND_PERSON);
      r.mutable_conflict()->set_person_name(vary ? "Dr Someone Else" : "Dr Former Colleague");
      return Call(server_.mediators(), &v1::MediatorService::Stub::DeclareConflict, lead_token_, r,
                  key, out);
    };
    rpcs["AllocationService/AllocateMediator"] = {
        .prepare =
            [this] {
              case_ = server_.CreateReferral(org_);
              server_.MakeSuitable(case_);
            },
        .call =
            [this](const std::string& key, bool vary, auto& out) {
              v1::AllocateMediatorRequest r;
              r.set_case_id(case_.id());
              r.set_mediator_id(lead_);
              r.set_role(vary ? v1::ALLOCATION_ROLE_CO_MEDIATOR : v1::ALLOCATION_ROLE_LEAD);
              return Call(server_.allocation(), &v1::AllocationService::Stub::AllocateMediator,
                          server_.case_support(), r, key, out);
            }};
    rpcs["SchedulingService/CreateVenue"].call = [this](const std::string& key, bool vary,
                                                        auto& out) {
      v1::CreateVenueRequest r;
      r.mutable_venue()->set_name(vary ? "Other Venue" : "Regional Office");
      r.mutable_venue()->set_address("1 Test Street");
      v1::Room* room = r.mutable_venue()->add_rooms();
      room->set_name("Room 1");
      room->set_kind(v1::ROOM_KIND_PRIVATE);
      return Call(server_.scheduling(), &v1::SchedulingService::Stub::CreateVenue,
                  server_.case_support(), r, key, out);
    };
    rpcs["SchedulingService/BookSession"] = {
        .prepare = [this] { AllocateCase(false); },
        .call =
            [this](const std::string& key, bool vary, auto& out) {
              return Call(server_.scheduling(), &v1::SchedulingService::Stub::BookSession,
                          server_.case_support(),
                          Book(kMonday + 2 * kDay + (vary ? 13 : 9) * kHour), key, out);
            }};
    rpcs["NotesService/AddNote"] = {
        .prepare = [this] { AllocateCase(false); },
        .call =
            [this](const std::string& key, bool vary, auto& out) {
              v1::AddNoteRequest r;
              r.set_case_id(case_.id());
              r.set_visibility(v1::NOTE_VISIBILITY_PRIVATE);
              r.set_text(vary ? "A different thought."
                              : "First thoughts before the joint meeting.");
              return Call(server_.notes(), &v1::NotesService::Stub::AddNote, lead_token_, r, key,
                          out);
            }};
    rpcs["AgreementService/DraftAgreement"] = {
        .prepare = [this] { AllocateCase(true); },
        .call =
            [this](const std::string& key, bool vary, auto& out) {
              return Call(server_.agreements(), &v1::AgreementService::Stub::DraftAgreement,
                          lead_token_, Draft(vary ? "We will email." : "We will speak first."), key,
                          out);
            }};
    rpcs["AgreementService/SignAgreement"] = {
        .prepare =
            [this] {
              AllocateCase(true);
              v1::DraftAgreementResponse drafted;
              ASSERT_TRUE(server_.agreements()
                              .DraftAgreement(WithToken(lead_token_).get(),
                                              Draft("We will speak first."), &drafted)
                              .ok());
              version_ = drafted.version();
              party_token_ =
                  server_.IssueToken(v1::ROLE_PARTY, 0, 0, case_.id(), case_.parties(0).id());
            },
        .call =
            [this](const std::string& key, bool vary, auto& out) {
              v1::SignAgreementRequest r;
              r.set_version_id(version_.id());
              r.set_content_hash(version_.content_hash());
              r.set_consent_to_share(!vary);
              return Call(server_.agreements(), &v1::AgreementService::Stub::SignAgreement,
                          party_token_, r, key, out);
            }};
    return rpcs;
  }

  std::shared_ptr<std::atomic<int64_t>> now_;
  TestServer server_;
  int64_t org_ = 0;
  int64_t lead_ = 0;
  std::string lead_token_, party_token_;
  v1::Case case_;
  v1::AgreementVersion version_;
};

TEST_P(IdempotencyTest, ARepeatReturnsTheFirstResponseAndChangesNothing) {
  CreateRpc rpc = Rpcs().at(GetParam());
  rpc.prepare();
  ASSERT_FALSE(HasFatalFailure());
  const std::string key = "3f1c2b9e-retry-" + GetParam();

  std::unique_ptr<Message> first, again, other;
  const grpc::Status created = rpc.call(key, false, first);
  ASSERT_TRUE(created.ok()) << created.error_message();
  const auto after_first = Contents(server_);

  const grpc::Status repeated = rpc.call(key, false, again);
  ASSERT_TRUE(repeated.ok()) << repeated.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(*first, *again)) << "first:\n"
                                                          << first->DebugString() << "repeat:\n"
                                                          << again->DebugString();
  EXPECT_EQ(Contents(server_), after_first);
  EXPECT_EQ(
      server_.CountRows("audit_events",
                        "outcome = 'REPLAYED' AND method = '/ppa.mediation.v1." + GetParam() + "'"),
      1);

  // The same key for a different request: refused, and still nothing changes.
  const grpc::Status misused = rpc.call(key, true, other);
  EXPECT_EQ(misused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(misused.error_message(),
                               absl::StrCat("idempotency_key: this token already used the key '",
                                            key, "' at 2027-03-01T08:00:00")))
      << misused.error_message();
  EXPECT_TRUE(absl::EndsWith(misused.error_message(),
                             "for a different request; choose a new key for a new request"))
      << misused.error_message();
  EXPECT_EQ(Contents(server_), after_first);
}

std::vector<std::string> CreateRpcNames() {
  return {"AdminService/IssueToken",
          "OrganisationService/RegisterOrganisation",
          "ReferralService/CreateReferral",
          "CaseService/IssuePartySignInLink",
          "ScreeningService/RecordScreeningAnswer",
          "ScreeningService/RecordScreeningDecision",
          "ChargesService/IndicateCharges",
          "MediatorService/RegisterMediator",
          "MediatorService/AddLeave",
          "MediatorService/DeclareConflict",
          "AllocationService/AllocateMediator",
          "SchedulingService/CreateVenue",
          "SchedulingService/BookSession",
          "NotesService/AddNote",
          "AgreementService/DraftAgreement",
          "AgreementService/SignAgreement"};
}

INSTANTIATE_TEST_SUITE_P(EveryCreateRpc, IdempotencyTest, ::testing::ValuesIn(CreateRpcNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           name.erase(std::remove(name.begin(), name.end(), '/'), name.end());
                           return name;
                         });

// The list above is the API's: every request with an idempotency key is tested, and every
// write whose name says it creates something has a key.
TEST(IdempotencyCoverageTest, EveryCreateRpcHasAKeyAndIsTested) {
  const std::vector<std::string> tested = CreateRpcNames();
  std::set<std::string> keyed;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& file_name : ::ppa::mediation::v1::kApiProtoFiles) {
    const google::protobuf::FileDescriptor* file = pool->FindFileByName(file_name);
    ASSERT_NE(file, nullptr) << file_name;
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        const google::protobuf::MethodDescriptor* method = file->service(s)->method(m);
        const std::string name = absl::StrCat(file->service(s)->name(), "/", method->name());
        if (method->input_type()->FindFieldByName("idempotency_key") != nullptr) {
          keyed.insert(name);
        }
        const MethodPolicy* policy =
            FindMethodPolicy(absl::StrCat("/", file->service(s)->full_name(), "/", method->name()));
        ASSERT_NE(policy, nullptr) << name;
        for (const char* verb : {"Create", "Register", "Add", "Issue", "Book", "Draft", "Indicate",
                                 "Allocate", "Declare", "Sign"}) {
          if (absl::StartsWith(method->name(), verb)) {
            EXPECT_EQ(policy->access, Access::kWrite) << name;
            EXPECT_TRUE(keyed.contains(name)) << name << " creates something but has no key";
          }
        }
      }
    }
  }
  EXPECT_EQ(keyed, std::set<std::string>(tested.begin(), tested.end()));
}

class IdempotencyRulesTest : public ::testing::Test {
 protected:
  IdempotencyRulesTest()
      : now_(std::make_shared<std::atomic<int64_t>>(kMonday + 8 * kHour)),
        server_([now = now_](ServerOptions& o) {
          o.clock = [now] { return absl::FromUnixSeconds(now->load()); };
        }) {}

  void SetUp() override { org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust"); }

  grpc::Status Create(const std::string& token, const std::string& key,
                      v1::CreateReferralResponse* out) {
    v1::CreateReferralRequest r = ValidReferral(org_);
    r.set_idempotency_key(key);
    return server_.referrals().CreateReferral(WithToken(token).get(), r, out);
  }

  std::shared_ptr<std::atomic<int64_t>> now_;
  TestServer server_;
  int64_t org_ = 0;
};

TEST_F(IdempotencyRulesTest, KeysBelongToTheTokenThatUsedThem) {
  const std::string other = server_.IssueToken(v1::ROLE_CASE_SUPPORT);
  v1::CreateReferralResponse mine, theirs;
  ASSERT_TRUE(Create(server_.case_support(), "shared-key", &mine).ok());
  ASSERT_TRUE(Create(other, "shared-key", &theirs).ok());
  EXPECT_NE(mine.case_().id(), theirs.case_().id());
  EXPECT_EQ(server_.CountRows("cases"), 2);
}

TEST_F(IdempotencyRulesTest, AKeyIsRememberedForADay) {
  v1::CreateReferralResponse first, second, third;
  ASSERT_TRUE(Create(server_.case_support(), "daily", &first).ok());
  now_->store(now_->load() + 23 * kHour);
  ASSERT_TRUE(server_.server().RunMaintenance().ok());
  ASSERT_TRUE(Create(server_.case_support(), "daily", &second).ok());
  EXPECT_EQ(second.case_().id(), first.case_().id());
  now_->store(now_->load() + 2 * kHour);
  ASSERT_TRUE(server_.server().RunMaintenance().ok());
  EXPECT_EQ(server_.CountRows("idempotent_calls"), 0);
  ASSERT_TRUE(Create(server_.case_support(), "daily", &third).ok());
  EXPECT_NE(third.case_().id(), first.case_().id());
  EXPECT_EQ(server_.CountRows("cases"), 2);
}

TEST_F(IdempotencyRulesTest, AMalformedKeyIsRefusedNamingTheField) {
  v1::CreateReferralResponse out;
  for (const std::string& key : {std::string(129, 'k'), std::string("has space"),
                                 std::string("tab\there"), std::string("caf\xc3\xa9")}) {
    const grpc::Status s = Create(server_.case_support(), key, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << key;
    EXPECT_TRUE(absl::StartsWith(s.error_message(), "idempotency_key: ")) << s.error_message();
  }
  EXPECT_EQ(server_.CountRows("cases"), 0);
}

TEST_F(IdempotencyRulesTest, ARefusedCallKeepsNothingSoItsRetryRunsAgain) {
  v1::CreateReferralRequest r = ValidReferral(org_);
  r.set_idempotency_key("retry-after-fix");
  r.set_organisation_id(org_ + 100);
  v1::CreateReferralResponse out;
  EXPECT_EQ(server_.referrals()
                .CreateReferral(WithToken(server_.case_support()).get(), r, &out)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server_.CountRows("idempotent_calls"), 0);
}

TEST_F(IdempotencyRulesTest, ConcurrentRepeatsCreateOnceAndAllGetTheSameAnswer) {
  constexpr int kCallers = 8;
  std::vector<v1::CreateReferralResponse> answers(kCallers);
  std::vector<grpc::Status> statuses(kCallers);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      statuses[i] = Create(server_.case_support(), "one-referral", &answers[i]);
    });
  }
  go = true;
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kCallers; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_TRUE(MessageDifferencer::Equals(answers[i], answers[0]));
  }
  EXPECT_EQ(server_.CountRows("cases"), 1);
  EXPECT_EQ(server_.CountRows("audit_events", "outcome = 'REPLAYED'"), kCallers - 1);
}

TEST_F(IdempotencyRulesTest, TheKeptResponseIsSealedNotStoredInTheClear) {
  v1::IssueTokenRequest r;
  r.set_role(v1::ROLE_CASE_SUPPORT);
  r.set_label("Sealed");
  r.set_idempotency_key("token-once");
  v1::IssueTokenResponse out;
  ASSERT_TRUE(server_.admin().IssueToken(WithToken(server_.admin_secret()).get(), r, &out).ok());
  ASSERT_FALSE(out.secret().empty());
  server_.Checkpoint();
  EXPECT_FALSE(absl::StrContains(server_.DiskBytes(), out.secret()));
  // The repeat still returns the secret: that is what a client that lost the answer needs.
  v1::IssueTokenResponse again;
  ASSERT_TRUE(server_.admin().IssueToken(WithToken(server_.admin_secret()).get(), r, &again).ok());
  EXPECT_EQ(again.secret(), out.secret());
}

}  // namespace
}  // namespace mediation
