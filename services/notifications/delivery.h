// The delivery worker: one thread that sends the outbox's due messages (storage/outbox.h) and
// records what the mail server said. A message is marked only after the mail server answered,
// so a crash between the two sends it again (at least once, under the same Message-ID); a
// temporary failure is tried again after an exponential backoff with jitter; a permanent
// refusal, or the last allowed try, leaves it DEAD_LETTER.
//
// A reminder whose session has already started when its turn comes (after an outage, say) is
// not sent: it becomes NOT_SENT, saying so.
//
// Thread-safe.
#ifndef MEDIATION_SERVICES_NOTIFICATIONS_DELIVERY_H_
#define MEDIATION_SERVICES_NOTIFICATIONS_DELIVERY_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/call_log.h"
#include "services/core/worker_pool.h"
#include "services/notifications/notifier.h"
#include "services/notifications/smtp_mailer.h"
#include "storage/outbox.h"

namespace mediation::notifications {

struct DeliverySettings {
  // Tries before a message is given up (DEAD_LETTER).
  int max_attempts = 8;
  // The wait after the first failed try; it doubles after each (up to retry_max), and a random
  // part of it (up to half) is taken off so that many failed messages do not retry together.
  absl::Duration retry_base = absl::Seconds(30);
  absl::Duration retry_max = absl::Hours(1);
  // How often the worker looks for due messages when nothing wakes it.
  absl::Duration poll = absl::Seconds(5);
  // Messages read per pass.
  int batch = 20;
  // False: the server starts no delivery thread and messages stay PENDING (for tests whose fault
  // plans count every write: a delivery write among them would take a fault meant for a call).
  bool enabled = true;
  // Whether this process may deliver now. Several server processes on one database deliver one
  // at a time (an InstanceLock, storage/database.h), so no email goes out twice. Empty: always.
  std::function<bool()> may_run;
};

// The wait before the try after `attempts` failed ones, with `jitter` in [0, 1).
absl::Duration RetryDelay(const DeliverySettings& settings, int attempts, double jitter);

class DeliveryWorker {
 public:
  // Without `mailer`, due messages become NOT_SENT. `pool`, `notifier` and `log` must outlive
  // the worker.
  DeliveryWorker(WorkerPool& pool, const Notifier& notifier, std::optional<SmtpMailer> mailer,
                 DeliverySettings settings, std::function<absl::Time()> clock, CallLog& log);
  ~DeliveryWorker();

  void Start();
  // Looks for due messages now (a new message was committed).
  void Wake();
  // Stops the thread (a send under way is abandoned: the message stays PENDING). Idempotent.
  void Stop();

  // One pass: sends (or marks) up to settings.batch due messages. Returns how many it handled.
  absl::StatusOr<int> RunOnce();

 private:
  // Runs `fn` on a worker and waits for it.
  absl::Status OnWorker(const std::function<absl::Status(storage::Store&)>& fn);
  // When the next message is due (nullopt: none is).
  std::optional<absl::Time> NextDue();
  // Records a try of message `id` in a write of its own; `*recorded` says whether it still was
  // PENDING with `attempts_before` tries.
  absl::Status Record(int64_t id, int attempts_before, const storage::OutboxAttempt& attempt,
                      bool* recorded);

  WorkerPool& pool_;
  const Notifier& notifier_;
  const std::optional<SmtpMailer> mailer_;
  const DeliverySettings settings_;
  std::function<absl::Time()> clock_;
  CallLog& log_;

  // Tries made but not recorded (the write failed), by message id: recorded before anything is
  // sent again. Touched only by the worker's thread (or RunOnce's caller).
  absl::flat_hash_map<int64_t, std::pair<int, storage::OutboxAttempt>> unrecorded_;

  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  bool woken_ = false;  // Guarded by mu_.
  std::thread thread_;
};

}  // namespace mediation::notifications

#endif  // MEDIATION_SERVICES_NOTIFICATIONS_DELIVERY_H_
