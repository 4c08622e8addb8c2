#include "storage/events.h"

#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

template <typename E, typename ParseFn>
E OptionalEnum(const Column& c, ParseFn parse_fn) {
  if (c.isNull()) return E{};
  return EnumFromText<E>(c.getString(), parse_fn);
}

}  // namespace

absl::StatusOr<std::vector<CaseEventRecord>> ListCaseEvents(Tx& tx, int64_t after, int64_t case_id,
                                                            int limit) {
  return Guard("list case events", [&]() -> absl::StatusOr<std::vector<CaseEventRecord>> {
    Statement st(
        tx,
        "SELECT e.position, e.case_id, COALESCE(c.reference, ''), c.organisation_id, e.at, e.kind, "
        "e.from_state, e.to_state, e.allocation_id, e.mediator_id, e.allocation_role, "
        "e.allocation_state, e.session_id, e.session_kind, e.session_party_id, e.session_start, "
        "e.session_end, e.outcome FROM case_events e JOIN cases c ON c.id = e.case_id "
        "WHERE e.position > ?1 AND (?2 = 0 OR e.case_id = ?2) ORDER BY e.position LIMIT ?3");
    st.bind(1, static_cast<int64_t>(after));
    st.bind(2, static_cast<int64_t>(case_id));
    st.bind(3, limit);
    std::vector<CaseEventRecord> events;
    while (st.executeStep()) {
      CaseEventRecord e;
      e.position = st.getColumn(0).getInt64();
      e.case_id = st.getColumn(1).getInt64();
      e.case_reference = st.getColumn(2).getString();
      e.organisation_id = st.getColumn(3).getInt64();
      e.at = FromMicros(st.getColumn(4).getInt64());
      e.kind =
          EnumFromText<v1::CaseEventKind>(st.getColumn(5).getString(), v1::CaseEventKind_Parse);
      e.from_state = OptionalEnum<v1::CaseState>(st.getColumn(6), v1::CaseState_Parse);
      e.to_state = OptionalEnum<v1::CaseState>(st.getColumn(7), v1::CaseState_Parse);
      e.allocation_id = OptionalId(st.getColumn(8));
      e.mediator_id = OptionalId(st.getColumn(9));
      e.allocation_role =
          OptionalEnum<v1::AllocationRole>(st.getColumn(10), v1::AllocationRole_Parse);
      e.allocation_state =
          OptionalEnum<v1::AllocationState>(st.getColumn(11), v1::AllocationState_Parse);
      e.session_id = OptionalId(st.getColumn(12));
      e.session_kind = OptionalEnum<v1::SessionKind>(st.getColumn(13), v1::SessionKind_Parse);
      e.session_party_id = OptionalId(st.getColumn(14));
      e.session_start = OptionalId(st.getColumn(15));
      e.session_end = OptionalId(st.getColumn(16));
      e.outcome = OptionalEnum<v1::Outcome>(st.getColumn(17), v1::Outcome_Parse);
      events.push_back(std::move(e));
    }
    return events;
  });
}

absl::StatusOr<int64_t> LastCaseEventPosition(Tx& tx) {
  return Guard("last case event", [&]() -> absl::StatusOr<int64_t> {
    return SelectInt64(tx, "SELECT COALESCE(MAX(position), 0) FROM case_events");
  });
}

}  // namespace mediation::storage
