#include "services/identity_keys.h"

#include "services/rules/identity.h"

namespace mediation {

storage::IdentityKeys IdentityKeysOf(absl::string_view name, absl::string_view email) {
  const rules::PersonKeys keys = rules::KeysOf(name, email);
  return {.normalised_name = rules::NormaliseName(name),
          .person_key = rules::EmailKey(email),
          .email_key = keys.email_untagged,
          .surname_key = rules::SurnameKey(keys)};
}

void SetIdentityKeys(storage::ConflictRecord& conflict) {
  storage::IdentityKeys keys = IdentityKeysOf(conflict.person_name, conflict.person_email);
  conflict.normalised_name = std::move(keys.normalised_name);
  conflict.email_key = std::move(keys.email_key);
  conflict.surname_key = std::move(keys.surname_key);
}

}  // namespace mediation
