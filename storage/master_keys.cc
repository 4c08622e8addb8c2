#include "storage/master_keys.h"

#include <sodium.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/crypto.h"

namespace mediation::storage {
namespace {

constexpr absl::string_view kCheckText = "mediation master key check";
constexpr absl::string_view kCheckBinding = "master-key-check";

}  // namespace

MasterKeys::~MasterKeys() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, key] : keys_) Wipe(key);
}

void MasterKeys::Hold(int64_t id, std::string key) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = keys_.try_emplace(id);
  if (!inserted) Wipe(it->second);
  it->second = std::move(key);
}

void MasterKeys::Drop(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(id);
  if (it == keys_.end()) return;
  Wipe(it->second);
  keys_.erase(it);
  if (wrapping_ == id) wrapping_ = 0;
}

void MasterKeys::SetWrapping(int64_t id) {
  absl::MutexLock lock(&mu_);
  wrapping_ = id;
}

int64_t MasterKeys::wrapping() const {
  absl::MutexLock lock(&mu_);
  return wrapping_;
}

bool MasterKeys::holds(int64_t id) const {
  absl::MutexLock lock(&mu_);
  return keys_.count(id) != 0;
}

bool MasterKeys::HoldsKey(absl::string_view key) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, held] : keys_) {
    if (held.size() == key.size() && sodium_memcmp(held.data(), key.data(), key.size()) == 0) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<MasterKeys::Wrapped> MasterKeys::Wrap(absl::string_view binding,
                                                     absl::string_view data_key) const {
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(wrapping_);
  if (it == keys_.end()) return absl::FailedPreconditionError("no master key to wrap keys with");
  return Wrapped{.master_key_id = wrapping_, .wrapped = Seal(it->second, data_key, binding)};
}

absl::StatusOr<std::string> MasterKeys::Unwrap(int64_t id, absl::string_view binding,
                                               absl::string_view wrapped) const {
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(id);
  if (it == keys_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("a data key is wrapped under master key ", id,
                                                      ", which this server does "
                                                      "not hold (see the README on master keys)"));
  }
  return Open(it->second, wrapped, binding);
}

absl::StatusOr<std::string> MasterKeys::LegacyAuditKey(int64_t id) const {
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(id);
  if (it == keys_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("master key ", id, " is not held"));
  }
  std::string key(crypto_auth_hmacsha256_KEYBYTES, '\0');
  static_assert(crypto_auth_hmacsha256_KEYBYTES >= crypto_kdf_BYTES_MIN &&
                crypto_auth_hmacsha256_KEYBYTES <= crypto_kdf_BYTES_MAX);
  crypto_kdf_derive_from_key(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                             /*subkey_id=*/1, "auditlog",
                             reinterpret_cast<const unsigned char*>(it->second.data()));
  return key;
}

std::string MasterKeys::MakeCheck(absl::string_view key) {
  return Seal(key, kCheckText, kCheckBinding);
}

bool MasterKeys::Check(absl::string_view key, absl::string_view check) {
  absl::StatusOr<std::string> text = Open(key, check, kCheckBinding);
  return text.ok() && *text == kCheckText;
}

}  // namespace mediation::storage
