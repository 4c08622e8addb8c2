#include "services/agreement_content.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/convert.h"
#include "services/core/secrets.h"
#include "services/core/validation.h"

namespace mediation {

std::string CanonicalAgreementContent(const v1::AgreementContent& content) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  content.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

std::string AgreementContentHash(absl::string_view canonical) {
  return absl::BytesToHexString(Sha256(canonical));
}

absl::StatusOr<v1::AgreementContent> ValidateAgreementContent(const v1::AgreementContent& in,
                                                              const storage::CaseRecord& c) {
  Validator v;
  v1::AgreementContent out;
  if (in.items_size() > kMaxAgreementItems)
    v.Fail("content.items", absl::StrCat("at most ", kMaxAgreementItems));
  for (int i = 0; i < in.items_size() && i < kMaxAgreementItems; ++i) {
    const v1::AgreementItem& item = in.items(i);
    const std::string field = absl::StrCat("content.items[", i, "]");
    v1::AgreementItem* clean = out.add_items();
    clean->set_commitment(
        v.RequiredText(absl::StrCat(field, ".commitment"), item.commitment(), kMaxCommitmentChars));
    if (item.party_ids_size() == 0) v.Fail(absl::StrCat(field, ".party_ids"), "at least one party");
    std::set<int64_t> seen;
    for (int64_t party : item.party_ids()) {
      const bool in_case = std::any_of(c.parties.begin(), c.parties.end(),
                                       [&](const auto& p) { return p.id == party; });
      if (!in_case || !seen.insert(party).second) {
        v.Fail(
            absl::StrCat(field, ".party_ids"),
            absl::StrCat("party ", party, " is not a party of case ", c.id, " (or is repeated)"));
      }
      clean->add_party_ids(party);
    }
    if (item.has_review_date()) {
      if (!DayFromProto(item.review_date())) {
        v.Fail(absl::StrCat(field, ".review_date"), "not a valid date");
      }
      *clean->mutable_review_date() = item.review_date();
    }
  }
  out.set_free_text(v.OptionalText("content.free_text", in.free_text(), kMaxFreeTextChars));
  if (out.items_size() == 0 && out.free_text().empty()) {
    v.Fail("content", "an agreement needs at least one item or some free text");
  }
  if (!v.ok()) return v.status();
  return out;
}

}  // namespace mediation
