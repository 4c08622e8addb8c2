#include "services/rules/charges.h"

#include <gtest/gtest.h>

namespace mediation::rules {
namespace {

const Fees kFees{.mediation_day = 120000,
                 .individual_meeting = 35000,
                 .co_mediation_day = 60000,
                 .venue_day = 25000,
                 .travel_per_mediator_day = 9500,
                 .vat_basis_points = 2000};

TEST(ChargesTest, TwoPartiesOneDayInPersonWithCoMediation) {
  const ChargeQuote q = QuoteCharges(
      kFees, {.parties = 2, .days = 1, .mode = v1::SESSION_MODE_IN_PERSON, .co_mediation = true});
  EXPECT_EQ(q.items, (std::vector<ChargeLine>{
                         {"Individual meetings", 2, 35000, 70000},
                         {"Mediation days", 1, 120000, 120000},
                         {"Co-mediation days", 1, 60000, 60000},
                         {"Venue days", 1, 25000, 25000},
                         {"Travel (per mediator per day)", 2, 9500, 19000},
                     }));
  EXPECT_EQ(q.subtotal_pence, 294000);
  EXPECT_EQ(q.vat_pence, 58800);
  EXPECT_EQ(q.total_pence, 352800);
}

TEST(ChargesTest, VideoHasNoVenueOrTravel) {
  const ChargeQuote q = QuoteCharges(
      kFees, {.parties = 3, .days = 2, .mode = v1::SESSION_MODE_VIDEO, .co_mediation = true});
  ASSERT_EQ(q.items.size(), 3u);
  EXPECT_EQ(q.subtotal_pence, 3 * 35000 + 2 * 120000 + 2 * 60000);
  EXPECT_EQ(q.total_pence, q.subtotal_pence + q.vat_pence);
}

TEST(ChargesTest, ASingleMediatorHasNoCoMediationAndTravelsAlone) {
  const ChargeQuote q = QuoteCharges(
      kFees, {.parties = 2, .days = 2, .mode = v1::SESSION_MODE_IN_PERSON, .co_mediation = false});
  EXPECT_EQ(q.items.back(), (ChargeLine{"Travel (per mediator per day)", 2, 9500, 19000}));
  for (const ChargeLine& line : q.items) EXPECT_NE(line.description, "Co-mediation days");
}

TEST(ChargesTest, VatIsRoundedHalfUpToThePenny) {
  Fees fees{.individual_meeting = 1, .vat_basis_points = 500};  // 5%
  // 10p at 5% is 0.5p exactly: rounds up to 1p.
  ChargeQuote q = QuoteCharges(
      fees, {.parties = 10, .days = 0, .mode = v1::SESSION_MODE_VIDEO, .co_mediation = false});
  EXPECT_EQ(q.subtotal_pence, 10);
  EXPECT_EQ(q.vat_pence, 1);
  // 9p at 5% is 0.45p: rounds down to 0p.
  q = QuoteCharges(
      fees, {.parties = 9, .days = 0, .mode = v1::SESSION_MODE_VIDEO, .co_mediation = false});
  EXPECT_EQ(q.vat_pence, 0);
  EXPECT_EQ(q.total_pence, 9);
}

}  // namespace
}  // namespace mediation::rules
