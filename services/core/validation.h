// Request validation. A Validator collects every problem in a request, each prefixed with the
// field's path ("parties[1].contact.email: ..."), and reports them together as one
// INVALID_ARGUMENT, so a caller can fix everything in one go.
#ifndef MEDIATION_SERVICES_CORE_VALIDATION_H_
#define MEDIATION_SERVICES_CORE_VALIDATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/rules/identity.h"

namespace mediation {

// INVALID_ARGUMENT "<field>: <problem>".
absl::Status FieldError(absl::string_view field, absl::string_view problem);

// Whether a trimmed, lower-cased `email` is syntactically plausible (local@domain.tld).
bool IsPlausibleEmail(absl::string_view email);

// Number of Unicode code points in UTF-8 `text`.
using rules::CodePoints;

class Validator {
 public:
  void Fail(absl::string_view field, absl::string_view problem);

  // Required single-line text: not blank after trimming, at most `max_chars` characters, no
  // control characters. Returns the trimmed text.
  std::string RequiredLine(absl::string_view field, absl::string_view value, size_t max_chars);
  // Optional single-line text: empty is fine, otherwise as RequiredLine.
  std::string OptionalLine(absl::string_view field, absl::string_view value, size_t max_chars);
  // Optional multi-line text (newlines and tabs allowed).
  std::string OptionalText(absl::string_view field, absl::string_view value, size_t max_chars);
  // Required multi-line text.
  std::string RequiredText(absl::string_view field, absl::string_view value, size_t max_chars);
  // A syntactically plausible email address (local@domain.tld), lower-cased.
  std::string Email(absl::string_view field, absl::string_view value, bool required);
  // Digits, spaces and + ( ) - only, at most 32 characters. Empty is fine.
  std::string Phone(absl::string_view field, absl::string_view value);
  void PositiveId(absl::string_view field, int64_t id);
  // A google.protobuf.Timestamp's parts: years 0001 to 9999, nanos 0 to 999,999,999. Returns
  // whether they are valid.
  bool Timestamp(absl::string_view field, int64_t seconds, int32_t nanos);

  // An enum field: `is_valid` is the generated Foo_IsValid. Zero (UNSPECIFIED) is refused when
  // `required`; a number the API does not define is always refused.
  template <typename IsValid>
  void Enum(absl::string_view field, int value, IsValid is_valid, bool required) {
    if (!is_valid(value)) {
      Fail(field, absl::StrCat("unknown value ", value));
    } else if (required && value == 0) {
      Fail(field, "required");
    }
  }

  bool ok() const { return problems_.empty(); }
  // OK, or one INVALID_ARGUMENT listing every problem.
  absl::Status status() const;

 private:
  std::vector<std::string> problems_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_VALIDATION_H_
