// Bearer token secrets and their hashes.
#ifndef MEDIATION_SERVICES_CORE_SECRETS_H_
#define MEDIATION_SERVICES_CORE_SECRETS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mediation {

// 256 bits from the OpenSSL CSPRNG, base64url without padding (43 characters).
absl::StatusOr<std::string> NewRandomCode();

// A new secret: "ppa_" followed by NewRandomCode().
absl::StatusOr<std::string> NewTokenSecret();

// The 32 raw bytes of SHA-256 over `secret`: the only form in which a secret is stored.
std::string Sha256(absl::string_view secret);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_SECRETS_H_
