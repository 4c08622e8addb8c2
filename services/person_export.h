// Subject access: everything the service holds about one person, found by email address
// (AdminService.ExportPersonData). What is left out, and why, is listed in the export itself.
#ifndef MEDIATION_SERVICES_PERSON_EXPORT_H_
#define MEDIATION_SERVICES_PERSON_EXPORT_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/admin.pb.h"
#include "storage/tx.h"

namespace mediation {

// Fills `out` with what is held about `email` (already validated). Each case is shown as its
// party sees it (services/scheduling/session_view.h, the party's own screening answers and
// signatures), so other people's data in the same records stays out.
absl::Status BuildPersonExport(storage::Tx& tx, absl::string_view email, absl::Time now,
                               ppa::mediation::v1::ExportPersonDataResponse& out);

// The explanations of what an export leaves out.
extern const char* const kNotesExclusion;
extern const char* const kOtherPeopleExclusion;

}  // namespace mediation

#endif  // MEDIATION_SERVICES_PERSON_EXPORT_H_
