#include "services/rules/slots.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>

#include "absl/strings/str_cat.h"

namespace mediation::rules {

IntervalList Normalise(std::vector<Interval> intervals) {
  std::erase_if(intervals, [](const Interval& i) { return i.end <= i.start; });
  auto by_start = [](const Interval& a, const Interval& b) { return a.start < b.start; };
  // Lists are mostly built in order already (bookings read by start, widened lists).
  if (!std::is_sorted(intervals.begin(), intervals.end(), by_start)) {
    std::sort(intervals.begin(), intervals.end(), by_start);
  }
  IntervalList out;
  out.reserve(intervals.size());
  for (const Interval& i : intervals) {
    if (!out.empty() && i.start <= out.back().end) {
      out.back().end = std::max(out.back().end, i.end);
    } else {
      out.push_back(i);
    }
  }
  return out;
}

IntervalList Intersect(const IntervalList& a, const IntervalList& b) {
  IntervalList out;
  out.reserve(std::min(a.size(), b.size()) + 1);
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const Instant start = std::max(a[i].start, b[j].start);
    const Instant end = std::min(a[i].end, b[j].end);
    if (start < end) out.push_back({start, end});
    if (a[i].end < b[j].end) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

IntervalList Subtract(const IntervalList& from, const IntervalList& busy) {
  IntervalList out;
  out.reserve(from.size() + busy.size());
  size_t j = 0;
  for (const Interval& f : from) {
    Instant cursor = f.start;
    while (j < busy.size() && busy[j].end <= cursor) ++j;
    size_t k = j;
    while (k < busy.size() && busy[k].start < f.end) {
      if (busy[k].start > cursor) out.push_back({cursor, busy[k].start});
      cursor = std::max(cursor, busy[k].end);
      if (busy[k].end > f.end) break;
      ++k;
    }
    if (cursor < f.end) out.push_back({cursor, f.end});
  }
  return out;
}

IntervalList Widen(const IntervalList& intervals, Instant before, Instant after) {
  std::vector<Interval> wide;
  wide.reserve(intervals.size());
  for (const Interval& i : intervals) wide.push_back({i.start - before, i.end + after});
  return Normalise(std::move(wide));
}

bool Covers(const IntervalList& list, const Interval& interval) {
  auto it = std::upper_bound(list.begin(), list.end(), interval.start,
                             [](Instant t, const Interval& i) { return t < i.start; });
  if (it == list.begin()) return false;
  --it;
  return it->start <= interval.start && interval.end <= it->end;
}

Instant TotalLength(const IntervalList& list) {
  Instant total = 0;
  for (const Interval& i : list) total += i.length();
  return total;
}

IntervalList ExpandWorkingPattern(const std::vector<WeeklyHours>& pattern, Day first, Day last) {
  std::vector<Interval> out;
  for (Day day = first; day <= last; ++day) {
    const int weekday = IsoWeekday(day);
    for (const WeeklyHours& h : pattern) {
      if (h.weekday == weekday) {
        out.push_back({LondonToUtc(day, h.start_minute), LondonToUtc(day, h.end_minute)});
      }
    }
  }
  return Normalise(std::move(out));
}

IntervalList LondonDays(const std::vector<DayRange>& days) {
  std::vector<Interval> out;
  for (const DayRange& r : days)
    out.push_back({LondonToUtc(r.first, 0), LondonToUtc(r.last + 1, 0)});
  return Normalise(std::move(out));
}

std::optional<std::vector<size_t>> AssignRooms(const std::vector<std::vector<size_t>>& eligible,
                                               const std::vector<bool>& free) {
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<size_t> seeker_of(free.size(), kNone);
  std::vector<size_t> room_of(eligible.size(), kNone);
  // Kuhn's augmenting paths: at most 10 parties and 50 rooms.
  std::vector<bool> seen;
  std::function<bool(size_t)> place = [&](size_t seeker) {
    // A free room nobody holds first, in the order given (so interchangeable rooms are taken in
    // order); only then move another seeker along.
    for (size_t room : eligible[seeker]) {
      if (room < free.size() && free[room] && seeker_of[room] == kNone) {
        seeker_of[room] = seeker;
        room_of[seeker] = room;
        return true;
      }
    }
    for (size_t room : eligible[seeker]) {
      if (room >= free.size() || !free[room] || seen[room]) continue;
      seen[room] = true;
      if (seeker_of[room] == kNone || place(seeker_of[room])) {
        seeker_of[room] = seeker;
        room_of[seeker] = room;
        return true;
      }
    }
    return false;
  };
  for (size_t s = 0; s < eligible.size(); ++s) {
    seen.assign(free.size(), false);
    if (!place(s)) return std::nullopt;
  }
  return room_of;
}

namespace {

// PoolFree for rooms that are not interchangeable: the times when AssignRooms succeeds, found
// piece by piece between the instants where any room's state changes.
IntervalList PoolFreeAssigned(const RoomPool& pool) {
  std::vector<Instant> cuts;
  for (const IntervalList& room : pool.free_per_room) {
    for (const Interval& i : room) {
      cuts.push_back(i.start);
      cuts.push_back(i.end);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<Interval> out;
  std::vector<size_t> next(pool.free_per_room.size(), 0);
  std::vector<bool> free(pool.free_per_room.size(), false);
  for (size_t c = 0; c + 1 < cuts.size(); ++c) {
    for (size_t room = 0; room < free.size(); ++room) {
      const IntervalList& list = pool.free_per_room[room];
      while (next[room] < list.size() && list[next[room]].end <= cuts[c]) ++next[room];
      free[room] = next[room] < list.size() && list[next[room]].start <= cuts[c];
    }
    if (AssignRooms(pool.eligible, free)) out.push_back({cuts[c], cuts[c + 1]});
  }
  return Normalise(std::move(out));
}

}  // namespace

IntervalList PoolFree(const RoomPool& pool) {
  if (pool.needed <= 0) return {};
  if (!pool.eligible.empty()) return PoolFreeAssigned(pool);
  // +1 where a room becomes free, -1 where it stops; free enough where the count reaches
  // `needed`. Each room's list is sorted, so its events are too: merge them (k is small)
  // rather than sort. Ends come before starts at the same instant, so touching stretches do
  // not count twice.
  const size_t k = pool.free_per_room.size();
  std::vector<size_t> next(k, 0);  // Event index per room: 2*i is start i, 2*i+1 is end i.
  auto event = [&](size_t room) -> std::pair<Instant, int> {
    const Interval& i = pool.free_per_room[room][next[room] / 2];
    return next[room] % 2 == 0 ? std::pair{i.start, +1} : std::pair{i.end, -1};
  };
  std::vector<Interval> out;
  int free = 0;
  Instant since = 0;
  for (;;) {
    size_t best = k;
    for (size_t room = 0; room < k; ++room) {
      if (next[room] / 2 >= pool.free_per_room[room].size()) continue;
      if (best == k || event(room) < event(best)) best = room;
    }
    if (best == k) break;
    const auto [at, delta] = event(best);
    ++next[best];
    const bool was = free >= pool.needed;
    free += delta;
    const bool is = free >= pool.needed;
    if (!was && is) since = at;
    if (was && !is) out.push_back({since, at});
  }
  return Normalise(std::move(out));
}

IntervalList Starts(const IntervalList& free, Instant duration) {
  IntervalList out;
  out.reserve(free.size());
  for (const Interval& i : free) {
    if (i.length() >= duration) out.push_back({i.start, i.end - duration + 1});
  }
  return out;
}

SlotResult FindCommonSlots(const SlotQuery& q) {
  // The sweep runs over start instants, not free time: a session must fit inside one free
  // stretch of each person, and inside one free stretch of each room it takes (nobody changes
  // rooms half-way through).
  IntervalList starts = Starts({q.window}, q.duration);
  for (const Participant& p : q.people) {
    starts = Intersect(starts, Starts(Intersect(p.free, {q.window}), q.duration));
  }
  for (const RoomPool& pool : q.rooms) {
    RoomPool pool_starts{.name = pool.name, .needed = pool.needed, .eligible = pool.eligible};
    for (const IntervalList& room : pool.free_per_room) {
      pool_starts.free_per_room.push_back(Starts(Intersect(room, {q.window}), q.duration));
    }
    starts = Intersect(starts, PoolFree(pool_starts));
  }

  SlotResult result;
  const Instant g = std::max<Instant>(q.granularity, 1);
  // Slots never overlap: each starts at or after the previous one's end. Within one stretch of
  // start instants that is automatic; across stretches it is not when rooms are involved (a
  // slot in room A can run past the point where room B becomes free).
  Instant not_before = 0;
  for (const Interval& range : starts) {
    const Instant from = std::max(range.start, not_before);
    Instant start = (from + g - 1) / g * g;  // Instants are positive.
    while (start < range.end && static_cast<int>(result.slots.size()) < q.max_slots) {
      result.slots.push_back({start, start + q.duration});
      start += q.duration;
      not_before = start;
    }
    if (static_cast<int>(result.slots.size()) >= q.max_slots) break;
  }
  if (result.slots.empty()) {
    // Who is free for the least of the window.
    std::vector<std::pair<std::string, IntervalList>> free_time;
    for (const Participant& p : q.people)
      free_time.push_back({p.name, Intersect(p.free, {q.window})});
    for (const RoomPool& pool : q.rooms) {
      free_time.push_back({pool.name, Intersect(PoolFree(pool), {q.window})});
    }
    for (const auto& [name, free] : free_time) {
      const Instant blocked = q.window.length() - TotalLength(free);
      if (blocked > result.blocked_seconds || result.most_blocking.empty()) {
        result.most_blocking = name;
        result.blocked_seconds = blocked;
      }
    }
  }
  return result;
}

Reservation CheckReservation(const ReservationQuery& query) {
  Reservation r;
  const Interval& slot = query.slot;
  auto overlaps = [](const Interval& a, const Interval& b) {
    return a.start < b.end && b.start < a.end;
  };
  const Interval around{slot.start - query.buffer, slot.end + query.buffer};
  for (size_t i = 0; i < query.people.size(); ++i) {
    const PersonCalendar& p = query.people[i];
    for (const BusyTime& b : p.busy) {
      if (overlaps(b.when, around)) {
        r.outcome = Reservation::Outcome::kBusy;
        r.person = i;
        r.clash = b;
        return r;
      }
    }
    if (!Covers(p.free, slot)) {
      r.outcome = Reservation::Outcome::kUnavailable;
      r.person = i;
      return r;
    }
  }
  for (size_t i = 0; i < query.rooms.size(); ++i) {
    const RoomRequest& request = query.rooms[i];
    std::vector<bool> free;
    for (const RoomCalendar& room : request.rooms) {
      free.push_back(std::none_of(room.busy.begin(), room.busy.end(),
                                  [&](const BusyTime& b) { return overlaps(b.when, slot); }));
    }
    // Interchangeable rooms are `needed` seekers who may each use any of them (AssignRooms
    // then takes the free rooms in the order given).
    std::vector<std::vector<size_t>> eligible = request.eligible;
    if (eligible.empty()) {
      std::vector<size_t> any(request.rooms.size());
      for (size_t n = 0; n < any.size(); ++n) any[n] = n;
      eligible.assign(static_cast<size_t>(std::max(request.needed, 0)), any);
    }
    const std::optional<std::vector<size_t>> assigned = AssignRooms(eligible, free);
    if (!assigned) {
      // How many of the rooms a seeker could use are free: fewer than needed, or not the
      // right ones.
      std::vector<bool> usable(free.size(), false);
      for (const auto& rooms : eligible) {
        for (size_t room : rooms) {
          if (room < free.size()) usable[room] = free[room];
        }
      }
      r.outcome = Reservation::Outcome::kNoRooms;
      r.request = i;
      r.rooms_free = std::min(static_cast<int>(std::count(usable.begin(), usable.end(), true)),
                              request.needed - 1);
      r.rooms_taken.clear();
      return r;
    }
    std::vector<int64_t> taken;
    for (size_t room : *assigned) taken.push_back(request.rooms[room].room_id);
    r.rooms_taken.push_back(std::move(taken));
  }
  return r;
}

}  // namespace mediation::rules
