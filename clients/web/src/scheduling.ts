// Scheduling: a case's sessions and finding and booking a time (/app/cases/<id>/sessions), a
// session's page with its people, place, history, .ics file, reschedule and cancel
// (/app/sessions/<id>), and the week calendar of everyone, one mediator or one case
// (/app/calendar?week=YYYY-MM-DD&mediator=<id>&case=<id>). The mediator's console
// (mediator_console*.ts) draws its session page and week from the pieces exported here.
import { timestampDate } from "@bufbuild/protobuf/wkt";

import { CaseState, SessionMode } from "@gen/ppa/mediation/v1/common_pb";
import type { Case } from "@gen/ppa/mediation/v1/referral_pb";
import {
  type CalendarExport,
  SchedulingService,
  type Session,
  SessionKind,
  SessionState,
  type Slot,
} from "@gen/ppa/mediation/v1/scheduling_pb";

import { client, messageOf } from "./api";
import { kStaff, navigate, type PageContext, rerender, type Route, when, words } from "./app";
import { caseHeading, caseNavigation, loadCase } from "./cases";
import { backLink, details, h, inset, link, summaryList, table, tag } from "./dom";
import { actionForm, radios, select, showProblems, textarea, textInput, valueOf } from "./forms";
import { addDays, type CivilDate, dateText, dayChoices, isoDate, londonToday, parseIsoDate, weekday } from "./dates";
import { mediatorNames } from "./lookups";

const kDurations: Array<[string, string]> = [
  ["60", "1 hour"],
  ["90", "1 hour 30 minutes"],
  ["120", "2 hours"],
  ["180", "3 hours"],
  ["240", "4 hours"],
  ["360", "6 hours"],
];

export function sessionTitle(s: Session, c?: Case): string {
  const kind = words(SessionKind[s.kind]);
  if (s.kind !== SessionKind.INDIVIDUAL_MEETING || !c) return kind;
  const party = c.parties.find((p) => p.id === s.partyId)?.contact?.name;
  return party ? `${kind} with ${party}` : kind;
}

export function sessionState(s: Session): HTMLElement {
  if (s.state === SessionState.CANCELLED) return tag("Cancelled", "grey");
  if (s.needsRescheduling) return tag("Needs rescheduling", "orange");
  return tag("Scheduled", "blue");
}

export function timeRange(s: { start?: Session["start"]; end?: Session["end"] }): string {
  if (!s.start || !s.end) return "Not known";
  const end = new Intl.DateTimeFormat("en-GB", { timeStyle: "short", timeZone: "Europe/London" }).format(
    timestampDate(s.end),
  );
  return `${when(s.start)} to ${end}`;
}

// A button that downloads an iCalendar file from the API as `filename` (the browser saves it;
// nothing goes in a URL).
export function calendarDownloadButton(
  id: string,
  text: string,
  filename: string,
  load: () => Promise<{ calendar?: CalendarExport }>,
): HTMLElement {
  const button = h("button", { class: "nhsuk-button nhsuk-button--secondary", type: "button", id }, text);
  button.addEventListener("click", () => {
    void load().then(({ calendar }) => {
      const blob = new Blob([calendar?.ics ?? ""], { type: calendar?.contentType || "text/calendar" });
      const anchor = document.createElement("a");
      anchor.href = URL.createObjectURL(blob);
      anchor.download = filename;
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
      setTimeout(() => URL.revokeObjectURL(anchor.href), 10_000);
    });
  });
  return button;
}

// Downloads the session's iCalendar file.
export function icsButton(sessionId: bigint): HTMLElement {
  return calendarDownloadButton("download-ics", "Download the calendar file (.ics)", `session-${sessionId}.ics`, () =>
    client(SchedulingService).exportSessionCalendar({ sessionId }),
  );
}

function slotsTable(
  slots: Slot[],
  caption: string,
  buttonText: string,
  onChoose: (slot: Slot, button: HTMLButtonElement) => void,
): HTMLElement {
  return table(
    caption,
    ["Starts", "Ends", ""],
    slots.map((slot, i) => {
      const choose = h(
        "button",
        { class: "nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0", type: "button", id: `slot-${i}` },
        buttonText,
        h("span", { class: "nhsuk-u-visually-hidden" }, ` ${when(slot.start)}`),
      ) as HTMLButtonElement;
      choose.addEventListener("click", () => onChoose(slot, choose));
      return [when(slot.start), when(slot.end), choose];
    }),
    { id: "slots" },
  );
}

// ---- A case's sessions -----------------------------------------------------------------

// The case's sessions, each linked to its page; an inset when there are none.
export function sessionsTable(sessions: Session[], c: Case): HTMLElement {
  return sessions.length
    ? table(
        "Sessions",
        ["Meeting", "When", "How", "State"],
        sessions.map((s) => [
          link(`/app/sessions/${s.id}`, sessionTitle(s, c)),
          timeRange(s),
          s.mode === SessionMode.IN_PERSON ? `In person at ${s.venueName}` : "By video",
          sessionState(s),
        ]),
        { id: "sessions" },
      )
    : inset("No session has been booked for this case.");
}

async function caseSessionsPage(context: PageContext): Promise<HTMLElement> {
  const c = await loadCase(context.match[1]);
  const scheduling = client(SchedulingService);
  const [{ sessions }, { venues }] = await Promise.all([
    scheduling.listSessions({ caseId: c.id, includeCancelled: true }),
    scheduling.listVenues({}),
  ]);
  const list = sessionsTable(sessions, c);

  const bookable = [CaseState.MEDIATORS_ALLOCATED, CaseState.SESSIONS_SCHEDULED, CaseState.IN_MEDIATION, CaseState.OUTCOME_RECORDED, CaseState.FOLLOW_UP].includes(c.state);
  const content: Array<Node | null> = [
    ...caseHeading(c, "Sessions"),
    caseNavigation(c, `/app/cases/${c.id}/sessions`),
    list,
    h("p", { class: "nhsuk-body" }, link(`/app/calendar?case=${c.id}`, "See this case's sessions in the week calendar")),
  ];
  if (!bookable) {
    content.push(inset(`Sessions are booked once both mediators have accepted. This case is ${words(CaseState[c.state]).toLowerCase()}.`));
    return context.frame(`Sessions - Case ${c.reference}`, ...content);
  }

  // The search is in the address, so a reload or the back button shows the same times (not the
  // video link: whoever has it can join the meeting).
  const q = context.query;
  const today = londonToday();
  const problems = h("div", {});
  const results = h("div", { id: "slot-results" });
  const searchFields: Array<Node | null> = [
    radios("kind", "Which meeting?", [
      [String(SessionKind.INDIVIDUAL_MEETING), "An individual meeting with one party"],
      [String(SessionKind.JOINT_MEETING), "The joint meeting"],
      [String(SessionKind.FOLLOW_UP_REVIEW), "The follow-up review"],
    ], { value: q.get("kind") ?? undefined }),
    select("party_id", "Party (for an individual meeting)", [["0", "Choose a party"], ...c.parties.map((p): [string, string] => [String(p.id), p.contact?.name ?? `Party ${p.id}`])], { value: q.get("party") ?? "0" }),
    radios("mode", "How?", [
      [String(SessionMode.IN_PERSON), "In person"],
      [String(SessionMode.VIDEO), "By video"],
    ], { value: q.get("mode") ?? undefined, inline: true }),
    select("venue_id", "Venue (in person)", [["0", "Choose a venue"], ...venues.map((v): [string, string] => [String(v.id), `${v.name}, ${v.address}`])], { value: q.get("venue") ?? "0" }),
    textInput("video_link", "Video link (by video)", { type: "url", hint: "An https:// link the parties and mediators will use." }),
    select("duration_minutes", "How long?", kDurations, { value: q.get("duration") ?? "120" }),
    select("window_first_day", "Earliest day", dayChoices(today, 0, 90), { value: q.get("from") ?? undefined }),
    select("window_last_day", "Latest day", dayChoices(today, 7, 180), { value: q.get("to") ?? isoDate(addDays(today, 28)) }),
  ];
  const search = actionForm("find-slots", searchFields, "Find times", async (form) => {
    const params = new URLSearchParams({
      kind: valueOf(form, "kind"),
      party: valueOf(form, "party_id"),
      mode: valueOf(form, "mode"),
      venue: valueOf(form, "venue_id"),
      duration: valueOf(form, "duration_minutes"),
      from: valueOf(form, "window_first_day"),
      to: valueOf(form, "window_last_day"),
    });
    window.history.replaceState({}, "", `${window.location.pathname}?${params.toString()}`);
    await showSlots(form);
  });
  const searchForm = search.querySelector("form") as HTMLElement;

  async function showSlots(form: HTMLElement): Promise<void> {
    const kind = Number(valueOf(form, "kind") || "0") as SessionKind;
    const mode = Number(valueOf(form, "mode") || "0") as SessionMode;
    const request = {
      caseId: c.id,
      kind,
      partyId: kind === SessionKind.INDIVIDUAL_MEETING ? BigInt(valueOf(form, "party_id") || "0") : 0n,
      mode,
      venueId: mode === SessionMode.IN_PERSON ? BigInt(valueOf(form, "venue_id") || "0") : 0n,
      durationMinutes: Number(valueOf(form, "duration_minutes")),
      windowFirstDay: parseIsoDate(valueOf(form, "window_first_day")) ?? undefined,
      windowLastDay: parseIsoDate(valueOf(form, "window_last_day")) ?? undefined,
    };
    const found = await scheduling.findSlots(request);
    if (found.slots.length === 0) {
      results.replaceChildren(
        h("h2", {}, "No time fits"),
        inset(
          ...[
            found.unmetAccessNeeds,
            found.mostBlocking ? `The most blocking: ${found.mostBlocking} (not free for ${found.blockedMinutes} minutes of the window).` : "",
          ].filter(Boolean),
        ),
      );
      return;
    }
    results.replaceChildren(
      h("h2", { id: "slots-heading", tabindex: "-1" }, "Times when everyone is free"),
      slotsTable(found.slots, "The earliest times first", "Book this time", (slot, button) => {
        button.disabled = true;
        scheduling
          .bookSession({
            caseId: c.id,
            kind,
            partyId: request.partyId,
            mode,
            venueId: request.venueId,
            videoLink: mode === SessionMode.VIDEO ? valueOf(form, "video_link") : "",
            start: slot.start,
            durationMinutes: request.durationMinutes,
          })
          .then(({ session }) => navigate(`/app/sessions/${session?.id}`))
          .catch((error: unknown) => {
            button.disabled = false;
            showProblems(searchForm, problems, [{ text: messageOf(error) }]);
          });
      }),
    );
    document.getElementById("slots-heading")?.focus();
  }

  content.push(h("h2", {}, "Book a session"), problems, search, results);
  const page = context.frame(`Sessions - Case ${c.reference}`, ...content);
  if (q.get("kind")) {
    // A reload of a search shows its times again.
    void showSlots(searchForm).catch((error: unknown) => showProblems(searchForm, problems, [{ text: messageOf(error) }]));
  }
  return page;
}

// ---- One session -----------------------------------------------------------------------

// What the session page lists: the meeting, when, how and where (or the video link), who
// takes part (each mediator named by `mediatorName`) and its state.
export function sessionRows(s: Session, c: Case, mediatorName: (id: bigint) => string): Array<[string, string]> {
  const partyName = (id: bigint) => c.parties.find((p) => p.id === id)?.contact?.name;
  const rows: Array<[string, string]> = [
    ["Case", c.reference],
    ["Meeting", sessionTitle(s, c)],
    ["When", timeRange(s)],
    ["How", s.mode === SessionMode.IN_PERSON ? "In person" : "By video"],
  ];
  if (s.mode === SessionMode.IN_PERSON) {
    rows.push(["Where", s.venueName], ["Rooms", s.rooms.map((r) => `${r.roomName} (${r.partyId ? partyName(r.partyId) ?? "a party" : "joint room"})`).join("; ")]);
  } else {
    rows.push(["Video link", s.videoLink]);
  }
  rows.push(
    ["Mediators", s.mediatorIds.map(mediatorName).join(", ")],
    ["Parties", s.partyIds.map((id) => partyName(id) ?? `Party ${id}`).join(", ")],
    ["State", s.state === SessionState.CANCELLED ? "Cancelled" : s.needsRescheduling ? `Needs rescheduling: ${s.needsReschedulingReason}` : "Scheduled"],
  );
  return rows;
}

// The session's history: booked, each move and a cancellation, with the reasons.
export function sessionChanges(s: Session): HTMLElement {
  return table(
    "Changes",
    ["When", "Change", "Previous time", "Reason"],
    s.changes.map((change) => [
      when(change.at),
      words(change.change.toUpperCase()),
      change.previousStart ? timeRange({ start: change.previousStart, end: change.previousEnd }) : "",
      change.reason,
    ]),
    { id: "changes" },
  );
}

// Rescheduling (new times found for the same people and rooms) and cancelling, each with a
// reason, for a session that has not started; nothing for one that has, or is cancelled.
export function sessionChangeSections(s: Session, c: Case): Node[] {
  const upcoming = s.state === SessionState.SCHEDULED && s.start && timestampDate(s.start) > new Date();
  if (!upcoming) return [];
  const scheduling = client(SchedulingService);
  const problems = h("div", {});
  const results = h("div", { id: "reschedule-slots" });
  const reschedule = actionForm(
    "reschedule-form",
    [
      textarea("reason", "Why does it move?", { hint: "Kept in the session's history." }),
      select("window_first_day", "From", dayChoices(londonToday(), 0, 90)),
    ],
    "Find new times",
    async (form) => {
      const reason = valueOf(form, "reason");
      if (!reason) {
        showProblems(form, problems, [{ field: "reason", text: "Enter why the session moves" }]);
        return;
      }
      const duration = s.start && s.end ? Number(s.end.seconds - s.start.seconds) / 60 : 60;
      const found = await scheduling.findSlots({
        caseId: c.id,
        kind: s.kind,
        partyId: s.partyId,
        mode: s.mode,
        venueId: s.venueId,
        durationMinutes: duration,
        windowFirstDay: parseIsoDate(valueOf(form, "window_first_day")) ?? undefined,
      });
      results.replaceChildren(
        found.slots.length === 0
          ? inset(found.mostBlocking ? `No time fits. The most blocking: ${found.mostBlocking}.` : "No time fits in the next 28 days.")
          : slotsTable(found.slots, "Free times, earliest first", "Move to this time", (slot, button) => {
              button.disabled = true;
              scheduling
                .rescheduleSession({ sessionId: s.id, start: slot.start, reason })
                .then(() => rerender())
                .catch((error: unknown) => {
                  button.disabled = false;
                  showProblems(form, problems, [{ text: messageOf(error) }]);
                });
            }),
      );
    },
    "nhsuk-button--secondary",
  );
  return [
    h("h2", {}, "Change the session"),
    details("Reschedule", "reschedule", problems, reschedule, results),
    details(
      "Cancel the session",
      "cancel",
      actionForm(
        "cancel-form",
        [textarea("cancel-reason", "Why is it cancelled?")],
        "Cancel the session",
        async (form) => {
          await scheduling.cancelSession({ sessionId: s.id, reason: valueOf(form, "cancel-reason") });
          await rerender();
        },
        "nhsuk-button--warning",
      ),
    ),
  ];
}

// A session's page, the staff's and the mediator's: `back`, the case and the session's state,
// the meeting, what sessionRows lists (each mediator named by `mediatorName`), the .ics file,
// rescheduling and cancelling, and the history.
export function sessionView(
  context: PageContext,
  s: Session,
  c: Case,
  back: HTMLElement,
  mediatorName: (id: bigint) => string,
): HTMLElement {
  return context.frame(
    `${sessionTitle(s)} - Case ${c.reference}`,
    back,
    h("span", { class: "nhsuk-caption-l" }, `Case ${c.reference} `, sessionState(s)),
    h("h1", {}, sessionTitle(s, c)),
    summaryList(sessionRows(s, c, mediatorName)),
    icsButton(s.id),
    ...sessionChangeSections(s, c),
    h("h2", {}, "History"),
    sessionChanges(s),
  );
}

async function sessionPage(context: PageContext): Promise<HTMLElement> {
  const scheduling = client(SchedulingService);
  const { session: s } = await scheduling.getSession({ sessionId: BigInt(context.match[1]) });
  if (!s) throw new Error("the server returned no session");
  const [c, names] = await Promise.all([loadCase(String(s.caseId)), mediatorNames()]);
  const back = backLink(`/app/cases/${c.id}/sessions`, "Back to the case's sessions");
  return sessionView(context, s, c, back, (id) => names.get(id) ?? `Mediator ${id}`);
}

// ---- The week calendar -----------------------------------------------------------------

// The week (Monday to Sunday) the calendar's address asks for: ?week= any day of it
// (YYYY-MM-DD), this week by default.
export function calendarWeek(q: URLSearchParams): { monday: CivilDate; sunday: CivilDate } {
  const asked = parseIsoDate(q.get("week")) ?? londonToday();
  const monday = addDays(asked, 1 - weekday(asked));
  return { monday, sunday: addDays(monday, 6) };
}

// The week calendar below its heading: which week, the links to the weeks either side (keeping
// the address's other parameters), `between` (a filter), then each day's sessions linked to
// their pages.
export function weekView(q: URLSearchParams, monday: CivilDate, sessions: Session[], between: Node | null = null): Array<Node | null> {
  const weekLink = (d: CivilDate, text: string, id: string) => {
    const params = new URLSearchParams(q);
    params.set("week", isoDate(d));
    return link(`/app/calendar?${params.toString()}`, text, { id });
  };
  const days = Array.from({ length: 7 }, (_, i) => addDays(monday, i));
  const dayKey = (d: CivilDate) => isoDate(d);
  const byDay = new Map<string, Session[]>();
  for (const s of sessions) {
    const key = s.localStart.slice(0, 10);
    byDay.set(key, [...(byDay.get(key) ?? []), s]);
  }
  const week = h(
    "ol",
    { class: "app-week", id: "week" },
    ...days.map((d) =>
      h(
        "li",
        { class: "app-week__day", "aria-labelledby": `day-${dayKey(d)}` },
        h("h2", { class: "nhsuk-heading-s", id: `day-${dayKey(d)}` }, dateText(d, "full")),
        (byDay.get(dayKey(d)) ?? []).length === 0
          ? h("p", { class: "nhsuk-body-s app-week__empty" }, "No sessions")
          : h(
              "ul",
              { class: "nhsuk-list" },
              ...(byDay.get(dayKey(d)) ?? []).map((s) =>
                h(
                  "li",
                  { class: "app-week__session" },
                  link(`/app/sessions/${s.id}`, `${s.localStart.slice(11, 16)} to ${s.localEnd.slice(11, 16)} ${words(SessionKind[s.kind])}`),
                  h("span", { class: "nhsuk-body-s app-week__detail" }, `Case ${s.caseReference}, ${s.mode === SessionMode.IN_PERSON ? s.venueName : "by video"}`),
                ),
              ),
            ),
      ),
    ),
  );
  return [
    h("p", { class: "nhsuk-body-l", id: "week-of" }, `Week of ${dateText(monday, "full")}`),
    h(
      "nav",
      { class: "nhsuk-pagination", role: "navigation", "aria-label": "Weeks" },
      h(
        "ul",
        { class: "nhsuk-list nhsuk-pagination__list" },
        h("li", { class: "nhsuk-pagination-item--previous" }, weekLink(addDays(monday, -7), "Previous week", "previous-week")),
        h("li", { class: "nhsuk-pagination-item--next" }, weekLink(addDays(monday, 7), "Next week", "next-week")),
      ),
    ),
    between,
    week,
  ];
}

async function calendarPage(context: PageContext): Promise<HTMLElement> {
  const q = context.query;
  const { monday, sunday } = calendarWeek(q);
  const mediator = q.get("mediator") ?? "0";
  const caseFilter = q.get("case") ?? "";
  const names = await mediatorNames();
  let { sessions } = await client(SchedulingService).listSessions({
    windowFirstDay: monday,
    windowLastDay: sunday,
    mediatorId: /^[0-9]+$/.test(mediator) ? BigInt(mediator) : 0n,
  });
  if (/^[1-9][0-9]*$/.test(caseFilter)) sessions = sessions.filter((s) => s.caseId === BigInt(caseFilter));

  const filter = h(
    "form",
    { novalidate: "", id: "calendar-filter" },
    select("mediator", "Whose sessions?", [["0", "Everyone's"], ...[...names].map(([id, name]): [string, string] => [String(id), name])], { value: mediator }),
    h("button", { class: "nhsuk-button nhsuk-button--secondary", type: "submit" }, "Show"),
  );
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams(q);
    const chosen = (filter.querySelector("#mediator") as HTMLSelectElement).value;
    if (chosen === "0") params.delete("mediator");
    else params.set("mediator", chosen);
    navigate(`/app/calendar?${params.toString()}`);
  });
  const title = caseFilter ? `Calendar of case sessions` : mediator !== "0" ? `Calendar of ${names.get(BigInt(mediator)) ?? "a mediator"}` : "Calendar";
  return context.frame(
    title,
    caseFilter ? backLink(`/app/cases/${caseFilter}/sessions`, "Back to the case's sessions") : null,
    h("h1", {}, title),
    ...weekView(q, monday, sessions, caseFilter ? null : filter),
  );
}

export const schedulingRoutes: Route[] = [
  { pattern: /^\/app\/cases\/([1-9][0-9]*)\/sessions$/, roles: kStaff, page: caseSessionsPage },
  { pattern: /^\/app\/sessions\/([1-9][0-9]*)$/, roles: kStaff, page: sessionPage },
  { pattern: /^\/app\/calendar$/, roles: kStaff, page: calendarPage },
];
