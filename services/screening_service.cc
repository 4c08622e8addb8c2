#include "services/screening_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/case_access.h"
#include "services/case_transitions.h"
#include "services/convert.h"
#include "services/core/validation.h"
#include "services/rules/screening.h"
#include "storage/cases.h"
#include "storage/screening.h"

namespace mediation {
namespace {

constexpr size_t kMaxNoteChars = 4000;

}  // namespace

void ToProto(const storage::ScreeningAnswerRecord& a, v1::ScreeningAnswer* out) {
  out->set_id(a.id);
  out->set_case_id(a.case_id);
  out->set_criterion(a.criterion);
  out->set_party_id(a.party_id);
  out->set_answer(a.answer);
  out->set_note(a.note);
  mediation::ToProto(a.withheld, out->mutable_withheld());
  out->set_recorded_by_token_id(a.recorded_by_token_id);
  mediation::ToProto(a.recorded_at, out->mutable_recorded_at());
  out->set_superseded_by(a.superseded_by);
}

namespace {

void ToProto(const storage::ScreeningDecisionRecord& d, v1::ScreeningDecision* out) {
  out->set_id(d.id);
  out->set_case_id(d.case_id);
  out->set_evaluated(d.evaluated);
  out->set_decision(d.decision);
  out->set_overridden(d.overridden);
  out->set_justification(d.justification);
  mediation::ToProto(d.withheld, out->mutable_withheld());
  out->set_high_concern_confirmed(d.high_concern_confirmed);
  for (v1::Criterion c : d.failed_criteria) out->add_failed_criteria(c);
  for (const std::string& s : d.signposting) out->add_signposting(s);
  out->set_decided_by_token_id(d.decided_by_token_id);
  mediation::ToProto(d.decided_at, out->mutable_decided_at());
}

void ToProto(const rules::CriterionOutcome& o, v1::CriterionIssue* out) {
  out->set_criterion(o.criterion);
  out->set_party_id(o.party_id);
  out->set_answer(o.answer);
  out->set_signposting(std::string(rules::RuleFor(o.criterion).signposting));
}

void ToProto(const rules::ScreeningResult& r, v1::ScreeningEvaluation* out) {
  out->set_decision(r.decision);
  for (const rules::CriterionOutcome& o : r.statuses) {
    v1::CriterionStatus* s = out->add_statuses();
    s->set_criterion(o.criterion);
    s->set_party_id(o.party_id);
    s->set_answer(o.answer);
    s->set_answer_id(o.answer_id);
  }
  for (const rules::CriterionOutcome& o : r.failures) ToProto(o, out->add_failures());
  for (const rules::CriterionOutcome& o : r.open) ToProto(o, out->add_open());
  for (const std::string& c : r.cautions) out->add_cautions(c);
  out->set_high_concern(r.high_concern);
}

// Evaluates the answers in force for `c`; sets `*answers_version` to the newest answer's id.
absl::StatusOr<rules::ScreeningResult> Evaluate(storage::Tx& tx, const storage::CaseRecord& c,
                                                int64_t* answers_version) {
  absl::StatusOr<std::vector<storage::ScreeningAnswerRecord>> answers =
      storage::ListScreeningAnswers(tx, c.id, /*include_superseded=*/false);
  if (!answers.ok()) return answers.status();
  rules::ScreeningInput input;
  input.concern_level = c.concern_level;
  for (const storage::PartyRecord& p : c.parties) input.party_ids.push_back(p.id);
  *answers_version = 0;
  for (const storage::ScreeningAnswerRecord& a : *answers) {
    // The newest answer is always in force, so the largest id in force is the newest of all.
    *answers_version = std::max(*answers_version, a.id);
    input.answers.push_back(
        {.criterion = a.criterion, .party_id = a.party_id, .answer = a.answer, .answer_id = a.id});
  }
  return rules::EvaluateScreening(input);
}

absl::Status RecordScreeningAnswer(CallContext& call, const v1::RecordScreeningAnswerRequest& r,
                                   v1::RecordScreeningAnswerResponse& response) {
  Validator v;
  v.PositiveId("case_id", r.case_id());
  v.Enum("criterion", r.criterion(), v1::Criterion_IsValid, /*required=*/true);
  v.Enum("answer", r.answer(), v1::CriterionAnswer_IsValid, /*required=*/true);
  storage::ScreeningAnswerRecord answer;
  answer.note = v.OptionalText("note", r.note(), kMaxNoteChars);
  if (answer.note.empty() &&
      (r.answer() == v1::CRITERION_ANSWER_NOT_MET || r.answer() == v1::CRITERION_ANSWER_UNKNOWN)) {
    v.Fail("note", "required for NOT_MET and UNKNOWN: say what is wrong or missing");
  }
  if (v1::Criterion_IsValid(r.criterion()) && r.criterion() != v1::CRITERION_UNSPECIFIED) {
    const bool per_party = rules::RuleFor(r.criterion()).scope == rules::CriterionScope::kPerParty;
    if (per_party && r.party_id() <= 0) {
      v.Fail("party_id", absl::StrCat(v1::Criterion_Name(r.criterion()),
                                      " is answered for each party: give the party's id"));
    } else if (!per_party && r.party_id() != 0) {
      v.Fail("party_id", absl::StrCat(v1::Criterion_Name(r.criterion()),
                                      " is answered once for the case: leave party_id 0"));
    }
  }
  if (!v.ok()) return v.status();
  answer.case_id = r.case_id();
  answer.criterion = r.criterion();
  answer.party_id = r.party_id();
  answer.answer = r.answer();
  answer.recorded_by_token_id = call.principal().token_id;
  answer.recorded_at = call.now();
  call.AddObject("case", r.case_id());

  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::CaseRecord> c = LoadCaseFor(tx, call.principal(), r.case_id());
    if (!c.ok()) return c.status();
    if (c->state != v1::CASE_STATE_REFERRED && c->state != v1::CASE_STATE_SCREENING) {
      return absl::FailedPreconditionError(
          absl::StrCat("case ", c->id, " is ", v1::CaseState_Name(c->state),
                       "; screening answers can be recorded only while it is REFERRED or "
                       "SCREENING"));
    }
    if (answer.party_id != 0 &&
        std::none_of(c->parties.begin(), c->parties.end(),
                     [&](const auto& p) { return p.id == answer.party_id; })) {
      return FieldError("party_id",
                        absl::StrCat("party ", answer.party_id, " is not a party of case ", c->id));
    }
    if (c->state == v1::CASE_STATE_REFERRED) {
      absl::Status moved = MoveCase(tx, *c,
                                    {.to = v1::CASE_STATE_SCREENING,
                                     .at = call.now(),
                                     .token_id = call.principal().token_id,
                                     .reason = "first screening answer recorded"});
      if (!moved.ok()) return moved;
    }
    absl::StatusOr<storage::ScreeningAnswerRecord> stored =
        storage::InsertScreeningAnswer(tx, answer);
    if (!stored.ok()) return stored.status();
    call.AddObject("screening_answer", stored->id);
    mediation::ToProto(*stored, response.mutable_answer());
    return absl::OkStatus();
  });
}

absl::Status ListScreeningAnswers(CallContext& call, const v1::ListScreeningAnswersRequest& r,
                                  v1::ListScreeningAnswersResponse& response) {
  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    absl::StatusOr<std::vector<storage::ScreeningAnswerRecord>> answers =
        storage::ListScreeningAnswers(tx, c.id, r.include_superseded());
    if (!answers.ok()) return answers.status();
    for (const auto& a : *answers) mediation::ToProto(a, response.add_answers());
    return absl::OkStatus();
  });
}

absl::Status EvaluateScreening(CallContext& call, const v1::EvaluateScreeningRequest& r,
                               v1::EvaluateScreeningResponse& response) {
  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    int64_t answers_version = 0;
    absl::StatusOr<rules::ScreeningResult> result = Evaluate(tx, c, &answers_version);
    if (!result.ok()) return result.status();
    ToProto(*result, response.mutable_evaluation());
    response.mutable_evaluation()->set_answers_version(answers_version);
    return absl::OkStatus();
  });
}

absl::Status RecordScreeningDecision(CallContext& call, const v1::RecordScreeningDecisionRequest& r,
                                     v1::RecordScreeningDecisionResponse& response) {
  Validator v;
  v.PositiveId("case_id", r.case_id());
  v.Enum("override_decision", r.override_decision(), v1::Suitability_IsValid, false);
  if (r.override_decision() == v1::SUITABILITY_NEEDS_INFORMATION) {
    v.Fail("override_decision", "may only be SUITABLE or NOT_SUITABLE (or unset to confirm)");
  }
  const std::string justification = v.OptionalText("justification", r.justification(), 4000);
  if (r.expected_answers_version() < 0) v.Fail("expected_answers_version", "must be 0 or more");
  for (int i = 0; i < r.override_criteria_size(); ++i) {
    v.Enum(absl::StrCat("override_criteria[", i, "]"), r.override_criteria(i),
           v1::Criterion_IsValid, true);
  }
  if (r.override_criteria_size() > 0 && r.override_decision() != v1::SUITABILITY_NOT_SUITABLE) {
    v.Fail("override_criteria", "only for an override to NOT_SUITABLE");
  }
  if (!v.ok()) return v.status();
  call.AddObject("case", r.case_id());

  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::CaseRecord> c = LoadCaseFor(tx, call.principal(), r.case_id());
    if (!c.ok()) return c.status();
    if (c->state != v1::CASE_STATE_SCREENING) {
      return absl::FailedPreconditionError(
          absl::StrCat("case ", c->id, " is ", v1::CaseState_Name(c->state),
                       "; a screening decision needs the case to be SCREENING"));
    }
    int64_t answers_version = 0;
    absl::StatusOr<rules::ScreeningResult> result = Evaluate(tx, *c, &answers_version);
    if (!result.ok()) return result.status();
    if (r.expected_answers_version() != 0 && r.expected_answers_version() != answers_version) {
      return absl::AbortedError(absl::StrCat(
          "screening answers were recorded since you evaluated (answers version is now ",
          answers_version, ", not ", r.expected_answers_version(), "); evaluate again"));
    }

    rules::DecisionRequest asked{.override_decision = r.override_decision(),
                                 .justification = justification,
                                 .confirm_high_concern = r.confirm_high_concern()};
    for (int criterion : r.override_criteria()) {
      asked.override_criteria.push_back(static_cast<v1::Criterion>(criterion));
    }
    absl::StatusOr<rules::Decision> decided = rules::DecideScreening(*result, asked);
    if (!decided.ok()) return decided.status();
    storage::ScreeningDecisionRecord d;
    d.case_id = c->id;
    d.evaluated = decided->evaluated;
    d.decision = decided->decision;
    d.overridden = decided->overridden;
    d.high_concern_confirmed = decided->high_concern_confirmed;
    d.failed_criteria = decided->failed_criteria;
    d.signposting = decided->signposting;
    d.justification = justification;
    d.decided_by_token_id = call.principal().token_id;
    d.decided_at = call.now();
    absl::StatusOr<storage::ScreeningDecisionRecord> stored =
        storage::InsertScreeningDecision(tx, d);
    if (!stored.ok()) return stored.status();
    call.AddObject("screening_decision", stored->id);

    const v1::CaseState to = d.decision == v1::SUITABILITY_SUITABLE ? v1::CASE_STATE_SUITABLE
                                                                    : v1::CASE_STATE_NOT_SUITABLE;
    const std::string reason =
        d.overridden
            ? absl::StrCat("Senior Adviser overrode ", rules::SuitabilityText(d.evaluated),
                           " with ", rules::SuitabilityText(d.decision))
            : absl::StrCat("Senior Adviser confirmed ", rules::SuitabilityText(d.decision));
    absl::Status moved = MoveCase(
        tx, *c,
        {.to = to, .at = call.now(), .token_id = call.principal().token_id, .reason = reason});
    if (!moved.ok()) return moved;
    ToProto(*stored, response.mutable_decision());
    response.set_state(c->state);
    return absl::OkStatus();
  });
}

absl::Status ListScreeningDecisions(CallContext& call, const v1::ListScreeningDecisionsRequest& r,
                                    v1::ListScreeningDecisionsResponse& response) {
  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    absl::StatusOr<std::vector<storage::ScreeningDecisionRecord>> decisions =
        storage::ListScreeningDecisions(tx, c.id);
    if (!decisions.ok()) return decisions.status();
    for (const auto& d : *decisions) ToProto(d, response.add_decisions());
    return absl::OkStatus();
  });
}

}  // namespace

MEDIATION_UNARY_RPC(ScreeningService, RecordScreeningAnswer)

MEDIATION_UNARY_RPC(ScreeningService, ListScreeningAnswers)

MEDIATION_UNARY_RPC(ScreeningService, EvaluateScreening)

MEDIATION_UNARY_RPC(ScreeningService, RecordScreeningDecision)

MEDIATION_UNARY_RPC(ScreeningService, ListScreeningDecisions)

MEDIATION_SERVICE(ScreeningService)

}  // namespace mediation
