// The suitability screening rules: one table of the six criteria with their signposting, and one
// pure function from the answers in force to a decision. No gRPC, no database.
#ifndef MEDIATION_SERVICES_RULES_SCREENING_H_
#define MEDIATION_SERVICES_RULES_SCREENING_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ppa/mediation/v1/common.pb.h"

namespace mediation::rules {

namespace v1 = ::ppa::mediation::v1;

enum class CriterionScope { kPerParty, kPerCase };

struct CriterionRule {
  v1::Criterion criterion;
  CriterionScope scope;
  absl::string_view description;  // When the criterion is met.
  absl::string_view signposting;  // Where to turn when it is not.
};

// The six criteria, in the order they are evaluated and reported.
std::span<const CriterionRule> CriterionRules();

// REQUIRES: `criterion` is one of the six.
const CriterionRule& RuleFor(v1::Criterion criterion);

// The answer in force for one criterion (and, for per-party criteria, one party).
struct RecordedAnswer {
  v1::Criterion criterion = v1::CRITERION_UNSPECIFIED;
  int64_t party_id = 0;  // 0 for per-case criteria.
  v1::CriterionAnswer answer = v1::CRITERION_ANSWER_UNSPECIFIED;
  int64_t answer_id = 0;
};

struct ScreeningInput {
  std::vector<int64_t> party_ids;  // Every party of the case, in order.
  v1::ConcernLevel concern_level = v1::CONCERN_LEVEL_UNSPECIFIED;
  std::vector<RecordedAnswer> answers;  // Only answers in force; at most one per slot.
};

// One slot of the screening: a criterion, and the party for per-party criteria. `answer` is
// UNSPECIFIED when nobody has answered it yet.
struct CriterionOutcome {
  v1::Criterion criterion = v1::CRITERION_UNSPECIFIED;
  int64_t party_id = 0;
  v1::CriterionAnswer answer = v1::CRITERION_ANSWER_UNSPECIFIED;
  int64_t answer_id = 0;

  friend bool operator==(const CriterionOutcome&, const CriterionOutcome&) = default;
};

struct ScreeningResult {
  v1::Suitability decision = v1::SUITABILITY_UNSPECIFIED;
  std::vector<CriterionOutcome> statuses;  // Every slot, in criterion then party order.
  std::vector<CriterionOutcome> failures;  // NOT_MET slots.
  std::vector<CriterionOutcome> open;      // UNKNOWN or unanswered slots.
  std::vector<std::string> cautions;
  bool high_concern = false;
};

// SUITABLE when every slot is MET; NOT_SUITABLE when any is NOT_MET; otherwise
// NEEDS_INFORMATION. Cautions: a HIGH concern level, and every slot without an answer.
ScreeningResult EvaluateScreening(const ScreeningInput& input);

// "SUITABLE", "NOT_SUITABLE", "NEEDS_INFORMATION".
std::string SuitabilityText(v1::Suitability s);

// An override departs from the evaluation only with a written justification this long.
inline constexpr size_t kMinJustificationChars = 20;

// What a Senior Adviser asks to record.
struct DecisionRequest {
  // UNSPECIFIED confirms the evaluation; SUITABLE or NOT_SUITABLE otherwise overrides it.
  v1::Suitability override_decision = v1::SUITABILITY_UNSPECIFIED;
  std::string justification;
  bool confirm_high_concern = false;
  // For an override to NOT_SUITABLE: the criteria it rests on.
  std::vector<v1::Criterion> override_criteria;
};

// The decision recorded, with every failed criterion once and its signposting.
struct Decision {
  v1::Suitability evaluated = v1::SUITABILITY_UNSPECIFIED;
  v1::Suitability decision = v1::SUITABILITY_UNSPECIFIED;
  bool overridden = false;
  bool high_concern_confirmed = false;
  std::vector<v1::Criterion> failed_criteria;
  std::vector<std::string> signposting;
};

// The Senior Adviser's decision on `result` (the answers' evaluation), or why it cannot be
// recorded: INVALID_ARGUMENT naming `justification` (an override needs one of at least
// kMinJustificationChars characters) or `override_criteria` (an override to NOT_SUITABLE names
// the criteria it rests on); FAILED_PRECONDITION when the answers still give NEEDS_INFORMATION
// (naming the open slots), or the concern is HIGH and `confirm_high_concern` is not set.
absl::StatusOr<Decision> DecideScreening(const ScreeningResult& result,
                                         const DecisionRequest& request);

}  // namespace mediation::rules

#endif  // MEDIATION_SERVICES_RULES_SCREENING_H_
