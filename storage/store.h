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
