#include "services/notifications/delivery.h"

#include <cmath>
#include <future>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "ppa/mediation/v1/notification.pb.h"
#include "storage/outbox.h"

namespace mediation::notifications {
namespace {

namespace v1 = ::ppa::mediation::v1;

constexpr char kNoMailServer[] = "not sent: no mail server configured";
constexpr char kSessionStarted[] = "not sent: the session had already started";
constexpr char kWithheld[] =
    "not sent: the message could not be opened (its case's records were destroyed)";

// The first three characters of an SMTP answer ("250"), or "no answer": what the log may say
// (an answer can quote the address).
std::string CodeOf(const std::string& response) {
  if (response.size() >= 3 && std::isdigit(static_cast<unsigned char>(response[0]))) {
    return response.substr(0, 3);
  }
  return "no answer";
}

}  // namespace

absl::Duration RetryDelay(const DeliverySettings& settings, int attempts, double jitter) {
  absl::Duration delay = settings.retry_base;
  for (int i = 1; i < attempts && delay < settings.retry_max; ++i) delay *= 2;
  delay = std::min(delay, settings.retry_max);
  return delay - delay * (jitter / 2);
}

DeliveryWorker::DeliveryWorker(WorkerPool& pool, const Notifier& notifier,
                               std::optional<SmtpMailer> mailer, DeliverySettings settings,
                               std::function<absl::Time()> clock, CallLog& log)
    : pool_(pool),
      notifier_(notifier),
      mailer_(std::move(mailer)),
      settings_(settings),
      clock_(std::move(clock)),
      log_(log) {}

DeliveryWorker::~DeliveryWorker() { Stop(); }

void DeliveryWorker::Start() {
  thread_ = std::thread([this] {
    while (!stopping_) {
      absl::StatusOr<int> handled = RunOnce();
      if (!handled.ok()) {
        log_.Error("outbox", absl::StrCat("delivery pass failed: ", handled.status().ToString()));
      }
      if (handled.ok() && *handled >= settings_.batch) continue;  // More may be due.
      absl::Duration wait = settings_.poll;
      // Another server process delivers: look again a poll interval later, not when the next
      // email falls due.
      const bool delivering = !settings_.may_run || settings_.may_run();
      // After a failed pass (the database refusing writes, say), wait the whole poll interval:
      // never round again at once.
      if (const std::optional<absl::Time> next =
              handled.ok() && delivering ? NextDue() : std::nullopt;
          next.has_value()) {
        wait = std::clamp(*next - clock_(), absl::Milliseconds(10), settings_.poll);
      }
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, absl::ToChronoMilliseconds(wait),
                     [this] { return woken_ || stopping_; });
      woken_ = false;
    }
  });
}

void DeliveryWorker::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_.notify_all();
}

void DeliveryWorker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::Status DeliveryWorker::OnWorker(const std::function<absl::Status(storage::Store&)>& fn) {
  auto done = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = done->get_future();
  if (!pool_.Submit([&fn, done](storage::Store& store) { done->set_value(fn(store)); })) {
    return absl::UnavailableError("the server is stopping");
  }
  return result.get();
}

std::optional<absl::Time> DeliveryWorker::NextDue() {
  std::optional<absl::Time> next;
  (void)OnWorker([&](storage::Store& store) {
    return store.Read([&](storage::Tx& tx) -> absl::Status {
      absl::StatusOr<std::optional<absl::Time>> due = storage::NextOutboxDue(tx);
      if (!due.ok()) return due.status();
      next = *due;
      return absl::OkStatus();
    });
  });
  return next;
}

absl::Status DeliveryWorker::Record(int64_t id, int attempts_before,
                                    const storage::OutboxAttempt& attempt, bool* recorded) {
  return OnWorker([&](storage::Store& store) {
    return store.Write([&](storage::Tx& tx) -> absl::Status {
      absl::StatusOr<bool> r = storage::RecordOutboxAttempt(tx, id, attempts_before, attempt);
      if (!r.ok()) return r.status();
      *recorded = *r;
      return absl::OkStatus();
    });
  });
}

absl::StatusOr<int> DeliveryWorker::RunOnce() {
  if (settings_.may_run && !settings_.may_run()) return 0;  // Another server process delivers.
  // Tries whose recording failed: recorded first, and never sent again meanwhile (a message the
  // mail server accepted must not go out again on every pass while the database refuses writes).
  for (auto it = unrecorded_.begin(); it != unrecorded_.end();) {
    bool recorded = false;
    if (absl::Status s = Record(it->first, it->second.first, it->second.second, &recorded);
        !s.ok()) {
      return s;
    }
    unrecorded_.erase(it++);
  }
  std::vector<storage::OutboxRecord> due;
  const absl::Time started = clock_();
  if (absl::Status s = OnWorker([&](storage::Store& store) {
        return store.Read([&](storage::Tx& tx) -> absl::Status {
          absl::StatusOr<std::vector<storage::OutboxRecord>> found =
              storage::DueOutboxMessages(tx, started, settings_.batch);
          if (!found.ok()) return found.status();
          due = *std::move(found);
          return absl::OkStatus();
        });
      });
      !s.ok()) {
    return s;
  }
  absl::BitGen random;
  int handled = 0;
  for (const storage::OutboxRecord& m : due) {
    if (stopping_) break;
    // The lock is checked again before each send: lost meanwhile (its connection dropped),
    // another process may be delivering these very emails.
    if (settings_.may_run && !settings_.may_run()) break;
    if (unrecorded_.contains(m.id)) continue;
    // Resent, removed (a cancelled session's reminder, an opt-out) or marked since it was read?
    storage::OutboxSendCheck check = storage::OutboxSendCheck::kSend;
    if (absl::Status s = OnWorker([&](storage::Store& store) {
          return store.Read([&](storage::Tx& tx) -> absl::Status {
            absl::StatusOr<storage::OutboxSendCheck> c =
                storage::CheckOutboxBeforeSend(tx, m.id, m.attempts, clock_());
            if (!c.ok()) return c.status();
            check = *c;
            return absl::OkStatus();
          });
        });
        !s.ok()) {
      return s;
    }
    if (check == storage::OutboxSendCheck::kGone) continue;
    storage::OutboxAttempt attempt;
    if (check == storage::OutboxSendCheck::kSessionStarted) {
      attempt.state = v1::NOTIFICATION_STATE_NOT_SENT;
      attempt.response = kSessionStarted;
      attempt.counts_as_try = false;
    } else if (m.message_withheld) {
      attempt.state = v1::NOTIFICATION_STATE_DEAD_LETTER;
      attempt.response = kWithheld;
    } else if (!mailer_.has_value()) {
      attempt.state = v1::NOTIFICATION_STATE_NOT_SENT;
      attempt.response = kNoMailServer;
      attempt.counts_as_try = false;
    } else {
      SendResult sent =
          mailer_->Send(notifier_.settings().from.email, m.recipient_email, m.message, &stopping_);
      if (stopping_ && !sent.sent) break;  // Abandoned: it stays PENDING for the next start.
      attempt.response = std::move(sent.response);
      if (sent.sent) {
        attempt.state = v1::NOTIFICATION_STATE_SENT;
      } else if (sent.permanent || m.attempts + 1 >= settings_.max_attempts) {
        attempt.state = v1::NOTIFICATION_STATE_DEAD_LETTER;
      } else {
        attempt.state = v1::NOTIFICATION_STATE_PENDING;
      }
    }
    attempt.at = clock_();
    attempt.next_attempt_at =
        attempt.state == v1::NOTIFICATION_STATE_PENDING
            ? attempt.at + RetryDelay(settings_, m.attempts + 1, absl::Uniform(random, 0.0, 1.0))
            : attempt.at;
    bool recorded = false;
    if (absl::Status wrote = Record(m.id, m.attempts, attempt, &recorded); !wrote.ok()) {
      unrecorded_.emplace(m.id, std::pair{m.attempts, attempt});
      return wrote;
    }
    ++handled;
    if (recorded && attempt.state != v1::NOTIFICATION_STATE_NOT_SENT) {
      log_.Info(absl::StrCat("outbox: notification ", m.id, " (", v1::NotificationKind_Name(m.kind),
                             ", case ", m.case_id, ") ", v1::NotificationState_Name(attempt.state),
                             " after try ", m.attempts + 1, ": ", CodeOf(attempt.response)));
    }
  }
  return handled;
}

}  // namespace mediation::notifications
