// Service-wide settings a handler may need, set once at start-up (flags of mediation-server).
#ifndef MEDIATION_SERVICES_CORE_SETTINGS_H_
#define MEDIATION_SERVICES_CORE_SETTINGS_H_

#include <string>

#include "absl/time/time.h"

namespace mediation {

class ClientIdentities;
class KeyRotationControl;
namespace notifications {
class Notifier;
}

struct ServiceSettings {
  // Other server processes write to the same database (PostgreSQL): nothing read from it is
  // kept between calls (access tokens are looked up on every call), so a token revoked through
  // any instance is refused by every instance from the moment the revocation commits.
  bool shared_database = false;
  // Free time kept between one person's sessions.
  absl::Duration session_buffer = absl::Minutes(30);
  // The earliest a session may start, counted from now.
  absl::Duration minimum_notice = absl::Hours(48);
  // How long a finished case's notes are kept before they are destroyed (0: at once).
  absl::Duration note_retention = absl::ZeroDuration();
  // How long a finished case's personal data is kept before it is removed and the case's keys
  // destroyed (services/retention.h). Six years by default.
  absl::Duration personal_data_retention = absl::Hours(24 * 2190);
  // How long after it finished a case may be reopened (CaseService.ReopenCase).
  absl::Duration reopen_period = absl::Hours(24 * 90);
  // Where AdminService.BackupDatabase writes its files (created when needed). Set by the server.
  std::string backup_dir;
  // How long a backup keeps retrying while the database is busy before giving up.
  absl::Duration backup_busy_limit = absl::Seconds(10);
  // Client certificate identities that authenticate as tokens (not owned; null: none). Set by
  // the server at start-up from --client_identities.
  const ClientIdentities* client_identities = nullptr;
  // Master key rotation (not owned). Set by the server at start-up.
  KeyRotationControl* key_rotation = nullptr;
  // Calls refused without a known token, per peer address: this many at once, then this many
  // a second more; past that, RESOURCE_EXHAUSTED (services/core/anonymous_refusals.h).
  int anonymous_refusal_burst = 100;
  double anonymous_refusals_per_second = 10;
  // The longest a call may run: one without a deadline, or with a later one, is treated as
  // having this one (--max_call_seconds). Event streams end with DEADLINE_EXCEEDED at it.
  absl::Duration max_call = absl::Minutes(5);
  // A browser session (services/http/) ends after this long without a call, and this long
  // after sign-in whatever the activity (--session_idle_minutes; 12 hours).
  absl::Duration browser_session_idle = absl::Minutes(30);
  absl::Duration browser_session_lifetime = absl::Hours(12);
  // Writes the messages a change causes into the outbox, in the change's transaction (not
  // owned; set by the server at start-up; null: no messages, for tests of other things).
  const notifications::Notifier* notifier = nullptr;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_SETTINGS_H_
