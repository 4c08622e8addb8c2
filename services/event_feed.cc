#include "services/event_feed.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/case_access.h"
#include "services/convert.h"
#include "services/rules/london.h"
#include "storage/cases.h"
#include "storage/events.h"

namespace mediation {
namespace {

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

}  // namespace

EventFeed::EventFeed(CallPipeline& pipeline, CallInput input, v1::StreamCaseEventsRequest request)
    : pipeline_(pipeline),
      input_(std::move(input)),
      request_(std::move(request)),
      started_(absl::Now()),
      position_(request_.after_position()) {}

absl::Status EventFeed::Admit(storage::Store& store) {
  CallPipeline::Admission admission = pipeline_.Admit(store, input_);
  call_id_ = admission.call_id;
  retry_after_seconds_ = admission.retry_after_seconds;
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
      pipeline_.AuditRefusal(store, input_, *principal_, call_id_, admission.now, visible,
                             absl::StrCat("case:", request_.case_id()));
    }
    if (!visible.ok()) return visible;
  }
  return absl::OkStatus();
}

EventFeed::Batch EventFeed::Next(storage::Store& store) {
  Batch batch;
  batch.version = pipeline_.hub() != nullptr ? pipeline_.hub()->version() : 0;
  if (!principal_.has_value()) {
    batch.status = Admit(store);
  } else {
    int64_t known_token_id = 0;
    absl::StatusOr<Principal> still =
        pipeline_.Authenticate(store, input_.credentials, pipeline_.Now(), &known_token_id);
    if (!still.ok()) batch.status = still.status();
  }
  if (!batch.status.ok()) return batch;
  int64_t position = position_;
  // Whether a mediator may see a case changes with allocations: decided afresh each fetch.
  mediator_cases_.clear();
  batch.status = store.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> last = storage::LastCaseEventPosition(tx);
    if (!last.ok()) return last.status();
    if (!end_.has_value()) end_ = *last;
    absl::StatusOr<std::vector<storage::CaseEventRecord>> events =
        storage::ListCaseEvents(tx, position, request_.case_id(), kBatch);
    if (!events.ok()) return events.status();
    batch.more = events->size() == kBatch;
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
        ToProto(e, principal_->role, &batch.events.emplace_back());
      }
    }
    // A short batch means everything up to this snapshot's last event has been seen (the rest
    // were other cases' events).
    if (!batch.more) position = std::max(position, *last);
    return absl::OkStatus();
  });
  if (batch.status.ok()) position_ = position;
  return batch;
}

bool EventFeed::Finished() const {
  return request_.stop_at_end() && end_.has_value() && position_ >= *end_;
}

absl::Status EventFeed::Finish(const absl::Status& status) {
  return pipeline_.FinishStream(input_, call_id_.empty() ? "stream-not-admitted" : call_id_,
                                principal_text_.empty() ? "anonymous" : principal_text_, status,
                                absl::Now() - started_);
}

}  // namespace mediation
