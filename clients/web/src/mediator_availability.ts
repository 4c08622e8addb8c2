// The administrator's pages that change when a mediator can work and what they may not take:
//   /app/mediators/<id>/working-pattern   the weekly working pattern (SetWorkingPattern)
//   /app/mediators/<id>/leave/new         a period of leave (AddLeave)
//   /app/mediators/<id>/conflicts/new     a conflict of interest (DeclareConflict)
// Each returns to the mediator's page with what changed, and with the booked sessions the change
// left needing rescheduling.
// A mediator changes its own record with the same pages at /app/availability/working-pattern,
// /leave/new and /conflicts/new (mediator_console.ts): the record is the one its token is bound
// to (WhoAmI), never one named in the address, and the pages return to /app/availability.
import { Role } from "@gen/ppa/mediation/v1/common_pb";
import { ConflictKind, type Mediator, MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";

import { client } from "./api";
import { navigate, type PageContext } from "./app";
import { backLink, h, inset } from "./dom";
import { dateText } from "./dates";
import { button, dateInput, dateOf, kDateHint, localProblems, onSubmit, radios, select, textarea, textInput, valueOf } from "./forms";
import { clock, collisionList, sortedHours } from "./mediator_parts";
import { choices, kConflictKinds, kWeekdays } from "./mediation_words";
import { idempotencyKey, noticeFor, renameFields } from "./page_parts";

// The record a page changes, where the page returns to, and its title: the administrator's
// (`/app/mediators/<id>/...`: "<what> for <name>") or the signed-in mediator's own ("Your ...").
async function readMediator(
  context: PageContext,
  titles: { admin: (name: string) => string; own: string },
): Promise<{ m: Mediator; path: string; title: string; back: HTMLElement }> {
  const own = context.me.role === Role.MEDIATOR;
  const mediatorId = own ? context.me.mediatorId : BigInt(context.match[1]);
  const { mediator: m } = await client(MediatorService).getMediator({ mediatorId });
  if (!m) throw new Error("the server did not return the mediator");
  const name = m.contact?.name || `Mediator ${m.id}`;
  const path = own ? "/app/availability" : `/app/mediators/${m.id}`;
  return {
    m,
    path,
    title: own ? titles.own : titles.admin(name),
    back: backLink(path, own ? "Back to your availability" : `Back to ${name}`),
  };
}

// --- Working pattern ------------------------------------------------------------------------

interface Stretch {
  weekday: string;
  start: string;
  end: string;
}

// "9:00", "09:00" -> {hours, minutes}; undefined when not a time of day.
function timeOfDay(text: string): { hours: number; minutes: number } | undefined {
  const match = /^(\d{1,2})[:.](\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  return hours <= 23 && minutes <= 59 ? { hours, minutes } : undefined;
}

// One stretch of working time: the day, its start and its end, with the ids the server's
// field paths give ("hours[2].end" -> "hours-2-end").
function stretchFields(index: number, stretch: Stretch, remove: () => void): HTMLElement {
  const prefix = `hours-${index}`;
  const item = (control: HTMLElement) => h("div", { class: "nhsuk-date-input__item" }, control);
  const removeButton = h(
    "button",
    { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small", id: `${prefix}-remove` },
    "Remove",
    h("span", { class: "nhsuk-u-visually-hidden" }, ` working time ${index + 1}`),
  );
  removeButton.addEventListener("click", remove);
  return h(
    "fieldset",
    { class: "nhsuk-fieldset", id: `${prefix}` },
    h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, `Working time ${index + 1}`),
    h(
      "div",
      { class: "nhsuk-date-input" },
      item(
        select(
          `${prefix}-weekday`,
          "Day",
          kWeekdays.map((day, i) => [String(i + 1), day]),
          { value: stretch.weekday },
        ),
      ),
      item(textInput(`${prefix}-start`, "Start", { classes: "nhsuk-input--width-5", value: stretch.start })),
      item(textInput(`${prefix}-end`, "End", { classes: "nhsuk-input--width-5", value: stretch.end })),
    ),
    removeButton,
  );
}

export async function workingPatternPage(context: PageContext): Promise<HTMLElement> {
  const { m, path, title, back } = await readMediator(context, {
    admin: (name) => `Working pattern for ${name}`,
    own: "Your working pattern",
  });
  let stretches: Stretch[] = sortedHours(m.workingPattern).map((w) => ({
    weekday: String(w.weekday),
    start: clock(w.start),
    end: clock(w.end),
  }));
  const list = h("div", { id: "hours-list" });
  const problems = h("div", {});
  // What the fields hold now (so adding or removing a stretch keeps what was typed).
  const current = (): Stretch[] =>
    stretches.map((_, i) => ({
      weekday: valueOf(form, `hours-${i}-weekday`),
      start: valueOf(form, `hours-${i}-start`),
      end: valueOf(form, `hours-${i}-end`),
    }));
  const draw = (focus?: string) => {
    list.replaceChildren(
      ...(stretches.length === 0
        ? [h("p", { class: "nhsuk-body", id: "no-hours" }, "No working time: the mediator will not be offered any session times.")]
        : stretches.map((s, i) =>
            stretchFields(i, s, () => {
              stretches = current();
              stretches.splice(i, 1);
              draw(stretches.length > 0 ? `hours-${Math.min(i, stretches.length - 1)}-weekday` : "add-hours");
            }),
          )),
    );
    if (focus) form.querySelector<HTMLElement>(`[id="${focus}"]`)?.focus();
  };
  const add = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary", id: "add-hours" }, "Add working time");
  add.addEventListener("click", () => {
    stretches = current();
    const last = stretches[stretches.length - 1];
    const weekday = last ? String((Number(last.weekday) % 7) + 1) : "1";
    stretches.push({ weekday, start: last?.start ?? "09:00", end: last?.end ?? "17:00" });
    draw(`hours-${stretches.length - 1}-weekday`);
  });
  const form = h(
    "form",
    { novalidate: "", id: "working-pattern-form" },
    h(
      "div",
      { class: "nhsuk-form-group", id: "hours-group" },
      h(
        "fieldset",
        { class: "nhsuk-fieldset", "aria-describedby": "hours-hint", id: "hours", tabindex: "-1" },
        h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, "Weekly working time"),
        h(
          "div",
          { class: "nhsuk-hint", id: "hours-hint" },
          "UK time (Europe/London), as a 24-hour clock, for example 09:00 to 17:30. A day can have more than one stretch, for example 09:00 to 12:00 and 13:00 to 17:00.",
        ),
        list,
      ),
    ),
    add,
    h("div", {}, button("Save the working pattern", { id: "working-pattern-submit" })),
  );
  draw();
  onSubmit(form, problems, async () => {
    const read = current();
    const local: Array<[string, string]> = [];
    const hours = read.map((s, i) => {
      const start = timeOfDay(s.start);
      const end = timeOfDay(s.end);
      if (!start) local.push([`hours[${i}].start`, "enter a time such as 09:00"]);
      if (!end) local.push([`hours[${i}].end`, "enter a time such as 17:00"]);
      return { weekday: Number(s.weekday), start, end };
    });
    if (local.length > 0) throw localProblems(local);
    const saved = await client(MediatorService)
      .setWorkingPattern({ mediatorId: m.id, hours, etag: m.etag })
      .catch((error: unknown) => {
        throw renameFields(error, (field) => field);
      });
    const collisions = collisionList(saved.collisions);
    noticeFor(path, "The working pattern is saved.", ...(collisions ? [collisions] : []));
    navigate(path);
  });
  return context.frame(
    title,
    back,
    problems,
    h("h1", {}, title),
    h(
      "p",
      { class: "nhsuk-body" },
      "Sessions already booked outside the new pattern stay booked and are marked as needing rescheduling.",
    ),
    form,
  );
}

// --- Leave ----------------------------------------------------------------------------------

export async function leavePage(context: PageContext): Promise<HTMLElement> {
  const { m, path, title, back } = await readMediator(context, {
    admin: (name) => `Add leave for ${name}`,
    own: "Add leave",
  });
  const key = idempotencyKey();
  const problems = h("div", {});
  const form = h(
    "form",
    { novalidate: "", id: "leave-form" },
    dateInput("leave-first_day", "First day of leave", { hint: kDateHint }),
    dateInput("leave-last_day", "Last day of leave", { hint: "The same as the first day for one day. For example, 31 3 2027" }),
    textarea("leave-note", "Note (optional)", { hint: "Seen only by the service, for example annual leave or ill health." }),
    button("Add the leave", { id: "leave-submit" }),
  );
  onSubmit(form, problems, async () => {
    const first = dateOf(form, "leave-first_day");
    const last = dateOf(form, "leave-last_day");
    const local: Array<[string, string]> = [];
    if (first.problem) local.push(["leave.first_day", first.problem]);
    if (last.problem) local.push(["leave.last_day", last.problem]);
    if (local.length > 0) throw localProblems(local);
    const added = await client(MediatorService).addLeave({
      mediatorId: m.id,
      leave: { firstDay: first.date, lastDay: last.date, note: valueOf(form, "leave-note") },
      idempotencyKey: key,
    });
    const collisions = collisionList(added.collisions);
    noticeFor(
      path,
      `Leave from ${dateText(added.leave?.firstDay)} to ${dateText(added.leave?.lastDay)} is added.`,
      ...(collisions ? [collisions] : []),
    );
    navigate(path);
  });
  return context.frame(
    title,
    back,
    problems,
    h("h1", {}, title),
    h(
      "p",
      { class: "nhsuk-body" },
      "Whole days, UK time. Sessions already booked in the leave stay booked and are marked as needing rescheduling.",
    ),
    form,
  );
}

// --- Conflicts of interest ------------------------------------------------------------------

async function allOrganisations(): Promise<Array<[string, string]>> {
  const list: Array<[string, string]> = [];
  let token = "";
  for (let i = 0; i < 20; ++i) {
    const page = await client(OrganisationService).listOrganisations({ pageSize: 500, pageToken: token });
    list.push(...page.organisations.map((o): [string, string] => [String(o.id), o.name]));
    token = page.nextPageToken;
    if (!token) break;
  }
  return list;
}

export async function conflictPage(context: PageContext): Promise<HTMLElement> {
  // A mediator may not read the organisations' list (ListOrganisations): it declares conflicts
  // with people and cases; one with an organisation is recorded by declining an offer for it,
  // or by the service.
  const own = context.me.role === Role.MEDIATOR;
  const [{ m, path, title, back }, organisations] = await Promise.all([
    readMediator(context, {
      admin: (name) => `Declare a conflict of interest for ${name}`,
      own: "Declare a conflict of interest",
    }),
    own ? Promise.resolve([]) : allOrganisations(),
  ]);
  const key = idempotencyKey();
  const problems = h("div", {});
  // The fields each kind of conflict takes; the others are hidden.
  const byKind: Array<[ConflictKind, HTMLElement[]]> = [
    [
      ConflictKind.ORGANISATION,
      [select("conflict-organisation_id", "Organisation", [["0", "Choose an organisation"], ...organisations])],
    ],
    [
      ConflictKind.PERSON,
      [
        textInput("conflict-person_name", "The person's full name"),
        textInput("conflict-person_email", "The person's email address", {
          type: "email",
          hint: "Give the name, the email address or both: parties are matched on either.",
        }),
      ],
    ],
    [
      ConflictKind.CASE,
      [
        textInput("conflict-case_id", "Case number", {
          hint: "The number at the end of the case's address, /app/cases/<number>",
          classes: "nhsuk-input--width-10",
          inputmode: "numeric",
        }),
      ],
    ],
  ];
  const kinds = own ? kConflictKinds.filter(([kind]) => kind !== ConflictKind.ORGANISATION) : kConflictKinds;
  const kindRadios = radios("conflict-kind", "Who or what is the conflict with?", choices(kinds));
  const form = h(
    "form",
    { novalidate: "", id: "conflict-form" },
    kindRadios,
    ...byKind.filter(([kind]) => kinds.some(([k]) => k === kind)).flatMap(([, groups]) => groups),
    textarea("conflict-note", "Note (optional)", { hint: "For example, how the mediator knows them." }),
    button("Declare the conflict", { id: "conflict-submit" }),
  );
  const show = () => {
    const kind = Number(valueOf(form, "conflict-kind") || "0");
    for (const [k, groups] of byKind) for (const group of groups) group.hidden = k !== kind;
  };
  kindRadios.addEventListener("change", show);
  show();
  onSubmit(form, problems, async () => {
    const kind = Number(valueOf(form, "conflict-kind") || "0") as ConflictKind;
    const caseText = valueOf(form, "conflict-case_id");
    if (kind === ConflictKind.CASE && caseText && !/^\d+$/.test(caseText)) {
      throw localProblems([["conflict.case_id", "enter the case number, for example 12"]]);
    }
    const declared = client(MediatorService).declareConflict({
      mediatorId: m.id,
      conflict: {
        kind,
        organisationId: kind === ConflictKind.ORGANISATION ? BigInt(valueOf(form, "conflict-organisation_id") || "0") : 0n,
        personName: kind === ConflictKind.PERSON ? valueOf(form, "conflict-person_name") : "",
        personEmail: kind === ConflictKind.PERSON ? valueOf(form, "conflict-person_email") : "",
        caseId: kind === ConflictKind.CASE ? BigInt(caseText || "0") : 0n,
        note: valueOf(form, "conflict-note"),
      },
      idempotencyKey: key,
    });
    // "conflict: a PERSON conflict needs the person's name or email" belongs to the name field.
    const { conflict } = await declared.catch((error: unknown) => {
      throw renameFields(error, (field) => (field === "conflict" ? "conflict.person_name" : field));
    });
    const organisation = organisations.find(([id]) => id === String(conflict?.organisationId))?.[1];
    const subject =
      kind === ConflictKind.ORGANISATION
        ? organisation ?? `organisation ${conflict?.organisationId}`
        : kind === ConflictKind.PERSON
          ? [conflict?.personName, conflict?.personEmail].filter(Boolean).join(", ")
          : `case ${conflict?.caseId}`;
    noticeFor(path, `The conflict of interest with ${subject} is declared.`);
    navigate(path);
  });
  return context.frame(
    title,
    back,
    problems,
    h("h1", {}, title),
    h(
      "p",
      { class: "nhsuk-body" },
      own
        ? "Allocation never proposes you for a case the conflict touches."
        : "Allocation never proposes the mediator for a case the conflict touches.",
    ),
    own
      ? inset(
          "For a conflict with a whole organisation, decline the offer of its case and say the conflict is with the organisation, or ask the case support team to record it.",
        )
      : null,
    form,
  );
}
