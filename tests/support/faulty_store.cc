#include "tests/support/faulty_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <utility>

#include "storage/sqlite_connection.h"
#include "storage/sqlite_store.h"

namespace mediation::testing {

void FaultPlan::FailWrite(int n, absl::Status status) {
  std::lock_guard lock(mu_);
  writes_until_failure_ = n;
  failure_ = std::move(status);
}

void FaultPlan::RepeatNextWrite() {
  std::lock_guard lock(mu_);
  repeat_next_write_ = true;
}

bool FaultPlan::TakeRepeat() {
  std::lock_guard lock(mu_);
  return std::exchange(repeat_next_write_, false);
}

void FaultPlan::HoldNextRead() {
  std::lock_guard lock(mu_);
  hold_next_read_ = true;
  holding_ = false;
  released_ = false;
}

void FaultPlan::WaitUntilHeld() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [this] { return holding_; });
}

void FaultPlan::Release() {
  std::lock_guard lock(mu_);
  released_ = true;
  changed_.notify_all();
}

absl::Status FaultPlan::AfterWrite() {
  std::lock_guard lock(mu_);
  if (writes_until_failure_ == 0) return absl::OkStatus();
  if (--writes_until_failure_ > 0) return absl::OkStatus();
  return failure_;
}

void FaultPlan::BeforeRead() {
  std::unique_lock lock(mu_);
  if (!hold_next_read_) return;
  hold_next_read_ = false;
  holding_ = true;
  changed_.notify_all();
  changed_.wait(lock, [this] { return released_; });
}

absl::Status FaultyStore::Read(const storage::TxFn& fn) {
  plan_->BeforeRead();
  return inner_->Read(fn);
}

absl::Status FaultyStore::Write(const storage::TxFn& fn) {
  if (plan_->TakeRepeat()) {
    // The first run loses its race: everything it wrote is rolled back; then the write runs
    // again, as the engine's store would run it.
    const absl::Status first = inner_->Write([&](storage::Tx& tx) -> absl::Status {
      if (absl::Status s = fn(tx); !s.ok()) return s;
      return absl::AbortedError("injected: lost a serialization race");
    });
    if (first.code() != absl::StatusCode::kAborted) return first;
  }
  return inner_->Write([&](storage::Tx& tx) -> absl::Status {
    if (absl::Status s = fn(tx); !s.ok()) return s;
    return plan_->AfterWrite();  // Failing here makes the real store roll everything back.
  });
}

std::function<std::unique_ptr<storage::Store>(std::unique_ptr<storage::Store>)> FaultyStores(
    std::shared_ptr<FaultPlan> plan) {
  return [plan](std::unique_ptr<storage::Store> inner) -> std::unique_ptr<storage::Store> {
    return std::make_unique<FaultyStore>(std::move(inner), plan);
  };
}

absl::Status SqliteFailure(int sqlite_code, const std::string& message) {
  return storage::StatusFromStorageError(
      storage::FromSqliteException(SQLite::Exception(message, sqlite_code)), "injected");
}

}  // namespace mediation::testing
