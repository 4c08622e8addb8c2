#include "clients/cli/catalog.h"

#include <google/protobuf/descriptor.pb.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "api_descriptor_set.h"
#include "ppa/mediation/v1/api_files.h"

namespace mediation::cli {
namespace {

constexpr char kPackage[] = "ppa.mediation.v1";

}  // namespace

Catalog::Catalog() {
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromArray(ppa::mediation::v1::kApiDescriptorSet,
                          static_cast<int>(ppa::mediation::v1::kApiDescriptorSetSize))) {
    std::fprintf(stderr, "mediationctl: the embedded API description is corrupt\n");
    std::abort();
  }
  // protoc writes every file after the files it imports.
  for (const google::protobuf::FileDescriptorProto& file : set.file()) {
    if (pool_.BuildFile(file) == nullptr) {
      std::fprintf(stderr, "mediationctl: cannot load %s from the API description\n",
                   file.name().c_str());
      std::abort();
    }
  }
}

std::unique_ptr<google::protobuf::Message> Catalog::New(const google::protobuf::Descriptor* type) {
  return std::unique_ptr<google::protobuf::Message>(factory_.GetPrototype(type)->New());
}

const google::protobuf::MethodDescriptor* Catalog::FindMethod(std::string name) const {
  if (absl::StartsWith(name, "/")) name.erase(0, 1);
  absl::StrReplaceAll({{"/", "."}}, &name);
  if (!absl::StartsWith(name, kPackage)) name = absl::StrCat(kPackage, ".", name);
  return pool_.FindMethodByName(name);
}

std::vector<const google::protobuf::ServiceDescriptor*> Catalog::Services() const {
  std::vector<const google::protobuf::ServiceDescriptor*> services;
  for (const char* name : ppa::mediation::v1::kApiProtoFiles) {
    const google::protobuf::FileDescriptor* file = pool_.FindFileByName(name);
    if (file == nullptr) continue;
    for (int i = 0; i < file->service_count(); ++i) services.push_back(file->service(i));
  }
  return services;
}

const std::vector<Noun>& Catalog::Nouns() {
  static const std::vector<Noun> nouns = {
      {"whoami", "Who the server thinks you are (your token's role and scope)."},
      {"token", "Access tokens: issue, list and revoke (administrators)."},
      {"audit", "The audit trail: list events and verify the hash chain (administrators)."},
      {"organisation", "Organisations that refer cases."},
      {"referral", "Referrals: create and update a case's referral; get and list cases."},
      {"case",
       "Cases: get, list, hold, resume, withdraw, reopen, their state history, and the parties' "
       "one-time sign-in links."},
      {"screening", "Suitability screening against the six criteria, and the adviser's decision."},
      {"charges", "The fee schedule and itemised indications of charges."},
      {"mediator", "The mediator registry, working patterns, leave and conflicts; CSV import."},
      {"allocation", "Proposing, allocating and responding to mediator allocations."},
      {"venue", "Venues and their rooms, for in-person sessions."},
      {"session", "Finding slots, booking, rescheduling and cancelling sessions."},
      {"calendar", "iCalendar export of a session or a mediator's schedule."},
      {"note", "Confidential session notes (the case's mediators only)."},
      {"agreement", "Outcome agreements: draft versions, read and sign."},
      {"outcome", "The case outcome, follow-up and the follow-up review."},
      {"event", "The case-event stream: state changes, allocations, bookings, outcomes."},
      {"statistics", "Anonymised service statistics."},
      {"database", "Online backups of the server's database (administrators)."},
      {"key", "The master key: rotate it while serving, and the rotation's progress."},
      {"person", "Subject access: everything held about one person, as JSON."},
      {"notification",
       "Emails the service sends: list them by state or case, read one, send one again "
       "(administrators and case support)."},
      {"reminders", "Whether a person gets email reminders before their sessions."},
  };
  return nouns;
}

const std::vector<Command>& Catalog::Commands() {
  static const std::vector<Command> commands = {
      {"whoami", "show", "IdentityService/WhoAmI"},
      {"token", "issue", "AdminService/IssueToken"},
      {"token", "list", "AdminService/ListTokens"},
      {"token", "revoke", "AdminService/RevokeToken"},
      {"audit", "list", "AdminService/ListAuditEvents"},
      {"audit", "verify", "AdminService/VerifyAuditChain"},
      {"organisation", "register", "OrganisationService/RegisterOrganisation"},
      {"organisation", "get", "OrganisationService/GetOrganisation"},
      {"organisation", "list", "OrganisationService/ListOrganisations"},
      {"referral", "create", "ReferralService/CreateReferral"},
      {"referral", "update", "ReferralService/UpdateReferral"},
      {"referral", "get", "ReferralService/GetCase"},
      {"referral", "list", "ReferralService/ListCases"},
      {"case", "get", "ReferralService/GetCase"},
      {"case", "list", "ReferralService/ListCases"},
      {"case", "hold", "CaseService/HoldCase"},
      {"case", "resume", "CaseService/ResumeCase"},
      {"case", "withdraw", "CaseService/WithdrawCase"},
      {"case", "reopen", "CaseService/ReopenCase"},
      {"case", "history", "CaseService/GetCaseHistory"},
      {"case", "issue-party-link", "CaseService/IssuePartySignInLink"},
      {"case", "party-links", "CaseService/ListPartySignInLinks"},
      {"screening", "answer", "ScreeningService/RecordScreeningAnswer"},
      {"screening", "answers", "ScreeningService/ListScreeningAnswers"},
      {"screening", "evaluate", "ScreeningService/EvaluateScreening"},
      {"screening", "decide", "ScreeningService/RecordScreeningDecision"},
      {"screening", "decisions", "ScreeningService/ListScreeningDecisions"},
      {"charges", "schedule", "ChargesService/GetFeeSchedule"},
      {"charges", "set-schedule", "ChargesService/SetFeeSchedule"},
      {"charges", "indicate", "ChargesService/IndicateCharges"},
      {"charges", "list", "ChargesService/ListChargeIndications"},
      {"mediator", "register", "MediatorService/RegisterMediator"},
      {"mediator", "update", "MediatorService/UpdateMediator"},
      {"mediator", "get", "MediatorService/GetMediator"},
      {"mediator", "list", "MediatorService/ListMediators"},
      {"mediator", "set-working-pattern", "MediatorService/SetWorkingPattern"},
      {"mediator", "add-leave", "MediatorService/AddLeave"},
      {"mediator", "remove-leave", "MediatorService/RemoveLeave"},
      {"mediator", "declare-conflict", "MediatorService/DeclareConflict"},
      {"mediator", "remove-conflict", "MediatorService/RemoveConflict"},
      {"allocation", "propose", "AllocationService/ProposeAllocation"},
      {"allocation", "allocate", "AllocationService/AllocateMediator"},
      {"allocation", "respond", "AllocationService/RespondToAllocation"},
      {"allocation", "list", "AllocationService/ListAllocations"},
      {"allocation", "set-required", "AllocationService/SetMediatorsRequired"},
      {"venue", "create", "SchedulingService/CreateVenue"},
      {"venue", "list", "SchedulingService/ListVenues"},
      {"session", "set-party-availability", "SchedulingService/SetPartyAvailability"},
      {"session", "find-slots", "SchedulingService/FindSlots"},
      {"session", "book", "SchedulingService/BookSession"},
      {"session", "reschedule", "SchedulingService/RescheduleSession"},
      {"session", "cancel", "SchedulingService/CancelSession"},
      {"session", "get", "SchedulingService/GetSession"},
      {"session", "list", "SchedulingService/ListSessions"},
      {"calendar", "session", "SchedulingService/ExportSessionCalendar"},
      {"calendar", "mediator", "SchedulingService/ExportMediatorCalendar"},
      {"note", "add", "NotesService/AddNote"},
      {"note", "list", "NotesService/ListNotes"},
      {"note", "get", "NotesService/GetNote"},
      {"agreement", "draft", "AgreementService/DraftAgreement"},
      {"agreement", "get", "AgreementService/GetAgreement"},
      {"agreement", "sign", "AgreementService/SignAgreement"},
      {"outcome", "record", "AgreementService/RecordOutcome"},
      {"outcome", "get", "AgreementService/GetOutcome"},
      {"outcome", "schedule-follow-up", "AgreementService/ScheduleFollowUp"},
      {"outcome", "review", "AgreementService/RecordFollowUpReview"},
      {"event", "stream", "CaseEventService/StreamCaseEvents"},
      {"statistics", "show", "StatisticsService/GetStatistics"},
      {"database", "backup", "AdminService/BackupDatabase"},
      {"key", "rotate", "AdminService/RotateMasterKey"},
      {"key", "status", "AdminService/GetKeyRotation"},
      {"person", "export", "AdminService/ExportPersonData"},
      {"notification", "list", "NotificationService/ListNotifications"},
      {"notification", "get", "NotificationService/GetNotification"},
      {"notification", "resend", "NotificationService/ResendNotification"},
      {"reminders", "set", "NotificationService/SetReminderPreference"},
      {"reminders", "get", "NotificationService/GetReminderPreference"},
  };
  return commands;
}

std::vector<Command> Catalog::CommandsOf(const std::string& noun) {
  std::vector<Command> out;
  for (const Command& c : Commands()) {
    if (noun == c.noun) out.push_back(c);
  }
  return out;
}

std::string Catalog::Trim(const std::string& comment) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(comment, '\n')) {
    if (absl::StartsWith(line, " ")) line.remove_prefix(1);
    lines.emplace_back(absl::StripTrailingAsciiWhitespace(line));
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return absl::StrJoin(lines, "\n");
}

std::string Catalog::Summary(const std::string& comment) {
  const std::string flat = absl::StrReplaceAll(comment, {{"\n", " "}});
  const size_t end = flat.find(". ");
  if (end != std::string::npos) return flat.substr(0, end + 1);
  return flat;
}

}  // namespace mediation::cli
