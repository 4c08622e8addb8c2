// Outcome agreement versions and their signatures. A version every party has signed is final:
// triggers in the schema refuse any change to it.
#ifndef MEDIATION_STORAGE_AGREEMENTS_H_
#define MEDIATION_STORAGE_AGREEMENTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation::storage {

// Stores `v` as the case's next version (its `version` is assigned) and returns it.
absl::StatusOr<AgreementVersionRecord> InsertAgreementVersion(Tx& tx, AgreementVersionRecord v);
// NOT_FOUND when there is no such version. With signatures.
absl::StatusOr<AgreementVersionRecord> GetAgreementVersion(Tx& tx, int64_t id);
// Oldest first, with signatures.
absl::StatusOr<std::vector<AgreementVersionRecord>> ListAgreementVersions(Tx& tx, int64_t case_id);
// ALREADY_EXISTS when the party has signed this version already.
absl::Status InsertSignature(Tx& tx, int64_t version_id, const SignatureRecord& signature);
absl::Status FinaliseAgreementVersion(Tx& tx, int64_t version_id, absl::Time at);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_AGREEMENTS_H_
