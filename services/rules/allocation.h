// Mediator allocation rules: which mediators are excluded from a case (with every reason), and
// how the rest are ranked. Pure: the caller gathers the facts, this decides. No gRPC, no database.
#ifndef MEDIATION_SERVICES_RULES_ALLOCATION_H_
#define MEDIATION_SERVICES_RULES_ALLOCATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/allocation.pb.h"
#include "ppa/mediation/v1/common.pb.h"
#include "ppa/mediation/v1/mediator.pb.h"
#include "services/rules/identity.h"
#include "services/rules/london.h"

namespace mediation::rules {

namespace v1 = ::ppa::mediation::v1;

// CMC registered mediators need at least 6 CPD hours a year.
inline constexpr int kMinCpdHours = 6;

// "YYYY-MM-DD".
std::string FormatDay(Day day);

// 1 Monday .. 7 Sunday.
int IsoWeekday(Day day);

struct DayRange {
  Day first = 0;
  Day last = 0;  // Inclusive.
};

struct ConflictFacts {
  int64_t id = 0;
  v1::ConflictKind kind = v1::CONFLICT_KIND_UNSPECIFIED;
  int64_t organisation_id = 0;
  PersonKeys person;        // PERSON conflicts: KeysOf(name, email).
  std::string person_name;  // As recorded, for the "possible conflict" explanation.
  int64_t case_id = 0;
};

// What allocation needs to know about one mediator.
struct MediatorFacts {
  int64_t id = 0;
  std::string name;
  PersonKeys keys;  // KeysOf(name, email).
  bool active = true;
  Day accreditation_expires = 0;  // Last valid day.
  Day insurance_expires = 0;
  int cpd_hours = 0;
  uint32_t nations = 0;      // Bit per v1::Nation value.
  uint32_t professions = 0;  // Bit per v1::Profession the mediator has experience with.
  int max_concurrent_cases = 0;
  int current_cases = 0;        // Open allocations on unfinished cases.
  uint32_t working_days = 0;    // Bit (weekday - 1) for each ISO weekday worked.
  std::vector<DayRange> leave;  // May include periods outside the window.
  std::optional<absl::Time> last_allocated_at;
  // Conflicts that may concern the case (the caller may pass more; only matches count).
  std::vector<ConflictFacts> conflicts;
  bool on_case = false;        // Already holds an open allocation on the case.
  bool declined_case = false;  // Declined an allocation on the case before.
};

struct PartyFacts {
  int64_t id = 0;
  PersonKeys keys;  // KeysOf(name, email).
  v1::Profession profession = v1::PROFESSION_UNSPECIFIED;
};

struct CaseFacts {
  int64_t case_id = 0;
  int64_t organisation_id = 0;
  v1::Nation nation = v1::NATION_UNSPECIFIED;
  std::vector<PartyFacts> parties;
  DayRange window;
  // The mediator already allocated to the other role, if any: the candidate's first available
  // day must be a day they share.
  const MediatorFacts* partner = nullptr;
};

// A match that is not certain (rules/identity.h): the mediator stays a candidate, but only an
// explicit confirmation allocates them.
struct PossibleConflict {
  int64_t conflict_id = 0;  // The declared conflict matched; 0 when the mediator may be the party.
  int64_t party_id = 0;
  std::string detail;  // "declared conflict with "Alex Morgan" may be party 7: same surname..."
};

struct Candidate {
  int64_t id = 0;
  std::vector<PossibleConflict> possible_conflicts;
  std::string name;
  int current_cases = 0;
  Day first_available = 0;
  int relevant_professions = 0;
  std::optional<absl::Time> last_allocated_at;
};

struct Exclusion {
  int64_t id = 0;
  std::string name;
  std::vector<v1::ExclusionReason> reasons;
  std::vector<std::string> details;  // One per reason.
};

struct Proposal {
  std::vector<Candidate> ranked;    // Best first.
  std::vector<Exclusion> excluded;  // In the order the mediators were given.
};

// The first day of `window` on which `m` works and is not on leave, and, with a partner, the
// partner too; nullopt when there is none.
std::optional<Day> FirstAvailableDay(const MediatorFacts& m, const DayRange& window,
                                     const MediatorFacts* partner);

// Every reason `m` may not take the case (empty when eligible). Sets `*first_available` (when
// given) to FirstAvailableDay's answer, which the ranking needs too, and `*possible` (when given)
// to the matches with a party that are not certain enough to exclude.
Exclusion Exclude(const CaseFacts& c, const MediatorFacts& m,
                  std::optional<Day>* first_available = nullptr,
                  std::vector<PossibleConflict>* possible = nullptr);

// Candidates order: fewer current cases, earlier first available day, more relevant
// professions, least recently allocated (never first), lower id. A strict weak order, total on
// distinct ids, so the ranking is reproducible.
bool RanksBefore(const Candidate& a, const Candidate& b);

Proposal ProposeMediators(const CaseFacts& c, const std::vector<MediatorFacts>& mediators);

}  // namespace mediation::rules

#endif  // MEDIATION_SERVICES_RULES_ALLOCATION_H_
