// mediationctl's exit codes, the same for every command:
//   0 success; 1 the server refused the call (or, for an import, some rows); 2 a usage error
//   (a bad flag, an unreadable file); 3 the server could not be reached at all.
#ifndef MEDIATION_CLIENTS_CLI_EXIT_CODES_H_
#define MEDIATION_CLIENTS_CLI_EXIT_CODES_H_

#include <iostream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"
#include "clients/cpp/connection.h"

namespace mediation::cli {

inline constexpr int kOk = 0;
inline constexpr int kServerError = 1;
inline constexpr int kUsageError = 2;
inline constexpr int kUnreachable = 3;

// `status`'s code as the API documents it: INVALID_ARGUMENT, NOT_FOUND...
inline std::string CodeName(absl::StatusCode code) {
  return absl::AsciiStrToUpper(absl::StrReplaceAll(absl::StatusCodeToString(code), {{" ", "_"}}));
}

// Says on stderr that the server at the connection's address could not be reached, and why;
// returns kUnreachable.
inline int ReportUnreachable(const client::Connection& connection, const absl::Status& status) {
  std::cerr << "error: cannot reach the server at " << connection.options().address << " ("
            << CodeName(status.code()) << ": " << status.message()
            << "). Is it running there, and do --addr and the TLS options match it?\n";
  return kUnreachable;
}

}  // namespace mediation::cli

#endif  // MEDIATION_CLIENTS_CLI_EXIT_CODES_H_
