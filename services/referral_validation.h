// Validation of a referral's details (CreateReferral and UpdateReferral share it): pure, no
// database, so it can be tested and fuzzed on its own.
#ifndef MEDIATION_SERVICES_REFERRAL_VALIDATION_H_
#define MEDIATION_SERVICES_REFERRAL_VALIDATION_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "ppa/mediation/v1/common.pb.h"
#include "ppa/mediation/v1/referral.pb.h"
#include "services/core/validation.h"
#include "storage/records.h"

namespace mediation {

inline constexpr int kMinReferralParties = 2;
inline constexpr int kMaxReferralParties = 10;
inline constexpr size_t kMaxSummaryChars = 10000;
inline constexpr size_t kMaxAccessibilityChars = 2000;
inline constexpr size_t kMaxAvailabilityChars = 500;
inline constexpr int kMaxLinkedCases = 20;
inline constexpr size_t kMaxCaseReferenceChars = 40;

// 1 to 40 ASCII letters, digits, '-' or '/'.
bool IsCaseReference(absl::string_view ref);

// The parts of a referral that CreateReferral and UpdateReferral share.
struct ReferralInput {
  const ::ppa::mediation::v1::Contact& referrer;
  const std::string& summary;
  int concern_level;
  int concern_type;
  const google::protobuf::RepeatedPtrField<::ppa::mediation::v1::Party>& parties;
  const google::protobuf::RepeatedPtrField<std::string>& links;
};

// Validates the referral's details into `c` (everything that needs no database): the referrer,
// the summary, the concern grading, 2 to 10 parties with distinct emails and distinct non-negative
// ids, and the linked case references. Party ids are kept as given: 0 for new parties. Text is
// stored trimmed and emails lower-cased; every problem is reported to `v`.
void ValidateReferralDetails(Validator& v, const ReferralInput& in, storage::CaseRecord& c);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_REFERRAL_VALIDATION_H_
