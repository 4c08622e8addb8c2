// Service statistics: exact counts, rates and medians over a known set of cases, limited to a
// referral period, and nothing that names anyone.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::ValidOrganisation;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;

std::map<std::string, int64_t> AsMap(const google::protobuf::RepeatedPtrField<v1::Count>& counts) {
  std::map<std::string, int64_t> out;
  for (const v1::Count& c : counts) out[c.key()] = c.count();
  return out;
}

class StatisticsTest : public ::testing::Test {
 protected:
  StatisticsTest()
      : offset_(std::make_shared<std::atomic<int64_t>>(0)),
        server_([offset = offset_](ServerOptions& o) {
          o.clock = [offset] { return absl::Now() + absl::Seconds(offset->load()); };
        }) {}

  void AdvanceDays(int days) { *offset_ += int64_t{days} * 86400; }

  int64_t Register(v1::Organisation o) {
    v1::RegisterOrganisationRequest r;
    *r.mutable_organisation() = o;
    v1::RegisterOrganisationResponse out;
    EXPECT_TRUE(server_.organisations()
                    .RegisterOrganisation(WithToken(server_.case_support()).get(), r, &out)
                    .ok());
    return out.organisation().id();
  }

  v1::Case Refer(v1::CreateReferralRequest r) {
    v1::CreateReferralResponse out;
    grpc::Status status =
        server_.referrals().CreateReferral(WithToken(server_.case_support()).get(), r, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out.case_();
  }

  // One mediator, allocated as lead and accepting: the case is MEDIATORS_ALLOCATED now.
  void AllocateOne(const v1::Case& c, int64_t mediator, const std::string& token) {
    ASSERT_TRUE(server_.SetMediatorsRequired(c.id(), 1).ok());
    ASSERT_TRUE(
        server_.Respond(token, server_.Allocate(c.id(), mediator, v1::ALLOCATION_ROLE_LEAD), true)
            .ok());
    ASSERT_EQ(server_.StateOf(c.id()), v1::CASE_STATE_MEDIATORS_ALLOCATED);
  }

  v1::GetStatisticsResponse Get(const v1::GetStatisticsRequest& r = {}) {
    v1::GetStatisticsResponse out;
    grpc::Status status =
        server_.statistics().GetStatistics(WithToken(server_.case_support()).get(), r, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  std::shared_ptr<std::atomic<int64_t>> offset_;
  TestServer server_;
};

TEST_F(StatisticsTest, CountsRatesAndMediansAreExact) {
  const int64_t trust = Register(ValidOrganisation("Northshire Hospitals NHS Trust"));
  v1::Organisation wales = ValidOrganisation("Bryn Dental Practice");
  wales.set_nation(v1::NATION_WALES);
  wales.set_kind(v1::ORGANISATION_KIND_DENTAL_PRACTICE);
  wales.set_care_setting(v1::CARE_SETTING_PRIMARY);
  wales.set_sector(v1::SECTOR_INDEPENDENT);
  const int64_t dental = Register(wales);

  // Day 0: two referrals from the trust made suitable; one from the practice, not suitable; one
  // from the practice not screened yet.
  const v1::Case first = Refer(ValidReferral(trust));
  const v1::Case second = Refer(ValidReferral(trust));
  server_.MakeSuitable(first);
  server_.MakeSuitable(second);
  v1::CreateReferralRequest dentists = ValidReferral(dental);
  dentists.mutable_parties(0)->set_profession(v1::PROFESSION_DENTIST);
  dentists.mutable_parties(1)->set_profession(v1::PROFESSION_MANAGER);
  const v1::Case refused = Refer(dentists);
  server_.AnswerAll(refused, v1::CRITERION_ANSWER_MET);
  v1::RecordScreeningAnswerRequest unwilling;
  unwilling.set_case_id(refused.id());
  unwilling.set_criterion(v1::CRITERION_WILLING);
  unwilling.set_party_id(refused.parties(1).id());
  unwilling.set_answer(v1::CRITERION_ANSWER_NOT_MET);
  unwilling.set_note("Does not wish to take part");
  v1::RecordScreeningAnswerResponse answered;
  ASSERT_TRUE(
      server_.screening()
          .RecordScreeningAnswer(WithToken(server_.case_support()).get(), unwilling, &answered)
          .ok());
  v1::RecordScreeningDecisionRequest decide;
  decide.set_case_id(refused.id());
  v1::RecordScreeningDecisionResponse decided;
  ASSERT_TRUE(
      server_.screening()
          .RecordScreeningDecision(WithToken(server_.senior_adviser()).get(), decide, &decided)
          .ok());
  ASSERT_EQ(decided.state(), v1::CASE_STATE_NOT_SUITABLE);
  Refer(ValidReferral(dental));

  // Allocated 2 and 6 days after referral: the median is 4.
  const int64_t lead =
      server_.RegisterMediator(ValidMediator("Morgan Ellis", "m.ellis@example.org"));
  const std::string lead_token = server_.IssueToken(v1::ROLE_MEDIATOR, lead);
  AdvanceDays(2);
  AllocateOne(first, lead, lead_token);
  AdvanceDays(4);
  AllocateOne(second, lead, lead_token);

  // The first case's first session.
  v1::FindSlotsRequest find;
  find.set_case_id(first.id());
  find.set_kind(v1::SESSION_KIND_JOINT_MEETING);
  find.set_mode(v1::SESSION_MODE_VIDEO);
  find.set_duration_minutes(60);
  v1::FindSlotsResponse found;
  ASSERT_TRUE(
      server_.scheduling().FindSlots(WithToken(server_.case_support()).get(), find, &found).ok());
  ASSERT_GT(found.slots_size(), 0);
  v1::BookSessionRequest book;
  book.set_case_id(first.id());
  book.set_kind(v1::SESSION_KIND_JOINT_MEETING);
  book.set_mode(v1::SESSION_MODE_VIDEO);
  book.set_video_link("https://video.example/stats");
  book.set_duration_minutes(60);
  *book.mutable_start() = found.slots(0).start();
  v1::BookSessionResponse booked;
  ASSERT_TRUE(server_.scheduling()
                  .BookSession(WithToken(server_.case_support()).get(), book, &booked)
                  .ok());

  const v1::GetStatisticsResponse s = Get();
  EXPECT_EQ(s.referrals(), 4);
  EXPECT_EQ(AsMap(s.referrals_by_nation()),
            (std::map<std::string, int64_t>{{"NATION_ENGLAND", 2}, {"NATION_WALES", 2}}));
  EXPECT_EQ(AsMap(s.referrals_by_organisation_kind()),
            (std::map<std::string, int64_t>{{"ORGANISATION_KIND_DENTAL_PRACTICE", 2},
                                            {"ORGANISATION_KIND_NHS_TRUST", 2}}));
  EXPECT_EQ(
      AsMap(s.referrals_by_care_setting()),
      (std::map<std::string, int64_t>{{"CARE_SETTING_PRIMARY", 2}, {"CARE_SETTING_SECONDARY", 2}}));
  EXPECT_EQ(AsMap(s.referrals_by_sector()),
            (std::map<std::string, int64_t>{{"SECTOR_INDEPENDENT", 2}, {"SECTOR_PUBLIC", 2}}));
  EXPECT_EQ(AsMap(s.parties_by_profession()),
            (std::map<std::string, int64_t>{
                {"PROFESSION_DENTIST", 1}, {"PROFESSION_DOCTOR", 6}, {"PROFESSION_MANAGER", 1}}));
  EXPECT_EQ(s.screened(), 3);
  EXPECT_EQ(s.suitable(), 2);
  EXPECT_DOUBLE_EQ(s.suitability_rate(), 2.0 / 3.0);
  EXPECT_EQ(AsMap(s.failed_criteria()), (std::map<std::string, int64_t>{{"CRITERION_WILLING", 1}}));
  EXPECT_EQ(s.allocated(), 2);
  EXPECT_NEAR(s.median_days_to_allocation(), 4.0, 1e-3);
  EXPECT_EQ(s.with_sessions(), 1);
  EXPECT_NEAR(s.median_days_to_first_session(),
              (booked.session().start().seconds() - first.created_at().seconds()) / 86400.0, 1e-3);
  EXPECT_EQ(s.outcomes_size(), 0);
  EXPECT_EQ(AsMap(s.by_state()),
            (std::map<std::string, int64_t>{{"CASE_STATE_MEDIATORS_ALLOCATED", 1},
                                            {"CASE_STATE_NOT_SUITABLE", 1},
                                            {"CASE_STATE_REFERRED", 1},
                                            {"CASE_STATE_SESSIONS_SCHEDULED", 1}}));

  // Anonymised: no name, email or free text appears anywhere in the answer.
  const std::string bytes = s.SerializeAsString();
  for (const std::string& secret : {std::string("Alex Morgan"), std::string("alex.morgan"),
                                    std::string("Northshire"), std::string("Does not wish")}) {
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
  }
}

TEST_F(StatisticsTest, APeriodCountsOnlyTheCasesReferredWithinIt) {
  const int64_t trust = Register(ValidOrganisation("Northshire Hospitals NHS Trust"));
  const v1::Case early = Refer(ValidReferral(trust));
  AdvanceDays(10);
  Refer(ValidReferral(trust));
  Refer(ValidReferral(trust));

  // From the day after the first referral (London days; the first is at least 9 days back).
  v1::GetStatisticsRequest r;
  const absl::Time later =
      absl::FromUnixSeconds(early.created_at().seconds()) + absl::Hours(24 * 9);
  const absl::CivilDay day = absl::ToCivilDay(later, absl::UTCTimeZone());
  r.mutable_referred_from()->set_year(static_cast<int32_t>(day.year()));
  r.mutable_referred_from()->set_month(day.month());
  r.mutable_referred_from()->set_day(day.day());
  EXPECT_EQ(Get(r).referrals(), 2);
  // Up to that day only.
  v1::GetStatisticsRequest before;
  *before.mutable_referred_to() = r.referred_from();
  EXPECT_EQ(Get(before).referrals(), 1);
  EXPECT_EQ(Get().referrals(), 3);
}

TEST_F(StatisticsTest, ABadPeriodNamesTheFieldAndOnlyStaffMayAsk) {
  v1::GetStatisticsRequest r;
  r.mutable_referred_from()->set_year(2026);
  r.mutable_referred_from()->set_month(5);
  r.mutable_referred_from()->set_day(2);
  r.mutable_referred_to()->set_year(2026);
  r.mutable_referred_to()->set_month(5);
  r.mutable_referred_to()->set_day(1);
  v1::GetStatisticsResponse out;
  grpc::Status status =
      server_.statistics().GetStatistics(WithToken(server_.case_support()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "referred_to: must not be before referred_from");
  r.mutable_referred_to()->set_month(13);
  status = server_.statistics().GetStatistics(WithToken(server_.case_support()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "referred_to: not a valid date");

  const int64_t mediator =
      server_.RegisterMediator(ValidMediator("Morgan Ellis", "m.ellis@example.org"));
  status = server_.statistics().GetStatistics(
      WithToken(server_.IssueToken(v1::ROLE_MEDIATOR, mediator)).get(), {}, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace mediation
