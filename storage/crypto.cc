#include "storage/crypto.h"

#include <sodium.h>

namespace mediation::storage {
namespace {

constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

}  // namespace

bool CryptoReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::string NewKey() {
  (void)CryptoReady();
  std::string key(kKeyBytes, '\0');
  crypto_aead_xchacha20poly1305_ietf_keygen(reinterpret_cast<unsigned char*>(key.data()));
  return key;
}

std::string Seal(absl::string_view key, absl::string_view plaintext, absl::string_view associated) {
  (void)CryptoReady();
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long length = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + kNonceBytes, &length, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(associated.data()),
      associated.size(), nullptr, nonce, reinterpret_cast<const unsigned char*>(key.data()));
  out.resize(kNonceBytes + length);
  return out;
}

absl::StatusOr<std::string> Open(absl::string_view key, absl::string_view sealed,
                                 absl::string_view associated) {
  if (key.size() != kKeyBytes || sealed.size() < kNonceBytes + kTagBytes) {
    return absl::DataLossError("ciphertext is truncated or the key is malformed");
  }
  std::string out(sealed.size() - kNonceBytes - kTagBytes, '\0');
  unsigned long long length = 0;
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &length, nullptr, nonce + kNonceBytes,
          sealed.size() - kNonceBytes, reinterpret_cast<const unsigned char*>(associated.data()),
          associated.size(), nonce, reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return absl::DataLossError(
        "ciphertext does not decrypt: it was altered, moved from another row, or sealed with "
        "another key");
  }
  out.resize(length);
  return out;
}

void Wipe(std::string& secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
  secret.clear();
}

}  // namespace mediation::storage
