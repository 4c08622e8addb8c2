// First start: the server creates one ADMIN token and writes its secret to a file only the
// server's user can read, so an operator can start issuing tokens.
#ifndef MEDIATION_SERVICES_SERVER_BOOTSTRAP_H_
#define MEDIATION_SERVICES_SERVER_BOOTSTRAP_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace mediation {

// If the database holds no token at all, creates an ADMIN token and writes its secret to `path`
// (mode 0600, replacing any file there) before the token's row commits. Returns whether it did.
absl::StatusOr<bool> BootstrapAdminToken(storage::Store& store, const std::string& path,
                                         absl::Time now);

// Writes `contents` to `path` atomically (temporary file, fsync, rename) with mode 0600.
absl::Status WritePrivateFile(const std::string& path, absl::string_view contents);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SERVER_BOOTSTRAP_H_
