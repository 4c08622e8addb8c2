#include "services/convert.h"

#include <date/date.h>

#include <algorithm>

#include "storage/outbox.h"

namespace mediation {

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

void DayToProto(int32_t day, v1::Date* out) {
  const date::year_month_day ymd{date::sys_days{date::days{day}}};
  out->set_year(static_cast<int>(ymd.year()));
  out->set_month(static_cast<int>(static_cast<unsigned>(ymd.month())));
  out->set_day(static_cast<int>(static_cast<unsigned>(ymd.day())));
}

std::optional<int32_t> DayFromProto(const v1::Date& d) {
  if (d.year() < 1900 || d.year() > 2200 || d.month() < 1 || d.month() > 12 || d.day() < 1 ||
      d.day() > 31) {
    return std::nullopt;
  }
  const date::year_month_day ymd{date::year{d.year()},
                                 date::month{static_cast<unsigned>(d.month())},
                                 date::day{static_cast<unsigned>(d.day())}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<int32_t>(date::sys_days{ymd}.time_since_epoch().count());
}

std::optional<int> MinuteOfDay(const v1::TimeOfDay& t) {
  // Checked before multiplying: the fields are any int32 a client sends.
  if (t.hours() < 0 || t.hours() > 23 || t.minutes() < 0 || t.minutes() > 59) return std::nullopt;
  return t.hours() * 60 + t.minutes();
}

void ToProto(const storage::ContactRecord& c, v1::Contact* out) {
  out->set_name(c.name);
  out->set_email(c.email);
  out->set_phone(c.phone);
  out->set_job_title(c.job_title);
}

void ToProto(const storage::TokenRecord& t, v1::AccessToken* out) {
  out->set_id(t.id);
  out->set_role(t.role);
  out->set_label(t.label);
  out->set_mediator_id(t.mediator_id);
  out->set_organisation_id(t.organisation_id);
  out->set_case_id(t.case_id);
  out->set_party_id(t.party_id);
  ToProto(t.created_at, out->mutable_created_at());
  if (t.expires_at) ToProto(*t.expires_at, out->mutable_expires_at());
  if (t.revoked_at) ToProto(*t.revoked_at, out->mutable_revoked_at());
  out->set_issued_by_token_id(t.issued_by_token_id);
}

void ToProto(const storage::AuditRecord& a, v1::AuditEvent* out) {
  out->set_id(a.id);
  ToProto(a.at, out->mutable_at());
  out->set_call_id(a.call_id);
  out->set_token_id(a.token_id);
  out->set_role(a.role);
  out->set_method(a.method);
  out->set_objects(a.objects);
  out->set_outcome(a.outcome);
  out->set_transport(a.transport);
}

void ToProto(const storage::OrganisationRecord& o, v1::Organisation* out) {
  out->set_id(o.id);
  out->set_name(o.name);
  out->set_kind(o.kind);
  out->set_nation(o.nation);
  out->set_care_setting(o.care_setting);
  out->set_sector(o.sector);
  out->set_ods_code(o.ods_code);
  ToProto(o.contact, out->mutable_contact());
  ToProto(o.created_at, out->mutable_created_at());
}

void ToProto(const storage::PartyRecord& p, v1::Party* out) {
  out->set_id(p.id);
  ToProto(p.contact, out->mutable_contact());
  out->set_profession(p.profession);
  out->set_accessibility_needs(p.accessibility_needs);
  for (v1::AccessNeed n : p.access_needs) out->add_access_needs(n);
  out->set_bringing_companion(p.bringing_companion);
  out->set_typical_availability(p.typical_availability);
}

void ToProto(const storage::CaseRecord& c, v1::Case* out) {
  out->set_id(c.id);
  out->set_reference(c.reference);
  out->set_organisation_id(c.organisation_id);
  out->set_state(c.state);
  ToProto(c.referrer, out->mutable_referrer());
  out->set_summary(c.summary);
  out->set_concern_level(c.concern_level);
  out->set_concern_type(c.concern_type);
  for (const storage::PartyRecord& p : c.parties) ToProto(p, out->add_parties());
  for (const std::string& ref : c.linked_case_references) out->add_linked_case_references(ref);
  ToProto(c.created_at, out->mutable_created_at());
  ToProto(c.updated_at, out->mutable_updated_at());
  out->set_revision(c.revision);
  out->set_hold_reason(c.hold_reason);
  out->set_held_from_state(c.held_from_state);
  out->set_withdrawn_by(c.withdrawn_by);
  out->set_withdrawal_reason(c.withdrawal_reason);
  // The review notes are not on the case (GetOutcome shows them to those who may see them).
  ToProto(c.withheld, out->mutable_withheld(), {"review_notes"});
}

void ToProto(const std::vector<storage::WithheldField>& withheld,
             google::protobuf::RepeatedPtrField<v1::WithheldField>* out,
             std::initializer_list<absl::string_view> hidden) {
  for (const storage::WithheldField& w : withheld) {
    if (std::find(hidden.begin(), hidden.end(), w.field) != hidden.end()) continue;
    v1::WithheldField* f = out->Add();
    f->set_field(w.field);
    f->set_reason(w.reason == storage::WithheldField::Reason::kDestroyed
                      ? v1::WITHHELD_REASON_DESTROYED
                      : v1::WITHHELD_REASON_UNREADABLE);
  }
}

void ToProto(const storage::OutboxRecord& m, v1::Notification* out) {
  out->set_id(m.id);
  out->set_kind(m.kind);
  out->set_state(m.state);
  out->set_message_id(m.message_id);
  out->set_case_id(m.case_id);
  out->set_case_reference(m.case_reference);
  out->set_session_id(m.session_id);
  out->set_recipient_role(m.recipient_role);
  out->set_recipient_id(m.recipient_id);
  out->set_recipient_email(m.recipient_email);
  out->set_subject(m.subject);
  ToProto(m.created_at, out->mutable_created_at());
  ToProto(m.due_at, out->mutable_due_at());
  if (m.state == v1::NOTIFICATION_STATE_PENDING) {
    ToProto(m.next_attempt_at, out->mutable_next_attempt_at());
  }
  out->set_attempts(m.attempts);
  if (m.last_attempt_at.has_value()) {
    ToProto(*m.last_attempt_at, out->mutable_last_attempt_at());
  }
  out->set_last_response(m.last_response);
  if (m.sent_at.has_value()) ToProto(*m.sent_at, out->mutable_sent_at());
}

}  // namespace mediation
