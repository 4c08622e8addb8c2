#include "services/rules/screening.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

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

}  // namespace mediation::rules
