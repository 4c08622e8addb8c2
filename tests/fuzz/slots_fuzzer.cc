// The slot finder (services/rules/slots.h). Two modes:
//  * the interval algebra (Normalise, Intersect, Subtract, Widen, Covers, PoolFree, Starts) on
//    small lists, against a bitmap of the same sets;
//  * whole FindSlots scenarios built as SchedulingService builds them (working patterns in
//    Europe/London wall-clock time, leave, party availability, bookings widened by the buffer,
//    rooms, the minimum notice), against a minute-by-minute oracle that never uses the interval
//    algebra: every slot lies in the window after the notice, inside every person's working
//    time or availability, clear of every booking and its buffer, with enough rooms free; the
//    slots are sorted, distinct, non-overlapping, of the asked duration, on the granularity;
//    the first is the earliest feasible start, each next one the earliest feasible start at or
//    after the previous end; and no slot means no feasible start. Run with deploy/fuzz.sh.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/rules/slots.h"
#include "tests/fuzz/fuzz_support.h"

namespace mediation::rules {
namespace {

// -- The interval algebra against bitmaps over [0, kSpan). --------------------------------

constexpr Instant kSpan = 160;

std::vector<Interval> RawList(FuzzedDataProvider& fdp) {
  std::vector<Interval> out;
  const int n = fdp.ConsumeIntegralInRange<int>(0, 8);
  for (int i = 0; i < n; ++i) {
    const Instant a = fdp.ConsumeIntegralInRange<Instant>(0, kSpan - 20);
    out.push_back({a, a + fdp.ConsumeIntegralInRange<Instant>(-2, 30)});
  }
  return out;
}

std::vector<bool> Bits(const std::vector<Interval>& list) {
  std::vector<bool> bits(kSpan + 40, false);
  for (const Interval& i : list) {
    for (Instant t = std::max<Instant>(i.start, 0); t < i.end && t < kSpan + 40; ++t)
      bits[t] = true;
  }
  return bits;
}

void CheckNormalised(const IntervalList& list) {
  for (size_t i = 0; i < list.size(); ++i) {
    FUZZ_CHECK(list[i].start < list[i].end, "empty interval");
    if (i > 0) FUZZ_CHECK(list[i - 1].end < list[i].start, "unsorted, overlapping or touching");
  }
}

void FuzzAlgebra(FuzzedDataProvider& fdp) {
  const std::vector<Interval> ra = RawList(fdp), rb = RawList(fdp);
  const IntervalList a = Normalise(ra), b = Normalise(rb);
  CheckNormalised(a);
  CheckNormalised(b);
  FUZZ_CHECK(Bits(a) == Bits(ra), "Normalise changed the set");
  const std::vector<bool> ba = Bits(a), bb = Bits(b);

  const IntervalList both = Intersect(a, b), rest = Subtract(a, b);
  CheckNormalised(both);
  CheckNormalised(rest);
  const std::vector<bool> bboth = Bits(both), brest = Bits(rest);
  for (size_t t = 0; t < ba.size(); ++t) {
    FUZZ_CHECK(bboth[t] == (ba[t] && bb[t]), absl::StrCat("Intersect wrong at ", t));
    FUZZ_CHECK(brest[t] == (ba[t] && !bb[t]), absl::StrCat("Subtract wrong at ", t));
  }
  FUZZ_CHECK(TotalLength(both) + TotalLength(rest) == TotalLength(a), "lengths");

  const Instant before = fdp.ConsumeIntegralInRange<Instant>(0, 5);
  const Instant after = fdp.ConsumeIntegralInRange<Instant>(0, 5);
  std::vector<Interval> raw_wide;
  for (const Interval& i : a) raw_wide.push_back({i.start - before, i.end + after});
  const IntervalList wide = Widen(a, before, after);
  CheckNormalised(wide);
  FUZZ_CHECK(Bits(wide) == Bits(raw_wide), "Widen");

  const Instant s = fdp.ConsumeIntegralInRange<Instant>(0, kSpan);
  const Instant e = s + fdp.ConsumeIntegralInRange<Instant>(1, 30);
  bool all = true;
  for (Instant t = s; t < e; ++t) all = all && ba[t];
  FUZZ_CHECK(Covers(a, {s, e}) == all, absl::StrCat("Covers [", s, ",", e, ")"));

  const Instant d = fdp.ConsumeIntegralInRange<Instant>(1, 12);
  const IntervalList starts = Starts(a, d);
  const std::vector<bool> bstarts = Bits(starts);
  for (Instant t = 0; t < kSpan; ++t) {
    FUZZ_CHECK(bstarts[t] == Covers(a, {t, t + d}), absl::StrCat("Starts wrong at ", t));
  }

  RoomPool pool{.name = "rooms", .needed = fdp.ConsumeIntegralInRange<int>(0, 3)};
  const int rooms = fdp.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < rooms; ++i) pool.free_per_room.push_back(Normalise(RawList(fdp)));
  const IntervalList pool_free = PoolFree(pool);
  CheckNormalised(pool_free);
  std::vector<std::vector<bool>> room_bits;
  for (const IntervalList& r : pool.free_per_room) room_bits.push_back(Bits(r));
  const std::vector<bool> bpool = Bits(pool_free);
  for (size_t t = 0; t < bpool.size(); ++t) {
    int free = 0;
    for (const auto& rb2 : room_bits) free += rb2[t] ? 1 : 0;
    FUZZ_CHECK(bpool[t] == (pool.needed > 0 && free >= pool.needed),
               absl::StrCat("PoolFree wrong at ", t));
  }
}

// -- Whole scenarios against a minute-by-minute oracle. -------------------------------------

constexpr Instant kMinute = 60;
constexpr Day kSpring2027 = 20905;  // 2027-03-28, clocks go forward.
constexpr Day kAutumn2027 = 21122;  // 2027-10-31, clocks go back.

// Free minutes of the raw window [w0, w0 + 60 * minutes): painted, then read as prefix sums.
struct Minutes {
  Instant w0 = 0;
  std::vector<int8_t> free;
  std::vector<int> prefix;

  Minutes(Instant start, size_t n, bool initially) : w0(start), free(n, initially ? 1 : 0) {}
  void Paint(Instant a, Instant b, bool value) {
    const Instant lo = std::max<Instant>(0, (a - w0 + kMinute - 1) / kMinute);
    const Instant hi = std::min<Instant>(free.size(), (b - w0) / kMinute);
    for (Instant m = lo; m < hi; ++m) free[m] = value ? 1 : 0;
  }
  void Seal() {
    prefix.assign(free.size() + 1, 0);
    for (size_t i = 0; i < free.size(); ++i) prefix[i + 1] = prefix[i] + free[i];
  }
  bool FreeFor(Instant t, Instant d) const {
    const Instant m = (t - w0) / kMinute, n = d / kMinute;
    return prefix[m + n] - prefix[m] == n;
  }
};

Instant SomeMinuteOfDay(FuzzedDataProvider& fdp, int lo, int hi) {
  const int m = fdp.ConsumeIntegralInRange<int>(lo, hi);
  return fdp.ConsumeIntegralInRange<int>(0, 3) == 0 ? m : std::min(hi, std::max(lo, m / 15 * 15));
}

std::vector<Interval> Bookings(FuzzedDataProvider& fdp, Instant w0, Instant w1) {
  std::vector<Interval> out;
  const int n = fdp.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < n; ++i) {
    const Instant start =
        w0 +
        kMinute * fdp.ConsumeIntegralInRange<Instant>(-600, (w1 - w0) / kMinute + 600) / 15 * 15;
    out.push_back({start, start + kMinute * 15 * fdp.ConsumeIntegralInRange<Instant>(1, 40)});
  }
  return out;
}

void FuzzScenario(FuzzedDataProvider& fdp) {
  Day first;
  switch (fdp.ConsumeIntegralInRange<int>(0, 2)) {
    case 0:
      first = kSpring2027 - fdp.ConsumeIntegralInRange<int>(0, 2);
      break;
    case 1:
      first = kAutumn2027 - fdp.ConsumeIntegralInRange<int>(0, 2);
      break;
    default:
      first = fdp.ConsumeIntegralInRange<Day>(20454, 22280);  // 2026 .. 2030.
  }
  const Day last = first + fdp.ConsumeIntegralInRange<int>(0, 3);
  const Instant w0 = LondonToUtc(first, 0), w1 = LondonToUtc(last + 1, 0);
  FUZZ_CHECK(w0 % kMinute == 0 && w1 % kMinute == 0 && w1 - w0 >= 23 * 3600, "window");
  const Instant now = w0 - 86400 + kMinute * fdp.ConsumeIntegralInRange<Instant>(0, 4 * 1440);
  const Instant notice = 3600 * fdp.PickValueInArray<Instant>({0, 1, 24, 48});
  const Instant buffer = 60 * fdp.PickValueInArray<Instant>({0, 15, 30, 60});

  SlotQuery q;
  q.window = {std::max(w0, now + notice), w1};
  q.duration = 15 * kMinute * fdp.ConsumeIntegralInRange<Instant>(1, 40);
  q.max_slots = fdp.ConsumeIntegralInRange<int>(1, 50);
  if (q.window.end <= q.window.start) return;  // FindSlots answers "no slots" itself.
  const size_t n = (w1 - w0) / kMinute;
  std::vector<Minutes> oracle;

  // Mediators: a working pattern minus leave and bookings (widened by the buffer).
  const int mediators = fdp.ConsumeIntegralInRange<int>(1, 2);
  for (int i = 0; i < mediators; ++i) {
    std::vector<WeeklyHours> pattern;
    const int stretches = fdp.ConsumeIntegralInRange<int>(0, 6);
    for (int k = 0; k < stretches; ++k) {
      const int start = SomeMinuteOfDay(fdp, 0, 1438);
      pattern.push_back({fdp.ConsumeIntegralInRange<int>(1, 7), start,
                         static_cast<int>(SomeMinuteOfDay(fdp, start + 1, 1439))});
    }
    std::vector<DayRange> leave;
    if (fdp.ConsumeIntegralInRange<int>(0, 3) == 0) {
      const Day l = first + fdp.ConsumeIntegralInRange<int>(-3, 4);
      leave.push_back({l, l + fdp.ConsumeIntegralInRange<int>(0, 2)});
    }
    const std::vector<Interval> booked = Bookings(fdp, w0, w1);

    const IntervalList working = ExpandWorkingPattern(pattern, LondonDayOf(q.window.start) - 1,
                                                      LondonDayOf(q.window.end) + 1);
    const IntervalList base = Subtract(Intersect(working, {q.window}), LondonDays(leave));
    q.people.push_back({absl::StrCat("mediator ", i + 1),
                        Subtract(base, Widen(Normalise(booked), buffer, buffer))});

    Minutes m(w0, n, false);
    for (Day day = first - 1; day <= last + 1; ++day) {
      for (const WeeklyHours& h : pattern) {
        if (h.weekday == IsoWeekday(day)) {
          m.Paint(LondonToUtc(day, h.start_minute), LondonToUtc(day, h.end_minute), true);
        }
      }
    }
    for (const DayRange& l : leave)
      m.Paint(LondonToUtc(l.first, 0), LondonToUtc(l.last + 1, 0), false);
    for (const Interval& b : booked) m.Paint(b.start - buffer, b.end + buffer, false);
    m.Seal();
    oracle.push_back(std::move(m));
  }

  // Parties: their availability windows if they gave any, minus bookings.
  const int parties = fdp.ConsumeIntegralInRange<int>(0, 3);
  for (int i = 0; i < parties; ++i) {
    const bool windows = fdp.ConsumeBool();
    Minutes m(w0, n, !windows);
    std::vector<Interval> available;
    const int count = windows ? fdp.ConsumeIntegralInRange<int>(0, 4) : 0;
    for (int k = 0; k < count; ++k) {
      const Day day = first + fdp.ConsumeIntegralInRange<int>(-1, last - first + 1);
      const int start = SomeMinuteOfDay(fdp, 0, 1438);
      const int end = SomeMinuteOfDay(fdp, start + 1, 1440);
      available.push_back({LondonToUtc(day, start), LondonToUtc(day, end)});
      m.Paint(available.back().start, available.back().end, true);
    }
    const std::vector<Interval> booked = Bookings(fdp, w0, w1);
    for (const Interval& b : booked) m.Paint(b.start - buffer, b.end + buffer, false);
    m.Seal();
    oracle.push_back(std::move(m));
    const IntervalList base =
        windows ? Intersect(Normalise(available), {q.window}) : IntervalList{q.window};
    q.people.push_back(
        {absl::StrCat("party ", i + 1), Subtract(base, Widen(Normalise(booked), buffer, buffer))});
  }

  // Rooms at a venue: `needed` of them free for the whole session.
  std::vector<Minutes> rooms;
  if (fdp.ConsumeBool()) {
    RoomPool pool{.name = "private rooms", .needed = fdp.ConsumeIntegralInRange<int>(1, 3)};
    const int count = fdp.ConsumeIntegralInRange<int>(0, 4);
    for (int k = 0; k < count; ++k) {
      const std::vector<Interval> booked = Bookings(fdp, w0, w1);
      Minutes m(w0, n, true);
      for (const Interval& b : booked) m.Paint(b.start, b.end, false);
      m.Seal();
      rooms.push_back(std::move(m));
      pool.free_per_room.push_back(Subtract({q.window}, Normalise(booked)));
    }
    q.rooms.push_back(std::move(pool));
  }

  auto feasible = [&](Instant t) {
    if (t % q.granularity != 0 || t < q.window.start || t + q.duration > q.window.end) {
      return false;
    }
    for (const Minutes& m : oracle) {
      if (!m.FreeFor(t, q.duration)) return false;
    }
    if (!q.rooms.empty()) {
      int free = 0;
      for (const Minutes& m : rooms) free += m.FreeFor(t, q.duration) ? 1 : 0;
      if (free < q.rooms[0].needed) return false;
    }
    return true;
  };
  auto earliest_from = [&](Instant from) -> Instant {
    for (Instant t = (from + q.granularity - 1) / q.granularity * q.granularity;
         t + q.duration <= q.window.end; t += q.granularity) {
      if (feasible(t)) return t;
    }
    return -1;
  };

  const SlotResult result = FindCommonSlots(q);
  std::vector<Interval> expected;
  for (Instant t = earliest_from(q.window.start);
       t >= 0 && static_cast<int>(expected.size()) < q.max_slots;
       t = earliest_from(t + q.duration)) {
    expected.push_back({t, t + q.duration});
  }
  for (size_t i = 0; i < result.slots.size(); ++i) {
    const Interval& s = result.slots[i];
    FUZZ_CHECK(s.length() == q.duration && feasible(s.start),
               absl::StrCat("slot ", LondonLocalText(s.start), " is not free for everyone"));
    if (i > 0) FUZZ_CHECK(result.slots[i - 1].end <= s.start, "slots overlap or are unsorted");
  }
  FUZZ_CHECK(static_cast<int>(result.slots.size()) <= q.max_slots, "too many slots");
  FUZZ_CHECK(
      result.slots == expected,
      absl::StrCat(
          result.slots.size(), " slots, expected ", expected.size(),
          expected.empty() ? "" : absl::StrCat(" from ", LondonLocalText(expected[0].start))));
  if (result.slots.empty()) {
    FUZZ_CHECK(!result.most_blocking.empty(), "no slot, and nobody named as the obstacle");
    FUZZ_CHECK(result.blocked_seconds >= 0 && result.blocked_seconds <= q.window.length(),
               absl::StrCat(result.blocked_seconds));
  }
}

}  // namespace
}  // namespace mediation::rules

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  if (fdp.ConsumeBool()) {
    mediation::rules::FuzzAlgebra(fdp);
  } else {
    mediation::rules::FuzzScenario(fdp);
  }
  return 0;
}
