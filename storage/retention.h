// The end of a finished case's retention period: its personal data is removed, and every sealed
// text of the case goes with its keys (crypto-shredding), while the facts the statistics count
// stay: dates, states, the nation and kind of organisation, professions, the outcome.
#ifndef MEDIATION_STORAGE_RETENTION_H_
#define MEDIATION_STORAGE_RETENTION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/tx.h"

namespace mediation::storage {

// What removed personal data reads as.
inline constexpr char kRemoved[] = "[removed]";

// Cases finished (CLOSED, NOT_SUITABLE or WITHDRAWN) at or before `cutoff` whose personal data is
// still held, oldest first, at most `limit`.
absl::StatusOr<std::vector<int64_t>> CasesDueForAnonymisation(Tx& tx, absl::Time cutoff, int limit);

struct Anonymised {
  int parties = 0;
  int tokens = 0;  // Party tokens of the case revoked and their labels removed.
  int notes = 0;   // Notes whose ciphertexts were still held.
};

// In one transaction: the case's referrer and parties' names, emails, phones and job titles
// become kRemoved; its record and notes keys are destroyed (every sealed text of the case, and
// its notes' ciphertexts, are gone for good); the party tokens bound to it are revoked and their
// labels removed; a mediator's conflict with one of its parties (discovered on declining its
// offer) keeps only that it existed; its outbox messages lose their address (storage/outbox.h);
// the case records anonymised_at. FAILED_PRECONDITION for a case
// not finished; a case already anonymised is left as it is.
absl::StatusOr<Anonymised> AnonymiseCase(Tx& tx, int64_t case_id, absl::Time at);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_RETENTION_H_
