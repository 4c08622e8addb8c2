// Keys that recognise a person across records (services/rules/identity.h computes them: SQL
// cannot fold Unicode or find confusables), stored beside the text they come from:
// parties.person_key (bookings find a practitioner who is a party of two cases by it),
// mediators.normalised_name, and mediator_conflicts' normalised_name, email_key and surname_key
// (conflict checks look them up by it).
#ifndef MEDIATION_STORAGE_IDENTITY_KEYS_H_
#define MEDIATION_STORAGE_IDENTITY_KEYS_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/tx.h"

namespace mediation::storage {

// The version of the key computation rows were written with. Raise it whenever
// services/rules/identity.cc changes what it computes: rows below it are recomputed at the next
// start (RefreshIdentityKeys).
inline constexpr int kIdentityKeysVersion = 1;

struct IdentityKeys {
  std::string normalised_name;  // rules::NormaliseName(name).
  std::string person_key;       // rules::EmailKey(email).
  std::string email_key;        // rules::KeysOf(name, email).email_untagged.
  std::string surname_key;      // rules::SurnameKey(rules::KeysOf(name, email)).
};
using IdentityFn = std::function<IdentityKeys(absl::string_view name, absl::string_view email)>;

// Recomputes the keys of up to `limit` rows written with an older kIdentityKeysVersion (parties,
// mediators, conflicts); returns how many. Start-up runs it in batches until it returns 0. The
// anonymised keep empty keys.
absl::StatusOr<int> RefreshIdentityKeys(Tx& tx, int limit, const IdentityFn& keys);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_IDENTITY_KEYS_H_
