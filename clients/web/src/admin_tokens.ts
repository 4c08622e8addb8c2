// Access tokens (ADMIN): the list, paged through ListTokens' page tokens; issuing a token, whose
// secret is shown once on the page and never put in an address, a title or browser storage; and
// revoking a token after a confirmation.
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";

import { type AccessToken, AdminService } from "@gen/ppa/mediation/v1/admin_pb";
import { Role } from "@gen/ppa/mediation/v1/common_pb";
import { MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";

import { buttonLink, kAdminOnly, kDateInNumbers, replacePage, scrolling } from "./admin_parts";
import { client } from "./api";
import { navigate, type PageContext, type Route, when, words } from "./app";
import { addDays, londonDayStart } from "./dates";
import { backLink, h, inset, link, successBanner, summaryList, table, tag, warningCallout } from "./dom";
import { actionForm, dateInput, dateOf, localProblems, textInput, valueOf } from "./forms";
import { copyBox } from "./page_parts";
import { kAdminPageLinkIds, pageToken, pagination, paging } from "./paging";

const kPageSize = 20;

// The roles a token can have, with what the holder does (shown as each radio's hint).
const kRoleChoices: Array<[Role, string, string]> = [
  [Role.CASE_SUPPORT, "Case support", "Takes referrals, records screening answers, allocates mediators and books sessions."],
  [Role.SENIOR_ADVISER, "Senior adviser", "Confirms or overrides screening decisions and gives the indication of charges."],
  [Role.MEDIATOR, "Mediator", "An accredited mediator: sees only the cases allocated to them."],
  [Role.ORGANISATION, "Organisation", "A requesting organisation: sees only its own cases."],
  [Role.PARTY, "Party", "A practitioner in a mediation: sees only their own sessions and agreement."],
  [Role.ADMIN, "Administrator", "Manages tokens, the audit trail, backups and the fee schedule."],
];

export function roleName(role: Role): string {
  return kRoleChoices.find(([r]) => r === role)?.[1] ?? words(Role[role]);
}

// What a token is bound to, in words: "Mediator 3", "Organisation 1", "Case 2, party 5".
function boundTo(t: AccessToken): string {
  if (t.mediatorId) return `Mediator ${t.mediatorId}`;
  if (t.organisationId) return `Organisation ${t.organisationId}`;
  if (t.caseId) return `Case ${t.caseId}, party ${t.partyId}`;
  return "Not bound";
}

function isExpired(t: AccessToken): boolean {
  return t.expiresAt !== undefined && timestampDate(t.expiresAt) <= new Date();
}

function status(t: AccessToken): HTMLElement {
  if (t.revokedAt) return h("span", {}, tag("Revoked", "red"), ` ${when(t.revokedAt)}`);
  if (isExpired(t)) return h("span", {}, tag("Expired", "grey"), ` ${when(t.expiresAt)}`);
  if (t.expiresAt) return h("span", {}, tag("Active", "green"), ` until ${when(t.expiresAt)}`);
  return tag("Active", "green");
}

// The token revoked last in this browser tab, for the list's banner to name.
let lastRevoked: AccessToken | undefined;

// ---- The list ----

async function tokensPage(context: PageContext): Promise<HTMLElement> {
  const { query } = context;
  const all = query.get("all") === "1";
  const response = await client(AdminService).listTokens({
    pageSize: kPageSize,
    pageToken: pageToken(query),
    includeInactive: all,
  });
  const pages = paging("/app/admin/tokens", query, response.nextPageToken, { back: "repeated", drop: ["revoked"] });
  const revokedId = query.get("revoked");
  const revoked = lastRevoked && String(lastRevoked.id) === revokedId ? lastRevoked : undefined;
  const banner = revokedId
    ? successBanner(
        revoked
          ? `Token ${revokedId} (${revoked.label}) is revoked`
          : `Token ${revokedId} is revoked`,
        ["It no longer works: anyone using it has been signed out."],
      )
    : null;

  const rows = response.tokens.map((t) => [
    String(t.id),
    t.id === context.me.id ? `${t.label} (you)` : t.label,
    roleName(t.role),
    boundTo(t),
    when(t.createdAt),
    status(t),
    h(
      "span",
      {},
      link(`/app/admin/audit?token=${t.id}`, "Activity", { id: `activity-${t.id}` }),
      h("span", { class: "nhsuk-u-visually-hidden" }, ` of token ${t.id}`),
      !t.revokedAt && !isExpired(t) ? " " : null,
      !t.revokedAt && !isExpired(t)
        ? h(
            "a",
            { href: `/app/admin/tokens/${t.id}/revoke`, id: `revoke-${t.id}` },
            "Revoke",
            h("span", { class: "nhsuk-u-visually-hidden" }, ` token ${t.id}`),
          )
        : null,
    ),
  ]);
  const caption = all ? "All tokens, newest first" : "Tokens that work, newest first";
  return context.frame(
    "Access tokens",
    backLink("/app/admin", "Administration"),
    banner,
    h("h1", {}, "Access tokens"),
    h(
      "p",
      { class: "nhsuk-body" },
      "Everyone who uses the service signs in with a token. A token has one role, and a mediator's, organisation's or party's token is bound to who they are.",
    ),
    buttonLink("/app/admin/tokens/new", "Issue a token", { id: "issue-token" }),
    h(
      "p",
      { class: "nhsuk-body" },
      all
        ? link("/app/admin/tokens", "Show only tokens that work", { id: "filter-tokens" })
        : link("/app/admin/tokens?all=1", "Show revoked and expired tokens too", { id: "filter-tokens" }),
    ),
    rows.length > 0
      ? scrolling(
          table(caption, ["Token", "Label", "Role", "Bound to", "Issued", "Status", "Action"], rows, {
            id: "tokens",
          }),
        )
      : h("p", { class: "nhsuk-body", id: "no-tokens" }, "There are no tokens on this page."),
    pagination(pages, { ids: kAdminPageLinkIds, what: "Tokens" }),
  );
}

// ---- Issuing ----

// A radio with a conditionally revealed part (NHS conditional reveal, done here without the
// design system's script: the part is shown while its radio is checked).
function roleRadios(
  mediators: Array<[string, string]>,
  organisations: Array<[string, string]>,
): HTMLElement {
  const reveal: Partial<Record<Role, HTMLElement>> = {
    [Role.MEDIATOR]:
      mediators.length > 0
        ? bindingSelect("mediator_id", "Which mediator", mediators)
        : inset(
            h(
              "p",
              {},
              "No mediators are registered yet. ",
              link("/app/mediators", "Register the mediator"),
              " before issuing their token.",
            ),
          ),
    [Role.ORGANISATION]:
      organisations.length > 0
        ? bindingSelect("organisation_id", "Which organisation", organisations)
        : inset(
            h(
              "p",
              {},
              "No organisations are registered yet. ",
              link("/app/organisations", "Register the organisation"),
              " before issuing its token.",
            ),
          ),
    [Role.PARTY]: h(
      "div",
      {},
      textInput("case_id", "Case number", { classes: "nhsuk-input--width-5", inputmode: "numeric" }),
      textInput("party_id", "Party number", {
        classes: "nhsuk-input--width-5",
        inputmode: "numeric",
        hint: "The party's number in the case's record.",
      }),
    ),
  };
  const conditionals: HTMLElement[] = [];
  const items = kRoleChoices.map(([role, text, hint], index) => {
    const id = index === 0 ? "role" : `role-${index + 1}`;
    const part = reveal[role];
    const conditional = part
      ? h(
          "div",
          {
            class: "nhsuk-radios__conditional nhsuk-radios__conditional--hidden",
            id: `conditional-${id}`,
            // The design system hides the class only with its own script running; `hidden`
            // hides it here.
            hidden: "",
          },
          part,
        )
      : null;
    if (conditional) conditionals.push(conditional);
    return [
      h(
        "div",
        { class: "nhsuk-radios__item" },
        h("input", {
          class: "nhsuk-radios__input",
          id,
          name: "role",
          type: "radio",
          value: String(role),
          "aria-describedby": `${id}-item-hint`,
          "aria-controls": conditional ? `conditional-${id}` : undefined,
        }),
        h("label", { class: "nhsuk-label nhsuk-radios__label", for: id }, text),
        h("div", { class: "nhsuk-hint nhsuk-radios__hint", id: `${id}-item-hint` }, hint),
      ),
      conditional,
    ];
  });
  const radios = h("div", { class: "nhsuk-radios nhsuk-radios--conditional" }, ...items.flat());
  radios.addEventListener("change", () => {
    for (const c of conditionals) {
      const input = radios.querySelector<HTMLInputElement>(`[aria-controls="${c.id}"]`);
      c.classList.toggle("nhsuk-radios__conditional--hidden", !input?.checked);
      c.hidden = !input?.checked;
    }
  });
  return h(
    "div",
    { class: "nhsuk-form-group", id: "role-group" },
    h(
      "fieldset",
      { class: "nhsuk-fieldset" },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, "Role"),
      radios,
    ),
  );
}

function bindingSelect(id: string, label: string, choices: Array<[string, string]>): HTMLElement {
  return h(
    "div",
    { class: "nhsuk-form-group", id: `${id}-group` },
    h("label", { class: "nhsuk-label", for: id }, label),
    h(
      "select",
      { class: "nhsuk-select", id, name: id },
      h("option", { value: "" }, "Choose one"),
      ...choices.map(([value, text]) => h("option", { value }, text)),
    ),
  );
}

// A positive whole number typed into a field, or a problem.
function readId(form: HTMLElement, id: string, problems: Array<[string, string]>): bigint {
  const text = valueOf(form, id);
  if (text === "") return 0n;
  if (!/^\d{1,18}$/.test(text)) {
    problems.push([id, "enter the number in digits"]);
    return 0n;
  }
  return BigInt(text);
}

async function issuePage(context: PageContext): Promise<HTMLElement> {
  // Everything the lists hold (up to 500 of each), by name, for the bindings.
  const [mediators, organisations] = await Promise.all([
    client(MediatorService).listMediators({ pageSize: 500 }),
    client(OrganisationService).listOrganisations({ pageSize: 500 }),
  ]);
  const form = actionForm(
    "issue-form",
    [
      roleRadios(
        mediators.mediators.map((m) => [String(m.id), `${m.contact?.name ?? "No name"} (mediator ${m.id})`]),
        organisations.organisations.map((o) => [String(o.id), o.name]),
      ),
      textInput("label", "Whose token this is", {
        hint: "Their name and what the token is for, for example Jane Doe, case support. At most 200 characters.",
      }),
      dateInput("expires_at", "Expiry date (optional)", {
        hint: "The token stops working at the end of this day, UK time. Leave it blank for a token that does not expire. For example, 31 3 2027",
      }),
    ],
    "Issue token",
    async (f) => {
      const problems: Array<[string, string]> = [];
      const role = Number(valueOf(f, "role") || "0") as Role;
      const { date: expiry, problem } = dateOf(f, "expires_at", { format: kDateInNumbers, unreal: "must be a real date" });
      if (problem) problems.push(["expires_at", problem]);
      const bound = {
        mediatorId: role === Role.MEDIATOR ? BigInt(valueOf(f, "mediator_id") || "0") : 0n,
        organisationId: role === Role.ORGANISATION ? BigInt(valueOf(f, "organisation_id") || "0") : 0n,
        caseId: role === Role.PARTY ? readId(f, "case_id", problems) : 0n,
        partyId: role === Role.PARTY ? readId(f, "party_id", problems) : 0n,
      };
      if (problems.length > 0) throw localProblems(problems);
      const issued = await client(AdminService).issueToken({
        role,
        label: valueOf(f, "label"),
        ...bound,
        // The token works to the end of the day given.
        expiresAt: expiry ? timestampFromDate(londonDayStart(addDays(expiry, 1))) : undefined,
      });
      if (!issued.token) throw new ConnectError("the server did not return the token", Code.Internal);
      replacePage(issuedPage(context, issued.token, issued.secret));
    },
  );
  return context.frame(
    "Issue an access token",
    backLink("/app/admin/tokens", "Access tokens"),
    h("h1", {}, "Issue an access token"),
    h(
      "p",
      { class: "nhsuk-body" },
      "The token is shown once, when it is issued. Give it to its holder in a secure way.",
    ),
    form,
  );
}

// The issued token and its secret: drawn in place of the form (the address stays), so a reload
// or the back button never shows the secret again.
function issuedPage(context: PageContext, token: AccessToken, secret: string): HTMLElement {
  return context.frame(
    "Token issued",
    h("h1", {}, "Token issued"),
    warningCallout(
      "Copy the token now",
      "This is the only time it is shown: it is kept only as a fingerprint and cannot be shown again. If it is lost, revoke it and issue a new one.",
    ),
    copyBox(
      "secret",
      `Token for ${token.label}`,
      "Give it to its holder in a secure way, never in the same message as their name.",
      secret,
      "Copy token",
    ),
    summaryList([
      ["Token number", String(token.id)],
      ["Label", token.label],
      ["Role", roleName(token.role)],
      ["Bound to", boundTo(token)],
      ["Expires", token.expiresAt ? when(token.expiresAt) : "Never"],
    ]),
    h(
      "p",
      { class: "nhsuk-body" },
      link("/app/admin/tokens", "Back to access tokens", { id: "back-to-tokens" }),
    ),
    h("p", { class: "nhsuk-body" }, link("/app/admin/tokens/new", "Issue another token")),
  );
}

// ---- Revoking ----

// The token with this id: ListTokens is searched page by page (there is no GetToken).
async function findToken(id: bigint): Promise<AccessToken> {
  let token = "";
  for (;;) {
    const page = await client(AdminService).listTokens({ pageSize: 500, pageToken: token, includeInactive: true });
    const found = page.tokens.find((t) => t.id === id);
    if (found) return found;
    if (!page.nextPageToken) throw new ConnectError(`There is no token ${id}.`, Code.NotFound);
    token = page.nextPageToken;
  }
}

async function revokePage(context: PageContext): Promise<HTMLElement> {
  const id = BigInt(context.match[1]);
  const token = await findToken(id);
  const details = summaryList([
    ["Token number", String(token.id)],
    ["Label", token.label],
    ["Role", roleName(token.role)],
    ["Bound to", boundTo(token)],
    ["Issued", when(token.createdAt)],
    ["Expires", token.expiresAt ? when(token.expiresAt) : "Never"],
  ]);
  if (token.revokedAt || isExpired(token)) {
    const title = `Token ${id} no longer works`;
    return context.frame(
      title,
      backLink("/app/admin/tokens", "Access tokens"),
      h("h1", {}, title),
      h(
        "p",
        { class: "nhsuk-body", id: "already" },
        token.revokedAt ? `It was revoked ${when(token.revokedAt)}.` : `It expired ${when(token.expiresAt)}.`,
      ),
      details,
    );
  }
  const self = token.id === context.me.id;
  const title = `Revoke token ${id}?`;
  return context.frame(
    title,
    backLink("/app/admin/tokens", "Access tokens"),
    h("h1", {}, title),
    details,
    warningCallout(
      "This cannot be undone",
      "Whoever holds this token is signed out straight away and cannot sign in with it again. To give them access again, issue a new token.",
      ...(self ? ["This is the token you are signed in with: revoking it signs you out."] : []),
    ),
    actionForm(
      "revoke-form",
      [],
      "Revoke token",
      async () => {
        const revoked = await client(AdminService).revokeToken({ tokenId: id });
        lastRevoked = revoked.token;
        if (self) navigate("/app/sign-in?message=Your+token+is+revoked.");
        else navigate(`/app/admin/tokens?revoked=${id}`);
      },
      "nhsuk-button--warning",
    ),
    h("p", { class: "nhsuk-body" }, link("/app/admin/tokens", "Cancel, keep the token", { id: "cancel" })),
  );
}

export const tokenRoutes: Route[] = [
  { pattern: /^\/app\/admin\/tokens$/, roles: kAdminOnly, page: tokensPage },
  { pattern: /^\/app\/admin\/tokens\/new$/, roles: kAdminOnly, page: issuePage },
  { pattern: /^\/app\/admin\/tokens\/(\d{1,18})\/revoke$/, roles: kAdminOnly, page: revokePage },
];
