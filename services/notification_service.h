// gRPC adapter for NotificationService: the outbox for administrators, and reminder preferences.
#ifndef MEDIATION_SERVICES_NOTIFICATION_SERVICE_H_
#define MEDIATION_SERVICES_NOTIFICATION_SERVICE_H_

#include "ppa/mediation/v1/notification.grpc.pb.h"
#include "services/core/raw_unary_service.h"

namespace mediation {

class NotificationServiceImpl final : public RawUnaryService<v1::NotificationService> {
 public:
  explicit NotificationServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_NOTIFICATION_SERVICE_H_
