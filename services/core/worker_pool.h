// A fixed pool of threads that run blocking work (SQLite) off the gRPC callback threads. Each
// worker owns its own Store, so no database connection is ever shared between threads.
//
// Thread-safe: Submit may be called from any thread.
#ifndef MEDIATION_SERVICES_CORE_WORKER_POOL_H_
#define MEDIATION_SERVICES_CORE_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace mediation {

class WorkerPool {
 public:
  using Task = std::function<void(storage::Store&)>;

  // Opens one store per worker with `factory` and starts the workers. Fails, starting nothing,
  // if any store fails to open.
  static absl::StatusOr<std::unique_ptr<WorkerPool>> Start(int workers,
                                                           const storage::StoreFactory& factory);

  ~WorkerPool();

  // Queues `task`. Returns false (and drops it) once Stop has begun.
  bool Submit(Task task);

  // Runs every task already queued, then joins the workers. Idempotent.
  void Stop();

 private:
  explicit WorkerPool(std::vector<std::unique_ptr<storage::Store>> stores);
  void Run(storage::Store& store);

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Task> queue_;  // Guarded by mu_.
  bool stopping_ = false;   // Guarded by mu_.
  std::vector<std::unique_ptr<storage::Store>> stores_;
  std::vector<std::thread> threads_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_WORKER_POOL_H_
