// What every console browser test needs: the real server binary serving the built console on a
// temporary database, Debian's chromium driven by playwright-core, sign-in, axe (WCAG 2.2 A and
// AA) on a page and screenshots kept as test artifacts.
//
// Each console*.test.ts file starts its own server and browser (startConsole) in `before` and
// stops them (stopConsole) in `after`. Run by scripts/console-test.sh with MEDIATION_SERVER,
// WEB_ROOT and CHROMIUM set.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import AxeBuilder from "@axe-core/playwright";
import { createClient, type Transport } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

import { AdminService } from "@gen/ppa/mediation/v1/admin_pb";
import {
  CareSetting,
  type Date as DateMessage,
  Nation,
  OrganisationKind,
  Profession,
  Role,
  Sector,
} from "@gen/ppa/mediation/v1/common_pb";
import { AccreditationBody } from "@gen/ppa/mediation/v1/mediator_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";

import { ServerProcess } from "./server_process";
import { connectTransport } from "./transport";

export interface Console {
  server: ServerProcess;
  browser: Browser;
  baseUrl: string;
  // The first ADMIN token's secret.
  adminSecret: string;
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

// Presses Tab until the focused element matches `selector` (at most `limit` presses): how a
// keyboard user reaches a control. Fails if it is never reached.
export async function tabTo(page: Page, selector: string, limit = 80): Promise<void> {
  for (let i = 0; i < limit; ++i) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  assert.fail(`${selector} was not reached with Tab in ${limit} presses`);
}
