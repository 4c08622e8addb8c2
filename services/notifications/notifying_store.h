// A Store whose every write transaction also writes the messages its case events cause
// (Notifier::ForEvents), before it commits: a change and its messages are committed together or
// not at all, whichever code path made the change (a call, maintenance, a sign-in).
#ifndef MEDIATION_SERVICES_NOTIFICATIONS_NOTIFYING_STORE_H_
#define MEDIATION_SERVICES_NOTIFICATIONS_NOTIFYING_STORE_H_

#include <functional>
#include <memory>

#include "services/notifications/notifier.h"
#include "storage/store.h"

namespace mediation::notifications {

class NotifyingStore : public storage::Store {
 public:
  // `notifier` must outlive the store. `clock` gives the messages' time; `wake` (may be empty)
  // is called after a commit that wrote messages.
  NotifyingStore(std::unique_ptr<storage::Store> inner, const Notifier& notifier,
                 std::function<absl::Time()> clock, std::function<void()> wake);

  absl::Status Read(const storage::TxFn& fn) override { return inner_->Read(fn); }
  absl::Status Write(const storage::TxFn& fn) override;

 private:
  std::unique_ptr<storage::Store> inner_;
  const Notifier& notifier_;
  std::function<absl::Time()> clock_;
  std::function<void()> wake_;
};

}  // namespace mediation::notifications

#endif  // MEDIATION_SERVICES_NOTIFICATIONS_NOTIFYING_STORE_H_
