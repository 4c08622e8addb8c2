#include "services/rules/identity.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace mediation::rules {
namespace {

// A declared conflict with Alex Morgan, as a mediator would record it.
PersonKeys Declared() { return KeysOf("Alex Morgan", "alex.morgan@hospital.example"); }

struct Variant {
  const char* what;
  const char* name;
  const char* email;
};

class LookAlikeTest : public ::testing::TestWithParam<Variant> {};

// Each spelling a person cannot tell apart on screen is the same person, for certain.
TEST_P(LookAlikeTest, MatchesAsThePlainSpellingDoes) {
  const Variant& v = GetParam();
  const PersonMatch m = MatchPerson(Declared(), KeysOf(v.name, v.email));
  EXPECT_EQ(m.match, Match::kCertain) << v.what << ": " << m.why;
}

INSTANTIATE_TEST_SUITE_P(
    Identity, LookAlikeTest,
    ::testing::Values(
        Variant{"no-break space in the name", "Alex\u00A0Morgan", "other@example.org"},
        Variant{"zero-width space in the email", "Sam Other", "alex.morgan\u200B@hospital.example"},
        Variant{"zero-width joiner and BOM in the name", "Al\u200Dex Mor\uFEFFgan",
                "other@example.org"},
        Variant{"full-width letters",
                "\uFF21\uFF4C\uFF45\uFF58 \uFF2D\uFF4F\uFF52\uFF47\uFF41\uFF4E",
                "other@example.org"},
        Variant{"Cyrillic look-alikes (a, e, o)", "Al\u0435x M\u043Erg\u0430n",
                "other@example.org"},
        Variant{"Cyrillic look-alikes in the email", "Sam Other",
                "\u0430lex.m\u043Ergan@hospital.example"},
        Variant{"combining accent", "Alex Mor\u0301gan", "other@example.org"},
        Variant{"precomposed accent", "Al\u00E9x Morgan", "other@example.org"},
        Variant{"upper case and a title", "DR. ALEX MORGAN", "other@example.org"},
        Variant{"thin and ideographic spaces", "Alex\u2009\u3000Morgan", "other@example.org"},
        Variant{"a middle initial", "Alex J. Morgan", "other@example.org"},
        Variant{"surname first with a comma", "Morgan, Alex", "other@example.org"},
        Variant{"email in capitals with spaces around", "Sam Other",
                "  ALEX.MORGAN@HOSPITAL.EXAMPLE "}),
    [](const ::testing::TestParamInfo<Variant>& info) {
      std::string name;
      for (char c : std::string(info.param.what)) name += std::isalnum(c) ? c : '_';
      return name;
    });

class NearMatchTest : public ::testing::TestWithParam<Variant> {};

// Not certain: a person has to confirm.
TEST_P(NearMatchTest, IsAPossibleConflict) {
  const Variant& v = GetParam();
  const PersonMatch m = MatchPerson(Declared(), KeysOf(v.name, v.email));
  EXPECT_EQ(m.match, Match::kPossible) << v.what << ": " << m.why;
}

INSTANTIATE_TEST_SUITE_P(
    Identity, NearMatchTest,
    ::testing::Values(Variant{"same surname, other given name", "Sam Morgan", "s@example.org"},
                      Variant{"same surname, initial only", "A. Morgan", "s@example.org"},
                      Variant{"surname alone", "Morgan", "s@example.org"},
                      Variant{"names reordered without a comma", "Morgan Alex", "s@example.org"},
                      Variant{"other middle name", "Alex James Morgan", "s@example.org"},
                      Variant{"a +tag address", "Sam Other", "alex.morgan+work@hospital.example"}),
    [](const ::testing::TestParamInfo<Variant>& info) {
      std::string name;
      for (char c : std::string(info.param.what)) name += std::isalnum(c) ? c : '_';
      return name;
    });

TEST(IdentityTest, OtherPeopleDoNotMatch) {
  EXPECT_EQ(MatchPerson(Declared(), KeysOf("Jo Reed", "jo.reed@hospital.example")).match,
            Match::kNone);
  EXPECT_EQ(MatchPerson(Declared(), KeysOf("Alex Morrison", "")).match, Match::kNone);
  // Nothing recorded matches nothing.
  EXPECT_EQ(MatchPerson(KeysOf("", ""), KeysOf("", "")).match, Match::kNone);
}

TEST(IdentityTest, EmailKeysFoldCaseSpacesAndInvisibleCharactersOnly) {
  EXPECT_EQ(EmailKey(" Alex.Morgan@Example.NHS.uk\u200B "), "alex.morgan@example.nhs.uk");
  EXPECT_EQ(EmailKey("\uFF41lex@example.org"), "alex@example.org");
  // A +tag or dots name another mailbox at some providers: kept.
  EXPECT_EQ(EmailKey("alex+rota@example.org"), "alex+rota@example.org");
  EXPECT_EQ(EmailKey("a.lex@example.org"), "a.lex@example.org");
}

TEST(IdentityTest, FoldTextFoldsEverySpaceKindAndDropsFormatCharacters) {
  EXPECT_EQ(FoldText("  Alex\u00A0MORGAN\u200B "), "alex morgan");
  EXPECT_EQ(FoldText("a\u2003\u2003b"), "a b");
  EXPECT_EQ(FoldText("\uFB01ne"), "fine");  // The "fi" ligature.
}

}  // namespace
}  // namespace mediation::rules
