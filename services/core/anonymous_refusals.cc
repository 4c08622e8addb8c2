#include "services/core/anonymous_refusals.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace mediation {

AnonymousRefusals::AnonymousRefusals(int burst, double per_second, size_t max_peers)
    : burst_(burst), per_second_(per_second), max_peers_(max_peers) {}

AnonymousRefusals::Verdict AnonymousRefusals::Refused(absl::string_view peer,
                                                      absl::string_view method, absl::Time now) {
  absl::MutexLock lock(&mu_);
  const int64_t minute = absl::ToUnixSeconds(now) / 60;
  // At most max_peers_ rows a minute: the rest are counted together, as "other".
  std::string counted(peer);
  if (counts_.size() >= max_peers_ && counts_.find({counted, minute}) == counts_.end()) {
    counted = kOtherPeers;
  }
  Count& count = counts_[{counted, minute}];
  count.peer = counted;
  count.minute = minute;
  ++count.calls;
  count.last_method = std::string(method);

  if (buckets_.size() >= max_peers_ && buckets_.find(std::string(peer)) == buckets_.end()) {
    // Forget peers whose buckets have filled up again (they are back where a new peer starts),
    // at most once a second: many new addresses must not make every refusal a sweep.
    if (now - last_sweep_ >= absl::Seconds(1)) {
      last_sweep_ = now;
      const absl::Duration full = absl::Seconds(burst_ / per_second_);
      for (auto it = buckets_.begin(); it != buckets_.end();) {
        it = now - it->second.updated >= full ? buckets_.erase(it) : std::next(it);
      }
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

void AnonymousRefusals::Restore(std::vector<Count> counts) {
  absl::MutexLock lock(&mu_);
  for (Count& c : counts) {
    Count& kept = counts_[{c.peer, c.minute}];
    kept.calls += c.calls;
    if (kept.peer.empty()) kept = std::move(c);
  }
}

std::string AnonymousRefusals::PeerAddress(absl::string_view grpc_peer) {
  // "ipv4:1.2.3.4:5000" -> "ipv4:1.2.3.4"; "ipv6:[2001:db8:1:2:3:4:5:6]:5000" -> its /64,
  // "ipv6:[2001:db8:1:2::]/64": one machine may hold a whole /64.
  if (absl::ConsumePrefix(&grpc_peer, "ipv6:[")) {
    const size_t close = grpc_peer.find(']');
    const std::string address(grpc_peer.substr(0, close));
    in6_addr a{};
    if (inet_pton(AF_INET6, address.c_str(), &a) != 1) return absl::StrCat("ipv6:[", address, "]");
    std::memset(a.s6_addr + 8, 0, 8);
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, &a, text, sizeof text);
    return absl::StrCat("ipv6:[", text, "]/64");
  }
  const size_t colon = grpc_peer.rfind(':');
  const size_t scheme = grpc_peer.find(':');
  if (colon == absl::string_view::npos || colon == scheme) return std::string(grpc_peer);
  return std::string(grpc_peer.substr(0, colon));
}

}  // namespace mediation
