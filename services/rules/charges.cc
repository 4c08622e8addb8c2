#include "services/rules/charges.h"

namespace mediation::rules {

ChargeQuote QuoteCharges(const Fees& fees, const MediationShape& shape) {
  ChargeQuote quote;
  auto line = [&](std::string description, int quantity, int64_t unit) {
    if (quantity <= 0) return;
    quote.items.push_back({.description = std::move(description),
                           .quantity = quantity,
                           .unit_pence = unit,
                           .amount_pence = unit * quantity});
    quote.subtotal_pence += unit * quantity;
  };
  const int mediators = shape.co_mediation ? 2 : 1;
  line("Individual meetings", shape.parties, fees.individual_meeting);
  line("Mediation days", shape.days, fees.mediation_day);
  if (shape.co_mediation) line("Co-mediation days", shape.days, fees.co_mediation_day);
  if (shape.mode == v1::SESSION_MODE_IN_PERSON) {
    line("Venue days", shape.days, fees.venue_day);
    line("Travel (per mediator per day)", shape.days * mediators, fees.travel_per_mediator_day);
  }
  // Half up: add half the divisor before dividing (amounts are never negative).
  quote.vat_pence = (quote.subtotal_pence * fees.vat_basis_points + 5000) / 10000;
  quote.total_pence = quote.subtotal_pence + quote.vat_pence;
  return quote;
}

}  // namespace mediation::rules
