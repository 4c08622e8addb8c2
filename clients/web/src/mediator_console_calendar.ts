// A mediator's week calendar (/app/calendar) with its sessions as an .ics file, and its own
// availability (/app/availability): working pattern, leave and conflicts of interest, changed
// with the administrator's pages (mediator_availability.ts) for the record the token is bound to,
// and whether it is emailed reminders before its sessions (reminders.ts).
import { Role } from "@gen/ppa/mediation/v1/common_pb";
import { MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";
import { SchedulingService, SessionKind } from "@gen/ppa/mediation/v1/scheduling_pb";

import { client } from "./api";
import { type PageContext, type Route, when, words } from "./app";
import { addDays, dateText, londonToday } from "./dates";
import { h, link, table } from "./dom";
import { conflictPage, leavePage, workingPatternPage } from "./mediator_availability";
import { availabilitySections } from "./mediator_page";
import { takeNotice } from "./page_parts";
import { remindersSection } from "./reminders";
import { calendarDownloadButton, calendarWeek, weekView } from "./scheduling";

const kMediator = [Role.MEDIATOR];
const kAvailability = "/app/availability";

// The calendar file covers this many days from today (ExportMediatorCalendar allows 366).
const kExportDays = 366;

export async function calendarPage(context: PageContext): Promise<HTMLElement> {
  const { monday, sunday } = calendarWeek(context.query);
  // A MEDIATOR token lists only its own sessions.
  const { sessions } = await client(SchedulingService).listSessions({ windowFirstDay: monday, windowLastDay: sunday });
  const first = londonToday();
  const last = addDays(first, kExportDays - 1);
  const mediatorId = context.me.mediatorId;
  return context.frame(
    "Your calendar",
    h("h1", {}, "Your calendar"),
    ...weekView(context.query, monday, sessions),
    h("h2", {}, "Your sessions in Outlook or another calendar"),
    h(
      "p",
      { class: "nhsuk-body", id: "calendar-file-hint" },
      `A calendar file of every session you take part in from ${dateText(first)} to ${dateText(last)}. It names the case and the kind of meeting, never the parties.`,
    ),
    calendarDownloadButton("download-calendar", "Download your calendar (.ics)", "mediation-calendar.ics", () =>
      client(SchedulingService).exportMediatorCalendar({ mediatorId, firstDay: first, lastDay: last }),
    ),
  );
}

// The mediator's sessions that a change of leave, pattern or availability left needing
// rescheduling; null when there are none.
async function needingRescheduling(): Promise<HTMLElement | null> {
  const { sessions } = await client(SchedulingService).listSessions({ needsRescheduling: true, pageSize: 500 });
  if (sessions.length === 0) return null;
  const list = table(
    "Sessions that need rescheduling",
    ["When", "Case", "Meeting", "Why"],
    sessions.map((s) => [
      link(`/app/sessions/${s.id}`, when(s.start)),
      link(`/app/cases/${s.caseId}`, s.caseReference),
      words(SessionKind[s.kind]),
      s.needsReschedulingReason || "Needs rescheduling",
    ]),
    { id: "rescheduling-sessions" },
  );
  // The heading names the table; its caption stays for screen readers.
  list.querySelector("caption")?.classList.add("nhsuk-u-visually-hidden");
  return h(
    "div",
    {},
    h("h2", { id: "rescheduling" }, "Sessions that need rescheduling"),
    h("p", { class: "nhsuk-body" }, "They stay booked until the case support team or you move or cancel them."),
    list,
  );
}

async function availabilityPage(context: PageContext): Promise<HTMLElement> {
  const [{ mediator: m }, rescheduling, reminders] = await Promise.all([
    client(MediatorService).getMediator({ mediatorId: context.me.mediatorId }),
    needingRescheduling(),
    remindersSection(kAvailability),
  ]);
  if (!m) throw new Error("the server did not return your record");
  const problems = h("div", {});
  const sections = await availabilitySections(m, context.me.role, problems, kAvailability);
  return context.frame(
    "Your availability",
    takeNotice(kAvailability),
    problems,
    h("h1", {}, "Your availability"),
    h(
      "p",
      { class: "nhsuk-body" },
      "When you can be offered session times, and the cases you must not be offered. Sessions already booked stay booked when you change them, and are marked as needing rescheduling.",
    ),
    rescheduling,
    ...sections,
    reminders,
  );
}

// The administrator's pages, for the signed-in mediator's own record (they take the mediator
// from WhoAmI when the token is a MEDIATOR's).
export const availabilityRoutes: Route[] = [
  { pattern: /^\/app\/availability$/, roles: kMediator, page: availabilityPage },
  { pattern: /^\/app\/availability\/working-pattern$/, roles: kMediator, page: workingPatternPage },
  { pattern: /^\/app\/availability\/leave\/new$/, roles: kMediator, page: leavePage },
  { pattern: /^\/app\/availability\/conflicts\/new$/, roles: kMediator, page: conflictPage },
];
