// Plain records that the storage layer reads and writes. They carry no behaviour; the rules that
// govern them live in services/. Enumerations reuse the API's generated enums, which are the
// service's vocabulary and are stored by name, so renumbering can never corrupt stored rows.
#ifndef MEDIATION_STORAGE_RECORDS_H_
#define MEDIATION_STORAGE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "ppa/mediation/v1/common.pb.h"

namespace mediation::storage {

namespace v1 = ::ppa::mediation::v1;

struct ContactRecord {
  std::string name;
  std::string email;
  std::string phone;
  std::string job_title;

  friend bool operator==(const ContactRecord&, const ContactRecord&) = default;
};

struct TokenRecord {
  int64_t id = 0;
  std::string sha256;  // 32 raw bytes of SHA-256 over the secret; the secret is never stored.
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::string label;
  int64_t mediator_id = 0;
  int64_t organisation_id = 0;
  int64_t case_id = 0;
  int64_t party_id = 0;
  absl::Time created_at;
  std::optional<absl::Time> expires_at;
  std::optional<absl::Time> revoked_at;
  int64_t issued_by_token_id = 0;
};

struct OrganisationRecord {
  int64_t id = 0;
  std::string name;
  v1::OrganisationKind kind = v1::ORGANISATION_KIND_UNSPECIFIED;
  v1::Nation nation = v1::NATION_UNSPECIFIED;
  v1::CareSetting care_setting = v1::CARE_SETTING_UNSPECIFIED;
  v1::Sector sector = v1::SECTOR_UNSPECIFIED;
  std::string ods_code;  // Empty when not given.
  ContactRecord contact;
  absl::Time created_at;
};

struct PartyRecord {
  int64_t id = 0;
  int64_t case_id = 0;
  int position = 0;  // 1-based order within the referral.
  ContactRecord contact;
  v1::Profession profession = v1::PROFESSION_UNSPECIFIED;
  std::string accessibility_needs;
  bool bringing_companion = false;
  std::string typical_availability;
};

struct CaseRecord {
  int64_t id = 0;
  std::string reference;  // "AM-<year>-<id, six digits>", assigned on insert.
  int64_t organisation_id = 0;
  v1::CaseState state = v1::CASE_STATE_UNSPECIFIED;
  ContactRecord referrer;
  std::string summary;
  v1::ConcernLevel concern_level = v1::CONCERN_LEVEL_UNSPECIFIED;
  v1::ConcernType concern_type = v1::CONCERN_TYPE_UNSPECIFIED;
  std::vector<PartyRecord> parties;
  std::vector<std::string> linked_case_references;
  absl::Time created_at;
  absl::Time updated_at;
  int64_t created_by_token_id = 0;
  int64_t revision = 1;                                        // Of the referral's details.
  v1::CaseState held_from_state = v1::CASE_STATE_UNSPECIFIED;  // While ON_HOLD.
  std::string hold_reason;
  v1::WithdrawnBy withdrawn_by = v1::WITHDRAWN_BY_UNSPECIFIED;
  std::string withdrawal_reason;
};

struct ScreeningAnswerRecord {
  int64_t id = 0;
  int64_t case_id = 0;
  v1::Criterion criterion = v1::CRITERION_UNSPECIFIED;
  int64_t party_id = 0;  // 0 for per-case criteria.
  v1::CriterionAnswer answer = v1::CRITERION_ANSWER_UNSPECIFIED;
  std::string note;
  int64_t recorded_by_token_id = 0;
  absl::Time recorded_at;
  int64_t superseded_by = 0;
};

struct ScreeningDecisionRecord {
  int64_t id = 0;
  int64_t case_id = 0;
  v1::Suitability evaluated = v1::SUITABILITY_UNSPECIFIED;
  v1::Suitability decision = v1::SUITABILITY_UNSPECIFIED;
  bool overridden = false;
  std::string justification;
  bool high_concern_confirmed = false;
  std::vector<v1::Criterion> failed_criteria;
  std::vector<std::string> signposting;  // One per failed criterion.
  int64_t decided_by_token_id = 0;
  absl::Time decided_at;
};

struct FeeScheduleRecord {
  int64_t version = 0;
  int64_t mediation_day_pence = 0;
  int64_t individual_meeting_pence = 0;
  int64_t co_mediation_day_pence = 0;
  int64_t venue_day_pence = 0;
  int64_t travel_per_mediator_day_pence = 0;
  int32_t vat_basis_points = 0;
  absl::Time created_at;
  int64_t created_by_token_id = 0;
};

struct ChargeItemRecord {
  std::string description;
  int quantity = 0;
  int64_t unit_pence = 0;
  int64_t amount_pence = 0;
};

struct ChargeIndicationRecord {
  int64_t id = 0;
  int64_t case_id = 0;
  int64_t schedule_version = 0;
  int parties = 0;
  int days = 0;
  v1::SessionMode mode = v1::SESSION_MODE_UNSPECIFIED;
  bool co_mediation = false;
  std::vector<ChargeItemRecord> items;
  int64_t subtotal_pence = 0;
  int64_t vat_pence = 0;
  int32_t vat_basis_points = 0;
  int64_t total_pence = 0;
  int64_t indicated_by_token_id = 0;
  absl::Time indicated_at;
};

// One audited call. Never holds a request body.
struct AuditRecord {
  int64_t id = 0;
  absl::Time at;
  std::string call_id;
  int64_t token_id = 0;  // 0 when the caller was not authenticated.
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::string method;
  std::string objects;  // Space-separated "kind:id" words, e.g. "case:12 party:31".
  std::string outcome;  // gRPC status code name.
};

// Keyset pagination: rows strictly after `after_id` in the listing's order, at most `limit`.
struct PageCursor {
  int64_t after_id = 0;  // 0: from the start.
  int limit = 50;
};

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_RECORDS_H_
