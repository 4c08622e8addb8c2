// The storage boundary, and the contract both engines (SQLite, storage/sqlite_store.h, and
// PostgreSQL, storage/pg_store.h) keep. Everything above it sees absl::Status, never an engine's
// exception.
//
// A Store is one connection to the database. It is NOT safe for concurrent use: give each thread
// its own Store (StoreFactory). Many Stores over the same database, in one process or in several
// server processes (PostgreSQL), may be used concurrently.
//
// THE CONTRACT
//
// Operations. The typed operations in storage/*.h (InsertCase, BookSession, AppendAudit, ...)
// take a Tx and are written once for both engines (storage/sql.h). Each says what it returns and
// which errors it gives; a refused operation writes nothing the caller's transaction keeps.
//
// Read(fn). `fn` sees one consistent snapshot of committed data (SQLite: a deferred transaction
// in WAL mode; PostgreSQL: REPEATABLE READ, READ ONLY). Writes inside it fail.
//
// Write(fn). All or nothing: the changes `fn` makes commit only if it returns OK, and then
// durably (SQLite: WAL with synchronous=FULL; PostgreSQL: synchronous_commit as the server is
// configured, on by default). If `fn` fails or throws, or the commit fails, nothing it wrote
// stays and the status says why. `fn` may be run more than once: on PostgreSQL a write that loses
// a serialization race (SQLSTATE 40001 or 40P01) is run again from the start, up to a limit, so
// `fn` must not act outside the transaction (send, log what it wrote as done, ...) before it
// returns. Transactions behave as if run one after another:
// - SQLite: BEGIN IMMEDIATE takes the single write lock before the first read, so at most one
//   write transaction runs at a time and it reads the latest committed state.
// - PostgreSQL: each write takes one advisory lock (kWriteLock, storage/pg_store.h) before its
//   transaction begins, so its snapshot is taken after every earlier write committed, in this
//   server process or any other on the same database; the transaction is SERIALIZABLE besides,
//   and one that still loses a race (SQLSTATE 40001/40P01) is run again.
// Three behaviours rely on writes being serialised, and each is also kept by the database itself,
// so that a code path that got it wrong would be refused rather than believed:
// - The booking check (services/scheduling/booking.h): a holder (mediator, room, party) cannot
//   gain two overlapping active bookings. SQLite: the bookings_no_overlap triggers (schema
//   version 10). PostgreSQL: the bookings_no_overlap exclusion constraint (btree_gist, `&&` on
//   the booking's time range), checked at commit. Either refuses the second booking whatever
//   code path writes it: ABORTED.
// - The audit chain (storage/audit.h): each row's link covers the previous row's, which must
//   still be the last row when this one is appended. Both engines: the head row (audit_head) is
//   read and rewritten in the appending transaction; two appends from one snapshot cannot both
//   commit (SQLite: one writer at a time; PostgreSQL: the lock, and SERIALIZABLE behind it).
// - Case event positions (storage/events.h): a reader resuming after position N must never
//   miss a lower position committed later. SQLite: AUTOINCREMENT under its single writer.
//   PostgreSQL: positions come from a sequence, drawn under the write lock, so they are
//   committed in the order they are drawn.
//
// Errors from the database: UNAVAILABLE when it is busy past the busy timeout (SQLite) or
// unreachable (PostgreSQL: the connection was lost, or no server accepts writes; the next call
// reconnects); RESOURCE_EXHAUSTED when its disk is full; ABORTED when a constraint refused a
// change or a serialization race was lost more times than the retry limit; INTERNAL otherwise.
// Every one carries kStorageErrorPayload (storage/tx.h), and its message is for the log only.
// A call that fails UNAVAILABLE in the middle of a commit may or may not have committed; the
// clients' idempotency keys make retrying it safe.
//
// What is not in the contract: backups and the forgetting of deleted bytes are the engine's
// (DatabaseMaintenance below; BackupDatabase in storage/backup.h is SQLite's own and refused on
// PostgreSQL).
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

  // Runs `fn` inside a write transaction; see the contract above.
  virtual absl::Status Write(const TxFn& fn) = 0;
};

// Opens further connections to the same database, one per worker thread.
using StoreFactory = std::function<absl::StatusOr<std::unique_ptr<Store>>()>;

// Work on the database as a whole, outside any transaction.
class DatabaseMaintenance {
 public:
  virtual ~DatabaseMaintenance() = default;

  // Makes the bytes of rows deleted or overwritten so far (erased keys, say) unrecoverable from
  // the database's own files, as far as the engine can. SQLite: copies the write-ahead log into
  // the database file and truncates it (deleted content is already zeroed, secure_delete), so
  // those pages survive in neither; false when a reader still uses the log (try again later).
  // PostgreSQL: VACUUMs the tables that hold keys, sealed text and personal data, so the space
  // of dead row versions is marked free (their bytes stay until the page is reused); what the
  // write-ahead log, its archives and old base backups still hold is for the deployment to
  // expire (deploy/postgresql/README.md).
  virtual absl::StatusOr<bool> ForgetDeletedRows() = 0;
};

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_STORE_H_
