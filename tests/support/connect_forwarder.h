// A gRPC client interceptor that carries every call of a channel over the Connect protocol
// instead (HTTP/1.1, application/proto; server streams in application/connect+proto envelopes)
// to the server's HTTP listener, and hands the answer back as if gRPC had brought it: the
// response message or stream, and the status from the Connect error's code and message. With
// it, a test written against the generated gRPC stubs runs unchanged over HTTP, so both
// transports are held to the same expected codes (the access matrix does this).
//
// The bearer token of the call's metadata becomes the Authorization header, its deadline
// Connect-Timeout-Ms. Nothing else of the gRPC call is carried.
#ifndef MEDIATION_TESTS_SUPPORT_CONNECT_FORWARDER_H_
#define MEDIATION_TESTS_SUPPORT_CONNECT_FORWARDER_H_

#include <grpcpp/support/client_interceptor.h>

namespace mediation::testing {

class ConnectForwarderFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ConnectForwarderFactory(int http_port) : http_port_(http_port) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override;

 private:
  const int http_port_;
};

// The gRPC code of a Connect error code name ("not_found"); UNKNOWN for a name it does not know.
grpc::StatusCode GrpcCodeOfConnectName(const std::string& name);

}  // namespace mediation::testing

#endif  // MEDIATION_TESTS_SUPPORT_CONNECT_FORWARDER_H_
