#include "services/event_service.h"

#include <grpcpp/alarm.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "services/case_access.h"
#include "services/convert.h"
#include "services/rules/london.h"
#include "storage/cases.h"
#include "storage/events.h"

namespace mediation {
namespace {

constexpr absl::string_view kMethod = "/ppa.mediation.v1.CaseEventService/StreamCaseEvents";
constexpr int kBatch = 256;

// Whether `who` may see `e`, and so whether it is sent at all. `may_view` answers, per case,
// whether a MEDIATOR may see the case (cached by the caller).
bool MaySee(const Principal& who, const storage::CaseEventRecord& e, bool mediator_may_view) {
  const bool allocation = e.kind == v1::CASE_EVENT_KIND_ALLOCATION_OFFERED ||
                          e.kind == v1::CASE_EVENT_KIND_ALLOCATION_CHANGED;
  const bool session = e.kind == v1::CASE_EVENT_KIND_SESSION_BOOKED ||
                       e.kind == v1::CASE_EVENT_KIND_SESSION_RESCHEDULED ||
                       e.kind == v1::CASE_EVENT_KIND_SESSION_CANCELLED;
  // Why a session needs rescheduling is someone's leave or availability: the service's business.
  const bool staff_only = e.kind == v1::CASE_EVENT_KIND_SESSION_NEEDS_RESCHEDULING;
  // Sessions with every party, as the scheduling service shows them.
  const bool joint = e.session_kind == v1::SESSION_KIND_JOINT_MEETING ||
                     e.session_kind == v1::SESSION_KIND_FOLLOW_UP_REVIEW;
  switch (who.role) {
    case v1::ROLE_CASE_SUPPORT:
    case v1::ROLE_SENIOR_ADVISER:
      return true;
    case v1::ROLE_MEDIATOR:
      return mediator_may_view && (!allocation || e.mediator_id == who.mediator_id);
    case v1::ROLE_ORGANISATION:
      return e.organisation_id == who.organisation_id && !allocation && !staff_only &&
             (!session || joint);
    case v1::ROLE_PARTY:
      return e.case_id == who.case_id && !allocation && !staff_only &&
             (!session || joint || e.session_party_id == who.party_id);
    default:
      return false;
  }
}

void ToProto(const storage::CaseEventRecord& e, v1::Role role, v1::CaseEvent* out) {
  out->set_position(e.position);
  out->set_case_id(e.case_id);
  out->set_case_reference(e.case_reference);
  mediation::ToProto(e.at, out->mutable_at());
  out->set_kind(e.kind);
  out->set_from_state(e.from_state);
  out->set_to_state(e.to_state);
  out->set_allocation_id(e.allocation_id);
  out->set_mediator_id(e.mediator_id);
  out->set_allocation_role(e.allocation_role);
  out->set_allocation_state(e.allocation_state);
  out->set_session_id(e.session_id);
  out->set_session_kind(e.session_kind);
  out->set_session_party_id(e.session_party_id);
  if (e.session_id != 0 && role == v1::ROLE_ORGANISATION) {
    // An organisation sees the dates of its cases' sessions, not their times.
    mediation::ToProto(
        rules::LondonDayStart(rules::LondonDay(absl::FromUnixSeconds(e.session_start))),
        out->mutable_session_start());
  } else if (e.session_id != 0) {
    out->mutable_session_start()->set_seconds(e.session_start);
    out->mutable_session_end()->set_seconds(e.session_end);
  }
  out->set_outcome(e.outcome);
}

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
      : runner_(runner), context_(context), request_(request), started_(absl::Now()) {
    position_ = request.after_position();
  }

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
    if (request_.stop_at_end() && end_.has_value() && position_ >= *end_) {
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

  // On a worker: admits the caller (once), then reads the next batch it may see.
  void Load(storage::Store& store) {
    absl::Status status;
    if (!principal_.has_value()) status = Admit(store);
    std::deque<v1::CaseEvent> batch;
    bool more = false;
    int64_t position = position_;
    const uint64_t version = runner_.hub()->version();
    // Whether a mediator may see a case changes with allocations: decided afresh each fetch.
    mediator_cases_.clear();
    if (status.ok()) {
      status = store.Read([&](storage::Tx& tx) -> absl::Status {
        absl::StatusOr<int64_t> last = storage::LastCaseEventPosition(tx);
        if (!last.ok()) return last.status();
        if (!end_.has_value()) end_ = *last;
        absl::StatusOr<std::vector<storage::CaseEventRecord>> events =
            storage::ListCaseEvents(tx, position, request_.case_id(), kBatch);
        if (!events.ok()) return events.status();
        more = events->size() == kBatch;
        for (const storage::CaseEventRecord& e : *events) {
          position = e.position;
          bool mediator_may_view = false;
          if (principal_->role == v1::ROLE_MEDIATOR) {
            auto cached = mediator_cases_.find(e.case_id);
            if (cached == mediator_cases_.end()) {
              absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, e.case_id);
              if (!c.ok()) return c.status();
              absl::StatusOr<bool> may = MayViewCase(tx, *principal_, *c);
              if (!may.ok()) return may.status();
              cached = mediator_cases_.emplace(e.case_id, *may).first;
            }
            mediator_may_view = cached->second;
          }
          if (MaySee(*principal_, e, mediator_may_view)) {
            ToProto(e, principal_->role, &batch.emplace_back());
          }
        }
        // A short batch means everything up to this snapshot's last event has been seen (the
        // rest were other cases' events).
        if (!more) position = std::max(position, *last);
        return absl::OkStatus();
      });
    }
    std::unique_lock lock(mu_);
    fetching_ = false;
    if (!status.ok()) {
      FinishLocked(status);
    } else {
      position_ = position;
      more_ = more;
      fetched_version_ = version;
      queue_ = std::move(batch);
      Continue();
    }
    UnlockAndFinish(lock);
  }

  absl::Status Admit(storage::Store& store) {
    RpcRunner::Admission admission = runner_.Admit(store, context_, kMethod);
    call_id_ = admission.call_id;
    if (!admission.principal.ok()) return admission.principal.status();
    principal_ = *admission.principal;
    principal_text_ = principal_->Describe();
    if (request_.after_position() < 0) {
      return absl::InvalidArgumentError("after_position: must not be negative");
    }
    if (request_.case_id() < 0) return absl::InvalidArgumentError("case_id: must be positive");
    if (request_.case_id() != 0) {
      absl::Status visible = store.Read([&](storage::Tx& tx) -> absl::Status {
        return LoadCaseFor(tx, *principal_, request_.case_id()).status();
      });
      if (absl::IsNotFound(visible)) {
        runner_.AuditRefusal(store, kMethod, *principal_, call_id_, admission.now, visible,
                             absl::StrCat("case:", request_.case_id()));
      }
      if (!visible.ok()) return visible;
    }
    return absl::OkStatus();
  }

  // Decides how the call ends; UnlockAndFinish ends it.
  // REQUIRES: mu_ held; nothing outstanding (or this is the last of it).
  void FinishLocked(const absl::Status& status) {
    if (finished_) return;
    finished_ = true;
    if (call_id_.empty()) call_id_ = "stream-not-admitted";
    final_status_ = runner_.FinishStream(kMethod, call_id_,
                                         principal_text_.empty() ? "anonymous" : principal_text_,
                                         status, absl::Now() - started_);
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
  const v1::StreamCaseEventsRequest request_;
  const absl::Time started_;

  std::mutex mu_;
  std::optional<Principal> principal_;
  std::string principal_text_;
  std::string call_id_;
  absl::flat_hash_map<int64_t, bool> mediator_cases_;  // Touched only by the one fetch at a time.
  int64_t position_ = 0;
  std::optional<int64_t> end_;  // The last position when the stream started.
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
