// Runs the real mediation-server binary as a newcomer would, and talks to it only through the
// network: health, reflection, authentication, organisation isolation, SIGTERM, restart.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
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

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = "") {
  auto c = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) c->AddMetadata("authorization", "Bearer " + token);
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return c;
}

class ServerBinaryTest : public ::testing::Test {
 protected:
  std::vector<std::string> Args() {
    return {"--listen=127.0.0.1:0", "--http_listen=127.0.0.1:0",
            "--db=" + dir_.File("var/mediation.db")};
  }
  std::shared_ptr<grpc::Channel> Connect(int port) {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                               grpc::InsecureChannelCredentials());
  }
  std::string AdminToken() {
    std::string token;
    std::ifstream in(dir_.File("var/admin.token"));
    std::getline(in, token);
    return token;
  }

  TempDir dir_;
};

TEST_F(ServerBinaryTest, FirstStartCreatesThePrivateAdminTokenAndLogsOnlyItsPath) {
  ServerProcess server(Args(), dir_.File("server.log"));
  ASSERT_GT(server.WaitForPort(), 0) << server.Log();
  struct stat st {};
  ASSERT_EQ(::stat(dir_.File("var/admin.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  const std::string token = AdminToken();
  EXPECT_EQ(token.size(), 47u);
  EXPECT_NE(server.Log().find(dir_.File("var/admin.token")), std::string::npos);
  EXPECT_EQ(server.Log().find(token), std::string::npos);
}

TEST_F(ServerBinaryTest, HealthSaysServingAndReflectionListsTheApi) {
  ServerProcess server(Args(), dir_.File("server.log"));
  const int port = server.WaitForPort();
  ASSERT_GT(port, 0) << server.Log();
  auto channel = Connect(port);

  grpc::health::v1::HealthCheckResponse health;
  ASSERT_TRUE(grpc::health::v1::Health::NewStub(channel)->Check(Ctx().get(), {}, &health).ok());
  EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  auto context = Ctx();
  auto stream = reflection->ServerReflectionInfo(context.get());
  grpc::reflection::v1alpha::ServerReflectionRequest list;
  list.set_list_services("");
  ASSERT_TRUE(stream->Write(list));
  grpc::reflection::v1alpha::ServerReflectionResponse listed;
  ASSERT_TRUE(stream->Read(&listed));
  std::set<std::string> services;
  for (const auto& s : listed.list_services_response().service()) services.insert(s.name());
  for (const char* expected : {"ppa.mediation.v1.AdminService", "ppa.mediation.v1.IdentityService",
                               "ppa.mediation.v1.OrganisationService",
                               "ppa.mediation.v1.ReferralService", "grpc.health.v1.Health"}) {
    EXPECT_EQ(services.count(expected), 1u) << expected;
  }

  // A reflection client can fetch the descriptors, comments included, to discover the API.
  grpc::reflection::v1alpha::ServerReflectionRequest file;
  file.set_file_containing_symbol("ppa.mediation.v1.ReferralService");
  ASSERT_TRUE(stream->Write(file));
  grpc::reflection::v1alpha::ServerReflectionResponse described;
  ASSERT_TRUE(stream->Read(&described));
  ASSERT_GT(described.file_descriptor_response().file_descriptor_proto_size(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServerBinaryTest, CallsNeedATokenAndOrganisationsAreIsolated) {
  ServerProcess server(Args(), dir_.File("server.log"));
  const int port = server.WaitForPort();
  ASSERT_GT(port, 0) << server.Log();
  auto channel = Connect(port);
  auto admin = v1::AdminService::NewStub(channel);
  auto orgs = v1::OrganisationService::NewStub(channel);
  auto referrals = v1::ReferralService::NewStub(channel);

  v1::ListCasesResponse cases;
  EXPECT_EQ(referrals->ListCases(Ctx().get(), {}, &cases).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  auto issue = [&](v1::Role role, int64_t org) {
    v1::IssueTokenRequest r;
    r.set_role(role);
    r.set_label("binary test");
    r.set_organisation_id(org);
    v1::IssueTokenResponse out;
    EXPECT_TRUE(admin->IssueToken(Ctx(AdminToken()).get(), r, &out).ok());
    return out.secret();
  };
  const std::string support = issue(v1::ROLE_CASE_SUPPORT, 0);
  auto register_org = [&](const std::string& name) {
    v1::RegisterOrganisationRequest r;
    r.mutable_organisation()->set_name(name);
    r.mutable_organisation()->set_kind(v1::ORGANISATION_KIND_PHARMACY);
    r.mutable_organisation()->set_nation(v1::NATION_NORTHERN_IRELAND);
    r.mutable_organisation()->set_care_setting(v1::CARE_SETTING_PRIMARY);
    r.mutable_organisation()->set_sector(v1::SECTOR_INDEPENDENT);
    r.mutable_organisation()->mutable_contact()->set_name("Contact");
    r.mutable_organisation()->mutable_contact()->set_email("contact@example.org");
    v1::RegisterOrganisationResponse out;
    EXPECT_TRUE(orgs->RegisterOrganisation(Ctx(support).get(), r, &out).ok());
    return out.organisation().id();
  };
  const int64_t a = register_org("Pharmacy A");
  const int64_t b = register_org("Pharmacy B");

  v1::CreateReferralRequest referral;
  referral.set_organisation_id(a);
  referral.mutable_referrer()->set_name("Referrer");
  referral.mutable_referrer()->set_email("referrer@example.org");
  referral.set_summary("Disagreement over dispensing procedures.");
  for (const char* name : {"Pat", "Chris"}) {
    v1::Party* p = referral.add_parties();
    p->mutable_contact()->set_name(name);
    p->mutable_contact()->set_email(std::string(name) + "@example.org");
    p->set_profession(v1::PROFESSION_PHARMACIST);
  }
  v1::CreateReferralResponse created;
  ASSERT_TRUE(referrals->CreateReferral(Ctx(support).get(), referral, &created).ok());

  const std::string org_b = issue(v1::ROLE_ORGANISATION, b);
  v1::GetCaseRequest get;
  get.set_case_id(created.case_().id());
  v1::GetCaseResponse got;
  EXPECT_EQ(referrals->GetCase(Ctx(org_b).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(referrals->ListCases(Ctx(org_b).get(), {}, &cases).ok());
  EXPECT_EQ(cases.cases_size(), 0);

  const std::string org_a = issue(v1::ROLE_ORGANISATION, a);
  ASSERT_TRUE(referrals->GetCase(Ctx(org_a).get(), get, &got).ok());
  EXPECT_EQ(got.case_().reference(), created.case_().reference());
}

TEST_F(ServerBinaryTest, SigtermStopsCleanlyAndARestartKeepsEverything) {
  int64_t case_id = 0;
  {
    ServerProcess server(Args(), dir_.File("first.log"));
    const int port = server.WaitForPort();
    ASSERT_GT(port, 0) << server.Log();
    auto channel = Connect(port);
    v1::RegisterOrganisationRequest r;
    r.mutable_organisation()->set_name("Durable Trust");
    r.mutable_organisation()->set_kind(v1::ORGANISATION_KIND_NHS_TRUST);
    r.mutable_organisation()->set_nation(v1::NATION_ENGLAND);
    r.mutable_organisation()->set_care_setting(v1::CARE_SETTING_SECONDARY);
    r.mutable_organisation()->set_sector(v1::SECTOR_PUBLIC);
    r.mutable_organisation()->mutable_contact()->set_name("C");
    r.mutable_organisation()->mutable_contact()->set_email("c@example.org");
    v1::RegisterOrganisationResponse out;
    ASSERT_TRUE(v1::OrganisationService::NewStub(channel)
                    ->RegisterOrganisation(Ctx(AdminToken()).get(), r, &out)
                    .ok());
    case_id = out.organisation().id();
    EXPECT_EQ(server.SignalAndWait(SIGTERM), 0) << server.Log();
    EXPECT_NE(server.Log().find("stopped cleanly"), std::string::npos) << server.Log();
  }
  const std::string token = AdminToken();
  ServerProcess again(Args(), dir_.File("second.log"));
  const int port = again.WaitForPort();
  ASSERT_GT(port, 0) << again.Log();
  EXPECT_EQ(again.Log().find("first start"), std::string::npos);
  EXPECT_EQ(AdminToken(), token);
  v1::GetOrganisationRequest get;
  get.set_organisation_id(case_id);
  v1::GetOrganisationResponse got;
  ASSERT_TRUE(v1::OrganisationService::NewStub(Connect(port))
                  ->GetOrganisation(Ctx(token).get(), get, &got)
                  .ok());
  EXPECT_EQ(got.organisation().name(), "Durable Trust");
  EXPECT_EQ(again.SignalAndWait(SIGINT), 0);
}

struct CtlResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs mediationctl with `args` (each single-quoted for the shell; none may hold a quote).
CtlResult RunCtl(const std::vector<std::string>& args) {
  std::string command = MEDIATIONCTL_PATH;
  for (const std::string& a : args) command += " '" + a + "'";
  command += " 2>&1";
  CtlResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string JsonField(const std::string& json, const std::string& field) {
  std::smatch m;
  std::regex re("\"" + field + "\": \"?([^\",\n]*)\"?");
  return std::regex_search(json, m, re) ? m[1].str() : "";
}

TEST_F(ServerBinaryTest, TheReadmeWalkthroughWorksWithMediationctl) {
  ServerProcess server(Args(), dir_.File("server.log"));
  const int port = server.WaitForPort();
  ASSERT_GT(port, 0) << server.Log();
  const std::string addr = "--addr=127.0.0.1:" + std::to_string(port);
  const std::string admin = "--token_file=" + dir_.File("var/admin.token");

  CtlResult me = RunCtl({addr, admin, "call", "IdentityService/WhoAmI"});
  ASSERT_EQ(me.exit_code, 0) << me.out;
  EXPECT_EQ(JsonField(me.out, "role"), "ROLE_ADMIN");

  CtlResult issued = RunCtl({addr, admin, "call", "AdminService/IssueToken",
                             R"({"role": "ROLE_CASE_SUPPORT", "label": "Case support team"})"});
  ASSERT_EQ(issued.exit_code, 0) << issued.out;
  const std::string support = "--token=" + JsonField(issued.out, "secret");

  CtlResult org = RunCtl({addr, support, "call", "OrganisationService/RegisterOrganisation",
                          R"({"organisation": {"name": "Northshire Hospitals NHS Trust",
           "kind": "ORGANISATION_KIND_NHS_TRUST", "nation": "NATION_ENGLAND",
           "care_setting": "CARE_SETTING_SECONDARY", "sector": "SECTOR_PUBLIC",
           "contact": {"name": "Priya Shah", "email": "priya.shah@northshire.example"}}})"});
  ASSERT_EQ(org.exit_code, 0) << org.out;
  EXPECT_EQ(JsonField(org.out, "id"), "1");

  CtlResult referral = RunCtl({addr, support, "call", "ReferralService/CreateReferral",
                               R"({"organisation_id": 1,
           "referrer": {"name": "Sam Okafor", "email": "sam.okafor@northshire.example"},
           "summary": "Breakdown in communication between two consultants.",
           "parties": [
             {"contact": {"name": "Dr Alex Morgan", "email": "alex.morgan@northshire.example"},
              "profession": "PROFESSION_DOCTOR"},
             {"contact": {"name": "Dr Jo Reed", "email": "jo.reed@northshire.example"},
              "profession": "PROFESSION_DOCTOR"}]})"});
  ASSERT_EQ(referral.exit_code, 0) << referral.out;
  EXPECT_EQ(JsonField(referral.out, "state"), "CASE_STATE_REFERRED");

  CtlResult listed = RunCtl(
      {addr, support, "call", "ReferralService/ListCases", R"({"state": "CASE_STATE_REFERRED"})"});
  ASSERT_EQ(listed.exit_code, 0) << listed.out;
  EXPECT_NE(listed.out.find("Dr Jo Reed"), std::string::npos) << listed.out;

  // A server refusal exits 1 with the server's code and message as is.
  CtlResult refused = RunCtl({addr, "call", "ReferralService/ListCases"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("error: UNAUTHENTICATED: missing credentials"), std::string::npos)
      << refused.out;
  // A usage error exits 2 without calling the server.
  CtlResult usage = RunCtl({addr, "call", "ReferralService/NoSuchMethod"});
  EXPECT_EQ(usage.exit_code, 2);
  CtlResult bad_json = RunCtl({addr, support, "call", "ReferralService/ListCases", "{nope"});
  EXPECT_EQ(bad_json.exit_code, 2);
}

// Under systemd (Type=notify, WatchdogSec): READY=1 once serving, WATCHDOG=1 only after a new
// client was served on each listener, STOPPING=1 at SIGTERM. The test plays systemd: a datagram
// socket named by NOTIFY_SOCKET.
TEST_F(ServerBinaryTest, TellsSystemdItIsReadyAndFeedsTheWatchdogWhileServing) {
  const std::string socket_path = dir_.File("notify");
  const int notify = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(notify, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", socket_path.c_str());
  ASSERT_EQ(::bind(notify, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::setenv("NOTIFY_SOCKET", socket_path.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "600000", 1);  // Probed every 200 ms.
  ServerProcess server(Args(), dir_.File("server.log"));
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ASSERT_GT(server.WaitForPort(), 0) << server.Log();

  // Messages in order, for up to 3 s.
  auto next = [&]() -> std::string {
    pollfd p{.fd = notify, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 3000) != 1) return "";
    char buffer[256];
    const ssize_t n = ::recv(notify, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  };
  EXPECT_EQ(next(), "READY=1");
  EXPECT_EQ(next(), "WATCHDOG=1");
  EXPECT_EQ(next(), "WATCHDOG=1");
  ::kill(server.pid(), SIGTERM);
  std::string last;
  for (std::string m = next(); !m.empty(); m = next()) {
    last = m;
    if (m == "STOPPING=1") break;
  }
  EXPECT_EQ(last, "STOPPING=1");
  EXPECT_EQ(server.WaitForExit(), 0) << server.Log();
  ::close(notify);
}

TEST_F(ServerBinaryTest, ADatabaseFromANewerServerIsRefusedAtStart) {
  {
    ServerProcess server(Args(), dir_.File("first.log"));
    ASSERT_GT(server.WaitForPort(), 0) << server.Log();
    ASSERT_EQ(server.SignalAndWait(SIGTERM), 0);
  }
  {
    SQLite::Database db(dir_.File("var/mediation.db"), SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x', 0)");
  }
  ServerProcess server(Args(), dir_.File("second.log"));
  EXPECT_EQ(server.WaitForExit(), 1);
  EXPECT_NE(server.Log().find("run a newer mediation-server"), std::string::npos) << server.Log();
}

TEST_F(ServerBinaryTest, PlaintextOnANonLoopbackAddressIsRefused) {
  ServerProcess server(
      {"--listen=0.0.0.0:0", "--http_listen=", "--db=" + dir_.File("var/mediation.db")},
      dir_.File("server.log"));
  EXPECT_EQ(server.WaitForExit(), 1);
  EXPECT_NE(server.Log().find("refusing to serve plaintext on 0.0.0.0:0"), std::string::npos)
      << server.Log();
}

}  // namespace
}  // namespace mediation
