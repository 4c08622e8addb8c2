#include "services/core/token_cache.h"

#include <gtest/gtest.h>

namespace mediation {
namespace {

using State = storage::TokenChangeState;

storage::TokenRecord Token(int64_t id) {
  storage::TokenRecord t;
  t.id = id;
  return t;
}

TEST(TokenCacheTest, KeepsWhatWasReadWhileNothingChangedUntilAChangeBegins) {
  TokenCache cache;
  const State quiet{.version = 4, .in_progress = 0};
  EXPECT_FALSE(cache.Find("a", quiet).has_value());
  cache.Insert("a", Token(1), quiet, quiet);
  ASSERT_TRUE(cache.Find("a", quiet).has_value());
  EXPECT_EQ(cache.Find("a", quiet)->id, 1);
  // A revocation begins: nothing kept is used any more, nor after it ends.
  EXPECT_FALSE(cache.Find("a", {.version = 5, .in_progress = 1}).has_value());
  EXPECT_FALSE(cache.Find("a", {.version = 6, .in_progress = 0}).has_value());
}

TEST(TokenCacheTest, NothingReadDuringOrAcrossAChangeIsKept) {
  TokenCache cache;
  const State during{.version = 5, .in_progress = 1};
  cache.Insert("a", Token(1), during, during);
  EXPECT_FALSE(cache.Find("a", during).has_value());

  const State before{.version = 6, .in_progress = 0};
  const State after{.version = 7, .in_progress = 1};
  cache.Insert("a", Token(1), before, after);
  EXPECT_FALSE(cache.Find("a", before).has_value());
  EXPECT_FALSE(cache.Find("a", after).has_value());
}

TEST(TokenCacheTest, ALookupFromAnOlderStateNeitherHitsNorDropsNewerEntries) {
  TokenCache cache;
  const State older{.version = 2, .in_progress = 0};
  const State newer{.version = 4, .in_progress = 0};
  cache.Insert("a", Token(1), newer, newer);
  EXPECT_FALSE(cache.Find("a", older).has_value());
  cache.Insert("b", Token(2), older, older);
  EXPECT_FALSE(cache.Find("b", newer).has_value());
  EXPECT_EQ(cache.Find("a", newer)->id, 1);
}

TEST(TokenCacheTest, StartsAgainWhenFull) {
  TokenCache cache(/*capacity=*/2);
  const State quiet;
  cache.Insert("a", Token(1), quiet, quiet);
  cache.Insert("b", Token(2), quiet, quiet);
  cache.Insert("c", Token(3), quiet, quiet);
  EXPECT_FALSE(cache.Find("a", quiet).has_value());
  EXPECT_FALSE(cache.Find("b", quiet).has_value());
  EXPECT_EQ(cache.Find("c", quiet)->id, 3);
}

}  // namespace
}  // namespace mediation
