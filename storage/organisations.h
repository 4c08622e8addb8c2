// Requesting organisations.
#ifndef MEDIATION_STORAGE_ORGANISATIONS_H_
#define MEDIATION_STORAGE_ORGANISATIONS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

// Inserts `org` (its id is ignored). ALREADY_EXISTS when another organisation has its ODS code.
absl::StatusOr<OrganisationRecord> InsertOrganisation(Tx& tx, OrganisationRecord org);

// NOT_FOUND when there is no such organisation.
absl::StatusOr<OrganisationRecord> GetOrganisation(Tx& tx, int64_t id);

// Oldest first; `nation` UNSPECIFIED means every nation.
absl::StatusOr<std::vector<OrganisationRecord>> ListOrganisations(Tx& tx, v1::Nation nation,
                                                                  const PageCursor& cursor);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_ORGANISATIONS_H_
