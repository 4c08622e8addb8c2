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
#include "ppa/mediation/v1/agreement.pb.h"
#include "ppa/mediation/v1/allocation.pb.h"
#include "ppa/mediation/v1/common.pb.h"
#include "ppa/mediation/v1/mediator.pb.h"
#include "ppa/mediation/v1/notes.pb.h"
#include "ppa/mediation/v1/scheduling.pb.h"

namespace mediation::storage {

namespace v1 = ::ppa::mediation::v1;

// A confidential text that could not be given back: its case's record key was destroyed at the
// end of the retention period, or its stored form does not open (damaged, or copied from another
// row or column). The text reads as empty. See storage/sealed_text.h.
struct WithheldField {
  enum class Reason { kDestroyed, kUnreadable };
  std::string field;  // The API field, e.g. "summary", "parties[2].accessibility_needs".
  Reason reason = Reason::kUnreadable;
};

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
  // The folded email that identifies the person across cases (rules::EmailKey).
  std::string person_key;
  std::string accessibility_needs;
  // Structured needs, matched against rooms' features; sealed like accessibility_needs.
  std::vector<v1::AccessNeed> access_needs;
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
  int mediators_required = 2;             // 1 (lead only) or 2 (lead and co-mediator).
  std::optional<absl::Time> finished_at;  // Entered CLOSED, NOT_SUITABLE or WITHDRAWN.
  v1::Outcome outcome = v1::OUTCOME_UNSPECIFIED;
  std::optional<absl::Time> outcome_recorded_at;
  std::optional<int32_t> review_date;  // Days since 1970-01-01, Europe/London.
  std::optional<absl::Time> reviewed_at;
  std::string review_notes;                 // What the follow-up review found.
  std::optional<absl::Time> anonymised_at;  // Personal data removed after retention.
  // Sealed texts of the case (and its parties) that could not be given back.
  std::vector<WithheldField> withheld;
};

struct ScreeningAnswerRecord {
  int64_t id = 0;
  int64_t case_id = 0;
  v1::Criterion criterion = v1::CRITERION_UNSPECIFIED;
  int64_t party_id = 0;  // 0 for per-case criteria.
  v1::CriterionAnswer answer = v1::CRITERION_ANSWER_UNSPECIFIED;
  std::string note;
  std::vector<WithheldField> withheld;  // Sealed texts that could not be given back.
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
  std::vector<WithheldField> withheld;  // Sealed texts that could not be given back.
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

struct WorkingHoursRecord {
  int weekday = 0;       // 1 Monday .. 7 Sunday.
  int start_minute = 0;  // Minutes after local midnight, Europe/London.
  int end_minute = 0;

  friend bool operator==(const WorkingHoursRecord&, const WorkingHoursRecord&) = default;
};

struct LeaveRecord {
  int64_t id = 0;
  int64_t mediator_id = 0;
  int32_t first_day = 0;  // Days since 1970-01-01, Europe/London dates, inclusive.
  int32_t last_day = 0;
  std::string note;
};

struct ConflictRecord {
  int64_t id = 0;
  int64_t mediator_id = 0;
  v1::ConflictKind kind = v1::CONFLICT_KIND_UNSPECIFIED;
  int64_t organisation_id = 0;
  std::string person_name;
  std::string normalised_name;
  std::string person_email;  // Lower-cased.
  std::string email_key;     // The email's skeleton without a +tag (rules::KeysOf).
  std::string surname_key;   // The name's last word (rules::SurnameKey).
  int64_t case_id = 0;
  v1::ConflictSource source = v1::CONFLICT_SOURCE_UNSPECIFIED;
  // A conflict with a person discovered on a case (declining its offer): the case, so the
  // person's name and address go when the case's personal data does.
  int64_t source_case_id = 0;
  std::string note;
  absl::Time recorded_at;
  int64_t recorded_by_token_id = 0;
};

struct ExperienceRecord {
  v1::Profession profession = v1::PROFESSION_UNSPECIFIED;
  int cases = 0;
};

struct MediatorRecord {
  int64_t id = 0;
  ContactRecord contact;
  std::string normalised_name;
  v1::AccreditationBody accreditation_body = v1::ACCREDITATION_BODY_UNSPECIFIED;
  std::string accreditation_level;
  std::string registration_number;
  int32_t accreditation_expires = 0;  // Days since 1970-01-01: the last valid day.
  int32_t insurance_expires = 0;
  int cpd_hours = 0;
  std::vector<v1::Nation> nations;
  std::vector<std::string> languages;
  std::vector<ExperienceRecord> experience;
  int max_concurrent_cases = 0;
  bool active = true;
  // Read by GetMediator only.
  std::vector<WorkingHoursRecord> working_hours;
  std::vector<LeaveRecord> leave;
  std::vector<ConflictRecord> conflicts;
  std::vector<WithheldField> withheld;  // Sealed notes that could not be given back.
  int current_cases = 0;
  std::optional<absl::Time> last_allocated_at;
  absl::Time created_at;
  absl::Time updated_at;
  int64_t revision = 1;  // One more with every profile update (the etag "r<revision>").
};

struct AllocationRecord {
  int64_t id = 0;
  int64_t case_id = 0;
  int64_t mediator_id = 0;
  v1::AllocationRole role = v1::ALLOCATION_ROLE_UNSPECIFIED;
  v1::AllocationState state = v1::ALLOCATION_STATE_UNSPECIFIED;
  bool open = false;  // PENDING or ACCEPTED on an unfinished case: counts towards capacity.
  absl::Time offered_at;
  int64_t offered_by_token_id = 0;
  std::optional<absl::Time> responded_at;
  int64_t responded_by_token_id = 0;
  v1::DeclineReason decline_reason = v1::DECLINE_REASON_UNSPECIFIED;
  std::string response_note;
  std::vector<WithheldField> withheld;  // Sealed texts that could not be given back.
  // The mediation window the offer was made for (London days; unset for offers made before
  // schema version 11).
  std::optional<int32_t> window_first_day;
  std::optional<int32_t> window_last_day;
};

struct RoomRecord {
  int64_t id = 0;
  int64_t venue_id = 0;
  std::string name;
  v1::RoomKind kind = v1::ROOM_KIND_UNSPECIFIED;
  std::vector<v1::AccessNeed> features;  // The needs it meets.
};

struct VenueRecord {
  int64_t id = 0;
  std::string name;
  std::string address;
  std::vector<RoomRecord> rooms;
  absl::Time created_at;
};

// Times of sessions and bookings are whole seconds since the epoch, UTC.
struct BookingRecord {
  int64_t id = 0;
  int64_t session_id = 0;
  std::string resource;  // "mediator", "party" or "room".
  int64_t resource_id = 0;
  int64_t for_party_id = 0;  // Rooms: the party a private room is for (0: the joint room).
  int64_t start_at = 0;
  int64_t end_at = 0;
  // Read by ActiveBookings only: who or what it holds ("mediator:3", "room:5",
  // "person:<folded email>"), and the case of its session.
  std::string holder;
  int64_t case_id = 0;
};

struct SessionChangeRecord {
  absl::Time at;
  int64_t token_id = 0;
  std::string change;          // "booked", "rescheduled", "cancelled".
  int64_t previous_start = 0;  // 0 when there is none.
  int64_t previous_end = 0;
  std::string reason;
  std::vector<WithheldField> withheld;  // Sealed texts that could not be given back.
};

struct SessionRecord {
  int64_t id = 0;
  int64_t case_id = 0;
  v1::SessionKind kind = v1::SESSION_KIND_UNSPECIFIED;
  v1::SessionMode mode = v1::SESSION_MODE_UNSPECIFIED;
  int64_t party_id = 0;  // For individual meetings.
  int64_t start_at = 0;
  int64_t end_at = 0;
  v1::SessionState state = v1::SESSION_STATE_UNSPECIFIED;
  int64_t venue_id = 0;
  std::string video_link;
  int sequence = 0;
  absl::Time created_at;
  absl::Time updated_at;
  std::vector<BookingRecord> bookings;  // Who and what it holds.
  std::vector<SessionChangeRecord> changes;
  // Why it collides with someone's leave, working pattern or availability ('' when it does not),
  // and since when.
  std::string needs_rescheduling;
  std::optional<absl::Time> needs_rescheduling_at;
};

struct NoteRecord {
  int64_t id = 0;
  int64_t case_id = 0;
  int64_t author_mediator_id = 0;
  int64_t session_id = 0;
  v1::NoteVisibility visibility = v1::NOTE_VISIBILITY_UNSPECIFIED;
  int64_t party_id = 0;
  int64_t supersedes_id = 0;
  int64_t superseded_by = 0;  // Read only: the newest note that supersedes this one.
  std::string sealed;         // Nonce, ciphertext and tag; empty once destroyed.
  absl::Time created_at;
  std::optional<absl::Time> destroyed_at;
};

struct SignatureRecord {
  int64_t party_id = 0;
  std::string content_hash;
  absl::Time signed_at;
  int64_t token_id = 0;
  bool on_paper = false;
  bool consent_to_share = false;
};

struct AgreementVersionRecord {
  int64_t id = 0;
  int64_t case_id = 0;
  int version = 0;
  std::string content;       // Deterministically serialised AgreementContent.
  std::string content_hash;  // Hex SHA-256 of `content`.
  absl::Time created_at;
  int64_t created_by_token_id = 0;
  std::optional<absl::Time> finalised_at;
  std::vector<SignatureRecord> signatures;
  std::vector<WithheldField> withheld;  // "content" when it could not be given back.
};

// One audited call. Never holds a request body.
struct AuditRecord {
  int64_t id = 0;
  absl::Time at;
  std::string call_id;
  int64_t token_id = 0;  // 0 when the caller was not authenticated.
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::string method;
  std::string objects;    // Space-separated "kind:id" words, e.g. "case:12 party:31".
  std::string outcome;    // gRPC status code name.
  std::string transport;  // "grpc" or "http"; empty on rows from before schema version 12.
};

// Keyset pagination: rows strictly after `after_id` in the listing's order, at most `limit`.
struct PageCursor {
  int64_t after_id = 0;  // 0: from the start.
  int limit = 50;
};

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_RECORDS_H_
