// Access tokens the server has looked up recently, by the SHA-256 of their secret, so that a
// call need not open a database transaction just to learn who is calling.
//
// Only tokens found in the database are kept (an unknown secret is looked up every time), and
// a kept token's revocation and expiry are still checked on every call against the kept record.
// Every entry was read while no change to any token was in progress and none began, and is
// used only while that is still so: storage::TokenChanges() moves when a change to a token
// begins (before its transaction commits, so before anyone can be told of it) and again when
// its transaction ends, and Find and Insert compare it with the state the entries were read
// in. So once a revocation has committed, no call starting after that, on any path, uses the
// old record. Writes check the token again under the write lock in any case
// (CallContext::RecheckToken).
#ifndef MEDIATION_SERVICES_CORE_TOKEN_CACHE_H_
#define MEDIATION_SERVICES_CORE_TOKEN_CACHE_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "storage/records.h"
#include "storage/tokens.h"

namespace mediation {

class TokenCache {
 public:
  // At most `capacity` tokens are kept; when full, the cache starts again from empty.
  explicit TokenCache(size_t capacity = 10000) : capacity_(capacity) {}

  // The kept record of the token whose secret hashes to `sha256`, if any and if `now`
  // (storage::TokenChanges() read just before) is the state it was read in.
  std::optional<storage::TokenRecord> Find(const std::string& sha256,
                                           const storage::TokenChangeState& now);
  // Keeps `token`, read from the database between `before` and `after` (storage::TokenChanges()
  // read around the lookup), if no change was in progress and none began meanwhile.
  void Insert(const std::string& sha256, const storage::TokenRecord& token,
              const storage::TokenChangeState& before, const storage::TokenChangeState& after);

 private:
  const size_t capacity_;
  absl::Mutex mu_;
  // The state every kept token was read in; entries are dropped when a later one is seen.
  storage::TokenChangeState state_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, storage::TokenRecord> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_TOKEN_CACHE_H_
