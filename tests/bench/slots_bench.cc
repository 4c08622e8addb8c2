// Measures slot finding: two mediators, two parties and three rooms, each with 2,000 existing
// bookings inside a 90-day window. Run on demand: build/tests/slots_bench
//   BM_FindSlotsFromLists   - the sweep alone, on free lists already built;
//   BM_FindSlotsEndToEnd    - expanding working patterns (through the tz database), removing
//                             bookings widened by the buffer, and the sweep.
#include <benchmark/benchmark.h>

#include <random>

#include "services/rules/slots.h"

namespace mediation::rules {
namespace {

constexpr Instant kDay = 86400;
constexpr Day kFirstDay = 20878;  // 2027-03-01, a Monday.
constexpr int kDays = 90;

struct Inputs {
  std::vector<IntervalList> bookings;  // 2 mediators, 2 parties, 3 rooms.
  Interval window;
};

const Inputs& Data() {
  static const Inputs inputs = [] {
    Inputs in;
    in.window = {kFirstDay * kDay, (kFirstDay + kDays) * kDay};
    std::mt19937 rng(7);
    for (int who = 0; who < 7; ++who) {
      std::vector<Interval> b;
      for (int i = 0; i < 2000; ++i) {
        // All inside the window: 22 a day, at quarter-hour starts around the clock, 15 to 45
        // minutes long (rooms and people as busy as anyone could be).
        const Instant day = (kFirstDay + static_cast<Instant>(rng() % kDays)) * kDay;
        const Instant start = day + static_cast<Instant>(rng() % 96) * 900;
        b.push_back({start, start + static_cast<Instant>(1 + rng() % 3) * 900});
      }
      in.bookings.push_back(Normalise(std::move(b)));
    }
    return in;
  }();
  return inputs;
}

SlotQuery Query(const Inputs& in, bool expand) {
  const std::vector<WeeklyHours> weekdays = {
      {1, 540, 1020}, {2, 540, 1020}, {3, 540, 1020}, {4, 540, 1020}, {5, 540, 1020}};
  static const IntervalList kWorking =
      ExpandWorkingPattern(weekdays, kFirstDay, kFirstDay + kDays - 1);
  const Instant buffer = 1800;
  SlotQuery q{.window = in.window, .duration = 3600, .max_slots = 10};
  for (int m = 0; m < 2; ++m) {
    const IntervalList working =
        expand ? ExpandWorkingPattern(weekdays, kFirstDay, kFirstDay + kDays - 1) : kWorking;
    q.people.push_back({"mediator", Subtract(working, Widen(in.bookings[m], buffer, buffer))});
  }
  for (int p = 2; p < 4; ++p) {
    q.people.push_back({"party", Subtract({in.window}, Widen(in.bookings[p], buffer, buffer))});
  }
  RoomPool rooms{.name = "rooms", .needed = 2};
  for (int r = 4; r < 7; ++r) rooms.free_per_room.push_back(Subtract({in.window}, in.bookings[r]));
  q.rooms.push_back(std::move(rooms));
  return q;
}

void BM_FindSlotsFromLists(benchmark::State& state) {
  const SlotQuery q = Query(Data(), false);
  size_t found = 0;
  for (auto _ : state) {
    SlotResult r = FindCommonSlots(q);
    found = r.slots.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["slots"] = static_cast<double>(found);
}

void BM_FindSlotsEndToEnd(benchmark::State& state) {
  const Inputs& in = Data();
  size_t found = 0;
  for (auto _ : state) {
    SlotResult r = FindCommonSlots(Query(in, true));
    found = r.slots.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["slots"] = static_cast<double>(found);
}

BENCHMARK(BM_FindSlotsFromLists)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FindSlotsEndToEnd)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mediation::rules

BENCHMARK_MAIN();
