// gRPC adapter for CaseEventService: a server-streaming reactor per call that sends case events
// from the database in position order, then waits on the event hub for more.
#ifndef MEDIATION_SERVICES_EVENT_SERVICE_H_
#define MEDIATION_SERVICES_EVENT_SERVICE_H_

#include "ppa/mediation/v1/events.grpc.pb.h"
#include "services/core/rpc_runner.h"

namespace mediation {

class CaseEventServiceImpl final : public v1::CaseEventService::CallbackService {
 public:
  // The runner must have an event hub.
  explicit CaseEventServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerWriteReactor<v1::CaseEvent>* StreamCaseEvents(
      grpc::CallbackServerContext* context, const v1::StreamCaseEventsRequest* request) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_EVENT_SERVICE_H_
