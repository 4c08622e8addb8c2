// The master keys a server holds, each known by its id in the master_keys table. Data keys (a
// case's keys, the audit key, the key of kept responses) are stored only wrapped by a master
// key: wrapped under the wrapping key (the current one, or during a rotation the new one), and
// unwrapped under whichever key their row names. The keys themselves live in key files, never in
// the database.
//
// Thread-safe: a rotation adds a key and drops the old one while calls run.
#ifndef MEDIATION_STORAGE_MASTER_KEYS_H_
#define MEDIATION_STORAGE_MASTER_KEYS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace mediation::storage {

class MasterKeys {
 public:
  MasterKeys() = default;
  ~MasterKeys();
  MasterKeys(const MasterKeys&) = delete;
  MasterKeys& operator=(const MasterKeys&) = delete;

  // Holds `key` as master key `id` (replacing any key held as `id`).
  void Hold(int64_t id, std::string key);
  // Forgets master key `id` (its memory is wiped).
  void Drop(int64_t id);
  // REQUIRES: `id` is held. New data keys, and re-wrapped ones, are wrapped under it.
  void SetWrapping(int64_t id);

  int64_t wrapping() const;
  bool holds(int64_t id) const;
  // Whether `key` is one of the keys held.
  bool HoldsKey(absl::string_view key) const;

  struct Wrapped {
    int64_t master_key_id = 0;
    std::string wrapped;
  };
  // `data_key` wrapped under the wrapping key, bound to `binding` (what the data key is for).
  // FAILED_PRECONDITION when no wrapping key is set.
  absl::StatusOr<Wrapped> Wrap(absl::string_view binding, absl::string_view data_key) const;
  // FAILED_PRECONDITION when master key `id` is not held; DATA_LOSS when `wrapped` does not open
  // with it and `binding`.
  absl::StatusOr<std::string> Unwrap(int64_t id, absl::string_view binding,
                                     absl::string_view wrapped) const;

  // The audit key as schema versions 6 to 8 derived it from master key `id`. A database upgraded
  // from them keeps it as its audit key (now a data key of its own), so its trail still
  // verifies. FAILED_PRECONDITION when `id` is not held.
  absl::StatusOr<std::string> LegacyAuditKey(int64_t id) const;

  // The value kept in master_keys.check for `key`: it tells, at start-up, which master key a
  // key file holds. The format is the one schema version 6 used.
  static std::string MakeCheck(absl::string_view key);
  static bool Check(absl::string_view key, absl::string_view check);

 private:
  mutable absl::Mutex mu_;
  std::map<int64_t, std::string> keys_ ABSL_GUARDED_BY(mu_);
  int64_t wrapping_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_MASTER_KEYS_H_
