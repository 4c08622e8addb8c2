#include "tests/support/connect_forwarder.h"

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/http_client.h"

namespace mediation::testing {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The protocol's code names (connectrpc.com/docs/protocol#error-codes), written out here rather
// than taken from the server, so the test checks the server's names.
const std::map<std::string, grpc::StatusCode>& ConnectCodes() {
  static const auto* codes = new std::map<std::string, grpc::StatusCode>{
      {"canceled", grpc::StatusCode::CANCELLED},
      {"unknown", grpc::StatusCode::UNKNOWN},
      {"invalid_argument", grpc::StatusCode::INVALID_ARGUMENT},
      {"deadline_exceeded", grpc::StatusCode::DEADLINE_EXCEEDED},
      {"not_found", grpc::StatusCode::NOT_FOUND},
      {"already_exists", grpc::StatusCode::ALREADY_EXISTS},
      {"permission_denied", grpc::StatusCode::PERMISSION_DENIED},
      {"resource_exhausted", grpc::StatusCode::RESOURCE_EXHAUSTED},
      {"failed_precondition", grpc::StatusCode::FAILED_PRECONDITION},
      {"aborted", grpc::StatusCode::ABORTED},
      {"out_of_range", grpc::StatusCode::OUT_OF_RANGE},
      {"unimplemented", grpc::StatusCode::UNIMPLEMENTED},
      {"internal", grpc::StatusCode::INTERNAL},
      {"unavailable", grpc::StatusCode::UNAVAILABLE},
      {"data_loss", grpc::StatusCode::DATA_LOSS},
      {"unauthenticated", grpc::StatusCode::UNAUTHENTICATED},
  };
  return *codes;
}

grpc::Status StatusOfErrorJson(const nlohmann::json& error) {
  if (!error.is_object() || !error.contains("code") || !error["code"].is_string()) {
    return grpc::Status(grpc::StatusCode::UNKNOWN, "the answer had no Connect error code");
  }
  return grpc::Status(GrpcCodeOfConnectName(error["code"].get<std::string>()),
                      error.value("message", ""));
}

uint32_t BigEndian32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3]));
}

class ConnectForwarder : public grpc::experimental::Interceptor {
 public:
  ConnectForwarder(grpc::experimental::ClientRpcInfo* info, int http_port)
      : info_(info), http_port_(http_port) {
    streaming_ = info->type() == grpc::experimental::ClientRpcInfo::Type::SERVER_STREAMING;
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      for (const auto& [name, value] : *methods->GetSendInitialMetadata()) {
        if (name == "authorization") authorization_ = value;
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      grpc::ByteBuffer copy = *methods->GetSerializedSendMessage();
      grpc::Slice slice;
      if (copy.TrySingleSlice(&slice).ok()) {
        request_.assign(reinterpret_cast<const char*>(slice.begin()), slice.size());
      } else {
        std::vector<grpc::Slice> slices;
        (void)copy.Dump(&slices);
        for (const grpc::Slice& s : slices) {
          request_.append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_RECV_MESSAGE)) {
      Send();
      if (!messages_.empty()) {
        auto* message = static_cast<google::protobuf::Message*>(methods->GetRecvMessage());
        if (!message->ParseFromString(messages_.front())) {
          status_ = grpc::Status(grpc::StatusCode::INTERNAL, "an unparsable message came back");
        }
        messages_.pop_front();
      } else {
        methods->FailHijackedRecvMessage();
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_RECV_STATUS)) {
      Send();
      *methods->GetRecvStatus() = *status_;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->Hijack();
    } else {
      methods->Proceed();
    }
  }

 private:
  // The HTTP exchange, once, when the first answer is needed.
  void Send() {
    if (status_.has_value()) return;
    HttpCall call{.target = info_->method()};
    call.headers = {
        {"Connect-Protocol-Version", "1"},
        {"Content-Type", streaming_ ? "application/connect+proto" : "application/proto"}};
    if (!authorization_.empty()) call.headers.emplace_back("Authorization", authorization_);
    const auto deadline = info_->client_context()->deadline();
    if (deadline != std::chrono::system_clock::time_point::max()) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::system_clock::now())
                          .count();
      call.headers.emplace_back("Connect-Timeout-Ms", std::to_string(std::max<int64_t>(ms, 1)));
    }
    if (streaming_) {
      call.body.push_back('\0');
      const uint32_t n = static_cast<uint32_t>(request_.size());
      for (int shift = 24; shift >= 0; shift -= 8) {
        call.body.push_back(static_cast<char>((n >> shift) & 0xff));
      }
      call.body += request_;
    } else {
      call.body = request_;
    }
    absl::StatusOr<HttpReply> reply = SendHttp(http_port_, call);
    if (!reply.ok()) {
      status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(reply.status().message()));
      return;
    }
    if (!streaming_) {
      if (reply->status == 200) {
        messages_.push_back(reply->body);
        status_ = grpc::Status::OK;
      } else {
        status_ = StatusOfErrorJson(nlohmann::json::parse(reply->body, nullptr, false));
      }
      return;
    }
    if (reply->status != 200) {
      status_ = StatusOfErrorJson(nlohmann::json::parse(reply->body, nullptr, false));
      return;
    }
    // Envelopes, the last one the end-of-stream message.
    const std::string& body = reply->body;
    for (size_t at = 0; at + 5 <= body.size();) {
      const uint8_t flags = static_cast<uint8_t>(body[at]);
      const uint32_t length = BigEndian32(body, at + 1);
      if (at + 5 + length > body.size()) break;
      std::string payload = body.substr(at + 5, length);
      at += 5 + length;
      if ((flags & 0x02) == 0) {
        messages_.push_back(std::move(payload));
        continue;
      }
      const nlohmann::json end = nlohmann::json::parse(payload, nullptr, false);
      status_ = end.is_object() && end.contains("error") ? StatusOfErrorJson(end["error"])
                                                         : grpc::Status::OK;
      return;
    }
    status_ = grpc::Status(grpc::StatusCode::INTERNAL, "the stream had no end-of-stream message");
  }

  grpc::experimental::ClientRpcInfo* info_;
  const int http_port_;
  bool streaming_ = false;
  std::string authorization_;
  std::string request_;
  std::deque<std::string> messages_;
  std::optional<grpc::Status> status_;
};

}  // namespace

grpc::StatusCode GrpcCodeOfConnectName(const std::string& name) {
  auto it = ConnectCodes().find(name);
  return it == ConnectCodes().end() ? grpc::StatusCode::UNKNOWN : it->second;
}

grpc::experimental::Interceptor* ConnectForwarderFactory::CreateClientInterceptor(
    grpc::experimental::ClientRpcInfo* info) {
  return new ConnectForwarder(info, http_port_);
}

}  // namespace mediation::testing
