// gRPC adapter for ScreeningService: answers, evaluation and the Senior Adviser's decision. The
// rules themselves are in rules/screening.h.
#ifndef MEDIATION_SERVICES_SCREENING_SERVICE_H_
#define MEDIATION_SERVICES_SCREENING_SERVICE_H_

#include "ppa/mediation/v1/screening.grpc.pb.h"
#include "services/core/rpc_runner.h"
#include "storage/records.h"

namespace mediation {

// A screening answer as the API shows it.
void ToProto(const storage::ScreeningAnswerRecord& a, v1::ScreeningAnswer* out);

class ScreeningServiceImpl final : public v1::ScreeningService::CallbackService {
 public:
  explicit ScreeningServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* RecordScreeningAnswer(
      grpc::CallbackServerContext* context, const v1::RecordScreeningAnswerRequest* request,
      v1::RecordScreeningAnswerResponse* response) override;
  grpc::ServerUnaryReactor* ListScreeningAnswers(
      grpc::CallbackServerContext* context, const v1::ListScreeningAnswersRequest* request,
      v1::ListScreeningAnswersResponse* response) override;
  grpc::ServerUnaryReactor* EvaluateScreening(grpc::CallbackServerContext* context,
                                              const v1::EvaluateScreeningRequest* request,
                                              v1::EvaluateScreeningResponse* response) override;
  grpc::ServerUnaryReactor* RecordScreeningDecision(
      grpc::CallbackServerContext* context, const v1::RecordScreeningDecisionRequest* request,
      v1::RecordScreeningDecisionResponse* response) override;
  grpc::ServerUnaryReactor* ListScreeningDecisions(
      grpc::CallbackServerContext* context, const v1::ListScreeningDecisionsRequest* request,
      v1::ListScreeningDecisionsResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SCREENING_SERVICE_H_
