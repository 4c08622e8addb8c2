// The notification outbox (see proto/ppa/mediation/v1/notification.proto): messages written in
// the transaction of the change that causes them, then sent by the delivery worker
// (services/notifications/delivery.h). Each message's whole RFC 5322 text is sealed with its
// case's record key, so destroying the case's keys destroys its messages too.
//
// People who opted out of reminders are kept by their folded email (rules::EmailKey).
#ifndef MEDIATION_STORAGE_OUTBOX_H_
#define MEDIATION_STORAGE_OUTBOX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/notification.pb.h"
#include "storage/tx.h"

namespace mediation::storage {

struct OutboxRecord {
  int64_t id = 0;
  std::string message_id;  // "<...@...>"
  ppa::mediation::v1::NotificationKind kind = ppa::mediation::v1::NOTIFICATION_KIND_UNSPECIFIED;
  ppa::mediation::v1::NotificationState state = ppa::mediation::v1::NOTIFICATION_STATE_UNSPECIFIED;
  int64_t case_id = 0;
  std::string case_reference;  // Read only (from the case).
  int64_t session_id = 0;
  ppa::mediation::v1::RecipientRole recipient_role = ppa::mediation::v1::RECIPIENT_ROLE_UNSPECIFIED;
  int64_t recipient_id = 0;
  std::string recipient_email;
  std::string recipient_key;  // The folded email, for opting out of reminders.
  std::string subject;
  // The whole message as sent (headers and MIME body). Read only by DueOutboxMessages; written
  // by AddOutboxMessage.
  std::string message;
  // True when `message` could not be opened (its case's keys were destroyed).
  bool message_withheld = false;
  absl::Time created_at;
  absl::Time due_at;
  absl::Time next_attempt_at;
  int attempts = 0;
  std::optional<absl::Time> last_attempt_at;
  std::string last_response;
  std::optional<absl::Time> sent_at;
};

// Adds a PENDING message (state, attempts and the delivery fields are ignored); returns its id.
// REQUIRES: a write transaction; `case_id` names a case.
absl::StatusOr<int64_t> AddOutboxMessage(Tx& tx, const OutboxRecord& message, absl::Time now);

// Newest first: those with an id below `before_id` (0: from the newest), in `state`
// (UNSPECIFIED: any) and of `case_id` (0: any), at most `limit`. Without their message text.
absl::StatusOr<std::vector<OutboxRecord>> ListOutboxMessages(
    Tx& tx, int64_t before_id, ppa::mediation::v1::NotificationState state, int64_t case_id,
    int limit);

// The messages to the person with folded email `recipient_key`, newest first, at most `limit`,
// without their text (for a subject access export).
absl::StatusOr<std::vector<OutboxRecord>> ListOutboxMessagesTo(Tx& tx,
                                                               const std::string& recipient_key,
                                                               int limit);

// The whole text of message `id` as written ('' once it is gone, or when it cannot be opened).
absl::StatusOr<std::string> OutboxMessageText(Tx& tx, int64_t id);

// One message without its text; NOT_FOUND naming the id.
absl::StatusOr<OutboxRecord> GetOutboxMessage(Tx& tx, int64_t id);

// PENDING messages whose next try is due at `now`, the earliest first, at most `limit`, with
// their message text opened.
absl::StatusOr<std::vector<OutboxRecord>> DueOutboxMessages(Tx& tx, absl::Time now, int limit);

// Just before message `id` (read with `attempts` tries) is sent: whether it still is to be: kGone
// when it was resent, removed or marked meanwhile; kSessionStarted for a reminder whose session
// has started at `now` (a reminder late after an outage says nothing useful).
enum class OutboxSendCheck { kSend, kGone, kSessionStarted };
absl::StatusOr<OutboxSendCheck> CheckOutboxBeforeSend(Tx& tx, int64_t id, int attempts,
                                                      absl::Time now);

// When the next PENDING message is due (nullopt when none is).
absl::StatusOr<std::optional<absl::Time>> NextOutboxDue(Tx& tx);

// Records a try of message `id`, made when it had `attempts_before` tries: its new state,
// attempts_before + 1 tries, the answer, and (PENDING) when to try again. A sign-in link's text
// (it holds the link's code) is erased once it leaves PENDING. Returns false, changing
// nothing, when the message is no longer PENDING with that many tries (resent or removed
// meanwhile).
struct OutboxAttempt {
  ppa::mediation::v1::NotificationState state = ppa::mediation::v1::NOTIFICATION_STATE_PENDING;
  absl::Time at;
  absl::Time next_attempt_at;
  std::string response;
  bool counts_as_try = true;  // NOT_SENT (no mail server) counts no try.
};
absl::StatusOr<bool> RecordOutboxAttempt(Tx& tx, int64_t id, int attempts_before,
                                         const OutboxAttempt& attempt);

// Makes a DEAD_LETTER or NOT_SENT message PENDING again, due at `now` with no tries.
// FAILED_PRECONDITION in any other state, for a sign-in link (its text is gone once tried) and
// once the case's personal data was removed; NOT_FOUND for an unknown id.
absl::StatusOr<OutboxRecord> ResendOutboxMessage(Tx& tx, int64_t id, absl::Time now);

// Removes the PENDING reminders of session `session_id`; returns how many.
absl::StatusOr<int> RemovePendingReminders(Tx& tx, int64_t session_id);
// Removes the PENDING reminders to the person with folded email `recipient_key`.
absl::StatusOr<int> RemovePendingRemindersTo(Tx& tx, const std::string& recipient_key);

// Whether the person with folded email `key` receives reminders (true unless they opted out).
absl::StatusOr<bool> WantsReminders(Tx& tx, const std::string& key);
absl::Status SetWantsReminders(Tx& tx, const std::string& key, bool wants, absl::Time now);

// At the end of a case's retention period: its messages keep their kind, state and times; the
// address and the text go, and those still PENDING become DEAD_LETTER.
absl::Status ForgetOutboxOfCase(Tx& tx, int64_t case_id, absl::Time now);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_OUTBOX_H_
