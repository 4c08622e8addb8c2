#include "services/core/validation.h"

#include <gtest/gtest.h>

#include "ppa/mediation/v1/common.pb.h"

namespace mediation {
namespace {

namespace v1 = ::ppa::mediation::v1;

TEST(ValidationTest, RequiredLineIsTrimmedAndRefusesBlank) {
  Validator v;
  EXPECT_EQ(v.RequiredLine("name", "  Ann  ", 10), "Ann");
  EXPECT_TRUE(v.ok());
  v.RequiredLine("name", "   ", 10);
  EXPECT_EQ(v.status(), absl::InvalidArgumentError("name: required"));
}

TEST(ValidationTest, LengthIsCountedInCharactersNotBytes) {
  Validator v;
  v.RequiredLine("name", "Siân Llŷr", 9);  // 9 characters, 11 bytes.
  EXPECT_TRUE(v.ok()) << v.status();
  v.RequiredLine("name", "Siân Llŷr!", 9);
  EXPECT_EQ(v.status(), absl::InvalidArgumentError("name: too long: at most 9 characters"));
}

TEST(ValidationTest, SingleLinesRefuseControlCharactersButTextAllowsNewlines) {
  Validator line;
  line.RequiredLine("label", "a\nb", 10);
  EXPECT_FALSE(line.ok());
  Validator text;
  text.RequiredText("summary", "first line\nsecond\tline", 100);
  EXPECT_TRUE(text.ok());
  text.RequiredText("summary", "bell\a", 100);
  EXPECT_EQ(text.status(),
            absl::InvalidArgumentError("summary: must not contain control characters"));
}

// Found by fuzz_request_validation: an email with a control character inside was accepted.
TEST(ValidationTest, EmailsWithControlCharactersAreRefused) {
  for (const char* email :
       {"jo\x01reed@example.nhs.uk", "jo.reed@exam\x7fple.nhs.uk", "jo.reed@example.nhs\x1b.uk"}) {
    Validator v;
    v.Email("contact.email", email, /*required=*/true);
    EXPECT_EQ(v.status(), absl::InvalidArgumentError(
                              "contact.email: not an email address (expected name@domain.tld)"))
        << email;
  }
}

TEST(ValidationTest, EmailsAreLowerCasedAndImplausibleOnesRefused) {
  Validator v;
  EXPECT_EQ(v.Email("email", " Jo.Reed@Example.NHS.uk ", true), "jo.reed@example.nhs.uk");
  EXPECT_TRUE(v.ok());
  for (const char* bad : {"jo", "jo@", "@example.org", "jo@example", "jo@@example.org",
                          "jo reed@example.org", "jo@example.org."}) {
    Validator each;
    each.Email("email", bad, true);
    EXPECT_FALSE(each.ok()) << bad;
  }
  Validator optional;
  optional.Email("email", "", false);
  EXPECT_TRUE(optional.ok());
}

TEST(ValidationTest, PhonesAllowOnlyDiallingCharacters) {
  Validator v;
  v.Phone("phone", "+44 (0)20 7811-2600");
  EXPECT_TRUE(v.ok());
  v.Phone("phone", "call me");
  EXPECT_EQ(v.status(),
            absl::InvalidArgumentError("phone: may contain only digits, spaces and + ( ) -"));
}

TEST(ValidationTest, EnumsRefuseUnknownNumbersAndMissingRequiredValues) {
  Validator v;
  v.Enum("nation", v1::NATION_WALES, v1::Nation_IsValid, true);
  EXPECT_TRUE(v.ok());
  v.Enum("nation", 0, v1::Nation_IsValid, true);
  v.Enum("profession", 42, v1::Profession_IsValid, false);
  EXPECT_EQ(v.status(),
            absl::InvalidArgumentError("nation: required; profession: unknown value 42"));
}

TEST(ValidationTest, EveryProblemIsReportedTogether) {
  Validator v;
  v.RequiredLine("a", "", 5);
  v.PositiveId("b", -3);
  v.PositiveId("c", 0);
  EXPECT_EQ(v.status(),
            absl::InvalidArgumentError("a: required; b: must be a positive id; c: required"));
}

}  // namespace
}  // namespace mediation
