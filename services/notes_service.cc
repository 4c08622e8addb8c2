#include "services/notes_service.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/case_access.h"
#include "services/convert.h"
#include "services/core/validation.h"
#include "services/rules/lifecycle.h"
#include "storage/audit.h"
#include "storage/crypto.h"
#include "storage/data_keys.h"
#include "storage/notes.h"
#include "storage/sessions.h"

namespace mediation {
namespace {

constexpr size_t kMaxNoteChars = 20000;

// What a note's ciphertext is bound to: its case, its id, its author and its visibility. Moved to
// any other row, or with its author or visibility changed in the database (to show a private
// note to the co-mediator), it does not decrypt.
std::string NoteBinding(const storage::NoteRecord& n) {
  return absl::StrCat("note-v1|", n.case_id, "|", n.id, "|", n.author_mediator_id, "|",
                      v1::NoteVisibility_Name(n.visibility));
}

// The case's notes key, created (and stored wrapped) on first use when `create`. NOT_FOUND when
// the case has none yet; FAILED_PRECONDITION once destroyed.
absl::StatusOr<std::string> NotesKey(storage::Tx& tx, int64_t case_id, bool create,
                                     absl::Time now) {
  if (create) return storage::GetOrCreateDataKey(tx, storage::KeyPurpose::kNotes, case_id, now);
  absl::StatusOr<storage::DataKey> key =
      storage::GetDataKey(tx, storage::KeyPurpose::kNotes, case_id);
  if (!key.ok()) return key.status();
  switch (key->state) {
    case storage::DataKey::State::kLive:
      return std::move(key->key);
    case storage::DataKey::State::kAbsent:
      return absl::NotFoundError("no notes yet");
    case storage::DataKey::State::kDestroyed:
      break;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("the notes of case ", case_id, " were destroyed after the retention period"));
}

// Whether `mediator` may read `n`: its author, or a co-mediator of the case for SHARED notes.
bool MayRead(const storage::NoteRecord& n, int64_t mediator) {
  return n.author_mediator_id == mediator || n.visibility == v1::NOTE_VISIBILITY_SHARED;
}

// The note as its reader sees it; its text decrypted with `key` (empty when destroyed).
absl::Status ToView(const storage::NoteRecord& n, const std::string* key, v1::Note* out) {
  out->set_id(n.id);
  out->set_case_id(n.case_id);
  out->set_author_mediator_id(n.author_mediator_id);
  out->set_session_id(n.session_id);
  out->set_visibility(n.visibility);
  out->set_party_id(n.party_id);
  out->set_supersedes_note_id(n.supersedes_id);
  ToProto(n.created_at, out->mutable_created_at());
  if (n.destroyed_at.has_value()) {
    out->set_destroyed(true);
    ToProto(*n.destroyed_at, out->mutable_destroyed_at());
    return absl::OkStatus();
  }
  if (key == nullptr) return absl::InternalError("note without a case key");
  absl::StatusOr<std::string> text = storage::Open(*key, n.sealed, NoteBinding(n));
  if (!text.ok()) {
    return absl::DataLossError(
        absl::StrCat("note ", n.id,
                     " does not decrypt: its stored ciphertext was altered or moved from "
                     "another note; nothing of it can be shown"));
  }
  out->set_text(*std::move(text));
  return absl::OkStatus();
}

absl::Status AddNote(CallContext& call, const v1::AddNoteRequest& r,
                     v1::AddNoteResponse& response) {
  Validator v;
  v.Enum("visibility", r.visibility(), v1::NoteVisibility_IsValid, true);
  const std::string text = v.RequiredText("text", r.text(), kMaxNoteChars);
  for (const auto& [field, id] : {std::pair<const char*, int64_t>{"session_id", r.session_id()},
                                  {"party_id", r.party_id()},
                                  {"supersedes_note_id", r.supersedes_note_id()}}) {
    if (id < 0) v.Fail(field, "ids are positive (or 0 for none)");
  }
  if (!v.ok()) return v.status();
  const Principal& who = call.principal();
  return WriteCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    if (absl::Status s = RequireAcceptedMediator(tx, who, c.id); !s.ok()) return s;
    if (rules::IsTerminal(c.state)) {
      return absl::FailedPreconditionError(
          absl::StrCat("case ", c.id, " is finished; no more notes can be added"));
    }
    if (r.party_id() != 0 && std::none_of(c.parties.begin(), c.parties.end(),
                                          [&](const auto& p) { return p.id == r.party_id(); })) {
      return FieldError("party_id",
                        absl::StrCat("party ", r.party_id(), " is not a party of case ", c.id));
    }
    if (r.session_id() != 0) {
      absl::StatusOr<storage::SessionRecord> s = storage::GetSession(tx, r.session_id());
      if (!s.ok() || s->case_id != c.id) {
        return FieldError("session_id", absl::StrCat("session ", r.session_id(),
                                                     " is not a session of case ", c.id));
      }
    }
    if (r.supersedes_note_id() != 0) {
      absl::StatusOr<storage::NoteRecord> old = storage::GetNote(tx, r.supersedes_note_id());
      if (!old.ok() || old->case_id != c.id || old->author_mediator_id != who.mediator_id) {
        return FieldError("supersedes_note_id",
                          absl::StrCat("note ", r.supersedes_note_id(),
                                       " is not one of your notes of case ", c.id));
      }
    }
    absl::StatusOr<std::string> key = NotesKey(tx, c.id, /*create=*/true, call.now());
    if (!key.ok()) return key.status();
    storage::NoteRecord n{.case_id = c.id,
                          .author_mediator_id = who.mediator_id,
                          .session_id = r.session_id(),
                          .visibility = r.visibility(),
                          .party_id = r.party_id(),
                          .supersedes_id = r.supersedes_note_id(),
                          .created_at = call.now()};
    absl::StatusOr<int64_t> id = storage::ReserveNote(tx, n);
    if (!id.ok()) return id.status();
    n.id = *id;
    n.sealed = storage::Seal(*key, text, NoteBinding(n));
    if (absl::Status s = storage::SealNote(tx, n.id, n.sealed); !s.ok()) return s;
    call.AddObject("note", n.id);
    if (absl::Status s = ToView(n, &*key, response.mutable_note()); !s.ok()) return s;
    response.mutable_note()->clear_text();  // The caller has it; see AddNoteResponse.
    return absl::OkStatus();
  });
}

absl::Status ListNotes(CallContext& call, const v1::ListNotesRequest& r,
                       v1::ListNotesResponse& response) {
  const Principal& who = call.principal();
  return ReadCase(call, r.case_id(), [&](storage::Tx& tx, storage::CaseRecord& c) -> absl::Status {
    if (absl::Status s = RequireAcceptedMediator(tx, who, c.id); !s.ok()) return s;
    absl::StatusOr<std::vector<storage::NoteRecord>> notes = storage::ListNotes(tx, c.id);
    if (!notes.ok()) return notes.status();
    absl::flat_hash_set<int64_t> readable;
    for (const storage::NoteRecord& n : *notes) {
      if (MayRead(n, who.mediator_id)) readable.insert(n.id);
    }
    std::optional<std::string> key;
    for (const storage::NoteRecord& n : *notes) {
      if (!readable.contains(n.id)) continue;
      if (!n.destroyed_at.has_value() && !key.has_value()) {
        absl::StatusOr<std::string> k = NotesKey(tx, c.id, false, call.now());
        if (!k.ok()) return k.status();
        key = *std::move(k);
      }
      v1::Note* out = response.add_notes();
      // A note that does not open is listed as unreadable; the rest of the list still answers.
      if (absl::Status s = ToView(n, key ? &*key : nullptr, out); absl::IsDataLoss(s)) {
        out->clear_text();
        out->set_unreadable(true);
      } else if (!s.ok()) {
        return s;
      }
      // A correction the reader cannot see (the co-mediator's private note) is not named.
      if (readable.contains(n.superseded_by)) out->set_superseded_by_note_id(n.superseded_by);
      call.AddObject("note", n.id);
    }
    return absl::OkStatus();
  });
}

absl::Status GetNote(CallContext& call, const v1::GetNoteRequest& r,
                     v1::GetNoteResponse& response) {
  Validator v;
  v.PositiveId("note_id", r.note_id());
  if (!v.ok()) return v.status();
  const Principal& who = call.principal();
  call.AddObject("note", r.note_id());
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat("note ", r.note_id(), " not found"));
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::NoteRecord> n = storage::GetNote(tx, r.note_id());
    if (absl::IsNotFound(n.status())) return not_found;
    if (!n.ok()) return n.status();
    call.AddObject("case", n->case_id);
    // A note of a case the caller cannot see, or another mediator's private note, reads as
    // absent.
    absl::StatusOr<storage::CaseRecord> c = LoadCaseFor(tx, who, n->case_id);
    if (absl::IsNotFound(c.status())) return not_found;
    if (!c.ok()) return c.status();
    if (absl::Status s = RequireAcceptedMediator(tx, who, n->case_id); !s.ok()) return s;
    if (!MayRead(*n, who.mediator_id)) return not_found;
    std::optional<std::string> key;
    if (!n->destroyed_at.has_value()) {
      absl::StatusOr<std::string> k = NotesKey(tx, n->case_id, false, call.now());
      if (!k.ok()) return k.status();
      key = *std::move(k);
    }
    if (absl::Status s = ToView(*n, key ? &*key : nullptr, response.mutable_note()); !s.ok()) {
      return s;
    }
    if (n->superseded_by != 0) {
      // Named only when the reader can see the correction too.
      absl::StatusOr<storage::NoteRecord> later = storage::GetNote(tx, n->superseded_by);
      if (!later.ok()) return later.status();
      if (MayRead(*later, who.mediator_id)) {
        response.mutable_note()->set_superseded_by_note_id(later->id);
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace

absl::StatusOr<int> DestroyExpiredNotes(storage::Store& store, absl::Time now,
                                        absl::Duration retention) {
  int destroyed_cases = 0;
  absl::Status status = store.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<int64_t>> due =
        storage::CasesDueForNoteDestruction(tx, now - retention);
    if (!due.ok()) return due.status();
    for (int64_t case_id : *due) {
      absl::StatusOr<int> notes = storage::DestroyCaseNotes(tx, case_id, now);
      if (!notes.ok()) return notes.status();
      storage::AuditRecord audit{.at = now,
                                 .call_id = "maintenance",
                                 .method = absl::StrCat("server: notes destroyed after retention (",
                                                        *notes, " notes; notes key erased)"),
                                 .objects = absl::StrCat("case:", case_id),
                                 .outcome = "OK"};
      if (absl::Status s = storage::AppendAudit(tx, audit).status(); !s.ok()) return s;
      ++destroyed_cases;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return destroyed_cases;
}

MEDIATION_UNARY_RPC(NotesService, AddNote)
MEDIATION_UNARY_RPC(NotesService, ListNotes)
MEDIATION_UNARY_RPC(NotesService, GetNote)

MEDIATION_SERVICE(NotesService)

}  // namespace mediation
