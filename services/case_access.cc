#include "services/case_access.h"

#include "absl/strings/str_cat.h"

namespace mediation {

bool MayViewCase(const Principal& who, const storage::CaseRecord& c) {
  switch (who.role) {
    case v1::ROLE_CASE_SUPPORT:
    case v1::ROLE_SENIOR_ADVISER:
      return true;
    case v1::ROLE_ORGANISATION:
      return who.organisation_id == c.organisation_id;
    case v1::ROLE_PARTY:
      return who.case_id == c.id;
    case v1::ROLE_MEDIATOR:
      // Mediators see only cases allocated to them; allocation does not exist yet, so none.
      return false;
    default:
      // ADMIN manages the service, not cases.
      return false;
  }
}

absl::Status CaseNotFound(int64_t case_id) {
  return absl::NotFoundError(absl::StrCat("case ", case_id, " not found"));
}

}  // namespace mediation
