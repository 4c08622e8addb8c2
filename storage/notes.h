// Confidential notes (stored sealed with their case's notes key, storage/data_keys.h), and the
// destruction of notes after retention.
#ifndef MEDIATION_STORAGE_NOTES_H_
#define MEDIATION_STORAGE_NOTES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

// Inserts the note's metadata with no ciphertext yet and returns its id, which the ciphertext
// binds; SealNote then stores the ciphertext in the same transaction.
absl::StatusOr<int64_t> ReserveNote(Tx& tx, const NoteRecord& note);
absl::Status SealNote(Tx& tx, int64_t note_id, const std::string& sealed);

// NOT_FOUND when there is no such note.
absl::StatusOr<NoteRecord> GetNote(Tx& tx, int64_t id);
// Oldest first.
absl::StatusOr<std::vector<NoteRecord>> ListNotes(Tx& tx, int64_t case_id);

// Finished cases (finished_at at or before `cutoff`) whose notes are not destroyed yet.
absl::StatusOr<std::vector<int64_t>> CasesDueForNoteDestruction(Tx& tx, absl::Time cutoff);
// Erases the case's notes key and every note's ciphertext; returns how many notes.
absl::StatusOr<int> DestroyCaseNotes(Tx& tx, int64_t case_id, absl::Time at);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_NOTES_H_
