// The audit trail (ADMIN): whether its hash chain is intact (VerifyAuditChain) and where it
// broke if not, then the audited calls, newest first, paged through ListAuditEvents' page
// tokens and filtered by token or by object.
import { Code, ConnectError } from "@connectrpc/connect";

import { type AuditEvent, AdminService, type VerifyAuditChainResponse } from "@gen/ppa/mediation/v1/admin_pb";
import { Role } from "@gen/ppa/mediation/v1/common_pb";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";

import { kAdminOnly, plural, scrolling } from "./admin_parts";
import { roleName } from "./admin_tokens";
import { client, messageOf } from "./api";
import { navigate, type PageContext, type Route, words } from "./app";
import { backLink, h, link, summaryList, table, tag, warningCallout } from "./dom";
import { actionForm, localProblems, problemsOf, showProblems, textInput, valueOf } from "./forms";
import { kAdminPageLinkIds, pageToken, pagination, paging } from "./paging";

const kPageSize = 25;

// "/ppa.mediation.v1.ReferralService/CreateReferral" -> "ReferralService/CreateReferral", with a
// line break allowed after the "/".
function method(name: string): HTMLElement {
  const [service, call] = name.replace(/^\/ppa\.mediation\.v1\./, "").split(/(?<=\/)(?=[^/]*$)/);
  return h("span", {}, service ?? "", call ? h("wbr") : null, call ?? "");
}

// An instant to the second in London time, short: "6 Dec 2026, 23:43:05".
function instant(timestamp: Timestamp | undefined): string {
  if (!timestamp) return "Not known";
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).format(timestampDate(timestamp));
}

function outcome(code: string): HTMLElement {
  return code === "OK" ? tag("OK", "green") : tag(words(code), code === "UNAUTHENTICATED" ? "orange" : "red");
}

function via(transport: string): string {
  if (transport === "grpc") return "gRPC";
  if (transport === "http") return "Connect over HTTP";
  return "Not recorded";
}

function objects(text: string): HTMLElement | string {
  if (!text) return "None";
  const list = text.split(" ").filter(Boolean);
  const parts: Array<Node | string> = [];
  list.forEach((w, i) => {
    if (i > 0) parts.push(" ");
    parts.push(link(`/app/admin/audit?object=${encodeURIComponent(w)}`, w));
  });
  return h("span", {}, ...parts);
}

function eventRow(e: AuditEvent): Array<Node | string> {
  return [
    String(e.id),
    instant(e.at),
    e.tokenId
      ? h(
          "span",
          {},
          link(`/app/admin/audit?token=${e.tokenId}`, `Token ${e.tokenId}`),
          e.role === Role.UNSPECIFIED ? null : ` (${roleName(e.role)})`,
        )
      : "Not signed in",
    method(e.method),
    objects(e.objects),
    outcome(e.outcome),
    via(e.transport),
  ];
}

function chainReport(check: VerifyAuditChainResponse): HTMLElement {
  if (check.intact) {
    return h(
      "div",
      { id: "chain" },
      h("p", { class: "nhsuk-body" }, tag("Intact", "green"), ` Every event links to the one before it: ${plural(check.rowsChecked, "event", "events")} checked.`),
      summaryList([["Hash of the latest event", check.headHash || "None (the trail is empty)"]]),
      h(
        "p",
        { class: "nhsuk-body" },
        "Keep this hash somewhere other than this server: if events are removed from the end of the trail, the hash will no longer match.",
      ),
    );
  }
  return h(
    "div",
    { id: "chain" },
    warningCallout(
      "The audit trail has been altered",
      h("p", { id: "chain-broken" }, `The chain breaks at event ${check.firstBrokenRow}: ${check.problem.replace(/^row \d+: /, "")}.`),
      `${plural(check.rowsChecked, "event was", "events were")} checked. Events from ${check.firstBrokenRow} onwards cannot be relied on. Tell your information governance lead, and restore from a backup taken before the change if you need to.`,
    ),
  );
}

async function auditPage(context: PageContext): Promise<HTMLElement> {
  const { query } = context;
  const tokenText = query.get("token") ?? "";
  const object = query.get("object") ?? "";
  const filterFields = [
    textInput("token_id", "Token number", {
      classes: "nhsuk-input--width-5",
      inputmode: "numeric",
      value: tokenText,
      hint: "Only the calls made with this token.",
    }),
    textInput("object", "Object", {
      classes: "nhsuk-input--width-20",
      value: object,
      hint: "Only the calls that touched it, written as kind:number, for example case:12 or token:3.",
    }),
  ];
  const filters = actionForm("audit-filter", filterFields, "Filter events", async (form) => {
    const wanted = readFilter(valueOf(form, "token_id"), valueOf(form, "object"));
    // The server checks the filter before the page is changed to it.
    await client(AdminService).listAuditEvents({ ...wanted, pageSize: 1 });
    const q = new URLSearchParams();
    if (wanted.tokenId) q.set("token", String(wanted.tokenId));
    if (wanted.object) q.set("object", wanted.object);
    navigate(q.toString() ? `/app/admin/audit?${q.toString()}` : "/app/admin/audit");
  }, "nhsuk-button--secondary");
  const filtered = Boolean(tokenText || object);

  const admin = client(AdminService);
  const check = await admin.verifyAuditChain({});
  let list: HTMLElement | null = null;
  let pages: HTMLElement | null = null;
  try {
    const wanted = readFilter(tokenText, object);
    const response = await admin.listAuditEvents({
      ...wanted,
      pageSize: kPageSize,
      pageToken: pageToken(query),
    });
    const p = paging("/app/admin/audit", query, response.nextPageToken, { back: "repeated", drop: ["revoked"] });
    const caption = filtered
      ? `Events${wanted.tokenId ? ` of token ${wanted.tokenId}` : ""}${wanted.object ? ` touching ${wanted.object}` : ""}, newest first`
      : "Events, newest first";
    list =
      response.events.length > 0
        ? scrolling(
            table(
              p.number > 1 ? `${caption} (page ${p.number})` : caption,
              ["Event", "When", "Who", "Call", "Objects", "Outcome", "Via"],
              response.events.map(eventRow),
              { id: "audit-events", class: "nhsuk-table nhsuk-u-font-size-16" },
            ),
          )
        : h("p", { class: "nhsuk-body", id: "no-events" }, "No events match.");
    pages = pagination(p, { ids: kAdminPageLinkIds, what: "Events" });
  } catch (error) {
    // A filter the server refuses (an address typed by hand): shown on the filter form.
    if (!(error instanceof ConnectError) || error.code !== Code.InvalidArgument) throw error;
    const form = filters.querySelector("form");
    const problems = filters.firstElementChild as HTMLElement;
    if (form) showProblems(form, problems, problemsOf(messageOf(error)));
  }

  return context.frame(
    "Audit trail",
    backLink("/app/admin", "Administration"),
    h("h1", {}, "Audit trail"),
    h(
      "p",
      { class: "nhsuk-body" },
      "Every change and every refused call is recorded: when, with which token, which call, what it touched and how it ended. What was sent is never recorded. Reading is not recorded, except reading confidential records.",
    ),
    h("h2", {}, "Is the trail intact?"),
    chainReport(check),
    h("h2", {}, "Events"),
    h(
      "details",
      { class: "nhsuk-details", open: filtered ? "" : undefined },
      h("summary", { class: "nhsuk-details__summary" }, h("span", { class: "nhsuk-details__summary-text" }, "Filter the events")),
      h("div", { class: "nhsuk-details__text" }, filters),
    ),
    filtered ? h("p", { class: "nhsuk-body" }, link("/app/admin/audit", "Show every event", { id: "clear-filter" })) : null,
    list,
    pages,
  );
}

// The filter as the request has it; a token number that is not one is refused here.
function readFilter(tokenText: string, object: string): { tokenId: bigint; object: string } {
  if (tokenText && !/^\d{1,18}$/.test(tokenText)) {
    throw localProblems([["token_id", "enter the token's number in digits, for example 3"]]);
  }
  return { tokenId: tokenText ? BigInt(tokenText) : 0n, object };
}

export const auditRoutes: Route[] = [
  { pattern: /^\/app\/admin\/audit$/, roles: kAdminOnly, page: auditPage },
];
