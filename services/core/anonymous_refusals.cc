#include "services/core/anonymous_refusals.h"

#include <algorithm>
#include <cmath>

namespace mediation {

AnonymousRefusals::AnonymousRefusals(int burst, double per_second, size_t max_peers)
    : burst_(burst), per_second_(per_second), max_peers_(max_peers) {}

AnonymousRefusals::Verdict AnonymousRefusals::Refused(absl::string_view peer,
                                                      absl::string_view method, absl::Time now) {
  absl::MutexLock lock(&mu_);
  const int64_t minute = absl::ToUnixSeconds(now) / 60;
  Count& count = counts_[{std::string(peer), minute}];
  count.peer = std::string(peer);
  count.minute = minute;
  ++count.calls;
  count.last_method = std::string(method);

  if (buckets_.size() >= max_peers_ && buckets_.find(std::string(peer)) == buckets_.end()) {
    // Forget peers whose buckets have filled up again: they are back where a new peer starts.
    const absl::Duration full = absl::Seconds(burst_ / per_second_);
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = now - it->second.updated >= full ? buckets_.erase(it) : std::next(it);
    }
    if (buckets_.size() >= max_peers_) return {.limited = true, .retry_after = absl::Seconds(1)};
  }
  auto [it, inserted] = buckets_.try_emplace(std::string(peer));
  Bucket& b = it->second;
  if (inserted) {
    b.tokens = burst_;
  } else {
    b.tokens = std::min<double>(
        burst_, b.tokens + absl::ToDoubleSeconds(std::max(now - b.updated, absl::ZeroDuration())) *
                               per_second_);
  }
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return {};
  }
  return {.limited = true, .retry_after = absl::Seconds(std::ceil((1 - b.tokens) / per_second_))};
}

std::vector<AnonymousRefusals::Count> AnonymousRefusals::Drain() {
  absl::MutexLock lock(&mu_);
  std::vector<Count> out;
  out.reserve(counts_.size());
  for (auto& [key, count] : counts_) out.push_back(std::move(count));
  counts_.clear();
  return out;
}

std::string AnonymousRefusals::PeerAddress(absl::string_view grpc_peer) {
  const size_t colon = grpc_peer.rfind(':');
  const size_t scheme = grpc_peer.find(':');
  if (colon == absl::string_view::npos || colon == scheme) return std::string(grpc_peer);
  return std::string(grpc_peer.substr(0, colon));
}

}  // namespace mediation
