// The console of a MEDIATOR token, bound to one mediator (WhoAmI's token.mediatorId):
//   /app                                  offers awaiting an answer (accept, or decline with a
//                                         reason, a conflict found on seeing the names among
//                                         them), then the cases accepted
//   /app/cases/<id>                       one of its cases (mediator_console_case.ts)
//   /app/sessions/<id>                    one of its sessions (mediator_console_case.ts)
//   /app/calendar?week=YYYY-MM-DD         its week, and its calendar as an .ics file
//   /app/availability[/working-pattern|/leave/new|/conflicts/new]
//                                         its working pattern, leave and conflicts, and
//                                         email reminders (mediator_console_calendar.ts)
// The server decides what the mediator sees: an offered case shows only what it needs to spot a
// conflict of interest (the organisation, the parties' names and professions) until accepted.
import {
  type Allocation,
  AllocationService,
  AllocationState,
  DeclineReason,
} from "@gen/ppa/mediation/v1/allocation_pb";
import { Role } from "@gen/ppa/mediation/v1/common_pb";
import { type Case, ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { SchedulingService } from "@gen/ppa/mediation/v1/scheduling_pb";

import { client } from "./api";
import { type PageContext, rerender, type Route, when } from "./app";
import { stateTag } from "./cases";
import { dateText } from "./dates";
import { details, h, inset, link, summaryList, table } from "./dom";
import { actionForm, onSubmit, radios, textarea, valueOf } from "./forms";
import { calendarPage, availabilityRoutes } from "./mediator_console_calendar";
import { mediatorCasePage, mediatorSessionPage, nextSession, offeredParties, roleText } from "./mediator_console_case";
import { partyName } from "./mediator_work_parts";
import { noticeFor, takeNotice } from "./page_parts";
import { sessionTitle } from "./scheduling";

const kMediator = [Role.MEDIATOR];

// The dates the offer proposes (the mediation window it was made for).
function proposedDates(a: Allocation): string {
  return a.proposedFirstDay ? `${dateText(a.proposedFirstDay)} to ${dateText(a.proposedLastDay)}` : "Not given";
}

const kDeclineReasons: Array<[string, string]> = [
  [String(DeclineReason.CONFLICT_OF_INTEREST), "A conflict of interest, for example I know a party or the organisation"],
  [String(DeclineReason.UNAVAILABLE), "I am not available for the proposed dates"],
  [String(DeclineReason.OTHER), "Another reason"],
];

// Accept: one button, named for the case it accepts.
function acceptForm(a: Allocation, c: Case | undefined, problems: HTMLElement): HTMLElement {
  const reference = c?.reference ?? `case ${a.caseId}`;
  const form = h(
    "form",
    { novalidate: "", id: `accept-${a.id}`, class: "nhsuk-u-margin-bottom-4" },
    h(
      "button",
      { class: "nhsuk-button nhsuk-u-margin-bottom-0", type: "submit", id: `accept-${a.id}-submit` },
      "Accept the offer",
      h("span", { class: "nhsuk-u-visually-hidden" }, ` of case ${reference}`),
    ),
  );
  onSubmit(form, problems, async () => {
    await client(AllocationService).respondToAllocation({ allocationId: a.id, accept: true });
    noticeFor("/app", `You accepted the ${roleText(a.role).toLowerCase()} role on case ${reference}.`, h("p", { class: "nhsuk-body" }, link(`/app/cases/${a.caseId}`, `Open case ${reference}`)));
    await rerender();
  });
  return form;
}

// Decline: why (required, with a note), and for a conflict of interest who it is with: a party
// (recorded as a conflict with that person), the organisation, or this case only.
function declineForm(a: Allocation, c: Case | undefined): HTMLElement {
  const prefix = `decline-${a.id}-`;
  const reference = c?.reference ?? `case ${a.caseId}`;
  const withWhom = radios(
    `${prefix}conflict_party_id`,
    "Who is the conflict with?",
    [
      ...(c ? c.parties.map((p): [string, string] => [String(p.id), `${partyName(c, p.id)} (a party)`]) : []),
      ["organisation", "The referring organisation: none of its cases"],
      ["case", "This case only"],
    ],
    { value: "case", hint: "It is recorded on your record, so you are not offered the cases it touches." },
  );
  const reason = radios(`${prefix}decline_reason`, "Why do you decline?", kDeclineReasons);
  const form = actionForm(
    `decline-${a.id}`,
    [
      reason,
      withWhom,
      textarea(`${prefix}note`, "Note for the case support team", {
        hint: "Required. For example, how you know them, or when you could start. The organisation never sees it.",
      }),
    ],
    "Decline the offer",
    async (f) => {
      const why = Number(valueOf(f, `${prefix}decline_reason`) || "0") as DeclineReason;
      const target = valueOf(f, `${prefix}conflict_party_id`);
      const conflict = why === DeclineReason.CONFLICT_OF_INTEREST;
      await client(AllocationService).respondToAllocation({
        allocationId: a.id,
        accept: false,
        declineReason: why,
        note: valueOf(f, `${prefix}note`),
        conflictPartyId: conflict && /^[0-9]+$/.test(target) ? BigInt(target) : 0n,
        conflictWithOrganisation: conflict && target === "organisation",
      });
      noticeFor(
        "/app",
        `You declined the offer of case ${reference}.`,
        ...(conflict
          ? [h("p", { class: "nhsuk-body" }, "The conflict of interest is on ", link("/app/availability#conflicts", "your availability page"), ".")]
          : []),
      );
      await rerender();
    },
    "nhsuk-button--secondary",
    prefix,
  );
  const show = () => {
    withWhom.hidden = valueOf(form, `${prefix}decline_reason`) !== String(DeclineReason.CONFLICT_OF_INTEREST);
  };
  reason.addEventListener("change", show);
  show();
  return details("Decline the offer", `decline-${a.id}-details`, form);
}

// One offer: what it is for and the case as the API shows it before acceptance.
function offerCard(a: Allocation, c: Case | undefined): HTMLElement {
  const problems = h("div", {});
  const reference = c?.reference ?? `Case ${a.caseId}`;
  return h(
    "section",
    { class: "nhsuk-card", id: `offer-${a.id}`, "aria-labelledby": `offer-${a.id}-heading` },
    h(
      "div",
      { class: "nhsuk-card__content" },
      h("h3", { class: "nhsuk-card__heading", id: `offer-${a.id}-heading` }, `Case ${reference}: ${roleText(a.role).toLowerCase()}`),
      problems,
      summaryList([
        ["Role", roleText(a.role)],
        ["Proposed dates", proposedDates(a)],
        ["Offered", when(a.offeredAt)],
        ["Referring organisation", c?.organisationName || "Not known"],
      ]),
      offeredParties(c?.parties ?? [], `offer-${a.id}-parties`),
      acceptForm(a, c, problems),
      declineForm(a, c),
    ),
  );
}

async function homePage(context: PageContext): Promise<HTMLElement> {
  const mediatorId = context.me.mediatorId;
  const [{ allocations }, { cases }] = await Promise.all([
    client(AllocationService).listAllocations({ mediatorId }),
    client(ReferralService).listCases({ pageSize: 500 }),
  ]);
  const byId = new Map(cases.map((c) => [c.id, c]));
  const offers = allocations.filter((a) => a.state === AllocationState.PENDING);
  const accepted = allocations.filter((a) => a.state === AllocationState.ACCEPTED);
  const sessions = await Promise.all(
    accepted.map((a) => client(SchedulingService).listSessions({ caseId: a.caseId }).then((r) => r.sessions)),
  );
  const acceptedRows = accepted.map((a, i) => {
    const c = byId.get(a.caseId);
    const next = nextSession(sessions[i]);
    return [
      link(`/app/cases/${a.caseId}`, c?.reference ?? `Case ${a.caseId}`),
      roleText(a.role),
      c ? stateTag(c.state) : "Not known",
      next ? link(`/app/sessions/${next.id}`, `${when(next.start)}, ${sessionTitle(next)}`) : "None booked",
    ];
  });
  const casesTable = table("Cases you have accepted", ["Case", "Your role", "State", "Next session"], acceptedRows, { id: "cases" });
  // The heading above names the table; its caption stays for screen readers.
  casesTable.querySelector("caption")?.classList.add("nhsuk-u-visually-hidden");
  return context.frame(
    "Your cases",
    takeNotice("/app"),
    h("h1", {}, "Your cases"),
    h("h2", { id: "offers-heading" }, "Offers awaiting your answer"),
    offers.length === 0
      ? h("p", { class: "nhsuk-body", id: "no-offers" }, "No offer is waiting for your answer.")
      : h(
          "div",
          { id: "offers" },
          inset(
            "Until you accept, you see only the organisation and the parties' names and professions, so you can check for a conflict of interest. The rest of the case is shown once you accept.",
          ),
          ...offers.map((a) => offerCard(a, byId.get(a.caseId))),
        ),
    h("h2", { id: "cases-heading" }, "Cases you have accepted"),
    accepted.length === 0
      ? h("p", { class: "nhsuk-body", id: "no-cases" }, "You have not accepted a case yet.")
      : casesTable,
  );
}

export const mediatorConsoleRoutes: Route[] = [
  { pattern: /^\/app$/, roles: kMediator, page: homePage },
  { pattern: /^\/app\/cases\/([1-9][0-9]*)$/, roles: kMediator, page: mediatorCasePage },
  { pattern: /^\/app\/sessions\/([1-9][0-9]*)$/, roles: kMediator, page: mediatorSessionPage },
  { pattern: /^\/app\/calendar$/, roles: kMediator, page: calendarPage },
  ...availabilityRoutes,
];
