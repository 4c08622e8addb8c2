// The staff console's main journey in a real browser: case support takes a HIGH-concern
// referral from intake through screening; a Senior Adviser decides (refused without the
// high-concern confirmation, then confirmed) and quotes; case support offers the two mediator
// roles (the mediators answer through the API: their console is another issue's), finds a time
// and books the joint session, then sees it in the week calendar. Each step checks the page and
// then what the API holds. Also: the work queues' counts, a refused action, a session that ends
// (the token revoked), a server that has gone, and every step again with the keyboard alone
// (queues, referral, screening, hold and resume, decision, quote, offers, booking, the .ics,
// reschedule, the calendar and cancel).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";

import { timestampDate } from "@bufbuild/protobuf/wkt";

import { AdminService } from "@gen/ppa/mediation/v1/admin_pb";
import { AllocationRole, AllocationService } from "@gen/ppa/mediation/v1/allocation_pb";
import { ChargesService } from "@gen/ppa/mediation/v1/charges_pb";
import {
  CareSetting,
  CaseState,
  ConcernLevel,
  Nation,
  OrganisationKind,
  Profession,
  Role,
  Sector,
  SessionMode,
} from "@gen/ppa/mediation/v1/common_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";
import { ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { ScreeningService } from "@gen/ppa/mediation/v1/screening_pb";
import { SchedulingService, SessionKind, SessionState } from "@gen/ppa/mediation/v1/scheduling_pb";

import {
  acceptOffers,
  answerAllMet,
  api,
  assertAccessible,
  type Console,
  heading,
  issue,
  keyboardSignedIn,
  pounds,
  registerNorthshire,
  registerWorkingMediator,
  screenshots,
  signedIn,
  startConsole,
  stopConsole,
  suitableCase,
  tableRows,
  tabTo,
} from "./console_support";

let c: Console;
let desk = "";
let adviser = "";
const mediatorTokens = new Map<bigint, string>();

// A mediator working Monday to Friday, 09:00 to 17:00, with its token kept in mediatorTokens.
async function registerMediator(name: string, email: string): Promise<void> {
  const { id, token } = await registerWorkingMediator(c, name, email);
  mediatorTokens.set(id, token);
}

before(async () => {
  c = await startConsole();
  desk = await issue(c, Role.CASE_SUPPORT, "Robin Desk");
  adviser = await issue(c, Role.SENIOR_ADVISER, "Sam Adviser");
  await registerNorthshire(c, desk);
  await api(c, OrganisationService, desk).registerOrganisation({
    organisation: {
      name: "Cardiff Bay Dental Practice",
      kind: OrganisationKind.DENTAL_PRACTICE,
      nation: Nation.WALES,
      careSetting: CareSetting.PRIMARY,
      sector: Sector.INDEPENDENT,
      contact: { name: "Owen Jones", email: "owen.jones@cardiffbay.example" },
    },
  });
  await registerMediator("Ana Lead", "ana@mediators.example");
  await registerMediator("Ben Second", "ben@mediators.example");
});

after(async () => {
  await stopConsole(c);
});

test("case support takes a HIGH-concern referral to a booked joint session; the adviser decides and quotes", async () => {
  const { context, page, errors } = await signedIn(c, desk);
  await heading(page, "Work queues");
  assert.equal(await page.locator("#count-new").textContent(), "0");
  await assertAccessible(page, "work queues");

  // Intake.
  await page.click("#record-referral");
  await heading(page, "Record a referral");
  await page.fill("#referrer-name", "Sam Okafor");
  await page.fill("#referrer-email", "sam.okafor@northshire.example");
  await page.fill("#summary", "Two consultants in theatres no longer speak; lists are cancelled.");
  await page.selectOption("#concern_level", { label: "High" });
  await page.fill("#parties-0-contact-name", "Dr Alex Morgan");
  await page.fill("#parties-0-contact-email", "alex.morgan@northshire.example");
  await page.fill("#parties-1-contact-name", "Dr Jo Reed");
  await page.fill("#parties-1-contact-email", "jo.reed@northshire.example");
  await page.check("#parties-1-access_needs-1");
  await page.click("#record");
  await page.waitForURL(`${c.baseUrl}/app/cases/1`);
  const referral = (await api(c, ReferralService, desk).getCase({ caseId: 1n })).case!;
  await heading(page, `Case ${referral.reference}`);
  assert.equal(referral.concernLevel, ConcernLevel.HIGH);
  assert.equal(referral.state, CaseState.REFERRED);
  assert.deepEqual(referral.parties[1].accessNeeds, [1]);
  assert.deepEqual(
    (await tableRows(page, "Parties")).map((row) => [row[0], row[3]]),
    [
      ["Dr Alex Morgan", "None recorded"],
      ["Dr Jo Reed", "Step free"],
    ],
  );
  await assertAccessible(page, "case page");
  await screenshots(page, "case");

  // The home page counts it as a new referral; the queue lists it; the nation filter leaves it out.
  await page.click("header a:has-text('Work queues')");
  await heading(page, "Work queues");
  assert.equal(await page.locator("#count-new").textContent(), "1");
  await page.selectOption("#nation", { label: "Wales" });
  await page.click("#apply-filters");
  await page.waitForURL(`${c.baseUrl}/app?nation=2`);
  await page.locator("#count-new", { hasText: "0" }).waitFor();
  await page.selectOption("#nation", { label: "England" });
  await page.click("#apply-filters");
  await page.waitForURL(`${c.baseUrl}/app?nation=1`);
  await page.locator("#count-new", { hasText: "1" }).waitFor();
  await screenshots(page, "work-queues");
  await page.click("#queue-new");
  await heading(page, "New referrals");
  assert.deepEqual((await tableRows(page, "New referrals")).map((row) => row[0]), [referral.reference]);
  await assertAccessible(page, "queue page");
  await page.click(`a:has-text('${referral.reference}')`);
  await heading(page, `Case ${referral.reference}`);

  // Screening: one criterion not known first (its note is required), then everything met.
  await page.click("nav[aria-label='Pages of this case'] a:has-text('Screening')");
  await heading(page, "Screening");
  await page.waitForURL(`${c.baseUrl}/app/cases/1/screening`);
  await assertAccessible(page, "screening form");
  await page.check("#answer-1-1-answer-3");
  await page.click("#save-answers");
  await page.waitForSelector(".nhsuk-error-summary");
  assert.match((await page.locator(".nhsuk-error-summary").textContent()) ?? "", /note/i);
  assert.equal(await page.locator(".nhsuk-error-summary a").first().getAttribute("href"), "#answer-1-1-note");
  await assertAccessible(page, "screening with an error");
  for (const radio of await page.locator("input[type=radio][value='1']").all()) await radio.check();
  await page.click("#save-answers");
  await page.locator("#evaluated-decision", { hasText: "Suitable" }).waitFor();
  assert.equal(await page.locator(".nhsuk-warning-callout").count(), 1);
  const answers = await api(c, ScreeningService, desk).listScreeningAnswers({ caseId: 1n });
  assert.equal(answers.answers.length, 9);
  assert.equal((await api(c, ReferralService, desk).getCase({ caseId: 1n })).case?.state, CaseState.SCREENING);
  await screenshots(page, "screening");
  await assertAccessible(page, "screening evaluated");

  // The adviser: the case waits for a decision; without the high-concern confirmation the
  // server refuses, and the page says why; with it the case is suitable.
  const adviserSession = await signedIn(c, adviser);
  const a = adviserSession.page;
  await heading(a, "Work queues");
  await a.locator("#count-decision:not([aria-busy])").waitFor();
  assert.equal(await a.locator("#count-decision").textContent(), "1");
  await a.click("#queue-decision");
  await heading(a, "Awaiting the adviser's decision");
  await a.click(`a:has-text('${referral.reference}')`);
  await heading(a, `Case ${referral.reference}`);
  await a.goto(`${c.baseUrl}/app/cases/1/screening`);
  await a.click("#to-decision");
  await heading(a, "Record the screening decision");
  await assertAccessible(a, "decision form");
  await a.click("#decision-form-submit");
  await a.waitForSelector(".nhsuk-error-summary");
  assert.match((await a.locator(".nhsuk-error-summary").textContent()) ?? "", /HIGH|high/);
  assert.equal((await api(c, ReferralService, desk).getCase({ caseId: 1n })).case?.state, CaseState.SCREENING);
  await assertAccessible(a, "decision refused");
  await a.check("#confirm_high_concern");
  await a.click("#decision-form-submit");
  await a.waitForURL(`${c.baseUrl}/app/cases/1/charges`);
  await heading(a, "Indication of charges");
  assert.equal((await api(c, ReferralService, desk).getCase({ caseId: 1n })).case?.state, CaseState.SUITABLE);

  // The quote: in person, one joint day, every party; an itemised table in pounds with VAT.
  await a.check("#mode");
  await a.fill("#days", "1");
  await a.click("#charges-form-submit");
  await a.locator("#indication-0").waitFor();
  const { indications } = await api(c, ChargesService, adviser).listChargeIndications({ caseId: 1n });
  assert.equal(indications.length, 1);
  assert.equal(indications[0].mode, SessionMode.IN_PERSON);
  const rows = await a.locator("#indication-0 tbody tr").evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent ?? "")),
  );
  assert.deepEqual(
    rows.slice(0, -3).map((row) => [row[0], row[1], row[3]]),
    indications[0].items.map((item) => [item.description, String(item.quantity), pounds(item.amount?.pence)]),
  );
  assert.deepEqual(rows.at(-1), ["Total", "", "", pounds(indications[0].total?.pence)]);
  assert.match(rows.at(-2)?.[0] ?? "", /^VAT at 20%$/);
  await assertAccessible(a, "charges");
  await screenshots(a, "charges");
  assert.deepEqual(adviserSession.errors, []);
  await adviserSession.context.close();

  // Allocation: the proposal ranks both mediators; offer the lead, then the co-mediator role.
  await page.goto(`${c.baseUrl}/app/cases/1/allocation`);
  await heading(page, "Allocation");
  const ranked = await tableRows(page, "Eligible mediators");
  assert.deepEqual(ranked.map((row) => row[1]).sort(), ["Ana Lead", "Ben Second"]);
  await assertAccessible(page, "allocation proposal");
  await screenshots(page, "allocation");
  await page.locator("#ranked button").first().click();
  await page.locator("#offers").waitFor();
  assert.deepEqual((await tableRows(page, "Offers made")).map((row) => [row[1], row[2]]), [["Lead", "Waiting for an answer"]]);
  await acceptOffers(c, 1n, mediatorTokens);
  await page.reload();
  await heading(page, "Allocation");
  await page.locator("h2", { hasText: "co-mediator role" }).waitFor();
  await page.locator("#ranked button").first().click();
  await page.locator("#offers tbody tr:nth-child(2)").waitFor();
  await acceptOffers(c, 1n, mediatorTokens);
  assert.equal((await api(c, ReferralService, desk).getCase({ caseId: 1n })).case?.state, CaseState.MEDIATORS_ALLOCATED);
  await page.reload();
  await heading(page, "Allocation");
  assert.deepEqual((await tableRows(page, "Offers made")).map((row) => row[2]).sort(), ["Accepted", "Accepted"]);

  // Scheduling: the joint meeting by video, two hours; book the earliest time.
  await page.click("nav[aria-label='Pages of this case'] a:has-text('Sessions')");
  await heading(page, "Sessions");
  await page.check(`#kind-2`);
  await page.check(`#mode-2`);
  await page.fill("#video_link", "https://video.example/rooms/joint-1");
  await page.click("#find-slots-submit");
  await page.locator("#slots").waitFor();
  await assertAccessible(page, "slots");
  await screenshots(page, "find-slots");
  const firstSlot = await page.locator("#slots tbody tr:first-child td:first-child").textContent();
  await page.click("#slot-0");
  await page.waitForURL(/\/app\/sessions\/1$/);
  await heading(page, "Joint meeting");
  const { sessions } = await api(c, SchedulingService, desk).listSessions({ caseId: 1n });
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].kind, SessionKind.JOINT_MEETING);
  assert.equal(sessions[0].videoLink, "https://video.example/rooms/joint-1");
  const start = timestampDate(sessions[0].start!);
  assert.equal(
    firstSlot,
    new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeStyle: "short", timeZone: "Europe/London" }).format(start),
  );
  assert.equal((await api(c, ReferralService, desk).getCase({ caseId: 1n })).case?.state, CaseState.SESSIONS_SCHEDULED);
  await assertAccessible(page, "session page");
  await screenshots(page, "session");

  // The .ics download is the server's calendar file.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-ics")]);
  assert.equal(download.suggestedFilename(), "session-1.ics");

  // The week calendar of the session's week shows it.
  const week = sessions[0].localStart.slice(0, 10);
  await page.goto(`${c.baseUrl}/app/calendar?week=${week}`);
  await heading(page, "Calendar");
  await page.locator(`#week a[href='/app/sessions/1']`).waitFor();
  assert.match((await page.locator(`#week a[href='/app/sessions/1']`).textContent()) ?? "", /Joint meeting/);
  await assertAccessible(page, "calendar");
  await screenshots(page, "calendar");
  assert.deepEqual(errors, []);
  await context.close();
});

test("hold and resume with the keyboard alone; a refused action; the session ends on revocation", async () => {
  const { case: held } = await api(c, ReferralService, desk).createReferral({
    organisationId: 2n,
    referrer: { name: "Owen Jones", email: "owen.jones@cardiffbay.example" },
    summary: "A dentist and a practice manager disagree about rotas.",
    parties: [
      { contact: { name: "Cerys Evans", email: "cerys@cardiffbay.example" }, profession: Profession.DENTIST },
      { contact: { name: "Gareth Hughes", email: "gareth@cardiffbay.example" }, profession: Profession.MANAGER },
    ],
  });
  const path = `/app/cases/${held!.id}`;
  const { context, page, errors } = await signedIn(c, desk, path);
  await heading(page, `Case ${held!.reference}`);

  // A refused action: a hold without a reason; the server's words, nothing changed.
  await tabTo(page, "#hold summary");
  await page.keyboard.press("Enter");
  await tabTo(page, "#hold-form-submit");
  await page.keyboard.press("Enter");
  await page.waitForSelector(".nhsuk-error-summary");
  assert.equal(await page.locator(".nhsuk-error-summary a").first().getAttribute("href"), "#hold-reason");
  assert.equal((await api(c, ReferralService, desk).getCase({ caseId: held!.id })).case?.state, CaseState.REFERRED);

  // With the keyboard: the reason, then the button.
  await tabTo(page, "#hold-reason");
  await page.keyboard.type("Formal grievance under way at the practice.");
  await tabTo(page, "#hold-form-submit");
  await page.keyboard.press("Enter");
  await page.locator(".nhsuk-caption-l", { hasText: "On hold" }).waitFor();
  const onHold = (await api(c, ReferralService, desk).getCase({ caseId: held!.id })).case!;
  assert.equal(onHold.state, CaseState.ON_HOLD);
  assert.equal(onHold.holdReason, "Formal grievance under way at the practice.");
  await assertAccessible(page, "case on hold");
  const history = await tableRows(page, "History");
  assert.deepEqual(history.at(-1)?.slice(1), ["Robin Desk (Case support)", "Referred to on hold", "Formal grievance under way at the practice."]);

  await tabTo(page, "#resume summary");
  await page.keyboard.press("Enter");
  await tabTo(page, "#resume-form-submit");
  await page.keyboard.press("Enter");
  await page.locator(".nhsuk-caption-l", { hasText: "Referred" }).waitFor();
  assert.equal((await api(c, ReferralService, desk).getCase({ caseId: held!.id })).case?.state, CaseState.REFERRED);

  // The token is revoked: the next page asks to sign in again, then returns here.
  const me = await api(c, AdminService, c.adminSecret).listTokens({});
  const token = me.tokens.find((t) => t.label === "Robin Desk");
  await api(c, AdminService, c.adminSecret).revokeToken({ tokenId: token!.id });
  await page.reload();
  await page.waitForURL(/\/app\/sign-in\?/);
  assert.equal(await page.locator("#sign-in-message").textContent(), "Your session has ended. Sign in to continue.");
  const other = await issue(c, Role.CASE_SUPPORT, "Kit Desk");
  await page.fill("#token", other);
  await page.click("button[type=submit]");
  await page.waitForURL(`${c.baseUrl}${path}`);
  await heading(page, `Case ${held!.reference}`);
  desk = other;
  assert.deepEqual(errors, []);
  await context.close();
});


test("sign in, record a referral and screen it with the keyboard alone", async () => {
  const { context, page, errors } = await keyboardSignedIn(c, desk, "Work queues");

  // The queues of Welsh organisations: the nation chosen by typing its name, then a queue opened.
  await tabTo(page, "#nation");
  await page.keyboard.type("Wales");
  await tabTo(page, "#apply-filters");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${c.baseUrl}/app?nation=2`);
  // The page drawn again for the filter: its queue links keep it.
  await page.locator("#queue-new[href='/app/queues/new?nation=2']").waitFor();
  await tabTo(page, "#queue-new");
  await page.keyboard.press("Enter");
  await heading(page, "New referrals");
  assert.equal(new URL(page.url()).search, "?nation=2");
  await tabTo(page, "header a[href='/app']");
  await page.keyboard.press("Enter");
  await heading(page, "Work queues");

  await tabTo(page, "#record-referral");
  await page.keyboard.press("Enter");
  await heading(page, "Record a referral");
  const type = async (selector: string, text: string) => {
    await tabTo(page, selector);
    await page.keyboard.type(text);
  };
  await type("#referrer-name", "Nia Price");
  await type("#referrer-email", "nia.price@northshire.example");
  await type("#summary", "A pharmacist and a GP disagree over prescribing reviews.");
  await type("#parties-0-contact-name", "Tom Baker");
  await type("#parties-0-contact-email", "tom.baker@northshire.example");
  await tabTo(page, "#parties-0-profession");
  await page.keyboard.press("ArrowDown"); // Dentist
  await page.keyboard.press("ArrowDown"); // Pharmacist
  await type("#parties-1-contact-name", "Dr Lin Wu");
  await type("#parties-1-contact-email", "lin.wu@northshire.example");
  await tabTo(page, "#record");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/app\/cases\/\d+$/);
  const id = BigInt(/(\d+)$/.exec(page.url())![1]);
  const made = (await api(c, ReferralService, desk).getCase({ caseId: id })).case!;
  await heading(page, `Case ${made.reference}`);
  assert.deepEqual(
    made.parties.map((p) => [p.contact?.name, p.profession]),
    [
      ["Tom Baker", Profession.PHARMACIST],
      ["Dr Lin Wu", Profession.DOCTOR],
    ],
  );

  // Screening: every criterion met, each answer chosen with Space.
  await tabTo(page, "a.nhsuk-contents-list__link[href$='/screening']");
  await page.keyboard.press("Enter");
  await heading(page, "Screening");
  const radios = await page.locator("#screening-form input[type=radio][value='1']").evaluateAll((inputs) =>
    inputs.map((input) => input.id),
  );
  assert.equal(radios.length, 9);
  for (const radio of radios) {
    await tabTo(page, `[id='${radio}']`);
    await page.keyboard.press("Space");
  }
  await tabTo(page, "#save-answers");
  await page.keyboard.press("Enter");
  await page.locator("#evaluated-decision", { hasText: "Suitable" }).waitFor();
  const { answers } = await api(c, ScreeningService, desk).listScreeningAnswers({ caseId: id });
  assert.equal(answers.length, 9);
  assert.ok(answers.every((a) => a.answer === 1));
  assert.deepEqual(errors, []);
  await context.close();
});

test("the adviser decides and quotes, and case support allocates and books, with the keyboard alone", async () => {
  const { case: made } = await api(c, ReferralService, desk).createReferral({
    organisationId: 1n,
    referrer: { name: "Sam Okafor", email: "sam.okafor@northshire.example" },
    summary: "Two registrars disagree about handovers.",
    parties: [
      { contact: { name: "Dr Ola Ade", email: "ola.ade@northshire.example" }, profession: Profession.DOCTOR },
      { contact: { name: "Dr Eve Stone", email: "eve.stone@northshire.example" }, profession: Profession.DOCTOR },
    ],
  });
  const id = made!.id;
  await answerAllMet(c, desk, made!);

  // The adviser: confirm (the first choice), then quote in person for one day.
  const adviserSession = await signedIn(c, adviser, `/app/cases/${id}/decision`);
  const a = adviserSession.page;
  await heading(a, "Record the screening decision");
  await tabTo(a, "#decision-form-submit");
  await a.keyboard.press("Enter");
  await a.waitForURL(`${c.baseUrl}/app/cases/${id}/charges`);
  await heading(a, "Indication of charges");
  await tabTo(a, "#charges-form-submit");
  await a.keyboard.press("Enter");
  await a.locator("#indication-0").waitFor();
  const { indications } = await api(c, ChargesService, adviser).listChargeIndications({ caseId: id });
  assert.equal(indications.length, 1);
  assert.equal(indications[0].days, 1);
  assert.deepEqual(adviserSession.errors, []);
  await adviserSession.context.close();

  // Case support: offer the lead role, then the co-mediator role (accepted through the API).
  const { context, page, errors } = await signedIn(c, desk, `/app/cases/${id}/allocation`);
  await heading(page, "Allocation");
  for (let role = 0; role < 2; ++role) {
    await tabTo(page, "#ranked button");
    await page.keyboard.press("Enter");
    await page.locator(`#offers tbody tr:nth-child(${role + 1})`).waitFor();
    await acceptOffers(c, id, mediatorTokens);
    await page.reload();
    await heading(page, "Allocation");
  }
  assert.equal((await api(c, ReferralService, desk).getCase({ caseId: id })).case?.state, CaseState.MEDIATORS_ALLOCATED);

  // An individual meeting with the first party, by video: radios move with the arrow keys.
  await tabTo(page, "a.nhsuk-contents-list__link[href$='/sessions']");
  await page.keyboard.press("Enter");
  await heading(page, "Sessions");
  await tabTo(page, "#kind");
  await page.keyboard.press("Space");
  await tabTo(page, "#party_id");
  await page.keyboard.press("ArrowDown");
  await tabTo(page, "#mode");
  await page.keyboard.press("ArrowRight");
  await tabTo(page, "#video_link");
  await page.keyboard.type("https://video.example/rooms/ola");
  await tabTo(page, "#find-slots-submit");
  await page.keyboard.press("Enter");
  await page.locator("#slots").waitFor();
  await tabTo(page, "#slot-0");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/app\/sessions\/\d+$/);
  await heading(page, "Individual meeting with Dr Ola Ade");
  const { sessions } = await api(c, SchedulingService, desk).listSessions({ caseId: id });
  assert.deepEqual(
    sessions.map((s) => [s.kind, s.partyId, s.mode, s.videoLink]),
    [[SessionKind.INDIVIDUAL_MEETING, made!.parties[0].id, SessionMode.VIDEO, "https://video.example/rooms/ola"]],
  );
  assert.deepEqual(errors, []);
  await context.close();
});

// A case with both mediators allocated and a two-hour joint meeting by video booked at the
// earliest free time, made through the API; returns the case and session ids.
async function bookedJointMeeting(summary: string): Promise<{ caseId: bigint; sessionId: bigint }> {
  const { id: caseId } = await suitableCase(c, { desk, adviser }, 1n, summary, [
    ["Dr Kai Lund", "kai.lund@northshire.example"],
    ["Dr Mia Ross", "mia.ross@northshire.example"],
  ]);
  const [lead, co] = [...mediatorTokens.keys()];
  const allocation = api(c, AllocationService, desk);
  await allocation.allocateMediator({ caseId, mediatorId: lead, role: AllocationRole.LEAD });
  await allocation.allocateMediator({ caseId, mediatorId: co, role: AllocationRole.CO_MEDIATOR });
  await acceptOffers(c, caseId, mediatorTokens);
  const scheduling = api(c, SchedulingService, desk);
  const wanted = { caseId, kind: SessionKind.JOINT_MEETING, mode: SessionMode.VIDEO, durationMinutes: 120 };
  const { slots } = await scheduling.findSlots(wanted);
  const { session } = await scheduling.bookSession({
    ...wanted,
    start: slots[0].start,
    videoLink: "https://video.example/rooms/lund-ross",
  });
  return { caseId, sessionId: session!.id };
}

test("reschedule, the week calendar and cancel, with the keyboard alone", async () => {
  const { sessionId } = await bookedJointMeeting("Two consultants disagree about the on-call rota.");
  const scheduling = api(c, SchedulingService, desk);
  const booked = (await scheduling.getSession({ sessionId })).session!;
  const { context, page, errors } = await signedIn(c, desk, `/app/sessions/${sessionId}`);
  await heading(page, "Joint meeting");

  // The calendar file, downloaded with Enter on its button.
  await tabTo(page, "#download-ics");
  const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  assert.equal(download.suggestedFilename(), `session-${sessionId}.ics`);
  const ics = readFileSync((await download.path())!, "utf8");
  assert.equal(ics, (await scheduling.exportSessionCalendar({ sessionId })).calendar?.ics);

  // Reschedule: the reason, find new times, move to the first one offered.
  await tabTo(page, "#reschedule summary");
  await page.keyboard.press("Enter");
  await tabTo(page, "#reason");
  await page.keyboard.type("Dr Ross is in theatre that morning.");
  await tabTo(page, "#reschedule-form-submit");
  await page.keyboard.press("Enter");
  await page.locator("#reschedule-slots #slots").waitFor();
  await assertAccessible(page, "session page with new times");
  const chosen = (await page.locator("#slots tbody tr:first-child td:first-child").textContent())?.trim();
  await tabTo(page, "#slot-0");
  await page.keyboard.press("Enter");
  await page.locator("#changes tbody tr:nth-child(2)").waitFor();
  const moved = (await scheduling.getSession({ sessionId })).session!;
  assert.notEqual(moved.start?.seconds, booked.start?.seconds);
  assert.equal(
    chosen,
    new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeStyle: "short", timeZone: "Europe/London" }).format(
      timestampDate(moved.start!),
    ),
  );
  assert.deepEqual(
    moved.changes.map((change) => [change.change, change.previousStart?.seconds, change.reason]),
    [
      ["booked", undefined, ""],
      ["rescheduled", booked.start?.seconds, "Dr Ross is in theatre that morning."],
    ],
  );
  assert.deepEqual((await tableRows(page, "Changes")).map((row) => [row[1], row[3]]), [
    ["Booked", ""],
    ["Rescheduled", "Dr Ross is in theatre that morning."],
  ]);

  // The week calendar of the new time: one mediator's sessions, then the next week and back.
  const week = moved.localStart.slice(0, 10);
  await page.goto(`${c.baseUrl}/app/calendar?week=${week}`);
  await heading(page, "Calendar");
  const weekOf = (await page.locator("#week-of").textContent()) ?? "";
  await tabTo(page, "#mediator");
  await page.keyboard.press("ArrowDown");
  await tabTo(page, "#calendar-filter button");
  await page.keyboard.press("Enter");
  const [lead] = [...mediatorTokens.keys()];
  await page.waitForURL(`${c.baseUrl}/app/calendar?week=${week}&mediator=${lead}`);
  await heading(page, "Calendar of Ana Lead");
  await page.locator(`#week a[href='/app/sessions/${sessionId}']`).waitFor();
  await tabTo(page, "#next-week");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/app\/calendar\?week=\d{4}-\d{2}-\d{2}&mediator=\d+$/);
  await page.locator("#week-of", { hasNotText: weekOf }).waitFor();
  assert.equal(await page.locator(`#week a[href='/app/sessions/${sessionId}']`).count(), 0);
  await tabTo(page, "#previous-week");
  await page.keyboard.press("Enter");
  await page.locator("#week-of", { hasText: weekOf }).waitFor();
  await tabTo(page, `#week a[href='/app/sessions/${sessionId}']`);
  await page.keyboard.press("Enter");
  await page.waitForURL(`${c.baseUrl}/app/sessions/${sessionId}`);
  await heading(page, "Joint meeting");

  // Cancel: the reason, then the warning button.
  await tabTo(page, "#cancel summary");
  await page.keyboard.press("Enter");
  await tabTo(page, "#cancel-reason");
  await page.keyboard.type("Both parties resolved it between them.");
  await tabTo(page, "#cancel-form-submit");
  await page.keyboard.press("Enter");
  await page.locator(".nhsuk-caption-l", { hasText: "Cancelled" }).waitFor();
  const cancelled = (await scheduling.getSession({ sessionId })).session!;
  assert.equal(cancelled.state, SessionState.CANCELLED);
  assert.deepEqual(
    cancelled.changes.map((change) => [change.change, change.reason]),
    [
      ["booked", ""],
      ["rescheduled", "Dr Ross is in theatre that morning."],
      ["cancelled", "Both parties resolved it between them."],
    ],
  );
  // A cancelled session offers no changes.
  assert.equal(await page.locator("#reschedule, #cancel").count(), 0);
  await assertAccessible(page, "cancelled session");
  assert.deepEqual(errors, []);
  await context.close();
});

// Last: it stops the server.
test("a server that has gone: the page says so instead of breaking", async () => {
  const { context, page } = await signedIn(c, adviser, "/app/cases/1");
  await heading(page, "Case " + (await api(c, ReferralService, adviser).getCase({ caseId: 1n })).case?.reference);
  await c.server.stop(30_000);
  await page.click("nav[aria-label='Pages of this case'] a:has-text('Charges')");
  await heading(page, "The server could not show this page");
  await assertAccessible(page, "server gone");
  await context.close();
});
