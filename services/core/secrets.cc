#include "services/core/secrets.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace mediation {

absl::StatusOr<std::string> NewRandomCode() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return absl::InternalError("the system random number generator failed");
  }
  const std::string raw(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> NewTokenSecret() {
  absl::StatusOr<std::string> code = NewRandomCode();
  if (!code.ok()) return code.status();
  return absl::StrCat("ppa_", *code);
}

std::string Sha256(absl::string_view secret) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest.data());
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

}  // namespace mediation
