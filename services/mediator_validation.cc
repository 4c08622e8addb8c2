#include "services/mediator_validation.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/contact_validation.h"
#include "services/convert.h"
#include "services/rules/allocation.h"

namespace mediation {
int32_t RequiredDay(Validator& v, absl::string_view field, bool present,
                    const ::ppa::mediation::v1::Date& d) {
  if (!present) {
    v.Fail(field, "required");
    return 0;
  }
  std::optional<int32_t> day = DayFromProto(d);
  if (!day.has_value()) v.Fail(field, "not a valid date (years 1900 to 2200)");
  return day.value_or(0);
}

absl::StatusOr<storage::MediatorRecord> ValidateMediatorProfile(const v1::Mediator& in) {
  Validator v;
  storage::MediatorRecord m;
  m.contact = ValidateContact(v, "mediator.contact", in.contact());
  m.normalised_name = rules::NormaliseName(m.contact.name);
  const v1::Accreditation& a = in.accreditation();
  v.Enum("mediator.accreditation.body", a.body(), v1::AccreditationBody_IsValid, true);
  m.accreditation_body = a.body();
  m.accreditation_level = v.RequiredLine("mediator.accreditation.level", a.level(), 100);
  m.registration_number =
      v.RequiredLine("mediator.accreditation.registration_number", a.registration_number(), 50);
  m.accreditation_expires =
      RequiredDay(v, "mediator.accreditation.expires_on", a.has_expires_on(), a.expires_on());
  m.insurance_expires = RequiredDay(v, "mediator.insurance_expires_on",
                                    in.has_insurance_expires_on(), in.insurance_expires_on());
  if (in.cpd_hours_last_12_months() < 0 || in.cpd_hours_last_12_months() > kMaxCpdHours) {
    v.Fail("mediator.cpd_hours_last_12_months", absl::StrCat("must be 0 to ", kMaxCpdHours));
  }
  m.cpd_hours = in.cpd_hours_last_12_months();
  if (in.nations_size() == 0) v.Fail("mediator.nations", "at least one nation is required");
  std::set<int> nations;
  for (int i = 0; i < in.nations_size(); ++i) {
    const std::string field = absl::StrCat("mediator.nations[", i, "]");
    v.Enum(field, in.nations(i), v1::Nation_IsValid, true);
    if (!nations.insert(in.nations(i)).second) v.Fail(field, "given twice");
    m.nations.push_back(in.nations(i));
  }
  if (in.languages_size() > kMaxLanguages) {
    v.Fail("mediator.languages", absl::StrCat("at most ", kMaxLanguages));
  }
  for (int i = 0; i < in.languages_size() && i < kMaxLanguages; ++i) {
    m.languages.push_back(v.RequiredLine(absl::StrCat("mediator.languages[", i, "]"),
                                         in.languages(i), kMaxLanguageChars));
  }
  std::set<int> professions;
  for (int i = 0; i < in.experience_size(); ++i) {
    const v1::ProfessionExperience& e = in.experience(i);
    const std::string field = absl::StrCat("mediator.experience[", i, "]");
    v.Enum(absl::StrCat(field, ".profession"), e.profession(), v1::Profession_IsValid, true);
    if (!professions.insert(e.profession()).second) {
      v.Fail(absl::StrCat(field, ".profession"), "given twice");
    }
    if (e.cases() < 0 || e.cases() > 10000) {
      v.Fail(absl::StrCat(field, ".cases"), "must be 0 to 10000");
    }
    m.experience.push_back({e.profession(), e.cases()});
  }
  if (in.max_concurrent_cases() < 1 || in.max_concurrent_cases() > kMaxCasesLimit) {
    v.Fail("mediator.max_concurrent_cases", absl::StrCat("must be 1 to ", kMaxCasesLimit));
  }
  m.max_concurrent_cases = in.max_concurrent_cases();
  m.active = in.active();
  if (!v.ok()) return v.status();
  return m;
}

std::vector<storage::WorkingHoursRecord> ValidateWorkingHours(
    Validator& v, const google::protobuf::RepeatedPtrField<v1::WorkingHours>& in) {
  if (in.size() > kMaxWorkingStretches) {
    v.Fail("hours", absl::StrCat("at most ", kMaxWorkingStretches, " stretches"));
  }
  std::vector<storage::WorkingHoursRecord> hours;
  for (int i = 0; i < in.size(); ++i) {
    const v1::WorkingHours& h = in[i];
    const std::string field = absl::StrCat("hours[", i, "]");
    if (h.weekday() < 1 || h.weekday() > 7) {
      v.Fail(absl::StrCat(field, ".weekday"), "must be 1 (Monday) to 7 (Sunday)");
    }
    const std::optional<int> start = MinuteOfDay(h.start());
    const std::optional<int> end = MinuteOfDay(h.end());
    if (!start) v.Fail(absl::StrCat(field, ".start"), "not a time of day");
    if (!end) v.Fail(absl::StrCat(field, ".end"), "not a time of day");
    if (start && end && *end <= *start) {
      v.Fail(absl::StrCat(field, ".end"), "must be after start, on the same day");
    }
    hours.push_back({h.weekday(), start.value_or(0), end.value_or(0)});
  }
  std::sort(hours.begin(), hours.end(), [](const auto& a, const auto& b) {
    return std::tie(a.weekday, a.start_minute) < std::tie(b.weekday, b.start_minute);
  });
  for (size_t i = 1; i < hours.size(); ++i) {
    if (hours[i].weekday == hours[i - 1].weekday &&
        hours[i].start_minute < hours[i - 1].end_minute) {
      v.Fail("hours", absl::StrCat("stretches on weekday ", hours[i].weekday, " overlap"));
    }
  }
  return hours;
}

}  // namespace mediation
