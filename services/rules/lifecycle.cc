#include "services/rules/lifecycle.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mediation::rules {
namespace {

struct Transition {
  v1::CaseState from;
  v1::CaseState to;
};

constexpr Transition kTransitions[] = {
    {v1::CASE_STATE_REFERRED, v1::CASE_STATE_SCREENING},
    {v1::CASE_STATE_SCREENING, v1::CASE_STATE_SUITABLE},
    {v1::CASE_STATE_SCREENING, v1::CASE_STATE_NOT_SUITABLE},
    {v1::CASE_STATE_SUITABLE, v1::CASE_STATE_MEDIATORS_ALLOCATED},
    {v1::CASE_STATE_MEDIATORS_ALLOCATED, v1::CASE_STATE_SESSIONS_SCHEDULED},
    {v1::CASE_STATE_SESSIONS_SCHEDULED, v1::CASE_STATE_IN_MEDIATION},
    {v1::CASE_STATE_IN_MEDIATION, v1::CASE_STATE_OUTCOME_RECORDED},
    {v1::CASE_STATE_OUTCOME_RECORDED, v1::CASE_STATE_FOLLOW_UP},
    {v1::CASE_STATE_OUTCOME_RECORDED, v1::CASE_STATE_CLOSED},
    {v1::CASE_STATE_FOLLOW_UP, v1::CASE_STATE_CLOSED},
    // Withdrawal: by the organisation or a party, at any stage before the outcome.
    {v1::CASE_STATE_REFERRED, v1::CASE_STATE_WITHDRAWN},
    {v1::CASE_STATE_SCREENING, v1::CASE_STATE_WITHDRAWN},
    {v1::CASE_STATE_SUITABLE, v1::CASE_STATE_WITHDRAWN},
    {v1::CASE_STATE_MEDIATORS_ALLOCATED, v1::CASE_STATE_WITHDRAWN},
    {v1::CASE_STATE_SESSIONS_SCHEDULED, v1::CASE_STATE_WITHDRAWN},
    {v1::CASE_STATE_IN_MEDIATION, v1::CASE_STATE_WITHDRAWN},
    {v1::CASE_STATE_ON_HOLD, v1::CASE_STATE_WITHDRAWN},
};

// Reopening a finished case (CaseService.ReopenCase documents the table and why).
constexpr Transition kReopenings[] = {
    {v1::CASE_STATE_CLOSED, v1::CASE_STATE_FOLLOW_UP},
    {v1::CASE_STATE_NOT_SUITABLE, v1::CASE_STATE_SCREENING},
    {v1::CASE_STATE_WITHDRAWN, v1::CASE_STATE_SCREENING},
};

// States a case may be held in (and so resume to).
constexpr v1::CaseState kHoldable[] = {
    v1::CASE_STATE_REFERRED,           v1::CASE_STATE_SCREENING,
    v1::CASE_STATE_SUITABLE,           v1::CASE_STATE_MEDIATORS_ALLOCATED,
    v1::CASE_STATE_SESSIONS_SCHEDULED, v1::CASE_STATE_IN_MEDIATION,
    v1::CASE_STATE_OUTCOME_RECORDED,   v1::CASE_STATE_FOLLOW_UP,
};

bool Holdable(v1::CaseState s) {
  return std::find(std::begin(kHoldable), std::end(kHoldable), s) != std::end(kHoldable);
}

std::string Short(v1::CaseState s) {
  std::string name = v1::CaseState_Name(s);
  constexpr absl::string_view kPrefix = "CASE_STATE_";
  return name.rfind(kPrefix.data(), 0) == 0 ? name.substr(kPrefix.size()) : name;
}

// "the case is REFERRED; it may move only to SCREENING, WITHDRAWN or ON_HOLD".
std::string WhereItMayGo(v1::CaseState from) {
  std::vector<std::string> next;
  for (const Transition& t : kTransitions) {
    if (t.from == from) next.push_back(Short(t.to));
  }
  if (Holdable(from)) next.push_back("ON_HOLD");
  if (from == v1::CASE_STATE_ON_HOLD) next.push_back("the state it was held from (resume)");
  if (next.empty()) return absl::StrCat("the case is ", Short(from), ", which is final");
  return absl::StrCat("the case is ", Short(from), "; from there it may move only to ",
                      absl::StrJoin(next, ", "));
}

}  // namespace

absl::Status CheckTransition(v1::CaseState from, v1::CaseState to) {
  for (const Transition& t : kTransitions) {
    if (t.from == from && t.to == to) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("cannot move to ", Short(to), ": ", WhereItMayGo(from)));
}

bool IsTerminal(v1::CaseState state) {
  return state == v1::CASE_STATE_CLOSED || state == v1::CASE_STATE_NOT_SUITABLE ||
         state == v1::CASE_STATE_WITHDRAWN;
}

absl::Status CheckWithdrawal(v1::CaseState from, v1::CaseState held_from) {
  if (from != v1::CASE_STATE_ON_HOLD) return CheckTransition(from, v1::CASE_STATE_WITHDRAWN);
  if (CheckTransition(held_from, v1::CASE_STATE_WITHDRAWN).ok()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("cannot move to WITHDRAWN: the case is ON_HOLD from ", Short(held_from),
                   ", after the outcome was recorded"));
}

absl::Status CheckHold(v1::CaseState from) {
  if (Holdable(from)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("cannot put on hold: ", WhereItMayGo(from)));
}

absl::StatusOr<v1::CaseState> ReopenTarget(v1::CaseState from) {
  for (const Transition& t : kReopenings) {
    if (t.from == from) return t.to;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("cannot reopen: the case is ", Short(from),
                   "; only CLOSED, NOT_SUITABLE and WITHDRAWN cases can be reopened"));
}

absl::StatusOr<v1::CaseState> ResumeTarget(v1::CaseState from, v1::CaseState held_from) {
  if (from != v1::CASE_STATE_ON_HOLD) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot resume: the case is ", Short(from), ", not ON_HOLD"));
  }
  if (!Holdable(held_from)) {
    return absl::InternalError(
        absl::StrCat("held case records an impossible state ", v1::CaseState_Name(held_from)));
  }
  return held_from;
}

}  // namespace mediation::rules
