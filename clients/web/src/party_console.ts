// The parties' pages (role PARTY): a doctor, dentist, pharmacist or colleague in mediation,
// signed in by a one-time link that case support issued for them.
//   /app/join#<code>     the link: a Continue button uses the code (opening the page never does)
//   /app                 their mediation: where it stands, their meetings, email reminders, the
//                        agreement, withdrawing
//   /app/sessions/<id>   one of their meetings, with its calendar file
//   /app/agreement       the latest agreement in full, printable, with its fingerprint; signing it
// A party sees only what the API gives a PARTY token: its own case's reference and state, the
// meetings it attends, and the agreement. Names of other people are not given to it.
import { Code, ConnectError } from "@connectrpc/connect";

import type { AccessToken } from "@gen/ppa/mediation/v1/admin_pb";
import { type AgreementVersion, AgreementService } from "@gen/ppa/mediation/v1/agreement_pb";
import { CaseService } from "@gen/ppa/mediation/v1/case_pb";
import { CaseState, Role, SessionMode } from "@gen/ppa/mediation/v1/common_pb";
import { ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { type Session, SchedulingService, SessionKind, SessionState } from "@gen/ppa/mediation/v1/scheduling_pb";

import { client, messageOf, signInWithLink } from "./api";
import { frame, type PageContext, rerender, type Route, when, words } from "./app";
import { kWithdrawable } from "./cases";
import { dateText } from "./dates";
import { backLink, details, errorSummary, h, inset, link, summaryList, table, tag, warningCallout } from "./dom";
import { actionForm, localProblems, radios, textarea, valueOf } from "./forms";
import { takeNotice } from "./page_parts";
import { remindersSection } from "./reminders";
import { icsButton, timeRange } from "./scheduling";

const kParty = [Role.PARTY];

// Where the mediation stands, in the words a party would use.
const kStateWords: Partial<Record<CaseState, string>> = {
  [CaseState.REFERRED]: "Your organisation has referred the case. The case support team will be in touch.",
  [CaseState.SCREENING]: "The case support team is checking that mediation can help.",
  [CaseState.SUITABLE]: "Mediation can go ahead. Two mediators are being found for you.",
  [CaseState.MEDIATORS_ALLOCATED]: "Your mediators are agreed. Your meetings are being arranged.",
  [CaseState.SESSIONS_SCHEDULED]: "Your meetings are arranged.",
  [CaseState.IN_MEDIATION]: "Mediation is under way.",
  [CaseState.OUTCOME_RECORDED]: "Mediation has ended and its outcome is recorded.",
  [CaseState.FOLLOW_UP]: "A follow-up review is arranged to see how the agreement is working.",
  [CaseState.CLOSED]: "The mediation is closed.",
  [CaseState.WITHDRAWN]: "Mediation has stopped: the case was withdrawn.",
  [CaseState.NOT_SUITABLE]: "Mediation is not the right way forward for this case.",
  [CaseState.ON_HOLD]: "The case is paused for now. The case support team will be in touch.",
};

function paragraph(text: string, id?: string): HTMLElement {
  return h("p", { class: "nhsuk-body", id }, text);
}

// The server's message as a sentence.
function sentence(message: string): string {
  const text = message.trim();
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;
}

// ---- The one-time link ------------------------------------------------------------------

const kRefusalHeadings: Record<string, string> = {
  failed_precondition: "This link cannot be used",
  unauthenticated: "This link is not recognised",
  resource_exhausted: "Too many attempts",
};

// A refusal that settles the link's fate: the page says so and the code is forgotten. Any other
// failure (the network, a busy server) leaves Continue to try again.
const kFinalRefusals = new Set(["failed_precondition", "unauthenticated", "resource_exhausted"]);

// The code of the link this tab opened, kept in memory only: the address loses it at once.
let linkCode = "";

// Drawn without a session. The code comes in the address's fragment (never sent to a server),
// is taken out of the address (and so out of the history) as the page opens, and is sent only in
// the body of Continue's POST.
export function joinPage(): HTMLElement {
  if (window.location.hash.length > 1) {
    linkCode = window.location.hash.slice(1);
    window.history.replaceState({}, "", "/app/join");
  }
  if (!linkCode) {
    return frame(
      "Sign-in link",
      undefined,
      h("h1", {}, "This sign-in link is incomplete"),
      paragraph(
        "The link you opened has no code at its end. Open the whole link from the message you were sent (each link opens once), or ask the case support team for a new link.",
        "problem",
      ),
    );
  }
  const body = h("div", {});
  const problems = h("div", {});
  const go = h("button", { class: "nhsuk-button", type: "button", id: "continue" }, "Continue") as HTMLButtonElement;
  const tryAgain = (text: string) => {
    go.disabled = false;
    const summary = errorSummary([{ text }]);
    problems.replaceChildren(summary);
    summary.focus();
  };
  go.addEventListener("click", () => {
    go.disabled = true;
    signInWithLink(linkCode)
      .then((refusal) => {
        if (!refusal) {
          linkCode = "";
          // No token to sign in with again: the sign-in page will say to ask for a new link.
          sessionStorage.setItem("signed-in", "party");
          window.history.replaceState({}, "", "/app");
          void rerender();
          return;
        }
        if (!kFinalRefusals.has(refusal.code ?? "")) {
          tryAgain(`${sentence(refusal.message ?? "")} Select Continue to try again.`);
          return;
        }
        linkCode = "";
        const heading = kRefusalHeadings[refusal.code ?? ""];
        document.title = `${heading} - Assisted mediation`;
        body.replaceChildren(h("h1", {}, heading), paragraph(sentence(refusal.message ?? ""), "problem"));
        document.getElementById("main-content")?.focus();
      })
      .catch(() => tryAgain("The service could not be reached. Check your connection, then select Continue to try again."));
  });
  body.append(
    problems,
    h("h1", {}, "Your mediation"),
    paragraph(
      "The case support team sent you this link so that you can see your mediation meetings, read and sign your agreement, and withdraw from mediation if you choose to.",
    ),
    paragraph(
      "Select Continue to sign in. The link works once. If you need to sign in again later, ask the case support team for a new link.",
    ),
    go,
  );
  return frame("Sign in to your mediation", undefined, body);
}

// ---- Their mediation ---------------------------------------------------------------------

function meetingName(s: Session): string {
  return s.kind === SessionKind.INDIVIDUAL_MEETING ? "Your individual meeting with the mediators" : words(SessionKind[s.kind]);
}

function meetingPlace(s: Session): string {
  return s.mode === SessionMode.IN_PERSON ? `In person at ${s.venueName}` : "By video";
}

function meetingState(s: Session): HTMLElement {
  if (s.state === SessionState.CANCELLED) return tag("Cancelled", "grey");
  if (s.needsRescheduling) return tag("Being moved", "orange");
  return tag("Arranged", "blue");
}

// The party's own signature on `v`, if it signed it.
function ownSignature(v: AgreementVersion, me: AccessToken) {
  return v.signatures.find((s) => s.partyId === me.partyId);
}

function agreementSection(versions: AgreementVersion[], me: AccessToken): HTMLElement {
  const latest = versions.at(-1);
  const content: Array<Node | null> = [h("h2", { id: "agreement-heading" }, "Your agreement")];
  if (!latest) {
    content.push(paragraph("Your mediators have not written an agreement yet. When they have, you can read and sign it here.", "no-agreement"));
  } else {
    const signed = ownSignature(latest, me);
    content.push(
      paragraph(
        signed
          ? `You signed version ${latest.version} on ${when(signed.signedAt)}.${latest.final ? " Everyone has signed it." : ""}`
          : `Version ${latest.version} is ready for you to read and sign.`,
        "agreement-status",
      ),
      h("p", { class: "nhsuk-body" }, link("/app/agreement", signed ? "Read the agreement" : "Read and sign the agreement", { id: "read-agreement" })),
    );
  }
  return h("section", { "aria-labelledby": "agreement-heading" }, ...content);
}

function withdrawSection(caseId: bigint): HTMLElement {
  return h(
    "section",
    { "aria-labelledby": "withdraw-heading" },
    h("h2", { id: "withdraw-heading" }, "Withdrawing from mediation"),
    paragraph("Mediation is voluntary: you can stop at any time. If you withdraw, the mediation ends for everyone in the case."),
    details(
      "Withdraw from mediation",
      "withdraw",
      actionForm(
        "withdraw-form",
        [
          textarea("withdraw-reason", "Why are you withdrawing? (optional)", {
            hint: "You do not have to say. If you do, only the case support team and the mediators see it.",
          }),
        ],
        "Withdraw from mediation",
        async (form) => {
          await client(CaseService).withdrawCase({ caseId, reason: valueOf(form, "withdraw-reason") });
          await rerender();
        },
        "nhsuk-button--warning",
      ),
    ),
  );
}

async function homePage(context: PageContext): Promise<HTMLElement> {
  const me = context.me;
  const [{ case: c }, { sessions }, { versions }, reminders] = await Promise.all([
    client(ReferralService).getCase({ caseId: me.caseId }),
    client(SchedulingService).listSessions({ caseId: me.caseId }),
    client(AgreementService).getAgreement({ caseId: me.caseId }),
    remindersSection("/app"),
  ]);
  if (!c) throw new Error("the server returned no case");
  const meetings =
    sessions.length === 0
      ? paragraph("No meetings are arranged yet. The case support team will arrange them with you.", "no-meetings")
      : table(
          "Your meetings",
          ["When", "Meeting", "How", "State"],
          sessions.map((s) => [
            link(`/app/sessions/${s.id}`, timeRange(s)),
            meetingName(s),
            meetingPlace(s),
            meetingState(s),
          ]),
          { id: "meetings" },
        );
  // The section's heading names the table; its caption stays for screen readers.
  if (sessions.length > 0) meetings.querySelector("caption")?.classList.add("nhsuk-u-visually-hidden");
  return context.frame(
    "Your mediation",
    takeNotice("/app"),
    h("span", { class: "nhsuk-caption-l" }, `Case ${c.reference}`),
    h("h1", {}, "Your mediation"),
    summaryList([
      ["Case reference", c.reference],
      ["Where it stands", kStateWords[c.state] ?? words(CaseState[c.state])],
    ]),
    h("section", { "aria-labelledby": "meetings-heading" }, h("h2", { id: "meetings-heading" }, "Your meetings"), meetings),
    reminders,
    agreementSection(versions, me),
    kWithdrawable.includes(c.state) || c.state === CaseState.ON_HOLD ? withdrawSection(c.id) : null,
  );
}

// ---- One meeting -------------------------------------------------------------------------

async function sessionPage(context: PageContext): Promise<HTMLElement> {
  const { session: s } = await client(SchedulingService).getSession({ sessionId: BigInt(context.match[1]) });
  if (!s) throw new Error("the server returned no session");
  const rows: Array<[string, string]> = [
    ["Meeting", meetingName(s)],
    ["When", timeRange(s)],
    ["How", s.mode === SessionMode.IN_PERSON ? "In person" : "By video"],
  ];
  if (s.mode === SessionMode.IN_PERSON) {
    rows.push(["Where", s.venueName]);
    const room = s.rooms.find((r) => r.partyId === context.me.partyId);
    if (room) rows.push(["Your room", room.roomName]);
  } else {
    rows.push(["Video link", s.videoLink]);
  }
  rows.push(["State", s.state === SessionState.CANCELLED ? "Cancelled" : s.needsRescheduling ? "Being moved: the case support team will tell you the new time" : "Arranged"]);
  return context.frame(
    meetingName(s),
    backLink("/app", "Back to your mediation"),
    h("h1", {}, meetingName(s)),
    summaryList(rows),
    s.state === SessionState.CANCELLED ? null : icsButton(s.id),
  );
}

// ---- The agreement -----------------------------------------------------------------------

function bindsText(partyIds: bigint[], me: AccessToken): string {
  const mine = partyIds.includes(me.partyId);
  const others = partyIds.filter((id) => id !== me.partyId).length;
  if (mine && others === 0) return "You";
  if (!mine) return others === 1 ? "The other party" : "The other parties";
  return others === 1 ? "You and the other party" : "You and the other parties";
}

function agreementText(v: AgreementVersion, me: AccessToken): Array<Node | null> {
  if (v.withheld.length > 0) {
    return [warningCallout("This version cannot be shown", "Its stored text could not be read. Ask your mediators for a copy.")];
  }
  const items = v.content?.items ?? [];
  return [
    items.length === 0
      ? null
      : h(
          "ol",
          { class: "nhsuk-list nhsuk-list--number", id: "commitments" },
          ...items.map((item) =>
            h(
              "li",
              { class: "app-commitment" },
              h("p", { class: "nhsuk-body nhsuk-u-margin-bottom-1" }, item.commitment),
              h(
                "p",
                { class: "nhsuk-body-s nhsuk-u-secondary-text-color" },
                `Agreed by: ${bindsText(item.partyIds, me)}`,
                item.reviewDate ? `. Look at it again on ${dateText(item.reviewDate)}` : "",
              ),
            ),
          ),
        ),
    v.content?.freeText
      ? h(
          "div",
          { id: "free-text" },
          ...v.content.freeText.split(/\n+/).map((line) => paragraph(line)),
        )
      : null,
  ];
}

const kConsentHint =
  "Your organisation (the one that referred the case) sees the agreement only if everyone who signs it says yes. Whatever you choose, your mediators and the case support team can read it, and your organisation is told the outcome of the mediation but not what it says.";

function signForm(v: AgreementVersion): HTMLElement {
  return actionForm(
    "sign-form",
    [
      radios(
        "consent",
        "May your organisation read this agreement?",
        [
          ["yes", "Yes, my organisation may read it"],
          ["no", "No, keep it between us and the mediation service"],
        ],
        { hint: kConsentHint },
      ),
      h(
        "p",
        { class: "nhsuk-body" },
        `By signing you confirm you have read version ${v.version} and agree to the commitments it gives you. Your signature is recorded with its fingerprint, ${v.contentHash.slice(0, 12)}, and cannot be taken back.`,
      ),
    ],
    `Sign version ${v.version}`,
    async (form) => {
      const consent = valueOf(form, "consent");
      if (!consent) throw localProblems([["consent", "Choose whether your organisation may read the agreement"]]);
      try {
        await client(AgreementService).signAgreement({
          versionId: v.id,
          contentHash: v.contentHash,
          consentToShare: consent === "yes",
        });
      } catch (error) {
        // A newer version was written after this page was read: that one is what to sign.
        if (error instanceof ConnectError && error.code === Code.FailedPrecondition && /not the latest/.test(messageOf(error))) {
          throw new ConnectError(
            `A newer version of the agreement exists: version ${v.version} can no longer be signed. Reload the page to read the newest version before you sign.`,
            Code.FailedPrecondition,
          );
        }
        throw error;
      }
      await rerender();
    },
  );
}

async function agreementPage(context: PageContext): Promise<HTMLElement> {
  const me = context.me;
  const [{ case: c }, { versions }] = await Promise.all([
    client(ReferralService).getCase({ caseId: me.caseId }),
    client(AgreementService).getAgreement({ caseId: me.caseId }),
  ]);
  const latest = versions.at(-1);
  if (!c || !latest) {
    return context.frame(
      "Your agreement",
      backLink("/app", "Back to your mediation"),
      h("h1", {}, "Your agreement"),
      paragraph("Your mediators have not written an agreement yet.", "no-agreement"),
    );
  }
  const signed = ownSignature(latest, me);
  const canSign = !signed && !latest.final && (c.state === CaseState.SESSIONS_SCHEDULED || c.state === CaseState.IN_MEDIATION);
  const printButton = h("button", { class: "nhsuk-button nhsuk-button--secondary app-no-print", type: "button", id: "print" }, "Print the agreement");
  printButton.addEventListener("click", () => window.print());
  return context.frame(
    "Your agreement",
    backLink("/app", "Back to your mediation"),
    h("span", { class: "nhsuk-caption-l" }, `Case ${c.reference}`),
    h("h1", {}, "Your agreement"),
    summaryList([
      ["Version", `${latest.version} of ${versions.length}, written ${when(latest.createdAt)}`],
      ["Fingerprint (SHA-256)", latest.contentHash],
      [
        "Signatures",
        latest.final
          ? "Everyone has signed this version. It can no longer change."
          : `${latest.signatures.length} of the parties ${latest.signatures.length === 1 ? "has" : "have"} signed this version.`,
      ],
      ["Your signature", signed ? `Signed ${when(signed.signedAt)}${signed.onPaper ? ", on paper" : ""}; ${signed.consentToShare ? "you agreed" : "you did not agree"} to your organisation reading it` : "Not signed"],
    ]),
    h("section", { "aria-labelledby": "text-heading", id: "agreement-text" }, h("h2", { id: "text-heading" }, `The agreement, version ${latest.version}`), ...agreementText(latest, me)),
    printButton,
    canSign
      ? h("section", { "aria-labelledby": "sign-heading", class: "app-no-print" }, h("h2", { id: "sign-heading" }, "Sign the agreement"), signForm(latest))
      : signed || latest.final
        ? null
        : inset("The agreement can be signed only while mediation is under way."),
  );
}

export const partyRoutes: Route[] = [
  { pattern: /^\/app$/, roles: kParty, page: homePage },
  { pattern: /^\/app\/sessions\/([1-9][0-9]*)$/, roles: kParty, page: sessionPage },
  { pattern: /^\/app\/agreement$/, roles: kParty, page: agreementPage },
];
