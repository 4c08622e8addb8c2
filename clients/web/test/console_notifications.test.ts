// The emails the service sends, in a real browser against a server with no mail server (every
// email becomes NOT_SENT when it is due): case support sees the emails a referral and a party's
// sign-in link caused, exactly as the API lists them, from the case page; filters them by state;
// opens one and sends it again (the API shows it made due again, then not sent again, under the
// same Message-ID); a party on its home page and a mediator on its availability page turn their
// email reminders off; and an administrator pages through the emails, filters them and sends one
// again with the keyboard alone. Every page state is checked with axe (WCAG 2.2 A and AA).
//
// Run by scripts/console-test.sh (CONSOLE_TESTS=notifications) with MEDIATION_SERVER, WEB_ROOT
// and CHROMIUM set.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { type Timestamp } from "@bufbuild/protobuf/wkt";

import { CaseService } from "@gen/ppa/mediation/v1/case_pb";
import { Profession, Role } from "@gen/ppa/mediation/v1/common_pb";
import {
  type Notification,
  NotificationKind,
  NotificationService,
  NotificationState,
} from "@gen/ppa/mediation/v1/notification_pb";
import { type Case, ReferralService } from "@gen/ppa/mediation/v1/referral_pb";

import {
  api,
  assertAccessible,
  cardRows,
  type Console,
  expectBanner,
  heading,
  issue,
  keyboardSignedIn,
  londonTime,
  registerNorthshire,
  registerWorkingMediator,
  screenshots,
  signedIn,
  startConsole,
  stopConsole,
  summaryRows,
  summaryValue,
  tabTo,
} from "./console_support";

const kNotSent = "not sent: no mail server configured";

let c: Console;
let desk = "";
let organisationId = 0n;

before(async () => {
  c = await startConsole();
  desk = await issue(c, Role.CASE_SUPPORT, "Robin Desk");
  organisationId = await registerNorthshire(c, desk);
});

after(async () => {
  await stopConsole(c);
});

async function refer(summary: string, parties: Array<[string, string]>): Promise<Case> {
  const { case: made } = await api(c, ReferralService, desk).createReferral({
    organisationId,
    referrer: { name: "Sam Okafor", email: "sam.okafor@northshire.example" },
    summary,
    parties: parties.map(([name, email]) => ({ contact: { name, email }, profession: Profession.DOCTOR })),
  });
  return made!;
}

// The case's emails (every case's when `caseId` is 0), newest first, once none is waiting to be
// sent (with no mail server, each becomes NOT_SENT as soon as the delivery worker sees it).
async function settled(caseId: bigint, count: number): Promise<Notification[]> {
  const emails = api(c, NotificationService, desk);
  for (let i = 0; i < 200; ++i) {
    const { notifications } = await emails.listNotifications({ caseId, pageSize: 500 });
    if (notifications.length >= count && notifications.every((n) => n.state !== NotificationState.PENDING)) return notifications;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`case ${caseId}: ${count} emails not settled`);
}

// Email `id` as the API has it once it is no longer PENDING.
async function settledEmail(id: bigint): Promise<Notification> {
  const emails = api(c, NotificationService, desk);
  for (let i = 0; i < 200; ++i) {
    const { notification } = await emails.getNotification({ notificationId: id });
    if (notification && notification.state !== NotificationState.PENDING) return notification;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`email ${id} is still waiting`);
}

function micros(t: Timestamp | undefined): bigint {
  return t ? t.seconds * 1_000_000n + BigInt(Math.floor(t.nanos / 1000)) : 0n;
}

// A row of the emails table as the page should show it.
function row(n: Notification, kind: string): string[] {
  return [n.subject, n.recipientEmail, kind, "Not sent", "0", kNotSent, `Due ${londonTime(n.dueAt)}`];
}

test("case support sees the emails a referral and a sign-in link caused, filters them, and sends one again", async () => {
  const made = await refer("Two consultants disagree about the on-call rota.", [
    ["Dr Kai Lund", "kai.lund@northshire.example"],
    ["Dr Mia Ross", "mia.ross@northshire.example"],
  ]);
  const [kai] = made.parties;
  const { context, page, errors } = await signedIn(c, desk, `/app/cases/${made.id}`);
  await heading(page, `Case ${made.reference}`);
  await page.click(`#issue-link-${kai.id}`);
  await page.locator("#new-link").waitFor();

  // The API's emails: the organisation told of the referral, Dr Lund sent the link; neither sent.
  const [link, referred] = await settled(made.id, 2);
  assert.deepEqual(
    [link, referred].map((n) => [n.kind, n.subject, n.recipientEmail, n.state, n.attempts, n.lastResponse]),
    [
      [NotificationKind.PARTY_SIGN_IN_LINK, `Your sign-in link for assisted mediation ${made.reference}`, "kai.lund@northshire.example", NotificationState.NOT_SENT, 0, kNotSent],
      [NotificationKind.CASE_STATE_CHANGED, `${made.reference}: referred (the referral has been received)`, "priya.shah@northshire.example", NotificationState.NOT_SENT, 0, kNotSent],
    ],
  );

  // The case page's link: the same emails, newest first.
  await page.click("#case-emails");
  await page.waitForURL(`${c.baseUrl}/app/notifications?case=${made.id}`);
  await heading(page, "Emails");
  assert.equal(await page.title(), `Emails about case ${made.reference} - Assisted mediation`);
  assert.deepEqual(await cardRows(page, `Emails about case ${made.reference}, newest first`), [
    row(link, "Sign-in link for a party"),
    row(referred, "Case state changed"),
  ]);
  assert.equal(await page.locator("header a[aria-current=page]").textContent(), "Emails");
  await assertAccessible(page, "a case's emails");
  await screenshots(page, "emails");

  // By state: none waits; both are not sent.
  await page.selectOption("#state", { label: "Waiting to send" });
  await page.click("#email-filter-submit");
  await page.waitForURL(`${c.baseUrl}/app/notifications?case=${made.id}&state=pending`);
  await page.locator("#no-emails").waitFor();
  await assertAccessible(page, "no email waiting");
  await page.selectOption("#state", { label: "Not sent" });
  await page.click("#email-filter-submit");
  await page.waitForURL(`${c.baseUrl}/app/notifications?case=${made.id}&state=not-sent`);
  const caption = `Not sent emails about case ${made.reference}, newest first`;
  await page.locator("caption", { hasText: caption }).waitFor();
  assert.equal((await cardRows(page, caption)).length, 2);
  assert.equal(await page.inputValue("#state"), "not-sent");

  // One email: who it is for, what it is about and how sending it went; never its text.
  await page.click(`#email-${link.id}`);
  await heading(page, `Email ${link.id}`);
  assert.deepEqual(await summaryRows(page), [
    ["Subject", link.subject],
    ["To", "kai.lund@northshire.example"],
    ["Who they are", `Party ${kai.id} of the case`],
    ["Kind", "Sign-in link for a party"],
    ["Case", made.reference],
    ["State", "Not sent No mail server was set up when it was due (the server runs without --smtp_url), so it was not sent."],
    ["Tries", "0"],
    ["Last answer", kNotSent],
    ["Last try", londonTime(link.lastAttemptAt)],
    ["Written", londonTime(link.createdAt)],
    ["Due", londonTime(link.dueAt)],
    ["Message-ID", link.messageId],
  ]);
  assert.equal(await page.locator("main").getByText("/app/join#").count(), 0);
  await assertAccessible(page, "an email not sent");
  await screenshots(page, "email");

  // A sign-in link's email is never sent again (its code is not kept): a new link is issued.
  assert.equal(await page.locator("#resend-form-submit").count(), 0);
  assert.equal(await page.locator("main").getByText("A sign-in link's email is not sent again").count(), 1);

  // Another email sent again: queued at once, then (still no mail server) not sent again, under
  // the same Message-ID, with its tries counted from none.
  assert.equal(await page.locator("#email-text").count(), 0, "a tried sign-in link's text is gone");
  await page.goto(`${c.baseUrl}/app/notifications/${referred.id}`);
  await heading(page, `Email ${referred.id}`);
  // What it said: its plain text as written.
  const text = (await page.locator("#email-text").textContent()) ?? "";
  assert.ok(text.startsWith("Dear Priya Shah,"), text);
  assert.ok(text.includes(`Assisted mediation case ${made.reference}, referred by`), text);
  await page.click("#resend-form-submit");
  await expectBanner(page, `Email ${referred.id} is queued to be sent again.`);
  assert.match(await summaryValue(page, "State"), /^(Waiting to send|Not sent) /);
  await assertAccessible(page, "an email sent again");
  const again = await settledEmail(referred.id);
  assert.deepEqual(
    [again.state, again.attempts, again.lastResponse, again.messageId],
    [NotificationState.NOT_SENT, 0, kNotSent, referred.messageId],
  );
  assert.ok(micros(again.lastAttemptAt) > micros(referred.lastAttemptAt), "a new try is recorded");
  await page.reload();
  await heading(page, `Email ${referred.id}`);
  assert.equal(await summaryValue(page, "Last try"), londonTime(again.lastAttemptAt));
  assert.equal(await page.locator("#resend-form-submit").count(), 1);

  // Back to the case, from the email's page.
  await page.click("#email-case");
  await heading(page, `Case ${made.reference}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a party turns email reminders off on its home page", async () => {
  const made = await refer("Two GPs disagree about the practice's rota.", [
    ["Dr Ada Hale", "ada.hale@northshire.example"],
    ["Dr Ben Ford", "ben.ford@northshire.example"],
  ]);
  const [ada] = made.parties;
  const { path } = await api(c, CaseService, desk).issuePartySignInLink({ caseId: made.id, partyId: ada.id });
  const context = await c.browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${c.baseUrl}${path}`);
  await heading(page, "Your mediation");
  await page.click("#continue");
  await page.waitForURL(`${c.baseUrl}/app`);
  await page.locator("#email-reminders-heading").waitFor();
  assert.equal(await page.locator("#email-reminders-heading").textContent(), "Email reminders before sessions");
  assert.equal(await page.isChecked("#reminders"), true, "reminders are on until turned off");
  await assertAccessible(page, "party home with reminders");

  await page.check("#reminders-2");
  await page.click("#reminders-form-submit");
  await expectBanner(page, "Email reminders are off.");
  assert.equal(await page.isChecked("#reminders-2"), true);
  const emails = api(c, NotificationService, desk);
  assert.equal((await emails.getReminderPreference({ email: "ada.hale@northshire.example" })).reminders, false);
  assert.equal((await emails.getReminderPreference({ email: "ben.ford@northshire.example" })).reminders, true);
  await assertAccessible(page, "party reminders off");
  await screenshots(page, "party-reminders-off");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a mediator turns email reminders off on its availability page", async () => {
  const ana = await registerWorkingMediator(c, "Ana Lead", "ana.lead@mediators.example");
  const { context, page, errors } = await signedIn(c, ana.token, "/app/availability");
  await heading(page, "Your availability");
  assert.equal(await page.isChecked("#reminders"), true);
  await assertAccessible(page, "availability with reminders");
  await page.check("#reminders-2");
  await page.click("#reminders-form-submit");
  await expectBanner(page, "Email reminders are off.");
  assert.equal((await api(c, NotificationService, ana.token).getReminderPreference({})).reminders, false);
  await assertAccessible(page, "mediator reminders off");
  // And on again.
  await page.check("#reminders");
  await page.click("#reminders-form-submit");
  await expectBanner(page, "Email reminders are on.");
  assert.equal((await api(c, NotificationService, ana.token).getReminderPreference({})).reminders, true);
  assert.deepEqual(errors, []);
  await context.close();
});

test("an administrator pages through the emails, filters them and sends one again with the keyboard alone", async () => {
  // More emails than a page holds: each new sign-in link is one.
  const made = await refer("A pharmacist and a GP disagree over prescribing reviews.", [
    ["Dr Lin Wu", "lin.wu@northshire.example"],
    ["Dr Tom Baker", "tom.baker@northshire.example"],
  ]);
  const existing = (await settled(0n, 1)).length;
  for (let i = existing; i < 27; ++i) {
    await api(c, CaseService, desk).issuePartySignInLink({ caseId: made.id, partyId: made.parties[0].id });
  }
  // The newest is the organisation's (a sign-in link's email is never sent again).
  await api(c, CaseService, desk).holdCase({ caseId: made.id, reason: "Waiting for the rota review." });
  const all = await settled(0n, Math.max(existing + 1, 28));
  assert.equal(all[0].kind, NotificationKind.CASE_STATE_CHANGED);

  const { context, page, errors } = await keyboardSignedIn(c, c.adminSecret, "Administration");
  await tabTo(page, "header a[href='/app/notifications']");
  await page.keyboard.press("Enter");
  await heading(page, "Emails");
  const first = await cardRows(page, "Emails, newest first");
  assert.deepEqual(
    first.map((r) => r[0]),
    all.slice(0, 25).map((n) => n.subject),
  );
  await tabTo(page, "#next-page");
  await page.keyboard.press("Enter");
  await page.locator("caption", { hasText: "Emails, newest first (page 2)" }).waitFor();
  assert.deepEqual(
    (await cardRows(page, "Emails, newest first (page 2)")).map((r) => r[0]),
    all.slice(25, 50).map((n) => n.subject),
  );
  await assertAccessible(page, "emails, page 2");

  // Not sent only: Every state, Waiting to send, Sent, Failed, Not sent.
  await tabTo(page, "#state");
  for (let i = 0; i < 4; ++i) await page.keyboard.press("ArrowDown");
  await tabTo(page, "#email-filter-submit");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${c.baseUrl}/app/notifications?state=not-sent`);
  await page.locator("caption", { hasText: "Not sent emails, newest first" }).waitFor();
  await assertAccessible(page, "emails not sent");
  const target = all[0];
  await tabTo(page, `#email-${target.id}`);
  await page.keyboard.press("Enter");
  await heading(page, `Email ${target.id}`);
  // An administrator does not see case pages: the case is named, not linked.
  assert.equal(await summaryValue(page, "Case"), made.reference);
  assert.equal(await page.locator("#email-case").count(), 0);
  await assertAccessible(page, "an email, for an administrator");
  await tabTo(page, "#resend-form-submit");
  await page.keyboard.press("Enter");
  await expectBanner(page, `Email ${target.id} is queued to be sent again.`);
  await assertAccessible(page, "an email sent again by an administrator");
  const again = await settledEmail(target.id);
  assert.equal(again.state, NotificationState.NOT_SENT);
  assert.ok(micros(again.lastAttemptAt) > micros(target.lastAttemptAt), "a new try is recorded");
  assert.deepEqual(errors, []);
  await context.close();
});
