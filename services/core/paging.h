// Keyset pagination shared by every List RPC: page sizes, and opaque page tokens that carry the
// last id of the previous page and the name of the listing they belong to.
#ifndef MEDIATION_SERVICES_CORE_PAGING_H_
#define MEDIATION_SERVICES_CORE_PAGING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/records.h"

namespace mediation {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;

// The cursor for a request: validates `page_size` (0 means the default) and `page_token`
// (empty means the first page; a token from another listing is refused). The cursor's limit is
// one more than the page size, so the caller can tell whether another page follows.
absl::StatusOr<storage::PageCursor> PageCursorFor(absl::string_view listing, int32_t page_size,
                                                  absl::string_view page_token);

// Trims `rows` (fetched with a cursor from PageCursorFor) to the page and returns the next page
// token, empty on the last page. `id_of` gives a row's id.
template <typename Row, typename IdOf>
std::string FinishPage(absl::string_view listing, const storage::PageCursor& cursor,
                       std::vector<Row>& rows, IdOf id_of);

std::string EncodePageToken(absl::string_view listing, int64_t after_id);

template <typename Row, typename IdOf>
std::string FinishPage(absl::string_view listing, const storage::PageCursor& cursor,
                       std::vector<Row>& rows, IdOf id_of) {
  const size_t page_size = static_cast<size_t>(cursor.limit - 1);
  if (rows.size() <= page_size) return "";
  rows.resize(page_size);
  return EncodePageToken(listing, id_of(rows.back()));
}

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_PAGING_H_
