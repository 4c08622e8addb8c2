#include "services/core/validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"

namespace mediation {
namespace {

// C0 controls and DEL (newlines and tabs allowed in multi-line text), and C1 controls
// (U+0080 to U+009F, UTF-8 C2 80 to C2 9F: a terminal reads U+009B as the start of an escape
// sequence).
bool HasControl(absl::string_view text, bool allow_newlines) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0x7f) return true;
    if (c < 0x20 && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t'))) return true;
    if (c == 0xC2 && i + 1 < text.size()) {
      const unsigned char next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return true;
    }
  }
  return false;
}

}  // namespace

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

bool IsPlausibleEmail(absl::string_view email) {
  const size_t at = email.find('@');
  return email.size() <= 254 && at != absl::string_view::npos && at > 0 && at <= 64 &&
         email.find('@', at + 1) == absl::string_view::npos &&
         email.find('.', at + 2) != absl::string_view::npos && email.back() != '.' &&
         email.find_first_of(" ,;<>()[]\\\"") == absl::string_view::npos &&
         !HasControl(email, /*allow_newlines=*/false);
}

void Validator::Fail(absl::string_view field, absl::string_view problem) {
  problems_.push_back(absl::StrCat(field, ": ", problem));
}

std::string Validator::OptionalLine(absl::string_view field, absl::string_view value,
                                    size_t max_chars) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(value);
  if (HasControl(trimmed, /*allow_newlines=*/false)) {
    Fail(field, "must be a single line without control characters");
  } else if (CodePoints(trimmed) > max_chars) {
    Fail(field, absl::StrCat("too long: at most ", max_chars, " characters"));
  }
  return std::string(trimmed);
}

std::string Validator::RequiredLine(absl::string_view field, absl::string_view value,
                                    size_t max_chars) {
  std::string trimmed = OptionalLine(field, value, max_chars);
  if (trimmed.empty()) Fail(field, "required");
  return trimmed;
}

std::string Validator::OptionalText(absl::string_view field, absl::string_view value,
                                    size_t max_chars) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(value);
  if (HasControl(trimmed, /*allow_newlines=*/true)) {
    Fail(field, "must not contain control characters");
  } else if (CodePoints(trimmed) > max_chars) {
    Fail(field, absl::StrCat("too long: at most ", max_chars, " characters"));
  }
  return std::string(trimmed);
}

std::string Validator::RequiredText(absl::string_view field, absl::string_view value,
                                    size_t max_chars) {
  std::string trimmed = OptionalText(field, value, max_chars);
  if (trimmed.empty()) Fail(field, "required");
  return trimmed;
}

std::string Validator::Email(absl::string_view field, absl::string_view value, bool required) {
  const std::string email = absl::AsciiStrToLower(absl::StripAsciiWhitespace(value));
  if (email.empty()) {
    if (required) Fail(field, "required");
    return email;
  }
  // The value is not echoed: it may be huge, and an error message travels in metadata.
  if (!IsPlausibleEmail(email)) Fail(field, "not an email address (expected name@domain.tld)");
  return email;
}

std::string Validator::Phone(absl::string_view field, absl::string_view value) {
  const std::string phone(absl::StripAsciiWhitespace(value));
  if (phone.size() > 32) {
    Fail(field, "too long: at most 32 characters");
  } else if (phone.find_first_not_of("0123456789 +()-") != std::string::npos) {
    Fail(field, "may contain only digits, spaces and + ( ) -");
  }
  return phone;
}

void Validator::PositiveId(absl::string_view field, int64_t id) {
  if (id <= 0) Fail(field, id == 0 ? "required" : "must be a positive id");
}

bool Validator::Timestamp(absl::string_view field, int64_t seconds, int32_t nanos) {
  constexpr int64_t kMinSeconds = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  if (seconds < kMinSeconds || seconds > kMaxSeconds || nanos < 0 || nanos > 999999999) {
    Fail(field, "not a valid timestamp (years 0001 to 9999, nanos 0 to 999999999)");
    return false;
  }
  return true;
}

absl::Status Validator::status() const {
  if (problems_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems_, "; "));
}

}  // namespace mediation
