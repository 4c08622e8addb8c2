#include "services/session_validation.h"

#include <algorithm>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/convert.h"
#include "services/rules/allocation.h"
#include "services/rules/slots.h"

namespace mediation {

void ValidateDuration(Validator& v, int minutes, bool allow_zero) {
  if (allow_zero && minutes == 0) return;
  if (minutes < kMinSessionMinutes || minutes > kMaxSessionMinutes || minutes % 15 != 0) {
    v.Fail("duration_minutes", "must be 15 to 600, a multiple of 15");
  }
}

void ValidateShape(Validator& v, int kind, int64_t party_id, int mode, int64_t venue_id) {
  v.Enum("kind", kind, v1::SessionKind_IsValid, true);
  v.Enum("mode", mode, v1::SessionMode_IsValid, true);
  if (kind == v1::SESSION_KIND_INDIVIDUAL_MEETING && party_id <= 0) {
    v.Fail("party_id", "required for an individual meeting");
  } else if (kind != v1::SESSION_KIND_INDIVIDUAL_MEETING && party_id != 0) {
    v.Fail("party_id", "only for an individual meeting (joint sessions include every party)");
  }
  if (mode == v1::SESSION_MODE_IN_PERSON && venue_id <= 0) {
    v.Fail("venue_id", "required in person");
  } else if (mode == v1::SESSION_MODE_VIDEO && venue_id != 0) {
    v.Fail("venue_id", "only in person");
  }
}

std::string ValidateVideoLink(Validator& v, int mode, absl::string_view video_link) {
  std::string link = v.OptionalLine("video_link", video_link, kMaxVideoLinkChars);
  if (mode == v1::SESSION_MODE_VIDEO && !absl::StartsWith(link, "https://")) {
    v.Fail("video_link", "required by video: an https:// link");
  } else if (mode == v1::SESSION_MODE_IN_PERSON && !link.empty()) {
    v.Fail("video_link", "only by video");
  }
  return link;
}

void ValidateQuarterHourStart(Validator& v, const google::protobuf::Timestamp& t, bool present) {
  if (!present) {
    v.Fail("start", "required");
  } else if (v.Timestamp("start", t.seconds(), t.nanos()) &&
             (t.nanos() != 0 || t.seconds() % 900 != 0)) {
    v.Fail("start", "must be on a quarter hour");
  }
}

std::vector<std::pair<int64_t, int64_t>> ValidateAvailabilityWindows(
    Validator& v, const google::protobuf::RepeatedPtrField<v1::LocalWindow>& in) {
  if (in.size() > kMaxAvailabilityWindows) {
    v.Fail("windows", absl::StrCat("at most ", kMaxAvailabilityWindows));
  }
  std::vector<std::pair<int64_t, int64_t>> windows;
  for (int i = 0; i < in.size() && i < kMaxAvailabilityWindows; ++i) {
    const v1::LocalWindow& w = in[i];
    const std::string field = absl::StrCat("windows[", i, "]");
    std::optional<int32_t> day = DayFromProto(w.date());
    const std::optional<int> start = MinuteOfDay(w.start());
    std::optional<int> end = MinuteOfDay(w.end());
    if (end == 0) end = 24 * 60;  // 00:00: midnight at the end of the day.
    if (!w.has_date() || !day) {
      v.Fail(absl::StrCat(field, ".date"), "required: a valid date");
    } else if (!start || !end || *end <= *start) {
      v.Fail(field, "start and end must be times of day, end after start");
    } else {
      const int64_t from = rules::LondonToUtc(*day, *start), to = rules::LondonToUtc(*day, *end);
      // Both ends in the hour the clocks skip in March: no time at all would be stored.
      if (to <= from) {
        v.Fail(field, absl::StrCat("no such time on ", rules::FormatDay(*day),
                                   ": Europe/London clocks go forward from 01:00 to 02:00"));
      } else {
        windows.push_back({from, to});
      }
    }
  }
  return windows;
}

std::vector<v1::AccessNeed> ValidateAccessNeeds(Validator& v, absl::string_view field,
                                                const google::protobuf::RepeatedField<int>& in) {
  std::vector<v1::AccessNeed> out;
  for (int i = 0; i < in.size(); ++i) {
    const std::string name = absl::StrCat(field, "[", i, "]");
    v.Enum(name, in[i], v1::AccessNeed_IsValid, /*required=*/true);
    if (!v1::AccessNeed_IsValid(in[i]) || in[i] == v1::ACCESS_NEED_UNSPECIFIED) continue;
    const auto need = static_cast<v1::AccessNeed>(in[i]);
    if (std::find(out.begin(), out.end(), need) != out.end()) {
      v.Fail(name, absl::StrCat(v1::AccessNeed_Name(need), " is listed twice"));
      continue;
    }
    out.push_back(need);
  }
  return out;
}

}  // namespace mediation
