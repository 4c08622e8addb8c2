#include "services/rules/lifecycle.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace mediation::rules {
namespace {

TEST(LifecycleTest, TheMainPathIsAllowedStepByStep) {
  const v1::CaseState path[] = {v1::CASE_STATE_REFERRED,
                                v1::CASE_STATE_SCREENING,
                                v1::CASE_STATE_SUITABLE,
                                v1::CASE_STATE_MEDIATORS_ALLOCATED,
                                v1::CASE_STATE_SESSIONS_SCHEDULED,
                                v1::CASE_STATE_IN_MEDIATION,
                                v1::CASE_STATE_OUTCOME_RECORDED,
                                v1::CASE_STATE_FOLLOW_UP,
                                v1::CASE_STATE_CLOSED};
  for (size_t i = 0; i + 1 < std::size(path); ++i) {
    EXPECT_TRUE(CheckTransition(path[i], path[i + 1]).ok()) << i;
  }
  EXPECT_TRUE(CheckTransition(v1::CASE_STATE_SCREENING, v1::CASE_STATE_NOT_SUITABLE).ok());
  EXPECT_TRUE(CheckTransition(v1::CASE_STATE_OUTCOME_RECORDED, v1::CASE_STATE_CLOSED).ok());
}

TEST(LifecycleTest, SkippingAStepIsRefusedNamingTheCurrentState) {
  absl::Status s = CheckTransition(v1::CASE_STATE_REFERRED, v1::CASE_STATE_SUITABLE);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "cannot move to SUITABLE: the case is REFERRED; from there it may move only to "
            "SCREENING, WITHDRAWN, ON_HOLD");
}

TEST(LifecycleTest, FinalStatesGoNowhere) {
  for (v1::CaseState s :
       {v1::CASE_STATE_CLOSED, v1::CASE_STATE_NOT_SUITABLE, v1::CASE_STATE_WITHDRAWN}) {
    EXPECT_TRUE(IsTerminal(s));
    EXPECT_FALSE(CheckTransition(s, v1::CASE_STATE_SCREENING).ok());
    EXPECT_FALSE(CheckTransition(s, v1::CASE_STATE_WITHDRAWN).ok());
    EXPECT_FALSE(CheckHold(s).ok());
    EXPECT_TRUE(absl::StrContains(CheckHold(s).message(), "which is final"));
  }
}

TEST(LifecycleTest, WithdrawalIsPossibleOnlyBeforeTheOutcome) {
  for (v1::CaseState s :
       {v1::CASE_STATE_REFERRED, v1::CASE_STATE_SCREENING, v1::CASE_STATE_SUITABLE,
        v1::CASE_STATE_MEDIATORS_ALLOCATED, v1::CASE_STATE_SESSIONS_SCHEDULED,
        v1::CASE_STATE_IN_MEDIATION, v1::CASE_STATE_ON_HOLD}) {
    EXPECT_TRUE(CheckTransition(s, v1::CASE_STATE_WITHDRAWN).ok()) << v1::CaseState_Name(s);
  }
  for (v1::CaseState s : {v1::CASE_STATE_OUTCOME_RECORDED, v1::CASE_STATE_FOLLOW_UP}) {
    EXPECT_FALSE(CheckTransition(s, v1::CASE_STATE_WITHDRAWN).ok()) << v1::CaseState_Name(s);
  }
}

TEST(LifecycleTest, AHeldCaseCanBeWithdrawnOnlyIfHeldBeforeTheOutcome) {
  EXPECT_TRUE(CheckWithdrawal(v1::CASE_STATE_ON_HOLD, v1::CASE_STATE_IN_MEDIATION).ok());
  absl::Status s = CheckWithdrawal(v1::CASE_STATE_ON_HOLD, v1::CASE_STATE_FOLLOW_UP);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "cannot move to WITHDRAWN: the case is ON_HOLD from FOLLOW_UP, after the outcome was "
            "recorded");
  EXPECT_FALSE(CheckWithdrawal(v1::CASE_STATE_OUTCOME_RECORDED, v1::CASE_STATE_UNSPECIFIED).ok());
}

TEST(LifecycleTest, HoldAndResumeReturnToTheStateLeft) {
  EXPECT_TRUE(CheckHold(v1::CASE_STATE_SESSIONS_SCHEDULED).ok());
  EXPECT_FALSE(CheckHold(v1::CASE_STATE_ON_HOLD).ok());
  absl::StatusOr<v1::CaseState> back =
      ResumeTarget(v1::CASE_STATE_ON_HOLD, v1::CASE_STATE_SESSIONS_SCHEDULED);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, v1::CASE_STATE_SESSIONS_SCHEDULED);
  EXPECT_EQ(ResumeTarget(v1::CASE_STATE_SCREENING, v1::CASE_STATE_REFERRED).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(LifecycleTest, OnHoldIsNotATransitionTargetOutsideHolds) {
  // Holds go through CheckHold, never through CheckTransition.
  EXPECT_FALSE(CheckTransition(v1::CASE_STATE_REFERRED, v1::CASE_STATE_ON_HOLD).ok());
  EXPECT_FALSE(CheckTransition(v1::CASE_STATE_ON_HOLD, v1::CASE_STATE_REFERRED).ok());
}

TEST(LifecycleTest, FinishedCasesReopenToTheStateTheTableGives) {
  EXPECT_EQ(*ReopenTarget(v1::CASE_STATE_CLOSED), v1::CASE_STATE_FOLLOW_UP);
  EXPECT_EQ(*ReopenTarget(v1::CASE_STATE_NOT_SUITABLE), v1::CASE_STATE_SCREENING);
  EXPECT_EQ(*ReopenTarget(v1::CASE_STATE_WITHDRAWN), v1::CASE_STATE_SCREENING);
  for (v1::CaseState open : {v1::CASE_STATE_REFERRED, v1::CASE_STATE_IN_MEDIATION,
                             v1::CASE_STATE_ON_HOLD, v1::CASE_STATE_FOLLOW_UP}) {
    const absl::StatusOr<v1::CaseState> target = ReopenTarget(open);
    EXPECT_EQ(target.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(absl::StrContains(target.status().message(),
                                  "only CLOSED, NOT_SUITABLE and "
                                  "WITHDRAWN cases can be reopened"));
  }
  // Reopening is not an ordinary transition: the lifecycle still calls the finished states final.
  EXPECT_FALSE(CheckTransition(v1::CASE_STATE_CLOSED, v1::CASE_STATE_FOLLOW_UP).ok());
}

}  // namespace
}  // namespace mediation::rules
