#include "storage/refusals.h"

#include "storage/sql_util.h"

namespace mediation::storage {

absl::Status AddRefusedCalls(Tx& tx, const std::vector<RefusedCallCount>& counts) {
  if (absl::Status s = tx.RequireWritable("add refused calls"); !s.ok()) return s;
  return Guard("add refused calls", [&]() -> absl::Status {
    Statement st(tx,
                 "INSERT INTO refused_anonymous_calls (peer, minute, calls, last_method) "
                 "VALUES (?, ?, ?, ?) ON CONFLICT (peer, minute) DO UPDATE SET "
                 "calls = refused_anonymous_calls.calls + excluded.calls, last_method = "
                 "excluded.last_method");
    for (const RefusedCallCount& c : counts) {
      st.reset();
      st.bind(1, c.peer);
      st.bind(2, static_cast<int64_t>(c.minute));
      st.bind(3, static_cast<int64_t>(c.calls));
      st.bind(4, c.last_method);
      st.exec();
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<RefusedCallCount>> ListRefusedCalls(Tx& tx, int limit) {
  return Guard("list refused calls", [&]() -> absl::StatusOr<std::vector<RefusedCallCount>> {
    Statement st(tx,
                 "SELECT peer, minute, calls, last_method FROM refused_anonymous_calls "
                 "ORDER BY minute DESC, peer LIMIT ?");
    st.bind(1, limit);
    std::vector<RefusedCallCount> out;
    while (st.executeStep()) {
      out.push_back({st.getColumn(0).getString(), st.getColumn(1).getInt64(),
                     st.getColumn(2).getInt64(), st.getColumn(3).getString()});
    }
    return out;
  });
}

absl::StatusOr<int> ForgetRefusedCallsBefore(Tx& tx, int64_t minute) {
  if (absl::Status s = tx.RequireWritable("forget refused calls"); !s.ok()) return s;
  return Guard("forget refused calls", [&]() -> absl::StatusOr<int> {
    Statement st(tx, "DELETE FROM refused_anonymous_calls WHERE minute < ?");
    st.bind(1, static_cast<int64_t>(minute));
    return st.exec();
  });
}

}  // namespace mediation::storage
