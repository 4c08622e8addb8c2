// Calls without a valid token are not a disk-filling weapon: 10,000 of them from one client grow
// the database by less than 64 KiB (counted per address and minute, one row), the address is
// slowed down with RESOURCE_EXHAUSTED and the seconds to wait, a valid token from the same
// address still works, and a known but revoked token is audited as before.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::WithToken;

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

// What the database takes on disk once checkpointed: SQLite's file and WAL, or PostgreSQL's
// files for this database.
int64_t DatabaseBytes(const TestServer& server) {
  server.Checkpoint();
  if (server.on_postgres()) return server.QueryInt64("SELECT pg_database_size(current_database())");
  return FileSize(server.db_path()) + FileSize(server.db_path() + "-wal");
}

TEST(AnonymousRefusalsTest, TenThousandCallsWithoutATokenGrowTheDatabaseByLessThan64KiB) {
  TestServer server;
  const std::string desk = server.case_support();
  ASSERT_TRUE(server.server().RunMaintenance().ok());
  const int64_t before = DatabaseBytes(server);
  const int64_t audit_before = server.CountRows("audit_events");

  int unauthenticated = 0, exhausted = 0;
  std::string advice;
  for (int i = 0; i < 10000; ++i) {
    v1::WhoAmIResponse me;
    grpc::ClientContext context;
    if (i % 2 == 1) context.AddMetadata("authorization", "Bearer ppa_not_a_token_at_all");
    const grpc::Status s = server.identity().WhoAmI(&context, {}, &me);
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) ++unauthenticated;
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++exhausted;
      advice = s.error_message();
      const auto& trailers = context.GetServerTrailingMetadata();
      auto it = trailers.find("retry-after");
      ASSERT_NE(it, trailers.end());
      EXPECT_EQ(std::string(it->second.data(), it->second.size()), "1");
    }
  }
  EXPECT_EQ(unauthenticated + exhausted, 10000);
  // The burst (100) and what trickled back while the loop ran; the rest were slowed down.
  EXPECT_GE(unauthenticated, 100);
  EXPECT_GT(exhausted, 9000);
  EXPECT_TRUE(absl::StartsWith(advice,
                               "too many calls without a valid access token from this address; "
                               "retry in 1 s with a token"))
      << advice;

  // A valid token from the same address is not limited.
  v1::WhoAmIResponse me;
  EXPECT_TRUE(server.identity().WhoAmI(WithToken(desk).get(), {}, &me).ok());

  // Counted, one row for the address and minute (two at most across a minute's turn), and
  // nothing in the audit trail.
  ASSERT_TRUE(server.server().RunMaintenance().ok());
  EXPECT_LE(server.CountRows("refused_anonymous_calls"), 2);
  EXPECT_EQ(server.QueryInt64("SELECT SUM(calls) FROM refused_anonymous_calls"), 10000);
  EXPECT_EQ(server.CountRows("audit_events"), audit_before);
  EXPECT_TRUE(absl::StrContains(server.Log(), "call(s) without a valid token from 1 address(es)"))
      << server.Log().substr(0, 2000);
  const int64_t after = DatabaseBytes(server);
  EXPECT_LT(after - before, 64 * 1024) << before << " -> " << after;
}

TEST(AnonymousRefusalsTest, AKnownButRevokedTokenIsStillAuditedOneByOne) {
  TestServer server;
  const std::string token = server.IssueToken(v1::ROLE_CASE_SUPPORT);
  v1::WhoAmIResponse me;
  ASSERT_TRUE(server.identity().WhoAmI(WithToken(token).get(), {}, &me).ok());
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(me.token().id());
  v1::RevokeTokenResponse revoked;
  ASSERT_TRUE(
      server.admin().RevokeToken(WithToken(server.admin_secret()).get(), revoke, &revoked).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(server.identity().WhoAmI(WithToken(token).get(), {}, &me).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(server.CountRows("audit_events", absl::StrCat("token_id = ", revoke.token_id(),
                                                          " AND outcome = 'UNAUTHENTICATED'")),
            3);
}

}  // namespace
}  // namespace mediation
