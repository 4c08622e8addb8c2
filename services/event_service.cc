#include "services/event_service.h"

#include <grpcpp/alarm.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "services/event_feed.h"

namespace mediation {
namespace {

const MethodEntry& kEntry =
    RegisterStreamingMethod<v1::StreamCaseEventsRequest, v1::CaseEvent>(EventFeed::kMethod);

// One call. Three kinds of work can be outstanding: a fetch on the worker pool, a write to the
// client, or a wait on the hub. At most one of them is, and the call is finished only when none
// is, so nothing refers to the reactor after OnDone releases it.
//
// Besides, when the client's deadline is later than the server's ceiling on call duration
// (ServiceSettings::max_call), or absent, an alarm ends the stream at the ceiling with
// DEADLINE_EXCEEDED. The alarm may ring just as the call ends for another reason, so it holds
// only a weak reference: the reactor is owned by itself (self_) until OnDone, and by an alarm
// callback while that runs.
class EventStream final : public grpc::ServerWriteReactor<v1::CaseEvent>,
                          public std::enable_shared_from_this<EventStream> {
 public:
  static EventStream* Start(RpcRunner& runner, grpc::CallbackServerContext* context,
                            const v1::StreamCaseEventsRequest& request) {
    std::shared_ptr<EventStream> stream(new EventStream(runner, context, request));
    stream->self_ = stream;
    stream->Begin();
    return stream.get();
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(absl::CancelledError("the client stopped reading"));
    } else {
      queue_.pop_front();
      Continue();
    }
    UnlockAndFinish(lock);
  }

  void OnCancel() override {
    std::unique_lock lock(mu_);
    cancelled_ = true;
    if (waiting_ != 0 && runner_.hub()->Cancel(waiting_)) waiting_ = 0;
    if (!fetching_ && !writing_ && waiting_ == 0) {
      FinishLocked(absl::CancelledError("the client cancelled the stream"));
    }
    UnlockAndFinish(lock);
  }

  // gRPC's last call: the reactor is released (deleted, unless an alarm callback is running).
  void OnDone() override { std::shared_ptr<EventStream> last = std::move(self_); }

 private:
  EventStream(RpcRunner& runner, grpc::CallbackServerContext* context,
              const v1::StreamCaseEventsRequest& request)
      : runner_(runner),
        context_(context),
        feed_(runner.pipeline(), runner.InputOf(context, kEntry.name), request),
        started_(absl::Now()) {}

  void Begin() {
    std::unique_lock lock(mu_);
    const absl::Time ceiling = started_ + runner_.settings().max_call;
    if (context_->deadline() > absl::ToChronoTime(ceiling)) {
      ceiling_alarm_.Set(absl::ToChronoTime(ceiling), [weak = weak_from_this()](bool rang) {
        std::shared_ptr<EventStream> stream = weak.lock();
        if (rang && stream != nullptr) stream->OnCeiling();
      });
    }
    Fetch();
    UnlockAndFinish(lock);
  }

  // The ceiling's alarm rang.
  void OnCeiling() {
    std::unique_lock lock(mu_);
    if (!finished_) {
      ceiling_reached_ = true;
      if (waiting_ != 0 && runner_.hub()->Cancel(waiting_)) waiting_ = 0;
      // Otherwise the fetch, write or wake under way ends the call when it completes.
      if (!fetching_ && !writing_ && waiting_ == 0) FinishLocked(CeilingReached());
    }
    UnlockAndFinish(lock);
  }

  absl::Status CeilingReached() const {
    return absl::DeadlineExceededError(
        absl::StrCat("the stream reached the server's limit on call duration (",
                     absl::FormatDuration(runner_.settings().max_call),
                     "); reconnect with after_position set to the last position received"));
  }

  // REQUIRES: mu_ held, nothing outstanding.
  void Continue() {
    if (cancelled_) {
      FinishLocked(absl::CancelledError("the client cancelled the stream"));
      return;
    }
    if (ceiling_reached_) {
      FinishLocked(CeilingReached());
      return;
    }
    if (!queue_.empty()) {
      writing_ = true;
      StartWrite(&queue_.front());
      return;
    }
    if (feed_.Finished()) {
      FinishLocked(absl::OkStatus());
      return;
    }
    if (more_) {
      Fetch();
      return;
    }
    // Nothing new: wait for the next committed write, unless one came while fetching.
    waiting_ = runner_.hub()->WaitAfter(fetched_version_, [this] { Wake(); });
    if (waiting_ == 0) Resume();
  }

  // The hub woke the stream (from the thread that committed a write, or that is stopping the
  // server).
  void Wake() {
    std::unique_lock lock(mu_);
    waiting_ = 0;
    Resume();
    UnlockAndFinish(lock);
  }

  // REQUIRES: mu_ held, nothing outstanding.
  void Resume() {
    if (cancelled_) {
      FinishLocked(absl::CancelledError("the client cancelled the stream"));
    } else if (ceiling_reached_) {
      FinishLocked(CeilingReached());
    } else if (runner_.hub()->closed()) {
      FinishLocked(absl::UnavailableError(
          "the server is shutting down; reconnect with after_position set to the last position "
          "received"));
    } else {
      Fetch();
    }
  }

  // REQUIRES: mu_ held.
  void Fetch() {
    fetching_ = true;
    const bool queued = runner_.pool().Submit([this](storage::Store& store) { Load(store); });
    if (!queued) {
      fetching_ = false;
      FinishLocked(absl::UnavailableError("the server is shutting down"));
    }
  }

  // On a worker: the next batch the caller may see (admitting it the first time).
  void Load(storage::Store& store) {
    EventFeed::Batch batch = feed_.Next(store);
    if (feed_.retry_after_seconds() > 0 && !batch.status.ok()) {
      context_->AddTrailingMetadata("retry-after", std::to_string(feed_.retry_after_seconds()));
    }
    std::unique_lock lock(mu_);
    fetching_ = false;
    if (!batch.status.ok()) {
      FinishLocked(batch.status);
    } else {
      more_ = batch.more;
      fetched_version_ = batch.version;
      queue_ = std::move(batch.events);
      Continue();
    }
    UnlockAndFinish(lock);
  }

  // Decides how the call ends; UnlockAndFinish ends it.
  // REQUIRES: mu_ held; nothing outstanding (or this is the last of it).
  void FinishLocked(const absl::Status& status) {
    if (finished_) return;
    finished_ = true;
    final_status_ = RpcRunner::ToGrpc(feed_.Finish(status));
  }

  // Releases mu_ and, if the call has ended, finishes it. Finish lets gRPC delete the reactor
  // (OnDone) at once on another thread, so it is the last thing that touches `this`, and never
  // under the reactor's own lock.
  void UnlockAndFinish(std::unique_lock<std::mutex>& lock) {
    std::optional<grpc::Status> status = std::move(final_status_);
    final_status_.reset();
    lock.unlock();
    if (status.has_value()) Finish(*status);
  }

  RpcRunner& runner_;
  grpc::CallbackServerContext* const context_;
  EventFeed feed_;  // Touched only by the one fetch at a time, and when finishing.
  const absl::Time started_;

  std::mutex mu_;
  bool more_ = false;
  uint64_t fetched_version_ = 0;
  std::deque<v1::CaseEvent> queue_;
  bool fetching_ = false;
  bool writing_ = false;
  uint64_t waiting_ = 0;
  bool cancelled_ = false;
  bool finished_ = false;
  std::shared_ptr<EventStream> self_;  // Until OnDone.
  grpc::Alarm ceiling_alarm_;          // Cancelled, if still set, when the reactor is deleted.
  bool ceiling_reached_ = false;
  std::optional<grpc::Status> final_status_;  // Set by FinishLocked, taken by UnlockAndFinish.
};

}  // namespace

grpc::ServerWriteReactor<v1::CaseEvent>* CaseEventServiceImpl::StreamCaseEvents(
    grpc::CallbackServerContext* context, const v1::StreamCaseEventsRequest* request) {
  return EventStream::Start(runner_, context, *request);
}

}  // namespace mediation
