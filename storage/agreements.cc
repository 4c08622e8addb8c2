#include "storage/agreements.h"

#include "absl/strings/str_cat.h"
#include "storage/sealed_text_internal.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kColumns[] =
    "id, case_id, version, content, content_hash, created_at, created_by_token_id, finalised_at, "
    "content_sealed";

FieldRef ContentField(int64_t case_id, int64_t id) {
  return {.case_id = case_id, .table = "agreement_versions", .column = "content", .row = id};
}

AgreementVersionRecord ReadVersion(Tx& tx, Statement& st) {
  AgreementVersionRecord v;
  v.id = st.getColumn(0).getInt64();
  v.case_id = st.getColumn(1).getInt64();
  v.version = st.getColumn(2).getInt();
  const std::string stored = st.getColumn(3).getString();
  // Content from before schema version 9 is plain until start-up seals it.
  v.content = OpenStored(tx, ContentField(v.case_id, v.id), st.getColumn(8).getInt() != 0, stored,
                         "content", &v.withheld);
  v.content_hash = st.getColumn(4).getString();
  v.created_at = FromMicros(st.getColumn(5).getInt64());
  v.created_by_token_id = OptionalId(st.getColumn(6));
  v.finalised_at = OptionalTime(st.getColumn(7));
  return v;
}

void ReadSignatures(Tx& db, AgreementVersionRecord& v) {
  Statement st(db,
               "SELECT party_id, content_hash, signed_at, token_id, on_paper, "
               "consent_to_share FROM agreement_signatures WHERE version_id = ? ORDER BY "
               "id");
  st.bind(1, static_cast<int64_t>(v.id));
  while (st.executeStep()) {
    v.signatures.push_back({.party_id = st.getColumn(0).getInt64(),
                            .content_hash = st.getColumn(1).getString(),
                            .signed_at = FromMicros(st.getColumn(2).getInt64()),
                            .token_id = OptionalId(st.getColumn(3)),
                            .on_paper = st.getColumn(4).getInt() != 0,
                            .consent_to_share = st.getColumn(5).getInt() != 0});
  }
}

}  // namespace

absl::StatusOr<AgreementVersionRecord> InsertAgreementVersion(Tx& tx, AgreementVersionRecord v) {
  if (absl::Status s = tx.RequireWritable("insert agreement version"); !s.ok()) return s;
  return Guard("insert agreement version", [&]() -> absl::StatusOr<AgreementVersionRecord> {
    Statement next(tx,
                   "SELECT COALESCE(MAX(version), 0) + 1 FROM agreement_versions WHERE "
                   "case_id = ?");
    next.bind(1, static_cast<int64_t>(v.case_id));
    next.executeStep();
    v.version = next.getColumn(0).getInt();
    // The content is sealed, bound to the row; its hash stays the hash of the plain text, so
    // a signature still names what the party read.
    Statement st(
        tx,
        "INSERT INTO agreement_versions (case_id, version, content, content_sealed, "
        "content_hash, created_at, created_by_token_id) VALUES (?1, ?2, ?6, 1, ?3, ?4, ?5)");
    st.bind(1, static_cast<int64_t>(v.case_id));
    st.bindBlob(6, "");  // An empty BLOB (BYTEA), sealed below.
    st.bind(2, v.version);
    st.bind(3, v.content_hash);
    st.bind(4, static_cast<int64_t>(ToMicros(v.created_at)));
    BindOptionalId(st, 5, v.created_by_token_id);
    st.exec();
    v.id = tx.LastInsertId();
    if (absl::Status s =
            StoreSealedText(tx, ContentField(v.case_id, v.id), v.content, v.created_at);
        !s.ok()) {
      return s;
    }
    return v;
  });
}

absl::StatusOr<AgreementVersionRecord> GetAgreementVersion(Tx& tx, int64_t id) {
  return Guard("get agreement version", [&]() -> absl::StatusOr<AgreementVersionRecord> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns, " FROM agreement_versions WHERE id = ?"));
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) {
      return absl::NotFoundError(absl::StrCat("agreement version ", id, " not found"));
    }
    AgreementVersionRecord v = ReadVersion(tx, st);
    ReadSignatures(tx, v);
    return v;
  });
}

absl::StatusOr<std::vector<AgreementVersionRecord>> ListAgreementVersions(Tx& tx, int64_t case_id) {
  return Guard("list agreement versions",
               [&]() -> absl::StatusOr<std::vector<AgreementVersionRecord>> {
                 Statement st(tx, absl::StrCat("SELECT ", kColumns,
                                               " FROM agreement_versions WHERE case_id = ? "
                                               "ORDER BY version"));
                 st.bind(1, static_cast<int64_t>(case_id));
                 std::vector<AgreementVersionRecord> out;
                 while (st.executeStep()) out.push_back(ReadVersion(tx, st));
                 for (auto& v : out) ReadSignatures(tx, v);
                 return out;
               });
}

absl::Status InsertSignature(Tx& tx, int64_t version_id, const SignatureRecord& s) {
  if (absl::Status st = tx.RequireWritable("insert signature"); !st.ok()) return st;
  return Guard("insert signature", [&]() -> absl::Status {
    Statement existing(tx,
                       "SELECT 1 FROM agreement_signatures WHERE version_id = ? AND "
                       "party_id = ?");
    existing.bind(1, static_cast<int64_t>(version_id));
    existing.bind(2, static_cast<int64_t>(s.party_id));
    if (existing.executeStep()) {
      return absl::AlreadyExistsError(
          absl::StrCat("party ", s.party_id, " has already signed this version"));
    }
    Statement st(tx,
                 "INSERT INTO agreement_signatures (version_id, party_id, content_hash, "
                 "signed_at, token_id, on_paper, consent_to_share) VALUES (?, ?, ?, ?, ?, "
                 "?, ?)");
    st.bind(1, static_cast<int64_t>(version_id));
    st.bind(2, static_cast<int64_t>(s.party_id));
    st.bind(3, s.content_hash);
    st.bind(4, static_cast<int64_t>(ToMicros(s.signed_at)));
    BindOptionalId(st, 5, s.token_id);
    st.bind(6, s.on_paper ? 1 : 0);
    st.bind(7, s.consent_to_share ? 1 : 0);
    st.exec();
    return absl::OkStatus();
  });
}

absl::Status FinaliseAgreementVersion(Tx& tx, int64_t version_id, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("finalise agreement"); !s.ok()) return s;
  return Guard("finalise agreement", [&]() -> absl::Status {
    Statement st(tx, "UPDATE agreement_versions SET finalised_at = ? WHERE id = ?");
    st.bind(1, static_cast<int64_t>(ToMicros(at)));
    st.bind(2, static_cast<int64_t>(version_id));
    st.exec();
    return absl::OkStatus();
  });
}

}  // namespace mediation::storage
