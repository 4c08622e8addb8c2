#include "services/server/bootstrap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "services/core/secrets.h"
#include "storage/audit.h"
#include "storage/tokens.h"

namespace mediation {

absl::Status WritePrivateFile(const std::string& path, absl::string_view contents) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  auto fail = [&](absl::string_view what) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot ", what, " ", tmp, ": ", std::strerror(errno)));
  };
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail("create");
  // The mode given to open() is filtered by the umask; make sure it is exactly 0600.
  if (::fchmod(fd, 0600) != 0) {
    ::close(fd);
    return fail("chmod");
  }
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return fail("write");
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("fsync");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot rename ", tmp, " to ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> BootstrapAdminToken(storage::Store& store, const std::string& path,
                                         absl::Time now) {
  bool created = false;
  absl::Status status = store.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> count = storage::CountAllTokens(tx);
    if (!count.ok()) return count.status();
    if (*count > 0) return absl::OkStatus();

    absl::StatusOr<std::string> secret = NewTokenSecret();
    if (!secret.ok()) return secret.status();
    storage::TokenRecord token;
    token.sha256 = Sha256(*secret);
    token.role = ::ppa::mediation::v1::ROLE_ADMIN;
    token.label = "first administrator (created on first start)";
    token.created_at = now;
    absl::StatusOr<storage::TokenRecord> stored = storage::InsertToken(tx, token);
    if (!stored.ok()) return stored.status();

    storage::AuditRecord audit;
    audit.at = now;
    audit.call_id = "bootstrap";
    audit.role = ::ppa::mediation::v1::ROLE_UNSPECIFIED;
    audit.method = "server start: create first ADMIN token";
    audit.objects = absl::StrCat("token:", stored->id);
    audit.outcome = "OK";
    if (absl::Status s = storage::AppendAudit(tx, audit).status(); !s.ok()) return s;

    // The file is written before the row commits: if writing fails, the token never exists and
    // the next start tries again.
    if (absl::Status s = WritePrivateFile(path, absl::StrCat(*secret, "\n")); !s.ok()) return s;
    created = true;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return created;
}

}  // namespace mediation
