// The console of a MEDIATOR token in a real browser against the real server: offers shown as the
// API gives them before acceptance (the organisation and the parties' names and professions, no
// more), a decline refused without a reason and then recorded, an acceptance, a decline for a
// conflict discovered on seeing the names (then on the mediator's record); the mediator's case,
// session, week calendar and .ics files (the files are the API's); another mediator's case or
// session in the address answered as one that does not exist; the mediator's own working
// pattern, leave (with the booked session it collides with, which the mediator then moves) and
// a declared conflict; and a journey with the keyboard alone. Each step is checked on the page
// and then through the API; every page state is checked with axe (WCAG 2.2 A and AA).
//
// Run by scripts/console-test.sh (CONSOLE_TESTS=mediator_role) with MEDIATION_SERVER, WEB_ROOT
// and CHROMIUM set.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Download } from "playwright-core";

import { AllocationRole, AllocationService, AllocationState, DeclineReason } from "@gen/ppa/mediation/v1/allocation_pb";
import { CaseState, Profession, Role, SessionMode } from "@gen/ppa/mediation/v1/common_pb";
import { ConflictKind, ConflictSource, MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";
import { type Case, ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { SchedulingService, type Session, SessionKind } from "@gen/ppa/mediation/v1/scheduling_pb";

import {
  api,
  assertAccessible,
  cardRows,
  type Console,
  type Day,
  expectBannerHeading,
  fillDate,
  heading,
  issue,
  keyboardDate,
  keyboardSignedIn,
  londonTime,
  londonToday,
  longDate,
  plusDays,
  registerNorthshire,
  registerWorkingMediator,
  screenshots,
  signedIn,
  startConsole,
  stopConsole,
  suitableCase,
  summaryProblems,
  summaryRows,
  tableRows,
  tabTo,
} from "./console_support";

interface Mediator {
  id: bigint;
  token: string;
  name: string;
}

let c: Console;
let desk = "";
let adviser = "";
let northshire = 0n;
// Ana is the mediator whose console is tested; the others take the co-mediator roles and the
// case that is not Ana's.
let ana: Mediator;
let ben: Mediator;
let cal: Mediator;
let dee: Mediator;

// ---- Dates and times as the console writes them -----------------------------------------------

function dayOf(iso: string): Day {
  const [year, month, day] = iso.slice(0, 10).split("-").map(Number);
  return { year, month, day };
}

// A session's time as the console writes it: "27 March 2027 at 09:00 to 11:00".
function timeRange(s: Session): string {
  const end = new Intl.DateTimeFormat("en-GB", { timeStyle: "short", timeZone: "Europe/London" }).format(timestampDate(s.end!));
  return `${londonTime(s.start)} to ${end}`;
}

// ---- The cases the tests need, made through the API -------------------------------------------

// A mediator working Monday to Friday, 09:00 to 17:00, with its token.
async function registerMediator(name: string, email: string): Promise<Mediator> {
  return { name, ...(await registerWorkingMediator(c, name, email)) };
}

// A referral of two doctors at Northshire, screened and found suitable.
function suitable(summary: string, parties: Array<[string, string]>): Promise<Case> {
  return suitableCase(c, { desk, adviser }, northshire, summary, parties);
}

// Offers `role` on the case to `m` (case support); returns the allocation's id.
async function offer(caseId: bigint, m: Mediator, role = AllocationRole.LEAD): Promise<bigint> {
  const { allocation } = await api(c, AllocationService, desk).allocateMediator({ caseId, mediatorId: m.id, role });
  return allocation!.id;
}

async function accept(allocationId: bigint, m: Mediator): Promise<void> {
  await api(c, AllocationService, m.token).respondToAllocation({ allocationId, accept: true });
}

// A case with `lead` and `co` allocated and a two-hour joint meeting by video at the earliest
// free time.
async function bookedCase(summary: string, parties: Array<[string, string]>, lead: Mediator, co: Mediator): Promise<{ c: Case; s: Session }> {
  const made = await suitable(summary, parties);
  await accept(await offer(made.id, lead, AllocationRole.LEAD), lead);
  await accept(await offer(made.id, co, AllocationRole.CO_MEDIATOR), co);
  const scheduling = api(c, SchedulingService, desk);
  const wanted = { caseId: made.id, kind: SessionKind.JOINT_MEETING, mode: SessionMode.VIDEO, durationMinutes: 120 };
  const { slots } = await scheduling.findSlots(wanted);
  const { session } = await scheduling.bookSession({
    ...wanted,
    start: slots[0].start,
    videoLink: `https://video.example/rooms/case-${made.id}`,
  });
  return { c: (await api(c, ReferralService, desk).getCase({ caseId: made.id })).case!, s: session! };
}

// ---- Reading the page ---------------------------------------------------------------------------

// The text of a downloaded file.
async function downloaded(download: Download): Promise<string> {
  return readFileSync((await download.path())!, "utf8");
}

// An iCalendar file without its DTSTAMP lines (the time of the export, to the second).
function withoutStamp(ics: string | undefined): string {
  return (ics ?? "").replace(/^DTSTAMP:.*\r\n/gm, "");
}

before(async () => {
  c = await startConsole();
  desk = await issue(c, Role.CASE_SUPPORT, "Robin Desk");
  adviser = await issue(c, Role.SENIOR_ADVISER, "Sam Adviser");
  northshire = await registerNorthshire(c, desk);
  ana = await registerMediator("Ana Lead", "ana@mediators.example");
  ben = await registerMediator("Ben Second", "ben@mediators.example");
  cal = await registerMediator("Cal Third", "cal@mediators.example");
  dee = await registerMediator("Dee Fourth", "dee@mediators.example");
});

after(async () => {
  await stopConsole(c);
});

test("offers as the API shows them before acceptance: a decline refused without a reason, then declined; another accepted", async () => {
  const first = await suitable("Two anaesthetists disagree about list allocation.", [
    ["Dr Nell Hart", "nell.hart@northshire.example"],
    ["Dr Omar Said", "omar.said@northshire.example"],
  ]);
  const second = await suitable("A surgeon and a registrar no longer speak.", [
    ["Dr Iris Vale", "iris.vale@northshire.example"],
    ["Dr Leo Park", "leo.park@northshire.example"],
  ]);
  const declineId = await offer(first.id, ana);
  const acceptId = await offer(second.id, ana);
  const allocations = api(c, AllocationService, ana.token);
  const offered = (await allocations.listAllocations({ mediatorId: ana.id })).allocations;
  assert.deepEqual(offered.map((a) => [a.id, a.state]), [
    [declineId, AllocationState.PENDING],
    [acceptId, AllocationState.PENDING],
  ]);

  const { context, page, errors } = await signedIn(c, ana.token);
  await heading(page, "Your cases");
  assert.equal(await page.title(), "Your cases - Assisted mediation");
  assert.equal(await page.locator("#no-cases").count(), 1);

  // Each offer: its role, dates and time, and the case as the API gives it to a mediator who has
  // not accepted: the organisation and the parties' names and professions only.
  for (const [id, made] of [[declineId, first], [acceptId, second]] as const) {
    const a = offered.find((o) => o.id === id)!;
    const view = (await api(c, ReferralService, ana.token).getCase({ caseId: made.id })).case!;
    assert.equal(view.summary, "");
    assert.equal(view.referrer, undefined);
    assert.deepEqual(view.parties.map((p) => [p.contact?.name, p.contact?.email, p.profession]), made.parties.map((p) => [p.contact?.name, "", Profession.DOCTOR]));
    const card = `#offer-${id}`;
    assert.equal((await page.locator(`${card} h3`).textContent())?.trim(), `Case ${made.reference}: lead mediator`);
    assert.deepEqual(await summaryRows(page, `${card} .nhsuk-summary-list`), [
      ["Role", "Lead mediator"],
      ["Proposed dates", a.proposedFirstDay ? `${longDate(a.proposedFirstDay)} to ${longDate(a.proposedLastDay)}` : "Not given"],
      ["Offered", londonTime(a.offeredAt)],
      ["Referring organisation", "Northshire Hospitals NHS Trust"],
    ]);
    assert.deepEqual(
      await page.locator(`${card} table tbody tr`).evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll("td")).map((td) => td.textContent))),
      view.parties.map((p) => [p.contact?.name, "Doctor"]),
    );
    const text = (await page.locator(card).textContent()) ?? "";
    assert.ok(!text.includes(made.summary), "the summary is not shown before acceptance");
    assert.ok(!text.includes("@northshire.example"), "no email address is shown before acceptance");
  }
  await assertAccessible(page, "two offers");
  await screenshots(page, "mediator-offers");

  // Decline without a reason or a note: the server refuses, and nothing changes.
  await page.click(`#decline-${declineId}-details summary`);
  assert.equal(await page.locator(`#decline-${declineId}-conflict_party_id-group`).isVisible(), false);
  await page.click(`#decline-${declineId}-submit`);
  assert.deepEqual(await summaryProblems(page), [
    ["Why do you decline?: required", `#decline-${declineId}-decline_reason`],
    ["Note for the case support team: required", `#decline-${declineId}-note`],
  ]);
  assert.equal((await allocations.listAllocations({ mediatorId: ana.id })).allocations.find((a) => a.id === declineId)?.state, AllocationState.PENDING);
  await assertAccessible(page, "decline refused");
  await screenshots(page, "mediator-decline-refused");

  // Then with a reason and a note.
  await page.check(`#decline-${declineId}-decline_reason-2`); // Not available
  assert.equal(await page.locator(`#decline-${declineId}-conflict_party_id-group`).isVisible(), false);
  await page.fill(`#decline-${declineId}-note`, "I am away for most of those weeks.");
  await page.click(`#decline-${declineId}-submit`);
  await expectBannerHeading(page, `You declined the offer of case ${first.reference}.`);
  assert.equal(await page.locator(`#offer-${declineId}`).count(), 0);
  const declined = (await allocations.listAllocations({ mediatorId: ana.id, includeClosed: true })).allocations.find((a) => a.id === declineId)!;
  assert.deepEqual(
    [declined.state, declined.declineReason, declined.responseNote],
    [AllocationState.DECLINED, DeclineReason.UNAVAILABLE, "I am away for most of those weeks."],
  );
  assert.equal((await api(c, ReferralService, desk).getCase({ caseId: first.id })).case?.state, CaseState.SUITABLE);
  await assertAccessible(page, "after declining");

  // Accept the other.
  await page.click(`#accept-${acceptId}-submit`);
  await expectBannerHeading(page, `You accepted the lead mediator role on case ${second.reference}.`);
  assert.equal(await page.locator("#no-offers").count(), 1);
  const accepted = (await allocations.listAllocations({ mediatorId: ana.id, includeClosed: true })).allocations;
  assert.deepEqual(accepted.map((a) => [a.id, a.state]), [
    [declineId, AllocationState.DECLINED],
    [acceptId, AllocationState.ACCEPTED],
  ]);
  assert.deepEqual(await tableRows(page, "Cases you have accepted"), [[second.reference, "Lead mediator", "Suitable", "None booked"]]);
  await assertAccessible(page, "after accepting");
  await screenshots(page, "mediator-accepted");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a decline for a conflict discovered on seeing the names puts the conflict on the mediator's record", async () => {
  const made = await suitable("Two GPs disagree about on-call cover.", [
    ["Dr Rhys Owen", "rhys.owen@northshire.example"],
    ["Dr Zara Khan", "zara.khan@northshire.example"],
  ]);
  const allocationId = await offer(made.id, ana);
  const { context, page, errors } = await signedIn(c, ana.token);
  await heading(page, "Your cases");
  await page.click(`#decline-${allocationId}-details summary`);
  await page.check(`#decline-${allocationId}-decline_reason`); // A conflict of interest
  const withWhom = `#decline-${allocationId}-conflict_party_id-group`;
  assert.equal(await page.locator(withWhom).isVisible(), true);
  assert.deepEqual(await page.locator(`${withWhom} label`).allTextContents(), [
    "Dr Rhys Owen (a party)",
    "Dr Zara Khan (a party)",
    "The referring organisation: none of its cases",
    "This case only",
  ]);
  assert.equal(await page.isChecked(`#decline-${allocationId}-conflict_party_id-4`), true);
  await assertAccessible(page, "decline for a conflict");
  await screenshots(page, "mediator-decline-conflict");
  await page.check(`#decline-${allocationId}-conflict_party_id`); // Dr Rhys Owen
  await page.fill(`#decline-${allocationId}-note`, "Dr Owen is my brother-in-law.");
  await page.click(`#decline-${allocationId}-submit`);
  await expectBannerHeading(page, `You declined the offer of case ${made.reference}.`);
  await assertAccessible(page, "declined for a conflict");

  // The API: the offer declined for a conflict, and the person on the mediator's record.
  const a = (await api(c, AllocationService, ana.token).listAllocations({ mediatorId: ana.id, includeClosed: true })).allocations.find((x) => x.id === allocationId)!;
  assert.deepEqual([a.state, a.declineReason, a.responseNote], [AllocationState.DECLINED, DeclineReason.CONFLICT_OF_INTEREST, "Dr Owen is my brother-in-law."]);
  const { conflicts } = (await api(c, MediatorService, ana.token).getMediator({ mediatorId: ana.id })).mediator!;
  assert.equal(conflicts.length, 1);
  const [conflict] = conflicts;
  assert.deepEqual(
    [conflict.kind, conflict.source, conflict.personName, conflict.personEmail],
    [ConflictKind.PERSON, ConflictSource.DISCOVERED, "Dr Rhys Owen", "rhys.owen@northshire.example"],
  );

  // The banner leads to the record, where it is listed (removed by an administrator only).
  await page.click("#success-banner a[href='/app/availability#conflicts']");
  await heading(page, "Your availability");
  assert.deepEqual(await cardRows(page, "Conflicts of interest"), [
    [
      "Dr Rhys Owen, rhys.owen@northshire.example",
      "Person",
      "Found when declining a case",
      londonTime(conflict.recordedAt),
      conflict.note,
      "Only an administrator can remove it",
    ],
  ]);
  assert.match(conflict.note, new RegExp(`discovered on seeing allocation ${allocationId} of case ${made.reference}`));
  await assertAccessible(page, "availability with a discovered conflict");
  assert.deepEqual(errors, []);
  await context.close();
});

let mine: { c: Case; s: Session };
let others: { c: Case; s: Session };

test("the mediator's case, session, week calendar and .ics files; another mediator's session is not in the week", async () => {
  mine = await bookedCase("Two consultants disagree about the on-call rota.", [
    ["Dr Kai Lund", "kai.lund@northshire.example"],
    ["Dr Mia Ross", "mia.ross@northshire.example"],
  ], ana, ben);
  others = await bookedCase("Two registrars disagree about handovers.", [
    ["Dr Ola Ade", "ola.ade@northshire.example"],
    ["Dr Eve Stone", "eve.stone@northshire.example"],
  ], cal, dee);
  const week = mine.s.localStart.slice(0, 10);
  const monday = plusDays(dayOf(week), 1 - (new Date(`${week}T12:00:00Z`).getUTCDay() || 7));
  const inWeek = (s: Session) => {
    const d = dayOf(s.localStart);
    const n = Date.UTC(d.year, d.month - 1, d.day) - Date.UTC(monday.year, monday.month - 1, monday.day);
    return n >= 0 && n < 7 * 86_400_000;
  };
  // The other mediators' session is in the same week, so its absence below means something.
  assert.ok(inWeek(others.s), "the other case's session falls in the same week");

  const { context, page, errors } = await signedIn(c, ana.token);
  await heading(page, "Your cases");
  const casesRows = await tableRows(page, "Cases you have accepted");
  assert.deepEqual(casesRows.find((row) => row[0] === mine.c.reference), [mine.c.reference, "Lead mediator", "Sessions scheduled", `${londonTime(mine.s.start)}, Joint meeting`]);
  await page.click(`#cases a[href='/app/cases/${mine.c.id}']`);
  await heading(page, `Case ${mine.c.reference}`);

  // The case page: the case as the API gives it to an accepted mediator.
  const view = (await api(c, ReferralService, ana.token).getCase({ caseId: mine.c.id })).case!;
  assert.deepEqual(await summaryRows(page), [
    ["Reference", view.reference],
    ["Your role", "Lead mediator"],
    ["State", "Sessions scheduled"],
    ["Referring organisation", "Northshire Hospitals NHS Trust"],
    ["Referred by", "Sam Okafor, sam.okafor@northshire.example"],
    ["Referred on", londonTime(view.createdAt)],
    ["Concern level", "Not known"],
    ["Concern type", "Not known"],
    ["Summary", "Two consultants disagree about the on-call rota."],
    ["Screening decision", `Suitable, ${londonTime(view.screening?.decidedAt)}`],
  ]);
  assert.deepEqual(await cardRows(page, "Parties"), view.parties.map((p) => [
    p.contact!.name, "Not given", "Doctor", p.contact!.email, "Not given", "Not given", "None recorded", "No",
  ]));
  assert.deepEqual(await tableRows(page, "Sessions"), [["Joint meeting", timeRange(mine.s), "By video", "Scheduled"]]);
  assert.deepEqual(
    await page.locator("main nav.nhsuk-contents-list a").evaluateAll((links) => links.map((a) => a.getAttribute("href"))),
    [`/app/cases/${mine.c.id}/notes`, `/app/cases/${mine.c.id}/agreement`, `/app/cases/${mine.c.id}/outcome`],
  );
  assert.equal(await page.getAttribute("#next-session-week", "href"), `/app/calendar?week=${week}`);
  assert.equal(await page.title(), `Case ${mine.c.reference} - Assisted mediation`);
  await assertAccessible(page, "the mediator's case");
  await screenshots(page, "mediator-case");

  // The session page: who attends, the video link, the history; its .ics is the API's.
  await page.click(`#sessions a[href='/app/sessions/${mine.s.id}']`);
  await heading(page, "Joint meeting");
  const session = (await api(c, SchedulingService, ana.token).getSession({ sessionId: mine.s.id })).session!;
  assert.deepEqual(await summaryRows(page), [
    ["Case", mine.c.reference],
    ["Meeting", "Joint meeting"],
    ["When", timeRange(session)],
    ["How", "By video"],
    ["Video link", `https://video.example/rooms/case-${mine.c.id}`],
    ["Mediators", session.mediatorIds.map((id) => (id === ana.id ? "Ana Lead (you)" : `Mediator ${id}`)).join(", ")],
    ["Parties", "Dr Kai Lund, Dr Mia Ross"],
    ["State", "Scheduled"],
  ]);
  assert.deepEqual([...session.mediatorIds].sort(), [ana.id, ben.id].sort());
  assert.deepEqual((await tableRows(page, "Changes")).map((row) => row[1]), ["Booked"]);
  assert.deepEqual(await page.locator("main details summary").allTextContents(), ["Reschedule", "Cancel the session"]);
  assert.equal(await page.title(), `Joint meeting - Case ${mine.c.reference} - Assisted mediation`);
  await assertAccessible(page, "the mediator's session");
  await screenshots(page, "mediator-session");
  const [sessionFile] = await Promise.all([page.waitForEvent("download"), page.click("#download-ics")]);
  assert.equal(sessionFile.suggestedFilename(), `session-${mine.s.id}.ics`);
  const sessionIcs = await downloaded(sessionFile);
  const fromApi = (await api(c, SchedulingService, ana.token).exportSessionCalendar({ sessionId: mine.s.id })).calendar?.ics;
  assert.equal(withoutStamp(sessionIcs), withoutStamp(fromApi));
  assert.match(sessionIcs, /^DTSTAMP:\d{8}T\d{6}Z\r$/m);

  // The week calendar, from the case page: the mediator's own session, not the other
  // mediators'; no "whose" filter.
  await page.click("a.nhsuk-back-link");
  await heading(page, `Case ${mine.c.reference}`);
  await page.click("#next-session-week");
  await page.waitForURL(`${c.baseUrl}/app/calendar?week=${week}`);
  await heading(page, "Your calendar");
  assert.equal((await page.locator("#week-of").textContent())?.trim(), `Week of ${new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeZone: "UTC" }).format(new Date(Date.UTC(monday.year, monday.month - 1, monday.day)))}`);
  const link = page.locator(`#week a[href='/app/sessions/${mine.s.id}']`);
  assert.equal((await link.textContent())?.trim(), `${mine.s.localStart.slice(11, 16)} to ${mine.s.localEnd.slice(11, 16)} Joint meeting`);
  assert.equal(await page.locator(`#week a[href='/app/sessions/${others.s.id}']`).count(), 0);
  assert.equal(await page.locator("#calendar-filter").count(), 0);
  const listed = (await api(c, SchedulingService, ana.token).listSessions({ windowFirstDay: monday, windowLastDay: plusDays(monday, 6) })).sessions;
  assert.deepEqual(listed.map((s) => s.id), [mine.s.id]);
  const everyone = (await api(c, SchedulingService, desk).listSessions({ windowFirstDay: monday, windowLastDay: plusDays(monday, 6) })).sessions;
  assert.ok(everyone.some((s) => s.id === others.s.id), "case support sees the other mediators' session that week");
  await assertAccessible(page, "the mediator's week");
  await screenshots(page, "mediator-calendar");

  // The whole calendar as one file: the API's export for the mediator, today and the next 365 days.
  const [calendarFile] = await Promise.all([page.waitForEvent("download"), page.click("#download-calendar")]);
  assert.equal(calendarFile.suggestedFilename(), "mediation-calendar.ics");
  const calendarIcs = await downloaded(calendarFile);
  const today = londonToday();
  const whole = (await api(c, SchedulingService, ana.token).exportMediatorCalendar({ mediatorId: ana.id, firstDay: today, lastDay: plusDays(today, 365) })).calendar?.ics;
  assert.equal(withoutStamp(calendarIcs), withoutStamp(whole));
  assert.match(calendarIcs, new RegExp(`^UID:session-${mine.s.id}@`, "m"));
  assert.doesNotMatch(calendarIcs, new RegExp(`^UID:session-${others.s.id}@`, "m"));
  assert.deepEqual(errors, []);
  await context.close();
});

test("another mediator's case or session, or one declined, in the address gives the same Not found page as one that does not exist", async () => {
  const { context, page, errors } = await signedIn(c, ana.token, `/app/cases/${mine.c.id}`);
  await heading(page, `Case ${mine.c.reference}`);
  // The page as text, with the id in the address replaced.
  const shown = async (path: string, id: bigint): Promise<string> => {
    await page.goto(`${c.baseUrl}${path}`);
    await heading(page, "Not found");
    assert.equal(await page.title(), "Not found - Assisted mediation");
    return ((await page.locator("body").innerText()) ?? "").replaceAll(String(id), "<id>");
  };
  const absentCase = await shown("/app/cases/999999", 999999n);
  assert.match(absentCase, /case <id> not found/);
  await assertAccessible(page, "a case that does not exist");
  assert.equal(await shown(`/app/cases/${others.c.id}`, others.c.id), absentCase);
  await assertAccessible(page, "another mediator's case");
  const declinedCase = (await api(c, AllocationService, ana.token).listAllocations({ mediatorId: ana.id, includeClosed: true })).allocations.find(
    (a) => a.state === AllocationState.DECLINED,
  )!.caseId;
  assert.equal(await shown(`/app/cases/${declinedCase}`, declinedCase), absentCase);

  const absentSession = await shown("/app/sessions/999999", 999999n);
  assert.match(absentSession, /session <id> not found/);
  await assertAccessible(page, "a session that does not exist");
  assert.equal(await shown(`/app/sessions/${others.s.id}`, others.s.id), absentSession);
  await assertAccessible(page, "another mediator's session");
  await screenshots(page, "mediator-not-found");

  // The API answers the same: NOT_FOUND.
  await assert.rejects(api(c, SchedulingService, ana.token).getSession({ sessionId: others.s.id }), /session \d+ not found/);
  await assert.rejects(api(c, ReferralService, ana.token).getCase({ caseId: others.c.id }), /case \d+ not found/);

  // The administrator's pages of a mediator's record are not the mediator's, whatever the id.
  await page.goto(`${c.baseUrl}/app/mediators/${ana.id}/working-pattern`);
  await heading(page, "Not available to your role");
  assert.deepEqual(errors, []);
  await context.close();
});

test("the mediator's availability: working pattern, leave over a booked session (shown at once) and a conflict; the API holds each", async () => {
  const mediators = api(c, MediatorService, ana.token);
  const { context, page, errors } = await signedIn(c, ana.token, "/app/availability");
  await heading(page, "Your availability");
  assert.deepEqual(await tableRows(page, "Working hours, UK time"), ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"].map((d) => [d, "09:00", "17:00"]));
  assert.equal(await page.locator("#no-leave").count(), 1);
  assert.equal(await page.locator("#rescheduling").count(), 0);
  await assertAccessible(page, "availability");
  await screenshots(page, "mediator-availability");

  // Working pattern: Saturday mornings as well.
  await page.click("#change-working-pattern");
  await page.waitForURL(`${c.baseUrl}/app/availability/working-pattern`);
  await heading(page, "Your working pattern");
  assert.equal(await page.title(), "Your working pattern - Assisted mediation");
  await assertAccessible(page, "working pattern form");
  await page.click("#add-hours");
  assert.equal(await page.inputValue("#hours-5-weekday"), "6");
  await page.fill("#hours-5-end", "13:00");
  await page.click("#working-pattern-submit");
  await page.waitForURL(`${c.baseUrl}/app/availability`);
  await expectBannerHeading(page, "The working pattern is saved.");
  assert.deepEqual((await tableRows(page, "Working hours, UK time")).at(-1), ["Saturday", "09:00", "13:00"]);
  assert.deepEqual(
    (await mediators.getMediator({ mediatorId: ana.id })).mediator!.workingPattern.map((w) => [w.weekday, w.start?.hours, w.end?.hours]),
    [[1, 9, 17], [2, 9, 17], [3, 9, 17], [4, 9, 17], [5, 9, 17], [6, 9, 13]],
  );
  await assertAccessible(page, "availability after the pattern");

  // Leave on the day of the booked joint meeting: the collision is shown at once.
  const day = dayOf(mine.s.localStart);
  await page.click("#add-leave");
  await heading(page, "Add leave");
  await assertAccessible(page, "leave form");
  for (const id of ["leave-first_day", "leave-last_day"]) await fillDate(page, id, day);
  await page.fill("#leave-note", "Ill health");
  await page.click("#leave-submit");
  await page.waitForURL(`${c.baseUrl}/app/availability`);
  await expectBannerHeading(page, `Leave from ${longDate(day)} to ${longDate(day)} is added.`);
  const marked = (await api(c, SchedulingService, desk).getSession({ sessionId: mine.s.id })).session!;
  assert.equal(marked.needsRescheduling, true);
  assert.equal((await page.locator("#collisions p").textContent())?.trim(), "1 booked session now needs rescheduling:");
  assert.deepEqual(await page.locator("#collisions li").allTextContents(), [
    `case ${mine.c.reference}, ${londonTime(mine.s.start)}: ${marked.needsReschedulingReason}`,
  ]);
  assert.deepEqual(await tableRows(page, "Sessions that need rescheduling"), [
    [londonTime(mine.s.start), mine.c.reference, "Joint meeting", marked.needsReschedulingReason],
  ]);
  const [leave] = (await mediators.getMediator({ mediatorId: ana.id })).mediator!.leave;
  assert.deepEqual([leave.firstDay?.year, leave.firstDay?.month, leave.firstDay?.day, leave.lastDay?.day, leave.note], [day.year, day.month, day.day, day.day, "Ill health"]);
  assert.deepEqual(await cardRows(page, "Leave (whole days)"), [[longDate(day), longDate(day), "Ill health", `Remove leave from ${longDate(day)} to ${longDate(day)}`]]);
  await assertAccessible(page, "availability with the collision");
  await screenshots(page, "mediator-leave-collision");

  // The mediator moves the session to a time when everyone is free.
  await page.click(`#rescheduling-sessions a[href='/app/sessions/${mine.s.id}']`);
  await heading(page, "Joint meeting");
  assert.equal(
    (await summaryRows(page)).find(([key]) => key === "State")?.[1],
    `Needs rescheduling: ${marked.needsReschedulingReason}`,
  );
  await page.click("#reschedule summary");
  await page.fill("#reason", "I am on leave that day.");
  await page.click("#reschedule-form-submit");
  await page.locator("#reschedule-slots #slots").waitFor();
  await assertAccessible(page, "new times for the mediator's session");
  const chosen = (await page.locator("#slots tbody tr:first-child td:first-child").textContent())?.trim();
  await page.click("#slot-0");
  await page.locator("#changes tbody tr:nth-child(2)").waitFor();
  const moved = (await api(c, SchedulingService, desk).getSession({ sessionId: mine.s.id })).session!;
  assert.equal(chosen, londonTime(moved.start));
  assert.equal(moved.needsRescheduling, false);
  assert.notEqual(dayOf(moved.localStart).day, day.day);
  assert.deepEqual(
    moved.changes.map((change) => [change.change, change.previousStart?.seconds, change.reason]),
    [
      ["booked", undefined, ""],
      ["rescheduled", mine.s.start?.seconds, "I am on leave that day."],
    ],
  );
  await page.click("header a[href='/app/availability']");
  await heading(page, "Your availability");
  assert.equal(await page.locator("#rescheduling").count(), 0);

  // A conflict with a person (a mediator cannot read the organisations' list: no organisation choice).
  await page.click("#declare-conflict");
  await heading(page, "Declare a conflict of interest");
  assert.deepEqual(await page.locator("#conflict-kind-group label").allTextContents(), ["Person", "Case"]);
  assert.equal(await page.locator("#conflict-organisation_id").count(), 0);
  await assertAccessible(page, "conflict form");
  await page.check("#conflict-kind"); // A person
  await page.click("#conflict-submit");
  assert.deepEqual(await summaryProblems(page), [
    ["The person's full name: a PERSON conflict needs the person's name or email", "#conflict-person_name"],
  ]);
  await assertAccessible(page, "conflict refused");
  await page.fill("#conflict-person_name", "Dr Pat Lowe");
  await page.fill("#conflict-person_email", "pat.lowe@example.org");
  await page.fill("#conflict-note", "We trained together.");
  await page.click("#conflict-submit");
  await page.waitForURL(`${c.baseUrl}/app/availability`);
  await expectBannerHeading(page, "The conflict of interest with Dr Pat Lowe, pat.lowe@example.org is declared.");
  const declared = (await mediators.getMediator({ mediatorId: ana.id })).mediator!.conflicts.find((x) => x.source === ConflictSource.DECLARED)!;
  assert.deepEqual(
    [declared.kind, declared.personName, declared.personEmail, declared.note],
    [ConflictKind.PERSON, "Dr Pat Lowe", "pat.lowe@example.org", "We trained together."],
  );
  const rows = await cardRows(page, "Conflicts of interest");
  assert.deepEqual(rows.find((row) => row[0].startsWith("Dr Pat Lowe")), [
    "Dr Pat Lowe, pat.lowe@example.org", "Person", "Declared", londonTime(declared.recordedAt), "We trained together.", "Remove the conflict with Dr Pat Lowe, pat.lowe@example.org",
  ]);
  await assertAccessible(page, "availability with a declared conflict");
  assert.deepEqual(errors, []);
  await context.close();
});

test("decline and accept offers, open the case, the calendar and add leave, with the keyboard alone", async () => {
  const declining = await suitable("A pharmacist and a GP disagree over prescribing reviews.", [
    ["Dr Lin Wu", "lin.wu@northshire.example"],
    ["Dr Tom Baker", "tom.baker@northshire.example"],
  ]);
  const accepting = await suitable("Two radiologists disagree about reporting lists.", [
    ["Dr Amy Cole", "amy.cole@northshire.example"],
    ["Dr Raj Nair", "raj.nair@northshire.example"],
  ]);
  const declineId = await offer(declining.id, ana);
  const acceptId = await offer(accepting.id, ana, AllocationRole.CO_MEDIATOR);

  const { context, page, errors } = await keyboardSignedIn(c, ana.token, "Your cases");

  // Decline: open the details, choose "Another reason" with the arrow keys, write the note.
  await tabTo(page, `#decline-${declineId}-details summary`);
  await page.keyboard.press("Enter");
  await tabTo(page, `#decline-${declineId}-decline_reason`);
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  assert.equal(await page.isChecked(`#decline-${declineId}-decline_reason-3`), true);
  await tabTo(page, `#decline-${declineId}-note`);
  await page.keyboard.type("I mediated for this department last year.");
  await tabTo(page, `#decline-${declineId}-submit`);
  await page.keyboard.press("Enter");
  await expectBannerHeading(page, `You declined the offer of case ${declining.reference}.`);

  // Accept.
  await tabTo(page, `#accept-${acceptId}-submit`);
  await page.keyboard.press("Enter");
  await expectBannerHeading(page, `You accepted the co-mediator role on case ${accepting.reference}.`);
  const answered = (await api(c, AllocationService, ana.token).listAllocations({ mediatorId: ana.id, includeClosed: true })).allocations;
  const byId = (id: bigint) => answered.find((a) => a.id === id)!;
  assert.deepEqual(
    [byId(declineId).state, byId(declineId).declineReason, byId(declineId).responseNote, byId(acceptId).state],
    [AllocationState.DECLINED, DeclineReason.OTHER, "I mediated for this department last year.", AllocationState.ACCEPTED],
  );

  // The case, from the list of accepted cases.
  await tabTo(page, `#cases a[href='/app/cases/${accepting.id}']`);
  await page.keyboard.press("Enter");
  await heading(page, `Case ${accepting.reference}`);
  assert.equal(await page.locator("#sessions").count(), 0);

  // The calendar: the next week and back, then the calendar file.
  await tabTo(page, "header a[href='/app/calendar']");
  await page.keyboard.press("Enter");
  await heading(page, "Your calendar");
  const weekOf = (await page.locator("#week-of").textContent()) ?? "";
  await tabTo(page, "#next-week");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/app\/calendar\?week=\d{4}-\d{2}-\d{2}$/);
  await page.locator("#week-of", { hasNotText: weekOf }).waitFor();
  await tabTo(page, "#previous-week");
  await page.keyboard.press("Enter");
  await page.locator("#week-of", { hasText: weekOf }).waitFor();
  await tabTo(page, "#download-calendar");
  const [file] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  assert.equal(file.suggestedFilename(), "mediation-calendar.ics");

  // Leave: each part of the two dates typed, Tab between them.
  await tabTo(page, "header a[href='/app/availability']");
  await page.keyboard.press("Enter");
  await heading(page, "Your availability");
  await tabTo(page, "#add-leave");
  await page.keyboard.press("Enter");
  await heading(page, "Add leave");
  const first = plusDays(londonToday(), 120);
  const last = plusDays(londonToday(), 121);
  for (const [id, day] of [["leave-first_day", first], ["leave-last_day", last]] as const) await keyboardDate(page, id, day);
  await tabTo(page, "#leave-note");
  await page.keyboard.type("Training course");
  await tabTo(page, "#leave-submit");
  await page.keyboard.press("Enter");
  await expectBannerHeading(page, `Leave from ${longDate(first)} to ${longDate(last)} is added.`);
  const leave = (await api(c, MediatorService, ana.token).getMediator({ mediatorId: ana.id })).mediator!.leave.find((l) => l.note === "Training course");
  assert.deepEqual([leave?.firstDay?.day, leave?.firstDay?.month, leave?.lastDay?.day], [first.day, first.month, last.day]);
  assert.deepEqual(errors, []);
  await context.close();
});
