#include "services/core/policy.h"

#include <algorithm>

namespace mediation {
namespace {

using enum v1::Role;

constexpr MethodPolicy kPolicies[] = {
    // Administration.
    {"/ppa.mediation.v1.AdminService/IssueToken", Access::kWrite, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.AdminService/ListTokens", Access::kRead, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.AdminService/RevokeToken", Access::kWrite, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.AdminService/ListAuditEvents", Access::kRead, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.AdminService/VerifyAuditChain", Access::kRead, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.AdminService/BackupDatabase", Access::kWrite, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.AdminService/RotateMasterKey", Access::kWrite, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.AdminService/GetKeyRotation", Access::kRead, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.AdminService/ExportPersonData", Access::kAuditedRead, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.IdentityService/WhoAmI", Access::kRead, RoleSet::All()},

    // Organisations.
    {"/ppa.mediation.v1.OrganisationService/RegisterOrganisation",
     Access::kWrite,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT}},
    {"/ppa.mediation.v1.OrganisationService/GetOrganisation",
     Access::kRead,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_ORGANISATION}},
    {"/ppa.mediation.v1.OrganisationService/ListOrganisations",
     Access::kRead,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},

    // Referrals and cases.
    {"/ppa.mediation.v1.ReferralService/CreateReferral",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_ORGANISATION}},
    {"/ppa.mediation.v1.ReferralService/UpdateReferral",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_ORGANISATION}},
    {"/ppa.mediation.v1.ReferralService/GetCase",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_ORGANISATION, ROLE_MEDIATOR, ROLE_PARTY}},
    {"/ppa.mediation.v1.ReferralService/ListCases",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_ORGANISATION, ROLE_MEDIATOR}},

    // Screening: answers and notes stay with the service; only Senior Advisers decide.
    {"/ppa.mediation.v1.ScreeningService/RecordScreeningAnswer",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},
    {"/ppa.mediation.v1.ScreeningService/ListScreeningAnswers",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},
    {"/ppa.mediation.v1.ScreeningService/EvaluateScreening",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},
    {"/ppa.mediation.v1.ScreeningService/RecordScreeningDecision",
     Access::kWrite,
     {ROLE_SENIOR_ADVISER}},
    {"/ppa.mediation.v1.ScreeningService/ListScreeningDecisions",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},

    // The lifecycle outside screening.
    {"/ppa.mediation.v1.CaseService/HoldCase",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},
    {"/ppa.mediation.v1.CaseService/ResumeCase",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},
    {"/ppa.mediation.v1.CaseService/WithdrawCase",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_ORGANISATION, ROLE_PARTY}},
    {"/ppa.mediation.v1.CaseService/ReopenCase",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},
    {"/ppa.mediation.v1.CaseService/GetCaseHistory",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_ORGANISATION, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.CaseService/IssuePartySignInLink", Access::kWrite, {ROLE_CASE_SUPPORT}},
    {"/ppa.mediation.v1.CaseService/ListPartySignInLinks",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},

    // Charges.
    {"/ppa.mediation.v1.ChargesService/GetFeeSchedule",
     Access::kRead,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},
    {"/ppa.mediation.v1.ChargesService/SetFeeSchedule", Access::kWrite, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.ChargesService/IndicateCharges", Access::kWrite, {ROLE_SENIOR_ADVISER}},
    {"/ppa.mediation.v1.ChargesService/ListChargeIndications",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_ORGANISATION}},

    // The mediator registry: administrators keep it; a mediator keeps its own availability,
    // leave and conflicts (handlers refuse other mediators' records).
    {"/ppa.mediation.v1.MediatorService/RegisterMediator", Access::kWrite, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.MediatorService/UpdateMediator", Access::kWrite, {ROLE_ADMIN}},
    {"/ppa.mediation.v1.MediatorService/GetMediator",
     Access::kRead,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.MediatorService/ListMediators",
     Access::kRead,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},
    {"/ppa.mediation.v1.MediatorService/SetWorkingPattern",
     Access::kWrite,
     {ROLE_ADMIN, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.MediatorService/AddLeave", Access::kWrite, {ROLE_ADMIN, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.MediatorService/RemoveLeave", Access::kWrite, {ROLE_ADMIN, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.MediatorService/DeclareConflict",
     Access::kWrite,
     {ROLE_ADMIN, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.MediatorService/RemoveConflict",
     Access::kWrite,
     {ROLE_ADMIN, ROLE_MEDIATOR}},

    // Allocation.
    {"/ppa.mediation.v1.AllocationService/ProposeAllocation",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},
    {"/ppa.mediation.v1.AllocationService/AllocateMediator", Access::kWrite, {ROLE_CASE_SUPPORT}},
    {"/ppa.mediation.v1.AllocationService/RespondToAllocation", Access::kWrite, {ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.AllocationService/ListAllocations",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.AllocationService/SetMediatorsRequired",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},

    // Scheduling.
    {"/ppa.mediation.v1.SchedulingService/CreateVenue", Access::kWrite, {ROLE_CASE_SUPPORT}},
    {"/ppa.mediation.v1.SchedulingService/ListVenues",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.SchedulingService/SetPartyAvailability",
     Access::kWrite,
     {ROLE_CASE_SUPPORT}},
    {"/ppa.mediation.v1.SchedulingService/FindSlots",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.SchedulingService/BookSession",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.SchedulingService/RescheduleSession",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.SchedulingService/CancelSession",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.SchedulingService/GetSession",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_MEDIATOR, ROLE_ORGANISATION, ROLE_PARTY}},
    {"/ppa.mediation.v1.SchedulingService/ListSessions",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_MEDIATOR, ROLE_ORGANISATION, ROLE_PARTY}},
    {"/ppa.mediation.v1.SchedulingService/ExportSessionCalendar",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_MEDIATOR, ROLE_PARTY}},
    {"/ppa.mediation.v1.SchedulingService/ExportMediatorCalendar",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_MEDIATOR}},

    // Confidential notes: the case's accepted mediators only; every read is audited.
    {"/ppa.mediation.v1.NotesService/AddNote", Access::kWrite, {ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.NotesService/ListNotes", Access::kAuditedRead, {ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.NotesService/GetNote", Access::kAuditedRead, {ROLE_MEDIATOR}},

    // Agreements, outcome and follow-up.
    {"/ppa.mediation.v1.AgreementService/DraftAgreement", Access::kWrite, {ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.AgreementService/GetAgreement",
     Access::kAuditedRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_MEDIATOR, ROLE_ORGANISATION, ROLE_PARTY}},
    {"/ppa.mediation.v1.AgreementService/SignAgreement",
     Access::kWrite,
     {ROLE_MEDIATOR, ROLE_PARTY}},
    {"/ppa.mediation.v1.AgreementService/RecordOutcome", Access::kWrite, {ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.AgreementService/ScheduleFollowUp",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.AgreementService/RecordFollowUpReview",
     Access::kWrite,
     {ROLE_CASE_SUPPORT, ROLE_MEDIATOR}},
    {"/ppa.mediation.v1.AgreementService/GetOutcome",
     Access::kAuditedRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_MEDIATOR, ROLE_ORGANISATION, ROLE_PARTY}},

    // Case events (each event filtered by what the caller may see) and statistics.
    {"/ppa.mediation.v1.CaseEventService/StreamCaseEvents",
     Access::kRead,
     {ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER, ROLE_MEDIATOR, ROLE_ORGANISATION, ROLE_PARTY}},
    {"/ppa.mediation.v1.StatisticsService/GetStatistics",
     Access::kRead,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT, ROLE_SENIOR_ADVISER}},

    // Email.
    {"/ppa.mediation.v1.NotificationService/ListNotifications",
     Access::kRead,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT}},
    // Audited: it gives an email's text (names, times, places).
    {"/ppa.mediation.v1.NotificationService/GetNotification",
     Access::kAuditedRead,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT}},
    {"/ppa.mediation.v1.NotificationService/ResendNotification",
     Access::kWrite,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT}},
    {"/ppa.mediation.v1.NotificationService/SetReminderPreference",
     Access::kWrite,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT, ROLE_MEDIATOR, ROLE_PARTY}},
    {"/ppa.mediation.v1.NotificationService/GetReminderPreference",
     Access::kRead,
     {ROLE_ADMIN, ROLE_CASE_SUPPORT, ROLE_MEDIATOR, ROLE_PARTY}},
};

}  // namespace

std::span<const MethodPolicy> MethodPolicies() { return kPolicies; }

const MethodPolicy* FindMethodPolicy(absl::string_view method) {
  const auto* it = std::find_if(std::begin(kPolicies), std::end(kPolicies),
                                [&](const MethodPolicy& p) { return p.method == method; });
  return it == std::end(kPolicies) ? nullptr : it;
}

}  // namespace mediation
