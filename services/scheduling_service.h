// gRPC adapter for SchedulingService: venues, availability, slots, bookings (here), iCalendar
// exports (scheduling/calendar_export.cc). Calendars and collisions are in scheduling/calendars.h,
// the booking check in scheduling/booking.h, what each caller sees in scheduling/session_view.h;
// the interval arithmetic and the pure slot and booking rules in rules/slots.h.
#ifndef MEDIATION_SERVICES_SCHEDULING_SERVICE_H_
#define MEDIATION_SERVICES_SCHEDULING_SERVICE_H_

#include "ppa/mediation/v1/scheduling.grpc.pb.h"
#include "services/core/raw_unary_service.h"

namespace mediation {

class SchedulingServiceImpl final : public RawUnaryService<v1::SchedulingService> {
 public:
  explicit SchedulingServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SCHEDULING_SERVICE_H_
