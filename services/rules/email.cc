#include "services/rules/email.h"

#include <date/date.h>

#include <functional>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace mediation::rules {
namespace {

bool IsAscii(absl::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Text without control characters (so it cannot start a new header or end this one).
std::string WithoutControls(absl::string_view text) {
  std::string out;
  for (const char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Base64 in lines of 76 characters, each ending CRLF.
std::string Base64Lines(absl::string_view data) {
  const std::string encoded = absl::Base64Escape(data);
  std::string out;
  for (size_t i = 0; i < encoded.size(); i += 76) {
    absl::StrAppend(&out, encoded.substr(i, 76), "\r\n");
  }
  return out;
}

// Splits UTF-8 text into pieces of at most `max` bytes, never inside a character.
std::vector<std::string> Utf8Chunks(absl::string_view text, size_t max) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.size(), start + max);
    while (end < text.size() && end > start &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (end == start) end = std::min(text.size(), start + max);
    out.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return out;
}

// "Name <address>" for a header, or just the address.
std::string MailboxText(const Mailbox& m) {
  const std::string email = WithoutControls(m.email);
  if (m.name.empty()) return email;
  const std::string name = WithoutControls(m.name);
  if (!IsAscii(name)) return absl::StrCat(HeaderText(name), " <", email, ">");
  return absl::StrCat("\"", absl::StrReplaceAll(name, {{"\\", "\\\\"}, {"\"", "\\\""}}), "\" <",
                      email, ">");
}

std::string Part(absl::string_view content_type, absl::string_view body) {
  return absl::StrCat("Content-Type: ", content_type,
                      "\r\nContent-Transfer-Encoding: base64\r\n\r\n", Base64Lines(body));
}

}  // namespace

std::string PlainTextOf(absl::string_view message) {
  constexpr absl::string_view kPart = "Content-Type: text/plain; charset=UTF-8\r\n";
  const size_t part = message.find(kPart);
  if (part == absl::string_view::npos) return "";
  const size_t body = message.find("\r\n\r\n", part);
  if (body == absl::string_view::npos) return "";
  const size_t end = message.find("\r\n--", body + 4);
  if (end == absl::string_view::npos) return "";
  std::string encoded;
  for (const char c : message.substr(body + 4, end - body - 4)) {
    if (c != '\r' && c != '\n') encoded.push_back(c);
  }
  std::string decoded;
  if (!absl::Base64Unescape(encoded, &decoded)) return "";
  return decoded;
}

std::string HeaderText(absl::string_view text) {
  const std::string clean = WithoutControls(text);
  if (IsAscii(clean)) return clean;
  // 45 bytes encode to 60 characters: with "=?UTF-8?B?" and "?=" a word stays under 76.
  std::string out;
  for (const std::string& chunk : Utf8Chunks(clean, 45)) {
    if (!out.empty()) out += "\r\n ";
    absl::StrAppend(&out, "=?UTF-8?B?", absl::Base64Escape(chunk), "?=");
  }
  return out;
}

std::string RfcDate(Instant t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const date::sys_seconds s{std::chrono::seconds{t}};
  const date::sys_days day = date::floor<date::days>(s);
  const date::year_month_day ymd{day};
  const auto secs = (s - day).count();
  return absl::StrFormat("%s, %02u %s %04d %02d:%02d:%02d +0000",
                         kDays[date::weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                         kMonths[static_cast<unsigned>(ymd.month()) - 1],
                         static_cast<int>(ymd.year()), static_cast<int>(secs / 3600),
                         static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
}

std::string HtmlEscape(absl::string_view text) {
  return absl::StrReplaceAll(
      text, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&#39;"}});
}

std::string FillTemplate(absl::string_view tmpl,
                         const std::vector<std::pair<std::string, std::string>>& values,
                         bool html) {
  auto value_of = [&](absl::string_view name) -> absl::string_view {
    for (const auto& [k, v] : values) {
      if (k == name) return v;
    }
    return {};
  };
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    const size_t open = tmpl.find("{{", i);
    if (open == absl::string_view::npos) {
      absl::StrAppend(&out, tmpl.substr(i));
      break;
    }
    absl::StrAppend(&out, tmpl.substr(i, open - i));
    const bool raw = tmpl.substr(open, 3) == "{{{";
    const absl::string_view closing = raw ? "}}}" : "}}";
    const size_t name_start = open + (raw ? 3 : 2);
    const size_t close = tmpl.find(closing, name_start);
    if (close == absl::string_view::npos) {
      absl::StrAppend(&out, tmpl.substr(open));
      break;
    }
    const absl::string_view value = value_of(tmpl.substr(name_start, close - name_start));
    out += (html && !raw) ? HtmlEscape(value) : std::string(value);
    i = close + closing.size();
  }
  return out;
}

std::string RenderEmail(const Email& email, absl::string_view boundary_seed) {
  const std::string boundary =
      absl::StrCat("=_ppa_", absl::Hex(std::hash<std::string_view>{}(std::string_view(
                                           boundary_seed.data(), boundary_seed.size())),
                                       absl::kZeroPad16));
  std::string out = absl::StrCat(
      "From: ", MailboxText(email.from), "\r\n", "To: ", MailboxText(email.to), "\r\n",
      "Subject: ", HeaderText(email.subject), "\r\n", "Date: ", RfcDate(email.date), "\r\n",
      "Message-ID: ", WithoutControls(email.message_id), "\r\n", "MIME-Version: 1.0\r\n",
      // Automatic messages: no out-of-office replies, please (RFC 3834).
      "Auto-Submitted: auto-generated\r\n", "Content-Type: multipart/alternative; boundary=\"",
      boundary, "\"\r\n\r\n", "This is a message in MIME format.\r\n");
  absl::StrAppend(&out, "\r\n--", boundary, "\r\n", Part("text/plain; charset=UTF-8", email.text));
  absl::StrAppend(&out, "\r\n--", boundary, "\r\n", Part("text/html; charset=UTF-8", email.html));
  if (!email.calendar.empty()) {
    absl::StrAppend(&out, "\r\n--", boundary, "\r\n",
                    Part(absl::StrCat("text/calendar; charset=UTF-8; method=",
                                      WithoutControls(email.calendar_method)),
                         email.calendar));
  }
  absl::StrAppend(&out, "\r\n--", boundary, "--\r\n");
  return out;
}

}  // namespace mediation::rules
