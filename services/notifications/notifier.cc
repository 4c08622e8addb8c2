#include "services/notifications/notifier.h"

#include <openssl/rand.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ppa/mediation/v1/events.pb.h"
#include "ppa/mediation/v1/notification.pb.h"
#include "services/notifications/templates.h"
#include "services/rules/icalendar.h"
#include "services/rules/identity.h"
#include "services/rules/london.h"
#include "services/scheduling/calendar_export.h"
#include "storage/cases.h"
#include "storage/events.h"
#include "storage/mediators.h"
#include "storage/organisations.h"
#include "storage/outbox.h"
#include "storage/sessions.h"

namespace mediation::notifications {
namespace {

namespace v1 = ::ppa::mediation::v1;

absl::string_view TemplateText(absl::string_view name) {
  for (const auto& [file, text] : Templates()) {
    if (file == std::string_view(name.data(), name.size())) {
      return absl::string_view(text.data(), text.size());
    }
  }
  return {};
}

// "<hex@domain>": 128 random bits, so a message is recognisable wherever it is seen again.
absl::StatusOr<std::string> NewMessageId(absl::string_view from_email) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return absl::InternalError("no random bytes for a Message-ID");
  }
  absl::string_view domain = "localhost";
  if (const size_t at = from_email.rfind('@'); at != absl::string_view::npos) {
    domain = from_email.substr(at + 1);
  }
  return absl::StrCat(
      "<",
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes)),
      "@", domain, ">");
}

// "an individual meeting" and its title.
std::string SessionWords(v1::SessionKind kind) {
  switch (kind) {
    case v1::SESSION_KIND_INDIVIDUAL_MEETING:
      return "an individual meeting";
    case v1::SESSION_KIND_JOINT_MEETING:
      return "the joint meeting";
    default:
      return "the follow-up review";
  }
}
std::string SessionTitle(v1::SessionKind kind) {
  switch (kind) {
    case v1::SESSION_KIND_INDIVIDUAL_MEETING:
      return "Individual meeting";
    case v1::SESSION_KIND_JOINT_MEETING:
      return "Joint meeting";
    default:
      return "Follow-up review";
  }
}

// "Tuesday 9 March 2027, 10:00 GMT (UTC+00:00) to 12:00".
std::string WhenText(int64_t start, int64_t end) {
  std::string end_text = rules::LondonHumanText(end);
  // The end's clock time alone when it is the same day and zone ("..., 12:00 GMT (UTC+00:00)").
  const size_t comma = end_text.find(", ");
  const std::string start_text = rules::LondonHumanText(start);
  if (comma != std::string::npos && start_text.substr(0, comma) == end_text.substr(0, comma)) {
    end_text = end_text.substr(comma + 2);
  }
  return absl::StrCat(start_text, " to ", end_text);
}

// The state of a case, as an organisation reads it.
std::string StateText(v1::CaseState state) {
  switch (state) {
    case v1::CASE_STATE_REFERRED:
      return "referred (the referral has been received)";
    case v1::CASE_STATE_SCREENING:
      return "being screened against the assisted mediation criteria";
    case v1::CASE_STATE_SUITABLE:
      return "suitable for assisted mediation";
    case v1::CASE_STATE_MEDIATORS_ALLOCATED:
      return "mediators allocated";
    case v1::CASE_STATE_SESSIONS_SCHEDULED:
      return "sessions scheduled";
    case v1::CASE_STATE_IN_MEDIATION:
      return "in mediation";
    case v1::CASE_STATE_OUTCOME_RECORDED:
      return "outcome recorded";
    case v1::CASE_STATE_FOLLOW_UP:
      return "follow-up review scheduled";
    case v1::CASE_STATE_CLOSED:
      return "closed";
    case v1::CASE_STATE_NOT_SUITABLE:
      return "not suitable for assisted mediation";
    case v1::CASE_STATE_ON_HOLD:
      return "on hold";
    case v1::CASE_STATE_WITHDRAWN:
      return "withdrawn";
    default:
      return "changed";
  }
}

std::string RoleText(v1::AllocationRole role) {
  return role == v1::ALLOCATION_ROLE_LEAD ? "lead mediator" : "co-mediator";
}

// "in 2 days", "in 2 hours", "in 90 minutes".
std::string LeadText(absl::Duration lead) {
  const int64_t minutes = absl::ToInt64Minutes(lead);
  if (minutes % (24 * 60) == 0 && minutes >= 24 * 60) {
    const int64_t days = minutes / (24 * 60);
    return absl::StrCat("in ", days, days == 1 ? " day" : " days");
  }
  if (minutes % 60 == 0 && minutes >= 60) {
    const int64_t hours = minutes / 60;
    return absl::StrCat("in ", hours, hours == 1 ? " hour" : " hours");
  }
  return absl::StrCat("in ", std::max<int64_t>(minutes, 1), minutes == 1 ? " minute" : " minutes");
}

const storage::PartyRecord* FindParty(const storage::CaseRecord& c, int64_t party_id) {
  for (const storage::PartyRecord& p : c.parties) {
    if (p.id == party_id) return &p;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::vector<absl::Duration>> ParseReminderHours(absl::string_view text) {
  std::vector<absl::Duration> leads;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    double hours = 0;
    if (!absl::SimpleAtod(item, &hours) || !(hours > 0) || hours > 24 * 366) {
      return absl::InvalidArgumentError(
          absl::StrCat("reminder_hours: '", item, "' is not a number of hours between 0 and 8784"));
    }
    leads.push_back(absl::Seconds(static_cast<int64_t>(hours * 3600)));
  }
  return leads;
}

Notifier::Notifier(NotificationSettings settings) : settings_(std::move(settings)) {}

absl::Status Notifier::Add(storage::Tx& tx, const storage::CaseRecord& c, const Recipient& to,
                           const Content& content, absl::Time now) const {
  if (to.email.empty()) return absl::OkStatus();  // Nobody to write to (removed data).
  const std::string console = absl::StrCat(settings_.public_url, "/app");
  std::vector<std::pair<std::string, std::string>> values = content.values;
  values.emplace_back("recipient_name", to.name);
  values.emplace_back("case_reference", c.reference);
  values.emplace_back("console_url", console);
  values.emplace_back("subject", content.subject);
  const bool reminder = content.kind == v1::NOTIFICATION_KIND_SESSION_REMINDER;
  auto render = [&](absl::string_view extension, bool html) {
    std::vector<std::pair<std::string, std::string>> all = values;
    all.emplace_back(
        "content", rules::FillTemplate(TemplateText(absl::StrCat(content.template_name, extension)),
                                       values, html));
    all.emplace_back(
        "footer", reminder
                      ? rules::FillTemplate(
                            TemplateText(absl::StrCat("reminder_footer", extension)), values, html)
                      : std::string());
    return rules::FillTemplate(TemplateText(absl::StrCat("layout", extension)), all, html);
  };
  storage::OutboxRecord m;
  absl::StatusOr<std::string> message_id = NewMessageId(settings_.from.email);
  if (!message_id.ok()) return message_id.status();
  m.message_id = *std::move(message_id);
  m.kind = static_cast<v1::NotificationKind>(content.kind);
  m.case_id = c.id;
  m.session_id = content.session_id;
  m.recipient_role = static_cast<v1::RecipientRole>(to.role);
  m.recipient_id = to.id;
  m.recipient_email = to.email;
  m.recipient_key = rules::EmailKey(to.email);
  m.subject = content.subject;
  m.due_at = content.due_at == absl::Time() ? now : content.due_at;
  rules::Email email{.from = settings_.from,
                     .to = {to.name, to.email},
                     .subject = content.subject,
                     .message_id = m.message_id,
                     .date = absl::ToUnixSeconds(std::max(now, m.due_at)),
                     .text = render(".txt", false),
                     .html = render(".html", true),
                     .calendar = content.calendar,
                     .calendar_method = content.calendar_method};
  m.message = rules::RenderEmail(email, m.message_id);
  absl::StatusOr<int64_t> id = storage::AddOutboxMessage(tx, m, now);
  if (!id.ok()) return id.status();
  wake_ = true;
  return absl::OkStatus();
}

absl::StatusOr<int> Notifier::ForEvents(storage::Tx& tx, int64_t after_position,
                                        absl::Time now) const {
  int written = 0;
  int64_t position = after_position;
  const std::string case_support =
      settings_.case_support_email.empty() ? settings_.from.email : settings_.case_support_email;
  while (true) {
    absl::StatusOr<std::vector<storage::CaseEventRecord>> events =
        storage::ListCaseEvents(tx, position, 0, 200);
    if (!events.ok()) return events.status();
    if (events->empty()) return written;
    for (const storage::CaseEventRecord& e : *events) {
      position = e.position;
      switch (e.kind) {
        case v1::CASE_EVENT_KIND_ALLOCATION_OFFERED: {
          absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, e.case_id);
          if (!c.ok()) return c.status();
          absl::StatusOr<storage::MediatorRecord> mediator =
              storage::GetMediator(tx, e.mediator_id);
          if (!mediator.ok()) return mediator.status();
          Content content{.kind = v1::NOTIFICATION_KIND_ALLOCATION_OFFER,
                          .template_name = "allocation_offer",
                          .subject = absl::StrCat("Case offered to you: ", c->reference),
                          .values = {{"allocation_role", RoleText(e.allocation_role)},
                                     {"link", absl::StrCat(settings_.public_url, "/app")}}};
          if (absl::Status s = Add(tx, *c,
                                   {v1::RECIPIENT_ROLE_MEDIATOR, mediator->id,
                                    mediator->contact.name, mediator->contact.email},
                                   content, now);
              !s.ok()) {
            return s;
          }
          ++written;
          break;
        }
        case v1::CASE_EVENT_KIND_ALLOCATION_CHANGED: {
          if (e.allocation_state != v1::ALLOCATION_STATE_ACCEPTED &&
              e.allocation_state != v1::ALLOCATION_STATE_DECLINED) {
            break;
          }
          absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, e.case_id);
          if (!c.ok()) return c.status();
          absl::StatusOr<storage::MediatorRecord> mediator =
              storage::GetMediator(tx, e.mediator_id);
          if (!mediator.ok()) return mediator.status();
          const bool accepted = e.allocation_state == v1::ALLOCATION_STATE_ACCEPTED;
          Content content{
              .kind = v1::NOTIFICATION_KIND_ALLOCATION_ANSWER,
              .template_name = "allocation_answer",
              .subject = absl::StrCat(c->reference, ": offer ", accepted ? "accepted" : "declined",
                                      " by ", mediator->contact.name),
              .values = {{"mediator_name", mediator->contact.name},
                         {"answer", accepted ? "accepted" : "declined"},
                         {"allocation_role", RoleText(e.allocation_role)},
                         {"link", absl::StrCat(settings_.public_url, "/app/cases/", c->id)}}};
          if (absl::Status s = Add(
                  tx, *c, {v1::RECIPIENT_ROLE_CASE_SUPPORT, 0, "case support team", case_support},
                  content, now);
              !s.ok()) {
            return s;
          }
          ++written;
          break;
        }
        case v1::CASE_EVENT_KIND_SESSION_BOOKED:
        case v1::CASE_EVENT_KIND_SESSION_RESCHEDULED:
        case v1::CASE_EVENT_KIND_SESSION_CANCELLED: {
          if (absl::Status s = ForSession(tx, e.session_id, e.kind, now); !s.ok()) return s;
          ++written;
          break;
        }
        case v1::CASE_EVENT_KIND_STATE_CHANGED: {
          absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, e.case_id);
          if (!c.ok()) return c.status();
          absl::StatusOr<storage::OrganisationRecord> org =
              storage::GetOrganisation(tx, c->organisation_id);
          if (!org.ok()) return org.status();
          const std::string state = StateText(e.to_state);
          Content content{
              .kind = v1::NOTIFICATION_KIND_CASE_STATE_CHANGED,
              .template_name = "case_state_changed",
              .subject = absl::StrCat(c->reference, ": ", state),
              .values = {{"organisation_name", org->name},
                         {"state_text", state},
                         {"link", absl::StrCat(settings_.public_url, "/app/cases/", c->id)}}};
          if (absl::Status s = Add(
                  tx, *c,
                  {v1::RECIPIENT_ROLE_ORGANISATION, org->id, org->contact.name, org->contact.email},
                  content, now);
              !s.ok()) {
            return s;
          }
          ++written;
          break;
        }
        default:
          break;
      }
    }
  }
}

absl::Status Notifier::ForSession(storage::Tx& tx, int64_t session_id, int event_kind,
                                  absl::Time now) const {
  absl::StatusOr<storage::SessionRecord> s = storage::GetSession(tx, session_id);
  if (!s.ok()) return s.status();
  absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, s->case_id);
  if (!c.ok()) return c.status();
  absl::StatusOr<rules::CalendarEvent> event = SessionCalendarEvent(tx, *c, *s, now);
  if (!event.ok()) return event.status();

  // Who attends: the mediators and parties it holds.
  std::vector<Recipient> mediators;
  std::vector<Recipient> parties;
  for (const storage::BookingRecord& b : s->bookings) {
    if (b.resource == "mediator") {
      absl::StatusOr<storage::MediatorRecord> m = storage::GetMediator(tx, b.resource_id);
      if (!m.ok()) return m.status();
      mediators.push_back({v1::RECIPIENT_ROLE_MEDIATOR, m->id, m->contact.name, m->contact.email});
    } else if (b.resource == "party") {
      if (const storage::PartyRecord* p = FindParty(*c, b.resource_id)) {
        parties.push_back({v1::RECIPIENT_ROLE_PARTY, p->id, p->contact.name, p->contact.email});
      }
    }
  }
  // Mediators see everyone's names; a party sees its own, and the others as their roles.
  std::vector<std::string> names;
  for (const Recipient& r : mediators) names.push_back(absl::StrCat(r.name, " (mediator)"));
  for (const Recipient& r : parties) names.push_back(r.name);
  const std::string mediator_view = absl::StrJoin(names, ", ");
  auto party_view = [&](const Recipient& me) {
    std::string text = absl::StrCat("you (", me.name, ")");
    if (parties.size() == 2) absl::StrAppend(&text, ", the other party");
    if (parties.size() > 2) absl::StrAppend(&text, ", the other parties");
    if (mediators.size() == 1) absl::StrAppend(&text, " and your mediator");
    if (mediators.size() > 1) absl::StrAppend(&text, " and your ", mediators.size(), " mediators");
    return text;
  };

  std::string place = event->location;
  std::string place_html = rules::HtmlEscape(event->location);
  if (!event->url.empty()) {
    place = absl::StrCat("Video call: ", event->url);
    place_html =
        absl::StrCat("Video call: <a href=\"", rules::HtmlEscape(event->url),
                     "\" style=\"color:#005eb8;\">", rules::HtmlEscape(event->url), "</a>");
  }
  const std::string when = WhenText(s->start_at, s->end_at);
  std::string previous_when;
  for (const storage::SessionChangeRecord& change : s->changes) {
    if (change.previous_start != 0)
      previous_when = WhenText(change.previous_start, change.previous_end);
  }

  v1::NotificationKind kind = v1::NOTIFICATION_KIND_SESSION_INVITATION;
  std::string template_name = "session_invitation";
  std::string subject_verb = "Invitation";
  if (event_kind == v1::CASE_EVENT_KIND_SESSION_RESCHEDULED) {
    kind = v1::NOTIFICATION_KIND_SESSION_UPDATE;
    template_name = "session_update";
    subject_verb = "Moved";
  } else if (event_kind == v1::CASE_EVENT_KIND_SESSION_CANCELLED) {
    kind = v1::NOTIFICATION_KIND_SESSION_CANCELLATION;
    template_name = "session_cancellation";
    subject_verb = "Cancelled";
  }
  // Pending reminders belong to the old time (or to a session that is no longer).
  if (kind != v1::NOTIFICATION_KIND_SESSION_INVITATION) {
    if (absl::StatusOr<int> removed = storage::RemovePendingReminders(tx, s->id); !removed.ok()) {
      return removed.status();
    }
  }
  const std::string title = SessionTitle(s->kind);
  std::vector<Recipient> everyone = mediators;
  everyone.insert(everyone.end(), parties.begin(), parties.end());
  for (const Recipient& to : everyone) {
    const std::string attendees =
        to.role == v1::RECIPIENT_ROLE_PARTY ? party_view(to) : mediator_view;
    std::vector<std::pair<std::string, std::string>> values = {
        {"session_kind", SessionWords(s->kind)},
        {"when", when},
        {"previous_when", previous_when},
        {"place", place},
        {"place_html", place_html},
        {"attendees", attendees}};
    Content content{.kind = kind,
                    .template_name = template_name,
                    .subject = absl::StrCat(subject_verb, ": ", title, ", ", c->reference, ", ",
                                            rules::LondonHumanText(s->start_at)),
                    .values = values,
                    .calendar = rules::RenderInvitation(
                        *event, {settings_.from.name, settings_.from.email}, {{to.name, to.email}}),
                    .calendar_method = event->cancelled ? "CANCEL" : "REQUEST",
                    .session_id = s->id};
    if (absl::Status st = Add(tx, *c, to, content, now); !st.ok()) return st;
    if (kind == v1::NOTIFICATION_KIND_SESSION_CANCELLATION) continue;
    // Reminders, unless the person opted out or the time has already come.
    absl::StatusOr<bool> wants = storage::WantsReminders(tx, rules::EmailKey(to.email));
    if (!wants.ok()) return wants.status();
    if (!*wants) continue;
    for (const absl::Duration lead : settings_.reminder_leads) {
      const absl::Time due = absl::FromUnixSeconds(s->start_at) - lead;
      if (due <= now) continue;
      Content reminder{.kind = v1::NOTIFICATION_KIND_SESSION_REMINDER,
                       .template_name = "session_reminder",
                       .subject = absl::StrCat("Reminder: ", title, ", ", c->reference, ", ",
                                               rules::LondonHumanText(s->start_at)),
                       .values = values,
                       .session_id = s->id,
                       .due_at = due};
      reminder.values.emplace_back("lead", LeadText(lead));
      if (absl::Status st = Add(tx, *c, to, reminder, now); !st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

absl::Status Notifier::PartySignInLink(storage::Tx& tx, const storage::CaseRecord& c,
                                       int64_t party_id, absl::string_view path,
                                       absl::Time expires_at, absl::Time now) const {
  const storage::PartyRecord* p = FindParty(c, party_id);
  if (p == nullptr) return absl::NotFoundError(absl::StrCat("party ", party_id));
  Content content{.kind = v1::NOTIFICATION_KIND_PARTY_SIGN_IN_LINK,
                  .template_name = "party_sign_in_link",
                  .subject = absl::StrCat("Your sign-in link for assisted mediation ", c.reference),
                  .values = {{"link", absl::StrCat(settings_.public_url, path)},
                             {"expires", rules::LondonHumanText(absl::ToUnixSeconds(expires_at))}}};
  return Add(tx, c, {v1::RECIPIENT_ROLE_PARTY, p->id, p->contact.name, p->contact.email}, content,
             now);
}

absl::Status Notifier::AgreementReady(storage::Tx& tx, int64_t case_id, int version,
                                      absl::Time now) const {
  absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, case_id);
  if (!c.ok()) return c.status();
  for (const storage::PartyRecord& p : c->parties) {
    Content content{
        .kind = v1::NOTIFICATION_KIND_AGREEMENT_READY,
        .template_name = "agreement_ready",
        .subject = absl::StrCat(c->reference, ": agreement version ", version, " ready to read"),
        .values = {{"version", absl::StrCat(version)},
                   {"link", absl::StrCat(settings_.public_url, "/app")}}};
    if (absl::Status s =
            Add(tx, *c, {v1::RECIPIENT_ROLE_PARTY, p.id, p.contact.name, p.contact.email}, content,
                now);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace mediation::notifications
