#include "services/core/host_port.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mediation {

absl::StatusOr<HostPort> ParseHostPort(absl::string_view listen, absl::string_view flag) {
  const size_t colon = listen.rfind(':');
  HostPort parsed;
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &parsed.port) || parsed.port < 0 ||
      parsed.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": expected host:port, got '", listen, "'"));
  }
  absl::string_view host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  parsed.host = std::string(host);
  return parsed;
}

}  // namespace mediation
