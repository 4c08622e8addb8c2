// Sessions as each caller may see them: which sessions a principal sees at all, and what of
// each (an organisation the dates of joint sessions; a party its own rooms, not the other
// party's, and that a change happened but not why).
#ifndef MEDIATION_SERVICES_SCHEDULING_SESSION_VIEW_H_
#define MEDIATION_SERVICES_SCHEDULING_SESSION_VIEW_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "ppa/mediation/v1/scheduling.pb.h"
#include "services/core/principal.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation {

// Whether `who` may see session `s` of a case it may see: a party its own sessions and joint
// ones, an organisation joint sessions only.
bool MaySeeSession(const Principal& who, const storage::SessionRecord& s);

// Session `s` of case `c` as `who` sees it.
absl::Status SessionView(storage::Tx& tx, const Principal& who, const storage::CaseRecord& c,
                         const storage::SessionRecord& s, v1::Session* out);

namespace scheduling {

// A session the caller may see, with its case.
struct VisibleSession {
  storage::SessionRecord session;
  storage::CaseRecord c;
};

// Loads a session the caller may see (its case visible, and the session itself for parties and
// organisations); NOT_FOUND otherwise, the same as for a missing session.
absl::StatusOr<VisibleSession> LoadSessionFor(storage::Tx& tx, const Principal& who,
                                              int64_t session_id);

}  // namespace scheduling
}  // namespace mediation

#endif  // MEDIATION_SERVICES_SCHEDULING_SESSION_VIEW_H_
