// The one list of the API's methods: name, request and response types, access policy and
// handler. Both transports serve from it: the gRPC adapters (services/*_service.cc, through
// MEDIATION_UNARY_RPC) and the HTTP listener (services/http/), so neither can offer a method,
// a type or a handler the other does not.
//
// Entries are added during static initialisation, by the macros below, and only read after.
#ifndef MEDIATION_SERVICES_CORE_METHOD_REGISTRY_H_
#define MEDIATION_SERVICES_CORE_METHOD_REGISTRY_H_

#include <google/protobuf/message.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/core/call_context.h"
#include "services/core/policy.h"

namespace mediation {

struct MethodEntry {
  // The full name: "/ppa.mediation.v1.ReferralService/GetCase", also the HTTP path.
  std::string name;
  // Null when the policy table has no row for the method: every call is then refused with
  // INTERNAL (failing closed).
  const MethodPolicy* policy = nullptr;
  std::unique_ptr<google::protobuf::Message> (*new_request)() = nullptr;
  // For a server-streaming method, the type of each message of the stream.
  std::unique_ptr<google::protobuf::Message> (*new_response)() = nullptr;
  // Null for a server-streaming method, which its adapter runs itself.
  absl::Status (*handler)(CallContext&, const google::protobuf::Message&,
                          google::protobuf::Message&) = nullptr;
  bool server_streaming = false;
};

class MethodRegistry {
 public:
  // Adds `entry`; returns the stored entry (its address never changes). A name added twice
  // keeps the first entry.
  const MethodEntry& Add(MethodEntry entry);
  // Null when no method has `name`.
  const MethodEntry* Find(absl::string_view name) const;
  // Every entry, by name.
  std::vector<const MethodEntry*> All() const;

 private:
  std::map<std::string, std::unique_ptr<MethodEntry>, std::less<>> entries_;
};

// The process's registry.
MethodRegistry& Methods();

template <typename Message>
std::unique_ptr<google::protobuf::Message> NewMessage() {
  return std::make_unique<Message>();
}

template <typename Request, typename Response,
          absl::Status (*Handler)(CallContext&, const Request&, Response&)>
absl::Status RunTyped(CallContext& call, const google::protobuf::Message& request,
                      google::protobuf::Message& response) {
  return Handler(call, static_cast<const Request&>(request), static_cast<Response&>(response));
}

template <typename Request, typename Response,
          absl::Status (*Handler)(CallContext&, const Request&, Response&)>
const MethodEntry& RegisterUnaryMethod(absl::string_view name) {
  return Methods().Add({.name = std::string(name),
                        .policy = FindMethodPolicy(name),
                        .new_request = &NewMessage<Request>,
                        .new_response = &NewMessage<Response>,
                        .handler = &RunTyped<Request, Response, Handler>});
}

template <typename Request, typename Response>
const MethodEntry& RegisterStreamingMethod(absl::string_view name) {
  return Methods().Add({.name = std::string(name),
                        .policy = FindMethodPolicy(name),
                        .new_request = &NewMessage<Request>,
                        .new_response = &NewMessage<Response>,
                        .server_streaming = true});
}

}  // namespace mediation

// Registers the handler function `mediation::Method` (defined before it in the adapter's .cc)
// as "/ppa.mediation.v1.<Service>/<Method>". The name and the types come from the same tokens
// as the generated method, so the registry, the policy key and the gRPC service cannot drift
// apart; the gRPC side serves every registered method of the service (raw_unary_service.h).
#define MEDIATION_UNARY_RPC(Service, Method)                                               \
  namespace {                                                                              \
  [[maybe_unused]] const ::mediation::MethodEntry& k##Service##Method##Entry =             \
      ::mediation::RegisterUnaryMethod<v1::Method##Request, v1::Method##Response,          \
                                       &::mediation::Method>("/ppa.mediation.v1." #Service \
                                                             "/" #Method);                 \
  }

#endif  // MEDIATION_SERVICES_CORE_METHOD_REGISTRY_H_
