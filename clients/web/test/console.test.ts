// The web console in a real browser: Debian's chromium, headless, driven by playwright-core,
// against the real server binary serving the built console (--web_root). Checks what each page
// shows, that names are shown as text (never markup), the session's sign-in and sign-out, the
// return to the page after signing in, and every page with axe (WCAG 2.2 A and AA).
//
// Run by scripts/console-test.sh (ctest -R console_browser) with MEDIATION_SERVER, WEB_ROOT and
// CHROMIUM set.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { createClient, type Transport } from "@connectrpc/connect";
import type { Browser } from "playwright-core";

import { AdminService } from "@gen/ppa/mediation/v1/admin_pb";
import {
  ConcernLevel,
  Profession,
  Role,
} from "@gen/ppa/mediation/v1/common_pb";
import { ReferralService } from "@gen/ppa/mediation/v1/referral_pb";

import {
  assertAccessible,
  type Console,
  registerNorthshire,
  screenshots,
  startConsole,
  stopConsole,
} from "./console_support";
import { connectTransport } from "./transport";

const kHostileName = '<img src=x onerror="window.hacked=1">Dr Alex Morgan';

let console_: Console | undefined;
let browser: Browser | undefined;
let baseUrl = "";
let deskSecret = "";
let caseReference = "";

function connect(secret: string): Transport {
  return connectTransport(baseUrl, secret);
}

before(async () => {
  console_ = await startConsole();
  browser = console_.browser;
  baseUrl = console_.baseUrl;

  const admin = createClient(AdminService, connect(console_.adminSecret));
  const desk = await admin.issueToken({ role: Role.CASE_SUPPORT, label: "Case support desk" });
  deskSecret = desk.secret;
  await registerNorthshire(console_, deskSecret);
  const referrals = createClient(ReferralService, connect(deskSecret));
  const { case: referred } = await referrals.createReferral({
    organisationId: 1n,
    referrer: { name: "Sam Okafor", email: "sam.okafor@northshire.example" },
    summary: "Breakdown in communication between two consultants. <script>window.hacked=2</script>",
    parties: [
      { contact: { name: kHostileName, email: "alex.morgan@northshire.example" } },
      { contact: { name: "Dr Jo Reed", email: "jo.reed@northshire.example" } },
    ].map((p) => ({ ...p, profession: Profession.DOCTOR })),
  });
  caseReference = referred?.reference ?? "";

});

after(async () => {
  await stopConsole(console_);
});

test("a case link opened without a session signs in, then shows the case as text", async () => {
  const context = await browser!.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));

  await page.goto(`${baseUrl}/app/cases/1`);
  await page.waitForURL(/\/app\/sign-in\?/);
  assert.equal(await page.locator("h1").textContent(), "Sign in");
  assert.equal(await page.locator("#sign-in-message").textContent(), "Sign in to continue.");
  await assertAccessible(page, "sign-in");
  await screenshots(page, "sign-in");

  // A wrong token: the server's refusal in an error summary linked to the field.
  await page.fill("#token", "ppa_wrong");
  await page.click("button[type=submit]");
  await page.waitForSelector(".nhsuk-error-summary");
  assert.equal(await page.locator(".nhsuk-error-summary a").getAttribute("href"), "#token");
  await assertAccessible(page, "sign-in with an error");

  await page.fill("#token", deskSecret);
  await page.click("button[type=submit]");
  await page.waitForURL(`${baseUrl}/app/cases/1`);
  await page.waitForSelector("h1:has-text('Case')");
  assert.equal(await page.locator("h1").textContent(), `Case ${caseReference}`);
  assert.equal(await page.title(), `Case ${caseReference} - Assisted mediation`);
  assert.equal(
    await page.locator("#signed-in-as").textContent(),
    "Case support desk (Case support)",
  );
  // Names and summaries are text: the markup in them shows as characters and never runs.
  const cells = await page.locator("#parties tbody tr td:first-child").allTextContents();
  assert.deepEqual(cells, [kHostileName, "Dr Jo Reed"]);
  assert.equal(await page.locator("main img").count(), 0);
  assert.match(
    (await page.locator(".nhsuk-summary-list").textContent()) ?? "",
    /<script>window\.hacked=2<\/script>/,
  );
  assert.equal(await page.evaluate(() => (window as unknown as { hacked?: number }).hacked), undefined);
  await assertAccessible(page, "case page");
  await screenshots(page, "case");

  // The token is in no browser storage; the session cookie is HttpOnly.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  assert.equal(stored.includes(deskSecret), false);
  const cookies = await context.cookies();
  assert.equal(cookies.length, 1);
  assert.equal(cookies[0].httpOnly, true);
  assert.equal(cookies[0].sameSite, "Strict");

  // A reload keeps the page; the back button returns to the sign-in page's URL history.
  await page.reload();
  await page.waitForSelector(`h1:has-text('${caseReference}')`);

  // The home page (the work queues) opens a case by its number.
  await page.goto(`${baseUrl}/`);
  await page.waitForURL(`${baseUrl}/app`);
  await page.waitForSelector("h1:has-text('Work queues')");
  await assertAccessible(page, "home");
  await screenshots(page, "home");
  await page.fill("#case-id", "1");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${baseUrl}/app/cases/1`);
  await page.goBack();
  await page.waitForURL(`${baseUrl}/app`);
  await page.waitForSelector("h1:has-text('Work queues')");

  // Signing out ends the session: the next page asks to sign in again.
  await page.click("#sign-out");
  await page.waitForURL(/\/app\/sign-in/);
  assert.equal(await page.locator("#sign-in-message").textContent(), "You have signed out.");
  await page.goto(`${baseUrl}/app/cases/1`);
  await page.waitForURL(/\/app\/sign-in\?/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("case support records a referral: the server's field errors, then the case it made", async () => {
  const context = await browser!.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${baseUrl}/app/sign-in`);
  await page.fill("#token", deskSecret);
  await page.click("button[type=submit]");
  await page.waitForURL(`${baseUrl}/app`);
  await page.click("#record-referral");
  await page.waitForURL(`${baseUrl}/app/referrals/new`);
  await page.waitForSelector("h1:has-text('Record a referral')");
  assert.deepEqual(await page.locator("#organisation_id option").allTextContents(), [
    "Northshire Hospitals NHS Trust",
  ]);
  await assertAccessible(page, "referral form");

  // Nothing filled in: every problem the server names is listed, linked to its field, which
  // is marked.
  await page.click("#record");
  await page.waitForSelector(".nhsuk-error-summary");
  const links = await page.locator(".nhsuk-error-summary a").evaluateAll((as) =>
    as.map((a) => a.getAttribute("href")),
  );
  for (const field of ["#referrer-name", "#referrer-email", "#summary", "#parties-0-contact-name"]) {
    assert.ok(links.includes(field), `the summary links to ${field}: ${links.join(" ")}`);
  }
  assert.equal(await page.locator("#summary-group.nhsuk-form-group--error").count(), 1);
  assert.equal(await page.locator("#summary").getAttribute("aria-describedby"), "summary-error");
  await assertAccessible(page, "referral form with errors");
  await screenshots(page, "referral-errors");

  await page.fill("#referrer-name", "Sam Okafor");
  await page.fill("#referrer-email", "sam.okafor@northshire.example");
  await page.fill("#summary", "Two pharmacists no longer speak to each other.");
  await page.selectOption("#concern_level", { label: "Medium" });
  await page.fill("#parties-0-contact-name", "Kim Patel");
  await page.fill("#parties-0-contact-email", "kim.patel@northshire.example");
  await page.selectOption("#parties-0-profession", { label: "Pharmacist" });
  await page.fill("#parties-1-contact-name", "Lee Chan");
  await page.fill("#parties-1-contact-email", "lee.chan@northshire.example");
  await page.fill("#parties-1-contact-job_title", "Lead pharmacist");
  await page.selectOption("#parties-1-profession", { label: "Pharmacist" });
  await page.click("#record");
  await page.waitForURL(`${baseUrl}/app/cases/2`);
  await page.waitForSelector("h1:has-text('Case')");

  // The page did what it said: the case as the API has it.
  const { case: recorded } = await createClient(ReferralService, connect(deskSecret)).getCase({
    caseId: 2n,
  });
  assert.equal(await page.locator("h1").textContent(), `Case ${recorded?.reference}`);
  assert.equal(recorded?.summary, "Two pharmacists no longer speak to each other.");
  assert.equal(recorded?.referrer?.name, "Sam Okafor");
  assert.equal(recorded?.concernLevel, ConcernLevel.MID);
  assert.deepEqual(
    recorded?.parties.map((p) => [p.contact?.name, p.contact?.jobTitle, p.profession]),
    [
      ["Kim Patel", "", Profession.PHARMACIST],
      ["Lee Chan", "Lead pharmacist", Profession.PHARMACIST],
    ],
  );
  assert.deepEqual(errors, []);
  await context.close();
});
