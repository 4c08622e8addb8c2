// Counts of calls refused before any token was known, per peer address and minute
// (services/core/anonymous_refusals.h): one row each, however many calls.
#ifndef MEDIATION_STORAGE_REFUSALS_H_
#define MEDIATION_STORAGE_REFUSALS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/tx.h"

namespace mediation::storage {

struct RefusedCallCount {
  std::string peer;
  int64_t minute = 0;  // Minutes since the epoch, UTC.
  int64_t calls = 0;
  std::string last_method;
};

// Adds the counts to the peer's rows for their minutes.
absl::Status AddRefusedCalls(Tx& tx, const std::vector<RefusedCallCount>& counts);

// The rows, newest first, at most `limit`.
absl::StatusOr<std::vector<RefusedCallCount>> ListRefusedCalls(Tx& tx, int limit);

// Forgets rows of minutes before `minute`; returns how many.
absl::StatusOr<int> ForgetRefusedCallsBefore(Tx& tx, int64_t minute);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_REFUSALS_H_
