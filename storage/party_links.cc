#include "storage/party_links.h"

#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kColumns[] =
    "id, code_sha256, case_id, party_id, issued_by_token_id, issued_at, expires_at, used_at, "
    "used_token_id, revoked_at";

PartyLinkRecord ReadLink(Statement& st) {
  PartyLinkRecord l;
  l.id = st.getColumn(0).getInt64();
  const Column hash = st.getColumn(1);
  l.code_sha256 = hash.getString();
  l.case_id = st.getColumn(2).getInt64();
  l.party_id = st.getColumn(3).getInt64();
  l.issued_by_token_id = st.getColumn(4).getInt64();
  l.issued_at = FromMicros(st.getColumn(5).getInt64());
  l.expires_at = FromMicros(st.getColumn(6).getInt64());
  l.used_at = OptionalTime(st.getColumn(7));
  l.used_token_id = st.getColumn(8).isNull() ? 0 : st.getColumn(8).getInt64();
  l.revoked_at = OptionalTime(st.getColumn(9));
  return l;
}

}  // namespace

absl::StatusOr<PartyLinkRecord> ReplacePartyLink(Tx& tx, PartyLinkRecord link) {
  if (absl::Status s = tx.RequireWritable("replace party link"); !s.ok()) return s;
  return Guard("replace party link", [&]() -> absl::StatusOr<PartyLinkRecord> {
    Statement revoke(tx,
                     "UPDATE party_sign_in_links SET revoked_at = ? WHERE case_id = ? AND "
                     "party_id = ? AND used_at IS NULL AND revoked_at IS NULL");
    revoke.bind(1, static_cast<int64_t>(ToMicros(link.issued_at)));
    revoke.bind(2, static_cast<int64_t>(link.case_id));
    revoke.bind(3, static_cast<int64_t>(link.party_id));
    revoke.exec();
    Statement st(tx,
                 "INSERT INTO party_sign_in_links (code_sha256, case_id, party_id, "
                 "issued_by_token_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)");
    st.bind(1, link.code_sha256.data(), static_cast<int>(link.code_sha256.size()));
    st.bind(2, static_cast<int64_t>(link.case_id));
    st.bind(3, static_cast<int64_t>(link.party_id));
    st.bind(4, static_cast<int64_t>(link.issued_by_token_id));
    st.bind(5, static_cast<int64_t>(ToMicros(link.issued_at)));
    st.bind(6, static_cast<int64_t>(ToMicros(link.expires_at)));
    st.exec();
    link.id = tx.LastInsertId();
    return link;
  });
}

absl::StatusOr<PartyLinkRecord> FindPartyLink(Tx& tx, absl::string_view code_sha256) {
  return Guard("find party link", [&]() -> absl::StatusOr<PartyLinkRecord> {
    Statement st(
        tx, absl::StrCat("SELECT ", kColumns, " FROM party_sign_in_links WHERE code_sha256 = ?"));
    st.bind(1, code_sha256.data(), static_cast<int>(code_sha256.size()));
    if (!st.executeStep()) return absl::NotFoundError("no such sign-in link");
    return ReadLink(st);
  });
}

absl::Status MarkPartyLinkUsed(Tx& tx, int64_t id, absl::Time at, int64_t token_id) {
  if (absl::Status s = tx.RequireWritable("use party link"); !s.ok()) return s;
  return Guard("use party link", [&]() -> absl::Status {
    Statement st(tx,
                 "UPDATE party_sign_in_links SET used_at = ?, used_token_id = ? "
                 "WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL");
    st.bind(1, static_cast<int64_t>(ToMicros(at)));
    st.bind(2, static_cast<int64_t>(token_id));
    st.bind(3, static_cast<int64_t>(id));
    if (st.exec() != 1) {
      return absl::AbortedError(
          absl::StrCat("sign-in link ", id, " was used or replaced meanwhile"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<PartyLinkRecord>> ListPartyLinks(Tx& tx, int64_t case_id) {
  return Guard("list party links", [&]() -> absl::StatusOr<std::vector<PartyLinkRecord>> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns,
                                  " FROM party_sign_in_links WHERE case_id = ? "
                                  "ORDER BY id DESC"));
    st.bind(1, static_cast<int64_t>(case_id));
    std::vector<PartyLinkRecord> links;
    while (st.executeStep()) links.push_back(ReadLink(st));
    return links;
  });
}

}  // namespace mediation::storage
