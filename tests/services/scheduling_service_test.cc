// Scheduling through the real server, on a clock fixed at Monday 1 March 2027, 08:00 UTC:
// slots, bookings (and the race for them), rooms, reschedules and cancellations, who sees what,
// the move to IN_MEDIATION, and iCalendar export checked by libical.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libical/ical.h>

#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::WithToken;
using ::testing::HasSubstr;

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
// Monday 1 March 2027, 00:00 UTC (GMT in London until 28 March).
constexpr int64_t kMonday = 1803859200;

class SchedulingServiceTest : public ::testing::Test {
 protected:
  SchedulingServiceTest()
      : now_(std::make_shared<std::atomic<int64_t>>(kMonday + 8 * kHour)),
        server_([now = now_](ServerOptions& o) {
          o.clock = [now] { return absl::FromUnixSeconds(now->load()); };
        }) {}

  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    for (const char* name : {"Ana", "Ben", "Cai", "Dee"}) {
      const int64_t id = server_.RegisterMediator(
          ValidMediator(absl::StrCat(name, " Mediator"), absl::StrCat(name, "@mediators.example")));
      mediators_.push_back(id);
      tokens_[id] = server_.IssueToken(v1::ROLE_MEDIATOR, id);
    }
    case_ = server_.AllocatedCase(org_, mediators_[0], tokens_[mediators_[0]], mediators_[1],
                                  tokens_[mediators_[1]]);
  }

  v1::FindSlotsResponse Find(const v1::Case& c, v1::SessionKind kind, int minutes,
                             v1::SessionMode mode = v1::SESSION_MODE_VIDEO, int64_t venue = 0,
                             int64_t party = 0) {
    v1::FindSlotsRequest r;
    r.set_case_id(c.id());
    r.set_kind(kind);
    r.set_mode(mode);
    r.set_venue_id(venue);
    r.set_party_id(party);
    r.set_duration_minutes(minutes);
    v1::FindSlotsResponse out;
    grpc::Status s =
        server_.scheduling().FindSlots(WithToken(server_.case_support()).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Book(const v1::Case& c, v1::SessionKind kind, int64_t start, int minutes,
                    v1::Session* out = nullptr, v1::SessionMode mode = v1::SESSION_MODE_VIDEO,
                    int64_t venue = 0, int64_t party = 0, const std::string& token = "") {
    v1::BookSessionRequest r;
    r.set_case_id(c.id());
    r.set_kind(kind);
    r.set_mode(mode);
    r.set_venue_id(venue);
    r.set_party_id(party);
    if (mode == v1::SESSION_MODE_VIDEO) r.set_video_link("https://video.example/room/42");
    r.mutable_start()->set_seconds(start);
    r.set_duration_minutes(minutes);
    v1::BookSessionResponse response;
    grpc::Status s = server_.scheduling().BookSession(
        WithToken(token.empty() ? server_.case_support() : token).get(), r, &response);
    if (out != nullptr) *out = response.session();
    return s;
  }

  // Records one day of leave in March 2027 for `mediator`, as `token`.
  grpc::Status AddLeaveOn(const std::string& token, int64_t mediator, int day,
                          v1::AddLeaveResponse* out) {
    v1::AddLeaveRequest leave;
    leave.set_mediator_id(mediator);
    v1::Date* first = leave.mutable_leave()->mutable_first_day();
    first->set_year(2027);
    first->set_month(3);
    first->set_day(day);
    *leave.mutable_leave()->mutable_last_day() = *first;
    leave.mutable_leave()->set_note("off sick");
    return server_.mediators().AddLeave(WithToken(token).get(), leave, out);
  }

  // The rescheduling queue (every case) and the cases in it, as case support sees them.
  v1::ListSessionsResponse Queue() {
    v1::ListSessionsRequest queue;
    queue.set_needs_rescheduling(true);
    v1::ListSessionsResponse listed;
    EXPECT_TRUE(server_.scheduling()
                    .ListSessions(WithToken(server_.case_support()).get(), queue, &listed)
                    .ok());
    return listed;
  }
  v1::ListCasesResponse CasesToReschedule() {
    v1::ListCasesRequest cases;
    cases.set_needs_rescheduling(true);
    v1::ListCasesResponse listed;
    EXPECT_TRUE(server_.referrals()
                    .ListCases(WithToken(server_.case_support()).get(), cases, &listed)
                    .ok());
    return listed;
  }

  std::shared_ptr<std::atomic<int64_t>> now_;
  TestServer server_;
  int64_t org_ = 0;
  std::vector<int64_t> mediators_;
  std::map<int64_t, std::string> tokens_;
  v1::Case case_;
};

TEST_F(SchedulingServiceTest, TheEarliestSlotComesAfterTheMinimumNoticeInWorkingHours) {
  const v1::FindSlotsResponse r = Find(case_, v1::SESSION_KIND_JOINT_MEETING, 120);
  ASSERT_GE(r.slots_size(), 4);
  // 48 hours from Monday 08:00 is Wednesday 08:00; the mediators start at 09:00.
  EXPECT_EQ(r.slots(0).local_start(), "2027-03-03T09:00:00+00:00");
  EXPECT_EQ(r.slots(0).start().seconds(), kMonday + 2 * kDay + 9 * kHour);
  EXPECT_EQ(r.slots(1).local_start(), "2027-03-03T11:00:00+00:00");
  EXPECT_EQ(r.slots(3).local_end(), "2027-03-03T17:00:00+00:00");
  EXPECT_TRUE(r.most_blocking().empty());
}

TEST_F(SchedulingServiceTest, TheFirstBookingMovesTheCaseAndKeepsPeopleApartByTheBuffer) {
  v1::Session s;
  ASSERT_TRUE(
      Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 9 * kHour, 120, &s).ok());
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SESSIONS_SCHEDULED);
  EXPECT_EQ(s.local_start(), "2027-03-03T09:00:00+00:00");
  EXPECT_EQ(s.mediator_ids_size(), 2);
  EXPECT_EQ(s.party_ids_size(), 2);
  EXPECT_EQ(s.changes(0).change(), "booked");
  // Ends 11:00; with the 30-minute buffer the next joint slot is 11:30.
  EXPECT_EQ(Find(case_, v1::SESSION_KIND_JOINT_MEETING, 60).slots(0).local_start(),
            "2027-03-03T11:30:00+00:00");
}

TEST_F(SchedulingServiceTest, ADoubleBookingIsAbortedNamingTheConflictAndWritesNothing) {
  const v1::Case other = server_.AllocatedCase(org_, mediators_[0], tokens_[mediators_[0]],
                                               mediators_[2], tokens_[mediators_[2]]);
  v1::Session first;
  ASSERT_TRUE(
      Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 9 * kHour, 120, &first)
          .ok());
  const int64_t sessions = server_.CountRows("sessions");
  grpc::Status s = Book(other, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 10 * kHour, 60);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("mediator ", mediators_[0],
                         " is already booked at 2027-03-03T09:00 to 11:00 (Europe/London) "
                         "(session ",
                         first.id(), " of case ", case_.reference(),
                         "), which is within 30 minutes of this session; nothing was booked"));
  EXPECT_EQ(server_.CountRows("sessions"), sessions);
  EXPECT_EQ(server_.StateOf(other.id()), v1::CASE_STATE_MEDIATORS_ALLOCATED);
  // Within the buffer is a conflict too; after it is fine.
  EXPECT_EQ(
      Book(other, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 11 * kHour, 60).error_code(),
      grpc::StatusCode::ABORTED);
  EXPECT_TRUE(
      Book(other, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 11 * kHour + 30 * 60, 60)
          .ok());
}

TEST_F(SchedulingServiceTest, OutsideWorkingHoursAndTooSoonAreRefused) {
  grpc::Status s = Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 17 * kHour, 60);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "is not working (or is on leave)"));
  s = Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 1 * kDay + 9 * kHour, 60);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "start: sessions need 48 hours' notice; the earliest start is 2027-03-03T08:00 "
            "(Europe/London)");
  EXPECT_EQ(server_.CountRows("sessions"), 0);
}

TEST_F(SchedulingServiceTest, InPersonJointSessionsTakeAPrivateRoomPerPartyAndAJointRoom) {
  v1::CreateVenueRequest venue;
  venue.mutable_venue()->set_name("Friar Lane Centre");
  venue.mutable_venue()->set_address("12 Friar Lane, Leicester");
  for (auto [name, kind] :
       {std::pair{"Room A", v1::ROOM_KIND_PRIVATE}, std::pair{"Room B", v1::ROOM_KIND_PRIVATE},
        std::pair{"Main hall", v1::ROOM_KIND_JOINT}}) {
    v1::Room* room = venue.mutable_venue()->add_rooms();
    room->set_name(name);
    room->set_kind(kind);
  }
  v1::CreateVenueResponse created;
  ASSERT_TRUE(server_.scheduling()
                  .CreateVenue(WithToken(server_.case_support()).get(), venue, &created)
                  .ok());
  const int64_t venue_id = created.venue().id();
  const int64_t wednesday_nine = kMonday + 2 * kDay + 9 * kHour;

  v1::Session s;
  ASSERT_TRUE(Book(case_, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine, 180, &s,
                   v1::SESSION_MODE_IN_PERSON, venue_id)
                  .ok());
  ASSERT_EQ(s.rooms_size(), 3);
  EXPECT_EQ(s.rooms(0).party_id(), case_.parties(0).id());
  EXPECT_EQ(s.rooms(1).party_id(), case_.parties(1).id());
  EXPECT_EQ(s.rooms(2).room_name(), "Main hall");
  EXPECT_EQ(s.venue_name(), "Friar Lane Centre");

  // Another case, other people, same time and venue: the rooms are taken.
  const v1::Case other = server_.AllocatedCase(
      org_, mediators_[2], tokens_[mediators_[2]], mediators_[3], tokens_[mediators_[3]],
      [](v1::CreateReferralRequest& r) {
        r.mutable_parties(0)->mutable_contact()->set_email("sam.hill@example.nhs.uk");
        r.mutable_parties(1)->mutable_contact()->set_email("lee.ward@example.nhs.uk");
      });
  grpc::Status clash = Book(other, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine, 60, nullptr,
                            v1::SESSION_MODE_IN_PERSON, venue_id);
  EXPECT_EQ(clash.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_TRUE(absl::StrContains(clash.error_message(), "has 0 of the 2 private rooms needed"))
      << clash.error_message();
  // Finding slots at the venue skips past the morning.
  const v1::FindSlotsResponse slots =
      Find(other, v1::SESSION_KIND_JOINT_MEETING, 60, v1::SESSION_MODE_IN_PERSON, venue_id);
  EXPECT_EQ(slots.slots(0).local_start(), "2027-03-03T12:00:00+00:00");
}

TEST_F(SchedulingServiceTest, RescheduleAndCancelKeepTheHistoryAndFreeTheTime) {
  v1::Session s;
  ASSERT_TRUE(
      Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 9 * kHour, 60, &s).ok());
  v1::RescheduleSessionRequest move;
  move.set_session_id(s.id());
  move.mutable_start()->set_seconds(kMonday + 3 * kDay + 14 * kHour);
  move.set_reason("Dr Reed has clinic on Wednesday morning");
  v1::RescheduleSessionResponse moved;
  ASSERT_TRUE(server_.scheduling()
                  .RescheduleSession(WithToken(tokens_[mediators_[0]]).get(), move, &moved)
                  .ok());
  EXPECT_EQ(moved.session().local_start(), "2027-03-04T14:00:00+00:00");
  EXPECT_EQ(moved.session().sequence(), 1);
  ASSERT_EQ(moved.session().changes_size(), 2);
  EXPECT_EQ(moved.session().changes(1).change(), "rescheduled");
  EXPECT_EQ(moved.session().changes(1).previous_start().seconds(), kMonday + 2 * kDay + 9 * kHour);
  EXPECT_EQ(moved.session().changes(1).reason(), "Dr Reed has clinic on Wednesday morning");
  // Wednesday 09:00 is free again.
  EXPECT_EQ(Find(case_, v1::SESSION_KIND_JOINT_MEETING, 60).slots(0).local_start(),
            "2027-03-03T09:00:00+00:00");

  v1::CancelSessionRequest cancel;
  cancel.set_session_id(s.id());
  cancel.set_reason("the parties resolved it between themselves");
  v1::CancelSessionResponse cancelled;
  ASSERT_TRUE(server_.scheduling()
                  .CancelSession(WithToken(server_.case_support()).get(), cancel, &cancelled)
                  .ok());
  EXPECT_EQ(cancelled.session().state(), v1::SESSION_STATE_CANCELLED);
  EXPECT_EQ(cancelled.session().sequence(), 2);
  EXPECT_EQ(server_.CountRows("bookings", "active = 1"), 0);
  EXPECT_EQ(server_.CountRows("session_changes"), 3);
  EXPECT_EQ(server_.scheduling()
                .CancelSession(WithToken(server_.case_support()).get(), cancel, &cancelled)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(SchedulingServiceTest, PartiesSeeTheirOwnSessionsAndOrganisationsOnlyJointDates) {
  const int64_t alex = case_.parties(0).id();
  const int64_t jo = case_.parties(1).id();
  v1::Session alone, joint;
  ASSERT_TRUE(Book(case_, v1::SESSION_KIND_INDIVIDUAL_MEETING, kMonday + 2 * kDay + 9 * kHour, 60,
                   &alone, v1::SESSION_MODE_VIDEO, 0, alex)
                  .ok());
  ASSERT_TRUE(
      Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 3 * kDay + 9 * kHour, 120, &joint)
          .ok());
  auto list = [&](const std::string& token) {
    v1::ListSessionsRequest r;
    r.set_case_id(case_.id());
    v1::ListSessionsResponse out;
    EXPECT_TRUE(server_.scheduling().ListSessions(WithToken(token).get(), r, &out).ok());
    return out;
  };
  const std::string jo_token = server_.IssueToken(v1::ROLE_PARTY, 0, 0, case_.id(), jo);
  const v1::ListSessionsResponse jo_view = list(jo_token);
  ASSERT_EQ(jo_view.sessions_size(), 1);
  EXPECT_EQ(jo_view.sessions(0).id(), joint.id());
  v1::GetSessionRequest get;
  get.set_session_id(alone.id());
  v1::GetSessionResponse got;
  grpc::Status hidden = server_.scheduling().GetSession(WithToken(jo_token).get(), get, &got);
  EXPECT_EQ(hidden.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(hidden.error_message(), absl::StrCat("session ", alone.id(), " not found"));

  const std::string alex_token = server_.IssueToken(v1::ROLE_PARTY, 0, 0, case_.id(), alex);
  EXPECT_EQ(list(alex_token).sessions_size(), 2);

  const std::string org_token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  const v1::ListSessionsResponse org_view = list(org_token);
  ASSERT_EQ(org_view.sessions_size(), 1);
  const v1::Session& seen = org_view.sessions(0);
  EXPECT_EQ(seen.kind(), v1::SESSION_KIND_JOINT_MEETING);
  EXPECT_EQ(seen.local_date().day(), 4);
  EXPECT_FALSE(seen.has_start());
  EXPECT_EQ(seen.video_link(), "");
  EXPECT_EQ(seen.mediator_ids_size(), 0);
}

TEST_F(SchedulingServiceTest, TheCaseIsInMediationOnceItsFirstSessionStarts) {
  ASSERT_TRUE(Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 9 * kHour, 60).ok());
  absl::StatusOr<int> moved = server_.server().RunMaintenance();
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, 0);
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_SESSIONS_SCHEDULED);
  now_->store(kMonday + 2 * kDay + 9 * kHour);
  moved = server_.server().RunMaintenance();
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, 1);
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_IN_MEDIATION);
}

TEST_F(SchedulingServiceTest, WithdrawingOrHoldingTheCaseCancelsItsSessionsStillToCome) {
  v1::Session s;
  ASSERT_TRUE(
      Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 9 * kHour, 60, &s).ok());
  v1::HoldCaseRequest hold;
  hold.set_case_id(case_.id());
  hold.set_reason("party on sick leave");
  v1::HoldCaseResponse held;
  ASSERT_TRUE(server_.cases().HoldCase(WithToken(server_.case_support()).get(), hold, &held).ok());
  v1::GetSessionRequest get;
  get.set_session_id(s.id());
  v1::GetSessionResponse got;
  ASSERT_TRUE(
      server_.scheduling().GetSession(WithToken(server_.case_support()).get(), get, &got).ok());
  EXPECT_EQ(got.session().state(), v1::SESSION_STATE_CANCELLED);
  EXPECT_EQ(got.session().changes(1).reason(), "the case was put on hold");
  EXPECT_EQ(server_.CountRows("bookings", "active = 1"), 0);
  // The mediators are free for other work at that time again.
  const v1::Case other = server_.AllocatedCase(org_, mediators_[0], tokens_[mediators_[0]]);
  EXPECT_TRUE(Book(other, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 9 * kHour, 60).ok());
  // And the mediator's calendar says the first one is cancelled.
  v1::ExportMediatorCalendarRequest calendar;
  calendar.set_mediator_id(mediators_[0]);
  v1::ExportMediatorCalendarResponse exported;
  ASSERT_TRUE(
      server_.scheduling()
          .ExportMediatorCalendar(WithToken(tokens_[mediators_[0]]).get(), calendar, &exported)
          .ok());
  EXPECT_TRUE(absl::StrContains(exported.calendar().ics(), "STATUS:CANCELLED"));
  EXPECT_TRUE(absl::StrContains(exported.calendar().ics(), "STATUS:CONFIRMED"));
}

TEST_F(SchedulingServiceTest, ASessionThatHasStartedCannotBeMovedOrCancelled) {
  v1::Session s;
  ASSERT_TRUE(
      Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 9 * kHour, 60, &s).ok());
  now_->store(kMonday + 2 * kDay + 9 * kHour + 600);
  v1::RescheduleSessionRequest move;
  move.set_session_id(s.id());
  move.mutable_start()->set_seconds(kMonday + 7 * kDay + 9 * kHour);
  move.set_reason("too late");
  v1::RescheduleSessionResponse moved;
  grpc::Status status =
      server_.scheduling().RescheduleSession(WithToken(server_.case_support()).get(), move, &moved);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::CancelSessionRequest cancel;
  cancel.set_session_id(s.id());
  cancel.set_reason("too late");
  v1::CancelSessionResponse cancelled;
  EXPECT_EQ(server_.scheduling()
                .CancelSession(WithToken(server_.case_support()).get(), cancel, &cancelled)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(server_.CountRows("session_changes"), 1);
}

TEST_F(SchedulingServiceTest, AMediatorOfAnotherCaseFindsNothingOfThisOne) {
  v1::Session s;
  ASSERT_TRUE(
      Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 9 * kHour, 60, &s).ok());
  const std::string stranger = tokens_[mediators_[3]];
  v1::GetSessionRequest get;
  get.set_session_id(s.id());
  v1::GetSessionResponse got;
  EXPECT_EQ(server_.scheduling().GetSession(WithToken(stranger).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::CancelSessionRequest cancel;
  cancel.set_session_id(s.id());
  cancel.set_reason("not mine");
  v1::CancelSessionResponse cancelled;
  EXPECT_EQ(server_.scheduling()
                .CancelSession(WithToken(stranger).get(), cancel, &cancelled)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 3 * kDay + 9 * kHour, 60, nullptr,
                 v1::SESSION_MODE_VIDEO, 0, 0, stranger)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ExportSessionCalendarRequest ics;
  ics.set_session_id(s.id());
  v1::ExportSessionCalendarResponse out;
  EXPECT_EQ(
      server_.scheduling().ExportSessionCalendar(WithToken(stranger).get(), ics, &out).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

TEST_F(SchedulingServiceTest, TheCalendarListsTheWindowsSessionsOfEveryCaseOrOneMediator) {
  const v1::Case other = server_.AllocatedCase(org_, mediators_[2], tokens_[mediators_[2]],
                                               mediators_[3], tokens_[mediators_[3]]);
  v1::Session wednesday, thursday, next_week, cancelled;
  ASSERT_TRUE(
      Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 9 * kHour, 60, &wednesday)
          .ok());
  ASSERT_TRUE(
      Book(other, v1::SESSION_KIND_JOINT_MEETING, kMonday + 3 * kDay + 9 * kHour, 60, &thursday)
          .ok());
  ASSERT_TRUE(
      Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 7 * kDay + 9 * kHour, 60, &next_week)
          .ok());
  ASSERT_TRUE(
      Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 4 * kDay + 9 * kHour, 60, &cancelled)
          .ok());
  v1::CancelSessionRequest cancel;
  cancel.set_session_id(cancelled.id());
  cancel.set_reason("room flooded");
  v1::CancelSessionResponse cancel_response;
  ASSERT_TRUE(server_.scheduling()
                  .CancelSession(WithToken(server_.case_support()).get(), cancel, &cancel_response)
                  .ok());

  auto list = [&](const std::string& token, int64_t mediator, bool include_cancelled,
                  std::vector<int64_t>* ids) {
    v1::ListSessionsRequest r;
    // The week of Monday 1 March 2027.
    r.mutable_window_first_day()->set_year(2027);
    r.mutable_window_first_day()->set_month(3);
    r.mutable_window_first_day()->set_day(1);
    r.set_mediator_id(mediator);
    r.set_include_cancelled(include_cancelled);
    v1::ListSessionsResponse out;
    grpc::Status s = server_.scheduling().ListSessions(WithToken(token).get(), r, &out);
    ids->clear();
    for (const auto& session : out.sessions()) ids->push_back(session.id());
    return s.error_code();
  };
  std::vector<int64_t> ids;
  EXPECT_EQ(list(server_.case_support(), 0, false, &ids), grpc::StatusCode::OK);
  EXPECT_EQ(ids, (std::vector<int64_t>{wednesday.id(), thursday.id()}));
  EXPECT_EQ(list(server_.case_support(), 0, true, &ids), grpc::StatusCode::OK);
  EXPECT_EQ(ids, (std::vector<int64_t>{wednesday.id(), thursday.id(), cancelled.id()}));
  EXPECT_EQ(list(server_.senior_adviser(), mediators_[2], false, &ids), grpc::StatusCode::OK);
  EXPECT_EQ(ids, (std::vector<int64_t>{thursday.id()}));
  // A mediator sees its own calendar only, and may not ask for another's.
  EXPECT_EQ(list(tokens_[mediators_[0]], 0, false, &ids), grpc::StatusCode::OK);
  EXPECT_EQ(ids, (std::vector<int64_t>{wednesday.id()}));
  EXPECT_EQ(list(tokens_[mediators_[0]], mediators_[2], false, &ids),
            grpc::StatusCode::PERMISSION_DENIED);
  const std::string organisation = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  EXPECT_EQ(list(organisation, 0, false, &ids), grpc::StatusCode::PERMISSION_DENIED);

  v1::ListSessionsRequest too_long;
  too_long.mutable_window_first_day()->set_year(2027);
  too_long.mutable_window_first_day()->set_month(3);
  too_long.mutable_window_first_day()->set_day(1);
  too_long.mutable_window_last_day()->set_year(2027);
  too_long.mutable_window_last_day()->set_month(5);
  too_long.mutable_window_last_day()->set_day(1);
  v1::ListSessionsResponse out;
  grpc::Status s =
      server_.scheduling().ListSessions(WithToken(server_.case_support()).get(), too_long, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "window_last_day: the window is at most 42 days");
}

TEST_F(SchedulingServiceTest, SessionsOfAHeldCaseCannotBeBooked) {
  v1::HoldCaseRequest hold;
  hold.set_case_id(case_.id());
  hold.set_reason("formal process started");
  v1::HoldCaseResponse held;
  ASSERT_TRUE(server_.cases().HoldCase(WithToken(server_.case_support()).get(), hold, &held).ok());
  grpc::Status s = Book(case_, v1::SESSION_KIND_JOINT_MEETING, kMonday + 2 * kDay + 9 * kHour, 60);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(server_.CountRows("sessions"), 0);
}

TEST_F(SchedulingServiceTest, WhenNothingFitsThePartyWhoBlocksMostIsNamed) {
  v1::SetPartyAvailabilityRequest r;
  r.set_case_id(case_.id());
  r.set_party_id(case_.parties(1).id());
  v1::LocalWindow* w = r.add_windows();
  w->mutable_date()->set_year(2027);
  w->mutable_date()->set_month(3);
  w->mutable_date()->set_day(6);  // A Saturday: the mediators do not work.
  w->mutable_start()->set_hours(10);
  w->mutable_end()->set_hours(12);
  v1::SetPartyAvailabilityResponse set;
  ASSERT_TRUE(server_.scheduling()
                  .SetPartyAvailability(WithToken(server_.case_support()).get(), r, &set)
                  .ok());
  const v1::FindSlotsResponse slots = Find(case_, v1::SESSION_KIND_JOINT_MEETING, 60);
  EXPECT_EQ(slots.slots_size(), 0);
  EXPECT_EQ(slots.most_blocking(), absl::StrCat("party ", case_.parties(1).id()));
  EXPECT_GT(slots.blocked_minutes(), 0);
  // An individual meeting with the other party still fits.
  EXPECT_GT(Find(case_, v1::SESSION_KIND_INDIVIDUAL_MEETING, 60, v1::SESSION_MODE_VIDEO, 0,
                 case_.parties(0).id())
                .slots_size(),
            0);
}

TEST_F(SchedulingServiceTest, ASessionAcrossTheClockChangeExportsAsLocalTimeLibicalAccepts) {
  // Monday 29 March 2027, the day after the clocks go forward: 09:00 BST is 08:00 UTC.
  const int64_t start = kMonday + 28 * kDay + 8 * kHour;
  v1::Session s;
  ASSERT_TRUE(Book(case_, v1::SESSION_KIND_JOINT_MEETING, start, 120, &s).ok());
  EXPECT_EQ(s.local_start(), "2027-03-29T09:00:00+01:00");
  v1::ExportSessionCalendarRequest r;
  r.set_session_id(s.id());
  v1::ExportSessionCalendarResponse out;
  ASSERT_TRUE(server_.scheduling()
                  .ExportSessionCalendar(WithToken(tokens_[mediators_[1]]).get(), r, &out)
                  .ok());
  const std::string& ics = out.calendar().ics();
  EXPECT_EQ(out.calendar().content_type(), "text/calendar");
  EXPECT_TRUE(absl::StrContains(ics, "DTSTART;TZID=Europe/London:20270329T090000\r\n"));
  EXPECT_TRUE(absl::StrContains(
      ics, absl::StrCat("SUMMARY:Assisted mediation: joint meeting (", case_.reference(), ")")));
  // No names of the people in conflict in anybody's calendar.
  EXPECT_FALSE(absl::StrContains(ics, "Reed"));
  EXPECT_FALSE(absl::StrContains(ics, "Morgan"));

  icalcomponent* calendar = icalparser_parse_string(ics.c_str());
  ASSERT_NE(calendar, nullptr);
  icalrestriction_check(calendar);
  EXPECT_EQ(icalcomponent_count_errors(calendar), 0);
  icalcomponent* event = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
  ASSERT_NE(event, nullptr);
  const icaltimetype utc =
      icaltime_convert_to_zone(icalcomponent_get_dtstart(event), icaltimezone_get_utc_timezone());
  EXPECT_EQ(utc.hour, 8);
  icalcomponent_free(calendar);

  // A mediator exports only its own calendar.
  v1::ExportMediatorCalendarRequest mine;
  mine.set_mediator_id(mediators_[2]);
  v1::ExportMediatorCalendarResponse theirs;
  EXPECT_EQ(server_.scheduling()
                .ExportMediatorCalendar(WithToken(tokens_[mediators_[0]]).get(), mine, &theirs)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  mine.set_mediator_id(mediators_[0]);
  ASSERT_TRUE(server_.scheduling()
                  .ExportMediatorCalendar(WithToken(tokens_[mediators_[0]]).get(), mine, &theirs)
                  .ok());
  EXPECT_TRUE(absl::StrContains(theirs.calendar().ics(), absl::StrCat("UID:session-", s.id())));
}

// Many callers race for the same mediator at the same time; over many rounds exactly one wins
// each contested slot, and the database agrees.
TEST_F(SchedulingServiceTest, ConcurrentBookingsOfOneMediatorHaveExactlyOneWinnerPerSlot) {
  const int64_t shared = mediators_[3];
  std::vector<v1::Case> cases;
  for (int i = 0; i < 4; ++i) {
    cases.push_back(server_.AllocatedCase(org_, shared, tokens_[shared]));
  }
  constexpr int kRounds = 25;
  int64_t day = kMonday + 2 * kDay;
  for (int round = 0; round < kRounds; ++round) {
    while (((day / kDay) + 3) % 7 >= 5) day += kDay;  // Weekdays only (1970-01-01 a Thursday).
    const int64_t start = day + 9 * kHour;
    std::atomic<int> ok{0}, aborted{0}, other{0};
    std::vector<std::thread> callers;
    for (int i = 0; i < 4; ++i) {
      callers.emplace_back([&, i] {
        // Overlapping, not identical: each starts 15 minutes after the last.
        grpc::Status s = Book(cases[i], v1::SESSION_KIND_JOINT_MEETING, start + i * 900, 60);
        if (s.ok()) {
          ++ok;
        } else if (s.error_code() == grpc::StatusCode::ABORTED) {
          ++aborted;
        } else {
          ++other;
        }
      });
    }
    for (std::thread& t : callers) t.join();
    ASSERT_EQ(ok.load(), 1) << "round " << round;
    ASSERT_EQ(aborted.load(), 3) << "round " << round;
    ASSERT_EQ(other.load(), 0) << "round " << round;
    EXPECT_EQ(server_.CountRows("bookings",
                                absl::StrCat("resource = 'mediator' AND resource_id = ", shared,
                                             " AND active = 1 AND start_at >= ", day,
                                             " AND start_at < ", day + kDay)),
              1);
    day += kDay;
  }
  EXPECT_EQ(server_.CountRows("sessions"), kRounds);
}

}  // namespace
}  // namespace mediation

namespace mediation {
namespace {

// The same practitioner, a party of two cases: their email written differently in each.
class CrossCaseBookingTest : public SchedulingServiceTest {
 protected:
  v1::Case OtherCaseWithTheSamePerson() {
    return server_.AllocatedCase(
        org_, mediators_[2], tokens_[mediators_[2]], mediators_[3], tokens_[mediators_[3]],
        [](v1::CreateReferralRequest& r) {
          // Upper case, spaces around, a zero-width space inside.
          r.mutable_parties(0)->mutable_contact()->set_email("  ALEX.MORGAN\u200B@Example.NHS.uk ");
          r.mutable_parties(1)->mutable_contact()->set_email("lee.ward@example.nhs.uk");
        });
  }
};

TEST_F(CrossCaseBookingTest, APartyOfTwoCasesIsBusyInBothForSlotsAndBookings) {
  const v1::Case other = OtherCaseWithTheSamePerson();
  const int64_t wednesday_nine = kMonday + 2 * kDay + 9 * kHour;
  v1::Session first;
  ASSERT_TRUE(Book(case_, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine, 120, &first).ok());
  // Slot finding in the other case skips the party's morning (and the 30-minute buffer).
  EXPECT_EQ(Find(other, v1::SESSION_KIND_JOINT_MEETING, 60).slots(0).local_start(),
            "2027-03-03T11:30:00+00:00");
  // Booking over it is refused, naming the time; case support may see the other session.
  const int64_t sessions = server_.CountRows("sessions");
  grpc::Status s = Book(other, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine + kHour, 60);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("party ", other.parties(0).id(),
                         " is already booked at 2027-03-03T09:00 to 11:00 (Europe/London) "
                         "(session ",
                         first.id(), " of case ", case_.reference(),
                         ") in another case they are a party of (the same person by email), "
                         "which is within 30 minutes of this session; nothing was booked"));
  EXPECT_EQ(server_.CountRows("sessions"), sessions);
  // A mediator of the other case may not see the first case: the time only.
  s = Book(other, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine + kHour, 60, nullptr,
           v1::SESSION_MODE_VIDEO, 0, 0, tokens_[mediators_[2]]);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "is already booked at 2027-03-03T09:00"))
      << s.error_message();
  EXPECT_FALSE(absl::StrContains(s.error_message(), case_.reference())) << s.error_message();
  EXPECT_FALSE(absl::StrContains(s.error_message(), "(session ")) << s.error_message();
  // An individual meeting of the other party of the other case is not held up.
  EXPECT_TRUE(Book(other, v1::SESSION_KIND_INDIVIDUAL_MEETING, wednesday_nine + kHour, 60, nullptr,
                   v1::SESSION_MODE_VIDEO, 0, other.parties(1).id())
                  .ok());
}

TEST_F(CrossCaseBookingTest, TwoCasesRacingForThePersonBookOnce) {
  const v1::Case other = OtherCaseWithTheSamePerson();
  // Ten rounds, each two clients booking the same hour at once, one in each case.
  for (int round = 0; round < 10; ++round) {
    const int64_t start = kMonday + (2 + round / 4) * kDay + (9 + 2 * (round % 4)) * kHour;
    grpc::Status results[2];
    std::thread a([&] { results[0] = Book(case_, v1::SESSION_KIND_JOINT_MEETING, start, 60); });
    std::thread b([&] { results[1] = Book(other, v1::SESSION_KIND_JOINT_MEETING, start, 60); });
    a.join();
    b.join();
    EXPECT_NE(results[0].ok(), results[1].ok())
        << "round " << round << ": " << results[0].error_message() << " / "
        << results[1].error_message();
    const grpc::Status& lost = results[0].ok() ? results[1] : results[0];
    EXPECT_EQ(lost.error_code(), grpc::StatusCode::ABORTED) << lost.error_message();
  }
  EXPECT_EQ(server_.CountRows("sessions"), 10);
  // No two active bookings of one holder overlap, whatever the case.
  EXPECT_EQ(server_.CountRows("bookings a JOIN bookings b ON a.holder = b.holder AND "
                              "a.session_id < b.session_id AND a.start_at < b.end_at AND "
                              "b.start_at < a.end_at",
                              "a.active = 1 AND b.active = 1"),
            0);
}

TEST_F(CrossCaseBookingTest, AnEmailChangeThatWouldDoubleBookThePersonIsRefused) {
  const v1::Case other = server_.AllocatedCase(
      org_, mediators_[2], tokens_[mediators_[2]], mediators_[3], tokens_[mediators_[3]],
      [](v1::CreateReferralRequest& r) {
        r.mutable_parties(0)->mutable_contact()->set_email("sam.hill@example.nhs.uk");
        r.mutable_parties(1)->mutable_contact()->set_email("lee.ward@example.nhs.uk");
      });
  const int64_t wednesday_nine = kMonday + 2 * kDay + 9 * kHour;
  ASSERT_TRUE(Book(case_, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine, 60).ok());
  ASSERT_TRUE(Book(other, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine, 60).ok());
  // "Sam Hill" was a typo for the first case's Alex Morgan: the same person, booked twice.
  v1::UpdateReferralRequest u;
  u.set_case_id(other.id());
  u.set_expected_revision(other.revision());
  u.mutable_update_mask()->add_paths("parties");
  *u.mutable_parties() = other.parties();
  u.mutable_parties(0)->mutable_contact()->set_email("Alex.Morgan@example.nhs.uk");
  u.set_reason("The first party's address was wrong");
  v1::UpdateReferralResponse updated;
  const grpc::Status s =
      server_.referrals().UpdateReferral(WithToken(server_.case_support()).get(), u, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("parties[0].contact.email: that person is already booked at "
                         "2027-03-03T09:00 (Europe/London), when party ",
                         other.parties(0).id(),
                         " has a session of this case; reschedule or cancel one of the two "
                         "sessions first"));
  EXPECT_EQ(server_.CountRows("parties", "email = 'sam.hill@example.nhs.uk'"), 1);
  EXPECT_EQ(server_.CountRows("referral_revisions"), 0);
}

TEST_F(CrossCaseBookingTest, TheDatabaseRefusesAnOverlapWrittenBehindTheServicesBack) {
  const v1::Case other = OtherCaseWithTheSamePerson();
  const int64_t wednesday_nine = kMonday + 2 * kDay + 9 * kHour;
  v1::Session first, second;
  ASSERT_TRUE(Book(case_, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine, 60, &first).ok());
  ASSERT_TRUE(
      Book(other, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine + 3 * kHour, 60, &second).ok());
  // SQLite's triggers say "double booking"; PostgreSQL's exclusion constraint names itself.
  const auto refused_as_overlap =
      server_.on_postgres() ? HasSubstr("bookings_no_overlap") : HasSubstr("double booking");
  // A code path that forgot the check: the party's booking in the second session moved onto
  // the first session's hour.
  EXPECT_THAT(
      server_.TamperRefused(absl::StrCat(
          "UPDATE bookings SET start_at = start_at - 3 * 3600, end_at = end_at - 3 * "
          "3600 WHERE session_id = ",
          second.id(), " AND resource = 'party' AND resource_id = ", other.parties(0).id())),
      refused_as_overlap);
  // Or a new booking of the same mediator at the same time.
  EXPECT_THAT(server_.TamperRefused(absl::StrCat(
                  "INSERT INTO bookings (session_id, resource, resource_id, start_at, end_at, "
                  "active, holder) VALUES (",
                  second.id(), ", 'mediator', ", mediators_[0], ", ", wednesday_nine + 1800, ", ",
                  wednesday_nine + 5400, ", 1, 'mediator:", mediators_[0], "')")),
              refused_as_overlap);
  EXPECT_EQ(
      server_.CountRows("bookings", absl::StrCat("session_id = ", second.id(),
                                                 " AND start_at = ", wednesday_nine + 3 * kHour)),
      4);  // Two mediators and two parties, unmoved.
}

// A mediator falls ill: the leave is recorded over a booked session, which is returned, marked,
// raised as a case event, shown in the queue and the filter until it is rescheduled.
TEST_F(SchedulingServiceTest, LeaveOverABookedSessionReturnsItAndMarksItUntilRescheduled) {
  const int64_t wednesday_nine = kMonday + 2 * kDay + 9 * kHour;
  v1::Session booked, later;
  ASSERT_TRUE(Book(case_, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine, 60, &booked).ok());
  ASSERT_TRUE(
      Book(case_, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine + 7 * kDay, 60, &later).ok());
  EXPECT_FALSE(booked.needs_rescheduling());
  const int64_t events = server_.CountRows("case_events");

  v1::AddLeaveResponse added;
  grpc::Status s = AddLeaveOn(tokens_[mediators_[1]], mediators_[1], 3, &added);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(added.collisions_size(), 1);
  const v1::SessionCollision& c = added.collisions(0);
  EXPECT_EQ(c.session_id(), booked.id());
  EXPECT_EQ(c.case_reference(), case_.reference());
  EXPECT_EQ(c.local_start(), "2027-03-03T09:00:00+00:00");
  EXPECT_EQ(c.reason(), absl::StrCat("mediator ", mediators_[1], " is on leave then"));
  EXPECT_EQ(server_.CountRows("case_events"), events + 1);
  EXPECT_EQ(server_.CountRows("case_events",
                              absl::StrCat("kind = 'CASE_EVENT_KIND_SESSION_NEEDS_RESCHEDULING' "
                                           "AND session_id = ",
                                           booked.id())),
            1);

  // The case's sessions with the filter, the queue across cases, and the case list.
  v1::ListSessionsRequest filter;
  filter.set_case_id(case_.id());
  filter.set_needs_rescheduling(true);
  v1::ListSessionsResponse listed;
  ASSERT_TRUE(server_.scheduling()
                  .ListSessions(WithToken(server_.case_support()).get(), filter, &listed)
                  .ok());
  ASSERT_EQ(listed.sessions_size(), 1);
  EXPECT_TRUE(listed.sessions(0).needs_rescheduling());
  EXPECT_EQ(listed.sessions(0).needs_rescheduling_reason(), c.reason());
  EXPECT_EQ(listed.sessions(0).needs_rescheduling_since().seconds(), kMonday + 8 * kHour);
  listed = Queue();
  ASSERT_EQ(listed.sessions_size(), 1);
  EXPECT_EQ(listed.sessions(0).id(), booked.id());
  const v1::ListCasesResponse case_list = CasesToReschedule();
  ASSERT_EQ(case_list.cases_size(), 1);
  EXPECT_EQ(case_list.cases(0).id(), case_.id());
  // A party sees that it needs rescheduling, not why (someone's leave).
  const std::string party =
      server_.IssueToken(v1::ROLE_PARTY, 0, 0, case_.id(), case_.parties(0).id());
  v1::GetSessionRequest get;
  get.set_session_id(booked.id());
  v1::GetSessionResponse seen;
  ASSERT_TRUE(server_.scheduling().GetSession(WithToken(party).get(), get, &seen).ok());
  EXPECT_TRUE(seen.session().needs_rescheduling());
  EXPECT_EQ(seen.session().needs_rescheduling_reason(), "");
  // The queue is not for parties.
  v1::ListSessionsRequest queue;
  queue.set_needs_rescheduling(true);
  EXPECT_EQ(server_.scheduling().ListSessions(WithToken(party).get(), queue, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Rescheduling it to the next day clears the mark, and the queue is empty.
  v1::RescheduleSessionRequest move;
  move.set_session_id(booked.id());
  move.mutable_start()->set_seconds(wednesday_nine + kDay);
  move.set_reason("the mediator is on leave");
  v1::RescheduleSessionResponse moved;
  s = server_.scheduling().RescheduleSession(WithToken(server_.case_support()).get(), move, &moved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(moved.session().needs_rescheduling());
  EXPECT_EQ(Queue().sessions_size(), 0);
  EXPECT_EQ(server_.CountRows("sessions", "needs_rescheduling <> ''"), 0);
}

// A session that starts while marked can no longer be moved: it leaves the queue. An ADMIN who
// records the leave learns the session and its time, not the case.
TEST_F(SchedulingServiceTest, AMarkedSessionThatStartsLeavesTheQueueAndAdminsSeeNoCase) {
  const int64_t wednesday_nine = kMonday + 2 * kDay + 9 * kHour;
  v1::Session booked;
  ASSERT_TRUE(Book(case_, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine, 60, &booked).ok());
  v1::AddLeaveResponse added;
  ASSERT_TRUE(AddLeaveOn(server_.admin_secret(), mediators_[0], 3, &added).ok());
  ASSERT_EQ(added.collisions_size(), 1);
  EXPECT_EQ(added.collisions(0).session_id(), booked.id());
  EXPECT_EQ(added.collisions(0).case_id(), 0);
  EXPECT_EQ(added.collisions(0).case_reference(), "");
  EXPECT_EQ(added.collisions(0).local_start(), "2027-03-03T09:00:00+00:00");

  EXPECT_EQ(Queue().sessions_size(), 1);
  now_->store(wednesday_nine + 30 * 60);
  EXPECT_EQ(Queue().sessions_size(), 0);
  EXPECT_EQ(CasesToReschedule().cases_size(), 0);
}

TEST_F(SchedulingServiceTest, AvailabilityAndWorkingPatternChangesMarkTheSessionsTheyLeaveOut) {
  const int64_t wednesday_nine = kMonday + 2 * kDay + 9 * kHour;
  v1::Session booked;
  ASSERT_TRUE(Book(case_, v1::SESSION_KIND_JOINT_MEETING, wednesday_nine, 60, &booked).ok());
  // The second party is now available only on Thursday.
  v1::SetPartyAvailabilityRequest r;
  r.set_case_id(case_.id());
  r.set_party_id(case_.parties(1).id());
  v1::LocalWindow* w = r.add_windows();
  w->mutable_date()->set_year(2027);
  w->mutable_date()->set_month(3);
  w->mutable_date()->set_day(4);
  w->mutable_start()->set_hours(9);
  w->mutable_end()->set_hours(17);
  v1::SetPartyAvailabilityResponse set;
  ASSERT_TRUE(server_.scheduling()
                  .SetPartyAvailability(WithToken(server_.case_support()).get(), r, &set)
                  .ok());
  ASSERT_EQ(set.collisions_size(), 1);
  EXPECT_EQ(set.collisions(0).session_id(), booked.id());
  EXPECT_EQ(set.collisions(0).reason(),
            absl::StrCat("party ", case_.parties(1).id(), " is not available then"));

  // A working pattern without Wednesdays, from a stale etag first (refused, nothing changes).
  v1::GetMediatorRequest get;
  get.set_mediator_id(mediators_[0]);
  v1::GetMediatorResponse read;
  ASSERT_TRUE(
      server_.mediators().GetMediator(WithToken(tokens_[mediators_[0]]).get(), get, &read).ok());
  v1::SetWorkingPatternRequest pattern;
  pattern.set_mediator_id(mediators_[0]);
  for (int day : {1, 2, 4, 5}) {
    v1::WorkingHours* h = pattern.add_hours();
    h->set_weekday(day);
    h->mutable_start()->set_hours(9);
    h->mutable_end()->set_hours(17);
  }
  pattern.set_etag("r1");
  v1::SetWorkingPatternResponse changed;
  grpc::Status s = server_.mediators().SetWorkingPattern(WithToken(tokens_[mediators_[0]]).get(),
                                                         pattern, &changed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << s.error_message();
  EXPECT_EQ(server_.CountRows("working_hours", absl::StrCat("mediator_id = ", mediators_[0])), 5);
  pattern.set_etag(read.mediator().etag());
  s = server_.mediators().SetWorkingPattern(WithToken(tokens_[mediators_[0]]).get(), pattern,
                                            &changed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(changed.collisions_size(), 1);
  EXPECT_EQ(changed.collisions(0).session_id(), booked.id());
  EXPECT_NE(changed.etag(), read.mediator().etag());
  // Marked once: the first reason stays, one case event.
  EXPECT_EQ(server_.CountRows(
                "sessions", absl::StrCat("id = ", booked.id(), " AND needs_rescheduling = 'party ",
                                         case_.parties(1).id(), " is not available then'")),
            1);
  EXPECT_EQ(server_.CountRows("case_events", "kind = 'CASE_EVENT_KIND_SESSION_NEEDS_RESCHEDULING'"),
            1);
  // Cancelling clears it.
  v1::CancelSessionRequest cancel;
  cancel.set_session_id(booked.id());
  cancel.set_reason("nobody can make Wednesday");
  v1::CancelSessionResponse cancelled;
  ASSERT_TRUE(server_.scheduling()
                  .CancelSession(WithToken(server_.case_support()).get(), cancel, &cancelled)
                  .ok());
  EXPECT_EQ(server_.CountRows("sessions", "needs_rescheduling <> ''"), 0);
}

// Accessible venues: slots are offered only where every party's needs are met, and the answer
// says so when the venue cannot meet them.
TEST_F(SchedulingServiceTest, InPersonSlotsUseOnlyRoomsThatMeetThePartiesNeeds) {
  const v1::Case needs =
      server_.AllocatedCase(org_, mediators_[2], tokens_[mediators_[2]], mediators_[3],
                            tokens_[mediators_[3]], [](v1::CreateReferralRequest& r) {
                              r.mutable_parties(0)->add_access_needs(v1::ACCESS_NEED_STEP_FREE);
                              r.mutable_parties(1)->add_access_needs(v1::ACCESS_NEED_HEARING_LOOP);
                            });
  ASSERT_EQ(needs.parties(0).access_needs_size(), 1);
  auto venue = [&](std::vector<std::pair<v1::RoomKind, std::vector<v1::AccessNeed>>> rooms) {
    v1::CreateVenueRequest r;
    r.mutable_venue()->set_name("Centre");
    r.mutable_venue()->set_address("1 High Street");
    int n = 0;
    for (const auto& [kind, features] : rooms) {
      v1::Room* room = r.mutable_venue()->add_rooms();
      room->set_name(absl::StrCat("Room ", ++n));
      room->set_kind(kind);
      for (v1::AccessNeed f : features) room->add_features(f);
    }
    v1::CreateVenueResponse out;
    EXPECT_TRUE(
        server_.scheduling().CreateVenue(WithToken(server_.case_support()).get(), r, &out).ok());
    return out.venue();
  };
  // Room 1 has a hearing loop only, room 2 step-free access only: party 0 must have room 2 and
  // party 1 room 1 (the first room in order would be wrong for party 0).
  const v1::Venue good =
      venue({{v1::ROOM_KIND_PRIVATE, {v1::ACCESS_NEED_HEARING_LOOP}},
             {v1::ROOM_KIND_PRIVATE, {v1::ACCESS_NEED_STEP_FREE}},
             {v1::ROOM_KIND_JOINT, {v1::ACCESS_NEED_STEP_FREE, v1::ACCESS_NEED_HEARING_LOOP}}});
  EXPECT_EQ(good.rooms(0).features_size(), 1);
  const v1::FindSlotsResponse found =
      Find(needs, v1::SESSION_KIND_JOINT_MEETING, 60, v1::SESSION_MODE_IN_PERSON, good.id());
  ASSERT_GT(found.slots_size(), 0);
  EXPECT_EQ(found.unmet_access_needs(), "");
  v1::Session s;
  ASSERT_TRUE(Book(needs, v1::SESSION_KIND_JOINT_MEETING, found.slots(0).start().seconds(), 60, &s,
                   v1::SESSION_MODE_IN_PERSON, good.id())
                  .ok());
  ASSERT_EQ(s.rooms_size(), 3);
  EXPECT_EQ(s.rooms(0).party_id(), needs.parties(0).id());
  EXPECT_EQ(s.rooms(0).room_id(), good.rooms(1).id());
  EXPECT_EQ(s.rooms(1).party_id(), needs.parties(1).id());
  EXPECT_EQ(s.rooms(1).room_id(), good.rooms(0).id());

  // A venue whose joint room has no hearing loop cannot host the joint meeting: no slots, the
  // reason, and booking there is refused writing nothing.
  const v1::Venue poor = venue({{v1::ROOM_KIND_PRIVATE, {v1::ACCESS_NEED_HEARING_LOOP}},
                                {v1::ROOM_KIND_PRIVATE, {v1::ACCESS_NEED_STEP_FREE}},
                                {v1::ROOM_KIND_JOINT, {v1::ACCESS_NEED_STEP_FREE}}});
  const v1::FindSlotsResponse none =
      Find(needs, v1::SESSION_KIND_JOINT_MEETING, 60, v1::SESSION_MODE_IN_PERSON, poor.id());
  EXPECT_EQ(none.slots_size(), 0);
  EXPECT_EQ(none.unmet_access_needs(),
            absl::StrCat("venue ", poor.id(),
                         " has no joint room with step-free access and a hearing loop (what the "
                         "parties need)"));
  const int64_t sessions = server_.CountRows("sessions");
  grpc::Status refused =
      Book(needs, v1::SESSION_KIND_JOINT_MEETING, found.slots(1).start().seconds(), 60, nullptr,
           v1::SESSION_MODE_IN_PERSON, poor.id());
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "has no joint room with step-free access"))
      << refused.error_message();
  EXPECT_EQ(server_.CountRows("sessions"), sessions);
  // An individual meeting with the first party needs only a step-free private room: it fits.
  EXPECT_GT(Find(needs, v1::SESSION_KIND_INDIVIDUAL_MEETING, 60, v1::SESSION_MODE_IN_PERSON,
                 poor.id(), needs.parties(0).id())
                .slots_size(),
            0);
  // Two parties both needing step-free access and one step-free private room: never.
  const v1::Case both = server_.AllocatedCase(
      org_, mediators_[2], tokens_[mediators_[2]], mediators_[3], tokens_[mediators_[3]],
      [](v1::CreateReferralRequest& r) {
        r.mutable_parties(0)->add_access_needs(v1::ACCESS_NEED_STEP_FREE);
        r.mutable_parties(1)->add_access_needs(v1::ACCESS_NEED_STEP_FREE);
        r.mutable_parties(0)->mutable_contact()->set_email("kim.lee@example.nhs.uk");
        r.mutable_parties(1)->mutable_contact()->set_email("pat.roe@example.nhs.uk");
      });
  EXPECT_EQ(Find(both, v1::SESSION_KIND_JOINT_MEETING, 60, v1::SESSION_MODE_IN_PERSON, good.id())
                .unmet_access_needs(),
            absl::StrCat("venue ", good.id(),
                         " has too few private rooms meeting the parties' access needs for a "
                         "room each"));
}

}  // namespace
}  // namespace mediation
