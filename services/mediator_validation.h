// Validation of mediator records and working patterns (RegisterMediator, UpdateMediator, the
// CSV import that calls them, SetWorkingPattern): pure, no database.
#ifndef MEDIATION_SERVICES_MEDIATOR_VALIDATION_H_
#define MEDIATION_SERVICES_MEDIATOR_VALIDATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "ppa/mediation/v1/common.pb.h"
#include "ppa/mediation/v1/mediator.pb.h"
#include "services/core/validation.h"
#include "storage/records.h"

namespace mediation {

inline constexpr int kMaxCpdHours = 1000;
inline constexpr int kMaxLanguages = 10;
inline constexpr size_t kMaxLanguageChars = 40;
inline constexpr int kMaxCasesLimit = 50;
inline constexpr int kMaxWorkingStretches = 21;

// A required date (years 1900 to 2200) as days since 1970-01-01; 0 after reporting a problem.
int32_t RequiredDay(Validator& v, absl::string_view field, bool present,
                    const ::ppa::mediation::v1::Date& d);

// The mediator's profile (everything but its id), normalised, or one INVALID_ARGUMENT naming
// every bad field under "mediator.".
absl::StatusOr<storage::MediatorRecord> ValidateMediatorProfile(
    const ::ppa::mediation::v1::Mediator& in);

// A weekly working pattern: at most 21 stretches, each on weekday 1 to 7, from a time of day to
// a later one on the same day, none overlapping another on the same weekday. Returns the
// stretches sorted by weekday then start (in minutes after local midnight); problems go to `v`.
std::vector<storage::WorkingHoursRecord> ValidateWorkingHours(
    Validator& v, const google::protobuf::RepeatedPtrField<::ppa::mediation::v1::WorkingHours>& in);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_MEDIATOR_VALIDATION_H_
