#include "storage/tokens.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kColumns[] =
    "id, sha256, role, label, mediator_id, organisation_id, case_id, party_id, created_at, "
    "expires_at, revoked_at, issued_by_token_id";

TokenRecord ReadToken(Statement& st) {
  TokenRecord t;
  t.id = st.getColumn(0).getInt64();
  const Column hash = st.getColumn(1);
  t.sha256 = hash.getString();
  t.role = EnumFromText<v1::Role>(st.getColumn(2).getString(), v1::Role_Parse);
  t.label = st.getColumn(3).getString();
  t.mediator_id = OptionalId(st.getColumn(4));
  t.organisation_id = OptionalId(st.getColumn(5));
  t.case_id = OptionalId(st.getColumn(6));
  t.party_id = OptionalId(st.getColumn(7));
  t.created_at = FromMicros(st.getColumn(8).getInt64());
  t.expires_at = OptionalTime(st.getColumn(9));
  t.revoked_at = OptionalTime(st.getColumn(10));
  t.issued_by_token_id = OptionalId(st.getColumn(11));
  return t;
}

// version << kVersionShift | in_progress, in one word so a reader sees both at one instant. Every
// begin and end adds to it, so it only grows.
constexpr int kVersionShift = 24;
constexpr uint64_t kInProgressMask = (uint64_t{1} << kVersionShift) - 1;
std::atomic<uint64_t> change_state{0};
std::atomic<uint64_t> changes_begun{0};

void BeginTokenChange() {
  changes_begun.fetch_add(1);
  change_state.fetch_add((uint64_t{1} << kVersionShift) + 1);
}

}  // namespace

TokenChangeState TokenChanges() {
  const uint64_t s = change_state.load();
  return {.version = s >> kVersionShift, .in_progress = s & kInProgressMask};
}

uint64_t TokenChangesBegun() { return changes_begun.load(); }

void EndTokenChanges(uint64_t count) {
  for (uint64_t i = 0; i < count; ++i) change_state.fetch_add((uint64_t{1} << kVersionShift) - 1);
}

absl::StatusOr<TokenRecord> InsertToken(Tx& tx, TokenRecord token) {
  if (absl::Status s = tx.RequireWritable("insert token"); !s.ok()) return s;
  BeginTokenChange();
  return Guard("insert token", [&]() -> absl::StatusOr<TokenRecord> {
    Statement st(tx,
                 "INSERT INTO access_tokens (sha256, role, label, mediator_id, "
                 "organisation_id, case_id, party_id, created_at, expires_at, revoked_at, "
                 "issued_by_token_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, token.sha256.data(), static_cast<int>(token.sha256.size()));
    st.bind(2, v1::Role_Name(token.role));
    st.bind(3, token.label);
    BindOptionalId(st, 4, token.mediator_id);
    BindOptionalId(st, 5, token.organisation_id);
    BindOptionalId(st, 6, token.case_id);
    BindOptionalId(st, 7, token.party_id);
    st.bind(8, static_cast<int64_t>(ToMicros(token.created_at)));
    BindOptionalTime(st, 9, token.expires_at);
    BindOptionalTime(st, 10, token.revoked_at);
    BindOptionalId(st, 11, token.issued_by_token_id);
    st.exec();
    token.id = tx.LastInsertId();
    return token;
  });
}

absl::StatusOr<TokenRecord> FindTokenByHash(Tx& tx, absl::string_view sha256) {
  return Guard("find token", [&]() -> absl::StatusOr<TokenRecord> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns, " FROM access_tokens WHERE sha256 = ?"));
    st.bind(1, sha256.data(), static_cast<int>(sha256.size()));
    if (!st.executeStep()) return absl::NotFoundError("no such token");
    return ReadToken(st);
  });
}

absl::StatusOr<TokenRecord> GetToken(Tx& tx, int64_t id) {
  return Guard("get token", [&]() -> absl::StatusOr<TokenRecord> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns, " FROM access_tokens WHERE id = ?"));
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) return absl::NotFoundError(absl::StrCat("token ", id, " not found"));
    return ReadToken(st);
  });
}

absl::StatusOr<std::vector<TokenRecord>> ListTokens(Tx& tx, bool include_inactive, absl::Time now,
                                                    const PageCursor& cursor) {
  return Guard("list tokens", [&]() -> absl::StatusOr<std::vector<TokenRecord>> {
    Statement st(tx,
                 absl::StrCat("SELECT ", kColumns,
                              " FROM access_tokens WHERE (?1 = 0 OR id < ?1) AND (?2 OR "
                              "(revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?3))) "
                              "ORDER BY id DESC LIMIT ?4"));
    st.bind(1, static_cast<int64_t>(cursor.after_id));
    st.bind(2, include_inactive ? 1 : 0);
    st.bind(3, static_cast<int64_t>(ToMicros(now)));
    st.bind(4, cursor.limit);
    std::vector<TokenRecord> tokens;
    while (st.executeStep()) tokens.push_back(ReadToken(st));
    return tokens;
  });
}

absl::Status SetTokenRevoked(Tx& tx, int64_t id, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("revoke token"); !s.ok()) return s;
  BeginTokenChange();
  return Guard("revoke token", [&]() -> absl::Status {
    Statement st(tx, "UPDATE access_tokens SET revoked_at = ? WHERE id = ?");
    st.bind(1, static_cast<int64_t>(ToMicros(at)));
    st.bind(2, static_cast<int64_t>(id));
    if (st.exec() != 1) return absl::NotFoundError(absl::StrCat("token ", id, " not found"));
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> CountActiveTokens(Tx& tx, v1::Role role, absl::Time now) {
  return Guard("count tokens", [&]() -> absl::StatusOr<int64_t> {
    Statement st(tx,
                 "SELECT COUNT(*) FROM access_tokens WHERE role = ? AND revoked_at IS NULL "
                 "AND (expires_at IS NULL OR expires_at > ?)");
    st.bind(1, v1::Role_Name(role));
    st.bind(2, static_cast<int64_t>(ToMicros(now)));
    st.executeStep();
    return st.getColumn(0).getInt64();
  });
}

absl::StatusOr<int64_t> CountAllTokens(Tx& tx) {
  return Guard("count tokens", [&]() -> absl::StatusOr<int64_t> {
    return SelectInt64(tx, "SELECT COUNT(*) FROM access_tokens");
  });
}

}  // namespace mediation::storage
