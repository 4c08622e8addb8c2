// The Organisations and Mediators sections of the console in a real browser against the real
// server: registering an organisation (the server's field errors, then the organisation as the
// API has it), an organisation's cases paged with the API's page tokens, the mediator registry
// with its filters and the flag on accreditation or insurance expiring within 60 days, an
// administrator's working pattern, leave and conflicts (and a stale change refused),
// registering a mediator with the keyboard alone, and the CSV import (a result row for every
// line; the registry then holds exactly the good rows). Each step is checked on the page and
// then through the API; every page state is checked with axe (WCAG 2.2 A and AA).
//
// Run by scripts/console-test.sh (CONSOLE_TESTS=mediators) with MEDIATION_SERVER, WEB_ROOT and
// CHROMIUM set.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import {
  CareSetting,
  Nation,
  OrganisationKind,
  Profession,
  Role,
  Sector,
} from "@gen/ppa/mediation/v1/common_pb";
import { AccreditationBody, ConflictKind, ConflictSource, MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";
import { ReferralService } from "@gen/ppa/mediation/v1/referral_pb";

import {
  api,
  assertAccessible,
  cardRows,
  type Console,
  expectBanner,
  fillDate,
  heading,
  issue,
  keyboardDate,
  londonToday,
  longDate,
  mediatorInit,
  plusDays,
  registerNorthshire,
  screenshots,
  signedIn,
  startConsole,
  stopConsole,
  summaryProblems,
  summaryValue,
  tableRows,
  tabTo,
} from "./console_support";

const today = londonToday();
const inTwoYears = plusDays(today, 730);
const kCases = 21;
// What the registry rows below show: 10 CPD hours, at most 4 cases, 3 with doctors.
const kUsual = { cpdHours: 10, maxConcurrentCases: 4, doctorCases: 3 };

let c: Console;
let deskSecret = "";
let adviserSecret = "";
let northshireId = 0n;
let archerId = 0n;
let boothId = 0n;
let coleId = 0n;

before(async () => {
  c = await startConsole();
  deskSecret = await issue(c, Role.CASE_SUPPORT, "Case support desk");
  adviserSecret = await issue(c, Role.SENIOR_ADVISER, "Senior Adviser Kim");
  northshireId = await registerNorthshire(c, deskSecret);
  const referrals = api(c, ReferralService, deskSecret);
  for (let i = 1; i <= kCases; ++i) {
    await referrals.createReferral({
      organisationId: northshireId,
      referrer: { name: "Sam Okafor", email: "sam.okafor@northshire.example" },
      summary: `Conflict ${i} between two colleagues.`,
      parties: [
        { contact: { name: `Dr Party ${i}A`, email: `party${i}a@northshire.example` }, profession: Profession.DOCTOR },
        { contact: { name: `Dr Party ${i}B`, email: `party${i}b@northshire.example` }, profession: Profession.DOCTOR },
      ],
    });
  }
  const mediators = api(c, MediatorService, c.adminSecret);
  const register = async (init: ReturnType<typeof mediatorInit>) =>
    (await mediators.registerMediator({ mediator: init })).mediator!.id;
  archerId = await register(mediatorInit("Dr Ann Archer", "ann.archer@example.org", { ...kUsual, accreditationEnds: plusDays(today, 30), insuranceEnds: inTwoYears, nations: [Nation.ENGLAND] }));
  boothId = await register(mediatorInit("Ben Booth", "ben.booth@example.org", { ...kUsual, accreditationEnds: inTwoYears, insuranceEnds: inTwoYears, nations: [Nation.WALES] }));
  coleId = await register(mediatorInit("Cara Cole", "cara.cole@example.org", { ...kUsual, accreditationEnds: inTwoYears, insuranceEnds: plusDays(today, -1), nations: [Nation.ENGLAND, Nation.WALES] }));
});

after(async () => {
  await stopConsole(c);
});

test("case support registers an organisation: the server's field errors, then what the API holds", async () => {
  const { context, page, errors } = await signedIn(c, deskSecret, "/app/organisations");
  await heading(page, "Organisations");
  const registeredOn = longDate(today);
  assert.deepEqual(await cardRows(page, "Registered organisations"), [
    ["Northshire Hospitals NHS Trust", "NHS trust", "England", "None", registeredOn],
  ]);
  assert.equal(await page.locator("#page-next").count(), 0);
  await assertAccessible(page, "organisations list");
  await screenshots(page, "organisations-list");

  await page.click("#register-organisation");
  await heading(page, "Register an organisation");
  await assertAccessible(page, "organisation form");

  // Nothing filled in: each problem the server names, linked to its field.
  await page.click("#organisation-submit");
  assert.deepEqual(await summaryProblems(page), [
    ["Organisation name: required", "#organisation-name"],
    ["Kind of organisation: required", "#organisation-kind"],
    ["Nation: required", "#organisation-nation"],
    ["Care setting: required", "#organisation-care_setting"],
    ["Sector: required", "#organisation-sector"],
    ["Main contact full name: required", "#organisation-contact-name"],
    ["Main contact email address: required", "#organisation-contact-email"],
  ]);
  assert.equal(await page.locator("#organisation-contact-email-group.nhsuk-form-group--error").count(), 1);
  assert.equal(await page.locator("#organisation-name").getAttribute("aria-describedby"), "organisation-name-error");
  await assertAccessible(page, "organisation form with errors");
  await screenshots(page, "organisations-register-errors");

  await page.fill("#organisation-name", "Riverside <b>GP</b> Surgery");
  await page.check("#organisation-kind-2"); // GP practice
  await page.check("#organisation-nation-2"); // Wales
  await page.check("#organisation-care_setting"); // Primary care
  await page.check("#organisation-sector"); // Public (NHS)
  await page.fill("#organisation-ods_code", "w91234");
  await page.fill("#organisation-contact-name", "Gwen Davies");
  await page.fill("#organisation-contact-email", "not an email");
  await page.fill("#organisation-contact-phone", "029 2000 0000");
  await page.click("#organisation-submit");
  await page.locator(".nhsuk-error-summary a", { hasText: "not an email address" }).waitFor();
  assert.deepEqual(await summaryProblems(page), [
    ["Main contact email address: not an email address (expected name@domain.tld)", "#organisation-contact-email"],
  ]);
  await assertAccessible(page, "organisation form with one error left");
  await page.fill("#organisation-contact-email", "gwen.davies@riverside.example");
  await page.click("#organisation-submit");
  await page.waitForURL(/\/app\/organisations\/\d+$/);
  await heading(page, "Riverside <b>GP</b> Surgery");
  const id = BigInt(page.url().split("/").pop()!);
  await expectBanner(page, "Riverside <b>GP</b> Surgery is registered.");
  assert.equal(await summaryValue(page, "Kind"), "GP practice");
  assert.equal(await summaryValue(page, "Nation"), "Wales");
  assert.equal(await summaryValue(page, "ODS code"), "W91234");
  assert.equal(await page.locator("#no-cases").textContent(), "This organisation has not referred any cases yet.");
  assert.equal(await page.locator("#record-referral").getAttribute("href"), `/app/referrals/new?organisation=${id}`);
  await assertAccessible(page, "organisation page");
  await screenshots(page, "organisations-detail");

  // What the page registered is what the API holds.
  const { organisation } = await api(c, OrganisationService, deskSecret).getOrganisation({ organisationId: id });
  assert.equal(organisation?.name, "Riverside <b>GP</b> Surgery");
  assert.equal(organisation?.kind, OrganisationKind.GP_PRACTICE);
  assert.equal(organisation?.nation, Nation.WALES);
  assert.equal(organisation?.careSetting, CareSetting.PRIMARY);
  assert.equal(organisation?.sector, Sector.PUBLIC);
  assert.equal(organisation?.odsCode, "W91234");
  assert.deepEqual(
    [organisation?.contact?.name, organisation?.contact?.email, organisation?.contact?.phone, organisation?.contact?.jobTitle],
    ["Gwen Davies", "gwen.davies@riverside.example", "029 2000 0000", ""],
  );
  assert.deepEqual(errors, []);
  await context.close();
});

test("a Senior Adviser pages through an organisation's cases and is offered no registration", async () => {
  const { context, page, errors } = await signedIn(c, adviserSecret, "/app/organisations");
  await heading(page, "Organisations");
  assert.equal(await page.locator("#register-organisation").count(), 0);
  await assertAccessible(page, "organisations list for a Senior Adviser");
  await page.click(`a[href="/app/organisations/${northshireId}"]`);
  await heading(page, "Northshire Hospitals NHS Trust");
  assert.equal(await page.locator("#record-referral").count(), 0);

  const referrals = api(c, ReferralService, adviserSecret);
  const first = await referrals.listCases({ organisationId: northshireId, pageSize: 20 });
  const second = await referrals.listCases({ organisationId: northshireId, pageSize: 20, pageToken: first.nextPageToken });
  assert.equal(first.cases.length + second.cases.length, kCases);
  const caption = "Cases referred by Northshire Hospitals NHS Trust";
  const rows = await cardRows(page, caption);
  assert.deepEqual(rows.map((r) => [r[0], r[1]]), first.cases.map((k) => [k.reference, "Referred"]));
  assert.equal(await page.locator("#page-prev").count(), 0);
  await assertAccessible(page, "organisation page with cases");

  await page.click("#page-next");
  await page.waitForURL(/page=/);
  await page.locator("caption", { hasText: `${caption}, page 2` }).waitFor();
  assert.deepEqual((await cardRows(page, `${caption}, page 2`)).map((r) => r[0]), second.cases.map((k) => k.reference));
  assert.equal(await page.locator("#page-next").count(), 0);
  assert.equal(
    await page.locator(`a[href="/app/cases/${second.cases[0].id}"]`).textContent(),
    second.cases[0].reference,
  );
  await assertAccessible(page, "organisation page, second page of cases");
  // A reload keeps the page; "Previous" returns to the first.
  await page.reload();
  await page.locator("caption", { hasText: `${caption}, page 2` }).waitFor();
  await page.click("#page-prev");
  await page.locator("caption", { hasText: new RegExp(`^${caption}$`) }).waitFor();
  assert.equal((await cardRows(page, caption)).length, 20);

  // Registering is not offered to a Senior Adviser, even by its address.
  await page.goto(`${c.baseUrl}/app/organisations/new`);
  await heading(page, "Not available to your role");
  await assertAccessible(page, "registering refused to a Senior Adviser");
  assert.deepEqual(errors, []);
  await context.close();
});

test("the registry flags accreditation or insurance expiring within 60 days, and filters", async () => {
  const { context, page, errors } = await signedIn(c, deskSecret, "/app/mediators");
  await heading(page, "Mediators");
  // Case support reads the registry; only administrators change it.
  assert.equal(await page.locator("#register-mediator").count(), 0);
  assert.equal(await page.locator("#import-mediators").count(), 0);
  const archer = ["Dr Ann Archer", "Civil Mediation Council, Registered Mediator", longDate(plusDays(today, 30)), longDate(inTwoYears), "England", "0 of 4", "Accreditation expiring"];
  const booth = ["Ben Booth", "Civil Mediation Council, Registered Mediator", longDate(inTwoYears), longDate(inTwoYears), "Wales", "0 of 4", "None"];
  const cole = ["Cara Cole", "Civil Mediation Council, Registered Mediator", longDate(inTwoYears), longDate(plusDays(today, -1)), "England, Wales", "0 of 4", "Insurance expired"];
  assert.deepEqual(await cardRows(page, "Mediators"), [archer, booth, cole]);
  assert.deepEqual(await page.locator("#mediators .nhsuk-tag").allTextContents(), ["Accreditation expiring", "Insurance expired"]);
  assert.deepEqual(
    await page.locator("#mediators .nhsuk-tag").evaluateAll((tags) => tags.map((t) => t.className)),
    ["nhsuk-tag nhsuk-tag--orange", "nhsuk-tag nhsuk-tag--red"],
  );
  await assertAccessible(page, "mediator registry");
  await screenshots(page, "mediators-registry");

  // The in-page filter: only those expiring or expired.
  await page.check("#expiring");
  await page.click("#mediator-filters-submit");
  await page.waitForURL(`${c.baseUrl}/app/mediators?expiring=yes`);
  await page.locator("caption", { hasText: "Mediators matching the search" }).waitFor();
  assert.deepEqual(await cardRows(page, "Mediators matching the search"), [archer, cole]);
  assert.equal(await page.locator("#mediator-count").textContent(), "2 mediators match.");
  await assertAccessible(page, "mediator registry, expiring only");
  // The API's filter (nation) with a search.
  await page.uncheck("#expiring");
  await page.selectOption("#nation", { label: "Wales" });
  await page.fill("#search", "cole");
  await page.click("#mediator-filters-submit");
  await page.waitForURL(`${c.baseUrl}/app/mediators?search=cole&nation=2`);
  await page.locator("#mediator-count", { hasText: "1 mediator matches." }).waitFor();
  assert.deepEqual(await cardRows(page, "Mediators matching the search"), [cole]);
  assert.equal(await page.locator("#mediators a").getAttribute("href"), `/app/mediators/${coleId}`);
  await assertAccessible(page, "mediator registry, searched");

  await page.click('.nhsuk-header__navigation-link[href="/app/mediators"]');
  await page.waitForURL(`${c.baseUrl}/app/mediators`);
  await page.locator("caption", { hasText: /^Mediators$/ }).waitFor();
  await page.click(`a[href="/app/mediators/${archerId}"]`);
  await heading(page, "Dr Ann Archer");
  assert.deepEqual(await page.locator("#mediator-flags .nhsuk-tag").allTextContents(), ["Accreditation expiring"]);
  assert.equal(
    (await page.locator(".nhsuk-warning-callout li").textContent())?.trim(),
    `The accreditation expires on ${longDate(plusDays(today, 30))}, in 30 days.`,
  );
  assert.equal(await summaryValue(page, "Experience"), "Doctor: 3 cases");
  assert.equal(await page.locator("#no-working-hours").count(), 1);
  // Nothing to change here for case support.
  for (const action of ["#change-details", "#change-working-pattern", "#add-leave", "#declare-conflict"]) {
    assert.equal(await page.locator(action).count(), 0, action);
  }
  await assertAccessible(page, "mediator page for case support");
  await page.goto(`${c.baseUrl}/app/mediators/import`);
  await heading(page, "Not available to your role");
  await assertAccessible(page, "import refused to case support");
  assert.deepEqual(errors, []);
  await context.close();
});

test("an administrator sets the working pattern, leave and conflicts; a stale change is refused", async () => {
  const mediators = api(c, MediatorService, c.adminSecret);
  const { context, page, errors } = await signedIn(c, c.adminSecret, `/app/mediators/${boothId}`);
  await heading(page, "Ben Booth");
  assert.deepEqual(await page.locator("#mediator-flags").count(), 0);
  await assertAccessible(page, "mediator page for an administrator");

  // The record: the form starts from what is stored; the change is what the API then holds.
  await page.click("#change-details");
  await heading(page, "Change Ben Booth's details");
  assert.equal(await page.inputValue("#mediator-cpd_hours_last_12_months"), "10");
  assert.equal(await page.inputValue("#mediator-accreditation-expires_on-year"), String(inTwoYears.year));
  assert.equal(await page.isChecked("#mediator-nations-2"), true);
  await assertAccessible(page, "mediator details form");
  await page.fill("#mediator-cpd_hours_last_12_months", "4");
  await page.fill("#mediator-languages", "English, Welsh");
  await page.uncheck("#mediator-active");
  await page.click("#mediator-submit");
  await page.waitForURL(`${c.baseUrl}/app/mediators/${boothId}`);
  await expectBanner(page, "The mediator's details are saved.");
  assert.deepEqual(await page.locator("#mediator-flags .nhsuk-tag").allTextContents(), ["Inactive", "CPD under 6 hours"]);
  const edited = (await mediators.getMediator({ mediatorId: boothId })).mediator!;
  assert.deepEqual(
    [edited.cpdHoursLast12Months, edited.languages, edited.active, edited.contact?.name, edited.nations, edited.experience.map((e) => [e.profession, e.cases])],
    [4, ["English", "Welsh"], false, "Ben Booth", [Nation.WALES], [[Profession.DOCTOR, 3]]],
  );
  await assertAccessible(page, "mediator page with flags");

  await page.click("#change-working-pattern");
  await heading(page, "Working pattern for Ben Booth");
  assert.equal(await page.locator("#no-hours").count(), 1);
  await assertAccessible(page, "empty working pattern");
  await page.click("#add-hours");
  await page.click("#add-hours");
  await page.click("#add-hours");
  assert.deepEqual(
    await page.locator("#hours-list select").evaluateAll((s) => s.map((e) => (e as HTMLSelectElement).value)),
    ["1", "2", "3"],
  );
  await page.fill("#hours-1-end", "12:30");
  await page.fill("#hours-2-start", "14:00");
  await page.fill("#hours-2-end", "08:00");
  await page.click("#working-pattern-submit");
  assert.deepEqual(await summaryProblems(page), [
    ["Working time 3 end: must be after start, on the same day", "#hours-2-end"],
  ]);
  await assertAccessible(page, "working pattern with an error");
  await screenshots(page, "mediators-working-pattern-error");
  await page.click("#hours-2-remove");
  assert.equal(await page.locator("#hours-list fieldset").count(), 2);
  await page.click("#working-pattern-submit");
  await page.waitForURL(`${c.baseUrl}/app/mediators/${boothId}`);
  await expectBanner(page, "The working pattern is saved.");
  assert.deepEqual(await tableRows(page, "Working hours, UK time"), [
    ["Monday", "09:00", "17:00"],
    ["Tuesday", "09:00", "12:30"],
  ]);
  const saved = (await mediators.getMediator({ mediatorId: boothId })).mediator!;
  assert.deepEqual(
    saved.workingPattern.map((w) => [w.weekday, w.start?.hours, w.start?.minutes, w.end?.hours, w.end?.minutes]),
    [
      [1, 9, 0, 17, 0],
      [2, 9, 0, 12, 30],
    ],
  );
  await assertAccessible(page, "mediator page after saving the pattern");
  await screenshots(page, "mediators-page");

  // Someone else changes the pattern after the page read it: the save is refused, nothing changes.
  await page.click("#change-working-pattern");
  await heading(page, "Working pattern for Ben Booth");
  await mediators.setWorkingPattern({
    mediatorId: boothId,
    hours: [{ weekday: 3, start: { hours: 10, minutes: 0 }, end: { hours: 16, minutes: 0 } }],
  });
  await page.fill("#hours-0-start", "08:00");
  await page.click("#working-pattern-submit");
  const [[refusal, target]] = await summaryProblems(page);
  assert.match(refusal, /^mediator \d+ was changed since you read it/);
  assert.equal(target, null);
  await assertAccessible(page, "working pattern refused");
  const kept = (await mediators.getMediator({ mediatorId: boothId })).mediator!;
  assert.deepEqual(kept.workingPattern.map((w) => [w.weekday, w.start?.hours, w.end?.hours]), [[3, 10, 16]]);

  // Leave: the server refuses a last day before the first, then takes the leave.
  await page.click("a.nhsuk-back-link");
  await heading(page, "Ben Booth");
  await page.click("#add-leave");
  await heading(page, "Add leave for Ben Booth");
  await assertAccessible(page, "leave form");
  const first = plusDays(today, 100);
  const last = plusDays(today, 104);
  await fillDate(page, "leave-first_day", last);
  await fillDate(page, "leave-last_day", first);
  await page.fill("#leave-note", "Annual leave");
  await page.click("#leave-submit");
  assert.deepEqual(await summaryProblems(page), [
    ["Last day of leave: must not be before first_day", "#leave-last_day"],
  ]);
  await assertAccessible(page, "leave form with an error");
  await fillDate(page, "leave-first_day", first);
  await fillDate(page, "leave-last_day", last);
  await page.click("#leave-submit");
  await page.waitForURL(`${c.baseUrl}/app/mediators/${boothId}`);
  await expectBanner(page, `Leave from ${longDate(first)} to ${longDate(last)} is added.`);
  await assertAccessible(page, "mediator page with leave");
  const [leave] = (await mediators.getMediator({ mediatorId: boothId })).mediator!.leave;
  assert.deepEqual(
    [leave.firstDay?.year, leave.firstDay?.month, leave.firstDay?.day, leave.lastDay?.day, leave.note],
    [first.year, first.month, first.day, last.day, "Annual leave"],
  );
  assert.deepEqual(await cardRows(page, "Leave (whole days)"), [
    [longDate(first), longDate(last), "Annual leave", `Remove leave from ${longDate(first)} to ${longDate(last)}`],
  ]);
  await page.click(`#remove-leave-${leave.id}`);
  await expectBanner(page, `Leave from ${longDate(first)} to ${longDate(last)} removed.`);
  assert.equal(await page.locator("#no-leave").count(), 1);
  await assertAccessible(page, "mediator page after removing leave");
  assert.deepEqual((await mediators.getMediator({ mediatorId: boothId })).mediator!.leave, []);

  // Conflicts: a person with neither name nor email is refused; an organisation is declared.
  await page.click("#declare-conflict");
  await heading(page, "Declare a conflict of interest for Ben Booth");
  assert.equal(await page.locator("#conflict-person_name-group").isVisible(), false);
  await assertAccessible(page, "conflict form");
  await page.check("#conflict-kind-2"); // A person
  assert.equal(await page.locator("#conflict-person_name-group").isVisible(), true);
  assert.equal(await page.locator("#conflict-organisation_id-group").isVisible(), false);
  await screenshots(page, "mediators-conflict-person");
  await page.click("#conflict-submit");
  assert.deepEqual(await summaryProblems(page), [
    ["The person's full name: a PERSON conflict needs the person's name or email", "#conflict-person_name"],
  ]);
  await assertAccessible(page, "conflict form with an error");
  await page.check("#conflict-kind"); // An organisation
  await page.selectOption("#conflict-organisation_id", { label: "Northshire Hospitals NHS Trust" });
  await page.fill("#conflict-note", "Worked there until last year.");
  await page.click("#conflict-submit");
  await page.waitForURL(`${c.baseUrl}/app/mediators/${boothId}`);
  await expectBanner(page, "The conflict of interest with Northshire Hospitals NHS Trust is declared.");
  const [conflict] = (await mediators.getMediator({ mediatorId: boothId })).mediator!.conflicts;
  assert.deepEqual(
    [conflict.kind, conflict.organisationId, conflict.source, conflict.note],
    [ConflictKind.ORGANISATION, northshireId, ConflictSource.DECLARED, "Worked there until last year."],
  );
  const [conflictRow] = await cardRows(page, "Conflicts of interest");
  assert.deepEqual(
    [conflictRow[0], conflictRow[1], conflictRow[2], conflictRow[4], conflictRow[5]],
    ["Northshire Hospitals NHS Trust", "Organisation", "Declared", "Worked there until last year.", "Remove the conflict with Northshire Hospitals NHS Trust"],
  );
  await assertAccessible(page, "mediator page with a conflict");
  await page.click(`#remove-conflict-${conflict.id}`);
  await expectBanner(page, "The conflict of interest with Northshire Hospitals NHS Trust is removed.");
  assert.deepEqual((await mediators.getMediator({ mediatorId: boothId })).mediator!.conflicts, []);
  await assertAccessible(page, "mediator page after removing the conflict");
  assert.deepEqual(errors, []);
  await context.close();
});

test("an administrator registers a mediator with the keyboard alone", async () => {
  const { context, page, errors } = await signedIn(c, c.adminSecret, "/app/mediators");
  await heading(page, "Mediators");
  await assertAccessible(page, "mediator registry for an administrator");
  await tabTo(page, "#register-mediator");
  await page.keyboard.press("Enter");
  await heading(page, "Register a mediator");
  await assertAccessible(page, "mediator registration form");

  // Sent empty: the server's problems, and the summary takes the focus.
  await tabTo(page, "#mediator-submit");
  await page.keyboard.press("Enter");
  const problems = await summaryProblems(page);
  assert.deepEqual(problems, [
    ["Contact full name: required", "#mediator-contact-name"],
    ["Contact email address: required", "#mediator-contact-email"],
    ["Accreditation body: required", "#mediator-accreditation-body"],
    ["Accreditation level: required", "#mediator-accreditation-level"],
    ["Accreditation registration number: required", "#mediator-accreditation-registration_number"],
    ["Accreditation valid until: required", "#mediator-accreditation-expires_on"],
    ["Professional indemnity insurance valid until: required", "#mediator-insurance_expires_on"],
    ["Nations covered: at least one nation is required", "#mediator-nations"],
    ["Most cases at a time: must be 1 to 50", "#mediator-max_concurrent_cases"],
  ]);
  assert.equal(await page.evaluate(() => document.activeElement?.className), "nhsuk-error-summary");
  await assertAccessible(page, "mediator form with errors");
  await screenshots(page, "mediators-register-errors");

  const type = async (selector: string, text: string) => {
    await tabTo(page, selector);
    await page.keyboard.type(text);
  };
  await type("#mediator-contact-name", "Dr Iona Ives");
  await type("#mediator-contact-email", "iona.ives@example.org");
  await tabTo(page, "#mediator-accreditation-body");
  await page.keyboard.press("ArrowDown"); // College of Mediators
  await type("#mediator-accreditation-level", "Accredited Mediator");
  await type("#mediator-accreditation-registration_number", "COM-5150");
  await type("#mediator-accreditation-expires_on", "31");
  await type("#mediator-accreditation-expires_on-month", "3");
  await type("#mediator-accreditation-expires_on-year", String(inTwoYears.year));
  await type("#mediator-insurance_expires_on", "30");
  await type("#mediator-insurance_expires_on-month", "4");
  await type("#mediator-insurance_expires_on-year", String(inTwoYears.year));
  await type("#mediator-cpd_hours_last_12_months", "7");
  await tabTo(page, "#mediator-nations-3");
  await page.keyboard.press("Space"); // Northern Ireland
  await type("#mediator-languages", "English, Irish");
  await type(`#mediator-experience-${Profession.DENTIST}`, "5");
  await type("#mediator-max_concurrent_cases", "2");
  await tabTo(page, "#mediator-submit");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/app\/mediators\/\d+$/);
  await heading(page, "Dr Iona Ives");
  await expectBanner(page, "Dr Iona Ives is registered.");
  const id = BigInt(page.url().split("/").pop()!);
  const { mediator } = await api(c, MediatorService, c.adminSecret).getMediator({ mediatorId: id });
  assert.deepEqual(
    {
      name: mediator?.contact?.name,
      email: mediator?.contact?.email,
      body: mediator?.accreditation?.body,
      level: mediator?.accreditation?.level,
      number: mediator?.accreditation?.registrationNumber,
      accreditation: [mediator?.accreditation?.expiresOn?.year, mediator?.accreditation?.expiresOn?.month, mediator?.accreditation?.expiresOn?.day],
      insurance: [mediator?.insuranceExpiresOn?.year, mediator?.insuranceExpiresOn?.month, mediator?.insuranceExpiresOn?.day],
      cpd: mediator?.cpdHoursLast12Months,
      nations: mediator?.nations,
      languages: mediator?.languages,
      experience: mediator?.experience.map((e) => [e.profession, e.cases]),
      max: mediator?.maxConcurrentCases,
      active: mediator?.active,
    },
    {
      name: "Dr Iona Ives",
      email: "iona.ives@example.org",
      body: AccreditationBody.COLLEGE_OF_MEDIATORS,
      level: "Accredited Mediator",
      number: "COM-5150",
      accreditation: [inTwoYears.year, 3, 31],
      insurance: [inTwoYears.year, 4, 30],
      cpd: 7,
      nations: [Nation.NORTHERN_IRELAND],
      languages: ["English", "Irish"],
      experience: [[Profession.DENTIST, 5]],
      max: 2,
      active: true,
    },
  );
  await assertAccessible(page, "registered mediator's page");
  assert.deepEqual(errors, []);
  await context.close();
});

test("CSV import: a result row for every line, and the registry then holds exactly the good rows", async () => {
  const mediators = api(c, MediatorService, c.adminSecret);
  const emailsBefore = (await mediators.listMediators({ pageSize: 500 })).mediators.map((m) => m.contact?.email);
  const y = inTwoYears.year;
  const header =
    "contact.name,contact.email,accreditation.body,accreditation.level,accreditation.registration_number," +
    "accreditation.expires_on,insurance_expires_on,cpd_hours_last_12_months,nations,languages," +
    "experience.0.profession,experience.0.cases,max_concurrent_cases";
  const dana = `Dr Dana Drew,dana.drew@example.org,civil-mediation-council,Registered Mediator,CMC-2001,${y}-01-31,${y}-02-28,12,england;wales,English;Welsh,doctor,4,3`;
  const lines = [
    header,
    dana,
    `"Eli Evans, MBE",eli.evans@example.org,college-of-mediators,Accredited Mediator,COM-77,${y}-05-31,${y}-05-31,8,northern-ireland,English,pharmacist,2,2`,
    `Fay Ford,not-an-email,civil-mediation-council,Registered Mediator,CMC-3003,${y}-01-31,${y}-01-31,10,england,,,,2`,
    "",
    dana,
    `Dana Drew,dana.drew@example.org,civil-mediation-council,Registered Mediator,CMC-2002,${y}-01-31,${y}-02-28,12,england,,,,3`,
    `Gus Grey,gus.grey@example.org,civil-mediation-council,Registered Mediator,CMC-4004,${y}-01-31,${y}-01-31,10,scotland,,,,2`,
    "Hal Hart,hal.hart@example.org,civil-mediation-council",
  ];

  const { context, page, errors } = await signedIn(c, c.adminSecret, "/app/mediators");
  await page.click("#import-mediators");
  await heading(page, "Register mediators from a CSV file");
  await assertAccessible(page, "import page");

  // A column the CLI would not know refuses the whole file, and nothing is registered.
  await page.setInputFiles("#csv-file", {
    name: "wrong.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("contact.name,colour\nDr Zed,blue\n"),
  });
  await page.click("#import-submit");
  assert.deepEqual(await summaryProblems(page), [
    ["CSV file: the file wrong.csv cannot be imported: line 1, column 'colour': Mediator has no field colour", "#csv-file"],
  ]);
  await assertAccessible(page, "import page with a refused file");

  await page.setInputFiles("#csv-file", {
    name: "mediators.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(`\uFEFF${lines.join("\r\n")}\r\n`),
  });
  await page.click("#import-submit");
  await page.locator("#import-summary").waitFor();
  // The refusal of the earlier file is gone.
  assert.equal(await page.locator(".nhsuk-error-summary, .nhsuk-form-group--error").count(), 0);
  assert.equal(await page.locator("#csv-file").getAttribute("aria-describedby"), "csv-file-hint");
  const after = (await mediators.listMediators({ pageSize: 500 })).mediators;
  const added = after.filter((m) => !emailsBefore.includes(m.contact?.email));
  assert.deepEqual(added.map((m) => m.contact?.email), ["dana.drew@example.org", "eli.evans@example.org"]);
  const [danaId, eliId] = added.map((m) => m.id);
  const rows = await tableRows(page, "Each line of mediators.csv");
  assert.equal(rows.length, lines.length);
  assert.deepEqual(rows.slice(0, 3), [
    ["1", "", "Skipped: this line names the columns"],
    ["2", "Dr Dana Drew", `Registered as mediator ${danaId}`],
    ["3", "Eli Evans, MBE", `Registered as mediator ${eliId}`],
  ]);
  assert.deepEqual(rows[3], ["4", "Fay Ford", "Refused: mediator.contact.email: not an email address (expected name@domain.tld)"]);
  assert.deepEqual(rows[4], ["5", "", "Skipped: the line is empty"]);
  assert.deepEqual(rows[5], ["6", "Dr Dana Drew", "Skipped: repeats line 2"]);
  assert.deepEqual(rows[6].slice(0, 2), ["7", "Dana Drew"]);
  assert.equal(rows[6][2], `Refused: mediator.contact.email: mediator ${danaId} already has this email`);
  assert.deepEqual(rows[7], ["8", "Gus Grey", "Skipped: nations: one of: england, wales, northern-ireland, not 'scotland'"]);
  assert.deepEqual(rows[8], ["9", "Hal Hart", "Skipped: has 3 values for 13 columns"]);
  assert.equal(
    await page.locator("#import-summary").textContent(),
    "2 mediators registered, 2 refused and 5 lines skipped, from 9 lines in mediators.csv.",
  );
  assert.equal(await page.evaluate(() => document.activeElement?.id), "import-results");
  await assertAccessible(page, "import results");
  await screenshots(page, "mediators-import");

  // The rows as the API holds them.
  const eli = after.find((m) => m.id === eliId)!;
  assert.deepEqual(
    [eli.contact?.name, eli.accreditation?.body, eli.nations, eli.experience.map((e) => [e.profession, e.cases]), eli.maxConcurrentCases],
    ["Eli Evans, MBE", AccreditationBody.COLLEGE_OF_MEDIATORS, [Nation.NORTHERN_IRELAND], [[Profession.PHARMACIST, 2]], 2],
  );
  const danaRecord = after.find((m) => m.id === danaId)!;
  assert.deepEqual([danaRecord.nations, danaRecord.languages], [[Nation.ENGLAND, Nation.WALES], ["English", "Welsh"]]);
  assert.deepEqual(errors, []);
  await context.close();
});

test("an organisation, a working pattern, leave, a conflict and a CSV import with the keyboard alone", async () => {
  // Case support registers an organisation: radios chosen with Space, fields typed.
  const desk = await signedIn(c, deskSecret, "/app/organisations");
  await heading(desk.page, "Organisations");
  const d = desk.page;
  await tabTo(d, "#register-organisation");
  await d.keyboard.press("Enter");
  await heading(d, "Register an organisation");
  await tabTo(d, "#organisation-name");
  await d.keyboard.type("Harbour View Pharmacy");
  for (const first of ["#organisation-kind", "#organisation-nation", "#organisation-care_setting", "#organisation-sector"]) {
    await tabTo(d, first);
    await d.keyboard.press("Space");
  }
  // The nation: the arrow moves on from England to Wales.
  await tabTo(d, "#organisation-nation");
  await d.keyboard.press("ArrowDown");
  await tabTo(d, "#organisation-contact-name");
  await d.keyboard.type("Nia Morgan");
  await tabTo(d, "#organisation-contact-email");
  await d.keyboard.type("nia.morgan@harbourview.example");
  await tabTo(d, "#organisation-submit");
  await d.keyboard.press("Enter");
  await d.waitForURL(/\/app\/organisations\/\d+$/);
  await heading(d, "Harbour View Pharmacy");
  const organisationId = BigInt(d.url().split("/").pop()!);
  const { organisation } = await api(c, OrganisationService, deskSecret).getOrganisation({ organisationId });
  assert.deepEqual(
    [organisation?.kind, organisation?.nation, organisation?.careSetting, organisation?.sector, organisation?.contact?.email],
    [OrganisationKind.NHS_TRUST, Nation.WALES, CareSetting.PRIMARY, Sector.PUBLIC, "nia.morgan@harbourview.example"],
  );
  assert.deepEqual(desk.errors, []);
  await desk.context.close();

  // An administrator gives Cara Cole Monday mornings.
  const mediators = api(c, MediatorService, c.adminSecret);
  const { context, page, errors } = await signedIn(c, c.adminSecret, `/app/mediators/${coleId}`);
  await heading(page, "Cara Cole");
  await tabTo(page, "#change-working-pattern");
  await page.keyboard.press("Enter");
  await heading(page, "Working pattern for Cara Cole");
  await tabTo(page, "#add-hours");
  await page.keyboard.press("Enter");
  await tabTo(page, "#hours-0-end");
  await page.keyboard.press("Control+A");
  await page.keyboard.type("13:00");
  await tabTo(page, "#working-pattern-submit");
  await page.keyboard.press("Enter");
  await expectBanner(page, "The working pattern is saved.");
  assert.deepEqual(
    (await mediators.getMediator({ mediatorId: coleId })).mediator!.workingPattern.map((w) => [
      w.weekday, w.start?.hours, w.start?.minutes, w.end?.hours, w.end?.minutes,
    ]),
    [[1, 9, 0, 13, 0]],
  );

  // Leave: each part of the two dates typed, Tab between them.
  const first = plusDays(today, 60);
  const last = plusDays(today, 61);
  await tabTo(page, "#add-leave");
  await page.keyboard.press("Enter");
  await heading(page, "Add leave for Cara Cole");
  for (const [id, day] of [["leave-first_day", first], ["leave-last_day", last]] as const) await keyboardDate(page, id, day);
  await tabTo(page, "#leave-note");
  await page.keyboard.type("Training course");
  await tabTo(page, "#leave-submit");
  await page.keyboard.press("Enter");
  await expectBanner(page, `Leave from ${longDate(first)} to ${longDate(last)} is added.`);
  const [leave] = (await mediators.getMediator({ mediatorId: coleId })).mediator!.leave;
  assert.deepEqual(
    [leave.firstDay?.year, leave.firstDay?.month, leave.firstDay?.day, leave.lastDay?.day, leave.note],
    [first.year, first.month, first.day, last.day, "Training course"],
  );

  // A conflict with the organisation just registered: the list is searched by typing its name.
  await tabTo(page, "#declare-conflict");
  await page.keyboard.press("Enter");
  await heading(page, "Declare a conflict of interest for Cara Cole");
  await tabTo(page, "#conflict-kind");
  await page.keyboard.press("Space");
  await tabTo(page, "#conflict-organisation_id");
  await page.keyboard.type("Harbour");
  await tabTo(page, "#conflict-submit");
  await page.keyboard.press("Enter");
  await expectBanner(page, "The conflict of interest with Harbour View Pharmacy is declared.");
  const [conflict] = (await mediators.getMediator({ mediatorId: coleId })).mediator!.conflicts;
  assert.deepEqual([conflict.kind, conflict.organisationId], [ConflictKind.ORGANISATION, organisationId]);

  // A CSV import: Space on the file field opens the file chooser. Playwright turns on file-chooser
  // interception when the first listener is added, without waiting for the browser to confirm, so
  // the listener goes on well before the key press; added with the press, the chooser could open
  // before interception and never be reported.
  const chooserOpened = page.waitForEvent("filechooser", { timeout: 60_000 });
  await tabTo(page, "nav[aria-label=Menu] a[href='/app/mediators']");
  await page.keyboard.press("Enter");
  await heading(page, "Mediators");
  await tabTo(page, "#import-mediators");
  await page.keyboard.press("Enter");
  await heading(page, "Register mediators from a CSV file");
  await tabTo(page, "#csv-file");
  await page.keyboard.press("Space");
  const chooser = await chooserOpened;
  const y = inTwoYears.year;
  await chooser.setFiles({
    name: "one.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(
      "contact.name,contact.email,accreditation.body,accreditation.level,accreditation.registration_number," +
        "accreditation.expires_on,insurance_expires_on,cpd_hours_last_12_months,nations,max_concurrent_cases\n" +
        `Iris Irwin,iris.irwin@example.org,civil-mediation-council,Registered Mediator,CMC-5005,${y}-03-31,${y}-03-31,9,wales,2\n`,
    ),
  });
  await tabTo(page, "#import-submit");
  await page.keyboard.press("Enter");
  await page.locator("#import-summary").waitFor();
  const iris = (await mediators.listMediators({ pageSize: 500 })).mediators.find((m) => m.contact?.email === "iris.irwin@example.org");
  assert.ok(iris, "the imported mediator is registered");
  assert.deepEqual(await tableRows(page, "Each line of one.csv"), [
    ["1", "", "Skipped: this line names the columns"],
    ["2", "Iris Irwin", `Registered as mediator ${iris.id}`],
  ]);
  assert.deepEqual(errors, []);
  await context.close();
});
