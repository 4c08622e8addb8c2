#include "storage/notes.h"

#include "absl/strings/str_cat.h"
#include "storage/data_keys.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kColumns[] =
    "n.id, n.case_id, n.author_mediator_id, n.session_id, n.visibility, n.party_id, "
    "n.supersedes_id, n.sealed, n.created_at, n.destroyed_at, "
    "(SELECT MAX(s.id) FROM notes s WHERE s.supersedes_id = n.id)";

NoteRecord ReadNote(Statement& st) {
  NoteRecord n;
  n.id = st.getColumn(0).getInt64();
  n.case_id = st.getColumn(1).getInt64();
  n.author_mediator_id = st.getColumn(2).getInt64();
  n.session_id = OptionalId(st.getColumn(3));
  n.visibility =
      EnumFromText<v1::NoteVisibility>(st.getColumn(4).getString(), v1::NoteVisibility_Parse);
  n.party_id = OptionalId(st.getColumn(5));
  n.supersedes_id = OptionalId(st.getColumn(6));
  if (!st.getColumn(7).isNull()) {
    n.sealed = st.getColumn(7).getString();
  }
  n.created_at = FromMicros(st.getColumn(8).getInt64());
  n.destroyed_at = OptionalTime(st.getColumn(9));
  n.superseded_by = OptionalId(st.getColumn(10));
  return n;
}

}  // namespace

absl::StatusOr<int64_t> ReserveNote(Tx& tx, const NoteRecord& n) {
  if (absl::Status s = tx.RequireWritable("reserve note"); !s.ok()) return s;
  return Guard("reserve note", [&]() -> absl::StatusOr<int64_t> {
    Statement st(tx,
                 "INSERT INTO notes (case_id, author_mediator_id, session_id, visibility, "
                 "party_id, supersedes_id, sealed, created_at) VALUES (?, ?, ?, ?, ?, ?, "
                 "NULL, ?)");
    st.bind(1, static_cast<int64_t>(n.case_id));
    st.bind(2, static_cast<int64_t>(n.author_mediator_id));
    BindOptionalId(st, 3, n.session_id);
    st.bind(4, v1::NoteVisibility_Name(n.visibility));
    BindOptionalId(st, 5, n.party_id);
    BindOptionalId(st, 6, n.supersedes_id);
    st.bind(7, static_cast<int64_t>(ToMicros(n.created_at)));
    st.exec();
    return tx.LastInsertId();
  });
}

absl::Status SealNote(Tx& tx, int64_t note_id, const std::string& sealed) {
  if (absl::Status s = tx.RequireWritable("seal note"); !s.ok()) return s;
  return Guard("seal note", [&]() -> absl::Status {
    Statement st(tx, "UPDATE notes SET sealed = ? WHERE id = ?");
    st.bind(1, sealed.data(), static_cast<int>(sealed.size()));
    st.bind(2, static_cast<int64_t>(note_id));
    if (st.exec() != 1) return absl::NotFoundError(absl::StrCat("note ", note_id, " not found"));
    return absl::OkStatus();
  });
}

absl::StatusOr<NoteRecord> GetNote(Tx& tx, int64_t id) {
  return Guard("get note", [&]() -> absl::StatusOr<NoteRecord> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns, " FROM notes n WHERE n.id = ?"));
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) return absl::NotFoundError(absl::StrCat("note ", id, " not found"));
    return ReadNote(st);
  });
}

absl::StatusOr<std::vector<NoteRecord>> ListNotes(Tx& tx, int64_t case_id) {
  return Guard("list notes", [&]() -> absl::StatusOr<std::vector<NoteRecord>> {
    Statement st(
        tx, absl::StrCat("SELECT ", kColumns, " FROM notes n WHERE n.case_id = ? ORDER BY n.id"));
    st.bind(1, static_cast<int64_t>(case_id));
    std::vector<NoteRecord> out;
    while (st.executeStep()) out.push_back(ReadNote(st));
    return out;
  });
}

absl::StatusOr<std::vector<int64_t>> CasesDueForNoteDestruction(Tx& tx, absl::Time cutoff) {
  return Guard("cases due for note destruction", [&]() -> absl::StatusOr<std::vector<int64_t>> {
    Statement st(tx,
                 "SELECT c.id FROM cases c JOIN data_keys k ON k.case_id = c.id AND "
                 "k.purpose = 'notes' WHERE c.finished_at IS NOT NULL AND c.finished_at <= ? "
                 "AND k.destroyed_at IS NULL ORDER BY c.id");
    st.bind(1, static_cast<int64_t>(ToMicros(cutoff)));
    std::vector<int64_t> out;
    while (st.executeStep()) out.push_back(st.getColumn(0).getInt64());
    return out;
  });
}

absl::StatusOr<int> DestroyCaseNotes(Tx& tx, int64_t case_id, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("destroy notes"); !s.ok()) return s;
  return Guard("destroy notes", [&]() -> absl::StatusOr<int> {
    Statement notes(tx,
                    "UPDATE notes SET sealed = NULL, destroyed_at = ? WHERE case_id = ? "
                    "AND destroyed_at IS NULL");
    notes.bind(1, static_cast<int64_t>(ToMicros(at)));
    notes.bind(2, static_cast<int64_t>(case_id));
    const int destroyed = notes.exec();
    absl::StatusOr<bool> key = DestroyDataKey(tx, KeyPurpose::kNotes, case_id, at);
    if (!key.ok()) return key.status();
    return destroyed;
  });
}

}  // namespace mediation::storage
