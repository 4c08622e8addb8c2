// The screening decision (services/rules/screening.h) against the domain's six criteria: three
// recorded per party (JOINT_PROBLEM, WILLING, FIT_TO_ATTEND) and three per case. Invariants:
// every slot is reported once, in criterion then party order; SUITABLE exactly when every slot
// is MET, NOT_SUITABLE exactly when one is NOT_MET (each listed as a failure), otherwise
// NEEDS_INFORMATION with the open slots listed; a HIGH concern is always a caution; the
// decision ignores the order answers arrive in and answers for other parties; and it is
// monotone: turning any answer into NOT_MET never makes a case more suitable, and turning an
// open slot into MET never makes it less suitable. Run with deploy/fuzz.sh.
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/rules/screening.h"
#include "tests/fuzz/fuzz_support.h"

namespace mediation::rules {
namespace {

// NOT_SUITABLE < NEEDS_INFORMATION < SUITABLE.
int Rank(v1::Suitability s) {
  switch (s) {
    case v1::SUITABILITY_NOT_SUITABLE:
      return 0;
    case v1::SUITABILITY_NEEDS_INFORMATION:
      return 1;
    case v1::SUITABILITY_SUITABLE:
      return 2;
    default:
      return -1;
  }
}

bool PerParty(v1::Criterion c) {
  return c == v1::CRITERION_JOINT_PROBLEM || c == v1::CRITERION_WILLING ||
         c == v1::CRITERION_FIT_TO_ATTEND;
}

// The decision the domain specification gives for the answers in force.
v1::Suitability Expected(const ScreeningInput& in) {
  std::map<std::pair<int, int64_t>, v1::CriterionAnswer> answers;
  for (const RecordedAnswer& a : in.answers) answers[{a.criterion, a.party_id}] = a.answer;
  bool any_failed = false, any_open = false;
  for (int c = 1; c <= 6; ++c) {
    const auto criterion = static_cast<v1::Criterion>(c);
    std::vector<int64_t> slots = PerParty(criterion) ? in.party_ids : std::vector<int64_t>{0};
    for (int64_t party : slots) {
      auto it = answers.find({c, party});
      const v1::CriterionAnswer a =
          it == answers.end() ? v1::CRITERION_ANSWER_UNSPECIFIED : it->second;
      any_failed |= a == v1::CRITERION_ANSWER_NOT_MET;
      any_open |= a != v1::CRITERION_ANSWER_MET && a != v1::CRITERION_ANSWER_NOT_MET;
    }
  }
  return any_failed ? v1::SUITABILITY_NOT_SUITABLE
         : any_open ? v1::SUITABILITY_NEEDS_INFORMATION
                    : v1::SUITABILITY_SUITABLE;
}

void CheckResult(const ScreeningInput& in, const ScreeningResult& r) {
  FUZZ_CHECK(r.decision == Expected(in), v1::Suitability_Name(r.decision));
  FUZZ_CHECK(r.statuses.size() == 3 + 3 * in.party_ids.size(), "one status per slot");
  // Criterion order, then party order; each slot once.
  size_t k = 0;
  for (const CriterionRule& rule : CriterionRules()) {
    std::vector<int64_t> slots =
        rule.scope == CriterionScope::kPerParty ? in.party_ids : std::vector<int64_t>{0};
    FUZZ_CHECK(PerParty(rule.criterion) == (rule.scope == CriterionScope::kPerParty),
               v1::Criterion_Name(rule.criterion));
    for (int64_t party : slots) {
      FUZZ_CHECK(r.statuses[k].criterion == rule.criterion && r.statuses[k].party_id == party,
                 "slot order");
      ++k;
    }
  }
  size_t failed = 0, open = 0;
  for (const CriterionOutcome& s : r.statuses) {
    if (s.answer == v1::CRITERION_ANSWER_NOT_MET) {
      ++failed;
      FUZZ_CHECK(std::find(r.failures.begin(), r.failures.end(), s) != r.failures.end(),
                 "an unmet slot is not listed as a failure");
    } else if (s.answer != v1::CRITERION_ANSWER_MET) {
      ++open;
      FUZZ_CHECK(std::find(r.open.begin(), r.open.end(), s) != r.open.end(),
                 "an open slot is not listed");
    }
  }
  FUZZ_CHECK(r.failures.size() == failed && r.open.size() == open, "failures and open slots");
  FUZZ_CHECK((r.decision == v1::SUITABILITY_NOT_SUITABLE) == (failed > 0), "NOT_SUITABLE");
  FUZZ_CHECK((r.decision == v1::SUITABILITY_SUITABLE) == (failed == 0 && open == 0), "SUITABLE");
  FUZZ_CHECK(r.high_concern == (in.concern_level == v1::CONCERN_LEVEL_HIGH), "high concern");
  if (r.high_concern) FUZZ_CHECK(!r.cautions.empty(), "a HIGH concern without a caution");
}

}  // namespace
}  // namespace mediation::rules

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mediation::rules;
  FuzzedDataProvider fdp(data, size);
  ScreeningInput in;
  // A case's parties: distinct positive ids, in referral order.
  std::set<int64_t> ids;
  const int parties = fdp.ConsumeIntegralInRange<int>(0, 10);
  for (int i = 0; i < parties; ++i) {
    const int64_t id = fdp.ConsumeIntegralInRange<int64_t>(1, 40);
    if (ids.insert(id).second) in.party_ids.push_back(id);
  }
  in.concern_level = static_cast<v1::ConcernLevel>(fdp.ConsumeIntegralInRange<int>(0, 3));
  // Answers in force: at most one per (criterion, party); some for parties not in the case.
  std::set<std::pair<int, int64_t>> slots;
  const int answers = fdp.ConsumeIntegralInRange<int>(0, 40);
  for (int i = 0; i < answers; ++i) {
    RecordedAnswer a;
    a.criterion = static_cast<v1::Criterion>(fdp.ConsumeIntegralInRange<int>(1, 6));
    if (PerParty(a.criterion)) {
      a.party_id =
          !in.party_ids.empty() && fdp.ConsumeIntegralInRange<int>(0, 7) != 0
              ? in.party_ids[fdp.ConsumeIntegralInRange<size_t>(0, in.party_ids.size() - 1)]
              : fdp.ConsumeIntegralInRange<int64_t>(1, 40);
    }
    a.answer = static_cast<v1::CriterionAnswer>(fdp.ConsumeIntegralInRange<int>(0, 3));
    a.answer_id = i + 1;
    if (slots.insert({a.criterion, a.party_id}).second) in.answers.push_back(a);
  }

  const ScreeningResult r = EvaluateScreening(in);
  CheckResult(in, r);

  // The order answers arrive in does not matter.
  ScreeningInput shuffled = in;
  std::reverse(shuffled.answers.begin(), shuffled.answers.end());
  if (!shuffled.answers.empty()) {
    std::rotate(shuffled.answers.begin(),
                shuffled.answers.begin() +
                    fdp.ConsumeIntegralInRange<size_t>(0, shuffled.answers.size() - 1),
                shuffled.answers.end());
  }
  const ScreeningResult rs = EvaluateScreening(shuffled);
  FUZZ_CHECK(rs.decision == r.decision && rs.statuses == r.statuses, "answer order matters");

  // Answers for people who are not parties of the case change nothing.
  ScreeningInput stranger = in;
  stranger.answers.push_back({.criterion = v1::CRITERION_WILLING,
                              .party_id = 1000,
                              .answer = v1::CRITERION_ANSWER_NOT_MET,
                              .answer_id = 999});
  FUZZ_CHECK(EvaluateScreening(stranger).decision == r.decision, "a stranger's answer counts");

  // Monotone in every answer.
  if (!in.answers.empty()) {
    const size_t i = fdp.ConsumeIntegralInRange<size_t>(0, in.answers.size() - 1);
    ScreeningInput worse = in;
    worse.answers[i].answer = v1::CRITERION_ANSWER_NOT_MET;
    const ScreeningResult rw = EvaluateScreening(worse);
    CheckResult(worse, rw);
    FUZZ_CHECK(Rank(rw.decision) <= Rank(r.decision), "a NOT_MET answer made it more suitable");
    ScreeningInput better = in;
    if (better.answers[i].answer != v1::CRITERION_ANSWER_NOT_MET) {
      better.answers[i].answer = v1::CRITERION_ANSWER_MET;
      const ScreeningResult rb = EvaluateScreening(better);
      CheckResult(better, rb);
      FUZZ_CHECK(Rank(rb.decision) >= Rank(r.decision), "a MET answer made it less suitable");
    }
  }
  return 0;
}
