// The access policy: which role may call which RPC. This table is the single place that says so;
// handlers add per-object checks (an organisation sees only its own cases) on top of it.
#ifndef MEDIATION_SERVICES_CORE_POLICY_H_
#define MEDIATION_SERVICES_CORE_POLICY_H_

#include <cstdint>
#include <initializer_list>
#include <span>

#include "absl/strings/string_view.h"
#include "ppa/mediation/v1/common.pb.h"

namespace mediation {

namespace v1 = ::ppa::mediation::v1;

// A set of roles as a bit mask over v1::Role values.
class RoleSet {
 public:
  constexpr RoleSet(std::initializer_list<v1::Role> roles) {
    for (v1::Role r : roles) bits_ |= Bit(r);
  }
  static constexpr RoleSet All() {
    return {v1::ROLE_ADMIN,    v1::ROLE_CASE_SUPPORT, v1::ROLE_SENIOR_ADVISER,
            v1::ROLE_MEDIATOR, v1::ROLE_ORGANISATION, v1::ROLE_PARTY};
  }
  constexpr bool Contains(v1::Role r) const { return (bits_ & Bit(r)) != 0; }

 private:
  static constexpr uint32_t Bit(v1::Role r) { return 1u << static_cast<int>(r); }
  uint32_t bits_ = 0;
};

enum class Access {
  kRead,         // Audited only when refused.
  kAuditedRead,  // Confidential reads (notes, agreements): always audited, never the content.
  kWrite,        // Always audited, in the same transaction as the change.
};

struct MethodPolicy {
  absl::string_view method;  // Full gRPC name: "/ppa.mediation.v1.AdminService/IssueToken".
  Access access;
  RoleSet roles;
};

// Every RPC of the API. A method missing here is refused with INTERNAL: failing closed.
std::span<const MethodPolicy> MethodPolicies();

// nullptr when `method` has no policy.
const MethodPolicy* FindMethodPolicy(absl::string_view method);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_POLICY_H_
