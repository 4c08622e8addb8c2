// Ten years of national volume for scale_bench: a plan of what happened (pure, deterministic for
// a seed) and its writing through the project's own typed storage operations (storage/*.h), in
// large write transactions on a Store opened with the server's master keys and audit key.
//
// What a plan holds, over the ten years before `now`:
// - organisations of every kind and nation, and mediators with accreditation, insurance, CPD,
//   nations, professions, capacity, working patterns (most Monday to Friday, some part-time),
//   leave and a few declared conflicts with organisations (a few inactive, a few expiring);
// - cases referred evenly over the decade, each walked along the lifecycle as the services
//   would (referral, screening answers and the Senior Adviser's decision, two mediators offered
//   and accepting, party availability, sessions booked, the first session starting, the
//   outcome, the follow-up review, closing), as far as `now` lets it go, with side exits:
//   NOT_SUITABLE, WITHDRAWN at any stage before the outcome (its later sessions cancelled) and
//   ON_HOLD. Every step is taken in time order across all cases, so ids, case events and audit
//   rows follow the calendar;
// - sessions (individual meetings per party and joint meetings, video) on the mediators'
//   working days, outside their leave, in London-time slots of 09:30-12:30 and 13:30-16:30,
//   no mediator booked twice at once;
// - one audit row per call that the steps stand for, and, to reach the requested number, rows
//   for the calls not otherwise seeded (notes written and read, referral updates, sign-ins,
//   refused calls), spread over the same decade, all appended through AppendAudit so the
//   chain verifies.
#ifndef MEDIATION_TESTS_BENCH_SCALE_SEED_H_
#define MEDIATION_TESTS_BENCH_SCALE_SEED_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/common.pb.h"
#include "storage/records.h"
#include "storage/store.h"

namespace mediation::testing {

namespace v1 = ::ppa::mediation::v1;

struct ScaleVolume {
  int organisations = 300;
  int mediators = 2000;
  int cases = 20000;
  int64_t sessions = 200000;
  int64_t audit_rows = 2000000;
};

struct OrganisationPlan {
  std::string name;
  v1::OrganisationKind kind = v1::ORGANISATION_KIND_NHS_TRUST;
  v1::Nation nation = v1::NATION_ENGLAND;
  v1::CareSetting care_setting = v1::CARE_SETTING_SECONDARY;
  v1::Sector sector = v1::SECTOR_PUBLIC;
  std::string ods_code;
};

struct MediatorPlan {
  std::string name;
  std::string email;
  bool active = true;
  std::vector<v1::Nation> nations;
  std::vector<v1::Profession> professions;
  int32_t accreditation_expires = 0;  // London days since 1970-01-01.
  int32_t insurance_expires = 0;
  int cpd_hours = 12;
  int max_cases = 20;
  uint32_t working_days = 0;  // Bit w set: works on weekday w (1 Monday .. 7 Sunday).
  std::vector<std::pair<int32_t, int32_t>> leave;  // London days, inclusive.
  int conflict_organisation = -1;                  // An index into organisations, or -1.
};

struct SessionPlan {
  v1::SessionKind kind = v1::SESSION_KIND_JOINT_MEETING;
  int party = -1;     // 0 or 1 for an individual meeting.
  int64_t start = 0;  // UTC seconds.
  int64_t end = 0;
};

struct CasePlan {
  int organisation = 0;
  absl::Time created;
  v1::ConcernLevel concern_level = v1::CONCERN_LEVEL_MID;
  v1::ConcernType concern_type = v1::CONCERN_TYPE_ACTIVE;
  v1::Profession professions[2] = {v1::PROFESSION_DOCTOR, v1::PROFESSION_DOCTOR};
  bool not_suitable = false;
  int mediators[2] = {-1, -1};  // Lead and co-mediator: indexes into mediators.
  std::vector<SessionPlan> sessions;
  v1::Outcome outcome = v1::OUTCOME_NO_AGREEMENT;
  int32_t review_day = 0;
  v1::CaseState final_state = v1::CASE_STATE_REFERRED;  // At `now`.
};

// One call the seed stands for, at its time.
enum class StepKind : uint8_t {
  kRefer,     // CreateReferral.
  kScreen,    // Into SCREENING, and every criterion answered.
  kDecide,    // The Senior Adviser's decision: SUITABLE or NOT_SUITABLE.
  kOffer,     // AllocateMediator; arg: 0 lead, 1 co-mediator.
  kAccept,    // RespondToAllocation; arg as kOffer. The second moves the case on.
  kBook,      // BookSession; arg: the session's index in the plan.
  kStart,     // Maintenance: the first session started (IN_MEDIATION).
  kOutcome,   // RecordOutcome.
  kFollowUp,  // ScheduleFollowUp.
  kClose,     // RecordFollowUpReview (CLOSED).
  kWithdraw,  // WithdrawCase.
  kHold,      // HoldCase.
};

struct StepPlan {
  int64_t at = 0;  // Micros since the epoch.
  int32_t case_index = 0;
  StepKind kind = StepKind::kRefer;
  int16_t arg = 0;
};

struct ScalePlan {
  absl::Time now;
  absl::Time start;  // Ten years before `now`.
  std::vector<OrganisationPlan> organisations;
  std::vector<MediatorPlan> mediators;
  std::vector<CasePlan> cases;
  std::vector<StepPlan> steps;  // In time order.
  int64_t sessions = 0;
  std::map<v1::CaseState, int64_t> cases_by_state;  // The final states.
};

// The plan for `volume` at `now`. INVALID_ARGUMENT when the volume cannot be planned (fewer than
// two mediators, sessions but no case that reaches booking, ...).
absl::StatusOr<ScalePlan> PlanNationalVolume(const ScaleVolume& volume, absl::Time now,
                                             uint64_t seed);

// The tokens the seeded calls are attributed to (issued through the API beforehand).
struct SeedTokens {
  int64_t admin = 0;
  int64_t case_support = 0;
  int64_t senior_adviser = 0;
};

struct SeedReport {
  absl::Duration registry_time;  // Organisations and mediators.
  absl::Duration cases_time;     // Every step, and the audit rows.
  int64_t transactions = 0;
  int64_t audit_rows = 0;  // Appended by the seed.
  std::map<v1::CaseState, std::vector<int64_t>> case_ids_by_state;
  std::vector<int64_t> organisation_ids;
  std::vector<int64_t> mediator_ids;
};

// Writes `plan` through `store` (which must hold the server's master keys and audit key), with at
// most about `batch` audit rows per transaction. Returns the first failure.
absl::StatusOr<SeedReport> WritePlan(storage::Store& store, const ScalePlan& plan,
                                     const ScaleVolume& volume, const SeedTokens& tokens,
                                     int batch);

}  // namespace mediation::testing

#endif  // MEDIATION_TESTS_BENCH_SCALE_SEED_H_
