// Request messages from command-line flags: `--case-id=12`, `--parties.0.contact.name="Dr A"`,
// `--role=case-support`, `--window-first-day=2026-12-01`, `--start="2026-12-01 09:30"`.
//
// A flag names a field by its path from the request (dots between fields, an index after a
// repeated message field). Dashes and underscores are the same. The tail of a path is enough
// when it names one field, or one field less deep than the others (`--contact.name` for
// `mediator.contact.name`; `--name` for `organisation.name`, not `organisation.contact.name`).
// Values are read by the field's type:
//   numbers and strings   as written; a repeated field takes the flag once per value, or a list
//                         separated by commas (for numbers and enum values)
//   booleans              `--accept` alone means true; or true/false, yes/no
//   enum values           the value's name, with or without its type prefix, any case, dashes
//                         or underscores: `case-support` = `CASE_SUPPORT` = `ROLE_CASE_SUPPORT`
//   Date                  YYYY-MM-DD
//   TimeOfDay             HH:MM
//   Timestamp             as mediationctl prints one, `2026-12-01 09:30 GMT`; a London time
//                         without the zone, `2026-12-01 09:30`; or RFC 3339 (`...T09:30:00Z`,
//                         `...+01:00`): see times.h
//   any other message     a JSON object (proto3 JSON mapping)
#ifndef MEDIATION_CLIENTS_CLI_REQUEST_FIELDS_H_
#define MEDIATION_CLIENTS_CLI_REQUEST_FIELDS_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace mediation::cli {

// One flag a request accepts, for help: `path` has `N` where an index goes.
struct FieldFlag {
  std::string path;
  const google::protobuf::FieldDescriptor* field;
  std::string type;  // What to write, e.g. "YYYY-MM-DD", "integer", "one of: A, B".
};

// An enum value's name without the prefix every value of its type shares:
// ROLE_CASE_SUPPORT -> CASE_SUPPORT. What help shows, flags accept and tables print.
std::string EnumShortName(const google::protobuf::EnumValueDescriptor* v);

// Every flag `type` accepts, nested messages flattened (to a few levels), in field order.
std::vector<FieldFlag> FlagsOf(const google::protobuf::Descriptor* type);

// Sets the field at `path` (as the user wrote it) in `message` from `value`; `list_separator`
// (when not 0) splits a value for a repeated field of any type into several. INVALID_ARGUMENT
// names the flag and says what is wrong.
absl::Status SetField(google::protobuf::Message* message, const std::string& path,
                      const std::string& value, bool value_given, char list_separator = 0);

// Whether `path` names a boolean field of `type` (so `--path` alone is a complete flag).
bool IsBoolField(const google::protobuf::Descriptor* type, const std::string& path);

}  // namespace mediation::cli

#endif  // MEDIATION_CLIENTS_CLI_REQUEST_FIELDS_H_
