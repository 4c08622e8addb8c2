// Writes the outbox (storage/outbox.h): which messages a change causes, to whom, saying what.
// Every function runs inside the transaction of the change, so a change rolled back writes no
// message (see proto/ppa/mediation/v1/notification.proto for the triggers and what a message
// may say).
//
// Thread-safe: const after construction, apart from the wake counter.
#ifndef MEDIATION_SERVICES_NOTIFICATIONS_NOTIFIER_H_
#define MEDIATION_SERVICES_NOTIFICATIONS_NOTIFIER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/rules/email.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::notifications {

struct NotificationSettings {
  // The service's mailbox: the From of every message and the ORGANIZER of invitations.
  rules::Mailbox from = {"Practitioner Performance Advice", "mediation@localhost"};
  // The case support team's mailbox (answers to offers). Empty: `from`.
  std::string case_support_email;
  // The console's address, for links ("https://mediation.example.nhs.uk"; no trailing slash).
  std::string public_url = "http://127.0.0.1:8080";
  // Reminders are due this long before a session starts.
  std::vector<absl::Duration> reminder_leads = {absl::Hours(48), absl::Hours(2)};
};

// "48,2" (hours, decimals allowed) as lead times; INVALID_ARGUMENT naming the bad item. Empty
// text: no reminders.
absl::StatusOr<std::vector<absl::Duration>> ParseReminderHours(absl::string_view text);

class Notifier {
 public:
  explicit Notifier(NotificationSettings settings);

  // Writes the messages for the case events committed in this transaction after position
  // `after_position` (storage/events.h): offers, answers, sessions (with their reminders) and
  // state changes. Returns how many messages it wrote.
  absl::StatusOr<int> ForEvents(storage::Tx& tx, int64_t after_position, absl::Time now) const;

  // A party's one-time sign-in link; `path` is "/app/join#<code>", `expires_at` its end.
  absl::Status PartySignInLink(storage::Tx& tx, const storage::CaseRecord& c, int64_t party_id,
                               absl::string_view path, absl::Time expires_at, absl::Time now) const;

  // A new agreement version for the parties to read and sign.
  absl::Status AgreementReady(storage::Tx& tx, int64_t case_id, int version, absl::Time now) const;

  // Whether a message was written since the last call (a hint for the delivery worker to look
  // now; a message it misses is found at its next poll).
  bool TakeWake() const { return wake_.exchange(false); }
  // Asks for that look after the next commit (a message was made due again).
  void RequestWake() const { wake_ = true; }

  const NotificationSettings& settings() const { return settings_; }

 private:
  struct Recipient {
    int role = 0;  // v1::RecipientRole
    int64_t id = 0;
    std::string name;
    std::string email;
  };
  struct Content {
    int kind = 0;  // v1::NotificationKind
    std::string template_name;
    std::string subject;
    std::vector<std::pair<std::string, std::string>> values;
    std::string calendar;  // iTIP, when not empty
    std::string calendar_method;
    int64_t session_id = 0;
    absl::Time due_at;
  };

  // Renders `content` for `to` and adds it to the outbox.
  absl::Status Add(storage::Tx& tx, const storage::CaseRecord& c, const Recipient& to,
                   const Content& content, absl::Time now) const;

  absl::Status ForSession(storage::Tx& tx, int64_t session_id, int event_kind,
                          absl::Time now) const;

  const NotificationSettings settings_;
  mutable std::atomic<bool> wake_{false};
};

}  // namespace mediation::notifications

#endif  // MEDIATION_SERVICES_NOTIFICATIONS_NOTIFIER_H_
