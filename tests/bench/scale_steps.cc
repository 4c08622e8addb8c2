// The lifecycle steps of the seed's cases (tests/bench/scale_seeder.h): each writes what the
// service call it stands for would, through storage/*.h and MoveCase, and its audit rows.
#include "absl/strings/str_cat.h"
#include "services/agreement_content.h"
#include "services/case_transitions.h"
#include "services/referral_validation.h"
#include "services/rules/london.h"
#include "services/rules/screening.h"
#include "storage/agreements.h"
#include "storage/allocations.h"
#include "storage/cases.h"
#include "storage/screening.h"
#include "storage/sessions.h"
#include "tests/bench/scale_seeder.h"

namespace mediation::testing::scale {

absl::Status Seeder::Step(storage::Tx& tx, const StepPlan& step) {
  const absl::Time at = absl::FromUnixMicros(step.at);
  const int index = step.case_index;
  Case& c = cases_[index];
  const CasePlan& plan = plan_.cases[index];
  const std::string objects = absl::StrCat("case:", c.record.id);
  switch (step.kind) {
    case StepKind::kRefer:
      return Refer(tx, index, at);
    case StepKind::kScreen:
      return Screen(tx, index, at);
    case StepKind::kDecide:
      return Decide(tx, index, at);
    case StepKind::kOffer: {
      const int64_t mediator = report_.mediator_ids[plan.mediators[step.arg]];
      absl::StatusOr<storage::AllocationRecord> a = storage::InsertAllocation(
          tx, {.case_id = c.record.id,
               .mediator_id = mediator,
               .role = step.arg == 0 ? v1::ALLOCATION_ROLE_LEAD : v1::ALLOCATION_ROLE_CO_MEDIATOR,
               .state = v1::ALLOCATION_STATE_PENDING,
               .open = true,
               .offered_at = at,
               .offered_by_token_id = tokens_.case_support,
               .window_first_day = rules::LondonDay(at),
               .window_last_day = rules::LondonDay(at) + 90});
      if (!a.ok()) return a.status();
      c.allocations[step.arg] = a->id;
      return Audit(tx, at, v1::ROLE_CASE_SUPPORT, "AllocationService/AllocateMediator",
                   absl::StrCat(objects, " mediator:", mediator, " allocation:", a->id));
    }
    case StepKind::kAccept: {
      storage::AllocationRecord a{.id = c.allocations[step.arg],
                                  .case_id = c.record.id,
                                  .state = v1::ALLOCATION_STATE_ACCEPTED,
                                  .open = true,
                                  .responded_at = at};
      if (absl::Status s = storage::RecordAllocationResponse(tx, a); !s.ok()) return s;
      if (++c.accepted == 2) {
        if (absl::Status s = Move(tx, c,
                                  {.to = v1::CASE_STATE_MEDIATORS_ALLOCATED,
                                   .at = at,
                                   .reason = "every mediator the case needs accepted"});
            !s.ok()) {
          return s;
        }
      }
      return Audit(tx, at, v1::ROLE_MEDIATOR, "AllocationService/RespondToAllocation",
                   absl::StrCat("allocation:", a.id, " ", objects));
    }
    case StepKind::kBook:
      return Book(tx, index, step.arg, at);
    case StepKind::kStart:
      if (absl::Status s = Move(
              tx, c,
              {.to = v1::CASE_STATE_IN_MEDIATION, .at = at, .reason = "the first session started"});
          !s.ok()) {
        return s;
      }
      return Audit(tx, at, v1::ROLE_UNSPECIFIED, "server: first session started", objects);
    case StepKind::kOutcome:
      return Outcome(tx, index, at);
    case StepKind::kFollowUp:
      if (absl::Status s = Move(tx, c,
                                {.to = v1::CASE_STATE_FOLLOW_UP,
                                 .at = at,
                                 .token_id = tokens_.case_support,
                                 .reason = "follow-up review scheduled"});
          !s.ok()) {
        return s;
      }
      if (absl::Status s = storage::SetReviewDate(tx, c.record.id, plan.review_day); !s.ok()) {
        return s;
      }
      return Audit(tx, at, v1::ROLE_CASE_SUPPORT, "AgreementService/ScheduleFollowUp", objects);
    case StepKind::kClose:
      if (absl::Status s = Move(tx, c,
                                {.to = v1::CASE_STATE_CLOSED,
                                 .at = at,
                                 .token_id = tokens_.case_support,
                                 .reason = "follow-up review held"});
          !s.ok()) {
        return s;
      }
      if (absl::Status s = storage::SetReviewed(tx, c.record.id, at,
                                                "Both parties say the agreement is holding.");
          !s.ok()) {
        return s;
      }
      return Audit(tx, at, v1::ROLE_CASE_SUPPORT, "AgreementService/RecordFollowUpReview", objects);
    case StepKind::kWithdraw:
      if (absl::Status s = Move(tx, c,
                                {.to = v1::CASE_STATE_WITHDRAWN,
                                 .at = at,
                                 .token_id = tokens_.case_support,
                                 .reason = "withdrawn",
                                 .withdrawn_by = index % 2 == 0 ? v1::WITHDRAWN_BY_ORGANISATION
                                                                : v1::WITHDRAWN_BY_PARTY,
                                 .withdrawal_reason = "The parties resolved matters informally."});
          !s.ok()) {
        return s;
      }
      return Audit(tx, at, v1::ROLE_CASE_SUPPORT, "CaseService/WithdrawCase", objects);
    case StepKind::kHold:
      if (absl::Status s = Move(tx, c,
                                {.to = v1::CASE_STATE_ON_HOLD,
                                 .at = at,
                                 .token_id = tokens_.case_support,
                                 .reason = "on hold",
                                 .held_from_state = c.record.state,
                                 .hold_reason = "A party is on sick leave."});
          !s.ok()) {
        return s;
      }
      return Audit(tx, at, v1::ROLE_CASE_SUPPORT, "CaseService/HoldCase", objects);
  }
  return absl::InternalError("unknown step");
}

absl::Status Seeder::Refer(storage::Tx& tx, int index, absl::Time at) {
  const CasePlan& plan = plan_.cases[index];
  const int64_t org = report_.organisation_ids[plan.organisation];
  v1::CreateReferralRequest r;
  r.mutable_referrer()->set_name("Sam Okafor");
  r.mutable_referrer()->set_email(
      absl::StrCat("referrals.", plan.organisation + 1, "@org.example.nhs.uk"));
  r.mutable_referrer()->set_job_title("Clinical Director");
  r.set_summary(absl::StrCat("Breakdown in working relationship (referral ", index + 1,
                             "): disagreements over rotas and handovers have escalated."));
  r.set_concern_level(plan.concern_level);
  r.set_concern_type(plan.concern_type);
  for (int k = 0; k < 2; ++k) {
    v1::Party* p = r.add_parties();
    p->mutable_contact()->set_name(absl::StrCat(k == 0 ? "Dr Alex Morgan " : "Jo Reed ", index));
    p->mutable_contact()->set_email(
        absl::StrCat("party", k + 1, ".case", index + 1, "@staff.example.nhs.uk"));
    p->set_profession(plan.professions[k]);
    if (index % 7 == k) p->set_accessibility_needs("Step-free access");
  }
  Validator v;
  storage::CaseRecord c;
  ValidateReferralDetails(v,
                          {r.referrer(), r.summary(), r.concern_level(), r.concern_type(),
                           r.parties(), r.linked_case_references()},
                          c);
  if (!v.ok()) return v.status();
  c.organisation_id = org;
  c.state = v1::CASE_STATE_REFERRED;
  c.created_at = at;
  c.updated_at = at;
  c.created_by_token_id = tokens_.case_support;
  absl::StatusOr<storage::CaseRecord> stored = storage::InsertCase(tx, c);
  if (!stored.ok()) return stored.status();
  stored->summary.clear();
  last_case_id_ = std::max(last_case_id_, stored->id);
  cases_[index].record = *std::move(stored);
  return Audit(tx, at, v1::ROLE_CASE_SUPPORT, "ReferralService/CreateReferral",
               absl::StrCat("organisation:", org, " case:", cases_[index].record.id));
}

absl::Status Seeder::Screen(storage::Tx& tx, int index, absl::Time at) {
  Case& c = cases_[index];
  const CasePlan& plan = plan_.cases[index];
  if (absl::Status s = Move(tx, c,
                            {.to = v1::CASE_STATE_SCREENING,
                             .at = at,
                             .token_id = tokens_.case_support,
                             .reason = "screening started"});
      !s.ok()) {
    return s;
  }
  auto answer = [&](v1::Criterion criterion, int64_t party) -> absl::Status {
    const bool fails = plan.not_suitable && criterion == v1::CRITERION_NO_FORMAL_PROCESS;
    absl::StatusOr<storage::ScreeningAnswerRecord> stored = storage::InsertScreeningAnswer(
        tx, {.case_id = c.record.id,
             .criterion = criterion,
             .party_id = party,
             .answer = fails ? v1::CRITERION_ANSWER_NOT_MET : v1::CRITERION_ANSWER_MET,
             .note = fails ? "A grievance about the same events is under way." : "",
             .recorded_by_token_id = tokens_.case_support,
             .recorded_at = at});
    if (!stored.ok()) return stored.status();
    return Audit(tx, at, v1::ROLE_CASE_SUPPORT, "ScreeningService/RecordScreeningAnswer",
                 absl::StrCat("case:", c.record.id,
                              party == 0 ? "" : " party:", party == 0 ? "" : absl::StrCat(party)));
  };
  for (v1::Criterion per_party :
       {v1::CRITERION_JOINT_PROBLEM, v1::CRITERION_WILLING, v1::CRITERION_FIT_TO_ATTEND}) {
    for (const storage::PartyRecord& p : c.record.parties) {
      if (absl::Status s = answer(per_party, p.id); !s.ok()) return s;
    }
  }
  for (v1::Criterion per_case : {v1::CRITERION_NOT_CONTRACTUAL, v1::CRITERION_NO_FORMAL_PROCESS,
                                 v1::CRITERION_NO_RELATIONSHIP}) {
    if (absl::Status s = answer(per_case, 0); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Seeder::Decide(storage::Tx& tx, int index, absl::Time at) {
  Case& c = cases_[index];
  const CasePlan& plan = plan_.cases[index];
  storage::ScreeningDecisionRecord d{
      .case_id = c.record.id,
      .evaluated = plan.not_suitable ? v1::SUITABILITY_NOT_SUITABLE : v1::SUITABILITY_SUITABLE,
      .decision = plan.not_suitable ? v1::SUITABILITY_NOT_SUITABLE : v1::SUITABILITY_SUITABLE,
      .high_concern_confirmed = plan.concern_level == v1::CONCERN_LEVEL_HIGH,
      .decided_by_token_id = tokens_.senior_adviser,
      .decided_at = at};
  if (plan.not_suitable) {
    d.failed_criteria.push_back(v1::CRITERION_NO_FORMAL_PROCESS);
    d.signposting.emplace_back(rules::RuleFor(v1::CRITERION_NO_FORMAL_PROCESS).signposting);
  }
  if (absl::Status s = storage::InsertScreeningDecision(tx, d).status(); !s.ok()) return s;
  if (absl::Status s =
          Move(tx, c,
               {.to = plan.not_suitable ? v1::CASE_STATE_NOT_SUITABLE : v1::CASE_STATE_SUITABLE,
                .at = at,
                .token_id = tokens_.senior_adviser,
                .reason = "screening decision confirmed"});
      !s.ok()) {
    return s;
  }
  return Audit(tx, at, v1::ROLE_SENIOR_ADVISER, "ScreeningService/RecordScreeningDecision",
               absl::StrCat("case:", c.record.id));
}

absl::Status Seeder::Book(storage::Tx& tx, int index, int k, absl::Time at) {
  Case& c = cases_[index];
  const CasePlan& plan = plan_.cases[index];
  const SessionPlan& planned = plan.sessions[k];
  const std::string objects = absl::StrCat("case:", c.record.id);
  if (k == 0 && Open(plan.final_state)) {
    // The parties' availability, from now until a fortnight after the last session: weekdays,
    // 09:00 to 17:00 London time.
    std::vector<std::pair<int64_t, int64_t>> windows;
    const int32_t last = rules::LondonDay(absl::FromUnixSeconds(plan.sessions.back().end)) + 14;
    for (int32_t day = rules::LondonDay(at); day <= last; ++day) {
      if ((day + 3) % 7 >= 5) continue;  // Saturday and Sunday.
      windows.emplace_back(rules::LondonToUtc(day, 540), rules::LondonToUtc(day, 1020));
    }
    for (const storage::PartyRecord& p : c.record.parties) {
      if (absl::Status s = storage::ReplacePartyAvailability(tx, p.id, windows); !s.ok()) return s;
      if (absl::Status s =
              Audit(tx, at, v1::ROLE_CASE_SUPPORT, "SchedulingService/SetPartyAvailability",
                    absl::StrCat(objects, " party:", p.id));
          !s.ok()) {
        return s;
      }
    }
  }
  std::vector<storage::BookingRecord> bookings;
  for (int m : plan.mediators) {
    bookings.push_back({.resource = "mediator",
                        .resource_id = report_.mediator_ids[m],
                        .start_at = planned.start,
                        .end_at = planned.end});
  }
  int64_t party_id = 0;
  for (size_t p = 0; p < c.record.parties.size(); ++p) {
    if (planned.party >= 0 && static_cast<size_t>(planned.party) != p) continue;
    if (planned.party >= 0) party_id = c.record.parties[p].id;
    bookings.push_back({.resource = "party",
                        .resource_id = c.record.parties[p].id,
                        .start_at = planned.start,
                        .end_at = planned.end});
  }
  storage::SessionRecord s{
      .case_id = c.record.id,
      .kind = planned.kind,
      .mode = v1::SESSION_MODE_VIDEO,
      .party_id = party_id,
      .start_at = planned.start,
      .end_at = planned.end,
      .state = v1::SESSION_STATE_SCHEDULED,
      .video_link = absl::StrCat("https://video.example.nhs.uk/m/", c.record.id, "-", k + 1),
      .created_at = at,
      .updated_at = at,
      .bookings = std::move(bookings)};
  absl::StatusOr<storage::SessionRecord> stored = storage::InsertSession(
      tx, s, {.at = at, .token_id = tokens_.case_support, .change = "booked"});
  if (!stored.ok()) return stored.status();
  if (c.record.state == v1::CASE_STATE_MEDIATORS_ALLOCATED) {
    if (absl::Status st = Move(tx, c,
                               {.to = v1::CASE_STATE_SESSIONS_SCHEDULED,
                                .at = at,
                                .token_id = tokens_.case_support,
                                .reason = "first session booked"});
        !st.ok()) {
      return st;
    }
  }
  return Audit(tx, at, v1::ROLE_CASE_SUPPORT, "SchedulingService/BookSession",
               absl::StrCat(objects, " session:", stored->id));
}

absl::Status Seeder::Outcome(storage::Tx& tx, int index, absl::Time at) {
  Case& c = cases_[index];
  const CasePlan& plan = plan_.cases[index];
  const std::string objects = absl::StrCat("case:", c.record.id);
  if (HasAgreement(plan.outcome)) {
    v1::AgreementContent content;
    content.set_free_text(
        "We will meet fortnightly to plan the rota, hand over in writing at the end of each "
        "shift, and ask the clinical director to facilitate if either of us feels it is not "
        "working.");
    const std::string bytes = CanonicalAgreementContent(content);
    absl::StatusOr<storage::AgreementVersionRecord> version =
        storage::InsertAgreementVersion(tx, {.case_id = c.record.id,
                                             .content = bytes,
                                             .content_hash = AgreementContentHash(bytes),
                                             .created_at = at - absl::Hours(3),
                                             .created_by_token_id = tokens_.case_support});
    if (!version.ok()) return version.status();
    if (absl::Status s = Audit(tx, at - absl::Hours(3), v1::ROLE_MEDIATOR,
                               "AgreementService/DraftAgreement", objects);
        !s.ok()) {
      return s;
    }
    for (const storage::PartyRecord& p : c.record.parties) {
      if (absl::Status s = storage::InsertSignature(tx, version->id,
                                                    {.party_id = p.id,
                                                     .content_hash = version->content_hash,
                                                     .signed_at = at - absl::Hours(2),
                                                     .on_paper = true,
                                                     .consent_to_share = true});
          !s.ok()) {
        return s;
      }
      if (absl::Status s =
              Audit(tx, at - absl::Hours(2), v1::ROLE_MEDIATOR, "AgreementService/SignAgreement",
                    absl::StrCat(objects, " party:", p.id));
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = storage::FinaliseAgreementVersion(tx, version->id, at - absl::Hours(2));
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = Move(tx, c,
                            {.to = v1::CASE_STATE_OUTCOME_RECORDED,
                             .at = at,
                             .reason = absl::StrCat("outcome: ", v1::Outcome_Name(plan.outcome))});
      !s.ok()) {
    return s;
  }
  if (absl::Status s = storage::SetOutcome(tx, c.record.id, plan.outcome, at); !s.ok()) return s;
  return Audit(tx, at, v1::ROLE_MEDIATOR, "AgreementService/RecordOutcome", objects);
}

}  // namespace mediation::testing::scale
