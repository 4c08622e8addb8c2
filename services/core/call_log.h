// The server's log: one structured line per call (method, principal, status code, latency), plus
// start-up, shutdown and internal-error lines. Never request bodies, note text or token secrets.
//
// Thread-safe.
#ifndef MEDIATION_SERVICES_CORE_CALL_LOG_H_
#define MEDIATION_SERVICES_CORE_CALL_LOG_H_

#include <cstdio>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mediation {

enum class LogFormat { kText, kJson };

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text);

struct CallLogEntry {
  std::string call_id;
  absl::string_view method;
  std::string principal;
  absl::string_view code;       // gRPC status code name.
  absl::string_view transport;  // "grpc" or "http".
  absl::Duration latency;
};

class CallLog {
 public:
  // Writes to `out` (not owned; must outlive the log).
  CallLog(LogFormat format, std::FILE* out) : format_(format), out_(out) {}

  void Call(const CallLogEntry& entry);
  // `message` must hold nothing confidential.
  void Info(absl::string_view message);
  void Error(absl::string_view call_id, absl::string_view message);

 private:
  void Write(absl::string_view level, absl::string_view message,
             const std::vector<std::pair<absl::string_view, std::string>>& fields);

  const LogFormat format_;
  std::FILE* const out_;
  std::mutex mu_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_CALL_LOG_H_
