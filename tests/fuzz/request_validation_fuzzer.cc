// Request validation: referrals, mediator profiles, working patterns, session requests and party
// availability, built from the fuzz input as the API messages a client could send. Invariants:
// an accepted request meets every precondition the handler then relies on, normalised values
// validate again to themselves, and a refusal is one INVALID_ARGUMENT that names the field and
// never echoes a rejected value. Run with deploy/fuzz.sh.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ppa/mediation/v1/common.pb.h"
#include "ppa/mediation/v1/mediator.pb.h"
#include "ppa/mediation/v1/referral.pb.h"
#include "ppa/mediation/v1/scheduling.pb.h"
#include "services/contact_validation.h"
#include "services/convert.h"
#include "services/core/validation.h"
#include "services/mediator_validation.h"
#include "services/referral_validation.h"
#include "services/session_validation.h"
#include "tests/fuzz/fuzz_support.h"

namespace mediation {
namespace {

using fuzz::IsValidUtf8;
using fuzz::Utf8Text;

// Mostly small, sometimes an edge of int32.
int32_t SomeInt(FuzzedDataProvider& fdp, int32_t lo, int32_t hi) {
  switch (fdp.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
      return fdp.ConsumeIntegral<int32_t>();
    case 1:
      return fdp.PickValueInArray<int32_t>({INT32_MIN, INT32_MAX, -1, 0, 1});
    default:
      return fdp.ConsumeIntegralInRange<int32_t>(lo, hi);
  }
}

int64_t SomeId(FuzzedDataProvider& fdp) {
  return fdp.ConsumeBool() ? fdp.ConsumeIntegralInRange<int64_t>(-1, 4)
                           : fdp.ConsumeIntegral<int64_t>();
}

// A realistic email most of the time, anything some of the time.
std::string SomeEmail(FuzzedDataProvider& fdp) {
  if (fdp.ConsumeBool()) return Utf8Text(fdp, 40);
  return absl::StrCat(Utf8Text(fdp, 8), "@", Utf8Text(fdp, 6), fdp.ConsumeBool() ? ".nhs.uk" : "");
}

void FillContact(FuzzedDataProvider& fdp, v1::Contact* c) {
  c->set_name(Utf8Text(fdp, fdp.ConsumeBool() ? 12 : 230));
  c->set_email(SomeEmail(fdp));
  if (fdp.ConsumeBool()) c->set_phone(Utf8Text(fdp, 40));
  if (fdp.ConsumeBool()) c->set_job_title(Utf8Text(fdp, 20));
}

void FillDate(FuzzedDataProvider& fdp, v1::Date* d) {
  d->set_year(SomeInt(fdp, 1890, 2210));
  d->set_month(SomeInt(fdp, 0, 13));
  d->set_day(SomeInt(fdp, 0, 32));
}

void SetTime(v1::TimeOfDay* t, int hours, int minutes) {
  t->set_hours(hours);
  t->set_minutes(minutes);
}

void FillTime(FuzzedDataProvider& fdp, v1::TimeOfDay* t) {
  t->set_hours(SomeInt(fdp, -1, 25));
  t->set_minutes(SomeInt(fdp, -1, 61));
}

bool IsTrimmedLine(absl::string_view s, size_t max_chars, bool allow_newlines) {
  if (s != absl::StripAsciiWhitespace(s) || CodePoints(s) > max_chars || !IsValidUtf8(s)) {
    return false;
  }
  return std::none_of(s.begin(), s.end(), [&](char ch) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (allow_newlines && (c == '\n' || c == '\r' || c == '\t')) return false;
    return c < 0x20 || c == 0x7f;
  });
}

bool IsPlausibleEmail(absl::string_view e) {
  const size_t at = e.find('@');
  return !e.empty() && e.size() <= 254 && at != absl::string_view::npos && at > 0 &&
         e.find('@', at + 1) == absl::string_view::npos && e == absl::AsciiStrToLower(e) &&
         IsTrimmedLine(e, 254, false);
}

void CheckContact(const storage::ContactRecord& c) {
  FUZZ_CHECK(!c.name.empty() && IsTrimmedLine(c.name, kMaxNameChars, false), c.name);
  FUZZ_CHECK(IsPlausibleEmail(c.email), c.email);
  FUZZ_CHECK(
      c.phone.size() <= 32 && c.phone.find_first_not_of("0123456789 +()-") == std::string::npos,
      c.phone);
  FUZZ_CHECK(IsTrimmedLine(c.job_title, kMaxNameChars, false), c.job_title);
}

// A refusal: one INVALID_ARGUMENT whose message starts with one of `fields`.
void CheckRefusal(const absl::Status& s, std::initializer_list<absl::string_view> fields) {
  FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
  const bool named = std::any_of(fields.begin(), fields.end(), [&](absl::string_view f) {
    return absl::StartsWith(s.message(), f);
  });
  FUZZ_CHECK(named, s.message());
}

// An email that failed validation must not be quoted back (it may be huge, and the message
// travels in gRPC metadata).
void CheckNotEchoed(const absl::Status& s, const v1::Contact& contact, absl::string_view field) {
  Validator alone;
  const std::string email = alone.Email(field, contact.email(), /*required=*/true);
  if (alone.ok() || email.size() < 3) return;
  FUZZ_CHECK(!absl::StrContains(s.message(), absl::StrCat(": ", email, " is given")), email);
}

// One contact on its own: accepted far more often than a whole referral.
void FuzzContact(FuzzedDataProvider& fdp) {
  v1::Contact contact;
  FillContact(fdp, &contact);
  Validator v;
  const storage::ContactRecord c = ValidateContact(v, "referrer", contact);
  if (!v.ok()) {
    CheckRefusal(v.status(), {"referrer."});
    return;
  }
  CheckContact(c);
}

void FuzzReferral(FuzzedDataProvider& fdp) {
  v1::CreateReferralRequest r;
  FillContact(fdp, r.mutable_referrer());
  r.set_summary(Utf8Text(fdp, 60));
  r.set_concern_level(static_cast<v1::ConcernLevel>(SomeInt(fdp, 0, 4)));
  r.set_concern_type(static_cast<v1::ConcernType>(SomeInt(fdp, 0, 4)));
  const int parties = fdp.ConsumeIntegralInRange<int>(0, 12);
  for (int i = 0; i < parties; ++i) {
    v1::Party* p = r.add_parties();
    if (fdp.ConsumeIntegralInRange<int>(0, 3) == 0) p->set_id(SomeId(fdp));
    if (i > 0 && fdp.ConsumeIntegralInRange<int>(0, 3) == 0) {
      *p->mutable_contact() = r.parties(fdp.ConsumeIntegralInRange<int>(0, i - 1)).contact();
    } else {
      FillContact(fdp, p->mutable_contact());
    }
    p->set_profession(static_cast<v1::Profession>(SomeInt(fdp, 0, 6)));
    if (fdp.ConsumeBool()) p->set_accessibility_needs(Utf8Text(fdp, 30));
    p->set_bringing_companion(fdp.ConsumeBool());
    if (fdp.ConsumeBool()) p->set_typical_availability(Utf8Text(fdp, 30));
  }
  const int links = fdp.ConsumeIntegralInRange<int>(0, 22);
  for (int i = 0; i < links; ++i) r.add_linked_case_references(Utf8Text(fdp, 12));

  auto validate = [](const v1::CreateReferralRequest& req, storage::CaseRecord& c) {
    Validator v;
    ValidateReferralDetails(v,
                            {req.referrer(), req.summary(), req.concern_level(), req.concern_type(),
                             req.parties(), req.linked_case_references()},
                            c);
    return v.status();
  };
  storage::CaseRecord c;
  const absl::Status s = validate(r, c);
  if (!s.ok()) {
    CheckRefusal(s, {"referrer", "summary", "concern_", "parties", "linked_case_references"});
    CheckNotEchoed(s, r.referrer(), "referrer");
    for (const v1::Party& p : r.parties()) CheckNotEchoed(s, p.contact(), "party");
    return;
  }
  // What CreateReferral and UpdateReferral then rely on.
  CheckContact(c.referrer);
  FUZZ_CHECK(!c.summary.empty() && IsTrimmedLine(c.summary, kMaxSummaryChars, true), c.summary);
  FUZZ_CHECK(v1::ConcernLevel_IsValid(c.concern_level), "concern_level");
  FUZZ_CHECK(v1::ConcernType_IsValid(c.concern_type), "concern_type");
  FUZZ_CHECK(c.parties.size() >= kMinReferralParties && c.parties.size() <= kMaxReferralParties,
             absl::StrCat(c.parties.size(), " parties"));
  std::set<std::string> emails;
  std::set<int64_t> ids;
  for (const storage::PartyRecord& p : c.parties) {
    CheckContact(p.contact);
    FUZZ_CHECK(emails.insert(p.contact.email).second, "two parties share an email");
    FUZZ_CHECK(p.id >= 0 && (p.id == 0 || ids.insert(p.id).second), "party ids");
    FUZZ_CHECK(p.profession != 0 && v1::Profession_IsValid(p.profession), "profession");
    FUZZ_CHECK(IsTrimmedLine(p.accessibility_needs, kMaxAccessibilityChars, true), "access");
    FUZZ_CHECK(IsTrimmedLine(p.typical_availability, kMaxAvailabilityChars, true), "avail");
  }
  FUZZ_CHECK(c.linked_case_references.size() <= kMaxLinkedCases, "links");
  for (const std::string& ref : c.linked_case_references) FUZZ_CHECK(IsCaseReference(ref), ref);

  // Normalising is idempotent: the stored form validates again, to itself.
  v1::CreateReferralRequest again;
  ToProto(c.referrer, again.mutable_referrer());
  again.set_summary(c.summary);
  again.set_concern_level(c.concern_level);
  again.set_concern_type(c.concern_type);
  for (const storage::PartyRecord& p : c.parties) ToProto(p, again.add_parties());
  for (const std::string& ref : c.linked_case_references) again.add_linked_case_references(ref);
  storage::CaseRecord c2;
  FUZZ_CHECK(validate(again, c2).ok(), "the normalised referral is refused");
  FUZZ_CHECK(c2.referrer == c.referrer && c2.summary == c.summary &&
                 c2.parties.size() == c.parties.size() &&
                 c2.linked_case_references == c.linked_case_references,
             "normalising twice changes the referral");
  for (size_t i = 0; i < c.parties.size(); ++i) {
    FUZZ_CHECK(c2.parties[i].contact == c.parties[i].contact, "party contact changed");
  }
}

void FuzzMediatorProfile(FuzzedDataProvider& fdp) {
  v1::Mediator m;
  FillContact(fdp, m.mutable_contact());
  v1::Accreditation* a = m.mutable_accreditation();
  a->set_body(static_cast<v1::AccreditationBody>(SomeInt(fdp, 0, 4)));
  a->set_level(Utf8Text(fdp, 20));
  a->set_registration_number(Utf8Text(fdp, 12));
  if (fdp.ConsumeIntegralInRange<int>(0, 7) != 0) FillDate(fdp, a->mutable_expires_on());
  if (fdp.ConsumeIntegralInRange<int>(0, 7) != 0) FillDate(fdp, m.mutable_insurance_expires_on());
  m.set_cpd_hours_last_12_months(SomeInt(fdp, -1, 1001));
  const int nations = fdp.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < nations; ++i) m.add_nations(static_cast<v1::Nation>(SomeInt(fdp, 0, 4)));
  const int languages = fdp.ConsumeIntegralInRange<int>(0, 11);
  for (int i = 0; i < languages; ++i) m.add_languages(Utf8Text(fdp, 8));
  const int experience = fdp.ConsumeIntegralInRange<int>(0, 6);
  for (int i = 0; i < experience; ++i) {
    v1::ProfessionExperience* e = m.add_experience();
    e->set_profession(static_cast<v1::Profession>(SomeInt(fdp, 0, 6)));
    e->set_cases(SomeInt(fdp, -1, 10001));
  }
  m.set_max_concurrent_cases(SomeInt(fdp, 0, 51));

  absl::StatusOr<storage::MediatorRecord> r = ValidateMediatorProfile(m);
  if (!r.ok()) {
    CheckRefusal(r.status(), {"mediator."});
    return;
  }
  CheckContact(r->contact);
  FUZZ_CHECK(r->accreditation_body != 0 && v1::AccreditationBody_IsValid(r->accreditation_body),
             "body");
  FUZZ_CHECK(!r->accreditation_level.empty() && IsTrimmedLine(r->accreditation_level, 100, false),
             "level");
  FUZZ_CHECK(!r->registration_number.empty() && IsTrimmedLine(r->registration_number, 50, false),
             "registration number");
  // 1900-01-01 .. 2200-12-31 as days since 1970-01-01.
  for (int32_t day : {r->accreditation_expires, r->insurance_expires}) {
    FUZZ_CHECK(day >= -25567 && day <= 84005, absl::StrCat(day));
  }
  FUZZ_CHECK(r->cpd_hours >= 0 && r->cpd_hours <= kMaxCpdHours, "cpd");
  FUZZ_CHECK(!r->nations.empty(), "nations");
  std::set<int> nations_seen;
  for (v1::Nation n : r->nations) {
    FUZZ_CHECK(n != 0 && v1::Nation_IsValid(n) && nations_seen.insert(n).second, "nation");
  }
  FUZZ_CHECK(r->languages.size() <= kMaxLanguages, "languages");
  for (const std::string& l : r->languages) {
    FUZZ_CHECK(!l.empty() && IsTrimmedLine(l, kMaxLanguageChars, false), l);
  }
  std::set<int> professions;
  for (const storage::ExperienceRecord& e : r->experience) {
    FUZZ_CHECK(e.profession != 0 && v1::Profession_IsValid(e.profession) &&
                   professions.insert(e.profession).second && e.cases >= 0 && e.cases <= 10000,
               "experience");
  }
  FUZZ_CHECK(r->max_concurrent_cases >= 1 && r->max_concurrent_cases <= kMaxCasesLimit, "max");
}

void FuzzWorkingHours(FuzzedDataProvider& fdp) {
  v1::SetWorkingPatternRequest r;
  const int n = fdp.ConsumeIntegralInRange<int>(0, 23);
  for (int i = 0; i < n; ++i) {
    v1::WorkingHours* h = r.add_hours();
    h->set_weekday(SomeInt(fdp, 0, 8));
    FillTime(fdp, h->mutable_start());
    FillTime(fdp, h->mutable_end());
  }
  Validator v;
  const std::vector<storage::WorkingHoursRecord> hours = ValidateWorkingHours(v, r.hours());
  if (!v.ok()) {
    CheckRefusal(v.status(), {"hours"});
    return;
  }
  FUZZ_CHECK(static_cast<int>(hours.size()) == n && n <= kMaxWorkingStretches, "stretch count");
  for (size_t i = 0; i < hours.size(); ++i) {
    const storage::WorkingHoursRecord& h = hours[i];
    FUZZ_CHECK(h.weekday >= 1 && h.weekday <= 7, "weekday");
    FUZZ_CHECK(h.start_minute >= 0 && h.start_minute < h.end_minute && h.end_minute < 24 * 60,
               absl::StrCat(h.start_minute, "-", h.end_minute));
    if (i > 0 && hours[i - 1].weekday == h.weekday) {
      FUZZ_CHECK(hours[i - 1].end_minute <= h.start_minute, "overlapping stretches");
    }
    if (i > 0) {
      FUZZ_CHECK(std::tie(hours[i - 1].weekday, hours[i - 1].start_minute) <
                     std::tie(h.weekday, h.start_minute),
                 "not sorted");
    }
  }
}

void FuzzSessionRequest(FuzzedDataProvider& fdp) {
  v1::BookSessionRequest r;
  r.set_kind(static_cast<v1::SessionKind>(SomeInt(fdp, 0, 4)));
  r.set_mode(static_cast<v1::SessionMode>(SomeInt(fdp, 0, 3)));
  r.set_party_id(SomeId(fdp));
  r.set_venue_id(SomeId(fdp));
  r.set_duration_minutes(SomeInt(fdp, -15, 615));
  r.set_video_link(fdp.ConsumeBool() ? absl::StrCat("https://", Utf8Text(fdp, 30))
                                     : Utf8Text(fdp, 30));
  const bool has_start = fdp.ConsumeIntegralInRange<int>(0, 7) != 0;
  if (has_start) {
    r.mutable_start()->set_seconds(fdp.ConsumeBool() ? fdp.ConsumeIntegral<int64_t>()
                                                     : 1800000000 + 900LL * SomeInt(fdp, -5, 5));
    r.mutable_start()->set_nanos(fdp.ConsumeBool() ? 0 : fdp.ConsumeIntegral<int32_t>());
  }
  const bool reschedule = fdp.ConsumeBool();

  Validator v;
  ValidateShape(v, r.kind(), r.party_id(), r.mode(), r.venue_id());
  ValidateDuration(v, r.duration_minutes(), reschedule);
  const std::string link = ValidateVideoLink(v, r.mode(), r.video_link());
  ValidateQuarterHourStart(v, r.start(), has_start);
  if (!v.ok()) {
    CheckRefusal(v.status(), {"kind", "mode", "party_id", "venue_id", "duration_minutes",
                              "video_link", "start"});
    return;
  }
  FUZZ_CHECK(r.kind() != 0 && v1::SessionKind_IsValid(r.kind()), "kind");
  FUZZ_CHECK(r.mode() != 0 && v1::SessionMode_IsValid(r.mode()), "mode");
  FUZZ_CHECK(
      (r.kind() == v1::SESSION_KIND_INDIVIDUAL_MEETING) == (r.party_id() > 0) && r.party_id() >= 0,
      "party_id");
  FUZZ_CHECK((r.mode() == v1::SESSION_MODE_IN_PERSON) == (r.venue_id() > 0) && r.venue_id() >= 0,
             "venue_id");
  const int d = r.duration_minutes();
  FUZZ_CHECK((reschedule && d == 0) || (d >= 15 && d <= 600 && d % 15 == 0), "duration");
  if (r.mode() == v1::SESSION_MODE_VIDEO) {
    FUZZ_CHECK(absl::StartsWith(link, "https://") && IsTrimmedLine(link, kMaxVideoLinkChars, false),
               link);
  } else {
    FUZZ_CHECK(link.empty(), link);
  }
  FUZZ_CHECK(r.start().nanos() == 0 && r.start().seconds() % 900 == 0, "start");
  // The handler computes the end in 64 bits: it must not overflow.
  FUZZ_CHECK(r.start().seconds() <= INT64_MAX - 600 * 60, "end overflows");
}

void FuzzAvailability(FuzzedDataProvider& fdp) {
  v1::SetPartyAvailabilityRequest r;
  const int n = fdp.ConsumeIntegralInRange<int>(0, 6);
  for (int i = 0; i < n; ++i) {
    v1::LocalWindow* w = r.add_windows();
    if (fdp.ConsumeIntegralInRange<int>(0, 7) != 0) {
      if (fdp.ConsumeBool()) {
        // Around the clock changes, where local times are missing or repeated.
        w->mutable_date()->set_year(fdp.ConsumeIntegralInRange<int>(2025, 2030));
        w->mutable_date()->set_month(fdp.ConsumeBool() ? 3 : 10);
        w->mutable_date()->set_day(fdp.ConsumeIntegralInRange<int>(24, 31));
      } else {
        FillDate(fdp, w->mutable_date());
      }
    }
    if (fdp.ConsumeBool()) {
      FillTime(fdp, w->mutable_start());
      FillTime(fdp, w->mutable_end());
    } else {  // Around 01:00 and 02:00, when the clocks change.
      SetTime(w->mutable_start(), fdp.ConsumeIntegralInRange<int>(0, 2),
              fdp.ConsumeIntegralInRange<int>(0, 59));
      SetTime(w->mutable_end(), fdp.ConsumeIntegralInRange<int>(0, 2),
              fdp.ConsumeIntegralInRange<int>(0, 59));
    }
  }
  Validator v;
  const std::vector<std::pair<int64_t, int64_t>> windows =
      ValidateAvailabilityWindows(v, r.windows());
  if (!v.ok()) {
    CheckRefusal(v.status(), {"windows"});
    return;
  }
  FUZZ_CHECK(static_cast<int>(windows.size()) == n, "window count");
  for (const auto& [start, end] : windows) {
    // An accepted window is real time the party can attend: [start, end) is not empty, and
    // lasts at most one local day (25 hours on the day the clocks go back).
    FUZZ_CHECK(start < end && end - start <= 25 * 3600, absl::StrCat(start, " to ", end));
  }
}

}  // namespace
}  // namespace mediation

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  switch (fdp.ConsumeIntegralInRange<int>(0, 5)) {
    case 5:
      mediation::FuzzContact(fdp);
      break;
    case 0:
      mediation::FuzzReferral(fdp);
      break;
    case 1:
      mediation::FuzzMediatorProfile(fdp);
      break;
    case 2:
      mediation::FuzzWorkingHours(fdp);
      break;
    case 3:
      mediation::FuzzSessionRequest(fdp);
      break;
    default:
      mediation::FuzzAvailability(fdp);
  }
  return 0;
}
