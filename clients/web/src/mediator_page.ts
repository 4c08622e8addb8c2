// A mediator's record (/app/mediators/<id>): details, the flags that matter for allocation,
// working pattern, leave and conflicts of interest. Administrators, who alone may change the
// registry, also get the links to change each part and the buttons to remove leave and
// conflicts. The working pattern, leave and conflicts are also the mediator's own availability
// page (availabilitySections, for mediator_console.ts), where it changes them itself.
import { timestampDate } from "@bufbuild/protobuf/wkt";

import { Role } from "@gen/ppa/mediation/v1/common_pb";
import {
  type Conflict,
  ConflictKind,
  ConflictSource,
  type Leave,
  type Mediator,
  MediatorService,
} from "@gen/ppa/mediation/v1/mediator_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";

import { client } from "./api";
import { kStaff, londonDate, type PageContext, rerender, when } from "./app";
import { dateText, dayNumber } from "./dates";
import { backLink, h, link, summaryList, table, tag, warningCallout } from "./dom";
import {
  accreditationText,
  clock,
  experienceText,
  flagsOf,
  nationsText,
  sortedHours,
  weekdayText,
} from "./mediator_parts";
import { conflictSourceText, count, kConflictKinds, label } from "./mediation_words";
import { actionButton, actionLink, noticeFor, responsiveTable, takeNotice } from "./page_parts";

// The names of the organisations the mediator's conflicts name, by id (only "Organisation <id>"
// for a MEDIATOR token, which may not read organisations).
async function organisationNames(m: Mediator, role: Role): Promise<Map<bigint, string>> {
  const names = new Map<bigint, string>();
  if (role === Role.MEDIATOR) return names;
  const ids = [...new Set(m.conflicts.filter((c) => c.kind === ConflictKind.ORGANISATION).map((c) => c.organisationId))];
  await Promise.all(
    ids.map(async (id) => {
      const found = await client(OrganisationService)
        .getOrganisation({ organisationId: id })
        .catch(() => undefined);
      names.set(id, found?.organisation?.name || `Organisation ${id}`);
    }),
  );
  return names;
}

function details(m: Mediator): HTMLElement {
  const contact = m.contact;
  return summaryList([
    ["Email", contact?.email || "Not known"],
    ["Telephone", contact?.phone || "Not given"],
    ["Job title", contact?.jobTitle || "Not given"],
    ["Accreditation", accreditationText(m)],
    ["Registration number", m.accreditation?.registrationNumber || "Not known"],
    ["Accreditation valid until", dateText(m.accreditation?.expiresOn)],
    ["Insurance valid until", dateText(m.insuranceExpiresOn)],
    ["CPD in the last 12 months", count(m.cpdHoursLast12Months, "hour", "hours")],
    ["Nations covered", nationsText(m)],
    ["Languages", m.languages.length ? m.languages.join(", ") : "None recorded"],
    ["Experience", experienceText(m)],
    ["Current cases", `${m.currentCases} (at most ${m.maxConcurrentCases})`],
    ["Status", m.active ? "Active" : "Inactive"],
    ["Last allocated", m.lastAllocatedAt ? when(m.lastAllocatedAt) : "Never"],
    ["Registered", m.createdAt ? londonDate(timestampDate(m.createdAt)) : "Not known"],
  ]);
}

// `changeBase`, where the parts of the record are changed (/app/mediators/<id> for an
// administrator, /app/availability for the mediator itself); undefined for those who only read.
function workingPattern(m: Mediator, changeBase: string | undefined): Array<Node | null> {
  const hours = sortedHours(m.workingPattern);
  return [
    h("h2", { id: "working-pattern" }, "Working pattern"),
    hours.length === 0
      ? h("p", { class: "nhsuk-body", id: "no-working-hours" }, "No working hours are set, so the mediator is not offered any session times.")
      : table(
          "Working hours, UK time",
          ["Day", "From", "To"],
          hours.map((w) => [weekdayText(w.weekday), clock(w.start), clock(w.end)]),
          { id: "working-hours" },
        ),
    changeBase ? actionLink(`${changeBase}/working-pattern`, "Change the working pattern", "change-working-pattern") : null,
  ];
}

function leaveSection(m: Mediator, changeBase: string | undefined, problems: HTMLElement): Array<Node | null> {
  const changing = changeBase !== undefined;
  const withheld = new Set(m.withheld.map((w) => w.field));
  const path = window.location.pathname;
  const rows = m.leave
    .map((leave, index) => ({ leave, index }))
    .sort((a, b) => dayNumber(a.leave.firstDay!) - dayNumber(b.leave.firstDay!));
  const period = (l: Leave) => `${dateText(l.firstDay)} to ${dateText(l.lastDay)}`;
  const remove = (l: Leave) =>
    actionButton("Remove", `leave from ${period(l)}`, problems, async () => {
      await client(MediatorService).removeLeave({ mediatorId: m.id, leaveId: l.id });
      noticeFor(path, `Leave from ${period(l)} removed.`);
      await rerender();
    }, { id: `remove-leave-${l.id}` });
  return [
    h("h2", { id: "leave" }, "Leave"),
    rows.length === 0
      ? h("p", { class: "nhsuk-body", id: "no-leave" }, "No leave is recorded.")
      : responsiveTable(
          "Leave (whole days)",
          ["From", "To", "Note", ...(changing ? ["Action"] : [])],
          rows.map(({ leave, index }) => [
            dateText(leave.firstDay),
            dateText(leave.lastDay),
            withheld.has(`leave[${index}].note`) ? "The note could not be read" : leave.note || "None",
            ...(changing ? [remove(leave)] : []),
          ]),
          { id: "leave-list" },
        ),
    changeBase ? actionLink(`${changeBase}/leave/new`, "Add leave", "add-leave") : null,
  ];
}

function conflictSubject(c: Conflict, organisations: Map<bigint, string>, staff: boolean): Node | string {
  if (c.kind === ConflictKind.ORGANISATION) {
    const name = organisations.get(c.organisationId) ?? `Organisation ${c.organisationId}`;
    return staff ? link(`/app/organisations/${c.organisationId}`, name) : name;
  }
  if (c.kind === ConflictKind.PERSON) {
    return [c.personName, c.personEmail].filter(Boolean).join(", ");
  }
  if (c.kind === ConflictKind.CASE) {
    return staff ? link(`/app/cases/${c.caseId}`, `Case ${c.caseId}`) : `Case ${c.caseId}`;
  }
  return "Not known";
}

function conflictSection(
  m: Mediator,
  role: Role,
  problems: HTMLElement,
  organisations: Map<bigint, string>,
  changeBase: string | undefined,
): Array<Node | null> {
  const changing = changeBase !== undefined;
  // A conflict found when declining an offer is removed by an administrator only (RemoveConflict).
  const removable = (c: Conflict) => role === Role.ADMIN || c.source !== ConflictSource.DISCOVERED;
  const staff = kStaff.includes(role);
  const withheld = new Set(m.withheld.map((w) => w.field));
  const path = window.location.pathname;
  const subjectText = (c: Conflict) => {
    const subject = conflictSubject(c, organisations, false);
    return typeof subject === "string" ? subject : subject.textContent ?? "";
  };
  const remove = (c: Conflict) =>
    actionButton("Remove", `the conflict with ${subjectText(c)}`, problems, async () => {
      await client(MediatorService).removeConflict({ mediatorId: m.id, conflictId: c.id });
      noticeFor(path, `The conflict of interest with ${subjectText(c)} is removed.`);
      await rerender();
    }, { id: `remove-conflict-${c.id}` });
  return [
    h("h2", { id: "conflicts" }, "Conflicts of interest"),
    h(
      "p",
      { class: "nhsuk-body" },
      "The mediator is never proposed for a case that involves one of these organisations, people or cases.",
    ),
    m.conflicts.length === 0
      ? h("p", { class: "nhsuk-body", id: "no-conflicts" }, "No conflicts of interest are recorded.")
      : responsiveTable(
          "Conflicts of interest",
          ["With", "Kind", "How it was recorded", "Recorded", "Note", ...(changing ? ["Action"] : [])],
          m.conflicts.map((c, index) => [
            conflictSubject(c, organisations, staff),
            label(kConflictKinds, c.kind),
            conflictSourceText(c.source),
            when(c.recordedAt),
            withheld.has(`conflicts[${index}].note`) ? "The note could not be read" : c.note || "None",
            ...(changing ? [removable(c) ? remove(c) : "Only an administrator can remove it"] : []),
          ]),
          { id: "conflict-list" },
        ),
    changeBase ? actionLink(`${changeBase}/conflicts/new`, "Declare a conflict of interest", "declare-conflict") : null,
  ];
}

// The working pattern, leave and conflicts of interest, with (when `changeBase` is given) the
// links to change them and the buttons to remove leave and conflicts; refusals go in `problems`.
export async function availabilitySections(
  m: Mediator,
  role: Role,
  problems: HTMLElement,
  changeBase: string | undefined,
): Promise<Array<Node | null>> {
  const organisations = await organisationNames(m, role);
  return [
    ...workingPattern(m, changeBase),
    ...leaveSection(m, changeBase, problems),
    ...conflictSection(m, role, problems, organisations, changeBase),
  ];
}

export async function mediatorPage(context: PageContext): Promise<HTMLElement> {
  const { mediator: m } = await client(MediatorService).getMediator({ mediatorId: BigInt(context.match[1]) });
  if (!m) throw new Error("the server did not return the mediator");
  const admin = context.me.role === Role.ADMIN;
  const name = m.contact?.name || `Mediator ${m.id}`;
  const flags = flagsOf(m);
  const problems = h("div", {});
  const sections = await availabilitySections(m, context.me.role, problems, admin ? `/app/mediators/${m.id}` : undefined);
  return context.frame(
    name,
    backLink("/app/mediators", "Back to mediators"),
    takeNotice(window.location.pathname),
    problems,
    h("h1", {}, name),
    flags.length
      ? h("p", { class: "nhsuk-body", id: "mediator-flags" }, ...flags.flatMap((f) => [tag(f.text, f.colour), " "]))
      : null,
    h("h2", {}, "Details"),
    flags.length
      ? warningCallout(
          "Check before allocating",
          h("ul", { class: "nhsuk-list nhsuk-list--bullet" }, ...flags.map((f) => h("li", {}, f.detail))),
        )
      : null,
    details(m),
    admin ? actionLink(`/app/mediators/${m.id}/edit`, "Change the mediator's details", "change-details") : null,
    ...sections,
  );
}
