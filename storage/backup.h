// Online backups: SQLite's backup API copies the snapshot of a read transaction into a new file,
// a few hundred pages at a time, while other connections keep writing (in WAL mode a reader
// blocks no writer; the log only grows until the copy ends).
//
// A backup is written to a temporary file (mode 0600) in the backup directory, flushed to disk,
// and only then linked under its final name, which never replaces an existing file: a file under
// a backup's name is always complete. A failed backup leaves no file behind.
//
// What a backup holds is exactly the database: the master key (a file beside it) is never in
// it, so notes and case keys stay encrypted and wrapped in the copy.
//
// Not thread-safe beyond what Tx is: call it on the thread that owns the transaction. Backups
// made at the same time by different connections get different names.
#ifndef MEDIATION_STORAGE_BACKUP_H_
#define MEDIATION_STORAGE_BACKUP_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/tx.h"

namespace mediation::storage {

struct BackupOptions {
  // The directory the backup goes to; created (mode 0700) when absent.
  std::string dir;
  // Already sanitised (see SanitizeBackupLabel); empty for none.
  std::string label;
  // Names the file (UTC, to the second).
  absl::Time taken_at;
  // Pages copied per step of the backup API.
  int pages_per_step = 256;
  // While the database stays busy (locked by another connection) the copy is retried with a
  // growing pause, for at most this long after its last progress; then it fails UNAVAILABLE.
  absl::Duration busy_limit = absl::Seconds(10);
};

struct BackupFile {
  std::string file_name;  // e.g. "mediation-20261201T093000Z-before-upgrade.db"
  std::string path;       // dir/file_name
  int64_t size_bytes = 0;
  int64_t page_count = 0;
  int schema_version = 0;
  std::string sha256_hex;  // Of the file as written.
};

// Keeps ASCII letters and digits of `label`, turns every run of anything else into one '-', and
// trims '-' from both ends. Empty when nothing usable is left.
std::string SanitizeBackupLabel(absl::string_view label);

// Copies the database of `tx` as of its snapshot into a new file in `options.dir`.
// REQUIRES: `tx` is a read transaction that has not read anything yet (its snapshot starts
// here, so every write committed before the call is in the copy).
// Errors: FAILED_PRECONDITION on PostgreSQL (its own tools back it up); UNAVAILABLE when the
// database stayed busy past `busy_limit`; RESOURCE_EXHAUSTED when the backup's disk is full;
// INTERNAL (with detail for the log) for anything else.
absl::StatusOr<BackupFile> BackupDatabase(Tx& tx, const BackupOptions& options);

// Removes a backup file (for a backup that must not stand, e.g. one whose audit row failed).
void RemoveBackup(const std::string& path);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_BACKUP_H_
