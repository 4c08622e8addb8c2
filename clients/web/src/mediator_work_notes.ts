// A case's confidential notes, for its mediators: the list (/app/cases/<id>/notes) with a form to
// add a note to the case or one of its sessions, private or shared with the co-mediator; and one
// note (/app/cases/<id>/notes/<note>) with its chain of corrections and a form to correct it
// (a new note that supersedes it; notes are never edited). A note destroyed after the retention
// period, or whose stored text does not open, is shown as such, never as an error page.
import { Code, ConnectError } from "@connectrpc/connect";

import { CaseState } from "@gen/ppa/mediation/v1/common_pb";
import { type Note, NotesService, NoteVisibility } from "@gen/ppa/mediation/v1/notes_pb";
import type { Case } from "@gen/ppa/mediation/v1/referral_pb";
import { SchedulingService, type Session, SessionState } from "@gen/ppa/mediation/v1/scheduling_pb";

import { client } from "./api";
import { navigate, type PageContext, rerender, when, words } from "./app";
import { loadCase } from "./cases";
import { h, inset, link, summaryList, tag, warningCallout } from "./dom";
import { actionForm, radios, select, textarea, valueOf } from "./forms";
import { idempotencyKey, noticeFor, paragraphs, responsiveTable, takeNotice } from "./page_parts";
import { sessionTitle } from "./scheduling";
import { isFinished, partyName, workHeading, workTitle } from "./mediator_work_parts";

// How much of a note's text the list shows.
const kExcerptChars = 200;

const kVisibilities: Array<[string, string]> = [
  [String(NoteVisibility.PRIVATE), "Only me (a private note)"],
  [String(NoteVisibility.SHARED), "Me and my co-mediator (a shared note)"],
];

function sessionLabel(s: Session, c: Case): string {
  return `${sessionTitle(s, c)}, ${when(s.start)}${s.state === SessionState.CANCELLED ? " (cancelled)" : ""}`;
}

function aboutText(n: Note, c: Case, sessions: Session[]): string {
  const session = sessions.find((s) => s.id === n.sessionId);
  const about = n.sessionId === 0n ? "The case as a whole" : session ? sessionLabel(session, c) : `Session ${n.sessionId}`;
  return n.partyId === 0n ? about : `${about}; concerns ${partyName(c, n.partyId)}`;
}

function readersText(n: Note): string {
  return n.visibility === NoteVisibility.SHARED ? "You and your co-mediator" : "Only you";
}

function authorText(n: Note, me: bigint): string {
  return n.authorMediatorId === me ? "You" : "Your co-mediator";
}

// "Current", "Correction of note 1", "Correction of note 1; corrected by note 4", "Destroyed",
// "Cannot be read".
function statusText(n: Note): string {
  if (n.destroyed) return "Destroyed";
  if (n.unreadable) return "Cannot be read";
  const parts: string[] = [];
  if (n.supersedesNoteId !== 0n) parts.push(`correction of note ${n.supersedesNoteId}`);
  if (n.supersededByNoteId !== 0n) parts.push(`corrected by note ${n.supersededByNoteId}`);
  const text = parts.join("; ") || "current";
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function statusTag(n: Note): HTMLElement {
  if (n.destroyed) return tag("Destroyed", "grey");
  if (n.unreadable) return tag("Cannot be read", "red");
  if (n.supersededByNoteId !== 0n) return tag(statusText(n), "white");
  return tag(statusText(n), "blue");
}

function destroyedText(n: Note): string {
  return `Destroyed on ${when(n.destroyedAt)}, after the case's retention period. Only its details are kept.`;
}

const kUnreadableText =
  "Its stored text does not open: it was altered or moved in the database. Nothing of it can be shown.";

function excerpt(n: Note): string {
  if (n.destroyed) return destroyedText(n);
  if (n.unreadable) return kUnreadableText;
  if (n.text.length <= kExcerptChars) return n.text;
  const cut = n.text.slice(0, kExcerptChars);
  const space = cut.lastIndexOf(" ");
  return `${space > kExcerptChars / 2 ? cut.slice(0, space) : cut}…`;
}

async function readSessions(c: Case): Promise<Session[]> {
  return (await client(SchedulingService).listSessions({ caseId: c.id, includeCancelled: true })).sessions;
}

// ---- The list ------------------------------------------------------------------------------

export async function notesPage(context: PageContext): Promise<HTMLElement> {
  const c = await loadCase(context.match[1]);
  const [{ notes }, sessions] = await Promise.all([client(NotesService).listNotes({ caseId: c.id }), readSessions(c)]);
  const path = `/app/cases/${c.id}/notes`;
  const me = context.me.mediatorId;
  const list =
    notes.length === 0
      ? inset("There are no notes on this case yet.")
      : responsiveTable(
          "Notes on this case, oldest first",
          ["Note", "Written", "About", "Who can read it", "Written by", "Status", "Text"],
          notes.map((n) => [
            link(`${path}/${n.id}`, `Note ${n.id}`),
            when(n.createdAt),
            aboutText(n, c, sessions),
            readersText(n),
            authorText(n, me),
            statusTag(n),
            excerpt(n),
          ]),
          { id: "notes" },
        );

  let add: HTMLElement;
  if (isFinished(c)) {
    add = inset(`This case is ${words(CaseState[c.state]).toLowerCase()}: no more notes can be added.`);
  } else {
    const key = idempotencyKey();
    add = actionForm(
      "add-note",
      [
        textarea("text", "Note", { hint: "At most 20,000 characters. A note is never changed: to correct it, open it and save a correction." }),
        radios("visibility", "Who can read it?", kVisibilities),
        select("session_id", "Which session is it about?", [
          ["0", "The case as a whole"],
          ...sessions.map((s): [string, string] => [String(s.id), sessionLabel(s, c)]),
        ]),
        select("party_id", "Which party does it concern? (optional)", [
          ["0", "No party in particular"],
          ...c.parties.map((p): [string, string] => [String(p.id), partyName(c, p.id)]),
        ]),
      ],
      "Add the note",
      async (form) => {
        const { note } = await client(NotesService).addNote({
          caseId: c.id,
          text: valueOf(form, "text"),
          visibility: Number(valueOf(form, "visibility") || "0") as NoteVisibility,
          sessionId: BigInt(valueOf(form, "session_id") || "0"),
          partyId: BigInt(valueOf(form, "party_id") || "0"),
          idempotencyKey: key,
        });
        noticeFor(path, `Note ${note?.id ?? ""} is added.`);
        await rerender();
      },
    );
  }

  return context.frame(
    workTitle("Notes", c),
    ...workHeading(c, "Notes", path),
    takeNotice(path),
    h(
      "p",
      { class: "nhsuk-body" },
      "Only you and your co-mediator can read this case's notes, and a private note only its author. Every read and every note added is recorded (who, when, which note; never the text).",
    ),
    list,
    h("h2", { id: "add-note-heading" }, "Add a note"),
    add,
  );
}

// ---- One note ------------------------------------------------------------------------------

function notFound(noteId: bigint): ConnectError {
  return new ConnectError(`note ${noteId} not found`, Code.NotFound);
}

// The note as GetNote gives it (each read is audited); one that does not open is the listed one,
// marked unreadable (GetNote answers DATA_LOSS for it).
async function readNote(noteId: bigint, listed: Note | undefined): Promise<Note> {
  if (listed?.destroyed || listed?.unreadable) return listed;
  try {
    const { note } = await client(NotesService).getNote({ noteId });
    if (!note) throw notFound(noteId);
    return note;
  } catch (error) {
    if (listed && error instanceof ConnectError && error.code === Code.DataLoss) {
      listed.unreadable = true;
      listed.text = "";
      return listed;
    }
    throw error;
  }
}

// The notes this one corrects and those that correct it, oldest first, as far as the reader
// may see them.
function chainOf(n: Note, byId: Map<bigint, Note>): Array<Note | bigint> {
  const chain: Array<Note | bigint> = [n];
  const seen = new Set<bigint>([n.id]);
  for (let back = n.supersedesNoteId; back !== 0n && !seen.has(back); ) {
    seen.add(back);
    const earlier = byId.get(back);
    chain.unshift(earlier ?? back);
    back = earlier?.supersedesNoteId ?? 0n;
  }
  for (let next = n.supersededByNoteId; next !== 0n && !seen.has(next); ) {
    seen.add(next);
    const later = byId.get(next);
    chain.push(later ?? next);
    next = later?.supersededByNoteId ?? 0n;
  }
  return chain;
}

function chainTable(n: Note, byId: Map<bigint, Note>, path: string): HTMLElement | null {
  const chain = chainOf(n, byId);
  if (chain.length === 1) return null;
  return h(
    "section",
    { "aria-labelledby": "chain-heading" },
    h("h2", { id: "chain-heading" }, "Corrections"),
    responsiveTable(
      "This note and its corrections, oldest first",
      ["Note", "Written", "Status"],
      chain.map((entry) => {
        if (typeof entry === "bigint") return [`Note ${entry}`, "Not known", "Not shown to you: your co-mediator's private note"];
        return [
          entry.id === n.id ? `Note ${entry.id} (this note)` : link(`${path}/${entry.id}`, `Note ${entry.id}`),
          when(entry.createdAt),
          statusText(entry),
        ];
      }),
      { id: "chain" },
    ),
  );
}

function noteText(n: Note): HTMLElement {
  if (n.destroyed) return inset(destroyedText(n), "Its key was erased when the retention period ended, so its text is gone for good.");
  if (n.unreadable) {
    return warningCallout(
      "This note cannot be read",
      kUnreadableText,
      "The other notes of the case are not affected. An older backup of the database may hold it.",
    );
  }
  return paragraphs(n.text, { id: "note-text", class: "app-answer" });
}

export async function notePage(context: PageContext): Promise<HTMLElement> {
  const c = await loadCase(context.match[1]);
  const noteId = BigInt(context.match[2]);
  const [{ notes }, sessions] = await Promise.all([client(NotesService).listNotes({ caseId: c.id }), readSessions(c)]);
  const listed = notes.find((n) => n.id === noteId);
  const n = await readNote(noteId, listed);
  if (n.caseId !== c.id) throw notFound(noteId);
  const byId = new Map(notes.map((note) => [note.id, note]));
  byId.set(n.id, n);
  const path = `/app/cases/${c.id}/notes`;
  const here = `${path}/${n.id}`;
  const me = context.me.mediatorId;

  let correction: Node | null = null;
  if (n.authorMediatorId === me && n.supersededByNoteId === 0n && !n.destroyed && !isFinished(c)) {
    const key = idempotencyKey();
    correction = h(
      "section",
      { "aria-labelledby": "correct-heading" },
      h("h2", { id: "correct-heading" }, "Correct this note"),
      h(
        "p",
        { class: "nhsuk-body" },
        `The correction is a new note about the same session and party. Note ${n.id} is kept, marked as corrected by it.`,
      ),
      actionForm(
        "correct-note",
        [
          textarea("text", "The corrected note", { value: n.text, hint: "At most 20,000 characters." }),
          radios("visibility", "Who can read the correction?", kVisibilities, { value: String(n.visibility) }),
        ],
        "Save the correction",
        async (form) => {
          const { note } = await client(NotesService).addNote({
            caseId: c.id,
            text: valueOf(form, "text"),
            visibility: Number(valueOf(form, "visibility") || "0") as NoteVisibility,
            sessionId: n.sessionId,
            partyId: n.partyId,
            supersedesNoteId: n.id,
            idempotencyKey: key,
          });
          const to = `${path}/${note?.id ?? ""}`;
          noticeFor(to, `Note ${note?.id ?? ""} is saved as a correction of note ${n.id}.`);
          navigate(to);
        },
      ),
    );
  }

  return context.frame(
    workTitle(`Note ${n.id}`, c),
    ...workHeading(c, `Note ${n.id}`, path),
    takeNotice(here),
    h("p", { class: "nhsuk-body" }, link(path, "All the notes on this case")),
    summaryList([
      ["Written", when(n.createdAt)],
      ["Written by", authorText(n, me)],
      ["About", aboutText(n, c, sessions)],
      ["Who can read it", readersText(n)],
      ["Status", statusText(n)],
    ]),
    h("h2", { id: "text-heading" }, "Text"),
    noteText(n),
    chainTable(n, byId, path),
    correction,
  );
}
