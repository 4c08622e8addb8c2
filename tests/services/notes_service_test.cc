// Confidential notes through the real server: who may read them, that their text never reaches
// the disk, that a moved ciphertext does not decrypt, and that retention destroys them.
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

constexpr char kCanary[] = "CANARY-7f3b1c: Dr Reed said the rota was deliberately unfair";

class NotesServiceTest : public ::testing::Test {
 protected:
  explicit NotesServiceTest(absl::Duration retention = absl::ZeroDuration())
      : now_(std::make_shared<std::atomic<int64_t>>(absl::ToUnixSeconds(absl::Now()))),
        server_([now = now_, retention](ServerOptions& o) {
          o.clock = [now] { return absl::FromUnixSeconds(now->load()); };
          o.settings.note_retention = retention;
        }) {}

  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    for (const char* name : {"Lead", "Co", "Other", "Offered"}) {
      const int64_t id = server_.RegisterMediator(
          ValidMediator(absl::StrCat(name, " Mediator"), absl::StrCat(name, "@mediators.example")));
      ids_.push_back(id);
      tokens_.push_back(server_.IssueToken(v1::ROLE_MEDIATOR, id));
    }
    case_ = server_.AllocatedCase(org_, ids_[0], tokens_[0], ids_[1], tokens_[1]);
    other_case_ = server_.AllocatedCase(org_, ids_[2], tokens_[2]);
  }

  grpc::Status Add(const std::string& token, int64_t case_id, v1::NoteVisibility visibility,
                   const std::string& text, v1::Note* out = nullptr, int64_t supersedes = 0) {
    v1::AddNoteRequest r;
    r.set_case_id(case_id);
    r.set_visibility(visibility);
    r.set_text(text);
    r.set_supersedes_note_id(supersedes);
    v1::AddNoteResponse response;
    grpc::Status s = server_.notes().AddNote(WithToken(token).get(), r, &response);
    if (out != nullptr) *out = response.note();
    return s;
  }

  grpc::Status Get(const std::string& token, int64_t note_id, v1::Note* out = nullptr) {
    v1::GetNoteRequest r;
    r.set_note_id(note_id);
    v1::GetNoteResponse response;
    grpc::Status s = server_.notes().GetNote(WithToken(token).get(), r, &response);
    if (out != nullptr) *out = response.note();
    return s;
  }

  std::vector<v1::Note> List(const std::string& token, int64_t case_id, grpc::Status* status) {
    v1::ListNotesRequest r;
    r.set_case_id(case_id);
    v1::ListNotesResponse response;
    *status = server_.notes().ListNotes(WithToken(token).get(), r, &response);
    return {response.notes().begin(), response.notes().end()};
  }

  std::shared_ptr<std::atomic<int64_t>> now_;
  TestServer server_;
  int64_t org_ = 0;
  std::vector<int64_t> ids_;
  std::vector<std::string> tokens_;
  v1::Case case_, other_case_;
};

TEST_F(NotesServiceTest, TheCanaryNeverReachesTheDatabaseOrItsWal) {
  v1::Note note;
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_PRIVATE, kCanary, &note).ok());
  EXPECT_EQ(note.text(), "");  // Not sent back: the writer has it.
  v1::Note read;
  ASSERT_TRUE(Get(tokens_[0], note.id(), &read).ok());
  EXPECT_EQ(read.text(), kCanary);

  const std::string before_checkpoint = server_.DiskBytes();
  EXPECT_FALSE(absl::StrContains(before_checkpoint, "CANARY-7f3b1c"));
  EXPECT_FALSE(absl::StrContains(before_checkpoint, "deliberately unfair"));
  server_.Checkpoint();
  EXPECT_FALSE(absl::StrContains(server_.DiskBytes(), "CANARY-7f3b1c"));
  // Nor the log, nor the audit trail.
  EXPECT_FALSE(absl::StrContains(server_.Log(), "CANARY"));
  EXPECT_EQ(server_.CountRows("audit_events", "objects LIKE '%note:%'"), 2);  // Add and Get.
}

TEST_F(NotesServiceTest, PrivateNotesAreTheAuthorsAndSharedOnesTheCoMediatorsToo) {
  v1::Note mine, ours;
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_PRIVATE, "lead only", &mine).ok());
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_SHARED, "for both", &ours).ok());
  grpc::Status status;
  const std::vector<v1::Note> lead = List(tokens_[0], case_.id(), &status);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(lead.size(), 2u);
  const std::vector<v1::Note> co = List(tokens_[1], case_.id(), &status);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(co.size(), 1u);
  EXPECT_EQ(co[0].text(), "for both");
  grpc::Status hidden = Get(tokens_[1], mine.id());
  EXPECT_EQ(hidden.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(hidden.error_message(), absl::StrCat("note ", mine.id(), " not found"));
}

TEST_F(NotesServiceTest, NobodyButTheCasesAcceptedMediatorsReadsANoteByAnyCall) {
  v1::Note note;
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_SHARED, kCanary, &note).ok());
  struct Reader {
    std::string name;
    std::string token;
    grpc::StatusCode expected;
  };
  const std::vector<Reader> readers = {
      {"admin", server_.admin_secret(), grpc::StatusCode::PERMISSION_DENIED},
      {"case support", server_.case_support(), grpc::StatusCode::PERMISSION_DENIED},
      {"senior adviser", server_.senior_adviser(), grpc::StatusCode::PERMISSION_DENIED},
      {"organisation", server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_),
       grpc::StatusCode::PERMISSION_DENIED},
      {"party", server_.IssueToken(v1::ROLE_PARTY, 0, 0, case_.id(), case_.parties(0).id()),
       grpc::StatusCode::PERMISSION_DENIED},
      {"mediator of another case", tokens_[2], grpc::StatusCode::NOT_FOUND},
  };
  for (const Reader& reader : readers) {
    grpc::Status status;
    const std::vector<v1::Note> listed = List(reader.token, case_.id(), &status);
    EXPECT_EQ(status.error_code(), reader.expected) << reader.name << ": ListNotes";
    EXPECT_TRUE(listed.empty()) << reader.name;
    v1::Note got;
    EXPECT_EQ(Get(reader.token, note.id(), &got).error_code(), reader.expected)
        << reader.name << ": GetNote";
    EXPECT_TRUE(got.text().empty()) << reader.name;
    EXPECT_EQ(Add(reader.token, case_.id(), v1::NOTE_VISIBILITY_SHARED, "x").error_code(),
              reader.expected)
        << reader.name << ": AddNote";
  }
  EXPECT_EQ(server_.CountRows("notes"), 1);
}

TEST_F(NotesServiceTest, AMediatorOnlyOfferedTheCaseSeesTheCaseButNotItsNotes) {
  const v1::Case c = server_.CreateReferral(org_);
  server_.MakeSuitable(c);
  ASSERT_TRUE(
      server_.Respond(tokens_[2], server_.Allocate(c.id(), ids_[2], v1::ALLOCATION_ROLE_LEAD), true)
          .ok());
  server_.Allocate(c.id(), ids_[3], v1::ALLOCATION_ROLE_CO_MEDIATOR);  // Not yet accepted.
  ASSERT_TRUE(Add(tokens_[2], c.id(), v1::NOTE_VISIBILITY_SHARED, "lead's first thoughts").ok());
  v1::GetCaseRequest get;
  get.set_case_id(c.id());
  v1::GetCaseResponse seen;
  EXPECT_TRUE(server_.referrals().GetCase(WithToken(tokens_[3]).get(), get, &seen).ok());
  grpc::Status status;
  EXPECT_TRUE(List(tokens_[3], c.id(), &status).empty());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(NotesServiceTest, ACiphertextMovedToAnotherNoteFailsToDecryptWithAClearError) {
  v1::Note first, second;
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_SHARED, "first", &first).ok());
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_SHARED, "second", &second).ok());
  ASSERT_EQ(server_.Tamper(absl::StrCat("UPDATE notes SET sealed = (SELECT sealed FROM notes WHERE "
                                        "id = ",
                                        first.id(), ") WHERE id = ", second.id())),
            1);
  grpc::Status status = Get(tokens_[0], second.id());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("note ", second.id(),
                         " does not decrypt: its stored ciphertext was altered or moved from "
                         "another note; nothing of it can be shown"));
  v1::Note still;
  ASSERT_TRUE(Get(tokens_[0], first.id(), &still).ok());
  EXPECT_EQ(still.text(), "first");
}

TEST_F(NotesServiceTest, APrivateNoteMadeSharedInTheDatabaseDoesNotDecrypt) {
  v1::Note mine;
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_PRIVATE, "lead only", &mine).ok());
  ASSERT_EQ(server_.Tamper("UPDATE notes SET visibility = 'NOTE_VISIBILITY_SHARED'"), 1);
  v1::Note got;
  const grpc::Status status = Get(tokens_[1], mine.id(), &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(got.text(), "");
}

TEST_F(NotesServiceTest, EveryNoteReadIsNamedInTheAuditTrail) {
  v1::Note a, b;
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_SHARED, "one", &a).ok());
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_PRIVATE, "two", &b).ok());
  grpc::Status status;
  ASSERT_EQ(List(tokens_[1], case_.id(), &status).size(), 1u);  // The co-mediator: `a` only.
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(server_.CountRows(
                "audit_events",
                absl::StrCat("method LIKE '%/ListNotes' AND outcome = 'OK' AND objects = 'case:",
                             case_.id(), " note:", a.id(), "'")),
            1);
}

TEST_F(NotesServiceTest, ACorrectionSupersedesAndBothStay) {
  v1::Note wrong, right;
  ASSERT_TRUE(
      Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_SHARED, "meeting on Tuesday", &wrong).ok());
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_SHARED, "meeting on Thursday", &right,
                  wrong.id())
                  .ok());
  grpc::Status status;
  const std::vector<v1::Note> notes = List(tokens_[1], case_.id(), &status);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].superseded_by_note_id(), right.id());
  EXPECT_EQ(notes[1].supersedes_note_id(), wrong.id());
  // A private correction of a shared note is not named to the co-mediator.
  v1::Note again;
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_PRIVATE, "meeting on Friday", &again,
                  right.id())
                  .ok());
  v1::Note seen;
  ASSERT_TRUE(Get(tokens_[1], right.id(), &seen).ok());
  EXPECT_EQ(seen.superseded_by_note_id(), 0);
  ASSERT_TRUE(Get(tokens_[0], right.id(), &seen).ok());
  EXPECT_EQ(seen.superseded_by_note_id(), again.id());
  // Only one's own notes can be corrected.
  EXPECT_EQ(Add(tokens_[1], case_.id(), v1::NOTE_VISIBILITY_SHARED, "x", nullptr, wrong.id())
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(NotesServiceTest, RetentionDestroysTheNotesAndTheAuditSaysSo) {
  v1::Note note;
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_SHARED, kCanary, &note).ok());
  // The exact bytes that must not survive on disk: the wrapped key and the ciphertext.
  const std::string wrapped =
      server_.QueryBytes("SELECT wrapped FROM data_keys WHERE purpose = 'notes'");
  const std::string sealed = server_.QueryBytes("SELECT sealed FROM notes");
  ASSERT_GT(wrapped.size(), 32u);
  ASSERT_GT(sealed.size(), 40u);
  ASSERT_TRUE(absl::StrContains(server_.DiskBytes(), wrapped));
  v1::WithdrawCaseRequest w;
  w.set_case_id(case_.id());
  w.set_withdrawn_by(v1::WITHDRAWN_BY_ORGANISATION);
  w.set_reason("resolved");
  v1::WithdrawCaseResponse withdrawn;
  ASSERT_TRUE(
      server_.cases().WithdrawCase(WithToken(server_.case_support()).get(), w, &withdrawn).ok());
  absl::StatusOr<int> done = server_.server().RunMaintenance();
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(*done, 1);

  v1::Note destroyed;
  ASSERT_TRUE(Get(tokens_[0], note.id(), &destroyed).ok());
  EXPECT_TRUE(destroyed.destroyed());
  EXPECT_TRUE(destroyed.has_destroyed_at());
  EXPECT_EQ(destroyed.text(), "");
  EXPECT_EQ(server_.CountRows("data_keys",
                              "purpose = 'notes' AND wrapped IS NULL AND "
                              "destroyed_at IS NOT NULL"),
            1);
  EXPECT_EQ(server_.CountRows("notes", "sealed IS NULL"), 1);
  // SQLite: not in the database file, not in free pages, not in the write-ahead log. PostgreSQL
  // keeps both in its write-ahead log (and in dead row versions until vacuumed) whatever the
  // server does: deploy/postgresql/README.md says what a deployment must do about it.
  if (!server_.on_postgres()) {
    const std::string disk = server_.DiskBytes();
    EXPECT_FALSE(absl::StrContains(disk, wrapped));
    EXPECT_FALSE(absl::StrContains(disk, sealed));
  }
  EXPECT_EQ(server_.CountRows("audit_events",
                              absl::StrCat("objects = 'case:", case_.id(),
                                           "' AND method LIKE 'server: notes destroyed%'")),
            1);
  // Nothing to destroy a second time.
  EXPECT_EQ(*server_.server().RunMaintenance(), 0);
}

class NotesRetentionTest : public NotesServiceTest {
 protected:
  NotesRetentionTest() : NotesServiceTest(absl::Hours(24 * 30)) {}
};

TEST_F(NotesRetentionTest, NotesOutliveTheCaseForTheRetentionPeriodOnly) {
  v1::Note note;
  ASSERT_TRUE(Add(tokens_[0], case_.id(), v1::NOTE_VISIBILITY_SHARED, "kept a while", &note).ok());
  v1::WithdrawCaseRequest w;
  w.set_case_id(case_.id());
  w.set_withdrawn_by(v1::WITHDRAWN_BY_SERVICE);
  w.set_reason("resolved");
  v1::WithdrawCaseResponse withdrawn;
  ASSERT_TRUE(
      server_.cases().WithdrawCase(WithToken(server_.case_support()).get(), w, &withdrawn).ok());
  now_->store(now_->load() + 29 * 86400);
  EXPECT_EQ(*server_.server().RunMaintenance(), 0);
  v1::Note kept;
  ASSERT_TRUE(Get(tokens_[0], note.id(), &kept).ok());
  EXPECT_EQ(kept.text(), "kept a while");
  now_->store(now_->load() + 2 * 86400);
  EXPECT_EQ(*server_.server().RunMaintenance(), 1);
  ASSERT_TRUE(Get(tokens_[0], note.id(), &kept).ok());
  EXPECT_TRUE(kept.destroyed());
}

}  // namespace
}  // namespace mediation
