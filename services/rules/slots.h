// Finding common free time: interval lists (sorted, merged, half-open UTC instants) and the
// sweep that intersects the free time of every person and room a session needs. Working
// patterns are Europe/London wall-clock times, expanded day by day through the tz database, so
// 09:00 stays 09:00 local across the clock changes. Pure: no gRPC, no database.
#ifndef MEDIATION_SERVICES_RULES_SLOTS_H_
#define MEDIATION_SERVICES_RULES_SLOTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/rules/allocation.h"
#include "services/rules/london.h"

namespace mediation::rules {

// [start, end): touching intervals do not overlap.
struct Interval {
  Instant start = 0;
  Instant end = 0;

  Instant length() const { return end - start; }
  friend bool operator==(const Interval&, const Interval&) = default;
};

// Sorted by start, non-empty, neither overlapping nor touching.
using IntervalList = std::vector<Interval>;

// Sorts, drops empty intervals, and merges overlapping or touching ones.
IntervalList Normalise(std::vector<Interval> intervals);

// Both are normalised lists; so is the result. Linear in the total size.
IntervalList Intersect(const IntervalList& a, const IntervalList& b);
IntervalList Subtract(const IntervalList& from, const IntervalList& busy);
// Each interval widened by `before` and `after` seconds, then normalised (for buffers).
IntervalList Widen(const IntervalList& intervals, Instant before, Instant after);
// Whether `list` contains all of `interval`.
bool Covers(const IntervalList& list, const Interval& interval);
Instant TotalLength(const IntervalList& list);

struct WeeklyHours {
  int weekday = 0;       // 1 Monday .. 7 Sunday.
  int start_minute = 0;  // Local, after midnight.
  int end_minute = 0;
};

// The pattern's working time on every local day of [first, last], as UTC intervals.
IntervalList ExpandWorkingPattern(const std::vector<WeeklyHours>& pattern, Day first, Day last);
// Whole local days (midnight to midnight, 23 or 25 hours across a clock change) as UTC.
IntervalList LondonDays(const std::vector<DayRange>& days);

// One person (or one room) whose free time a session needs.
struct Participant {
  std::string name;   // How a "nothing fits" answer names it, e.g. "mediator 3".
  IntervalList free;  // Within the search window.
};

// Gives each seeker a room of its own: `eligible[s]` lists the rooms (indices into `free`) seeker
// s may use (those meeting a party's access needs). The room of each seeker, in order, or nullopt
// when the free rooms cannot give every seeker one (a bipartite matching, so a room that only
// one seeker can use is kept for it).
std::optional<std::vector<size_t>> AssignRooms(const std::vector<std::vector<size_t>>& eligible,
                                               const std::vector<bool>& free);

// Rooms of which `needed` must be free at once (e.g. a private room for each of two parties).
// With `eligible` empty the rooms are interchangeable; otherwise it has one entry per seeker
// (`needed` of them), listing the rooms that seeker may use.
struct RoomPool {
  std::string name;  // e.g. "private rooms at venue 2".
  int needed = 0;
  std::vector<IntervalList> free_per_room;
  std::vector<std::vector<size_t>> eligible;
};

struct SlotQuery {
  Interval window;            // Where to look; already clipped to the minimum notice.
  Instant duration = 0;       // Of the session, seconds.
  Instant granularity = 900;  // Slots start on multiples of this (UTC seconds).
  int max_slots = 10;
  std::vector<Participant> people;
  std::vector<RoomPool> rooms;
};

struct SlotResult {
  std::vector<Interval> slots;  // Earliest first, non-overlapping.
  // When no slot fits: the participant (or room pool) free for the least of the window, and
  // how many seconds of the window it is not free.
  std::string most_blocking;
  Instant blocked_seconds = 0;
};

// Times when `pool.needed` of its rooms are free at once: a sweep over every room's list.
IntervalList PoolFree(const RoomPool& pool);

// The instants at which something `duration` long can start and stay inside one stretch of
// `free`: [a, b - duration] for each stretch [a, b) long enough (half-open, so [a, b-duration+1)).
IntervalList Starts(const IntervalList& free, Instant duration);

// The earliest slots of `duration` inside the free time of every participant and room pool
// (each room the session takes free for the whole of it).
// Starts are aligned to `granularity`; the next slot in the same free stretch starts where the
// previous one ends.
SlotResult FindCommonSlots(const SlotQuery& query);

// The booking check, on calendars loaded beforehand.

// A session already holding a person or room.
struct BusyTime {
  Interval when;
  int64_t session_id = 0;
  int64_t case_id = 0;
};

struct PersonCalendar {
  std::string name;            // "mediator 3", "party 7".
  IntervalList free;           // When they could attend at all (working pattern or availability).
  std::vector<BusyTime> busy;  // Their other sessions, in every case.
};

struct RoomCalendar {
  int64_t room_id = 0;
  std::vector<BusyTime> busy;
};

// `needed` rooms from `rooms`: interchangeable and taken in the order given when `eligible` is
// empty; otherwise one per seeker, from the rooms (indices into `rooms`) `eligible` lists for it.
struct RoomRequest {
  std::string what;  // "private rooms", "joint rooms".
  int needed = 0;
  std::vector<RoomCalendar> rooms;
  std::vector<std::vector<size_t>> eligible;
};

struct ReservationQuery {
  Interval slot;
  Instant buffer = 0;  // Between a person's sessions; rooms need none.
  std::vector<PersonCalendar> people;
  std::vector<RoomRequest> rooms;
};

struct Reservation {
  enum class Outcome {
    kReserved,
    kBusy,         // people[person] has `clash` within the buffer of the slot.
    kUnavailable,  // people[person] is not working or not available for all of the slot.
    kNoRooms,      // rooms[request] has only `rooms_free` of the rooms it needs free.
  };
  Outcome outcome = Outcome::kReserved;
  size_t person = 0;
  BusyTime clash;
  size_t request = 0;
  int rooms_free = 0;
  // kReserved: for each room request, the rooms taken (in seeker order when it has `eligible`).
  std::vector<std::vector<int64_t>> rooms_taken;
};

// Whether every person can attend `slot` (free for all of it, no other session within the
// buffer) and enough rooms of each request are free for all of it; the first problem found,
// people before rooms, in the order given.
Reservation CheckReservation(const ReservationQuery& query);

}  // namespace mediation::rules

#endif  // MEDIATION_SERVICES_RULES_SLOTS_H_
