// Recognising a person across records: a party of two cases, a party and a mediator's declared
// conflict, a party and a mediator. Text is compared only through these keys, so that spellings a
// person cannot tell apart on screen compare equal:
//
//   - Unicode NFKC with case folding (full-width letters, ligatures, "ǅ" and case all fold);
//   - format and zero-width characters removed (U+200B, U+200D, U+FEFF, soft hyphen...);
//   - every kind of space (no-break, thin, ideographic...) one ASCII space, runs collapsed, ends
//     trimmed;
//   - for names, accents removed (a combining acute is not a different person) and each word
//     reduced to its confusable skeleton (ICU's spoof checker, Unicode TR 39: Cyrillic "а" and
//     Latin "a" share one), titles and punctuation dropped, "Surname, Given" read as
//     "Given Surname".
//
// Pure: no gRPC, no database.
#ifndef MEDIATION_SERVICES_RULES_IDENTITY_H_
#define MEDIATION_SERVICES_RULES_IDENTITY_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mediation::rules {

// Number of Unicode code points in UTF-8 `text` (continuation bytes are not counted).
size_t CodePoints(absl::string_view text);

// NFKC case-folded, format characters removed, spaces folded and trimmed.
// "  Alex\u00A0MORGAN\u200B " -> "alex morgan".
std::string FoldText(absl::string_view text);

// The address that identifies a person across cases: FoldText with every space removed.
// Nothing else is changed: "+tag" and dots in the local part name different mailboxes at some
// providers, so two such addresses are different people for booking (see PersonMatch for
// conflicts, where they are a possible match).
std::string EmailKey(absl::string_view email);

// A name as compared: the words after folding, accent removal and confusable skeletons, titles
// (Dr, Mr, Mrs, Ms, Miss, Mx, Prof, Professor, Sir, Dame) and punctuation dropped; "Morgan, Alex"
// gives {"alex", "morgan"}.
std::vector<std::string> NameWords(absl::string_view name);

// The name's words folded, without accents, titles or punctuation, joined by single spaces (no
// skeletons, so it stays readable): "Dr. Jo  RÉED" -> "jo reed".
std::string NormaliseName(absl::string_view name);

// The keys of one person record.
struct PersonKeys {
  std::vector<std::string> name;  // NameWords.
  std::string email;              // Confusable skeleton of EmailKey ('' when none).
  std::string email_untagged;     // The same with a "+tag" removed from the local part.
};
PersonKeys KeysOf(absl::string_view name, absl::string_view email);

// How sure it is that two records are one person.
enum class Match {
  kNone,
  // Not certain: same surname with a different, shortened or missing given name, the same words
  // in another order, different middle names, or addresses equal once a "+tag" is removed. A
  // person has to confirm.
  kPossible,
  // The same address, or the same name (middle initials aside), once folded.
  kCertain,
};
struct PersonMatch {
  Match match = Match::kNone;
  std::string why;  // "same email address", "same surname, different given name"...
};
PersonMatch MatchPerson(const PersonKeys& a, const PersonKeys& b);

// The last name word, the key conflicts are looked up by ('' for an empty name).
std::string SurnameKey(const PersonKeys& keys);

}  // namespace mediation::rules

#endif  // MEDIATION_SERVICES_RULES_IDENTITY_H_
