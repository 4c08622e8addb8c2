// Validation of the message types several services share.
#ifndef MEDIATION_SERVICES_CONTACT_VALIDATION_H_
#define MEDIATION_SERVICES_CONTACT_VALIDATION_H_

#include "absl/strings/string_view.h"
#include "ppa/mediation/v1/common.pb.h"
#include "services/core/validation.h"
#include "storage/records.h"

namespace mediation {

inline constexpr size_t kMaxNameChars = 200;

// Validates `contact` under the field path `field` ("referrer", "parties[0].contact"): name and
// email required, phone and job title optional. Returns the normalised contact.
storage::ContactRecord ValidateContact(Validator& v, absl::string_view field,
                                       const ::ppa::mediation::v1::Contact& contact);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CONTACT_VALIDATION_H_
