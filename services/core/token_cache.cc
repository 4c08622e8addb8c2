#include "services/core/token_cache.h"

namespace mediation {

std::optional<storage::TokenRecord> TokenCache::Find(const std::string& sha256,
                                                     const storage::TokenChangeState& now) {
  absl::MutexLock lock(&mu_);
  if (now != state_) {
    // The version only grows: a later one makes every kept token possibly stale.
    if (now.version > state_.version) {
      tokens_.clear();
      state_ = now;
    }
    return std::nullopt;
  }
  auto it = tokens_.find(sha256);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

void TokenCache::Insert(const std::string& sha256, const storage::TokenRecord& token,
                        const storage::TokenChangeState& before,
                        const storage::TokenChangeState& after) {
  if (before != after || after.in_progress != 0) return;
  absl::MutexLock lock(&mu_);
  if (after.version > state_.version) {
    tokens_.clear();
    state_ = after;
  }
  if (after != state_) return;
  if (tokens_.size() >= capacity_) tokens_.clear();
  tokens_.insert_or_assign(sha256, token);
}

}  // namespace mediation
