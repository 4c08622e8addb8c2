#include "services/referral_validation.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/contact_validation.h"
#include "services/rules/identity.h"
#include "services/session_validation.h"

namespace mediation {

namespace v1 = ::ppa::mediation::v1;

bool IsCaseReference(absl::string_view ref) {
  return !ref.empty() && ref.size() <= kMaxCaseReferenceChars &&
         std::all_of(ref.begin(), ref.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '-' || c == '/'; });
}

void ValidateReferralDetails(Validator& v, const ReferralInput& in, storage::CaseRecord& c) {
  c.referrer = ValidateContact(v, "referrer", in.referrer);
  c.summary = v.RequiredText("summary", in.summary, kMaxSummaryChars);
  v.Enum("concern_level", in.concern_level, v1::ConcernLevel_IsValid, /*required=*/false);
  v.Enum("concern_type", in.concern_type, v1::ConcernType_IsValid, /*required=*/false);
  c.concern_level = static_cast<v1::ConcernLevel>(in.concern_level);
  c.concern_type = static_cast<v1::ConcernType>(in.concern_type);

  if (in.parties.size() < kMinReferralParties) {
    v.Fail("parties", absl::StrCat("a referral needs at least ", kMinReferralParties,
                                   " parties, got ", in.parties.size()));
  } else if (in.parties.size() > kMaxReferralParties) {
    v.Fail("parties", absl::StrCat("at most ", kMaxReferralParties, " parties"));
  }
  std::set<std::string> emails;
  std::set<int64_t> ids;
  for (int i = 0; i < in.parties.size() && i < kMaxReferralParties; ++i) {
    const v1::Party& party = in.parties[i];
    const std::string field = absl::StrCat("parties[", i, "]");
    storage::PartyRecord p;
    p.id = party.id();
    if (p.id < 0 || (p.id > 0 && !ids.insert(p.id).second)) {
      v.Fail(absl::StrCat(field, ".id"),
             "must be an existing party's id, once, or 0 for a new one");
    }
    p.contact = ValidateContact(v, absl::StrCat(field, ".contact"), party.contact());
    v.Enum(absl::StrCat(field, ".profession"), party.profession(), v1::Profession_IsValid,
           /*required=*/true);
    p.profession = party.profession();
    p.accessibility_needs = v.OptionalText(absl::StrCat(field, ".accessibility_needs"),
                                           party.accessibility_needs(), kMaxAccessibilityChars);
    p.access_needs =
        ValidateAccessNeeds(v, absl::StrCat(field, ".access_needs"), party.access_needs());
    p.bringing_companion = party.bringing_companion();
    p.typical_availability = v.OptionalText(absl::StrCat(field, ".typical_availability"),
                                            party.typical_availability(), kMaxAvailabilityChars);
    // One person, one party: addresses compare as rules::EmailKey folds them. Only a valid
    // email is named: an invalid one is reported above, and is not echoed.
    p.person_key = rules::EmailKey(p.contact.email);
    if (IsPlausibleEmail(p.contact.email) && !emails.insert(p.person_key).second) {
      v.Fail(absl::StrCat(field, ".contact.email"),
             absl::StrCat(p.contact.email, " is given for another party too"));
    }
    c.parties.push_back(std::move(p));
  }

  if (in.links.size() > kMaxLinkedCases) {
    v.Fail("linked_case_references", absl::StrCat("at most ", kMaxLinkedCases, " references"));
  }
  for (int i = 0; i < in.links.size() && i < kMaxLinkedCases; ++i) {
    const std::string ref(absl::StripAsciiWhitespace(in.links[i]));
    if (!IsCaseReference(ref)) {
      v.Fail(absl::StrCat("linked_case_references[", i, "]"),
             absl::StrCat("must be 1 to ", kMaxCaseReferenceChars, " letters, digits, '-' or '/'"));
    }
    c.linked_case_references.push_back(ref);
  }
}

}  // namespace mediation
