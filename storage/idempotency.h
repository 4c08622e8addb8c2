// Responses kept for idempotency keys: a create call that carried a key stores its response, so a
// repeat of the call is answered with it instead of creating again. The response can hold
// contact details or a token's secret: it is stored sealed with the service's responses key
// (storage/data_keys.h), bound to the token and key it answers.
#ifndef MEDIATION_STORAGE_IDEMPOTENCY_H_
#define MEDIATION_STORAGE_IDEMPOTENCY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/tx.h"

namespace mediation::storage {

struct IdempotentCallRecord {
  int64_t token_id = 0;
  std::string key;
  std::string method;          // The full gRPC method name.
  std::string request_sha256;  // Hex, of the request without its key.
  std::string response;        // The serialised response (stored sealed).
  absl::Time created_at;
};

// The call `token_id` made with `key`, if it is still kept. DATA_LOSS when its response does not
// open.
absl::StatusOr<std::optional<IdempotentCallRecord>> FindIdempotentCall(Tx& tx, int64_t token_id,
                                                                       const std::string& key);

// ABORTED if the token already used the key (a concurrent repeat won the race).
absl::Status InsertIdempotentCall(Tx& tx, const IdempotentCallRecord& record);

// Forgets calls made before `cutoff`; returns how many.
absl::StatusOr<int> ForgetIdempotentCallsBefore(Tx& tx, absl::Time cutoff);

// Seals again, under the responses key, the kept responses that schema versions 7 and 8 sealed
// with the master key itself (current master key `master_key_id`). Returns how many; a response
// that opens with neither is left to expire.
absl::StatusOr<int> ResealLegacyResponses(Tx& tx, int64_t master_key_id, absl::Time now);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_IDEMPOTENCY_H_
