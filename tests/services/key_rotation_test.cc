// Master key rotation while the server serves, on a database from the schema-8 fixture (notes,
// a final agreement, screening answers, kept responses) grown with new cases: four clients keep
// writing throughout; afterwards everything opens, the audit trail verifies, the server starts
// with the new key alone, and the old key alone is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/server/server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TempDir;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class KeyRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::filesystem::path fixture =
        std::filesystem::path(MEDIATION_SOURCE_DIR) / "tests/fixtures/schema-v8";
    for (const char* file : {"mediation.db", "master.key", "admin.token"}) {
      std::filesystem::copy_file(fixture / file, dir_.File(file));
      ::chmod(dir_.File(file).c_str(), 0600);
    }
    admin_ = std::string(absl::StripAsciiWhitespace(FileBytes(dir_.File("admin.token"))));
  }
  ~KeyRotationTest() override {
    if (log_ != nullptr) std::fclose(log_);
  }

  absl::StatusOr<std::unique_ptr<MediationServer>> Start() {
    if (log_ == nullptr) log_ = std::fopen(dir_.File("server.log").c_str(), "a");
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.db_path = dir_.File("mediation.db");
    o.workers = 8;
    o.log_stream = log_;
    o.key_rotation_batch = 25;  // Many transactions, so the writers meet the rotation.
    return MediationServer::Start(o);
  }

  std::shared_ptr<grpc::Channel> Channel(const MediationServer& server) {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", server.port()),
                               grpc::InsecureChannelCredentials());
  }

  std::string Issue(v1::AdminService::Stub& admin, v1::Role role, int64_t mediator_id = 0) {
    v1::IssueTokenRequest r;
    r.set_role(role);
    r.set_label("rotation test");
    r.set_mediator_id(mediator_id);
    v1::IssueTokenResponse out;
    EXPECT_TRUE(admin.IssueToken(WithToken(admin_).get(), r, &out).ok());
    return out.secret();
  }

  // What every reader needs to find after the rotation: the fixture's sealed data.
  void ExpectFixtureOpens(const std::shared_ptr<grpc::Channel>& channel) {
    auto admin = v1::AdminService::NewStub(channel);
    const std::string desk = Issue(*admin, v1::ROLE_CASE_SUPPORT);
    const std::string lead = Issue(*admin, v1::ROLE_MEDIATOR, 1);
    v1::GetCaseRequest get;
    get.set_case_id(1);
    v1::GetCaseResponse got;
    ASSERT_TRUE(
        v1::ReferralService::NewStub(channel)->GetCase(WithToken(desk).get(), get, &got).ok());
    EXPECT_EQ(got.case_().summary(), "CANARY-summary-revised two consultants");
    v1::ListScreeningAnswersRequest answers;
    answers.set_case_id(1);
    v1::ListScreeningAnswersResponse listed;
    ASSERT_TRUE(v1::ScreeningService::NewStub(channel)
                    ->ListScreeningAnswers(WithToken(desk).get(), answers, &listed)
                    .ok());
    ASSERT_EQ(listed.answers_size(), 9);
    for (const auto& a : listed.answers()) EXPECT_EQ(a.withheld_size(), 0) << a.DebugString();
    v1::ListNotesRequest notes;
    notes.set_case_id(1);
    v1::ListNotesResponse note_list;
    ASSERT_TRUE(v1::NotesService::NewStub(channel)
                    ->ListNotes(WithToken(lead).get(), notes, &note_list)
                    .ok());
    ASSERT_EQ(note_list.notes_size(), 1);
    EXPECT_EQ(note_list.notes(0).text(), "CANARY-note-text");
    v1::GetAgreementRequest agreement;
    agreement.set_case_id(1);
    v1::GetAgreementResponse versions;
    ASSERT_TRUE(v1::AgreementService::NewStub(channel)
                    ->GetAgreement(WithToken(lead).get(), agreement, &versions)
                    .ok());
    ASSERT_EQ(versions.versions_size(), 2);
    EXPECT_EQ(versions.versions(1).content().items(0).commitment(), "CANARY-agreement-final");
    v1::VerifyAuditChainResponse verified;
    ASSERT_TRUE(admin->VerifyAuditChain(WithToken(admin_).get(), {}, &verified).ok());
    EXPECT_TRUE(verified.intact()) << verified.problem();
  }

  TempDir dir_;
  std::string admin_;
  std::FILE* log_ = nullptr;
};

TEST_F(KeyRotationTest, UnderFourWritersEverythingOpensAndTheOldKeyIsNoLongerNeeded) {
  const std::string old_key = FileBytes(dir_.File("master.key"));
  std::vector<int64_t> cases;  // Acknowledged referrals, and their summaries.
  std::mutex mu;
  {
    absl::StatusOr<std::unique_ptr<MediationServer>> server = Start();
    ASSERT_TRUE(server.ok()) << server.status();
    auto channel = Channel(**server);
    auto admin = v1::AdminService::NewStub(channel);
    const std::string desk = Issue(*admin, v1::ROLE_CASE_SUPPORT);
    // More cases, each with its own record key, so the rotation has work to do.
    auto referrals = v1::ReferralService::NewStub(channel);
    auto create = [&](int tag) {
      v1::CreateReferralRequest r = ValidReferral(1);
      r.set_summary(absl::StrCat("Rotation referral ", tag));
      v1::CreateReferralResponse out;
      grpc::Status s = referrals->CreateReferral(WithToken(desk).get(), r, &out);
      if (s.ok()) {
        std::lock_guard lock(mu);
        cases.push_back(out.case_().id());
      }
      return s.ok();
    };
    for (int i = 0; i < 400; ++i) ASSERT_TRUE(create(i));

    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        for (int n = 0; !stop.load(); ++n) {
          if (!create(100000 * (w + 1) + n)) ++failures;
        }
      });
    }
    const absl::Time began = absl::Now();
    v1::RotateMasterKeyResponse rotating;
    ASSERT_TRUE(admin->RotateMasterKey(WithToken(admin_).get(), {}, &rotating).ok());
    EXPECT_EQ(rotating.rotation().from_master_key(), 1);
    EXPECT_EQ(rotating.rotation().to_master_key(), 2);
    EXPECT_GE(rotating.rotation().keys_total(), 400);
    EXPECT_EQ(rotating.rotation().new_key_file(), dir_.File("master.key.next"));
    // A second rotation while this one runs is refused.
    v1::RotateMasterKeyResponse again;
    EXPECT_EQ(admin->RotateMasterKey(WithToken(admin_).get(), {}, &again).error_code(),
              grpc::StatusCode::ALREADY_EXISTS);
    v1::GetKeyRotationResponse progress;
    for (int i = 0; i < 600; ++i) {
      ASSERT_TRUE(admin->GetKeyRotation(WithToken(admin_).get(), {}, &progress).ok());
      if (progress.rotation().has_completed_at()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const double seconds = absl::ToDoubleSeconds(absl::Now() - began);
    stop = true;
    for (std::thread& t : writers) t.join();
    ASSERT_TRUE(progress.rotation().has_completed_at()) << progress.DebugString();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_GE(progress.rotation().keys_rewrapped(), progress.rotation().keys_total());
    std::cout << "rotation: " << progress.rotation().keys_rewrapped() << " data keys in " << seconds
              << " s under 4 writers (" << cases.size() << " cases in all)\n";

    // Every case written before, during and after opens; so does the fixture's data.
    for (int64_t id : cases) {
      v1::GetCaseRequest get;
      get.set_case_id(id);
      v1::GetCaseResponse got;
      ASSERT_TRUE(referrals->GetCase(WithToken(desk).get(), get, &got).ok()) << id;
      ASSERT_TRUE(absl::StartsWith(got.case_().summary(), "Rotation referral ")) << id;
    }
    ExpectFixtureOpens(channel);
  }
  // The files: the new key in place, the old one kept aside for old backups, no `.next`.
  const std::string new_key = FileBytes(dir_.File("master.key"));
  EXPECT_NE(new_key, old_key);
  EXPECT_EQ(FileBytes(dir_.File("master.key.retired-1")), old_key);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("master.key.next")));

  // The new key alone is enough.
  std::filesystem::remove(dir_.File("master.key.retired-1"));
  {
    absl::StatusOr<std::unique_ptr<MediationServer>> server = Start();
    ASSERT_TRUE(server.ok()) << server.status();
    ExpectFixtureOpens(Channel(**server));
  }
  // The old key alone is refused, with the reason.
  {
    std::ofstream out(dir_.File("master.key"), std::ios::binary | std::ios::trunc);
    out << old_key;
  }
  absl::StatusOr<std::unique_ptr<MediationServer>> refused = Start();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      absl::StrContains(refused.status().message(), "is master key 1, retired by a rotation on"))
      << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "now uses master key 2"));
}

}  // namespace
}  // namespace mediation
