// Helpers shared by the storage operations. Internal to storage/: nothing above includes it.
#ifndef MEDIATION_STORAGE_SQL_UTIL_H_
#define MEDIATION_STORAGE_SQL_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/sql.h"
#include "storage/tx.h"

namespace mediation::storage {

// Runs `body` and turns a StorageError into a status, so none crosses the storage boundary.
// `body` returns absl::Status or absl::StatusOr<T>.
template <typename Fn>
auto Guard(absl::string_view operation, Fn&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const StorageError& e) {
    return StatusFromStorageError(e, operation);
  }
}

// Instants are stored as microseconds since the Unix epoch, UTC.
inline int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

inline void BindOptionalTime(Statement& st, int index, const std::optional<absl::Time>& t) {
  if (t.has_value()) {
    st.bind(index, static_cast<int64_t>(ToMicros(*t)));
  } else {
    st.bind(index);  // NULL
  }
}

inline std::optional<absl::Time> OptionalTime(const Column& c) {
  if (c.isNull()) return std::nullopt;
  return FromMicros(c.getInt64());
}

// Binds 0 as NULL: ids are positive, and 0 means "not set".
inline void BindOptionalId(Statement& st, int index, int64_t id) {
  if (id > 0) {
    st.bind(index, static_cast<int64_t>(id));
  } else {
    st.bind(index);
  }
}

inline int64_t OptionalId(const Column& c) { return c.isNull() ? 0 : c.getInt64(); }

// Enums are stored by their API name (e.g. "ROLE_ADMIN", written with the generated Foo_Name);
// `parse_fn` is the generated Foo_Parse. An unknown stored name is corruption: it throws.
template <typename E, typename ParseFn>
E EnumFromText(const std::string& text, ParseFn parse_fn) {
  E value{};
  if (!parse_fn(text, &value)) {
    throw StorageError(absl::StrCat("unknown stored enum value '", text, "'"));
  }
  return value;
}

// A list of enum values as stored: their names joined by commas ("A,B").
template <typename E, typename NameFn>
std::string EnumListText(const std::vector<E>& values, NameFn name_fn) {
  std::string out;
  for (const E& v : values) {
    if (!out.empty()) out.push_back(',');
    out.append(name_fn(v));
  }
  return out;
}

// The values of EnumListText's text; names this build does not know are skipped.
template <typename E, typename ParseFn>
std::vector<E> EnumListFromText(const std::string& text, ParseFn parse_fn) {
  std::vector<E> out;
  for (absl::string_view name : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    E value{};
    if (parse_fn(std::string(name), &value)) out.push_back(value);
  }
  return out;
}

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_SQL_UTIL_H_
