// Helpers shared by the libFuzzer harnesses: text the API could really carry, and a check that
// reports a broken invariant as a crash (libFuzzer then saves the input).
#ifndef MEDIATION_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define MEDIATION_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

namespace mediation::fuzz {

// Aborts with `what` when `condition` is false: an invariant the code under test broke.
#define FUZZ_CHECK(condition, what)                                                       \
  do {                                                                                    \
    if (!(condition)) {                                                                   \
      std::fprintf(stderr, "invariant broken at %s:%d: %s\n  (%s)\n", __FILE__, __LINE__, \
                   #condition, std::string(what).c_str());                                \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF), as protobuf requires of every string field.
inline bool IsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n;
    unsigned int cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c >> 5) == 0x6) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c >> 4) == 0xE) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c >> 3) == 0x1E) {
      n = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n > text.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n;
  }
  return true;
}

// Up to `max_chars` characters of valid UTF-8, drawn so that the interesting ones are common:
// ASCII, whitespace and control characters, the separators iCalendar and emails care about,
// and 2-, 3- and 4-octet characters.
inline std::string Utf8Text(FuzzedDataProvider& fdp, size_t max_chars) {
  static constexpr const char* kPieces[] = {
      " ", "\t", "\n", "\r", "\r\n", "\x01", "\x7f", ",", ";", ":", "\\", "\"",      "@",
      ".", "-",  "/",  "é",  "€",    "𝄞",    "名",   "ß", "a", "Z", "0",  "https://"};
  std::string out;
  const size_t chars = fdp.ConsumeIntegralInRange<size_t>(0, max_chars);
  for (size_t i = 0; i < chars && fdp.remaining_bytes() > 0; ++i) {
    const uint8_t pick = fdp.ConsumeIntegral<uint8_t>();
    if (pick < 128) {
      out += static_cast<char>(pick < 32 ? 'a' + pick % 26 : pick);  // Mostly printable ASCII.
    } else {
      out += kPieces[pick % (sizeof(kPieces) / sizeof(kPieces[0]))];
    }
  }
  return out;
}

}  // namespace mediation::fuzz

#endif  // MEDIATION_TESTS_FUZZ_FUZZ_SUPPORT_H_
