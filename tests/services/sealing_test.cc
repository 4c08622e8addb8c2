// Confidential text at rest, through the real server and real files: a canary written into every
// sealed field is found nowhere in the database, its write-ahead log or an online backup (as
// UTF-8, UTF-16 or base64) and still reads back through the API; a sealed value copied into
// another row or column does not open, and is reported as unreadable while the rest of the answer
// stands; a database written by the schema-8 server (tests/fixtures/schema-v8) is sealed at
// start-up, with no plain text left in its file or log.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/sealed_text.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TempDir;
using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
// Monday 1 March 2027, 08:00 UTC.
constexpr int64_t kStart = 1803859200 + 8 * kHour;

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Where `canary` shows in `bytes`, in any of the forms a careless copy could take: as it is, as
// UTF-16 either way round, or base64 at any alignment. Empty when nowhere.
std::string FoundForm(const std::string& bytes, const std::string& canary) {
  if (absl::StrContains(bytes, canary)) return "UTF-8";
  std::string le, be;
  for (char c : canary) {
    le += c;
    le += '\0';
    be += '\0';
    be += c;
  }
  if (absl::StrContains(bytes, le)) return "UTF-16LE";
  if (absl::StrContains(bytes, be)) return "UTF-16BE";
  for (size_t skip = 0; skip < 3; ++skip) {
    std::string encoded = absl::Base64Escape(canary.substr(skip));
    encoded.resize(encoded.size() / 4 * 4 - 4);  // Whole groups only: the last may mix.
    if (absl::StrContains(bytes, encoded)) return "base64";
  }
  return "";
}

class SealingTest : public ::testing::Test {
 protected:
  SealingTest()
      : now_(std::make_shared<std::atomic<int64_t>>(kStart)),
        server_([now = now_](ServerOptions& o) {
          o.clock = [now] { return absl::FromUnixSeconds(now->load()); };
        }) {}

  std::string Canary(const std::string& field) {
    std::string c = absl::StrCat("CANARY-", field, "-7q3");
    canaries_.push_back(c);
    return c;
  }

  // Every canary absent from the database, its log and `extra` (a backup's bytes).
  void ExpectNoCanary(const std::string& where, const std::string& bytes) {
    ASSERT_GT(bytes.size(), 4096u) << where;
    for (const std::string& c : canaries_) {
      EXPECT_EQ(FoundForm(bytes, c), "") << c << " is in " << where;
    }
  }

  std::shared_ptr<std::atomic<int64_t>> now_;
  TestServer server_;
  std::vector<std::string> canaries_;
};

// The disk reader the canary tests rely on finds text that only the write-ahead log still holds:
// written, overwritten, and (PostgreSQL) the table rewritten without the old row version.
TEST_F(SealingTest, TheDiskReaderFindsTextOnlyTheWriteAheadLogStillHolds) {
  const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
  for (const char* name : {"CANARY-visible-5k2", "Northshire Hospitals NHS Trust"}) {
    ASSERT_EQ(server_.Tamper(
                  absl::StrCat("UPDATE organisations SET name = '", name, "' WHERE id = ", org)),
              1);
  }
  if (server_.on_postgres()) server_.Tamper("VACUUM FULL organisations");
  EXPECT_TRUE(absl::StrContains(server_.DiskBytes(), "CANARY-visible-5k2"));
}

TEST_F(SealingTest, ACanaryInEveryConfidentialFieldIsInNoFileButReadsBack) {
  const std::string desk = server_.case_support();
  const std::string adviser = server_.senior_adviser();
  const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");

  // The referral: summary, a party's needs and availability; then a revision with its reason.
  v1::CreateReferralRequest create = ValidReferral(org);
  create.set_summary(Canary("summary"));
  create.mutable_parties(0)->set_accessibility_needs(Canary("needs"));
  create.mutable_parties(0)->set_typical_availability(Canary("availability"));
  v1::CreateReferralResponse created;
  ASSERT_TRUE(server_.referrals().CreateReferral(WithToken(desk).get(), create, &created).ok());
  const v1::Case c = created.case_();
  v1::UpdateReferralRequest update;
  update.set_case_id(c.id());
  update.set_expected_revision(c.revision());
  *update.mutable_referrer() = c.referrer();
  update.set_summary(Canary("summary-revised"));
  update.set_concern_level(c.concern_level());
  update.set_concern_type(c.concern_type());
  *update.mutable_parties() = c.parties();
  update.set_reason(Canary("revision-reason"));
  v1::UpdateReferralResponse updated;
  ASSERT_TRUE(server_.referrals().UpdateReferral(WithToken(desk).get(), update, &updated).ok());

  // Screening notes (the health answer among them), then an override with its justification.
  for (int criterion = v1::CRITERION_JOINT_PROBLEM; criterion <= v1::CRITERION_FIT_TO_ATTEND;
       ++criterion) {
    const bool per_party = criterion == v1::CRITERION_JOINT_PROBLEM ||
                           criterion == v1::CRITERION_WILLING ||
                           criterion == v1::CRITERION_FIT_TO_ATTEND;
    for (int i = 0; i < (per_party ? 2 : 1); ++i) {
      v1::RecordScreeningAnswerRequest a;
      a.set_case_id(c.id());
      a.set_criterion(static_cast<v1::Criterion>(criterion));
      if (per_party) a.set_party_id(c.parties(i).id());
      a.set_answer(criterion == v1::CRITERION_NOT_CONTRACTUAL ? v1::CRITERION_ANSWER_UNKNOWN
                                                              : v1::CRITERION_ANSWER_MET);
      a.set_note(Canary(absl::StrCat("screening-", criterion, "-", i)));
      v1::RecordScreeningAnswerResponse out;
      ASSERT_TRUE(server_.screening().RecordScreeningAnswer(WithToken(desk).get(), a, &out).ok());
    }
  }
  v1::RecordScreeningDecisionRequest decide;
  decide.set_case_id(c.id());
  decide.set_override_decision(v1::SUITABILITY_SUITABLE);
  decide.set_justification(Canary("justification") + " after speaking to both parties");
  v1::RecordScreeningDecisionResponse decided;
  ASSERT_TRUE(
      server_.screening().RecordScreeningDecision(WithToken(adviser).get(), decide, &decided).ok())
      << decided.DebugString();

  // A hold and a resume, each with its reason.
  v1::HoldCaseRequest hold;
  hold.set_case_id(c.id());
  hold.set_reason(Canary("hold"));
  v1::HoldCaseResponse held;
  ASSERT_TRUE(server_.cases().HoldCase(WithToken(desk).get(), hold, &held).ok());
  v1::ResumeCaseRequest resume;
  resume.set_case_id(c.id());
  resume.set_reason(Canary("resume"));
  v1::ResumeCaseResponse resumed;
  ASSERT_TRUE(server_.cases().ResumeCase(WithToken(desk).get(), resume, &resumed).ok());

  // Mediators: a leave note and a declared conflict's note; a decline's note.
  std::vector<int64_t> m;
  std::vector<std::string> tokens;
  for (const char* name : {"Ana", "Ben", "Cai"}) {
    m.push_back(server_.RegisterMediator(
        ValidMediator(absl::StrCat(name, " Mediator"), absl::StrCat(name, "@mediators.example"))));
    tokens.push_back(server_.IssueToken(v1::ROLE_MEDIATOR, m.back()));
  }
  v1::AddLeaveRequest leave;
  leave.set_mediator_id(m[2]);
  leave.mutable_leave()->mutable_first_day()->set_year(2027);
  leave.mutable_leave()->mutable_first_day()->set_month(6);
  leave.mutable_leave()->mutable_first_day()->set_day(1);
  *leave.mutable_leave()->mutable_last_day() = leave.leave().first_day();
  leave.mutable_leave()->set_note(Canary("leave"));
  v1::AddLeaveResponse left;
  ASSERT_TRUE(server_.mediators().AddLeave(WithToken(tokens[2]).get(), leave, &left).ok());
  v1::DeclareConflictRequest conflict;
  conflict.set_mediator_id(m[2]);
  conflict.mutable_conflict()->set_kind(v1::CONFLICT_KIND_PERSON);
  conflict.mutable_conflict()->set_person_name("Dr Someone Else");
  conflict.mutable_conflict()->set_note(Canary("conflict"));
  v1::DeclareConflictResponse declared;
  ASSERT_TRUE(
      server_.mediators().DeclareConflict(WithToken(tokens[2]).get(), conflict, &declared).ok());
  const int64_t offered = server_.Allocate(c.id(), m[2], v1::ALLOCATION_ROLE_LEAD);
  v1::RespondToAllocationRequest decline;
  decline.set_allocation_id(offered);
  decline.set_decline_reason(v1::DECLINE_REASON_UNAVAILABLE);
  decline.set_note(Canary("decline"));
  v1::RespondToAllocationResponse declined;
  ASSERT_TRUE(server_.allocation()
                  .RespondToAllocation(WithToken(tokens[2]).get(), decline, &declined)
                  .ok());
  ASSERT_TRUE(
      server_.Respond(tokens[0], server_.Allocate(c.id(), m[0], v1::ALLOCATION_ROLE_LEAD), true)
          .ok());
  ASSERT_TRUE(
      server_
          .Respond(tokens[1], server_.Allocate(c.id(), m[1], v1::ALLOCATION_ROLE_CO_MEDIATOR), true)
          .ok());

  // Two sessions: one rescheduled, one cancelled, each with its reason.
  v1::FindSlotsRequest find;
  find.set_case_id(c.id());
  find.set_kind(v1::SESSION_KIND_JOINT_MEETING);
  find.set_mode(v1::SESSION_MODE_VIDEO);
  find.set_duration_minutes(60);
  v1::FindSlotsResponse slots;
  ASSERT_TRUE(server_.scheduling().FindSlots(WithToken(desk).get(), find, &slots).ok());
  ASSERT_GE(slots.slots_size(), 4);
  std::vector<int64_t> sessions;
  for (int i : {0, 3}) {
    v1::BookSessionRequest book;
    book.set_case_id(c.id());
    book.set_kind(v1::SESSION_KIND_JOINT_MEETING);
    book.set_mode(v1::SESSION_MODE_VIDEO);
    book.set_video_link("https://video.example/room");
    *book.mutable_start() = slots.slots(i).start();
    book.set_duration_minutes(60);
    v1::BookSessionResponse booked;
    ASSERT_TRUE(server_.scheduling().BookSession(WithToken(desk).get(), book, &booked).ok());
    sessions.push_back(booked.session().id());
  }
  v1::RescheduleSessionRequest move;
  move.set_session_id(sessions[0]);
  *move.mutable_start() = slots.slots(1).start();
  move.set_reason(Canary("reschedule"));
  v1::RescheduleSessionResponse moved;
  const grpc::Status rescheduled =
      server_.scheduling().RescheduleSession(WithToken(desk).get(), move, &moved);
  ASSERT_TRUE(rescheduled.ok()) << rescheduled.error_message() << "\n" << slots.DebugString();
  v1::CancelSessionRequest cancel;
  cancel.set_session_id(sessions[1]);
  cancel.set_reason(Canary("cancel"));
  v1::CancelSessionResponse cancelled;
  ASSERT_TRUE(server_.scheduling().CancelSession(WithToken(desk).get(), cancel, &cancelled).ok());

  // The session starts: notes, an agreement both parties sign, the outcome and the review.
  now_->store(kStart + 7 * kDay);
  ASSERT_TRUE(server_.server().RunMaintenance().ok());
  ASSERT_EQ(server_.StateOf(c.id()), v1::CASE_STATE_IN_MEDIATION);
  v1::AddNoteRequest note;
  note.set_case_id(c.id());
  note.set_visibility(v1::NOTE_VISIBILITY_SHARED);
  note.set_text(Canary("note"));
  v1::AddNoteResponse noted;
  ASSERT_TRUE(server_.notes().AddNote(WithToken(tokens[0]).get(), note, &noted).ok());
  v1::DraftAgreementRequest draft;
  draft.set_case_id(c.id());
  v1::AgreementItem* item = draft.mutable_content()->add_items();
  item->set_commitment(Canary("commitment"));
  item->add_party_ids(c.parties(0).id());
  item->add_party_ids(c.parties(1).id());
  draft.mutable_content()->set_free_text(Canary("agreement-text"));
  v1::DraftAgreementResponse drafted;
  ASSERT_TRUE(
      server_.agreements().DraftAgreement(WithToken(tokens[0]).get(), draft, &drafted).ok());
  for (int i = 0; i < 2; ++i) {
    v1::SignAgreementRequest sign;
    sign.set_version_id(drafted.version().id());
    sign.set_content_hash(drafted.version().content_hash());
    sign.set_consent_to_share(true);
    v1::SignAgreementResponse signed_;
    const std::string party = server_.IssueToken(v1::ROLE_PARTY, 0, 0, c.id(), c.parties(i).id());
    ASSERT_TRUE(server_.agreements().SignAgreement(WithToken(party).get(), sign, &signed_).ok());
  }
  v1::RecordOutcomeRequest outcome;
  outcome.set_case_id(c.id());
  outcome.set_outcome(v1::OUTCOME_FULL_AGREEMENT);
  v1::RecordOutcomeResponse recorded;
  ASSERT_TRUE(
      server_.agreements().RecordOutcome(WithToken(tokens[0]).get(), outcome, &recorded).ok());
  v1::ScheduleFollowUpRequest follow;
  follow.set_case_id(c.id());
  v1::ScheduleFollowUpResponse scheduled;
  ASSERT_TRUE(
      server_.agreements().ScheduleFollowUp(WithToken(desk).get(), follow, &scheduled).ok());
  v1::RecordFollowUpReviewRequest review;
  review.set_case_id(c.id());
  review.set_notes(Canary("review"));
  v1::RecordFollowUpReviewResponse reviewed;
  ASSERT_TRUE(
      server_.agreements().RecordFollowUpReview(WithToken(desk).get(), review, &reviewed).ok());

  // A second case, withdrawn with its reason.
  const v1::Case other = server_.CreateReferral(org);
  v1::WithdrawCaseRequest withdraw;
  withdraw.set_case_id(other.id());
  withdraw.set_withdrawn_by(v1::WITHDRAWN_BY_PARTY);
  withdraw.set_reason(Canary("withdrawal"));
  v1::WithdrawCaseResponse withdrawn;
  ASSERT_TRUE(server_.cases().WithdrawCase(WithToken(desk).get(), withdraw, &withdrawn).ok());

  // Not in the database, its log or (SQLite) an online backup.
  ExpectNoCanary("the database and its log", server_.DiskBytes());
  if (!server_.on_postgres()) {
    v1::BackupDatabaseRequest backup;
    backup.set_label("canaries");
    v1::BackupDatabaseResponse backed_up;
    ASSERT_TRUE(server_.admin()
                    .BackupDatabase(WithToken(server_.admin_secret()).get(), backup, &backed_up)
                    .ok());
    ExpectNoCanary("the backup", FileBytes(backed_up.path()));
  }

  // Yet each reads back through the API, to those who may see it.
  v1::GetCaseRequest get;
  get.set_case_id(other.id());
  v1::GetCaseResponse got;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(desk).get(), get, &got).ok());
  EXPECT_EQ(got.case_().withdrawal_reason(), canaries_.back());
  get.set_case_id(c.id());
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(desk).get(), get, &got).ok());
  EXPECT_EQ(got.case_().summary(), update.summary());
  EXPECT_EQ(got.case_().parties(0).accessibility_needs(), create.parties(0).accessibility_needs());
  EXPECT_EQ(got.case_().withheld_size(), 0);
  v1::ListScreeningAnswersRequest answers;
  answers.set_case_id(c.id());
  v1::ListScreeningAnswersResponse listed;
  ASSERT_TRUE(
      server_.screening().ListScreeningAnswers(WithToken(desk).get(), answers, &listed).ok());
  ASSERT_EQ(listed.answers_size(), 9);
  for (const v1::ScreeningAnswer& a : listed.answers()) {
    EXPECT_TRUE(absl::StartsWith(a.note(), "CANARY-screening-")) << a.DebugString();
  }
  v1::GetCaseHistoryRequest history;
  history.set_case_id(c.id());
  v1::GetCaseHistoryResponse entries;
  ASSERT_TRUE(server_.cases().GetCaseHistory(WithToken(desk).get(), history, &entries).ok());
  std::string reasons;
  for (const v1::CaseHistoryEntry& e : entries.entries()) {
    absl::StrAppend(&reasons, e.state_change().reason(), "|", e.referral_revision().reason(), "|",
                    e.allocation_change().note(), "\n");
  }
  for (const char* field :
       {"CANARY-hold-", "CANARY-resume-", "CANARY-revision-reason-", "CANARY-decline-"}) {
    EXPECT_TRUE(absl::StrContains(reasons, field)) << field << " not in\n" << reasons;
  }
  v1::GetOutcomeRequest get_outcome;
  get_outcome.set_case_id(c.id());
  v1::GetOutcomeResponse outcome_now;
  ASSERT_TRUE(
      server_.agreements().GetOutcome(WithToken(desk).get(), get_outcome, &outcome_now).ok());
  EXPECT_EQ(outcome_now.review_notes(), review.notes());
  EXPECT_EQ(outcome_now.shared_agreement().content().free_text(), draft.content().free_text());
  v1::GetMediatorRequest mediator;
  mediator.set_mediator_id(m[2]);
  v1::GetMediatorResponse profile;
  ASSERT_TRUE(server_.mediators().GetMediator(WithToken(tokens[2]).get(), mediator, &profile).ok());
  EXPECT_EQ(profile.mediator().leave(0).note(), leave.leave().note());
  EXPECT_EQ(profile.mediator().conflicts(0).note(), conflict.conflict().note());
  v1::GetSessionRequest session;
  session.set_session_id(sessions[1]);
  v1::GetSessionResponse cancelled_session;
  ASSERT_TRUE(
      server_.scheduling().GetSession(WithToken(desk).get(), session, &cancelled_session).ok());
  EXPECT_EQ(cancelled_session.session().changes(1).reason(), cancel.reason());
}

TEST_F(SealingTest, ASealedValueCopiedToAnotherRowOrColumnDoesNotOpen) {
  const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
  const v1::Case c = server_.CreateReferral(org);
  server_.AnswerAll(c, v1::CRITERION_ANSWER_UNKNOWN);  // Every answer with a note.
  // The summary's ciphertext into the hold reason of the same case, and one answer's note into
  // another answer of the same case.
  ASSERT_EQ(server_.Tamper("UPDATE cases SET hold_reason = summary"), 1);
  const int64_t from = server_.QueryInt64("SELECT MIN(id) FROM screening_answers");
  const int64_t to = server_.QueryInt64("SELECT MAX(id) FROM screening_answers");
  ASSERT_EQ(server_.Tamper(absl::StrCat("UPDATE screening_answers SET note = (SELECT note FROM "
                                        "screening_answers WHERE id = ",
                                        from, ") WHERE id = ", to)),
            1);
  v1::GetCaseRequest get;
  get.set_case_id(c.id());
  v1::GetCaseResponse got;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(server_.case_support()).get(), get, &got).ok());
  EXPECT_EQ(got.case_().summary(), c.summary());  // The original still opens.
  EXPECT_EQ(got.case_().hold_reason(), "");
  ASSERT_EQ(got.case_().withheld_size(), 1);
  EXPECT_EQ(got.case_().withheld(0).field(), "hold_reason");
  EXPECT_EQ(got.case_().withheld(0).reason(), v1::WITHHELD_REASON_UNREADABLE);

  v1::ListScreeningAnswersRequest answers;
  answers.set_case_id(c.id());
  v1::ListScreeningAnswersResponse listed;
  ASSERT_TRUE(server_.screening()
                  .ListScreeningAnswers(WithToken(server_.case_support()).get(), answers, &listed)
                  .ok());
  int unreadable = 0;
  for (const v1::ScreeningAnswer& a : listed.answers()) {
    if (a.withheld_size() == 0) {
      EXPECT_FALSE(a.note().empty());
      continue;
    }
    ++unreadable;
    EXPECT_EQ(a.note(), "");
    EXPECT_EQ(a.withheld(0).field(), "note");
    EXPECT_EQ(a.withheld(0).reason(), v1::WITHHELD_REASON_UNREADABLE);
  }
  EXPECT_EQ(unreadable, 1);
  EXPECT_EQ(listed.answers_size(), 9);
}

// Plain text written into a sealed column behind the server's back (after start-up sealing) is
// not shown as if it were the real text.
TEST_F(SealingTest, PlainTextWrittenIntoASealedColumnReadsAsUnreadable) {
  const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
  const v1::Case c = server_.CreateReferral(org);
  // Text where the engine keeps bytes: SQLite stores it as TEXT, PostgreSQL as its bytes.
  ASSERT_EQ(server_.Tamper(absl::StrCat("UPDATE cases SET summary = 'All resolved, close it' WHERE "
                                        "id = ",
                                        c.id())),
            1);
  v1::GetCaseRequest get;
  get.set_case_id(c.id());
  v1::GetCaseResponse got;
  ASSERT_TRUE(server_.referrals().GetCase(WithToken(server_.case_support()).get(), get, &got).ok());
  EXPECT_EQ(got.case_().summary(), "");
  ASSERT_EQ(got.case_().withheld_size(), 1);
  EXPECT_EQ(got.case_().withheld(0).field(), "summary");
  EXPECT_EQ(got.case_().withheld(0).reason(), v1::WITHHELD_REASON_UNREADABLE);
}

TEST(SealingUpgradeTest, ADatabaseWrittenByTheSchema8ServerIsSealedAtStart) {
  MEDIATION_SQLITE_ONLY("the fixture is a SQLite file written by the schema 8 server");
  TempDir dir;
  const std::filesystem::path fixture =
      std::filesystem::path(MEDIATION_SOURCE_DIR) / "tests/fixtures/schema-v8";
  for (const char* file : {"mediation.db", "master.key", "admin.token"}) {
    std::filesystem::copy_file(fixture / file, dir.File(file));
    ::chmod(dir.File(file).c_str(), 0600);
  }
  const std::string before = FileBytes(dir.File("mediation.db"));
  // The fixture's canaries (tests/fixtures/make-schema-v8-fixture.sh) are there in plain text.
  const std::vector<std::string> canaries = {
      "CANARY-summary-1",       "CANARY-summary-2",         "CANARY-summary-revised",
      "CANARY-needs-1",         "CANARY-availability-1",    "CANARY-revision-reason",
      "CANARY-screening-",      "CANARY-justification",     "CANARY-hold-reason",
      "CANARY-resume-reason",   "CANARY-withdrawal-reason", "CANARY-leave-note",
      "CANARY-decline-note",    "CANARY-cancel-reason",     "CANARY-reschedule-reason",
      "CANARY-agreement-draft", "CANARY-agreement-final"};
  for (const std::string& c : canaries) ASSERT_TRUE(absl::StrContains(before, c)) << c;

  std::FILE* log = std::fopen(dir.File("server.log").c_str(), "w");
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.db_path = dir.File("mediation.db");
  o.workers = 2;
  o.log_stream = log;
  absl::StatusOr<std::unique_ptr<MediationServer>> server = MediationServer::Start(o);
  ASSERT_TRUE(server.ok()) << server.status();
  // No plain text left in the file (free pages included) or the log, not even the first
  // version of a revised summary.
  std::string disk;
  for (const char* suffix : {"", "-wal", "-shm"})
    disk += FileBytes(dir.File("mediation.db") + suffix);
  for (const std::string& c : canaries) EXPECT_EQ(FoundForm(disk, c), "") << c;

  // The data reads back: the revised summary, the final agreement (its hash unchanged), the
  // notes written before, and the audit trail still verifies.
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                     grpc::InsecureChannelCredentials());
  auto admin_stub = v1::AdminService::NewStub(channel);
  const std::string admin = FileBytes(dir.File("admin.token"));
  const std::string admin_secret = std::string(absl::StripAsciiWhitespace(admin));
  v1::VerifyAuditChainRequest verify;
  v1::VerifyAuditChainResponse verified;
  ASSERT_TRUE(admin_stub->VerifyAuditChain(WithToken(admin_secret).get(), verify, &verified).ok());
  EXPECT_TRUE(verified.intact());
  v1::IssueTokenRequest issue;
  issue.set_role(v1::ROLE_CASE_SUPPORT);
  issue.set_label("after the upgrade");
  v1::IssueTokenResponse desk;
  ASSERT_TRUE(admin_stub->IssueToken(WithToken(admin_secret).get(), issue, &desk).ok());
  issue.set_role(v1::ROLE_MEDIATOR);
  issue.set_mediator_id(1);
  v1::IssueTokenResponse lead;
  ASSERT_TRUE(admin_stub->IssueToken(WithToken(admin_secret).get(), issue, &lead).ok());
  auto referrals = v1::ReferralService::NewStub(channel);
  v1::GetCaseRequest get;
  get.set_case_id(1);
  v1::GetCaseResponse got;
  ASSERT_TRUE(referrals->GetCase(WithToken(desk.secret()).get(), get, &got).ok());
  EXPECT_EQ(got.case_().summary(), "CANARY-summary-revised two consultants");
  EXPECT_EQ(got.case_().parties(0).accessibility_needs(), "CANARY-needs-1");
  auto agreements = v1::AgreementService::NewStub(channel);
  v1::GetAgreementRequest agreement;
  agreement.set_case_id(1);
  v1::GetAgreementResponse versions;
  ASSERT_TRUE(agreements->GetAgreement(WithToken(lead.secret()).get(), agreement, &versions).ok());
  ASSERT_EQ(versions.versions_size(), 2);
  EXPECT_TRUE(versions.versions(1).final());
  EXPECT_EQ(versions.versions(1).content().items(0).commitment(), "CANARY-agreement-final");
  EXPECT_EQ(versions.versions(1).withheld_size(), 0);
  auto notes = v1::NotesService::NewStub(channel);
  v1::ListNotesRequest list;
  list.set_case_id(1);
  v1::ListNotesResponse listed;
  ASSERT_TRUE(notes->ListNotes(WithToken(lead.secret()).get(), list, &listed).ok());
  ASSERT_EQ(listed.notes_size(), 1);
  EXPECT_EQ(listed.notes(0).text(), "CANARY-note-text");
  server->reset();
  std::fclose(log);
  const std::string first_log = FileBytes(dir.File("server.log"));
  EXPECT_TRUE(absl::StrContains(first_log,
                                "confidential text(s) stored in plain text by an "
                                "earlier version; the write-ahead log was truncated"))
      << first_log;
  // A second start has nothing left to seal.
  log = std::fopen(dir.File("server2.log").c_str(), "w");
  o.log_stream = log;
  server = MediationServer::Start(o);
  ASSERT_TRUE(server.ok()) << server.status();
  server->reset();
  std::fclose(log);
  EXPECT_FALSE(absl::StrContains(FileBytes(dir.File("server2.log")), "sealed "));
  EXPECT_FALSE(absl::StrContains(FileBytes(dir.File("server2.log")), "identity keys computed"));

  // Schema version 10's identity keys were computed at the first start: every party has its
  // folded email, its bookings hold the person, and the conflicts and mediators their keys.
  EXPECT_TRUE(absl::StrContains(first_log, "identity keys computed for ")) << first_log;
  SQLite::Database db(dir.File("mediation.db"), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM parties WHERE identity_version <> 1 OR "
                          "person_key <> lower(trim(email))")
                .getInt(),
            0);
  EXPECT_GT(db.execAndGet("SELECT COUNT(*) FROM parties").getInt(), 0);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM bookings b JOIN parties p ON p.id = b.resource_id "
                          "WHERE b.resource = 'party' AND b.holder <> 'person:' || p.person_key")
                .getInt(),
            0);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM bookings WHERE holder = ''").getInt(), 0);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM mediators WHERE identity_version <> 1").getInt(),
            0);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM mediator_conflicts WHERE identity_version <> 1 "
                          "OR (kind = 'CONFLICT_KIND_PERSON' AND surname_key = '' AND "
                          "email_key = '')")
                .getInt(),
            0);
}

}  // namespace
}  // namespace mediation
