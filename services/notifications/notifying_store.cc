#include "services/notifications/notifying_store.h"

#include "storage/events.h"

namespace mediation::notifications {

NotifyingStore::NotifyingStore(std::unique_ptr<storage::Store> inner, const Notifier& notifier,
                               std::function<absl::Time()> clock, std::function<void()> wake)
    : inner_(std::move(inner)),
      notifier_(notifier),
      clock_(std::move(clock)),
      wake_(std::move(wake)) {}

absl::Status NotifyingStore::Write(const storage::TxFn& fn) {
  absl::Status status = inner_->Write([&](storage::Tx& tx) -> absl::Status {
    // Writers are serialised (storage/store.h), so the events after this position are the ones
    // this transaction writes.
    absl::StatusOr<int64_t> before = storage::LastCaseEventPosition(tx);
    if (!before.ok()) return before.status();
    if (absl::Status s = fn(tx); !s.ok()) return s;
    return notifier_.ForEvents(tx, *before, clock_()).status();
  });
  if (status.ok() && wake_ && notifier_.TakeWake()) wake_();
  return status;
}

}  // namespace mediation::notifications
