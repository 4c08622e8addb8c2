// One case from the organisation's referral to closure, in a real browser against the real
// server, each step done by the role that does it in real life, each role in its own browser
// context signed in as itself: the organisation refers (its own form); case support screens;
// the Senior Adviser confirms the decision and indicates charges; case support offers the two
// roles and each mediator accepts in its own console; case support books the joint meeting by
// video and issues each party a one-time sign-in link; each party signs in by its link and sees
// the meeting; the lead mediator drafts the agreement; each party signs it, consenting to share;
// the server's clock moves past the meeting's start (maintenance moves the case to IN_MEDIATION);
// the lead mediator records the outcome, the follow-up and the review (the case closes); the
// organisation sees its case closed, the outcome and the shared agreement. After each step the
// page is checked, then what the API holds; page states no other file checks are run through axe.
//
// The server runs under libfaketime (startConsoleWithClock), with maintenance every second, as in
// console_mediator_work.test.ts.
//
// Run by scripts/console-test.sh (CONSOLE_TESTS=whole_case) with MEDIATION_SERVER, WEB_ROOT and
// CHROMIUM set.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { BrowserContext, Page } from "playwright-core";

import { AgreementService, Outcome } from "@gen/ppa/mediation/v1/agreement_pb";
import { AllocationRole, AllocationService, AllocationState } from "@gen/ppa/mediation/v1/allocation_pb";
import { CaseService, PartySignInLinkState } from "@gen/ppa/mediation/v1/case_pb";
import { ChargesService } from "@gen/ppa/mediation/v1/charges_pb";
import {
  CaseState,
  ConcernLevel,
  CriterionAnswer,
  Profession,
  Role,
  SessionMode,
  Suitability,
} from "@gen/ppa/mediation/v1/common_pb";
import { ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { SchedulingService, type Session, SessionKind, SessionState } from "@gen/ppa/mediation/v1/scheduling_pb";
import { ScreeningService } from "@gen/ppa/mediation/v1/screening_pb";

import {
  api,
  assertAccessible,
  cardRows,
  type Console,
  expectBanner,
  expectBannerHeading,
  fillDate,
  heading,
  issue,
  londonTime,
  londonToday,
  longDate,
  plusDays,
  pounds,
  registerNorthshire,
  registerWorkingMediator,
  screenshots,
  signedIn,
  startConsoleWithClock,
  stopConsole,
  summaryRows,
  tableRows,
} from "./console_support";

let c: Console;
let moveClock: (seconds: number) => Promise<void>;
let desk = "";
let adviser = "";
let northshire = "";
let northshireId = 0n;
let ana: { id: bigint; token: string };
let ben: { id: bigint; token: string };

before(async () => {
  ({ console: c, moveClock } = await startConsoleWithClock(["--maintenance_interval_seconds=1"]));
  desk = await issue(c, Role.CASE_SUPPORT, "Robin Desk");
  adviser = await issue(c, Role.SENIOR_ADVISER, "Sam Adviser");
  northshireId = await registerNorthshire(c, desk);
  northshire = await issue(c, Role.ORGANISATION, "Priya Shah", { organisationId: northshireId });
  ana = await registerWorkingMediator(c, "Ana Lead", "ana@mediators.example");
  ben = await registerWorkingMediator(c, "Ben Second", "ben@mediators.example");
});

after(async () => {
  await stopConsole(c);
});

// A session's time as the console writes it: "27 March 2027 at 09:00 to 11:00".
function timeRange(s: Session): string {
  const end = new Intl.DateTimeFormat("en-GB", { timeStyle: "short", timeZone: "Europe/London" }).format(timestampDate(s.end!));
  return `${londonTime(s.start)} to ${end}`;
}

// A fresh browser context on a party's one-time link (not signed in).
async function openLink(link: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await c.browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(link);
  return { context, page, errors };
}

// Every text of the page, shown or not.
async function pageText(page: Page): Promise<string> {
  return page.evaluate(() => document.body.textContent ?? "");
}

const kSummary = "Two anaesthetists disagree about the theatre rota and no longer speak.";
const kItemA = "We will raise rota concerns with each other first, by email, before involving the clinical director.";
const kItemB = "Dr Reed will share the theatre list by noon each Friday.";
const kFreeText = ["We both want safe, calm theatre lists.", "If this is not working, either of us can ask for another mediation session."];
const kReviewNotes = "Both say the rota emails work and the lists run on time.";

test("a case from the organisation's referral to closure, each role in its own browser", async () => {
  const referrals = api(c, ReferralService, desk);

  // ---- 1. The organisation refers the case with its own form. ----------------------------------
  const org = await signedIn(c, northshire);
  await heading(org.page, "Your cases");
  await org.page.click("#refer-case");
  await heading(org.page, "Refer a case");
  await org.page.fill("#referrer-name", "Priya Shah");
  await org.page.fill("#referrer-email", "priya.shah@northshire.example");
  await org.page.fill("#summary", kSummary);
  await org.page.selectOption("#concern_level", { label: "Medium" });
  await org.page.fill("#parties-0-contact-name", "Dr Alex Morgan");
  await org.page.fill("#parties-0-contact-email", "alex.morgan@northshire.example");
  await org.page.fill("#parties-1-contact-name", "Dr Jo Reed");
  await org.page.fill("#parties-1-contact-email", "jo.reed@northshire.example");
  await org.page.click("#record");
  await org.page.waitForURL(/\/app\/cases\/\d+$/);
  const caseId = BigInt(/(\d+)$/.exec(org.page.url())![1]);
  const referred = (await referrals.getCase({ caseId })).case!;
  const ref = referred.reference;
  // The case's state as the API holds it.
  const stateNow = async () => (await referrals.getCase({ caseId })).case?.state;
  await heading(org.page, `Case ${ref}`);
  await expectBanner(org.page, "Your referral is recorded.");
  assert.equal(referred.organisationId, northshireId);
  assert.equal(referred.state, CaseState.REFERRED);
  assert.equal(referred.concernLevel, ConcernLevel.MID);
  assert.equal(referred.summary, kSummary);
  assert.deepEqual(
    referred.parties.map((p) => [p.contact?.name, p.contact?.email, p.profession]),
    [
      ["Dr Alex Morgan", "alex.morgan@northshire.example", Profession.DOCTOR],
      ["Dr Jo Reed", "jo.reed@northshire.example", Profession.DOCTOR],
    ],
  );
  const [alex, jo] = referred.parties;
  assert.deepEqual(await summaryRows(org.page, "#case-status .nhsuk-summary-list"), [
    ["State", "Referred"],
    ["Referred on", londonTime(referred.createdAt)],
    ["Last changed", londonTime(referred.updatedAt)],
  ]);
  assert.deepEqual(org.errors, []);
  await org.context.close();

  // ---- 2. Case support records the six criteria as met. ------------------------------------------
  const staff = await signedIn(c, desk);
  const d = staff.page;
  await heading(d, "Work queues");
  await d.locator("#count-new:not([aria-busy])").waitFor();
  assert.equal(await d.locator("#count-new").textContent(), "1");
  await d.click("#queue-new");
  await heading(d, "New referrals");
  assert.deepEqual((await tableRows(d, "New referrals")).map((row) => row[0]), [ref]);
  await d.click(`a:has-text('${ref}')`);
  await heading(d, `Case ${ref}`);
  await d.click("nav[aria-label='Pages of this case'] a:has-text('Screening')");
  await heading(d, "Screening");
  const met = d.locator("#screening-form input[type=radio][value='1']");
  // Three criteria for each of the two parties, three for the case.
  assert.equal(await met.count(), 9);
  for (const radio of await met.all()) await radio.check();
  await d.click("#save-answers");
  await d.locator("#evaluated-decision", { hasText: "Suitable" }).waitFor();
  const { answers } = await api(c, ScreeningService, desk).listScreeningAnswers({ caseId });
  assert.equal(answers.length, 9);
  assert.ok(answers.every((a) => a.answer === CriterionAnswer.MET));
  assert.deepEqual(
    answers.map((a) => a.partyId).sort(),
    [0n, 0n, 0n, alex.id, alex.id, alex.id, jo.id, jo.id, jo.id].sort(),
  );
  assert.equal(await stateNow(), CaseState.SCREENING);

  // ---- 3. The Senior Adviser confirms the decision and indicates the charges. ---------------------
  const adv = await signedIn(c, adviser);
  const a = adv.page;
  await heading(a, "Work queues");
  await a.locator("#count-decision:not([aria-busy])").waitFor();
  assert.equal(await a.locator("#count-decision").textContent(), "1");
  await a.click("#queue-decision");
  await heading(a, "Awaiting the adviser's decision");
  await a.click(`a:has-text('${ref}')`);
  await heading(a, `Case ${ref}`);
  await a.click("nav[aria-label='Pages of this case'] a:has-text('Screening')");
  await heading(a, "Screening");
  await a.click("#to-decision");
  await heading(a, "Record the screening decision");
  assert.equal(await a.isChecked("#override_decision"), true, "confirming is the first choice, chosen");
  assert.equal((await a.locator("label[for='override_decision']").textContent())?.trim(), "Confirm: suitable");
  await a.click("#decision-form-submit");
  await a.waitForURL(`${c.baseUrl}/app/cases/${caseId}/charges`);
  await heading(a, "Indication of charges");
  const decided = (await referrals.getCase({ caseId })).case!;
  assert.equal(decided.state, CaseState.SUITABLE);
  assert.deepEqual([decided.screening?.decision, decided.screening?.overridden], [Suitability.SUITABLE, false]);
  const { decisions } = await api(c, ScreeningService, adviser).listScreeningDecisions({ caseId });
  assert.deepEqual(decisions.map((x) => [x.evaluated, x.decision, x.overridden]), [[Suitability.SUITABLE, Suitability.SUITABLE, false]]);
  // By video, one joint day.
  await a.check("#mode-2");
  await a.fill("#days", "1");
  await a.click("#charges-form-submit");
  await a.locator("#indication-0").waitFor();
  const { indications } = await api(c, ChargesService, adviser).listChargeIndications({ caseId });
  assert.equal(indications.length, 1);
  const [quote] = indications;
  assert.deepEqual([quote.mode, quote.days], [SessionMode.VIDEO, 1]);
  assert.deepEqual(await tableRows(a, "Indication of"), [
    ...quote.items.map((item) => [item.description, String(item.quantity), pounds(item.unit?.pence), pounds(item.amount?.pence)]),
    ["Subtotal", "", "", pounds(quote.subtotal?.pence)],
    ["VAT at 20%", "", "", pounds(quote.vat?.pence)],
    ["Total", "", "", pounds(quote.total?.pence)],
  ]);
  assert.equal(
    (await a.locator("#indication-0 caption").textContent())?.trim(),
    `Indication of ${londonTime(quote.indicatedAt)}: video, 1 joint day`,
  );
  await assertAccessible(a, "charges indicated by video");
  assert.deepEqual(adv.errors, []);
  await adv.context.close();

  // ---- 4. Case support offers each role; each mediator accepts in its own console. ----------------
  await d.click("nav[aria-label='Pages of this case'] a:has-text('Allocation')");
  await heading(d, "Allocation");
  await d.locator("h2", { hasText: "Proposal for the lead role" }).waitFor();
  assert.deepEqual((await tableRows(d, "Eligible mediators")).map((row) => row[1]).sort(), ["Ana Lead", "Ben Second"]);
  await d.click(`#offer-${ana.id}`);
  await d.locator("#offers").waitFor();
  assert.deepEqual((await tableRows(d, "Offers made")).map((row) => [row[0], row[1], row[2]]), [["Ana Lead", "Lead", "Waiting for an answer"]]);
  const offerTo = async (mediatorId: bigint) => {
    const { allocations } = await api(c, AllocationService, desk).listAllocations({ caseId });
    return allocations.find((x) => x.mediatorId === mediatorId && x.state === AllocationState.PENDING)!;
  };
  const leadOffer = await offerTo(ana.id);
  assert.equal(leadOffer.role, AllocationRole.LEAD);

  const lead = await signedIn(c, ana.token);
  const l = lead.page;
  await heading(l, "Your cases");
  assert.equal((await l.locator(`#offer-${leadOffer.id} h3`).textContent())?.trim(), `Case ${ref}: lead mediator`);
  await l.click(`#accept-${leadOffer.id}-submit`);
  await expectBannerHeading(l, `You accepted the lead mediator role on case ${ref}.`);
  assert.deepEqual(await tableRows(l, "Cases you have accepted"), [[ref, "Lead mediator", "Suitable", "None booked"]]);
  const leadAnswered = (await api(c, AllocationService, ana.token).listAllocations({ mediatorId: ana.id })).allocations;
  assert.deepEqual(leadAnswered.map((x) => [x.id, x.state]), [[leadOffer.id, AllocationState.ACCEPTED]]);
  assert.equal(await stateNow(), CaseState.SUITABLE);

  await d.reload();
  await heading(d, "Allocation");
  await d.locator("h2", { hasText: "Proposal for the co-mediator role" }).waitFor();
  assert.deepEqual((await tableRows(d, "Eligible mediators")).map((row) => row[1]), ["Ben Second"]);
  await d.click(`#offer-${ben.id}`);
  await d.locator("#offers tbody tr:nth-child(2)").waitFor();
  const coOffer = await offerTo(ben.id);
  assert.equal(coOffer.role, AllocationRole.CO_MEDIATOR);

  const co = await signedIn(c, ben.token);
  await heading(co.page, "Your cases");
  assert.equal((await co.page.locator(`#offer-${coOffer.id} h3`).textContent())?.trim(), `Case ${ref}: co-mediator`);
  assert.deepEqual(await summaryRows(co.page, `#offer-${coOffer.id} .nhsuk-summary-list`).then((rows) => rows[0]), ["Role", "Co-mediator"]);
  await assertAccessible(co.page, "a co-mediator offer");
  await co.page.click(`#accept-${coOffer.id}-submit`);
  await expectBannerHeading(co.page, `You accepted the co-mediator role on case ${ref}.`);
  assert.deepEqual(await tableRows(co.page, "Cases you have accepted"), [[ref, "Co-mediator", "Mediators allocated", "None booked"]]);
  assert.equal(
    (await api(c, AllocationService, ben.token).listAllocations({ mediatorId: ben.id })).allocations.find((x) => x.id === coOffer.id)?.state,
    AllocationState.ACCEPTED,
  );
  assert.equal(await stateNow(), CaseState.MEDIATORS_ALLOCATED);
  assert.deepEqual(co.errors, []);
  await co.context.close();

  await d.reload();
  await heading(d, "Allocation");
  assert.deepEqual((await tableRows(d, "Offers made")).map((row) => [row[0], row[1], row[2]]), [
    ["Ana Lead", "Lead", "Accepted"],
    ["Ben Second", "Co mediator", "Accepted"],
  ]);

  // ---- 5. Case support books the joint meeting by video and issues each party a link. -----------
  await d.click("nav[aria-label='Pages of this case'] a:has-text('Sessions')");
  await heading(d, "Sessions");
  await d.check("#kind-2");
  await d.check("#mode-2");
  await d.fill("#video_link", "https://video.example/rooms/morgan-reed");
  await d.click("#find-slots-submit");
  await d.locator("#slots").waitFor();
  const firstSlot = (await d.locator("#slots tbody tr:first-child td:first-child").textContent())?.trim();
  await d.click("#slot-0");
  await d.waitForURL(/\/app\/sessions\/\d+$/);
  await heading(d, "Joint meeting");
  const { sessions } = await api(c, SchedulingService, desk).listSessions({ caseId });
  assert.equal(sessions.length, 1);
  const joint = sessions[0];
  assert.equal(d.url(), `${c.baseUrl}/app/sessions/${joint.id}`);
  assert.deepEqual(
    [joint.kind, joint.mode, joint.videoLink, joint.state, [...joint.mediatorIds].sort()],
    [SessionKind.JOINT_MEETING, SessionMode.VIDEO, "https://video.example/rooms/morgan-reed", SessionState.SCHEDULED, [ana.id, ben.id].sort()],
  );
  assert.equal(firstSlot, londonTime(joint.start));
  assert.equal(await stateNow(), CaseState.SESSIONS_SCHEDULED);

  await d.click("a.nhsuk-back-link");
  await heading(d, "Sessions");
  await d.click("nav[aria-label='Pages of this case'] a:has-text('Summary')");
  await heading(d, `Case ${ref}`);
  assert.deepEqual((await tableRows(d, "Sign-in links")).map((row) => row.slice(0, 2)), [
    ["Dr Alex Morgan", "None issued"],
    ["Dr Jo Reed", "None issued"],
  ]);
  const links: string[] = [];
  for (const party of [alex, jo]) {
    await d.click(`#issue-link-${party.id}`);
    await d.locator("#new-link-heading", { hasText: `Sign-in link for ${party.contact?.name}` }).waitFor();
    const link = await d.inputValue("#new-link");
    assert.match(link, new RegExp(`^${c.baseUrl}/app/join#[A-Za-z0-9_-]{43}$`));
    links.push(link);
  }
  assert.notEqual(links[0], links[1]);
  const linkStates = async () =>
    (await api(c, CaseService, desk).listPartySignInLinks({ caseId })).links
      .map((x): [bigint, PartySignInLinkState] => [x.partyId, x.state])
      .sort((p, q) => Number(p[0] - q[0]));
  assert.deepEqual(await linkStates(), [
    [alex.id, PartySignInLinkState.ACTIVE],
    [jo.id, PartySignInLinkState.ACTIVE],
  ]);
  await assertAccessible(d, "a sign-in link issued for each party");
  await screenshots(d, "whole-case-links");

  // ---- 6. Each party opens its link, presses Continue and sees the joint meeting. -----------------
  const parties: Array<{ context: BrowserContext; page: Page; errors: string[] }> = [];
  for (const [i, link] of links.entries()) {
    const party = await openLink(link);
    await heading(party.page, "Your mediation");
    await party.page.click("#continue");
    await party.page.waitForURL(`${c.baseUrl}/app`);
    await party.page.locator("#meetings").waitFor();
    assert.deepEqual(await summaryRows(party.page), [
      ["Case reference", ref],
      ["Where it stands", "Your meetings are arranged."],
    ]);
    assert.deepEqual(await tableRows(party.page, "Your meetings"), [[timeRange(joint), "Joint meeting", "By video", "Arranged"]]);
    assert.equal(
      await party.page.locator("#no-agreement").textContent(),
      "Your mediators have not written an agreement yet. When they have, you can read and sign it here.",
    );
    // The other party's name and email are not on its page.
    const other = referred.parties[1 - i].contact!;
    const text = await pageText(party.page);
    assert.ok(!text.includes(other.name) && !text.includes(other.email), "the other party is not named");
    parties.push(party);
  }
  assert.deepEqual(await linkStates(), [
    [alex.id, PartySignInLinkState.USED],
    [jo.id, PartySignInLinkState.USED],
  ]);
  await d.reload();
  await heading(d, `Case ${ref}`);
  assert.deepEqual((await tableRows(d, "Sign-in links")).map((row) => row[1].replace(/ on .*$/, "")), ["Used", "Used"]);
  assert.deepEqual(staff.errors, []);
  await staff.context.close();

  // ---- 7. The lead mediator drafts the agreement: two commitments and free text. ------------------
  const reviewOn = plusDays(londonToday(), 200);
  // The lead's page is "Your cases" already: the link draws it again, with the meeting booked.
  await l.click("header a[href='/app']");
  await l.locator("#cases tbody tr", { hasText: "Sessions scheduled" }).waitFor();
  await heading(l, "Your cases");
  assert.deepEqual(await tableRows(l, "Cases you have accepted"), [[ref, "Lead mediator", "Sessions scheduled", `${londonTime(joint.start)}, Joint meeting`]]);
  await l.click(`#cases a[href='/app/cases/${caseId}']`);
  await heading(l, `Case ${ref}`);
  assert.deepEqual(await tableRows(l, "Sessions"), [["Joint meeting", timeRange(joint), "By video", "Scheduled"]]);
  await l.click(`main nav.nhsuk-contents-list a[href='/app/cases/${caseId}/agreement']`);
  await heading(l, "Agreement");
  await l.click("#draft-link");
  await heading(l, "Draft version 1");
  await l.fill("#content-items-0-commitment", kItemA);
  await l.check("#content-items-0-party_ids");
  await l.check("#content-items-0-party_ids-2");
  await fillDate(l, "content-items-0-review_date", reviewOn);
  await l.click("#add-item");
  await l.fill("#content-items-1-commitment", kItemB);
  await l.check("#content-items-1-party_ids-2");
  await l.fill("#content-free_text", kFreeText.join("\n"));
  await l.click("#draft-submit");
  await heading(l, "Agreement");
  await expectBanner(l, "Version 1 is saved.");
  const agreement = api(c, AgreementService, ana.token);
  let versions = (await agreement.getAgreement({ caseId })).versions;
  assert.deepEqual(
    versions.map((v) => [
      v.version,
      v.final,
      v.content?.items.map((item) => [item.commitment, item.partyIds, item.reviewDate ? [item.reviewDate.year, item.reviewDate.month, item.reviewDate.day] : null]),
      v.content?.freeText,
    ]),
    [
      [
        1,
        false,
        [
          [kItemA, [alex.id, jo.id], [reviewOn.year, reviewOn.month, reviewOn.day]],
          [kItemB, [jo.id], null],
        ],
        kFreeText.join("\n"),
      ],
    ],
  );
  assert.deepEqual(await tableRows(l, "Commitments in version 1"), [
    [kItemA, "Dr Alex Morgan and Dr Jo Reed", longDate(reviewOn)],
    [kItemB, "Dr Jo Reed", "None"],
  ]);
  assert.deepEqual(await tableRows(l, "Signatures on version 1"), [
    ["Dr Alex Morgan", "Not signed", "", ""],
    ["Dr Jo Reed", "Not signed", "", ""],
  ]);

  // ---- 8. Each party reads and signs version 1, consenting to share it. ---------------------------
  const v1 = versions[0];
  for (const [i, party] of parties.entries()) {
    const p = party.page;
    const me = referred.parties[i];
    await p.reload();
    await p.locator("#agreement-status", { hasText: "Version 1 is ready for you to read and sign." }).waitFor();
    await p.click("#read-agreement");
    await heading(p, "Your agreement");
    const shown = Object.fromEntries(await summaryRows(p));
    assert.equal(shown["Fingerprint (SHA-256)"], v1.contentHash);
    assert.equal(shown["Version"], `1 of 1, written ${londonTime(v1.createdAt)}`);
    assert.equal(shown["Signatures"], `${i} of the parties ${i === 1 ? "has" : "have"} signed this version.`);
    assert.equal(shown["Your signature"], "Not signed");
    assert.deepEqual(await p.locator("#commitments li").allTextContents(), [
      `${kItemA}Agreed by: You and the other party. Look at it again on ${longDate(reviewOn)}`,
      `${kItemB}Agreed by: ${me.id === jo.id ? "You" : "The other party"}`,
    ]);
    assert.deepEqual(await p.locator("#free-text p").allTextContents(), kFreeText);
    await p.check("#consent");
    await p.click("#sign-form-submit");
    await p.locator("dd", { hasText: /^\s*Signed .*; you agreed to your organisation reading it\s*$/ }).waitFor();
    versions = (await agreement.getAgreement({ caseId })).versions;
    assert.deepEqual(
      versions[0].signatures.map((s) => [s.partyId, s.onPaper, s.consentToShare]),
      referred.parties.slice(0, i + 1).map((x) => [x.id, false, true]),
    );
    assert.equal(versions[0].final, i === 1);
  }
  // The last signature makes the version final: the party's page says so.
  const last = parties[1].page;
  assert.equal(Object.fromEntries(await summaryRows(last))["Signatures"], "Everyone has signed this version. It can no longer change.");
  assert.equal(await last.locator("#sign-form").count(), 0);
  await assertAccessible(last, "a final agreement, as a party");
  await screenshots(last, "whole-case-party-final");
  await last.click("a.nhsuk-back-link");
  await heading(last, "Your mediation");
  assert.equal(
    await last.locator("#agreement-status").textContent(),
    `You signed version 1 on ${londonTime(versions[0].signatures[1].signedAt)}. Everyone has signed it.`,
  );
  assert.equal(await last.locator("#read-agreement").textContent(), "Read the agreement");
  await assertAccessible(last, "the party's mediation once everyone signed");
  for (const party of parties) {
    assert.deepEqual(party.errors, []);
    await party.context.close();
  }
  // The lead mediator's page shows both signatures, made in the console, and the version final.
  await l.reload();
  await heading(l, "Agreement");
  await l.locator("#version-heading", { hasText: "Version 1 (the latest) Final" }).waitFor();
  assert.deepEqual(await tableRows(l, "Signatures on version 1"), [
    ["Dr Alex Morgan", londonTime(versions[0].signatures[0].signedAt), "In the console, by the party", "Yes"],
    ["Dr Jo Reed", londonTime(versions[0].signatures[1].signedAt), "In the console, by the party", "Yes"],
  ]);
  assert.deepEqual(lead.errors, []);
  await lead.context.close();

  // ---- 9. Past the joint meeting's start: the outcome, the follow-up and the review. -------------
  // The server's clock moves to three hours after the meeting started; maintenance (every second)
  // moves the case to IN_MEDIATION. The jump ends browser sessions: the mediator signs in again.
  await moveClock(Math.ceil((timestampDate(joint.start!).getTime() - Date.now()) / 1000) + 3 * 3600);
  for (let i = 0; i < 100 && (await stateNow()) !== CaseState.IN_MEDIATION; ++i) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(await stateNow(), CaseState.IN_MEDIATION);

  const again = await signedIn(c, ana.token);
  const m = again.page;
  await heading(m, "Your cases");
  assert.deepEqual((await tableRows(m, "Cases you have accepted")).map((row) => row.slice(0, 3)), [[ref, "Lead mediator", "In mediation"]]);
  await m.click(`#cases a[href='/app/cases/${caseId}']`);
  await heading(m, `Case ${ref}`);
  await m.click(`main nav.nhsuk-contents-list a[href='/app/cases/${caseId}/outcome']`);
  await heading(m, "Outcome and follow-up");
  await m.check("#outcome"); // Full agreement
  await m.click("#outcome-form-submit");
  await expectBanner(m, "The outcome is recorded: full agreement.");
  const outcomes = api(c, AgreementService, ana.token);
  let outcome = await outcomes.getOutcome({ caseId });
  assert.equal(outcome.outcome, Outcome.FULL_AGREEMENT);
  assert.equal(await stateNow(), CaseState.OUTCOME_RECORDED);
  // The follow-up on the day it offers (about three months on).
  await m.click("#follow-up-form-submit");
  await m.locator("#success-banner", { hasText: "The follow-up review is on " }).waitFor();
  outcome = await outcomes.getOutcome({ caseId });
  assert.ok(outcome.reviewDate?.year);
  await expectBanner(m, `The follow-up review is on ${longDate(outcome.reviewDate, "full")}.`);
  assert.equal(await stateNow(), CaseState.FOLLOW_UP);
  // The review: the case closes.
  await m.fill("#notes", kReviewNotes);
  await m.click("#review-form-submit");
  await expectBanner(m, "The follow-up review is recorded and the case is closed.");
  outcome = await outcomes.getOutcome({ caseId });
  assert.equal(outcome.reviewNotes, kReviewNotes);
  assert.equal(await stateNow(), CaseState.CLOSED);
  assert.deepEqual(await summaryRows(m, "#outcome-summary"), [
    ["Outcome", "Full agreement"],
    ["Outcome recorded", londonTime(outcome.outcomeRecordedAt)],
    ["Follow-up review", longDate(outcome.reviewDate, "full")],
    ["Review held", londonTime(outcome.reviewedAt)],
    ["Notes from the review", kReviewNotes],
    ["Agreement shared with the organisation", "Version 1: every party signed it and consented to share it"],
  ]);
  assert.equal(await m.locator("main form").count(), 0);
  assert.deepEqual(again.errors, []);
  await again.context.close();

  // ---- 10. The organisation sees its case closed, the outcome and the shared agreement. ----------
  const back = await signedIn(c, northshire);
  const o = back.page;
  await heading(o, "Your cases");
  const closed = (await api(c, ReferralService, northshire).getCase({ caseId })).case!;
  assert.equal(closed.state, CaseState.CLOSED);
  assert.deepEqual(await cardRows(o, "Cases referred by Northshire Hospitals NHS Trust"), [[ref, "Closed", londonTime(closed.createdAt)]]);
  await o.click(`#cases a[href='/app/cases/${caseId}']`);
  await heading(o, `Case ${ref}`);
  assert.deepEqual(await summaryRows(o, "#case-status .nhsuk-summary-list"), [
    ["State", "Closed"],
    ["Referred on", londonTime(closed.createdAt)],
    ["Last changed", londonTime(closed.updatedAt)],
  ]);
  assert.deepEqual(await summaryRows(o, "#screening .nhsuk-summary-list"), [
    ["Decision", "Suitable"],
    ["Decided on", londonTime(closed.screening?.decidedAt)],
  ]);
  const seen = await api(c, AgreementService, northshire).getOutcome({ caseId });
  assert.deepEqual([seen.outcome, seen.reviewNotes], [Outcome.FULL_AGREEMENT, ""]);
  assert.deepEqual(await summaryRows(o, "#outcome .nhsuk-summary-list"), [
    ["Outcome", "Full agreement"],
    ["Recorded on", londonTime(seen.outcomeRecordedAt)],
    ["Follow-up review", longDate(seen.reviewDate)],
    ["Reviewed on", londonTime(seen.reviewedAt)],
  ]);
  const shared = (await api(c, AgreementService, northshire).getAgreement({ caseId })).versions;
  assert.deepEqual(shared.map((v) => [v.version, v.final]), [[1, true]]);
  assert.equal(await o.locator("#agreement-not-shared").count(), 0);
  assert.deepEqual(await o.locator("#agreement-items li").allTextContents(), [
    `${kItemA} (to review on ${longDate(reviewOn)})`,
    kItemB,
  ]);
  assert.deepEqual(await o.locator("#agreement-text p").allTextContents(), kFreeText);
  assert.deepEqual(await tableRows(o, "Joint meetings and reviews booked"), [[longDate(joint.localDate, "full"), "Joint meeting", "Scheduled"]]);
  // The history, as the API gives it to the organisation: every step, and nothing else.
  const { entries } = await api(c, CaseService, northshire).getCaseHistory({ caseId });
  const happened = [
    "Referred",
    "Referred to screening",
    "Screening to suitable",
    "Suitable to mediators allocated",
    "Mediators allocated to sessions scheduled",
    "Sessions scheduled to in mediation",
    "In mediation to outcome recorded",
    "Outcome recorded to follow up",
    "Follow up to closed",
  ];
  assert.equal(entries.length, happened.length);
  assert.deepEqual(await tableRows(o, "History"), entries.map((e, i) => [londonTime(e.at), happened[i]]));
  // A closed case offers no withdrawal, and the review's notes are not the organisation's.
  assert.equal(await o.locator("#withdraw").count(), 0);
  const text = await pageText(o);
  for (const hidden of [kReviewNotes, "video.example", "Ana Lead", "Ben Second"]) {
    assert.ok(!text.includes(hidden), `${hidden} is not on the page`);
  }
  await assertAccessible(o, "a closed case with its outcome and shared agreement");
  await screenshots(o, "whole-case-organisation-closed");
  assert.deepEqual(back.errors, []);
  await back.context.close();
});
