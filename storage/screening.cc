#include "storage/screening.h"

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "storage/sealed_text_internal.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kAnswerColumns[] =
    "id, case_id, criterion, party_id, answer, note, recorded_by_token_id, recorded_at, "
    "superseded_by";

ScreeningAnswerRecord ReadAnswer(Tx& tx, Statement& st) {
  ScreeningAnswerRecord a;
  a.id = st.getColumn(0).getInt64();
  a.case_id = st.getColumn(1).getInt64();
  a.criterion = EnumFromText<v1::Criterion>(st.getColumn(2).getString(), v1::Criterion_Parse);
  a.party_id = OptionalId(st.getColumn(3));
  a.answer =
      EnumFromText<v1::CriterionAnswer>(st.getColumn(4).getString(), v1::CriterionAnswer_Parse);
  a.note = OpenText(
      tx, {.case_id = a.case_id, .table = "screening_answers", .column = "note", .row = a.id},
      st.getColumn(5), "note", &a.withheld);
  a.recorded_by_token_id = OptionalId(st.getColumn(6));
  a.recorded_at = FromMicros(st.getColumn(7).getInt64());
  a.superseded_by = OptionalId(st.getColumn(8));
  return a;
}

constexpr char kDecisionColumns[] =
    "id, case_id, evaluated, decision, overridden, justification, high_concern_confirmed, "
    "failed_criteria, signposting, decided_by_token_id, decided_at";

ScreeningDecisionRecord ReadDecision(Tx& tx, Statement& st) {
  ScreeningDecisionRecord d;
  d.id = st.getColumn(0).getInt64();
  d.case_id = st.getColumn(1).getInt64();
  d.evaluated = EnumFromText<v1::Suitability>(st.getColumn(2).getString(), v1::Suitability_Parse);
  d.decision = EnumFromText<v1::Suitability>(st.getColumn(3).getString(), v1::Suitability_Parse);
  d.overridden = st.getColumn(4).getInt() != 0;
  d.justification = OpenText(tx,
                             {.case_id = d.case_id,
                              .table = "screening_decisions",
                              .column = "justification",
                              .row = d.id},
                             st.getColumn(5), "justification", &d.withheld);
  d.high_concern_confirmed = st.getColumn(6).getInt() != 0;
  const std::string failed = st.getColumn(7).getString();
  if (!failed.empty()) {
    for (absl::string_view name : absl::StrSplit(failed, ' ')) {
      d.failed_criteria.push_back(
          EnumFromText<v1::Criterion>(std::string(name), v1::Criterion_Parse));
    }
  }
  const std::string signposting = st.getColumn(8).getString();
  if (!signposting.empty()) d.signposting = absl::StrSplit(signposting, '\n');
  d.decided_by_token_id = OptionalId(st.getColumn(9));
  d.decided_at = FromMicros(st.getColumn(10).getInt64());
  return d;
}

}  // namespace

absl::StatusOr<ScreeningAnswerRecord> InsertScreeningAnswer(Tx& tx, ScreeningAnswerRecord answer) {
  if (absl::Status s = tx.RequireWritable("insert screening answer"); !s.ok()) return s;
  return Guard("insert screening answer", [&]() -> absl::StatusOr<ScreeningAnswerRecord> {
    Statement st(tx,
                 "INSERT INTO screening_answers (case_id, criterion, party_id, answer, "
                 "note, recorded_by_token_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(answer.case_id));
    st.bind(2, v1::Criterion_Name(answer.criterion));
    BindOptionalId(st, 3, answer.party_id);
    st.bind(4, v1::CriterionAnswer_Name(answer.answer));
    st.bind(5, std::string());  // Sealed below, bound to the id.
    BindOptionalId(st, 6, answer.recorded_by_token_id);
    st.bind(7, static_cast<int64_t>(ToMicros(answer.recorded_at)));
    st.exec();
    answer.id = tx.LastInsertId();
    if (absl::Status s = StoreSealedText(tx,
                                         {.case_id = answer.case_id,
                                          .table = "screening_answers",
                                          .column = "note",
                                          .row = answer.id},
                                         answer.note, answer.recorded_at);
        !s.ok()) {
      return s;
    }

    Statement supersede(
        tx,
        "UPDATE screening_answers SET superseded_by = ?1 WHERE case_id = "
        "?2 AND criterion = ?3 AND party_id IS NOT DISTINCT FROM ?4 AND id <> ?1 AND "
        "superseded_by IS NULL");
    supersede.bind(1, static_cast<int64_t>(answer.id));
    supersede.bind(2, static_cast<int64_t>(answer.case_id));
    supersede.bind(3, v1::Criterion_Name(answer.criterion));
    BindOptionalId(supersede, 4, answer.party_id);
    supersede.exec();
    return answer;
  });
}

absl::StatusOr<std::vector<ScreeningAnswerRecord>> ListScreeningAnswers(Tx& tx, int64_t case_id,
                                                                        bool include_superseded) {
  return Guard(
      "list screening answers", [&]() -> absl::StatusOr<std::vector<ScreeningAnswerRecord>> {
        Statement st(tx, absl::StrCat("SELECT ", kAnswerColumns,
                                      " FROM screening_answers WHERE case_id = ? AND (? OR "
                                      "superseded_by IS NULL) ORDER BY id DESC"));
        st.bind(1, static_cast<int64_t>(case_id));
        st.bind(2, include_superseded ? 1 : 0);
        std::vector<ScreeningAnswerRecord> answers;
        while (st.executeStep()) answers.push_back(ReadAnswer(tx, st));
        return answers;
      });
}

absl::StatusOr<ScreeningDecisionRecord> InsertScreeningDecision(Tx& tx,
                                                                ScreeningDecisionRecord decision) {
  if (absl::Status s = tx.RequireWritable("insert screening decision"); !s.ok()) return s;
  return Guard("insert screening decision", [&]() -> absl::StatusOr<ScreeningDecisionRecord> {
    std::vector<std::string> failed;
    for (v1::Criterion c : decision.failed_criteria) failed.push_back(v1::Criterion_Name(c));
    Statement st(tx,
                 "INSERT INTO screening_decisions (case_id, evaluated, decision, "
                 "overridden, justification, high_concern_confirmed, failed_criteria, "
                 "signposting, decided_by_token_id, decided_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(decision.case_id));
    st.bind(2, v1::Suitability_Name(decision.evaluated));
    st.bind(3, v1::Suitability_Name(decision.decision));
    st.bind(4, decision.overridden ? 1 : 0);
    st.bind(5, std::string());  // Sealed below, bound to the id.
    st.bind(6, decision.high_concern_confirmed ? 1 : 0);
    st.bind(7, absl::StrJoin(failed, " "));
    st.bind(8, absl::StrJoin(decision.signposting, "\n"));
    BindOptionalId(st, 9, decision.decided_by_token_id);
    st.bind(10, static_cast<int64_t>(ToMicros(decision.decided_at)));
    st.exec();
    decision.id = tx.LastInsertId();
    if (absl::Status s = StoreSealedText(tx,
                                         {.case_id = decision.case_id,
                                          .table = "screening_decisions",
                                          .column = "justification",
                                          .row = decision.id},
                                         decision.justification, decision.decided_at);
        !s.ok()) {
      return s;
    }
    return decision;
  });
}

absl::StatusOr<std::vector<ScreeningDecisionRecord>> ListScreeningDecisions(Tx& tx,
                                                                            int64_t case_id) {
  return Guard("list screening decisions",
               [&]() -> absl::StatusOr<std::vector<ScreeningDecisionRecord>> {
                 Statement st(tx, absl::StrCat("SELECT ", kDecisionColumns,
                                               " FROM screening_decisions WHERE case_id = ? "
                                               "ORDER BY id DESC"));
                 st.bind(1, static_cast<int64_t>(case_id));
                 std::vector<ScreeningDecisionRecord> decisions;
                 while (st.executeStep()) decisions.push_back(ReadDecision(tx, st));
                 return decisions;
               });
}

absl::StatusOr<std::optional<ScreeningDecisionRecord>> LatestScreeningDecision(Tx& tx,
                                                                               int64_t case_id) {
  return Guard("latest screening decision",
               [&]() -> absl::StatusOr<std::optional<ScreeningDecisionRecord>> {
                 Statement st(tx, absl::StrCat("SELECT ", kDecisionColumns,
                                               " FROM screening_decisions WHERE case_id = ? "
                                               "ORDER BY id DESC LIMIT 1"));
                 st.bind(1, static_cast<int64_t>(case_id));
                 if (!st.executeStep()) return std::optional<ScreeningDecisionRecord>();
                 return std::optional<ScreeningDecisionRecord>(ReadDecision(tx, st));
               });
}

}  // namespace mediation::storage
