#include "services/http/event_stream.h"

#include <boost/asio/post.hpp>

#include "absl/strings/str_cat.h"

namespace mediation::http {
namespace {

absl::Status Reconnect(absl::string_view why) {
  return absl::UnavailableError(
      absl::StrCat(why, "; reconnect with after_position set to the last position received"));
}

}  // namespace

EventStreamCall::EventStreamCall(CallPipeline& pipeline, Codec codec, CallInput input,
                                 std::string body, boost::asio::any_io_executor executor,
                                 Writer writer)
    : pipeline_(pipeline),
      codec_(codec),
      input_(std::move(input)),
      body_(std::move(body)),
      executor_(executor),
      writer_(std::move(writer)),
      deadline_timer_(std::make_shared<boost::asio::steady_timer>(executor)) {}

EventStreamCall::~EventStreamCall() {
  boost::asio::post(executor_, [timer = deadline_timer_] { timer->cancel(); });
}

void EventStreamCall::Start() {
  std::unique_lock lock(mu_);
  v1::StreamCaseEventsRequest request;
  absl::StatusOr<std::string> message = SingleEnvelope(body_);
  const absl::Status parsed =
      message.ok() ? ParseMessage(codec_, *message, request) : message.status();
  feed_.emplace(pipeline_, input_, request);
  if (!parsed.ok()) return EndLocked(parsed);
  // The caller's deadline, and at most the server's ceiling on call duration.
  const absl::Time deadline =
      std::min(input_.deadline, input_.received + pipeline_.settings().max_call);
  const absl::Duration wait = std::max(deadline - absl::Now(), absl::ZeroDuration());
  boost::asio::post(executor_, [timer = deadline_timer_, wait, weak = weak_from_this()] {
    timer->expires_after(absl::ToChronoNanoseconds(wait));
    timer->async_wait([timer, weak](boost::system::error_code ec) {
      if (ec) return;
      if (std::shared_ptr<EventStreamCall> self = weak.lock()) self->OnDeadline();
    });
  });
  Fetch();
}

void EventStreamCall::Fetch() {
  fetching_ = true;
  const bool queued = pipeline_.pool().Submit([self = shared_from_this()](storage::Store& store) {
    self->OnBatch(self->feed_->Next(store));
  });
  if (!queued) {
    fetching_ = false;
    EndLocked(Reconnect("the server is shutting down"));
  }
}

void EventStreamCall::OnBatch(EventFeed::Batch batch) {
  std::unique_lock lock(mu_);
  fetching_ = false;
  if (!batch.status.ok()) return EndLocked(batch.status);
  more_ = batch.more;
  version_ = batch.version;
  if (cancelled_ || ending_.has_value() || batch.events.empty()) return Continue();
  std::string chunk;
  for (const v1::CaseEvent& event : batch.events) {
    absl::StatusOr<std::string> encoded = SerializeMessage(codec_, event);
    if (!encoded.ok()) return EndLocked(encoded.status());
    chunk += Envelope(0, *encoded);
  }
  writing_ = true;
  writer_(std::move(chunk), false, [self = shared_from_this()](bool ok) {
    std::unique_lock lock(self->mu_);
    self->writing_ = false;
    if (!ok) self->cancelled_ = true;
    self->Continue();
  });
}

void EventStreamCall::Continue() {
  if (cancelled_) return EndLocked(absl::CancelledError("the client went away"));
  if (ending_.has_value()) return EndLocked(*ending_);
  if (feed_->Finished()) return EndLocked(absl::OkStatus());
  if (more_) return Fetch();
  EventHub* hub = pipeline_.hub();
  if (hub == nullptr || hub->closed()) return EndLocked(Reconnect("the server is shutting down"));
  // Nothing new: wait for the next committed write, unless one came while fetching.
  waiting_ = hub->WaitAfter(version_, [weak = weak_from_this()] {
    if (std::shared_ptr<EventStreamCall> self = weak.lock()) self->Wake();
  });
  if (waiting_ == 0) {
    if (hub->closed()) return EndLocked(Reconnect("the server is shutting down"));
    Fetch();
  }
}

// From the hub, on the thread that committed a write (or is stopping the server), never under
// the hub's lock nor ours.
void EventStreamCall::Wake() {
  std::unique_lock lock(mu_);
  waiting_ = 0;
  if (cancelled_) return EndLocked(absl::CancelledError("the client went away"));
  if (ending_.has_value()) return EndLocked(*ending_);
  if (pipeline_.hub()->closed()) return EndLocked(Reconnect("the server is shutting down"));
  Fetch();
}

void EventStreamCall::OnDeadline() {
  std::unique_lock lock(mu_);
  if (ended_) return;
  ending_ = absl::DeadlineExceededError(
      "the stream reached its deadline (Connect-Timeout-Ms, or the server's limit on call "
      "duration); reconnect with after_position set to the last position received");
  if (waiting_ != 0 && pipeline_.hub()->Cancel(waiting_)) waiting_ = 0;
  EndLocked(*ending_);
}

void EventStreamCall::Cancel() {
  std::unique_lock lock(mu_);
  if (ended_) return;
  cancelled_ = true;
  if (waiting_ != 0 && pipeline_.hub()->Cancel(waiting_)) waiting_ = 0;
  EndLocked(absl::CancelledError("the client went away"));
}

void EventStreamCall::EndLocked(const absl::Status& status) {
  if (ended_) return;
  if (fetching_ || writing_ || waiting_ != 0) {
    if (!ending_.has_value()) ending_ = status;
    return;
  }
  ended_ = true;
  const absl::Status final_status = feed_->Finish(status);
  boost::asio::post(executor_, [timer = deadline_timer_] { timer->cancel(); });
  if (cancelled_) return;
  writer_(Envelope(kEndStreamFlag, EndStreamJson(final_status)), true, [](bool) {});
}

}  // namespace mediation::http
