// gRPC adapter for SchedulingService: venues, availability, slots, bookings, iCalendar. The
// interval arithmetic and slot finding are in rules/slots.h; the iCalendar text in
// rules/icalendar.h.
#ifndef MEDIATION_SERVICES_SCHEDULING_SERVICE_H_
#define MEDIATION_SERVICES_SCHEDULING_SERVICE_H_

#include "ppa/mediation/v1/scheduling.grpc.pb.h"
#include "services/core/principal.h"
#include "services/core/rpc_runner.h"
#include "storage/records.h"
#include "storage/store.h"

namespace mediation {

// Moves every SESSIONS_SCHEDULED case whose first session has started (by `now`) to
// IN_MEDIATION. The server runs it periodically; returns how many cases moved.
absl::StatusOr<int> AdvanceCasesWithStartedSessions(storage::Store& store, absl::Time now);

// Whether `who` may see session `s` of a case it may see: a party its own sessions and joint
// ones, an organisation joint sessions only.
bool MaySeeSession(const Principal& who, const storage::SessionRecord& s);

// Session `s` of case `c` as `who` sees it (an organisation the dates of joint sessions; a party
// its own rooms, not the other party's).
absl::Status SessionView(storage::Tx& tx, const Principal& who, const storage::CaseRecord& c,
                         const storage::SessionRecord& s, v1::Session* out);

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
