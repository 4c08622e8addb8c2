// The end of a finished case's retention period, through the real server on a moving clock: its
// personal data is removed and its keys destroyed, so every confidential text reads as destroyed
// (lists still answer), no name or address of the case is left in any answer or in the file,
// its party tokens stop working, the statistics do not change, and the audit trail says so.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;

constexpr int64_t kDay = 86400;
constexpr int64_t kStart = 1803859200 + 8 * 3600;  // Monday 1 March 2027, 08:00 UTC.

class RetentionTest : public ::testing::Test {
 protected:
  RetentionTest()
      : now_(std::make_shared<std::atomic<int64_t>>(kStart)),
        server_([now = now_](ServerOptions& o) {
          o.clock = [now] { return absl::FromUnixSeconds(now->load()); };
          o.settings.personal_data_retention = absl::Hours(24 * 30);
        }) {}

  v1::GetStatisticsResponse Statistics() {
    v1::GetStatisticsRequest r;
    v1::GetStatisticsResponse out;
    EXPECT_TRUE(
        server_.statistics().GetStatistics(WithToken(server_.case_support()).get(), r, &out).ok());
    out.clear_generated_at();
    return out;
  }

  std::shared_ptr<std::atomic<int64_t>> now_;
  TestServer server_;
};

bool HasWithheld(const google::protobuf::RepeatedPtrField<v1::WithheldField>& withheld,
                 const std::string& field, v1::WithheldReason reason) {
  for (const v1::WithheldField& w : withheld) {
    if (w.field() == field && w.reason() == reason) return true;
  }
  return false;
}

TEST_F(RetentionTest, AfterThePeriodAFinishedCaseKeepsOnlyWhatTheStatisticsCount) {
  const std::string desk = server_.case_support();
  const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
  const v1::Case c = server_.CreateReferral(org);  // Dr Alex Morgan and Dr Jo Reed.
  v1::CreateReferralRequest other = ValidReferral(org);
  other.mutable_parties(0)->mutable_contact()->set_name("Dr Pat Lee");
  other.mutable_parties(0)->mutable_contact()->set_email("pat.lee@example.nhs.uk");
  other.mutable_parties(1)->mutable_contact()->set_name("Dr Sam Cole");
  other.mutable_parties(1)->mutable_contact()->set_email("sam.cole@example.nhs.uk");
  other.mutable_parties(1)->set_accessibility_needs("A quiet room");
  other.mutable_referrer()->set_name("Kim Ward");
  other.mutable_referrer()->set_email("kim.ward@example.nhs.uk");
  v1::CreateReferralResponse opened;
  ASSERT_TRUE(server_.referrals().CreateReferral(WithToken(desk).get(), other, &opened).ok());
  const v1::Case open = opened.case_();
  server_.AnswerAll(c, v1::CRITERION_ANSWER_UNKNOWN);  // Each answer with a note.
  // Suitable by override, offered to a mediator who knows Dr Alex Morgan: a conflict is recorded
  // naming them.
  v1::RecordScreeningDecisionRequest decide;
  decide.set_case_id(c.id());
  decide.set_override_decision(v1::SUITABILITY_SUITABLE);
  decide.set_justification("Both parties confirmed on the phone that they want to go ahead.");
  v1::RecordScreeningDecisionResponse decided;
  ASSERT_TRUE(
      server_.screening()
          .RecordScreeningDecision(WithToken(server_.senior_adviser()).get(), decide, &decided)
          .ok());
  const int64_t mediator =
      server_.RegisterMediator(ValidMediator("Ana Mediator", "ana@mediators.example"));
  ASSERT_TRUE(server_
                  .Respond(server_.IssueToken(v1::ROLE_MEDIATOR, mediator),
                           server_.Allocate(c.id(), mediator, v1::ALLOCATION_ROLE_LEAD), false,
                           v1::DECLINE_REASON_CONFLICT_OF_INTEREST, c.parties(0).id())
                  .ok());
  const std::string party = server_.IssueToken(v1::ROLE_PARTY, 0, 0, c.id(), c.parties(0).id());
  v1::WithdrawCaseRequest withdraw;
  withdraw.set_case_id(c.id());
  withdraw.set_withdrawn_by(v1::WITHDRAWN_BY_PARTY);
  withdraw.set_reason("Dr Morgan is off sick for the foreseeable future.");
  v1::WithdrawCaseResponse withdrawn;
  ASSERT_TRUE(server_.cases().WithdrawCase(WithToken(desk).get(), withdraw, &withdrawn).ok());
  const v1::GetStatisticsResponse before = Statistics();

  // Not yet: 29 days on, nothing changes.
  now_->store(kStart + 29 * kDay);
  ASSERT_TRUE(server_.server().RunMaintenance().ok());
  v1::GetCaseRequest get;
  get.set_case_id(c.id());
  v1::GetCaseResponse got;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(desk).get(), get, &got).ok());
  EXPECT_EQ(got.case_().parties(0).contact().name(), "Dr Alex Morgan");

  now_->store(kStart + 31 * kDay);
  absl::StatusOr<int> changed = server_.server().RunMaintenance();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, 1);

  // The case: names and addresses removed, every sealed text destroyed, the facts kept.
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(desk).get(), get, &got).ok());
  const v1::Case& now = got.case_();
  EXPECT_EQ(now.state(), v1::CASE_STATE_WITHDRAWN);
  EXPECT_EQ(now.referrer().name(), "[removed]");
  EXPECT_EQ(now.referrer().email(), "[removed]");
  EXPECT_EQ(now.referrer().job_title(), "[removed]");
  ASSERT_EQ(now.parties_size(), 2);
  for (const v1::Party& p : now.parties()) {
    EXPECT_EQ(p.contact().name(), "[removed]");
    EXPECT_EQ(p.contact().email(), "[removed]");
    EXPECT_EQ(p.profession(), v1::PROFESSION_DOCTOR);
  }
  EXPECT_EQ(now.summary(), "");
  EXPECT_EQ(now.withdrawal_reason(), "");
  EXPECT_TRUE(HasWithheld(now.withheld(), "summary", v1::WITHHELD_REASON_DESTROYED));
  EXPECT_TRUE(HasWithheld(now.withheld(), "withdrawal_reason", v1::WITHHELD_REASON_DESTROYED));
  EXPECT_TRUE(HasWithheld(now.withheld(),
                          absl::StrCat("parties[", c.parties(1).id(), "].accessibility_needs"),
                          v1::WITHHELD_REASON_DESTROYED));

  // Lists still answer, each text marked destroyed.
  v1::ListScreeningAnswersRequest answers;
  answers.set_case_id(c.id());
  v1::ListScreeningAnswersResponse listed;
  ASSERT_TRUE(
      server_.screening().ListScreeningAnswers(WithToken(desk).get(), answers, &listed).ok());
  ASSERT_EQ(listed.answers_size(), 9);
  for (const v1::ScreeningAnswer& a : listed.answers()) {
    EXPECT_EQ(a.note(), "");
    EXPECT_TRUE(HasWithheld(a.withheld(), "note", v1::WITHHELD_REASON_DESTROYED));
  }
  v1::GetCaseHistoryRequest history;
  history.set_case_id(c.id());
  v1::GetCaseHistoryResponse entries;
  ASSERT_TRUE(server_.cases().GetCaseHistory(WithToken(desk).get(), history, &entries).ok());
  ASSERT_GE(entries.entries_size(), 3);
  for (const v1::CaseHistoryEntry& e : entries.entries()) {
    if (e.has_state_change()) {
      EXPECT_EQ(e.state_change().reason(), "");
      EXPECT_TRUE(HasWithheld(e.withheld(), "reason", v1::WITHHELD_REASON_DESTROYED));
    } else if (e.allocation_change().state() == v1::ALLOCATION_STATE_DECLINED) {
      EXPECT_EQ(e.allocation_change().note(), "");
      EXPECT_TRUE(HasWithheld(e.withheld(), "note", v1::WITHHELD_REASON_DESTROYED));
    }
  }

  // The party's token stopped working; the statistics are what they were.
  v1::GetCaseResponse as_party;
  EXPECT_EQ(server_.referrals().GetCase(WithToken(party).get(), get, &as_party).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const v1::GetStatisticsResponse after = Statistics();
  EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString())
      << before.DebugString() << "\nafter:\n"
      << after.DebugString();

  // No name, address or reason of the case in any answer about it, or in the file and its log.
  v1::ListCasesRequest list;
  v1::ListCasesResponse cases;
  ASSERT_TRUE(server_.referrals().ListCases(WithToken(desk).get(), list, &cases).ok());
  v1::ListTokensRequest tokens;
  tokens.set_include_inactive(true);
  v1::ListTokensResponse token_list;
  ASSERT_TRUE(server_.admin()
                  .ListTokens(WithToken(server_.admin_secret()).get(), tokens, &token_list)
                  .ok());
  v1::GetMediatorRequest get_mediator;
  get_mediator.set_mediator_id(mediator);
  v1::GetMediatorResponse profile;
  ASSERT_TRUE(server_.mediators()
                  .GetMediator(WithToken(server_.admin_secret()).get(), get_mediator, &profile)
                  .ok());
  ASSERT_EQ(profile.mediator().conflicts_size(), 1);
  EXPECT_EQ(profile.mediator().conflicts(0).person_name(), "[removed]");
  EXPECT_EQ(profile.mediator().conflicts(0).person_email(), "");
  std::string answers_text =
      absl::StrCat(got.DebugString(), listed.DebugString(), entries.DebugString(),
                   token_list.DebugString(), profile.DebugString());
  for (const v1::Case& listed_case : cases.cases()) {
    if (listed_case.id() == c.id()) absl::StrAppend(&answers_text, listed_case.DebugString());
  }
  // SQLite erases them from its file and log (secure_delete, checkpoint). PostgreSQL keeps old
  // row versions until vacuumed, and its write-ahead log and archives: deploy/postgresql/
  // README.md says what a deployment must do; here only the answers are checked.
  const std::string disk = server_.on_postgres() ? "" : server_.DiskBytes();
  for (const std::string& personal :
       {std::string("Dr Alex Morgan"), std::string("alex.morgan@example.nhs.uk"),
        std::string("Dr Jo Reed"), std::string("jo.reed@example.nhs.uk"), std::string("Sam Okafor"),
        std::string("sam.okafor@example.nhs.uk"), std::string("Step-free access"),
        std::string("off sick")}) {
    EXPECT_FALSE(absl::StrContains(answers_text, personal)) << personal << " in an answer";
    EXPECT_FALSE(absl::StrContains(disk, personal)) << personal << " in the file";
  }
  // The other case, not finished, keeps everything.
  get.set_case_id(open.id());
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(desk).get(), get, &got).ok());
  EXPECT_EQ(got.case_().parties(0).contact().name(), "Dr Pat Lee");
  EXPECT_EQ(got.case_().parties(1).accessibility_needs(), "A quiet room");
  EXPECT_EQ(got.case_().summary(), open.summary());
  EXPECT_EQ(got.case_().withheld_size(), 0);

  // The audit trail records it, once.
  EXPECT_EQ(server_.CountRows("audit_events",
                              absl::StrCat("objects = 'case:", c.id(),
                                           "' AND method LIKE 'server: personal data removed%'")),
            1);
  ASSERT_TRUE(server_.server().RunMaintenance().ok());
  EXPECT_EQ(server_.CountRows("audit_events", "method LIKE 'server: personal data removed%'"), 1);
}

}  // namespace
}  // namespace mediation
