#include "services/core/token_cache.h"

namespace mediation {

std::optional<storage::TokenRecord> TokenCache::Find(const std::string& sha256) const {
  absl::MutexLock lock(&mu_);
  auto it = tokens_.find(sha256);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

uint64_t TokenCache::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

void TokenCache::Insert(const std::string& sha256, const storage::TokenRecord& token,
                        uint64_t generation) {
  absl::MutexLock lock(&mu_);
  if (generation != generation_) return;
  if (tokens_.size() >= capacity_) tokens_.clear();
  tokens_.insert_or_assign(sha256, token);
}

void TokenCache::Invalidate() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  tokens_.clear();
}

}  // namespace mediation
