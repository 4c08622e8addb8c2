// The web console: a page per URL below /app/, drawn from the API with the session cookie.
// The back button and a reload keep the page (history API); a call refused because the session
// ended returns to sign-in, which then comes back to the page.
import { timestampDate } from "@bufbuild/protobuf/wkt";

import { IdentityService } from "@gen/ppa/mediation/v1/admin_pb";
import { CaseState, ConcernLevel, Profession, Role } from "@gen/ppa/mediation/v1/common_pb";
import { type Case, ReferralService } from "@gen/ppa/mediation/v1/referral_pb";

import { client, isSignedOut, messageOf, signIn, signOut } from "./api";
import { errorSummary, h, summaryList } from "./dom";
import { referralForm } from "./referral_form";

const kServiceName = "Assisted mediation";

// "CASE_SUPPORT" -> "Case support"; an unset value ("UNSPECIFIED") is not known.
function words(name: string | undefined): string {
  if (!name || name === "UNSPECIFIED") return "Not known";
  const lower = name.toLowerCase().replace(/_/g, " ");
  return lower.charAt(0).toUpperCase() + lower.slice(1);
}

function londonTime(date: Date): string {
  return new Intl.DateTimeFormat("en-GB", {
    dateStyle: "long",
    timeStyle: "short",
    timeZone: "Europe/London",
  }).format(date);
}

function navigate(path: string): void {
  window.history.pushState({}, "", path);
  void render();
}

function signInPath(message: string): string {
  const next = window.location.pathname + window.location.search;
  return `/app/sign-in?${new URLSearchParams({ next, message }).toString()}`;
}

// The page frame: the NHS header with the service name, who is signed in and sign-out.
function frame(
  title: string,
  who: string | undefined,
  ...content: Array<Node | null>
): HTMLElement {
  document.title = `${title} - ${kServiceName}`;
  const account = who
    ? h(
        "nav",
        { class: "nhsuk-header__account", "aria-label": "Account" },
        h(
          "ul",
          { class: "nhsuk-header__account-list" },
          h("li", { class: "nhsuk-header__account-item", id: "signed-in-as" }, who),
          h(
            "li",
            { class: "nhsuk-header__account-item" },
            signOutButton(),
          ),
        ),
      )
    : null;
  return h(
    "div",
    {},
    h("a", { class: "nhsuk-skip-link", href: "#main-content" }, "Skip to main content"),
    h(
      "header",
      { class: "nhsuk-header", role: "banner" },
      h(
        "div",
        { class: "nhsuk-header__container nhsuk-width-container" },
        h(
          "div",
          { class: "nhsuk-header__service" },
          h("a", { class: "nhsuk-header__service-name", href: "/app" }, kServiceName),
        ),
        account,
      ),
    ),
    h(
      "div",
      { class: "nhsuk-width-container" },
      h(
        "main",
        { class: "nhsuk-main-wrapper", id: "main-content", role: "main" },
        ...content,
      ),
    ),
  );
}

function signOutButton(): HTMLElement {
  const button = h(
    "button",
    { class: "nhsuk-header__account-button", type: "button", id: "sign-out" },
    "Sign out",
  );
  button.addEventListener("click", () => {
    void signOut().then(() => navigate("/app/sign-in?message=You+have+signed+out."));
  });
  return button;
}

function show(page: HTMLElement): void {
  const root = document.getElementById("app");
  if (root) root.replaceChildren(page);
}

async function whoAmI(): Promise<string> {
  const me = await client(IdentityService).whoAmI({});
  const token = me.token;
  return `${token?.label ?? ""} (${words(Role[token?.role ?? 0])})`;
}

function signInPage(): HTMLElement {
  const params = new URLSearchParams(window.location.search);
  const message = params.get("message");
  const next = params.get("next");
  const input = h("input", {
    class: "nhsuk-input",
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
  }) as HTMLInputElement;
  const problems = h("div", {});
  const form = h(
    "form",
    { novalidate: "" },
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: "token" }, "Access token"),
      h(
        "div",
        { class: "nhsuk-hint", id: "token-hint" },
        "The token you were given, starting ppa_. It is exchanged for a session and not kept in this browser.",
      ),
      input,
    ),
    h("button", { class: "nhsuk-button", type: "submit" }, "Sign in"),
  );
  input.setAttribute("aria-describedby", "token-hint");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = input.value.trim();
    const fail = (text: string) => {
      const summary = errorSummary([{ text, field: "token" }]);
      problems.replaceChildren(summary);
      summary.focus();
    };
    if (!token) return fail("Enter your access token");
    void signIn(token).then((refused) => {
      input.value = "";
      if (refused) return fail(refused);
      navigate(next && next.startsWith("/app") && !next.startsWith("/app/sign-in") ? next : "/app");
    });
  });
  return frame(
    "Sign in",
    undefined,
    problems,
    h("h1", {}, "Sign in"),
    message ? h("p", { class: "nhsuk-body", id: "sign-in-message" }, message) : null,
    form,
  );
}

function homePage(who: string): HTMLElement {
  const input = h("input", {
    class: "nhsuk-input nhsuk-input--width-10",
    id: "case-id",
    name: "case-id",
    inputmode: "numeric",
  }) as HTMLInputElement;
  const form = h(
    "form",
    { novalidate: "" },
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: "case-id" }, "Case number"),
      input,
    ),
    h("button", { class: "nhsuk-button", type: "submit" }, "Open the case"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = input.value.trim();
    if (/^[1-9][0-9]*$/.test(id)) navigate(`/app/cases/${id}`);
  });
  return frame(
    "Cases",
    who,
    h("h1", {}, "Cases"),
    form,
    h(
      "p",
      { class: "nhsuk-body" },
      h("a", { href: "/app/referrals/new", id: "record-referral" }, "Record a referral"),
    ),
  );
}

function casePage(who: string, c: Case): HTMLElement {
  const created = c.createdAt ? londonTime(timestampDate(c.createdAt)) : "Not known";
  const parties = h(
    "table",
    { class: "nhsuk-table" },
    h("caption", { class: "nhsuk-table__caption" }, "Parties"),
    h(
      "thead",
      { class: "nhsuk-table__head" },
      h(
        "tr",
        { class: "nhsuk-table__row" },
        h("th", { class: "nhsuk-table__header", scope: "col" }, "Name"),
        h("th", { class: "nhsuk-table__header", scope: "col" }, "Job title"),
        h("th", { class: "nhsuk-table__header", scope: "col" }, "Profession"),
      ),
    ),
    h(
      "tbody",
      { class: "nhsuk-table__body" },
      ...c.parties.map((p) =>
        h(
          "tr",
          { class: "nhsuk-table__row" },
          h("td", { class: "nhsuk-table__cell" }, p.contact?.name ?? ""),
          h("td", { class: "nhsuk-table__cell" }, p.contact?.jobTitle ?? ""),
          h("td", { class: "nhsuk-table__cell" }, words(Profession[p.profession])),
        ),
      ),
    ),
  );
  return frame(
    `Case ${c.reference}`,
    who,
    h("a", { class: "nhsuk-back-link", href: "/app" }, "Back to cases"),
    h("h1", {}, `Case ${c.reference}`),
    summaryList([
      ["Reference", c.reference],
      ["State", words(CaseState[c.state])],
      ["Concern level", words(ConcernLevel[c.concernLevel])],
      ["Referred by", c.referrer?.name ?? ""],
      ["Referred on", created],
      ["Summary", c.summary],
    ]),
    parties,
  );
}

function problemPage(who: string | undefined, title: string, text: string): HTMLElement {
  return frame(title, who, h("h1", {}, title), h("p", { class: "nhsuk-body" }, text));
}

async function render(): Promise<void> {
  const path = window.location.pathname.replace(/\/+$/, "") || "/app";
  if (path === "/app/sign-in") return show(signInPage());
  try {
    const who = await whoAmI();
    const match = /^\/app\/cases\/([1-9][0-9]*)$/.exec(path);
    if (match) {
      const response = await client(ReferralService).getCase({ caseId: BigInt(match[1]) });
      if (response.case) return show(casePage(who, response.case));
    }
    if (path === "/app/referrals/new") {
      return show(
        await referralForm(
          (title, ...content) => frame(title, who, ...content),
          (id) => navigate(`/app/cases/${id}`),
        ),
      );
    }
    if (path === "/app" || path === "") return show(homePage(who));
    show(problemPage(who, "Page not found", "There is no page at this address."));
  } catch (error) {
    if (isSignedOut(error)) {
      window.history.replaceState({}, "", signInPath("Sign in to continue."));
      return show(signInPage());
    }
    show(problemPage(undefined, "The server refused", messageOf(error)));
  }
}

window.addEventListener("popstate", () => void render());
// Links within the console change the page without reloading it.
document.addEventListener("click", (event) => {
  const link = (event.target as Element | null)?.closest?.("a");
  const href = link?.getAttribute("href");
  if (!link || !href || !href.startsWith("/app") || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  navigate(href);
});
if (window.location.pathname === "/") window.history.replaceState({}, "", "/app");
void render();
