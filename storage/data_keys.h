// Data keys and the master keys that wrap them.
//
// Every case has two data keys, made on first use: its notes key (the mediators' notes; destroyed
// when the notes' retention ends) and its record key (every other confidential text of the case:
// see storage/sealed_text.h; destroyed when the case's personal data is anonymised). The service
// has three more: the audit key (the audit trail's links), the key of kept responses
// (idempotency keys) and the registry key (mediators' notes on their leave and conflicts). A data
// key is stored only wrapped by a master key (storage/master_keys.h); the master_keys table holds,
// for every master key the database has used, a check value that tells which key a key file holds,
// and its state: one is current; during a rotation a second is next; afterwards the old one is
// retired.
#ifndef MEDIATION_STORAGE_DATA_KEYS_H_
#define MEDIATION_STORAGE_DATA_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/tx.h"

namespace mediation::storage {

enum class KeyPurpose { kNotes, kRecord, kAudit, kResponses, kRegistry };
absl::string_view PurposeName(KeyPurpose purpose);

struct DataKey {
  enum class State { kAbsent, kLive, kDestroyed };
  State state = State::kAbsent;
  std::string key;  // Unwrapped; empty unless kLive.
  std::optional<absl::Time> destroyed_at;
};

// The data key of `purpose` for `case_id` (0 for the service's own purposes), unwrapped with the
// transaction's master keys (kept for the rest of the transaction). DATA_LOSS when the stored
// key does not unwrap; FAILED_PRECONDITION when its master key is not held.
absl::StatusOr<DataKey> GetDataKey(Tx& tx, KeyPurpose purpose, int64_t case_id);

// As GetDataKey, but creates the key (random, wrapped under the wrapping master key) when there
// is none. REQUIRES: a write transaction. FAILED_PRECONDITION when it was destroyed.
absl::StatusOr<std::string> GetOrCreateDataKey(Tx& tx, KeyPurpose purpose, int64_t case_id,
                                               absl::Time now);

// Stores `key` as the data key of `purpose` for `case_id`. ALREADY_EXISTS if there is one.
absl::Status InsertDataKey(Tx& tx, KeyPurpose purpose, int64_t case_id, absl::string_view key,
                           absl::Time now);

// Erases the key (crypto-shredding), or records a key never made as destroyed so none can be
// made; returns whether anything changed (false when it was destroyed already).
absl::StatusOr<bool> DestroyDataKey(Tx& tx, KeyPurpose purpose, int64_t case_id, absl::Time at);

// Forgets a destroyed data key so that a new one is made on next use: for a reopened case's notes
// key, whose notes were erased with it (their sealed values are gone, so no key, old or new, can
// bring them back). Does nothing when the key is live or absent.
absl::Status ForgetDestroyedDataKey(Tx& tx, KeyPurpose purpose, int64_t case_id);

// Live data keys wrapped under master key `master_key_id`.
absl::StatusOr<int64_t> CountDataKeysUnder(Tx& tx, int64_t master_key_id);
// Live data keys in all.
absl::StatusOr<int64_t> CountLiveDataKeys(Tx& tx);
// Re-wraps up to `limit` live data keys wrapped under `from_master_key_id` under the wrapping
// master key. A key that does not unwrap (altered in the database) is marked damaged instead:
// it reads as DATA_LOSS, as it did already.
struct Rewrapped {
  int rewrapped = 0;
  int damaged = 0;
};
absl::StatusOr<Rewrapped> RewrapDataKeys(Tx& tx, int64_t from_master_key_id, int limit);

// --- Master keys -------------------------------------------------------------------------------

enum class MasterKeyState { kCurrent, kNext, kRetired };

struct MasterKeyRecord {
  int64_t id = 0;
  std::string check;  // MasterKeys::MakeCheck of the key.
  MasterKeyState state = MasterKeyState::kCurrent;
  absl::Time created_at;
  std::optional<absl::Time> retired_at;
};

// Oldest first.
absl::StatusOr<std::vector<MasterKeyRecord>> ListMasterKeys(Tx& tx);
absl::StatusOr<int64_t> InsertMasterKey(Tx& tx, absl::string_view check, MasterKeyState state,
                                        absl::Time at);
// Ends a rotation: `from` retires, `to` becomes current.
absl::Status CompleteMasterKeyRotation(Tx& tx, int64_t from, int64_t to, absl::Time at);

// --- Rotations -----------------------------------------------------------------------------

struct KeyRotationRecord {
  int64_t id = 0;
  int64_t from_master_key_id = 0;
  int64_t to_master_key_id = 0;
  absl::Time started_at;
  int64_t started_by_token_id = 0;
  int64_t keys_total = 0;
  int64_t keys_rewrapped = 0;
  int64_t keys_damaged = 0;  // Found unopenable under the old key; see RewrapDataKeys.
  std::optional<absl::Time> completed_at;
};

// Records a rotation from the current master key to the new `key`: the new key's row (state
// next) and the rotation's. ALREADY_EXISTS while another rotation runs; INVALID_ARGUMENT
// (naming new_key_file) when `key` is a master key the database has used.
absl::StatusOr<KeyRotationRecord> BeginKeyRotation(Tx& tx, absl::string_view key, int64_t token_id,
                                                   absl::Time at);
// Re-wraps (or marks damaged) up to `limit` more data keys of the rotation and counts them;
// returns how many.
absl::StatusOr<int> ContinueKeyRotation(Tx& tx, const KeyRotationRecord& rotation, int limit);
// Ends the rotation if no data key is left under the old key (the new key becomes current, the
// old one retired); returns whether it ended.
absl::StatusOr<bool> FinishKeyRotation(Tx& tx, const KeyRotationRecord& rotation, absl::Time at);
// The newest rotation, if any.
absl::StatusOr<std::optional<KeyRotationRecord>> LatestKeyRotation(Tx& tx);

// Whether anything in the database depends on a master key: data keys, kept responses or linked
// audit rows. A database that does must have its master key.
absl::StatusOr<bool> HoldsDataUnderMasterKey(Tx& tx);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_DATA_KEYS_H_
