// One-time sign-in links for the parties: a random code that a party exchanges, once, for a
// browser session of a PARTY token bound to their case and to them. The database keeps only the
// code's SHA-256.
#ifndef MEDIATION_STORAGE_PARTY_LINKS_H_
#define MEDIATION_STORAGE_PARTY_LINKS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/tx.h"

namespace mediation::storage {

struct PartyLinkRecord {
  int64_t id = 0;
  std::string code_sha256;  // 32 raw bytes.
  int64_t case_id = 0;
  int64_t party_id = 0;
  int64_t issued_by_token_id = 0;
  absl::Time issued_at;
  absl::Time expires_at;
  std::optional<absl::Time> used_at;
  int64_t used_token_id = 0;  // The PARTY token the link became; 0 until used.
  std::optional<absl::Time> revoked_at;
};

// Revokes, at `link.issued_at`, the party's links that are neither used nor revoked, then
// stores `link` (its id is assigned). REQUIRES: a write transaction.
absl::StatusOr<PartyLinkRecord> ReplacePartyLink(Tx& tx, PartyLinkRecord link);

// The link whose code hashes to `code_sha256`; NOT_FOUND when there is none.
absl::StatusOr<PartyLinkRecord> FindPartyLink(Tx& tx, absl::string_view code_sha256);

// Marks the link used at `at` by `token_id`. ABORTED when it was used or revoked meanwhile (so
// two redemptions racing cannot both succeed). REQUIRES: a write transaction.
absl::Status MarkPartyLinkUsed(Tx& tx, int64_t id, absl::Time at, int64_t token_id);

// The case's links, newest first.
absl::StatusOr<std::vector<PartyLinkRecord>> ListPartyLinks(Tx& tx, int64_t case_id);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_PARTY_LINKS_H_
