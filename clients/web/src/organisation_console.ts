// The console of a referring organisation (an ORGANISATION token, bound to one organisation):
//   /app                 its cases, newest first, paged with the API's page tokens
//   /app/referrals/new   referring a case for itself (the staff referral form, its organisation
//                        shown, not chosen)
//   /app/cases/<id>      following one case: where it is, the screening decision, the charges
//                        indicated, the joint meetings' dates, the outcome, the agreement if it
//                        is shared, the history, and withdrawing it
// Each page calls only the RPCs policy.cc grants an ORGANISATION token and shows what they
// return: the server leaves out what the organisation may not see (screening notes, hold and
// withdrawal reasons, who withdrew, who acted, individual meetings, session times, agreement text
// not shared). Another organisation's case is NOT_FOUND, as a case that does not exist.
import { Code, ConnectError } from "@connectrpc/connect";

import type { AccessToken } from "@gen/ppa/mediation/v1/admin_pb";
import { AgreementService, type AgreementVersion, type GetOutcomeResponse, Outcome } from "@gen/ppa/mediation/v1/agreement_pb";
import { type CaseHistoryEntry, CaseService } from "@gen/ppa/mediation/v1/case_pb";
import { type ChargeIndication, ChargesService } from "@gen/ppa/mediation/v1/charges_pb";
import { CaseState, ConcernLevel, ConcernType, Role, Suitability } from "@gen/ppa/mediation/v1/common_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";
import { type Case, ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { type Session, SchedulingService, SessionKind, SessionState } from "@gen/ppa/mediation/v1/scheduling_pb";

import { client } from "./api";
import { navigate, type PageContext, rerender, type Route, when, words } from "./app";
import { criterionText, kWithdrawable, loadCase, stateTag } from "./cases";
import { dateText } from "./dates";
import { backLink, details, h, inset, link, summaryList, table } from "./dom";
import { actionForm, textarea, valueOf } from "./forms";
import { count } from "./mediation_words";
import { actionLink, noticeFor, paragraphs, responsiveTable, section, takeNotice } from "./page_parts";
import { kPageLinkIds, pageToken, pagination, paging } from "./paging";
import { type OwnOrganisation, referralForm } from "./referral_form";
import { indicationTable } from "./screening";

const kOrganisation = [Role.ORGANISATION];
const kPageSize = 20;

// The organisation the signed-in token acts for (its binding, as WhoAmI gives it).
async function ownOrganisation(me: AccessToken): Promise<OwnOrganisation> {
  const { organisation } = await client(OrganisationService).getOrganisation({ organisationId: me.organisationId });
  return { id: me.organisationId, name: organisation?.name ?? `Organisation ${me.organisationId}` };
}

// ---- Your cases ----------------------------------------------------------------------------

async function casesPage(context: PageContext): Promise<HTMLElement> {
  // The server lists only the token's organisation's cases.
  const [organisation, listed] = await Promise.all([
    ownOrganisation(context.me),
    client(ReferralService).listCases({ pageSize: kPageSize, pageToken: pageToken(context.query) }),
  ]);
  const pages = paging("/app", context.query, listed.nextPageToken);
  const caption = `Cases referred by ${organisation.name}${pages.number > 1 ? `, page ${pages.number}` : ""}`;
  const list =
    listed.cases.length === 0
      ? h("p", { class: "nhsuk-body", id: "no-cases" }, "Your organisation has not referred any cases yet.")
      : responsiveTable(
          caption,
          ["Case", "State", "Referred"],
          listed.cases.map((c) => [link(`/app/cases/${c.id}`, c.reference), stateTag(c.state), when(c.createdAt)]),
          { id: "cases" },
        );
  return context.frame(
    "Your cases",
    h("h1", {}, "Your cases"),
    listed.totalSize > 0
      ? h("p", { class: "nhsuk-body", id: "case-count" }, `${count(Number(listed.totalSize), "case", "cases")} in all, newest first.`)
      : null,
    actionLink("/app/referrals/new", "Refer a case", "refer-case"),
    list,
    pagination(pages, { ids: kPageLinkIds }),
  );
}

// ---- Refer a case --------------------------------------------------------------------------

async function referralPage(context: PageContext): Promise<HTMLElement> {
  const own = await ownOrganisation(context.me);
  const done = (caseId: bigint) => {
    noticeFor(`/app/cases/${caseId}`, "Your referral is recorded.");
    navigate(`/app/cases/${caseId}`);
  };
  return referralForm(context.frame, done, undefined, own);
}

// ---- One case ------------------------------------------------------------------------------

function paragraph(text: string, id?: string): HTMLElement {
  return h("p", { class: "nhsuk-body", id }, text);
}

// What a state means for the organisation, where it needs saying.
function stateNote(c: Case): string | null {
  switch (c.state) {
    case CaseState.ON_HOLD:
      return `The case is on hold. It will resume at ${words(CaseState[c.heldFromState]).toLowerCase()}.`;
    case CaseState.WITHDRAWN:
      return "Mediation is not possible for this case.";
    case CaseState.NOT_SUITABLE:
      return "The case is not suitable for mediation. The screening decision says where to turn instead.";
    default:
      return null;
  }
}

function whereItIs(c: Case): HTMLElement {
  const note = stateNote(c);
  return h(
    "div",
    { id: "case-status" },
    summaryList([
      ["State", words(CaseState[c.state])],
      ["Referred on", when(c.createdAt)],
      ["Last changed", when(c.updatedAt)],
    ]),
    note ? h("div", { id: "state-note" }, inset(note)) : null,
  );
}

function referralSection(c: Case): HTMLElement {
  return section(
    "referral",
    "Your referral",
    summaryList([
      ["Referred by", `${c.referrer?.name ?? ""} (${c.referrer?.email ?? ""})`],
      ["What the conflict is about", c.summary],
      ["Concern level", words(ConcernLevel[c.concernLevel])],
      ["Concern type", words(ConcernType[c.concernType])],
      ["Parties", c.parties.map((p) => p.contact?.name ?? "").join(", ")],
    ]),
  );
}

// The decision as the case carries it: the decision, when, and the failed criteria (ids only)
// with their signposting; never the answers or their notes.
function screeningSection(c: Case): HTMLElement {
  const s = c.screening;
  if (!s || s.decision === Suitability.UNSPECIFIED) {
    return section("screening", "Screening", paragraph("No screening decision has been made yet.", "no-decision"));
  }
  const failed = s.failedCriteria.map((criterion, i) => [criterionText(criterion), s.signposting[i] ?? ""]);
  return section(
    "screening",
    "Screening",
    summaryList([
      ["Decision", `${words(Suitability[s.decision])}${s.overridden ? " (overridden by the Senior Adviser)" : ""}`],
      ["Decided on", when(s.decidedAt)],
    ]),
    failed.length > 0 ? table("Criteria not met", ["Criterion", "Where to turn instead"], failed, { id: "failed-criteria" }) : null,
  );
}

function chargesSection(indications: ChargeIndication[]): HTMLElement {
  return section(
    "charges",
    "Indication of charges",
    indications.length === 0
      ? paragraph("No indication of charges has been given yet.", "no-charges")
      : h("div", { id: "indications" }, ...indications.map(indicationTable)),
  );
}

// The sessions as the API gives them to an organisation: joint meetings and reviews, by date.
function sessionsSection(sessions: Session[]): HTMLElement {
  return section(
    "sessions",
    "Joint meetings",
    sessions.length === 0
      ? paragraph("No joint meeting has been booked yet.", "no-sessions")
      : table(
          "Joint meetings and reviews booked",
          ["Date", "Meeting", "State"],
          sessions.map((s) => [dateText(s.localDate, "full"), words(SessionKind[s.kind]), words(SessionState[s.state])]),
          { id: "joint-sessions" },
        ),
  );
}

function outcomeSection(outcome: GetOutcomeResponse): HTMLElement {
  if (outcome.outcome === Outcome.UNSPECIFIED) {
    return section("outcome", "Outcome", paragraph("No outcome has been recorded yet.", "no-outcome"));
  }
  const rows: Array<[string, string]> = [
    ["Outcome", words(Outcome[outcome.outcome])],
    ["Recorded on", when(outcome.outcomeRecordedAt)],
  ];
  if (outcome.reviewDate) rows.push(["Follow-up review", dateText(outcome.reviewDate)]);
  if (outcome.reviewedAt) rows.push(["Reviewed on", when(outcome.reviewedAt)]);
  return section("outcome", "Outcome", summaryList(rows));
}

// The agreement the server gives the organisation: the final version every party consented to
// share. Until then GetAgreement is FAILED_PRECONDITION: not shared.
async function sharedAgreement(caseId: bigint): Promise<AgreementVersion | undefined> {
  try {
    return (await client(AgreementService).getAgreement({ caseId })).versions.at(-1);
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.FailedPrecondition) return undefined;
    throw error;
  }
}

function agreementSection(version: AgreementVersion | undefined): HTMLElement {
  const content = version?.content;
  if (!version || !content) {
    const why = version
      ? "The agreement was shared, but its text is no longer held."
      : "The agreement is not shared with your organisation. It stays confidential unless every party signs it and consents to share it.";
    return section("agreement", "Agreement", paragraph(why, "agreement-not-shared"));
  }
  return section(
    "agreement",
    "Agreement",
    paragraph(`Version ${version.version}, signed by every party, each consenting to share it with you.`),
    content.items.length > 0
      ? h(
          "ol",
          { class: "nhsuk-list nhsuk-list--number", id: "agreement-items" },
          ...content.items.map((item) =>
            h("li", {}, item.commitment, item.reviewDate ? ` (to review on ${dateText(item.reviewDate)})` : null),
          ),
        )
      : null,
    paragraphs(content.freeText, { id: "agreement-text" }),
  );
}

function historyWhat(entry: CaseHistoryEntry): string {
  const change = entry.change;
  if (change.case === "stateChange") {
    const to = words(CaseState[change.value.toState]);
    return change.value.fromState === CaseState.UNSPECIFIED ? to : `${words(CaseState[change.value.fromState])} to ${to.toLowerCase()}`;
  }
  if (change.case === "referralRevision") return `Referral changed: ${change.value.changedFields.join(", ")}`;
  return "Changed";
}

// What happened and when (the server gives an organisation no reasons and no names).
function historySection(entries: CaseHistoryEntry[]): HTMLElement {
  const timeline = table("History", ["When", "What happened"], entries.map((e) => [when(e.at), historyWhat(e)]), { id: "history" });
  timeline.querySelector("caption")?.classList.add("nhsuk-u-visually-hidden");
  return section("case-history", "History", timeline);
}

// Offered in the states the staff case page offers it in (cases.ts): any before the outcome is
// recorded, on hold too.
function withdrawSection(c: Case): HTMLElement | null {
  if (!kWithdrawable.includes(c.state) && c.state !== CaseState.ON_HOLD) return null;
  const path = `/app/cases/${c.id}`;
  const form = actionForm(
    "withdraw-form",
    [
      textarea("withdraw-reason", "Reason for withdrawing", {
        hint: "Only the service's staff read this. Mediation stops, and the case cannot go on unless the service reopens it.",
      }),
    ],
    "Withdraw the case",
    async (f) => {
      // Who withdrew comes from the token (the organisation).
      await client(CaseService).withdrawCase({ caseId: c.id, reason: valueOf(f, "withdraw-reason") });
      noticeFor(path, "The case is withdrawn.");
      await rerender();
    },
    "nhsuk-button--warning",
    "withdraw-",
  );
  return details("Withdraw the case", "withdraw", form);
}

async function casePage(context: PageContext): Promise<HTMLElement> {
  // First the case: another organisation's is NOT_FOUND, and nothing else is asked.
  const c = await loadCase(context.match[1]);
  const [sessions, outcome, agreement, charges, history] = await Promise.all([
    client(SchedulingService).listSessions({ caseId: c.id }),
    client(AgreementService).getOutcome({ caseId: c.id }),
    sharedAgreement(c.id),
    client(ChargesService).listChargeIndications({ caseId: c.id }),
    client(CaseService).getCaseHistory({ caseId: c.id }),
  ]);
  return context.frame(
    `Case ${c.reference}`,
    backLink("/app", "Back to your cases"),
    takeNotice(window.location.pathname),
    h("h1", {}, `Case ${c.reference}`),
    whereItIs(c),
    referralSection(c),
    screeningSection(c),
    chargesSection(charges.indications),
    sessionsSection(sessions.sessions),
    outcomeSection(outcome),
    agreementSection(agreement),
    withdrawSection(c),
    historySection(history.entries),
  );
}

export const organisationConsoleRoutes: Route[] = [
  { pattern: /^\/app$/, roles: kOrganisation, page: casesPage },
  { pattern: /^\/app\/referrals\/new$/, roles: kOrganisation, page: referralPage },
  { pattern: /^\/app\/cases\/([1-9][0-9]*)$/, roles: kOrganisation, page: casePage },
];
