// Who is calling: established by the server from the caller's token, never from request fields.
#ifndef MEDIATION_SERVICES_CORE_PRINCIPAL_H_
#define MEDIATION_SERVICES_CORE_PRINCIPAL_H_

#include <cstdint>
#include <string>

#include "ppa/mediation/v1/common.pb.h"

namespace mediation {

namespace v1 = ::ppa::mediation::v1;

struct Principal {
  int64_t token_id = 0;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  int64_t mediator_id = 0;      // MEDIATOR only.
  int64_t organisation_id = 0;  // ORGANISATION only.
  int64_t case_id = 0;          // PARTY only.
  int64_t party_id = 0;         // PARTY only.
  // Authenticated by a mapped client certificate rather than the token's secret.
  bool by_certificate = false;
  // Authenticated by a browser session standing for the token (services/http/).
  bool by_session = false;

  // "token:12/ROLE_ORGANISATION" (with "/certificate" when by_certificate, "/session" when
  // by_session): what logs identify a caller by.
  std::string Describe() const;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_PRINCIPAL_H_
