// The audit trail's hash chain: intact after real calls; an edited, deleted or reordered row is
// found by verification.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::WithToken;

class AuditChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int64_t org = server_.RegisterOrganisation("Trust");
    for (int i = 0; i < 3; ++i) server_.CreateReferral(org);
    v1::ListTokensResponse ignored;
    // A refused call is audited too.
    EXPECT_EQ(server_.admin().ListTokens(WithToken("").get(), {}, &ignored).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    rows_ = server_.CountRows("audit_events");
    ASSERT_GE(rows_, 6);
  }

  v1::VerifyAuditChainResponse Verify() {
    v1::VerifyAuditChainResponse out;
    grpc::Status s =
        server_.admin().VerifyAuditChain(WithToken(server_.admin_secret()).get(), {}, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  TestServer server_;
  int64_t rows_ = 0;
};

TEST_F(AuditChainTest, TheChainOfRealCallsIsIntact) {
  const v1::VerifyAuditChainResponse r = Verify();
  EXPECT_TRUE(r.intact()) << r.problem();
  EXPECT_EQ(r.rows_checked(), rows_);
  EXPECT_EQ(r.first_broken_row(), 0);
  EXPECT_EQ(r.head_hash().size(), 64u);
}

TEST_F(AuditChainTest, AnEditedRowIsFound) {
  // An edit that hides who acted: row 5 now names another token.
  ASSERT_EQ(server_.Tamper("UPDATE audit_events SET token_id = token_id + 1 WHERE id = 5"), 1);
  const v1::VerifyAuditChainResponse r = Verify();
  EXPECT_FALSE(r.intact());
  EXPECT_EQ(r.first_broken_row(), 5);
  EXPECT_EQ(r.problem(), "row 5: its contents do not match its link (edited)");
}

TEST_F(AuditChainTest, TheLastRowDeletedIsFound) {
  ASSERT_EQ(server_.Tamper(absl::StrCat("DELETE FROM audit_events WHERE id = ", rows_)), 1);
  const v1::VerifyAuditChainResponse r = Verify();
  EXPECT_FALSE(r.intact());
  EXPECT_EQ(r.first_broken_row(), rows_);
  EXPECT_EQ(r.problem(),
            absl::StrCat("row ", rows_, ": missing: the trail ends at row ", rows_ - 1,
                         " but its head names row ", rows_, " (rows were cut off the end)"));
}

TEST_F(AuditChainTest, ADeletedRowIsFound) {
  ASSERT_EQ(server_.Tamper("DELETE FROM audit_events WHERE id = 3"), 1);
  const v1::VerifyAuditChainResponse r = Verify();
  EXPECT_FALSE(r.intact());
  EXPECT_EQ(r.first_broken_row(), 4);
  EXPECT_EQ(r.problem(),
            "row 4: does not follow row 2 (a row is missing, out of order or was inserted)");
}

TEST_F(AuditChainTest, ReorderedRowsAreFound) {
  // Swap rows 3 and 4 whole (contents and links), as if they had been written the other way.
  ASSERT_EQ(server_.Tamper("UPDATE audit_events SET id = -3 WHERE id = 3"), 1);
  ASSERT_EQ(server_.Tamper("UPDATE audit_events SET id = 3 WHERE id = 4"), 1);
  ASSERT_EQ(server_.Tamper("UPDATE audit_events SET id = 4 WHERE id = -3"), 1);
  const v1::VerifyAuditChainResponse r = Verify();
  EXPECT_FALSE(r.intact());
  EXPECT_EQ(r.first_broken_row(), 3);
}

TEST_F(AuditChainTest, RowsAppendedAfterTamperingDoNotHideIt) {
  ASSERT_EQ(server_.Tamper("UPDATE audit_events SET method = 'x' WHERE id = 2"), 1);
  server_.CreateReferral(server_.RegisterOrganisation("Another Trust"));
  const v1::VerifyAuditChainResponse r = Verify();
  EXPECT_FALSE(r.intact());
  EXPECT_EQ(r.first_broken_row(), 2);
}

}  // namespace
}  // namespace mediation
