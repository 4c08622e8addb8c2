// The storage boundary. Everything above it sees absl::Status, never a SQLite exception.
//
// A Store is one connection to the database. It is NOT safe for concurrent use: give each thread
// its own Store (SQLite connections must not be shared between threads). Many Stores over the
// same file may be used concurrently; SQLite (WAL mode) serialises writers and lets readers run
// alongside them.
#ifndef MEDIATION_STORAGE_STORE_H_
#define MEDIATION_STORAGE_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/tx.h"

namespace mediation::storage {

using TxFn = std::function<absl::Status(Tx&)>;

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` inside a read transaction: it sees one consistent snapshot.
  virtual absl::Status Read(const TxFn& fn) = 0;

  // Runs `fn` inside a write transaction started with BEGIN IMMEDIATE. The transaction commits
  // (durably: WAL with synchronous=FULL) only if `fn` returns OK; otherwise, or if `fn` throws,
  // everything it wrote is rolled back and its status is returned.
  //
  // Write transactions are serialised: while `fn` runs, no other write transaction on the
  // database can commit, and what `fn` reads is the latest committed state (BEGIN IMMEDIATE takes
  // the write lock before the first read). Three behaviours rely on this, and a second storage
  // engine must give the same guarantee (a lock, or serialisable isolation with retries):
  // - The booking check (services/scheduling/booking.h): the calendars it reads cannot gain an
  //   overlapping booking before its own bookings are written. The database adds its own guard:
  //   the bookings_no_overlap triggers (schema version 10) refuse an overlapping active booking
  //   of the same holder whatever code path writes it.
  // - The audit chain (storage/audit.h): each row's link covers the previous row's, which must
  //   still be the last row when this one is appended.
  // - Case event positions (storage/events.h): AUTOINCREMENT positions are committed in order,
  //   so a reader resuming after position N never misses a lower position committed later.
  virtual absl::Status Write(const TxFn& fn) = 0;

  // Copies the write-ahead log into the database file and truncates the log to nothing, so
  // pages overwritten since (an erased key, say) survive in neither. Returns false when a
  // reader still uses the log and it could not be truncated now; try again later.
  virtual absl::StatusOr<bool> TruncateLog() = 0;
};

// Opens further connections to the same database, one per worker thread.
using StoreFactory = std::function<absl::StatusOr<std::unique_ptr<Store>>()>;

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_STORE_H_
