// Access tokens the server has looked up recently, by the SHA-256 of their secret, so that a
// call need not open a database transaction just to learn who is calling.
//
// Only tokens found in the database are kept (an unknown secret is looked up every time), and
// a kept token's revocation and expiry are still checked on every call against the kept record.
// A revocation is seen because every change to a token bumps storage::TokenChanges() before its
// transaction commits, and the runner calls Invalidate() at the end of any call during which that
// counter moved, so after the revoking call is answered no call uses the old record. A lookup
// that raced an invalidation is not kept (Insert checks the generation taken before it).
// Writes check the token again under the write lock in any case (CallContext::RecheckToken).
#ifndef MEDIATION_SERVICES_CORE_TOKEN_CACHE_H_
#define MEDIATION_SERVICES_CORE_TOKEN_CACHE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "storage/records.h"

namespace mediation {

class TokenCache {
 public:
  // At most `capacity` tokens are kept; when full, the cache starts again from empty.
  explicit TokenCache(size_t capacity = 10000) : capacity_(capacity) {}

  // The kept record of the token whose secret hashes to `sha256`, if any.
  std::optional<storage::TokenRecord> Find(const std::string& sha256) const;
  // Taken before a database lookup and passed to Insert.
  uint64_t generation() const;
  // Keeps `token` unless Invalidate ran since `generation` was taken.
  void Insert(const std::string& sha256, const storage::TokenRecord& token, uint64_t generation);
  // Forgets every token.
  void Invalidate();

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, storage::TokenRecord> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_TOKEN_CACHE_H_
