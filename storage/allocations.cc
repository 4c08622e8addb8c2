#include "storage/allocations.h"

#include "absl/strings/str_cat.h"
#include "storage/sealed_text_internal.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kColumns[] =
    "id, case_id, mediator_id, role, state, open, offered_at, offered_by_token_id, responded_at, "
    "responded_by_token_id, decline_reason, response_note, window_first_day, window_last_day";

AllocationRecord ReadAllocation(Tx& tx, Statement& st) {
  AllocationRecord a;
  a.id = st.getColumn(0).getInt64();
  a.case_id = st.getColumn(1).getInt64();
  a.mediator_id = st.getColumn(2).getInt64();
  a.role = EnumFromText<v1::AllocationRole>(st.getColumn(3).getString(), v1::AllocationRole_Parse);
  a.state =
      EnumFromText<v1::AllocationState>(st.getColumn(4).getString(), v1::AllocationState_Parse);
  a.open = st.getColumn(5).getInt() != 0;
  a.offered_at = FromMicros(st.getColumn(6).getInt64());
  a.offered_by_token_id = OptionalId(st.getColumn(7));
  a.responded_at = OptionalTime(st.getColumn(8));
  a.responded_by_token_id = OptionalId(st.getColumn(9));
  a.decline_reason =
      EnumFromText<v1::DeclineReason>(st.getColumn(10).getString(), v1::DeclineReason_Parse);
  a.response_note = OpenText(
      tx, {.case_id = a.case_id, .table = "allocations", .column = "response_note", .row = a.id},
      st.getColumn(11), "response_note", &a.withheld);
  if (!st.getColumn(12).isNull()) a.window_first_day = st.getColumn(12).getInt();
  if (!st.getColumn(13).isNull()) a.window_last_day = st.getColumn(13).getInt();
  return a;
}

absl::StatusOr<std::vector<AllocationRecord>> ListWhere(Tx& tx, const char* column, int64_t id,
                                                        bool include_closed) {
  return Guard("list allocations", [&]() -> absl::StatusOr<std::vector<AllocationRecord>> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns, " FROM allocations WHERE ", column,
                                  " = ? AND (? OR state IN ('ALLOCATION_STATE_PENDING', "
                                  "'ALLOCATION_STATE_ACCEPTED')) ORDER BY id"));
    st.bind(1, static_cast<int64_t>(id));
    st.bind(2, include_closed ? 1 : 0);
    std::vector<AllocationRecord> out;
    while (st.executeStep()) out.push_back(ReadAllocation(tx, st));
    return out;
  });
}

}  // namespace

absl::StatusOr<AllocationRecord> InsertAllocation(Tx& tx, AllocationRecord a) {
  if (absl::Status s = tx.RequireWritable("insert allocation"); !s.ok()) return s;
  return Guard("insert allocation", [&]() -> absl::StatusOr<AllocationRecord> {
    Statement st(tx,
                 "INSERT INTO allocations (case_id, mediator_id, role, state, open, "
                 "offered_at, offered_by_token_id, window_first_day, window_last_day) VALUES "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(a.case_id));
    st.bind(2, static_cast<int64_t>(a.mediator_id));
    st.bind(3, v1::AllocationRole_Name(a.role));
    st.bind(4, v1::AllocationState_Name(a.state));
    st.bind(5, a.open ? 1 : 0);
    st.bind(6, static_cast<int64_t>(ToMicros(a.offered_at)));
    BindOptionalId(st, 7, a.offered_by_token_id);
    if (a.window_first_day && a.window_last_day) {
      st.bind(8, *a.window_first_day);
      st.bind(9, *a.window_last_day);
    }
    st.exec();
    a.id = tx.LastInsertId();
    Statement last(tx, "UPDATE mediators SET last_allocated_at = ? WHERE id = ?");
    last.bind(1, static_cast<int64_t>(ToMicros(a.offered_at)));
    last.bind(2, static_cast<int64_t>(a.mediator_id));
    last.exec();
    return a;
  });
}

absl::StatusOr<AllocationRecord> GetAllocation(Tx& tx, int64_t id) {
  return Guard("get allocation", [&]() -> absl::StatusOr<AllocationRecord> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns, " FROM allocations WHERE id = ?"));
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) {
      return absl::NotFoundError(absl::StrCat("allocation ", id, " not found"));
    }
    return ReadAllocation(tx, st);
  });
}

absl::StatusOr<std::vector<AllocationRecord>> ListAllocationsOfCase(Tx& tx, int64_t case_id,
                                                                    bool include_closed) {
  return ListWhere(tx, "case_id", case_id, include_closed);
}

absl::StatusOr<std::vector<AllocationRecord>> ListAllocationsOfMediator(Tx& tx, int64_t mediator_id,
                                                                        bool include_closed) {
  return ListWhere(tx, "mediator_id", mediator_id, include_closed);
}

absl::Status RecordAllocationResponse(Tx& tx, const AllocationRecord& a) {
  if (absl::Status s = tx.RequireWritable("respond to allocation"); !s.ok()) return s;
  absl::StatusOr<std::string> note = SealText(
      tx, {.case_id = a.case_id, .table = "allocations", .column = "response_note", .row = a.id},
      a.response_note, a.responded_at.value_or(a.offered_at));
  if (!note.ok()) return note.status();
  return Guard("respond to allocation", [&]() -> absl::Status {
    Statement st(tx,
                 "UPDATE allocations SET state = ?, open = ?, responded_at = ?, "
                 "responded_by_token_id = ?, decline_reason = ?, response_note = ? "
                 "WHERE id = ? AND state = 'ALLOCATION_STATE_PENDING'");
    st.bind(1, v1::AllocationState_Name(a.state));
    st.bind(2, a.open ? 1 : 0);
    BindOptionalTime(st, 3, a.responded_at);
    BindOptionalId(st, 4, a.responded_by_token_id);
    st.bind(5, v1::DeclineReason_Name(a.decline_reason));
    BindSealed(st, 6, *note);
    st.bind(7, static_cast<int64_t>(a.id));
    if (st.exec() != 1) {
      return absl::AbortedError(
          absl::StrCat("allocation ", a.id, " was answered meanwhile; read it again"));
    }
    return absl::OkStatus();
  });
}

absl::Status ReleaseAllocationsOfCase(Tx& tx, int64_t case_id, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("release allocations"); !s.ok()) return s;
  return Guard("release allocations", [&]() -> absl::Status {
    Statement pending(tx,
                      "UPDATE allocations SET state = 'ALLOCATION_STATE_RELEASED', "
                      "closed_at = ? WHERE case_id = ? AND "
                      "state = 'ALLOCATION_STATE_PENDING'");
    pending.bind(1, static_cast<int64_t>(ToMicros(at)));
    pending.bind(2, static_cast<int64_t>(case_id));
    pending.exec();
    Statement open(tx,
                   "UPDATE allocations SET open = 0, closed_at = COALESCE(closed_at, ?) "
                   "WHERE case_id = ? AND open = 1");
    open.bind(1, static_cast<int64_t>(ToMicros(at)));
    open.bind(2, static_cast<int64_t>(case_id));
    open.exec();
    return absl::OkStatus();
  });
}

absl::Status ReopenAllocationsOfCase(Tx& tx, int64_t case_id, bool keep_mediators, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("reopen allocations"); !s.ok()) return s;
  return Guard("reopen allocations", [&]() -> absl::Status {
    // Released now (the allocation event's time is closed_at), not when the case finished.
    Statement st(tx, keep_mediators
                         ? "UPDATE allocations SET open = 1, closed_at = NULL WHERE case_id = "
                           "?1 AND state = 'ALLOCATION_STATE_ACCEPTED'"
                         : "UPDATE allocations SET state = 'ALLOCATION_STATE_RELEASED', "
                           "closed_at = ?2 WHERE case_id = ?1 AND state = "
                           "'ALLOCATION_STATE_ACCEPTED'");
    st.bind(1, static_cast<int64_t>(case_id));
    if (!keep_mediators) st.bind(2, static_cast<int64_t>(ToMicros(at)));
    st.exec();
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> MediatorHoldsCase(Tx& tx, int64_t case_id, int64_t mediator_id) {
  return Guard("mediator holds case", [&]() -> absl::StatusOr<bool> {
    Statement st(tx,
                 "SELECT 1 FROM allocations WHERE case_id = ? AND mediator_id = ? AND "
                 "state IN ('ALLOCATION_STATE_PENDING', 'ALLOCATION_STATE_ACCEPTED') "
                 "LIMIT 1");
    st.bind(1, static_cast<int64_t>(case_id));
    st.bind(2, static_cast<int64_t>(mediator_id));
    return st.executeStep();
  });
}

}  // namespace mediation::storage
