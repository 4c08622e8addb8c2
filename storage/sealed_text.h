// Confidential free text at rest: sealed with its case's record key (storage/data_keys.h) under
// XChaCha20-Poly1305, binding the case, table, column and row, so a sealed value copied to any
// other row or column does not open. Destroying the record key (at the end of the case's
// retention period) makes every such text of the case unreadable at once. The storage
// operations seal and open these columns themselves (storage/sealed_text_internal.h); a text
// that cannot be opened reads as '' and is named in the record's `withheld` list.
//
// In a sealed column, '' is stored as '' (there is nothing to hide), any other text as a BLOB;
// a TEXT value is plain text written before schema version 9, sealed at start-up by
// SealPlainText (and read as it is until then).
#ifndef MEDIATION_STORAGE_SEALED_TEXT_H_
#define MEDIATION_STORAGE_SEALED_TEXT_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/tx.h"

namespace mediation::storage {

// Seals up to `limit` values still stored in plain text (in every sealed column), each row in
// place; returns how many. Run until it returns 0 (start-up does, in batches, each in its own
// transaction, so it resumes after an interruption). A value of a case whose record key was
// destroyed is erased instead.
absl::StatusOr<int> SealPlainText(Tx& tx, int limit, absl::Time now);

// Every (table, column) that holds sealed text, for the tests and the README's data table.
struct SealedColumn {
  absl::string_view table;
  absl::string_view column;
};
const std::vector<SealedColumn>& SealedColumns();

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_SEALED_TEXT_H_
