// The indication of charges: a pure calculation from a fee schedule and the shape of a
// mediation to itemised amounts in pence.
#ifndef MEDIATION_SERVICES_RULES_CHARGES_H_
#define MEDIATION_SERVICES_RULES_CHARGES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ppa/mediation/v1/common.pb.h"

namespace mediation::rules {

namespace v1 = ::ppa::mediation::v1;

// Fees in pence, before VAT.
struct Fees {
  int64_t mediation_day = 0;
  int64_t individual_meeting = 0;
  int64_t co_mediation_day = 0;
  int64_t venue_day = 0;
  int64_t travel_per_mediator_day = 0;
  int32_t vat_basis_points = 0;  // 2000 = 20%.
};

struct MediationShape {
  int parties = 2;  // Individual meetings, one per party.
  int days = 1;     // Joint mediation days.
  v1::SessionMode mode = v1::SESSION_MODE_IN_PERSON;
  bool co_mediation = true;  // Two mediators.
};

struct ChargeLine {
  std::string description;
  int quantity = 0;
  int64_t unit_pence = 0;
  int64_t amount_pence = 0;

  friend bool operator==(const ChargeLine&, const ChargeLine&) = default;
};

struct ChargeQuote {
  std::vector<ChargeLine> items;
  int64_t subtotal_pence = 0;
  int64_t vat_pence = 0;  // VAT on the subtotal, rounded half up to the penny.
  int64_t total_pence = 0;
};

// Lines: individual meetings (one per party), mediation days, co-mediation days (with a
// co-mediator), and, in person only, venue days and travel per mediator per day. Lines with a
// zero quantity are left out.
// REQUIRES: non-negative fees and counts small enough not to overflow (the API caps them).
ChargeQuote QuoteCharges(const Fees& fees, const MediationShape& shape);

}  // namespace mediation::rules

#endif  // MEDIATION_SERVICES_RULES_CHARGES_H_
