// gRPC adapter for AgreementService: agreement versions and signatures, the outcome, the
// follow-up review.
#ifndef MEDIATION_SERVICES_AGREEMENT_SERVICE_H_
#define MEDIATION_SERVICES_AGREEMENT_SERVICE_H_

#include "ppa/mediation/v1/agreement.grpc.pb.h"
#include "services/core/raw_unary_service.h"
#include "storage/records.h"

namespace mediation {

// Fills `out`. A version whose content cannot be shown has no content and names it in
// `withheld`: destroyed with its case's key at the end of retention, or unreadable (it does not
// open, or no longer matches its hash: altered in the database). Returns DATA_LOSS for an
// unreadable version, which a caller asking for that version alone passes on; a list shows it
// as withheld.
absl::Status ToProto(const storage::AgreementVersionRecord& v, v1::AgreementVersion* out);

class AgreementServiceImpl final : public RawUnaryService<v1::AgreementService> {
 public:
  explicit AgreementServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_AGREEMENT_SERVICE_H_
