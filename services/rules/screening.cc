#include "services/rules/screening.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/rules/identity.h"

namespace mediation::rules {
namespace {

constexpr CriterionRule kRules[] = {
    {v1::CRITERION_JOINT_PROBLEM, CriterionScope::kPerParty,
     "both parties accept there is a joint problem",
     "behavioural assessment, a team review or a facilitated conversation"},
    {v1::CRITERION_WILLING, CriterionScope::kPerParty,
     "both are likely to agree to mediation and genuinely want to move forward",
     "revisit later; mediation is voluntary, so never pressure a party"},
    {v1::CRITERION_NOT_CONTRACTUAL, CriterionScope::kPerCase,
     "the issues do not relate to contractual or employment requirements",
     "the organisation's HR or contractual route"},
    {v1::CRITERION_NO_FORMAL_PROCESS, CriterionScope::kPerCase,
     "mediation is not part of another formal process",
     "hold until the formal process ends; the formal Dignity at Work policy"},
    {v1::CRITERION_NO_RELATIONSHIP, CriterionScope::kPerCase,
     "the parties are not in a personal or external business relationship",
     "an external provider or the organisation's own policy"},
    {v1::CRITERION_FIT_TO_ATTEND, CriterionScope::kPerParty, "both are fit, health-wise, to attend",
     "occupational health; hold until the party is fit to attend"},
};

std::string SlotName(const CriterionOutcome& slot) {
  const std::string name = v1::Criterion_Name(slot.criterion);
  return slot.party_id == 0 ? absl::StrCat(name, " for the case")
                            : absl::StrCat(name, " for party ", slot.party_id);
}

}  // namespace

std::span<const CriterionRule> CriterionRules() { return kRules; }

const CriterionRule& RuleFor(v1::Criterion criterion) {
  return *std::find_if(std::begin(kRules), std::end(kRules),
                       [&](const CriterionRule& r) { return r.criterion == criterion; });
}

ScreeningResult EvaluateScreening(const ScreeningInput& input) {
  ScreeningResult result;
  result.high_concern = input.concern_level == v1::CONCERN_LEVEL_HIGH;
  if (result.high_concern) {
    result.cautions.push_back(
        "concern level is HIGH (persistent behaviour, normally handled under the formal Dignity "
        "at Work policy): a SUITABLE decision needs the Senior Adviser's explicit confirmation");
  }

  auto answer_for = [&](v1::Criterion criterion, int64_t party_id) {
    CriterionOutcome slot{.criterion = criterion, .party_id = party_id};
    for (const RecordedAnswer& a : input.answers) {
      if (a.criterion == criterion && a.party_id == party_id) {
        slot.answer = a.answer;
        slot.answer_id = a.answer_id;
      }
    }
    return slot;
  };
  for (const CriterionRule& rule : kRules) {
    if (rule.scope == CriterionScope::kPerCase) {
      result.statuses.push_back(answer_for(rule.criterion, 0));
    } else {
      for (int64_t party : input.party_ids) {
        result.statuses.push_back(answer_for(rule.criterion, party));
      }
    }
  }

  for (const CriterionOutcome& slot : result.statuses) {
    switch (slot.answer) {
      case v1::CRITERION_ANSWER_MET:
        break;
      case v1::CRITERION_ANSWER_NOT_MET:
        result.failures.push_back(slot);
        break;
      case v1::CRITERION_ANSWER_UNKNOWN:
        result.open.push_back(slot);
        break;
      default:
        result.open.push_back(slot);
        result.cautions.push_back(absl::StrCat(SlotName(slot), " has no answer yet"));
    }
  }
  if (!result.failures.empty()) {
    result.decision = v1::SUITABILITY_NOT_SUITABLE;
  } else if (!result.open.empty()) {
    result.decision = v1::SUITABILITY_NEEDS_INFORMATION;
  } else {
    result.decision = v1::SUITABILITY_SUITABLE;
  }
  return result;
}

std::string SuitabilityText(v1::Suitability s) {
  const std::string name = v1::Suitability_Name(s);
  return name.substr(std::string("SUITABILITY_").size());
}

absl::StatusOr<Decision> DecideScreening(const ScreeningResult& result,
                                         const DecisionRequest& request) {
  Decision d;
  d.evaluated = result.decision;
  d.decision = request.override_decision == v1::SUITABILITY_UNSPECIFIED ? result.decision
                                                                        : request.override_decision;
  d.overridden = d.decision != d.evaluated;
  if (d.overridden && CodePoints(request.justification) < kMinJustificationChars) {
    return absl::InvalidArgumentError(
        absl::StrCat("justification: overriding ", SuitabilityText(d.evaluated), " with ",
                     SuitabilityText(d.decision), " needs a written justification of at least ",
                     kMinJustificationChars, " characters"));
  }
  if (d.decision == v1::SUITABILITY_NEEDS_INFORMATION) {
    std::vector<std::string> open;
    for (const CriterionOutcome& o : result.open) {
      open.push_back(o.party_id == 0 ? v1::Criterion_Name(o.criterion)
                                     : absl::StrCat(v1::Criterion_Name(o.criterion), " (party ",
                                                    o.party_id, ")"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("the answers give NEEDS_INFORMATION (open: ", absl::StrJoin(open, ", "),
                     "); record the missing answers, or override with a justification"));
  }
  if (d.decision == v1::SUITABILITY_SUITABLE && result.high_concern) {
    if (!request.confirm_high_concern) {
      return absl::FailedPreconditionError(
          "the concern level is HIGH: set confirm_high_concern to confirm that mediation may "
          "proceed rather than the formal Dignity at Work policy");
    }
    d.high_concern_confirmed = true;
  }
  if (d.decision == v1::SUITABILITY_NOT_SUITABLE) {
    // Every failed criterion once, with its signposting: the answers' failures, or for an
    // override the criteria the Senior Adviser names.
    std::vector<v1::Criterion> why;
    if (d.overridden) {
      if (request.override_criteria.empty()) {
        return absl::InvalidArgumentError(
            "override_criteria: an override to NOT_SUITABLE must name the criteria it rests on");
      }
      why = request.override_criteria;
    } else {
      for (const CriterionOutcome& o : result.failures) why.push_back(o.criterion);
    }
    for (v1::Criterion criterion : why) {
      if (std::find(d.failed_criteria.begin(), d.failed_criteria.end(), criterion) ==
          d.failed_criteria.end()) {
        d.failed_criteria.push_back(criterion);
        d.signposting.emplace_back(RuleFor(criterion).signposting);
      }
    }
  }
  return d;
}

}  // namespace mediation::rules
