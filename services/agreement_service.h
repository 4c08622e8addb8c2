// gRPC adapter for AgreementService: agreement versions and signatures, the outcome, the
// follow-up review.
#ifndef MEDIATION_SERVICES_AGREEMENT_SERVICE_H_
#define MEDIATION_SERVICES_AGREEMENT_SERVICE_H_

#include "ppa/mediation/v1/agreement.grpc.pb.h"
#include "services/core/rpc_runner.h"
#include "storage/records.h"

namespace mediation {

// Fills `out`. A version whose content cannot be shown has no content and names it in
// `withheld`: destroyed with its case's key at the end of retention, or unreadable (it does not
// open, or no longer matches its hash: altered in the database). Returns DATA_LOSS for an
// unreadable version, which a caller asking for that version alone passes on; a list shows it
// as withheld.
absl::Status ToProto(const storage::AgreementVersionRecord& v, v1::AgreementVersion* out);

class AgreementServiceImpl final : public v1::AgreementService::CallbackService {
 public:
  explicit AgreementServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* DraftAgreement(grpc::CallbackServerContext* context,
                                           const v1::DraftAgreementRequest* request,
                                           v1::DraftAgreementResponse* response) override;
  grpc::ServerUnaryReactor* GetAgreement(grpc::CallbackServerContext* context,
                                         const v1::GetAgreementRequest* request,
                                         v1::GetAgreementResponse* response) override;
  grpc::ServerUnaryReactor* SignAgreement(grpc::CallbackServerContext* context,
                                          const v1::SignAgreementRequest* request,
                                          v1::SignAgreementResponse* response) override;
  grpc::ServerUnaryReactor* RecordOutcome(grpc::CallbackServerContext* context,
                                          const v1::RecordOutcomeRequest* request,
                                          v1::RecordOutcomeResponse* response) override;
  grpc::ServerUnaryReactor* ScheduleFollowUp(grpc::CallbackServerContext* context,
                                             const v1::ScheduleFollowUpRequest* request,
                                             v1::ScheduleFollowUpResponse* response) override;
  grpc::ServerUnaryReactor* RecordFollowUpReview(
      grpc::CallbackServerContext* context, const v1::RecordFollowUpReviewRequest* request,
      v1::RecordFollowUpReviewResponse* response) override;
  grpc::ServerUnaryReactor* GetOutcome(grpc::CallbackServerContext* context,
                                       const v1::GetOutcomeRequest* request,
                                       v1::GetOutcomeResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_AGREEMENT_SERVICE_H_
