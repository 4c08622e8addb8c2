#include "storage/outbox.h"

#include "storage/sealed_text_internal.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

namespace v1 = ::ppa::mediation::v1;

constexpr char kColumns[] =
    "o.id, o.message_id, o.kind, o.state, o.case_id, c.reference, o.session_id, "
    "o.recipient_role, o.recipient_id, o.recipient_email, o.recipient_key, o.subject, "
    "o.created_at, o.due_at, o.next_attempt_at, o.attempts, o.last_attempt_at, o.last_response, "
    "o.sent_at";
constexpr char kFrom[] = " FROM outbox o JOIN cases c ON c.id = o.case_id";

OutboxRecord ReadMessage(Statement& st) {
  OutboxRecord m;
  m.id = st.getColumn(0).getInt64();
  m.message_id = st.getColumn(1).getString();
  m.kind =
      EnumFromText<v1::NotificationKind>(st.getColumn(2).getString(), v1::NotificationKind_Parse);
  m.state =
      EnumFromText<v1::NotificationState>(st.getColumn(3).getString(), v1::NotificationState_Parse);
  m.case_id = st.getColumn(4).getInt64();
  m.case_reference = st.getColumn(5).getString();
  m.session_id = OptionalId(st.getColumn(6));
  m.recipient_role =
      EnumFromText<v1::RecipientRole>(st.getColumn(7).getString(), v1::RecipientRole_Parse);
  m.recipient_id = OptionalId(st.getColumn(8));
  m.recipient_email = st.getColumn(9).getString();
  m.recipient_key = st.getColumn(10).getString();
  m.subject = st.getColumn(11).getString();
  m.created_at = FromMicros(st.getColumn(12).getInt64());
  m.due_at = FromMicros(st.getColumn(13).getInt64());
  m.next_attempt_at = FromMicros(st.getColumn(14).getInt64());
  m.attempts = st.getColumn(15).getInt();
  m.last_attempt_at = OptionalTime(st.getColumn(16));
  m.last_response = st.getColumn(17).getString();
  m.sent_at = OptionalTime(st.getColumn(18));
  return m;
}

FieldRef MessageField(int64_t case_id, int64_t id) {
  return {.case_id = case_id, .table = "outbox", .column = "message", .row = id};
}

}  // namespace

absl::StatusOr<int64_t> AddOutboxMessage(Tx& tx, const OutboxRecord& m, absl::Time now) {
  if (absl::Status s = tx.RequireWritable("add outbox message"); !s.ok()) return s;
  absl::StatusOr<int64_t> id = Guard("add outbox message", [&]() -> absl::StatusOr<int64_t> {
    Statement st(tx,
                 "INSERT INTO outbox (message_id, kind, state, case_id, session_id, "
                 "recipient_role, recipient_id, recipient_email, recipient_key, subject, message, "
                 "created_at, due_at, next_attempt_at, attempts, last_response) "
                 "VALUES (?, ?, 'NOTIFICATION_STATE_PENDING', ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, 0, "
                 "'')");
    st.bind(1, m.message_id);
    st.bind(2, v1::NotificationKind_Name(m.kind));
    st.bind(3, static_cast<int64_t>(m.case_id));
    BindOptionalId(st, 4, m.session_id);
    st.bind(5, v1::RecipientRole_Name(m.recipient_role));
    BindOptionalId(st, 6, m.recipient_id);
    st.bind(7, m.recipient_email);
    st.bind(8, m.recipient_key);
    st.bind(9, m.subject);
    st.bind(10, static_cast<int64_t>(ToMicros(now)));
    st.bind(11, static_cast<int64_t>(ToMicros(m.due_at)));
    st.bind(12, static_cast<int64_t>(ToMicros(m.due_at)));
    st.exec();
    return tx.LastInsertId();
  });
  if (!id.ok()) return id.status();
  if (absl::Status s = StoreSealedText(tx, MessageField(m.case_id, *id), m.message, now); !s.ok()) {
    return s;
  }
  return *id;
}

absl::StatusOr<std::vector<OutboxRecord>> ListOutboxMessages(Tx& tx, int64_t before_id,
                                                             v1::NotificationState state,
                                                             int64_t case_id, int limit) {
  return Guard("list outbox", [&]() -> absl::StatusOr<std::vector<OutboxRecord>> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns, kFrom,
                                  " WHERE (?1 = 0 OR o.id < ?1) AND (?2 = '' OR o.state = ?2)"
                                  " AND (?3 = 0 OR o.case_id = ?3) ORDER BY o.id DESC "
                                  "LIMIT ?4"));
    st.bind(1, static_cast<int64_t>(before_id));
    st.bind(2, state == v1::NOTIFICATION_STATE_UNSPECIFIED ? std::string()
                                                           : v1::NotificationState_Name(state));
    st.bind(3, static_cast<int64_t>(case_id));
    st.bind(4, limit);
    std::vector<OutboxRecord> out;
    while (st.executeStep()) out.push_back(ReadMessage(st));
    return out;
  });
}

absl::StatusOr<std::vector<OutboxRecord>> ListOutboxMessagesTo(Tx& tx,
                                                               const std::string& recipient_key,
                                                               int limit) {
  return Guard("list outbox of person", [&]() -> absl::StatusOr<std::vector<OutboxRecord>> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns, kFrom,
                                  " WHERE o.recipient_key = ? ORDER BY o.id DESC LIMIT ?"));
    st.bind(1, recipient_key);
    st.bind(2, limit);
    std::vector<OutboxRecord> out;
    while (st.executeStep()) out.push_back(ReadMessage(st));
    return out;
  });
}

absl::StatusOr<std::string> OutboxMessageText(Tx& tx, int64_t id) {
  return Guard("read outbox message text", [&]() -> absl::StatusOr<std::string> {
    Statement st(tx, "SELECT case_id, message FROM outbox WHERE id = ?");
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) return absl::NotFoundError(absl::StrCat("notification ", id));
    std::vector<WithheldField> withheld;
    return OpenText(tx, MessageField(st.getColumn(0).getInt64(), id), st.getColumn(1), "message",
                    &withheld);
  });
}

absl::StatusOr<OutboxRecord> GetOutboxMessage(Tx& tx, int64_t id) {
  return Guard("get outbox message", [&]() -> absl::StatusOr<OutboxRecord> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns, kFrom, " WHERE o.id = ?"));
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) return absl::NotFoundError(absl::StrCat("notification ", id));
    return ReadMessage(st);
  });
}

absl::StatusOr<std::vector<OutboxRecord>> DueOutboxMessages(Tx& tx, absl::Time now, int limit) {
  return Guard("due outbox messages", [&]() -> absl::StatusOr<std::vector<OutboxRecord>> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns, ", o.message", kFrom,
                                  " WHERE o.state = 'NOTIFICATION_STATE_PENDING' AND "
                                  "o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.id "
                                  "LIMIT ?"));
    st.bind(1, static_cast<int64_t>(ToMicros(now)));
    st.bind(2, limit);
    std::vector<OutboxRecord> out;
    while (st.executeStep()) {
      OutboxRecord m = ReadMessage(st);
      std::vector<WithheldField> withheld;
      m.message =
          OpenText(tx, MessageField(m.case_id, m.id), st.getColumn(19), "message", &withheld);
      m.message_withheld = !withheld.empty() || m.message.empty();
      out.push_back(std::move(m));
    }
    return out;
  });
}

absl::StatusOr<OutboxSendCheck> CheckOutboxBeforeSend(Tx& tx, int64_t id, int attempts,
                                                      absl::Time now) {
  return Guard("check outbox message", [&]() -> absl::StatusOr<OutboxSendCheck> {
    Statement st(tx,
                 "SELECT o.state, o.attempts, o.kind, s.start_at FROM outbox o "
                 "LEFT JOIN sessions s ON s.id = o.session_id WHERE o.id = ?");
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) return OutboxSendCheck::kGone;
    if (st.getColumn(0).getString() != "NOTIFICATION_STATE_PENDING" ||
        st.getColumn(1).getInt() != attempts) {
      return OutboxSendCheck::kGone;
    }
    if (st.getColumn(2).getString() == "NOTIFICATION_KIND_SESSION_REMINDER" &&
        !st.getColumn(3).isNull() && st.getColumn(3).getInt64() <= absl::ToUnixSeconds(now)) {
      return OutboxSendCheck::kSessionStarted;
    }
    return OutboxSendCheck::kSend;
  });
}

absl::StatusOr<std::optional<absl::Time>> NextOutboxDue(Tx& tx) {
  return Guard("next outbox due", [&]() -> absl::StatusOr<std::optional<absl::Time>> {
    Statement st(tx,
                 "SELECT MIN(next_attempt_at) FROM outbox "
                 "WHERE state = 'NOTIFICATION_STATE_PENDING'");
    st.executeStep();
    return OptionalTime(st.getColumn(0));
  });
}

absl::StatusOr<bool> RecordOutboxAttempt(Tx& tx, int64_t id, int attempts_before,
                                         const OutboxAttempt& a) {
  if (absl::Status s = tx.RequireWritable("record outbox attempt"); !s.ok()) return s;
  return Guard("record outbox attempt", [&]() -> absl::StatusOr<bool> {
    Statement st(tx,
                 "UPDATE outbox SET state = ?1, attempts = attempts + ?2, last_attempt_at = ?3, "
                 "next_attempt_at = ?4, last_response = ?5, "
                 "sent_at = CASE WHEN ?1 = 'NOTIFICATION_STATE_SENT' THEN ?3 ELSE sent_at END, "
                 // A sign-in link's code is kept no longer than it takes to try to send it:
                 // such an email is never sent again (a new link is issued instead).
                 "message = CASE WHEN ?1 <> 'NOTIFICATION_STATE_PENDING' AND "
                 "kind = 'NOTIFICATION_KIND_PARTY_SIGN_IN_LINK' THEN '' ELSE message END "
                 "WHERE id = ?6 AND state = 'NOTIFICATION_STATE_PENDING' AND attempts = ?7");
    st.bind(1, v1::NotificationState_Name(a.state));
    st.bind(2, a.counts_as_try ? 1 : 0);
    st.bind(3, static_cast<int64_t>(ToMicros(a.at)));
    st.bind(4, static_cast<int64_t>(ToMicros(a.next_attempt_at)));
    st.bind(5, a.response);
    st.bind(6, static_cast<int64_t>(id));
    st.bind(7, attempts_before);
    return st.exec() == 1;
  });
}

absl::StatusOr<OutboxRecord> ResendOutboxMessage(Tx& tx, int64_t id, absl::Time now) {
  if (absl::Status s = tx.RequireWritable("resend outbox message"); !s.ok()) return s;
  absl::StatusOr<OutboxRecord> m = GetOutboxMessage(tx, id);
  if (!m.ok()) return m.status();
  if (m->state != v1::NOTIFICATION_STATE_DEAD_LETTER &&
      m->state != v1::NOTIFICATION_STATE_NOT_SENT) {
    return absl::FailedPreconditionError(
        absl::StrCat("notification ", id, " is ", v1::NotificationState_Name(m->state),
                     ": only a DEAD_LETTER or NOT_SENT message can be resent"));
  }
  if (m->kind == v1::NOTIFICATION_KIND_PARTY_SIGN_IN_LINK) {
    return absl::FailedPreconditionError(absl::StrCat(
        "notification ", id,
        " is a sign-in link, whose email is never sent again (its code is not kept): issue the "
        "party a new link (CaseService.IssuePartySignInLink), which emails it"));
  }
  if (m->recipient_email.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "notification ", id, " cannot be resent: its case's personal data was removed"));
  }
  absl::Status updated = Guard("resend outbox message", [&]() -> absl::Status {
    Statement st(tx,
                 "UPDATE outbox SET state = 'NOTIFICATION_STATE_PENDING', attempts = 0, "
                 "next_attempt_at = ?, last_response = 'resent' WHERE id = ?");
    st.bind(1, static_cast<int64_t>(ToMicros(now)));
    st.bind(2, static_cast<int64_t>(id));
    st.exec();
    return absl::OkStatus();
  });
  if (!updated.ok()) return updated;
  return GetOutboxMessage(tx, id);
}

absl::StatusOr<int> RemovePendingReminders(Tx& tx, int64_t session_id) {
  if (absl::Status s = tx.RequireWritable("remove reminders"); !s.ok()) return s;
  return Guard("remove reminders", [&]() -> absl::StatusOr<int> {
    Statement st(tx,
                 "DELETE FROM outbox WHERE session_id = ? AND state = "
                 "'NOTIFICATION_STATE_PENDING' AND kind = 'NOTIFICATION_KIND_SESSION_REMINDER'");
    st.bind(1, static_cast<int64_t>(session_id));
    return st.exec();
  });
}

absl::StatusOr<int> RemovePendingRemindersTo(Tx& tx, const std::string& recipient_key) {
  if (absl::Status s = tx.RequireWritable("remove reminders"); !s.ok()) return s;
  return Guard("remove reminders", [&]() -> absl::StatusOr<int> {
    Statement st(tx,
                 "DELETE FROM outbox WHERE recipient_key = ? AND state = "
                 "'NOTIFICATION_STATE_PENDING' AND kind = 'NOTIFICATION_KIND_SESSION_REMINDER'");
    st.bind(1, recipient_key);
    return st.exec();
  });
}

absl::StatusOr<bool> WantsReminders(Tx& tx, const std::string& key) {
  return Guard("read reminder preference", [&]() -> absl::StatusOr<bool> {
    Statement st(tx, "SELECT 1 FROM reminder_opt_outs WHERE person_key = ?");
    st.bind(1, key);
    return !st.executeStep();
  });
}

absl::Status SetWantsReminders(Tx& tx, const std::string& key, bool wants, absl::Time now) {
  if (absl::Status s = tx.RequireWritable("set reminder preference"); !s.ok()) return s;
  return Guard("set reminder preference", [&]() -> absl::Status {
    if (wants) {
      Statement st(tx, "DELETE FROM reminder_opt_outs WHERE person_key = ?");
      st.bind(1, key);
      st.exec();
    } else {
      Statement st(tx,
                   "INSERT INTO reminder_opt_outs (person_key, opted_out_at) VALUES (?, ?) "
                   "ON CONFLICT (person_key) DO NOTHING");
      st.bind(1, key);
      st.bind(2, static_cast<int64_t>(ToMicros(now)));
      st.exec();
    }
    return absl::OkStatus();
  });
}

absl::Status ForgetOutboxOfCase(Tx& tx, int64_t case_id, absl::Time now) {
  if (absl::Status s = tx.RequireWritable("forget outbox of case"); !s.ok()) return s;
  return Guard("forget outbox of case", [&]() -> absl::Status {
    Statement st(tx,
                 "UPDATE outbox SET recipient_email = '', recipient_key = '', message = '', "
                 "state = CASE state WHEN 'NOTIFICATION_STATE_PENDING' THEN "
                 "'NOTIFICATION_STATE_DEAD_LETTER' ELSE state END, "
                 "last_response = CASE state WHEN 'NOTIFICATION_STATE_PENDING' THEN "
                 "'not sent: the case''s personal data was removed' ELSE last_response END, "
                 "last_attempt_at = CASE state WHEN 'NOTIFICATION_STATE_PENDING' THEN ?2 "
                 "ELSE last_attempt_at END WHERE case_id = ?1");
    st.bind(1, static_cast<int64_t>(case_id));
    st.bind(2, static_cast<int64_t>(ToMicros(now)));
    st.exec();
    return absl::OkStatus();
  });
}

}  // namespace mediation::storage
