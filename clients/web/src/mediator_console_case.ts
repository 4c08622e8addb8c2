// A mediator's case page (/app/cases/<id>) and session page (/app/sessions/<id>, where it can
// reschedule or cancel the session as case support can). A case or session the mediator does
// not hold is answered by the server exactly as one that does not exist (NOT_FOUND), and the
// console then shows its "Not found" page.
import { type Allocation, AllocationRole, AllocationService, AllocationState } from "@gen/ppa/mediation/v1/allocation_pb";
import { AccessNeed, CaseState, ConcernLevel, ConcernType, Suitability, WithdrawnBy } from "@gen/ppa/mediation/v1/common_pb";
import { MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";
import type { Case } from "@gen/ppa/mediation/v1/referral_pb";
import { SchedulingService, type Session, SessionState } from "@gen/ppa/mediation/v1/scheduling_pb";
import { timestampDate } from "@bufbuild/protobuf/wkt";

import { client } from "./api";
import { type PageContext, when, words } from "./app";
import { loadCase } from "./cases";
import { backLink, h, inset, link, summaryList, table } from "./dom";
import { kProfessions, label } from "./mediation_words";
import { workHeading } from "./mediator_work_parts";
import { responsiveTable } from "./page_parts";
import { sessionsTable, sessionView } from "./scheduling";

export function roleText(role: AllocationRole): string {
  return role === AllocationRole.LEAD ? "Lead mediator" : role === AllocationRole.CO_MEDIATOR ? "Co-mediator" : "Not known";
}

// The next scheduled session of the case that has not ended, if any.
export function nextSession(sessions: Session[], now = new Date()): Session | undefined {
  return sessions.find((s) => s.state === SessionState.SCHEDULED && s.end && timestampDate(s.end) > now);
}

// The parties of a case offered and not yet accepted, as the server shows them before
// acceptance: names and professions, enough to spot a conflict of interest.
export function offeredParties(parties: Case["parties"], id: string): HTMLElement {
  return table("Parties", ["Name", "Profession"], parties.map((p) => [p.contact?.name ?? "", label(kProfessions, p.profession)]), { id });
}

// The case page's heading: back to the mediator's cases, then the heading the mediator's work
// pages share (mediator_work_parts.ts: the reference and state, the title and, once the case is
// accepted, the contents list of the case's pages: summary, notes, agreement, outcome).
function caseHeading(c: Case, accepted: boolean): Node[] {
  const [, ...heading] = workHeading(c, `Case ${c.reference}`, `/app/cases/${c.id}`);
  return [backLink("/app", "Back to your cases"), ...(accepted ? heading : heading.slice(0, 2))];
}

function caseRows(c: Case, mine: Allocation): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ["Reference", c.reference],
    ["Your role", roleText(mine.role)],
    ["State", words(CaseState[c.state])],
    ["Referring organisation", c.organisationName],
    ["Referred by", [c.referrer?.name, c.referrer?.email].filter(Boolean).join(", ") || "Not known"],
    ["Referred on", when(c.createdAt)],
    ["Concern level", words(ConcernLevel[c.concernLevel])],
    ["Concern type", words(ConcernType[c.concernType])],
    ["Summary", c.summary],
  ];
  if (c.linkedCaseReferences.length > 0) rows.push(["Linked cases", c.linkedCaseReferences.join(", ")]);
  if (c.screening && c.screening.decision !== Suitability.UNSPECIFIED) {
    rows.push(["Screening decision", `${words(Suitability[c.screening.decision])}, ${when(c.screening.decidedAt)}`]);
  }
  if (c.state === CaseState.ON_HOLD) rows.push(["On hold because", c.holdReason], ["Resumes to", words(CaseState[c.heldFromState])]);
  if (c.state === CaseState.WITHDRAWN) rows.push(["Withdrawn by", words(WithdrawnBy[c.withdrawnBy])], ["Why", c.withdrawalReason]);
  return rows;
}

function partiesTable(c: Case): HTMLElement {
  return responsiveTable(
    "Parties",
    ["Name", "Job title", "Profession", "Email", "Telephone", "Usually available", "Access needs", "Companion"],
    c.parties.map((p) => [
      p.contact?.name ?? "",
      p.contact?.jobTitle || "Not given",
      label(kProfessions, p.profession),
      p.contact?.email ?? "",
      p.contact?.phone || "Not given",
      p.typicalAvailability || "Not given",
      [...p.accessNeeds.map((n) => words(AccessNeed[n])), ...(p.accessibilityNeeds ? [p.accessibilityNeeds] : [])].join("; ") ||
        "None recorded",
      p.bringingCompanion ? "Bringing a companion" : "No",
    ]),
    { id: "parties" },
  );
}

export async function mediatorCasePage(context: PageContext): Promise<HTMLElement> {
  const id = context.match[1];
  const [c, { allocations }] = await Promise.all([
    loadCase(id),
    client(AllocationService).listAllocations({ caseId: BigInt(id) }),
  ]);
  const mine = allocations.find((a) => a.state === AllocationState.ACCEPTED);
  if (!mine) {
    // Offered and not yet answered: the case as the server shows it before acceptance.
    return context.frame(
      `Case ${c.reference}`,
      ...caseHeading(c, false),
      inset(
        "You have been offered this case and have not answered. ",
        h("p", {}, link("/app", "Answer the offer on your cases page")),
      ),
      offeredParties(c.parties, "parties"),
    );
  }
  const { sessions } = await client(SchedulingService).listSessions({ caseId: c.id, includeCancelled: true });
  const next = nextSession(sessions);
  // Each heading names its table; the tables' captions stay for screen readers.
  const [parties, sessionList] = [partiesTable(c), sessionsTable(sessions, c)];
  for (const list of [parties, sessionList]) list.querySelector("caption")?.classList.add("nhsuk-u-visually-hidden");
  return context.frame(
    `Case ${c.reference}`,
    ...caseHeading(c, true),
    summaryList(caseRows(c, mine)),
    h("h2", {}, "Parties"),
    parties,
    h("h2", {}, "Sessions"),
    sessionList,
    next
      ? h("p", { class: "nhsuk-body" }, link(`/app/calendar?week=${next.localStart.slice(0, 10)}`, "See the next session's week in your calendar", { id: "next-session-week" }))
      : null,
  );
}

export async function mediatorSessionPage(context: PageContext): Promise<HTMLElement> {
  const { session: s } = await client(SchedulingService).getSession({ sessionId: BigInt(context.match[1]) });
  if (!s) throw new Error("the server returned no session");
  const me = context.me.mediatorId;
  const [c, { mediator }] = await Promise.all([
    loadCase(String(s.caseId)),
    client(MediatorService).getMediator({ mediatorId: me }),
  ]);
  // A mediator reads only its own record: the other mediator is named by number.
  const name = (id: bigint) => (id === me ? `${mediator?.contact?.name || "You"} (you)` : `Mediator ${id}`);
  return sessionView(context, s, c, backLink(`/app/cases/${c.id}`, "Back to the case"), name);
}
