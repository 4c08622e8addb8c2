#include "services/scheduling/maintenance.h"

#include "absl/strings/str_cat.h"
#include "services/case_transitions.h"
#include "storage/audit.h"
#include "storage/cases.h"
#include "storage/sessions.h"

namespace mediation {

namespace v1 = ::ppa::mediation::v1;

absl::StatusOr<int> AdvanceCasesWithStartedSessions(storage::Store& store, absl::Time now) {
  int moved = 0;
  absl::Status status = store.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<int64_t>> started =
        storage::CasesWithStartedSessions(tx, absl::ToUnixSeconds(now));
    if (!started.ok()) return started.status();
    for (int64_t id : *started) {
      absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, id);
      if (!c.ok()) return c.status();
      absl::Status s = MoveCase(
          tx, *c,
          {.to = v1::CASE_STATE_IN_MEDIATION, .at = now, .reason = "the first session started"});
      if (!s.ok()) return s;
      storage::AuditRecord audit{.at = now,
                                 .call_id = "maintenance",
                                 .method = "server: first session started",
                                 .objects = absl::StrCat("case:", id),
                                 .outcome = "OK"};
      if (absl::Status a = storage::AppendAudit(tx, audit).status(); !a.ok()) return a;
      ++moved;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return moved;
}

}  // namespace mediation
