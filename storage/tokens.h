// Access tokens: stored only as SHA-256 hashes of their secrets.
#ifndef MEDIATION_STORAGE_TOKENS_H_
#define MEDIATION_STORAGE_TOKENS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

// Changes to access tokens in this process, for caches of tokens (services/core/token_cache.h).
// `version` moves when a change begins (InsertToken, SetTokenRevoked) and again when the write
// transaction holding it has ended (committed or rolled back); `in_progress` counts changes whose
// transactions have not ended. A lookup made while in_progress is 0 and version did not move
// saw every change that anyone could have been told about.
struct TokenChangeState {
  uint64_t version = 0;
  uint64_t in_progress = 0;
  bool operator==(const TokenChangeState&) const = default;
};
TokenChangeState TokenChanges();

// For SqliteStore: how many token changes have begun so far, and the end of `count` of them
// (the store's write transaction that began them has ended). Write transactions do not overlap,
// so the difference of TokenChangesBegun() across one is the changes it began.
uint64_t TokenChangesBegun();
void EndTokenChanges(uint64_t count);

// Inserts `token` (its id is ignored) and returns it with its new id.
absl::StatusOr<TokenRecord> InsertToken(Tx& tx, TokenRecord token);

// NOT_FOUND when no token has this hash.
absl::StatusOr<TokenRecord> FindTokenByHash(Tx& tx, absl::string_view sha256);

// NOT_FOUND when there is no such token.
absl::StatusOr<TokenRecord> GetToken(Tx& tx, int64_t id);

// Newest first. Without `include_inactive`, only tokens neither revoked nor expired at `now`.
absl::StatusOr<std::vector<TokenRecord>> ListTokens(Tx& tx, bool include_inactive, absl::Time now,
                                                    const PageCursor& cursor);

absl::Status SetTokenRevoked(Tx& tx, int64_t id, absl::Time at);

// Tokens of `role` neither revoked nor expired at `now`.
absl::StatusOr<int64_t> CountActiveTokens(Tx& tx, v1::Role role, absl::Time now);

absl::StatusOr<int64_t> CountAllTokens(Tx& tx);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_TOKENS_H_
