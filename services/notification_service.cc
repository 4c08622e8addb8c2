#include "services/notification_service.h"

#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/convert.h"
#include "services/core/paging.h"
#include "services/core/validation.h"
#include "services/notifications/notifier.h"
#include "services/rules/email.h"
#include "services/rules/identity.h"
#include "storage/cases.h"
#include "storage/mediators.h"
#include "storage/outbox.h"

namespace mediation {
namespace {

// `text` with every sign-in link's code replaced by "[withheld]": only its recipient may have it.
std::string WithoutSignInCodes(std::string text) {
  constexpr std::string_view kJoin = "/app/join#";
  for (size_t at = text.find(kJoin); at != std::string::npos; at = text.find(kJoin, at)) {
    const size_t code = at + kJoin.size();
    size_t end = code;
    while (end < text.size() && (absl::ascii_isalnum(static_cast<unsigned char>(text[end])) ||
                                 text[end] == '-' || text[end] == '_')) {
      ++end;
    }
    text.replace(code, end - code, "[withheld]");
    at = code;
  }
  return text;
}

absl::Status ListNotifications(CallContext& call, const v1::ListNotificationsRequest& request,
                               v1::ListNotificationsResponse& response) {
  Validator v;
  v.Enum("state", request.state(), v1::NotificationState_IsValid, /*required=*/false);
  if (request.case_id() < 0) v.Fail("case_id", "must not be negative");
  if (!v.ok()) return v.status();
  absl::StatusOr<storage::PageCursor> cursor =
      PageCursorFor("ListNotifications", request.page_size(), request.page_token());
  if (!cursor.ok()) return cursor.status();
  if (request.case_id() > 0) call.AddObject("case", request.case_id());
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    if (request.case_id() > 0) {
      if (absl::Status s = storage::GetCase(tx, request.case_id()).status(); !s.ok()) return s;
    }
    // Newest first: the cursor's id is the last (lowest) one of the previous page.
    absl::StatusOr<std::vector<storage::OutboxRecord>> messages = storage::ListOutboxMessages(
        tx, cursor->after_id, request.state(), request.case_id(), cursor->limit);
    if (!messages.ok()) return messages.status();
    response.set_next_page_token(
        FinishPage("ListNotifications", *cursor, *messages, [](const auto& m) { return m.id; }));
    for (const storage::OutboxRecord& m : *messages) ToProto(m, response.add_notifications());
    return absl::OkStatus();
  });
}

absl::Status GetNotification(CallContext& call, const v1::GetNotificationRequest& request,
                             v1::GetNotificationResponse& response) {
  Validator v;
  v.PositiveId("notification_id", request.notification_id());
  if (!v.ok()) return v.status();
  call.AddObject("notification", request.notification_id());
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::OutboxRecord> m =
        storage::GetOutboxMessage(tx, request.notification_id());
    if (!m.ok()) return m.status();
    ToProto(*m, response.mutable_notification());
    absl::StatusOr<std::string> message = storage::OutboxMessageText(tx, m->id);
    if (!message.ok()) return message.status();
    response.mutable_notification()->set_text(WithoutSignInCodes(rules::PlainTextOf(*message)));
    return absl::OkStatus();
  });
}

absl::Status ResendNotification(CallContext& call, const v1::ResendNotificationRequest& request,
                                v1::ResendNotificationResponse& response) {
  Validator v;
  v.PositiveId("notification_id", request.notification_id());
  if (!v.ok()) return v.status();
  call.AddObject("notification", request.notification_id());
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::OutboxRecord> m =
        storage::ResendOutboxMessage(tx, request.notification_id(), call.now());
    if (!m.ok()) return m.status();
    call.AddObject("case", m->case_id);
    ToProto(*m, response.mutable_notification());
    if (const notifications::Notifier* notifier = call.settings().notifier) {
      notifier->RequestWake();
    }
    return absl::OkStatus();
  });
}

// The folded email whose preference the call is about: the caller's own (a mediator's record,
// a party's contact), or for staff the `email` they name.
absl::StatusOr<std::string> PersonKey(CallContext& call, storage::Tx& tx,
                                      const std::string& email) {
  const Principal& who = call.principal();
  if (who.role == v1::ROLE_MEDIATOR || who.role == v1::ROLE_PARTY) {
    std::string own;
    if (who.role == v1::ROLE_MEDIATOR) {
      absl::StatusOr<storage::MediatorRecord> m = storage::GetMediator(tx, who.mediator_id);
      if (!m.ok()) return m.status();
      own = m->contact.email;
    } else {
      absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, who.case_id);
      if (!c.ok()) return c.status();
      for (const storage::PartyRecord& p : c->parties) {
        if (p.id == who.party_id) own = p.contact.email;
      }
    }
    if (!email.empty() && rules::EmailKey(email) != rules::EmailKey(own)) {
      return absl::PermissionDeniedError(
          "email: a mediator or party sets only its own preference; leave email empty");
    }
    if (own.empty()) {
      return absl::FailedPreconditionError("this token's person has no email address on record");
    }
    return rules::EmailKey(own);
  }
  return rules::EmailKey(email);
}

absl::Status ValidateEmailFor(CallContext& call, const std::string& email) {
  const v1::Role role = call.principal().role;
  if (role == v1::ROLE_MEDIATOR || role == v1::ROLE_PARTY) return absl::OkStatus();
  Validator v;
  v.Email("email", email, /*required=*/true);
  return v.status();
}

absl::Status SetReminderPreference(CallContext& call,
                                   const v1::SetReminderPreferenceRequest& request,
                                   v1::SetReminderPreferenceResponse& response) {
  if (absl::Status s = ValidateEmailFor(call, request.email()); !s.ok()) return s;
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::string> key = PersonKey(call, tx, request.email());
    if (!key.ok()) return key.status();
    if (absl::Status s = storage::SetWantsReminders(tx, *key, request.reminders(), call.now());
        !s.ok()) {
      return s;
    }
    int removed = 0;
    if (!request.reminders()) {
      absl::StatusOr<int> n = storage::RemovePendingRemindersTo(tx, *key);
      if (!n.ok()) return n.status();
      removed = *n;
    }
    response.set_reminders(request.reminders());
    response.set_removed_reminders(removed);
    return absl::OkStatus();
  });
}

absl::Status GetReminderPreference(CallContext& call,
                                   const v1::GetReminderPreferenceRequest& request,
                                   v1::GetReminderPreferenceResponse& response) {
  if (absl::Status s = ValidateEmailFor(call, request.email()); !s.ok()) return s;
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::string> key = PersonKey(call, tx, request.email());
    if (!key.ok()) return key.status();
    absl::StatusOr<bool> wants = storage::WantsReminders(tx, *key);
    if (!wants.ok()) return wants.status();
    response.set_reminders(*wants);
    return absl::OkStatus();
  });
}

}  // namespace

MEDIATION_UNARY_RPC(NotificationService, ListNotifications)

MEDIATION_UNARY_RPC(NotificationService, GetNotification)

MEDIATION_UNARY_RPC(NotificationService, ResendNotification)

MEDIATION_UNARY_RPC(NotificationService, SetReminderPreference)

MEDIATION_UNARY_RPC(NotificationService, GetReminderPreference)

MEDIATION_SERVICE(NotificationService)

}  // namespace mediation
