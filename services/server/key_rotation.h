// Master key rotation while the server serves (AdminService.RotateMasterKey).
//
// The new key is written to `<key file>.next` and recorded as the database's next master key in
// the transaction of the call; from then on new data keys are wrapped under it. A background
// thread re-wraps the existing data keys, a batch per write transaction (so calls are never held
// up for long), counting its progress in key_rotations. When no data key is left under the old
// key, one transaction makes the new key current and the old one retired; then the key files are
// renamed (the old to `<key file>.retired-<id>`, the new to `<key file>`) and the old key is
// dropped from memory. A stop at any point resumes at the next start (services/server/
// key_setup.h finishes the renames).
//
// Thread-safe.
#ifndef MEDIATION_SERVICES_SERVER_KEY_ROTATION_H_
#define MEDIATION_SERVICES_SERVER_KEY_ROTATION_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "services/core/call_log.h"
#include "services/core/key_rotation.h"
#include "services/core/rpc_runner.h"
#include "services/core/worker_pool.h"
#include "storage/master_keys.h"

namespace mediation {

class KeyRotator final : public KeyRotationControl {
 public:
  // `batch`: data keys re-wrapped per transaction; `pause`: the wait after each batch, so a
  // rotation on a busy server leaves the database to the calls.
  KeyRotator(WorkerPool& pool, std::shared_ptr<storage::MasterKeys> keys, std::string key_path,
             Clock clock, CallLog& log, int batch, absl::Duration pause);
  ~KeyRotator() override;

  absl::StatusOr<PreparedKey> Prepare(const std::string& new_key_file) override;
  void Abandon() override;
  void Launch(const storage::KeyRotationRecord& rotation, std::string key) override;
  std::string KeyFile() const override { return key_path_; }
  std::string NextKeyFile() const override;
  std::string RetiredKeyFile(int64_t master_key_id) const override;

  // Where other server processes share the database (PostgreSQL): how many there are now, and a
  // lock only one process holds. A rotation is refused while others serve (each would need the
  // new key). The process that starts one takes the lock first and re-wraps; a process started
  // during a rotation waits for the lock, so if the one re-wrapping stops, another carries on.
  // Call before serving.
  struct SharedDatabase {
    std::function<absl::StatusOr<int>()> count_others;
    std::function<bool()> hold_lock;  // True while this process holds the lock.
    std::function<void()> release_lock;
  };
  void ShareDatabase(SharedDatabase shared);

  // At start-up, for a rotation the database records as under way (its keys already held).
  void Resume(const storage::KeyRotationRecord& rotation);

  // Stops the background work (a rotation in progress resumes at the next start). Call before
  // the worker pool stops. Idempotent.
  void Stop();

 private:
  void Run(storage::KeyRotationRecord rotation);
  // Runs `fn` in a read transaction on a worker and waits for it.
  absl::Status Read(const storage::TxFn& fn);
  // Whether rotation `id` is recorded as completed (by any process).
  bool Completed(int64_t id);
  // Empty unless ShareDatabase was called.
  SharedDatabase shared_;
  // Runs `fn` in a write transaction on a worker and waits for it.
  absl::Status Write(const storage::TxFn& fn);
  void Finish(const storage::KeyRotationRecord& rotation);
  // Waits `wait`, or less if Stop is called; false when stopping.
  bool Pause(absl::Duration wait);

  WorkerPool& pool_;
  const std::shared_ptr<storage::MasterKeys> keys_;
  const std::string key_path_;
  const Clock clock_;
  CallLog& log_;
  const int batch_;
  const absl::Duration pause_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool busy_ = false;  // Guarded by mu_: a rotation is being started or runs.
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SERVER_KEY_ROTATION_H_
