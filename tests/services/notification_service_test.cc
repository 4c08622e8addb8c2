// The outbox through the API, in-process: which change writes which messages to whom (and a
// refused or rolled-back change none), reminders replaced, removed and opted out of, NOT_SENT
// without a mail server, resending, and who may do what. The messages on the wire (SMTP, MIME,
// iTIP) are tested against the server binary in tests/notifications_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/notifications/delivery.h"
#include "storage/outbox.h"
#include "tests/support/faulty_store.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::FaultPlan;
using ::mediation::testing::FaultyStores;
using ::mediation::testing::SqliteFailure;
using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::WithToken;
using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

namespace v1 = ::ppa::mediation::v1;

constexpr int64_t kHour = 3600;
// Monday 1 March 2027, 08:00 UTC.
constexpr int64_t kNow = 1803859200 + 8 * kHour;
constexpr char kCaseSupportMailbox[] = "case.support@ppa.example";

class NotificationServiceTest : public ::testing::Test {
 protected:
  NotificationServiceTest()
      : plan_(std::make_shared<FaultPlan>()), server_([plan = plan_](ServerOptions& o) {
          o.clock = [] { return absl::FromUnixSeconds(kNow); };
          o.store_wrapper = FaultyStores(plan);
          o.notifications.case_support_email = kCaseSupportMailbox;
          o.notifications.public_url = "https://mediation.example";
        }) {}

  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    for (const char* name : {"Ana", "Ben"}) {
      const int64_t id = server_.RegisterMediator(
          ValidMediator(absl::StrCat(name, " Mediator"), absl::StrCat(name, "@mediators.example")));
      mediators_.push_back(id);
      tokens_[id] = server_.IssueToken(v1::ROLE_MEDIATOR, id);
    }
  }

  // Every message, oldest first.
  std::vector<v1::Notification> All(
      int64_t case_id = 0, v1::NotificationState state = v1::NOTIFICATION_STATE_UNSPECIFIED) {
    v1::ListNotificationsRequest r;
    r.set_case_id(case_id);
    r.set_state(state);
    r.set_page_size(500);
    v1::ListNotificationsResponse out;
    grpc::Status s =
        server_.notifications().ListNotifications(WithToken(server_.case_support()).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<v1::Notification> all(out.notifications().rbegin(), out.notifications().rend());
    return all;
  }

  // (kind, recipient email) of the messages after the first `skip`.
  std::vector<std::pair<v1::NotificationKind, std::string>> KindsAndRecipients(
      const std::vector<v1::Notification>& messages, size_t skip = 0) {
    std::vector<std::pair<v1::NotificationKind, std::string>> out;
    for (size_t i = skip; i < messages.size(); ++i) {
      out.emplace_back(messages[i].kind(), messages[i].recipient_email());
    }
    return out;
  }

  // A free joint-meeting slot at least three days ahead, so both reminders are still due.
  int64_t FreeSlot(const v1::Case& c, int64_t not_before) {
    v1::FindSlotsRequest r;
    r.set_case_id(c.id());
    r.set_kind(v1::SESSION_KIND_JOINT_MEETING);
    r.set_mode(v1::SESSION_MODE_VIDEO);
    r.set_duration_minutes(120);
    r.set_max_slots(50);
    v1::FindSlotsResponse out;
    EXPECT_TRUE(
        server_.scheduling().FindSlots(WithToken(server_.case_support()).get(), r, &out).ok());
    for (const v1::Slot& slot : out.slots()) {
      if (slot.start().seconds() >= not_before) return slot.start().seconds();
    }
    ADD_FAILURE() << "no free slot after " << not_before;
    return 0;
  }

  v1::Session Book(const v1::Case& c, int64_t start) {
    v1::BookSessionRequest r;
    r.set_case_id(c.id());
    r.set_kind(v1::SESSION_KIND_JOINT_MEETING);
    r.set_mode(v1::SESSION_MODE_VIDEO);
    r.set_video_link("https://video.example/room/42");
    r.mutable_start()->set_seconds(start);
    r.set_duration_minutes(120);
    v1::BookSessionResponse out;
    grpc::Status s =
        server_.scheduling().BookSession(WithToken(server_.case_support()).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.session();
  }

  v1::Case Allocated() {
    return server_.AllocatedCase(org_, mediators_[0], tokens_[mediators_[0]], mediators_[1],
                                 tokens_[mediators_[1]]);
  }

  // Waits until the delivery worker has marked every due message (no mail server: NOT_SENT).
  void WaitForDelivery() {
    for (int i = 0; i < 200; ++i) {
      bool pending_due = false;
      for (const v1::Notification& n : All(0, v1::NOTIFICATION_STATE_PENDING)) {
        if (n.due_at().seconds() <= kNow) pending_due = true;
      }
      if (!pending_due) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "due messages still PENDING";
  }

  std::shared_ptr<FaultPlan> plan_;
  TestServer server_;
  int64_t org_ = 0;
  std::vector<int64_t> mediators_;
  std::map<int64_t, std::string> tokens_;
};

TEST_F(NotificationServiceTest, AReferralTellsTheOrganisationsContactAndARefusedOneNothing) {
  const v1::Case c = server_.CreateReferral(org_);
  const std::vector<v1::Notification> all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].kind(), v1::NOTIFICATION_KIND_CASE_STATE_CHANGED);
  EXPECT_EQ(all[0].recipient_role(), v1::RECIPIENT_ROLE_ORGANISATION);
  EXPECT_EQ(all[0].recipient_id(), org_);
  EXPECT_EQ(all[0].recipient_email(), "priya.shah@example.nhs.uk");
  EXPECT_EQ(all[0].case_id(), c.id());
  EXPECT_EQ(all[0].case_reference(), c.reference());
  EXPECT_EQ(all[0].subject(),
            absl::StrCat(c.reference(), ": referred (the referral has been received)"));
  EXPECT_THAT(all[0].message_id(), ::testing::MatchesRegex("<[0-9a-f]{32}@localhost>"));

  // Refused by validation: no case, no message.
  v1::CreateReferralRequest bad = testing::ValidReferral(org_);
  bad.mutable_parties(0)->mutable_contact()->set_email("not an address");
  v1::CreateReferralResponse refused;
  EXPECT_EQ(server_.referrals()
                .CreateReferral(WithToken(server_.case_support()).get(), bad, &refused)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Rolled back after the work was done (the commit fails): no case, no message.
  server_.SettleOutbox();
  plan_->FailWrite(1, SqliteFailure(13, "database or disk is full"));
  v1::CreateReferralResponse failed;
  EXPECT_EQ(server_.referrals()
                .CreateReferral(WithToken(server_.case_support()).get(),
                                testing::ValidReferral(org_), &failed)
                .error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(server_.CountRows("cases"), 1);
  EXPECT_EQ(server_.CountRows("outbox"), 1);
}

TEST_F(NotificationServiceTest, WithoutAMailServerDueMessagesAreNotSentAndCanBeSentAgain) {
  server_.CreateReferral(org_);
  WaitForDelivery();
  std::vector<v1::Notification> all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state(), v1::NOTIFICATION_STATE_NOT_SENT);
  EXPECT_EQ(all[0].last_response(), "not sent: no mail server configured");
  EXPECT_EQ(all[0].attempts(), 0);
  EXPECT_EQ(all[0].last_attempt_at().seconds(), kNow);

  v1::ResendNotificationRequest r;
  r.set_notification_id(all[0].id());
  v1::ResendNotificationResponse out;
  ASSERT_TRUE(server_.notifications()
                  .ResendNotification(WithToken(server_.admin_secret()).get(), r, &out)
                  .ok());
  EXPECT_EQ(out.notification().state(), v1::NOTIFICATION_STATE_PENDING);
  EXPECT_EQ(out.notification().message_id(), all[0].message_id());
  EXPECT_EQ(out.notification().last_response(), "resent");
  WaitForDelivery();
  EXPECT_EQ(All()[0].state(), v1::NOTIFICATION_STATE_NOT_SENT);

  // Refusals, and nothing changed by them.
  r.set_notification_id(999);
  EXPECT_EQ(server_.notifications()
                .ResendNotification(WithToken(server_.admin_secret()).get(), r, &out)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  r.set_notification_id(0);
  grpc::Status invalid =
      server_.notifications().ResendNotification(WithToken(server_.admin_secret()).get(), r, &out);
  EXPECT_EQ(invalid.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(invalid.error_message(), ::testing::StartsWith("notification_id"));
  v1::GetNotificationRequest get;
  get.set_notification_id(all[0].id());
  v1::GetNotificationResponse got;
  ASSERT_TRUE(server_.notifications()
                  .GetNotification(WithToken(server_.case_support()).get(), get, &got)
                  .ok());
  EXPECT_EQ(got.notification().subject(), all[0].subject());
  // Its plain text as written, through an audited read.
  EXPECT_THAT(got.notification().text(),
              ::testing::StartsWith("Dear Priya Shah,\n\nAssisted mediation case AM-"));
  EXPECT_THAT(got.notification().text(),
              ::testing::HasSubstr("referred by Northshire Hospitals NHS Trust"));
  EXPECT_EQ(server_.CountRows("audit_events",
                              "method = '/ppa.mediation.v1.NotificationService/GetNotification'"),
            1);
  // Lists never carry it.
  for (const v1::Notification& n : All()) EXPECT_EQ(n.text(), "");
}

TEST_F(NotificationServiceTest, OffersAnswersSessionsRemindersAndTheirChanges) {
  const v1::Case c = Allocated();
  std::vector<v1::Notification> all = All(c.id());
  const std::string ana = "ana@mediators.example";
  const std::string ben = "ben@mediators.example";
  const std::string party1 = c.parties(0).contact().email();
  const std::string party2 = c.parties(1).contact().email();
  const std::string org = "priya.shah@example.nhs.uk";
  // Referred, screened, suitable: the organisation hears each state; each mediator its offer,
  // case support each answer; allocated.
  using K = v1::NotificationKind;
  const std::vector<std::pair<K, std::string>> expected_before_booking = {
      {v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, org},
      {v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, org},
      {v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, org},
      {v1::NOTIFICATION_KIND_ALLOCATION_OFFER, ana},
      {v1::NOTIFICATION_KIND_ALLOCATION_ANSWER, kCaseSupportMailbox},
      {v1::NOTIFICATION_KIND_ALLOCATION_OFFER, ben},
      {v1::NOTIFICATION_KIND_ALLOCATION_ANSWER, kCaseSupportMailbox},
      {v1::NOTIFICATION_KIND_CASE_STATE_CHANGED, org},
  };
  EXPECT_EQ(KindsAndRecipients(all), expected_before_booking);
  const size_t before = all.size();

  // Booking: an invitation to each of the four attending, the case's state, and two reminders
  // each, due 48 and 2 hours before.
  const int64_t start = FreeSlot(c, kNow + 72 * kHour);
  const v1::Session s = Book(c, start);
  all = All(c.id());
  std::vector<std::pair<K, std::string>> invitations, reminders, states;
  std::multiset<int64_t> reminder_due;
  for (size_t i = before; i < all.size(); ++i) {
    const auto entry = std::pair{all[i].kind(), all[i].recipient_email()};
    if (all[i].kind() == v1::NOTIFICATION_KIND_SESSION_INVITATION) invitations.push_back(entry);
    if (all[i].kind() == v1::NOTIFICATION_KIND_SESSION_REMINDER) {
      reminders.push_back(entry);
      reminder_due.insert(all[i].due_at().seconds());
      EXPECT_EQ(all[i].state(), v1::NOTIFICATION_STATE_PENDING);
      EXPECT_EQ(all[i].session_id(), s.id());
    }
    if (all[i].kind() == v1::NOTIFICATION_KIND_CASE_STATE_CHANGED) states.push_back(entry);
  }
  EXPECT_THAT(invitations,
              UnorderedElementsAre(Pair(v1::NOTIFICATION_KIND_SESSION_INVITATION, ana),
                                   Pair(v1::NOTIFICATION_KIND_SESSION_INVITATION, ben),
                                   Pair(v1::NOTIFICATION_KIND_SESSION_INVITATION, party1),
                                   Pair(v1::NOTIFICATION_KIND_SESSION_INVITATION, party2)));
  EXPECT_EQ(reminders.size(), 8u);
  EXPECT_EQ(reminder_due.count(start - 48 * kHour), 4u);
  EXPECT_EQ(reminder_due.count(start - 2 * kHour), 4u);
  EXPECT_EQ(states.size(), 1u);  // SESSIONS_SCHEDULED.

  // Rescheduling: an update to each, the old reminders replaced by new ones.
  const int64_t later = FreeSlot(c, start + 24 * kHour);
  v1::RescheduleSessionRequest move;
  move.set_session_id(s.id());
  move.mutable_start()->set_seconds(later);
  move.set_reason("CANARY-RESCHEDULE-REASON");
  v1::RescheduleSessionResponse moved;
  ASSERT_TRUE(server_.scheduling()
                  .RescheduleSession(WithToken(server_.case_support()).get(), move, &moved)
                  .ok());
  all = All(c.id());
  int updates = 0;
  std::multiset<int64_t> due_now;
  for (const v1::Notification& n : all) {
    if (n.kind() == v1::NOTIFICATION_KIND_SESSION_UPDATE) ++updates;
    if (n.kind() == v1::NOTIFICATION_KIND_SESSION_REMINDER) due_now.insert(n.due_at().seconds());
    EXPECT_EQ(n.subject().find("CANARY"), std::string::npos);
  }
  EXPECT_EQ(updates, 4);
  EXPECT_EQ(due_now.size(), 8u);
  EXPECT_EQ(due_now.count(later - 48 * kHour), 4u);
  EXPECT_EQ(due_now.count(later - 2 * kHour), 4u);

  // A party opts out: its pending reminders go, and GetReminderPreference says so.
  const std::string party_token =
      server_.IssueToken(v1::ROLE_PARTY, 0, 0, c.id(), c.parties(0).id());
  v1::SetReminderPreferenceRequest off;
  off.set_reminders(false);
  v1::SetReminderPreferenceResponse opted;
  ASSERT_TRUE(server_.notifications()
                  .SetReminderPreference(WithToken(party_token).get(), off, &opted)
                  .ok());
  EXPECT_EQ(opted.removed_reminders(), 2);
  v1::GetReminderPreferenceResponse pref;
  ASSERT_TRUE(
      server_.notifications().GetReminderPreference(WithToken(party_token).get(), {}, &pref).ok());
  EXPECT_FALSE(pref.reminders());
  // Case support sees the same preference by the party's address, whatever its case.
  v1::GetReminderPreferenceRequest by_email;
  by_email.set_email(absl::AsciiStrToUpper(party1));
  ASSERT_TRUE(server_.notifications()
                  .GetReminderPreference(WithToken(server_.case_support()).get(), by_email, &pref)
                  .ok());
  EXPECT_FALSE(pref.reminders());
  // A party may not set someone else's.
  off.set_email(party2);
  EXPECT_EQ(server_.notifications()
                .SetReminderPreference(WithToken(party_token).get(), off, &opted)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Cancelling: a cancellation to each, every pending reminder of the session removed.
  v1::CancelSessionRequest cancel;
  cancel.set_session_id(s.id());
  cancel.set_reason("CANARY-CANCEL-REASON");
  v1::CancelSessionResponse cancelled;
  ASSERT_TRUE(server_.scheduling()
                  .CancelSession(WithToken(server_.case_support()).get(), cancel, &cancelled)
                  .ok());
  all = All(c.id());
  int cancellations = 0;
  int pending_reminders = 0;
  for (const v1::Notification& n : all) {
    if (n.kind() == v1::NOTIFICATION_KIND_SESSION_CANCELLATION) ++cancellations;
    if (n.kind() == v1::NOTIFICATION_KIND_SESSION_REMINDER) ++pending_reminders;
  }
  EXPECT_EQ(cancellations, 4);
  EXPECT_EQ(pending_reminders, 0);

  // A new booking: no reminders for the party who opted out.
  const v1::Session again = Book(c, FreeSlot(c, kNow + 72 * kHour));
  int to_party1 = 0, to_party2 = 0;
  for (const v1::Notification& n : All(c.id())) {
    if (n.kind() != v1::NOTIFICATION_KIND_SESSION_REMINDER || n.session_id() != again.id())
      continue;
    if (n.recipient_email() == party1) ++to_party1;
    if (n.recipient_email() == party2) ++to_party2;
  }
  EXPECT_EQ(to_party1, 0);
  EXPECT_EQ(to_party2, 2);
}

TEST_F(NotificationServiceTest, SignInLinksAndAgreementVersionsGoToTheParties) {
  const v1::Case c = Allocated();
  const size_t before = All(c.id()).size();
  v1::IssuePartySignInLinkRequest link;
  link.set_case_id(c.id());
  link.set_party_id(c.parties(1).id());
  v1::IssuePartySignInLinkResponse issued;
  ASSERT_TRUE(server_.cases()
                  .IssuePartySignInLink(WithToken(server_.case_support()).get(), link, &issued)
                  .ok());
  std::vector<v1::Notification> all = All(c.id());
  ASSERT_EQ(all.size(), before + 1);
  EXPECT_EQ(all.back().kind(), v1::NOTIFICATION_KIND_PARTY_SIGN_IN_LINK);
  EXPECT_EQ(all.back().recipient_email(), c.parties(1).contact().email());
  EXPECT_EQ(all.back().recipient_id(), c.parties(1).id());
  // The code is in the sealed message, never in what an administrator reads.
  EXPECT_EQ(all.back().subject().find(issued.code()), std::string::npos);
  // Sealed while it waits; erased once tried (here: not sent, for want of a mail server).
  const std::vector<std::vector<std::string>> raw =
      server_.QueryRows(absl::StrCat("SELECT message FROM outbox WHERE id = ", all.back().id()));
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0][0].find(issued.code()), std::string::npos);
  EXPECT_EQ(raw[0][0].find("Dear"), std::string::npos);
  WaitForDelivery();
  EXPECT_EQ(server_.CountRows("outbox", absl::StrCat("id = ", all.back().id(),
                                                     " AND state = 'NOTIFICATION_STATE_NOT_SENT'"
                                                     " AND length(message) = 0")),
            1);
  // Nobody but the party reads its code: its text is gone once tried.
  v1::GetNotificationRequest get;
  get.set_notification_id(all.back().id());
  v1::GetNotificationResponse got;
  ASSERT_TRUE(server_.notifications()
                  .GetNotification(WithToken(server_.case_support()).get(), get, &got)
                  .ok());
  EXPECT_EQ(got.notification().text(), "");
  // And it is never sent again: a new link is issued instead.
  v1::ResendNotificationRequest resend;
  resend.set_notification_id(all.back().id());
  v1::ResendNotificationResponse resent;
  const grpc::Status refused = server_.notifications().ResendNotification(
      WithToken(server_.case_support()).get(), resend, &resent);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), ::testing::HasSubstr("issue the party a new link"));

  // A new agreement version: one message to each party.
  v1::DraftAgreementRequest draft;
  draft.set_case_id(c.id());
  v1::AgreementItem* item = draft.mutable_content()->add_items();
  item->set_commitment("CANARY-AGREEMENT-TEXT");
  item->add_party_ids(c.parties(0).id());
  v1::DraftAgreementResponse drafted;
  // Agreements are drafted once sessions are scheduled.
  Book(c, FreeSlot(c, kNow + 72 * kHour));
  const size_t before_draft = All(c.id()).size();
  ASSERT_TRUE(server_.agreements()
                  .DraftAgreement(WithToken(tokens_[mediators_[0]]).get(), draft, &drafted)
                  .ok());
  all = All(c.id());
  EXPECT_THAT(
      KindsAndRecipients(all, before_draft),
      ElementsAre(Pair(v1::NOTIFICATION_KIND_AGREEMENT_READY, c.parties(0).contact().email()),
                  Pair(v1::NOTIFICATION_KIND_AGREEMENT_READY, c.parties(1).contact().email())));
  EXPECT_EQ(all.back().subject(),
            absl::StrCat(c.reference(), ": agreement version 1 ready to read"));
}

TEST_F(NotificationServiceTest, ListsFilterByStateAndCaseAndPage) {
  const v1::Case first = server_.CreateReferral(org_);
  const v1::Case second = server_.CreateReferral(org_);
  EXPECT_EQ(All(first.id()).size(), 1u);
  EXPECT_EQ(All(second.id()).size(), 1u);
  v1::ListNotificationsRequest r;
  r.set_page_size(1);
  v1::ListNotificationsResponse page1, page2;
  ASSERT_TRUE(server_.notifications()
                  .ListNotifications(WithToken(server_.case_support()).get(), r, &page1)
                  .ok());
  ASSERT_EQ(page1.notifications_size(), 1);
  EXPECT_EQ(page1.notifications(0).case_id(), second.id());  // Newest first.
  ASSERT_FALSE(page1.next_page_token().empty());
  r.set_page_token(page1.next_page_token());
  ASSERT_TRUE(server_.notifications()
                  .ListNotifications(WithToken(server_.case_support()).get(), r, &page2)
                  .ok());
  ASSERT_EQ(page2.notifications_size(), 1);
  EXPECT_EQ(page2.notifications(0).case_id(), first.id());
  EXPECT_TRUE(page2.next_page_token().empty());
  v1::ListNotificationsRequest unknown;
  unknown.set_case_id(999);
  EXPECT_EQ(server_.notifications()
                .ListNotifications(WithToken(server_.case_support()).get(), unknown, &page1)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListNotificationsRequest bad_state;
  bad_state.set_state(static_cast<v1::NotificationState>(42));
  EXPECT_EQ(server_.notifications()
                .ListNotifications(WithToken(server_.case_support()).get(), bad_state, &page1)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(RetryDelayTest, DoublesAfterEachTryWithJitterUpToTheCap) {
  const notifications::DeliverySettings s{.retry_base = absl::Seconds(30),
                                          .retry_max = absl::Hours(1)};
  EXPECT_EQ(notifications::RetryDelay(s, 1, 0), absl::Seconds(30));
  EXPECT_EQ(notifications::RetryDelay(s, 2, 0), absl::Seconds(60));
  EXPECT_EQ(notifications::RetryDelay(s, 3, 0), absl::Seconds(120));
  EXPECT_EQ(notifications::RetryDelay(s, 1, 0.5), absl::Seconds(22.5));
  EXPECT_EQ(notifications::RetryDelay(s, 8, 0), absl::Hours(1));
  EXPECT_EQ(notifications::RetryDelay(s, 1000, 0.5), absl::Minutes(45));
}

}  // namespace
}  // namespace mediation
