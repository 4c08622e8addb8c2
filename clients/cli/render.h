// How mediationctl prints answers: readable text for people, JSON for scripts.
//
// Text: a list answer (one repeated message field) is a table with a column per field that is
// set in some row; any other answer is `field: value` lines. Times are shown in Europe/London
// (times.h), enum values without their type prefix, money in pounds. A calendar export is printed
// as the iCalendar file itself, nothing else (so `> session.ics` gives a file a calendar opens);
// a subject access export (person export) is printed as JSON; an answer whose only content is
// one piece of multi-line text is printed as that text.
//
// JSON: the proto3 JSON mapping with the .proto field names.
#ifndef MEDIATION_CLIENTS_CLI_RENDER_H_
#define MEDIATION_CLIENTS_CLI_RENDER_H_

#include <google/protobuf/message.h>

#include <string>

namespace mediation::cli {

// Stored text is printed with terminal control characters (C0 but newline and tab, DEL, C1)
// replaced by U+FFFD.
std::string RenderText(const google::protobuf::Message& message);

// CSV (RFC 4180, CRLF lines) for spreadsheets: a list answer as a header row and a row per
// item; any other answer as field,value rows. A value starting with = + - @ (or a tab or
// carriage return) is prefixed with an apostrophe so a spreadsheet never runs it as a formula.
std::string RenderCsv(const google::protobuf::Message& message);

// One JSON document; `pretty` adds line breaks and indentation.
std::string RenderJson(const google::protobuf::Message& message, bool pretty = true);

}  // namespace mediation::cli

#endif  // MEDIATION_CLIENTS_CLI_RENDER_H_
