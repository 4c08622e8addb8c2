// WritePlan (tests/bench/scale_seed.h): the plan written through storage/*.h and the domain's own
// MoveCase, step by step in time order, many steps per transaction; the steps themselves are in
// scale_steps.cc.
#include "tests/bench/scale_seed.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/convert.h"
#include "services/mediator_validation.h"
#include "storage/audit.h"
#include "storage/mediators.h"
#include "storage/organisations.h"
#include "tests/bench/scale_seeder.h"

namespace mediation::testing {
namespace scale {
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

}  // namespace

absl::Status Seeder::Audit(storage::Tx& tx, absl::Time at, v1::Role role, absl::string_view method,
                           std::string objects, const char* outcome) {
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

}  // namespace scale

absl::StatusOr<SeedReport> WritePlan(storage::Store& store, const ScalePlan& plan,
                                     const ScaleVolume& volume, const SeedTokens& tokens,
                                     int batch) {
  return scale::Seeder(store, plan, volume, tokens, batch).Run();
}

}  // namespace mediation::testing
