// Email messages (RFC 5322 with MIME, RFC 2045-2049): one recipient, plain text and HTML as
// multipart/alternative, and for sessions an iTIP calendar part (RFC 6047: text/calendar with
// its method), the way calendar programs recognise an invitation. Every part is base64, so no
// line is too long and no text needs escaping; header values lose any CR or LF (no header can be
// injected), and non-ASCII ones are RFC 2047 encoded words. Pure.
#ifndef MEDIATION_SERVICES_RULES_EMAIL_H_
#define MEDIATION_SERVICES_RULES_EMAIL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/rules/slots.h"

namespace mediation::rules {

struct Mailbox {
  std::string name;  // May be empty.
  std::string email;
};

struct Email {
  Mailbox from;
  Mailbox to;
  std::string subject;
  std::string message_id;  // "<...@...>"
  Instant date = 0;        // UTC seconds.
  std::string text;
  std::string html;
  // An iTIP part when not empty, with its METHOD ("REQUEST", "CANCEL").
  std::string calendar;
  std::string calendar_method;
};

// The whole message, CRLF line ends. `boundary_seed` makes the MIME boundary (any text; it is
// hashed), so the same message renders the same way.
std::string RenderEmail(const Email& email, absl::string_view boundary_seed);

// The decoded text/plain part of a message RenderEmail wrote ('' when it has none).
std::string PlainTextOf(absl::string_view message);

// A header value as it may be written: CR, LF and other control characters removed, and an
// RFC 2047 "=?UTF-8?B?...?=" encoded word (split to keep lines short) when it is not ASCII.
std::string HeaderText(absl::string_view text);

// "Tue, 09 Mar 2027 10:00:00 +0000".
std::string RfcDate(Instant t);

// HTML text escaping: & < > " '.
std::string HtmlEscape(absl::string_view text);

// Fills `{{name}}` (escaped with HtmlEscape when `html`) and `{{{name}}}` (as it is) from
// `values`; a name with no value becomes empty.
std::string FillTemplate(absl::string_view tmpl,
                         const std::vector<std::pair<std::string, std::string>>& values, bool html);

}  // namespace mediation::rules

#endif  // MEDIATION_SERVICES_RULES_EMAIL_H_
