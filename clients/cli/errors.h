// How mediationctl ends: its exit codes, the same for every command, and how it reports a call
// that failed.
//
//   0  success
//   1  the server refused the call (or, for an import, some rows), shown as `error: CODE: message`
//      with the server's message as it is
//   2  a usage error (a bad flag, an unreadable file)
//   3  the server could not be reached: no connection could be made (nothing listening at the
//      address, a TLS handshake refused, no connection before the deadline), so nothing was sent
#ifndef MEDIATION_CLIENTS_CLI_ERRORS_H_
#define MEDIATION_CLIENTS_CLI_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "clients/cpp/connection.h"

namespace mediation::cli {

inline constexpr int kOk = 0;
inline constexpr int kServerError = 1;
inline constexpr int kUsageError = 2;
inline constexpr int kUnreachable = 3;

// A status code as the API documents it: INVALID_ARGUMENT, NOT_FOUND...
std::string CodeName(absl::StatusCode code);

// Reports a failed call on stderr and returns its exit code. `connected` is what
// Connection::Connect said before the call: a call that failed UNAVAILABLE or DEADLINE_EXCEEDED
// without a connection ever made is kUnreachable; anything else came from the server (or from a
// connection lost after it was made, when the call may have been applied) and is kServerError.
int ReportCallError(const client::Connection& connection, const absl::Status& connected,
                    const absl::Status& status);

}  // namespace mediation::cli

#endif  // MEDIATION_CLIENTS_CLI_ERRORS_H_
