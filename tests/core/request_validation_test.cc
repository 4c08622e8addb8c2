// Regression tests for what the libFuzzer harnesses (tests/fuzz) found in request validation.
#include <gtest/gtest.h>

#include <climits>

#include "absl/strings/match.h"
#include "ppa/mediation/v1/mediator.pb.h"
#include "ppa/mediation/v1/referral.pb.h"
#include "ppa/mediation/v1/scheduling.pb.h"
#include "services/mediator_validation.h"
#include "services/referral_validation.h"
#include "services/session_validation.h"

namespace mediation {
namespace {

namespace v1 = ::ppa::mediation::v1;

void SetTime(v1::TimeOfDay* t, int hours, int minutes) {
  t->set_hours(hours);
  t->set_minutes(minutes);
}

// Found by fuzz_request_validation: hours * 60 overflowed (undefined behaviour) before the
// range check.
TEST(RequestValidationTest, AvailabilityWithAnyHoursIsRefusedWithoutOverflow) {
  v1::SetPartyAvailabilityRequest r;
  v1::LocalWindow* w = r.add_windows();
  w->mutable_date()->set_year(2027);
  w->mutable_date()->set_month(6);
  w->mutable_date()->set_day(1);
  SetTime(w->mutable_start(), INT_MIN, 0);
  SetTime(w->mutable_end(), INT_MAX, INT_MAX);
  Validator v;
  EXPECT_TRUE(ValidateAvailabilityWindows(v, r.windows()).empty());
  EXPECT_EQ(v.status(), absl::InvalidArgumentError(
                            "windows[0]: start and end must be times of day, end after start"));
}

TEST(RequestValidationTest, WorkingHoursWithAnyHoursAreRefusedWithoutOverflow) {
  v1::SetWorkingPatternRequest r;
  v1::WorkingHours* h = r.add_hours();
  h->set_weekday(1);
  SetTime(h->mutable_start(), INT_MAX, 0);
  SetTime(h->mutable_end(), INT_MIN, INT_MIN);
  Validator v;
  ValidateWorkingHours(v, r.hours());
  EXPECT_EQ(v.status(), absl::InvalidArgumentError(
                            "hours[0].start: not a time of day; hours[0].end: not a time of day"));
}

// Found by fuzz_request_validation: a window inside the hour the clocks skip in March was
// accepted and stored as an empty stretch of time.
TEST(RequestValidationTest, AvailabilityInsideTheSpringGapIsRefused) {
  v1::SetPartyAvailabilityRequest r;
  v1::LocalWindow* w = r.add_windows();
  w->mutable_date()->set_year(2027);
  w->mutable_date()->set_month(3);
  w->mutable_date()->set_day(28);
  SetTime(w->mutable_start(), 1, 15);
  SetTime(w->mutable_end(), 1, 45);
  Validator v;
  EXPECT_TRUE(ValidateAvailabilityWindows(v, r.windows()).empty());
  EXPECT_EQ(v.status(), absl::InvalidArgumentError(
                            "windows[0]: no such time on 2027-03-28: Europe/London clocks go "
                            "forward from 01:00 to 02:00"));
  // Reaching into the gap keeps the part that exists: 00:30 to 01:00 GMT.
  SetTime(w->mutable_start(), 0, 30);
  Validator ok;
  const auto windows = ValidateAvailabilityWindows(ok, r.windows());
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(windows[0].second - windows[0].first, 30 * 60);
}

TEST(RequestValidationTest, AvailabilityEndingAtMidnightRunsToTheEndOfTheDay) {
  v1::SetPartyAvailabilityRequest r;
  v1::LocalWindow* w = r.add_windows();
  w->mutable_date()->set_year(2027);
  w->mutable_date()->set_month(1);
  w->mutable_date()->set_day(5);
  SetTime(w->mutable_start(), 22, 0);
  SetTime(w->mutable_end(), 0, 0);
  Validator v;
  const auto windows = ValidateAvailabilityWindows(v, r.windows());
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(windows[0].first, 1799186400);   // 2027-01-05 22:00 GMT.
  EXPECT_EQ(windows[0].second, 1799193600);  // 2027-01-06 00:00 GMT.
}

absl::Status ValidateReferral(const v1::CreateReferralRequest& r) {
  Validator v;
  storage::CaseRecord c;
  ValidateReferralDetails(v,
                          {r.referrer(), r.summary(), r.concern_level(), r.concern_type(),
                           r.parties(), r.linked_case_references()},
                          c);
  return v.status();
}

v1::CreateReferralRequest Referral(const std::string& email_a, const std::string& email_b) {
  v1::CreateReferralRequest r;
  r.mutable_referrer()->set_name("Sam Okafor");
  r.mutable_referrer()->set_email("sam.okafor@northshire.example");
  r.set_summary("Breakdown in communication.");
  for (const std::string& email : {email_a, email_b}) {
    v1::Party* p = r.add_parties();
    p->mutable_contact()->set_name("Dr Alex Morgan");
    p->mutable_contact()->set_email(email);
    p->set_profession(v1::PROFESSION_DOCTOR);
  }
  return r;
}

// Found by fuzz_request_validation: two parties with the same invalid email had it quoted back
// in the error ("<email> is given for another party too"), however long it was.
TEST(RequestValidationTest, AnInvalidEmailGivenTwiceIsNotQuotedBack) {
  const std::string invalid(3000, 'x');
  const absl::Status s = ValidateReferral(Referral(invalid, invalid));
  EXPECT_EQ(s, absl::InvalidArgumentError(
                   "parties[0].contact.email: not an email address (expected name@domain.tld); "
                   "parties[1].contact.email: not an email address (expected name@domain.tld)"));
  EXPECT_FALSE(absl::StrContains(s.message(), invalid));
}

TEST(RequestValidationTest, AValidEmailGivenTwiceIsNamed) {
  EXPECT_EQ(ValidateReferral(Referral("jo.reed@example.nhs.uk", "Jo.Reed@example.nhs.uk")),
            absl::InvalidArgumentError("parties[1].contact.email: jo.reed@example.nhs.uk is "
                                       "given for another party too"));
}

}  // namespace
}  // namespace mediation
