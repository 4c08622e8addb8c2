// gRPC adapter for SchedulingService: venues, availability, slots, bookings (here), iCalendar
// exports (scheduling/calendar_export.cc). Calendars and collisions are in scheduling/calendars.h,
// the booking check in scheduling/booking.h, what each caller sees in scheduling/session_view.h;
// the interval arithmetic and the pure slot and booking rules in rules/slots.h.
#ifndef MEDIATION_SERVICES_SCHEDULING_SERVICE_H_
#define MEDIATION_SERVICES_SCHEDULING_SERVICE_H_

#include "ppa/mediation/v1/scheduling.grpc.pb.h"
#include "services/core/rpc_runner.h"

namespace mediation {

class SchedulingServiceImpl final : public v1::SchedulingService::CallbackService {
 public:
  explicit SchedulingServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* CreateVenue(grpc::CallbackServerContext* context,
                                        const v1::CreateVenueRequest* request,
                                        v1::CreateVenueResponse* response) override;
  grpc::ServerUnaryReactor* ListVenues(grpc::CallbackServerContext* context,
                                       const v1::ListVenuesRequest* request,
                                       v1::ListVenuesResponse* response) override;
  grpc::ServerUnaryReactor* SetPartyAvailability(
      grpc::CallbackServerContext* context, const v1::SetPartyAvailabilityRequest* request,
      v1::SetPartyAvailabilityResponse* response) override;
  grpc::ServerUnaryReactor* FindSlots(grpc::CallbackServerContext* context,
                                      const v1::FindSlotsRequest* request,
                                      v1::FindSlotsResponse* response) override;
  grpc::ServerUnaryReactor* BookSession(grpc::CallbackServerContext* context,
                                        const v1::BookSessionRequest* request,
                                        v1::BookSessionResponse* response) override;
  grpc::ServerUnaryReactor* RescheduleSession(grpc::CallbackServerContext* context,
                                              const v1::RescheduleSessionRequest* request,
                                              v1::RescheduleSessionResponse* response) override;
  grpc::ServerUnaryReactor* CancelSession(grpc::CallbackServerContext* context,
                                          const v1::CancelSessionRequest* request,
                                          v1::CancelSessionResponse* response) override;
  grpc::ServerUnaryReactor* GetSession(grpc::CallbackServerContext* context,
                                       const v1::GetSessionRequest* request,
                                       v1::GetSessionResponse* response) override;
  grpc::ServerUnaryReactor* ListSessions(grpc::CallbackServerContext* context,
                                         const v1::ListSessionsRequest* request,
                                         v1::ListSessionsResponse* response) override;
  grpc::ServerUnaryReactor* ExportSessionCalendar(
      grpc::CallbackServerContext* context, const v1::ExportSessionCalendarRequest* request,
      v1::ExportSessionCalendarResponse* response) override;
  grpc::ServerUnaryReactor* ExportMediatorCalendar(
      grpc::CallbackServerContext* context, const v1::ExportMediatorCalendarRequest* request,
      v1::ExportMediatorCalendarResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SCHEDULING_SERVICE_H_
