// The work queues (the home page), a queue's cases, and the case page: its details, parties,
// the actions its state allows (hold, resume, withdraw, reopen) and its history.
import { CaseService, type CaseHistoryEntry } from "@gen/ppa/mediation/v1/case_pb";
import { AllocationRole, AllocationService, AllocationState } from "@gen/ppa/mediation/v1/allocation_pb";
import {
  AccessNeed,
  CaseState,
  ConcernLevel,
  ConcernType,
  Criterion,
  Nation,
  Profession,
  Role,
  Suitability,
  WithdrawnBy,
} from "@gen/ppa/mediation/v1/common_pb";
import { type Case, ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { SchedulingService, SessionKind, type Session } from "@gen/ppa/mediation/v1/scheduling_pb";
import { ScreeningService } from "@gen/ppa/mediation/v1/screening_pb";
import { SessionMode } from "@gen/ppa/mediation/v1/common_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ListCasesRequestSchema } from "@gen/ppa/mediation/v1/referral_pb";

import { client } from "./api";
import { kStaff, navigate, type PageContext, rerender, type Route, when, words } from "./app";
import { backLink, details, h, inset, link, summaryList, table, tag, type TagColour } from "./dom";
import { actionForm, radios, select, textarea, valueOf } from "./forms";
import { addDays, type CivilDate, londonToday, weekday } from "./dates";
import { mediatorNames, organisations } from "./lookups";
import { partyLinksSection } from "./party_links";
import { actionLink } from "./page_parts";
import { referralForm } from "./referral_form";

type CaseQuery = MessageInitShape<typeof ListCasesRequestSchema>;

const kStateColours: Partial<Record<CaseState, TagColour>> = {
  [CaseState.REFERRED]: "blue",
  [CaseState.SCREENING]: "aqua-green",
  [CaseState.SUITABLE]: "green",
  [CaseState.MEDIATORS_ALLOCATED]: "green",
  [CaseState.SESSIONS_SCHEDULED]: "purple",
  [CaseState.IN_MEDIATION]: "purple",
  [CaseState.OUTCOME_RECORDED]: "white",
  [CaseState.FOLLOW_UP]: "white",
  [CaseState.CLOSED]: "grey",
  [CaseState.NOT_SUITABLE]: "red",
  [CaseState.ON_HOLD]: "orange",
  [CaseState.WITHDRAWN]: "grey",
};

export function stateTag(state: CaseState): HTMLElement {
  return tag(words(CaseState[state]), kStateColours[state]);
}

export function criterionText(criterion: Criterion): string {
  switch (criterion) {
    case Criterion.JOINT_PROBLEM:
      return "Both parties see a joint problem";
    case Criterion.WILLING:
      return "Willing to take part";
    case Criterion.NOT_CONTRACTUAL:
      return "Not a contractual or employment matter";
    case Criterion.NO_FORMAL_PROCESS:
      return "No formal process under way";
    case Criterion.NO_RELATIONSHIP:
      return "No close personal relationship";
    case Criterion.FIT_TO_ATTEND:
      return "Fit to attend";
    default:
      return "Not known";
  }
}

// The sub-pages of a case, as a contents list at the top of each.
export function caseNavigation(c: Case, current: string): HTMLElement {
  const base = `/app/cases/${c.id}`;
  const pages: Array<[string, string]> = [
    [base, "Summary"],
    [`${base}/screening`, "Screening"],
    [`${base}/charges`, "Charges"],
    [`${base}/allocation`, "Allocation"],
    [`${base}/sessions`, "Sessions"],
  ];
  return h(
    "nav",
    { class: "nhsuk-contents-list", role: "navigation", "aria-label": "Pages of this case" },
    h(
      "ol",
      { class: "nhsuk-contents-list__list" },
      ...pages.map(([href, text]) =>
        h(
          "li",
          { class: "nhsuk-contents-list__item", "aria-current": href === current ? "page" : undefined },
          href === current
            ? h("span", { class: "nhsuk-contents-list__current" }, text)
            : h("a", { class: "nhsuk-contents-list__link", href }, text),
        ),
      ),
    ),
  );
}

// The case heading every case page starts with: back link, the reference and the state.
export function caseHeading(c: Case, title: string): Array<Node> {
  return [
    backLink("/app", "Back to work queues"),
    h(
      "span",
      { class: "nhsuk-caption-l" },
      `Case ${c.reference} `,
      stateTag(c.state),
    ),
    h("h1", {}, title),
  ];
}

export async function loadCase(id: string): Promise<Case> {
  const response = await client(ReferralService).getCase({ caseId: BigInt(id) });
  if (!response.case) throw new Error("the server returned no case");
  return response.case;
}

// ---- Work queues -------------------------------------------------------------------------

interface Queue {
  key: string;
  title: string;
  hint: string;
  // The cases this queue lists (when it lists cases).
  query?: CaseQuery;
  // Keeps the cases of the listed page that belong in the queue (for queues the API cannot
  // filter by itself: it is given one page of the state's cases).
  keep?: (cases: Case[]) => Promise<Case[]>;
  // For queues of sessions: how to read them.
  sessions?: () => Promise<Session[]>;
}

async function readyForDecision(cases: Case[]): Promise<Case[]> {
  const evaluations = await Promise.all(
    cases.map((c) => client(ScreeningService).evaluateScreening({ caseId: c.id })),
  );
  return cases.filter((_, i) => {
    const decision = evaluations[i].evaluation?.decision;
    return decision === Suitability.SUITABLE || decision === Suitability.NOT_SUITABLE;
  });
}

async function withPendingOffer(cases: Case[], pending: boolean): Promise<Case[]> {
  const lists = await Promise.all(
    cases.map((c) => client(AllocationService).listAllocations({ caseId: c.id })),
  );
  return cases.filter(
    (_, i) => lists[i].allocations.some((a) => a.state === AllocationState.PENDING) === pending,
  );
}

function thisWeek(): { first: CivilDate; last: CivilDate } {
  const today = londonToday();
  const first = addDays(today, 1 - weekday(today));
  return { first, last: addDays(first, 6) };
}

const kQueues: Queue[] = [
  {
    key: "new",
    title: "New referrals",
    hint: "Referred and not yet screened.",
    query: { state: CaseState.REFERRED },
  },
  {
    key: "screening",
    title: "Screening in progress",
    hint: "Answers are being recorded against the six criteria.",
    query: { state: CaseState.SCREENING },
  },
  {
    key: "decision",
    title: "Awaiting the adviser's decision",
    hint: "Screening answered in full: a Senior Adviser confirms or overrides.",
    query: { state: CaseState.SCREENING },
    keep: readyForDecision,
  },
  {
    key: "allocation",
    title: "Suitable, awaiting allocation",
    hint: "Suitable cases with no offer waiting for a mediator's answer.",
    query: { state: CaseState.SUITABLE },
    keep: (cases) => withPendingOffer(cases, false),
  },
  {
    key: "offers",
    title: "Offers awaiting an answer",
    hint: "A mediator has been offered a role and has not answered.",
    query: { state: CaseState.SUITABLE },
    keep: (cases) => withPendingOffer(cases, true),
  },
  {
    key: "schedule",
    title: "To schedule",
    hint: "Both mediators accepted: book the individual and joint meetings.",
    query: { state: CaseState.MEDIATORS_ALLOCATED },
  },
  {
    key: "reschedule",
    title: "Sessions needing rescheduling",
    hint: "Booked sessions that a change of leave, pattern or availability left out.",
    sessions: async () =>
      (await client(SchedulingService).listSessions({ needsRescheduling: true, pageSize: 500 }))
        .sessions,
  },
  {
    key: "week",
    title: "Sessions this week",
    hint: "Every session from Monday to Sunday of this week.",
    sessions: async () => {
      const { first, last } = thisWeek();
      return (
        await client(SchedulingService).listSessions({ windowFirstDay: first, windowLastDay: last })
      ).sessions;
    },
  },
  {
    key: "follow-up",
    title: "Follow-ups due",
    hint: "Outcome recorded: the follow-up review is to arrange or hold.",
    query: { state: CaseState.FOLLOW_UP },
  },
  {
    key: "outcome",
    title: "Outcome recorded",
    hint: "Schedule the follow-up review.",
    query: { state: CaseState.OUTCOME_RECORDED },
  },
];

// How many cases the queue's own filter may look at to count a queue the API cannot filter.
const kCountedAtMost = 200;

function filtersOf(query: URLSearchParams): CaseQuery {
  const organisation = query.get("organisation");
  const nation = Number(query.get("nation") ?? "0");
  return {
    organisationId: organisation && /^[1-9][0-9]*$/.test(organisation) ? BigInt(organisation) : 0n,
    nation: Nation[nation] !== undefined ? (nation as Nation) : Nation.UNSPECIFIED,
  };
}

function filterQueryString(query: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const name of ["organisation", "nation"]) {
    const value = query.get(name);
    if (value && value !== "0") out.set(name, value);
  }
  const text = out.toString();
  return text ? `?${text}` : "";
}

async function countOf(queue: Queue, filters: CaseQuery): Promise<string> {
  if (queue.sessions) return String((await queue.sessions()).length);
  const listed = await client(ReferralService).listCases({
    ...queue.query,
    ...filters,
    pageSize: queue.keep ? kCountedAtMost : 1,
  });
  if (!queue.keep) return String(listed.totalSize);
  const kept = await queue.keep(listed.cases);
  return listed.totalSize > listed.cases.length ? `${kept.length}+` : String(kept.length);
}

function filterForm(query: URLSearchParams, orgs: Awaited<ReturnType<typeof organisations>>): HTMLElement {
  const form = h(
    "form",
    { novalidate: "", id: "queue-filters", class: "nhsuk-u-margin-bottom-5" },
    h(
      "div",
      { class: "nhsuk-grid-row" },
      h(
        "div",
        { class: "nhsuk-grid-column-one-half" },
        select(
          "organisation",
          "Organisation",
          [["0", "All organisations"], ...[...orgs.values()].map((o): [string, string] => [String(o.id), o.name])],
          { value: query.get("organisation") ?? "0" },
        ),
      ),
      h(
        "div",
        { class: "nhsuk-grid-column-one-half" },
        select(
          "nation",
          "Nation",
          [
            ["0", "All nations"],
            [String(Nation.ENGLAND), "England"],
            [String(Nation.WALES), "Wales"],
            [String(Nation.NORTHERN_IRELAND), "Northern Ireland"],
          ],
          { value: query.get("nation") ?? "0" },
        ),
      ),
    ),
    h("button", { class: "nhsuk-button nhsuk-button--secondary", type: "submit", id: "apply-filters" }, "Apply filters"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const name of ["organisation", "nation"]) {
      const value = (form.querySelector(`#${name}`) as HTMLSelectElement).value;
      if (value !== "0") params.set(name, value);
    }
    const text = params.toString();
    navigate(`${window.location.pathname}${text ? `?${text}` : ""}`);
  });
  return form;
}

async function workQueuesPage(context: PageContext): Promise<HTMLElement> {
  const filters = filtersOf(context.query);
  // The counts the API gives at once come with the page; those that need a look at each case
  // (the adviser's queue, the offers) are filled in as they arrive.
  const later = new Map<string, Promise<string>>();
  for (const queue of kQueues) if (queue.keep) later.set(queue.key, countOf(queue, filters));
  const [orgs, counts] = await Promise.all([
    organisations(),
    Promise.all(kQueues.map((queue) => (queue.keep ? Promise.resolve("Counting") : countOf(queue, filters)))),
  ]);
  for (const [key, count] of later) {
    void count
      .catch(() => "Not known")
      .then((text) => {
        const cell = document.getElementById(`count-${key}`);
        if (!cell) return;
        cell.textContent = text;
        cell.removeAttribute("aria-busy");
      });
  }
  const suffix = filterQueryString(context.query);
  const open = h("input", {
    class: "nhsuk-input nhsuk-input--width-10",
    id: "case-id",
    name: "case-id",
    inputmode: "numeric",
  }) as HTMLInputElement;
  const openForm = h(
    "form",
    { novalidate: "", class: "nhsuk-u-margin-bottom-5" },
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: "case-id" }, "Open a case by its number"),
      open,
    ),
    h("button", { class: "nhsuk-button nhsuk-button--secondary", type: "submit" }, "Open the case"),
  );
  openForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = open.value.trim();
    if (/^[1-9][0-9]*$/.test(id)) navigate(`/app/cases/${id}`);
  });
  return context.frame(
    "Work queues",
    h("h1", {}, "Work queues"),
    h(
      "p",
      { class: "nhsuk-body" },
      h("a", { href: "/app/referrals/new", id: "record-referral", class: "nhsuk-action-link__link" }, "Record a referral"),
    ),
    filterForm(context.query, orgs),
    table(
      "What needs doing",
      ["Queue", "Cases or sessions", "What it holds"],
      kQueues.map((queue, i) => [
        link(`/app/queues/${queue.key}${queue.sessions ? "" : suffix}`, queue.title, { id: `queue-${queue.key}` }),
        h("span", { id: `count-${queue.key}`, "aria-busy": queue.keep ? "true" : undefined }, counts[i]),
        queue.hint,
      ]),
      { id: "work-queues" },
    ),
    h("p", { class: "nhsuk-body-s" }, "The filters apply to the queues of cases; the session queues list every session you may see."),
    openForm,
  );
}

function sessionRows(sessions: Session[]): Array<Array<Node | string>> {
  return sessions.map((s) => [
    link(`/app/sessions/${s.id}`, when(s.start)),
    link(`/app/cases/${s.caseId}`, s.caseReference),
    words(SessionKind[s.kind]),
    s.needsRescheduling ? s.needsReschedulingReason || "Needs rescheduling" : words(SessionMode[s.mode]),
  ]);
}

async function queuePage(context: PageContext): Promise<HTMLElement> {
  const queue = kQueues.find((q) => q.key === context.match[1]);
  if (!queue) return context.frame("Page not found", h("h1", {}, "Page not found"));
  const back = backLink("/app" + filterQueryString(context.query), "Back to work queues");
  if (queue.sessions) {
    const sessions = await queue.sessions();
    return context.frame(
      queue.title,
      back,
      h("h1", {}, queue.title),
      h("p", { class: "nhsuk-body" }, queue.hint),
      sessions.length === 0
        ? inset("There are no sessions in this queue.")
        : table(queue.title, ["When", "Case", "Meeting", queue.key === "reschedule" ? "Why" : "How"], sessionRows(sessions), { id: "queue-sessions" }),
    );
  }
  const pageToken = context.query.get("page") ?? "";
  const listed = await client(ReferralService).listCases({
    ...queue.query,
    ...filtersOf(context.query),
    pageSize: queue.keep ? kCountedAtMost : 25,
    pageToken,
  });
  const cases = queue.keep ? await queue.keep(listed.cases) : listed.cases;
  const next = new URLSearchParams(context.query);
  next.set("page", listed.nextPageToken);
  const first = new URLSearchParams(context.query);
  first.delete("page");
  return context.frame(
    queue.title,
    back,
    h("h1", {}, queue.title),
    h("p", { class: "nhsuk-body" }, queue.hint),
    cases.length === 0
      ? inset("There are no cases in this queue.")
      : table(
          `${queue.title}: ${queue.keep ? cases.length : listed.totalSize} in all`,
          ["Case", "Organisation", "Referred on", "Concern level", "State"],
          cases.map((c) => [
            link(`/app/cases/${c.id}`, c.reference),
            c.organisationName,
            when(c.createdAt),
            words(ConcernLevel[c.concernLevel]),
            stateTag(c.state),
          ]),
          { id: "queue-cases" },
        ),
    h(
      "nav",
      { class: "nhsuk-pagination", role: "navigation", "aria-label": "Pages of this queue" },
      h(
        "ul",
        { class: "nhsuk-list nhsuk-pagination__list" },
        pageToken
          ? h("li", { class: "nhsuk-pagination-item--previous" }, link(`${window.location.pathname}?${first.toString()}`, "First page", { class: "nhsuk-pagination__link nhsuk-pagination__link--prev" }))
          : null,
        listed.nextPageToken
          ? h("li", { class: "nhsuk-pagination-item--next" }, link(`${window.location.pathname}?${next.toString()}`, "Next page", { class: "nhsuk-pagination__link nhsuk-pagination__link--next", id: "next-page" }))
          : null,
      ),
    ),
  );
}

// ---- The case page -----------------------------------------------------------------------

const kActiveStates = [
  CaseState.REFERRED,
  CaseState.SCREENING,
  CaseState.SUITABLE,
  CaseState.MEDIATORS_ALLOCATED,
  CaseState.SESSIONS_SCHEDULED,
  CaseState.IN_MEDIATION,
  CaseState.OUTCOME_RECORDED,
  CaseState.FOLLOW_UP,
];
export const kWithdrawable = kActiveStates.filter(
  (s) => s !== CaseState.OUTCOME_RECORDED && s !== CaseState.FOLLOW_UP,
);
const kFinished = [CaseState.CLOSED, CaseState.NOT_SUITABLE, CaseState.WITHDRAWN];

function reasonField(id: string, label: string, hint?: string): HTMLElement {
  return textarea(id, label, { hint });
}

function caseActions(c: Case): HTMLElement {
  const cases = client(CaseService);
  const done = () => rerender();
  const actions: HTMLElement[] = [];
  if (kActiveStates.includes(c.state)) {
    actions.push(
      details(
        "Put the case on hold",
        "hold",
        actionForm(
          "hold-form",
          [reasonField("hold-reason", "Why is the case on hold?", "For example a formal process or ill health. The organisation does not see this.")],
          "Put on hold",
          async (form) => {
            await cases.holdCase({ caseId: c.id, reason: valueOf(form, "hold-reason") });
            await done();
          },
          "nhsuk-button--secondary",
          "hold-",
        ),
      ),
    );
  }
  if (c.state === CaseState.ON_HOLD) {
    actions.push(
      details(
        "Resume the case",
        "resume",
        actionForm(
          "resume-form",
          [reasonField("resume-reason", "Note (optional)")],
          `Resume to ${words(CaseState[c.heldFromState]).toLowerCase()}`,
          async (form) => {
            await cases.resumeCase({ caseId: c.id, reason: valueOf(form, "resume-reason") });
            await done();
          },
          undefined,
          "resume-",
        ),
      ),
    );
  }
  if (kWithdrawable.includes(c.state) || c.state === CaseState.ON_HOLD) {
    actions.push(
      details(
        "Withdraw the case",
        "withdraw",
        actionForm(
          "withdraw-form",
          [
            radios(
              "withdraw-withdrawn_by",
              "Who asked for the withdrawal?",
              [
                [String(WithdrawnBy.ORGANISATION), "The organisation"],
                [String(WithdrawnBy.PARTY), "A party"],
                [String(WithdrawnBy.SERVICE), "The service"],
              ],
            ),
            reasonField("withdraw-reason", "Why is the case withdrawn?", "The organisation does not see this."),
          ],
          "Withdraw the case",
          async (form) => {
            await cases.withdrawCase({
              caseId: c.id,
              withdrawnBy: Number(valueOf(form, "withdraw-withdrawn_by") || "0") as WithdrawnBy,
              reason: valueOf(form, "withdraw-reason"),
            });
            await done();
          },
          "nhsuk-button--warning",
          "withdraw-",
        ),
      ),
    );
  }
  if (kFinished.includes(c.state)) {
    actions.push(
      details(
        "Reopen the case",
        "reopen",
        actionForm(
          "reopen-form",
          [reasonField("reopen-reason", "Why is the case reopened?")],
          "Reopen the case",
          async (form) => {
            await cases.reopenCase({ caseId: c.id, reason: valueOf(form, "reopen-reason") });
            await done();
          },
          undefined,
          "reopen-",
        ),
      ),
    );
  }
  return h("section", { "aria-labelledby": "actions-heading" }, h("h2", { id: "actions-heading" }, "Actions"), ...actions);
}

function historyText(entry: CaseHistoryEntry, mediators: Map<bigint, string>): [string, string] {
  const change = entry.change;
  switch (change.case) {
    case "stateChange":
      return [
        change.value.fromState === CaseState.UNSPECIFIED
          ? `Opened as ${words(CaseState[change.value.toState]).toLowerCase()}`
          : `${words(CaseState[change.value.fromState])} to ${words(CaseState[change.value.toState]).toLowerCase()}`,
        change.value.reason,
      ];
    case "referralRevision":
      return [`Referral revised (${change.value.changedFields.join(", ")})`, change.value.reason];
    case "allocationChange": {
      const name = mediators.get(change.value.mediatorId) ?? `Mediator ${change.value.mediatorId}`;
      const role = words(AllocationRole[change.value.role]).toLowerCase();
      const what =
        change.value.state === AllocationState.PENDING
          ? `${role} role offered to ${name}`
          : `${name} ${words(AllocationState[change.value.state]).toLowerCase()} the ${role} role`;
      return [what.charAt(0).toUpperCase() + what.slice(1), change.value.note];
    }
    default:
      return ["Changed", ""];
  }
}

// What the case needs next and where that is done, for the case's first screen.
function nextStep(c: Case, role: Role): HTMLElement | null {
  const base = `/app/cases/${c.id}`;
  const steps: Partial<Record<CaseState, [string, string]>> = {
    [CaseState.REFERRED]: [`${base}/screening`, "Next: record the screening answers"],
    [CaseState.SCREENING]:
      role === Role.SENIOR_ADVISER
        ? [`${base}/decision`, "Next: record the screening decision"]
        : [`${base}/screening`, "Next: finish the screening answers for a Senior Adviser to decide"],
    [CaseState.SUITABLE]: [`${base}/allocation`, "Next: offer the lead and co-mediator roles"],
    [CaseState.MEDIATORS_ALLOCATED]: [`${base}/sessions`, "Next: book the individual and joint meetings"],
    [CaseState.SESSIONS_SCHEDULED]: [`${base}/sessions`, "See the sessions booked"],
  };
  const step = steps[c.state];
  if (!step) return null;
  return actionLink(step[0], step[1], "next-step");
}

async function casePage(context: PageContext): Promise<HTMLElement> {
  const c = await loadCase(context.match[1]);
  const [history, mediators, links] = await Promise.all([
    client(CaseService).getCaseHistory({ caseId: c.id }),
    mediatorNames(),
    partyLinksSection(c, context.me.role),
  ]);
  const rows: Array<[string, string]> = [
    ["Reference", c.reference],
    ["State", words(CaseState[c.state])],
    ["Organisation", c.organisationName],
    ["Referred by", `${c.referrer?.name ?? ""} (${c.referrer?.email ?? ""})`],
    ["Referred on", when(c.createdAt)],
    ["Concern level", words(ConcernLevel[c.concernLevel])],
    ["Concern type", words(ConcernType[c.concernType])],
    ["Summary", c.summary],
  ];
  if (c.linkedCaseReferences.length > 0) rows.push(["Linked cases", c.linkedCaseReferences.join(", ")]);
  if (c.screening && c.screening.decision !== Suitability.UNSPECIFIED) {
    rows.push(["Screening decision", `${words(Suitability[c.screening.decision])}${c.screening.overridden ? " (overridden)" : ""}, ${when(c.screening.decidedAt)}`]);
  }
  if (c.state === CaseState.ON_HOLD) rows.push(["On hold because", c.holdReason], ["Resumes to", words(CaseState[c.heldFromState])]);
  if (c.state === CaseState.WITHDRAWN) rows.push(["Withdrawn by", words(WithdrawnBy[c.withdrawnBy])], ["Why", c.withdrawalReason]);
  const parties = table(
    "Parties",
    ["Name", "Job title", "Profession", "Access needs"],
    c.parties.map((p) => [
      p.contact?.name ?? "",
      p.contact?.jobTitle ?? "",
      words(Profession[p.profession]),
      [
        ...p.accessNeeds.map((n) => words(AccessNeed[n])),
        ...(p.accessibilityNeeds ? [p.accessibilityNeeds] : []),
      ].join("; ") || "None recorded",
    ]),
    { id: "parties" },
  );
  const timeline = table(
    "History",
    ["When", "Who", "What", "Why"],
    history.entries.map((entry) => {
      const [what, why] = historyText(entry, mediators);
      return [when(entry.at), entry.actor ? `${entry.actor} (${words(Role[entry.role])})` : "", what, why];
    }),
    { id: "history" },
  );
  // The section's heading names the table; its caption stays for screen readers.
  timeline.querySelector("caption")?.classList.add("nhsuk-u-visually-hidden");
  return context.frame(
    `Case ${c.reference}`,
    ...caseHeading(c, `Case ${c.reference}`),
    caseNavigation(c, `/app/cases/${c.id}`),
    nextStep(c, context.me.role),
    summaryList(rows),
    parties,
    links,
    // The emails about the case (NotificationService: case support, not the Senior Adviser).
    context.me.role === Role.CASE_SUPPORT
      ? h("p", { class: "nhsuk-body" }, link(`/app/notifications?case=${c.id}`, "Emails about this case", { id: "case-emails" }))
      : null,
    caseActions(c),
    h("section", { "aria-labelledby": "history-heading" }, h("h2", { id: "history-heading" }, "History"), timeline),
  );
}

async function newReferralPage(context: PageContext): Promise<HTMLElement> {
  return referralForm(context.frame, (id) => navigate(`/app/cases/${id}`), context.query.get("organisation") ?? undefined);
}

export const caseRoutes: Route[] = [
  { pattern: /^\/app$/, roles: kStaff, page: workQueuesPage },
  { pattern: /^\/app\/queues\/([a-z-]+)$/, roles: kStaff, page: queuePage },
  { pattern: /^\/app\/cases\/([1-9][0-9]*)$/, roles: kStaff, page: casePage },
  { pattern: /^\/app\/referrals\/new$/, roles: kStaff, page: newReferralPage },
];
