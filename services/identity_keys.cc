#include "services/identity_keys.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace mediation {

rules::PersonKeys CachedKeysOf(absl::string_view name, absl::string_view email) {
  static absl::Mutex mu;
  static auto* cache = new absl::flat_hash_map<std::string, rules::PersonKeys>;
  constexpr size_t kMaxPeople = 100000;
  // A name holds no NUL (validation refuses control characters): the key is unambiguous.
  std::string key = absl::StrCat(name, absl::string_view("\0", 1), email);
  {
    absl::MutexLock lock(&mu);
    if (auto it = cache->find(key); it != cache->end()) return it->second;
  }
  rules::PersonKeys keys = rules::KeysOf(name, email);
  absl::MutexLock lock(&mu);
  if (cache->size() >= kMaxPeople) cache->clear();
  cache->emplace(std::move(key), keys);
  return keys;
}

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
