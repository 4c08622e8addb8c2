#include "services/core/token_cache.h"

#include <gtest/gtest.h>

namespace mediation {
namespace {

storage::TokenRecord Token(int64_t id) {
  storage::TokenRecord t;
  t.id = id;
  return t;
}

TEST(TokenCacheTest, KeepsWhatWasLookedUpUntilInvalidated) {
  TokenCache cache;
  EXPECT_FALSE(cache.Find("a").has_value());
  cache.Insert("a", Token(1), cache.generation());
  ASSERT_TRUE(cache.Find("a").has_value());
  EXPECT_EQ(cache.Find("a")->id, 1);
  cache.Invalidate();
  EXPECT_FALSE(cache.Find("a").has_value());
}

TEST(TokenCacheTest, ALookupThatRacedAnInvalidationIsNotKept) {
  TokenCache cache;
  const uint64_t before = cache.generation();
  cache.Invalidate();  // A revocation finished while the lookup was reading the database.
  cache.Insert("a", Token(1), before);
  EXPECT_FALSE(cache.Find("a").has_value());
  cache.Insert("a", Token(1), cache.generation());
  EXPECT_TRUE(cache.Find("a").has_value());
}

TEST(TokenCacheTest, StartsAgainWhenFull) {
  TokenCache cache(/*capacity=*/2);
  cache.Insert("a", Token(1), cache.generation());
  cache.Insert("b", Token(2), cache.generation());
  cache.Insert("c", Token(3), cache.generation());
  EXPECT_FALSE(cache.Find("a").has_value());
  EXPECT_FALSE(cache.Find("b").has_value());
  EXPECT_EQ(cache.Find("c")->id, 3);
}

}  // namespace
}  // namespace mediation
