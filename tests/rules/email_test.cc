#include "services/rules/email.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/rules/london.h"

namespace mediation::rules {
namespace {

Email Message() {
  return {.from = {"Practitioner Performance Advice", "mediation@ppa.example"},
          .to = {"Dr Zoë Reed", "zoe.reed@example.org"},
          .subject = "Invitation: Joint meeting, AM-2027-000031",
          .message_id = "<0123@ppa.example>",
          .date = 1806310800,  // Monday 29 March 2027, 09:00 UTC.
          .text = "Dear Dr Zoë Reed,\nSee you then.",
          .html = "<p>Dear Dr Zoë Reed,</p>",
          .calendar = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
          .calendar_method = "REQUEST"};
}

// The decoded body of the part whose Content-Type starts with `type`.
std::string PartBody(const std::string& message, const std::string& type) {
  const size_t at = message.find("Content-Type: " + type);
  if (at == std::string::npos) return "";
  const size_t body = message.find("\r\n\r\n", at) + 4;
  const size_t end = message.find("\r\n--", body);
  std::string encoded;
  for (absl::string_view line : absl::StrSplit(message.substr(body, end - body), "\r\n")) {
    EXPECT_LE(line.size(), 76u);
    absl::StrAppend(&encoded, line);
  }
  std::string decoded;
  EXPECT_TRUE(absl::Base64Unescape(encoded, &decoded));
  return decoded;
}

TEST(EmailTest, OneRecipientThreeAlternativesAndAnITipPart) {
  const std::string m = RenderEmail(Message(), "seed");
  EXPECT_TRUE(
      absl::StartsWith(m, "From: \"Practitioner Performance Advice\" <mediation@ppa.example>\r\n"));
  EXPECT_NE(m.find("\r\nTo: =?UTF-8?B?"), std::string::npos);  // A non-ASCII name is encoded.
  EXPECT_NE(m.find("<zoe.reed@example.org>\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nSubject: Invitation: Joint meeting, AM-2027-000031\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("\r\nDate: Mon, 29 Mar 2027 09:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nMessage-ID: <0123@ppa.example>\r\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: multipart/alternative; boundary="), std::string::npos);
  EXPECT_EQ(PartBody(m, "text/plain; charset=UTF-8"), "Dear Dr Zoë Reed,\nSee you then.");
  EXPECT_EQ(PlainTextOf(m), "Dear Dr Zoë Reed,\nSee you then.");
  EXPECT_EQ(PlainTextOf("no MIME here"), "");
  EXPECT_EQ(PartBody(m, "text/html; charset=UTF-8"), "<p>Dear Dr Zoë Reed,</p>");
  EXPECT_EQ(PartBody(m, "text/calendar; charset=UTF-8; method=REQUEST"),
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n");
  // No Cc or Bcc, ever; the same message renders the same way.
  EXPECT_EQ(m.find("\r\nCc:"), std::string::npos);
  EXPECT_EQ(m, RenderEmail(Message(), "seed"));
  // Without a calendar there is no calendar part.
  Email plain = Message();
  plain.calendar.clear();
  EXPECT_EQ(RenderEmail(plain, "seed").find("text/calendar"), std::string::npos);
}

TEST(EmailTest, HeadersCannotBeInjected) {
  Email e = Message();
  e.subject = "Hello\r\nBcc: everyone@example.org";
  e.to.name = "Jo\r\nBcc: x@example.org";
  const std::string m = RenderEmail(e, "seed");
  EXPECT_EQ(m.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(m.find("Subject: Hello  Bcc: everyone@example.org\r\n"), std::string::npos);
  // Long non-ASCII text becomes several encoded words on folded lines, none too long.
  const std::string long_name(120, 'x');
  const std::string header = HeaderText("é" + long_name);
  for (absl::string_view line : absl::StrSplit(header, "\r\n")) EXPECT_LE(line.size(), 77u);
  EXPECT_TRUE(absl::StartsWith(header, "=?UTF-8?B?"));
}

TEST(EmailTest, TemplatesEscapeValuesForHtmlUnlessTripleBraced) {
  const std::vector<std::pair<std::string, std::string>> values = {{"name", "<b>Jo & \"Al\"</b>"},
                                                                   {"link", "<a href=\"x\">x</a>"}};
  EXPECT_EQ(FillTemplate("Hi {{name}}, {{{link}}} {{missing}}.", values, true),
            "Hi &lt;b&gt;Jo &amp; &quot;Al&quot;&lt;/b&gt;, <a href=\"x\">x</a> .");
  EXPECT_EQ(FillTemplate("Hi {{name}}.", values, false), "Hi <b>Jo & \"Al\"</b>.");
  EXPECT_EQ(FillTemplate("Unclosed {{name", values, true), "Unclosed {{name");
}

TEST(EmailTest, LondonTimesForPeopleSayTheZoneAndOffset) {
  ASSERT_TRUE(CheckLondonTimeZone().ok());
  EXPECT_EQ(LondonHumanText(1806310800), "Monday 29 March 2027, 10:00 BST (UTC+01:00)");
  EXPECT_EQ(LondonHumanText(1803888000), "Monday 1 March 2027, 08:00 GMT (UTC+00:00)");
}

}  // namespace
}  // namespace mediation::rules
