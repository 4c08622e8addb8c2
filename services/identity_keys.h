// The stored identity keys (storage/identity_keys.h) from rules/identity.h's computation.
#ifndef MEDIATION_SERVICES_IDENTITY_KEYS_H_
#define MEDIATION_SERVICES_IDENTITY_KEYS_H_

#include "absl/strings/string_view.h"
#include "services/rules/identity.h"
#include "storage/identity_keys.h"
#include "storage/records.h"

namespace mediation {

// Every key of one person record: storage's IdentityFn.
storage::IdentityKeys IdentityKeysOf(absl::string_view name, absl::string_view email);

// rules::KeysOf, remembered: a proposal compares every mediator of the registry with the parties,
// and ICU's folding costs about 10 microseconds a person. Thread-safe; at most 100,000 people
// are remembered (then it starts again).
rules::PersonKeys CachedKeysOf(absl::string_view name, absl::string_view email);

// Sets a PERSON conflict's normalised_name, email_key and surname_key from its name and email.
void SetIdentityKeys(storage::ConflictRecord& conflict);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_IDENTITY_KEYS_H_
