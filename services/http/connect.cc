#include "services/http/connect.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mediation::http {
namespace {

// The media type of a Content-Type value, lower case, without parameters; and whether its only
// parameter, if any, is charset=utf-8.
struct MediaType {
  std::string type;
  bool utf8_or_none = true;
};

MediaType ParseMediaType(absl::string_view value) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, ';');
  MediaType m;
  m.type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string parameter = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[i]));
    parameter.erase(std::remove(parameter.begin(), parameter.end(), '"'), parameter.end());
    if (parameter != "charset=utf-8") m.utf8_or_none = false;
  }
  return m;
}

}  // namespace

std::optional<Codec> UnaryCodec(absl::string_view content_type) {
  const MediaType m = ParseMediaType(content_type);
  if (m.type == "application/json" && m.utf8_or_none) return Codec::kJson;
  if (m.type == "application/proto") return Codec::kProto;
  return std::nullopt;
}

std::optional<Codec> StreamCodec(absl::string_view content_type) {
  const MediaType m = ParseMediaType(content_type);
  if (m.type == "application/connect+json" && m.utf8_or_none) return Codec::kJson;
  if (m.type == "application/connect+proto") return Codec::kProto;
  return std::nullopt;
}

absl::string_view ContentType(Codec codec, bool streaming) {
  if (streaming) {
    return codec == Codec::kJson ? "application/connect+json" : "application/connect+proto";
  }
  return codec == Codec::kJson ? "application/json" : "application/proto";
}

absl::Status ParseMessage(Codec codec, absl::string_view body, google::protobuf::Message& message) {
  if (codec == Codec::kProto) {
    if (!message.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return absl::InvalidArgumentError(absl::StrCat("the request body is not a valid binary ",
                                                     message.GetDescriptor()->full_name()));
    }
    return absl::OkStatus();
  }
  // An empty body is the empty message, as the Connect clients send it.
  if (absl::StripAsciiWhitespace(body).empty()) return absl::OkStatus();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), &message, options);
  if (!parsed.ok()) {
    message.Clear();
    return absl::InvalidArgumentError(absl::StrCat("the request body is not a valid JSON ",
                                                   message.GetDescriptor()->full_name(), ": ",
                                                   std::string(parsed.message())));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SerializeMessage(Codec codec,
                                             const google::protobuf::Message& message) {
  std::string out;
  if (codec == Codec::kProto) {
    if (!message.SerializeToString(&out)) {
      return absl::InternalError("the response could not be encoded");
    }
    return out;
  }
  google::protobuf::util::JsonPrintOptions options;
  const auto written = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!written.ok()) {
    return absl::InternalError(absl::StrCat("the response could not be written as JSON: ",
                                            std::string(written.message())));
  }
  return out;
}

absl::string_view ConnectCodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kCancelled:
      return "canceled";
    case absl::StatusCode::kInvalidArgument:
      return "invalid_argument";
    case absl::StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kAlreadyExists:
      return "already_exists";
    case absl::StatusCode::kPermissionDenied:
      return "permission_denied";
    case absl::StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case absl::StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case absl::StatusCode::kAborted:
      return "aborted";
    case absl::StatusCode::kOutOfRange:
      return "out_of_range";
    case absl::StatusCode::kUnimplemented:
      return "unimplemented";
    case absl::StatusCode::kInternal:
      return "internal";
    case absl::StatusCode::kUnavailable:
      return "unavailable";
    case absl::StatusCode::kDataLoss:
      return "data_loss";
    case absl::StatusCode::kUnauthenticated:
      return "unauthenticated";
    default:
      return "unknown";
  }
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    default:  // unknown, internal, data_loss
      return 500;
  }
}

namespace {

nlohmann::json ErrorObject(const absl::Status& status) {
  nlohmann::json error;
  error["code"] = std::string(ConnectCodeName(status.code()));
  if (!status.message().empty()) error["message"] = std::string(status.message());
  return error;
}

std::string Dump(const nlohmann::json& j) {
  // Invalid UTF-8 in a message is replaced rather than thrown on.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string ErrorJson(const absl::Status& status) { return Dump(ErrorObject(status)); }

std::string EndStreamJson(const absl::Status& status) {
  if (status.ok()) return "{}";
  nlohmann::json end;
  end["error"] = ErrorObject(status);
  return Dump(end);
}

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view value) {
  int64_t ms = 0;
  if (value.empty() || value.size() > 10 ||
      !std::all_of(value.begin(), value.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(value, &ms) || ms <= 0) {
    return absl::InvalidArgumentError(
        "Connect-Timeout-Ms: expected a positive whole number of milliseconds (at most 10 "
        "digits)");
  }
  return absl::Milliseconds(ms);
}

std::string Envelope(uint8_t flags, absl::string_view payload) {
  std::string out;
  out.reserve(5 + payload.size());
  out.push_back(static_cast<char>(flags));
  const uint32_t n = static_cast<uint32_t>(payload.size());
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(payload.data(), payload.size());
  return out;
}

absl::StatusOr<std::string> SingleEnvelope(absl::string_view body) {
  if (body.size() < 5) {
    return absl::InvalidArgumentError(
        "a streaming request's body is one envelope: a flags byte, a 4-byte length and the "
        "message");
  }
  const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(body[i])); };
  const uint8_t flags = static_cast<uint8_t>(body[0]);
  const uint32_t length = (byte(1) << 24) | (byte(2) << 16) | (byte(3) << 8) | byte(4);
  if ((flags & kCompressedFlag) != 0) {
    return absl::UnimplementedError("compressed messages are not supported: send them plain");
  }
  if (length != body.size() - 5) {
    return absl::InvalidArgumentError(absl::StrCat("the request envelope says ", length,
                                                   " bytes but ", body.size() - 5, " follow"));
  }
  return std::string(body.substr(5));
}

}  // namespace mediation::http
