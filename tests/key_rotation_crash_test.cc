// A master key rotation interrupted by SIGKILL, on the real binary: the next start resumes it
// with both key files, it completes, everything still opens, and afterwards the new key alone is
// enough.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ppa/mediation/v1/admin.grpc.pb.h"
#include "ppa/mediation/v1/organisation.grpc.pb.h"
#include "ppa/mediation/v1/referral.grpc.pb.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace mediation {
namespace {

namespace v1 = ::ppa::mediation::v1;
using ::mediation::testing::ReadAll;
using ::mediation::testing::ServerProcess;
using ::mediation::testing::TempDir;

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->AddMetadata("authorization", "Bearer " + token);
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return c;
}

class KeyRotationCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.File("var"));
    ::chmod(dir_.File("var").c_str(), 0700);
  }
  std::vector<std::string> Args(int pause_ms) {
    // One data key a transaction, with a pause after each: a rotation of 600 keys takes at least
    // 600 x pause, so a kill lands in the middle whatever the machine's speed.
    return {"--listen=127.0.0.1:0", "--http_listen=", "--db=" + dir_.File("var/mediation.db"),
            "--key_rotation_batch=1", absl::StrCat("--key_rotation_pause_ms=", pause_ms)};
  }
  std::string Admin() {
    std::string token;
    std::ifstream in(dir_.File("var/admin.token"));
    std::getline(in, token);
    return token;
  }
  static std::shared_ptr<grpc::Channel> Connect(int port) {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                               grpc::InsecureChannelCredentials());
  }

  TempDir dir_;
};

TEST_F(KeyRotationCrashTest, AKilledRotationResumesAtTheNextStartAndCompletes) {
  std::vector<int64_t> cases;
  std::string desk;
  const std::string old_key_path = dir_.File("var/master.key");
  std::string old_key;
  {
    ServerProcess server(Args(/*pause_ms=*/50), dir_.File("server.log"));
    const int port = server.WaitForPort();
    ASSERT_GT(port, 0) << server.Log();
    auto channel = Connect(port);
    auto admin = v1::AdminService::NewStub(channel);
    v1::IssueTokenRequest issue;
    issue.set_role(v1::ROLE_CASE_SUPPORT);
    issue.set_label("desk");
    v1::IssueTokenResponse issued;
    ASSERT_TRUE(admin->IssueToken(Ctx(Admin()).get(), issue, &issued).ok());
    desk = issued.secret();
    v1::RegisterOrganisationRequest org;
    org.mutable_organisation()->set_name("Northshire Hospitals NHS Trust");
    org.mutable_organisation()->set_kind(v1::ORGANISATION_KIND_NHS_TRUST);
    org.mutable_organisation()->set_nation(v1::NATION_ENGLAND);
    org.mutable_organisation()->set_care_setting(v1::CARE_SETTING_SECONDARY);
    org.mutable_organisation()->set_sector(v1::SECTOR_PUBLIC);
    org.mutable_organisation()->mutable_contact()->set_name("Priya Shah");
    org.mutable_organisation()->mutable_contact()->set_email("priya.shah@example.nhs.uk");
    v1::RegisterOrganisationResponse registered;
    ASSERT_TRUE(v1::OrganisationService::NewStub(channel)
                    ->RegisterOrganisation(Ctx(desk).get(), org, &registered)
                    .ok());
    // 600 cases, each with its own record key, written by four clients.
    auto referrals = v1::ReferralService::NewStub(channel);
    std::mutex mu;
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        for (int n = 0; n < 150; ++n) {
          v1::CreateReferralRequest r;
          r.set_organisation_id(registered.organisation().id());
          r.mutable_referrer()->set_name("Sam Okafor");
          r.mutable_referrer()->set_email("sam.okafor@example.nhs.uk");
          r.set_summary("Crash rotation referral " + std::to_string(w * 1000 + n));
          for (const char* who : {"Dr Alex Morgan", "Dr Jo Reed"}) {
            v1::Party* p = r.add_parties();
            p->mutable_contact()->set_name(who);
            p->mutable_contact()->set_email(std::string(who).substr(3, 2) + "@example.nhs.uk");
            p->set_profession(v1::PROFESSION_DOCTOR);
          }
          v1::CreateReferralResponse out;
          if (referrals->CreateReferral(Ctx(desk).get(), r, &out).ok()) {
            std::lock_guard lock(mu);
            cases.push_back(out.case_().id());
          }
        }
      });
    }
    for (std::thread& t : writers) t.join();
    ASSERT_EQ(cases.size(), 600u);
    old_key = ReadAll(old_key_path);

    v1::RotateMasterKeyResponse rotating;
    ASSERT_TRUE(admin->RotateMasterKey(Ctx(Admin()).get(), {}, &rotating).ok());
    // Kill it part-way through (one key a transaction, 50 ms apart: at least 30 s in all).
    std::mt19937 random(std::random_device{}());
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 300)(random)));
    v1::GetKeyRotationResponse before;
    ASSERT_TRUE(admin->GetKeyRotation(Ctx(Admin()).get(), {}, &before).ok());
    server.Kill();
    ASSERT_FALSE(before.rotation().has_completed_at())
        << "the rotation finished before the kill: " << before.DebugString();
    ASSERT_TRUE(std::filesystem::exists(dir_.File("var/master.key.next")));
  }

  // The next start holds both keys and resumes.
  {
    ServerProcess server(Args(0), dir_.File("server2.log"));
    const int port = server.WaitForPort();
    ASSERT_GT(port, 0) << server.Log();
    EXPECT_NE(server.Log().find("was under way at the last stop: resuming"), std::string::npos)
        << server.Log();
    auto channel = Connect(port);
    auto admin = v1::AdminService::NewStub(channel);
    v1::GetKeyRotationResponse progress;
    for (int i = 0; i < 600; ++i) {
      ASSERT_TRUE(admin->GetKeyRotation(Ctx(Admin()).get(), {}, &progress).ok());
      if (progress.rotation().has_completed_at()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(progress.rotation().has_completed_at()) << progress.DebugString();
    EXPECT_GE(progress.rotation().keys_rewrapped(), progress.rotation().keys_total());
    auto referrals = v1::ReferralService::NewStub(channel);
    for (int64_t id : cases) {
      v1::GetCaseRequest get;
      get.set_case_id(id);
      v1::GetCaseResponse got;
      ASSERT_TRUE(referrals->GetCase(Ctx(desk).get(), get, &got).ok()) << id;
      ASSERT_EQ(got.case_().summary().rfind("Crash rotation referral ", 0), 0u) << id;
    }
    v1::VerifyAuditChainResponse verified;
    ASSERT_TRUE(admin->VerifyAuditChain(Ctx(Admin()).get(), {}, &verified).ok());
    EXPECT_TRUE(verified.intact()) << verified.problem();
    EXPECT_EQ(server.SignalAndWait(SIGTERM), 0) << server.Log();
  }
  EXPECT_EQ(ReadAll(dir_.File("var/master.key.retired-1")), old_key);
  EXPECT_NE(ReadAll(old_key_path), old_key);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("var/master.key.next")));

  // The new key alone serves every case.
  std::filesystem::remove(dir_.File("var/master.key.retired-1"));
  ServerProcess server(Args(0), dir_.File("server3.log"));
  const int port = server.WaitForPort();
  ASSERT_GT(port, 0) << server.Log();
  v1::GetCaseRequest get;
  get.set_case_id(cases.back());
  v1::GetCaseResponse got;
  ASSERT_TRUE(
      v1::ReferralService::NewStub(Connect(port))->GetCase(Ctx(desk).get(), get, &got).ok());
  EXPECT_EQ(got.case_().withheld_size(), 0);
}

}  // namespace
}  // namespace mediation
