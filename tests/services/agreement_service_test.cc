// Agreements and outcomes through the real server, on a clock the test moves: drafting,
// signing by hash (stale versions, double signing), finality, the organisation's view with and
// without consent, and the outcome, follow-up and closure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

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

constexpr int64_t kMonday = 1803859200;  // 2027-03-01 00:00 UTC.
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

class AgreementServiceTest : public ::testing::Test {
 protected:
  AgreementServiceTest()
      : now_(std::make_shared<std::atomic<int64_t>>(kMonday + 8 * kHour)),
        server_([now = now_](ServerOptions& o) {
          o.clock = [now] { return absl::FromUnixSeconds(now->load()); };
        }) {}

  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    lead_ = server_.RegisterMediator(ValidMediator("Lead Mediator", "lead@mediators.example"));
    lead_token_ = server_.IssueToken(v1::ROLE_MEDIATOR, lead_);
    case_ = server_.AllocatedCase(org_, lead_, lead_token_);
    // A joint session on Wednesday; by Thursday it has happened: IN_MEDIATION.
    v1::BookSessionRequest book;
    book.set_case_id(case_.id());
    book.set_kind(v1::SESSION_KIND_JOINT_MEETING);
    book.set_mode(v1::SESSION_MODE_VIDEO);
    book.set_video_link("https://video.example/joint");
    book.mutable_start()->set_seconds(kMonday + 2 * kDay + 9 * kHour);
    book.set_duration_minutes(180);
    v1::BookSessionResponse booked;
    ASSERT_TRUE(server_.scheduling()
                    .BookSession(WithToken(server_.case_support()).get(), book, &booked)
                    .ok());
    now_->store(kMonday + 3 * kDay + 9 * kHour);
    ASSERT_TRUE(server_.server().RunMaintenance().ok());
    ASSERT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_IN_MEDIATION);
    alex_ = server_.IssueToken(v1::ROLE_PARTY, 0, 0, case_.id(), case_.parties(0).id());
    jo_ = server_.IssueToken(v1::ROLE_PARTY, 0, 0, case_.id(), case_.parties(1).id());
  }

  v1::AgreementVersion Draft(const std::string& words) {
    v1::DraftAgreementRequest r;
    r.set_case_id(case_.id());
    v1::AgreementItem* item = r.mutable_content()->add_items();
    item->set_commitment(words);
    item->add_party_ids(case_.parties(0).id());
    item->add_party_ids(case_.parties(1).id());
    r.mutable_content()->set_free_text("If it is not working, we will ask for a review.");
    v1::DraftAgreementResponse out;
    grpc::Status s = server_.agreements().DraftAgreement(WithToken(lead_token_).get(), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.version();
  }

  grpc::Status Sign(const std::string& token, const v1::AgreementVersion& v, bool consent,
                    int64_t party_id = 0, v1::AgreementVersion* out = nullptr,
                    const std::string& hash = "") {
    v1::SignAgreementRequest r;
    r.set_version_id(v.id());
    r.set_content_hash(hash.empty() ? v.content_hash() : hash);
    r.set_consent_to_share(consent);
    r.set_party_id(party_id);
    v1::SignAgreementResponse response;
    grpc::Status s = server_.agreements().SignAgreement(WithToken(token).get(), r, &response);
    if (out != nullptr) *out = response.version();
    return s;
  }

  std::shared_ptr<std::atomic<int64_t>> now_;
  TestServer server_;
  int64_t org_ = 0;
  int64_t lead_ = 0;
  std::string lead_token_, alex_, jo_;
  v1::Case case_;
};

TEST_F(AgreementServiceTest, EveryPartySigningMakesTheVersionFinalAndUnchangeable) {
  const v1::AgreementVersion v1_ = Draft("We will speak first, then email.");
  EXPECT_EQ(v1_.version(), 1);
  EXPECT_EQ(v1_.content_hash().size(), 64u);
  v1::AgreementVersion after;
  ASSERT_TRUE(Sign(alex_, v1_, true, 0, &after).ok());
  EXPECT_FALSE(after.final());
  // Jo signed on paper; the mediator records it.
  ASSERT_TRUE(Sign(lead_token_, v1_, true, case_.parties(1).id(), &after).ok());
  EXPECT_TRUE(after.final());
  ASSERT_EQ(after.signatures_size(), 2);
  EXPECT_TRUE(after.signatures(1).on_paper());

  // Nothing changes a final version: signing again, or writing to it behind the server's back.
  grpc::Status again = Sign(jo_, v1_, false);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(again.error_message(), "is final"));
  EXPECT_THAT(server_.TamperRefused(absl::StrCat("UPDATE agreement_versions SET content = ",
                                                 server_.BytesLiteral("x"), " WHERE version = 1")),
              HasSubstr("agreement version is final"));
  EXPECT_THAT(server_.TamperRefused("DELETE FROM agreement_signatures"),
              HasSubstr("agreement version is final"));
  EXPECT_THAT(server_.TamperRefused(absl::StrCat(
                  "INSERT INTO agreement_signatures (version_id, party_id, content_hash, "
                  "signed_at, on_paper, consent_to_share) VALUES (",
                  v1_.id(), ", ", case_.parties(0).id(), ", 'x', 0, 0, 0)")),
              HasSubstr("agreement version is final"));
  EXPECT_EQ(server_.CountRows("agreement_signatures"), 2);
  // A change is a new version, needing new signatures.
  const v1::AgreementVersion v2 = Draft("We will speak first, then email, within two days.");
  EXPECT_EQ(v2.version(), 2);
  EXPECT_NE(v2.content_hash(), v1_.content_hash());
  EXPECT_FALSE(v2.final());
  EXPECT_EQ(v2.signatures_size(), 0);
}

TEST_F(AgreementServiceTest, AStaleVersionAWrongHashOrASecondSignatureIsRefused) {
  const v1::AgreementVersion first = Draft("First wording.");
  const v1::AgreementVersion second = Draft("Second wording.");
  grpc::Status stale = Sign(alex_, first, true);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(stale.error_message(),
            "version 1 is not the latest (version 2 is); read it and sign that one");
  grpc::Status wrong = Sign(alex_, second, true, 0, nullptr, first.content_hash());
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(Sign(alex_, second, true).ok());
  EXPECT_EQ(Sign(alex_, second, true).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  // A party signs only for itself.
  EXPECT_EQ(Sign(alex_, second, true, case_.parties(1).id()).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server_.CountRows("agreement_signatures"), 1);
}

TEST_F(AgreementServiceTest, ADraftMadeOnAStaleReadIsAbortedAndSavesNothing) {
  const v1::AgreementVersion first = Draft("We will speak first, then email.");
  v1::DraftAgreementRequest r;
  r.set_case_id(case_.id());
  v1::AgreementItem* item = r.mutable_content()->add_items();
  item->set_commitment("We will speak first, by phone.");
  item->add_party_ids(case_.parties(0).id());
  r.set_expected_latest_version(0);  // Read before version 1 was saved.
  v1::DraftAgreementResponse out;
  grpc::Status s = server_.agreements().DraftAgreement(WithToken(lead_token_).get(), r, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(s.error_message(),
            "version 1 of the agreement was saved since you read it (before any version); nothing "
            "is saved: read version 1 and draft from it");
  EXPECT_EQ(server_.CountRows("agreement_versions"), 1);

  r.set_expected_latest_version(first.version());
  ASSERT_TRUE(server_.agreements().DraftAgreement(WithToken(lead_token_).get(), r, &out).ok());
  EXPECT_EQ(out.version().version(), 2);
}

TEST_F(AgreementServiceTest, TheOrganisationSeesTheAgreementOnlyWhenEveryPartyConsented) {
  const std::string org = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  const v1::AgreementVersion v = Draft("We will meet monthly.");
  ASSERT_TRUE(Sign(alex_, v, true).ok());
  ASSERT_TRUE(Sign(jo_, v, false).ok());  // Final, but Jo does not consent.
  v1::GetAgreementRequest get;
  get.set_case_id(case_.id());
  v1::GetAgreementResponse seen;
  // Not shared yet: a state of the agreement, not something the role may never do.
  grpc::Status refused = server_.agreements().GetAgreement(WithToken(org).get(), get, &seen);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(seen.versions_size(), 0);
  EXPECT_EQ(server_.agreements()
                .GetAgreement(WithToken(server_.case_support()).get(), get, &seen)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::GetOutcomeRequest ask;
  ask.set_case_id(case_.id());
  v1::GetOutcomeResponse answer;
  ASSERT_TRUE(server_.agreements().GetOutcome(WithToken(org).get(), ask, &answer).ok());
  EXPECT_FALSE(answer.has_shared_agreement());
  EXPECT_FALSE(absl::StrContains(answer.SerializeAsString(), "monthly"));

  // A new version after the final one, which both consent to share: the organisation may read
  // it, and the outcome names it.
  const v1::AgreementVersion shared = Draft("We will meet monthly, and review in June.");
  ASSERT_TRUE(Sign(alex_, shared, true).ok());
  ASSERT_TRUE(Sign(jo_, shared, true).ok());
  ASSERT_TRUE(server_.agreements().GetAgreement(WithToken(org).get(), get, &seen).ok());
  ASSERT_EQ(seen.versions_size(), 1);
  EXPECT_EQ(seen.versions(0).version(), 2);
  v1::RecordOutcomeRequest outcome;
  outcome.set_case_id(case_.id());
  outcome.set_outcome(v1::OUTCOME_FULL_AGREEMENT);
  v1::RecordOutcomeResponse recorded;
  ASSERT_TRUE(
      server_.agreements().RecordOutcome(WithToken(lead_token_).get(), outcome, &recorded).ok());
  ASSERT_TRUE(server_.agreements().GetOutcome(WithToken(org).get(), ask, &answer).ok());
  EXPECT_EQ(answer.outcome(), v1::OUTCOME_FULL_AGREEMENT);
  EXPECT_TRUE(answer.has_outcome_recorded_at());
  EXPECT_EQ(answer.shared_agreement().content().items(0).commitment(),
            "We will meet monthly, and review in June.");
}

TEST_F(AgreementServiceTest, OnceTheOutcomeIsRecordedTheAgreementIsFrozen) {
  const v1::AgreementVersion v = Draft("We will meet monthly.");
  ASSERT_TRUE(Sign(alex_, v, true).ok());
  v1::RecordOutcomeRequest outcome;
  outcome.set_case_id(case_.id());
  outcome.set_outcome(v1::OUTCOME_NO_AGREEMENT);
  v1::RecordOutcomeResponse recorded;
  ASSERT_TRUE(
      server_.agreements().RecordOutcome(WithToken(lead_token_).get(), outcome, &recorded).ok());
  const int64_t versions = server_.CountRows("agreement_versions");
  const int64_t signatures = server_.CountRows("agreement_signatures");
  v1::DraftAgreementRequest draft;
  draft.set_case_id(case_.id());
  v1::AgreementItem* item = draft.mutable_content()->add_items();
  item->set_commitment("Too late.");
  item->add_party_ids(case_.parties(0).id());
  v1::DraftAgreementResponse drafted;
  grpc::Status s =
      server_.agreements().DraftAgreement(WithToken(lead_token_).get(), draft, &drafted);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("case ", case_.id(),
                         " is CASE_STATE_OUTCOME_RECORDED: its outcome is recorded, so its "
                         "agreement is frozen: no version can be drafted now"));
  s = Sign(jo_, v, true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "no version can be signed now"))
      << s.error_message();
  EXPECT_EQ(server_.CountRows("agreement_versions"), versions);
  EXPECT_EQ(server_.CountRows("agreement_signatures"), signatures);
}

TEST_F(AgreementServiceTest, OutcomeThenFollowUpThenClosed) {
  v1::RecordOutcomeRequest outcome;
  outcome.set_case_id(case_.id());
  outcome.set_outcome(v1::OUTCOME_PARTIAL_AGREEMENT);
  v1::RecordOutcomeResponse recorded;
  // An agreement outcome needs an agreement every party signed.
  const grpc::Status early =
      server_.agreements().RecordOutcome(WithToken(lead_token_).get(), outcome, &recorded);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(
      early.error_message(),
      absl::StrCat("case ", case_.id(),
                   " has no agreement signed by every party; record OUTCOME_PARTIAL_AGREEMENT "
                   "once the parties have signed, or record NO_AGREEMENT or "
                   "ENDED_BY_MEDIATOR"));
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_IN_MEDIATION);
  const v1::AgreementVersion agreed = Draft("We will meet monthly.");
  ASSERT_TRUE(Sign(alex_, agreed, false).ok());
  ASSERT_TRUE(Sign(jo_, agreed, false).ok());
  ASSERT_TRUE(
      server_.agreements().RecordOutcome(WithToken(lead_token_).get(), outcome, &recorded).ok());
  EXPECT_EQ(recorded.state(), v1::CASE_STATE_OUTCOME_RECORDED);
  // The outcome is recorded once.
  EXPECT_EQ(server_.agreements()
                .RecordOutcome(WithToken(lead_token_).get(), outcome, &recorded)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // No review is recorded before one is scheduled.
  v1::RecordFollowUpReviewRequest premature;
  premature.set_case_id(case_.id());
  v1::RecordFollowUpReviewResponse not_yet;
  EXPECT_EQ(server_.agreements()
                .RecordFollowUpReview(WithToken(lead_token_).get(), premature, &not_yet)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(server_.StateOf(case_.id()), v1::CASE_STATE_OUTCOME_RECORDED);

  v1::ScheduleFollowUpRequest follow;
  follow.set_case_id(case_.id());
  v1::ScheduleFollowUpResponse scheduled;
  ASSERT_TRUE(server_.agreements()
                  .ScheduleFollowUp(WithToken(server_.case_support()).get(), follow, &scheduled)
                  .ok());
  EXPECT_EQ(scheduled.state(), v1::CASE_STATE_FOLLOW_UP);
  // 91 days after Thursday 4 March 2027.
  EXPECT_EQ(scheduled.review_date().year(), 2027);
  EXPECT_EQ(scheduled.review_date().month(), 6);
  EXPECT_EQ(scheduled.review_date().day(), 3);

  v1::RecordFollowUpReviewRequest review;
  review.set_case_id(case_.id());
  v1::RecordFollowUpReviewResponse reviewed;
  ASSERT_TRUE(server_.agreements()
                  .RecordFollowUpReview(WithToken(lead_token_).get(), review, &reviewed)
                  .ok());
  EXPECT_EQ(reviewed.state(), v1::CASE_STATE_CLOSED);

  const std::string org = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
  v1::GetOutcomeRequest ask;
  ask.set_case_id(case_.id());
  v1::GetOutcomeResponse answer;
  ASSERT_TRUE(server_.agreements().GetOutcome(WithToken(org).get(), ask, &answer).ok());
  EXPECT_EQ(answer.outcome(), v1::OUTCOME_PARTIAL_AGREEMENT);
  EXPECT_EQ(answer.review_date().month(), 6);
  EXPECT_TRUE(answer.has_reviewed_at());
  // The parties did not consent to share: the organisation gets the outcome, not the text.
  EXPECT_FALSE(answer.has_shared_agreement());

  // Once the case is closed nothing more is signed.
  const grpc::Status late = Sign(alex_, agreed, true);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(AgreementServiceTest, NothingIsSignedOnAHeldOrWithdrawnCase) {
  const v1::AgreementVersion draft = Draft("We will speak first.");
  v1::HoldCaseRequest hold;
  hold.set_case_id(case_.id());
  hold.set_reason("Formal process started");
  v1::HoldCaseResponse held;
  ASSERT_TRUE(server_.cases().HoldCase(WithToken(server_.case_support()).get(), hold, &held).ok());
  const grpc::Status on_hold = Sign(alex_, draft, true);
  EXPECT_EQ(on_hold.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(on_hold.error_message(),
            absl::StrCat("case ", case_.id(),
                         " is CASE_STATE_ON_HOLD; agreements are signed once sessions are booked, "
                         "and not while the case is on hold or after it is finished"));

  v1::WithdrawCaseRequest withdraw;
  withdraw.set_case_id(case_.id());
  withdraw.set_withdrawn_by(v1::WITHDRAWN_BY_PARTY);
  withdraw.set_reason("The party left the trust");
  v1::WithdrawCaseResponse withdrawn;
  ASSERT_TRUE(server_.cases()
                  .WithdrawCase(WithToken(server_.case_support()).get(), withdraw, &withdrawn)
                  .ok());
  EXPECT_EQ(Sign(jo_, draft, true).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(server_.CountRows("agreement_signatures"), 0);
}

TEST_F(AgreementServiceTest, AVersionAlteredInTheDatabaseIsWithheldAndCannotBeSigned) {
  const v1::AgreementVersion draft = Draft("We will speak first.");
  ASSERT_EQ(server_.Tamper(absl::StrCat("UPDATE agreement_versions SET content = ",
                                        server_.BytesLiteral("altered"))),
            1);
  // The case's versions still answer, this one marked unreadable, its text not shown.
  v1::GetAgreementRequest get;
  get.set_case_id(case_.id());
  v1::GetAgreementResponse out;
  ASSERT_TRUE(server_.agreements().GetAgreement(WithToken(alex_).get(), get, &out).ok());
  ASSERT_EQ(out.versions_size(), 1);
  EXPECT_FALSE(out.versions(0).has_content());
  ASSERT_EQ(out.versions(0).withheld_size(), 1);
  EXPECT_EQ(out.versions(0).withheld(0).field(), "content");
  EXPECT_EQ(out.versions(0).withheld(0).reason(), v1::WITHHELD_REASON_UNREADABLE);
  // That version alone, to sign it: DATA_LOSS, and nothing is signed.
  const grpc::Status s = Sign(alex_, draft, true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(s.error_message(),
            absl::StrCat("agreement version ", draft.id(),
                         " does not match its content hash or does not open: it was altered in "
                         "the database; restore it from a backup"));
  EXPECT_EQ(server_.CountRows("agreement_signatures"), 0);
}

// A closed case comes back for another review: the outcome stands, the same mediator holds it
// again, and the notes destroyed when it closed stay destroyed (new ones get a new key).
TEST_F(AgreementServiceTest, AClosedCaseReopensToFollowUpWithoutItsDestroyedNotes) {
  v1::AddNoteRequest note;
  note.set_case_id(case_.id());
  note.set_visibility(v1::NOTE_VISIBILITY_PRIVATE);
  note.set_text("Both agreed to a weekly check-in.");
  v1::AddNoteResponse noted;
  ASSERT_TRUE(server_.notes().AddNote(WithToken(lead_token_).get(), note, &noted).ok());
  v1::RecordOutcomeRequest outcome;
  outcome.set_case_id(case_.id());
  outcome.set_outcome(v1::OUTCOME_NO_AGREEMENT);
  v1::RecordOutcomeResponse recorded;
  ASSERT_TRUE(
      server_.agreements().RecordOutcome(WithToken(lead_token_).get(), outcome, &recorded).ok());
  v1::ScheduleFollowUpRequest follow;
  follow.set_case_id(case_.id());
  v1::ScheduleFollowUpResponse scheduled;
  ASSERT_TRUE(server_.agreements()
                  .ScheduleFollowUp(WithToken(server_.case_support()).get(), follow, &scheduled)
                  .ok());
  v1::RecordFollowUpReviewRequest review;
  review.set_case_id(case_.id());
  v1::RecordFollowUpReviewResponse reviewed;
  ASSERT_TRUE(server_.agreements()
                  .RecordFollowUpReview(WithToken(lead_token_).get(), review, &reviewed)
                  .ok());
  ASSERT_EQ(reviewed.state(), v1::CASE_STATE_CLOSED);
  ASSERT_TRUE(server_.server().RunMaintenance().ok());  // Notes go at once (retention 0).
  ASSERT_EQ(server_.CountRows("notes", "sealed IS NULL"), 1);
  EXPECT_EQ(
      server_.CountRows("allocations", absl::StrCat("mediator_id = ", lead_, " AND open = 1")), 0);

  v1::ReopenCaseRequest reopen;
  reopen.set_case_id(case_.id());
  reopen.set_reason("The check-ins stopped; the trust asked for a second review.");
  v1::ReopenCaseResponse reopened;
  grpc::Status s =
      server_.cases().ReopenCase(WithToken(server_.case_support()).get(), reopen, &reopened);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reopened.state(), v1::CASE_STATE_FOLLOW_UP);
  EXPECT_EQ(reopened.reopened_from(), v1::CASE_STATE_CLOSED);
  // The earlier review is kept in the history; the next one is scheduled afresh.
  v1::GetCaseHistoryRequest history;
  history.set_case_id(case_.id());
  v1::GetCaseHistoryResponse h;
  ASSERT_TRUE(
      server_.cases().GetCaseHistory(WithToken(server_.case_support()).get(), history, &h).ok());
  EXPECT_EQ(h.entries(h.entries_size() - 1).state_change().reason(),
            "reopened: The check-ins stopped; the trust asked for a second review. (the earlier "
            "follow-up review was recorded on 2027-03-04)");
  v1::GetOutcomeRequest before;
  before.set_case_id(case_.id());
  v1::GetOutcomeResponse cleared;
  ASSERT_TRUE(server_.agreements()
                  .GetOutcome(WithToken(server_.case_support()).get(), before, &cleared)
                  .ok());
  EXPECT_FALSE(cleared.has_reviewed_at());
  EXPECT_FALSE(cleared.has_review_date());
  v1::ScheduleFollowUpRequest again;
  again.set_case_id(case_.id());
  v1::ScheduleFollowUpResponse rescheduled;
  ASSERT_TRUE(server_.agreements()
                  .ScheduleFollowUp(WithToken(server_.case_support()).get(), again, &rescheduled)
                  .ok());
  EXPECT_EQ(rescheduled.state(), v1::CASE_STATE_FOLLOW_UP);
  EXPECT_TRUE(rescheduled.has_review_date());
  EXPECT_EQ(
      server_.CountRows("allocations", absl::StrCat("mediator_id = ", lead_, " AND open = 1")), 1);
  // The old note is still destroyed; a new one is written and read back.
  v1::GetNoteRequest get;
  get.set_note_id(noted.note().id());
  v1::GetNoteResponse old_note;
  ASSERT_TRUE(server_.notes().GetNote(WithToken(lead_token_).get(), get, &old_note).ok());
  EXPECT_TRUE(old_note.note().destroyed());
  EXPECT_EQ(old_note.note().text(), "");
  note.set_text("Second review booked.");
  ASSERT_TRUE(server_.notes().AddNote(WithToken(lead_token_).get(), note, &noted).ok());
  get.set_note_id(noted.note().id());
  v1::GetNoteResponse new_note;
  ASSERT_TRUE(server_.notes().GetNote(WithToken(lead_token_).get(), get, &new_note).ok());
  EXPECT_EQ(new_note.note().text(), "Second review booked.");
  // The outcome stands.
  v1::GetOutcomeRequest ask;
  ask.set_case_id(case_.id());
  v1::GetOutcomeResponse answer;
  ASSERT_TRUE(
      server_.agreements().GetOutcome(WithToken(server_.case_support()).get(), ask, &answer).ok());
  EXPECT_EQ(answer.outcome(), v1::OUTCOME_NO_AGREEMENT);
}

}  // namespace
}  // namespace mediation
