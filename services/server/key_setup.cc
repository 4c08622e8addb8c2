#include "services/server/key_setup.h"

#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/core/master_key_file.h"
#include "storage/crypto.h"
#include "storage/data_keys.h"
#include "storage/idempotency.h"

namespace mediation {
namespace {

using storage::MasterKeyRecord;
using storage::MasterKeys;
using storage::MasterKeyState;

std::string Day(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()); }

const MasterKeyRecord* Find(const std::vector<MasterKeyRecord>& rows, MasterKeyState state) {
  for (const MasterKeyRecord& r : rows) {
    if (r.state == state) return &r;
  }
  return nullptr;
}

// The first start: a new key file (or the one already there) becomes master key 1.
absl::StatusOr<int64_t> FirstMasterKey(storage::Store& store, const std::string& path,
                                       MasterKeys& keys, absl::Time now, CallLog& log) {
  absl::StatusOr<std::string> key = ReadMasterKeyFile(path);
  if (absl::IsNotFound(key.status())) {
    key = storage::NewKey();
    if (absl::Status s = WriteMasterKeyFile(path, *key); !s.ok()) return s;
    log.Info(absl::StrCat("first start: created the master key file ", path,
                          " (back it up apart from the database)"));
  }
  if (!key.ok()) return key.status();
  int64_t id = 0;
  absl::Status wrote = store.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> inserted =
        storage::InsertMasterKey(tx, MasterKeys::MakeCheck(*key), MasterKeyState::kCurrent, now);
    if (!inserted.ok()) return inserted.status();
    id = *inserted;
    return absl::OkStatus();
  });
  if (!wrote.ok()) return wrote;
  keys.Hold(id, *std::move(key));
  keys.SetWrapping(id);
  return id;
}

// The key file for the recorded master keys: the current one, and the next one during a
// rotation. Finishes the file renames of a rotation that ended just before a stop.
absl::Status HoldRecordedKeys(const std::vector<MasterKeyRecord>& rows, const std::string& path,
                              MasterKeys& keys, KeySetup& setup, CallLog& log) {
  const MasterKeyRecord* current = Find(rows, MasterKeyState::kCurrent);
  const MasterKeyRecord* next = Find(rows, MasterKeyState::kNext);
  if (current == nullptr) {
    return absl::FailedPreconditionError(
        "the database records no current master key; restore it from a backup");
  }
  absl::StatusOr<std::string> key = ReadMasterKeyFile(path);
  if (absl::IsNotFound(key.status())) {
    // Stopped between a rotation's two renames: the new, now current, key is still in `.next`.
    absl::StatusOr<std::string> newer = ReadMasterKeyFile(NextKeyPath(path));
    if (newer.ok() && MasterKeys::Check(*newer, current->check)) {
      if (absl::Status s = RenameDurably(NextKeyPath(path), path); !s.ok()) return s;
      log.Info(absl::StrCat("master key rotation: finished renaming the key files (", path,
                            " is master key ", current->id, ")"));
      key = *std::move(newer);
    }
  }
  if (absl::IsNotFound(key.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("the master key file ", path,
                     " is missing, but the database holds data sealed with "
                     "master key ",
                     current->id, " (created ", Day(current->created_at),
                     "); restore the key file (see the README's operations section)"));
  }
  if (!key.ok()) return key.status();
  const MasterKeyRecord* match = nullptr;
  for (const MasterKeyRecord& r : rows) {
    if (MasterKeys::Check(*key, r.check)) match = &r;
  }
  if (match == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("the master key in ", path,
                                                      " is not a key this database was used with; "
                                                      "start with its current master key (key ",
                                                      current->id, ", created ",
                                                      Day(current->created_at), ")"));
  }
  if (match->state == MasterKeyState::kNext) {
    return absl::FailedPreconditionError(
        absl::StrCat("the key in ", path, " is master key ", match->id,
                     ", the new key of a rotation still "
                     "under way; start with the old key (",
                     current->id, ") in ", path, " and the new one in ", NextKeyPath(path)));
  }
  if (match->state == MasterKeyState::kRetired) {
    // A rotation that ended just before a stop leaves the new key in `.next`.
    absl::StatusOr<std::string> newer = ReadMasterKeyFile(NextKeyPath(path));
    if (!newer.ok() || !MasterKeys::Check(*newer, current->check)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the master key in ", path, " is master key ", match->id, ", retired by a rotation on ",
          Day(match->retired_at.value_or(match->created_at)),
          "; this database now uses master key ", current->id, ": start with that key's file"));
    }
    if (absl::Status s = RenameDurably(path, RetiredKeyPath(path, match->id)); !s.ok()) return s;
    if (absl::Status s = RenameDurably(NextKeyPath(path), path); !s.ok()) return s;
    log.Info(absl::StrCat("master key rotation: finished renaming the key files (", path,
                          " is master key ", current->id, "; the retired key is in ",
                          RetiredKeyPath(path, match->id), ")"));
    storage::Wipe(*key);
    key = *std::move(newer);
  }
  keys.Hold(current->id, *std::move(key));
  keys.SetWrapping(current->id);
  setup.current_master_key_id = current->id;
  if (next != nullptr) {
    absl::StatusOr<std::string> next_key = ReadMasterKeyFile(NextKeyPath(path));
    if (!next_key.ok() || !MasterKeys::Check(*next_key, next->check)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a rotation to master key ", next->id, " is under way, but ", NextKeyPath(path),
          " is missing or holds another key; restore that file (the old key alone cannot "
          "open the data keys already re-wrapped)"));
    }
    keys.Hold(next->id, *std::move(next_key));
    keys.SetWrapping(next->id);
    setup.next_master_key_id = next->id;
  }
  return absl::OkStatus();
}

// The audit key, and the key of kept responses.
absl::Status SetUpServiceKeys(storage::Store& store, KeySetup& setup, absl::Time now,
                              CallLog& log) {
  int resealed = 0;
  absl::Status done = store.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::DataKey> audit =
        storage::GetDataKey(tx, storage::KeyPurpose::kAudit, 0);
    if (!audit.ok()) return audit.status();
    if (audit->state == storage::DataKey::State::kDestroyed) {
      return absl::FailedPreconditionError("the audit key was destroyed; restore a backup");
    }
    if (audit->state == storage::DataKey::State::kLive) {
      setup.audit_key = std::move(audit->key);
    } else {
      // A trail linked before data keys existed was linked with a key derived from the master
      // key: keep that key, so the trail verifies on.
      absl::StatusOr<bool> linked = storage::HoldsDataUnderMasterKey(tx);
      if (!linked.ok()) return linked.status();
      absl::StatusOr<std::string> key =
          *linked ? setup.master_keys->LegacyAuditKey(setup.current_master_key_id)
                  : absl::StatusOr<std::string>(storage::NewKey());
      if (!key.ok()) return key.status();
      if (absl::Status s = storage::InsertDataKey(tx, storage::KeyPurpose::kAudit, 0, *key, now);
          !s.ok()) {
        return s;
      }
      setup.audit_key = *std::move(key);
    }
    absl::StatusOr<int> n = storage::ResealLegacyResponses(tx, setup.current_master_key_id, now);
    if (!n.ok()) return n.status();
    resealed = *n;
    return absl::OkStatus();
  });
  if (done.ok() && resealed > 0) {
    log.Info(absl::StrCat(resealed, " kept response(s) sealed again under the responses key"));
  }
  return done;
}

}  // namespace

std::string NextKeyPath(const std::string& key_path) { return key_path + ".next"; }

std::string RetiredKeyPath(const std::string& key_path, int64_t id) {
  return absl::StrCat(key_path, ".retired-", id);
}

absl::StatusOr<KeySetup> SetUpKeys(storage::EngineStore& store, const std::string& key_path,
                                   absl::Time now, CallLog& log) {
  if (!storage::CryptoReady()) return absl::InternalError("libsodium failed to initialise");
  std::vector<MasterKeyRecord> rows;
  bool holds_data = false;
  absl::Status read = store.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<MasterKeyRecord>> listed = storage::ListMasterKeys(tx);
    if (!listed.ok()) return listed.status();
    rows = *std::move(listed);
    absl::StatusOr<bool> holds = storage::HoldsDataUnderMasterKey(tx);
    if (!holds.ok()) return holds.status();
    holds_data = *holds;
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  KeySetup setup;
  setup.master_keys = std::make_shared<MasterKeys>();
  if (rows.empty()) {
    if (holds_data) {
      return absl::FailedPreconditionError(
          "the database holds data sealed with a master key but records no master key; restore "
          "the database from a backup (a new key would make that data unreadable)");
    }
    absl::StatusOr<int64_t> id = FirstMasterKey(store, key_path, *setup.master_keys, now, log);
    if (!id.ok()) return id.status();
    setup.current_master_key_id = *id;
  } else if (absl::Status s = HoldRecordedKeys(rows, key_path, *setup.master_keys, setup, log);
             !s.ok()) {
    return s;
  }
  store.SetMasterKeys(setup.master_keys);
  if (absl::Status s = SetUpServiceKeys(store, setup, now, log); !s.ok()) return s;
  store.SetAuditKey(setup.audit_key);
  return setup;
}

}  // namespace mediation
