// The C++ client library against the real server in-process: token, errors as absl::Status,
// and retries only for calls that are safe to repeat.
#include "clients/cpp/connection.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ppa/mediation/v1/referral.grpc.pb.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::client::Connection;
using ::mediation::client::ConnectionOptions;
using ::mediation::testing::TestServer;
using ::mediation::testing::ValidReferral;

// A loopback port nothing listens on (bound, then released).
int DeadPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::unique_ptr<Connection> Open(int port, const std::string& token) {
  ConnectionOptions options;
  options.address = absl::StrCat("127.0.0.1:", port);
  options.token = token;
  options.max_attempts = 3;
  options.initial_backoff = absl::Milliseconds(10);
  options.deadline = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<Connection>> c = Connection::Open(options);
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(*c);
}

TEST(ConnectionTest, CallsCarryTheTokenAndReturnTheServersAnswer) {
  TestServer server;
  const int64_t org = server.RegisterOrganisation("Northshire Hospitals NHS Trust");
  std::unique_ptr<Connection> c = Open(server.server().port(), server.case_support());

  v1::CreateReferralResponse created;
  ASSERT_TRUE(
      c->Call(&v1::ReferralService::Stub::CreateReferral, ValidReferral(org), &created).ok());
  v1::GetCaseRequest get;
  get.set_case_id(created.case_().id());
  v1::GetCaseResponse got;
  ASSERT_TRUE(c->Call(&v1::ReferralService::Stub::GetCase, get, &got).ok());
  EXPECT_EQ(got.case_().reference(), created.case_().reference());
  EXPECT_EQ(c->attempts(), 2);

  get.set_case_id(999999);
  const absl::Status missing = c->Call(&v1::ReferralService::Stub::GetCase, get, &got);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "case 999999 not found");

  std::unique_ptr<Connection> anonymous = Open(server.server().port(), "");
  const absl::Status refused = anonymous->Call(&v1::ReferralService::Stub::GetCase, get, &got);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated);
}

TEST(ConnectionTest, ARepeatedCreateWithAKeyReturnsTheFirstCase) {
  TestServer server;
  const int64_t org = server.RegisterOrganisation("Northshire Hospitals NHS Trust");
  std::unique_ptr<Connection> c = Open(server.server().port(), server.case_support());
  v1::CreateReferralRequest r = ValidReferral(org);
  r.set_idempotency_key("cpp-client-1");
  v1::CreateReferralResponse first, again;
  ASSERT_TRUE(c->Call(&v1::ReferralService::Stub::CreateReferral, r, &first).ok());
  ASSERT_TRUE(c->Call(&v1::ReferralService::Stub::CreateReferral, r, &again).ok());
  EXPECT_EQ(first.SerializeAsString(), again.SerializeAsString());
  EXPECT_EQ(server.CountRows("cases"), 1);
}

TEST(ConnectionTest, OnlyReadsAndKeyedWritesAreRetried) {
  std::unique_ptr<Connection> c = Open(DeadPort(), "ppa_none");
  v1::GetCaseRequest get;
  get.set_case_id(1);
  v1::GetCaseResponse got;
  EXPECT_EQ(c->Call(&v1::ReferralService::Stub::GetCase, get, &got).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(c->attempts(), 3);

  v1::CreateReferralRequest create = ValidReferral(1);
  v1::CreateReferralResponse created;
  EXPECT_EQ(c->Call(&v1::ReferralService::Stub::CreateReferral, create, &created).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(c->attempts(), 4);  // Once: it may have been applied.

  create.set_idempotency_key("retry-me");
  EXPECT_EQ(c->Call(&v1::ReferralService::Stub::CreateReferral, create, &created).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(c->attempts(), 7);
}

TEST(ConnectionTest, TheRetryRuleReadsTheApisOptions) {
  const auto* get =
      Connection::MethodFor(v1::GetCaseRequest::descriptor(), v1::GetCaseResponse::descriptor());
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->full_name(), "ppa.mediation.v1.ReferralService.GetCase");
  EXPECT_TRUE(Connection::SafeToRetry(get, v1::GetCaseRequest()));
  const auto* create = Connection::MethodFor(v1::CreateReferralRequest::descriptor(),
                                             v1::CreateReferralResponse::descriptor());
  ASSERT_NE(create, nullptr);
  v1::CreateReferralRequest r;
  EXPECT_FALSE(Connection::SafeToRetry(create, r));
  r.set_idempotency_key("k");
  EXPECT_TRUE(Connection::SafeToRetry(create, r));
  EXPECT_EQ(Connection::MethodFor(v1::GetCaseRequest::descriptor(),
                                  v1::CreateReferralResponse::descriptor()),
            nullptr);
}

TEST(ConnectionTest, UnusableOptionsAreRefused) {
  ConnectionOptions options;
  options.address = "";
  EXPECT_EQ(Connection::Open(options).status().message(), "address: must not be empty");
  options.address = "127.0.0.1:1";
  options.tls_ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(Connection::Open(options).status().message(),
            "tls_ca_file: cannot read /nonexistent/ca.pem");
  options.tls_ca_file = "";
  options.tls_cert_file = "client.pem";
  EXPECT_EQ(Connection::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mediation
