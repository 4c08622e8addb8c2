#include "services/rules/identity.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace mediation::rules {
namespace {

// ICU's normalisers and a spoof checker, made once; both are safe to share between threads
// for these const operations.
struct Icu {
  const icu::Normalizer2* nfkc_casefold = nullptr;
  const icu::Normalizer2* nfd = nullptr;
  USpoofChecker* spoof = nullptr;
};

const Icu& TheIcu() {
  static const Icu icu = [] {
    Icu out;
    UErrorCode status = U_ZERO_ERROR;
    out.nfkc_casefold = icu::Normalizer2::getNFKCCasefoldInstance(status);
    out.nfd = icu::Normalizer2::getNFDInstance(status);
    out.spoof = uspoof_open(&status);
    if (U_FAILURE(status)) {
      // The ICU data ships with libicu; without it no name could be compared safely.
      std::cerr << "ICU could not load its normalisation or confusables data: "
                << u_errorName(status) << "\n";
      std::abort();
    }
    return out;
  }();
  return icu;
}

bool IsSpace(UChar32 c) { return u_isUWhiteSpace(c) || u_charType(c) == U_SPACE_SEPARATOR; }

// NFKC case fold, format characters dropped, spaces folded, trimmed; as UTF-16.
icu::UnicodeString Fold(absl::string_view text) {
  const Icu& icu = TheIcu();
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString folded = icu.nfkc_casefold->normalize(
      icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), text.size())), status);
  if (U_FAILURE(status)) return {};  // Ill-formed UTF-8 never passes validation anyway.
  icu::UnicodeString out;
  bool pending_space = false;
  for (int32_t i = 0; i < folded.length();) {
    const UChar32 c = folded.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) == U_FORMAT_CHAR ||
        u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) {
      continue;
    }
    if (IsSpace(c) || u_iscntrl(c)) {
      pending_space = !out.isEmpty();
      continue;
    }
    if (pending_space) out.append(static_cast<UChar>(' '));
    pending_space = false;
    out.append(c);
  }
  return out;
}

std::string Utf8(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

// Accents removed (NFD, then every nonspacing mark dropped).
icu::UnicodeString WithoutMarks(const icu::UnicodeString& s) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString decomposed = TheIcu().nfd->normalize(s, status);
  if (U_FAILURE(status)) return s;
  icu::UnicodeString out;
  for (int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) != U_NON_SPACING_MARK) out.append(c);
  }
  return out;
}

// The confusable skeleton (UTS #39), folded again so its case never matters.
std::string Skeleton(const icu::UnicodeString& s) {
  if (s.isEmpty()) return {};
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString skeleton;
  uspoof_getSkeletonUnicodeString(TheIcu().spoof, 0, s, skeleton, &status);
  if (U_FAILURE(status)) return Utf8(s);
  return Utf8(Fold(Utf8(skeleton)));
}

bool IsInitial(const std::string& word) {
  const icu::UnicodeString w = icu::UnicodeString::fromUTF8(word);
  return w.countChar32() == 1;
}

}  // namespace

std::string FoldText(absl::string_view text) { return Utf8(Fold(text)); }

std::string EmailKey(absl::string_view email) {
  std::string out;
  for (char c : Utf8(Fold(email))) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

namespace {

// The words of a name, folded and without accents; as confusable skeletons when `skeletons`.
std::vector<std::string> Words(absl::string_view name, bool skeletons) {
  icu::UnicodeString text = WithoutMarks(Fold(name));
  // "Morgan, Alex": the surname first, as registers write it.
  if (const int32_t comma = text.indexOf(static_cast<UChar>(','));
      comma >= 0 && text.indexOf(static_cast<UChar>(','), comma + 1) < 0) {
    icu::UnicodeString surname(text, 0, comma);
    icu::UnicodeString given(text, comma + 1);
    text = given;
    text.append(static_cast<UChar>(' ')).append(surname);
  }
  // Letters and digits make words; apostrophes vanish (O'Neill is ONeill); anything else
  // separates.
  std::vector<icu::UnicodeString> words(1);
  for (int32_t i = 0; i < text.length();) {
    const UChar32 c = text.char32At(i);
    i += U16_LENGTH(c);
    if (c == '\'' || c == 0x2019 || c == 0x02BC) continue;
    if (u_isalnum(c)) {
      words.back().append(c);
    } else if (!words.back().isEmpty()) {
      words.emplace_back();
    }
  }
  if (words.back().isEmpty()) words.pop_back();
  static constexpr absl::string_view kTitles[] = {"dr",   "mr",   "mrs",      "ms",   "miss",
                                                  "mx",   "prof", "sir",      "dame", "lady",
                                                  "lord", "rev",  "professor"};
  size_t first = 0;
  while (words.size() - first > 1 && std::find(std::begin(kTitles), std::end(kTitles),
                                               Utf8(words[first])) != std::end(kTitles)) {
    ++first;
  }
  std::vector<std::string> out;
  for (size_t i = first; i < words.size(); ++i) {
    out.push_back(skeletons ? Skeleton(words[i]) : Utf8(words[i]));
  }
  return out;
}

}  // namespace

std::vector<std::string> NameWords(absl::string_view name) { return Words(name, true); }

std::string NormaliseName(absl::string_view name) { return absl::StrJoin(Words(name, false), " "); }

PersonKeys KeysOf(absl::string_view name, absl::string_view email) {
  PersonKeys k;
  k.name = NameWords(name);
  const std::string key = EmailKey(email);
  k.email = Skeleton(icu::UnicodeString::fromUTF8(key));
  const size_t at = k.email.rfind('@');
  if (at != std::string::npos) {
    const size_t plus = k.email.find('+');
    k.email_untagged = plus != std::string::npos && plus < at
                           ? k.email.substr(0, plus) + k.email.substr(at)
                           : k.email;
  } else {
    k.email_untagged = k.email;
  }
  return k;
}

std::string SurnameKey(const PersonKeys& keys) { return keys.name.empty() ? "" : keys.name.back(); }

PersonMatch MatchPerson(const PersonKeys& a, const PersonKeys& b) {
  if (!a.email.empty() && a.email == b.email) return {Match::kCertain, "same email address"};
  const std::vector<std::string>& x = a.name;
  const std::vector<std::string>& y = b.name;
  if (!x.empty() && x == y) return {Match::kCertain, "same name"};
  const bool same_ends =
      x.size() >= 2 && y.size() >= 2 && x.front() == y.front() && x.back() == y.back();
  auto initials_only = [](const std::vector<std::string>& w) {
    return std::all_of(w.begin() + 1, w.end() - 1, IsInitial);
  };
  if (same_ends && initials_only(x) && initials_only(y)) {
    return {Match::kCertain, "same name, middle initials aside"};
  }
  if (!a.email_untagged.empty() && a.email_untagged == b.email_untagged) {
    return {Match::kPossible, "same email address once its +tag is removed"};
  }
  if (same_ends) return {Match::kPossible, "same first and last names, different middle names"};
  if (!x.empty() && !y.empty()) {
    if (x.size() == y.size() && std::is_permutation(x.begin(), x.end(), y.begin())) {
      return {Match::kPossible, "the same names in another order"};
    }
    if (x.back() == y.back()) {
      return {Match::kPossible, x.size() == 1 || y.size() == 1
                                    ? "same surname, no given name on one record"
                                    : "same surname, different given name"};
    }
  }
  return {};
}

size_t CodePoints(absl::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace mediation::rules
