#include "services/core/call_log.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace mediation {

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("--log_format: expected 'text' or 'json', got '", text, "'"));
}

void CallLog::Call(const CallLogEntry& entry) {
  Write("info", "call",
        {{"call_id", entry.call_id},
         {"method", std::string(entry.method)},
         {"transport", std::string(entry.transport)},
         {"principal", entry.principal},
         {"code", std::string(entry.code)},
         {"latency_ms", absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(entry.latency))}});
}

void CallLog::Info(absl::string_view message) { Write("info", message, {}); }

void CallLog::Error(absl::string_view call_id, absl::string_view message) {
  Write("error", message, {{"call_id", std::string(call_id)}});
}

void CallLog::Write(absl::string_view level, absl::string_view message,
                    const std::vector<std::pair<absl::string_view, std::string>>& fields) {
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::string line;
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["time"] = time;
    j["level"] = std::string(level);
    j["msg"] = std::string(message);
    for (const auto& [key, value] : fields) j[std::string(key)] = value;
    // Replace invalid UTF-8 rather than throw: a log line must never take the server down.
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = absl::StrCat(time, " ", level, " ", message);
    for (const auto& [key, value] : fields) absl::StrAppend(&line, " ", key, "=", value);
  }
  line.push_back('\n');
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace mediation
