// The emails the service sends (NotificationService), for case support and administrators:
//   /app/notifications          every email, newest first; ?state=<pending|sent|dead-letter|
//                               not-sent> and ?case=<id> narrow the list (a case's page links to
//                               its own)
//   /app/notifications/<id>     one email: who it is for, what it is about and how delivery went
//                               (never its text, which may hold a party's sign-in link), and
//                               "Send again" for one that failed or was not sent
import { Role } from "@gen/ppa/mediation/v1/common_pb";
import {
  type Notification,
  NotificationKind,
  NotificationService,
  NotificationState,
  RecipientRole,
} from "@gen/ppa/mediation/v1/notification_pb";

import { client } from "./api";
import { navigate, type PageContext, rerender, type Route, when } from "./app";
import { backLink, h, inset, link, summaryList, tag, type TagColour } from "./dom";
import { actionForm, button, select, valueOf } from "./forms";
import { noticeFor, responsiveTable, section, takeNotice } from "./page_parts";
import { kAdminPageLinkIds, pageToken, pagination, paging } from "./paging";

// NotificationService lists, reads and resends for these roles only.
const kEmailRoles = [Role.CASE_SUPPORT, Role.ADMIN];

const kPath = "/app/notifications";
const kPageSize = 25;

// Each state: its name in an address (as mediationctl spells it), in words, and its tag colour.
const kStates: Array<[NotificationState, string, string, TagColour]> = [
  [NotificationState.PENDING, "pending", "Waiting to send", "blue"],
  [NotificationState.SENT, "sent", "Sent", "green"],
  [NotificationState.DEAD_LETTER, "dead-letter", "Failed", "red"],
  [NotificationState.NOT_SENT, "not-sent", "Not sent", "orange"],
];

// What each state means, on an email's page.
const kStateMeanings: Partial<Record<NotificationState, string>> = {
  [NotificationState.PENDING]: "It is waiting for its time, or for its next try.",
  [NotificationState.SENT]: "The mail server accepted it.",
  [NotificationState.DEAD_LETTER]:
    "The mail server refused it for good, or every try failed. It is not tried again unless it is sent again.",
  [NotificationState.NOT_SENT]:
    "No mail server was set up when it was due (the server runs without --smtp_url), so it was not sent.",
};

const kKinds: Record<NotificationKind, string> = {
  [NotificationKind.UNSPECIFIED]: "Not known",
  [NotificationKind.ALLOCATION_OFFER]: "Offer of a case to a mediator",
  [NotificationKind.ALLOCATION_ANSWER]: "A mediator's answer to an offer",
  [NotificationKind.SESSION_INVITATION]: "Invitation to a session",
  [NotificationKind.SESSION_UPDATE]: "Session moved",
  [NotificationKind.SESSION_CANCELLATION]: "Session cancelled",
  [NotificationKind.SESSION_REMINDER]: "Reminder of a session",
  [NotificationKind.PARTY_SIGN_IN_LINK]: "Sign-in link for a party",
  [NotificationKind.AGREEMENT_READY]: "Agreement ready to sign",
  [NotificationKind.CASE_STATE_CHANGED]: "Case state changed",
};

function kindText(kind: NotificationKind): string {
  return kKinds[kind] ?? "Not known";
}

function stateText(state: NotificationState): string {
  return kStates.find(([s]) => s === state)?.[2] ?? "Not known";
}

function stateTag(state: NotificationState): HTMLElement {
  return tag(stateText(state), kStates.find(([s]) => s === state)?.[3] ?? "grey");
}

// Who the email is for, in words: "Party 2", "Case support team".
function recipientText(n: Notification): string {
  switch (n.recipientRole) {
    case RecipientRole.MEDIATOR:
      return `Mediator ${n.recipientId}`;
    case RecipientRole.PARTY:
      return `Party ${n.recipientId} of the case`;
    case RecipientRole.ORGANISATION:
      return `The referring organisation's contact (organisation ${n.recipientId})`;
    case RecipientRole.CASE_SUPPORT:
      return "Case support team";
    default:
      return "Not known";
  }
}

function addressText(n: Notification): string {
  return n.recipientEmail || "Removed with the case's personal data";
}

// "Sent 7 December 2026 at 09:30" or "Due ...".
function dueOrSent(n: Notification): string {
  return n.sentAt ? `Sent ${when(n.sentAt)}` : `Due ${when(n.dueAt)}`;
}

function canResend(n: Notification): boolean {
  return n.state === NotificationState.DEAD_LETTER || n.state === NotificationState.NOT_SENT;
}

// ---- The list ----------------------------------------------------------------------------

// The filter in the address: a state's name and a case id, or none.
function filterOf(query: URLSearchParams): { state: NotificationState; caseId: bigint } {
  const named = kStates.find(([, name]) => name === query.get("state"));
  const caseText = query.get("case") ?? "";
  return {
    state: named?.[0] ?? NotificationState.UNSPECIFIED,
    caseId: /^[1-9][0-9]{0,17}$/.test(caseText) ? BigInt(caseText) : 0n,
  };
}

function listAddress(state: string, caseId: bigint): string {
  const q = new URLSearchParams();
  if (caseId) q.set("case", String(caseId));
  if (state) q.set("state", state);
  return q.toString() ? `${kPath}?${q.toString()}` : kPath;
}

function filterForm(stateName: string, caseId: bigint): HTMLElement {
  const form = h(
    "form",
    { novalidate: "", id: "email-filter", class: "nhsuk-u-margin-bottom-4" },
    select("state", "State", [["", "Every state"], ...kStates.map(([, name, text]): [string, string] => [name, text])], {
      value: stateName,
    }),
    button("Show emails", { class: "nhsuk-button--secondary", id: "email-filter-submit" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(listAddress(valueOf(form, "state"), caseId));
  });
  return form;
}

function emailRow(n: Notification): Array<Node | string> {
  return [
    link(`${kPath}/${n.id}`, n.subject || `Email ${n.id}`, { id: `email-${n.id}` }),
    h("span", { class: "app-break-anywhere" }, addressText(n)),
    kindText(n.kind),
    stateTag(n.state),
    String(n.attempts),
    h("span", { class: "app-break-anywhere" }, n.lastResponse || "None yet"),
    dueOrSent(n),
  ];
}

async function listPage(context: PageContext): Promise<HTMLElement> {
  const { query } = context;
  const { state, caseId } = filterOf(query);
  const stateName = kStates.find(([s]) => s === state)?.[1] ?? "";
  const response = await client(NotificationService).listNotifications({
    pageSize: kPageSize,
    pageToken: pageToken(query),
    state,
    caseId,
  });
  const emails = response.notifications;
  const pages = paging(kPath, query, response.nextPageToken, { back: "repeated" });
  const reference = emails[0]?.caseReference;
  const about = caseId ? ` about case ${reference ?? caseId}` : "";
  const which = state === NotificationState.UNSPECIFIED ? "Emails" : `${stateText(state)} emails`;
  const caption = `${which}${about}, newest first${pages.number > 1 ? ` (page ${pages.number})` : ""}`;
  return context.frame(
    caseId ? `Emails about case ${reference ?? caseId}` : "Emails",
    caseId && context.me.role === Role.CASE_SUPPORT ? backLink(`/app/cases/${caseId}`, `Back to case ${reference ?? caseId}`) : null,
    caseId ? h("span", { class: "nhsuk-caption-l" }, `Case ${reference ?? caseId}`) : null,
    h("h1", {}, "Emails"),
    h(
      "p",
      { class: "nhsuk-body" },
      "Every email the service sends is kept here: who it is for, what it is about and how sending it went. Open one to read what it said (a party's sign-in link is never shown).",
    ),
    inset(
      "Failed: the mail server refused the email, or every try failed. Not sent: no mail server was set up when it was due, or it was a reminder for a session that had already started. Either kind can be sent again from the email's page, except a sign-in link: issue the party a new link on the case page instead.",
    ),
    filterForm(stateName, caseId),
    caseId ? h("p", { class: "nhsuk-body" }, link(listAddress(stateName, 0n), "Show emails about every case", { id: "every-case" })) : null,
    emails.length > 0
      ? responsiveTable(caption, ["Subject", "To", "Kind", "State", "Tries", "Last answer", "Due or sent"], emails.map(emailRow), {
          id: "emails",
          class: "nhsuk-table nhsuk-table--responsive nhsuk-u-font-size-16",
        })
      : h("p", { class: "nhsuk-body", id: "no-emails" }, "No emails match."),
    pagination(pages, { ids: kAdminPageLinkIds, what: "Emails" }),
  );
}

// ---- One email ---------------------------------------------------------------------------

function resendSection(n: Notification, path: string): HTMLElement {
  return section(
    "resend",
    "Send it again",
    h(
      "p",
      { class: "nhsuk-body" },
      `It goes to ${n.recipientEmail} again as it was written, with the same Message-ID, so a copy that did arrive is recognised as the same email. Its tries are counted from none again.`,
    ),
    actionForm("resend-form", [], "Send again", async () => {
      await client(NotificationService).resendNotification({ notificationId: n.id });
      noticeFor(path, `Email ${n.id} is queued to be sent again.`);
      await rerender();
    }),
  );
}

async function emailPage(context: PageContext): Promise<HTMLElement> {
  const id = BigInt(context.match[1]);
  const { notification: n } = await client(NotificationService).getNotification({ notificationId: id });
  if (!n) throw new Error("the server returned no email");
  const path = `${kPath}/${n.id}`;
  const staff = context.me.role === Role.CASE_SUPPORT;
  const rows: Array<[string, string | Node]> = [
    ["Subject", n.subject],
    ["To", addressText(n)],
    ["Who they are", recipientText(n)],
    ["Kind", kindText(n.kind)],
    ["Case", staff ? link(`/app/cases/${n.caseId}`, n.caseReference, { id: "email-case" }) : n.caseReference],
  ];
  if (n.sessionId) {
    rows.push(["Session", staff ? link(`/app/sessions/${n.sessionId}`, `Session ${n.sessionId}`, { id: "email-session" }) : `Session ${n.sessionId}`]);
  }
  rows.push(
    ["State", h("span", {}, stateTag(n.state), ` ${kStateMeanings[n.state] ?? ""}`)],
    ["Tries", String(n.attempts)],
    ["Last answer", n.lastResponse || "None yet"],
    ["Last try", n.lastAttemptAt ? when(n.lastAttemptAt) : "None yet"],
  );
  if (n.state === NotificationState.PENDING) rows.push(["Next try", when(n.nextAttemptAt)]);
  rows.push(["Written", when(n.createdAt)], ["Due", when(n.dueAt)]);
  if (n.sentAt) rows.push(["Sent", when(n.sentAt)]);
  rows.push(["Message-ID", n.messageId]);
  return context.frame(
    `Email ${n.id}`,
    backLink(kPath, "Back to emails"),
    takeNotice(path),
    h("span", { class: "nhsuk-caption-l" }, `Case ${n.caseReference}`),
    h("h1", {}, `Email ${n.id}`),
    summaryList(rows),
    n.text
      ? section("text", "What it said", h("pre", { class: "app-email-text", id: "email-text" }, n.text))
      : inset("Its text is no longer kept: a sign-in link's is erased once it has been tried, and every email's at the end of its case's retention."),
    canResend(n) && n.recipientEmail && n.kind !== NotificationKind.PARTY_SIGN_IN_LINK ? resendSection(n, path) : null,
    canResend(n) && n.kind === NotificationKind.PARTY_SIGN_IN_LINK
      ? inset("A sign-in link's email is not sent again: its code is not kept. Issue the party a new link on the case page, and it is emailed to them.")
      : null,
    canResend(n) && !n.recipientEmail ? inset("It cannot be sent again: its case's personal data was removed.") : null,
    h("p", { class: "nhsuk-body" }, link(listAddress("", n.caseId), "Every email about this case", { id: "case-emails" })),
  );
}

export const notificationRoutes: Route[] = [
  { pattern: /^\/app\/notifications$/, roles: kEmailRoles, page: listPage },
  { pattern: /^\/app\/notifications\/([1-9][0-9]{0,17})$/, roles: kEmailRoles, page: emailPage },
];
