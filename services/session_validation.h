// Validation of session requests (FindSlots, BookSession, RescheduleSession,
// SetPartyAvailability): the parts that need no database and no clock. Pure.
#ifndef MEDIATION_SERVICES_SESSION_VALIDATION_H_
#define MEDIATION_SERVICES_SESSION_VALIDATION_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "ppa/mediation/v1/scheduling.pb.h"
#include "services/core/validation.h"

namespace mediation {

inline constexpr int kMinSessionMinutes = 15;
inline constexpr int kMaxSessionMinutes = 600;
inline constexpr size_t kMaxVideoLinkChars = 500;
inline constexpr int kMaxAvailabilityWindows = 500;

// 15 to 600 minutes, a multiple of 15 (0 too when `allow_zero`: "keep the duration").
void ValidateDuration(Validator& v, int minutes, bool allow_zero);

// The session's kind and mode, and the party and venue they call for: a party only (and always)
// for an individual meeting, a venue only (and always) in person.
void ValidateShape(Validator& v, int kind, int64_t party_id, int mode, int64_t venue_id);

// By video an https:// link on one line, in person none. Returns the trimmed link.
std::string ValidateVideoLink(Validator& v, int mode, absl::string_view link);

// A start that is present, a valid timestamp, and on a UTC quarter hour.
void ValidateQuarterHourStart(Validator& v, const google::protobuf::Timestamp& t, bool present);

// A party's availability: at most 500 windows, each a valid date with a start and end time of
// day (end 00:00 means midnight at the end of the day), end after start. Returns each window as
// [start, end) UTC seconds, Europe/London wall-clock times converted through the tz database.
std::vector<std::pair<int64_t, int64_t>> ValidateAvailabilityWindows(
    Validator& v, const google::protobuf::RepeatedPtrField<::ppa::mediation::v1::LocalWindow>& in);

// A party's access needs or a room's features: known values other than UNSPECIFIED, each at most
// once. INVALID_ARGUMENT names `field` and the index.
std::vector<::ppa::mediation::v1::AccessNeed> ValidateAccessNeeds(
    Validator& v, absl::string_view field, const google::protobuf::RepeatedField<int>& in);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SESSION_VALIDATION_H_
