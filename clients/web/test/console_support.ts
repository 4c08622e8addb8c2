// What every console browser test needs: the real server binary serving the built console on a
// temporary database, Debian's chromium driven by playwright-core, sign-in, axe (WCAG 2.2 A and
// AA) on a page and screenshots kept as test artifacts.
//
// Each console*.test.ts file starts its own server and browser (startConsole) in `before` and
// stops them (stopConsole) in `after`. Run by scripts/console-test.sh with MEDIATION_SERVER,
// WEB_ROOT and CHROMIUM set.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import AxeBuilder from "@axe-core/playwright";
import { createClient, type Transport } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

import { AdminService } from "@gen/ppa/mediation/v1/admin_pb";
import {
  CareSetting,
  Criterion,
  CriterionAnswer,
  type Date as DateMessage,
  Nation,
  OrganisationKind,
  Profession,
  Role,
  Sector,
} from "@gen/ppa/mediation/v1/common_pb";
import { AllocationService, AllocationState } from "@gen/ppa/mediation/v1/allocation_pb";
import { AccreditationBody, MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";
import { type Case, ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { ScreeningService } from "@gen/ppa/mediation/v1/screening_pb";

import { ServerProcess } from "./server_process";
import { connectTransport } from "./transport";

export interface Console {
  server: ServerProcess;
  browser: Browser;
  baseUrl: string;
  // The first ADMIN token's secret.
  adminSecret: string;
  // A folder to remove when the console stops.
  scratch?: string;
}

export async function startConsole(extraArgs: string[] = []): Promise<Console> {
  const binary = process.env.MEDIATION_SERVER;
  const webRoot = process.env.WEB_ROOT;
  const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
  if (!binary || !webRoot) throw new Error("MEDIATION_SERVER and WEB_ROOT must be set");
  const server = new ServerProcess({
    binary,
    startTimeoutMs: 30_000,
    extraArgs: [`--web_root=${webRoot}`, ...extraArgs],
  });
  await server.start();
  // As root (CI), Chromium's sandbox cannot start: run it without.
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const browser = await chromium.launch({ executablePath, args: asRoot ? ["--no-sandbox"] : [] });
  return {
    server,
    browser,
    baseUrl: `http://127.0.0.1:${server.httpPort}`,
    adminSecret: server.adminToken(),
  };
}

export async function stopConsole(c: Console | undefined): Promise<void> {
  await c?.browser.close();
  await c?.server.stop(30_000);
  if (c?.scratch) rmSync(c.scratch, { recursive: true, force: true });
}

function fakeTimeLibrary(): string {
  for (const dir of readdirSync("/usr/lib")) {
    const lib = `/usr/lib/${dir}/faketime/libfaketimeMT.so.1`;
    if (existsSync(lib)) return lib;
  }
  throw new Error("libfaketime is not installed (deploy/install-deps.sh installs it)");
}

// A console whose server runs under libfaketime (as tests/walkthrough.sh does), so a test can
// move the server's clock (not the browser's): moveClock(seconds) sets the server's time to real
// time plus `seconds`. libfaketime reads its file again about once a second per thread, so the
// server's threads may lag a little: a test waits for an effect the server shows (a state that
// depends on the time) before relying on the new time. The tests move it forward only.
export async function startConsoleWithClock(
  extraArgs: string[] = [],
): Promise<{ console: Console; moveClock: (seconds: number) => Promise<void> }> {
  const real = process.env.MEDIATION_SERVER ?? "";
  const scratch = mkdtempSync(join(tmpdir(), "console-clock-"));
  const clockFile = join(scratch, "offset");
  writeFileSync(clockFile, "+0\n");
  const wrapper = join(scratch, "mediation-server.sh");
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec env LD_PRELOAD='${fakeTimeLibrary()}' FAKETIME_TIMESTAMP_FILE='${clockFile}' ` +
      `FAKETIME_CACHE_DURATION=1 FAKETIME_DONT_FAKE_MONOTONIC=1 '${real}' "$@"\n`,
    { mode: 0o755 },
  );
  process.env.MEDIATION_SERVER = wrapper;
  let c: Console;
  try {
    c = { ...(await startConsole(extraArgs)), scratch };
  } finally {
    process.env.MEDIATION_SERVER = real;
  }
  const moveClock = async (seconds: number) => {
    writeFileSync(clockFile, `${seconds < 0 ? "" : "+"}${Math.round(seconds)}\n`);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
  };
  return { console: c, moveClock };
}

// A generated client of `service` over Connect with the token `secret`.
export function api<T extends DescService>(c: Console, service: T, secret: string) {
  return createClient(service, connectTransport(c.baseUrl, secret) as Transport);
}

// A new token of `role` (issued by the first admin); returns its secret.
export async function issue(
  c: Console,
  role: Role,
  label: string,
  bound: { mediatorId?: bigint; organisationId?: bigint } = {},
): Promise<string> {
  const admin = api(c, AdminService, c.adminSecret);
  const issued = await admin.issueToken({ role, label, ...bound });
  return issued.secret;
}

// Registers the tests' usual referring organisation, Northshire Hospitals NHS Trust (England),
// with `secret`; returns its id.
export async function registerNorthshire(c: Console, secret: string): Promise<bigint> {
  const { organisation } = await api(c, OrganisationService, secret).registerOrganisation({
    organisation: {
      name: "Northshire Hospitals NHS Trust",
      kind: OrganisationKind.NHS_TRUST,
      nation: Nation.ENGLAND,
      careSetting: CareSetting.SECONDARY,
      sector: Sector.PUBLIC,
      contact: { name: "Priya Shah", email: "priya.shah@northshire.example" },
    },
  });
  return organisation?.id ?? 0n;
}

type DateInit = Pick<DateMessage, "year" | "month" | "day">;

// A calendar date: common.proto's Date, or any {year, month, day}.
export type Day = DateInit;

// A mediator the server accepts (for RegisterMediatorRequest.mediator): a Civil Mediation
// Council registration, experience with doctors, and what the caller gives.
export function mediatorInit(
  name: string,
  email: string,
  options: {
    accreditationEnds?: DateInit;
    insuranceEnds?: DateInit;
    nations?: Nation[];
    cpdHours?: number;
    maxConcurrentCases?: number;
    doctorCases?: number;
  } = {},
) {
  return {
    contact: { name, email },
    accreditation: {
      body: AccreditationBody.CIVIL_MEDIATION_COUNCIL,
      level: "Registered Mediator",
      registrationNumber: `CMC-${email.split("@")[0]}`,
      expiresOn: options.accreditationEnds ?? { year: 2030, month: 12, day: 31 },
    },
    insuranceExpiresOn: options.insuranceEnds ?? { year: 2030, month: 6, day: 30 },
    cpdHoursLast12Months: options.cpdHours ?? 12,
    nations: options.nations ?? [Nation.ENGLAND],
    languages: ["English"],
    experience: [{ profession: Profession.DOCTOR, cases: options.doctorCases ?? 8 }],
    maxConcurrentCases: options.maxConcurrentCases ?? 10,
    active: true,
  };
}

// Registers a mediator (mediatorInit) who works Monday to Friday, 09:00 to 17:00, and issues it a
// MEDIATOR token ("<name>'s token"); returns the mediator's id and the token's secret.
export async function registerWorkingMediator(c: Console, name: string, email: string): Promise<{ id: bigint; token: string }> {
  const mediators = api(c, MediatorService, c.adminSecret);
  const { mediator } = await mediators.registerMediator({ mediator: mediatorInit(name, email) });
  const id = mediator?.id ?? 0n;
  await mediators.setWorkingPattern({
    mediatorId: id,
    hours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: { hours: 9, minutes: 0 }, end: { hours: 17, minutes: 0 } })),
  });
  return { id, token: await issue(c, Role.MEDIATOR, `${name}'s token`, { mediatorId: id }) };
}

// Each mediator of `tokens` (its token's secret by mediator id) accepts, with its own token, every
// offer of the case that awaits its answer.
export async function acceptOffers(c: Console, caseId: bigint, tokens: Map<bigint, string>): Promise<void> {
  for (const [mediatorId, token] of tokens) {
    const { allocations } = await api(c, AllocationService, token).listAllocations({ mediatorId });
    for (const a of allocations) {
      if (a.caseId === caseId && a.state === AllocationState.PENDING) {
        await api(c, AllocationService, token).respondToAllocation({ allocationId: a.id, accept: true });
      }
    }
  }
}

// Records every screening criterion of `made` as MET with case support's `desk` token: the
// per-party criteria for each party, the case's own once. The adviser's decision is not made.
export async function answerAllMet(c: Console, desk: string, made: Case): Promise<void> {
  const screening = api(c, ScreeningService, desk);
  for (const criterion of [Criterion.JOINT_PROBLEM, Criterion.WILLING, Criterion.FIT_TO_ATTEND]) {
    for (const party of made.parties) {
      await screening.recordScreeningAnswer({ caseId: made.id, criterion, partyId: party.id, answer: CriterionAnswer.MET });
    }
  }
  for (const criterion of [Criterion.NOT_CONTRACTUAL, Criterion.NO_FORMAL_PROCESS, Criterion.NO_RELATIONSHIP]) {
    await screening.recordScreeningAnswer({ caseId: made.id, criterion, answer: CriterionAnswer.MET });
  }
}

// A referral by `organisationId` of the doctors `parties` ([name, email]), every criterion met
// and confirmed suitable by the Senior Adviser (`adviser`): the case as the API then holds it.
export async function suitableCase(
  c: Console,
  tokens: { desk: string; adviser: string },
  organisationId: bigint,
  summary: string,
  parties: Array<[string, string]>,
): Promise<Case> {
  const { case: made } = await api(c, ReferralService, tokens.desk).createReferral({
    organisationId,
    referrer: { name: "Sam Okafor", email: "sam.okafor@northshire.example" },
    summary,
    parties: parties.map(([name, email]) => ({ contact: { name, email }, profession: Profession.DOCTOR })),
  });
  await answerAllMet(c, tokens.desk, made!);
  await api(c, ScreeningService, tokens.adviser).recordScreeningDecision({ caseId: made!.id });
  return (await api(c, ReferralService, tokens.desk).getCase({ caseId: made!.id })).case!;
}

// A fresh browser context signed in with `secret`, on `path` (default the home page). Page
// errors are collected in `errors`, which the test asserts empty at the end.
export async function signedIn(
  c: Console,
  secret: string,
  path = "/app",
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await c.browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${c.baseUrl}/app/sign-in?next=${encodeURIComponent(path)}`);
  await page.fill("#token", secret);
  await page.click("button[type=submit]");
  await page.waitForURL(`${c.baseUrl}${path}`);
  // The sign-in page's own heading stays until the page asked for is drawn.
  await page.locator("main h1").filter({ hasNotText: /^Sign in$/ }).first().waitFor();
  return { context, page, errors };
}

// A fresh browser context signed in with the keyboard alone (Tab to the token field, type
// `secret`, Enter), on the home page, whose h1 is `home`. Page errors are collected in `errors`,
// as signedIn's.
export async function keyboardSignedIn(
  c: Console,
  secret: string,
  home: string,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await c.browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${c.baseUrl}/app/sign-in`);
  await tabTo(page, "#token");
  await page.keyboard.type(secret);
  await page.keyboard.press("Enter");
  await heading(page, home);
  return { context, page, errors };
}

// Waits until the page shows an h1 with exactly `text` (a page drawn after a navigation).
export async function heading(page: Page, text: string): Promise<void> {
  // Exactly `text`: "Ben Booth" must not match the page before it, "Working pattern for Ben Booth".
  const exact = new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`);
  await page.locator("main h1", { hasText: exact }).first().waitFor();
  assert.equal((await page.locator("main h1").first().textContent())?.trim(), text);
}

// Screenshots of the page as it is now, in a phone-sized and a desktop-sized window, kept as
// test artifacts in $SCREENSHOTS (<build>/clients/web/screenshots) as <name>-narrow.png and
// <name>-wide.png.
export async function screenshots(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const size = page.viewportSize();
  for (const [suffix, width, height] of [
    ["narrow", 375, 812],
    ["wide", 1280, 900],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: join(dir, `${name}-${suffix}.png`), fullPage: true });
  }
  if (size) await page.setViewportSize(size);
}

// No WCAG 2.2 A or AA violation on the page as it is now.
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"])
    .analyze();
  assert.deepEqual(
    result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length}) ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `${what}: axe found violations`,
  );
}

// The visible text of every row of the table with this caption, cell by cell.
export async function tableRows(page: Page, caption: string): Promise<string[][]> {
  const table = page.locator("table", { has: page.locator("caption", { hasText: caption }) });
  return table.locator("tbody tr").evaluateAll((rows) =>
    rows.map((row) => Array.from(row.querySelectorAll("td")).map((td) => (td.textContent ?? "").trim())),
  );
}

// The visible text of every row of the NHS responsive table with this caption, cell by cell,
// without the column heading each cell repeats for narrow screens.
export async function cardRows(page: Page, caption: string | RegExp): Promise<string[][]> {
  const table = page.locator("table", { has: page.locator("caption", { hasText: caption }) });
  return table.locator("tbody tr").evaluateAll((rows) =>
    rows.map((row) =>
      Array.from(row.querySelectorAll("td")).map((td) => {
        const cell = td.cloneNode(true) as HTMLElement;
        cell.querySelector(".nhsuk-table__heading")?.remove();
        return (cell.textContent ?? "").trim();
      }),
    ),
  );
}

// The rows of the first NHS summary list that `list` selects (by default the first in the
// page's main), as [key, value].
export async function summaryRows(page: Page, list = "main .nhsuk-summary-list"): Promise<string[][]> {
  return page
    .locator(list)
    .first()
    .locator(".nhsuk-summary-list__row")
    .evaluateAll((rows) =>
      rows.map((row) => [(row.querySelector("dt")?.textContent ?? "").trim(), (row.querySelector("dd")?.textContent ?? "").trim()]),
    );
}

// The value of the first summary list row inside `scope` (a selector; the whole page by
// default) whose key holds `key` (a string, as Playwright's hasText) or matches it (a RegExp).
export async function summaryValue(page: Page, key: string | RegExp, scope = ""): Promise<string> {
  const row = page
    .locator(`${scope} .nhsuk-summary-list__row`.trim(), { has: page.locator("dt", { hasText: key }) })
    .first();
  return ((await row.locator("dd").textContent()) ?? "").trim();
}

// The error summary's problems once it is shown (and, given `first`, once one of them says
// `first`): each problem's text and where it links (null for one without a field).
export async function summaryProblems(page: Page, first?: string): Promise<Array<[string, string | null]>> {
  if (first === undefined) await page.locator(".nhsuk-error-summary").waitFor();
  else await page.locator(".nhsuk-error-summary li", { hasText: first }).first().waitFor();
  return page
    .locator(".nhsuk-error-summary li")
    .evaluateAll((items) =>
      items.map((li): [string, string | null] => [(li.textContent ?? "").trim(), li.querySelector("a")?.getAttribute("href") ?? null]),
    );
}

// Waits for the success banner saying `text`, and checks that its content says exactly that.
export async function expectBanner(page: Page, text: string): Promise<void> {
  const banner = page.locator("#success-banner", { hasText: text });
  await banner.waitFor();
  assert.equal(((await banner.locator(".nhsuk-notification-banner__content").textContent()) ?? "").trim(), text);
}

// Waits for the success banner whose heading says `text`, and checks that the heading says
// exactly that (what the banner says below its heading is not looked at).
export async function expectBannerHeading(page: Page, text: string): Promise<void> {
  const heading = page.locator("#success-banner .nhsuk-notification-banner__heading", { hasText: text });
  await heading.waitFor();
  assert.equal(((await heading.textContent()) ?? "").trim(), text);
}

// Fills the NHS date input `id` (its day, month and year fields) with `d`.
export async function fillDate(
  page: Page,
  id: string,
  d: { day: number | string; month: number | string; year: number | string },
): Promise<void> {
  await page.fill(`#${id}`, String(d.day));
  await page.fill(`#${id}-month`, String(d.month));
  await page.fill(`#${id}-year`, String(d.year));
}

// Types `d` into the NHS date input `id` with the keyboard alone: Tab to its day field, then
// the day, month and year, with Tab between them.
export async function keyboardDate(page: Page, id: string, d: Day): Promise<void> {
  await tabTo(page, `#${id}`);
  await page.keyboard.type(String(d.day));
  await page.keyboard.press("Tab");
  await page.keyboard.type(String(d.month));
  await page.keyboard.press("Tab");
  await page.keyboard.type(String(d.year));
}

// ---- Dates, times and money as the console writes them ----------------------------------------

// Today in Europe/London.
export function londonToday(): Day {
  const [day, month, year] = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  })
    .format(new Date())
    .split("/")
    .map(Number);
  return { year, month, day };
}

// The day `days` after `d` (before it when negative).
export function plusDays(d: Day, days: number): Day {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

// "27 March 2027", or with `style` "full" "Saturday 27 March 2027"; "Not known" when unset.
export function longDate(d: Day | undefined, style: "long" | "full" = "long"): string {
  if (!d) return "Not known";
  return new Intl.DateTimeFormat("en-GB", { dateStyle: style, timeZone: "UTC" }).format(
    new Date(Date.UTC(d.year, d.month - 1, d.day, 12)),
  );
}

// A timestamp in Europe/London: "27 March 2027 at 09:00".
export function londonTime(t: Timestamp | undefined): string {
  return new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeStyle: "short", timeZone: "Europe/London" }).format(
    timestampDate(t!),
  );
}

// Pence in pounds: 123456n -> "£1,234.56" (no pence: "£0.00").
export function pounds(pence: bigint | undefined): string {
  return new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" }).format(Number(pence ?? 0n) / 100);
}

// Presses Tab until the focused element matches `selector` (at most `limit` presses): how a
// keyboard user reaches a control. Fails if it is never reached.
export async function tabTo(page: Page, selector: string, limit = 80): Promise<void> {
  for (let i = 0; i < limit; ++i) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  assert.fail(`${selector} was not reached with Tab in ${limit} presses`);
}
