#include "clients/cli/errors.h"

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"

namespace mediation::cli {

std::string CodeName(absl::StatusCode code) {
  return absl::AsciiStrToUpper(absl::StrReplaceAll(absl::StatusCodeToString(code), {{" ", "_"}}));
}

int ReportCallError(const client::Connection& connection, const absl::Status& connected,
                    const absl::Status& status) {
  const bool transport = status.code() == absl::StatusCode::kUnavailable ||
                         status.code() == absl::StatusCode::kDeadlineExceeded;
  if (!connected.ok() && transport) {
    std::cerr << "error: cannot reach the server at " << connection.options().address << " ("
              << CodeName(status.code()) << ": " << status.message()
              << "). Is it running there, and do --addr and the TLS options match it?\n";
    return kUnreachable;
  }
  std::cerr << "error: " << CodeName(status.code()) << ": " << status.message() << "\n";
  return kServerError;
}

}  // namespace mediation::cli
