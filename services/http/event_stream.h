// CaseEventService/StreamCaseEvents over the Connect protocol: envelopes of events as they come
// (from the same EventFeed the gRPC stream reads), then the end-of-stream message. Resumable by
// position like the gRPC stream; ended at the deadline (Connect-Timeout-Ms, at most the
// server's ceiling on call duration), at shutdown, and at the first committed write after the
// caller's token is revoked or its session ends.
//
// Thread-safe.
#ifndef MEDIATION_SERVICES_HTTP_EVENT_STREAM_H_
#define MEDIATION_SERVICES_HTTP_EVENT_STREAM_H_

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "services/core/call_pipeline.h"
#include "services/event_feed.h"
#include "services/http/connect.h"

namespace mediation::http {

class EventStreamCall : public std::enable_shared_from_this<EventStreamCall> {
 public:
  // Writes one chunk of the response (`last`: the end-of-stream message, after which the
  // response is complete) and calls `written` with whether it was written.
  using Writer =
      std::function<void(std::string chunk, bool last, std::function<void(bool)> written)>;

  // `body` is the request (one envelope); `executor` runs the deadline's timer.
  EventStreamCall(CallPipeline& pipeline, Codec codec, CallInput input, std::string body,
                  boost::asio::any_io_executor executor, Writer writer);
  ~EventStreamCall();

  void Start();

  // The connection went away: nothing more is written.
  void Cancel();

 private:
  // REQUIRES: mu_ held, nothing outstanding.
  void Fetch();
  void OnBatch(EventFeed::Batch batch);
  void Continue();
  void Wake();
  void OnDeadline();
  // Ends the stream with `status` (the end-of-stream message), once nothing is outstanding.
  // REQUIRES: mu_ held.
  void EndLocked(const absl::Status& status);

  CallPipeline& pipeline_;
  const Codec codec_;
  const CallInput input_;
  const std::string body_;
  const boost::asio::any_io_executor executor_;
  const Writer writer_;
  // Shared with its wait, which may outlive the call; cancelled on the executor.
  const std::shared_ptr<boost::asio::steady_timer> deadline_timer_;

  std::mutex mu_;
  std::optional<EventFeed> feed_;
  bool fetching_ = false;
  bool writing_ = false;
  uint64_t waiting_ = 0;
  bool more_ = false;
  uint64_t version_ = 0;
  std::optional<absl::Status> ending_;  // Why the stream is to end, once nothing is outstanding.
  bool ended_ = false;
  bool cancelled_ = false;
};

}  // namespace mediation::http

#endif  // MEDIATION_SERVICES_HTTP_EVENT_STREAM_H_
