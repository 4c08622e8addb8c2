#include "services/core/paging.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/core/validation.h"

namespace mediation {

std::string EncodePageToken(absl::string_view listing, int64_t after_id) {
  return absl::WebSafeBase64Escape(absl::StrCat("v1:", listing, ":", after_id));
}

absl::StatusOr<storage::PageCursor> PageCursorFor(absl::string_view listing, int32_t page_size,
                                                  absl::string_view page_token) {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return FieldError("page_size",
                      absl::StrCat("must be between 1 and ", kMaxPageSize,
                                   " (or 0 for the default of ", kDefaultPageSize, ")"));
  }
  storage::PageCursor cursor;
  cursor.limit = (page_size == 0 ? kDefaultPageSize : page_size) + 1;
  if (page_token.empty()) return cursor;

  const absl::Status bad =
      FieldError("page_token", absl::StrCat("not a page token from ", listing,
                                            "; pass next_page_token from the previous response"));
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(page_token, &decoded)) return bad;
  std::vector<absl::string_view> parts = absl::StrSplit(decoded, ':');
  if (parts.size() != 3 || parts[0] != "v1" || parts[1] != listing) return bad;
  if (!absl::SimpleAtoi(parts[2], &cursor.after_id) || cursor.after_id <= 0) return bad;
  return cursor;
}

}  // namespace mediation
