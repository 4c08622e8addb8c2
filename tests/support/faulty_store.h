// Fault injection at the storage boundary: a Store that wraps the real SQLite store and, when
// told to, fails a write after the real work was done (so the real rollback is exercised), or
// holds a read until released (to have a call in flight at a chosen moment).
#ifndef MEDIATION_TESTS_SUPPORT_FAULTY_STORE_H_
#define MEDIATION_TESTS_SUPPORT_FAULTY_STORE_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "storage/store.h"

namespace mediation::testing {

// Shared by every worker's FaultyStore. Thread-safe.
class FaultPlan {
 public:
  // The `n`th write from now (1 = the next) fails with `status` after its work is done.
  void FailWrite(int n, absl::Status status);
  // The next write runs twice, as PostgreSQL's store runs a write again after losing a
  // serialization race: the first run is rolled back after its work is done.
  void RepeatNextWrite();
  // The next read blocks until Release(); WaitUntilHeld() returns once it is blocked.
  void HoldNextRead();
  void WaitUntilHeld();
  void Release();

  // Called by FaultyStore.
  absl::Status AfterWrite();
  bool TakeRepeat();
  void BeforeRead();

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int writes_until_failure_ = 0;
  absl::Status failure_;
  bool repeat_next_write_ = false;
  bool hold_next_read_ = false;
  bool holding_ = false;
  bool released_ = false;
};

class FaultyStore final : public storage::Store {
 public:
  FaultyStore(std::unique_ptr<storage::Store> inner, std::shared_ptr<FaultPlan> plan)
      : inner_(std::move(inner)), plan_(std::move(plan)) {}

  absl::Status Read(const storage::TxFn& fn) override;
  absl::Status Write(const storage::TxFn& fn) override;

 private:
  std::unique_ptr<storage::Store> inner_;
  std::shared_ptr<FaultPlan> plan_;
};

// For ServerOptions::store_wrapper: wraps each real connection in a FaultyStore following `plan`.
std::function<std::unique_ptr<storage::Store>(std::unique_ptr<storage::Store>)> FaultyStores(
    std::shared_ptr<FaultPlan> plan);

// A status exactly as the storage layer makes it from a SQLite error code.
absl::Status SqliteFailure(int sqlite_code, const std::string& message);

}  // namespace mediation::testing

#endif  // MEDIATION_TESTS_SUPPORT_FAULTY_STORE_H_
