// Latency histograms for the benchmarks (rpc_bench, scale_bench): calls are timed one by one and
// summarised by quantiles, without keeping every sample.
#ifndef MEDIATION_TESTS_BENCH_LATENCY_H_
#define MEDIATION_TESTS_BENCH_LATENCY_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace mediation::testing {

// Latencies in microseconds: exact below 32, then 32 buckets per power of two (within 3%).
// Not thread-safe: give each thread its own and Merge them.
class LatencyHistogram {
 public:
  void Add(uint64_t micros) {
    ++counts_[Index(micros)];
    ++total_;
  }
  void Merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
  }
  uint64_t total() const { return total_; }
  // The smallest latency at or above which lies (1 - q) of the calls, to the bucket's bound.
  double QuantileMillis(double q) const {
    if (total_ == 0) return 0;
    const uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return static_cast<double>(UpperBound(i)) / 1000.0;
    }
    return static_cast<double>(UpperBound(counts_.size() - 1)) / 1000.0;
  }

 private:
  static constexpr int kSub = 32;
  static constexpr size_t kBuckets = kSub * 40;
  static size_t Index(uint64_t v) {
    if (v < kSub) return v;
    const int shift = std::bit_width(v) - 6;  // v >> shift lies in [32, 64).
    const size_t i = static_cast<size_t>(kSub * (shift + 1)) + ((v >> shift) - kSub);
    return std::min(i, kBuckets - 1);
  }
  static uint64_t UpperBound(size_t i) {
    if (i < kSub) return i;
    const int shift = static_cast<int>(i / kSub) - 1;
    return ((static_cast<uint64_t>(i % kSub) + kSub + 1) << shift) - 1;
  }
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
};

}  // namespace mediation::testing

#endif  // MEDIATION_TESTS_BENCH_LATENCY_H_
