// The Connect protocol (connectrpc.com/docs/protocol), the parts that do no I/O: content types,
// codecs, error bodies, HTTP statuses, timeouts and stream envelopes. The HTTP listener
// (http_server.h) uses them for every RPC of the method registry.
#ifndef MEDIATION_SERVICES_HTTP_CONNECT_H_
#define MEDIATION_SERVICES_HTTP_CONNECT_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mediation::http {

// How messages are written: protobuf's JSON mapping, or its binary encoding.
enum class Codec { kJson, kProto };

// A unary call's codec from its Content-Type (`application/json`, `application/proto`; a
// `charset=utf-8` parameter is allowed with JSON); nullopt for any other type (415).
std::optional<Codec> UnaryCodec(absl::string_view content_type);

// A streaming call's codec (`application/connect+json`, `application/connect+proto`).
std::optional<Codec> StreamCodec(absl::string_view content_type);

// The Content-Type a unary answer (or a stream, when `streaming`) carries.
absl::string_view ContentType(Codec codec, bool streaming);

// Reads `body` into `message`. INVALID_ARGUMENT naming the problem (malformed JSON, an unknown
// field, a value of the wrong type).
absl::Status ParseMessage(Codec codec, absl::string_view body, google::protobuf::Message& message);

// Writes `message` (JSON with lowerCamelCase names, as the Connect clients expect).
absl::StatusOr<std::string> SerializeMessage(Codec codec, const google::protobuf::Message& message);

// "not_found": the Connect name of a code.
absl::string_view ConnectCodeName(absl::StatusCode code);

// The HTTP status the protocol gives a unary error with `code` (404 for not_found...).
int HttpStatusOf(absl::StatusCode code);

// The unary error body: {"code":"not_found","message":"..."}.
std::string ErrorJson(const absl::Status& status);

// The value of a Connect-Timeout-Ms header: a positive integer of at most 10 digits.
absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view value);

// Stream envelopes: a flags byte, a 4-byte big-endian length, the message.
inline constexpr uint8_t kEndStreamFlag = 0x02;
inline constexpr uint8_t kCompressedFlag = 0x01;
std::string Envelope(uint8_t flags, absl::string_view payload);

// The one message of a server-streaming request's body (exactly one uncompressed envelope).
absl::StatusOr<std::string> SingleEnvelope(absl::string_view body);

// The end-of-stream message: {} on success, {"error":{"code":...,"message":...}} otherwise.
std::string EndStreamJson(const absl::Status& status);

}  // namespace mediation::http

#endif  // MEDIATION_SERVICES_HTTP_CONNECT_H_
