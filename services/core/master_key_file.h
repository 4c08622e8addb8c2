// Master key files. A master key wraps every data key of the database (storage/data_keys.h) and
// never enters the database: it lives in a file of its own, `mediation-master-key-v1:` and the
// 32 key bytes in base64, mode 0600, owned by the server's user, never a symbolic link.
#ifndef MEDIATION_SERVICES_CORE_MASTER_KEY_FILE_H_
#define MEDIATION_SERVICES_CORE_MASTER_KEY_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mediation {

// The key in `path`. NOT_FOUND when there is no file there; FAILED_PRECONDITION, saying what is
// wrong, for a file that is not a key file this server may use (another owner, readable by
// others, a symbolic link, not a key).
absl::StatusOr<std::string> ReadMasterKeyFile(const std::string& path);

// Writes `key` to a new file at `path` (mode 0600, flushed to disk with its directory entry).
// Refuses to replace an existing file.
absl::Status WriteMasterKeyFile(const std::string& path, absl::string_view key);

// Renames `from` to `to` and flushes the directory, so the rename survives a power cut.
absl::Status RenameDurably(const std::string& from, const std::string& to);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_MASTER_KEY_FILE_H_
