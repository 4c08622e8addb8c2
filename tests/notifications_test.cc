// Email notifications end to end: the built mediation-server binary sends its outbox to a real
// SMTP server on loopback (tests/support/smtp_sink.py, Debian's python3-aiosmtpd, which records
// every message it accepts), and each message is checked twice: where it arrived (the sink's
// JSON) and in the outbox (NotificationService). Covered: who is told of each change, and that
// a refused change tells nobody; the iTIP invitations as libical reads them, across both clock
// changes; a mail server that is down, refuses for now or refuses for good; no mail server at
// all; reminders; and that nothing confidential is ever in a message.
#include <SQLiteCpp/SQLiteCpp.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <libical/ical.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/notification.grpc.pb.h"
#include "tests/support/server_process.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

namespace v1 = ::ppa::mediation::v1;
using ::mediation::testing::ReadAll;
using ::mediation::testing::ServerProcess;
using ::mediation::testing::SmtpSink;
using ::mediation::testing::TempDir;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::ValidOrganisation;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;
using Json = nlohmann::json;

constexpr char kFrom[] = "mediation@ppa.test";
constexpr char kCaseSupportMailbox[] = "casework@ppa.test";
constexpr char kPublicUrl[] = "http://127.0.0.1:8080";
// ValidOrganisation's contact.
constexpr char kOrganisationContact[] = "priya.shah@example.nhs.uk";
constexpr char kVideoLink[] = "https://video.example/room/42";
constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

// Polls `done` every 50 ms until it holds or `timeout` passes; whether it held.
bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (true) {
    if (done()) return true;
    if (absl::Now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// "SESSION_INVITATION to jo@example.org".
std::string Line(v1::NotificationKind kind, const std::string& email) {
  return absl::StrCat(absl::StripPrefix(v1::NotificationKind_Name(kind), "NOTIFICATION_KIND_"),
                      " to ", email);
}
std::vector<std::string> Lines(const std::vector<v1::Notification>& written) {
  std::vector<std::string> lines;
  for (const v1::Notification& n : written) lines.push_back(Line(n.kind(), n.recipient_email()));
  std::sort(lines.begin(), lines.end());
  return lines;
}
std::vector<std::string> Expected(
    const std::vector<std::pair<v1::NotificationKind, std::string>>& messages) {
  std::vector<std::string> lines;
  for (const auto& [kind, email] : messages) lines.push_back(Line(kind, email));
  std::sort(lines.begin(), lines.end());
  return lines;
}

bool IsReminder(const v1::Notification& n) {
  return n.kind() == v1::NOTIFICATION_KIND_SESSION_REMINDER;
}
std::vector<v1::Notification> Reminders(const std::vector<v1::Notification>& written) {
  std::vector<v1::Notification> out;
  std::copy_if(written.begin(), written.end(), std::back_inserter(out), IsReminder);
  return out;
}
std::vector<v1::Notification> AllButReminders(const std::vector<v1::Notification>& written) {
  std::vector<v1::Notification> out;
  std::copy_if(written.begin(), written.end(), std::back_inserter(out),
               [](const v1::Notification& n) { return !IsReminder(n); });
  return out;
}

// Everything a person reads in a message: headers and the decoded parts (the raw message holds
// its parts in base64, where a leaked text would not show).
std::string Readable(const Json& mail) {
  return absl::StrCat(mail["raw"].get<std::string>(), "\n", mail["subject"].get<std::string>(),
                      "\n", mail["text"].get<std::string>(), "\n", mail["html"].get<std::string>(),
                      "\n", mail["calendar"].get<std::string>());
}

// The header block of a raw message, with "\n" before each line, lower-cased.
std::string Headers(const Json& mail) {
  const std::string raw = mail["raw"].get<std::string>();
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) end = raw.find("\n\n");
  return absl::AsciiStrToLower(absl::StrCat("\n", raw.substr(0, end)));
}

// An iTIP part as libical reads it.
struct Itip {
  bool parsed = false;
  int errors = 0;  // libical's restriction check for the METHOD, and parse errors.
  std::string method;
  std::string timezone_id;  // The VTIMEZONE's TZID.
  int events = 0;
  std::string uid;
  int sequence = -1;
  std::string status;
  std::string organizer;
  std::vector<std::string> attendees;
  // DTSTART and DTEND: their TZID parameter, their value as written, and the instant libical
  // makes of them with the calendar's own VTIMEZONE.
  std::string start_tzid, start_value, end_tzid, end_value;
  int64_t start = 0, end = 0;
};

Itip ParseItip(const std::string& text) {
  Itip out;
  icalcomponent* calendar = icalparser_parse_string(text.c_str());
  if (calendar == nullptr) return out;
  out.parsed = icalcomponent_isa(calendar) == ICAL_VCALENDAR_COMPONENT;
  icalrestriction_check(calendar);
  out.errors = icalcomponent_count_errors(calendar);
  if (icalproperty* p = icalcomponent_get_first_property(calendar, ICAL_METHOD_PROPERTY)) {
    out.method = icalproperty_get_value_as_string(p);
  }
  if (icalcomponent* tz = icalcomponent_get_first_component(calendar, ICAL_VTIMEZONE_COMPONENT)) {
    if (icalproperty* p = icalcomponent_get_first_property(tz, ICAL_TZID_PROPERTY)) {
      out.timezone_id = icalproperty_get_tzid(p);
    }
  }
  out.events = icalcomponent_count_components(calendar, ICAL_VEVENT_COMPONENT);
  icalcomponent* event = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
  if (event != nullptr) {
    out.uid = icalcomponent_get_uid(event) ? icalcomponent_get_uid(event) : "";
    out.sequence = icalcomponent_get_sequence(event);
    if (icalproperty* p = icalcomponent_get_first_property(event, ICAL_STATUS_PROPERTY)) {
      out.status = icalproperty_get_value_as_string(p);
    }
    if (icalproperty* p = icalcomponent_get_first_property(event, ICAL_ORGANIZER_PROPERTY)) {
      out.organizer = icalproperty_get_organizer(p);
    }
    for (icalproperty* p = icalcomponent_get_first_property(event, ICAL_ATTENDEE_PROPERTY);
         p != nullptr; p = icalcomponent_get_next_property(event, ICAL_ATTENDEE_PROPERTY)) {
      out.attendees.push_back(icalproperty_get_attendee(p));
    }
    auto read_time = [&](icalproperty_kind kind, std::string* tzid, std::string* value) {
      icalproperty* p = icalcomponent_get_first_property(event, kind);
      if (p == nullptr) return;
      *value = icalproperty_get_value_as_string(p);
      if (icalparameter* z = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) {
        *tzid = icalparameter_get_tzid(z);
      }
    };
    read_time(ICAL_DTSTART_PROPERTY, &out.start_tzid, &out.start_value);
    read_time(ICAL_DTEND_PROPERTY, &out.end_tzid, &out.end_value);
    icaltimezone* utc = icaltimezone_get_utc_timezone();
    out.start = icaltime_as_timet(icaltime_convert_to_zone(icalcomponent_get_dtstart(event), utc));
    out.end = icaltime_as_timet(icaltime_convert_to_zone(icalcomponent_get_dtend(event), utc));
  }
  icalcomponent_free(calendar);
  return out;
}

// The last Sunday of `month`: Europe/London's clocks change at 01:00 UTC that day.
absl::CivilDay LastSunday(int64_t year, int month) {
  absl::CivilDay day = absl::CivilDay(absl::CivilMonth(year, month) + 1) - 1;
  while (absl::GetWeekday(day) != absl::Weekday::sunday) --day;
  return day;
}

// The next clock change in `month` (3 or 10) whose Friday before is more than three days away:
// 28 March and 31 October 2027 when this was written.
absl::CivilDay NextClockChange(int month) {
  const absl::CivilDay soon = absl::ToCivilDay(absl::Now() + absl::Hours(72), absl::UTCTimeZone());
  for (int64_t year = soon.year();; ++year) {
    const absl::CivilDay sunday = LastSunday(year, month);
    if (sunday - 2 > soon) return sunday;
  }
}

int64_t Utc(absl::CivilDay day, int hour, int minute) {
  return absl::ToUnixSeconds(absl::FromCivil(
      absl::CivilMinute(day.year(), day.month(), day.day(), hour, minute), absl::UTCTimeZone()));
}

// "20270329T100000" (local, with TZID) or "20271031T003000Z" (UTC).
std::string Stamp(absl::CivilDay day, int hour, int minute, bool utc = false) {
  return absl::StrFormat("%04d%02d%02dT%02d%02d00%s", day.year(), day.month(), day.day(), hour,
                         minute, utc ? "Z" : "");
}

class NotificationsTest : public ::testing::Test {
 protected:
  NotificationsTest() : sink_(dir_.File("mail"), dir_.File("smtp_sink.log")) {}
  ~NotificationsTest() override {
    if (server_ != nullptr) server_->Kill();
    sink_.Stop();
  }

  // Starts the sink (unless it runs), then the server sending to it, with `extra` flags.
  void StartWithSink(const std::vector<std::string>& extra = {}) {
    if (!sink_.Alive()) {
      ASSERT_TRUE(sink_.Start()) << ReadAll(dir_.File("smtp_sink.log"));
    }
    std::vector<std::string> flags = {absl::StrCat("--smtp_url=smtp://127.0.0.1:", sink_.port()),
                                      "--smtp_allow_plaintext"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    ASSERT_NO_FATAL_FAILURE(StartServer(flags));
  }

  // Starts the server binary on the test's database (made on the first start) with `extra`
  // flags after the usual ones (the later of two flags wins); no --smtp_url unless given.
  void StartServer(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--listen=127.0.0.1:0",
                                     "--http_listen=",
                                     "--db=" + dir_.File("mediation.db"),
                                     "--workers=4",
                                     "--maintenance_interval_seconds=3600",
                                     absl::StrCat("--smtp_from=", kFrom),
                                     absl::StrCat("--case_support_email=", kCaseSupportMailbox),
                                     absl::StrCat("--public_url=", kPublicUrl),
                                     "--smtp_retry_seconds=1",
                                     "--smtp_retry_max_seconds=2",
                                     "--outbox_poll_seconds=1"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(
        args, dir_.File(absl::StrCat("server-", ++starts_, ".log")));
    const int port = server_->WaitForPort();
    ASSERT_GT(port, 0) << server_->Log();
    channel_ =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    admin_stub_ = v1::AdminService::NewStub(channel_);
    organisations_ = v1::OrganisationService::NewStub(channel_);
    referrals_ = v1::ReferralService::NewStub(channel_);
    screening_ = v1::ScreeningService::NewStub(channel_);
    cases_ = v1::CaseService::NewStub(channel_);
    mediators_ = v1::MediatorService::NewStub(channel_);
    allocation_ = v1::AllocationService::NewStub(channel_);
    scheduling_ = v1::SchedulingService::NewStub(channel_);
    notes_ = v1::NotesService::NewStub(channel_);
    agreements_ = v1::AgreementService::NewStub(channel_);
    notifications_ = v1::NotificationService::NewStub(channel_);
    if (admin_.empty()) {
      admin_ = std::string(absl::StripTrailingAsciiWhitespace(ReadAll(dir_.File("admin.token"))));
      support_ = IssueToken(v1::ROLE_CASE_SUPPORT, 0);
      adviser_ = IssueToken(v1::ROLE_SENIOR_ADVISER, 0);
    }
  }

  // SIGTERM: a clean stop.
  void StopServer() {
    ASSERT_EQ(server_->SignalAndWait(SIGTERM), 0) << server_->Log();
    server_.reset();
  }

  // --- The case's journey, through the API ---------------------------------------------------

  std::string IssueToken(v1::Role role, int64_t mediator_id, int64_t organisation_id = 0) {
    v1::IssueTokenRequest r;
    r.set_role(role);
    r.set_label(absl::StrCat("notifications test ", v1::Role_Name(role)));
    r.set_mediator_id(mediator_id);
    r.set_organisation_id(organisation_id);
    v1::IssueTokenResponse out;
    grpc::Status s = admin_stub_->IssueToken(WithToken(admin_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.secret();
  }

  int64_t RegisterOrganisation(const std::string& name) {
    v1::RegisterOrganisationRequest r;
    *r.mutable_organisation() = ValidOrganisation(name);
    v1::RegisterOrganisationResponse out;
    grpc::Status s = organisations_->RegisterOrganisation(WithToken(support_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.organisation().id();
  }

  struct Mediator {
    int64_t id = 0;
    std::string email;
    std::string token;
  };
  // A mediator working every day from 00:00 to 23:59 London time, so any time can be booked.
  Mediator RegisterMediator(const std::string& name) {
    Mediator m;
    m.email = absl::StrCat(absl::AsciiStrToLower(name), "@mediators.example");
    v1::RegisterMediatorRequest r;
    *r.mutable_mediator() = ValidMediator(absl::StrCat(name, " Mediator"), m.email);
    v1::RegisterMediatorResponse out;
    grpc::Status s = mediators_->RegisterMediator(WithToken(admin_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    m.id = out.mediator().id();
    v1::SetWorkingPatternRequest pattern;
    pattern.set_mediator_id(m.id);
    for (int day = 1; day <= 7; ++day) {
      v1::WorkingHours* h = pattern.add_hours();
      h->set_weekday(day);
      h->mutable_end()->set_hours(23);
      h->mutable_end()->set_minutes(59);
    }
    v1::SetWorkingPatternResponse set;
    s = mediators_->SetWorkingPattern(WithToken(admin_).get(), pattern, &set);
    EXPECT_TRUE(s.ok()) << s.error_message();
    m.token = IssueToken(v1::ROLE_MEDIATOR, m.id);
    return m;
  }

  // A valid referral whose parties' addresses carry `tag` (Dr Alex Morgan, then Dr Jo Reed).
  grpc::Status TryRefer(int64_t org, const std::string& tag, v1::Case* out,
                        const std::function<void(v1::CreateReferralRequest&)>& edit = nullptr) {
    v1::CreateReferralRequest r = ValidReferral(org);
    r.mutable_parties(0)->mutable_contact()->set_email(absl::StrCat("alex.", tag, "@example.org"));
    r.mutable_parties(1)->mutable_contact()->set_email(absl::StrCat("jo.", tag, "@example.org"));
    if (edit) edit(r);
    v1::CreateReferralResponse response;
    grpc::Status s = referrals_->CreateReferral(WithToken(support_).get(), r, &response);
    if (out != nullptr) *out = response.case_();
    return s;
  }
  v1::Case Refer(int64_t org, const std::string& tag,
                 const std::function<void(v1::CreateReferralRequest&)>& edit = nullptr) {
    v1::Case c;
    grpc::Status s = TryRefer(org, tag, &c, edit);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return c;
  }

  void Answer(const v1::Case& c, v1::Criterion criterion, int64_t party, v1::CriterionAnswer answer,
              const std::string& note) {
    v1::RecordScreeningAnswerRequest r;
    r.set_case_id(c.id());
    r.set_criterion(criterion);
    r.set_party_id(party);
    r.set_answer(answer);
    r.set_note(note);
    v1::RecordScreeningAnswerResponse out;
    grpc::Status s = screening_->RecordScreeningAnswer(WithToken(support_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  // The six criteria MET (each with `note`, when given).
  void Screen(const v1::Case& c, const std::string& note = "") {
    for (v1::Criterion per_party :
         {v1::CRITERION_JOINT_PROBLEM, v1::CRITERION_WILLING, v1::CRITERION_FIT_TO_ATTEND}) {
      for (const v1::Party& p : c.parties()) {
        Answer(c, per_party, p.id(), v1::CRITERION_ANSWER_MET, note);
      }
    }
    for (v1::Criterion per_case : {v1::CRITERION_NOT_CONTRACTUAL, v1::CRITERION_NO_FORMAL_PROCESS,
                                   v1::CRITERION_NO_RELATIONSHIP}) {
      Answer(c, per_case, 0, v1::CRITERION_ANSWER_MET, note);
    }
  }
  void Decide(const v1::Case& c) {
    v1::RecordScreeningDecisionRequest r;
    r.set_case_id(c.id());
    r.set_confirm_high_concern(true);
    v1::RecordScreeningDecisionResponse out;
    grpc::Status s = screening_->RecordScreeningDecision(WithToken(adviser_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(out.state(), v1::CASE_STATE_SUITABLE);
  }
  void NeedsOneMediator(const v1::Case& c) {
    v1::SetMediatorsRequiredRequest r;
    r.set_case_id(c.id());
    r.set_count(1);
    v1::SetMediatorsRequiredResponse out;
    grpc::Status s = allocation_->SetMediatorsRequired(WithToken(support_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  int64_t Offer(const v1::Case& c, const Mediator& m, v1::AllocationRole role) {
    v1::AllocateMediatorRequest r;
    r.set_case_id(c.id());
    r.set_mediator_id(m.id);
    r.set_role(role);
    v1::AllocateMediatorResponse out;
    grpc::Status s = allocation_->AllocateMediator(WithToken(support_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.allocation().id();
  }
  grpc::Status Respond(const Mediator& m, int64_t allocation, bool accept,
                       const std::string& note = "") {
    v1::RespondToAllocationRequest r;
    r.set_allocation_id(allocation);
    r.set_accept(accept);
    if (!accept) {
      r.set_decline_reason(v1::DECLINE_REASON_UNAVAILABLE);
      r.set_note(note);
    }
    v1::RespondToAllocationResponse out;
    return allocation_->RespondToAllocation(WithToken(m.token).get(), r, &out);
  }
  // Referred, screened, decided and accepted by `lead` (and `co`, when given).
  v1::Case AllocatedCase(int64_t org, const std::string& tag, const Mediator& lead,
                         const Mediator* co = nullptr) {
    const v1::Case c = Refer(org, tag);
    Screen(c);
    Decide(c);
    if (co == nullptr) NeedsOneMediator(c);
    EXPECT_TRUE(Respond(lead, Offer(c, lead, v1::ALLOCATION_ROLE_LEAD), true).ok());
    if (co != nullptr) {
      EXPECT_TRUE(Respond(*co, Offer(c, *co, v1::ALLOCATION_ROLE_CO_MEDIATOR), true).ok());
    }
    return c;
  }

  grpc::Status Book(const v1::Case& c, v1::SessionKind kind, int64_t start, int minutes,
                    v1::Session* out, int64_t party = 0) {
    v1::BookSessionRequest r;
    r.set_case_id(c.id());
    r.set_kind(kind);
    r.set_party_id(party);
    r.set_mode(v1::SESSION_MODE_VIDEO);
    r.set_video_link(kVideoLink);
    r.mutable_start()->set_seconds(start);
    r.set_duration_minutes(minutes);
    v1::BookSessionResponse response;
    grpc::Status s = scheduling_->BookSession(WithToken(support_).get(), r, &response);
    if (out != nullptr) *out = response.session();
    return s;
  }
  grpc::Status Reschedule(int64_t session, int64_t start, const std::string& reason,
                          v1::Session* out = nullptr) {
    v1::RescheduleSessionRequest r;
    r.set_session_id(session);
    r.mutable_start()->set_seconds(start);
    r.set_reason(reason);
    v1::RescheduleSessionResponse response;
    grpc::Status s = scheduling_->RescheduleSession(WithToken(support_).get(), r, &response);
    if (out != nullptr) *out = response.session();
    return s;
  }
  grpc::Status Cancel(int64_t session, const std::string& reason, v1::Session* out = nullptr) {
    v1::CancelSessionRequest r;
    r.set_session_id(session);
    r.set_reason(reason);
    v1::CancelSessionResponse response;
    grpc::Status s = scheduling_->CancelSession(WithToken(support_).get(), r, &response);
    if (out != nullptr) *out = response.session();
    return s;
  }
  grpc::Status IssueLink(const v1::Case& c, int64_t party, std::string* path = nullptr) {
    v1::IssuePartySignInLinkRequest r;
    r.set_case_id(c.id());
    r.set_party_id(party);
    v1::IssuePartySignInLinkResponse out;
    grpc::Status s = cases_->IssuePartySignInLink(WithToken(support_).get(), r, &out);
    if (path != nullptr) *path = out.path();
    return s;
  }
  grpc::Status Draft(const v1::Case& c, const Mediator& m, const std::string& text,
                     std::optional<int> expected_latest = std::nullopt) {
    v1::DraftAgreementRequest r;
    r.set_case_id(c.id());
    v1::AgreementItem* item = r.mutable_content()->add_items();
    item->set_commitment(text);
    for (const v1::Party& p : c.parties()) item->add_party_ids(p.id());
    r.mutable_content()->set_free_text(absl::StrCat("Shared understanding: ", text));
    if (expected_latest.has_value()) r.set_expected_latest_version(*expected_latest);
    v1::DraftAgreementResponse out;
    return agreements_->DraftAgreement(WithToken(m.token).get(), r, &out);
  }
  grpc::Status Hold(const v1::Case& c, const std::string& reason) {
    v1::HoldCaseRequest r;
    r.set_case_id(c.id());
    r.set_reason(reason);
    v1::HoldCaseResponse out;
    return cases_->HoldCase(WithToken(support_).get(), r, &out);
  }
  grpc::Status Resume(const v1::Case& c, const std::string& reason) {
    v1::ResumeCaseRequest r;
    r.set_case_id(c.id());
    r.set_reason(reason);
    v1::ResumeCaseResponse out;
    return cases_->ResumeCase(WithToken(support_).get(), r, &out);
  }
  grpc::Status Withdraw(const v1::Case& c, const std::string& reason) {
    v1::WithdrawCaseRequest r;
    r.set_case_id(c.id());
    r.set_withdrawn_by(v1::WITHDRAWN_BY_SERVICE);
    r.set_reason(reason);
    v1::WithdrawCaseResponse out;
    return cases_->WithdrawCase(WithToken(support_).get(), r, &out);
  }
  grpc::Status AddNote(const v1::Case& c, const Mediator& m, v1::NoteVisibility visibility,
                       const std::string& text) {
    v1::AddNoteRequest r;
    r.set_case_id(c.id());
    r.set_visibility(visibility);
    r.set_text(text);
    v1::AddNoteResponse out;
    return notes_->AddNote(WithToken(m.token).get(), r, &out);
  }
  v1::SetReminderPreferenceResponse SetReminders(const std::string& email, bool wanted) {
    v1::SetReminderPreferenceRequest r;
    r.set_email(email);
    r.set_reminders(wanted);
    v1::SetReminderPreferenceResponse out;
    grpc::Status s = notifications_->SetReminderPreference(WithToken(support_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  bool WantsReminders(const std::string& email) {
    v1::GetReminderPreferenceRequest r;
    r.set_email(email);
    v1::GetReminderPreferenceResponse out;
    grpc::Status s = notifications_->GetReminderPreference(WithToken(support_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.reminders();
  }

  // --- The outbox and the sink ---------------------------------------------------------------

  // Every message in the outbox (in `state`, of `case_id`), oldest first.
  std::vector<v1::Notification> Outbox(v1::NotificationState state = {}, int64_t case_id = 0) {
    std::vector<v1::Notification> all;
    v1::ListNotificationsRequest r;
    r.set_page_size(500);
    r.set_state(state);
    r.set_case_id(case_id);
    do {
      v1::ListNotificationsResponse page;
      grpc::Status s = notifications_->ListNotifications(WithToken(support_).get(), r, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      all.insert(all.end(), page.notifications().begin(), page.notifications().end());
      r.set_page_token(page.next_page_token());
    } while (!r.page_token().empty());
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id() < b.id(); });
    return all;
  }

  // The messages written since the last call: the outbox is written in the transaction of the
  // change, so they are all there as soon as the call that caused them has returned. (Known by
  // their Message-IDs: a new message may take the id of a removed reminder.)
  std::vector<v1::Notification> Written() {
    std::vector<v1::Notification> fresh;
    for (const v1::Notification& n : Outbox()) {
      if (seen_.insert(n.message_id()).second) fresh.push_back(n);
    }
    return fresh;
  }

  v1::Notification Get(int64_t id) {
    v1::GetNotificationRequest r;
    r.set_notification_id(id);
    v1::GetNotificationResponse out;
    grpc::Status s = notifications_->GetNotification(WithToken(support_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.notification();
  }

  // Waits until message `id` satisfies `done`; the message as it is then.
  v1::Notification WaitUntil(int64_t id, const std::function<bool(const v1::Notification&)>& done,
                             absl::Duration timeout = absl::Seconds(20)) {
    v1::Notification n;
    EXPECT_TRUE(WaitFor(
        [&] {
          n = Get(id);
          return done(n);
        },
        timeout))
        << "notification " << id << " is still " << n.DebugString();
    return n;
  }

  // The sink's copies of the message with `message_id`.
  std::vector<Json> Copies(const std::string& message_id) {
    std::vector<Json> copies;
    for (const Json& m : sink_.Messages()) {
      if (m["message_id"].get<std::string>() == message_id) copies.push_back(m);
    }
    return copies;
  }
  Json MailOf(const v1::Notification& n) {
    std::vector<Json> copies = Copies(n.message_id());
    EXPECT_EQ(copies.size(), 1u) << n.DebugString();
    return copies.empty() ? Json::object({{"raw", ""},
                                          {"subject", ""},
                                          {"text", ""},
                                          {"html", ""},
                                          {"calendar", ""},
                                          {"calendar_method", ""}})
                          : copies.front();
  }

  // Waits until each of `written` was accepted by the sink and marked SENT, then checks each
  // arrived once, on its first try, to its recipient alone, as the outbox describes it.
  void ExpectDelivered(const std::vector<v1::Notification>& written) {
    std::set<std::string> wanted;
    for (const v1::Notification& n : written) wanted.insert(n.message_id());
    const bool arrived = WaitFor(
        [&] {
          std::set<std::string> got;
          for (const Json& m : sink_.Messages()) got.insert(m["message_id"].get<std::string>());
          return std::includes(got.begin(), got.end(), wanted.begin(), wanted.end());
        },
        absl::Seconds(30));
    if (!arrived) {
      std::set<std::string> got;
      for (const Json& m : sink_.Messages()) got.insert(m["message_id"].get<std::string>());
      std::string missing;
      for (const v1::Notification& n : written) {
        if (got.count(n.message_id()) == 0) absl::StrAppend(&missing, Get(n.id()).DebugString());
      }
      FAIL() << "not every message reached the mail server; missing:\n"
             << missing << "the SMTP sink's log:\n"
             << ReadAll(dir_.File("smtp_sink.log"));
    }
    for (const v1::Notification& n : written) {
      const v1::Notification now =
          WaitUntil(n.id(), [](const auto& m) { return m.state() == v1::NOTIFICATION_STATE_SENT; });
      EXPECT_EQ(now.attempts(), 1) << now.DebugString();
      EXPECT_TRUE(absl::StartsWith(now.last_response(), "250")) << now.DebugString();
      EXPECT_TRUE(now.has_sent_at());
      const Json mail = MailOf(n);
      EXPECT_EQ(mail["mail_from"].get<std::string>(), kFrom);
      EXPECT_EQ(mail["rcpt_tos"], Json::array({n.recipient_email()})) << n.DebugString();
      EXPECT_TRUE(absl::StrContains(mail["to"].get<std::string>(), n.recipient_email()))
          << mail["to"];
      EXPECT_EQ(mail["subject"].get<std::string>(), n.subject());
      EXPECT_TRUE(absl::StrContains(mail["text"].get<std::string>(), n.case_reference()));
      EXPECT_FALSE(mail["html"].get<std::string>().empty());
      const std::string headers = Headers(mail);
      EXPECT_FALSE(absl::StrContains(headers, "\ncc:")) << headers;
      EXPECT_FALSE(absl::StrContains(headers, "\nbcc:")) << headers;
    }
  }

  // Every message the sink holds is a SENT message of the outbox, received once, and every
  // SENT message is in the sink (waiting for one the sink took that is not marked yet).
  void ExpectSinkMatchesOutbox() {
    std::map<std::string, int> received;
    std::map<std::string, int> sent;
    WaitFor(
        [&] {
          received.clear();
          sent.clear();
          for (const Json& m : sink_.Messages()) ++received[m["message_id"].get<std::string>()];
          for (const v1::Notification& n : Outbox(v1::NOTIFICATION_STATE_SENT)) {
            ++sent[n.message_id()];
          }
          return received == sent;
        },
        absl::Seconds(10));
    EXPECT_EQ(received, sent);
  }

  TempDir dir_;
  SmtpSink sink_;
  std::unique_ptr<ServerProcess> server_;
  int starts_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AdminService::Stub> admin_stub_;
  std::unique_ptr<v1::OrganisationService::Stub> organisations_;
  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::unique_ptr<v1::ScreeningService::Stub> screening_;
  std::unique_ptr<v1::CaseService::Stub> cases_;
  std::unique_ptr<v1::MediatorService::Stub> mediators_;
  std::unique_ptr<v1::AllocationService::Stub> allocation_;
  std::unique_ptr<v1::SchedulingService::Stub> scheduling_;
  std::unique_ptr<v1::NotesService::Stub> notes_;
  std::unique_ptr<v1::AgreementService::Stub> agreements_;
  std::unique_ptr<v1::NotificationService::Stub> notifications_;
  std::string admin_;
  std::string support_;
  std::string adviser_;
  std::set<std::string> seen_;  // The Message-IDs Written() returned.
};

// A day two weeks ahead at 10:00 UTC: past the default 48 hours' notice.
int64_t TwoWeeksAhead() {
  return (absl::ToUnixSeconds(absl::Now()) / kDay + 14) * kDay + 10 * kHour;
}

TEST_F(NotificationsTest, OffersAnswersAndStateChangesReachExactlyTheirRecipients) {
  ASSERT_NO_FATAL_FAILURE(StartWithSink());
  const int64_t org = RegisterOrganisation("Northshire Hospitals NHS Trust");
  const Mediator ana = RegisterMediator("Ana");
  const Mediator ben = RegisterMediator("Ben");
  const Mediator cai = RegisterMediator("Cai");
  EXPECT_TRUE(Written().empty()) << "registering organisations and mediators tells nobody";

  // A referral refused for an invalid field tells nobody.
  EXPECT_EQ(TryRefer(org, "bad", nullptr,
                     [](v1::CreateReferralRequest& r) {
                       r.mutable_parties(1)->mutable_contact()->set_email("not an address");
                     })
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Written().empty());

  // The referral: its organisation hears it was received.
  const v1::Case c = Refer(org, "t1");
  std::vector<v1::Notification> w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  EXPECT_EQ(w[0].recipient_role(), v1::RECIPIENT_ROLE_ORGANISATION);
  EXPECT_EQ(w[0].recipient_id(), org);
  EXPECT_EQ(w[0].case_id(), c.id());
  EXPECT_EQ(w[0].case_reference(), c.reference());

  // Screening: the first answer moves the case to SCREENING (one message), the others nothing;
  // the decision to SUITABLE.
  Screen(c);
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  Decide(c);
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  EXPECT_TRUE(absl::StrContains(MailOf(w[0])["text"].get<std::string>(), "suitable"));

  // An offer goes to the mediator, and says nothing of the parties until accepted.
  const int64_t ana_offer = Offer(c, ana, v1::ALLOCATION_ROLE_LEAD);
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_ALLOCATION_OFFER, ana.email}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  EXPECT_EQ(w[0].recipient_role(), v1::RECIPIENT_ROLE_MEDIATOR);
  EXPECT_EQ(w[0].recipient_id(), ana.id);
  for (const v1::Party& p : c.parties()) {
    EXPECT_FALSE(absl::StrContains(Readable(MailOf(w[0])), p.contact().name()));
    EXPECT_FALSE(absl::StrContains(Readable(MailOf(w[0])), p.contact().email()));
  }

  // Answers go to the case support mailbox; a decline never carries its reason.
  ASSERT_TRUE(Respond(ana, ana_offer, true).ok());
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_ALLOCATION_ANSWER, kCaseSupportMailbox}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  EXPECT_EQ(w[0].recipient_role(), v1::RECIPIENT_ROLE_CASE_SUPPORT);
  // Answering twice is refused, and tells nobody.
  EXPECT_FALSE(Respond(ana, ana_offer, true).ok());
  EXPECT_TRUE(Written().empty());

  const int64_t ben_offer = Offer(c, ben, v1::ALLOCATION_ROLE_CO_MEDIATOR);
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_ALLOCATION_OFFER, ben.email}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  const std::string decline_canary = "CANARY-DECLINE-7f3a: Ben knows Dr Reed from the rugby club";
  ASSERT_TRUE(Respond(ben, ben_offer, false, decline_canary).ok());
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_ALLOCATION_ANSWER, kCaseSupportMailbox}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  EXPECT_FALSE(absl::StrContains(Readable(MailOf(w[0])), "CANARY-DECLINE-7f3a"));
  EXPECT_TRUE(absl::StrContains(MailOf(w[0])["text"].get<std::string>(), "declined"));

  // The last acceptance also moves the case to MEDIATORS_ALLOCATED.
  ASSERT_TRUE(Respond(cai, Offer(c, cai, v1::ALLOCATION_ROLE_CO_MEDIATOR), true).ok());
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_ALLOCATION_OFFER, cai.email},
                                {v1::NOTIFICATION_KIND_ALLOCATION_ANSWER, kCaseSupportMailbox},
                                {v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));

  // Hold, resume and withdraw: the organisation hears of each state, never the reasons.
  ASSERT_TRUE(Hold(c, "CANARY-HOLD-51c2: Dr Reed is on sick leave for stress").ok());
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  EXPECT_TRUE(absl::StrContains(MailOf(w[0])["text"].get<std::string>(), "on hold"));
  // Holding a held case is refused, and tells nobody.
  EXPECT_EQ(Hold(c, "again").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(Written().empty());
  ASSERT_TRUE(Resume(c, "CANARY-RESUME-0d9e: occupational health cleared Dr Reed").ok());
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  ASSERT_TRUE(Withdraw(c, "CANARY-WITHDRAW-44b1: a grievance was lodged").ok());
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  EXPECT_TRUE(absl::StrContains(MailOf(w[0])["text"].get<std::string>(), "withdrawn"));

  for (const Json& mail : sink_.Messages()) {
    for (const char* canary :
         {"CANARY-DECLINE", "CANARY-HOLD", "CANARY-RESUME", "CANARY-WITHDRAW"}) {
      EXPECT_FALSE(absl::StrContains(Readable(mail), canary)) << canary << " in " << mail["raw"];
    }
  }
  // Everything of the case, and nothing else: 7 state changes, 3 offers, 3 answers.
  EXPECT_EQ(Outbox({}, c.id()).size(), 13u);
  EXPECT_EQ(Outbox().size(), 13u);
  ExpectSinkMatchesOutbox();
}

TEST_F(NotificationsTest, SessionsInviteEveryAttendeeAndAPartyOnlyToItsOwnMeetings) {
  ASSERT_NO_FATAL_FAILURE(StartWithSink());
  const int64_t org = RegisterOrganisation("Northshire Hospitals NHS Trust");
  const Mediator ana = RegisterMediator("Ana");
  const Mediator cai = RegisterMediator("Cai");
  const v1::Case c = AllocatedCase(org, "t2", ana, &cai);
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(Written()));
  const std::string alex = c.parties(0).contact().email();
  const std::string jo = c.parties(1).contact().email();
  const int64_t start = TwoWeeksAhead();

  // Refused bookings tell nobody: one not on a quarter hour (validation), one overlapping
  // another (refused inside the booking's transaction, after checking everyone's time).
  EXPECT_EQ(Book(c, v1::SESSION_KIND_JOINT_MEETING, start + 7 * kMinute, 60, nullptr).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Written().empty());

  v1::Session joint;
  ASSERT_TRUE(Book(c, v1::SESSION_KIND_JOINT_MEETING, start, 120, &joint).ok());
  std::vector<v1::Notification> w = Written();
  EXPECT_EQ(Lines(AllButReminders(w)),
            Expected({{v1::NOTIFICATION_KIND_SESSION_INVITATION, ana.email},
                      {v1::NOTIFICATION_KIND_SESSION_INVITATION, cai.email},
                      {v1::NOTIFICATION_KIND_SESSION_INVITATION, alex},
                      {v1::NOTIFICATION_KIND_SESSION_INVITATION, jo},
                      {v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact}}));
  // Reminders for everyone attending, 48 and 2 hours before, waiting.
  std::vector<std::string> reminders;
  for (const v1::Notification& n : Reminders(w)) {
    EXPECT_EQ(n.state(), v1::NOTIFICATION_STATE_PENDING);
    EXPECT_EQ(n.session_id(), joint.id());
    reminders.push_back(
        absl::StrCat(n.recipient_email(), " ", (start - n.due_at().seconds()) / kHour));
  }
  std::sort(reminders.begin(), reminders.end());
  std::vector<std::string> expected_reminders;
  for (const std::string& who : {ana.email, cai.email, alex, jo}) {
    expected_reminders.push_back(who + " 2");
    expected_reminders.push_back(who + " 48");
  }
  std::sort(expected_reminders.begin(), expected_reminders.end());
  EXPECT_EQ(reminders, expected_reminders);
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(AllButReminders(w)));
  for (const v1::Notification& n : AllButReminders(w)) {
    if (n.kind() != v1::NOTIFICATION_KIND_SESSION_INVITATION) continue;
    EXPECT_EQ(n.session_id(), joint.id());
    EXPECT_TRUE(absl::StrContains(MailOf(n)["text"].get<std::string>(), kVideoLink));
    EXPECT_EQ(MailOf(n)["calendar_method"], "REQUEST");
  }

  // Overlapping the joint meeting: refused, rolled back whole.
  EXPECT_EQ(Book(c, v1::SESSION_KIND_JOINT_MEETING, start + kHour, 60, nullptr).error_code(),
            grpc::StatusCode::ABORTED);
  EXPECT_TRUE(Written().empty());

  // An individual meeting with Alex: Jo hears nothing of it, now or when it moves or goes.
  v1::Session individual;
  ASSERT_TRUE(
      Book(c, v1::SESSION_KIND_INDIVIDUAL_MEETING, start + kDay, 60, &individual, c.parties(0).id())
          .ok());
  w = Written();
  EXPECT_EQ(Lines(AllButReminders(w)),
            Expected({{v1::NOTIFICATION_KIND_SESSION_INVITATION, ana.email},
                      {v1::NOTIFICATION_KIND_SESSION_INVITATION, cai.email},
                      {v1::NOTIFICATION_KIND_SESSION_INVITATION, alex}}));
  EXPECT_EQ(Lines(Reminders(w)), Expected({{v1::NOTIFICATION_KIND_SESSION_REMINDER, ana.email},
                                           {v1::NOTIFICATION_KIND_SESSION_REMINDER, ana.email},
                                           {v1::NOTIFICATION_KIND_SESSION_REMINDER, cai.email},
                                           {v1::NOTIFICATION_KIND_SESSION_REMINDER, cai.email},
                                           {v1::NOTIFICATION_KIND_SESSION_REMINDER, alex},
                                           {v1::NOTIFICATION_KIND_SESSION_REMINDER, alex}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(AllButReminders(w)));
  const std::vector<v1::Notification> first_reminders = Reminders(w);

  // Moving it: an update to each, and its waiting reminders follow the new time.
  const int64_t moved_to = start + kDay + 3 * kHour;
  ASSERT_TRUE(Reschedule(individual.id(), moved_to, "the clinic moved").ok());
  w = Written();
  EXPECT_EQ(Lines(AllButReminders(w)), Expected({{v1::NOTIFICATION_KIND_SESSION_UPDATE, ana.email},
                                                 {v1::NOTIFICATION_KIND_SESSION_UPDATE, cai.email},
                                                 {v1::NOTIFICATION_KIND_SESSION_UPDATE, alex}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(AllButReminders(w)));
  std::vector<v1::Notification> waiting;
  for (const v1::Notification& n : Outbox(v1::NOTIFICATION_STATE_PENDING)) {
    if (n.session_id() == individual.id()) waiting.push_back(n);
  }
  ASSERT_EQ(waiting.size(), 6u);
  for (const v1::Notification& n : waiting) {
    const int64_t lead = moved_to - n.due_at().seconds();
    EXPECT_TRUE(lead == 2 * kHour || lead == 48 * kHour) << n.DebugString();
  }
  // The replaced reminders are gone for good: their ids name no other message.
  for (const v1::Notification& old : first_reminders) {
    v1::GetNotificationRequest r;
    r.set_notification_id(old.id());
    v1::GetNotificationResponse out;
    EXPECT_EQ(notifications_->GetNotification(WithToken(support_).get(), r, &out).error_code(),
              grpc::StatusCode::NOT_FOUND)
        << "the removed reminder's id " << old.id() << " now names " << out.DebugString();
  }

  // Cancelling it: a cancellation to each; its reminders are gone.
  ASSERT_TRUE(Cancel(individual.id(), "Alex asked to stop").ok());
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_SESSION_CANCELLATION, ana.email},
                                {v1::NOTIFICATION_KIND_SESSION_CANCELLATION, cai.email},
                                {v1::NOTIFICATION_KIND_SESSION_CANCELLATION, alex}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  for (const v1::Notification& n : Outbox(v1::NOTIFICATION_STATE_PENDING)) {
    EXPECT_NE(n.session_id(), individual.id()) << n.DebugString();
  }

  // Jo: only the joint meeting's invitation (and its waiting reminders); nothing to Jo names
  // Alex's meeting, and no message to one party holds the other's address.
  const std::string individual_uid =
      absl::StrCat("session-", individual.id(), "@mediation.ppa.nhs.uk");
  for (const v1::Notification& n : Outbox()) {
    if (n.recipient_email() == jo) {
      EXPECT_EQ(n.session_id(), joint.id()) << n.DebugString();
    }
  }
  int to_jo = 0;
  for (const Json& mail : sink_.Messages()) {
    const std::string to = mail["rcpt_tos"][0];
    if (to == jo) {
      ++to_jo;
      EXPECT_FALSE(absl::StrContains(Readable(mail), individual_uid));
      EXPECT_FALSE(absl::StrContains(Readable(mail), alex)) << mail["raw"];
    }
    if (to == alex) {
      EXPECT_FALSE(absl::StrContains(Readable(mail), jo)) << mail["raw"];
    }
  }
  EXPECT_EQ(to_jo, 1);
  ExpectSinkMatchesOutbox();
}

TEST_F(NotificationsTest, InvitationsAreItipRequestsLibicalReadsAcrossBothClockChanges) {
  ASSERT_NO_FATAL_FAILURE(StartWithSink());
  const int64_t org = RegisterOrganisation("Northshire Hospitals NHS Trust");
  const Mediator ana = RegisterMediator("Ana");
  const Mediator cai = RegisterMediator("Cai");
  const v1::Case c = AllocatedCase(org, "t3", ana, &cai);
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(Written()));
  const std::set<std::string> attendees = {ana.email, cai.email, c.parties(0).contact().email(),
                                           c.parties(1).contact().email()};

  // The clocks go forward at 01:00 UTC on `spring` (GMT to BST) and back at 01:00 UTC on
  // `autumn`, when 01:00-02:00 happens twice: a time in it is written in UTC, never with TZID.
  const absl::CivilDay spring = NextClockChange(3);
  const absl::CivilDay autumn = NextClockChange(10);
  struct When {
    int64_t start;        // UTC
    std::string dtstart;  // As the calendar must write it.
    bool utc;
  };
  const std::vector<When> times = {
      {Utc(spring - 2, 10, 0), Stamp(spring - 2, 10, 0), false},  // Friday 10:00 GMT
      {Utc(spring, 0, 30), Stamp(spring, 0, 30), false},          // Sunday 00:30 GMT
      {Utc(spring, 2, 0), Stamp(spring, 3, 0), false},            // Sunday 03:00 BST
      {Utc(spring + 1, 9, 0), Stamp(spring + 1, 10, 0), false},   // Monday 10:00 BST
      {Utc(autumn - 2, 9, 0), Stamp(autumn - 2, 10, 0), false},   // Friday 10:00 BST
      {Utc(autumn, 0, 30), Stamp(autumn, 0, 30, true), true},     // Sunday 01:30 BST
      {Utc(autumn, 1, 30), Stamp(autumn, 1, 30, true), true},     // Sunday 01:30 GMT
      {Utc(autumn + 1, 10, 0), Stamp(autumn + 1, 10, 0), false},  // Monday 10:00 GMT
  };
  constexpr int kMinutes = 30;

  // Checks the iTIP part of each of `written` for `session`, to its recipient alone.
  auto check = [&](const std::vector<v1::Notification>& written, const v1::Session& session,
                   const When& when, const std::string& method, int sequence) {
    std::set<std::string> recipients;
    for (const v1::Notification& n : written) {
      SCOPED_TRACE(absl::StrCat("session ", session.id(), " to ", n.recipient_email()));
      recipients.insert(n.recipient_email());
      const Json mail = MailOf(n);
      EXPECT_EQ(mail["calendar_method"].get<std::string>(), method);
      const Itip itip = ParseItip(mail["calendar"].get<std::string>());
      ASSERT_TRUE(itip.parsed) << mail["calendar"];
      EXPECT_EQ(itip.errors, 0) << mail["calendar"];
      EXPECT_EQ(itip.method, method);
      EXPECT_EQ(itip.timezone_id, "Europe/London");
      EXPECT_EQ(itip.events, 1);
      EXPECT_EQ(itip.uid, absl::StrCat("session-", session.id(), "@mediation.ppa.nhs.uk"));
      EXPECT_EQ(itip.sequence, sequence);
      EXPECT_EQ(itip.status, method == "CANCEL" ? "CANCELLED" : "CONFIRMED");
      EXPECT_EQ(absl::AsciiStrToLower(itip.organizer), absl::StrCat("mailto:", kFrom));
      ASSERT_EQ(itip.attendees.size(), 1u);
      EXPECT_EQ(absl::AsciiStrToLower(itip.attendees[0]),
                absl::StrCat("mailto:", n.recipient_email()));
      EXPECT_EQ(itip.start_value, when.dtstart);
      EXPECT_EQ(itip.start_tzid, when.utc ? "" : "Europe/London");
      EXPECT_EQ(itip.start, when.start);
      EXPECT_EQ(itip.end, when.start + kMinutes * kMinute);
      if (!when.utc) {
        EXPECT_EQ(itip.end_tzid, "Europe/London");
      }
    }
    EXPECT_EQ(recipients, attendees);
  };

  std::vector<v1::Session> sessions;
  for (const When& when : times) {
    v1::Session s;
    grpc::Status booked = Book(c, v1::SESSION_KIND_JOINT_MEETING, when.start, kMinutes, &s);
    ASSERT_TRUE(booked.ok()) << when.dtstart << ": " << booked.error_message();
    EXPECT_EQ(s.sequence(), 0);
    // The invitations (and, for the first, the organisation's SESSIONS_SCHEDULED).
    const std::vector<v1::Notification> w = AllButReminders(Written());
    ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
    std::vector<v1::Notification> invitations;
    for (const v1::Notification& n : w) {
      if (n.kind() == v1::NOTIFICATION_KIND_SESSION_INVITATION) invitations.push_back(n);
    }
    ASSERT_EQ(invitations.size(), 4u) << when.dtstart;
    EXPECT_EQ(w.size(), sessions.empty() ? 5u : 4u);
    check(invitations, s, when, "REQUEST", 0);
    sessions.push_back(s);
  }

  // The Friday before the autumn change moves to the Monday after, across it: an update of the
  // same event (same UID, higher SEQUENCE), then a cancellation of it.
  const When moved = {Utc(autumn + 1, 14, 0), Stamp(autumn + 1, 14, 0), false};
  v1::Session rescheduled;
  ASSERT_TRUE(Reschedule(sessions[4].id(), moved.start, "a clinic", &rescheduled).ok());
  std::vector<v1::Notification> w = AllButReminders(Written());
  ASSERT_EQ(w.size(), 4u);
  for (const v1::Notification& n : w) EXPECT_EQ(n.kind(), v1::NOTIFICATION_KIND_SESSION_UPDATE);
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  check(w, sessions[4], moved, "REQUEST", rescheduled.sequence());
  EXPECT_EQ(rescheduled.sequence(), 1);

  v1::Session cancelled;
  ASSERT_TRUE(Cancel(sessions[4].id(), "no longer needed", &cancelled).ok());
  w = Written();
  ASSERT_EQ(w.size(), 4u);
  for (const v1::Notification& n : w) {
    EXPECT_EQ(n.kind(), v1::NOTIFICATION_KIND_SESSION_CANCELLATION);
  }
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  EXPECT_EQ(cancelled.sequence(), 2);
  check(w, sessions[4], moved, "CANCEL", 2);
  ExpectSinkMatchesOutbox();
}

TEST_F(NotificationsTest, SignInLinksAndAgreementVersionsGoToTheParties) {
  ASSERT_NO_FATAL_FAILURE(StartWithSink());
  const int64_t org = RegisterOrganisation("Northshire Hospitals NHS Trust");
  const Mediator ana = RegisterMediator("Ana");
  const v1::Case c = AllocatedCase(org, "t4", ana);
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(Written()));
  const std::string alex = c.parties(0).contact().email();
  const std::string jo = c.parties(1).contact().email();

  // A sign-in link goes to its party alone, holding the whole link.
  std::string path;
  ASSERT_TRUE(IssueLink(c, c.parties(1).id(), &path).ok());
  ASSERT_TRUE(absl::StartsWith(path, "/app/join#"));
  std::vector<v1::Notification> w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_PARTY_SIGN_IN_LINK, jo}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  EXPECT_EQ(w[0].recipient_role(), v1::RECIPIENT_ROLE_PARTY);
  EXPECT_EQ(w[0].recipient_id(), c.parties(1).id());
  const std::string link = absl::StrCat(kPublicUrl, path);
  EXPECT_TRUE(absl::StrContains(MailOf(w[0])["text"].get<std::string>(), link));
  EXPECT_TRUE(absl::StrContains(MailOf(w[0])["html"].get<std::string>(), link));
  // The subject, which the outbox keeps readable, never holds the code; the sealed text, which
  // does, is erased once it is sent.
  EXPECT_FALSE(absl::StrContains(w[0].subject(), path.substr(10)));
  {
    SQLite::Database db(dir_.File("mediation.db"), SQLite::OPEN_READONLY);
    SQLite::Statement kept(db, "SELECT length(message) FROM outbox WHERE id = ?");
    kept.bind(1, static_cast<int64_t>(w[0].id()));
    ASSERT_TRUE(kept.executeStep());
    EXPECT_EQ(kept.getColumn(0).getInt(), 0);
  }

  // Not a party of the case: refused, nobody told.
  EXPECT_EQ(IssueLink(c, c.parties(1).id() + 1000).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Written().empty());

  // An agreement version goes to each party; its text is in no message.
  v1::Session joint;
  ASSERT_TRUE(Book(c, v1::SESSION_KIND_JOINT_MEETING, TwoWeeksAhead(), 60, &joint).ok());
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(AllButReminders(Written())));
  ASSERT_TRUE(Draft(c, ana, "CANARY-AGREEMENT-9b7e: we will email before escalating", 0).ok());
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_AGREEMENT_READY, alex},
                                {v1::NOTIFICATION_KIND_AGREEMENT_READY, jo}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  // A draft made on a stale read is refused, and tells nobody.
  EXPECT_EQ(Draft(c, ana, "CANARY-AGREEMENT-9b7e again", 0).error_code(),
            grpc::StatusCode::ABORTED);
  EXPECT_TRUE(Written().empty());
  for (const Json& mail : sink_.Messages()) {
    EXPECT_FALSE(absl::StrContains(Readable(mail), "CANARY-AGREEMENT")) << mail["raw"];
  }
  ExpectSinkMatchesOutbox();
}

TEST_F(NotificationsTest, HoldingACaseCancelsItsComingSessionsForEveryoneTheyWereFor) {
  ASSERT_NO_FATAL_FAILURE(StartWithSink());
  const int64_t org = RegisterOrganisation("Northshire Hospitals NHS Trust");
  const Mediator ana = RegisterMediator("Ana");
  const v1::Case c = AllocatedCase(org, "t10", ana);
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(Written()));
  const std::string alex = c.parties(0).contact().email();
  const std::string jo = c.parties(1).contact().email();
  const int64_t start = TwoWeeksAhead();
  v1::Session joint, individual;
  ASSERT_TRUE(Book(c, v1::SESSION_KIND_JOINT_MEETING, start, 60, &joint).ok());
  ASSERT_TRUE(
      Book(c, v1::SESSION_KIND_INDIVIDUAL_MEETING, start + kDay, 60, &individual, c.parties(1).id())
          .ok());
  std::vector<v1::Notification> w = Written();
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(AllButReminders(w)));
  EXPECT_EQ(Reminders(w).size(), 10u);  // 48 and 2 hours before, for 3 and 2 people.

  ASSERT_TRUE(Hold(c, "CANARY-HOLD-6e21: Dr Morgan is suspended pending an investigation").ok());
  w = Written();
  EXPECT_EQ(Lines(w), Expected({{v1::NOTIFICATION_KIND_SESSION_CANCELLATION, ana.email},
                                {v1::NOTIFICATION_KIND_SESSION_CANCELLATION, ana.email},
                                {v1::NOTIFICATION_KIND_SESSION_CANCELLATION, alex},
                                {v1::NOTIFICATION_KIND_SESSION_CANCELLATION, jo},
                                {v1::NOTIFICATION_KIND_SESSION_CANCELLATION, jo},
                                {v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  for (const v1::Notification& n : w) {
    const Json mail = MailOf(n);
    EXPECT_FALSE(absl::StrContains(Readable(mail), "CANARY-HOLD")) << Readable(mail);
    if (n.kind() != v1::NOTIFICATION_KIND_SESSION_CANCELLATION) continue;
    EXPECT_TRUE(n.session_id() == joint.id() ||
                (n.session_id() == individual.id() && n.recipient_email() != alex))
        << n.DebugString();
    const Itip itip = ParseItip(mail["calendar"].get<std::string>());
    EXPECT_EQ(itip.method, "CANCEL");
    EXPECT_EQ(itip.status, "CANCELLED");
    EXPECT_EQ(itip.sequence, 1);
    EXPECT_EQ(itip.uid, absl::StrCat("session-", n.session_id(), "@mediation.ppa.nhs.uk"));
  }
  // Nothing is left to remind anyone of.
  EXPECT_TRUE(Outbox(v1::NOTIFICATION_STATE_PENDING).empty());
  ExpectSinkMatchesOutbox();
}

TEST_F(NotificationsTest, NoConfidentialTextIsInAnyMessage) {
  ASSERT_NO_FATAL_FAILURE(StartWithSink());
  const int64_t org = RegisterOrganisation("Northshire Hospitals NHS Trust");
  const Mediator ana = RegisterMediator("Ana");
  const Mediator ben = RegisterMediator("Ben");
  const Mediator cai = RegisterMediator("Cai");
  // Every confidential text of the case holds a canary of its own.
  const v1::Case c = Refer(org, "t5", [](v1::CreateReferralRequest& r) {
    r.set_summary("CANARY-SUMMARY-1e0c: the consultants shouted at each other on the ward");
    r.mutable_parties(1)->set_accessibility_needs("CANARY-NEEDS-6a2d: hearing loop");
  });
  Answer(c, v1::CRITERION_FIT_TO_ATTEND, c.parties(1).id(), v1::CRITERION_ANSWER_UNKNOWN,
         "CANARY-HEALTH-3c8f: waiting for occupational health");
  Screen(c, "CANARY-SCREENING-b2a9: both said yes on the telephone");
  Decide(c);
  ASSERT_TRUE(Respond(ana, Offer(c, ana, v1::ALLOCATION_ROLE_LEAD), true).ok());
  ASSERT_TRUE(Respond(ben, Offer(c, ben, v1::ALLOCATION_ROLE_CO_MEDIATOR), false,
                      "CANARY-DECLINE-80f4: I trained with Dr Morgan")
                  .ok());
  ASSERT_TRUE(Respond(cai, Offer(c, cai, v1::ALLOCATION_ROLE_CO_MEDIATOR), true).ok());
  const int64_t start = TwoWeeksAhead();
  v1::Session joint, individual;
  ASSERT_TRUE(Book(c, v1::SESSION_KIND_JOINT_MEETING, start, 120, &joint).ok());
  ASSERT_TRUE(
      Book(c, v1::SESSION_KIND_INDIVIDUAL_MEETING, start + kDay, 60, &individual, c.parties(1).id())
          .ok());
  ASSERT_TRUE(AddNote(c, ana, v1::NOTE_VISIBILITY_PRIVATE, "CANARY-NOTE-5d1b: Jo cried").ok());
  ASSERT_TRUE(
      AddNote(c, cai, v1::NOTE_VISIBILITY_SHARED, "CANARY-SHARED-c7e3: Alex apologised").ok());
  ASSERT_TRUE(Reschedule(joint.id(), start + 2 * kHour + 30 * kMinute,
                         "CANARY-RESCHEDULE-2f6a: Dr Reed has a tribunal hearing")
                  .ok());
  ASSERT_TRUE(Cancel(individual.id(), "CANARY-CANCEL-e915: Jo is too unwell").ok());
  ASSERT_TRUE(Draft(c, ana, "CANARY-AGREEMENT-71aa: no more shouting on the ward").ok());
  std::string path;
  ASSERT_TRUE(IssueLink(c, c.parties(0).id(), &path).ok());
  ASSERT_TRUE(Hold(c, "CANARY-HOLD-0b5e: a disciplinary investigation began").ok());
  ASSERT_TRUE(Resume(c, "CANARY-RESUME-93c0: the investigation closed").ok());
  ASSERT_TRUE(Withdraw(c, "CANARY-WITHDRAW-d4f8: Dr Morgan resigned").ok());

  const std::vector<v1::Notification> w = AllButReminders(Written());
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(w));
  // Every kind of message the case caused was looked at.
  std::set<v1::NotificationKind> kinds;
  for (const v1::Notification& n : w) kinds.insert(n.kind());
  EXPECT_EQ(kinds.size(), 8u);  // Everything but reminders, which are not due yet.
  const std::vector<Json> mail = sink_.Messages();
  EXPECT_EQ(mail.size(), w.size());
  for (const Json& m : mail) {
    const std::string readable = Readable(m);
    for (const char* canary :
         {"CANARY-SUMMARY", "CANARY-NEEDS", "CANARY-HEALTH", "CANARY-SCREENING", "CANARY-DECLINE",
          "CANARY-NOTE", "CANARY-SHARED", "CANARY-RESCHEDULE", "CANARY-CANCEL", "CANARY-AGREEMENT",
          "CANARY-HOLD", "CANARY-RESUME", "CANARY-WITHDRAW", "CANARY"}) {
      EXPECT_FALSE(absl::StrContains(readable, canary))
          << canary << " is in the message to " << m["rcpt_tos"] << ": " << readable;
    }
  }
  // Nor in the outbox's readable fields.
  for (const v1::Notification& n : Outbox()) {
    EXPECT_FALSE(absl::StrContains(n.DebugString(), "CANARY")) << n.DebugString();
  }
}

TEST_F(NotificationsTest, AnUnreachableOrRefusingMailServerIsTriedAgainUntilItAccepts) {
  // A port where nothing listens: the sink's, stopped.
  ASSERT_TRUE(sink_.Start());
  const int port = sink_.port();
  sink_.Stop();
  ASSERT_NO_FATAL_FAILURE(StartServer({absl::StrCat("--smtp_url=smtp://127.0.0.1:", port),
                                       "--smtp_allow_plaintext", "--smtp_max_attempts=30"}));
  const int64_t org = RegisterOrganisation("Northshire Hospitals NHS Trust");
  const v1::Case c = Refer(org, "t6");
  std::vector<v1::Notification> w = Written();
  ASSERT_EQ(w.size(), 1u);
  const v1::Notification unreachable =
      WaitUntil(w[0].id(), [](const v1::Notification& n) { return n.attempts() >= 2; });
  EXPECT_EQ(unreachable.state(), v1::NOTIFICATION_STATE_PENDING);
  EXPECT_FALSE(unreachable.last_response().empty());
  EXPECT_FALSE(absl::StartsWith(unreachable.last_response(), "250"));
  EXPECT_TRUE(unreachable.has_last_attempt_at());
  EXPECT_GT(absl::FromUnixNanos(unreachable.next_attempt_at().seconds() * 1000000000 +
                                unreachable.next_attempt_at().nanos()),
            absl::FromUnixNanos(unreachable.last_attempt_at().seconds() * 1000000000 +
                                unreachable.last_attempt_at().nanos()));
  EXPECT_FALSE(unreachable.has_sent_at());

  // The mail server comes back: delivered once, on a later try.
  ASSERT_TRUE(sink_.Start(port));
  const v1::Notification back = WaitUntil(w[0].id(), [](const v1::Notification& n) {
    return n.state() == v1::NOTIFICATION_STATE_SENT;
  });
  EXPECT_GE(back.attempts(), 3);
  EXPECT_TRUE(absl::StartsWith(back.last_response(), "250")) << back.last_response();
  EXPECT_EQ(Copies(w[0].message_id()).size(), 1u);

  // It answers "try later": the message waits, with that answer recorded, until it may.
  sink_.Refuse("451 4.3.0 try later");
  ASSERT_TRUE(IssueLink(c, c.parties(0).id()).ok());
  w = Written();
  ASSERT_EQ(w.size(), 1u);
  const v1::Notification later =
      WaitUntil(w[0].id(), [](const v1::Notification& n) { return n.attempts() >= 2; });
  EXPECT_EQ(later.state(), v1::NOTIFICATION_STATE_PENDING);
  EXPECT_EQ(later.last_response(), "451 4.3.0 try later");
  EXPECT_TRUE(Copies(w[0].message_id()).empty());
  sink_.Accept();
  const v1::Notification accepted = WaitUntil(w[0].id(), [](const v1::Notification& n) {
    return n.state() == v1::NOTIFICATION_STATE_SENT;
  });
  EXPECT_GE(accepted.attempts(), 3);
  EXPECT_EQ(Copies(w[0].message_id()).size(), 1u);

  // A 5xx to the sender (a relay that no longer takes our mailbox, an expired login) is the
  // mail server's, not this message's: tried again, not given up, until it accepts.
  sink_.RefuseSender("550 5.7.1 sender not allowed");
  ASSERT_TRUE(Hold(c, "waiting for the rota review").ok());
  w = Written();
  ASSERT_EQ(w.size(), 1u);
  const v1::Notification sender =
      WaitUntil(w[0].id(), [](const v1::Notification& n) { return n.attempts() >= 2; });
  EXPECT_EQ(sender.state(), v1::NOTIFICATION_STATE_PENDING);
  EXPECT_EQ(sender.last_response(), "550 5.7.1 sender not allowed");
  sink_.Accept();
  const v1::Notification relayed = WaitUntil(w[0].id(), [](const v1::Notification& n) {
    return n.state() == v1::NOTIFICATION_STATE_SENT;
  });
  EXPECT_EQ(Copies(w[0].message_id()).size(), 1u);
  EXPECT_TRUE(absl::StartsWith(relayed.last_response(), "250")) << relayed.last_response();
  ExpectSinkMatchesOutbox();
}

TEST_F(NotificationsTest, APermanentRefusalOrTheLastTryIsADeadLetterUntilResent) {
  ASSERT_NO_FATAL_FAILURE(StartWithSink({"--smtp_max_attempts=3"}));
  const int64_t org = RegisterOrganisation("Northshire Hospitals NHS Trust");
  const v1::Case c = Refer(org, "t7");
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(Written()));
  const auto dead = [](const v1::Notification& n) {
    return n.state() == v1::NOTIFICATION_STATE_DEAD_LETTER;
  };

  // 550 to the message: given up at once.
  // (Each change below writes one email, to the organisation: a sign-in link's email is never
  // sent again, so these are state changes.)
  sink_.Refuse("550 5.7.1 refused for test");
  ASSERT_TRUE(Hold(c, "first hold").ok());
  std::vector<v1::Notification> w = Written();
  ASSERT_EQ(w.size(), 1u);
  const v1::Notification refused = WaitUntil(w[0].id(), dead);
  EXPECT_EQ(refused.attempts(), 1);
  EXPECT_EQ(refused.last_response(), "550 5.7.1 refused for test");

  // 550 to the recipient: the same.
  sink_.Accept();
  sink_.Refuse("550 5.1.1 no such mailbox", /*at_rcpt=*/true);
  ASSERT_TRUE(Resume(c, "resumed").ok());
  w = Written();
  ASSERT_EQ(w.size(), 1u);
  const v1::Notification unknown = WaitUntil(w[0].id(), dead);
  EXPECT_EQ(unknown.attempts(), 1);
  EXPECT_EQ(unknown.last_response(), "550 5.1.1 no such mailbox");

  // "Try later" every time: given up after --smtp_max_attempts tries.
  sink_.Accept();
  sink_.Refuse("451 4.3.0 try later");
  ASSERT_TRUE(Hold(c, "second hold").ok());
  w = Written();
  ASSERT_EQ(w.size(), 1u);
  const v1::Notification tired = WaitUntil(w[0].id(), dead);
  EXPECT_EQ(tired.attempts(), 3);
  EXPECT_EQ(tired.last_response(), "451 4.3.0 try later");

  std::vector<int64_t> dead_letters;
  for (const v1::Notification& n : Outbox(v1::NOTIFICATION_STATE_DEAD_LETTER)) {
    dead_letters.push_back(n.id());
  }
  EXPECT_EQ(dead_letters, (std::vector<int64_t>{refused.id(), unknown.id(), tired.id()}));
  EXPECT_EQ(sink_.Messages().size(), 1u);  // The referral's, before the refusals.

  // Only a dead letter (or one not sent) can be resent.
  v1::ResendNotificationRequest resend;
  v1::ResendNotificationResponse resent;
  resend.set_notification_id(Outbox(v1::NOTIFICATION_STATE_SENT)[0].id());
  EXPECT_EQ(
      notifications_->ResendNotification(WithToken(support_).get(), resend, &resent).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);

  // Resent once the mail server accepts again: each arrives once, with its Message-ID.
  sink_.Accept();
  for (const v1::Notification& n : {refused, unknown, tired}) {
    resend.set_notification_id(n.id());
    grpc::Status s = notifications_->ResendNotification(WithToken(support_).get(), resend, &resent);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resent.notification().state(), v1::NOTIFICATION_STATE_PENDING);
    EXPECT_EQ(resent.notification().attempts(), 0);
    EXPECT_EQ(resent.notification().message_id(), n.message_id());
  }
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered({refused, unknown, tired}));
  ExpectSinkMatchesOutbox();
}

TEST_F(NotificationsTest, WithoutAMailServerMessagesAreKeptAsNotSent) {
  ASSERT_NO_FATAL_FAILURE(StartServer({}));
  const int64_t org = RegisterOrganisation("Northshire Hospitals NHS Trust");
  const Mediator ana = RegisterMediator("Ana");
  const v1::Case c = AllocatedCase(org, "t8", ana);
  ASSERT_TRUE(Book(c, v1::SESSION_KIND_JOINT_MEETING, TwoWeeksAhead(), 60, nullptr).ok());
  const std::vector<v1::Notification> w = Written();
  // 5 state changes, an offer and its answer, 3 invitations; 6 reminders.
  ASSERT_EQ(AllButReminders(w).size(), 10u);
  ASSERT_EQ(Reminders(w).size(), 6u);
  for (const v1::Notification& n : AllButReminders(w)) {
    const v1::Notification kept = WaitUntil(n.id(), [](const v1::Notification& m) {
      return m.state() == v1::NOTIFICATION_STATE_NOT_SENT;
    });
    EXPECT_EQ(kept.last_response(), "not sent: no mail server configured");
    EXPECT_EQ(kept.attempts(), 0);
    EXPECT_FALSE(kept.has_sent_at());
  }
  // Reminders are not due yet: they wait.
  for (const v1::Notification& n : Reminders(w)) {
    EXPECT_EQ(Get(n.id()).state(), v1::NOTIFICATION_STATE_PENDING);
  }
  // Resending one without a mail server: not sent again.
  v1::ResendNotificationRequest resend;
  resend.set_notification_id(w[0].id());
  v1::ResendNotificationResponse resent;
  ASSERT_TRUE(notifications_->ResendNotification(WithToken(support_).get(), resend, &resent).ok());
  EXPECT_EQ(resent.notification().state(), v1::NOTIFICATION_STATE_PENDING);
  const v1::Notification again = WaitUntil(w[0].id(), [](const v1::Notification& m) {
    return m.state() == v1::NOTIFICATION_STATE_NOT_SENT;
  });
  EXPECT_EQ(again.last_response(), "not sent: no mail server configured");
  EXPECT_EQ(again.message_id(), w[0].message_id());
  EXPECT_EQ(Outbox(v1::NOTIFICATION_STATE_NOT_SENT).size(), 10u);
}

TEST_F(NotificationsTest, RemindersArriveWhenDueExceptMovedCancelledOrOptedOut) {
  ASSERT_NO_FATAL_FAILURE(StartWithSink({"--minimum_notice_hours=0"}));
  const int64_t org = RegisterOrganisation("Northshire Hospitals NHS Trust");
  const Mediator m1 = RegisterMediator("Ana");
  const Mediator m2 = RegisterMediator("Ben");
  const Mediator m3 = RegisterMediator("Cai");
  const v1::Case booked = AllocatedCase(org, "r1", m1);
  const v1::Case moved = AllocatedCase(org, "r2", m2);
  const v1::Case cancelled = AllocatedCase(org, "r3", m3);
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(Written()));
  ASSERT_NO_FATAL_FAILURE(StopServer());

  // Sessions start at `start`, the next quarter hour at least two minutes away (the next
  // midnight when the evening would run past the mediators' 23:59). The server restarts with a
  // reminder lead that makes their reminders due `kDueIn` from now; its 48-hour lead is already
  // past for them, so it writes nothing.
  constexpr absl::Duration kDueIn = absl::Seconds(10);
  const absl::Time now = absl::Now();
  absl::TimeZone london;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/London", &london));
  int64_t start = (absl::ToUnixSeconds(now + absl::Minutes(2)) / 900 + 1) * 900;
  if (absl::ToCivilHour(absl::FromUnixSeconds(start), london).hour() >= 22) {
    const absl::CivilDay tomorrow = absl::ToCivilDay(absl::FromUnixSeconds(start), london) + 1;
    start = absl::ToUnixSeconds(absl::FromCivil(absl::CivilMinute(tomorrow), london));
  }
  const absl::Time due = now + kDueIn;
  const double lead_hours = absl::ToDoubleHours(absl::FromUnixSeconds(start) - due);
  ASSERT_NO_FATAL_FAILURE(StartWithSink(
      {"--minimum_notice_hours=0", absl::StrFormat("--reminder_hours=48,%.6f", lead_hours)}));
  const std::string p1a = booked.parties(0).contact().email();
  const std::string p1b = booked.parties(1).contact().email();
  const std::string p2a = moved.parties(0).contact().email();
  const std::string p2b = moved.parties(1).contact().email();

  // Jo of the second case opted out before anything was booked.
  EXPECT_EQ(SetReminders(p2b, false).removed_reminders(), 0);
  // The third case's session is booked, then cancelled: its reminders go with it.
  v1::Session third;
  ASSERT_TRUE(Book(cancelled, v1::SESSION_KIND_JOINT_MEETING, start, 15, &third).ok());
  ASSERT_TRUE(Cancel(third.id(), "not needed").ok());
  // The second's is booked an hour later, then moved to `start`: its reminders follow it.
  v1::Session second;
  ASSERT_TRUE(Book(moved, v1::SESSION_KIND_JOINT_MEETING, start + kHour, 15, &second).ok());
  ASSERT_TRUE(Reschedule(second.id(), start, "earlier").ok());
  // The first's is booked; then Jo of the first case opts out, removing the one waiting.
  v1::Session first;
  ASSERT_TRUE(Book(booked, v1::SESSION_KIND_JOINT_MEETING, start, 15, &first).ok());
  EXPECT_EQ(SetReminders(p1b, false).removed_reminders(), 1);
  EXPECT_FALSE(WantsReminders(p1b));
  EXPECT_TRUE(WantsReminders(p1a));
  ASSERT_LT(absl::Now(), due - absl::Seconds(1)) << "booking took too long for this test's timing";

  // Invitations, the update and the cancellations go at once (to those who opted out too).
  const std::vector<v1::Notification> w = Written();
  EXPECT_EQ(
      Lines(AllButReminders(w)),
      Expected(
          {{v1::NOTIFICATION_KIND_SESSION_INVITATION, m3.email},
           {v1::NOTIFICATION_KIND_SESSION_INVITATION, cancelled.parties(0).contact().email()},
           {v1::NOTIFICATION_KIND_SESSION_INVITATION, cancelled.parties(1).contact().email()},
           {v1::NOTIFICATION_KIND_SESSION_CANCELLATION, m3.email},
           {v1::NOTIFICATION_KIND_SESSION_CANCELLATION, cancelled.parties(0).contact().email()},
           {v1::NOTIFICATION_KIND_SESSION_CANCELLATION, cancelled.parties(1).contact().email()},
           {v1::NOTIFICATION_KIND_SESSION_INVITATION, m2.email},
           {v1::NOTIFICATION_KIND_SESSION_INVITATION, p2a},
           {v1::NOTIFICATION_KIND_SESSION_INVITATION, p2b},
           {v1::NOTIFICATION_KIND_SESSION_UPDATE, m2.email},
           {v1::NOTIFICATION_KIND_SESSION_UPDATE, p2a},
           {v1::NOTIFICATION_KIND_SESSION_UPDATE, p2b},
           {v1::NOTIFICATION_KIND_SESSION_INVITATION, m1.email},
           {v1::NOTIFICATION_KIND_SESSION_INVITATION, p1a},
           {v1::NOTIFICATION_KIND_SESSION_INVITATION, p1b},
           {v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact},
           {v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact},
           {v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, kOrganisationContact}}));
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(AllButReminders(w)));

  // Waiting: exactly one reminder for each person who still wants them, of the two sessions
  // still booked, due the lead time before `start`.
  const std::vector<v1::Notification> waiting = Reminders(Outbox());
  EXPECT_EQ(Lines(waiting), Expected({{v1::NOTIFICATION_KIND_SESSION_REMINDER, m1.email},
                                      {v1::NOTIFICATION_KIND_SESSION_REMINDER, p1a},
                                      {v1::NOTIFICATION_KIND_SESSION_REMINDER, m2.email},
                                      {v1::NOTIFICATION_KIND_SESSION_REMINDER, p2a}}));
  for (const v1::Notification& n : waiting) {
    EXPECT_EQ(n.state(), v1::NOTIFICATION_STATE_PENDING) << n.DebugString();
    EXPECT_NEAR(static_cast<double>(n.due_at().seconds()),
                static_cast<double>(absl::ToUnixSeconds(due)), 2.0)
        << n.DebugString();
    EXPECT_TRUE(n.session_id() == first.id() || n.session_id() == second.id()) << n.DebugString();
  }
  // They arrive when due, not before.
  ASSERT_NO_FATAL_FAILURE(ExpectDelivered(waiting));
  for (const v1::Notification& n : waiting) {
    EXPECT_GE(Get(n.id()).sent_at().seconds(), n.due_at().seconds());
  }
  EXPECT_EQ(Reminders(Outbox()).size(), 4u);
  ExpectSinkMatchesOutbox();
}

TEST_F(NotificationsTest, OnlyAdministratorsAndCaseSupportSeeTheOutbox) {
  ASSERT_NO_FATAL_FAILURE(StartServer({}));
  const int64_t org = RegisterOrganisation("Northshire Hospitals NHS Trust");
  const Mediator ana = RegisterMediator("Ana");
  const v1::Case c = Refer(org, "t9");
  const std::string organisation = IssueToken(v1::ROLE_ORGANISATION, 0, org);
  auto list = [&](const std::string& token) {
    v1::ListNotificationsRequest r;
    v1::ListNotificationsResponse out;
    grpc::Status s = notifications_->ListNotifications(WithToken(token).get(), r, &out);
    return std::make_pair(s.error_code(), out.notifications_size());
  };
  EXPECT_EQ(list(admin_), std::make_pair(grpc::StatusCode::OK, 1));
  EXPECT_EQ(list(support_), std::make_pair(grpc::StatusCode::OK, 1));
  for (const std::string& token : {adviser_, ana.token, organisation}) {
    EXPECT_EQ(list(token).first, grpc::StatusCode::PERMISSION_DENIED);
  }

  // A mediator chooses for itself alone; case support names the person.
  auto set = [&](const std::string& token, const std::string& email) {
    v1::SetReminderPreferenceRequest r;
    r.set_email(email);
    r.set_reminders(false);
    v1::SetReminderPreferenceResponse out;
    return notifications_->SetReminderPreference(WithToken(token).get(), r, &out).error_code();
  };
  EXPECT_EQ(set(ana.token, ""), grpc::StatusCode::OK);
  EXPECT_FALSE(WantsReminders(ana.email));
  EXPECT_EQ(set(ana.token, c.parties(0).contact().email()), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(WantsReminders(c.parties(0).contact().email()));
  EXPECT_EQ(set(organisation, c.parties(0).contact().email()), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(set(support_, ""), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace mediation
