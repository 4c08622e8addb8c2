// The keys a server needs, set up at start-up before it serves anything.
//
// The master key file (--master_key_file) must hold the database's current master key (checked
// against master_keys.check_value); on the first start it is created. While a rotation is under
// way (services/server/key_rotation.h) the new key is in the same path with `.next` appended and
// both are needed; a rotation that ended just before a stop may have left its files unrenamed,
// which is finished here. A missing, retired or foreign key stops the server with a message
// saying which key it needs.
//
// Then the service's own data keys: the audit key (for a database from before data keys, the key
// it derived from its master key, so the trail verifies on) and the key of kept responses (kept
// responses sealed the old way, with the master key itself, are sealed again under it).
#ifndef MEDIATION_SERVICES_SERVER_KEY_SETUP_H_
#define MEDIATION_SERVICES_SERVER_KEY_SETUP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/call_log.h"
#include "storage/database.h"
#include "storage/master_keys.h"

namespace mediation {

struct KeySetup {
  std::shared_ptr<storage::MasterKeys> master_keys;
  std::string audit_key;
  int64_t current_master_key_id = 0;
  // Set while a rotation is under way: the key it moves to (held, and wrapping new keys).
  int64_t next_master_key_id = 0;
};

// The path of the next master key during a rotation.
std::string NextKeyPath(const std::string& key_path);
// Where a retired master key file is kept after a rotation.
std::string RetiredKeyPath(const std::string& key_path, int64_t id);

// REQUIRES: `store` is migrated. Sets its master keys and audit key.
absl::StatusOr<KeySetup> SetUpKeys(storage::EngineStore& store, const std::string& key_path,
                                   absl::Time now, CallLog& log);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SERVER_KEY_SETUP_H_
