// What AdminService.RotateMasterKey needs of the server's master key rotation
// (services/server/key_rotation.h), so the handler need not know how the server runs it.
#ifndef MEDIATION_SERVICES_CORE_KEY_ROTATION_H_
#define MEDIATION_SERVICES_CORE_KEY_ROTATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "storage/data_keys.h"

namespace mediation {

class KeyRotationControl {
 public:
  virtual ~KeyRotationControl() = default;

  struct PreparedKey {
    std::string key;
  };
  // Makes the new master key (read from `new_key_file`, or random) and writes it to the next-key
  // file. ALREADY_EXISTS while a rotation is being started or runs; INVALID_ARGUMENT naming
  // new_key_file for a file that is not a usable key, or holds the current key.
  virtual absl::StatusOr<PreparedKey> Prepare(const std::string& new_key_file) = 0;
  // The transaction recording the rotation failed: the next-key file is removed.
  virtual void Abandon() = 0;
  // The rotation is recorded: hold the new key, wrap new data keys under it, and re-wrap the
  // others in the background.
  virtual void Launch(const storage::KeyRotationRecord& rotation, std::string key) = 0;

  // The master key file, where the new key is kept during a rotation, and where the old one
  // goes after it.
  virtual std::string KeyFile() const = 0;
  virtual std::string NextKeyFile() const = 0;
  virtual std::string RetiredKeyFile(int64_t master_key_id) const = 0;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_KEY_ROTATION_H_
