#include "services/core/keyring.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace mediation {
namespace {

constexpr size_t kKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr absl::string_view kFilePrefix = "mediation-master-key-v1:";
constexpr absl::string_view kCheckText = "mediation master key check";

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

absl::Status WriteNewKeyFile(const std::string& path, const std::string& key) {
  std::string text = absl::StrCat(kFilePrefix, absl::Base64Escape(key), "\n");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the master key file ", path, ": ", std::strerror(errno)));
  }
  ::fchmod(fd, 0600);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(text.data(), text.size());
  if (!written) {
    ::unlink(path.c_str());
    return absl::FailedPreconditionError(absl::StrCat("cannot write the master key file ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyRing>> KeyRing::Load(const std::string& path, bool may_create) {
  if (!SodiumReady()) return absl::InternalError("libsodium failed to initialise");
  // One descriptor for every check and the read, so the file cannot be swapped in between; a
  // symbolic link is refused rather than followed.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error != ENOENT) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot open the master key file ", path, ": ", std::strerror(error),
          error == ELOOP ? " (it is a symbolic link; give the real file's path)" : ""));
    }
    if (!may_create) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the master key file ", path,
          " is missing, but the database holds data encrypted with a master key; restore the "
          "key file (see the README's operations section)"));
    }
    std::string key = NewDataKey();
    if (absl::Status s = WriteNewKeyFile(path, key); !s.ok()) return s;
    return std::unique_ptr<KeyRing>(new KeyRing(std::move(key)));
  }
  struct stat st {};
  std::string text(4096, '\0');
  ssize_t length = -1;
  absl::Status problem;
  if (::fstat(fd, &st) != 0) {
    problem = absl::FailedPreconditionError(
        absl::StrCat("cannot inspect the master key file ", path, ": ", std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    problem = absl::FailedPreconditionError(
        absl::StrCat("the master key file ", path, " is not a regular file"));
  } else if (st.st_uid != ::geteuid()) {
    problem = absl::FailedPreconditionError(absl::StrCat(
        "the master key file ", path, " belongs to another user; it must be the server's own"));
  } else if ((st.st_mode & 077) != 0) {
    problem = absl::FailedPreconditionError(absl::StrCat(
        "the master key file ", path, " is readable by others; chmod 600 it and start again"));
  } else {
    length = ::read(fd, text.data(), text.size());
    if (length < 0) {
      problem = absl::FailedPreconditionError(
          absl::StrCat("cannot read the master key file ", path, ": ", std::strerror(errno)));
    }
  }
  ::close(fd);
  std::string key;
  if (problem.ok()) {
    text.resize(static_cast<size_t>(length));
    const absl::string_view body = absl::StripAsciiWhitespace(text);
    if (!absl::StartsWith(body, kFilePrefix) ||
        !absl::Base64Unescape(body.substr(kFilePrefix.size()), &key) || key.size() != kKeyBytes) {
      problem = absl::FailedPreconditionError(
          absl::StrCat("the master key file ", path, " does not hold a master key"));
    }
  }
  sodium_memzero(text.data(), text.size());
  if (!problem.ok()) {
    sodium_memzero(key.data(), key.size());
    return problem;
  }
  return std::unique_ptr<KeyRing>(new KeyRing(std::move(key)));
}

std::unique_ptr<KeyRing> KeyRing::FromKey(std::string key) {
  (void)SodiumReady();
  return std::unique_ptr<KeyRing>(new KeyRing(std::move(key)));
}

KeyRing::KeyRing(std::string master) : master_(std::move(master)) {}

KeyRing::~KeyRing() { sodium_memzero(master_.data(), master_.size()); }

std::string KeyRing::NewDataKey() {
  (void)SodiumReady();
  std::string key(kKeyBytes, '\0');
  crypto_aead_xchacha20poly1305_ietf_keygen(reinterpret_cast<unsigned char*>(key.data()));
  return key;
}

std::string KeyRing::Seal(absl::string_view key, absl::string_view plaintext,
                          absl::string_view associated) {
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

absl::StatusOr<std::string> KeyRing::Open(absl::string_view key, absl::string_view sealed,
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

std::string KeyRing::WrapCaseKey(int64_t case_id, absl::string_view data_key) const {
  return Seal(master_, data_key, absl::StrCat("case-key:", case_id));
}

absl::StatusOr<std::string> KeyRing::UnwrapCaseKey(int64_t case_id,
                                                   absl::string_view wrapped) const {
  return Open(master_, wrapped, absl::StrCat("case-key:", case_id));
}

std::string KeyRing::SealStoredResponse(int64_t token_id, absl::string_view key,
                                        absl::string_view response) const {
  return Seal(master_, response, absl::StrCat("stored-response:", token_id, ":", key));
}

absl::StatusOr<std::string> KeyRing::OpenStoredResponse(int64_t token_id, absl::string_view key,
                                                        absl::string_view sealed) const {
  return Open(master_, sealed, absl::StrCat("stored-response:", token_id, ":", key));
}

std::string KeyRing::AuditKey() const {
  std::string key(crypto_auth_hmacsha256_KEYBYTES, '\0');
  static_assert(crypto_auth_hmacsha256_KEYBYTES >= crypto_kdf_BYTES_MIN &&
                crypto_auth_hmacsha256_KEYBYTES <= crypto_kdf_BYTES_MAX);
  crypto_kdf_derive_from_key(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                             /*subkey_id=*/1, "auditlog",
                             reinterpret_cast<const unsigned char*>(master_.data()));
  return key;
}

std::string KeyRing::MakeCheck() const { return Seal(master_, kCheckText, "master-key-check"); }

bool KeyRing::Check(absl::string_view check) const {
  absl::StatusOr<std::string> text = Open(master_, check, "master-key-check");
  return text.ok() && *text == kCheckText;
}

}  // namespace mediation
