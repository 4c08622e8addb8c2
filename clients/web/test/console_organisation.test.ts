// The console of a referring organisation (an ORGANISATION token bound to one organisation) in a
// real browser against the real server: referring a case (the server's field errors, then the
// case as the API holds it), its cases paged with the API's page tokens, following a case that
// staff drive through screening, the Senior Adviser's decision, charges, a hold, allocation,
// sessions and a shared agreement (the page shows exactly what the API returns to the
// organisation, and none of what it withholds: screening notes, the hold reason, individual
// meetings, session times, agreement text not yet shared), a case found not suitable (the failed
// criteria and their signposting, never the notes), withdrawing (refused without a reason
// first), another organisation's case probed by its id (the same "Not found" as a case that does
// not exist), and a referral and a withdrawal with the keyboard alone. Each step is checked on
// the page and then through the API; every page state is checked with axe (WCAG 2.2 A and AA).
//
// Run by scripts/console-test.sh (CONSOLE_TESTS=organisation) with MEDIATION_SERVER, WEB_ROOT and
// CHROMIUM set.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Code, ConnectError } from "@connectrpc/connect";
import type { Page } from "playwright-core";

import { AgreementService, Outcome } from "@gen/ppa/mediation/v1/agreement_pb";
import { AllocationRole, AllocationService } from "@gen/ppa/mediation/v1/allocation_pb";
import { CaseService } from "@gen/ppa/mediation/v1/case_pb";
import { ChargesService } from "@gen/ppa/mediation/v1/charges_pb";
import {
  CareSetting,
  CaseState,
  ConcernLevel,
  Criterion,
  CriterionAnswer,
  Nation,
  OrganisationKind,
  Profession,
  Role,
  Sector,
  SessionMode,
  Suitability,
  WithdrawnBy,
} from "@gen/ppa/mediation/v1/common_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";
import { ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { SchedulingService, SessionKind, SessionState } from "@gen/ppa/mediation/v1/scheduling_pb";
import { ScreeningService } from "@gen/ppa/mediation/v1/screening_pb";

import {
  acceptOffers,
  api,
  assertAccessible,
  cardRows,
  type Console,
  expectBanner,
  heading,
  issue,
  keyboardSignedIn,
  londonTime,
  longDate,
  pounds,
  registerNorthshire,
  registerWorkingMediator,
  screenshots,
  signedIn,
  startConsole,
  stopConsole,
  summaryProblems,
  summaryRows,
  summaryValue,
  tableRows,
  tabTo,
} from "./console_support";

// What staff record that the organisation must never see.
const kHealthNote = "Dr Reed is recovering from an operation; occupational health cleared her to attend.";
const kUnfitNote = "Dr Vale is signed off with anxiety until further notice.";
const kFormalNote = "A grievance about the rota is under way with HR.";
const kHoldReason = "Dr Reed is in hospital for a week.";
const kWithdrawReason = "The two doctors settled it between them at a team meeting.";
const kCardiffCases = 21;

let c: Console;
let desk = "";
let adviser = "";
let northshire = "";
let cardiff = "";
let northshireId = 0n;
let cardiffId = 0n;
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
  northshireId = await registerNorthshire(c, desk);
  const { organisation } = await api(c, OrganisationService, desk).registerOrganisation({
    organisation: {
      name: "Cardiff Bay Dental Practice",
      kind: OrganisationKind.DENTAL_PRACTICE,
      nation: Nation.WALES,
      careSetting: CareSetting.PRIMARY,
      sector: Sector.INDEPENDENT,
      contact: { name: "Owen Jones", email: "owen.jones@cardiffbay.example" },
    },
  });
  cardiffId = organisation!.id;
  northshire = await issue(c, Role.ORGANISATION, "Priya Shah", { organisationId: northshireId });
  cardiff = await issue(c, Role.ORGANISATION, "Owen Jones", { organisationId: cardiffId });
  await registerMediator("Ana Lead", "ana@mediators.example");
  await registerMediator("Ben Second", "ben@mediators.example");
});

after(async () => {
  await stopConsole(c);
});

// ---- Helpers -------------------------------------------------------------------------------

// A referral made by Northshire's own token through the API; returns the case.
async function referredByNorthshire(summary: string, second = "Dr Jo Reed") {
  const { case: made } = await api(c, ReferralService, northshire).createReferral({
    referrer: { name: "Priya Shah", email: "priya.shah@northshire.example" },
    summary,
    concernLevel: ConcernLevel.MID,
    parties: [
      { contact: { name: "Dr Alex Morgan", email: `alex.${summary.length}@northshire.example` }, profession: Profession.DOCTOR },
      { contact: { name: second, email: `second.${summary.length}@northshire.example` }, profession: Profession.DOCTOR },
    ],
  });
  return made!;
}

// One screening answer that differs from "met, no note": for the party at `index` (-1: the case).
interface Answer {
  index: number;
  answer: CriterionAnswer;
  note: string;
}

// Records every screening answer, each MET without a note except those in `special`.
async function screen(caseId: bigint, partyIds: bigint[], special: Map<Criterion, Answer>): Promise<void> {
  const screening = api(c, ScreeningService, desk);
  const record = async (criterion: Criterion, index: number) => {
    const given = special.get(criterion);
    const chosen = given?.index === index ? given : undefined;
    await screening.recordScreeningAnswer({
      caseId,
      criterion,
      partyId: index < 0 ? 0n : partyIds[index],
      answer: chosen?.answer ?? CriterionAnswer.MET,
      note: chosen?.note ?? "",
    });
  };
  for (const criterion of [Criterion.JOINT_PROBLEM, Criterion.WILLING, Criterion.FIT_TO_ATTEND]) {
    for (let i = 0; i < partyIds.length; ++i) await record(criterion, i);
  }
  for (const criterion of [Criterion.NOT_CONTRACTUAL, Criterion.NO_FORMAL_PROCESS, Criterion.NO_RELATIONSHIP]) {
    await record(criterion, -1);
  }
}

// Books the earliest two-hour video session of `kind` (with `partyId` for an individual meeting).
async function book(caseId: bigint, kind: SessionKind, videoLink: string, partyId = 0n) {
  const scheduling = api(c, SchedulingService, desk);
  const wanted = { caseId, kind, partyId, mode: SessionMode.VIDEO, durationMinutes: 120 };
  const { slots } = await scheduling.findSlots(wanted);
  return (await scheduling.bookSession({ ...wanted, start: slots[0].start, videoLink })).session!;
}

// The RPCs the page calls from now on ("ReferralService/GetCase", ...), in order.
function rpcsCalled(page: Page): string[] {
  const calls: string[] = [];
  const prefix = "/ppa.mediation.v1.";
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith(prefix)) calls.push(path.slice(prefix.length));
  });
  return calls;
}

// The RPCs the case page may call: those policy.cc grants an ORGANISATION token.
const kCasePageRpcs = [
  "AgreementService/GetAgreement",
  "AgreementService/GetOutcome",
  "CaseService/GetCaseHistory",
  "ChargesService/ListChargeIndications",
  "IdentityService/WhoAmI",
  "ReferralService/GetCase",
  "SchedulingService/ListSessions",
];

// Every text of the page, shown or not (closed details, visually hidden text).
async function pageText(page: Page): Promise<string> {
  return page.evaluate(() => document.body.textContent ?? "");
}

// Draws the case page again (a reload) and waits for it.
async function reloadCase(page: Page, reference: string): Promise<void> {
  await page.reload();
  await heading(page, `Case ${reference}`);
}

// The history as the page shows it: what happened, oldest first.
async function historyShown(page: Page): Promise<string[]> {
  return (await tableRows(page, "History")).map((row) => row[1]);
}

// ---- Tests ---------------------------------------------------------------------------------

test("the organisation refers a case: the server's field errors, then the case as the API holds it, in its list", async () => {
  const { context, page, errors } = await signedIn(c, northshire);
  await heading(page, "Your cases");
  const calls = rpcsCalled(page);
  assert.equal(await page.locator("#no-cases").textContent(), "Your organisation has not referred any cases yet.");
  assert.deepEqual(await page.locator("header nav[aria-label='Menu'] a").allTextContents(), ["Your cases", "Refer a case"]);
  assert.equal(await page.locator("#signed-in-as").textContent(), "Priya Shah (Organisation)");
  await assertAccessible(page, "no cases yet");
  await screenshots(page, "organisation-no-cases");

  await page.click("#refer-case");
  await heading(page, "Refer a case");
  // The organisation is the token's, shown as text: there is nothing to choose.
  assert.deepEqual(await summaryRows(page, "#referring-organisation .nhsuk-summary-list"), [["Referring organisation", "Northshire Hospitals NHS Trust"]]);
  assert.equal(await page.locator("#organisation_id").count(), 0);
  await assertAccessible(page, "referral form");

  // A bad email and nothing else: each problem the server names, linked to its field.
  await page.fill("#referrer-email", "priya.shah");
  await page.click("#record");
  assert.deepEqual(await summaryProblems(page), [
    ["Referrer full name: required", "#referrer-name"],
    ["Referrer email address: not an email address (expected name@domain.tld)", "#referrer-email"],
    ["What the conflict is about: required", "#summary"],
    ["Party 1 full name: required", "#parties-0-contact-name"],
    ["Party 1 email address: required", "#parties-0-contact-email"],
    ["Party 2 full name: required", "#parties-1-contact-name"],
    ["Party 2 email address: required", "#parties-1-contact-email"],
  ]);
  assert.equal(await page.locator("#summary-group.nhsuk-form-group--error").count(), 1);
  assert.equal(await page.locator("#referrer-email").getAttribute("aria-describedby"), "referrer-email-error");
  assert.equal((await api(c, ReferralService, northshire).listCases({})).totalSize, 0n);
  await assertAccessible(page, "referral form with errors");
  await screenshots(page, "organisation-referral-errors");

  await page.fill("#referrer-name", "Priya Shah");
  await page.fill("#referrer-email", "priya.shah@northshire.example");
  await page.fill("#summary", "Two anaesthetists disagree about the theatre rota and no longer speak.");
  await page.selectOption("#concern_level", { label: "Medium" });
  await page.fill("#parties-0-contact-name", "Dr Alex Morgan");
  await page.fill("#parties-0-contact-email", "alex.morgan@northshire.example");
  await page.fill("#parties-1-contact-name", "Dr Jo Reed");
  await page.fill("#parties-1-contact-email", "jo.reed@northshire.example");
  await page.click("#record");
  await page.waitForURL(/\/app\/cases\/\d+$/);
  const id = BigInt(/(\d+)$/.exec(page.url())![1]);
  const made = (await api(c, ReferralService, desk).getCase({ caseId: id })).case!;
  await heading(page, `Case ${made.reference}`);
  await expectBanner(page, "Your referral is recorded.");
  assert.equal(await page.title(), `Case ${made.reference} - Assisted mediation`);

  // What the API holds: the case belongs to the token's organisation, as referred.
  assert.equal(made.organisationId, northshireId);
  assert.equal(made.state, CaseState.REFERRED);
  assert.equal(made.concernLevel, ConcernLevel.MID);
  assert.deepEqual([made.referrer?.name, made.referrer?.email], ["Priya Shah", "priya.shah@northshire.example"]);
  assert.equal(made.summary, "Two anaesthetists disagree about the theatre rota and no longer speak.");
  assert.deepEqual(
    made.parties.map((p) => [p.contact?.name, p.contact?.email, p.profession]),
    [
      ["Dr Alex Morgan", "alex.morgan@northshire.example", Profession.DOCTOR],
      ["Dr Jo Reed", "jo.reed@northshire.example", Profession.DOCTOR],
    ],
  );
  // The page shows it as the organisation's API answer has it.
  assert.deepEqual(await summaryRows(page, "#case-status .nhsuk-summary-list"), [
    ["State", "Referred"],
    ["Referred on", londonTime(made.createdAt)],
    ["Last changed", londonTime(made.updatedAt)],
  ]);
  assert.deepEqual(await summaryRows(page, "#referral .nhsuk-summary-list"), [
    ["Referred by", "Priya Shah (priya.shah@northshire.example)"],
    ["What the conflict is about", "Two anaesthetists disagree about the theatre rota and no longer speak."],
    ["Concern level", "Mid"],
    ["Concern type", "Not known"],
    ["Parties", "Dr Alex Morgan, Dr Jo Reed"],
  ]);
  assert.equal(await page.locator("#no-decision").textContent(), "No screening decision has been made yet.");
  assert.equal(await page.locator("#no-charges").textContent(), "No indication of charges has been given yet.");
  assert.equal(await page.locator("#no-sessions").textContent(), "No joint meeting has been booked yet.");
  assert.equal(await page.locator("#no-outcome").textContent(), "No outcome has been recorded yet.");
  assert.equal(
    await page.locator("#agreement-not-shared").textContent(),
    "The agreement is not shared with your organisation. It stays confidential unless every party signs it and consents to share it.",
  );
  assert.deepEqual(await tableRows(page, "History"), [[londonTime(made.createdAt), "Referred"]]);
  await assertAccessible(page, "a new case");
  await screenshots(page, "organisation-case-new");

  // Its list shows it.
  await page.click("header a:has-text('Your cases')");
  await heading(page, "Your cases");
  assert.deepEqual(await cardRows(page, "Cases referred by Northshire Hospitals NHS Trust"), [
    [made.reference, "Referred", londonTime(made.createdAt)],
  ]);
  assert.equal(await page.locator("#case-count").textContent(), "1 case in all, newest first.");
  assert.equal(await page.locator(`#cases a[href='/app/cases/${id}']`).textContent(), made.reference);
  // Never the staff's list of every organisation (ListOrganisations is not an organisation's).
  assert.deepEqual(
    [...new Set(calls)].sort(),
    [...kCasePageRpcs, "OrganisationService/GetOrganisation", "ReferralService/CreateReferral", "ReferralService/ListCases"].sort(),
  );
  await assertAccessible(page, "one case");
  await screenshots(page, "organisation-cases");
  assert.deepEqual(errors, []);
  await context.close();
});

test("an organisation's cases page with the API's page tokens, and only its own", async () => {
  const referrals = api(c, ReferralService, cardiff);
  for (let i = 1; i <= kCardiffCases; ++i) {
    await referrals.createReferral({
      referrer: { name: "Owen Jones", email: "owen.jones@cardiffbay.example" },
      summary: `Rota conflict ${i}.`,
      parties: [
        { contact: { name: `Dr Dent ${i}A`, email: `dent${i}a@cardiffbay.example` }, profession: Profession.DENTIST },
        { contact: { name: `Manager ${i}B`, email: `manager${i}b@cardiffbay.example` }, profession: Profession.MANAGER },
      ],
    });
  }
  const first = await referrals.listCases({ pageSize: 20 });
  const second = await referrals.listCases({ pageSize: 20, pageToken: first.nextPageToken });
  assert.equal(first.totalSize, BigInt(kCardiffCases));
  assert.ok([...first.cases, ...second.cases].every((k) => k.organisationId === cardiffId));

  const { context, page, errors } = await signedIn(c, cardiff);
  await heading(page, "Your cases");
  const caption = "Cases referred by Cardiff Bay Dental Practice";
  assert.deepEqual(await cardRows(page, caption), first.cases.map((k) => [k.reference, "Referred", londonTime(k.createdAt)]));
  assert.equal(await page.locator("#case-count").textContent(), `${kCardiffCases} cases in all, newest first.`);
  assert.equal(await page.locator("#page-prev").count(), 0);
  await assertAccessible(page, "first page of cases");

  await page.click("#page-next");
  await page.waitForURL(/[?&]page=/);
  await page.locator("caption", { hasText: `${caption}, page 2` }).waitFor();
  assert.deepEqual(await cardRows(page, `${caption}, page 2`), second.cases.map((k) => [k.reference, "Referred", londonTime(k.createdAt)]));
  assert.equal(await page.locator("#page-next").count(), 0);
  await assertAccessible(page, "second page of cases");
  await screenshots(page, "organisation-cases-page-2");
  // A reload keeps the page; Previous goes back to the first.
  await page.reload();
  await page.locator("caption", { hasText: `${caption}, page 2` }).waitFor();
  await page.click("#page-prev");
  await page.locator("caption", { hasText: new RegExp(`^${caption}$`) }).waitFor();
  assert.equal((await cardRows(page, caption)).length, 20);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the organisation follows its case through screening, charges, a hold, sessions and a shared agreement, and sees nothing the API withholds", async () => {
  const made = await referredByNorthshire("Two registrars disagree about handovers on the night shift.");
  const caseId = made.id;
  const partyIds = made.parties.map((p) => p.id);
  const { context, page, errors } = await signedIn(c, northshire, `/app/cases/${caseId}`);
  await heading(page, `Case ${made.reference}`);
  const calls = rpcsCalled(page);

  // Screening answered (a health note on a met answer), then the adviser confirms: suitable.
  // The answers are the service's: the organisation's token may not read them.
  await screen(caseId, partyIds, new Map([[Criterion.FIT_TO_ATTEND, { index: 1, answer: CriterionAnswer.MET, note: kHealthNote }]]));
  const { answers } = await api(c, ScreeningService, desk).listScreeningAnswers({ caseId });
  assert.ok(answers.some((a) => a.note === kHealthNote));
  for (const read of [
    () => api(c, ScreeningService, northshire).listScreeningAnswers({ caseId }),
    () => api(c, ScreeningService, northshire).evaluateScreening({ caseId }),
    () => api(c, ScreeningService, northshire).listScreeningDecisions({ caseId }),
  ]) {
    await assert.rejects(read(), (e: ConnectError) => e.code === Code.PermissionDenied);
  }
  await reloadCase(page, made.reference);
  assert.equal(await summaryValue(page, /^State$/, "#case-status"), "Screening");
  assert.equal(await page.locator("#no-decision").count(), 1);
  await api(c, ScreeningService, adviser).recordScreeningDecision({ caseId });
  const suitable = (await api(c, ReferralService, northshire).getCase({ caseId })).case!;
  assert.equal(suitable.state, CaseState.SUITABLE);
  await reloadCase(page, made.reference);
  assert.deepEqual(await summaryRows(page, "#screening .nhsuk-summary-list"), [
    ["Decision", "Suitable"],
    ["Decided on", londonTime(suitable.screening?.decidedAt)],
  ]);
  assert.equal(await page.locator("#failed-criteria").count(), 0);
  await assertAccessible(page, "suitable");

  // The adviser's indication of charges: in pounds and pence with VAT, as the API gives it.
  await api(c, ChargesService, adviser).indicateCharges({ caseId, days: 1, mode: SessionMode.IN_PERSON });
  const { indications } = await api(c, ChargesService, northshire).listChargeIndications({ caseId });
  assert.equal(indications.length, 1);
  assert.equal(indications[0].indicatedByTokenId, 0n);
  await reloadCase(page, made.reference);
  const indication = indications[0];
  assert.deepEqual(await tableRows(page, "Indication of"), [
    ...indication.items.map((item) => [item.description, String(item.quantity), pounds(item.unit?.pence), pounds(item.amount?.pence)]),
    ["Subtotal", "", "", pounds(indication.subtotal?.pence)],
    ["VAT at 20%", "", "", pounds(indication.vat?.pence)],
    ["Total", "", "", pounds(indication.total?.pence)],
  ]);
  assert.equal(
    (await page.locator("#indication-0 caption").textContent())?.trim(),
    `Indication of ${londonTime(indication.indicatedAt)}: in person, 1 joint day`,
  );
  await assertAccessible(page, "charges");
  await screenshots(page, "organisation-case-charges");

  // A hold: the state and where it resumes, never why.
  await api(c, CaseService, desk).holdCase({ caseId, reason: kHoldReason });
  const held = (await api(c, ReferralService, northshire).getCase({ caseId })).case!;
  assert.deepEqual([held.state, held.holdReason, held.heldFromState], [CaseState.ON_HOLD, "", CaseState.SUITABLE]);
  assert.equal((await api(c, ReferralService, desk).getCase({ caseId })).case?.holdReason, kHoldReason);
  await reloadCase(page, made.reference);
  assert.equal(await summaryValue(page, /^State$/, "#case-status"), "On hold");
  assert.equal((await page.locator("#state-note").textContent())?.trim(), "Information: The case is on hold. It will resume at suitable.");
  assert.ok(!(await pageText(page)).includes(kHoldReason), "the hold reason is not on the page");
  await assertAccessible(page, "on hold");
  await api(c, CaseService, desk).resumeCase({ caseId, reason: "Dr Reed is back at work." });

  // Mediators allocated, then an individual meeting and the joint meeting booked.
  const [lead, co] = [...mediatorTokens.keys()];
  await api(c, AllocationService, desk).allocateMediator({ caseId, mediatorId: lead, role: AllocationRole.LEAD });
  await api(c, AllocationService, desk).allocateMediator({ caseId, mediatorId: co, role: AllocationRole.CO_MEDIATOR });
  await acceptOffers(c, caseId, mediatorTokens);
  const individual = await book(caseId, SessionKind.INDIVIDUAL_MEETING, "https://video.example/rooms/morgan", partyIds[0]);
  const joint = await book(caseId, SessionKind.JOINT_MEETING, "https://video.example/rooms/joint");
  // The API gives the organisation the joint meeting's date, kind and state only.
  const { sessions } = await api(c, SchedulingService, northshire).listSessions({ caseId });
  assert.deepEqual(
    sessions.map((s) => [s.id, s.kind, s.state, s.start, s.videoLink, s.localStart, s.mediatorIds.length]),
    [[joint.id, SessionKind.JOINT_MEETING, SessionState.SCHEDULED, undefined, "", "", 0]],
  );
  await assert.rejects(api(c, SchedulingService, northshire).getSession({ sessionId: individual.id }), (e: ConnectError) => e.code === Code.NotFound);
  await reloadCase(page, made.reference);
  assert.equal(await summaryValue(page, /^State$/, "#case-status"), "Sessions scheduled");
  assert.deepEqual(await tableRows(page, "Joint meetings and reviews booked"), [[longDate(sessions[0].localDate, "full"), "Joint meeting", "Scheduled"]]);
  const booked = await pageText(page);
  // (The charges name "Individual meetings" as an item; the meeting itself is not listed.)
  for (const hidden of [kHealthNote, kHoldReason, "video.example", londonTime(joint.start), "Ana Lead", "Ben Second", "Robin Desk", "Sam Adviser"]) {
    assert.ok(!booked.includes(hidden), `${hidden} is not on the page`);
  }
  assert.equal(await page.locator("#agreement-not-shared").count(), 1);
  await assertAccessible(page, "sessions booked");
  await screenshots(page, "organisation-case-sessions");

  // The agreement: drafted, signed by one party with consent: still not shared (the server
  // refuses it); then by the other with consent: the page shows the shared version.
  const mediator = api(c, AgreementService, mediatorTokens.get(lead)!);
  const { version } = await mediator.draftAgreement({
    caseId,
    content: {
      items: [
        { commitment: "We will hand over in person at 08:00, using the ward's checklist.", partyIds, reviewDate: { year: 2030, month: 3, day: 1 } },
        { commitment: "We will raise a concern with each other before the rota coordinator.", partyIds },
      ],
      freeText: "We both want safe handovers.\nIf this is not working, we will ask for a review.",
    },
  });
  await mediator.signAgreement({ versionId: version!.id, contentHash: version!.contentHash, partyId: partyIds[0], consentToShare: true });
  await assert.rejects(api(c, AgreementService, northshire).getAgreement({ caseId }), (e: ConnectError) => e.code === Code.FailedPrecondition);
  await reloadCase(page, made.reference);
  assert.equal(await page.locator("#agreement-not-shared").count(), 1);
  assert.ok(!(await pageText(page)).includes("safe handovers"), "an agreement not shared is not on the page");
  await mediator.signAgreement({ versionId: version!.id, contentHash: version!.contentHash, partyId: partyIds[1], consentToShare: true });
  const { versions } = await api(c, AgreementService, northshire).getAgreement({ caseId });
  assert.equal(versions.length, 1);
  assert.equal(versions[0].final, true);
  await reloadCase(page, made.reference);
  assert.equal(await page.locator("#agreement-not-shared").count(), 0);
  assert.deepEqual(await page.locator("#agreement-items li").allTextContents(), [
    "We will hand over in person at 08:00, using the ward's checklist. (to review on 1 March 2030)",
    "We will raise a concern with each other before the rota coordinator.",
  ]);
  assert.deepEqual(await page.locator("#agreement-text p").allTextContents(), [
    "We both want safe handovers.",
    "If this is not working, we will ask for a review.",
  ]);
  // No outcome yet: the API says so, and so does the page.
  assert.equal((await api(c, AgreementService, northshire).getOutcome({ caseId })).outcome, Outcome.UNSPECIFIED);
  assert.equal(await page.locator("#no-outcome").count(), 1);

  // The history: what happened and when, as the API gives it to the organisation (no reasons,
  // no names, no offers to mediators).
  const { entries } = await api(c, CaseService, northshire).getCaseHistory({ caseId });
  assert.ok(entries.every((e) => e.actor === "" && e.role === Role.UNSPECIFIED && e.change.case === "stateChange" && e.change.value.reason === ""));
  const happened = [
    "Referred",
    "Referred to screening",
    "Screening to suitable",
    "Suitable to on hold",
    "On hold to suitable",
    "Suitable to mediators allocated",
    "Mediators allocated to sessions scheduled",
  ];
  assert.equal(entries.length, happened.length);
  assert.deepEqual(await tableRows(page, "History"), entries.map((e, i) => [londonTime(e.at), happened[i]]));
  const shared = await pageText(page);
  for (const hidden of [kHealthNote, kHoldReason, "Dr Reed is back at work.", "video.example", "Robin Desk"]) {
    assert.ok(!shared.includes(hidden), `${hidden} is not on the page`);
  }
  // The page asked only what an organisation may ask.
  assert.deepEqual([...new Set(calls)].sort(), kCasePageRpcs);
  await assertAccessible(page, "shared agreement");
  await screenshots(page, "organisation-case-agreement");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a case found not suitable: the failed criteria and their signposting, never the notes", async () => {
  const made = await referredByNorthshire("A pharmacist and a dispensary manager are in a formal dispute.", "Dr Sam Vale");
  const caseId = made.id;
  await screen(
    caseId,
    made.parties.map((p) => p.id),
    new Map([
      [Criterion.FIT_TO_ATTEND, { index: 1, answer: CriterionAnswer.NOT_MET, note: kUnfitNote }],
      [Criterion.NO_FORMAL_PROCESS, { index: -1, answer: CriterionAnswer.NOT_MET, note: kFormalNote }],
    ]),
  );
  await api(c, ScreeningService, adviser).recordScreeningDecision({ caseId });
  const decided = (await api(c, ReferralService, northshire).getCase({ caseId })).case!;
  assert.equal(decided.state, CaseState.NOT_SUITABLE);
  assert.equal(decided.screening?.decision, Suitability.NOT_SUITABLE);
  assert.equal(decided.screening?.failedCriteria.length, 2);

  const { context, page, errors } = await signedIn(c, northshire, `/app/cases/${caseId}`);
  await heading(page, `Case ${made.reference}`);
  assert.equal(await summaryValue(page, /^State$/, "#case-status"), "Not suitable");
  assert.equal(
    (await page.locator("#state-note").textContent())?.trim(),
    "Information: The case is not suitable for mediation. The screening decision says where to turn instead.",
  );
  assert.deepEqual(await summaryRows(page, "#screening .nhsuk-summary-list"), [
    ["Decision", "Not suitable"],
    ["Decided on", londonTime(decided.screening?.decidedAt)],
  ]);
  const criterion: Partial<Record<Criterion, string>> = {
    [Criterion.NO_FORMAL_PROCESS]: "No formal process under way",
    [Criterion.FIT_TO_ATTEND]: "Fit to attend",
  };
  assert.deepEqual(
    await tableRows(page, "Criteria not met"),
    decided.screening!.failedCriteria.map((f, i) => [criterion[f], decided.screening!.signposting[i]]),
  );
  assert.ok(decided.screening!.signposting.every((s) => s.length > 0));
  const text = await pageText(page);
  assert.ok(!text.includes(kUnfitNote), "the health note is not on the page");
  assert.ok(!text.includes(kFormalNote), "the screening note is not on the page");
  // A finished case offers no withdrawal.
  assert.equal(await page.locator("#withdraw").count(), 0);
  await assertAccessible(page, "not suitable");
  await screenshots(page, "organisation-case-not-suitable");
  assert.deepEqual(errors, []);
  await context.close();
});

test("the organisation withdraws a case: refused without a reason, then withdrawn", async () => {
  const made = await referredByNorthshire("Two GPs disagree about the partnership's on-call.");
  const caseId = made.id;
  const { context, page, errors } = await signedIn(c, northshire, `/app/cases/${caseId}`);
  await heading(page, `Case ${made.reference}`);
  await page.click("#withdraw summary");
  await assertAccessible(page, "withdrawal form");

  await page.click("#withdraw-form-submit");
  assert.deepEqual(await summaryProblems(page), [["Reason for withdrawing: required", "#withdraw-reason"]]);
  assert.equal(await page.locator("#withdraw-reason-group.nhsuk-form-group--error").count(), 1);
  assert.equal((await api(c, ReferralService, desk).getCase({ caseId })).case?.state, CaseState.REFERRED);
  await assertAccessible(page, "withdrawal refused");
  await screenshots(page, "organisation-withdraw-refused");

  await page.fill("#withdraw-reason", kWithdrawReason);
  await page.click("#withdraw-form-submit");
  await expectBanner(page, "The case is withdrawn.");
  assert.equal(await summaryValue(page, /^State$/, "#case-status"), "Withdrawn");
  assert.equal((await page.locator("#state-note").textContent())?.trim(), "Information: Mediation is not possible for this case.");
  assert.equal(await page.locator("#withdraw").count(), 0);
  assert.ok(!(await pageText(page)).includes(kWithdrawReason), "the reason is not shown back");
  assert.deepEqual(await historyShown(page), ["Referred", "Referred to withdrawn"]);

  // What the API holds: withdrawn by the organisation, with its reason, which the organisation's
  // own reading of the case leaves out.
  const staffView = (await api(c, ReferralService, desk).getCase({ caseId })).case!;
  assert.deepEqual(
    [staffView.state, staffView.withdrawnBy, staffView.withdrawalReason],
    [CaseState.WITHDRAWN, WithdrawnBy.ORGANISATION, kWithdrawReason],
  );
  const ownView = (await api(c, ReferralService, northshire).getCase({ caseId })).case!;
  assert.deepEqual([ownView.state, ownView.withdrawnBy, ownView.withdrawalReason], [CaseState.WITHDRAWN, WithdrawnBy.UNSPECIFIED, ""]);
  await assertAccessible(page, "withdrawn");
  await screenshots(page, "organisation-case-withdrawn");
  assert.deepEqual(errors, []);
  await context.close();
});

test("another organisation's case id shows the same Not found page as a case that does not exist", async () => {
  const theirs = await referredByNorthshire("Two nurses disagree about breaks.");
  const missing = theirs.id + 1000n;
  // The server answers both alike.
  for (const caseId of [theirs.id, missing]) {
    await assert.rejects(api(c, ReferralService, cardiff).getCase({ caseId }), (e: ConnectError) => {
      assert.equal(e.code, Code.NotFound);
      assert.equal(e.rawMessage, `case ${caseId} not found`);
      return true;
    });
  }

  const { context, page, errors } = await signedIn(c, cardiff, `/app/cases/${theirs.id}`);
  const shown = async (caseId: bigint) => {
    await heading(page, "Not found");
    const problem = (await page.locator("#problem").textContent()) ?? "";
    return {
      title: await page.title(),
      main: ((await page.locator("main").textContent()) ?? "").replace(String(caseId), "<id>"),
      problem: problem.replace(String(caseId), "<id>"),
    };
  };
  const probed = await shown(theirs.id);
  assert.deepEqual(probed, { title: "Not found - Assisted mediation", main: "Not foundcase <id> not found", problem: "case <id> not found" });
  const text = await pageText(page);
  for (const hidden of [theirs.reference, "Two nurses disagree about breaks.", "Dr Alex Morgan"]) {
    assert.ok(!text.includes(hidden), `${hidden} is not on the page`);
  }
  await assertAccessible(page, "another organisation's case");
  const calls = rpcsCalled(page);
  await page.goto(`${c.baseUrl}/app/cases/${missing}`);
  assert.deepEqual(await shown(missing), probed);
  // Refused the case, the page asks nothing more about it.
  assert.deepEqual(calls, ["IdentityService/WhoAmI", "ReferralService/GetCase"]);
  await assertAccessible(page, "a case that does not exist");
  await screenshots(page, "organisation-case-not-found");
  assert.deepEqual(errors, []);
  await context.close();
});

test("sign in, refer a case and withdraw it with the keyboard alone", async () => {
  const { context, page, errors } = await keyboardSignedIn(c, northshire, "Your cases");

  await tabTo(page, "#refer-case");
  await page.keyboard.press("Enter");
  await heading(page, "Refer a case");
  const type = async (selector: string, text: string) => {
    await tabTo(page, selector);
    await page.keyboard.type(text);
  };
  await type("#referrer-name", "Nia Price");
  await type("#referrer-email", "nia.price@northshire.example");
  await type("#summary", "A pharmacist and a GP disagree over prescribing reviews.");
  await tabTo(page, "#concern_level");
  await page.keyboard.press("ArrowDown"); // Low
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
  const caseId = BigInt(/(\d+)$/.exec(page.url())![1]);
  const made = (await api(c, ReferralService, northshire).getCase({ caseId })).case!;
  await heading(page, `Case ${made.reference}`);
  assert.equal(made.organisationId, northshireId);
  assert.equal(made.concernLevel, ConcernLevel.LOW);
  assert.deepEqual(
    made.parties.map((p) => [p.contact?.name, p.profession]),
    [
      ["Tom Baker", Profession.PHARMACIST],
      ["Dr Lin Wu", Profession.DOCTOR],
    ],
  );

  await tabTo(page, "#withdraw summary");
  await page.keyboard.press("Enter");
  await type("#withdraw-reason", "Referred by mistake: it is a contractual matter.");
  await tabTo(page, "#withdraw-form-submit");
  await page.keyboard.press("Enter");
  await expectBanner(page, "The case is withdrawn.");
  const withdrawn = (await api(c, ReferralService, desk).getCase({ caseId })).case!;
  assert.deepEqual([withdrawn.state, withdrawn.withdrawnBy], [CaseState.WITHDRAWN, WithdrawnBy.ORGANISATION]);
  await assertAccessible(page, "withdrawn with the keyboard");

  // Back to the list: the case is there, withdrawn.
  await tabTo(page, "a.nhsuk-back-link");
  await page.keyboard.press("Enter");
  await heading(page, "Your cases");
  const rows = await cardRows(page, "Cases referred by Northshire Hospitals NHS Trust");
  assert.deepEqual(rows[0], [made.reference, "Withdrawn", londonTime(made.createdAt)]);
  await tabTo(page, `#cases a[href='/app/cases/${caseId}']`);
  await page.keyboard.press("Enter");
  await heading(page, `Case ${made.reference}`);
  assert.deepEqual(errors, []);
  await context.close();
});
