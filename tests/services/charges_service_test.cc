#include <gtest/gtest.h>

#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::WithToken;

class ChargesServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    case_ = server_.CreateReferral(org_);
  }

  grpc::Status SetSchedule(int64_t day, int64_t meeting, int64_t co, int64_t venue, int64_t travel,
                           int32_t vat_bp, v1::FeeSchedule* out = nullptr) {
    v1::SetFeeScheduleRequest r;
    v1::FeeSchedule* f = r.mutable_schedule();
    f->mutable_mediation_day()->set_pence(day);
    f->mutable_individual_meeting()->set_pence(meeting);
    f->mutable_co_mediation_day()->set_pence(co);
    f->mutable_venue_day()->set_pence(venue);
    f->mutable_travel_per_mediator_day()->set_pence(travel);
    f->set_vat_basis_points(vat_bp);
    v1::SetFeeScheduleResponse response;
    grpc::Status s =
        server_.charges().SetFeeSchedule(WithToken(server_.admin_secret()).get(), r, &response);
    if (out != nullptr) *out = response.schedule();
    return s;
  }

  TestServer server_;
  int64_t org_ = 0;
  v1::Case case_;
};

// Worked example: a two-party case, one joint day in person with two mediators, under a
// schedule of £1,150 a day, £325 an individual meeting, £575 co-mediation, £240 venue,
// £87.50 travel per mediator per day, VAT 20%:
//   2 x £325.00 = £650.00; 1 x £1,150.00; 1 x £575.00; 1 x £240.00; 2 x £87.50 = £175.00
//   subtotal £2,790.00; VAT £558.00; total £3,348.00.
TEST_F(ChargesServiceTest, AWorkedExampleIsItemisedAndCorrectToThePenny) {
  v1::FeeSchedule schedule;
  ASSERT_TRUE(SetSchedule(115000, 32500, 57500, 24000, 8750, 2000, &schedule).ok());
  EXPECT_EQ(schedule.version(), 2);  // Version 1 is the seeded schedule.

  v1::IndicateChargesRequest r;
  r.set_case_id(case_.id());
  r.set_days(1);
  r.set_mode(v1::SESSION_MODE_IN_PERSON);
  v1::IndicateChargesResponse out;
  grpc::Status status =
      server_.charges().IndicateCharges(WithToken(server_.senior_adviser()).get(), r, &out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::ChargeIndication& i = out.indication();
  EXPECT_EQ(i.schedule_version(), 2);
  EXPECT_EQ(i.parties(), 2);
  EXPECT_TRUE(i.co_mediation());
  ASSERT_EQ(i.items_size(), 5);
  auto item = [&](int n) {
    return std::make_tuple(i.items(n).description(), i.items(n).quantity(),
                           i.items(n).unit().pence(), i.items(n).amount().pence());
  };
  EXPECT_EQ(item(0), std::make_tuple(std::string("Individual meetings"), 2, 32500L, 65000L));
  EXPECT_EQ(item(1), std::make_tuple(std::string("Mediation days"), 1, 115000L, 115000L));
  EXPECT_EQ(item(2), std::make_tuple(std::string("Co-mediation days"), 1, 57500L, 57500L));
  EXPECT_EQ(item(3), std::make_tuple(std::string("Venue days"), 1, 24000L, 24000L));
  EXPECT_EQ(item(4),
            std::make_tuple(std::string("Travel (per mediator per day)"), 2, 8750L, 17500L));
  EXPECT_EQ(i.subtotal().pence(), 279000);
  EXPECT_EQ(i.vat().pence(), 55800);
  EXPECT_EQ(i.total().pence(), 334800);

  // Recorded on the case, and the organisation may read it.
  const std::string org_token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  v1::ListChargeIndicationsRequest list;
  list.set_case_id(case_.id());
  v1::ListChargeIndicationsResponse listed;
  ASSERT_TRUE(
      server_.charges().ListChargeIndications(WithToken(org_token).get(), list, &listed).ok());
  ASSERT_EQ(listed.indications_size(), 1);
  EXPECT_EQ(listed.indications(0).indicated_by_token_id(), 0);  // Staff ids stay inside.
  v1::ChargeIndication expected = i;
  expected.clear_indicated_by_token_id();
  EXPECT_EQ(listed.indications(0).SerializeAsString(), expected.SerializeAsString());
}

TEST_F(ChargesServiceTest, AScheduleNeedsEveryFeeInRange) {
  v1::SetFeeScheduleRequest r;
  r.mutable_schedule()->mutable_mediation_day()->set_pence(-1);
  r.mutable_schedule()->set_vat_basis_points(25000);
  v1::SetFeeScheduleResponse out;
  grpc::Status status =
      server_.charges().SetFeeSchedule(WithToken(server_.admin_secret()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "schedule.mediation_day.pence: must be between 0 and 10000000; "
            "schedule.individual_meeting: required (0 is allowed); "
            "schedule.co_mediation_day: required (0 is allowed); schedule.venue_day: required (0 "
            "is allowed); schedule.travel_per_mediator_day: required (0 is allowed); "
            "schedule.vat_basis_points: must be between 0 and 10000 (2000 is 20%)");
  EXPECT_EQ(server_.CountRows("fee_schedules"), 1);
}

// Two administrators set the schedule from the same reading: the second, naming the version it
// read, is refused instead of silently replacing the first's.
TEST_F(ChargesServiceTest, AScheduleSetFromAStaleVersionIsAborted) {
  v1::FeeSchedule first;
  ASSERT_TRUE(SetSchedule(115000, 32500, 57500, 24000, 8750, 2000, &first).ok());
  v1::SetFeeScheduleRequest r;
  v1::FeeSchedule* f = r.mutable_schedule();
  *f = first;
  f->mutable_mediation_day()->set_pence(120000);
  r.set_expected_version(first.version() - 1);
  v1::SetFeeScheduleResponse out;
  grpc::Status s =
      server_.charges().SetFeeSchedule(WithToken(server_.admin_secret()).get(), r, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(server_.CountRows("fee_schedules"), 2);
  r.set_expected_version(first.version());
  s = server_.charges().SetFeeSchedule(WithToken(server_.admin_secret()).get(), r, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.schedule().version(), first.version() + 1);
}

TEST_F(ChargesServiceTest, IndicationsAreRefusedForFinishedCasesAndBadShapes) {
  v1::IndicateChargesRequest r;
  r.set_case_id(case_.id());
  r.set_days(0);
  v1::IndicateChargesResponse out;
  grpc::Status status =
      server_.charges().IndicateCharges(WithToken(server_.senior_adviser()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "days: must be between 1 and 10; mode: required");

  v1::WithdrawCaseRequest w;
  w.set_case_id(case_.id());
  w.set_withdrawn_by(v1::WITHDRAWN_BY_ORGANISATION);
  w.set_reason("resolved locally");
  v1::WithdrawCaseResponse withdrawn;
  ASSERT_TRUE(
      server_.cases().WithdrawCase(WithToken(server_.case_support()).get(), w, &withdrawn).ok());
  r.set_days(2);
  r.set_mode(v1::SESSION_MODE_VIDEO);
  status = server_.charges().IndicateCharges(WithToken(server_.senior_adviser()).get(), r, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(server_.CountRows("charge_indications"), 0);
}

}  // namespace
}  // namespace mediation
