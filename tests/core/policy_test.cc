#include "services/core/policy.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "ppa/mediation/v1/admin.pb.h"
#include "ppa/mediation/v1/agreement.pb.h"
#include "ppa/mediation/v1/allocation.pb.h"
#include "ppa/mediation/v1/api_files.h"
#include "ppa/mediation/v1/case.pb.h"
#include "ppa/mediation/v1/charges.pb.h"
#include "ppa/mediation/v1/events.pb.h"
#include "ppa/mediation/v1/mediator.pb.h"
#include "ppa/mediation/v1/notes.pb.h"
#include "ppa/mediation/v1/notification.pb.h"
#include "ppa/mediation/v1/organisation.pb.h"
#include "ppa/mediation/v1/referral.pb.h"
#include "ppa/mediation/v1/scheduling.pb.h"
#include "ppa/mediation/v1/screening.pb.h"
#include "ppa/mediation/v1/statistics.pb.h"

namespace mediation {
namespace {

// Every RPC the API declares, read from the generated descriptors.
std::set<std::string> DeclaredMethods() {
  // A static library links only what is referenced: touch one message of each file so its
  // descriptor is registered. A file missing here fails the lookup below, by name.
  for (const google::protobuf::Descriptor* d :
       {v1::AccessToken::descriptor(), v1::Organisation::descriptor(), v1::Case::descriptor(),
        v1::ScreeningAnswer::descriptor(), v1::HoldCaseRequest::descriptor(),
        v1::FeeSchedule::descriptor(), v1::Mediator::descriptor(), v1::Allocation::descriptor(),
        v1::Session::descriptor(), v1::Note::descriptor(), v1::AgreementVersion::descriptor(),
        v1::CaseEvent::descriptor(), v1::GetStatisticsResponse::descriptor(),
        v1::Notification::descriptor()}) {
    (void)d;
  }
  std::set<std::string> methods;
  for (const char* name : v1::kApiProtoFiles) {
    const google::protobuf::FileDescriptor* file =
        google::protobuf::DescriptorPool::generated_pool()->FindFileByName(name);
    EXPECT_NE(file, nullptr) << name;
    if (file == nullptr) continue;
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        methods.insert(absl::StrCat("/", service->full_name(), "/", service->method(m)->name()));
      }
    }
  }
  return methods;
}

TEST(PolicyTest, EveryDeclaredRpcHasExactlyOnePolicyAndNoPolicyIsStale) {
  std::set<std::string> with_policy;
  for (const MethodPolicy& p : MethodPolicies()) {
    EXPECT_TRUE(with_policy.insert(std::string(p.method)).second) << "twice: " << p.method;
  }
  EXPECT_EQ(with_policy, DeclaredMethods());
}

// Clients retry only calls marked NO_SIDE_EFFECTS (or carrying an idempotency key): the mark must
// be on every read and on no write.
TEST(PolicyTest, ReadsAndOnlyReadsAreMarkedFreeOfSideEffects) {
  for (const MethodPolicy& p : MethodPolicies()) {
    const std::string name(p.method.substr(1));
    const size_t slash = name.rfind('/');
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name.substr(0, slash));
    ASSERT_NE(service, nullptr) << p.method;
    const google::protobuf::MethodDescriptor* method =
        service->FindMethodByName(name.substr(slash + 1));
    ASSERT_NE(method, nullptr) << p.method;
    EXPECT_EQ(
        method->options().idempotency_level() == google::protobuf::MethodOptions::NO_SIDE_EFFECTS,
        p.access != Access::kWrite)
        << p.method;
  }
}

TEST(PolicyTest, UnknownMethodsHaveNoPolicy) {
  EXPECT_EQ(FindMethodPolicy("/ppa.mediation.v1.AdminService/DropDatabase"), nullptr);
}

TEST(PolicyTest, NoRoleMayCallWithoutARole) {
  for (const MethodPolicy& p : MethodPolicies()) {
    EXPECT_FALSE(p.roles.Contains(v1::ROLE_UNSPECIFIED)) << p.method;
  }
}

}  // namespace
}  // namespace mediation
