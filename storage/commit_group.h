// Group commit: concurrent write transactions from different connections share one COMMIT, so
// one fsync acknowledges many calls.
//
// Every SqliteStore of one server shares a CommitGroup. A thread that calls Write queues its
// function. If no batch is running, that thread becomes the leader: it takes the queued
// functions in order (up to max_batch), runs them on its own connection inside one transaction,
// each under a SAVEPOINT of its own, commits once, and hands each caller its status. Callers that
// arrive while a batch runs wait and form the next one. Nobody is answered before the COMMIT
// that holds their writes has returned (with synchronous=FULL: after the write-ahead log's
// fsync). A function that fails is rolled back to its savepoint without touching the others,
// unless SQLite abandons the whole transaction (it does so for a full disk or an I/O error):
// then the functions that shared it fail with the same status, nothing of theirs is saved, and
// the rest of the batch runs in a new transaction. Functions are never run twice.
//
// Functions run on the leader's thread and connection while their callers wait, so they must use
// only the Tx they are given (all storage operations do). With max_batch 1 every write commits
// on its own, in the order the writes arrived: one commit per call, without SQLite's busy
// polling between the writers.
//
// Thread-safe.
#ifndef MEDIATION_STORAGE_COMMIT_GROUP_H_
#define MEDIATION_STORAGE_COMMIT_GROUP_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "storage/store.h"

namespace mediation::storage {

class CommitGroup {
 public:
  // One queued write: the leader sets `status` before its caller is released.
  struct Request {
    const TxFn* fn;
    absl::Status status;
    bool done = false;  // Guarded by the group's mutex.
  };
  // Runs a batch on the leader's connection, setting every request's status.
  using BatchRunner = absl::FunctionRef<void(absl::Span<Request* const>)>;

  explicit CommitGroup(size_t max_batch = SIZE_MAX) : max_batch_(max_batch < 1 ? 1 : max_batch) {}

  // Queues `fn` and returns its status once the transaction holding it has committed or failed.
  // `run` is used only if this thread becomes the leader.
  absl::Status Write(const TxFn& fn, BatchRunner run);

  struct Stats {
    uint64_t writes = 0;   // Functions run.
    uint64_t batches = 0;  // Batches run (a batch commits once, unless a write in it broke it).
    uint64_t largest = 0;  // The most functions in one batch.
  };
  Stats stats() const;

  // Writes queued for the next batch (for tests that arrange a batch).
  size_t waiting() const;

 private:
  const size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable finished_;
  std::vector<Request*> queue_;  // Guarded by mu_.
  bool leading_ = false;         // Guarded by mu_: a batch is running.
  Stats stats_;                  // Guarded by mu_.
};

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_COMMIT_GROUP_H_
