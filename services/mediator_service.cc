#include "services/mediator_service.h"

#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/util/field_mask_util.h>

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/case_access.h"
#include "services/contact_validation.h"
#include "services/convert.h"
#include "services/core/paging.h"
#include "services/core/validation.h"
#include "services/identity_keys.h"
#include "services/mediator_validation.h"
#include "services/rules/allocation.h"
#include "services/scheduling/calendars.h"
#include "storage/cases.h"
#include "storage/mediators.h"
#include "storage/organisations.h"

namespace mediation {
namespace {

constexpr int kMaxLeaveDays = 366;

// A MEDIATOR token may act only on its own record.
absl::Status CheckSelf(const Principal& who, int64_t mediator_id) {
  if (who.role == v1::ROLE_MEDIATOR && who.mediator_id != mediator_id) {
    return absl::PermissionDeniedError(absl::StrCat("this token is mediator ", who.mediator_id,
                                                    " and may act only on its own record"));
  }
  return absl::OkStatus();
}

absl::Status RegisterMediator(CallContext& call, const v1::RegisterMediatorRequest& r,
                              v1::RegisterMediatorResponse& response) {
  absl::StatusOr<storage::MediatorRecord> m = ValidateMediatorProfile(r.mediator());
  if (!m.ok()) return m.status();
  m->active = true;  // Registered mediators start active; UpdateMediator deactivates.
  m->created_at = m->updated_at = call.now();
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::MediatorRecord> stored = storage::InsertMediator(tx, *m);
    if (!stored.ok()) return stored.status();
    call.AddObject("mediator", stored->id);
    absl::StatusOr<storage::MediatorRecord> full = storage::GetMediator(tx, stored->id);
    if (!full.ok()) return full.status();
    ToProto(*full, response.mutable_mediator());
    return absl::OkStatus();
  });
}

// The profile fields an update mask may name (AIP-134).
constexpr absl::string_view kProfileFields[] = {
    "contact", "accreditation", "insurance_expires_on", "cpd_hours_last_12_months",
    "nations", "languages",     "experience",           "max_concurrent_cases",
    "active"};
constexpr absl::string_view kProfileSubfields[] = {"contact.name",
                                                   "contact.email",
                                                   "contact.phone",
                                                   "contact.job_title",
                                                   "accreditation.body",
                                                   "accreditation.level",
                                                   "accreditation.registration_number",
                                                   "accreditation.expires_on"};

// The mask to apply: the one given ("*" for every profile field), or every field set in `m`.
absl::StatusOr<google::protobuf::FieldMask> MaskFor(const v1::UpdateMediatorRequest& r) {
  google::protobuf::FieldMask mask;
  auto known = [](absl::string_view path) {
    return std::find(std::begin(kProfileFields), std::end(kProfileFields), path) !=
               std::end(kProfileFields) ||
           std::find(std::begin(kProfileSubfields), std::end(kProfileSubfields), path) !=
               std::end(kProfileSubfields);
  };
  if (r.has_update_mask()) {
    for (const std::string& path : r.update_mask().paths()) {
      if (path == "*") {
        for (absl::string_view f : kProfileFields) mask.add_paths(std::string(f));
      } else if (known(path)) {
        mask.add_paths(path);
      } else {
        return FieldError("update_mask", absl::StrCat("'", path,
                                                      "' is not a profile field; see the field's "
                                                      "documentation for those that are"));
      }
    }
    if (mask.paths_size() > 0) return mask;
  }
  // No mask: the fields set in the request (AIP-134).
  const google::protobuf::Message& m = r.mediator();
  const google::protobuf::Reflection* reflection = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> set;
  reflection->ListFields(m, &set);
  for (const google::protobuf::FieldDescriptor* f : set) {
    if (f->name() == "contact" || f->name() == "accreditation") {
      std::vector<const google::protobuf::FieldDescriptor*> inner;
      const google::protobuf::Message& sub = reflection->GetMessage(m, f);
      sub.GetReflection()->ListFields(sub, &inner);
      for (const auto* g : inner) mask.add_paths(absl::StrCat(f->name(), ".", g->name()));
    } else if (known(f->name())) {
      mask.add_paths(f->name());
    }
  }
  if (mask.paths_size() == 0) {
    return FieldError("update_mask", "nothing to change: name the fields, or set them in mediator");
  }
  return mask;
}

absl::Status UpdateMediator(CallContext& call, const v1::UpdateMediatorRequest& r,
                            v1::UpdateMediatorResponse& response) {
  Validator ids;
  ids.PositiveId("mediator.id", r.mediator().id());
  if (r.mediator().etag().empty()) {
    ids.Fail("mediator.etag", "required: the etag of the mediator as you read it (GetMediator)");
  }
  if (!ids.ok()) return ids.status();
  absl::StatusOr<google::protobuf::FieldMask> mask = MaskFor(r);
  if (!mask.ok()) return mask.status();
  call.AddObject("mediator", r.mediator().id());
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::MediatorRecord> current = storage::GetMediator(tx, r.mediator().id());
    if (!current.ok()) return current.status();
    v1::Mediator merged;
    ToProto(*current, &merged);
    if (merged.etag() != r.mediator().etag()) {
      return absl::AbortedError(absl::StrCat(
          "mediator ", current->id, " was changed since you read it (it is now at ", merged.etag(),
          ", you sent ", r.mediator().etag(), "); read it again and reapply your change"));
    }
    google::protobuf::util::FieldMaskUtil::MergeOptions options;
    options.set_replace_message_fields(true);
    options.set_replace_repeated_fields(true);
    google::protobuf::util::FieldMaskUtil::MergeMessageTo(r.mediator(), *mask, options, &merged);
    absl::StatusOr<storage::MediatorRecord> m = ValidateMediatorProfile(merged);
    if (!m.ok()) return m.status();
    m->id = current->id;
    m->revision = current->revision;
    m->updated_at = call.now();
    if (absl::Status s = storage::UpdateMediatorProfile(tx, *m); !s.ok()) return s;
    absl::StatusOr<storage::MediatorRecord> full = storage::GetMediator(tx, m->id);
    if (!full.ok()) return full.status();
    ToProto(*full, response.mutable_mediator());
    return absl::OkStatus();
  });
}

absl::Status GetMediator(CallContext& call, const v1::GetMediatorRequest& r,
                         v1::GetMediatorResponse& response) {
  Validator v;
  v.PositiveId("mediator_id", r.mediator_id());
  if (!v.ok()) return v.status();
  call.AddObject("mediator", r.mediator_id());
  if (absl::Status s = CheckSelf(call.principal(), r.mediator_id()); !s.ok()) return s;
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::MediatorRecord> m = storage::GetMediator(tx, r.mediator_id());
    if (!m.ok()) return m.status();
    ToProto(*m, response.mutable_mediator());
    return absl::OkStatus();
  });
}

absl::Status ListMediators(CallContext& call, const v1::ListMediatorsRequest& r,
                           v1::ListMediatorsResponse& response) {
  Validator v;
  v.Enum("nation", r.nation(), v1::Nation_IsValid, false);
  if (!v.ok()) return v.status();
  absl::StatusOr<storage::PageCursor> cursor =
      PageCursorFor("ListMediators", r.page_size(), r.page_token());
  if (!cursor.ok()) return cursor.status();
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<storage::MediatorRecord>> list =
        storage::ListMediators(tx, r.active_only(), r.nation(), *cursor);
    if (!list.ok()) return list.status();
    response.set_next_page_token(
        FinishPage("ListMediators", *cursor, *list, [](const auto& m) { return m.id; }));
    for (const auto& m : *list) ToProto(m, response.add_mediators());
    return absl::OkStatus();
  });
}

// The revision an etag ("r3") names; 0 for an empty etag. INVALID_ARGUMENT naming `field` for
// anything else.
int64_t RevisionOf(Validator& v, absl::string_view field, absl::string_view etag) {
  if (etag.empty()) return 0;
  int64_t revision = 0;
  if (!absl::ConsumePrefix(&etag, "r") || !absl::SimpleAtoi(etag, &revision) || revision <= 0) {
    v.Fail(field, "not an etag this server gave (like \"r3\"); read the mediator again");
    return 0;
  }
  return revision;
}

absl::Status SetWorkingPattern(CallContext& call, const v1::SetWorkingPatternRequest& r,
                               v1::SetWorkingPatternResponse& response) {
  Validator v;
  v.PositiveId("mediator_id", r.mediator_id());
  const std::vector<storage::WorkingHoursRecord> hours = ValidateWorkingHours(v, r.hours());
  const int64_t expected = RevisionOf(v, "etag", r.etag());
  if (!v.ok()) return v.status();
  call.AddObject("mediator", r.mediator_id());
  if (absl::Status s = CheckSelf(call.principal(), r.mediator_id()); !s.ok()) return s;
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<int64_t> revision =
        storage::ReplaceWorkingHours(tx, r.mediator_id(), hours, expected);
    if (!revision.ok()) return revision.status();
    response.set_etag(absl::StrCat("r", *revision));
    // Sessions booked before the change stay booked; those outside the new pattern are marked.
    if (absl::Status s = scheduling::MarkCollisions(
            tx, "mediator", r.mediator_id(), absl::ToUnixSeconds(call.now()), call.now(),
            absl::StrCat("mediator ", r.mediator_id(), " is outside their working pattern then"),
            call.principal().role != v1::ROLE_ADMIN, response.mutable_collisions());
        !s.ok()) {
      return s;
    }
    for (const auto& h : hours) {
      v1::WorkingHours* out = response.add_hours();
      out->set_weekday(h.weekday);
      out->mutable_start()->set_hours(h.start_minute / 60);
      out->mutable_start()->set_minutes(h.start_minute % 60);
      out->mutable_end()->set_hours(h.end_minute / 60);
      out->mutable_end()->set_minutes(h.end_minute % 60);
    }
    return absl::OkStatus();
  });
}

absl::Status AddLeave(CallContext& call, const v1::AddLeaveRequest& r,
                      v1::AddLeaveResponse& response) {
  Validator v;
  v.PositiveId("mediator_id", r.mediator_id());
  storage::LeaveRecord leave;
  leave.mediator_id = r.mediator_id();
  leave.first_day =
      RequiredDay(v, "leave.first_day", r.leave().has_first_day(), r.leave().first_day());
  leave.last_day = RequiredDay(v, "leave.last_day", r.leave().has_last_day(), r.leave().last_day());
  if (v.ok() && leave.last_day < leave.first_day) {
    v.Fail("leave.last_day", "must not be before first_day");
  } else if (v.ok() && leave.last_day - leave.first_day >= kMaxLeaveDays) {
    v.Fail("leave", absl::StrCat("at most ", kMaxLeaveDays, " days at a time"));
  }
  leave.note = v.OptionalLine("leave.note", r.leave().note(), 200);
  if (!v.ok()) return v.status();
  call.AddObject("mediator", r.mediator_id());
  if (absl::Status s = CheckSelf(call.principal(), r.mediator_id()); !s.ok()) return s;
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    if (absl::Status s = storage::GetMediator(tx, r.mediator_id()).status(); !s.ok()) return s;
    absl::StatusOr<storage::LeaveRecord> stored = storage::InsertLeave(tx, leave, call.now());
    if (!stored.ok()) return stored.status();
    call.AddObject("leave", stored->id);
    v1::Leave* out = response.mutable_leave();
    out->set_id(stored->id);
    DayToProto(stored->first_day, out->mutable_first_day());
    DayToProto(stored->last_day, out->mutable_last_day());
    out->set_note(stored->note);
    // A mediator who falls ill records leave over booked sessions: they are marked, not refused.
    return scheduling::MarkCollisions(
        tx, "mediator", r.mediator_id(), absl::ToUnixSeconds(call.now()), call.now(),
        absl::StrCat("mediator ", r.mediator_id(), " is on leave then"),
        call.principal().role != v1::ROLE_ADMIN, response.mutable_collisions());
  });
}

absl::Status RemoveLeave(CallContext& call, const v1::RemoveLeaveRequest& r,
                         v1::RemoveLeaveResponse&) {
  Validator v;
  v.PositiveId("mediator_id", r.mediator_id());
  v.PositiveId("leave_id", r.leave_id());
  if (!v.ok()) return v.status();
  call.AddObject("mediator", r.mediator_id());
  call.AddObject("leave", r.leave_id());
  if (absl::Status s = CheckSelf(call.principal(), r.mediator_id()); !s.ok()) return s;
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    return storage::DeleteLeave(tx, r.mediator_id(), r.leave_id());
  });
}

absl::Status DeclareConflict(CallContext& call, const v1::DeclareConflictRequest& r,
                             v1::DeclareConflictResponse& response) {
  Validator v;
  v.PositiveId("mediator_id", r.mediator_id());
  const v1::Conflict& in = r.conflict();
  v.Enum("conflict.kind", in.kind(), v1::ConflictKind_IsValid, true);
  storage::ConflictRecord c;
  c.mediator_id = r.mediator_id();
  c.kind = in.kind();
  c.source = v1::CONFLICT_SOURCE_DECLARED;
  c.note = v.OptionalText("conflict.note", in.note(), 500);
  auto only = [&](absl::string_view field, bool given, bool wanted, absl::string_view kind) {
    if (wanted && !given) v.Fail(field, absl::StrCat("required for a ", kind, " conflict"));
    if (!wanted && given) v.Fail(field, absl::StrCat("only for ", kind, " conflicts"));
  };
  only("conflict.organisation_id", in.organisation_id() != 0,
       in.kind() == v1::CONFLICT_KIND_ORGANISATION, "ORGANISATION");
  only("conflict.case_id", in.case_id() != 0, in.kind() == v1::CONFLICT_KIND_CASE, "CASE");
  if (in.kind() == v1::CONFLICT_KIND_PERSON) {
    c.person_name = v.OptionalLine("conflict.person_name", in.person_name(), kMaxNameChars);
    c.person_email = v.Email("conflict.person_email", in.person_email(), false);
    if (c.person_name.empty() && c.person_email.empty()) {
      v.Fail("conflict", "a PERSON conflict needs the person's name or email");
    }
    SetIdentityKeys(c);
  } else if (!in.person_name().empty() || !in.person_email().empty()) {
    v.Fail("conflict.person_name", "only for PERSON conflicts");
  }
  if (!v.ok()) return v.status();
  c.organisation_id = in.organisation_id();
  c.case_id = in.case_id();
  c.recorded_at = call.now();
  c.recorded_by_token_id = call.principal().token_id;
  call.AddObject("mediator", r.mediator_id());
  if (absl::Status s = CheckSelf(call.principal(), r.mediator_id()); !s.ok()) return s;
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    if (absl::Status s = storage::GetMediator(tx, r.mediator_id()).status(); !s.ok()) return s;
    if (c.organisation_id != 0 &&
        absl::IsNotFound(storage::GetOrganisation(tx, c.organisation_id).status())) {
      return FieldError("conflict.organisation_id",
                        absl::StrCat("no organisation ", c.organisation_id));
    }
    if (c.case_id != 0) {
      // A mediator may name only a case it can see; a hidden case reads as absent.
      absl::Status found = call.principal().role == v1::ROLE_MEDIATOR
                               ? LoadCaseFor(tx, call.principal(), c.case_id).status()
                               : storage::GetCase(tx, c.case_id).status();
      if (absl::IsNotFound(found)) {
        return FieldError("conflict.case_id", absl::StrCat("no case ", c.case_id));
      }
      if (!found.ok()) return found;
    }
    absl::StatusOr<storage::ConflictRecord> stored = storage::InsertConflict(tx, c);
    if (!stored.ok()) return stored.status();
    call.AddObject("conflict", stored->id);
    absl::StatusOr<storage::MediatorRecord> m = storage::GetMediator(tx, r.mediator_id());
    if (!m.ok()) return m.status();
    v1::Mediator view;
    ToProto(*m, &view);
    for (const v1::Conflict& conflict : view.conflicts()) {
      if (conflict.id() == stored->id) *response.mutable_conflict() = conflict;
    }
    return absl::OkStatus();
  });
}

absl::Status RemoveConflict(CallContext& call, const v1::RemoveConflictRequest& r,
                            v1::RemoveConflictResponse&) {
  Validator v;
  v.PositiveId("mediator_id", r.mediator_id());
  v.PositiveId("conflict_id", r.conflict_id());
  if (!v.ok()) return v.status();
  call.AddObject("mediator", r.mediator_id());
  call.AddObject("conflict", r.conflict_id());
  if (absl::Status s = CheckSelf(call.principal(), r.mediator_id()); !s.ok()) return s;
  // A conflict discovered on declining an allocation protects the parties; only an
  // administrator may remove it.
  const bool allow_discovered = call.principal().role == v1::ROLE_ADMIN;
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    return storage::DeleteConflict(tx, r.mediator_id(), r.conflict_id(), allow_discovered);
  });
}

}  // namespace

void ToProto(const storage::MediatorRecord& m, v1::Mediator* out) {
  out->set_id(m.id);
  ToProto(m.contact, out->mutable_contact());
  v1::Accreditation* a = out->mutable_accreditation();
  a->set_body(m.accreditation_body);
  a->set_level(m.accreditation_level);
  a->set_registration_number(m.registration_number);
  DayToProto(m.accreditation_expires, a->mutable_expires_on());
  DayToProto(m.insurance_expires, out->mutable_insurance_expires_on());
  out->set_cpd_hours_last_12_months(m.cpd_hours);
  for (v1::Nation n : m.nations) out->add_nations(n);
  for (const std::string& l : m.languages) out->add_languages(l);
  for (const storage::ExperienceRecord& e : m.experience) {
    v1::ProfessionExperience* x = out->add_experience();
    x->set_profession(e.profession);
    x->set_cases(e.cases);
  }
  out->set_max_concurrent_cases(m.max_concurrent_cases);
  out->set_active(m.active);
  out->set_etag(absl::StrCat("r", m.revision));
  for (const storage::WorkingHoursRecord& h : m.working_hours) {
    v1::WorkingHours* w = out->add_working_pattern();
    w->set_weekday(h.weekday);
    w->mutable_start()->set_hours(h.start_minute / 60);
    w->mutable_start()->set_minutes(h.start_minute % 60);
    w->mutable_end()->set_hours(h.end_minute / 60);
    w->mutable_end()->set_minutes(h.end_minute % 60);
  }
  for (const storage::LeaveRecord& l : m.leave) {
    v1::Leave* x = out->add_leave();
    x->set_id(l.id);
    DayToProto(l.first_day, x->mutable_first_day());
    DayToProto(l.last_day, x->mutable_last_day());
    x->set_note(l.note);
  }
  for (const storage::ConflictRecord& c : m.conflicts) {
    v1::Conflict* x = out->add_conflicts();
    x->set_id(c.id);
    x->set_kind(c.kind);
    x->set_organisation_id(c.organisation_id);
    x->set_person_name(c.person_name);
    x->set_person_email(c.person_email);
    x->set_case_id(c.case_id);
    x->set_source(c.source);
    x->set_note(c.note);
    ToProto(c.recorded_at, x->mutable_recorded_at());
  }
  ToProto(m.withheld, out->mutable_withheld());
  out->set_current_cases(m.current_cases);
  if (m.last_allocated_at) ToProto(*m.last_allocated_at, out->mutable_last_allocated_at());
  ToProto(m.created_at, out->mutable_created_at());
  ToProto(m.updated_at, out->mutable_updated_at());
}

MEDIATION_UNARY_RPC(MediatorService, RegisterMediator)
MEDIATION_UNARY_RPC(MediatorService, UpdateMediator)
MEDIATION_UNARY_RPC(MediatorService, GetMediator)
MEDIATION_UNARY_RPC(MediatorService, ListMediators)
MEDIATION_UNARY_RPC(MediatorService, SetWorkingPattern)
MEDIATION_UNARY_RPC(MediatorService, AddLeave)
MEDIATION_UNARY_RPC(MediatorService, RemoveLeave)
MEDIATION_UNARY_RPC(MediatorService, DeclareConflict)
MEDIATION_UNARY_RPC(MediatorService, RemoveConflict)

MEDIATION_SERVICE(MediatorService)

}  // namespace mediation
