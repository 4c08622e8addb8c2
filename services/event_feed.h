// A caller's view of the case event log, read in position order: what StreamCaseEvents sends,
// whatever transport carries it (the gRPC reactor in event_service.cc, the Connect stream in
// services/http/event_stream.h).
//
// Not thread-safe: one Next at a time (a stream has at most one fetch outstanding).
#ifndef MEDIATION_SERVICES_EVENT_FEED_H_
#define MEDIATION_SERVICES_EVENT_FEED_H_

#include <deque>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/events.pb.h"
#include "services/core/call_pipeline.h"

namespace mediation {

class EventFeed {
 public:
  // The method's full name.
  static constexpr absl::string_view kMethod =
      "/ppa.mediation.v1.CaseEventService/StreamCaseEvents";

  // `pipeline` must outlive the feed.
  EventFeed(CallPipeline& pipeline, CallInput input, v1::StreamCaseEventsRequest request);

  struct Batch {
    // Not OK: the stream ends with it.
    absl::Status status;
    std::deque<v1::CaseEvent> events;
    // A full batch: fetch again at once.
    bool more = false;
    // The event hub's version before the read: wait for a write after it.
    uint64_t version = 0;
  };

  // On a worker: admits the caller the first time (a refusal audited as for any call), checks
  // its credentials again on every later fetch (so a revoked token, or an ended browser
  // session, ends the stream at the next committed write: the revocation is one), then reads the
  // next events it may see.
  Batch Next(storage::Store& store);

  // Whether stop_at_end was asked and everything up to the newest event when the stream
  // started has been fetched.
  bool Finished() const;

  // Writes the stream's log line; returns the status to end it with (internal detail logged,
  // not returned).
  absl::Status Finish(const absl::Status& status);

  // Positive after a refusal limited by the peer's rate: wait this long.
  int64_t retry_after_seconds() const { return retry_after_seconds_; }
  const CallInput& input() const { return input_; }

 private:
  absl::Status Admit(storage::Store& store);

  CallPipeline& pipeline_;
  const CallInput input_;
  const v1::StreamCaseEventsRequest request_;
  const absl::Time started_;
  std::optional<Principal> principal_;
  std::string principal_text_;
  std::string call_id_;
  int64_t retry_after_seconds_ = 0;
  absl::flat_hash_map<int64_t, bool> mediator_cases_;
  int64_t position_ = 0;
  std::optional<int64_t> end_;  // The last position when the stream started.
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_EVENT_FEED_H_
