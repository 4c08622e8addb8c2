#include "services/charges_service.h"

#include "absl/strings/str_cat.h"
#include "services/case_access.h"
#include "services/convert.h"
#include "services/core/validation.h"
#include "services/rules/charges.h"
#include "services/rules/lifecycle.h"
#include "storage/charges.h"

namespace mediation {
namespace {

constexpr int64_t kMaxFeePence = 10'000'000;
constexpr int kMaxDays = 10;
constexpr int kMaxParties = 10;

void Pence(int64_t pence, v1::Money* out) { out->set_pence(pence); }

void ToProto(const storage::FeeScheduleRecord& f, v1::FeeSchedule* out) {
  out->set_version(f.version);
  Pence(f.mediation_day_pence, out->mutable_mediation_day());
  Pence(f.individual_meeting_pence, out->mutable_individual_meeting());
  Pence(f.co_mediation_day_pence, out->mutable_co_mediation_day());
  Pence(f.venue_day_pence, out->mutable_venue_day());
  Pence(f.travel_per_mediator_day_pence, out->mutable_travel_per_mediator_day());
  out->set_vat_basis_points(f.vat_basis_points);
  mediation::ToProto(f.created_at, out->mutable_created_at());
}

void ToProto(const storage::ChargeIndicationRecord& r, v1::ChargeIndication* out) {
  out->set_id(r.id);
  out->set_case_id(r.case_id);
  out->set_schedule_version(r.schedule_version);
  out->set_parties(r.parties);
  out->set_days(r.days);
  out->set_mode(r.mode);
  out->set_co_mediation(r.co_mediation);
  for (const storage::ChargeItemRecord& it : r.items) {
    v1::ChargeItem* item = out->add_items();
    item->set_description(it.description);
    item->set_quantity(it.quantity);
    Pence(it.unit_pence, item->mutable_unit());
    Pence(it.amount_pence, item->mutable_amount());
  }
  Pence(r.subtotal_pence, out->mutable_subtotal());
  Pence(r.vat_pence, out->mutable_vat());
  out->set_vat_basis_points(r.vat_basis_points);
  Pence(r.total_pence, out->mutable_total());
  out->set_indicated_by_token_id(r.indicated_by_token_id);
  mediation::ToProto(r.indicated_at, out->mutable_indicated_at());
}

absl::Status GetFeeSchedule(CallContext& call, const v1::GetFeeScheduleRequest&,
                            v1::GetFeeScheduleResponse& response) {
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::FeeScheduleRecord> f = storage::CurrentFeeSchedule(tx);
    if (!f.ok()) return f.status();
    ToProto(*f, response.mutable_schedule());
    return absl::OkStatus();
  });
}

absl::Status SetFeeSchedule(CallContext& call, const v1::SetFeeScheduleRequest& r,
                            v1::SetFeeScheduleResponse& response) {
  Validator v;
  const v1::FeeSchedule& in = r.schedule();
  auto fee = [&](absl::string_view field, bool present, const v1::Money& money) -> int64_t {
    const std::string path = absl::StrCat("schedule.", field, ".pence");
    if (!present) {
      v.Fail(absl::StrCat("schedule.", field), "required (0 is allowed)");
    } else if (money.pence() < 0 || money.pence() > kMaxFeePence) {
      v.Fail(path, absl::StrCat("must be between 0 and ", kMaxFeePence));
    }
    return money.pence();
  };
  storage::FeeScheduleRecord f;
  f.mediation_day_pence = fee("mediation_day", in.has_mediation_day(), in.mediation_day());
  f.individual_meeting_pence =
      fee("individual_meeting", in.has_individual_meeting(), in.individual_meeting());
  f.co_mediation_day_pence =
      fee("co_mediation_day", in.has_co_mediation_day(), in.co_mediation_day());
  f.venue_day_pence = fee("venue_day", in.has_venue_day(), in.venue_day());
  f.travel_per_mediator_day_pence = fee("travel_per_mediator_day", in.has_travel_per_mediator_day(),
                                        in.travel_per_mediator_day());
  if (!in.has_vat_basis_points()) {
    v.Fail("schedule.vat_basis_points", "required (0 is allowed)");
  } else if (in.vat_basis_points() < 0 || in.vat_basis_points() > 10000) {
    v.Fail("schedule.vat_basis_points", "must be between 0 and 10000 (2000 is 20%)");
  }
  if (r.expected_version() < 0) v.Fail("expected_version", "must be 0 (no check) or a version");
  if (!v.ok()) return v.status();
  f.vat_basis_points = in.vat_basis_points();
  f.created_at = call.now();
  f.created_by_token_id = call.principal().token_id;
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    if (r.expected_version() != 0) {
      absl::StatusOr<storage::FeeScheduleRecord> current = storage::CurrentFeeSchedule(tx);
      if (!current.ok()) return current.status();
      if (current->version != r.expected_version()) {
        return absl::AbortedError(absl::StrCat(
            "the fee schedule is at version ", current->version, ", not ", r.expected_version(),
            "; someone set it since you read it: read it again and reapply your change"));
      }
    }
    absl::StatusOr<storage::FeeScheduleRecord> stored = storage::InsertFeeSchedule(tx, f);
    if (!stored.ok()) return stored.status();
    call.AddObject("fee_schedule", stored->version);
    ToProto(*stored, response.mutable_schedule());
    return absl::OkStatus();
  });
}

absl::Status IndicateCharges(CallContext& call, const v1::IndicateChargesRequest& r,
                             v1::IndicateChargesResponse& response) {
  Validator v;
  v.PositiveId("case_id", r.case_id());
  if (r.parties() < 0 || r.parties() > kMaxParties) {
    v.Fail("parties", absl::StrCat("must be between 1 and ", kMaxParties,
                                   " (or 0 for every party of the case)"));
  }
  if (r.days() < 1 || r.days() > kMaxDays) {
    v.Fail("days", absl::StrCat("must be between 1 and ", kMaxDays));
  }
  v.Enum("mode", r.mode(), v1::SessionMode_IsValid, /*required=*/true);
  if (!v.ok()) return v.status();
  call.AddObject("case", r.case_id());

  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::CaseRecord> c = LoadCaseFor(tx, call.principal(), r.case_id());
    if (!c.ok()) return c.status();
    if (rules::IsTerminal(c->state)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "case ", c->id, " is ", v1::CaseState_Name(c->state), "; no charges to indicate"));
    }
    absl::StatusOr<storage::FeeScheduleRecord> f = storage::CurrentFeeSchedule(tx);
    if (!f.ok()) return f.status();
    const rules::MediationShape shape{
        .parties = r.parties() == 0 ? static_cast<int>(c->parties.size()) : r.parties(),
        .days = r.days(),
        .mode = r.mode(),
        .co_mediation = r.has_co_mediation() ? r.co_mediation() : true};
    const rules::ChargeQuote quote =
        rules::QuoteCharges({.mediation_day = f->mediation_day_pence,
                             .individual_meeting = f->individual_meeting_pence,
                             .co_mediation_day = f->co_mediation_day_pence,
                             .venue_day = f->venue_day_pence,
                             .travel_per_mediator_day = f->travel_per_mediator_day_pence,
                             .vat_basis_points = f->vat_basis_points},
                            shape);
    storage::ChargeIndicationRecord record{.case_id = c->id,
                                           .schedule_version = f->version,
                                           .parties = shape.parties,
                                           .days = shape.days,
                                           .mode = shape.mode,
                                           .co_mediation = shape.co_mediation,
                                           .subtotal_pence = quote.subtotal_pence,
                                           .vat_pence = quote.vat_pence,
                                           .vat_basis_points = f->vat_basis_points,
                                           .total_pence = quote.total_pence,
                                           .indicated_by_token_id = call.principal().token_id,
                                           .indicated_at = call.now()};
    for (const rules::ChargeLine& line : quote.items) {
      record.items.push_back({.description = line.description,
                              .quantity = line.quantity,
                              .unit_pence = line.unit_pence,
                              .amount_pence = line.amount_pence});
    }
    absl::StatusOr<storage::ChargeIndicationRecord> stored =
        storage::InsertChargeIndication(tx, record);
    if (!stored.ok()) return stored.status();
    call.AddObject("charge_indication", stored->id);
    ToProto(*stored, response.mutable_indication());
    return absl::OkStatus();
  });
}

absl::Status ListChargeIndications(CallContext& call, const v1::ListChargeIndicationsRequest& r,
                                   v1::ListChargeIndicationsResponse& response) {
  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    absl::StatusOr<std::vector<storage::ChargeIndicationRecord>> list =
        storage::ListChargeIndications(tx, c.id);
    if (!list.ok()) return list.status();
    for (const auto& i : *list) {
      v1::ChargeIndication* out = response.add_indications();
      ToProto(i, out);
      // Staff token ids are the service's business.
      if (call.principal().role == v1::ROLE_ORGANISATION) out->clear_indicated_by_token_id();
    }
    return absl::OkStatus();
  });
}

}  // namespace

MEDIATION_UNARY_RPC(ChargesService, GetFeeSchedule)

MEDIATION_UNARY_RPC(ChargesService, SetFeeSchedule)

MEDIATION_UNARY_RPC(ChargesService, IndicateCharges)

MEDIATION_UNARY_RPC(ChargesService, ListChargeIndications)

MEDIATION_SERVICE(ChargesService)

}  // namespace mediation
