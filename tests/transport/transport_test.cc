// Transport security and limits, against the real server in-process on a loopback port, called
// through generated stubs over real TLS: TLS, mutual TLS with certificate identities mapped to
// tokens, the message size limit, concurrent streams per connection, keepalive enforcement and
// the ceiling on call duration; and the example configuration file against the real binary.
// Certificates come from deploy/make-dev-certs.sh: CTest runs it once for every test (the
// fixture transport_pki, passing the directory in MEDIATION_TEST_PKI); run by hand, the program
// makes its own (about 1 s).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/core/client_identities.h"
#include "tests/support/faulty_store.h"
#include "tests/support/server_process.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

namespace v1 = ::ppa::mediation::v1;
using ::mediation::testing::FaultPlan;
using ::mediation::testing::FaultyStores;
using ::mediation::testing::ReadAll;
using ::mediation::testing::ServerProcess;
using ::mediation::testing::TempDir;
using ::mediation::testing::TestServer;
using ::mediation::testing::WithToken;
using Clock = std::chrono::steady_clock;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Two development PKIs made by deploy/make-dev-certs.sh: "ours" (the server's certificate, and
// client certificates for spiffe://ppa/mediationctl, spiffe://ppa/stranger and
// spiffe://ppa/ghost) and "other" (another CA with its own mediationctl certificate).
class Pki {
 public:
  static const Pki& Get() {
    static const Pki pki;
    return pki;
  }
  std::string Ours(const std::string& file) const { return absl::StrCat(root_, "/ours/", file); }
  std::string Other(const std::string& file) const { return absl::StrCat(root_, "/other/", file); }

 private:
  Pki() {
    const char* made = std::getenv("MEDIATION_TEST_PKI");
    root_ = made != nullptr ? made : dir_.path().string();
    if (made != nullptr) return;
    const std::string command =
        absl::StrCat(MEDIATION_SOURCE_DIR "/tests/transport/make_pki.sh ", root_, " >/dev/null");
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  TempDir dir_;
  std::string root_;
};

std::shared_ptr<grpc::ChannelCredentials> TlsCredentials(const std::string& ca,
                                                         const std::string& client = "",
                                                         const std::string& client_key = "") {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadAll(ca);
  if (!client.empty()) {
    ssl.pem_cert_chain = ReadAll(client);
    ssl.pem_private_key = ReadAll(client_key);
  }
  return grpc::SslCredentials(ssl);
}

// A channel of its own (its own connection, never shared with another channel's).
std::shared_ptr<grpc::Channel> Connect(int port, std::shared_ptr<grpc::ChannelCredentials> creds,
                                       grpc::ChannelArguments args = {}) {
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port), std::move(creds), args);
}

// A TLS channel trusting our CA, presenting our client certificate `client` (none if empty).
std::shared_ptr<grpc::Channel> ConnectTls(int port, const std::string& client = "") {
  const Pki& pki = Pki::Get();
  return Connect(port, client.empty()
                           ? TlsCredentials(pki.Ours("ca.crt"))
                           : TlsCredentials(pki.Ours("ca.crt"), pki.Ours(client + ".crt"),
                                            pki.Ours(client + ".key")));
}

grpc::Status WhoAmI(const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
                    v1::AccessToken* out = nullptr) {
  v1::WhoAmIResponse response;
  grpc::Status status = v1::IdentityService::NewStub(channel)->WhoAmI(
      WithToken(token).get(), v1::WhoAmIRequest(), &response);
  if (out != nullptr) *out = response.token();
  return status;
}

v1::AccessToken Issue(const std::shared_ptr<grpc::Channel>& channel, const std::string& admin,
                      v1::Role role) {
  v1::IssueTokenRequest request;
  request.set_role(role);
  request.set_label("transport test");
  v1::IssueTokenResponse response;
  grpc::Status status =
      v1::AdminService::NewStub(channel)->IssueToken(WithToken(admin).get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.token();
}

// Server options for TLS with our server certificate; mutual TLS when `client_ca`.
std::function<void(ServerOptions&)> Tls(bool client_ca = false, bool require = false,
                                        const std::string& identities = "") {
  return [=](ServerOptions& o) {
    const Pki& pki = Pki::Get();
    o.tls_cert_path = pki.Ours("server.crt");
    o.tls_key_path = pki.Ours("server.key");
    if (client_ca) o.tls_client_ca_path = pki.Ours("ca.crt");
    o.require_client_cert = require;
    o.client_identities_path = identities;
  };
}

// GET /healthz over HTTPS to 127.0.0.1:`port`, offering the certificate `cert` (none when
// empty); the HTTP status, or -1 when the TLS handshake fails.
int HttpsHealth(int port, const std::string& cert = "", const std::string& key = "") {
  namespace beast = boost::beast;
  namespace bhttp = boost::beast::http;
  namespace ssl = boost::asio::ssl;
  boost::asio::io_context ioc;
  ssl::context context(ssl::context::tls_client);
  context.set_verify_mode(ssl::verify_none);  // What is tested here is the client's certificate.
  if (!cert.empty()) {
    context.use_certificate_chain_file(cert);
    context.use_private_key_file(key, ssl::context::pem);
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, context);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  beast::error_code ec;
  beast::get_lowest_layer(stream).connect(
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                     static_cast<unsigned short>(port)),
      ec);
  if (!ec) stream.handshake(ssl::stream_base::client, ec);
  bhttp::request<bhttp::empty_body> request{bhttp::verb::get, "/healthz", 11};
  request.set(bhttp::field::host, "127.0.0.1");
  if (!ec) bhttp::write(stream, request, ec);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> response;
  // TLS 1.3 finishes the client's handshake before the server checks its certificate: a
  // refusal shows as the first read failing.
  if (!ec) bhttp::read(stream, buffer, response, ec);
  return ec ? -1 : response.result_int();
}

// --- TLS -----------------------------------------------------------------------------------

TEST(TlsTest, ATlsServerRefusesAPlaintextClient) {
  TestServer server(Tls());
  const grpc::Status status = WhoAmI(
      Connect(server.server().port(), grpc::InsecureChannelCredentials()), server.admin_secret());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST(TlsTest, AClientTrustingTheServersCaIsServed) {
  TestServer server(Tls());
  v1::AccessToken me;
  const grpc::Status status =
      WhoAmI(ConnectTls(server.server().port()), server.admin_secret(), &me);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(me.role(), v1::ROLE_ADMIN);
  EXPECT_TRUE(absl::StrContains(server.Log(), "(TLS)"));
}

TEST(TlsTest, AClientTrustingAnotherCaRefusesTheServer) {
  TestServer server(Tls());
  const grpc::Status status =
      WhoAmI(Connect(server.server().port(), TlsCredentials(Pki::Get().Other("ca.crt"))),
             server.admin_secret());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST(TlsTest, ClientCertificateOptionsNeedTheClientCa) {
  TempDir dir;
  for (auto configure : {Tls(false, true), Tls(false, false, dir.File("identities"))}) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.db_path = dir.File("mediation.db");
    configure(options);
    absl::StatusOr<std::unique_ptr<MediationServer>> server = MediationServer::Start(options);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(server.status().message(), "need --tls_client_ca"))
        << server.status();
  }
}

// --- Mutual TLS ----------------------------------------------------------------------------

TEST(MutualTlsTest, AClientWithoutACertificateIsRefusedWhenOneIsRequired) {
  TestServer server(Tls(true, true));
  const grpc::Status without = WhoAmI(ConnectTls(server.server().port()), server.admin_secret());
  EXPECT_EQ(without.error_code(), grpc::StatusCode::UNAVAILABLE) << without.error_message();
  const grpc::Status with =
      WhoAmI(ConnectTls(server.server().port(), "mediationctl"), server.admin_secret());
  EXPECT_TRUE(with.ok()) << with.error_message();
  EXPECT_TRUE(absl::StrContains(server.Log(), "mutual TLS, client certificate required"));
}

TEST(MutualTlsTest, AClientWithoutACertificateUsesItsTokenWhenOneIsOptional) {
  TestServer server(Tls(true, false));
  v1::AccessToken me;
  const grpc::Status status =
      WhoAmI(ConnectTls(server.server().port()), server.admin_secret(), &me);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(me.role(), v1::ROLE_ADMIN);
}

TEST(MutualTlsTest, ACertificateFromAnotherCaIsRefusedEvenWithAValidToken) {
  for (const bool required : {true, false}) {
    TestServer server(Tls(true, required));
    const Pki& pki = Pki::Get();
    const grpc::Status status =
        WhoAmI(Connect(server.server().port(),
                       TlsCredentials(pki.Ours("ca.crt"), pki.Other("mediationctl.crt"),
                                      pki.Other("mediationctl.key"))),
               server.admin_secret());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << "required=" << required << ": " << status.error_message();
  }
}

TEST(MutualTlsTest, TheHttpListenerChecksClientCertificatesAsGrpcDoes) {
  const Pki& pki = Pki::Get();
  TestServer server([](ServerOptions& o) {
    Tls(/*client_ca=*/true, /*require=*/true)(o);
    o.http_listen = "127.0.0.1:0";
  });
  const int port = server.server().http_port();
  EXPECT_EQ(HttpsHealth(port), -1);
  EXPECT_EQ(HttpsHealth(port, pki.Other("mediationctl.crt"), pki.Other("mediationctl.key")), -1);
  EXPECT_EQ(HttpsHealth(port, pki.Ours("mediationctl.crt"), pki.Ours("mediationctl.key")), 200);
  // The watchdog's probe has no certificate: it checks that the connection is taken.
  EXPECT_TRUE(server.server().ProbeListeners(absl::Seconds(2)).ok());
}

// A server mapping spiffe://ppa/mediationctl to token 2 (the CASE_SUPPORT token each test issues
// first: the ADMIN token is 1) and spiffe://ppa/ghost to a token that does not exist.
class MappedCertificateTest : public ::testing::Test {
 protected:
  MappedCertificateTest() {
    WriteFile(files_.File("identities"),
              "# Test mapping\n"
              "uri:spiffe://ppa/mediationctl 2   # the case support team's tool\n"
              "\n"
              "uri:spiffe://ppa/ghost 99\n");
    server_ = std::make_unique<TestServer>(Tls(true, false, files_.File("identities")));
    port_ = server_->server().port();
    admin_ = server_->admin_secret();
    case_support_ = Issue(ConnectTls(port_), admin_, v1::ROLE_CASE_SUPPORT);
  }

  TempDir files_;
  std::unique_ptr<TestServer> server_;
  int port_ = 0;
  std::string admin_;
  v1::AccessToken case_support_;
};

TEST_F(MappedCertificateTest, AMappedCertificateActsAsItsTokenWithoutABearer) {
  ASSERT_EQ(case_support_.id(), 2);
  v1::AccessToken me;
  const grpc::Status status = WhoAmI(ConnectTls(port_, "mediationctl"), "", &me);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(me.id(), 2);
  EXPECT_EQ(me.role(), v1::ROLE_CASE_SUPPORT);
  EXPECT_TRUE(
      absl::StrContains(server_->Log(), "principal=token:2/ROLE_CASE_SUPPORT/certificate code=OK"));
}

TEST_F(MappedCertificateTest, AMappedCertificateHasOnlyItsTokensPermissions) {
  auto channel = ConnectTls(port_, "mediationctl");
  v1::ListTokensResponse tokens;
  const grpc::Status admin_only = v1::AdminService::NewStub(channel)->ListTokens(
      WithToken("").get(), v1::ListTokensRequest(), &tokens);
  EXPECT_EQ(admin_only.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << admin_only.error_message();

  v1::RegisterOrganisationRequest request;
  *request.mutable_organisation() = testing::ValidOrganisation("Northshire Hospitals NHS Trust");
  v1::RegisterOrganisationResponse registered;
  const grpc::Status allowed = v1::OrganisationService::NewStub(channel)->RegisterOrganisation(
      WithToken("").get(), request, &registered);
  ASSERT_TRUE(allowed.ok()) << allowed.error_message();
  // Audited against the mapped token.
  EXPECT_EQ(server_->CountRows("audit_events",
                               "method LIKE '%RegisterOrganisation' AND token_id "
                               "= 2 AND outcome = 'OK'"),
            1);
}

TEST_F(MappedCertificateTest, ABearerTokenTakesPrecedenceOverTheCertificate) {
  v1::AccessToken me;
  const grpc::Status status = WhoAmI(ConnectTls(port_, "mediationctl"), admin_, &me);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(me.id(), 1);
  EXPECT_EQ(me.role(), v1::ROLE_ADMIN);
  // Even a bad one: the certificate is no fallback for a token that fails.
  const grpc::Status bad = WhoAmI(ConnectTls(port_, "mediationctl"), "not-a-token");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(bad.error_message(), "unknown access token");
}

TEST_F(MappedCertificateTest, AnUnmappedCertificateWithoutATokenIsUnauthenticated) {
  const grpc::Status status = WhoAmI(ConnectTls(port_, "stranger"), "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "uri:spiffe://ppa/stranger"))
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "is not mapped to an access token"))
      << status.error_message();
  const grpc::Status no_certificate = WhoAmI(ConnectTls(port_), "");
  EXPECT_EQ(no_certificate.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(MappedCertificateTest, ACertificateMappedToAnUnknownTokenIsUnauthenticated) {
  const grpc::Status status = WhoAmI(ConnectTls(port_, "ghost"), "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "token 99, which does not exist"))
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(server_->Log(), "token 99 does not exist"));
}

TEST_F(MappedCertificateTest, ACertificateMappedToARevokedTokenIsUnauthenticated) {
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(2);
  v1::RevokeTokenResponse revoked;
  ASSERT_TRUE(v1::AdminService::NewStub(ConnectTls(port_))
                  ->RevokeToken(WithToken(admin_).get(), revoke, &revoked)
                  .ok());
  const grpc::Status status = WhoAmI(ConnectTls(port_, "mediationctl"), "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "access token 2 was revoked");
}

TEST(MutualTlsTest, AMalformedIdentityFileStopsTheServerNamingTheLine) {
  TempDir dir;
  WriteFile(dir.File("identities"), "uri:spiffe://ppa/a 2\n\nspiffe://ppa/b 3\n");
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.db_path = dir.File("mediation.db");
  Tls(true, false, dir.File("identities"))(options);
  absl::StatusOr<std::unique_ptr<MediationServer>> server = MediationServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      server.status().message(),
      absl::StrCat("--client_identities: ", dir.File("identities"),
                   ": line 3: 'spiffe://ppa/b' does not start with uri:, dns:, email: or cn:"));
}

// --- The mapping file, on its own ------------------------------------------------------------

TEST(ClientIdentitiesTest, MapsEachKindSkippingCommentsAndBlankLines) {
  absl::StatusOr<ClientIdentities> ids = ClientIdentities::Parse(
      "# comment\n"
      "  uri:spiffe://ppa/mediationctl\t3\n"
      "\n"
      "dns:Gateway.PPA.example 7 # the gateway\n"
      "email:ops@ppa.example 9\n"
      "cn:reporting-robot 12\n");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->size(), 4);
  EXPECT_EQ(*ids->TokenFor({"uri:spiffe://ppa/mediationctl"}), 3);
  EXPECT_EQ(*ids->TokenFor({"dns:gateway.ppa.EXAMPLE"}), 7);  // DNS names ignore case.
  EXPECT_EQ(*ids->TokenFor({"email:ops@ppa.example"}), 9);
  EXPECT_EQ(*ids->TokenFor({"cn:reporting-robot"}), 12);
  EXPECT_EQ(ids->TokenFor({"email:OPS@ppa.example"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ids->TokenFor({"uri:spiffe://ppa/Mediationctl"}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ids->TokenFor({"dns:spiffe://ppa/mediationctl"}).status().code(),
            absl::StatusCode::kNotFound);  // The kind is part of the identity.
  EXPECT_EQ(ids->token_ids(), (std::vector<int64_t>{3, 7, 9, 12}));
}

TEST(ClientIdentitiesTest, NamesTheLineAndTheProblemOfEachMistake) {
  const std::pair<const char*, const char*> cases[] = {
      {"uri:a 1\nuri:b\n", "line 2: expected '<kind>:<value> <token id>'"},
      {"uri:a 1 2\n", "line 1: expected '<kind>:<value> <token id>'"},
      {"ip:10.0.0.1 1\n", "line 1: 'ip:10.0.0.1' does not start with uri:, dns:, email: or cn:"},
      {"uri: 1\n", "line 1: 'uri:' has no value"},
      {"uri:a x\n", "line 1: 'x' is not a token id"},
      {"uri:a 0\n", "line 1: '0' is not a token id"},
      {"#\ndns:A.example 1\ndns:a.example 2\n", "line 3: 'dns:a.example' is mapped twice"},
  };
  for (const auto& [text, message] : cases) {
    absl::StatusOr<ClientIdentities> ids = ClientIdentities::Parse(text);
    ASSERT_FALSE(ids.ok()) << text;
    EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(ids.status().message(), message)) << ids.status();
  }
}

TEST(ClientIdentitiesTest, IdentitiesMappedToDifferentTokensAuthenticateNobody) {
  absl::StatusOr<ClientIdentities> ids =
      ClientIdentities::Parse("uri:spiffe://a 3\ndns:a.example 4\ncn:a 3\n");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids->TokenFor({"uri:spiffe://a", "cn:a"}), 3);
  EXPECT_EQ(ids->TokenFor({"uri:spiffe://a", "dns:a.example"}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

// --- Transport limits ----------------------------------------------------------------------

TEST(TransportLimitsTest, AnOversizedRequestIsResourceExhaustedAndChangesNothing) {
  TestServer server([](ServerOptions& o) { o.max_message_bytes = 4096; });
  v1::RegisterOrganisationRequest request;
  *request.mutable_organisation() = testing::ValidOrganisation(std::string(5000, 'x'));
  v1::RegisterOrganisationResponse response;
  const grpc::Status status = server.organisations().RegisterOrganisation(
      WithToken(server.admin_secret()).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_EQ(server.CountRows("organisations"), 0);
  // The connection stays usable for requests within the limit.
  EXPECT_TRUE(WhoAmI(server.channel(), server.admin_secret()).ok());
}

TEST(TransportLimitsTest, CallsBeyondMaxConcurrentStreamsWaitForAFreeStream) {
  TestServer server([](ServerOptions& o) { o.max_concurrent_streams = 1; });
  const std::string token = server.case_support();
  auto channel = Connect(server.server().port(), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(WhoAmI(channel, token).ok());  // Connected, the server's SETTINGS received.

  // A stream that stays open: nothing to send yet, and no end requested.
  grpc::ClientContext stream_context;
  stream_context.AddMetadata("authorization", "Bearer " + token);
  stream_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  std::unique_ptr<grpc::ClientReader<v1::CaseEvent>> stream =
      v1::CaseEventService::NewStub(channel)->StreamCaseEvents(&stream_context,
                                                               v1::StreamCaseEventsRequest());

  // The same connection has no stream left: the call waits until its deadline.
  auto short_deadline = WithToken(token);
  short_deadline->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  v1::WhoAmIResponse me;
  const grpc::Status waited =
      v1::IdentityService::NewStub(channel)->WhoAmI(short_deadline.get(), v1::WhoAmIRequest(), &me);
  EXPECT_EQ(waited.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << waited.error_message();
  // Another connection is not affected.
  EXPECT_TRUE(
      WhoAmI(Connect(server.server().port(), grpc::InsecureChannelCredentials()), token).ok());

  stream_context.TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  const grpc::Status after = WhoAmI(channel, token);
  EXPECT_TRUE(after.ok()) << after.error_message();
}

// A client sending a keepalive ping every 100 ms, with or without calls.
grpc::ChannelArguments PingingEvery100Ms() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 100);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS, 100);
  return args;
}

// Opens an event stream as `token` (client deadline `deadline`) and waits for its end.
struct StreamEnd {
  grpc::Status status;
  Clock::duration after;
};
StreamEnd StreamUntilItEnds(const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
                            std::chrono::milliseconds deadline) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token);
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  const Clock::time_point start = Clock::now();
  std::unique_ptr<grpc::ClientReader<v1::CaseEvent>> stream =
      v1::CaseEventService::NewStub(channel)->StreamCaseEvents(&context,
                                                               v1::StreamCaseEventsRequest());
  v1::CaseEvent event;
  while (stream->Read(&event)) {
  }
  StreamEnd end;
  end.status = stream->Finish();
  end.after = Clock::now() - start;
  return end;
}

TEST(TransportLimitsTest, AClientPingingTooOftenHasItsConnectionClosed) {
  TestServer server;  // The defaults: pings at most every 60 s, 2 strikes.
  const std::string token = server.case_support();
  const StreamEnd end = StreamUntilItEnds(
      Connect(server.server().port(), grpc::InsecureChannelCredentials(), PingingEvery100Ms()),
      token, std::chrono::seconds(15));
  EXPECT_EQ(end.status.error_code(), grpc::StatusCode::UNAVAILABLE) << end.status.error_message();
  EXPECT_LT(end.after, std::chrono::seconds(10));  // About 3 s here; the stream's own is 15 s.
}

TEST(TransportLimitsTest, AnEventStreamEndsWithDeadlineExceededAtTheServersCeiling) {
  TestServer server([](ServerOptions& o) {
    o.settings.max_call = absl::Seconds(1);
    o.keepalive_min_ping_interval = absl::ZeroDuration();  // The same pinging client is welcome.
  });
  const std::string token = server.case_support();
  const StreamEnd end = StreamUntilItEnds(
      Connect(server.server().port(), grpc::InsecureChannelCredentials(), PingingEvery100Ms()),
      token, std::chrono::seconds(15));
  EXPECT_EQ(end.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << end.status.error_message();
  EXPECT_TRUE(absl::StrContains(end.status.error_message(), "reconnect with after_position"))
      << end.status.error_message();
  EXPECT_GE(end.after, std::chrono::milliseconds(900));
  EXPECT_LT(end.after, std::chrono::seconds(5));
  // Calls with a shorter deadline of their own keep it.
  const StreamEnd own = StreamUntilItEnds(server.channel(), token, std::chrono::milliseconds(300));
  EXPECT_EQ(own.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_FALSE(absl::StrContains(own.status.error_message(), "after_position"));
}

TEST(TransportLimitsTest, StreamsEndingJustAsTheCeilingRingsEndOnceAndCleanly) {
  TestServer server([](ServerOptions& o) { o.settings.max_call = absl::Milliseconds(200); });
  const std::string token = server.case_support();
  // Clients cancel between 150 and 250 ms: around the ceiling, racing its alarm.
  std::vector<std::future<grpc::StatusCode>> ends;
  for (int i = 0; i < 24; ++i) {
    ends.push_back(std::async(std::launch::async, [&, i] {
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + token);
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      auto stream = server.events().StreamCaseEvents(&context, v1::StreamCaseEventsRequest());
      std::this_thread::sleep_for(std::chrono::milliseconds(150 + 4 * i));
      context.TryCancel();
      v1::CaseEvent event;
      while (stream->Read(&event)) {
      }
      return stream->Finish().error_code();
    }));
  }
  for (auto& end : ends) {
    const grpc::StatusCode code = end.get();
    EXPECT_TRUE(code == grpc::StatusCode::CANCELLED || code == grpc::StatusCode::DEADLINE_EXCEEDED)
        << code;
  }
  // The server still serves, and stops cleanly (the destructor) with no stream left behind.
  EXPECT_TRUE(WhoAmI(server.channel(), token).ok());
}

TEST(TransportLimitsTest, AUnaryCallThatWaitedPastTheCeilingIsRefusedAndChangesNothing) {
  auto plan = std::make_shared<FaultPlan>();
  TestServer server([plan](ServerOptions& o) {
    o.workers = 1;
    o.settings.max_call = absl::Milliseconds(500);
    o.store_wrapper = FaultyStores(plan);
  });
  const std::string token = server.case_support();
  // The only worker is busy with a call whose read is held.
  plan->HoldNextRead();
  std::future<grpc::Status> busy =
      std::async(std::launch::async, [&] { return WhoAmI(server.channel(), token); });
  plan->WaitUntilHeld();
  std::future<grpc::Status> queued = std::async(std::launch::async, [&] {
    v1::RegisterOrganisationRequest request;
    *request.mutable_organisation() = testing::ValidOrganisation("Northshire Hospitals NHS Trust");
    v1::RegisterOrganisationResponse response;
    return server.organisations().RegisterOrganisation(WithToken(token).get(), request, &response);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  plan->Release();
  EXPECT_TRUE(busy.get().ok());
  const grpc::Status refused = queued.get();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << refused.error_message();
  EXPECT_TRUE(absl::StrContains(refused.error_message(), "nothing was done"))
      << refused.error_message();
  EXPECT_EQ(server.CountRows("organisations"), 0);
}

TEST(TransportLimitsTest, LimitsOutOfRangeStopTheServerAtStart) {
  TempDir dir;
  const std::pair<std::function<void(ServerOptions&)>, const char*> cases[] = {
      {[](ServerOptions& o) { o.max_concurrent_streams = 0; }, "--max_concurrent_streams"},
      {[](ServerOptions& o) { o.keepalive_max_ping_strikes = -1; }, "--keepalive_max_ping_strikes"},
      {[](ServerOptions& o) { o.keepalive_min_ping_interval = absl::Seconds(-1); },
       "--keepalive_min_ping_interval_seconds"},
      {[](ServerOptions& o) { o.settings.max_call = absl::ZeroDuration(); }, "--max_call_seconds"},
      {[](ServerOptions& o) { o.max_message_bytes = 100; }, "--max_message_bytes"},
  };
  for (const auto& [configure, flag] : cases) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.db_path = dir.File("mediation.db");
    configure(options);
    absl::StatusOr<std::unique_ptr<MediationServer>> server = MediationServer::Start(options);
    ASSERT_FALSE(server.ok()) << flag;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(server.status().message(), flag)) << server.status();
  }
}

// --- The example configuration against the real binary ---------------------------------------

TEST(ExampleConfigurationTest, TheServerBinaryRunsWithTheExampleFlagfile) {
  TempDir dir;
  const Pki& pki = Pki::Get();
  WriteFile(dir.File("client-identities"), "uri:spiffe://ppa/mediationctl 1\n");
  ServerProcess server(
      {"--flagfile=" MEDIATION_SOURCE_DIR "/deploy/mediation-server.conf.example",
       "--listen=127.0.0.1:0", "--http_listen=", "--db=" + dir.File("state/mediation.db"),
       "--admin_token_file=" + dir.File("state/admin.token"),
       "--master_key_file=" + dir.File("state/master.key"), "--tls_cert=" + pki.Ours("server.crt"),
       "--tls_key=" + pki.Ours("server.key"), "--tls_client_ca=" + pki.Ours("ca.crt"),
       "--client_identities=" + dir.File("client-identities")},
      dir.File("server.log"));
  const int port = server.WaitForPort();
  ASSERT_NE(port, 0) << ReadAll(dir.File("server.log"));
  const std::string log = ReadAll(dir.File("server.log"));
  EXPECT_TRUE(absl::StrContains(log, "mutual TLS, client certificate optional")) << log;
  EXPECT_TRUE(absl::StrContains(log, "\"level\"")) << "the example asks for JSON logs: " << log;

  // The certificate mapped to the first ADMIN token acts as it.
  v1::AccessToken me;
  const grpc::Status status = WhoAmI(ConnectTls(port, "mediationctl"), "", &me);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(me.role(), v1::ROLE_ADMIN);
  EXPECT_EQ(server.SignalAndWait(SIGTERM), 0) << ReadAll(dir.File("server.log"));
}

}  // namespace
}  // namespace mediation
