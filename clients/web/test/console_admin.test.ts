// The Administration section and the statistics page in a real browser against the real server:
// issuing a token (its secret shown once, copied, never in the address, the title or storage),
// paging through tokens and revoking one, the audit trail and its hash chain (intact, then
// altered in the database), an online backup checked against the file on disk, the fee schedule
// in pounds and pence and setting it, and the statistics' charts checked through their tables.
// Each step is checked on the page and then through the API; every page state is checked with
// axe (WCAG 2.2 A and AA).
//
// Run by scripts/console-test.sh (CONSOLE_TESTS=admin) with MEDIATION_SERVER, WEB_ROOT and
// CHROMIUM set.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { Code, ConnectError } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";

import { AdminService, IdentityService } from "@gen/ppa/mediation/v1/admin_pb";
import { ChargesService } from "@gen/ppa/mediation/v1/charges_pb";
import {
  CareSetting,
  Criterion,
  CriterionAnswer,
  Nation,
  OrganisationKind,
  Profession,
  Role,
  Sector,
} from "@gen/ppa/mediation/v1/common_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";
import { ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { ScreeningService } from "@gen/ppa/mediation/v1/screening_pb";
import { StatisticsService } from "@gen/ppa/mediation/v1/statistics_pb";

import {
  answerAllMet,
  api,
  assertAccessible,
  type Console,
  fillDate,
  heading,
  issue,
  londonToday,
  registerNorthshire,
  screenshots,
  signedIn,
  startConsole,
  stopConsole,
  summaryProblems,
  summaryRows,
  tableRows,
  tabTo,
} from "./console_support";

let c: Console;
let northshireId = 0n;

before(async () => {
  c = await startConsole();
  northshireId = await registerNorthshire(c, c.adminSecret);
});

after(async () => {
  await stopConsole(c);
});

test("an administrator issues an organisation's token, copies it once, and revokes it", async () => {
  const admin = api(c, AdminService, c.adminSecret);
  const { context, page, errors } = await signedIn(c, c.adminSecret, "/app/admin");
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: c.baseUrl });
  await heading(page, "Administration");
  assert.deepEqual(await page.locator("#admin-sections a").allTextContents(), [
    "Access tokens",
    "Audit trail",
    "Back up the database",
    "Fee schedule",
    "Mediators",
    "Emails",
    "Statistics",
  ]);
  assert.equal(await page.title(), "Administration - Assisted mediation");
  await assertAccessible(page, "administration index");
  await screenshots(page, "admin-index");

  await page.click("#admin-sections a >> text=Access tokens");
  await page.waitForURL(`${c.baseUrl}/app/admin/tokens`);
  await heading(page, "Access tokens");
  const first = (await admin.listTokens({})).tokens;
  assert.equal(first.length, 1);
  assert.deepEqual(
    (await tableRows(page, "Tokens that work")).map((r) => r.slice(0, 4)),
    [["1", "first administrator (created on first start) (you)", "Administrator", "Not bound"]],
  );
  await assertAccessible(page, "token list");

  await page.click("#issue-token");
  await heading(page, "Issue an access token");
  assert.deepEqual(await page.locator("#organisation_id option").allTextContents(), [
    "Choose one",
    "Northshire Hospitals NHS Trust",
  ]);
  // The organisation choice is offered only once the role is chosen.
  assert.equal(await page.locator("#organisation_id").isVisible(), false);
  await assertAccessible(page, "issue form");

  // Nothing chosen: the server's problems, each linked to its field.
  await page.click("#issue-form-submit");
  assert.deepEqual(await summaryProblems(page), [
    ["Role: required", "#role"],
    ["Whose token this is: required", "#label"],
  ]);
  assert.equal(await page.locator("#label-group.nhsuk-form-group--error").count(), 1);
  await assertAccessible(page, "issue form with errors");
  await screenshots(page, "admin-token-errors");

  // An expiry in the past is refused by the server, beside the date.
  await page.check("#role-4");
  assert.equal(await page.locator("#organisation_id").isVisible(), true);
  await page.selectOption("#organisation_id", { label: "Northshire Hospitals NHS Trust" });
  await page.fill("#label", "Priya Shah, Northshire referrals");
  await fillDate(page, "expires_at", { day: 1, month: 1, year: 2020 });
  await page.click("#issue-form-submit");
  assert.deepEqual(await summaryProblems(page, "must be in the future"), [
    ["Expiry date (optional): must be in the future", "#expires_at"],
  ]);
  assert.equal((await admin.listTokens({})).tokens.length, 1, "a refused issue stores nothing");
  await assertAccessible(page, "issue form with a date error");

  const year = londonToday().year + 1;
  await fillDate(page, "expires_at", { day: 31, month: 12, year });
  await page.click("#issue-form-submit");
  await heading(page, "Token issued");
  const secret = await page.inputValue("#secret");
  assert.match(secret, /^ppa_/);
  // The secret is on the page only: not in the address, the title or any storage.
  assert.equal(page.url(), `${c.baseUrl}/app/admin/tokens/new`);
  assert.equal(await page.title(), "Token issued - Assisted mediation");
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  assert.equal(stored.includes(secret), false);
  assert.equal(await page.locator("label[for=secret]").textContent(), "Token for Priya Shah, Northshire referrals");
  await page.click("#secret-copy");
  await page.locator("#secret-status", { hasText: "copied" }).waitFor();
  assert.equal(await page.locator("#secret-status").textContent(), "Copied to your clipboard.");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await assertAccessible(page, "token issued");
  await screenshots(page, "admin-token-issued");

  // The API has the token as issued, working to the end of 31 December (UK time).
  const [issued] = (await admin.listTokens({})).tokens;
  assert.equal(issued.label, "Priya Shah, Northshire referrals");
  assert.equal(issued.role, Role.ORGANISATION);
  assert.equal(issued.organisationId, northshireId);
  assert.equal(timestampDate(issued.expiresAt!).toISOString(), `${year + 1}-01-01T00:00:00.000Z`);
  const shown = await summaryRows(page);
  assert.deepEqual(shown.slice(0, 4), [
    ["Token number", String(issued.id)],
    ["Label", "Priya Shah, Northshire referrals"],
    ["Role", "Organisation"],
    ["Bound to", `Organisation ${northshireId}`],
  ]);
  assert.equal(shown[4][0], "Expires");
  assert.match(shown[4][1], new RegExp(`^1 January ${year + 1}\\b.*00:00$`));
  const me = await api(c, IdentityService, secret).whoAmI({});
  assert.equal(me.token?.id, issued.id);

  // Revoking it, after the confirmation.
  await page.click("#back-to-tokens");
  await heading(page, "Access tokens");
  const rows = await tableRows(page, "Tokens that work");
  assert.deepEqual(
    rows.map((r) => r.slice(0, 4)),
    [
      [String(issued.id), "Priya Shah, Northshire referrals", "Organisation", `Organisation ${northshireId}`],
      ["1", "first administrator (created on first start) (you)", "Administrator", "Not bound"],
    ],
  );
  assert.match(rows[0][5], /^Active until \d{1,2} January \d{4}/);
  await page.click(`#revoke-${issued.id}`);
  await heading(page, `Revoke token ${issued.id}?`);
  await assertAccessible(page, "revoke confirmation");
  await screenshots(page, "admin-token-revoke");
  await page.click("#revoke-form-submit");
  await page.waitForURL(`${c.baseUrl}/app/admin/tokens?revoked=${issued.id}`);
  await page.locator("#success-banner").waitFor();
  assert.equal(
    await page.locator("#success-banner h3").textContent(),
    `Token ${issued.id} (Priya Shah, Northshire referrals) is revoked`,
  );
  assert.deepEqual((await tableRows(page, "Tokens that work")).map((r) => r[0]), ["1"]);
  await assertAccessible(page, "token list after revoking");

  // The revoked token is refused by the API and at sign-in.
  const refused = await api(c, IdentityService, secret).whoAmI({}).catch((e: unknown) => e);
  assert.ok(refused instanceof ConnectError);
  assert.equal(refused.code, Code.Unauthenticated);
  const revokedRecord = (await admin.listTokens({ includeInactive: true })).tokens.find((t) => t.id === issued.id);
  assert.ok(revokedRecord?.revokedAt);
  const other = await c.browser.newContext();
  const signIn = await other.newPage();
  await signIn.goto(`${c.baseUrl}/app/sign-in`);
  await signIn.fill("#token", secret);
  await signIn.click("button[type=submit]");
  await signIn.locator(".nhsuk-error-summary").waitFor();
  assert.equal(await signIn.locator("h1").textContent(), "Sign in");
  await other.close();

  // With every token shown, the revoked one is there, marked.
  await page.click("#filter-tokens");
  await page.waitForURL(`${c.baseUrl}/app/admin/tokens?all=1`);
  await page.locator("caption", { hasText: "All tokens" }).waitFor();
  const all = await tableRows(page, "All tokens");
  assert.equal(all[0][0], String(issued.id));
  assert.match(all[0][5], /^Revoked /);
  assert.deepEqual(errors, []);
  await context.close();
});

test("tokens are paged, and the last administrator's own token cannot be revoked", async () => {
  const admin = api(c, AdminService, c.adminSecret);
  for (let i = 1; i <= 21; ++i) await issue(c, Role.CASE_SUPPORT, `Desk ${String(i).padStart(2, "0")}`);
  const api1 = await admin.listTokens({ pageSize: 20 });
  const api2 = await admin.listTokens({ pageSize: 20, pageToken: api1.nextPageToken });
  const { context, page, errors } = await signedIn(c, c.adminSecret, "/app/admin/tokens");
  await heading(page, "Access tokens");
  const labels = async () => (await tableRows(page, "Tokens that work")).map((r) => r[1]);
  const you = (t: { id: bigint; label: string }) => (t.id === 1n ? `${t.label} (you)` : t.label);
  assert.equal(api1.tokens.length, 20);
  assert.deepEqual(await labels(), api1.tokens.map(you));
  assert.equal((await labels())[0], "Desk 21");
  await page.click("#next-page");
  await page.locator("caption").waitFor();
  await page.waitForURL(/page=/);
  await page.locator("td", { hasText: "first administrator" }).waitFor();
  assert.deepEqual(await labels(), api2.tokens.map(you));
  assert.deepEqual(await labels(), ["Desk 01", "first administrator (created on first start) (you)"]);
  assert.equal(await page.locator("#next-page").count(), 0);
  await assertAccessible(page, "token list, page 2");
  await screenshots(page, "admin-tokens-page-2");
  // A reload keeps the page; Previous goes back to the first.
  await page.reload();
  await page.locator("td", { hasText: "first administrator" }).waitFor();
  await page.click("#previous-page");
  await page.waitForURL(`${c.baseUrl}/app/admin/tokens`);
  await page.locator("td", { hasText: "Desk 21" }).waitFor();
  assert.deepEqual(await labels(), api1.tokens.map(you));

  // Revoking the only administrator token is refused: the server's words in the summary.
  await page.goto(`${c.baseUrl}/app/admin/tokens/1/revoke`);
  await heading(page, "Revoke token 1?");
  assert.match(
    (await page.locator(".nhsuk-warning-callout").textContent()) ?? "",
    /This is the token you are signed in with: revoking it signs you out\./,
  );
  await page.click("#revoke-form-submit");
  assert.deepEqual(await summaryProblems(page), [
    ["token 1 is the last active ADMIN token; issue another ADMIN token before revoking it", null],
  ]);
  await assertAccessible(page, "revoke refused");
  const still = (await admin.listTokens({ pageSize: 500 })).tokens.find((t) => t.id === 1n);
  assert.equal(still?.revokedAt, undefined);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a token issued with the keyboard alone", async () => {
  const admin = api(c, AdminService, c.adminSecret);
  const { context, page, errors } = await signedIn(c, c.adminSecret, "/app/admin/tokens");
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: c.baseUrl });
  await heading(page, "Access tokens");
  await tabTo(page, "#issue-token");
  await page.keyboard.press("Enter");
  await heading(page, "Issue an access token");
  // The first radio (Case support), Space to choose it, then the arrow to the next role.
  await tabTo(page, "input[name=role]");
  await page.keyboard.press("Space");
  await page.keyboard.press("ArrowDown");
  assert.equal(await page.locator("#role-2").isChecked(), true);
  await tabTo(page, "#label");
  await page.keyboard.type("Sam Jones, senior adviser");
  await tabTo(page, "#issue-form-submit");
  await page.keyboard.press("Enter");
  await heading(page, "Token issued");
  await tabTo(page, "#secret-copy");
  await page.keyboard.press("Space");
  await page.locator("#secret-status", { hasText: "copied" }).waitFor();
  const secret = await page.inputValue("#secret");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);

  const [issued] = (await admin.listTokens({})).tokens;
  assert.equal(issued.label, "Sam Jones, senior adviser");
  assert.equal(issued.role, Role.SENIOR_ADVISER);
  assert.equal(issued.expiresAt, undefined);
  assert.equal((await api(c, IdentityService, secret).whoAmI({})).token?.role, Role.SENIOR_ADVISER);
  assert.deepEqual(errors, []);
  await context.close();
});

test("an online backup, checked against the file on the server's disk", async () => {
  const { context, page, errors } = await signedIn(c, c.adminSecret, "/app/admin/backup");
  await heading(page, "Back up the database");
  await assertAccessible(page, "backup form");
  await screenshots(page, "admin-backup");

  await page.fill("#label", "!!!");
  await page.click("#backup-form-submit");
  assert.deepEqual(await summaryProblems(page), [
    ["A few words saying why (optional): needs at least one letter or digit (or leave it out)", "#label"],
  ]);
  await assertAccessible(page, "backup form with an error");

  await page.fill("#label", "before upgrade");
  await page.click("#backup-form-submit");
  await heading(page, "Backup made");
  const shown = Object.fromEntries(await summaryRows(page));
  assert.match(shown["File name"], /^mediation-\d{8}T\d{6}Z-before-upgrade\.db$/);
  assert.equal(shown["Where it is on the server"], join(c.server.directory, "backups", shown["File name"]));
  // The file is there, of the size and checksum shown.
  const file = shown["Where it is on the server"];
  const bytes = statSync(file).size;
  assert.match(shown["Size"], new RegExp(`\\(${new Intl.NumberFormat("en-GB").format(bytes)} bytes\\)$`));
  assert.equal(shown["SHA-256 checksum"], createHash("sha256").update(readFileSync(file)).digest("hex"));
  assert.equal(Number(shown["Database pages copied"].replace(/,/g, "")) > 0, true);
  await assertAccessible(page, "backup made");
  await screenshots(page, "admin-backup-made");
  assert.deepEqual(errors, []);
  await context.close();
});

test("the fee schedule in pounds and pence, set by an administrator only", async () => {
  const charges = api(c, ChargesService, c.adminSecret);
  const { context, page, errors } = await signedIn(c, c.adminSecret, "/app/admin/fee-schedule");
  await heading(page, "Fee schedule");
  assert.deepEqual(await tableRows(page, "Fees in force (version 1)"), [
    ["Mediation day with the lead mediator (joint meetings)", "£1,200.00", "£1,440.00"],
    ["Individual meeting (the mediators and one party)", "£350.00", "£420.00"],
    ["Co-mediator, per mediation day", "£600.00", "£720.00"],
    ["Neutral venue, per in-person day", "£250.00", "£300.00"],
    ["Travel and subsistence, per mediator per in-person day", "£95.00", "£114.00"],
  ]);
  assert.deepEqual(await page.locator("#fees thead th").allTextContents(), ["Fee", "Before VAT", "With VAT at 20%"]);
  assert.equal(await page.inputValue("#schedule-mediation_day-pence"), "1200.00");
  assert.equal(await page.inputValue("#schedule-vat_basis_points"), "20");
  await assertAccessible(page, "fee schedule");
  await screenshots(page, "admin-fees");

  // Not an amount, then more than the server allows: each beside its field, in pounds.
  await page.fill("#schedule-mediation_day-pence", "twelve hundred");
  await page.click("#fees-form-submit");
  assert.deepEqual(await summaryProblems(page), [
    [
      "Mediation day with the lead mediator (joint meetings): enter an amount in pounds and pence, for example 1200.00",
      "#schedule-mediation_day-pence",
    ],
  ]);
  await page.fill("#schedule-mediation_day-pence", "1,250.50");
  await page.fill("#schedule-venue_day-pence", "100000.01");
  await page.fill("#schedule-vat_basis_points", "17.5");
  await page.click("#fees-form-submit");
  assert.deepEqual(await summaryProblems(page, "between"), [
    ["Neutral venue, per in-person day: must be between £0 and £100,000.00", "#schedule-venue_day-pence"],
  ]);
  await assertAccessible(page, "fee schedule with an error");
  assert.equal((await charges.getFeeSchedule({})).schedule?.version, 1n, "a refused change stores nothing");

  await page.fill("#schedule-venue_day-pence", "£275");
  await page.click("#fees-form-submit");
  await page.waitForURL(`${c.baseUrl}/app/admin/fee-schedule?saved=2`);
  await page.locator("caption", { hasText: "version 2" }).waitFor();
  assert.equal(await page.locator("#success-banner h3").textContent(), "Version 2 of the fee schedule is in force");
  assert.deepEqual(await tableRows(page, "Fees in force (version 2)"), [
    ["Mediation day with the lead mediator (joint meetings)", "£1,250.50", "£1,469.34"],
    ["Individual meeting (the mediators and one party)", "£350.00", "£411.25"],
    ["Co-mediator, per mediation day", "£600.00", "£705.00"],
    ["Neutral venue, per in-person day", "£275.00", "£323.13"],
    ["Travel and subsistence, per mediator per in-person day", "£95.00", "£111.63"],
  ]);
  const saved = (await charges.getFeeSchedule({})).schedule;
  assert.deepEqual(
    [saved?.mediationDay?.pence, saved?.venueDay?.pence, saved?.individualMeeting?.pence, saved?.vatBasisPoints],
    [125050n, 27500n, 35000n, 1750],
  );
  await assertAccessible(page, "fee schedule saved");

  // Someone else sets it meanwhile: the change made on the older version is refused.
  await charges.setFeeSchedule({ schedule: saved });
  await page.fill("#schedule-mediation_day-pence", "1300");
  await page.click("#fees-form-submit");
  assert.deepEqual(await summaryProblems(page), [
    ["the fee schedule is at version 3, not 2; someone set it since you read it: read it again and reapply your change", null],
  ]);
  assert.equal((await charges.getFeeSchedule({})).schedule?.mediationDay?.pence, 125050n);
  assert.deepEqual(errors, []);
  await context.close();

  // Case support reads the fees but is offered no form, and no administration page.
  const desk = await issue(c, Role.CASE_SUPPORT, "Fee reader, case support");
  const reader = await signedIn(c, desk, "/app/admin/fee-schedule");
  await heading(reader.page, "Fee schedule");
  assert.equal((await tableRows(reader.page, "Fees in force (version 3)"))[0][1], "£1,250.50");
  assert.equal(await reader.page.locator("#fees-form").count(), 0);
  assert.equal(await reader.page.locator("main h2", { hasText: "Change the fees" }).count(), 0);
  assert.equal(await reader.page.locator("nav[aria-label=Menu] a", { hasText: "Administration" }).count(), 0);
  await assertAccessible(reader.page, "fee schedule for case support");
  await reader.page.goto(`${c.baseUrl}/app/admin/tokens`);
  await heading(reader.page, "Not available to your role");
  assert.deepEqual(reader.errors, []);
  await reader.context.close();
});

test("statistics: charts of the referrals, with the figures in their tables", async () => {
  const desk = await issue(c, Role.CASE_SUPPORT, "Statistics desk");
  const adviser = await issue(c, Role.SENIOR_ADVISER, "Statistics adviser");
  const organisations = api(c, OrganisationService, desk);
  const { organisation: valley } = await organisations.registerOrganisation({
    organisation: {
      name: "Valley Dental Practice",
      kind: OrganisationKind.DENTAL_PRACTICE,
      nation: Nation.WALES,
      careSetting: CareSetting.PRIMARY,
      sector: Sector.INDEPENDENT,
      contact: { name: "Rhys Evans", email: "rhys.evans@valley.example" },
    },
  });
  const referrals = api(c, ReferralService, desk);
  const refer = async (organisationId: bigint, professions: [Profession, Profession], n: number) => {
    const { case: made } = await referrals.createReferral({
      organisationId,
      referrer: { name: "Sam Okafor", email: `referrer${n}@example.org` },
      summary: "Two colleagues no longer speak to each other.",
      parties: professions.map((profession, i) => ({
        contact: { name: `Party ${n}-${i}`, email: `party${n}-${i}@example.org` },
        profession,
      })),
    });
    return made!;
  };
  const suitable = await refer(northshireId, [Profession.DOCTOR, Profession.DOCTOR], 1);
  const unsuitable = await refer(northshireId, [Profession.PHARMACIST, Profession.MANAGER], 2);
  await refer(valley!.id, [Profession.DENTIST, Profession.OTHER_HEALTHCARE_STAFF], 3);
  await answerAllMet(c, desk, suitable);
  const screening = api(c, ScreeningService, desk);
  for (const criterion of [Criterion.NOT_CONTRACTUAL, Criterion.NO_FORMAL_PROCESS]) {
    await screening.recordScreeningAnswer({
      caseId: unsuitable.id,
      criterion,
      answer: CriterionAnswer.NOT_MET,
      note: "An employment tribunal claim is under way.",
    });
  }
  const decide = api(c, ScreeningService, adviser);
  await decide.recordScreeningDecision({ caseId: suitable.id });
  await decide.recordScreeningDecision({ caseId: unsuitable.id });

  const { context, page, errors } = await signedIn(c, desk, "/app/statistics");
  await heading(page, "Statistics");
  assert.equal(await page.locator("#period").textContent(), "Every case referred.");
  assert.deepEqual(await summaryRows(page), [
    ["Referrals", "3"],
    ["Screening decisions made", "2"],
    ["Found suitable", "1 (50% of those screened)"],
    ["Median time to both mediators allocated", "No cases yet"],
    ["Median time to the first session", "No cases yet"],
  ]);
  assert.deepEqual(await tableRows(page, "Referrals by nation"), [
    ["England", "2"],
    ["Wales", "1"],
    ["Northern Ireland", "0"],
  ]);
  assert.deepEqual(await tableRows(page, "Parties by profession"), [
    ["Doctor", "2"],
    ["Dentist", "1"],
    ["Pharmacist", "1"],
    ["Other healthcare staff", "1"],
    ["Manager", "1"],
  ]);
  assert.deepEqual(await tableRows(page, "Screening decisions"), [
    ["Suitable", "1"],
    ["Not suitable", "1"],
    ["No decision yet", "1"],
  ]);
  assert.deepEqual(await tableRows(page, "Why cases were not suitable"), [
    ["Both accept there is a joint problem", "0"],
    ["Both are willing to mediate", "0"],
    ["Not about contractual or employment matters", "1"],
    ["Not part of another formal process", "1"],
    ["No personal or business relationship", "0"],
    ["Both are fit to attend", "0"],
  ]);
  assert.deepEqual(await tableRows(page, "Median days from referral"), [
    ["Referral to both mediators allocated", "No cases yet"],
    ["Referral to the first session", "No cases yet"],
  ]);
  assert.deepEqual(await tableRows(page, "Where the cases are now"), [
    ["Referred", "1"],
    ["Suitable", "1"],
    ["Not suitable", "1"],
  ]);
  assert.deepEqual(await tableRows(page, "Referrals by kind of organisation"), [
    ["NHS trust", "2"],
    ["Dental practice", "1"],
  ]);
  assert.deepEqual(await tableRows(page, "Referrals by sector"), [
    ["Public (NHS)", "2"],
    ["Independent", "1"],
  ]);
  // The chart draws the same figures: a bar per row, the longest for the largest.
  const bars = await page.locator("#chart-nation text").allTextContents();
  assert.deepEqual(bars, ["England", "2", "Wales", "1", "Northern Ireland", "0"]);
  const widths = await page
    .locator("#chart-nation rect[fill='#005eb8']")
    .evaluateAll((rects) => rects.map((r) => Number(r.getAttribute("width"))));
  assert.deepEqual(widths, [336, 168, 0]);
  assert.equal(await page.locator("main svg[aria-hidden=true]").count(), 10);
  assert.deepEqual(await page.locator("#chart-timings text").allTextContents(), [
    "Referral to both mediators allocated",
    "None",
    "Referral to the first session",
    "None",
  ]);
  // The API agrees.
  const s = await api(c, StatisticsService, desk).getStatistics({});
  assert.equal(s.referrals, 3n);
  assert.equal(s.suitabilityRate, 0.5);
  await assertAccessible(page, "statistics");
  await screenshots(page, "admin-statistics");

  // A period: from tomorrow, nothing; a date that does not exist is refused by the server.
  const today = londonToday();
  const tomorrow = new Date(Date.UTC(today.year, today.month - 1, today.day + 1));
  await page.click("text=Choose a period");
  await fillDate(page, "referred_from", { day: tomorrow.getUTCDate(), month: tomorrow.getUTCMonth() + 1, year: tomorrow.getUTCFullYear() });
  await page.click("#period-form-submit");
  await page.waitForURL(/\/app\/statistics\?from=/);
  await page.locator("#no-referrals").waitFor();
  assert.deepEqual((await summaryRows(page))[0], ["Referrals", "0"]);
  await assertAccessible(page, "statistics for an empty period");

  await fillDate(page, "referred_from", { day: 31, month: 2, year: 2025 });
  await page.click("#period-form-submit");
  assert.deepEqual(await summaryProblems(page), [["Referred from: not a valid date", "#referred_from"]]);
  await assertAccessible(page, "statistics with a refused period");

  await fillDate(page, "referred_from", today);
  await fillDate(page, "referred_to", { day: 1, month: 1, year: 2020 });
  await page.click("#period-form-submit");
  assert.deepEqual(await summaryProblems(page, "must not be before"), [["Referred to: must not be before referred_from", "#referred_to"]]);

  await fillDate(page, "referred_to", today);
  await page.click("#period-form-submit");
  await page.waitForURL(/to=/);
  await page.locator("#period", { hasText: "Cases referred from" }).waitFor();
  assert.deepEqual((await summaryRows(page))[0], ["Referrals", "3"]);
  assert.deepEqual(await tableRows(page, "Referrals by nation"), [
    ["England", "2"],
    ["Wales", "1"],
    ["Northern Ireland", "0"],
  ]);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the audit trail: a token's calls, and a change to the database found by the chain check", async () => {
  const admin = api(c, AdminService, c.adminSecret);
  const deskSecret = await issue(c, Role.CASE_SUPPORT, "Audit desk");
  const desk = (await api(c, IdentityService, deskSecret).whoAmI({})).token!;
  await api(c, OrganisationService, deskSecret).registerOrganisation({
    organisation: {
      name: "Eastfield Pharmacy",
      kind: OrganisationKind.PHARMACY,
      nation: Nation.NORTHERN_IRELAND,
      careSetting: CareSetting.PRIMARY,
      sector: Sector.INDEPENDENT,
      contact: { name: "Aoife Kelly", email: "aoife.kelly@eastfield.example" },
    },
  });
  await api(c, AdminService, deskSecret).issueToken({ role: Role.ADMIN, label: "Not allowed" }).catch(() => undefined);
  const events = (await admin.listAuditEvents({ tokenId: desk.id })).events;
  assert.equal(events.length, 2);

  const { context, page, errors } = await signedIn(c, c.adminSecret, "/app/admin/audit");
  await heading(page, "Audit trail");
  const chain = await admin.verifyAuditChain({});
  assert.equal(chain.intact, true);
  assert.match(
    (await page.locator("#chain").textContent()) ?? "",
    new RegExp(`Intact Every event links to the one before it: ${chain.rowsChecked} events checked\\.Hash of the latest event${chain.headHash}`),
  );
  const all = await tableRows(page, "Events, newest first");
  assert.equal(all.length, 25);
  assert.equal(await page.locator("#next-page").count(), 1);
  await assertAccessible(page, "audit trail");
  await screenshots(page, "admin-audit");

  // Filtered by the token's number, through the form.
  await page.click("text=Filter the events");
  await page.fill("#token_id", String(desk.id));
  await page.click("#audit-filter-submit");
  await page.waitForURL(`${c.baseUrl}/app/admin/audit?token=${desk.id}`);
  await page.locator("caption", { hasText: `of token ${desk.id}` }).waitFor();
  const rows = await tableRows(page, `Events of token ${desk.id}, newest first`);
  assert.deepEqual(
    rows.map((r) => [r[0], r[2], r[3], r[4], r[5], r[6]]),
    [
      [String(events[0].id), `Token ${desk.id} (Case support)`, "AdminService/IssueToken", events[0].objects || "None", "Permission denied", "Connect over HTTP"],
      [String(events[1].id), `Token ${desk.id} (Case support)`, "OrganisationService/RegisterOrganisation", events[1].objects, "OK", "Connect over HTTP"],
    ],
  );
  assert.match(events[1].objects, /^organisation:\d+$/);
  // When, to the second in London time ("6 Dec 2026, 23:43:05").
  const time = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).format(timestampDate(events[0].at!));
  assert.match(rows[0][1], new RegExp(`^\\d{1,2} [A-Z][a-z]{2,3} \\d{4}, ${time}$`));
  await assertAccessible(page, "audit trail filtered");

  // A filter the server refuses, shown beside its field.
  await page.fill("#token_id", "");
  await page.fill("#object", "case12");
  await page.click("#audit-filter-submit");
  assert.deepEqual(await summaryProblems(page), [
    ["Object: expected one object written as kind:id, e.g. case:12", "#object"],
  ]);
  await assertAccessible(page, "audit filter refused");

  // Someone edits an event in the database: the chain check finds where.
  execFileSync("sqlite3", [
    "-cmd",
    ".timeout 5000",
    join(c.server.directory, "mediation.db"),
    `UPDATE audit_events SET outcome = 'OK' WHERE id = ${events[0].id}`,
  ]);
  const broken = await admin.verifyAuditChain({});
  assert.equal(broken.intact, false);
  assert.equal(broken.firstBrokenRow, events[0].id);
  await page.goto(`${c.baseUrl}/app/admin/audit`);
  await heading(page, "Audit trail");
  assert.equal(
    await page.locator("#chain-broken").textContent(),
    `The chain breaks at event ${events[0].id}: ${broken.problem.replace(/^row \d+: /, "")}.`,
  );
  await assertAccessible(page, "audit trail altered");
  await screenshots(page, "admin-audit-altered");
  assert.deepEqual(errors, []);
  await context.close();
});

test("backup, fee schedule, audit trail and statistics with the keyboard alone", async () => {
  const admin = api(c, AdminService, c.adminSecret);
  const charges = api(c, ChargesService, c.adminSecret);
  const { context, page, errors } = await signedIn(c, c.adminSecret, "/app/admin");
  await heading(page, "Administration");
  const home = "nav[aria-label=Menu] a[href='/app/admin']";

  // An online backup with a label.
  await tabTo(page, "a.nhsuk-card__link[href='/app/admin/backup']");
  await page.keyboard.press("Enter");
  await heading(page, "Back up the database");
  await tabTo(page, "#label");
  await page.keyboard.type("keyboard check");
  await tabTo(page, "#backup-form-submit");
  await page.keyboard.press("Enter");
  await heading(page, "Backup made");
  const file = Object.fromEntries(await summaryRows(page))["Where it is on the server"];
  assert.match(file, /mediation-\d{8}T\d{6}Z-keyboard-check\.db$/);
  assert.equal(statSync(file).size > 0, true);

  // The individual meeting fee: select what is in the field and type over it.
  await tabTo(page, home);
  await page.keyboard.press("Enter");
  await heading(page, "Administration");
  await tabTo(page, "a.nhsuk-card__link[href='/app/admin/fee-schedule']");
  await page.keyboard.press("Enter");
  await heading(page, "Fee schedule");
  const before = (await charges.getFeeSchedule({})).schedule!;
  await tabTo(page, "#schedule-individual_meeting-pence");
  await page.keyboard.press("Control+A");
  await page.keyboard.type("362.50");
  await tabTo(page, "#fees-form-submit");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${c.baseUrl}/app/admin/fee-schedule?saved=${before.version + 1n}`);
  const after = (await charges.getFeeSchedule({})).schedule!;
  assert.deepEqual(
    [after.version, after.individualMeeting?.pence, after.mediationDay?.pence, after.vatBasisPoints],
    [before.version + 1n, 36250n, before.mediationDay?.pence, before.vatBasisPoints],
  );

  // The audit trail filtered to the administrator's own token: the fee change is its newest call.
  const me = (await api(c, IdentityService, c.adminSecret).whoAmI({})).token!;
  await tabTo(page, home);
  await page.keyboard.press("Enter");
  await heading(page, "Administration");
  await tabTo(page, "a.nhsuk-card__link[href='/app/admin/audit']");
  await page.keyboard.press("Enter");
  await heading(page, "Audit trail");
  await tabTo(page, "details summary");
  await page.keyboard.press("Enter");
  await tabTo(page, "#token_id");
  await page.keyboard.type(String(me.id));
  await tabTo(page, "#audit-filter-submit");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${c.baseUrl}/app/admin/audit?token=${me.id}`);
  await page.locator("caption", { hasText: `of token ${me.id}` }).waitFor();
  const newest = (await admin.listAuditEvents({ tokenId: me.id, pageSize: 1 })).events[0];
  const [first] = await tableRows(page, `Events of token ${me.id}, newest first`);
  assert.equal(first[0], String(newest.id));
  assert.equal(first[3], newest.method.replace(/^.*\.(\w+Service\/)/, "$1"));

  // Statistics from 1 January 2020: the day, month and year typed in turn.
  await tabTo(page, home);
  await page.keyboard.press("Enter");
  await heading(page, "Administration");
  await tabTo(page, "a.nhsuk-card__link[href='/app/statistics']");
  await page.keyboard.press("Enter");
  await heading(page, "Statistics");
  await tabTo(page, "details summary");
  await page.keyboard.press("Enter");
  await tabTo(page, "#referred_from");
  await page.keyboard.type("1");
  await page.keyboard.press("Tab");
  await page.keyboard.type("1");
  await page.keyboard.press("Tab");
  await page.keyboard.type("2020");
  await tabTo(page, "#period-form-submit");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${c.baseUrl}/app/statistics?from=2020-01-01`);
  await page.locator("#period", { hasText: "1 January 2020" }).waitFor();
  const stats = await api(c, StatisticsService, c.adminSecret).getStatistics({
    referredFrom: { year: 2020, month: 1, day: 1 },
  });
  assert.equal(await page.locator("#referred_from-year").inputValue(), "2020");
  assert.equal(stats.referrals, 3n);
  assert.deepEqual((await summaryRows(page))[0], ["Referrals", "3"]);
  assert.deepEqual(errors, []);
  await context.close();
});
