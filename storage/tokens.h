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

// How many changes to access tokens this process has begun (inserts and revocations, counted
// before they commit, whether they commit or not). A cache of tokens (services/core/
// token_cache.h) forgets what it holds when this moves during a call.
uint64_t TokenChanges();

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
