// The host:port of a listening flag (--listen, --http_listen), read one way for every listener.
#ifndef MEDIATION_SERVICES_CORE_HOST_PORT_H_
#define MEDIATION_SERVICES_CORE_HOST_PORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mediation {

struct HostPort {
  std::string host;  // Without the brackets of "[::1]"; empty for "any address".
  int port = 0;      // 0: any free port.
};

// "127.0.0.1:50051", "[::]:8080", "localhost:0". INVALID_ARGUMENT naming `flag` and the value
// otherwise.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view listen, absl::string_view flag);

// Whether `listen` (host:port) names a loopback address ("localhost", 127.0.0.0/8, ::1).
bool IsLoopbackAddress(absl::string_view listen);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_HOST_PORT_H_
