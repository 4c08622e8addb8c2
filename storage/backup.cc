#include "storage/backup.h"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/schema.h"
#include "storage/sql_util.h"
#include "storage/sqlite_connection.h"

namespace mediation::storage {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  const int error = errno;
  const std::string detail = absl::StrCat(what, " ", path, ": ", std::strerror(error));
  if (error == ENOSPC || error == EDQUOT) return absl::ResourceExhaustedError(detail);
  return absl::InternalError(detail);
}

absl::Status BusyTooLong(absl::Duration limit) {
  return absl::UnavailableError(absl::StrCat("the database stayed busy for ",
                                             absl::FormatDuration(limit),
                                             "; no backup was written; try again later"));
}

// Pauses between tries while the database is busy: 5 ms, then twice as long each time up to
// 200 ms, never past the deadline. False once the deadline has passed.
class Backoff {
 public:
  explicit Backoff(absl::Duration limit) : limit_(limit) { Restart(); }
  void Restart() {
    deadline_ = absl::Now() + limit_;
    pause_ = absl::Milliseconds(5);
  }
  bool Wait() {
    const absl::Duration left = deadline_ - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    absl::SleepFor(std::min(pause_, left));
    pause_ = std::min(pause_ * 2, absl::Milliseconds(200));
    return true;
  }

 private:
  const absl::Duration limit_;
  absl::Time deadline_;
  absl::Duration pause_;
};

// Retries `attempt` while it fails UNAVAILABLE (a busy or locked database), for at most `limit`.
template <typename Fn>
auto RetryWhileBusy(absl::Duration limit, Fn&& attempt) -> decltype(attempt()) {
  Backoff backoff(limit);
  while (true) {
    auto result = attempt();
    if (!absl::IsUnavailable(result.status())) return result;
    if (!backoff.Wait()) return BusyTooLong(limit);
  }
}

absl::Status MakeDirectory(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return absl::OkStatus();
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create ", dir, ": ", ec.message()));
  // Backups hold personal data: only the server's user may list or read them.
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) return absl::InternalError(absl::StrCat("chmod ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

// Copies the snapshot of `source` into the (empty) database file at `path`.
absl::StatusOr<int64_t> CopyPages(SQLite::Database& source, const std::string& path,
                                  const BackupOptions& options) {
  return SqliteGuard("back up the database", [&]() -> absl::StatusOr<int64_t> {
    SQLite::Database dest(path, SQLite::OPEN_READWRITE);
    auto backup = std::make_unique<SQLite::Backup>(dest, "main", source, "main");
    Backoff backoff(options.busy_limit);  // Counted from the last step that made progress.
    while (true) {
      const int rc = backup->executeStep(options.pages_per_step);
      if (rc == SQLITE_DONE) break;
      if (rc == SQLITE_OK) {
        backoff.Restart();
        continue;
      }
      // SQLITE_BUSY or SQLITE_LOCKED: another connection holds a lock the step needs.
      if (!backoff.Wait()) return BusyTooLong(options.busy_limit);
    }
    const int64_t pages = backup->getTotalPageCount();
    backup.reset();  // Finishes the copy.
    // The copy says WAL, as its source does. A backup is a file at rest: make it a plain
    // database, so opening it to check it leaves no -wal or -shm files beside it. The server
    // switches it back to WAL when it opens it after a restore.
    dest.exec("PRAGMA journal_mode = DELETE");
    return pages;
  });
}

struct Digest {
  int64_t size = 0;
  std::string sha256_hex;
};

// fsyncs the file at `path` and returns its size and SHA-256.
absl::StatusOr<Digest> SyncAndDigest(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  if (::fsync(fd) != 0) return Errno("fsync", path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("SHA-256 unavailable");
  }
  Digest digest;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read", path);
    if (n == 0) break;
    digest.size += n;
    EVP_DigestUpdate(ctx.get(), buffer, static_cast<size_t>(n));
  }
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), hash, &length);
  digest.sha256_hex =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(hash), length));
  return digest;
}

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  if (::fsync(fd) != 0) return Errno("fsync", dir);
  return absl::OkStatus();
}

// Links `temp` under the first free name of `stem`.db, `stem`-2.db, ... and returns the name.
// link() never replaces an existing file, so two backups in the same second both survive.
absl::StatusOr<std::string> LinkUnderFreeName(const std::string& dir, const std::string& temp,
                                              const std::string& stem) {
  for (int n = 1; n <= 100; ++n) {
    const std::string name = n == 1 ? absl::StrCat(stem, ".db") : absl::StrCat(stem, "-", n, ".db");
    const std::string path = (std::filesystem::path(dir) / name).string();
    if (::link(temp.c_str(), path.c_str()) == 0) return name;
    if (errno != EEXIST) return Errno("link", path);
  }
  return absl::AlreadyExistsError(
      absl::StrCat("100 backups named ", stem, " already exist in ", dir));
}

}  // namespace

std::string SanitizeBackupLabel(absl::string_view label) {
  std::string out;
  for (const char c : label) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

absl::StatusOr<BackupFile> BackupDatabase(Tx& tx, const BackupOptions& options) {
  if (tx.engine() != Engine::kSqlite) {
    return absl::FailedPreconditionError(
        "this server stores its data in PostgreSQL, which it does not copy itself: back it up "
        "with pg_dump or pg_basebackup and archive its write-ahead log (see deploy/postgresql/)");
  }
  SQLite::Database& db = SqliteDatabaseOf(tx);
  if (absl::Status made = MakeDirectory(options.dir); !made.ok()) return made;

  // The first read starts the transaction's snapshot: the copy is of that instant.
  absl::StatusOr<int> version =
      RetryWhileBusy(options.busy_limit, [&] { return SchemaVersion(db); });
  if (!version.ok()) return version.status();

  std::string temp = (std::filesystem::path(options.dir) / ".backup-XXXXXX.partial").string();
  const int fd = ::mkstemps(temp.data(), static_cast<int>(std::strlen(".partial")));  // 0600
  if (fd < 0) return Errno("create a temporary file in", options.dir);
  ::close(fd);
  // Whatever happens below, the temporary name goes (and with it a failed copy).
  absl::Cleanup remove_temp = [&temp] {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
      ::unlink(absl::StrCat(temp, suffix).c_str());
    }
  };

  absl::StatusOr<int64_t> pages = CopyPages(db, temp, options);
  if (!pages.ok()) return pages.status();
  absl::StatusOr<Digest> digest = SyncAndDigest(temp);
  if (!digest.ok()) return digest.status();

  std::string stem = absl::StrCat(
      "mediation-", absl::FormatTime("%Y%m%dT%H%M%SZ", options.taken_at, absl::UTCTimeZone()));
  if (!options.label.empty()) absl::StrAppend(&stem, "-", options.label);
  absl::StatusOr<std::string> name = LinkUnderFreeName(options.dir, temp, stem);
  if (!name.ok()) return name.status();
  BackupFile file{.file_name = *name,
                  .path = (std::filesystem::path(options.dir) / *name).string(),
                  .size_bytes = digest->size,
                  .page_count = *pages,
                  .schema_version = *version,
                  .sha256_hex = digest->sha256_hex};
  std::move(remove_temp).Invoke();
  // The new name and the removed temporary one are on disk before the backup is reported.
  if (absl::Status synced = SyncDirectory(options.dir); !synced.ok()) {
    RemoveBackup(file.path);
    return synced;
  }
  return file;
}

void RemoveBackup(const std::string& path) { ::unlink(path.c_str()); }

}  // namespace mediation::storage
