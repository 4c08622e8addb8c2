// Encryption keys for confidential notes. Every case has its own random data key; the database
// holds it only wrapped (encrypted) by the master key, which lives in a key file and never
// enters the database. Ciphertexts bind associated data (the case and note ids), so one moved
// to another row does not decrypt. The cipher is libsodium's XChaCha20-Poly1305 (IETF) AEAD,
// with a random 192-bit nonce per message.
//
// Thread-safe: a KeyRing is immutable after construction.
#ifndef MEDIATION_SERVICES_CORE_KEYRING_H_
#define MEDIATION_SERVICES_CORE_KEYRING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mediation {

class KeyRing {
 public:
  // Loads the master key from `path`, or, when the file does not exist and `may_create`,
  // creates one (32 random bytes, mode 0600). A file that is not a key is an error; so is a
  // missing file when `may_create` is false.
  static absl::StatusOr<std::unique_ptr<KeyRing>> Load(const std::string& path, bool may_create);

  // For tests and tools: a ring around a known key (32 bytes).
  static std::unique_ptr<KeyRing> FromKey(std::string key);

  ~KeyRing();
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  // A fresh random data key.
  static std::string NewDataKey();

  // Encrypts `plaintext` under `key` binding `associated` (nonce || ciphertext || tag).
  static std::string Seal(absl::string_view key, absl::string_view plaintext,
                          absl::string_view associated);
  // The plaintext, or DATA_LOSS when `sealed` was not made by Seal with this key and
  // associated data (tampered with, moved to another row, or another key).
  static absl::StatusOr<std::string> Open(absl::string_view key, absl::string_view sealed,
                                          absl::string_view associated);

  // A case's data key under the master key, bound to the case id.
  std::string WrapCaseKey(int64_t case_id, absl::string_view data_key) const;
  absl::StatusOr<std::string> UnwrapCaseKey(int64_t case_id, absl::string_view wrapped) const;

  // A response kept so a repeated call can be answered again (see the idempotency keys), bound
  // to the token and key it answers.
  std::string SealStoredResponse(int64_t token_id, absl::string_view key,
                                 absl::string_view response) const;
  absl::StatusOr<std::string> OpenStoredResponse(int64_t token_id, absl::string_view key,
                                                 absl::string_view sealed) const;

  // The key of the audit trail's links (32 bytes), derived from the master key: someone who can
  // write the database but lacks the key file cannot forge a link.
  std::string AuditKey() const;

  // A value the database keeps to tell, at start-up, whether this is the master key it was
  // used with.
  std::string MakeCheck() const;
  bool Check(absl::string_view check) const;

 private:
  explicit KeyRing(std::string master);
  std::string master_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_KEYRING_H_
