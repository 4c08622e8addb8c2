#include "services/contact_validation.h"

#include "absl/strings/str_cat.h"

namespace mediation {

storage::ContactRecord ValidateContact(Validator& v, absl::string_view field,
                                       const ::ppa::mediation::v1::Contact& contact) {
  storage::ContactRecord out;
  out.name = v.RequiredLine(absl::StrCat(field, ".name"), contact.name(), kMaxNameChars);
  out.email = v.Email(absl::StrCat(field, ".email"), contact.email(), /*required=*/true);
  out.phone = v.Phone(absl::StrCat(field, ".phone"), contact.phone());
  out.job_title =
      v.OptionalLine(absl::StrCat(field, ".job_title"), contact.job_title(), kMaxNameChars);
  return out;
}

}  // namespace mediation
