// Browser sessions: a signed-in browser holds a random session id in an HttpOnly cookie; the
// database keeps only its SHA-256 and the access token it stands for.
#ifndef MEDIATION_STORAGE_BROWSER_SESSIONS_H_
#define MEDIATION_STORAGE_BROWSER_SESSIONS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/tx.h"

namespace mediation::storage {

struct BrowserSessionRecord {
  int64_t id = 0;
  std::string id_sha256;  // 32 raw bytes.
  int64_t token_id = 0;
  absl::Time created_at;
  absl::Time last_seen_at;
  absl::Time expires_at;  // The absolute end, whatever the activity.
  std::optional<absl::Time> ended_at;
};

// Stores `session` (its id is assigned). REQUIRES: a write transaction.
absl::StatusOr<BrowserSessionRecord> InsertBrowserSession(Tx& tx, BrowserSessionRecord session);

// The session whose id hashes to `id_sha256`; NOT_FOUND when there is none.
absl::StatusOr<BrowserSessionRecord> FindBrowserSession(Tx& tx, absl::string_view id_sha256);

// Records activity at `at`.
absl::Status TouchBrowserSession(Tx& tx, int64_t id, absl::Time at);

// Ends the session at `at` (sign-out). Ending an ended session changes nothing.
absl::Status EndBrowserSession(Tx& tx, int64_t id, absl::Time at);

// Deletes sessions that ended, or whose absolute end passed, before `before`. Returns how many.
absl::StatusOr<int64_t> DeleteFinishedBrowserSessions(Tx& tx, absl::Time before);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_BROWSER_SESSIONS_H_
