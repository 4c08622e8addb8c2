// Authenticated encryption of data at rest: libsodium's XChaCha20-Poly1305 (IETF) AEAD, with a
// random 192-bit nonce per message. Every ciphertext binds associated data saying where it
// belongs (a table, a row, a column), so one copied anywhere else does not open.
//
// Thread-safe.
#ifndef MEDIATION_STORAGE_CRYPTO_H_
#define MEDIATION_STORAGE_CRYPTO_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mediation::storage {

inline constexpr size_t kKeyBytes = 32;

// False when libsodium could not initialise (no source of randomness); nothing here works then.
bool CryptoReady();

// A fresh random key.
std::string NewKey();

// `plaintext` encrypted under `key`, binding `associated`: nonce || ciphertext || tag.
std::string Seal(absl::string_view key, absl::string_view plaintext, absl::string_view associated);

// The plaintext, or DATA_LOSS when `sealed` was not made by Seal with this key and associated
// data (altered, moved from another row or column, or sealed with another key).
absl::StatusOr<std::string> Open(absl::string_view key, absl::string_view sealed,
                                 absl::string_view associated);

// Overwrites a secret in memory before it is freed.
void Wipe(std::string& secret);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_CRYPTO_H_
