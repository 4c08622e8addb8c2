#include "clients/cpp/connection.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mediation::client {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view option) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(option, ": cannot read ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string FullName(const MethodDescriptor& m) {
  return absl::StrCat("/", m.service()->full_name(), "/", m.name());
}

}  // namespace

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(ConnectionOptions options) {
  if (options.address.empty()) return absl::InvalidArgumentError("address: must not be empty");
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError("max_attempts: must be at least 1");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls_ca_file.empty()) {
    if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          "tls_cert_file: a client certificate needs TLS; set tls_ca_file too");
    }
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    absl::StatusOr<std::string> ca = ReadPem(options.tls_ca_file, "tls_ca_file");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          "tls_cert_file: a client certificate and its key go together; set both or neither");
    }
    if (!options.tls_cert_file.empty()) {
      absl::StatusOr<std::string> cert = ReadPem(options.tls_cert_file, "tls_cert_file");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPem(options.tls_key_file, "tls_key_file");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  // Retries are ours (they depend on the request); gRPC's own transparent retries stay on.
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(options.address, credentials, args);
  return std::unique_ptr<Connection>(new Connection(std::move(options), std::move(channel)));
}

Connection::Connection(ConnectionOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)), channel_(std::move(channel)) {}

std::unique_ptr<grpc::ClientContext> Connection::NewContext(absl::Duration timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
  if (timeout == absl::ZeroDuration()) timeout = options_.deadline;
  if (timeout != absl::InfiniteDuration()) {
    context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  }
  return context;
}

const MethodDescriptor* Connection::MethodFor(const Descriptor* input, const Descriptor* output) {
  const google::protobuf::FileDescriptor* file = input->file();
  for (int s = 0; s < file->service_count(); ++s) {
    const google::protobuf::ServiceDescriptor* service = file->service(s);
    for (int m = 0; m < service->method_count(); ++m) {
      const MethodDescriptor* method = service->method(m);
      if (method->input_type() == input && method->output_type() == output) return method;
    }
  }
  return nullptr;
}

bool Connection::SafeToRetry(const MethodDescriptor* method, const Message& request) {
  if (method != nullptr &&
      method->options().idempotency_level() == google::protobuf::MethodOptions::NO_SIDE_EFFECTS) {
    return true;
  }
  const FieldDescriptor* key = request.GetDescriptor()->FindFieldByName("idempotency_key");
  return key != nullptr && key->type() == FieldDescriptor::TYPE_STRING && !key->is_repeated() &&
         !request.GetReflection()->GetString(request, key).empty();
}

absl::Status Connection::Connect(absl::Duration timeout) {
  const absl::Duration wait = timeout == absl::ZeroDuration() ? options_.deadline : timeout;
  const auto deadline = absl::ToChronoTime(absl::Now() + wait);
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) {
      return absl::UnavailableError(absl::StrCat("could not connect to ", options_.address));
    }
    if (!channel_->WaitForStateChange(state, deadline)) {
      return absl::DeadlineExceededError(absl::StrCat("no connection to ", options_.address,
                                                      " within ", absl::FormatDuration(wait)));
    }
    state = channel_->GetState(/*try_to_connect=*/true);
  }
  return absl::OkStatus();
}

absl::Status Connection::WithRetries(bool retry, const std::function<grpc::Status()>& attempt) {
  absl::Duration backoff = options_.initial_backoff;
  for (int n = 1;; ++n) {
    ++attempts_;
    const grpc::Status status = attempt();
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE || !retry ||
        n >= options_.max_attempts) {
      return FromGrpc(status);
    }
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(backoff));
    backoff *= 2;
  }
}

absl::Status Connection::CallMethod(const MethodDescriptor& method, const Message& request,
                                    Message* response, absl::Duration timeout) {
  if (request.GetDescriptor()->full_name() != method.input_type()->full_name() ||
      response->GetDescriptor()->full_name() != method.output_type()->full_name()) {
    return absl::InvalidArgumentError(absl::StrCat("request and response must be a ",
                                                   method.input_type()->full_name(), " and a ",
                                                   method.output_type()->full_name()));
  }
  grpc::TemplatedGenericStub<Message, Message> stub(channel_);
  const std::string name = FullName(method);
  return WithRetries(SafeToRetry(&method, request), [&]() -> grpc::Status {
    std::unique_ptr<grpc::ClientContext> context = NewContext(timeout);
    response->Clear();
    std::promise<grpc::Status> done;
    stub.UnaryCall(context.get(), name, grpc::StubOptions(), &request, response,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
  });
}

absl::Status Connection::StreamMethod(const MethodDescriptor& method, const Message& request,
                                      Message* scratch,
                                      const std::function<bool(const Message&)>& on_message,
                                      absl::Duration timeout) {
  if (!method.server_streaming() || method.client_streaming()) {
    return absl::InvalidArgumentError(
        absl::StrCat(method.full_name(), " is not a server-streaming method"));
  }
  ++attempts_;
  grpc::TemplatedGenericStub<Message, Message> stub(channel_);
  std::unique_ptr<grpc::ClientContext> context = NewContext(timeout);
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<Message, Message>> call =
      stub.PrepareCall(context.get(), FullName(method), &cq);
  // One operation at a time: start it, then wait for its completion.
  auto await = [&cq]() {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok;
  };
  bool ok = (call->StartCall(reinterpret_cast<void*>(1)), await());
  if (ok) ok = (call->Write(request, reinterpret_cast<void*>(2)), await());
  if (ok) ok = (call->WritesDone(reinterpret_cast<void*>(3)), await());
  bool stopped = false;
  while (ok) {
    call->Read(scratch, reinterpret_cast<void*>(4));
    if (!await()) break;
    if (!on_message(*scratch)) {
      stopped = true;
      context->TryCancel();
      break;
    }
  }
  if (stopped) {
    // Drain what the cancelled call still has outstanding.
    for (;;) {
      call->Read(scratch, reinterpret_cast<void*>(4));
      if (!await()) break;
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  await();
  cq.Shutdown();
  void* tag = nullptr;
  bool drained = false;
  while (cq.Next(&tag, &drained)) {
  }
  if (stopped) return absl::OkStatus();
  return FromGrpc(status);
}

}  // namespace mediation::client
