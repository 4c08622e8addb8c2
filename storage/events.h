// Case events (written by triggers on the tables they describe; see migration 8), read in
// position order.
#ifndef MEDIATION_STORAGE_EVENTS_H_
#define MEDIATION_STORAGE_EVENTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/events.pb.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

struct CaseEventRecord {
  int64_t position = 0;
  int64_t case_id = 0;
  std::string case_reference;
  int64_t organisation_id = 0;  // The case's, for filtering.
  absl::Time at;
  v1::CaseEventKind kind = v1::CASE_EVENT_KIND_UNSPECIFIED;
  v1::CaseState from_state = v1::CASE_STATE_UNSPECIFIED;
  v1::CaseState to_state = v1::CASE_STATE_UNSPECIFIED;
  int64_t allocation_id = 0;
  int64_t mediator_id = 0;
  v1::AllocationRole allocation_role = v1::ALLOCATION_ROLE_UNSPECIFIED;
  v1::AllocationState allocation_state = v1::ALLOCATION_STATE_UNSPECIFIED;
  int64_t session_id = 0;
  v1::SessionKind session_kind = v1::SESSION_KIND_UNSPECIFIED;
  int64_t session_party_id = 0;
  int64_t session_start = 0;  // UTC seconds.
  int64_t session_end = 0;
  v1::Outcome outcome = v1::OUTCOME_UNSPECIFIED;
};

// Events with a position above `after`, of case `case_id` (0: every case), in position order,
// at most `limit`.
absl::StatusOr<std::vector<CaseEventRecord>> ListCaseEvents(Tx& tx, int64_t after, int64_t case_id,
                                                            int limit);

// The highest position so far (0 when there are no events).
absl::StatusOr<int64_t> LastCaseEventPosition(Tx& tx);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_EVENTS_H_
