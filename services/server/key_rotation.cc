#include "services/server/key_rotation.h"

#include <sys/stat.h>
#include <unistd.h>

#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/core/master_key_file.h"
#include "services/server/key_setup.h"
#include "storage/audit.h"
#include "storage/crypto.h"

namespace mediation {
namespace {

// How long the retired master key stays in memory after a rotation ends.
constexpr absl::Duration kRetiredKeyGrace = absl::Seconds(30);

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

KeyRotator::KeyRotator(WorkerPool& pool, std::shared_ptr<storage::MasterKeys> keys,
                       std::string key_path, Clock clock, CallLog& log, int batch,
                       absl::Duration pause)
    : pool_(pool),
      keys_(std::move(keys)),
      key_path_(std::move(key_path)),
      clock_(std::move(clock)),
      log_(log),
      batch_(batch < 1 ? 1 : batch),
      pause_(pause) {}

KeyRotator::~KeyRotator() { Stop(); }

std::string KeyRotator::NextKeyFile() const { return NextKeyPath(key_path_); }

std::string KeyRotator::RetiredKeyFile(int64_t master_key_id) const {
  return RetiredKeyPath(key_path_, master_key_id);
}

absl::StatusOr<KeyRotationControl::PreparedKey> KeyRotator::Prepare(
    const std::string& new_key_file) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return absl::UnavailableError("the server is shutting down");
    if (busy_) {
      return absl::AlreadyExistsError(
          "a master key rotation is already under way; GetKeyRotation shows its progress");
    }
    busy_ = true;
  }
  auto give_up = [this](absl::Status status) {
    std::lock_guard lock(mu_);
    busy_ = false;
    return status;
  };
  if (shared_.count_others) {
    absl::StatusOr<int> others = shared_.count_others();
    if (!others.ok()) return give_up(others.status());
    if (*others > 0) {
      return give_up(absl::FailedPreconditionError(absl::StrCat(
          *others,
          " other server process(es) use this database, and each would need the new master "
          "key: rotate it with this process alone. Stop the others; when GetKeyRotation shows "
          "the rotation ended, copy the master key file to their machines and start them "
          "again (deploy/postgresql/README.md)")));
    }
    // Whoever starts the rotation re-wraps: it takes the lock before the rotation is recorded.
    if (!shared_.hold_lock()) {
      return give_up(absl::UnavailableError(
          "another server process holds the key rotation's lock, or the database could not be "
          "asked; try again shortly"));
    }
  }
  std::string key;
  if (new_key_file.empty()) {
    key = storage::NewKey();
  } else {
    absl::StatusOr<std::string> read = ReadMasterKeyFile(new_key_file);
    if (!read.ok()) {
      return give_up(
          absl::InvalidArgumentError(absl::StrCat("new_key_file: ", read.status().message())));
    }
    key = *std::move(read);
    if (keys_->HoldsKey(key)) {
      storage::Wipe(key);
      return give_up(absl::InvalidArgumentError(
          "new_key_file: it holds a key this server already uses; give a new key"));
    }
  }
  // No rotation runs (busy_ was false), so a next-key file left here was never recorded and
  // never wrapped anything (a failed start's leftover), unless it holds a key in use.
  if (absl::StatusOr<std::string> left = ReadMasterKeyFile(NextKeyFile()); left.ok()) {
    const bool in_use = keys_->HoldsKey(*left);
    storage::Wipe(*left);
    if (in_use) {
      storage::Wipe(key);
      return give_up(absl::FailedPreconditionError(
          absl::StrCat(NextKeyFile(),
                       " holds a master key in use: the last rotation's files are not renamed "
                       "yet; try again when GetKeyRotation shows it ended")));
    }
  }
  ::unlink(NextKeyFile().c_str());
  if (absl::Status s = WriteMasterKeyFile(NextKeyFile(), key); !s.ok()) {
    storage::Wipe(key);
    return give_up(s);
  }
  return PreparedKey{.key = std::move(key)};
}

void KeyRotator::Abandon() {
  ::unlink(NextKeyFile().c_str());
  if (shared_.release_lock) shared_.release_lock();
  std::lock_guard lock(mu_);
  busy_ = false;
}

void KeyRotator::Launch(const storage::KeyRotationRecord& rotation, std::string key) {
  keys_->Hold(rotation.to_master_key_id, std::move(key));
  keys_->SetWrapping(rotation.to_master_key_id);
  log_.Info(absl::StrCat("master key rotation ", rotation.id, ": from key ",
                         rotation.from_master_key_id, " to key ", rotation.to_master_key_id, ", ",
                         rotation.keys_total, " data key(s) to re-wrap"));
  Resume(rotation);
}

void KeyRotator::ShareDatabase(SharedDatabase shared) { shared_ = std::move(shared); }

void KeyRotator::Resume(const storage::KeyRotationRecord& rotation) {
  std::thread finished;
  {
    std::lock_guard lock(mu_);
    busy_ = true;
    if (stopping_) return;
    finished = std::move(thread_);
  }
  wake_.notify_all();  // A finished rotation's thread waiting to drop its retired key.
  if (finished.joinable()) finished.join();
  std::lock_guard lock(mu_);
  if (stopping_) return;
  thread_ = std::thread([this, rotation] { Run(rotation); });
}

void KeyRotator::Stop() {
  std::thread running;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    running = std::move(thread_);
  }
  wake_.notify_all();
  if (running.joinable()) running.join();
}

absl::Status KeyRotator::Read(const storage::TxFn& fn) {
  auto done = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = done->get_future();
  if (!pool_.Submit([fn, done](storage::Store& store) { done->set_value(store.Read(fn)); })) {
    return absl::UnavailableError("the server is shutting down");
  }
  return result.get();
}

bool KeyRotator::Completed(int64_t id) {
  bool completed = false;
  const absl::Status read = Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::optional<storage::KeyRotationRecord>> latest =
        storage::LatestKeyRotation(tx);
    if (!latest.ok()) return latest.status();
    completed = latest->has_value() && (*latest)->id == id && (*latest)->completed_at.has_value();
    return absl::OkStatus();
  });
  return read.ok() && completed;
}

absl::Status KeyRotator::Write(const storage::TxFn& fn) {
  auto done = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = done->get_future();
  if (!pool_.Submit([fn, done](storage::Store& store) { done->set_value(store.Write(fn)); })) {
    return absl::UnavailableError("the server is shutting down");
  }
  return result.get();
}

bool KeyRotator::Pause(absl::Duration wait) {
  std::unique_lock lock(mu_);
  return !wake_.wait_for(lock, absl::ToChronoMilliseconds(wait), [this] { return stopping_; });
}

void KeyRotator::Run(storage::KeyRotationRecord rotation) {
  const absl::Time began = absl::Now();
  int64_t rewrapped = 0;
  absl::Duration backoff = absl::Seconds(1);
  bool announced = false;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;  // Resumes at the next start.
    }
    if (shared_.hold_lock && !shared_.hold_lock()) {
      // Another process re-wraps (or the database is away): wait for the lock, or the end.
      if (!announced) {
        log_.Info(absl::StrCat("master key rotation ", rotation.id,
                               " is being continued by another server process"));
        announced = true;
      }
      if (Completed(rotation.id)) {
        // This process's key files are renamed at its next start (key_setup).
        log_.Info(absl::StrCat("master key rotation ", rotation.id,
                               " was completed by another server process"));
        std::lock_guard lock(mu_);
        busy_ = false;
        return;
      }
      if (!Pause(absl::Seconds(5))) return;
      continue;
    }
    int n = 0;
    bool finished = false;
    absl::Status status = Write([&](storage::Tx& tx) -> absl::Status {
      // Another process that held the lock before may have ended it: once is enough.
      absl::StatusOr<std::optional<storage::KeyRotationRecord>> latest =
          storage::LatestKeyRotation(tx);
      if (!latest.ok()) return latest.status();
      if (latest->has_value() && (*latest)->id == rotation.id &&
          (*latest)->completed_at.has_value()) {
        finished = true;
        return absl::OkStatus();
      }
      absl::StatusOr<int> batch = storage::ContinueKeyRotation(tx, rotation, batch_);
      if (!batch.ok()) return batch.status();
      n = *batch;
      if (n > 0) return absl::OkStatus();
      const absl::Time now = clock_();
      absl::StatusOr<bool> ended = storage::FinishKeyRotation(tx, rotation, now);
      if (!ended.ok()) return ended.status();
      finished = *ended;
      if (!finished) return absl::OkStatus();
      return storage::AppendAudit(
                 tx, {.at = now,
                      .call_id = "maintenance",
                      .method =
                          absl::StrCat("server: master key rotation ", rotation.id,
                                       " completed (key ", rotation.to_master_key_id,
                                       " current, key ", rotation.from_master_key_id, " retired)"),
                      .objects = absl::StrCat("master_key:", rotation.to_master_key_id),
                      .outcome = "OK"})
          .status();
    });
    if (!status.ok()) {
      // The database busy or full: try again, less and less often.
      log_.Error("key-rotation",
                 absl::StrCat("master key rotation ", rotation.id, ": ", status.ToString(),
                              "; retrying in ", absl::FormatDuration(backoff)));
      if (!Pause(backoff)) return;
      backoff = std::min(backoff * 2, absl::Seconds(60));
      continue;
    }
    backoff = absl::Seconds(1);
    rewrapped += n;
    if (finished) break;
    if (n > 0 && pause_ > absl::ZeroDuration() && !Pause(pause_)) return;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - began);
  log_.Info(absl::StrCat(
      "master key rotation ", rotation.id, " completed: ", rewrapped,
      " data key(s) re-wrapped by this run in ", absl::StrFormat("%.2f", seconds), " s (",
      seconds > 0 ? static_cast<int64_t>(rewrapped / seconds) : 0, " a second)"));
  if (shared_.release_lock) shared_.release_lock();
  Finish(rotation);
}

void KeyRotator::Finish(const storage::KeyRotationRecord& rotation) {
  // The database says the new key is current: the files follow. Until they have, the current
  // key may be only in `.next`, so no new rotation may start (it would replace that file); a
  // stop meanwhile is finished by key_setup at the next start.
  for (absl::Duration backoff = absl::Seconds(1);;
       backoff = std::min(backoff * 2, absl::Seconds(60))) {
    absl::Status renamed = absl::OkStatus();
    if (FileExists(key_path_) && FileExists(NextKeyFile())) {
      renamed = RenameDurably(key_path_, RetiredKeyFile(rotation.from_master_key_id));
    }
    if (renamed.ok() && FileExists(NextKeyFile()))
      renamed = RenameDurably(NextKeyFile(), key_path_);
    if (renamed.ok()) break;
    log_.Error("key-rotation", absl::StrCat("master key rotation ", rotation.id,
                                            ": renaming the key files: ", renamed.ToString(),
                                            "; retrying in ", absl::FormatDuration(backoff)));
    if (!Pause(backoff)) return;  // The next start finishes the renames.
  }
  log_.Info(absl::StrCat("master key rotation ", rotation.id, ": key ", rotation.to_master_key_id,
                         " is ", key_path_, "; the retired key ", rotation.from_master_key_id,
                         " is ", RetiredKeyFile(rotation.from_master_key_id),
                         " (keep it with the backups taken before the rotation)"));
  {
    std::lock_guard lock(mu_);
    busy_ = false;
  }
  // Reads that began before the rotation ended may still find keys wrapped under the old key
  // in their snapshot: drop it from memory only once they are surely over (or sooner, when
  // another rotation starts or the server stops).
  {
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, absl::ToChronoMilliseconds(kRetiredKeyGrace),
                   [this] { return stopping_ || busy_; });
  }
  keys_->Drop(rotation.from_master_key_id);
}

}  // namespace mediation
