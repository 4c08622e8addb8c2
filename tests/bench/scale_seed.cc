// WritePlan (tests/bench/scale_seed.h): the plan written through storage/*.h and the domain's own
// MoveCase, step by step in time order, many steps per transaction.
#include "tests/bench/scale_seed.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/agreement_content.h"
#include "services/case_transitions.h"
#include "services/convert.h"
#include "services/mediator_validation.h"
#include "services/referral_validation.h"
#include "services/rules/london.h"
#include "services/rules/screening.h"
#include "storage/agreements.h"
#include "storage/allocations.h"
#include "storage/audit.h"
#include "storage/cases.h"
#include "storage/mediators.h"
#include "storage/organisations.h"
#include "storage/screening.h"
#include "storage/sessions.h"

namespace mediation::testing {
namespace {

constexpr char kService[] = "/ppa.mediation.v1.";

// Calls no step stands for, drawn for the audit rows beyond the steps' own.
struct OtherCall {
  const char* method;
  v1::Role role;
  const char* object;  // The kind of object it names ("case", "mediator").
  const char* outcome;
};
constexpr OtherCall kOtherCalls[] = {
    {"NotesService/AddNote", v1::ROLE_MEDIATOR, "case", "OK"},
    {"NotesService/AddNote", v1::ROLE_MEDIATOR, "case", "OK"},
    {"NotesService/GetNote", v1::ROLE_MEDIATOR, "case", "OK"},
    {"ReferralService/UpdateReferral", v1::ROLE_CASE_SUPPORT, "case", "OK"},
    {"CaseService/IssuePartySignInLink", v1::ROLE_CASE_SUPPORT, "case", "OK"},
    {"IdentityService/SignIn", v1::ROLE_PARTY, "case", "OK"},
    {"ChargesService/IndicateCharges", v1::ROLE_SENIOR_ADVISER, "case", "OK"},
    {"NotificationService/ResendNotification", v1::ROLE_CASE_SUPPORT, "case", "OK"},
    {"MediatorService/UpdateMediator", v1::ROLE_ADMIN, "mediator", "OK"},
    {"NotesService/GetNote", v1::ROLE_CASE_SUPPORT, "case", "PERMISSION_DENIED"},
    {"SchedulingService/BookSession", v1::ROLE_CASE_SUPPORT, "case", "FAILED_PRECONDITION"},
    {"ReferralService/GetCase", v1::ROLE_ORGANISATION, "case", "NOT_FOUND"},
};

bool HasAgreement(v1::Outcome o) {
  return o == v1::OUTCOME_FULL_AGREEMENT || o == v1::OUTCOME_PARTIAL_AGREEMENT;
}

bool Open(v1::CaseState s) {
  return s != v1::CASE_STATE_CLOSED && s != v1::CASE_STATE_NOT_SUITABLE &&
         s != v1::CASE_STATE_WITHDRAWN;
}

// The audit rows a step writes (one per call it stands for).
int64_t RowsOf(const StepPlan& step, const CasePlan& c) {
  switch (step.kind) {
    case StepKind::kScreen:
      return 9;  // Three criteria per party, three per case.
    case StepKind::kBook:
      return step.arg == 0 && Open(c.final_state) ? 3 : 1;
    case StepKind::kOutcome:
      return HasAgreement(c.outcome) ? 4 : 1;
    default:
      return 1;
  }
}

class Seeder {
 public:
  Seeder(storage::Store& store, const ScalePlan& plan, const ScaleVolume& volume,
         const SeedTokens& tokens, int batch)
      : store_(store),
        plan_(plan),
        tokens_(tokens),
        batch_(std::max(batch, 10)),
        audit_left_(volume.audit_rows),
        cases_(plan.cases.size()),
        random_(20261207) {}

  absl::StatusOr<SeedReport> Run() {
    absl::Time t0 = absl::Now();
    if (absl::Status s = WriteRegistry(); !s.ok()) return s;
    report_.registry_time = absl::Now() - t0;
    t0 = absl::Now();
    if (absl::Status s = WriteSteps(); !s.ok()) return s;
    report_.cases_time = absl::Now() - t0;
    for (const Case& c : cases_) report_.case_ids_by_state[c.record.state].push_back(c.record.id);
    return std::move(report_);
  }

 private:
  struct Case {
    storage::CaseRecord record;  // Without its texts.
    int64_t allocations[2] = {0, 0};
    int accepted = 0;
  };

  // Runs `fn` in one write transaction; the seed's own bookkeeping cannot be undone, so a
  // transaction the store would run again (a lost serialisation race) is a failure.
  absl::Status Transaction(const storage::TxFn& fn) {
    int runs = 0;
    ++report_.transactions;
    return store_.Write([&](storage::Tx& tx) -> absl::Status {
      if (++runs > 1) {
        return absl::AbortedError("a seeding transaction was run twice: is anything else writing?");
      }
      return fn(tx);
    });
  }

  absl::Status Audit(storage::Tx& tx, absl::Time at, v1::Role role, absl::string_view method,
                     std::string objects, const char* outcome = "OK") {
    if (audit_left_ <= 0) return absl::OkStatus();
    --audit_left_;
    ++report_.audit_rows;
    ++audit_in_tx_;
    int64_t token = 0;
    switch (role) {
      case v1::ROLE_ADMIN:
        token = tokens_.admin;
        break;
      case v1::ROLE_CASE_SUPPORT:
        token = tokens_.case_support;
        break;
      case v1::ROLE_SENIOR_ADVISER:
        token = tokens_.senior_adviser;
        break;
      default:
        break;  // Mediators' and parties' own tokens are not seeded.
    }
    // A server run's calls share a prefix; say a restart a month.
    const int64_t run = absl::ToUnixSeconds(at) / (30 * 86400);
    storage::AuditRecord row{
        .at = at,
        .call_id = absl::StrFormat("%08x-%06x", static_cast<uint32_t>(run * 2654435761u),
                                   ++call_counter_ % 0xffffff),
        .token_id = token,
        .role = role,
        .method = absl::StrCat(kService, method),
        .objects = std::move(objects),
        .outcome = outcome,
        .transport = "grpc"};
    if (absl::StartsWith(method, "server:")) {
      row.call_id = "maintenance";
      row.method = std::string(method);
      row.token_id = 0;
    }
    return storage::AppendAudit(tx, row).status();
  }

  absl::Status WriteRegistry();
  absl::Status WriteMediator(storage::Tx& tx, const MediatorPlan& m, absl::Time at);
  absl::Status WriteSteps();
  absl::Status OtherCalls(storage::Tx& tx, int64_t rows, absl::Time at);
  absl::Status Step(storage::Tx& tx, const StepPlan& step);
  absl::Status Refer(storage::Tx& tx, int index, absl::Time at);
  absl::Status Screen(storage::Tx& tx, int index, absl::Time at);
  absl::Status Decide(storage::Tx& tx, int index, absl::Time at);
  absl::Status Book(storage::Tx& tx, int index, int k, absl::Time at);
  absl::Status Outcome(storage::Tx& tx, int index, absl::Time at);
  absl::Status Move(storage::Tx& tx, Case& c, storage::StateChangeRecord change) {
    return MoveCase(tx, c.record, change);
  }

  storage::Store& store_;
  const ScalePlan& plan_;
  const SeedTokens tokens_;
  const int batch_;
  int64_t audit_left_;
  int64_t audit_in_tx_ = 0;
  uint64_t call_counter_ = 0;
  size_t reported_tenths_ = 0;
  int64_t last_case_id_ = 0;
  std::vector<Case> cases_;
  std::mt19937_64 random_;
  SeedReport report_;
};

absl::Status Seeder::WriteRegistry() {
  const absl::Time opened = plan_.start - absl::Hours(24 * 30);
  for (size_t from = 0; from < plan_.organisations.size(); from += batch_) {
    absl::Status s = Transaction([&](storage::Tx& tx) -> absl::Status {
      for (size_t i = from; i < std::min(plan_.organisations.size(), from + batch_); ++i) {
        const OrganisationPlan& o = plan_.organisations[i];
        const absl::Time at = opened + absl::Minutes(static_cast<int64_t>(i));
        absl::StatusOr<storage::OrganisationRecord> stored = storage::InsertOrganisation(
            tx, {.name = o.name,
                 .kind = o.kind,
                 .nation = o.nation,
                 .care_setting = o.care_setting,
                 .sector = o.sector,
                 .ods_code = o.ods_code,
                 .contact = {.name = "Priya Shah",
                             .email = absl::StrCat("mediation.", i + 1, "@org.example.nhs.uk")},
                 .created_at = at});
        if (!stored.ok()) return stored.status();
        report_.organisation_ids.push_back(stored->id);
        if (absl::Status a =
                Audit(tx, at, v1::ROLE_CASE_SUPPORT, "OrganisationService/RegisterOrganisation",
                      absl::StrCat("organisation:", stored->id));
            !a.ok()) {
          return a;
        }
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  const int per_tx = std::max(batch_ / 10, 1);
  for (size_t from = 0; from < plan_.mediators.size(); from += per_tx) {
    absl::Status s = Transaction([&](storage::Tx& tx) -> absl::Status {
      for (size_t i = from; i < std::min(plan_.mediators.size(), from + per_tx); ++i) {
        const absl::Time at = opened + absl::Hours(24) + absl::Minutes(static_cast<int64_t>(i));
        if (absl::Status m = WriteMediator(tx, plan_.mediators[i], at); !m.ok()) return m;
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Seeder::WriteMediator(storage::Tx& tx, const MediatorPlan& m, absl::Time at) {
  v1::Mediator in;
  in.mutable_contact()->set_name(m.name);
  in.mutable_contact()->set_email(m.email);
  v1::Accreditation* a = in.mutable_accreditation();
  a->set_body(report_.mediator_ids.size() % 3 == 0
                  ? v1::ACCREDITATION_BODY_COLLEGE_OF_MEDIATORS
                  : v1::ACCREDITATION_BODY_CIVIL_MEDIATION_COUNCIL);
  a->set_level("Registered Mediator");
  a->set_registration_number(absl::StrCat("REG-", report_.mediator_ids.size() + 1));
  DayToProto(m.accreditation_expires, a->mutable_expires_on());
  DayToProto(m.insurance_expires, in.mutable_insurance_expires_on());
  in.set_cpd_hours_last_12_months(m.cpd_hours);
  for (v1::Nation n : m.nations) in.add_nations(n);
  in.add_languages("English");
  if (std::find(m.nations.begin(), m.nations.end(), v1::NATION_WALES) != m.nations.end()) {
    in.add_languages("Welsh");
  }
  for (v1::Profession p : m.professions) {
    v1::ProfessionExperience* e = in.add_experience();
    e->set_profession(p);
    e->set_cases(static_cast<int32_t>(random_() % 40));
  }
  in.set_max_concurrent_cases(m.max_cases);
  in.set_active(m.active);
  absl::StatusOr<storage::MediatorRecord> record = ValidateMediatorProfile(in);
  if (!record.ok()) return record.status();
  record->created_at = at;
  record->updated_at = at;
  absl::StatusOr<storage::MediatorRecord> stored = storage::InsertMediator(tx, *record);
  if (!stored.ok()) return stored.status();
  const int64_t id = stored->id;
  report_.mediator_ids.push_back(id);
  const std::string objects = absl::StrCat("mediator:", id);
  if (absl::Status s = Audit(tx, at, v1::ROLE_ADMIN, "MediatorService/RegisterMediator", objects);
      !s.ok()) {
    return s;
  }
  std::vector<storage::WorkingHoursRecord> hours;
  for (int w = 1; w <= 7; ++w) {
    if (m.working_days & (1u << w))
      hours.push_back({.weekday = w, .start_minute = 540, .end_minute = 1020});
  }
  if (absl::Status s = storage::ReplaceWorkingHours(tx, id, hours, 0).status(); !s.ok()) return s;
  if (absl::Status s = Audit(tx, at, v1::ROLE_ADMIN, "MediatorService/SetWorkingPattern", objects);
      !s.ok()) {
    return s;
  }
  for (const auto& [first, last] : m.leave) {
    absl::StatusOr<storage::LeaveRecord> leave = storage::InsertLeave(
        tx, {.mediator_id = id, .first_day = first, .last_day = last, .note = "Annual leave"}, at);
    if (!leave.ok()) return leave.status();
    if (absl::Status s = Audit(tx, at, v1::ROLE_ADMIN, "MediatorService/AddLeave", objects);
        !s.ok()) {
      return s;
    }
  }
  if (m.conflict_organisation >= 0) {
    absl::StatusOr<storage::ConflictRecord> conflict = storage::InsertConflict(
        tx, {.mediator_id = id,
             .kind = v1::CONFLICT_KIND_ORGANISATION,
             .organisation_id = report_.organisation_ids[m.conflict_organisation],
             .source = v1::CONFLICT_SOURCE_DECLARED,
             .note = "Worked there until recently",
             .recorded_at = at,
             .recorded_by_token_id = tokens_.admin});
    if (!conflict.ok()) return conflict.status();
    if (absl::Status s = Audit(tx, at, v1::ROLE_ADMIN, "MediatorService/DeclareConflict", objects);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Seeder::WriteSteps() {
  // The rows beyond the steps' own are spread evenly over the steps.
  int64_t own = 0;
  for (const StepPlan& s : plan_.steps) own += RowsOf(s, plan_.cases[s.case_index]);
  const int64_t others = std::max<int64_t>(0, audit_left_ - own);
  const auto steps = static_cast<int64_t>(plan_.steps.size());
  size_t next = 0;
  while (next < plan_.steps.size()) {
    absl::Status s = Transaction([&](storage::Tx& tx) -> absl::Status {
      audit_in_tx_ = 0;
      size_t i = next;
      for (; i < plan_.steps.size() && audit_in_tx_ < batch_; ++i) {
        const auto j = static_cast<int64_t>(i);
        const int64_t extra = others * (j + 1) / steps - others * j / steps;
        if (absl::Status o = OtherCalls(tx, extra, absl::FromUnixMicros(plan_.steps[i].at));
            !o.ok()) {
          return o;
        }
        if (absl::Status st = Step(tx, plan_.steps[i]); !st.ok()) {
          return absl::Status(st.code(), absl::StrCat("step ", i, ": ", st.message()));
        }
      }
      next = i;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    if (next * 10 / plan_.steps.size() > reported_tenths_) {
      reported_tenths_ = next * 10 / plan_.steps.size();
      std::fprintf(stderr, "seeded %zu of %zu steps, %lld audit rows\n", next, plan_.steps.size(),
                   static_cast<long long>(report_.audit_rows));
    }
  }
  // Whatever is left (when the steps wrote fewer rows than counted), up to now.
  while (audit_left_ > 0) {
    absl::Status s = Transaction([&](storage::Tx& tx) -> absl::Status {
      return OtherCalls(tx, std::min<int64_t>(audit_left_, batch_), plan_.now - absl::Minutes(1));
    });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Seeder::OtherCalls(storage::Tx& tx, int64_t rows, absl::Time at) {
  const int64_t last_case = last_case_id_;
  for (int64_t r = 0; r < rows; ++r) {
    const OtherCall& call = kOtherCalls[random_() % std::size(kOtherCalls)];
    std::string objects;
    if (std::string_view(call.object) == "mediator" || last_case == 0) {
      objects =
          absl::StrCat("mediator:", report_.mediator_ids[random_() % report_.mediator_ids.size()]);
    } else {
      objects = absl::StrCat("case:", 1 + static_cast<int64_t>(random_() % last_case));
    }
    if (absl::Status s = Audit(tx, at - absl::Seconds(rows - r), call.role, call.method,
                               std::move(objects), call.outcome);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

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

}  // namespace

absl::StatusOr<SeedReport> WritePlan(storage::Store& store, const ScalePlan& plan,
                                     const ScaleVolume& volume, const SeedTokens& tokens,
                                     int batch) {
  return Seeder(store, plan, volume, tokens, batch).Run();
}

}  // namespace mediation::testing
