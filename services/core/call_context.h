// What a handler gets for one call: the verified principal, the time, and transactions on this
// worker's store that keep the audit trail in step with the data.
//
// Not thread-safe: one call, one worker thread.
#ifndef MEDIATION_SERVICES_CORE_CALL_CONTEXT_H_
#define MEDIATION_SERVICES_CORE_CALL_CONTEXT_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/core/policy.h"
#include "services/core/principal.h"
#include "services/core/settings.h"
#include "storage/records.h"
#include "storage/store.h"

namespace google::protobuf {
class Message;
}

namespace mediation {

class CallContext {
 public:
  // `transport` ("grpc", "http") is recorded in the call's audit rows, nowhere else: a handler
  // does not know which transport called it.
  CallContext(storage::Store& store, const MethodPolicy& policy, Principal principal,
              std::string call_id, absl::Time now, const ServiceSettings& settings,
              absl::string_view transport)
      : store_(store),
        policy_(policy),
        principal_(std::move(principal)),
        call_id_(std::move(call_id)),
        now_(now),
        settings_(settings),
        transport_(transport) {}

  const Principal& principal() const { return principal_; }
  const std::string& call_id() const { return call_id_; }
  // The call's single notion of "now", so every row it writes agrees.
  absl::Time now() const { return now_; }
  const ServiceSettings& settings() const { return settings_; }

  // Names an object the call touched ("case", 12) for its audit row.
  void AddObject(absl::string_view kind, int64_t id);
  const std::string& objects() const { return objects_; }

  absl::Status Read(const storage::TxFn& fn) { return store_.Read(fn); }

  // Runs `fn` in a write transaction; if it succeeds, the call's audit row (outcome OK, with the
  // objects named so far, including any `fn` named) is appended before the commit, so the change
  // and its audit row are written together or not at all.
  // REQUIRES: the method's policy is Access::kWrite; at most one successful Write per call.
  absl::Status Write(const storage::TxFn& fn);

  // Whether a Write already recorded the call in the audit trail.
  bool audited() const { return audited_; }

  // Makes this call idempotent under `key` (validated by the caller): Write first looks for an
  // earlier call by the same token with the same key. If there is one for the same request, it
  // does not run its function: it restores that call's response into `response` and records a
  // REPLAYED audit row. Otherwise it runs the function and keeps `response` (sealed with the
  // master key) in the same transaction. The same key with another request is INVALID_ARGUMENT.
  // `request_sha256` identifies the request without its key; `response` must outlive the call.
  void MakeIdempotent(std::string key, std::string request_sha256,
                      google::protobuf::Message* response);

  // The message the handler answers in: a write that the store runs again (after a lost race)
  // starts again from the response as it was before the write, not from the first run's.
  void SetResponse(google::protobuf::Message* response) { response_ = response; }

  // Answers the call from a kept response before the handler runs, if there is one, so a repeat
  // is answered even when the handler would now refuse the request (a date has passed).
  // Returns whether it did. REQUIRES: MakeIdempotent was called.
  absl::StatusOr<bool> ReplayIfRepeated();

  // The kept response the call was answered with, if it was a repeat.
  const std::optional<std::string>& replayed_response() const { return replayed_response_; }

  // The audit row describing this call with `outcome`.
  storage::AuditRecord AuditRow(absl::string_view outcome) const;

 private:
  storage::Store& store_;
  const MethodPolicy& policy_;
  const Principal principal_;
  const std::string call_id_;
  const absl::Time now_;
  const ServiceSettings& settings_;
  const absl::string_view transport_;
  google::protobuf::Message* response_ = nullptr;  // Set by SetResponse.
  std::string objects_;
  bool audited_ = false;

  struct Idempotency {
    std::string key;
    std::string request_sha256;
    google::protobuf::Message* response = nullptr;
  };
  std::optional<Idempotency> idempotency_;
  std::optional<std::string> replayed_response_;

  // Inside a write transaction: if the key was used, restores the kept response, appends the
  // REPLAYED audit row and returns true.
  absl::StatusOr<bool> ReplayInTx(storage::Tx& tx);
  // Inside a write transaction: rechecks the token under the write lock.
  absl::Status RecheckToken(storage::Tx& tx) const;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_CALL_CONTEXT_H_
