#include "services/core/master_key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/crypto.h"

namespace mediation {
namespace {

constexpr absl::string_view kFilePrefix = "mediation-master-key-v1:";

absl::Status SyncDirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open the directory ", dir, ": ", std::strerror(errno)));
  }
  const int synced = ::fsync(fd);
  ::close(fd);
  if (synced != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot flush the directory ", dir));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadMasterKeyFile(const std::string& path) {
  // One descriptor for every check and the read, so the file cannot be swapped in between; a
  // symbolic link is refused rather than followed.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) {
      return absl::NotFoundError(absl::StrCat("there is no master key file ", path));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open the master key file ", path, ": ", std::strerror(error),
                     error == ELOOP ? " (it is a symbolic link; give the real file's path)" : ""));
  }
  struct stat st {};
  std::string text(4096, '\0');
  ssize_t length = -1;
  absl::Status problem;
  if (::fstat(fd, &st) != 0) {
    problem = absl::FailedPreconditionError(
        absl::StrCat("cannot inspect the master key file ", path, ": ", std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    problem = absl::FailedPreconditionError(
        absl::StrCat("the master key file ", path, " is not a regular file"));
  } else if (st.st_uid != ::geteuid()) {
    problem = absl::FailedPreconditionError(absl::StrCat(
        "the master key file ", path, " belongs to another user; it must be the server's own"));
  } else if ((st.st_mode & 077) != 0) {
    problem = absl::FailedPreconditionError(absl::StrCat(
        "the master key file ", path, " is readable by others; chmod 600 it and start again"));
  } else {
    length = ::read(fd, text.data(), text.size());
    if (length < 0) {
      problem = absl::FailedPreconditionError(
          absl::StrCat("cannot read the master key file ", path, ": ", std::strerror(errno)));
    }
  }
  ::close(fd);
  std::string key;
  if (problem.ok()) {
    text.resize(static_cast<size_t>(length));
    const absl::string_view body = absl::StripAsciiWhitespace(text);
    if (!absl::StartsWith(body, kFilePrefix) ||
        !absl::Base64Unescape(body.substr(kFilePrefix.size()), &key) ||
        key.size() != storage::kKeyBytes) {
      problem = absl::FailedPreconditionError(
          absl::StrCat("the master key file ", path, " does not hold a master key"));
    }
  }
  storage::Wipe(text);
  if (!problem.ok()) {
    storage::Wipe(key);
    return problem;
  }
  return key;
}

absl::Status WriteMasterKeyFile(const std::string& path, absl::string_view key) {
  std::string text = absl::StrCat(kFilePrefix, absl::Base64Escape(key), "\n");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    storage::Wipe(text);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the master key file ", path, ": ", std::strerror(errno)));
  }
  ::fchmod(fd, 0600);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  storage::Wipe(text);
  if (!written) {
    ::unlink(path.c_str());
    return absl::FailedPreconditionError(absl::StrCat("cannot write the master key file ", path));
  }
  return SyncDirectoryOf(path);
}

absl::Status RenameDurably(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot rename ", from, " to ", to, ": ", std::strerror(errno)));
  }
  return SyncDirectoryOf(to);
}

}  // namespace mediation
