// Agreement content (services/agreement_content.h): validation, the canonical encoding and the
// content hash a signature names. Invariants: an accepted content meets DraftAgreement's
// preconditions; validating is idempotent; the canonical encoding is deterministic and parses
// back to exactly the validated content; the hash is 64 lower-case hex digits of SHA-256 and the
// same for the same content however it reached the server (surrounding whitespace, unknown
// fields, wire field order), but differs whenever what the parties agreed to differs (a
// commitment's words, who it binds, its review date, the free text). Run with deploy/fuzz.sh.
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/agreement_content.h"
#include "services/core/validation.h"
#include "tests/fuzz/fuzz_support.h"

namespace mediation {
namespace {

namespace v1 = ::ppa::mediation::v1;
using fuzz::Utf8Text;
using google::protobuf::util::MessageDifferencer;

bool IsHexHash(const std::string& h) {
  return h.size() == 64 && h.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string HashOf(const v1::AgreementContent& content) {
  return AgreementContentHash(CanonicalAgreementContent(content));
}

void Fuzz(FuzzedDataProvider& fdp) {
  storage::CaseRecord c;
  c.id = 7;
  const int parties = fdp.ConsumeIntegralInRange<int>(1, 4);
  for (int i = 0; i < parties; ++i) c.parties.push_back({.id = 10 + i});

  v1::AgreementContent in;
  const int items = fdp.ConsumeIntegralInRange<int>(0, 52);
  for (int i = 0; i < items; ++i) {
    v1::AgreementItem* item = in.add_items();
    item->set_commitment(Utf8Text(fdp, 24));
    const int ids = fdp.ConsumeIntegralInRange<int>(0, 4);
    for (int k = 0; k < ids; ++k) item->add_party_ids(fdp.ConsumeIntegralInRange<int64_t>(9, 14));
    if (fdp.ConsumeBool()) {
      item->mutable_review_date()->set_year(fdp.ConsumeIntegralInRange<int>(1899, 2201));
      item->mutable_review_date()->set_month(fdp.ConsumeIntegralInRange<int>(0, 13));
      item->mutable_review_date()->set_day(fdp.ConsumeIntegralInRange<int>(0, 32));
    }
  }
  if (fdp.ConsumeBool()) in.set_free_text(Utf8Text(fdp, 60));

  absl::StatusOr<v1::AgreementContent> out = ValidateAgreementContent(in, c);
  if (!out.ok()) {
    FUZZ_CHECK(out.status().code() == absl::StatusCode::kInvalidArgument, out.status().ToString());
    FUZZ_CHECK(absl::StartsWith(out.status().message(), "content"), out.status().message());
    return;
  }
  // DraftAgreement's preconditions.
  FUZZ_CHECK(out->items_size() <= kMaxAgreementItems, "items");
  FUZZ_CHECK(out->items_size() > 0 || !out->free_text().empty(), "empty agreement");
  for (const v1::AgreementItem& item : out->items()) {
    FUZZ_CHECK(!item.commitment().empty() &&
                   item.commitment() == absl::StripAsciiWhitespace(item.commitment()) &&
                   CodePoints(item.commitment()) <= kMaxCommitmentChars,
               item.commitment());
    FUZZ_CHECK(item.party_ids_size() > 0, "an item binds nobody");
    std::set<int64_t> seen;
    for (int64_t p : item.party_ids()) {
      FUZZ_CHECK(p >= 10 && p < 10 + parties && seen.insert(p).second, absl::StrCat(p));
    }
  }

  // Deterministic, and the encoding is the content.
  const std::string canonical = CanonicalAgreementContent(*out);
  FUZZ_CHECK(canonical == CanonicalAgreementContent(*out), "encoding not deterministic");
  v1::AgreementContent parsed;
  FUZZ_CHECK(parsed.ParseFromString(canonical) && MessageDifferencer::Equals(parsed, *out),
             "the canonical encoding does not parse back to the content");
  FUZZ_CHECK(CanonicalAgreementContent(parsed) == canonical, "encoding not stable");
  const std::string hash = AgreementContentHash(canonical);
  FUZZ_CHECK(IsHexHash(hash), hash);
  FUZZ_CHECK(hash == AgreementContentHash(canonical), "hash not deterministic");

  // Idempotent, and insensitive to how the same content arrived.
  v1::AgreementContent noisy = *out;
  for (v1::AgreementItem& item : *noisy.mutable_items()) {
    item.set_commitment(absl::StrCat(" \t", item.commitment(), "\n "));
  }
  if (!noisy.free_text().empty()) noisy.set_free_text(absl::StrCat("\n", noisy.free_text(), " "));
  noisy.GetReflection()->MutableUnknownFields(&noisy)->AddVarint(1000, 42);
  absl::StatusOr<v1::AgreementContent> again = ValidateAgreementContent(noisy, c);
  FUZZ_CHECK(again.ok(), again.status().ToString());
  FUZZ_CHECK(HashOf(*again) == hash, "whitespace or unknown fields change the hash");
  // The same fields in reverse wire order parse to the same message, so the same hash.
  std::string reversed;
  if (!out->free_text().empty()) {
    v1::AgreementContent text_only;
    text_only.set_free_text(out->free_text());
    reversed = text_only.SerializeAsString();
  }
  for (const v1::AgreementItem& item : out->items()) {
    v1::AgreementContent one;
    *one.add_items() = item;
    reversed += one.SerializeAsString();
  }
  v1::AgreementContent from_wire;
  FUZZ_CHECK(from_wire.ParseFromString(reversed), "reordered wire bytes");
  absl::StatusOr<v1::AgreementContent> from_wire_ok = ValidateAgreementContent(from_wire, c);
  FUZZ_CHECK(from_wire_ok.ok() && HashOf(*from_wire_ok) == hash, "wire field order changes it");

  // Sensitive to what was agreed.
  auto differs = [&](v1::AgreementContent changed, absl::string_view what) {
    absl::StatusOr<v1::AgreementContent> v = ValidateAgreementContent(changed, c);
    if (v.ok()) FUZZ_CHECK(HashOf(*v) != hash, what);
  };
  if (out->items_size() > 0) {
    const int i = fdp.ConsumeIntegralInRange<int>(0, out->items_size() - 1);
    v1::AgreementContent changed = *out;
    changed.mutable_items(i)->set_commitment(absl::StrCat(out->items(i).commitment(), "!"));
    differs(changed, "a commitment's words");
    changed = *out;
    v1::AgreementItem* item = changed.mutable_items(i);
    const int64_t other = 10 + fdp.ConsumeIntegralInRange<int>(0, parties - 1);
    if (std::find(item->party_ids().begin(), item->party_ids().end(), other) ==
        item->party_ids().end()) {
      item->set_party_ids(0, other);
      differs(changed, "who a commitment binds");
    }
    changed = *out;
    item = changed.mutable_items(i);
    if (item->has_review_date()) {
      item->clear_review_date();
    } else {
      item->mutable_review_date()->set_year(2027);
      item->mutable_review_date()->set_month(6);
      item->mutable_review_date()->set_day(1);
    }
    differs(changed, "a review date");
  }
  v1::AgreementContent changed = *out;
  changed.set_free_text(absl::StrCat(out->free_text(), "x"));
  differs(changed, "the free text");
}

}  // namespace
}  // namespace mediation

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  mediation::Fuzz(fdp);
  return 0;
}
