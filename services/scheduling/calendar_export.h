// SchedulingService's iCalendar exports (registered with the service's other methods in
// scheduling_service.cc).
#ifndef MEDIATION_SERVICES_SCHEDULING_CALENDAR_EXPORT_H_
#define MEDIATION_SERVICES_SCHEDULING_CALENDAR_EXPORT_H_

#include "absl/status/status.h"
#include "ppa/mediation/v1/scheduling.pb.h"
#include "services/core/call_context.h"
#include "services/rules/icalendar.h"
#include "storage/records.h"

namespace mediation {

namespace v1 = ::ppa::mediation::v1;

// The calendar entry for session `s` of case `c`: the case reference and the kind of meeting,
// the place or video link; never names or anything said in the case.
absl::StatusOr<rules::CalendarEvent> SessionCalendarEvent(storage::Tx& tx,
                                                          const storage::CaseRecord& c,
                                                          const storage::SessionRecord& s,
                                                          absl::Time now);

// One session as an iCalendar file, for someone who may see it.
absl::Status ExportSessionCalendar(CallContext& call, const v1::ExportSessionCalendarRequest& r,
                                   v1::ExportSessionCalendarResponse& response);
// A mediator's sessions in a period as one iCalendar file.
absl::Status ExportMediatorCalendar(CallContext& call, const v1::ExportMediatorCalendarRequest& r,
                                    v1::ExportMediatorCalendarResponse& response);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SCHEDULING_CALENDAR_EXPORT_H_
