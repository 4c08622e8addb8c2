// mediationctl: call any RPC of the mediation API from a terminal or a script.
//
//   mediationctl services                         list every service and method
//   mediationctl describe <name>                  show a service, method, message or enum
//   mediationctl call <Service>/<Method> [json]   call a method; the request is JSON (proto3
//                                                 JSON mapping), "-" reads it from stdin, and
//                                                 the response is printed as JSON
//
// The server address and token come from --addr / --token (or --token_file), else from the
// environment: MEDIATION_ADDR, MEDIATION_TOKEN, MEDIATION_TOKEN_FILE.
// Exit codes: 0 success, 1 the server (or the network) refused the call, 2 a usage error.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "ppa/mediation/v1/admin.pb.h"
#include "ppa/mediation/v1/api_files.h"

ABSL_FLAG(std::string, addr, "", "Server address (default: $MEDIATION_ADDR or 127.0.0.1:50051).");
ABSL_FLAG(std::string, token, "", "Bearer token (default: $MEDIATION_TOKEN).");
ABSL_FLAG(std::string, token_file, "",
          "File holding the bearer token, e.g. var/admin.token (default: $MEDIATION_TOKEN_FILE).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CA that signed the server's certificate; enables TLS.");
ABSL_FLAG(int, timeout_seconds, 30, "Deadline for the call.");

namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::Message;

constexpr int kServerError = 1;
constexpr int kUsageError = 2;
constexpr char kPackage[] = "ppa.mediation.v1";

int Usage(const std::string& problem) {
  std::cerr << "mediationctl: " << problem << "\n"
            << "Run 'mediationctl --help' for usage.\n";
  return kUsageError;
}

std::string FromFlagOrEnv(const std::string& flag, const char* env, const std::string& fallback) {
  if (!flag.empty()) return flag;
  const char* value = std::getenv(env);
  return value != nullptr && *value != '\0' ? value : fallback;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

const DescriptorPool& Pool() {
  // Referencing one message links the generated descriptors into the pool.
  (void)ppa::mediation::v1::AccessToken::descriptor();
  return *DescriptorPool::generated_pool();
}

std::vector<const google::protobuf::ServiceDescriptor*> Services() {
  std::vector<const google::protobuf::ServiceDescriptor*> services;

  for (const char* name : ppa::mediation::v1::kApiProtoFiles) {
    const google::protobuf::FileDescriptor* file = Pool().FindFileByName(name);
    if (file == nullptr) continue;
    for (int i = 0; i < file->service_count(); ++i) services.push_back(file->service(i));
  }
  return services;
}

int ListServices() {
  for (const auto* service : Services()) {
    std::cout << service->full_name() << "\n";
    for (int m = 0; m < service->method_count(); ++m) {
      const auto* method = service->method(m);
      std::cout << "  " << method->name() << "(" << method->input_type()->name() << ") returns ("
                << method->output_type()->name() << ")\n";
    }
  }
  return 0;
}

int Describe(std::string name) {
  if (name.find('.') == std::string::npos) name = absl::StrCat(kPackage, ".", name);
  absl::StrReplaceAll({{"/", "."}}, &name);
  const DescriptorPool& pool = Pool();
  if (const auto* s = pool.FindServiceByName(name)) {
    std::cout << s->DebugString();
  } else if (const auto* m = pool.FindMethodByName(name)) {
    std::cout << m->DebugString() << "\n"
              << m->input_type()->DebugString() << "\n"
              << m->output_type()->DebugString();
  } else if (const auto* t = pool.FindMessageTypeByName(name)) {
    std::cout << t->DebugString();
  } else if (const auto* e = pool.FindEnumTypeByName(name)) {
    std::cout << e->DebugString();
  } else {
    return Usage(absl::StrCat("no service, method, message or enum called ", name));
  }
  return 0;
}

std::shared_ptr<grpc::Channel> Connect(const std::string& addr) {
  const std::string ca_path = absl::GetFlag(FLAGS_tls_ca);
  if (ca_path.empty()) return grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
  grpc::SslCredentialsOptions ssl;
  ReadFile(ca_path, &ssl.pem_root_certs);
  return grpc::CreateChannel(addr, grpc::SslCredentials(ssl));
}

int Call(std::string method_name, const std::string& json_arg) {
  if (method_name.find('.') == std::string::npos || method_name.find('/') != std::string::npos) {
    // Accept "AdminService/IssueToken" and "/ppa.mediation.v1.AdminService/IssueToken".
    if (absl::StartsWith(method_name, "/")) method_name.erase(0, 1);
    absl::StrReplaceAll({{"/", "."}}, &method_name);
  }
  if (!absl::StartsWith(method_name, kPackage))
    method_name = absl::StrCat(kPackage, ".", method_name);
  const auto* method = Pool().FindMethodByName(method_name);
  if (method == nullptr) {
    return Usage(absl::StrCat("no method ", method_name, "; 'mediationctl services' lists them"));
  }

  std::string json = json_arg.empty() ? "{}" : json_arg;
  if (json_arg == "-") {
    std::stringstream in;
    in << std::cin.rdbuf();
    json = in.str();
  }
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> request(factory->GetPrototype(method->input_type())->New());
  std::unique_ptr<Message> response(factory->GetPrototype(method->output_type())->New());
  auto parsed = google::protobuf::util::JsonStringToMessage(json, request.get());
  if (!parsed.ok()) {
    return Usage(absl::StrCat("the request is not a valid ", method->input_type()->full_name(),
                              " in JSON: ", parsed.ToString()));
  }

  std::string token = FromFlagOrEnv(absl::GetFlag(FLAGS_token), "MEDIATION_TOKEN", "");
  const std::string token_file =
      FromFlagOrEnv(absl::GetFlag(FLAGS_token_file), "MEDIATION_TOKEN_FILE", "");
  if (token.empty() && !token_file.empty() && !ReadFile(token_file, &token)) {
    return Usage(absl::StrCat("cannot read the token file ", token_file));
  }
  token = std::string(absl::StripAsciiWhitespace(token));

  const std::string addr =
      FromFlagOrEnv(absl::GetFlag(FLAGS_addr), "MEDIATION_ADDR", "127.0.0.1:50051");
  grpc::TemplatedGenericStub<Message, Message> stub(Connect(addr));
  grpc::ClientContext context;
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(absl::GetFlag(FLAGS_timeout_seconds)));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, absl::StrCat("/", method->service()->full_name(), "/", method->name()),
                 grpc::StubOptions(), request.get(), response.get(),
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status status = done.get_future().get();
  if (!status.ok()) {
    static const char* kCodes[] = {"OK",
                                   "CANCELLED",
                                   "UNKNOWN",
                                   "INVALID_ARGUMENT",
                                   "DEADLINE_EXCEEDED",
                                   "NOT_FOUND",
                                   "ALREADY_EXISTS",
                                   "PERMISSION_DENIED",
                                   "RESOURCE_EXHAUSTED",
                                   "FAILED_PRECONDITION",
                                   "ABORTED",
                                   "OUT_OF_RANGE",
                                   "UNIMPLEMENTED",
                                   "INTERNAL",
                                   "UNAVAILABLE",
                                   "DATA_LOSS",
                                   "UNAUTHENTICATED"};
    const int code = status.error_code();
    std::cerr << "error: " << (code >= 0 && code <= 16 ? kCodes[code] : "UNKNOWN") << ": "
              << status.error_message() << "\n";
    return kServerError;
  }
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(*response, &out, print);
  std::cout << out;
  return 0;
}

bool OwnFlags(absl::string_view file) { return absl::StrContains(file, "clients/cli/"); }

}  // namespace

int main(int argc, char** argv) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = OwnFlags;
  config.contains_helpshort_flags = OwnFlags;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(
      "Calls the assisted-mediation server.\n"
      "  mediationctl services                        list every service and method\n"
      "  mediationctl describe <name>                 show a service, method, message or enum\n"
      "  mediationctl call <Service>/<Method> [json]  call a method with a JSON request\n"
      "                                               ('-' reads the JSON from stdin)\n"
      "Example:\n"
      "  mediationctl --token_file=var/admin.token call IdentityService/WhoAmI\n"
      "Exit codes: 0 success, 1 the server refused the call, 2 usage error.");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) return Usage("missing command: services, describe or call");
  const std::string command = args[1];
  if (command == "services" && args.size() == 2) return ListServices();
  if (command == "describe" && args.size() == 3) return Describe(args[2]);
  if (command == "call" && (args.size() == 3 || args.size() == 4)) {
    return Call(args[2], args.size() == 4 ? args[3] : "");
  }
  return Usage(absl::StrCat("unknown command or wrong arguments: ", command));
}
