// The case-event stream: resumable by position with nothing lost or repeated, filtered by what
// the caller may see, live, and ended cleanly when the server stops.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::WithToken;
using v1::CaseEvent;

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    other_org_ = server_.RegisterOrganisation("Southdown Dental Practice");
    mediator_ = server_.RegisterMediator(ValidMediator("Morgan Ellis", "morgan.ellis@example.org"));
    mediator_token_ = server_.IssueToken(v1::ROLE_MEDIATOR, mediator_);
  }

  // Every event `token` may see after `after` (in the case `case_id`, 0 for all), up to the
  // last one when the call starts.
  std::vector<CaseEvent> ReadToEnd(const std::string& token, int64_t after = 0,
                                   int64_t case_id = 0) {
    v1::StreamCaseEventsRequest r;
    r.set_after_position(after);
    r.set_case_id(case_id);
    r.set_stop_at_end(true);
    auto context = WithToken(token);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    auto reader = server_.events().StreamCaseEvents(context.get(), r);
    std::vector<CaseEvent> out;
    CaseEvent e;
    while (reader->Read(&e)) out.push_back(e);
    const grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  static std::vector<int64_t> Positions(const std::vector<CaseEvent>& events) {
    std::vector<int64_t> out;
    for (const CaseEvent& e : events) out.push_back(e.position());
    return out;
  }

  // Books a 60-minute video session of `kind` (for `party_id` when individual) at the first
  // free slot.
  v1::Session Book(const v1::Case& c, v1::SessionKind kind, int64_t party_id = 0) {
    v1::FindSlotsRequest find;
    find.set_case_id(c.id());
    find.set_kind(kind);
    find.set_party_id(party_id);
    find.set_mode(v1::SESSION_MODE_VIDEO);
    find.set_duration_minutes(60);
    v1::FindSlotsResponse found;
    grpc::Status status =
        server_.scheduling().FindSlots(WithToken(server_.case_support()).get(), find, &found);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_GT(found.slots_size(), 0);
    v1::BookSessionRequest book;
    book.set_case_id(c.id());
    book.set_kind(kind);
    book.set_party_id(party_id);
    book.set_mode(v1::SESSION_MODE_VIDEO);
    book.set_video_link("https://video.example/events");
    book.set_duration_minutes(60);
    *book.mutable_start() = found.slots(0).start();
    v1::BookSessionResponse booked;
    status =
        server_.scheduling().BookSession(WithToken(server_.case_support()).get(), book, &booked);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return booked.session();
  }

  TestServer server_;
  int64_t org_ = 0;
  int64_t other_org_ = 0;
  int64_t mediator_ = 0;
  std::string mediator_token_;
};

TEST_F(EventsTest, EachStateChangeAllocationAndBookingIsAnEventInOrder) {
  const v1::Case c = server_.AllocatedCase(org_, mediator_, mediator_token_);
  const v1::Session joint = Book(c, v1::SESSION_KIND_JOINT_MEETING);

  const std::vector<CaseEvent> events = ReadToEnd(server_.case_support());
  std::vector<std::string> seen;
  for (const CaseEvent& e : events) {
    EXPECT_EQ(e.case_id(), c.id());
    EXPECT_EQ(e.case_reference(), c.reference());
    std::string line = v1::CaseEventKind_Name(e.kind());
    if (e.kind() == v1::CASE_EVENT_KIND_STATE_CHANGED) {
      line += " " + v1::CaseState_Name(e.to_state());
    }
    if (e.kind() == v1::CASE_EVENT_KIND_ALLOCATION_CHANGED) {
      line += " " + v1::AllocationState_Name(e.allocation_state());
    }
    seen.push_back(line);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "CASE_EVENT_KIND_STATE_CHANGED CASE_STATE_REFERRED",
                      "CASE_EVENT_KIND_STATE_CHANGED CASE_STATE_SCREENING",
                      "CASE_EVENT_KIND_STATE_CHANGED CASE_STATE_SUITABLE",
                      "CASE_EVENT_KIND_ALLOCATION_OFFERED",
                      "CASE_EVENT_KIND_ALLOCATION_CHANGED ALLOCATION_STATE_ACCEPTED",
                      "CASE_EVENT_KIND_STATE_CHANGED CASE_STATE_MEDIATORS_ALLOCATED",
                      "CASE_EVENT_KIND_SESSION_BOOKED",
                      "CASE_EVENT_KIND_STATE_CHANGED CASE_STATE_SESSIONS_SCHEDULED",
                  }));
  // Positions strictly increase; the booking carries its session.
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LT(events[i - 1].position(), events[i].position());
  }
  const CaseEvent& booked = events[6];
  EXPECT_EQ(booked.session_id(), joint.id());
  EXPECT_EQ(booked.session_kind(), v1::SESSION_KIND_JOINT_MEETING);
  EXPECT_EQ(booked.session_start().seconds(), joint.start().seconds());
  EXPECT_EQ(events[3].mediator_id(), mediator_);
  EXPECT_EQ(events[3].allocation_role(), v1::ALLOCATION_ROLE_LEAD);
}

TEST_F(EventsTest, AClientThatDisconnectsAndResumesReceivesEveryEventExactlyOnce) {
  for (int i = 0; i < 3; ++i) server_.CreateReferral(org_);

  // A live stream: read two events, then drop the connection mid-stream.
  int64_t last = 0;
  std::vector<int64_t> received;
  {
    v1::StreamCaseEventsRequest r;
    auto context = WithToken(server_.case_support());
    auto reader = server_.events().StreamCaseEvents(context.get(), r);
    CaseEvent e;
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(reader->Read(&e));
      received.push_back(e.position());
      last = e.position();
    }
    context->TryCancel();
    while (reader->Read(&e)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // Things happen while the client is away.
  const v1::Case later = server_.CreateReferral(other_org_);
  server_.MakeSuitable(later);

  // Resume from the last position received, reading live, while more happens.
  v1::StreamCaseEventsRequest r;
  r.set_after_position(last);
  auto context = WithToken(server_.case_support());
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto reader = server_.events().StreamCaseEvents(context.get(), r);
  const v1::Case latest = server_.CreateReferral(org_);
  const std::vector<CaseEvent> all_before = ReadToEnd(server_.case_support());
  const int64_t final_position = all_before.back().position();
  EXPECT_EQ(all_before.back().case_id(), latest.id());
  CaseEvent e;
  while (reader->Read(&e)) {
    received.push_back(e.position());
    if (e.position() == final_position) break;
  }
  context->TryCancel();
  reader->Finish();

  EXPECT_EQ(received, Positions(all_before));
  // 5 referrals, and 2 more state changes for the case made suitable.
  EXPECT_EQ(received.size(), 5u + 2u);
}

TEST_F(EventsTest, AWaitingStreamReceivesANewEventAsItHappens) {
  server_.CreateReferral(org_);
  const int64_t end = ReadToEnd(server_.case_support()).back().position();

  v1::StreamCaseEventsRequest r;
  r.set_after_position(end);
  auto context = WithToken(server_.case_support());
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto reader = server_.events().StreamCaseEvents(context.get(), r);
  auto first = std::async(std::launch::async, [&] {
    CaseEvent e;
    return reader->Read(&e) ? e : CaseEvent();
  });
  // Nothing arrives until something happens.
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  const v1::Case c = server_.CreateReferral(other_org_);
  const CaseEvent e = first.get();
  EXPECT_EQ(e.position(), end + 1);
  EXPECT_EQ(e.case_id(), c.id());
  EXPECT_EQ(e.kind(), v1::CASE_EVENT_KIND_STATE_CHANGED);
  EXPECT_EQ(e.to_state(), v1::CASE_STATE_REFERRED);
  context->TryCancel();
  reader->Finish();
}

TEST_F(EventsTest, AnOrganisationSeesOnlyItsOwnCasesAndNoAllocations) {
  const v1::Case own = server_.AllocatedCase(org_, mediator_, mediator_token_);
  Book(own, v1::SESSION_KIND_INDIVIDUAL_MEETING, own.parties(0).id());
  Book(own, v1::SESSION_KIND_JOINT_MEETING);
  const v1::Case other = server_.CreateReferral(other_org_);

  const std::vector<CaseEvent> events =
      ReadToEnd(server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_));
  std::vector<std::string> kinds;
  for (const CaseEvent& e : events) {
    EXPECT_EQ(e.case_id(), own.id());
    EXPECT_EQ(e.mediator_id(), 0);
    EXPECT_EQ(e.allocation_id(), 0);
    kinds.push_back(v1::CaseEventKind_Name(e.kind()));
  }
  // Five state changes and the joint session only.
  EXPECT_EQ(kinds, (std::vector<std::string>{
                       "CASE_EVENT_KIND_STATE_CHANGED", "CASE_EVENT_KIND_STATE_CHANGED",
                       "CASE_EVENT_KIND_STATE_CHANGED", "CASE_EVENT_KIND_STATE_CHANGED",
                       "CASE_EVENT_KIND_STATE_CHANGED", "CASE_EVENT_KIND_SESSION_BOOKED"}));
  EXPECT_EQ(events.back().session_kind(), v1::SESSION_KIND_JOINT_MEETING);
  // The date only: the start of the session's day in London, no end.
  const absl::Time start = absl::FromUnixSeconds(events.back().session_start().seconds());
  absl::TimeZone london;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/London", &london));
  const absl::CivilSecond local = absl::ToCivilSecond(start, london);
  EXPECT_EQ(local, absl::CivilSecond(absl::CivilDay(local)));
  EXPECT_FALSE(events.back().has_session_end());

  // The other organisation sees its one referral; asking for this one's case is NOT_FOUND.
  const std::string other_token = server_.IssueToken(v1::ROLE_ORGANISATION, 0, other_org_);
  const std::vector<CaseEvent> others = ReadToEnd(other_token);
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0].case_id(), other.id());
  v1::StreamCaseEventsRequest r;
  r.set_case_id(own.id());
  r.set_stop_at_end(true);
  auto context = WithToken(other_token);
  auto reader = server_.events().StreamCaseEvents(context.get(), r);
  CaseEvent e;
  EXPECT_FALSE(reader->Read(&e));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(EventsTest, APartySeesItsOwnAndJointSessionsButNotTheOtherPartysMeeting) {
  const v1::Case c = server_.AllocatedCase(org_, mediator_, mediator_token_);
  const v1::Session mine = Book(c, v1::SESSION_KIND_INDIVIDUAL_MEETING, c.parties(0).id());
  const v1::Session theirs = Book(c, v1::SESSION_KIND_INDIVIDUAL_MEETING, c.parties(1).id());
  const v1::Session joint = Book(c, v1::SESSION_KIND_JOINT_MEETING);
  server_.CreateReferral(org_);  // Another case: never seen by this party.

  const std::string party = server_.IssueToken(v1::ROLE_PARTY, 0, 0, c.id(), c.parties(0).id());
  std::vector<int64_t> sessions;
  for (const CaseEvent& e : ReadToEnd(party)) {
    EXPECT_EQ(e.case_id(), c.id());
    EXPECT_EQ(e.mediator_id(), 0);
    if (e.session_id() != 0) sessions.push_back(e.session_id());
  }
  EXPECT_EQ(sessions, (std::vector<int64_t>{mine.id(), joint.id()}));

  // Every role sees the other party's meeting except this party; a mediator sees its own.
  std::vector<int64_t> all;
  for (const CaseEvent& e : ReadToEnd(mediator_token_, 0, c.id())) {
    if (e.session_id() != 0) all.push_back(e.session_id());
  }
  EXPECT_EQ(all, (std::vector<int64_t>{mine.id(), theirs.id(), joint.id()}));
}

// A session needing rescheduling because of someone's leave is an event for the service and the
// mediators, not for the organisation or the parties.
TEST_F(EventsTest, ASessionNeedingReschedulingIsAnEventOnlyForTheServiceAndTheMediators) {
  const v1::Case c = server_.AllocatedCase(org_, mediator_, mediator_token_);
  const v1::Session joint = Book(c, v1::SESSION_KIND_JOINT_MEETING);
  v1::AddLeaveRequest leave;
  leave.set_mediator_id(mediator_);
  const absl::CivilDay day =
      absl::ToCivilDay(absl::FromUnixSeconds(joint.start().seconds()), absl::UTCTimeZone());
  leave.mutable_leave()->mutable_first_day()->set_year(static_cast<int32_t>(day.year()));
  leave.mutable_leave()->mutable_first_day()->set_month(day.month());
  leave.mutable_leave()->mutable_first_day()->set_day(day.day());
  *leave.mutable_leave()->mutable_last_day() = leave.leave().first_day();
  v1::AddLeaveResponse added;
  ASSERT_TRUE(server_.mediators().AddLeave(WithToken(mediator_token_).get(), leave, &added).ok());
  ASSERT_EQ(added.collisions_size(), 1);

  auto kinds = [&](const std::string& token) {
    int n = 0;
    for (const CaseEvent& e : ReadToEnd(token, 0, c.id())) {
      if (e.kind() == v1::CASE_EVENT_KIND_SESSION_NEEDS_RESCHEDULING) {
        EXPECT_EQ(e.session_id(), joint.id());
        ++n;
      }
    }
    return n;
  };
  EXPECT_EQ(kinds(server_.case_support()), 1);
  EXPECT_EQ(kinds(mediator_token_), 1);
  EXPECT_EQ(kinds(server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_)), 0);
  EXPECT_EQ(kinds(server_.IssueToken(v1::ROLE_PARTY, 0, 0, c.id(), c.parties(0).id())), 0);
}

TEST_F(EventsTest, AMediatorSeesOnlyCasesAllocatedToThem) {
  const int64_t other = server_.RegisterMediator(ValidMediator("Kit Shaw", "kit.shaw@example.org"));
  const std::string other_token = server_.IssueToken(v1::ROLE_MEDIATOR, other);
  const v1::Case mine = server_.AllocatedCase(org_, mediator_, mediator_token_);
  const v1::Case theirs = server_.AllocatedCase(org_, other, other_token);
  server_.CreateReferral(org_);

  for (const CaseEvent& e : ReadToEnd(mediator_token_)) {
    EXPECT_EQ(e.case_id(), mine.id());
    if (e.mediator_id() != 0) {
      EXPECT_EQ(e.mediator_id(), mediator_);
    }
  }
  for (const CaseEvent& e : ReadToEnd(other_token)) EXPECT_EQ(e.case_id(), theirs.id());
  EXPECT_FALSE(ReadToEnd(mediator_token_).empty());
}

TEST_F(EventsTest, AMediatorFollowingLiveSeesACaseOnceItIsOfferedToThem) {
  v1::StreamCaseEventsRequest r;
  auto context = WithToken(mediator_token_);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto reader = server_.events().StreamCaseEvents(context.get(), r);
  const v1::Case c = server_.CreateReferral(org_);  // Not theirs yet: not sent.
  server_.MakeSuitable(c);
  const int64_t allocation = server_.Allocate(c.id(), mediator_, v1::ALLOCATION_ROLE_LEAD);
  // Events sent before the offer depend on when the stream looked; the offer itself arrives.
  CaseEvent e;
  while (reader->Read(&e)) {
    EXPECT_EQ(e.case_id(), c.id());
    if (e.allocation_id() == allocation) break;
  }
  EXPECT_EQ(e.allocation_id(), allocation);
  EXPECT_EQ(e.kind(), v1::CASE_EVENT_KIND_ALLOCATION_OFFERED);
  context->TryCancel();
  reader->Finish();
}

TEST_F(EventsTest, BadRequestsAndUnknownCallersAreRefused) {
  auto code = [&](const std::string& token, const v1::StreamCaseEventsRequest& r) {
    auto context = WithToken(token);
    auto reader = server_.events().StreamCaseEvents(context.get(), r);
    CaseEvent e;
    while (reader->Read(&e)) {
    }
    return reader->Finish();
  };
  v1::StreamCaseEventsRequest negative;
  negative.set_after_position(-1);
  const grpc::Status bad = code(server_.case_support(), negative);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message(), "after_position: must not be negative");
  v1::StreamCaseEventsRequest missing;
  missing.set_case_id(9999);
  EXPECT_EQ(code(server_.case_support(), missing).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(code("", {}).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(code(server_.admin_secret(), {}).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(EventsTest, StoppingTheServerEndsAWaitingStreamWithUnavailable) {
  server_.CreateReferral(org_);
  v1::StreamCaseEventsRequest r;
  r.set_after_position(1);
  auto context = WithToken(server_.case_support());
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = server_.events().StreamCaseEvents(context.get(), r);
  auto finished = std::async(std::launch::async, [&] {
    CaseEvent e;
    while (reader->Read(&e)) {
    }
    return reader->Finish();
  });
  EXPECT_EQ(finished.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  server_.server().Shutdown();
  ASSERT_EQ(finished.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const grpc::Status status = finished.get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(),
            "the server is shutting down; reconnect with after_position set to the last "
            "position received");
}

}  // namespace
}  // namespace mediation
