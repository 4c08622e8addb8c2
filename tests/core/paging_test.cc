#include "services/core/paging.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace mediation {
namespace {

TEST(PagingTest, ZeroPageSizeMeansTheDefaultAndTheLimitAsksForOneMore) {
  absl::StatusOr<storage::PageCursor> cursor = PageCursorFor("ListCases", 0, "");
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->limit, kDefaultPageSize + 1);
  EXPECT_EQ(cursor->after_id, 0);
}

TEST(PagingTest, PageSizeOutOfRangeNamesTheField) {
  for (int size : {-1, kMaxPageSize + 1}) {
    absl::StatusOr<storage::PageCursor> cursor = PageCursorFor("ListCases", size, "");
    EXPECT_EQ(cursor.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(cursor.status().message(), "page_size:"));
  }
}

TEST(PagingTest, TokensRoundTripOnlyWithinTheirListing) {
  const std::string token = EncodePageToken("ListCases", 41);
  absl::StatusOr<storage::PageCursor> same = PageCursorFor("ListCases", 10, token);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->after_id, 41);
  EXPECT_EQ(PageCursorFor("ListTokens", 10, token).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PageCursorFor("ListCases", 10, "not-a-token!").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PagingTest, FinishPageTrimsTheExtraRowAndPointsAfterTheLastKeptOne) {
  absl::StatusOr<storage::PageCursor> cursor = PageCursorFor("L", 2, "");
  std::vector<int64_t> rows = {9, 8, 7};
  const std::string next = FinishPage("L", *cursor, rows, [](int64_t id) { return id; });
  EXPECT_EQ(rows, (std::vector<int64_t>{9, 8}));
  EXPECT_EQ(PageCursorFor("L", 2, next)->after_id, 8);

  std::vector<int64_t> last = {7};
  EXPECT_EQ(FinishPage("L", *cursor, last, [](int64_t id) { return id; }), "");
}

}  // namespace
}  // namespace mediation
