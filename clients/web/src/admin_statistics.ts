// Service statistics (ADMIN, CASE_SUPPORT, SENIOR_ADVISER): GetStatistics for the cases
// referred in a period, drawn as SVG bar charts. Each chart has a table of the same figures
// straight after it, its text alternative.
import { Code, ConnectError } from "@connectrpc/connect";

import { type Count, type GetStatisticsResponse, StatisticsService } from "@gen/ppa/mediation/v1/statistics_pb";

import { count, kDateInNumbers, plural } from "./admin_parts";
import { client, messageOf } from "./api";
import { kEveryStaffRole, navigate, type PageContext, type Route, when, words } from "./app";
import { type CivilDate, dateText, isoDate, londonToday, parseIsoDate } from "./dates";
import { h, inset, summaryList, svg, table } from "./dom";
import { actionForm, dateInput, dateOf, localProblems, problemsOf, showProblems } from "./forms";

// The labels of the keys a breakdown can have, in the order the charts list them. `all` shows
// every label, with 0 for those the server left out; otherwise only those it counted.
interface Breakdown {
  id: string;
  title: string;
  // The table's column heads: what is counted by, and what is counted.
  what: string;
  counted: string;
  labels: Array<[string, string]>;
  all: boolean;
  note?: string;
}

const kNation: Breakdown = {
  id: "nation",
  title: "Referrals by nation",
  what: "Nation",
  counted: "Referrals",
  all: true,
  labels: [
    ["NATION_ENGLAND", "England"],
    ["NATION_WALES", "Wales"],
    ["NATION_NORTHERN_IRELAND", "Northern Ireland"],
  ],
};

const kProfession: Breakdown = {
  id: "profession",
  title: "Parties by profession",
  what: "Profession",
  counted: "Parties",
  all: true,
  note: "Each party of a referral counts once.",
  labels: [
    ["PROFESSION_DOCTOR", "Doctor"],
    ["PROFESSION_DENTIST", "Dentist"],
    ["PROFESSION_PHARMACIST", "Pharmacist"],
    ["PROFESSION_OTHER_HEALTHCARE_STAFF", "Other healthcare staff"],
    ["PROFESSION_MANAGER", "Manager"],
  ],
};

const kOrganisationKind: Breakdown = {
  id: "kind",
  title: "Referrals by kind of organisation",
  what: "Kind of organisation",
  counted: "Referrals",
  all: false,
  note: "Kinds of organisation with no referrals are left out.",
  labels: [
    ["ORGANISATION_KIND_NHS_TRUST", "NHS trust"],
    ["ORGANISATION_KIND_GP_PRACTICE", "GP practice"],
    ["ORGANISATION_KIND_DENTAL_PRACTICE", "Dental practice"],
    ["ORGANISATION_KIND_PHARMACY", "Pharmacy"],
    ["ORGANISATION_KIND_INDEPENDENT_PROVIDER", "Independent provider"],
    ["ORGANISATION_KIND_HEALTH_BOARD", "Health board"],
    ["ORGANISATION_KIND_OTHER", "Other"],
  ],
};

const kCareSetting: Breakdown = {
  id: "care-setting",
  title: "Referrals by care setting",
  what: "Care setting",
  counted: "Referrals",
  all: true,
  labels: [
    ["CARE_SETTING_PRIMARY", "Primary care"],
    ["CARE_SETTING_SECONDARY", "Secondary care"],
  ],
};

const kSector: Breakdown = {
  id: "sector",
  title: "Referrals by sector",
  what: "Sector",
  counted: "Referrals",
  all: true,
  labels: [
    ["SECTOR_PUBLIC", "Public (NHS)"],
    ["SECTOR_INDEPENDENT", "Independent"],
  ],
};

const kFailedCriteria: Breakdown = {
  id: "failed-criteria",
  title: "Why cases were not suitable",
  what: "Criterion not met",
  counted: "Cases",
  all: true,
  note: "A case can fail more than one criterion.",
  labels: [
    ["CRITERION_JOINT_PROBLEM", "Both accept there is a joint problem"],
    ["CRITERION_WILLING", "Both are willing to mediate"],
    ["CRITERION_NOT_CONTRACTUAL", "Not about contractual or employment matters"],
    ["CRITERION_NO_FORMAL_PROCESS", "Not part of another formal process"],
    ["CRITERION_NO_RELATIONSHIP", "No personal or business relationship"],
    ["CRITERION_FIT_TO_ATTEND", "Both are fit to attend"],
  ],
};

const kOutcomes: Breakdown = {
  id: "outcomes",
  title: "Outcomes",
  what: "Outcome",
  counted: "Cases",
  all: true,
  labels: [
    ["OUTCOME_FULL_AGREEMENT", "Full agreement"],
    ["OUTCOME_PARTIAL_AGREEMENT", "Partial agreement"],
    ["OUTCOME_NO_AGREEMENT", "No agreement"],
    ["OUTCOME_WITHDRAWN", "Withdrawn"],
    ["OUTCOME_ENDED_BY_MEDIATOR", "Ended by the mediator"],
  ],
};

const kStates: Breakdown = {
  id: "states",
  title: "Where the cases are now",
  what: "Stage",
  counted: "Cases",
  all: false,
  note: "Stages with no cases are left out.",
  labels: [
    "REFERRED", "SCREENING", "SUITABLE", "MEDIATORS_ALLOCATED", "SESSIONS_SCHEDULED",
    "IN_MEDIATION", "OUTCOME_RECORDED", "FOLLOW_UP", "CLOSED", "NOT_SUITABLE", "ON_HOLD", "WITHDRAWN",
  ].map((s) => [`CASE_STATE_${s}`, words(s)]),
};

// The rows of a breakdown: its labels in order (with 0 where `all`), then any key the console
// does not know, in words.
function rowsOf(b: Breakdown, counts: Count[]): Array<[string, number]> {
  const byKey = new Map(counts.map((c) => [c.key, Number(c.count)]));
  const rows: Array<[string, number]> = [];
  for (const [key, label] of b.labels) {
    const n = byKey.get(key) ?? 0;
    if (b.all || n > 0) rows.push([label, n]);
    byKey.delete(key);
  }
  for (const [key, n] of byKey) rows.push([words(key), n]);
  return rows;
}

// ---- Charts ----

const kWidth = 400;
const kRowHeight = 52;
const kBarHeight = 22;
const kValueRoom = 64;

// A horizontal bar chart: each row's label above its bar, the figure at the bar's end. Drawn
// with SVG elements; the label and figure are text nodes. `figures` are the texts written at the
// bars' ends.
function barChart(
  id: string,
  rows: Array<[string, number]>,
  figures: string[],
): SVGElement {
  const max = Math.max(1, ...rows.map(([, v]) => v));
  const height = Math.max(1, rows.length) * kRowHeight;
  const chart = svg("svg", {
    class: "admin-chart",
    id: `chart-${id}`,
    viewBox: `0 0 ${kWidth} ${height}`,
    width: "100%",
    preserveAspectRatio: "xMinYMin meet",
    "aria-hidden": "true",
    focusable: "false",
    "font-size": 16,
  });
  rows.forEach(([label, value], i) => {
    const y = i * kRowHeight;
    const bar = Math.round(((kWidth - kValueRoom) * value) / max);
    chart.append(
      svg("text", { x: 0, y: y + 16, fill: "#212b32" }, label),
      // The track shows the bar's scale even when the figure is 0.
      svg("rect", { x: 0, y: y + 22, width: kWidth - kValueRoom, height: kBarHeight, fill: "#e8edee" }),
      svg("rect", { x: 0, y: y + 22, width: bar, height: kBarHeight, fill: "#005eb8" }),
      svg(
        "text",
        { x: kWidth - kValueRoom + 8, y: y + 22 + kBarHeight - 6, fill: "#212b32", "font-weight": "bold" },
        figures[i] ?? "",
      ),
    );
  });
  return chart;
}

// A chart and the table of its figures, under a heading.
function chartSection(
  id: string,
  title: string,
  headers: [string, string],
  rows: Array<[string, number]>,
  options: { note?: string; figures?: string[]; cells?: Array<[string, string]> } = {},
): HTMLElement {
  const shown = options.figures ?? rows.map(([, v]) => count(v));
  const cells = options.cells ?? rows.map(([label], i) => [label, shown[i]] as [string, string]);
  const figures = table(title, headers, cells, { id: `table-${id}` });
  // The heading above names the table for the eye; its caption still names it for a screen
  // reader's list of tables.
  figures.querySelector("caption")?.classList.add("nhsuk-u-visually-hidden");
  return h(
    "section",
    { class: "nhsuk-u-margin-bottom-7", id: `section-${id}`, "aria-labelledby": `heading-${id}` },
    h("h2", { id: `heading-${id}` }, title),
    options.note ? h("p", { class: "nhsuk-body" }, options.note) : null,
    h(
      "div",
      { class: "nhsuk-grid-row" },
      h("div", { class: "nhsuk-grid-column-one-half nhsuk-u-margin-bottom-4" }, barChart(id, rows, shown)),
      h("div", { class: "nhsuk-grid-column-one-half" }, figures),
    ),
  );
}

function breakdownSection(b: Breakdown, counts: Count[]): HTMLElement {
  return chartSection(b.id, b.title, [b.what, b.counted], rowsOf(b, counts), { note: b.note });
}

// "12.5 days"; "No case yet" when no case got that far.
function days(median: number, cases: bigint): string {
  if (cases === 0n) return "No cases yet";
  return `${median.toLocaleString("en-GB", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} days`;
}

function headline(s: GetStatisticsResponse): HTMLElement {
  const rate = `${Math.round(s.suitabilityRate * 100)}%`;
  return summaryList([
    ["Referrals", count(s.referrals)],
    ["Screening decisions made", count(s.screened)],
    ["Found suitable", s.screened > 0n ? `${count(s.suitable)} (${rate} of those screened)` : "None screened yet"],
    ["Median time to both mediators allocated", `${days(s.medianDaysToAllocation, s.allocated)}${s.allocated ? ` (over ${plural(s.allocated, "case", "cases")})` : ""}`],
    ["Median time to the first session", `${days(s.medianDaysToFirstSession, s.withSessions)}${s.withSessions ? ` (over ${plural(s.withSessions, "case", "cases")})` : ""}`],
  ]);
}

function charts(s: GetStatisticsResponse): HTMLElement[] {
  const notScreened = s.referrals - s.screened;
  const suitability: Array<[string, number]> = [
    ["Suitable", Number(s.suitable)],
    ["Not suitable", Number(s.screened - s.suitable)],
    ["No decision yet", Number(notScreened < 0n ? 0n : notScreened)],
  ];
  // A median over no cases is not 0 days: the bar says "None".
  const median = (v: number, cases: bigint) =>
    cases === 0n ? "None" : v.toLocaleString("en-GB", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const timings: Array<[string, number]> = [
    ["Referral to both mediators allocated", s.medianDaysToAllocation],
    ["Referral to the first session", s.medianDaysToFirstSession],
  ];
  return [
    breakdownSection(kNation, s.referralsByNation),
    breakdownSection(kProfession, s.partiesByProfession),
    chartSection("suitability", "Screening decisions", ["Decision", "Cases"], suitability, {
      note: `${Math.round(s.suitabilityRate * 100)}% of the cases with a screening decision were suitable.`,
    }),
    breakdownSection(kFailedCriteria, s.failedCriteria),
    breakdownSection(kOutcomes, s.outcomes),
    chartSection("timings", "Median days from referral", ["Measure", "Median days"], timings, {
      note: "Over the cases that got that far. Half took less time and half took more.",
      figures: [median(s.medianDaysToAllocation, s.allocated), median(s.medianDaysToFirstSession, s.withSessions)],
      cells: [
        [timings[0][0], days(s.medianDaysToAllocation, s.allocated)],
        [timings[1][0], days(s.medianDaysToFirstSession, s.withSessions)],
      ],
    }),
    breakdownSection(kStates, s.byState),
    breakdownSection(kOrganisationKind, s.referralsByOrganisationKind),
    breakdownSection(kCareSetting, s.referralsByCareSetting),
    breakdownSection(kSector, s.referralsBySector),
  ];
}

// ---- The page ----

function period(from?: CivilDate, to?: CivilDate): string {
  if (from && to) return `Cases referred from ${dateText(from)} to ${dateText(to)}`;
  if (from) return `Cases referred on or after ${dateText(from)}`;
  if (to) return `Cases referred on or before ${dateText(to)}`;
  return "Every case referred";
}

function request(from?: CivilDate, to?: CivilDate) {
  return { referredFrom: from, referredTo: to };
}

async function statisticsPage(context: PageContext): Promise<HTMLElement> {
  const { query } = context;
  // Not checked here: the server says whether it is a real date.
  const from = parseIsoDate(query.get("from"), { real: false });
  const to = parseIsoDate(query.get("to"), { real: false });
  const filter = actionForm(
    "period-form",
    [
      dateInput("referred_from", "Referred from", { value: from, hint: "For example, 1 4 2025" }),
      dateInput("referred_to", "Referred to", { value: to, hint: `For example, ${isoToHint(londonToday())}` }),
    ],
    "Show statistics",
    async (form) => {
      const inNumbers = { format: kDateInNumbers, unreal: null };
      const { date: first, problem: firstProblem } = dateOf(form, "referred_from", inNumbers);
      const { date: last, problem: lastProblem } = dateOf(form, "referred_to", inNumbers);
      const problems: Array<[string, string]> = [];
      if (firstProblem) problems.push(["referred_from", firstProblem]);
      if (lastProblem) problems.push(["referred_to", lastProblem]);
      if (problems.length > 0) throw localProblems(problems);
      // The server checks the period (a real date, not ending before it starts) first.
      await client(StatisticsService).getStatistics(request(first, last));
      const q = new URLSearchParams();
      if (first) q.set("from", isoDate(first));
      if (last) q.set("to", isoDate(last));
      navigate(q.toString() ? `/app/statistics?${q.toString()}` : "/app/statistics");
    },
    "nhsuk-button--secondary",
  );
  const periodChosen = Boolean(from || to);
  let report: HTMLElement[] = [];
  try {
    const s = await client(StatisticsService).getStatistics(request(from, to));
    report = [
      h("p", { class: "nhsuk-body-l", id: "period" }, `${period(from, to)}.`),
      h("p", { class: "nhsuk-body", id: "generated" }, `Made ${when(s.generatedAt)}. The figures count cases, never people's names or details.`),
      headline(s),
      ...(s.referrals === 0n
        ? [inset(h("p", { id: "no-referrals" }, "No cases were referred in this period."))]
        : charts(s)),
    ];
  } catch (error) {
    // A period the server refuses (an address typed by hand): shown on the form.
    if (!(error instanceof ConnectError) || error.code !== Code.InvalidArgument) throw error;
    const form = filter.querySelector("form");
    if (form) showProblems(form, filter.firstElementChild as HTMLElement, problemsOf(messageOf(error)));
  }
  return context.frame(
    "Statistics",
    h("h1", {}, "Statistics"),
    h(
      "details",
      { class: "nhsuk-details", open: periodChosen ? "" : undefined },
      h("summary", { class: "nhsuk-details__summary" }, h("span", { class: "nhsuk-details__summary-text" }, "Choose a period")),
      h(
        "div",
        { class: "nhsuk-details__text" },
        h("p", { class: "nhsuk-body" }, "Count only the cases referred in this period, UK time. Leave a date blank to count from the first case or to the latest."),
        filter,
        periodChosen ? h("p", { class: "nhsuk-body" }, h("a", { href: "/app/statistics", id: "all-time" }, "Show every case")) : null,
      ),
    ),
    ...report,
  );
}

function isoToHint(d: CivilDate): string {
  return `${d.day} ${d.month} ${d.year}`;
}

export const statisticsRoutes: Route[] = [
  { pattern: /^\/app\/statistics$/, roles: kEveryStaffRole, page: statisticsPage },
];
