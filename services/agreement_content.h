// Agreement content: its validation against the case, the canonical encoding that a signature
// names, and that encoding's hash. Pure (no database).
#ifndef MEDIATION_SERVICES_AGREEMENT_CONTENT_H_
#define MEDIATION_SERVICES_AGREEMENT_CONTENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ppa/mediation/v1/agreement.pb.h"
#include "storage/records.h"

namespace mediation {

inline constexpr size_t kMaxCommitmentChars = 2000;
inline constexpr size_t kMaxFreeTextChars = 20000;
inline constexpr int kMaxAgreementItems = 50;

// The content as it is stored and signed: at most 50 items, each with a commitment (trimmed),
// the case's parties it binds (at least one, each once) and an optional valid review date; free
// text (trimmed); at least one item or some free text. Unknown fields are dropped. Or one
// INVALID_ARGUMENT naming every bad field under "content.".
absl::StatusOr<::ppa::mediation::v1::AgreementContent> ValidateAgreementContent(
    const ::ppa::mediation::v1::AgreementContent& in, const storage::CaseRecord& c);

// The canonical encoding a signature names: the content message, deterministically serialised.
std::string CanonicalAgreementContent(const ::ppa::mediation::v1::AgreementContent& content);

// The content hash parties sign: SHA-256 of the canonical encoding, 64 lower-case hex digits.
std::string AgreementContentHash(absl::string_view canonical);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_AGREEMENT_CONTENT_H_
