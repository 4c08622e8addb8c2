#include <gtest/gtest.h>

#include "services/rules/screening.h"

namespace mediation::rules {
namespace {

constexpr int64_t kPartyA = 11;
constexpr int64_t kPartyB = 12;

// Every slot answered with `answer`, then `overrides` applied on top.
ScreeningInput Answered(v1::CriterionAnswer answer, std::vector<RecordedAnswer> overrides = {},
                        v1::ConcernLevel level = v1::CONCERN_LEVEL_MID) {
  ScreeningInput in;
  in.party_ids = {kPartyA, kPartyB};
  in.concern_level = level;
  int64_t id = 1;
  for (const CriterionRule& rule : CriterionRules()) {
    if (rule.scope == CriterionScope::kPerCase) {
      in.answers.push_back({rule.criterion, 0, answer, id++});
    } else {
      for (int64_t p : in.party_ids) in.answers.push_back({rule.criterion, p, answer, id++});
    }
  }
  for (const RecordedAnswer& o : overrides) {
    for (RecordedAnswer& a : in.answers) {
      if (a.criterion == o.criterion && a.party_id == o.party_id) a.answer = o.answer;
    }
  }
  return in;
}

TEST(ScreeningRulesTest, AllMetIsSuitableWithoutCautions) {
  const ScreeningResult r = EvaluateScreening(Answered(v1::CRITERION_ANSWER_MET));
  EXPECT_EQ(r.decision, v1::SUITABILITY_SUITABLE);
  EXPECT_EQ(r.statuses.size(), 9u);  // Three per-party criteria for two parties, three per case.
  EXPECT_TRUE(r.failures.empty());
  EXPECT_TRUE(r.open.empty());
  EXPECT_TRUE(r.cautions.empty());
  EXPECT_FALSE(r.high_concern);
}

struct Alone {
  v1::Criterion criterion;
  int64_t party_id;
  const char* signposting;
};

class EachCriterionFailingAlone : public ::testing::TestWithParam<Alone> {};

TEST_P(EachCriterionFailingAlone, MakesTheCaseNotSuitableWithItsSignposting) {
  const Alone& alone = GetParam();
  const ScreeningResult r = EvaluateScreening(
      Answered(v1::CRITERION_ANSWER_MET,
               {{alone.criterion, alone.party_id, v1::CRITERION_ANSWER_NOT_MET, 0}}));
  EXPECT_EQ(r.decision, v1::SUITABILITY_NOT_SUITABLE);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].criterion, alone.criterion);
  EXPECT_EQ(r.failures[0].party_id, alone.party_id);
  EXPECT_EQ(r.failures[0].answer, v1::CRITERION_ANSWER_NOT_MET);
  EXPECT_EQ(RuleFor(alone.criterion).signposting, alone.signposting);
  EXPECT_TRUE(r.open.empty());
}

// The domain file's screening table, row by row.
INSTANTIATE_TEST_SUITE_P(
    DomainTable, EachCriterionFailingAlone,
    ::testing::Values(
        Alone{v1::CRITERION_JOINT_PROBLEM, kPartyA,
              "behavioural assessment, a team review or a facilitated conversation"},
        Alone{v1::CRITERION_WILLING, kPartyB,
              "revisit later; mediation is voluntary, so never pressure a party"},
        Alone{v1::CRITERION_NOT_CONTRACTUAL, 0, "the organisation's HR or contractual route"},
        Alone{v1::CRITERION_NO_FORMAL_PROCESS, 0,
              "hold until the formal process ends; the formal Dignity at Work policy"},
        Alone{v1::CRITERION_NO_RELATIONSHIP, 0,
              "an external provider or the organisation's own policy"},
        Alone{v1::CRITERION_FIT_TO_ATTEND, kPartyA,
              "occupational health; hold until the party is fit to attend"}),
    [](const ::testing::TestParamInfo<Alone>& info) {
      return v1::Criterion_Name(info.param.criterion);
    });

TEST(ScreeningRulesTest, SeveralFailuresAreAllListedInCriterionOrder) {
  const ScreeningResult r = EvaluateScreening(
      Answered(v1::CRITERION_ANSWER_MET,
               {{v1::CRITERION_FIT_TO_ATTEND, kPartyB, v1::CRITERION_ANSWER_NOT_MET, 0},
                {v1::CRITERION_NOT_CONTRACTUAL, 0, v1::CRITERION_ANSWER_NOT_MET, 0},
                {v1::CRITERION_WILLING, kPartyA, v1::CRITERION_ANSWER_NOT_MET, 0},
                {v1::CRITERION_WILLING, kPartyB, v1::CRITERION_ANSWER_UNKNOWN, 0}}));
  EXPECT_EQ(r.decision, v1::SUITABILITY_NOT_SUITABLE);
  ASSERT_EQ(r.failures.size(), 3u);
  EXPECT_EQ(r.failures[0].criterion, v1::CRITERION_WILLING);
  EXPECT_EQ(r.failures[1].criterion, v1::CRITERION_NOT_CONTRACTUAL);
  EXPECT_EQ(r.failures[2].criterion, v1::CRITERION_FIT_TO_ATTEND);
  EXPECT_EQ(r.failures[2].party_id, kPartyB);
  ASSERT_EQ(r.open.size(), 1u);
  EXPECT_EQ(r.open[0].party_id, kPartyB);
}

TEST(ScreeningRulesTest, UnknownOnlyNeedsInformation) {
  const ScreeningResult r = EvaluateScreening(
      Answered(v1::CRITERION_ANSWER_MET,
               {{v1::CRITERION_NO_RELATIONSHIP, 0, v1::CRITERION_ANSWER_UNKNOWN, 0},
                {v1::CRITERION_JOINT_PROBLEM, kPartyB, v1::CRITERION_ANSWER_UNKNOWN, 0}}));
  EXPECT_EQ(r.decision, v1::SUITABILITY_NEEDS_INFORMATION);
  EXPECT_TRUE(r.failures.empty());
  ASSERT_EQ(r.open.size(), 2u);
  EXPECT_EQ(r.open[0].criterion, v1::CRITERION_JOINT_PROBLEM);
  EXPECT_EQ(r.open[1].criterion, v1::CRITERION_NO_RELATIONSHIP);
  EXPECT_TRUE(r.cautions.empty());
}

TEST(ScreeningRulesTest, EveryUnansweredSlotNeedsInformationAndIsACaution) {
  ScreeningInput in = Answered(v1::CRITERION_ANSWER_MET);
  std::erase_if(in.answers, [](const RecordedAnswer& a) {
    return a.criterion == v1::CRITERION_FIT_TO_ATTEND && a.party_id == kPartyB;
  });
  const ScreeningResult r = EvaluateScreening(in);
  EXPECT_EQ(r.decision, v1::SUITABILITY_NEEDS_INFORMATION);
  ASSERT_EQ(r.open.size(), 1u);
  EXPECT_EQ(r.open[0].answer, v1::CRITERION_ANSWER_UNSPECIFIED);
  EXPECT_EQ(r.cautions,
            std::vector<std::string>{"CRITERION_FIT_TO_ATTEND for party 12 has no answer yet"});
}

TEST(ScreeningRulesTest, NothingAnsweredListsAllNineSlots) {
  ScreeningInput in;
  in.party_ids = {kPartyA, kPartyB};
  const ScreeningResult r = EvaluateScreening(in);
  EXPECT_EQ(r.decision, v1::SUITABILITY_NEEDS_INFORMATION);
  EXPECT_EQ(r.open.size(), 9u);
  EXPECT_EQ(r.cautions.size(), 9u);
}

TEST(ScreeningRulesTest, HighConcernIsACautionButDoesNotChangeTheDecision) {
  const ScreeningResult r =
      EvaluateScreening(Answered(v1::CRITERION_ANSWER_MET, {}, v1::CONCERN_LEVEL_HIGH));
  EXPECT_EQ(r.decision, v1::SUITABILITY_SUITABLE);
  EXPECT_TRUE(r.high_concern);
  ASSERT_EQ(r.cautions.size(), 1u);
  EXPECT_NE(r.cautions[0].find("concern level is HIGH"), std::string::npos);
}

TEST(ScreeningRulesTest, ThreePartiesGetThreeSlotsPerPartyCriterion) {
  ScreeningInput in;
  in.party_ids = {1, 2, 3};
  EXPECT_EQ(EvaluateScreening(in).statuses.size(), 12u);
}

TEST(ScreeningDecisionTest, AnOverrideNeedsAJustificationAndNotSuitableNamesItsCriteria) {
  const ScreeningResult suitable = EvaluateScreening(Answered(v1::CRITERION_ANSWER_MET));
  ASSERT_EQ(suitable.decision, v1::SUITABILITY_SUITABLE);
  // Confirming needs nothing more.
  absl::StatusOr<Decision> confirmed = DecideScreening(suitable, {});
  ASSERT_TRUE(confirmed.ok());
  EXPECT_FALSE(confirmed->overridden);
  EXPECT_EQ(confirmed->decision, v1::SUITABILITY_SUITABLE);
  // Nineteen characters (one of them two bytes) are not enough to override.
  DecisionRequest r{.override_decision = v1::SUITABILITY_NOT_SUITABLE,
                    .justification = "grievance now open\xC3\xA9"};
  absl::StatusOr<Decision> refused = DecideScreening(suitable, r);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "justification: overriding SUITABLE with NOT_SUITABLE needs a written justification "
            "of at least 20 characters");
  r.justification = "A formal grievance was opened last week.";
  refused = DecideScreening(suitable, r);
  EXPECT_EQ(refused.status().message(),
            "override_criteria: an override to NOT_SUITABLE must name the criteria it rests on");
  r.override_criteria = {v1::CRITERION_NO_FORMAL_PROCESS, v1::CRITERION_NO_FORMAL_PROCESS};
  absl::StatusOr<Decision> overridden = DecideScreening(suitable, r);
  ASSERT_TRUE(overridden.ok());
  EXPECT_TRUE(overridden->overridden);
  EXPECT_EQ(overridden->failed_criteria,
            std::vector<v1::Criterion>{v1::CRITERION_NO_FORMAL_PROCESS});
  EXPECT_EQ(overridden->signposting.size(), 1u);
}

TEST(ScreeningDecisionTest, AHighConcernProceedsOnlyWhenConfirmed) {
  ScreeningInput in = Answered(v1::CRITERION_ANSWER_MET);
  in.concern_level = v1::CONCERN_LEVEL_HIGH;
  const ScreeningResult result = EvaluateScreening(in);
  absl::StatusOr<Decision> d = DecideScreening(result, {});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  d = DecideScreening(result, {.confirm_high_concern = true});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->high_concern_confirmed);
  // Open slots can never be decided as NEEDS_INFORMATION.
  const ScreeningResult open = EvaluateScreening(Answered(v1::CRITERION_ANSWER_UNKNOWN));
  EXPECT_EQ(DecideScreening(open, {}).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mediation::rules
