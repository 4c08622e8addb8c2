// The mediator's console, part 2, in a real browser against the real server: a case's
// confidential notes (a case note and session notes, private and shared; what the co-mediator
// sees; a chain of corrections; markup shown as text; a note whose stored text does not open;
// notes destroyed once the case closes), the outcome agreement (two versions, the differences
// between them, a party's signature through the API, a paper signature, a stale save and a stale
// signature refused, drafting with the keyboard alone), and the outcome, follow-up and review.
// A mediator of another case gets the same Not found page as for a case that does not exist.
// Each step is checked on the page and then through the API; every page state with axe.
//
// The case must be in mediation before its outcome is recorded, so the server runs under
// libfaketime (as tests/walkthrough.sh does): its clock is moved past the booked session's start
// before the outcome test, and maintenance runs every second (it moves the case to IN_MEDIATION,
// and destroys a closed case's notes: --note_retention_days is 0).
//
// Run by scripts/console-test.sh (CONSOLE_TESTS=mediator_work) with MEDIATION_SERVER, WEB_ROOT
// and CHROMIUM set.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { ConnectError, Code } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Page } from "playwright-core";

import { AdminService } from "@gen/ppa/mediation/v1/admin_pb";
import { AgreementService, Outcome } from "@gen/ppa/mediation/v1/agreement_pb";
import { AllocationRole, AllocationService, AllocationState } from "@gen/ppa/mediation/v1/allocation_pb";
import { CaseState, Role, SessionMode } from "@gen/ppa/mediation/v1/common_pb";
import { NotesService, NoteVisibility } from "@gen/ppa/mediation/v1/notes_pb";
import { type Case, ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { SchedulingService, type Session, SessionKind } from "@gen/ppa/mediation/v1/scheduling_pb";

import { differences } from "../src/mediator_work_diff";
import {
  api,
  assertAccessible,
  cardRows,
  type Console,
  expectBanner,
  fillDate,
  heading,
  issue,
  londonTime,
  longDate,
  registerNorthshire,
  registerWorkingMediator,
  screenshots,
  signedIn,
  startConsoleWithClock,
  stopConsole,
  suitableCase,
  summaryProblems,
  summaryRows,
  tableRows,
  tabTo,
} from "./console_support";

let c: Console;
let desk = "";
let adviser = "";
// Moves the server's clock (startConsoleWithClock).
let moveClock: (seconds: number) => Promise<void>;
const tokens = { lead: "", co: "", other: "" };
const ids = { lead: 0n, co: 0n, other: 0n };

interface Booked {
  c: Case;
  session: Session;
}
// The case of the notes, agreement and outcome tests; another mediator's case; the case drafted
// with the keyboard.
let main: Booked;
let keyboardCase: Booked;

const kXss = "<img src=x onerror=alert(1)>";

// ---- Set-up ---------------------------------------------------------------------------------

// A mediator working Monday to Friday, 09:00 to 17:00: its id and its token.
async function registerMediator(name: string, email: string): Promise<[bigint, string]> {
  const { id, token } = await registerWorkingMediator(c, name, email);
  return [id, token];
}

// A screened, suitable case referred by Northshire.
function suitable(summary: string, parties: Array<[string, string]>): Promise<Case> {
  return suitableCase(c, { desk, adviser }, 1n, summary, parties);
}

// Offers `role` on the case to the mediator, who accepts with its own token.
async function allocate(caseId: bigint, mediatorId: bigint, token: string, role: AllocationRole): Promise<void> {
  const { allocation } = await api(c, AllocationService, desk).allocateMediator({ caseId, mediatorId, role });
  assert.equal(allocation?.state, AllocationState.PENDING);
  await api(c, AllocationService, token).respondToAllocation({ allocationId: allocation!.id, accept: true });
}

// A case with the lead and co-mediator accepted and a two-hour joint meeting by video booked at
// the earliest free time.
async function bookedCase(summary: string, parties: Array<[string, string]>): Promise<Booked> {
  const made = await suitable(summary, parties);
  await allocate(made.id, ids.lead, tokens.lead, AllocationRole.LEAD);
  await allocate(made.id, ids.co, tokens.co, AllocationRole.CO_MEDIATOR);
  const scheduling = api(c, SchedulingService, desk);
  const wanted = { caseId: made.id, kind: SessionKind.JOINT_MEETING, mode: SessionMode.VIDEO, durationMinutes: 120 };
  const { slots } = await scheduling.findSlots(wanted);
  const { session } = await scheduling.bookSession({ ...wanted, start: slots[0].start, videoLink: "https://video.example/rooms/joint" });
  const { case: now } = await api(c, ReferralService, desk).getCase({ caseId: made.id });
  assert.equal(now?.state, CaseState.SESSIONS_SCHEDULED);
  return { c: now!, session: session! };
}

before(async () => {
  // The server under libfaketime: its clock moves when the tests say.
  ({ console: c, moveClock } = await startConsoleWithClock(["--maintenance_interval_seconds=1"]));
  desk = await issue(c, Role.CASE_SUPPORT, "Robin Desk");
  adviser = await issue(c, Role.SENIOR_ADVISER, "Sam Adviser");
  await registerNorthshire(c, desk);
  [ids.lead, tokens.lead] = await registerMediator("Ana Lead", "ana@mediators.example");
  [ids.co, tokens.co] = await registerMediator("Ben Second", "ben@mediators.example");
  [ids.other, tokens.other] = await registerMediator("Cal Other", "cal@mediators.example");
  main = await bookedCase("Two consultants disagree about the theatre rota.", [
    ["Dr Kai Lund", "kai.lund@northshire.example"],
    ["Dr Mia Ross", "mia.ross@northshire.example"],
  ]);
  // Cal Other's case (case 2): Cal accepted its lead role.
  const others = await suitable("A pharmacist and a GP disagree about repeat prescriptions.", [
    ["Tom Baker", "tom.baker@northshire.example"],
    ["Dr Lin Wu", "lin.wu@northshire.example"],
  ]);
  await allocate(others.id, ids.other, tokens.other, AllocationRole.LEAD);
  keyboardCase = await bookedCase("Two registrars disagree about handovers.", [
    ["Dr Ola Ade", "ola.ade@northshire.example"],
    ["Dr Eve Stone", "eve.stone@northshire.example"],
  ]);
});

after(async () => {
  await stopConsole(c);
});

// ---- What the tests read ------------------------------------------------------------------

// The Europe/London day of an instant, `plus` days later.
function londonDay(at: Date, plus = 0): { year: number; month: number; day: number } {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/London", year: "numeric", month: "numeric", day: "numeric" }).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const utc = new Date(Date.UTC(part("year"), part("month") - 1, part("day") + plus, 12));
  return { year: utc.getUTCFullYear(), month: utc.getUTCMonth() + 1, day: utc.getUTCDate() };
}

async function paragraphsOf(page: Page, selector: string): Promise<string[]> {
  return page.locator(`${selector} p`).allTextContents();
}

async function refusal(call: Promise<unknown>): Promise<Code> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error).code;
  }
  return Code.Unknown;
}

// ---- The diff ------------------------------------------------------------------------------

test("the diff pairs a removal and an addition as a change and keeps what both share", () => {
  const same = (s: string) => s;
  assert.deepEqual(differences([], [], same), []);
  assert.deepEqual(differences(["a", "b", "c"], ["a", "b", "c"], same).map((d) => d.kind), ["same", "same", "same"]);
  assert.deepEqual(differences(["a", "b", "c"], ["a", "B", "c", "d"], same), [
    { kind: "same", before: "a", after: "a" },
    { kind: "changed", before: "b", after: "B" },
    { kind: "same", before: "c", after: "c" },
    { kind: "added", after: "d" },
  ]);
  assert.deepEqual(differences(["x", "a", "y", "z"], ["a", "w"], same), [
    { kind: "removed", before: "x" },
    { kind: "same", before: "a", after: "a" },
    { kind: "changed", before: "y", after: "w" },
    { kind: "removed", before: "z" },
  ]);
  assert.deepEqual(differences(["a"], [], same), [{ kind: "removed", before: "a" }]);
  assert.deepEqual(differences([], ["a", "b"], same), [
    { kind: "added", after: "a" },
    { kind: "added", after: "b" },
  ]);
  // Compared by key: the same words with other parties differ.
  const items = [{ text: "t", parties: [1] }];
  const key = (i: { text: string; parties: number[] }) => JSON.stringify(i);
  assert.deepEqual(differences(items, [{ text: "t", parties: [1, 2] }], key).map((d) => d.kind), ["changed"]);
  assert.deepEqual(differences(items, [{ text: "t", parties: [1] }], key).map((d) => d.kind), ["same"]);
  // Long texts: one line changed in 3,000 is found as one change; 5,000 lines all different
  // (past the size the subsequence is looked for in) read as 5,000 changes.
  const long = Array.from({ length: 3000 }, (_, i) => `line ${i}`);
  const edited = long.map((line, i) => (i === 1500 ? "edited" : line));
  assert.deepEqual(
    differences(long, edited, same).filter((d) => d.kind !== "same"),
    [{ kind: "changed", before: "line 1500", after: "edited" }],
  );
  const xs = Array.from({ length: 5000 }, (_, i) => `x${i}`);
  const ys = Array.from({ length: 5000 }, (_, i) => `y${i}`);
  const all = differences(xs, ys, same);
  assert.equal(all.length, 5000);
  assert.ok(all.every((d) => d.kind === "changed"));
});

// ---- Notes ---------------------------------------------------------------------------------

test("notes: a case note and session notes, private and shared; the co-mediator's view; corrections; markup as text; a note that does not open", async () => {
  const caseId = main.c.id;
  const [, mia] = main.c.parties;
  const path = `/app/cases/${caseId}/notes`;
  const sessionText = `Joint meeting, ${londonTime(main.session.start)}`;
  const { context, page, errors } = await signedIn(c, tokens.lead, path);
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await heading(page, "Notes");
  assert.equal(await page.title(), `Notes - Case ${main.c.reference} - Assisted mediation`);
  assert.equal((await page.locator("main .nhsuk-inset-text").first().textContent())?.trim(), "Information: There are no notes on this case yet.");
  assert.deepEqual(await page.locator("#session_id option").allTextContents(), ["The case as a whole", sessionText]);
  assert.deepEqual(await page.locator("#party_id option").allTextContents(), ["No party in particular", "Dr Kai Lund", "Dr Mia Ross"]);
  await assertAccessible(page, "no notes yet");

  // Refused: no text and no visibility; the server names both fields.
  await page.click("#add-note-submit");
  assert.deepEqual(await summaryProblems(page, "Who can read it?"), [
    ["Who can read it?: required", "#visibility"],
    ["Note: required", "#text"],
  ]);
  await assertAccessible(page, "a note refused");

  // A shared note on the case as a whole.
  const caseNote = "Both parties want the rota reviewed monthly.";
  await page.fill("#text", caseNote);
  await page.check("#visibility-2");
  await page.click("#add-note-submit");
  await expectBanner(page, "Note 1 is added.");
  // A private note on the joint meeting about Dr Ross, holding markup.
  const privateNote = `${kXss} Dr Ross said privately she fears the rota meeting.`;
  await page.fill("#text", privateNote);
  await page.check("#visibility");
  await page.selectOption("#session_id", String(main.session.id));
  await page.selectOption("#party_id", String(mia.id));
  await page.click("#add-note-submit");
  await expectBanner(page, "Note 2 is added.");
  // A shared note on the joint meeting.
  const sessionNote = "Ground rules agreed at the start of the joint meeting.";
  await page.fill("#text", sessionNote);
  await page.check("#visibility-2");
  await page.selectOption("#session_id", String(main.session.id));
  await page.click("#add-note-submit");
  await expectBanner(page, "Note 3 is added.");

  const { notes } = await api(c, NotesService, tokens.lead).listNotes({ caseId });
  assert.deepEqual(
    notes.map((n) => [n.id, n.authorMediatorId, n.sessionId, n.partyId, n.visibility, n.text]),
    [
      [1n, ids.lead, 0n, 0n, NoteVisibility.SHARED, caseNote],
      [2n, ids.lead, main.session.id, mia.id, NoteVisibility.PRIVATE, privateNote],
      [3n, ids.lead, main.session.id, 0n, NoteVisibility.SHARED, sessionNote],
    ],
  );
  const written = notes.map((n) => londonTime(n.createdAt));
  assert.deepEqual(await cardRows(page, "Notes on this case"), [
    ["Note 1", written[0], "The case as a whole", "You and your co-mediator", "You", "Current", caseNote],
    ["Note 2", written[1], `${sessionText}; concerns Dr Mia Ross`, "Only you", "You", "Current", privateNote],
    ["Note 3", written[2], sessionText, "You and your co-mediator", "You", "Current", sessionNote],
  ]);
  // The markup is text: no image was made and nothing ran.
  assert.equal(await page.locator("main img").count(), 0);
  await assertAccessible(page, "three notes");
  await screenshots(page, "mediator-notes");

  // One note read on its own page.
  await page.click("#notes a:has-text('Note 2')");
  await heading(page, "Note 2");
  assert.equal(await page.title(), `Note 2 - Case ${main.c.reference} - Assisted mediation`);
  assert.deepEqual(await summaryRows(page), [
    ["Written", written[1]],
    ["Written by", "You"],
    ["About", `${sessionText}; concerns Dr Mia Ross`],
    ["Who can read it", "Only you"],
    ["Status", "Current"],
  ]);
  assert.deepEqual(await paragraphsOf(page, "#note-text"), [privateNote]);
  assert.equal(await page.locator("main img").count(), 0);
  assert.equal(await page.locator("#chain").count(), 0);
  await assertAccessible(page, "a note");

  // A correction of note 1, then a correction of the correction: the chain on each.
  await page.goto(`${c.baseUrl}${path}/1`);
  await heading(page, "Note 1");
  assert.equal(await page.inputValue("#text"), caseNote);
  assert.equal(await page.isChecked("#visibility-2"), true);
  const corrected = "Both parties want the rota reviewed every two weeks, not monthly.";
  await page.fill("#text", corrected);
  await page.click("#correct-note-submit");
  await page.waitForURL(`${c.baseUrl}${path}/4`);
  await heading(page, "Note 4");
  await expectBanner(page, "Note 4 is saved as a correction of note 1.");
  const correctedAgain = "Both parties want the rota reviewed every two weeks, on Mondays.";
  await page.fill("#text", correctedAgain);
  await page.click("#correct-note-submit");
  await page.waitForURL(`${c.baseUrl}${path}/5`);
  await heading(page, "Note 5");
  const chain = (await api(c, NotesService, tokens.lead).listNotes({ caseId })).notes;
  assert.deepEqual(
    chain.map((n) => [n.id, n.supersedesNoteId, n.supersededByNoteId, n.text, n.sessionId, n.visibility]),
    [
      [1n, 0n, 4n, caseNote, 0n, NoteVisibility.SHARED],
      [2n, 0n, 0n, privateNote, main.session.id, NoteVisibility.PRIVATE],
      [3n, 0n, 0n, sessionNote, main.session.id, NoteVisibility.SHARED],
      [4n, 1n, 5n, corrected, 0n, NoteVisibility.SHARED],
      [5n, 4n, 0n, correctedAgain, 0n, NoteVisibility.SHARED],
    ],
  );
  const at = new Map(chain.map((n) => [n.id, londonTime(n.createdAt)]));
  assert.deepEqual(await cardRows(page, "This note and its corrections"), [
    ["Note 1", at.get(1n), "Corrected by note 4"],
    ["Note 4", at.get(4n), "Correction of note 1; corrected by note 5"],
    ["Note 5 (this note)", at.get(5n), "Correction of note 4"],
  ]);
  assert.deepEqual(await paragraphsOf(page, "#note-text"), [correctedAgain]);
  await assertAccessible(page, "a correction and its chain");
  // A corrected note offers no correction of its own: only the latest is corrected.
  await page.click("#chain a:has-text('Note 1')");
  await heading(page, "Note 1");
  assert.equal(await page.locator("#correct-note").count(), 0);
  assert.deepEqual((await summaryRows(page)).at(-1), ["Status", "Corrected by note 4"]);
  assert.deepEqual((await cardRows(page, "This note and its corrections")).map((row) => row[0]), ["Note 1 (this note)", "Note 4", "Note 5"]);

  // The co-mediator: the shared notes only, through the API and on the page; a private note of
  // its own that the lead does not see.
  const co = api(c, NotesService, tokens.co);
  assert.deepEqual((await co.listNotes({ caseId })).notes.map((n) => n.id), [1n, 3n, 4n, 5n]);
  assert.equal(await refusal(co.getNote({ noteId: 2n })), Code.NotFound);
  const coSession = await signedIn(c, tokens.co, path);
  const b = coSession.page;
  await heading(b, "Notes");
  assert.deepEqual(
    (await cardRows(b, "Notes on this case")).map((row) => [row[0], row[3], row[4], row[5], row[6]]),
    [
      ["Note 1", "You and your co-mediator", "Your co-mediator", "Corrected by note 4", caseNote],
      ["Note 3", "You and your co-mediator", "Your co-mediator", "Current", sessionNote],
      ["Note 4", "You and your co-mediator", "Your co-mediator", "Correction of note 1; corrected by note 5", corrected],
      ["Note 5", "You and your co-mediator", "Your co-mediator", "Correction of note 4", correctedAgain],
    ],
  );
  await assertAccessible(b, "the co-mediator's notes");
  await b.fill("#text", "Ask Dr Lund about his workload next time.");
  await b.check("#visibility");
  await b.click("#add-note-submit");
  await expectBanner(b, "Note 6 is added.");
  assert.deepEqual((await cardRows(b, "Notes on this case")).map((row) => [row[0], row[3], row[4]]).at(-1), ["Note 6", "Only you", "You"]);
  // Another mediator's note offers no correction; the lead's private note is not there at all.
  await b.click("#notes a:has-text('Note 5')");
  await heading(b, "Note 5");
  assert.equal(await b.locator("#correct-note").count(), 0);
  await assertAccessible(b, "the co-mediator's view of a note");
  await b.goto(`${c.baseUrl}${path}/2`);
  await heading(b, "Not found");
  assert.equal(await b.locator("#problem").textContent(), "note 2 not found");
  assert.deepEqual(coSession.errors, []);
  await coSession.context.close();
  assert.deepEqual((await api(c, NotesService, tokens.lead).listNotes({ caseId })).notes.map((n) => n.id), [1n, 2n, 3n, 4n, 5n]);
  await page.goto(`${c.baseUrl}${path}`);
  await heading(page, "Notes");
  assert.deepEqual((await cardRows(page, "Notes on this case")).map((row) => row[0]), ["Note 1", "Note 2", "Note 3", "Note 4", "Note 5"]);

  // Note 3's stored text replaced in the database by note 1's: it no longer opens. The list
  // still answers and shows it as such; its page says so instead of failing.
  execFileSync("sqlite3", [
    join(c.server.directory, "mediation.db"),
    ".timeout 10000",
    "UPDATE notes SET sealed = (SELECT sealed FROM notes WHERE id = 1) WHERE id = 3;",
  ]);
  const lead = api(c, NotesService, tokens.lead);
  assert.deepEqual(
    (await lead.listNotes({ caseId })).notes.map((n) => [n.id, n.unreadable, n.text === ""]),
    [
      [1n, false, false],
      [2n, false, false],
      [3n, true, true],
      [4n, false, false],
      [5n, false, false],
    ],
  );
  assert.equal(await refusal(lead.getNote({ noteId: 3n })), Code.DataLoss);
  await page.reload();
  await heading(page, "Notes");
  const unreadable = "Its stored text does not open: it was altered or moved in the database. Nothing of it can be shown.";
  assert.deepEqual((await cardRows(page, "Notes on this case"))[2], [
    "Note 3",
    written[2],
    sessionText,
    "You and your co-mediator",
    "You",
    "Cannot be read",
    unreadable,
  ]);
  await assertAccessible(page, "a note that does not open, listed");
  await page.click("#notes a:has-text('Note 3')");
  await heading(page, "Note 3");
  assert.deepEqual((await summaryRows(page)).at(-1), ["Status", "Cannot be read"]);
  assert.equal(
    (await page.locator(".nhsuk-warning-callout").textContent())?.trim(),
    `Important: This note cannot be read${unreadable}The other notes of the case are not affected. An older backup of the database may hold it.`,
  );
  await assertAccessible(page, "a note that does not open");
  // Nothing of the notes is kept in the browser: only the flag that this tab signed in.
  assert.deepEqual(await page.evaluate(() => [Object.keys(localStorage), Object.keys(sessionStorage)]), [[], ["signed-in"]]);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(errors, []);
  await context.close();
});

// ---- Not found -----------------------------------------------------------------------------

test("a mediator of another case gets the same Not found page as for a case that does not exist", async () => {
  const { context, page, errors } = await signedIn(c, tokens.other, "/app/cases/2/notes");
  // Its own case opens.
  await heading(page, "Notes");
  for (const suffix of ["notes", "notes/1", "agreement", "agreement/draft", "outcome"]) {
    const seen: string[][] = [];
    for (const caseId of [main.c.id, 999n]) {
      await page.goto(`${c.baseUrl}/app/cases/${caseId}/${suffix}`);
      await heading(page, "Not found");
      const text = (await page.locator("#problem").textContent()) ?? "";
      seen.push([await page.title(), text.replace(String(caseId), "<id>")]);
    }
    assert.deepEqual(seen, [
      ["Not found - Assisted mediation", "case <id> not found"],
      ["Not found - Assisted mediation", "case <id> not found"],
    ], suffix);
  }
  await assertAccessible(page, "not found");
  // A note of case 1 asked for under Cal's own case reads as a note that does not exist.
  for (const noteId of ["1", "999"]) {
    await page.goto(`${c.baseUrl}/app/cases/2/notes/${noteId}`);
    await heading(page, "Not found");
    assert.equal(await page.locator("#problem").textContent(), `note ${noteId} not found`);
  }
  assert.equal(await refusal(api(c, NotesService, tokens.other).listNotes({ caseId: main.c.id })), Code.NotFound);
  assert.equal(await refusal(api(c, AgreementService, tokens.other).getAgreement({ caseId: main.c.id })), Code.NotFound);
  assert.deepEqual(errors, []);
  await context.close();
});

// ---- The agreement --------------------------------------------------------------------------

test("the agreement: two versions and their differences, a party's signature and a paper one, a stale save and a stale signature refused", async () => {
  const caseId = main.c.id;
  const [kai, mia] = main.c.parties;
  const path = `/app/cases/${caseId}/agreement`;
  const agreement = api(c, AgreementService, tokens.lead);
  const { context, page, errors } = await signedIn(c, tokens.lead, path);
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await heading(page, "Agreement");
  assert.equal(await page.title(), `Agreement - Case ${main.c.reference} - Assisted mediation`);
  assert.equal((await page.locator("main .nhsuk-inset-text").textContent())?.trim(), "Information: No version of the agreement has been drafted yet.");
  await assertAccessible(page, "no agreement yet");

  // Version 1: two commitments and free text; the second commitment first binds nobody.
  const itemA = "We will raise rota concerns with each other first, by email, before involving the clinical director.";
  const itemB = "Dr Ross will share the theatre list by noon each Friday.";
  const text1 = [
    "We will meet once a month to review the rota.",
    "If this is not working, either of us can ask for another mediation session.",
    `Words as typed: ${kXss}`,
  ];
  await page.click("#draft-link");
  await heading(page, "Draft version 1");
  assert.equal(await page.title(), `Draft the agreement - Case ${main.c.reference} - Assisted mediation`);
  await page.fill("#content-items-0-commitment", itemA);
  await page.check("#content-items-0-party_ids");
  await page.check("#content-items-0-party_ids-2");
  await fillDate(page, "content-items-0-review_date", { day: 2, month: 3, year: 2027 });
  await page.click("#add-item");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "content-items-1-commitment");
  await page.keyboard.type(itemB);
  await page.fill("#content-free_text", text1.join("\n"));
  await assertAccessible(page, "drafting version 1");
  await page.click("#draft-submit");
  assert.deepEqual(await summaryProblems(page, "at least one party"), [["Commitment 2 whom does it bind?: at least one party", "#content-items-1-party_ids"]]);
  assert.equal((await agreement.getAgreement({ caseId })).versions.length, 0);
  await assertAccessible(page, "a draft refused");
  await page.check("#content-items-1-party_ids-2");
  await page.click("#draft-submit");
  await heading(page, "Agreement");
  await expectBanner(page, "Version 1 is saved.");
  let versions = (await agreement.getAgreement({ caseId })).versions;
  assert.deepEqual(
    versions.map((v) => [
      v.version,
      v.content?.items.map((i) => [i.commitment, i.partyIds, i.reviewDate ? [i.reviewDate.year, i.reviewDate.month, i.reviewDate.day] : null]),
      v.content?.freeText,
    ]),
    [[1, [[itemA, [kai.id, mia.id], [2027, 3, 2]], [itemB, [mia.id], null]], text1.join("\n")]],
  );
  assert.equal((await page.locator("#version-heading").textContent())?.trim(), "Version 1 (the latest) Draft");
  assert.deepEqual(await tableRows(page, "Commitments in version 1"), [
    [itemA, "Dr Kai Lund and Dr Mia Ross", "2 March 2027"],
    [itemB, "Dr Mia Ross", "None"],
  ]);
  assert.deepEqual(await paragraphsOf(page, "#free-text"), text1);
  assert.equal(await page.locator("main img").count(), 0);
  assert.deepEqual(await tableRows(page, "Signatures on version 1"), [
    ["Dr Kai Lund", "Not signed", "", ""],
    ["Dr Mia Ross", "Not signed", "", ""],
  ]);
  assert.deepEqual(await cardRows(page, "Every version"), [["Version 1", londonTime(versions[0].createdAt), "Nobody yet", "Latest draft"]]);
  assert.equal(await page.locator("#compare").count(), 0);
  await assertAccessible(page, "version 1");

  // Version 2 from version 1: the second commitment changed, a third added (a blank one added
  // and removed on the way), a line of the free text changed.
  const itemB2 = "Dr Ross will share the theatre list by noon each Thursday.";
  const itemC = "Dr Lund will reply to rota emails within two working days.";
  const text2 = ["We will meet every two weeks to review the rota.", ...text1.slice(1)];
  await page.click("#draft-link");
  await heading(page, "Draft version 2");
  assert.equal(await page.inputValue("#content-items-0-commitment"), itemA);
  assert.equal(await page.inputValue("#content-items-0-review_date-month"), "3");
  assert.equal(await page.inputValue("#content-items-1-commitment"), itemB);
  assert.deepEqual(
    [await page.isChecked("#content-items-1-party_ids"), await page.isChecked("#content-items-1-party_ids-2")],
    [false, true],
  );
  assert.equal(await page.inputValue("#content-free_text"), text1.join("\n"));
  await page.fill("#content-items-1-commitment", itemB2);
  await page.click("#add-item");
  await page.fill("#content-items-2-commitment", "Not wanted after all.");
  await page.click("#add-item");
  await page.fill("#content-items-3-commitment", itemC);
  await page.check("#content-items-3-party_ids");
  await fillDate(page, "content-items-3-review_date", { day: 1, month: 6, year: 2027 });
  await page.click("#remove-item-2");
  assert.equal(await page.locator("#items > fieldset").count(), 3);
  assert.equal(await page.inputValue("#content-items-2-commitment"), itemC);
  assert.equal(await page.isChecked("#content-items-2-party_ids"), true);
  assert.equal(await page.inputValue("#content-items-2-review_date-year"), "2027");
  await page.fill("#content-free_text", text2.join("\n"));
  await assertAccessible(page, "drafting version 2");
  await page.click("#draft-submit");
  await heading(page, "Agreement");
  await expectBanner(page, "Version 2 is saved.");
  versions = (await agreement.getAgreement({ caseId })).versions;
  assert.deepEqual(
    versions.map((v) => [v.version, v.content?.items.map((i) => [i.commitment, i.partyIds, i.reviewDate?.month ?? 0]), v.content?.freeText]),
    [
      [1, [[itemA, [kai.id, mia.id], 3], [itemB, [mia.id], 0]], text1.join("\n")],
      [2, [[itemA, [kai.id, mia.id], 3], [itemB2, [mia.id], 0], [itemC, [kai.id], 6]], text2.join("\n")],
    ],
  );
  assert.deepEqual((await tableRows(page, "Commitments in version 2")).map((row) => row[0]), [itemA, itemB2, itemC]);

  // The differences: exactly the changed commitment, the added one and the changed line.
  assert.equal(await page.inputValue("#from"), "1");
  assert.equal(await page.inputValue("#to"), "2");
  await page.click("#compare-submit");
  await page.locator("#differences").waitFor();
  assert.equal(new URL(page.url()).search, "?from=1&to=2");
  const differencesSeen = async () => [
    await tableRows(page, "Commitments that differ between version 1 and version 2"),
    await page.locator("#items-same").textContent(),
    await tableRows(page, "Lines of the free text that differ between version 1 and version 2"),
  ];
  const expected = [
    [
      ["Changed", `${itemB} (binds Dr Mia Ross)`, `${itemB2} (binds Dr Mia Ross)`],
      ["Added", "Not in this version", `${itemC} (binds Dr Kai Lund; review on 1 June 2027)`],
    ],
    "Commitments the same in both: 1.",
    [
      ["Removed", text1[0]],
      ["Added", text2[0]],
    ],
  ];
  assert.deepEqual(await differencesSeen(), expected);
  await assertAccessible(page, "the differences between two versions");
  await screenshots(page, "mediator-agreement-differences");
  // The address keeps the comparison.
  await page.reload();
  await heading(page, "Agreement");
  await page.locator("#differences").waitFor();
  assert.deepEqual(await differencesSeen(), expected);
  // An earlier version on its own.
  await page.click("#versions a:has-text('Version 1')");
  await page.waitForURL(`${c.baseUrl}${path}?version=1`);
  await page.locator("#version-heading", { hasText: "Version 1 Draft" }).waitFor();
  assert.deepEqual(await summaryRows(page, "#version .nhsuk-summary-list"), [
    ["Saved", londonTime(versions[0].createdAt)],
    ["Status", "An earlier draft: only the latest version can be signed"],
    ["Signed by", "Nobody yet"],
  ]);
  assert.equal(await page.locator("#paper-signature").count(), 0);
  await assertAccessible(page, "an earlier version");

  // Dr Lund signs version 2 through the API (a PARTY token), consenting to share it.
  const { secret: kaiSecret } = await api(c, AdminService, c.adminSecret).issueToken({
    role: Role.PARTY,
    label: "Dr Kai Lund",
    caseId,
    partyId: kai.id,
  });
  await api(c, AgreementService, kaiSecret).signAgreement({ versionId: versions[1].id, contentHash: versions[1].contentHash, consentToShare: true });
  await page.goto(`${c.baseUrl}${path}`);
  await heading(page, "Agreement");
  versions = (await agreement.getAgreement({ caseId })).versions;
  assert.deepEqual(await tableRows(page, "Signatures on version 2"), [
    ["Dr Kai Lund", londonTime(versions[1].signatures[0].signedAt), "In the console, by the party", "Yes"],
    ["Dr Mia Ross", "Not signed", "", ""],
  ]);
  // Dr Ross signed on paper: without saying what she said about sharing, the form asks.
  assert.deepEqual(await page.locator("#paper-signature label[for^='party_id']").allTextContents(), ["Dr Mia Ross"]);
  await page.check("#party_id");
  await page.click("#paper-signature-submit");
  assert.deepEqual(await summaryProblems(page, "about sharing"), [
    [
      "On the paper they signed, did they consent to the organisation seeing the agreement?: say what the party said on paper about sharing",
      "#consent_to_share",
    ],
  ]);
  await assertAccessible(page, "a paper signature refused");
  await page.check("#consent_to_share");
  await page.click("#paper-signature-submit");
  await expectBanner(page, "The paper signature of Dr Mia Ross on version 2 is recorded.");
  versions = (await agreement.getAgreement({ caseId })).versions;
  assert.equal(versions[1].final, true);
  assert.deepEqual(
    versions[1].signatures.map((s) => [s.partyId, s.onPaper, s.consentToShare]),
    [
      [kai.id, false, true],
      [mia.id, true, true],
    ],
  );
  assert.equal((await page.locator("#version-heading").textContent())?.trim(), "Version 2 (the latest) Final");
  assert.deepEqual((await tableRows(page, "Signatures on version 2"))[1], [
    "Dr Mia Ross",
    londonTime(versions[1].signatures[1].signedAt),
    "On paper, recorded by a mediator",
    "Yes",
  ]);
  assert.equal(await page.locator("#paper-signature").count(), 0);
  assert.deepEqual((await cardRows(page, "Every version")).map((row) => [row[0], row[2], row[3]]), [
    ["Version 1", "Nobody yet", "Earlier draft"],
    ["Version 2", "Dr Kai Lund and Dr Mia Ross", "Final"],
  ]);
  await assertAccessible(page, "a final version");
  await screenshots(page, "mediator-agreement");

  // A stale save: the co-mediator saves version 3 while this page holds version 2.
  await page.click("#draft-link");
  await heading(page, "Draft version 3");
  const { version: v3 } = await api(c, AgreementService, tokens.co).draftAgreement({
    caseId,
    content: { items: [{ commitment: itemA, partyIds: [kai.id, mia.id] }], freeText: "The co-mediator's draft." },
  });
  await page.fill("#content-free_text", "A change made on an old copy.");
  await page.click("#draft-submit");
  assert.equal(v3?.version, 3);
  const stale = "version 3 of the agreement was saved since you read version 2; nothing is saved: read version 3 and draft from it";
  assert.deepEqual(await summaryProblems(page, "was saved since"), [[stale, null]]);
  assert.deepEqual((await agreement.getAgreement({ caseId })).versions.map((v) => v.version), [1, 2, 3]);
  await assertAccessible(page, "a stale save refused");

  // A stale signature: version 4 is saved while this page offers version 3 for signing; the
  // server refuses the signature on version 3.
  await page.goto(`${c.baseUrl}${path}`);
  await heading(page, "Agreement");
  await page.locator("#version-heading", { hasText: "Version 3 (the latest)" }).waitFor();
  await api(c, AgreementService, tokens.co).draftAgreement({ caseId, content: { freeText: "Version 4." } });
  await page.check("#party_id");
  await page.check("#consent_to_share-2");
  await page.click("#paper-signature-submit");
  assert.deepEqual(await summaryProblems(page, "not the latest"), [["version 3 is not the latest (version 4 is); read it and sign that one", null]]);
  versions = (await agreement.getAgreement({ caseId })).versions;
  assert.deepEqual(versions.map((v) => [v.version, v.signatures.length, v.final]), [
    [1, 0, false],
    [2, 2, true],
    [3, 0, false],
    [4, 0, false],
  ]);
  await assertAccessible(page, "a stale signature refused");
  assert.deepEqual(dialogs, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test("drafting the agreement with the keyboard alone", async () => {
  const caseId = keyboardCase.c.id;
  const [ola, eve] = keyboardCase.c.parties;
  const { context, page, errors } = await signedIn(c, tokens.lead, `/app/cases/${caseId}/agreement`);
  await heading(page, "Agreement");
  await tabTo(page, "#draft-link");
  await page.keyboard.press("Enter");
  await heading(page, "Draft version 1");
  const item1 = "We will copy each other into rota emails.";
  const item2 = "Dr Stone will hand over in person at 08:00.";
  await tabTo(page, "#content-items-0-commitment");
  await page.keyboard.type(item1);
  await tabTo(page, "#content-items-0-party_ids");
  await page.keyboard.press("Space");
  await tabTo(page, "#content-items-0-party_ids-2");
  await page.keyboard.press("Space");
  await tabTo(page, "#content-items-0-review_date");
  await page.keyboard.type("15");
  await tabTo(page, "#content-items-0-review_date-month");
  await page.keyboard.type("9");
  await tabTo(page, "#content-items-0-review_date-year");
  await page.keyboard.type("2027");
  await tabTo(page, "#add-item");
  await page.keyboard.press("Enter");
  // The new commitment takes the focus.
  assert.equal(await page.evaluate(() => document.activeElement?.id), "content-items-1-commitment");
  await page.keyboard.type(item2);
  await tabTo(page, "#content-items-1-party_ids-2");
  await page.keyboard.press("Space");
  await tabTo(page, "#content-free_text");
  await page.keyboard.type("We will talk to each other before escalating.");
  await tabTo(page, "#draft-submit");
  await page.keyboard.press("Enter");
  await heading(page, "Agreement");
  await expectBanner(page, "Version 1 is saved.");
  const { versions } = await api(c, AgreementService, tokens.lead).getAgreement({ caseId });
  assert.deepEqual(
    versions.map((v) => [
      v.version,
      v.content?.items.map((i) => [i.commitment, i.partyIds, i.reviewDate ? [i.reviewDate.year, i.reviewDate.month, i.reviewDate.day] : null]),
      v.content?.freeText,
    ]),
    [
      [
        1,
        [
          [item1, [ola.id, eve.id], [2027, 9, 15]],
          [item2, [eve.id], null],
        ],
        "We will talk to each other before escalating.",
      ],
    ],
  );
  assert.deepEqual(await tableRows(page, "Commitments in version 1"), [
    [item1, "Dr Ola Ade and Dr Eve Stone", longDate({ year: 2027, month: 9, day: 15 })],
    [item2, "Dr Eve Stone", "None"],
  ]);
  await assertAccessible(page, "a version drafted with the keyboard");
  assert.deepEqual(errors, []);
  await context.close();
});

// ---- Outcome and follow-up (last: it moves the server's clock) --------------------------------

test("the outcome, the follow-up and its review; the case's notes are then destroyed and shown as such", async () => {
  const caseId = main.c.id;
  const path = `/app/cases/${caseId}/outcome`;
  const agreements = api(c, AgreementService, tokens.lead);
  let { context, page, errors } = await signedIn(c, tokens.lead, path);
  await heading(page, "Outcome and follow-up");
  assert.equal(await page.title(), `Outcome and follow-up - Case ${main.c.reference} - Assisted mediation`);
  const shared = "Version 2: every party signed it and consented to share it";
  assert.deepEqual(await summaryRows(page, "#outcome-summary"), [
    ["Outcome", "Not recorded yet"],
    ["Outcome recorded", "Not yet"],
    ["Follow-up review", "Not scheduled"],
    ["Review held", "Not yet"],
    ["Notes from the review", "Not yet"],
    ["Agreement shared with the organisation", shared],
  ]);
  assert.equal(
    (await page.locator("main .nhsuk-inset-text").textContent())?.trim(),
    "Information: The outcome is recorded once the mediation has started (its first session has begun), and not while the case is on hold. This case is sessions scheduled.",
  );
  await assertAccessible(page, "outcome before the mediation started");
  assert.deepEqual(errors, []);
  await context.close();

  // The server's clock moves to three hours after the joint meeting started; maintenance moves
  // the case to IN_MEDIATION. (The browser's session ends with the jump: sign in again.)
  const offset = Math.ceil((timestampDate(main.session.start!).getTime() - Date.now()) / 1000) + 3 * 3600;
  await moveClock(offset);
  const referrals = api(c, ReferralService, desk);
  for (let i = 0; i < 100; ++i) {
    if ((await referrals.getCase({ caseId })).case?.state === CaseState.IN_MEDIATION) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal((await referrals.getCase({ caseId })).case?.state, CaseState.IN_MEDIATION);

  ({ context, page, errors } = await signedIn(c, tokens.lead, path));
  await heading(page, "Outcome and follow-up");
  await assertAccessible(page, "outcome in mediation");
  // Nothing chosen: the server names the field.
  await page.click("#outcome-form-submit");
  assert.deepEqual(await summaryProblems(page, "What was the outcome?"), [["What was the outcome?: required", "#outcome"]]);
  await assertAccessible(page, "an outcome refused");
  assert.deepEqual(
    await page.locator("#outcome-form label").allTextContents(),
    ["Full agreement", "Partial agreement", "No agreement", "Withdrawn", "Ended by the mediator"],
  );
  await page.check("#outcome");
  await page.click("#outcome-form-submit");
  await expectBanner(page, "The outcome is recorded: full agreement.");
  let outcome = await agreements.getOutcome({ caseId });
  assert.equal(outcome.outcome, Outcome.FULL_AGREEMENT);
  assert.equal((await referrals.getCase({ caseId })).case?.state, CaseState.OUTCOME_RECORDED);
  assert.deepEqual((await summaryRows(page, "#outcome-summary")).slice(0, 3), [
    ["Outcome", "Full agreement"],
    ["Outcome recorded", londonTime(outcome.outcomeRecordedAt)],
    ["Follow-up review", "Not scheduled"],
  ]);
  assert.equal(await page.locator("#outcome-form").count(), 0);
  await assertAccessible(page, "outcome recorded");

  // The follow-up review, by default about three months (91 days) after the outcome.
  await page.click("#follow-up-form-submit");
  const defaultDay = londonDay(timestampDate(outcome.outcomeRecordedAt!), 91);
  await expectBanner(page, `The follow-up review is on ${longDate(defaultDay, "full")}.`);
  outcome = await agreements.getOutcome({ caseId });
  assert.deepEqual([outcome.reviewDate?.year, outcome.reviewDate?.month, outcome.reviewDate?.day], [defaultDay.year, defaultDay.month, defaultDay.day]);
  assert.equal((await referrals.getCase({ caseId })).case?.state, CaseState.FOLLOW_UP);
  assert.deepEqual((await summaryRows(page, "#outcome-summary"))[2], ["Follow-up review", longDate(defaultDay, "full")]);
  // Moved a week later: a date that is not real is refused first.
  await fillDate(page, "review_date", { day: 31, month: 2, year: 2027 });
  await page.click("#follow-up-form-submit");
  assert.deepEqual(await summaryProblems(page, "Date of the review"), [["Date of the review: enter a real date, for example 27 3 2027", "#review_date"]]);
  await assertAccessible(page, "a follow-up date refused");
  const moved = londonDay(new Date(Date.UTC(defaultDay.year, defaultDay.month - 1, defaultDay.day, 12)), 7);
  await fillDate(page, "review_date", moved);
  await page.click("#follow-up-form-submit");
  await expectBanner(page, `The follow-up review is on ${longDate(moved, "full")}.`);
  outcome = await agreements.getOutcome({ caseId });
  assert.deepEqual([outcome.reviewDate?.year, outcome.reviewDate?.month, outcome.reviewDate?.day], [moved.year, moved.month, moved.day]);
  await assertAccessible(page, "follow-up scheduled");

  // The review: the case closes.
  const reviewNotes = "Both say the fortnightly rota meetings work. <script>alert(1)</script>";
  await page.fill("#notes", reviewNotes);
  await page.click("#review-form-submit");
  await expectBanner(page, "The follow-up review is recorded and the case is closed.");
  outcome = await agreements.getOutcome({ caseId });
  assert.equal(outcome.reviewNotes, reviewNotes);
  assert.ok(outcome.reviewedAt);
  assert.equal((await referrals.getCase({ caseId })).case?.state, CaseState.CLOSED);
  assert.deepEqual(await summaryRows(page, "#outcome-summary"), [
    ["Outcome", "Full agreement"],
    ["Outcome recorded", londonTime(outcome.outcomeRecordedAt)],
    ["Follow-up review", longDate(moved, "full")],
    ["Review held", londonTime(outcome.reviewedAt)],
    ["Notes from the review", reviewNotes],
    ["Agreement shared with the organisation", shared],
  ]);
  assert.equal(await page.locator("main form").count(), 0);
  assert.equal(await page.locator("main script").count(), 0);
  await assertAccessible(page, "case closed");
  await screenshots(page, "mediator-outcome");

  // The agreement is frozen.
  await page.goto(`${c.baseUrl}/app/cases/${caseId}/agreement`);
  await heading(page, "Agreement");
  assert.equal(
    (await page.locator("main .nhsuk-inset-text").first().textContent())?.trim(),
    "Information: The outcome is recorded, so the agreement is frozen: no version can be drafted or signed now.",
  );
  assert.equal(await page.locator("#draft-link, #paper-signature").count(), 0);
  await assertAccessible(page, "a frozen agreement");

  // The closed case's notes are destroyed (retention 0 days, maintenance every second): listed
  // and shown as destroyed, not as an error.
  const notes = api(c, NotesService, tokens.lead);
  for (let i = 0; i < 100; ++i) {
    if ((await notes.listNotes({ caseId })).notes.every((n) => n.destroyed)) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const destroyed = (await notes.listNotes({ caseId })).notes;
  assert.deepEqual(destroyed.map((n) => [n.id, n.destroyed, n.text]), [1n, 2n, 3n, 4n, 5n].map((id) => [id, true, ""]));
  await page.goto(`${c.baseUrl}/app/cases/${caseId}/notes`);
  await heading(page, "Notes");
  assert.deepEqual(
    (await cardRows(page, "Notes on this case")).map((row) => [row[0], row[5], row[6]]),
    destroyed.map((n) => [
      `Note ${n.id}`,
      "Destroyed",
      `Destroyed on ${londonTime(n.destroyedAt)}, after the case's retention period. Only its details are kept.`,
    ]),
  );
  assert.equal(await page.locator("#add-note").count(), 0);
  assert.equal(
    (await page.locator("main .nhsuk-inset-text").last().textContent())?.trim(),
    "Information: This case is closed: no more notes can be added.",
  );
  await assertAccessible(page, "destroyed notes");
  await page.click("#notes a:has-text('Note 1')");
  await heading(page, "Note 1");
  assert.deepEqual((await summaryRows(page)).at(-1), ["Status", "Destroyed"]);
  assert.equal(
    (await page.locator("main .nhsuk-inset-text").textContent())?.trim(),
    `Information: Destroyed on ${londonTime(destroyed[0].destroyedAt)}, after the case's retention period. Only its details are kept.Its key was erased when the retention period ended, so its text is gone for good.`,
  );
  assert.equal(await page.locator("#correct-note").count(), 0);
  await assertAccessible(page, "a destroyed note");
  assert.deepEqual(errors, []);
  await context.close();
});
