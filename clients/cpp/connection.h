// A connection to the assisted-mediation server, for C++ tools: one object holds the channel
// (TLS or plaintext), the bearer token and the default deadline, and calls any RPC of the API
// through its generated stub, returning the server's answer as an absl::Status.
//
//   mediation::client::ConnectionOptions options;
//   options.address = "127.0.0.1:50051";
//   options.token = token;  // from `mediation-server --print_admin_token`, or IssueToken
//   absl::StatusOr<std::unique_ptr<Connection>> connection = Connection::Open(options);
//   v1::GetCaseRequest request;
//   request.set_case_id(12);
//   v1::GetCaseResponse response;
//   absl::Status status =
//       (*connection)->Call(&v1::ReferralService::Stub::GetCase, request, &response);
//
// Retries: a call that fails UNAVAILABLE (the server restarting, a dropped connection) is tried
// again, with exponential backoff, only when repeating it cannot do anything twice: a method the
// API marks `idempotency_level = NO_SIDE_EFFECTS` (every read), or a request that carries a
// non-empty `idempotency_key` (the server answers a repeat with its first response). Any other
// write fails at once, since the first attempt may have been applied.
//
// Thread-safe: calls may be made from many threads at once.
#ifndef MEDIATION_CLIENTS_CPP_CONNECTION_H_
#define MEDIATION_CLIENTS_CPP_CONNECTION_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mediation::client {

struct ConnectionOptions {
  // host:port of the server.
  std::string address = "127.0.0.1:50051";
  // The bearer token sent with every call; empty sends none (only health and reflection answer).
  std::string token;
  // TLS: the PEM file of the CA that signed the server's certificate. Empty means plaintext,
  // which the server accepts only on loopback unless configured otherwise.
  std::string tls_ca_file;
  // Mutual TLS (optional, with tls_ca_file): this client's certificate chain and key, PEM.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Every call's deadline, unless the call gives its own.
  absl::Duration deadline = absl::Seconds(30);
  // Attempts in all for a call that is safe to retry (1: never retry).
  int max_attempts = 4;
  // The wait before the first retry; doubled before each further one.
  absl::Duration initial_backoff = absl::Milliseconds(200);
};

class Connection {
 public:
  // Opens a channel (lazily: nothing is sent until the first call). INVALID_ARGUMENT when an
  // option is unusable (an empty address, an unreadable certificate file).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(ConnectionOptions options);

  // Calls `method` of its service's stub, e.g. &v1::ReferralService::Stub::GetCase, with the
  // token and deadline, retrying when that is safe. `timeout` overrides the default deadline.
  template <typename Stub, typename Request, typename Response>
  absl::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response,
                    absl::Duration timeout = absl::ZeroDuration()) {
    const bool retry =
        SafeToRetry(MethodFor(Request::descriptor(), Response::descriptor()), request);
    return WithRetries(retry, [&]() -> grpc::Status {
      std::unique_ptr<grpc::ClientContext> context = NewContext(timeout);
      Stub stub(channel_);
      return (stub.*method)(context.get(), request, response);
    });
  }

  // Calls a method known only by its descriptor (tools that discover the API at run time, like
  // mediationctl). `request` and `response` must be of the method's input and output types.
  absl::Status CallMethod(const google::protobuf::MethodDescriptor& method,
                          const google::protobuf::Message& request,
                          google::protobuf::Message* response,
                          absl::Duration timeout = absl::ZeroDuration());

  // Reads a server stream (by descriptor) to its end, calling `on_message` with each message
  // as it arrives; `on_message` returning false cancels the call, which then returns OK. The
  // stream is not retried: resume it yourself (the case-event stream takes a position).
  absl::Status StreamMethod(const google::protobuf::MethodDescriptor& method,
                            const google::protobuf::Message& request,
                            google::protobuf::Message* scratch,
                            const std::function<bool(const google::protobuf::Message&)>& on_message,
                            absl::Duration timeout = absl::InfiniteDuration());

  // A client context carrying the token and a deadline `timeout` from now (the default deadline
  // when zero; none when infinite), for calls made directly on a stub, such as streams.
  std::unique_ptr<grpc::ClientContext> NewContext(
      absl::Duration timeout = absl::ZeroDuration()) const;

  // Whether a failed call of `method` with `request` may be sent again (see the file comment).
  static bool SafeToRetry(const google::protobuf::MethodDescriptor* method,
                          const google::protobuf::Message& request);

  // The API method taking `input` and returning `output` (each RPC of the API has its own
  // request and response types); null if there is none.
  static const google::protobuf::MethodDescriptor* MethodFor(
      const google::protobuf::Descriptor* input, const google::protobuf::Descriptor* output);

  // Makes the connection now rather than with the first call, so that a tool can tell a server it
  // never reached from one that answered: OK once connected; UNAVAILABLE as soon as an attempt
  // fails (nothing listening, a TLS handshake refused); DEADLINE_EXCEEDED when no attempt has
  // succeeded within `timeout` (zero: the default deadline). Sends nothing to the API.
  absl::Status Connect(absl::Duration timeout = absl::ZeroDuration());

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const ConnectionOptions& options() const { return options_; }

  // Attempts sent so far, retries included (for tools that report them, and for tests).
  int64_t attempts() const { return attempts_.load(); }

 private:
  Connection(ConnectionOptions options, std::shared_ptr<grpc::Channel> channel);

  absl::Status WithRetries(bool retry, const std::function<grpc::Status()>& attempt);

  const ConnectionOptions options_;
  const std::shared_ptr<grpc::Channel> channel_;
  std::atomic<int64_t> attempts_{0};
};

// The gRPC status as an absl::Status with the same code and message.
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace mediation::client

#endif  // MEDIATION_CLIENTS_CPP_CONNECTION_H_
