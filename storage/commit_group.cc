#include "storage/commit_group.h"

#include <algorithm>

namespace mediation::storage {

absl::Status CommitGroup::Write(const TxFn& fn, BatchRunner run) {
  Request mine{.fn = &fn, .status = absl::OkStatus()};
  std::unique_lock lock(mu_);
  queue_.push_back(&mine);
  while (!mine.done) {
    if (leading_) {
      finished_.wait(lock);
      continue;
    }
    // No batch is running and `mine` is still queued: lead the next batch, which holds it
    // unless more than max_batch_ writes are ahead of it (then lead again after this one).
    leading_ = true;
    std::vector<Request*> batch;
    if (queue_.size() <= max_batch_) {
      batch.swap(queue_);
    } else {
      batch.assign(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(max_batch_));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(max_batch_));
    }
    lock.unlock();
    try {
      run(batch);
    } catch (...) {
      // The runner turns the functions' exceptions into statuses; this is for what is left
      // (memory exhausted). Nobody may be left waiting for a batch that ended.
      for (Request* r : batch) {
        r->status = absl::InternalError("the write batch failed; whether it was saved is unknown");
      }
    }
    lock.lock();
    for (Request* r : batch) r->done = true;
    leading_ = false;
    ++stats_.batches;
    stats_.writes += batch.size();
    stats_.largest = std::max<uint64_t>(stats_.largest, batch.size());
    finished_.notify_all();
  }
  return mine.status;
}

size_t CommitGroup::waiting() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

CommitGroup::Stats CommitGroup::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace mediation::storage
