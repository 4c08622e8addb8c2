#include "storage/database.h"

#include <gtest/gtest.h>

namespace mediation::storage {
namespace {

TEST(HidePasswordTest, AUriPasswordIsHiddenWhereverTheTextQuotesIt) {
  const std::string uri = "postgresql://mediation:s3cr%t@db1,db2/mediation";
  EXPECT_EQ(HidePassword(uri, uri), "postgresql://mediation:[hidden]@db1,db2/mediation");
  EXPECT_EQ(HidePassword("invalid percent-encoded token: \"s3cr%t\"", uri),
            "invalid percent-encoded token: \"[hidden]\"");
}

TEST(HidePasswordTest, APasswordParameterIsHidden) {
  const std::string uri = "postgresql://db1/mediation?password=hunter22&sslmode=require";
  EXPECT_EQ(HidePassword(uri, uri), "postgresql://db1/mediation?password=[hidden]&sslmode=require");
  EXPECT_EQ(HidePassword("host=db1 password=pw2 user=m", "host=db1 password=pw2 user=m"),
            "host=db1 password=[hidden] user=m");
}

TEST(HidePasswordTest, WithoutAPasswordNothingChanges) {
  const std::string uri = "postgresql://mediation@127.0.0.1:5432/mediation";
  EXPECT_EQ(HidePassword(uri, uri), uri);
  EXPECT_EQ(HidePassword("var/mediation.db", "var/mediation.db"), "var/mediation.db");
}

}  // namespace
}  // namespace mediation::storage
