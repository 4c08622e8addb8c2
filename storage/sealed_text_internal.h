// How the storage operations seal and open confidential text (see storage/sealed_text.h).
// Internal to storage/.
#ifndef MEDIATION_STORAGE_SEALED_TEXT_INTERNAL_H_
#define MEDIATION_STORAGE_SEALED_TEXT_INTERNAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/data_keys.h"
#include "storage/records.h"
#include "storage/sealed_text.h"
#include "storage/sql.h"
#include "storage/tx.h"

namespace mediation::storage {

// Where a sealed value belongs, and the key that seals it: its case's record key, or for the
// mediator registry's notes the registry key (case_id 0).
struct FieldRef {
  int64_t case_id = 0;
  absl::string_view table;
  absl::string_view column;
  int64_t row = 0;
  KeyPurpose purpose = KeyPurpose::kRecord;
};

// What to store for `text` at `where`: '' for '', otherwise the ciphertext under the case's
// record key (made on first use). REQUIRES: a write transaction.
absl::StatusOr<std::string> SealText(Tx& tx, const FieldRef& where, absl::string_view text,
                                     absl::Time now);

// Binds a value SealText gave: '' as text, a ciphertext as a BLOB.
void BindSealed(Statement& st, int index, const std::string& stored);

// Seals `text` and stores it in `where` (UPDATE table SET column = ? WHERE id = row). For values
// whose row id is known only after the row is inserted (with '' in the column).
absl::Status StoreSealedText(Tx& tx, const FieldRef& where, absl::string_view text, absl::Time now);

// The text stored in `column` at `where`: '' stays '', a BLOB is opened, TEXT (not sealed yet)
// is read as it is. When it cannot be opened it reads as '' and `field` is added to `withheld`:
// kDestroyed when the case's record key was destroyed, kUnreadable otherwise.
std::string OpenText(Tx& tx, const FieldRef& where, const Column& column, absl::string_view field,
                     std::vector<WithheldField>* withheld);
// The same for a value already read; `is_sealed` says whether `stored` is a ciphertext.
std::string OpenStored(Tx& tx, const FieldRef& where, bool is_sealed, const std::string& stored,
                       absl::string_view field, std::vector<WithheldField>* withheld);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_SEALED_TEXT_INTERNAL_H_
