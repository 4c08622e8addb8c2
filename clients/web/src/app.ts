// The console's frame and the pieces every page shares: the route table's types, the page
// frame (the NHS header with who is signed in, the navigation the role may use, sign-out), the
// move between pages, and how values are put into words.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

import type { AccessToken } from "@gen/ppa/mediation/v1/admin_pb";
import { Role } from "@gen/ppa/mediation/v1/common_pb";

import { signOut } from "./api";
import { h } from "./dom";

export const kServiceName = "Assisted mediation";

// What a page is given: who is signed in, the parts of its address and the frame to draw in.
export interface PageContext {
  me: AccessToken;
  // The pattern's capture groups (match[1]...), as matched against the path.
  match: RegExpExecArray;
  query: URLSearchParams;
  frame: (title: string, ...content: Array<Node | null>) => HTMLElement;
}

// A page of the console: the paths it answers, the roles it is offered to (the server stays the
// authority) and how it is drawn.
export interface Route {
  pattern: RegExp;
  roles: Role[];
  page: (context: PageContext) => Promise<HTMLElement>;
}

export const kStaff = [Role.CASE_SUPPORT, Role.SENIOR_ADVISER];
export const kEveryStaffRole = [Role.CASE_SUPPORT, Role.SENIOR_ADVISER, Role.ADMIN];

// "CASE_SUPPORT" -> "Case support"; an unset value ("UNSPECIFIED") is not known.
export function words(name: string | undefined): string {
  if (!name || name === "UNSPECIFIED") return "Not known";
  const lower = name.toLowerCase().replace(/_/g, " ");
  return lower.charAt(0).toUpperCase() + lower.slice(1);
}

export function londonTime(date: Date): string {
  return new Intl.DateTimeFormat("en-GB", {
    dateStyle: "long",
    timeStyle: "short",
    timeZone: "Europe/London",
  }).format(date);
}

export function londonDate(date: Date): string {
  return new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeZone: "Europe/London" }).format(
    date,
  );
}

// A timestamp in London time, or "Not known" when unset.
export function when(timestamp: Timestamp | undefined): string {
  return timestamp ? londonTime(timestampDate(timestamp)) : "Not known";
}

// Pence as pounds and pence: 123456 -> "£1,234.56".
export function pounds(pence: bigint | number): string {
  const value = Number(pence) / 100;
  return new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" }).format(value);
}

let renderPage: () => Promise<void> = async () => {};

export function setRenderer(render: () => Promise<void>): void {
  renderPage = render;
}

export function navigate(path: string): void {
  window.history.pushState({}, "", path);
  void renderPage();
}

// Draws the current page again (after an action changed what it shows).
export function rerender(): Promise<void> {
  return renderPage();
}

// The sections of the console the role may use, for the header's navigation.
function sections(role: Role): Array<[string, string]> {
  const list: Array<[string, string]> = [];
  if (kStaff.includes(role)) {
    list.push(["/app", "Work queues"], ["/app/organisations", "Organisations"]);
    list.push(["/app/mediators", "Mediators"], ["/app/calendar", "Calendar"]);
  }
  if (role === Role.ADMIN) {
    list.push(["/app/admin", "Administration"], ["/app/mediators", "Mediators"]);
  }
  // The emails the service sends (NotificationService lists them for these two roles).
  if (role === Role.CASE_SUPPORT || role === Role.ADMIN) list.push(["/app/notifications", "Emails"]);
  if (kEveryStaffRole.includes(role)) list.push(["/app/statistics", "Statistics"]);
  if (role === Role.ORGANISATION) list.push(["/app", "Your cases"], ["/app/referrals/new", "Refer a case"]);
  if (role === Role.MEDIATOR) {
    list.push(["/app", "Your cases"], ["/app/calendar", "Calendar"], ["/app/availability", "Your availability"]);
  }
  if (role === Role.PARTY) list.push(["/app", "Your mediation"]);
  return list;
}

function signOutButton(): HTMLElement {
  const button = h(
    "button",
    { class: "nhsuk-header__account-button", type: "button", id: "sign-out" },
    "Sign out",
  );
  button.addEventListener("click", () => {
    sessionStorage.removeItem("signed-in");
    void signOut().then(() => navigate("/app/sign-in?message=You+have+signed+out."));
  });
  return button;
}

// The page frame: skip link, the NHS header with the service name, who is signed in, the
// navigation and sign-out, then the page's own content in <main>.
export function frame(
  title: string,
  me: AccessToken | undefined,
  ...content: Array<Node | null>
): HTMLElement {
  document.title = `${title} - ${kServiceName}`;
  const account = me
    ? h(
        "nav",
        { class: "nhsuk-header__account", "aria-label": "Account" },
        h(
          "ul",
          { class: "nhsuk-header__account-list" },
          h(
            "li",
            { class: "nhsuk-header__account-item", id: "signed-in-as" },
            // A party's token is the service's, made from their link: its label means nothing to them.
            me.role === Role.PARTY ? "Signed in with your link" : `${me.label} (${words(Role[me.role])})`,
          ),
          h("li", { class: "nhsuk-header__account-item" }, signOutButton()),
        ),
      )
    : null;
  const path = window.location.pathname;
  const links = me ? sections(me.role) : [];
  const navigation =
    links.length > 0
      ? h(
          "nav",
          { class: "nhsuk-header__navigation", "aria-label": "Menu" },
          h(
            "div",
            { class: "nhsuk-header__navigation-container nhsuk-width-container" },
            h(
              "ul",
              { class: "nhsuk-header__navigation-list" },
              ...links.map(([href, text]) => {
                const current = href === "/app" ? path === "/app" : path.startsWith(href);
                return h(
                  "li",
                  {
                    class: `nhsuk-header__navigation-item${current ? " nhsuk-header__navigation-item--current" : ""}`,
                  },
                  h(
                    "a",
                    {
                      class: "nhsuk-header__navigation-link",
                      href,
                      "aria-current": current ? "page" : undefined,
                    },
                    text,
                  ),
                );
              }),
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
      navigation,
    ),
    h(
      "div",
      { class: "nhsuk-width-container" },
      h(
        "main",
        { class: "nhsuk-main-wrapper", id: "main-content", role: "main", tabindex: "-1" },
        ...content,
      ),
    ),
  );
}
