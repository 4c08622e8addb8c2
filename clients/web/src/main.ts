// The web console: a page per URL below /app/, drawn from the API with the session cookie.
// The back button and a reload keep the page (history API); a call refused because the session
// ended returns to sign-in, which then comes back to the page.
import { Code, ConnectError } from "@connectrpc/connect";

import { IdentityService } from "@gen/ppa/mediation/v1/admin_pb";
import { Role } from "@gen/ppa/mediation/v1/common_pb";

import { adminRoutes } from "./admin";
import { client, isSignedOut, messageOf, sessionGoneMessage, signIn } from "./api";
import { frame, navigate, type Route, setRenderer } from "./app";
import { allocationRoutes } from "./allocation";
import { caseRoutes } from "./cases";
import { errorSummary, h } from "./dom";
import { mediatorConsoleRoutes } from "./mediator_console";
import { mediatorWorkRoutes } from "./mediator_work";
import { mediatorRoutes } from "./mediators";
import { notificationRoutes } from "./notifications";
import { organisationConsoleRoutes } from "./organisation_console";
import { organisationRoutes } from "./organisations";
import { joinPage, partyRoutes } from "./party_console";
import { schedulingRoutes } from "./scheduling";
import { screeningRoutes } from "./screening";

const kRoutes: Route[] = [
  ...caseRoutes,
  ...screeningRoutes,
  ...allocationRoutes,
  ...schedulingRoutes,
  ...organisationRoutes,
  ...mediatorRoutes,
  ...mediatorWorkRoutes,
  ...adminRoutes,
  ...notificationRoutes,
  ...mediatorConsoleRoutes,
  ...organisationConsoleRoutes,
  ...partyRoutes,
];

function signInPath(message: string): string {
  const next = window.location.pathname + window.location.search;
  return `/app/sign-in?${new URLSearchParams({ next, message }).toString()}`;
}

function show(page: HTMLElement): void {
  const root = document.getElementById("app");
  if (root) root.replaceChildren(page);
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
    "aria-describedby": "token-hint",
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
      sessionStorage.setItem("signed-in", "1");
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

function problemPage(title: string, text: string, me?: Parameters<typeof frame>[1]): HTMLElement {
  return frame(title, me, h("h1", {}, title), h("p", { class: "nhsuk-body", id: "problem" }, text));
}

let rendering = 0;

async function render(): Promise<void> {
  const generation = ++rendering;
  const path = window.location.pathname.replace(/\/+$/, "") || "/app";
  if (path === "/app/sign-in") return show(signInPage());
  if (path === "/app/join") return show(joinPage());
  let me: Parameters<typeof frame>[1];
  try {
    me = (await client(IdentityService).whoAmI({})).token;
    if (!me) throw new Error("the server did not say who is signed in");
    const signedIn = me;
    // Administrators start at the administration pages.
    if (path === "/app" && me.role === Role.ADMIN) {
      window.history.replaceState({}, "", "/app/admin");
      return render();
    }
    // Several roles may have their own page at one address (/app, /app/cases/12): the first
    // route of the caller's role is drawn.
    const matching = kRoutes.filter((route) => route.pattern.test(path));
    const route = matching.find((r) => r.roles.includes(signedIn.role));
    if (matching.length > 0 && !route) {
      return show(problemPage("Not available to your role", "This page is not offered to your role.", me));
    }
    if (route) {
      const match = route.pattern.exec(path)!;
      const page = await route.page({
        me: signedIn,
        match,
        query: new URLSearchParams(window.location.search),
        frame: (title, ...content) => frame(title, signedIn, ...content),
      });
      // A later navigation drew its page while this one waited: keep that one.
      if (generation !== rendering) return;
      show(page);
      document.getElementById("main-content")?.focus({ preventScroll: true });
      return;
    }
    show(problemPage("Page not found", "There is no page at this address.", me));
  } catch (error) {
    if (generation !== rendering) return;
    if (isSignedOut(error)) {
      window.history.replaceState({}, "", signInPath(sessionGoneMessage()));
      return show(signInPage());
    }
    if (error instanceof ConnectError && error.code === Code.NotFound) {
      return show(problemPage("Not found", messageOf(error), me));
    }
    if (error instanceof ConnectError && error.code === Code.PermissionDenied) {
      return show(problemPage("Not available to your role", messageOf(error), me));
    }
    show(problemPage("The server could not show this page", messageOf(error), me));
  }
}

setRenderer(render);
window.addEventListener("popstate", () => void render());
// Links within the console change the page without reloading it.
document.addEventListener("click", (event) => {
  const link = (event.target as Element | null)?.closest?.("a");
  const href = link?.getAttribute("href");
  if (!link || !href || !href.startsWith("/app") || event.ctrlKey || event.metaKey) return;
  if (link.hasAttribute("download")) return;
  event.preventDefault();
  navigate(href);
});
if (window.location.pathname === "/") window.history.replaceState({}, "", "/app");
void render();
