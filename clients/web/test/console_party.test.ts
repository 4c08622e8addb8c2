// The parties' console in a real browser, signed in by one-time links: case support issues a
// link from the case page (shown once); the party opens it (the page uses nothing), continues
// once, sees its own meetings and not the other party's, downloads a calendar file; the link used
// twice, replaced and expired says what to do; the party reads the agreement, prints it, and
// signs a specific version by its hash with the keyboard alone (a stale version refused); and
// withdraws without giving a reason. The server's clock runs under libfaketime, so a link can
// expire without waiting 72 hours.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";

import type { BrowserContext, Page } from "playwright-core";

import { AdminService } from "@gen/ppa/mediation/v1/admin_pb";
import { AgreementService } from "@gen/ppa/mediation/v1/agreement_pb";
import { AllocationRole, AllocationService, AllocationState } from "@gen/ppa/mediation/v1/allocation_pb";
import { CaseService, PartySignInLinkState } from "@gen/ppa/mediation/v1/case_pb";
import { CaseState, Role, SessionMode, WithdrawnBy } from "@gen/ppa/mediation/v1/common_pb";
import { MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";
import { type Case, ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { SchedulingService, type Session, SessionKind } from "@gen/ppa/mediation/v1/scheduling_pb";

import {
  api,
  assertAccessible,
  type Console,
  heading,
  issue,
  mediatorInit,
  registerNorthshire,
  screenshots,
  signedIn,
  startConsoleWithClock,
  stopConsole,
  suitableCase,
  summaryRows,
  tableRows,
  tabTo,
} from "./console_support";

let c: Console;
let moveClock: (seconds: number) => Promise<void>;
let desk = "";
let adviser = "";
const mediators: Array<{ id: bigint; token: string }> = [];

interface Mediation {
  c: Case;
  // Each party's individual meeting, then the joint meeting.
  individual: Session[];
  joint: Session;
}

async function registerMediator(name: string, email: string): Promise<void> {
  const registry = api(c, MediatorService, c.adminSecret);
  const { mediator } = await registry.registerMediator({ mediator: mediatorInit(name, email) });
  const id = mediator!.id;
  await registry.setWorkingPattern({
    mediatorId: id,
    hours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: { hours: 9, minutes: 0 }, end: { hours: 17, minutes: 0 } })),
  });
  mediators.push({ id, token: await issue(c, Role.MEDIATOR, `${name}'s token`, { mediatorId: id }) });
}

// A case through screening, the decision and allocation, with an individual video meeting for
// each party and a joint one, booked at the earliest free times.
async function mediation(summary: string, parties: Array<[string, string]>): Promise<Mediation> {
  const made = await suitableCase(c, { desk, adviser }, 1n, summary, parties);
  const caseId = made.id;
  const allocation = api(c, AllocationService, desk);
  for (const [i, role] of [AllocationRole.LEAD, AllocationRole.CO_MEDIATOR].entries()) {
    await allocation.allocateMediator({ caseId, mediatorId: mediators[i].id, role });
    const own = api(c, AllocationService, mediators[i].token);
    const { allocations } = await own.listAllocations({ mediatorId: mediators[i].id });
    const offer = allocations.find((a) => a.caseId === caseId && a.state === AllocationState.PENDING)!;
    await own.respondToAllocation({ allocationId: offer.id, accept: true });
  }
  const scheduling = api(c, SchedulingService, desk);
  const book = async (kind: SessionKind, partyId: bigint, videoLink: string) => {
    const wanted = { caseId, kind, partyId, mode: SessionMode.VIDEO, durationMinutes: kind === SessionKind.JOINT_MEETING ? 120 : 60 };
    const { slots } = await scheduling.findSlots(wanted);
    return (await scheduling.bookSession({ ...wanted, start: slots[0].start, videoLink })).session!;
  };
  const individual = [];
  for (const [i, party] of made.parties.entries()) {
    individual.push(await book(SessionKind.INDIVIDUAL_MEETING, party.id, `https://video.example/rooms/${caseId}-${i}`));
  }
  const joint = await book(SessionKind.JOINT_MEETING, 0n, `https://video.example/rooms/${caseId}-joint`);
  const now = (await api(c, ReferralService, desk).getCase({ caseId })).case!;
  assert.equal(now.state, CaseState.SESSIONS_SCHEDULED);
  return { c: now, individual, joint };
}

async function issueLink(caseId: bigint, partyId: bigint): Promise<string> {
  const { path } = await api(c, CaseService, desk).issuePartySignInLink({ caseId, partyId });
  return `${c.baseUrl}${path}`;
}

// A fresh browser context on `link`'s page, which is not signed in.
async function openLink(link: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await c.browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(link);
  return { context, page, errors };
}

async function linkStates(caseId: bigint): Promise<Array<[bigint, PartySignInLinkState]>> {
  const { links } = await api(c, CaseService, desk).listPartySignInLinks({ caseId });
  return links.map((l) => [l.partyId, l.state]);
}

// The text of the page's "Not found" message with every number taken out.
async function notFoundText(page: Page): Promise<string> {
  await heading(page, "Not found");
  return ((await page.locator("#problem").textContent()) ?? "").replace(/\d+/g, "N");
}

before(async () => {
  ({ console: c, moveClock } = await startConsoleWithClock());
  desk = await issue(c, Role.CASE_SUPPORT, "Robin Desk");
  adviser = await issue(c, Role.SENIOR_ADVISER, "Sam Adviser");
  await registerNorthshire(c, desk);
  await registerMediator("Ana Lead", "ana@mediators.example");
  await registerMediator("Ben Second", "ben@mediators.example");
});

after(async () => {
  await stopConsole(c);
});

test("a one-time link: issued once from the case page, used once by its Continue button, then refused; replaced and expired links say what to do", async () => {
  const m = await mediation("Two consultants disagree about the on-call rota.", [
    ["Dr Kai Lund", "kai.lund@northshire.example"],
    ["Dr Mia Ross", "mia.ross@northshire.example"],
  ]);
  const [kai, mia] = m.c.parties;

  // Case support: no links yet; issue one for Dr Lund, shown once.
  const staff = await signedIn(c, desk, `/app/cases/${m.c.id}`);
  await heading(staff.page, `Case ${m.c.reference}`);
  assert.deepEqual(
    (await tableRows(staff.page, "Sign-in links")).map((row) => row.slice(0, 2)),
    [
      ["Dr Kai Lund", "None issued"],
      ["Dr Mia Ross", "None issued"],
    ],
  );
  await assertAccessible(staff.page, "case page with sign-in links");
  await staff.page.click(`#issue-link-${kai.id}`);
  await staff.page.locator("#new-link").waitFor();
  const link = await staff.page.inputValue("#new-link");
  assert.match(link, new RegExp(`^${c.baseUrl}/app/join#[A-Za-z0-9_-]{43}$`));
  assert.equal(staff.page.url(), `${c.baseUrl}/app/cases/${m.c.id}`, "the link is never in the address");
  assert.equal(await staff.page.locator("#new-link-heading").textContent(), "Sign-in link for Dr Kai Lund");
  assert.match((await tableRows(staff.page, "Sign-in links"))[0][1], /^Not used yet until /);
  await assertAccessible(staff.page, "sign-in link issued");
  await screenshots(staff.page, "party-link-issued");
  assert.deepEqual(await linkStates(m.c.id), [[kai.id, PartySignInLinkState.ACTIVE]]);
  await staff.page.reload();
  await heading(staff.page, `Case ${m.c.reference}`);
  assert.equal(await staff.page.locator("#new-link").count(), 0, "a reload does not show the link again");
  assert.match((await tableRows(staff.page, "Sign-in links"))[0][1], /^Not used yet until /);

  // The party opens it: the page only offers Continue; the link is still unused.
  const party = await openLink(link);
  await heading(party.page, "Your mediation");
  assert.equal(party.page.url(), `${c.baseUrl}/app/join`, "the code leaves the address as the page opens");
  assert.equal(await party.page.title(), "Sign in to your mediation - Assisted mediation");
  assert.deepEqual(await linkStates(m.c.id), [[kai.id, PartySignInLinkState.ACTIVE]]);
  await assertAccessible(party.page, "sign-in link page");
  await screenshots(party.page, "party-join");
  await party.page.click("#continue");
  await party.page.waitForURL(`${c.baseUrl}/app`);
  await party.page.locator("#meetings").waitFor();
  assert.deepEqual(await linkStates(m.c.id), [[kai.id, PartySignInLinkState.USED]]);
  assert.deepEqual(await summaryRows(party.page), [
    ["Case reference", m.c.reference],
    ["Where it stands", "Your meetings are arranged."],
  ]);
  // Its own individual meeting and the joint one; never Dr Ross's individual meeting.
  const meetings = await tableRows(party.page, "Your meetings");
  assert.deepEqual(
    meetings.map((row) => [row[1], row[2], row[3]]).sort(),
    [
      ["Joint meeting", "By video", "Arranged"],
      ["Your individual meeting with the mediators", "By video", "Arranged"],
    ],
  );
  assert.equal(await party.page.locator(`a[href='/app/sessions/${m.individual[1].id}']`).count(), 0);
  assert.equal(await party.page.locator("#no-agreement").textContent(), "Your mediators have not written an agreement yet. When they have, you can read and sign it here.");
  assert.equal(await party.page.evaluate(() => JSON.stringify({ ...localStorage })), "{}");
  assert.equal(await party.page.evaluate(() => JSON.stringify({ ...sessionStorage })), '{"signed-in":"party"}');
  await assertAccessible(party.page, "party home");
  await screenshots(party.page, "party-home");

  // Its meeting's page and calendar file.
  await party.page.click(`a[href='/app/sessions/${m.individual[0].id}']`);
  await heading(party.page, "Your individual meeting with the mediators");
  assert.deepEqual(Object.fromEntries(await summaryRows(party.page))["Video link"], m.individual[0].videoLink);
  const [download] = await Promise.all([party.page.waitForEvent("download"), party.page.click("#download-ics")]);
  assert.equal(download.suggestedFilename(), `session-${m.individual[0].id}.ics`);
  const ics = readFileSync((await download.path())!, "utf8");
  const { calendar } = await api(c, SchedulingService, desk).exportSessionCalendar({ sessionId: m.individual[0].id });
  const uid = (text: string) => /^UID:.*$/m.exec(text)?.[0];
  assert.equal(uid(ics), uid(calendar!.ics));
  await assertAccessible(party.page, "party meeting");

  // The other party's meeting, by its number: the same page as a meeting that does not exist.
  await party.page.goto(`${c.baseUrl}/app/sessions/${m.individual[1].id}`);
  const probed = await notFoundText(party.page);
  await party.page.goto(`${c.baseUrl}/app/sessions/999999`);
  assert.equal(probed, await notFoundText(party.page));
  await assertAccessible(party.page, "not found");

  // The party's access ends (its token revoked): the sign-in page says to ask for a new link.
  const { links } = await api(c, CaseService, desk).listPartySignInLinks({ caseId: m.c.id });
  await api(c, AdminService, c.adminSecret).revokeToken({ tokenId: links[0].partyTokenId });
  await party.page.goto(`${c.baseUrl}/app`);
  await heading(party.page, "Sign in");
  assert.equal(
    await party.page.locator("#sign-in-message").textContent(),
    "Your session has ended. To sign in again, ask the case support team for a new sign-in link.",
  );
  assert.deepEqual(party.errors, []);
  await party.context.close();

  // The same link again: refused, and nothing changed.
  const tokensBefore = (await api(c, CaseService, desk).listPartySignInLinks({ caseId: m.c.id })).links[0].partyTokenId;
  const again = await openLink(link);
  await again.page.click("#continue");
  await heading(again.page, "This link cannot be used");
  assert.equal(
    await again.page.locator("#problem").textContent(),
    "This sign-in link has already been used, and a link works only once: ask the case support team for a new link (they can issue one from the case page).",
  );
  assert.equal((await api(c, CaseService, desk).listPartySignInLinks({ caseId: m.c.id })).links[0].partyTokenId, tokensBefore);
  await assertAccessible(again.page, "used link");
  await screenshots(again.page, "party-link-used");

  // A link for Dr Ross replaced by a newer one.
  const replaced = await issueLink(m.c.id, mia.id);
  const newest = await issueLink(m.c.id, mia.id);
  // A fresh load each time (from /app/join to /app/join#... would be a same-page move).
  await again.page.goto("about:blank");
  await again.page.goto(replaced);
  await again.page.click("#continue");
  await heading(again.page, "This link cannot be used");
  assert.match((await again.page.locator("#problem").textContent()) ?? "", /^A newer sign-in link was issued for you, which replaces this one/);

  // A link with its code cut off.
  await again.page.goto(`${c.baseUrl}/app/join`);
  await heading(again.page, "This sign-in link is incomplete");
  await assertAccessible(again.page, "incomplete link");

  // 72 hours on, the newest has expired (once the server's clock has moved: it says so).
  await moveClock(72 * 3600 + 60);
  for (let i = 0; i < 100; ++i) {
    if ((await linkStates(m.c.id))[0][1] === PartySignInLinkState.EXPIRED) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.deepEqual((await linkStates(m.c.id))[0], [mia.id, PartySignInLinkState.EXPIRED]);
  await again.page.goto("about:blank");
  await again.page.goto(newest);
  await again.page.click("#continue");
  await heading(again.page, "This link cannot be used");
  assert.equal(
    await again.page.locator("#problem").textContent(),
    "This sign-in link has expired (a link works for 72 hours): ask the case support team for a new link (they can issue one from the case page).",
  );
  assert.deepEqual(again.errors, []);
  await again.context.close();

  assert.deepEqual(staff.errors, []);
  await staff.context.close();

  // Case support sees what became of each (signed in again: the clock's jump ended its session;
  // the clock stays 72 hours on, which the other tests do not mind).
  const later = await signedIn(c, desk, `/app/cases/${m.c.id}`);
  await heading(later.page, `Case ${m.c.reference}`);
  const states = await tableRows(later.page, "Sign-in links");
  assert.match(states[0][1], /^Used on /);
  assert.match(states[1][1], /^Expired issued /);
  assert.deepEqual(later.errors, []);
  await later.context.close();
});

test("a party reads and prints the agreement, a stale version is refused, and it signs a version by its hash with the keyboard alone", async () => {
  const m = await mediation("Two registrars disagree about handovers.", [
    ["Dr Ola Ade", "ola.ade@northshire.example"],
    ["Dr Eve Stone", "eve.stone@northshire.example"],
  ]);
  const [ola, eve] = m.c.parties;
  const lead = api(c, AgreementService, mediators[0].token);
  const draft = (commitment: string) =>
    lead.draftAgreement({
      caseId: m.c.id,
      content: {
        items: [
          { commitment, partyIds: [ola.id, eve.id], reviewDate: { year: 2027, month: 6, day: 1 } },
          { commitment: "I will hand over by 08:30.", partyIds: [ola.id] },
        ],
        freeText: "We will talk first, and write second.\n<script>alert(1)</script>",
      },
    });
  const v1 = (await draft("We will raise rota concerns with each other first.")).version!;

  // Signed in by the link, with the keyboard: Tab to Continue, Enter.
  const { context, page, errors } = await openLink(await issueLink(m.c.id, ola.id));
  await tabTo(page, "#continue");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${c.baseUrl}/app`);
  await page.locator("#agreement-status", { hasText: "Version 1 is ready for you to read and sign." }).waitFor();
  await tabTo(page, "#read-agreement");
  await page.keyboard.press("Enter");
  await heading(page, "Your agreement");
  const shown = Object.fromEntries(await summaryRows(page));
  assert.equal(shown["Fingerprint (SHA-256)"], v1.contentHash);
  assert.match(shown["Version"], /^1 of 1, written /);
  assert.equal(shown["Your signature"], "Not signed");
  assert.deepEqual(await page.locator("#commitments li").allTextContents(), [
    "We will raise rota concerns with each other first.Agreed by: You and the other party. Look at it again on 1 June 2027",
    "I will hand over by 08:30.Agreed by: You",
  ]);
  assert.deepEqual(await page.locator("#free-text p").allTextContents(), ["We will talk first, and write second.", "<script>alert(1)</script>"]);
  await assertAccessible(page, "agreement to sign");
  await screenshots(page, "party-agreement");

  // Printed: the agreement without the header and the form.
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.locator("header.nhsuk-header").isVisible(), false);
  assert.equal(await page.locator("#sign-form").isVisible(), false);
  assert.equal(await page.locator("#agreement-text").isVisible(), true);
  await page.emulateMedia({ media: "screen" });

  // The mediators write version 2 while the page shows version 1: signing 1 is refused.
  const v2 = (await draft("We will raise rota concerns with each other first, by email.")).version!;
  await tabTo(page, "#consent");
  await page.keyboard.press("Space");
  await tabTo(page, "#sign-form-submit");
  await page.keyboard.press("Enter");
  await page.locator(".nhsuk-error-summary").waitFor();
  assert.equal(
    await page.locator(".nhsuk-error-summary li").textContent(),
    "A newer version of the agreement exists: version 1 can no longer be signed. Reload the page to read the newest version before you sign.",
  );
  assert.deepEqual((await api(c, AgreementService, mediators[0].token).getAgreement({ caseId: m.c.id })).versions.map((v) => v.signatures.length), [0, 0]);
  await assertAccessible(page, "stale version refused");

  // Version 2, signed with consent withheld: Space chooses "yes", the arrow moves to "no".
  await page.reload();
  await heading(page, "Your agreement");
  assert.equal(Object.fromEntries(await summaryRows(page))["Fingerprint (SHA-256)"], v2.contentHash);
  await tabTo(page, "#consent");
  await page.keyboard.press("Space");
  await page.keyboard.press("ArrowDown");
  await tabTo(page, "#sign-form-submit");
  await page.keyboard.press("Enter");
  await page.locator("dd", { hasText: /^\s*Signed .*you did not agree to your organisation reading it\s*$/ }).waitFor();
  const { versions } = await api(c, AgreementService, mediators[0].token).getAgreement({ caseId: m.c.id });
  assert.deepEqual(
    versions.map((v) => v.signatures.map((s) => [s.partyId, s.onPaper, s.consentToShare])),
    [[], [[ola.id, false, false]]],
  );
  assert.equal(await page.locator("#sign-form").count(), 0, "a signed version offers no signing");
  await assertAccessible(page, "agreement signed");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a party signs in after the network failed once, and withdraws from mediation without giving a reason", async () => {
  const m = await mediation("A consultant and a registrar disagree about supervision.", [
    ["Dr Ray Cole", "ray.cole@northshire.example"],
    ["Dr Ann Day", "ann.day@northshire.example"],
  ]);
  const [, ann] = m.c.parties;
  const { context, page, errors } = await openLink(await issueLink(m.c.id, ann.id));
  // The network fails once: the page says to try again, and the same link then works.
  await page.route("**/auth/party-link", (route) => route.abort("internetdisconnected"), { times: 1 });
  await page.click("#continue");
  await page.locator(".nhsuk-error-summary", { hasText: "The service could not be reached" }).waitFor();
  assert.equal(await page.locator("#continue").isEnabled(), true);
  assert.deepEqual(await linkStates(m.c.id), [[ann.id, PartySignInLinkState.ACTIVE]]);
  await page.click("#continue");
  await page.locator("#meetings").waitFor();
  await page.click("#withdraw summary");
  await assertAccessible(page, "withdraw form");
  await page.click("#withdraw-form-submit");
  await page.locator("dd", { hasText: "Mediation has stopped: the case was withdrawn." }).waitFor();
  assert.equal(await page.locator("#withdraw").count(), 0);
  const staffView = (await api(c, ReferralService, desk).getCase({ caseId: m.c.id })).case!;
  assert.deepEqual([staffView.state, staffView.withdrawnBy, staffView.withdrawalReason], [CaseState.WITHDRAWN, WithdrawnBy.PARTY, ""]);
  const { entries } = await api(c, CaseService, desk).getCaseHistory({ caseId: m.c.id });
  const last = entries.at(-1)!;
  assert.equal(last.change.case === "stateChange" ? last.change.value.reason : "", `withdrawn by party ${ann.id} (no reason given)`);
  await assertAccessible(page, "withdrawn");
  assert.deepEqual(errors, []);
  await context.close();
});
