#include "services/retention.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/audit.h"
#include "storage/retention.h"

namespace mediation {

absl::StatusOr<int> AnonymiseExpiredCases(storage::Store& store, absl::Time now,
                                          absl::Duration retention) {
  constexpr int kBatch = 50;
  int anonymised = 0;
  for (;;) {
    int batch = 0;
    absl::Status status = store.Write([&](storage::Tx& tx) -> absl::Status {
      batch = 0;
      absl::StatusOr<std::vector<int64_t>> due =
          storage::CasesDueForAnonymisation(tx, now - retention, kBatch);
      if (!due.ok()) return due.status();
      for (const int64_t case_id : *due) {
        absl::StatusOr<storage::Anonymised> done = storage::AnonymiseCase(tx, case_id, now);
        if (!done.ok()) return done.status();
        storage::AuditRecord audit{
            .at = now,
            .call_id = "maintenance",
            .method = absl::StrCat("server: personal data removed after retention (", done->parties,
                                   " parties and the referrer; case keys "
                                   "destroyed; ",
                                   done->tokens, " party token(s) revoked)"),
            .objects = absl::StrCat("case:", case_id),
            .outcome = "OK"};
        if (absl::Status s = storage::AppendAudit(tx, audit).status(); !s.ok()) return s;
        ++batch;
      }
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    anonymised += batch;
    if (batch < kBatch) return anonymised;
  }
}

}  // namespace mediation
