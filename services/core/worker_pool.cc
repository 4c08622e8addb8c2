#include "services/core/worker_pool.h"

namespace mediation {

absl::StatusOr<std::unique_ptr<WorkerPool>> WorkerPool::Start(
    int workers, const storage::StoreFactory& factory) {
  std::vector<std::unique_ptr<storage::Store>> stores;
  for (int i = 0; i < workers; ++i) {
    absl::StatusOr<std::unique_ptr<storage::Store>> store = factory();
    if (!store.ok()) return store.status();
    stores.push_back(std::move(*store));
  }
  return std::unique_ptr<WorkerPool>(new WorkerPool(std::move(stores)));
}

WorkerPool::WorkerPool(std::vector<std::unique_ptr<storage::Store>> stores)
    : stores_(std::move(stores)) {
  for (auto& store : stores_) {
    threads_.emplace_back([this, s = store.get()] { Run(*s); });
  }
}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::Submit(Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

void WorkerPool::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void WorkerPool::Run(storage::Store& store) {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopping, and everything queued has run.
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task(store);
  }
}

}  // namespace mediation
