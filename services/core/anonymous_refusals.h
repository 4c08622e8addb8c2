// Calls refused before any token was known (none sent, a malformed header, an unknown token).
// They are not audited one row each, which would let anyone fill the disk by calling without a
// token: they are counted per peer address and minute in memory, the counts written to
// refused_anonymous_calls by the server's maintenance (one row per peer and minute), and a peer
// that keeps trying is slowed down: past a burst, its next anonymous refusal is
// RESOURCE_EXHAUSTED with the seconds to wait. Calls with a valid token from the same address
// are never limited (many people can share one address), and a known but revoked or expired
// token is audited as before.
//
// Thread-safe.
#ifndef MEDIATION_SERVICES_CORE_ANONYMOUS_REFUSALS_H_
#define MEDIATION_SERVICES_CORE_ANONYMOUS_REFUSALS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mediation {

class AnonymousRefusals {
 public:
  // `burst` refusals at once, then `per_second` more a second; at most `max_peers` addresses
  // are tracked, and counted separately in a minute (the rest together, as kOtherPeers).
  AnonymousRefusals(int burst, double per_second, size_t max_peers = 10000);

  struct Verdict {
    bool limited = false;        // Past the limit: refuse with RESOURCE_EXHAUSTED.
    absl::Duration retry_after;  // When limited: when the next call may be refused politely.
  };
  // Counts a refused anonymous call from `peer` (an address, without its port) of `method`.
  Verdict Refused(absl::string_view peer, absl::string_view method, absl::Time now);

  struct Count {
    std::string peer;
    int64_t minute = 0;  // Minutes since the epoch, UTC.
    int64_t calls = 0;
    std::string last_method;
  };
  // The counts so far, forgotten here (the caller writes them down).
  std::vector<Count> Drain();
  // Counts drained but not written down (the write failed): kept for the next time.
  void Restore(std::vector<Count> counts);

  // The peer counted for refusals past the max_peers rows of a minute.
  static constexpr char kOtherPeers[] = "other";

  // The address a gRPC peer string is counted under: IPv4 without its port
  // ("ipv4:127.0.0.1:5000" -> "ipv4:127.0.0.1"), IPv6 by its /64.

  static std::string PeerAddress(absl::string_view grpc_peer);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  const int burst_;
  const double per_second_;
  const size_t max_peers_;
  absl::Mutex mu_;
  std::map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, int64_t>, Count> counts_ ABSL_GUARDED_BY(mu_);
  absl::Time last_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_ANONYMOUS_REFUSALS_H_
