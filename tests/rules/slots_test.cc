#include "services/rules/slots.h"

#include <date/date.h>
#include <gtest/gtest.h>

namespace mediation::rules {
namespace {

Day D(int y, unsigned m, unsigned d) {
  return static_cast<Day>(
      date::sys_days{date::year{y} / date::month{m} / date::day{d}}.time_since_epoch().count());
}

// UTC instant from a UTC wall-clock time.
Instant Utc(int y, unsigned m, unsigned d, int h, int min = 0) {
  return (static_cast<Instant>(D(y, m, d)) * 86400) + h * 3600 + min * 60;
}

constexpr Instant kHour = 3600;

TEST(IntervalsTest, NormaliseSortsAndMergesOverlappingAndTouching) {
  EXPECT_EQ(Normalise({{50, 60}, {10, 20}, {20, 30}, {25, 40}, {70, 70}}),
            (IntervalList{{10, 40}, {50, 60}}));
}

TEST(IntervalsTest, IntersectKeepsOnlyCommonTime) {
  EXPECT_EQ(Intersect({{0, 10}, {20, 30}}, {{5, 25}}), (IntervalList{{5, 10}, {20, 25}}));
  // Touching is not overlapping: nothing in common.
  EXPECT_EQ(Intersect({{0, 10}}, {{10, 20}}), IntervalList{});
}

TEST(IntervalsTest, SubtractCutsHolesAndTouchingBusyTimeLeavesFreeTimeWhole) {
  EXPECT_EQ(Subtract({{0, 100}}, {{10, 20}, {30, 40}, {90, 120}}),
            (IntervalList{{0, 10}, {20, 30}, {40, 90}}));
  EXPECT_EQ(Subtract({{0, 10}, {20, 30}}, {{10, 20}}), (IntervalList{{0, 10}, {20, 30}}));
  EXPECT_EQ(Subtract({{0, 10}, {20, 30}}, {{5, 25}}), (IntervalList{{0, 5}, {25, 30}}));
}

TEST(IntervalsTest, WidenAddsBuffersAndMergesWhatThenTouches) {
  EXPECT_EQ(Widen({{100, 200}, {260, 300}}, 30, 30), (IntervalList{{70, 330}}));
}

TEST(IntervalsTest, CoversNeedsOneStretchHoldingTheWholeInterval) {
  const IntervalList free = {{0, 10}, {10, 20}};  // Not normalised on purpose? No: use merged.
  EXPECT_TRUE(Covers(Normalise({{0, 10}, {10, 20}}), {5, 15}));
  EXPECT_FALSE(Covers({{0, 10}, {11, 20}}, {5, 15}));
  EXPECT_TRUE(Covers({{0, 10}}, {0, 10}));
  EXPECT_FALSE(Covers({{0, 10}}, {-1, 5}));
  (void)free;
}

// Local 09:00-17:00 on weekdays around the last Sunday of March 2027 (28 March): GMT before,
// BST after. 09:00 London stays 09:00; in UTC it moves from 09:00 to 08:00.
TEST(ClockChangeTest, WorkingHoursStayLocalAcrossTheSpringChange) {
  const std::vector<WeeklyHours> weekdays = {
      {1, 540, 1020}, {2, 540, 1020}, {3, 540, 1020}, {4, 540, 1020}, {5, 540, 1020}};
  const IntervalList hours = ExpandWorkingPattern(weekdays, D(2027, 3, 22), D(2027, 4, 2));
  ASSERT_EQ(hours.size(), 10u);
  EXPECT_EQ(hours[4], (Interval{Utc(2027, 3, 26, 9), Utc(2027, 3, 26, 17)}));  // Friday, GMT.
  EXPECT_EQ(hours[5], (Interval{Utc(2027, 3, 29, 8), Utc(2027, 3, 29, 16)}));  // Monday, BST.
  for (const Interval& i : hours) {
    EXPECT_EQ(LondonLocalText(i.start).substr(11), "09:00");
    EXPECT_EQ(LondonLocalText(i.end).substr(11), "17:00");
  }
}

TEST(ClockChangeTest, WorkingHoursStayLocalAcrossTheAutumnChange) {
  // Last Sunday of October 2027: the 31st. Sunday hours on the day itself too.
  const std::vector<WeeklyHours> pattern = {{5, 540, 1020}, {7, 540, 1020}, {1, 540, 1020}};
  const IntervalList hours = ExpandWorkingPattern(pattern, D(2027, 10, 29), D(2027, 11, 1));
  ASSERT_EQ(hours.size(), 3u);
  EXPECT_EQ(hours[0], (Interval{Utc(2027, 10, 29, 8), Utc(2027, 10, 29, 16)}));  // BST.
  EXPECT_EQ(hours[1], (Interval{Utc(2027, 10, 31, 9), Utc(2027, 10, 31, 17)}));  // GMT already.
  EXPECT_EQ(hours[2], (Interval{Utc(2027, 11, 1, 9), Utc(2027, 11, 1, 17)}));
  EXPECT_EQ(LondonLocalText(hours[1].start), "2027-10-31T09:00");
}

TEST(ClockChangeTest, TheChangeDaysThemselvesHaveTwentyThreeAndTwentyFiveHours) {
  const IntervalList spring = LondonDays({{D(2027, 3, 28), D(2027, 3, 28)}});
  const IntervalList autumn = LondonDays({{D(2027, 10, 31), D(2027, 10, 31)}});
  ASSERT_EQ(spring.size(), 1u);
  ASSERT_EQ(autumn.size(), 1u);
  EXPECT_EQ(spring[0].length(), 23 * kHour);
  EXPECT_EQ(autumn[0].length(), 25 * kHour);
}

TEST(ClockChangeTest, MissingAndRepeatedLocalTimesResolveSensibly) {
  // 01:30 on 28 March 2027 does not exist: the first instant after the gap (02:00 BST, 01:00Z).
  EXPECT_EQ(LondonToUtc(D(2027, 3, 28), 90), Utc(2027, 3, 28, 1));
  // 01:30 on 31 October 2027 happens twice: the first (BST, 00:30Z).
  EXPECT_EQ(LondonToUtc(D(2027, 10, 31), 90), Utc(2027, 10, 31, 0, 30));
  EXPECT_EQ(LondonDayOf(Utc(2027, 6, 30, 23, 30)), D(2027, 7, 1));  // BST: already 1 July.
}

TEST(ClockChangeTest, LocalTimesCarryTheirOffsetAcrossBothChanges) {
  // Spring: 00:30 GMT, then the clocks jump from 01:00 to 02:00 BST.
  EXPECT_EQ(LondonRfc3339(Utc(2027, 3, 28, 0, 30)), "2027-03-28T00:30:00+00:00");
  EXPECT_EQ(LondonRfc3339(Utc(2027, 3, 28, 1)), "2027-03-28T02:00:00+01:00");
  // Autumn: 01:30 happens twice, first in BST, then in GMT; the offset tells them apart.
  EXPECT_EQ(LondonRfc3339(Utc(2027, 10, 31, 0, 30)), "2027-10-31T01:30:00+01:00");
  EXPECT_EQ(LondonRfc3339(Utc(2027, 10, 31, 1, 30)), "2027-10-31T01:30:00+00:00");
  EXPECT_EQ(LondonRfc3339(Utc(2027, 7, 1, 8)), "2027-07-01T09:00:00+01:00");
}

// The booking check on calendars loaded beforehand: people first, in order, then rooms.
TEST(ReservationTest, ReservesWhenEveryoneAndEnoughRoomsAreFree) {
  ReservationQuery q{.slot = {Utc(2027, 1, 4, 10), Utc(2027, 1, 4, 11)}, .buffer = 1800};
  q.people = {{"mediator 1", {{Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 17)}}, {}},
              {"party 2",
               {{Utc(2027, 1, 4, 0), Utc(2027, 1, 5, 0)}},
               // Ends exactly 30 minutes before: the buffer is kept, not overlapped.
               {{.when = {Utc(2027, 1, 4, 8), Utc(2027, 1, 4, 9, 30)}, .session_id = 7}}}};
  q.rooms = {{"private rooms",
              2,
              {{.room_id = 11, .busy = {{.when = {Utc(2027, 1, 4, 10, 30), Utc(2027, 1, 4, 12)}}}},
               {.room_id = 12, .busy = {}},
               // Busy until the slot starts: free (touching is not overlapping).
               {.room_id = 13, .busy = {{.when = {Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 10)}}}}}}};
  const Reservation r = CheckReservation(q);
  EXPECT_EQ(r.outcome, Reservation::Outcome::kReserved);
  EXPECT_EQ(r.rooms_taken, (std::vector<std::vector<int64_t>>{{12, 13}}));
}

TEST(ReservationTest, NamesTheFirstProblem) {
  ReservationQuery q{.slot = {Utc(2027, 1, 4, 10), Utc(2027, 1, 4, 11)}, .buffer = 1800};
  q.people = {
      {"mediator 1", {{Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 17)}}, {}},
      {"party 2",
       {{Utc(2027, 1, 4, 0), Utc(2027, 1, 5, 0)}},
       {{.when = {Utc(2027, 1, 4, 11, 15), Utc(2027, 1, 4, 12)}, .session_id = 9, .case_id = 3}}}};
  Reservation r = CheckReservation(q);
  EXPECT_EQ(r.outcome, Reservation::Outcome::kBusy);  // Within the buffer after the slot.
  EXPECT_EQ(r.person, 1u);
  EXPECT_EQ(r.clash.session_id, 9);
  EXPECT_EQ(r.clash.case_id, 3);

  q.people[1].busy.clear();
  q.people[0].free = {{Utc(2027, 1, 4, 10, 30), Utc(2027, 1, 4, 17)}};
  r = CheckReservation(q);
  EXPECT_EQ(r.outcome, Reservation::Outcome::kUnavailable);
  EXPECT_EQ(r.person, 0u);

  q.people[0].free = {{Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 17)}};
  q.rooms = {
      {"joint rooms",
       1,
       {{.room_id = 20, .busy = {{.when = {Utc(2027, 1, 4, 10, 59), Utc(2027, 1, 4, 12)}}}}}}};
  r = CheckReservation(q);
  EXPECT_EQ(r.outcome, Reservation::Outcome::kNoRooms);
  EXPECT_EQ(r.request, 0u);
  EXPECT_EQ(r.rooms_free, 0);
}

TEST(SlotsTest, EarliestSlotsAreWhereEveryoneIsFree) {
  SlotQuery q;
  q.window = {Utc(2027, 1, 4, 0), Utc(2027, 1, 5, 0)};
  q.duration = 2 * kHour;
  q.max_slots = 3;
  q.people = {{"mediator 1", {{Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 17)}}},
              {"party 2", {{Utc(2027, 1, 4, 10, 10), Utc(2027, 1, 4, 15)}}}};
  const SlotResult r = FindCommonSlots(q);
  // Common 10:10-15:00; starts align to the quarter hour: 10:15, then back to back.
  EXPECT_EQ(r.slots, (std::vector<Interval>{{Utc(2027, 1, 4, 10, 15), Utc(2027, 1, 4, 12, 15)},
                                            {Utc(2027, 1, 4, 12, 15), Utc(2027, 1, 4, 14, 15)}}));
  EXPECT_TRUE(r.most_blocking.empty());
}

TEST(SlotsTest, BusyTimeWidenedByTheBufferIsAvoided) {
  const IntervalList working = {{Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 17)}};
  const IntervalList booked = {{Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 11)}};
  SlotQuery q;
  q.window = working[0];
  q.duration = 2 * kHour;
  q.max_slots = 1;
  q.people = {{"mediator 1", Subtract(working, Widen(booked, 30 * 60, 30 * 60))}};
  EXPECT_EQ(FindCommonSlots(q).slots[0].start, Utc(2027, 1, 4, 11, 30));
}

TEST(SlotsTest, MinimumNoticeIsTheWindowsStart) {
  SlotQuery q;
  q.window = {Utc(2027, 1, 4, 13), Utc(2027, 1, 4, 17)};  // "now + notice" is 13:00.
  q.duration = kHour;
  q.max_slots = 1;
  q.people = {{"mediator 1", {{Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 17)}}}};
  EXPECT_EQ(FindCommonSlots(q).slots[0].start, Utc(2027, 1, 4, 13));
}

TEST(SlotsTest, WhenNothingFitsTheMostBlockingParticipantIsNamed) {
  SlotQuery q;
  q.window = {Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 17)};
  q.duration = 3 * kHour;
  q.people = {{"mediator 1", {{Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 13)}}},
              {"party 2", {{Utc(2027, 1, 4, 12), Utc(2027, 1, 4, 14)}}}};
  const SlotResult r = FindCommonSlots(q);
  EXPECT_TRUE(r.slots.empty());
  EXPECT_EQ(r.most_blocking, "party 2");
  EXPECT_EQ(r.blocked_seconds, 6 * kHour);
}

TEST(SlotsTest, ARoomMustStayFreeForTheWholeSessionNobodySwapsRoomsHalfWay) {
  SlotQuery q;
  q.window = {Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 17)};
  q.duration = 2 * kHour;
  q.max_slots = 1;
  RoomPool rooms{.name = "private rooms", .needed = 1};
  // Room A is busy 10-11 and room B 9-10 and 11-12: one of them is always free, but neither
  // for two hours until 11:00 (room A, 11-13).
  rooms.free_per_room = {
      {{Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 10)}, {Utc(2027, 1, 4, 11), Utc(2027, 1, 4, 17)}},
      {{Utc(2027, 1, 4, 10), Utc(2027, 1, 4, 11)}, {Utc(2027, 1, 4, 12), Utc(2027, 1, 4, 17)}}};
  q.rooms.push_back(rooms);
  const SlotResult r = FindCommonSlots(q);
  ASSERT_EQ(r.slots.size(), 1u);
  EXPECT_EQ(r.slots[0].start, Utc(2027, 1, 4, 11));
}

// Found by fuzz_slots: room A is free 09:00-10:00 and room B from 09:30, so the start instants
// are 09:00 and 09:30 onwards; the slot after 09:00-10:00 was offered at 09:30, overlapping it.
TEST(SlotsTest, SlotsNeverOverlapWhenDifferentRoomsMakeThemPossible) {
  SlotQuery q;
  q.window = {Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 13)};
  q.duration = kHour;
  RoomPool rooms{.name = "private rooms", .needed = 1};
  rooms.free_per_room = {{{Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 10)}},
                         {{Utc(2027, 1, 4, 9, 30), Utc(2027, 1, 4, 13)}}};
  q.rooms.push_back(rooms);
  const SlotResult r = FindCommonSlots(q);
  const std::vector<Interval> expected = {{Utc(2027, 1, 4, 9), Utc(2027, 1, 4, 10)},
                                          {Utc(2027, 1, 4, 10), Utc(2027, 1, 4, 11)},
                                          {Utc(2027, 1, 4, 11), Utc(2027, 1, 4, 12)},
                                          {Utc(2027, 1, 4, 12), Utc(2027, 1, 4, 13)}};
  EXPECT_EQ(r.slots, expected);
}

TEST(SlotsTest, SlotsOnTheChangeSundaysStartAtNineLocal) {
  const std::vector<WeeklyHours> sundays = {{7, 540, 780}};  // Sundays 09:00-13:00.
  for (const auto& [day, utc_nine] :
       {std::pair{D(2027, 3, 28), Utc(2027, 3, 28, 8)},       // Spring: BST from 01:00 UTC.
        std::pair{D(2027, 10, 31), Utc(2027, 10, 31, 9)}}) {  // Autumn: GMT from 01:00 UTC.
    SlotQuery q;
    q.window = {static_cast<Instant>(day) * 86400, static_cast<Instant>(day + 1) * 86400};
    q.duration = 2 * kHour;
    q.people = {{"mediator 1", ExpandWorkingPattern(sundays, day - 7, day + 7)}};
    const SlotResult r = FindCommonSlots(q);
    ASSERT_EQ(r.slots.size(), 2u);
    EXPECT_EQ(r.slots[0].start, utc_nine);
    EXPECT_EQ(LondonLocalText(r.slots[0].start).substr(11), "09:00");
    EXPECT_EQ(LondonLocalText(r.slots[1].end).substr(11), "13:00");
  }
}

TEST(ClockChangeTest, TheRepeatedAutumnHourIsLabelledWithItsZone) {
  EXPECT_EQ(LondonLocalText(Utc(2027, 10, 31, 0, 30)), "2027-10-31T01:30 BST");
  EXPECT_EQ(LondonLocalText(Utc(2027, 10, 31, 1, 30)), "2027-10-31T01:30 GMT");
  EXPECT_TRUE(LondonTimeIsAmbiguous(Utc(2027, 10, 31, 0, 30)));
  EXPECT_FALSE(LondonTimeIsAmbiguous(Utc(2027, 10, 31, 2, 30)));
}

TEST(SlotsTest, RoomPoolsNeedEnoughRoomsFreeAtOnce) {
  RoomPool pool{.name = "private rooms", .needed = 2};
  pool.free_per_room = {{{0, 100}}, {{50, 150}}, {{120, 200}}};
  EXPECT_EQ(PoolFree(pool), (IntervalList{{50, 100}, {120, 150}}));
  pool.needed = 3;
  EXPECT_EQ(PoolFree(pool), IntervalList{});
  // Touching free stretches of one room do not make two rooms.
  RoomPool touching{.name = "t", .needed = 2};
  touching.free_per_room = {{{0, 50}}, {{50, 100}}};
  EXPECT_EQ(PoolFree(touching), IntervalList{});
}

TEST(SlotsTest, RoomsMeetingNeedsAreAssignedSoEverySeekerGetsOne) {
  // Seeker 0 may use rooms 0 and 1, seeker 1 only room 0: seeker 0 must take room 1.
  EXPECT_EQ(AssignRooms({{0, 1}, {0}}, {true, true}), (std::vector<size_t>{1, 0}));
  // Room 1 busy: nobody is left for seeker 0.
  EXPECT_EQ(AssignRooms({{0, 1}, {0}}, {true, false}), std::nullopt);
  // Two seekers who can use only one room between them.
  EXPECT_EQ(AssignRooms({{2}, {2}}, {true, true, true}), std::nullopt);
  // No seekers: trivially assigned.
  EXPECT_EQ(AssignRooms({}, {false}), std::vector<size_t>{});
}

TEST(SlotsTest, PoolsWithNeedsAreFreeOnlyWhenEverySeekerHasAMatchingRoom) {
  // Room 0 always free, room 1 free in [50, 100); seeker 0 may use either, seeker 1 only room 0.
  RoomPool pool{.name = "private rooms", .needed = 2, .eligible = {{0, 1}, {0}}};
  pool.free_per_room = {{{0, 200}}, {{50, 100}}};
  EXPECT_EQ(PoolFree(pool), (IntervalList{{50, 100}}));
  // If seeker 1 could use only room 1 instead, the same times work.
  pool.eligible = {{0}, {1}};
  EXPECT_EQ(PoolFree(pool), (IntervalList{{50, 100}}));
  // Both need room 1: never.
  pool.eligible = {{1}, {1}};
  EXPECT_EQ(PoolFree(pool), IntervalList{});
}

TEST(ReservationTest, RoomsWithNeedsGoToTheSeekerWhoNeedsThem) {
  ReservationQuery q{.slot = {100, 200}};
  RoomRequest rooms{.what = "private rooms", .needed = 2, .eligible = {{0, 1}, {0}}};
  rooms.rooms = {{.room_id = 7}, {.room_id = 8}};
  q.rooms.push_back(rooms);
  Reservation r = CheckReservation(q);
  ASSERT_EQ(r.outcome, Reservation::Outcome::kReserved);
  EXPECT_EQ(r.rooms_taken[0], (std::vector<int64_t>{8, 7}));
  // Room 7 taken by another session: seeker 1 has nowhere to go.
  q.rooms[0].rooms[0].busy.push_back({.when = {150, 250}, .session_id = 3});
  r = CheckReservation(q);
  EXPECT_EQ(r.outcome, Reservation::Outcome::kNoRooms);
  EXPECT_EQ(r.rooms_free, 1);
}

}  // namespace
}  // namespace mediation::rules
