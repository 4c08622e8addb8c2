// Subject access (AdminService.ExportPersonData) through the real server: a party of two cases
// gets exactly their own data (their details, their own screening answers, the sessions they
// attend, the agreement versions they signed with their own signature) and nothing of the other
// parties'; the export says what it leaves out; it is audited and for administrators only.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;

constexpr int64_t kDay = 86400;
constexpr int64_t kStart = 1803859200 + 8 * 3600;  // Monday 1 March 2027, 08:00 UTC.

class PersonExportTest : public ::testing::Test {
 protected:
  PersonExportTest()
      : now_(std::make_shared<std::atomic<int64_t>>(kStart)),
        server_([now = now_](ServerOptions& o) {
          o.clock = [now] { return absl::FromUnixSeconds(now->load()); };
        }) {}

  void Answer(const v1::Case& c, v1::Criterion criterion, int64_t party, const std::string& note) {
    v1::RecordScreeningAnswerRequest r;
    r.set_case_id(c.id());
    r.set_criterion(criterion);
    r.set_party_id(party);
    r.set_answer(v1::CRITERION_ANSWER_MET);
    r.set_note(note);
    v1::RecordScreeningAnswerResponse out;
    ASSERT_TRUE(server_.screening()
                    .RecordScreeningAnswer(WithToken(server_.case_support()).get(), r, &out)
                    .ok());
  }

  int64_t Book(const v1::Case& c, v1::SessionKind kind, int64_t party, int slot) {
    v1::FindSlotsRequest find;
    find.set_case_id(c.id());
    find.set_kind(kind);
    find.set_party_id(party);
    find.set_mode(v1::SESSION_MODE_VIDEO);
    find.set_duration_minutes(60);
    v1::FindSlotsResponse slots;
    EXPECT_TRUE(
        server_.scheduling().FindSlots(WithToken(server_.case_support()).get(), find, &slots).ok());
    v1::BookSessionRequest book;
    book.set_case_id(c.id());
    book.set_kind(kind);
    book.set_party_id(party);
    book.set_mode(v1::SESSION_MODE_VIDEO);
    book.set_video_link("https://video.example/room");
    *book.mutable_start() = slots.slots(slot).start();
    book.set_duration_minutes(60);
    v1::BookSessionResponse booked;
    const grpc::Status s =
        server_.scheduling().BookSession(WithToken(server_.case_support()).get(), book, &booked);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return booked.session().id();
  }

  v1::ExportPersonDataResponse Export(const std::string& email, grpc::Status* status = nullptr) {
    v1::ExportPersonDataRequest r;
    r.set_email(email);
    v1::ExportPersonDataResponse out;
    const grpc::Status s =
        server_.admin().ExportPersonData(WithToken(server_.admin_secret()).get(), r, &out);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return out;
  }

  std::shared_ptr<std::atomic<int64_t>> now_;
  TestServer server_;
};

TEST_F(PersonExportTest, APartyOfTwoCasesGetsExactlyTheirOwnData) {
  const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
  // Case A: Dr Alex Morgan and Dr Jo Reed, screened with notes about each, allocated.
  v1::CreateReferralRequest a_request = ValidReferral(org);
  a_request.set_summary("Alex and Jo disagree about the rota; Jo says Alex shouts.");
  a_request.mutable_parties(0)->set_accessibility_needs("Alex: a hearing loop");
  v1::CreateReferralResponse a_created;
  ASSERT_TRUE(server_.referrals()
                  .CreateReferral(WithToken(server_.case_support()).get(), a_request, &a_created)
                  .ok());
  const v1::Case a = a_created.case_();
  const int64_t alex = a.parties(0).id(), jo = a.parties(1).id();
  for (v1::Criterion per_party :
       {v1::CRITERION_JOINT_PROBLEM, v1::CRITERION_WILLING, v1::CRITERION_FIT_TO_ATTEND}) {
    Answer(a, per_party, alex, absl::StrCat("About Alex: ", per_party));
    Answer(a, per_party, jo, absl::StrCat("About Jo: ", per_party));
  }
  for (v1::Criterion per_case : {v1::CRITERION_NOT_CONTRACTUAL, v1::CRITERION_NO_FORMAL_PROCESS,
                                 v1::CRITERION_NO_RELATIONSHIP}) {
    Answer(a, per_case, 0, "About the case");
  }
  v1::RecordScreeningDecisionRequest decide;
  decide.set_case_id(a.id());
  v1::RecordScreeningDecisionResponse decided;
  ASSERT_TRUE(
      server_.screening()
          .RecordScreeningDecision(WithToken(server_.senior_adviser()).get(), decide, &decided)
          .ok());
  const int64_t lead = server_.RegisterMediator(ValidMediator("Ana Mediator", "ana@m.example"));
  const int64_t co = server_.RegisterMediator(ValidMediator("Ben Mediator", "ben@m.example"));
  const std::string lead_token = server_.IssueToken(v1::ROLE_MEDIATOR, lead);
  ASSERT_TRUE(
      server_.Respond(lead_token, server_.Allocate(a.id(), lead, v1::ALLOCATION_ROLE_LEAD), true)
          .ok());
  ASSERT_TRUE(server_
                  .Respond(server_.IssueToken(v1::ROLE_MEDIATOR, co),
                           server_.Allocate(a.id(), co, v1::ALLOCATION_ROLE_CO_MEDIATOR), true)
                  .ok());
  // A joint meeting, and an individual meeting with each party.
  const int64_t joint = Book(a, v1::SESSION_KIND_JOINT_MEETING, 0, 0);
  const int64_t alex_meeting = Book(a, v1::SESSION_KIND_INDIVIDUAL_MEETING, alex, 3);
  const int64_t jo_meeting = Book(a, v1::SESSION_KIND_INDIVIDUAL_MEETING, jo, 6);
  // The meetings take place; an agreement both sign.
  now_->store(kStart + 10 * kDay);
  ASSERT_TRUE(server_.server().RunMaintenance().ok());
  v1::DraftAgreementRequest draft;
  draft.set_case_id(a.id());
  v1::AgreementItem* item = draft.mutable_content()->add_items();
  item->set_commitment("We will talk before changing the rota.");
  item->add_party_ids(alex);
  item->add_party_ids(jo);
  v1::DraftAgreementResponse drafted;
  ASSERT_TRUE(
      server_.agreements().DraftAgreement(WithToken(lead_token).get(), draft, &drafted).ok());
  for (const int64_t party : {alex, jo}) {
    v1::SignAgreementRequest sign;
    sign.set_version_id(drafted.version().id());
    sign.set_content_hash(drafted.version().content_hash());
    v1::SignAgreementResponse signed_;
    ASSERT_TRUE(
        server_.agreements()
            .SignAgreement(WithToken(server_.IssueToken(v1::ROLE_PARTY, 0, 0, a.id(), party)).get(),
                           sign, &signed_)
            .ok());
  }
  // Case B: Alex again (the same address, written differently) with Dr Pat Lee.
  v1::CreateReferralRequest b_request = ValidReferral(org);
  b_request.mutable_parties(0)->mutable_contact()->set_email("Alex.Morgan@example.nhs.uk");
  b_request.mutable_parties(1)->mutable_contact()->set_name("Dr Pat Lee");
  b_request.mutable_parties(1)->mutable_contact()->set_email("pat.lee@example.nhs.uk");
  b_request.mutable_parties(1)->set_accessibility_needs("Pat: step-free access");
  v1::CreateReferralResponse b_created;
  ASSERT_TRUE(server_.referrals()
                  .CreateReferral(WithToken(server_.case_support()).get(), b_request, &b_created)
                  .ok());
  const v1::Case b = b_created.case_();

  const v1::ExportPersonDataResponse out = Export("  ALEX.morgan@example.nhs.uk ");
  EXPECT_EQ(out.email(), "alex.morgan@example.nhs.uk");
  ASSERT_EQ(out.as_party_size(), 2);
  const v1::PartyRecordExport& in_a = out.as_party(0);
  EXPECT_EQ(in_a.case_id(), a.id());
  EXPECT_EQ(in_a.case_reference(), a.reference());
  EXPECT_EQ(in_a.case_state(), v1::CASE_STATE_IN_MEDIATION);
  EXPECT_EQ(in_a.party().id(), alex);
  EXPECT_EQ(in_a.party().contact().name(), "Dr Alex Morgan");
  EXPECT_EQ(in_a.party().accessibility_needs(), "Alex: a hearing loop");
  // Their own three answers, the health answer among them, and none about Jo or the case.
  ASSERT_EQ(in_a.screening_answers_size(), 3);
  for (const v1::ScreeningAnswer& answer : in_a.screening_answers()) {
    EXPECT_EQ(answer.party_id(), alex);
    EXPECT_TRUE(absl::StartsWith(answer.note(), "About Alex: ")) << answer.note();
  }
  EXPECT_EQ(in_a.screening_answers(2).criterion(), v1::CRITERION_FIT_TO_ATTEND);
  // The joint meeting and their own individual meeting, not Jo's.
  std::set<int64_t> sessions;
  for (const v1::Session& s : in_a.sessions()) sessions.insert(s.id());
  EXPECT_EQ(sessions, (std::set<int64_t>{joint, alex_meeting}));
  EXPECT_FALSE(sessions.count(jo_meeting));
  // The version they signed, with their own signature only.
  ASSERT_EQ(in_a.signed_agreement_versions_size(), 1);
  const v1::AgreementVersion& v = in_a.signed_agreement_versions(0);
  EXPECT_EQ(v.content().items(0).commitment(), "We will talk before changing the rota.");
  ASSERT_EQ(v.signatures_size(), 1);
  EXPECT_EQ(v.signatures(0).party_id(), alex);
  const v1::PartyRecordExport& in_b = out.as_party(1);
  EXPECT_EQ(in_b.case_id(), b.id());
  EXPECT_EQ(in_b.party().id(), b.parties(0).id());
  EXPECT_EQ(in_b.screening_answers_size(), 0);
  EXPECT_EQ(out.as_referrer_size(), 0);
  EXPECT_FALSE(out.has_as_mediator());
  // The emails written to them (their invitations and reminders), and nobody else's.
  ASSERT_GT(out.messages_size(), 0);
  for (const v1::Notification& m : out.messages()) {
    EXPECT_EQ(m.recipient_email(), "alex.morgan@example.nhs.uk");
    EXPECT_EQ(m.recipient_role(), v1::RECIPIENT_ROLE_PARTY);
  }
  EXPECT_EQ(server_.CountRows("outbox", "recipient_key = 'alex.morgan@example.nhs.uk'"),
            out.messages_size());
  EXPECT_FALSE(out.reminders_off());
  // Nothing of anyone else: not the other parties, their needs or answers, nor the summary.
  const std::string all = out.DebugString();
  for (const char* other : {"Jo Reed", "jo.reed@", "About Jo", "Pat Lee", "pat.lee@", "step-free",
                            "About the case", "Jo says Alex shouts"}) {
    EXPECT_FALSE(absl::StrContains(all, other)) << other;
  }
  // What it leaves out, and why.
  ASSERT_EQ(out.exclusions_size(), 2);
  EXPECT_TRUE(absl::StrContains(out.exclusions(0), "Session notes")) << out.exclusions(0);
  EXPECT_TRUE(absl::StrContains(out.exclusions(0), "Schedule 2, Part 3, paragraph 16"));

  // The referrer's own export: the cases they referred, with their contact details.
  const v1::ExportPersonDataResponse referrer = Export("sam.okafor@example.nhs.uk");
  ASSERT_EQ(referrer.as_referrer_size(), 2);
  EXPECT_EQ(referrer.as_referrer(0).referrer().name(), "Sam Okafor");
  EXPECT_EQ(referrer.as_party_size(), 0);
  EXPECT_FALSE(absl::StrContains(referrer.DebugString(), "Alex"));

  // Audited, naming no one in the trail.
  EXPECT_EQ(server_.CountRows("audit_events",
                              "method = '/ppa.mediation.v1.AdminService/ExportPersonData' AND "
                              "outcome = 'OK'"),
            2);
  EXPECT_EQ(server_.CountRows("audit_events", "objects LIKE '%alex%'"), 0);
  EXPECT_EQ(
      server_.CountRows("audit_events", absl::StrCat("method = '/ppa.mediation.v1.AdminService/"
                                                     "ExportPersonData' AND objects LIKE '%party:",
                                                     alex, " %'")),
      1);
}

TEST_F(PersonExportTest, AnAddressNobodyHasGivesAnEmptyExportAndNonsenseIsRefused) {
  const v1::ExportPersonDataResponse nobody = Export("nobody@example.org");
  EXPECT_EQ(nobody.as_party_size(), 0);
  EXPECT_EQ(nobody.as_referrer_size(), 0);
  EXPECT_EQ(nobody.exclusions_size(), 2);
  grpc::Status status;
  Export("not an address", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "email: ")) << status.error_message();
}

}  // namespace
}  // namespace mediation
