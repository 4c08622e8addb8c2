// The HTTP listener, through real HTTP on loopback against the real server: the Connect
// protocol over the method registry, its error mapping, browser sessions and their CSRF
// defences, the event stream in envelopes, static files and the security headers.
#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/core/method_registry.h"
#include "services/core/policy.h"
#include "services/core/secrets.h"
#include "services/http/connect.h"
#include "tests/support/http_client.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::ConnectJson;
using ::mediation::testing::HttpCall;
using ::mediation::testing::HttpReply;
using ::mediation::testing::SendHttp;
using ::mediation::testing::TestServer;
using ::mediation::testing::WithToken;

constexpr char kGetCase[] = "/ppa.mediation.v1.ReferralService/GetCase";
constexpr char kCreateReferral[] = "/ppa.mediation.v1.ReferralService/CreateReferral";
constexpr char kStream[] = "/ppa.mediation.v1.CaseEventService/StreamCaseEvents";

std::string CodeOf(const HttpReply& reply) {
  const nlohmann::json j = nlohmann::json::parse(reply.body, nullptr, false);
  return j.is_object() && j.contains("code") ? j["code"].get<std::string>() : "";
}

// The envelopes of a Connect stream's body: (flags, message).
std::vector<std::pair<int, std::string>> Envelopes(const std::string& body) {
  std::vector<std::pair<int, std::string>> out;
  size_t i = 0;
  while (i + 5 <= body.size()) {
    const auto byte = [&](size_t k) {
      return static_cast<uint32_t>(static_cast<uint8_t>(body[k]));
    };
    const uint32_t n = (byte(i + 1) << 24) | (byte(i + 2) << 16) | (byte(i + 3) << 8) | byte(i + 4);
    out.emplace_back(static_cast<int>(byte(i)), body.substr(i + 5, n));
    i += 5 + n;
  }
  EXPECT_EQ(i, body.size()) << "trailing bytes after the last envelope";
  return out;
}

class HttpTest : public ::testing::Test {
 protected:
  // The id of the token whose secret is `secret`.
  int64_t TokenId(const std::string& secret) {
    v1::WhoAmIResponse me;
    EXPECT_TRUE(server_.identity().WhoAmI(WithToken(secret).get(), {}, &me).ok());
    return me.token().id();
  }

  void Revoke(const std::string& secret) {
    v1::RevokeTokenRequest revoke;
    revoke.set_token_id(TokenId(secret));
    v1::RevokeTokenResponse out;
    const grpc::Status status =
        server_.admin().RevokeToken(WithToken(server_.admin_secret()).get(), revoke, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  HttpTest()
      : offset_(std::make_shared<std::atomic<int64_t>>(0)), server_([this](ServerOptions& o) {
          o.http_listen = "127.0.0.1:0";
          o.max_message_bytes = 64 * 1024;
          o.http_request_timeout = absl::Seconds(2);
          o.web_root = web_root_.path().string();
          o.settings.anonymous_refusal_burst = 1000;
          o.settings.browser_session_idle = absl::Minutes(30);
          o.clock = [offset = offset_] { return absl::Now() + absl::Seconds(offset->load()); };
        }) {}

  int port() { return server_.server().http_port(); }

  HttpReply Call(const std::string& method, const std::string& json, const std::string& token) {
    return ConnectJson(port(), method, json, token);
  }

  // Signs in with `token`; the cookie's "name=value".
  std::string SignIn(const std::string& token) {
    absl::StatusOr<HttpReply> reply =
        SendHttp(port(), {.target = "/auth/sign-in",
                          .headers = {{"Content-Type", "application/json"}},
                          .body = nlohmann::json{{"token", token}}.dump()});
    EXPECT_TRUE(reply.ok());
    EXPECT_EQ(reply->status, 200) << reply->body;
    const std::string cookie = reply->Header("set-cookie");
    return cookie.substr(0, cookie.find(';'));
  }

  HttpReply CookieCall(const std::string& method, const std::string& json,
                       const std::string& cookie,
                       std::vector<std::pair<std::string, std::string>> headers = {
                           {"Content-Type", "application/json"},
                           {"Connect-Protocol-Version", "1"}}) {
    headers.emplace_back("Cookie", cookie);
    absl::StatusOr<HttpReply> reply =
        SendHttp(port(), {.target = method, .headers = headers, .body = json});
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? *reply : HttpReply{};
  }

  std::string StreamBody(const std::string& json) { return http::Envelope(0, json); }

  struct WebRoot {
    WebRoot() {
      std::filesystem::create_directories(dir / "root/assets");
      std::ofstream(dir / "root/index.html") << "<!doctype html><title>console</title>";
      std::ofstream(dir / "root/assets/app-4F2K9QZX.js") << "console.log('hi');";
      std::ofstream(dir / "secret.txt") << "TOP-SECRET";
      std::filesystem::create_symlink(dir / "secret.txt", dir / "root/escape.txt");
    }
    ~WebRoot() { std::filesystem::remove_all(dir); }
    std::filesystem::path path() const { return dir / "root"; }
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() /
        absl::StrCat("web-root-", getpid(), "-", reinterpret_cast<uintptr_t>(this));
  };

  WebRoot web_root_;
  std::shared_ptr<std::atomic<int64_t>> offset_;
  TestServer server_;
};

TEST_F(HttpTest, GetCaseOverJsonAnswersAsTheGrpcCallDoes) {
  const v1::Case c = server_.CreateReferral(server_.RegisterOrganisation("Northshire"));
  v1::GetCaseRequest request;
  request.set_case_id(c.id());
  v1::GetCaseResponse over_grpc;
  ASSERT_TRUE(server_.referrals()
                  .GetCase(WithToken(server_.case_support()).get(), request, &over_grpc)
                  .ok());

  const HttpReply reply =
      Call(kGetCase, absl::StrCat(R"({"caseId":")", c.id(), R"("})"), server_.case_support());
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.Header("content-type"), "application/json");
  v1::GetCaseResponse over_http;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(reply.body, &over_http).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(over_http, over_grpc))
      << over_http.DebugString() << "\nvs\n"
      << over_grpc.DebugString();

  // The same in the binary encoding.
  absl::StatusOr<HttpReply> binary =
      SendHttp(port(), {.target = kGetCase,
                        .headers = {{"Content-Type", "application/proto"},
                                    {"Connect-Protocol-Version", "1"},
                                    {"Authorization", "Bearer " + server_.case_support()}},
                        .body = request.SerializeAsString()});
  ASSERT_TRUE(binary.ok());
  ASSERT_EQ(binary->status, 200) << binary->body;
  EXPECT_EQ(binary->Header("content-type"), "application/proto");
  v1::GetCaseResponse decoded;
  ASSERT_TRUE(decoded.ParseFromString(binary->body));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(decoded, over_grpc));
}

TEST_F(HttpTest, EveryRpcOfTheRegistryAnswersUnauthenticatedWithoutCredentials) {
  // The registry holds every RPC the policy table names and every method the proto services
  // declare, and each is reachable by JSON.
  std::set<std::string> registered, in_policy, declared;
  for (const MethodEntry* e : Methods().All()) {
    if (absl::StartsWith(e->name, "/ppa.mediation.v1.")) registered.insert(e->name);
  }
  for (const MethodPolicy& p : MethodPolicies()) in_policy.insert(std::string(p.method));
  EXPECT_EQ(registered, in_policy);
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const char* service :
       {"AdminService", "IdentityService", "OrganisationService", "ReferralService",
        "ScreeningService", "CaseService", "ChargesService", "MediatorService", "AllocationService",
        "SchedulingService", "NotesService", "AgreementService", "CaseEventService",
        "StatisticsService", "NotificationService"}) {
    const google::protobuf::ServiceDescriptor* s =
        pool->FindServiceByName(absl::StrCat("ppa.mediation.v1.", service));
    ASSERT_NE(s, nullptr) << service;
    for (int i = 0; i < s->method_count(); ++i) {
      declared.insert(absl::StrCat("/", s->full_name(), "/", s->method(i)->name()));
    }
  }
  EXPECT_EQ(registered, declared);

  const int64_t audit_before = server_.CountRows("audit_events");
  for (const std::string& method : registered) {
    const MethodEntry* entry = Methods().Find(method);
    if (entry->server_streaming) {
      absl::StatusOr<HttpReply> reply =
          SendHttp(port(), {.target = method,
                            .headers = {{"Content-Type", "application/connect+json"},
                                        {"Connect-Protocol-Version", "1"}},
                            .body = StreamBody("{}")});
      ASSERT_TRUE(reply.ok());
      EXPECT_EQ(reply->status, 200) << method;
      const auto envelopes = Envelopes(reply->body);
      ASSERT_EQ(envelopes.size(), 1u) << method;
      EXPECT_EQ(envelopes[0].first, http::kEndStreamFlag);
      EXPECT_TRUE(absl::StrContains(envelopes[0].second, R"("code":"unauthenticated")"))
          << envelopes[0].second;
      continue;
    }
    const HttpReply reply = Call(method, "{}", "");
    EXPECT_EQ(reply.status, 401) << method << ": " << reply.body;
    EXPECT_EQ(CodeOf(reply), "unauthenticated") << method;
    EXPECT_EQ(reply.Header("cache-control"), "no-store") << method;
  }
  // Counted, not audited: calls without a token write no rows.
  EXPECT_EQ(server_.CountRows("audit_events"), audit_before);
}

TEST_F(HttpTest, ErrorsMapToTheProtocolsCodesAndStatuses) {
  const int64_t org = server_.RegisterOrganisation("Northshire");
  const v1::Case c = server_.CreateReferral(org);
  struct Cell {
    std::string name;
    HttpReply reply;
    int status;
    std::string code;
  };
  const std::string stale =
      absl::StrCat(R"({"caseId":")", c.id(),
                   R"(","expectedRevision":"99","summary":"x","updateMask":"summary",)"
                   R"("reason":"a typo"})");
  v1::Mediator mediator = ::mediation::testing::ValidMediator("Kit Shaw", "kit.shaw@example.org");
  std::string mediator_json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(mediator, &mediator_json).ok());
  const std::string register_mediator = absl::StrCat(R"({"mediator":)", mediator_json, "}");
  const std::string register_path = "/ppa.mediation.v1.MediatorService/RegisterMediator";
  EXPECT_EQ(Call(register_path, register_mediator, server_.admin_secret()).status, 200);
  const std::vector<Cell> cells = {
      {"not found", Call(kGetCase, R"({"caseId":"999"})", server_.case_support()), 404,
       "not_found"},
      {"invalid argument", Call(kGetCase, R"({"caseId":"0"})", server_.case_support()), 400,
       "invalid_argument"},
      {"permission denied", Call(kGetCase, R"({"caseId":"1"})", server_.admin_secret()), 403,
       "permission_denied"},
      {"unauthenticated", Call(kGetCase, R"({"caseId":"1"})", "ppa_not-a-token"), 401,
       "unauthenticated"},
      {"already exists", Call(register_path, register_mediator, server_.admin_secret()), 409,
       "already_exists"},
      {"aborted",
       Call("/ppa.mediation.v1.ReferralService/UpdateReferral", stale, server_.case_support()), 409,
       "aborted"},
      {"failed precondition",
       Call("/ppa.mediation.v1.CaseService/ResumeCase",
            absl::StrCat(R"({"caseId":")", c.id(), R"(","reason":"back"})"),
            server_.case_support()),
       400, "failed_precondition"},
  };
  for (const Cell& cell : cells) {
    EXPECT_EQ(cell.reply.status, cell.status) << cell.name << ": " << cell.reply.body;
    EXPECT_EQ(CodeOf(cell.reply), cell.code) << cell.name << ": " << cell.reply.body;
    EXPECT_EQ(cell.reply.Header("content-type"), "application/json") << cell.name;
  }
  EXPECT_TRUE(absl::StrContains(cells[0].reply.body, "case 999 not found")) << cells[0].reply.body;

  // Every code has the protocol's status.
  const std::pair<absl::StatusCode, int> statuses[] = {
      {absl::StatusCode::kCancelled, 499},          {absl::StatusCode::kUnknown, 500},
      {absl::StatusCode::kInvalidArgument, 400},    {absl::StatusCode::kDeadlineExceeded, 504},
      {absl::StatusCode::kNotFound, 404},           {absl::StatusCode::kAlreadyExists, 409},
      {absl::StatusCode::kPermissionDenied, 403},   {absl::StatusCode::kResourceExhausted, 429},
      {absl::StatusCode::kFailedPrecondition, 400}, {absl::StatusCode::kAborted, 409},
      {absl::StatusCode::kOutOfRange, 400},         {absl::StatusCode::kUnimplemented, 501},
      {absl::StatusCode::kInternal, 500},           {absl::StatusCode::kUnavailable, 503},
      {absl::StatusCode::kDataLoss, 500},           {absl::StatusCode::kUnauthenticated, 401}};
  for (const auto& [code, status] : statuses) {
    EXPECT_EQ(http::HttpStatusOf(code), status) << absl::StatusCodeToString(code);
  }
}

TEST_F(HttpTest, BadRequestsAreRefusedBeforeAnyHandlerAndWriteNothing) {
  const int64_t org = server_.RegisterOrganisation("Northshire");
  const int64_t cases = server_.CountRows("cases");
  const std::string token = server_.case_support();

  HttpReply malformed = Call(kCreateReferral, R"({"organisationId":)", token);
  EXPECT_EQ(malformed.status, 400) << malformed.body;
  EXPECT_EQ(CodeOf(malformed), "invalid_argument");
  EXPECT_TRUE(absl::StrContains(malformed.body, "not a valid JSON")) << malformed.body;

  HttpReply unknown = Call(
      kCreateReferral, absl::StrCat(R"({"organisationId":")", org, R"(","colour":"red"})"), token);
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_TRUE(absl::StrContains(unknown.body, "colour")) << unknown.body;

  absl::StatusOr<HttpReply> text = SendHttp(
      port(), {.target = kCreateReferral,
               .headers = {{"Content-Type", "text/plain"}, {"Authorization", "Bearer " + token}},
               .body = "{}"});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->status, 415);

  absl::StatusOr<HttpReply> oversize = SendHttp(
      port(),
      {.target = kCreateReferral,
       .headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}},
       .body = absl::StrCat(R"({"summary":")", std::string(100 * 1024, 'x'), R"("})")});
  ASSERT_TRUE(oversize.ok()) << oversize.status();
  EXPECT_EQ(oversize->status, 413);
  EXPECT_EQ(CodeOf(*oversize), "resource_exhausted");

  absl::StatusOr<HttpReply> bad_timeout =
      SendHttp(port(), {.target = kGetCase,
                        .headers = {{"Content-Type", "application/json"},
                                    {"Connect-Timeout-Ms", "soon"},
                                    {"Authorization", "Bearer " + token}},
                        .body = R"({"caseId":"1"})"});
  ASSERT_TRUE(bad_timeout.ok());
  EXPECT_EQ(bad_timeout->status, 400);
  EXPECT_TRUE(absl::StrContains(bad_timeout->body, "Connect-Timeout-Ms")) << bad_timeout->body;

  absl::StatusOr<HttpReply> unknown_method =
      SendHttp(port(), {.target = "/ppa.mediation.v1.ReferralService/DeleteEverything",
                        .headers = {{"Content-Type", "application/json"}},
                        .body = "{}"});
  ASSERT_TRUE(unknown_method.ok());
  EXPECT_EQ(unknown_method->status, 404);

  absl::StatusOr<HttpReply> get = SendHttp(port(), {.method = "GET", .target = kGetCase});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->Header("allow"), "POST");

  EXPECT_EQ(server_.CountRows("cases"), cases);
}

TEST_F(HttpTest, AStreamDeliversEnvelopesResumesByPositionAndEndsAtItsDeadline) {
  const v1::Case c = server_.CreateReferral(server_.RegisterOrganisation("Northshire"));
  auto stream = [&](const std::string& json,
                    std::vector<std::pair<std::string, std::string>> extra = {}) {
    HttpCall call{.target = kStream, .body = StreamBody(json)};
    call.headers = {{"Content-Type", "application/connect+json"},
                    {"Connect-Protocol-Version", "1"},
                    {"Authorization", "Bearer " + server_.case_support()}};
    for (auto& h : extra) call.headers.push_back(h);
    absl::StatusOr<HttpReply> reply = SendHttp(port(), call);
    EXPECT_TRUE(reply.ok());
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->Header("content-type"), "application/connect+json");
    return Envelopes(reply->body);
  };
  const auto all = stream(absl::StrCat(R"({"caseId":")", c.id(), R"(","stopAtEnd":true})"));
  ASSERT_GE(all.size(), 2u);
  v1::CaseEvent first;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(all[0].second, &first).ok());
  EXPECT_EQ(all[0].first, 0);
  EXPECT_EQ(first.case_id(), c.id());
  EXPECT_EQ(first.kind(), v1::CASE_EVENT_KIND_STATE_CHANGED);
  EXPECT_EQ(all.back().first, http::kEndStreamFlag);
  EXPECT_EQ(all.back().second, "{}");
  v1::CaseEvent last;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(all[all.size() - 2].second, &last).ok());

  // Resumed after the last position received: nothing is repeated.
  const auto resumed = stream(absl::StrCat(R"({"caseId":")", c.id(), R"(","afterPosition":")",
                                           last.position(), R"(","stopAtEnd":true})"));
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].second, "{}");

  // A stream that waits for more ends at its Connect-Timeout-Ms.
  const auto waited = stream(
      absl::StrCat(R"({"caseId":")", c.id(), R"(","afterPosition":")", last.position(), R"("})"),
      {{"Connect-Timeout-Ms", "300"}});
  ASSERT_EQ(waited.size(), 1u);
  EXPECT_TRUE(absl::StrContains(waited[0].second, R"("code":"deadline_exceeded")"))
      << waited[0].second;
}

TEST_F(HttpTest, ARevokedTokensOpenStreamEndsAtOnceOnBothTransports) {
  const std::string token = server_.IssueToken(v1::ROLE_CASE_SUPPORT);

  std::atomic<bool> http_done{false};
  HttpReply http_reply;
  std::thread http_stream([&] {
    absl::StatusOr<HttpReply> reply =
        SendHttp(port(), {.target = kStream,
                          .headers = {{"Content-Type", "application/connect+json"},
                                      {"Authorization", "Bearer " + token}},
                          .body = StreamBody("{}")});
    if (reply.ok()) http_reply = *reply;
    http_done = true;
  });
  grpc::Status grpc_status;
  std::atomic<bool> grpc_done{false};
  std::thread grpc_stream([&] {
    auto context = WithToken(token);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = server_.events().StreamCaseEvents(context.get(), {});
    v1::CaseEvent event;
    while (reader->Read(&event)) {
    }
    grpc_status = reader->Finish();
    grpc_done = true;
  });
  absl::SleepFor(absl::Milliseconds(500));  // Both streams are open and waiting.
  EXPECT_FALSE(http_done.load());
  EXPECT_FALSE(grpc_done.load());

  const absl::Time revoked = absl::Now();
  Revoke(token);
  http_stream.join();
  grpc_stream.join();
  const absl::Duration took = absl::Now() - revoked;
  std::cout << "streams ended " << absl::FormatDuration(took) << " after the revocation\n";
  // The issue's bound ("within a second"), not a speed measurement: without the revocation
  // ending them the streams would stay open until their 60 s deadline.
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_EQ(grpc_status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(grpc_status.error_message(), "revoked"));
  const auto envelopes = Envelopes(http_reply.body);
  ASSERT_FALSE(envelopes.empty());
  EXPECT_EQ(envelopes.back().first, http::kEndStreamFlag);
  EXPECT_TRUE(absl::StrContains(envelopes.back().second, R"("code":"unauthenticated")"))
      << envelopes.back().second;
}

TEST_F(HttpTest, ASessionCookieStandsForItsTokenUntilSignOutRevocationOrIdleness) {
  const int64_t org = server_.RegisterOrganisation("Northshire");
  const v1::Case c = server_.CreateReferral(org);
  const std::string get = absl::StrCat(R"({"caseId":")", c.id(), R"("})");

  absl::StatusOr<HttpReply> refused =
      SendHttp(port(), {.target = "/auth/sign-in",
                        .headers = {{"Content-Type", "application/json"}},
                        .body = R"({"token":"ppa_wrong"})"});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->Header("set-cookie"), "");

  absl::StatusOr<HttpReply> signed_in =
      SendHttp(port(), {.target = "/auth/sign-in",
                        .headers = {{"Content-Type", "application/json"}},
                        .body = nlohmann::json{{"token", server_.case_support()}}.dump()});
  ASSERT_TRUE(signed_in.ok());
  ASSERT_EQ(signed_in->status, 200) << signed_in->body;
  const std::string set_cookie = signed_in->Header("set-cookie");
  EXPECT_TRUE(absl::StrContains(set_cookie, "; HttpOnly")) << set_cookie;
  EXPECT_TRUE(absl::StrContains(set_cookie, "; SameSite=Strict")) << set_cookie;
  EXPECT_TRUE(absl::StrContains(set_cookie, "; Path=/")) << set_cookie;
  EXPECT_FALSE(absl::StrContains(set_cookie, "Secure")) << "plain HTTP: " << set_cookie;
  EXPECT_FALSE(absl::StrContains(signed_in->body, server_.case_support()));
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string session = cookie.substr(cookie.find('=') + 1);

  // Only the hash is stored.
  auto db = server_.OpenDb();
  SQLite::Statement row(*db, "SELECT id_sha256 FROM browser_sessions");
  ASSERT_TRUE(row.executeStep());
  EXPECT_EQ(std::string(static_cast<const char*>(row.getColumn(0).getBlob()),
                        row.getColumn(0).getBytes()),
            Sha256(session));
  EXPECT_EQ(server_.DiskBytes().find(session), std::string::npos);

  EXPECT_EQ(CookieCall(kGetCase, get, cookie).status, 200);
  // Same-origin pages send their Origin: accepted.
  EXPECT_EQ(CookieCall(kGetCase, get, cookie,
                       {{"Content-Type", "application/json"},
                        {"Connect-Protocol-Version", "1"},
                        {"Origin", absl::StrCat("http://127.0.0.1:", port())}})
                .status,
            200);

  // Idle longer than the limit: refused, then a new sign-in works.
  offset_->store(31 * 60);
  HttpReply idle = CookieCall(kGetCase, get, cookie);
  EXPECT_EQ(idle.status, 401);
  EXPECT_TRUE(absl::StrContains(idle.body, "without activity")) << idle.body;
  offset_->store(0);

  const std::string second = SignIn(server_.case_support());
  EXPECT_EQ(CookieCall(kGetCase, get, second).status, 200);
  absl::StatusOr<HttpReply> out =
      SendHttp(port(), {.target = "/auth/sign-out",
                        .headers = {{"Content-Type", "application/json"}, {"Cookie", second}},
                        .body = "{}"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, 200);
  EXPECT_TRUE(absl::StrContains(out->Header("set-cookie"), "Max-Age=0"));
  HttpReply after = CookieCall(kGetCase, get, second);
  EXPECT_EQ(after.status, 401);
  EXPECT_TRUE(absl::StrContains(after.body, "signed out")) << after.body;

  // Revoking the token ends its sessions at once.
  const std::string token = server_.IssueToken(v1::ROLE_CASE_SUPPORT);
  const std::string third = SignIn(token);
  EXPECT_EQ(CookieCall(kGetCase, get, third).status, 200);
  Revoke(token);
  HttpReply gone = CookieCall(kGetCase, get, third);
  EXPECT_EQ(gone.status, 401);
  EXPECT_TRUE(absl::StrContains(gone.body, "revoked")) << gone.body;
}

TEST_F(HttpTest, APartyLinkSignsThePartyInOnceByPostAndIsReplacedOrExpires) {
  const int64_t org = server_.RegisterOrganisation("Northshire");
  const v1::Case c = server_.CreateReferral(org);
  ASSERT_GE(c.parties_size(), 2);
  const int64_t first = c.parties(0).id();
  const int64_t second = c.parties(1).id();
  auto issue = [&](int64_t party, const std::string& token) {
    v1::IssuePartySignInLinkRequest request;
    request.set_case_id(c.id());
    request.set_party_id(party);
    v1::IssuePartySignInLinkResponse out;
    const grpc::Status status =
        server_.cases().IssuePartySignInLink(WithToken(token).get(), request, &out);
    return std::make_pair(status, out);
  };
  auto use = [&](const std::string& code) {
    absl::StatusOr<HttpReply> reply =
        SendHttp(port(), {.target = "/auth/party-link",
                          .headers = {{"Content-Type", "application/json"}},
                          .body = nlohmann::json{{"code", code}}.dump()});
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? *reply : HttpReply{};
  };

  // Only case support issues links, and only for a party of the case.
  EXPECT_EQ(issue(first, server_.IssueToken(v1::ROLE_ORGANISATION, 0, org)).first.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const auto [not_party, unused] = issue(first + second + 100, server_.case_support());
  EXPECT_EQ(not_party.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(not_party.error_message(), "party_id"))
      << not_party.error_message();

  const auto [issued, link] = issue(first, server_.case_support());
  ASSERT_TRUE(issued.ok()) << issued.error_message();
  EXPECT_EQ(link.path(), absl::StrCat("/app/join#", link.code()));
  EXPECT_EQ(link.code().size(), 43u);
  EXPECT_EQ(link.link().state(), v1::PARTY_SIGN_IN_LINK_STATE_ACTIVE);
  EXPECT_EQ(link.link().expires_at().seconds() - link.link().issued_at().seconds(), 72 * 3600);
  EXPECT_EQ(server_.DiskBytes().find(link.code()), std::string::npos);

  auto states = [&] {
    v1::ListPartySignInLinksRequest list;
    list.set_case_id(c.id());
    v1::ListPartySignInLinksResponse links;
    EXPECT_TRUE(server_.cases()
                    .ListPartySignInLinks(WithToken(server_.case_support()).get(), list, &links)
                    .ok());
    return links;
  };

  // Opening the link's page uses nothing.
  absl::StatusOr<HttpReply> page = SendHttp(port(), {.method = "GET", .target = "/app/join"});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  ASSERT_EQ(states().links_size(), 1);
  EXPECT_EQ(states().links(0).state(), v1::PARTY_SIGN_IN_LINK_STATE_ACTIVE);

  // The POST signs the party in: a PARTY token bound to the case and the party.
  const int64_t tokens = server_.CountRows("access_tokens");
  const HttpReply in = use(link.code());
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_EQ(in.Header("cache-control"), "no-store");
  const std::string cookie = in.Header("set-cookie").substr(0, in.Header("set-cookie").find(';'));
  EXPECT_EQ(server_.CountRows("access_tokens"), tokens + 1);
  const HttpReply me = CookieCall("/ppa.mediation.v1.IdentityService/WhoAmI", "{}", cookie);
  ASSERT_EQ(me.status, 200) << me.body;
  const nlohmann::json who = nlohmann::json::parse(me.body);
  EXPECT_EQ(who["token"]["role"], "ROLE_PARTY");
  EXPECT_EQ(who["token"]["caseId"], std::to_string(c.id()));
  EXPECT_EQ(who["token"]["partyId"], std::to_string(first));
  EXPECT_EQ(CookieCall(kGetCase, absl::StrCat(R"({"caseId":")", c.id(), R"("})"), cookie).status,
            200);

  // Twice: refused, saying what to do; nothing new.
  const HttpReply again = use(link.code());
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(CodeOf(again), "failed_precondition");
  EXPECT_TRUE(absl::StrContains(again.body, "already been used")) << again.body;
  EXPECT_EQ(again.Header("set-cookie"), "");
  EXPECT_EQ(server_.CountRows("access_tokens"), tokens + 1);

  // A new link for the same party ends the access the used one gave, at once.
  const auto [reissued, fresh] = issue(first, server_.case_support());
  ASSERT_TRUE(reissued.ok());
  EXPECT_EQ(CookieCall("/ppa.mediation.v1.IdentityService/WhoAmI", "{}", cookie).status, 401);
  const HttpReply back = use(fresh.code());
  ASSERT_EQ(back.status, 200) << back.body;

  // A second link for the other party, replaced by a third before use.
  const auto [ok2, replaced] = issue(second, server_.case_support());
  const auto [ok3, newest] = issue(second, server_.case_support());
  ASSERT_TRUE(ok2.ok() && ok3.ok());
  const HttpReply old = use(replaced.code());
  EXPECT_EQ(CodeOf(old), "failed_precondition");
  EXPECT_TRUE(absl::StrContains(old.body, "newer sign-in link")) << old.body;

  // A code never issued: UNAUTHENTICATED.
  const HttpReply forged = use("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(CodeOf(forged), "unauthenticated");

  // 72 hours on, the newest has expired.
  offset_->store(72 * 3600 + 1);
  const HttpReply late = use(newest.code());
  EXPECT_EQ(CodeOf(late), "failed_precondition");
  EXPECT_TRUE(absl::StrContains(late.body, "expired")) << late.body;

  const v1::ListPartySignInLinksResponse links = states();
  ASSERT_EQ(links.links_size(), 4);
  EXPECT_EQ(links.links(0).state(), v1::PARTY_SIGN_IN_LINK_STATE_EXPIRED);
  EXPECT_EQ(links.links(1).state(), v1::PARTY_SIGN_IN_LINK_STATE_REPLACED);
  EXPECT_EQ(links.links(1).replaced_at().seconds(), links.links(0).issued_at().seconds());
  EXPECT_EQ(links.links(2).state(), v1::PARTY_SIGN_IN_LINK_STATE_USED);
  EXPECT_EQ(links.links(3).state(), v1::PARTY_SIGN_IN_LINK_STATE_USED);
  EXPECT_EQ(links.links(3).party_token_id(), std::stoll(who["token"]["id"].get<std::string>()));

  // Each use is audited: the success with its token, the refusals with their link.
  auto db = server_.OpenDb();
  SQLite::Statement audit(*db,
                          "SELECT outcome, objects, COALESCE(token_id, 0) FROM audit_events "
                          "WHERE method = '/auth/party-link' ORDER BY id");
  std::vector<std::pair<std::string, std::string>> rows;
  std::vector<int64_t> row_tokens;
  while (audit.executeStep()) {
    rows.emplace_back(audit.getColumn(0).getString(), audit.getColumn(1).getString());
    row_tokens.push_back(audit.getColumn(2).getInt64());
  }
  const std::string used_id = std::to_string(links.links(3).id());
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].first, "OK");
  // The sign-in is the new token's: filtering the audit trail by it finds it.
  EXPECT_EQ(row_tokens[0], std::stoll(who["token"]["id"].get<std::string>()));
  EXPECT_EQ(row_tokens[1], 0);
  EXPECT_TRUE(absl::StrContains(rows[0].second, absl::StrCat("party_sign_in_link:", used_id)))
      << rows[0].second;
  EXPECT_TRUE(absl::StrContains(rows[0].second,
                                absl::StrCat("token:", who["token"]["id"].get<std::string>())))
      << rows[0].second;
  EXPECT_EQ(rows[1], std::make_pair(std::string("FAILED_PRECONDITION"),
                                    absl::StrCat("party_sign_in_link:", used_id)));
  EXPECT_EQ(rows[2].first, "OK");
  EXPECT_EQ(rows[3].second, absl::StrCat("party_sign_in_link:", links.links(1).id()));
  EXPECT_EQ(rows[4].second, absl::StrCat("party_sign_in_link:", links.links(0).id()));
}

TEST_F(HttpTest, APartyLinkIsUsedOnceWhenRacedAndNeverFromAnotherSite) {
  const int64_t org = server_.RegisterOrganisation("Northshire");
  const v1::Case c = server_.CreateReferral(org);
  v1::IssuePartySignInLinkRequest request;
  request.set_case_id(c.id());
  request.set_party_id(c.parties(0).id());
  v1::IssuePartySignInLinkResponse link;
  ASSERT_TRUE(server_.cases()
                  .IssuePartySignInLink(WithToken(server_.case_support()).get(), request, &link)
                  .ok());
  const std::string body = nlohmann::json{{"code", link.code()}}.dump();

  // From another site's page, or as a form: refused before the code is looked at.
  for (const auto& headers : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"Content-Type", "application/json"}, {"Origin", "https://evil.example"}},
           {{"Content-Type", "application/x-www-form-urlencoded"}},
           {{"Content-Type", "text/plain"}}}) {
    absl::StatusOr<HttpReply> reply =
        SendHttp(port(), {.target = "/auth/party-link", .headers = headers, .body = body});
    ASSERT_TRUE(reply.ok());
    EXPECT_TRUE(reply->status == 403 || reply->status == 415) << reply->status;
    EXPECT_EQ(reply->Header("set-cookie"), "");
  }
  EXPECT_EQ(server_.CountRows("browser_sessions"), 0);

  // Eight uses at once: exactly one signs in; the others are told it was used.
  std::vector<std::thread> racers;
  std::vector<HttpReply> replies(8);
  for (size_t i = 0; i < replies.size(); ++i) {
    racers.emplace_back([&, i] {
      absl::StatusOr<HttpReply> reply =
          SendHttp(port(), {.target = "/auth/party-link",
                            .headers = {{"Content-Type", "application/json"}},
                            .body = body});
      if (reply.ok()) replies[i] = *reply;
    });
  }
  for (std::thread& t : racers) t.join();
  int signed_in = 0;
  for (const HttpReply& reply : replies) {
    if (reply.status == 200) {
      ++signed_in;
    } else {
      EXPECT_EQ(CodeOf(reply), "failed_precondition") << reply.body;
    }
  }
  EXPECT_EQ(signed_in, 1);
  EXPECT_EQ(server_.CountRows("browser_sessions"), 1);
  EXPECT_EQ(server_.CountRows("access_tokens", "role = 'ROLE_PARTY'"), 1);
}

TEST_F(HttpTest, SigningOutEndsTheSessionsOpenStreamAtOnce) {
  namespace beast = boost::beast;
  namespace bhttp = boost::beast::http;
  const std::string cookie = SignIn(server_.case_support());
  // The stream, on a connection of its own, read as it comes.
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                static_cast<unsigned short>(port())));
  bhttp::request<bhttp::string_body> request{bhttp::verb::post, kStream, 11};
  request.set(bhttp::field::host, absl::StrCat("127.0.0.1:", port()));
  request.set(bhttp::field::content_type, "application/connect+json");
  request.set("Connect-Protocol-Version", "1");
  request.set(bhttp::field::cookie, cookie);
  request.body() = StreamBody("{}");
  request.prepare_payload();
  bhttp::write(stream, request);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  stream.expires_after(std::chrono::seconds(5));
  bhttp::read_header(stream, buffer, parser);  // The stream is open: its headers came.
  ASSERT_EQ(parser.get().result_int(), 200);

  absl::StatusOr<HttpReply> out =
      SendHttp(port(), {.target = "/auth/sign-out",
                        .headers = {{"Content-Type", "application/json"}, {"Cookie", cookie}},
                        .body = "{}"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, 200);
  // The rest of the stream arrives, ending with unauthenticated, within a second.
  stream.expires_after(std::chrono::seconds(1));
  beast::error_code ec;
  bhttp::read(stream, buffer, parser, ec);
  ASSERT_FALSE(ec) << ec.message();
  const auto envelopes = Envelopes(parser.get().body());
  ASSERT_FALSE(envelopes.empty());
  EXPECT_EQ(envelopes.back().first, http::kEndStreamFlag);
  EXPECT_TRUE(absl::StrContains(envelopes.back().second, R"("code":"unauthenticated")"))
      << envelopes.back().second;
}

TEST_F(HttpTest, MaintenanceRemovesSessionsADayAfterTheyEnded) {
  const std::string ended = SignIn(server_.case_support());
  ASSERT_TRUE(
      SendHttp(port(), {.target = "/auth/sign-out",
                        .headers = {{"Content-Type", "application/json"}, {"Cookie", ended}},
                        .body = "{}"})
          .ok());
  const std::string live = SignIn(server_.case_support());
  EXPECT_EQ(server_.CountRows("browser_sessions", "1"), 2);
  // Within the day the ended session's row stays (its end is on record); a day later it goes.
  ASSERT_TRUE(server_.server().RunMaintenance().ok());
  EXPECT_EQ(server_.CountRows("browser_sessions", "1"), 2);
  offset_->store(25 * 3600);
  ASSERT_TRUE(server_.server().RunMaintenance().ok());
  // The signed-out one is gone; the other reached its absolute end (12 hours) 13 hours ago,
  // less than a day: kept.
  EXPECT_EQ(server_.CountRows("browser_sessions", "ended_at IS NOT NULL"), 0);
  EXPECT_EQ(server_.CountRows("browser_sessions", "1"), 1);
  offset_->store(37 * 3600);
  ASSERT_TRUE(server_.server().RunMaintenance().ok());
  offset_->store(0);
  EXPECT_EQ(server_.CountRows("browser_sessions", "1"), 0);
  EXPECT_EQ(CookieCall(kGetCase, "{}", live).status, 401);
}

TEST_F(HttpTest, CrossSiteAndFormRequestsCannotActWithTheCookie) {
  const int64_t org = server_.RegisterOrganisation("Northshire");
  const std::string cookie = SignIn(server_.case_support());
  v1::CreateReferralRequest referral = ::mediation::testing::ValidReferral(org);
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(referral, &json).ok());
  const int64_t cases = server_.CountRows("cases");

  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
      attempts = {
          {"no protocol header", {{"Content-Type", "application/json"}}},
          {"a foreign Origin",
           {{"Content-Type", "application/json"},
            {"Connect-Protocol-Version", "1"},
            {"Origin", "https://evil.example"}}},
          {"a text/plain body",
           {{"Content-Type", "text/plain"}, {"Connect-Protocol-Version", "1"}}},
          {"a form body",
           {{"Content-Type", "application/x-www-form-urlencoded"},
            {"Origin", "https://evil.example"}}},
          {"a binary body",
           {{"Content-Type", "application/proto"}, {"Connect-Protocol-Version", "1"}}},
      };
  for (const auto& [name, headers] : attempts) {
    const HttpReply reply = CookieCall(kCreateReferral, json, cookie, headers);
    EXPECT_TRUE(reply.status == 403 || reply.status == 415) << name << ": " << reply.status;
    EXPECT_NE(reply.status, 200) << name;
  }
  // A foreign Origin with a bearer token is refused too (no CORS origins are listed).
  absl::StatusOr<HttpReply> bearer =
      SendHttp(port(), {.target = kCreateReferral,
                        .headers = {{"Content-Type", "application/json"},
                                    {"Origin", "https://evil.example"},
                                    {"Authorization", "Bearer " + server_.case_support()}},
                        .body = json});
  ASSERT_TRUE(bearer.ok());
  EXPECT_EQ(bearer->status, 403);
  EXPECT_EQ(server_.CountRows("cases"), cases);
  // The same request done right is accepted.
  EXPECT_EQ(CookieCall(kCreateReferral, json, cookie).status, 200);
  EXPECT_EQ(server_.CountRows("cases"), cases + 1);
}

TEST_F(HttpTest, StaticFilesStayInsideTheWebRootAndEveryAnswerHasTheSecurityHeaders) {
  auto get = [&](const std::string& target) {
    absl::StatusOr<HttpReply> reply = SendHttp(port(), {.method = "GET", .target = target});
    EXPECT_TRUE(reply.ok()) << target;
    return reply.ok() ? *reply : HttpReply{};
  };
  const HttpReply index = get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_TRUE(absl::StrContains(index.body, "<title>console</title>"));
  EXPECT_EQ(index.Header("cache-control"), "no-store");
  const HttpReply route = get("/app/cases/12/screening");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, index.body);
  const HttpReply asset = get("/assets/app-4F2K9QZX.js");
  EXPECT_EQ(asset.status, 200);
  EXPECT_EQ(asset.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(asset.Header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(get("/missing.js").status, 404);
  for (const char* escape :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt",
        "/app/../../secret.txt", "/escape.txt", "/..%2fsecret.txt"}) {
    const HttpReply reply = get(escape);
    EXPECT_TRUE(reply.status == 403 || reply.status == 404) << escape << ": " << reply.status;
    EXPECT_FALSE(absl::StrContains(reply.body, "TOP-SECRET")) << escape;
  }

  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_EQ(get("/readyz").status, 200);

  const HttpReply api = Call(kGetCase, R"({"caseId":"999"})", server_.case_support());
  for (const HttpReply* reply : {&index, &asset, &api}) {
    const std::string csp = reply->Header("content-security-policy");
    EXPECT_TRUE(absl::StrContains(csp, "default-src 'self'")) << csp;
    EXPECT_TRUE(absl::StrContains(csp, "frame-ancestors 'none'")) << csp;
    EXPECT_FALSE(absl::StrContains(csp, "unsafe-inline")) << csp;
    EXPECT_EQ(reply->Header("x-content-type-options"), "nosniff");
    EXPECT_EQ(reply->Header("referrer-policy"), "no-referrer");
    EXPECT_EQ(reply->Header("strict-transport-security"), "") << "plain HTTP";
  }
  EXPECT_EQ(api.Header("cache-control"), "no-store");
}

TEST_F(HttpTest, ASlowClientIsDisconnectedAndDelaysNobody) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string request = absl::StrCat("POST ", kGetCase, " HTTP/1.1\r\nHost: x\r\n");
  std::atomic<bool> dripping{true};
  std::atomic<int> sent{0};
  std::thread drip([&] {
    // A byte every 100 ms: the whole request would take longer than the 2-second limit.
    for (size_t i = 0; i < request.size() && dripping; ++i) {
      if (::send(fd, &request[i], 1, MSG_NOSIGNAL) != 1) break;
      ++sent;
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  absl::SleepFor(absl::Milliseconds(300));
  // Meanwhile others are served.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Call(kGetCase, R"({"caseId":"999"})", server_.case_support()).status, 404);
  }
  EXPECT_LT(sent.load(), static_cast<int>(request.size())) << "the slow client finished first";
  // The slow client is cut off at the request limit.
  char byte;
  const ssize_t got = ::recv(fd, &byte, 1, 0);
  EXPECT_LE(got, 0);
  EXPECT_LT(sent.load(), static_cast<int>(request.size()));
  dripping = false;
  drip.join();
  ::close(fd);
}

}  // namespace
}  // namespace mediation
