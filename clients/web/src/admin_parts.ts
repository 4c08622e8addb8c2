// Pieces the administration pages share: NHS components the shared modules do not have yet
// (pagination, date input, notification banner, money input, SVG), paging through a list with
// its page tokens in the address, and refusing a form's input in the server's own format.
import { Code, ConnectError } from "@connectrpc/connect";

import { Role } from "@gen/ppa/mediation/v1/common_pb";

import { h } from "./dom";

export const kAdminOnly = [Role.ADMIN];

// Refuses a form's input before it goes to the server, in the words and format of the server's
// own INVALID_ARGUMENT ("<field>: <problem>; ..."), so onSubmit shows each problem in the error
// summary, linked to its field.
export function refusal(problems: Array<[string, string]>): ConnectError {
  return new ConnectError(problems.map(([f, t]) => `${f}: ${t}`).join("; "), Code.InvalidArgument);
}

// Draws `page` in place of the current one without changing the address: for what must not be
// put in a URL (a token's secret), or a result only this visit shows.
export function replacePage(page: HTMLElement): void {
  document.getElementById("app")?.replaceChildren(page);
  document.getElementById("main-content")?.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

// ---- SVG ----

const kSvgNs = "http://www.w3.org/2000/svg";

// An SVG element; text goes in as text (textContent), never as markup.
export function svg(
  tag: string,
  attributes: Record<string, string | number | undefined> = {},
  ...children: Array<SVGElement | string>
): SVGElement {
  const element = document.createElementNS(kSvgNs, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    element.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return element;
}

function arrow(direction: "left" | "right"): SVGElement {
  const d =
    direction === "left"
      ? "M10.7 6.3c.4.4.4 1 0 1.4L7.4 11H19a1 1 0 0 1 0 2H7.4l3.3 3.3c.4.4.4 1 0 1.4a1 1 0 0 1-1.4 0l-5-5A1 1 0 0 1 4 12c0-.3.1-.5.3-.7l5-5a1 1 0 0 1 1.4 0Z"
      : "m14.7 6.3 5 5c.2.2.3.4.3.7 0 .3-.1.5-.3.7l-5 5a1 1 0 0 1-1.4-1.4l3.3-3.3H5a1 1 0 0 1 0-2h11.6l-3.3-3.3a1 1 0 1 1 1.4-1.4Z";
  return svg(
    "svg",
    {
      class: `nhsuk-icon nhsuk-icon--arrow-${direction}`,
      viewBox: "0 0 24 24",
      width: 16,
      height: 16,
      focusable: "false",
      "aria-hidden": "true",
    },
    svg("path", { d }),
  );
}

// ---- Paging through a list ----
//
// The address carries the page token of the page shown (`page`) and those of the pages before it
// (`back`, repeated; "" for the first page), so Previous and Next are plain links, the back
// button and a reload keep the page, and nothing is kept in the browser.

export interface Paging {
  pageToken: string;
  previousHref?: string;
  nextHref?: string;
  // The number of the page shown, from 1.
  number: number;
}

export function paging(
  path: string,
  query: URLSearchParams,
  nextPageToken: string | undefined,
): Paging {
  const pageToken = query.get("page") ?? "";
  const back = query.getAll("back");
  const href = (token: string, stack: string[]) => {
    const q = new URLSearchParams(query);
    q.delete("page");
    q.delete("back");
    // Other parameters that only say what happened last time (a banner) are not carried on.
    q.delete("revoked");
    if (token) q.set("page", token);
    for (const b of stack) q.append("back", b);
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  };
  return {
    pageToken,
    number: pageToken ? back.length + 1 : 1,
    previousHref: pageToken ? href(back[back.length - 1] ?? "", back.slice(0, -1)) : undefined,
    nextHref: nextPageToken ? href(nextPageToken, [...back, pageToken]) : undefined,
  };
}

// NHS pagination (previous and next links) for `p`; null when there is only one page.
export function pagination(p: Paging, what: string): HTMLElement | null {
  if (!p.previousHref && !p.nextHref) return null;
  const item = (kind: "previous" | "next", href: string, text: string) =>
    h(
      "li",
      { class: `nhsuk-pagination-item--${kind}` },
      h(
        "a",
        {
          class: `nhsuk-pagination__link nhsuk-pagination__link--${kind === "previous" ? "prev" : "next"}`,
          href,
          rel: kind === "previous" ? "prev" : "next",
          id: `${kind}-page`,
        },
        h("span", { class: "nhsuk-pagination__title" }, text),
        h("span", { class: "nhsuk-u-visually-hidden" }, ":"),
        h(
          "span",
          { class: "nhsuk-pagination__page" },
          `${what}, page ${kind === "previous" ? p.number - 1 : p.number + 1}`,
        ),
        arrow(kind === "previous" ? "left" : "right"),
      ),
    );
  return h(
    "nav",
    { class: "nhsuk-pagination", role: "navigation", "aria-label": "Pagination" },
    h(
      "ul",
      { class: "nhsuk-list nhsuk-pagination__list" },
      p.previousHref ? item("previous", p.previousHref, "Previous") : null,
      p.nextHref ? item("next", p.nextHref, "Next") : null,
    ),
  );
}

// ---- Components ----

// An NHS success notification banner (announced as an alert).
export function successBanner(heading: string, ...content: Array<Node | string>): HTMLElement {
  return h(
    "div",
    {
      class: "nhsuk-notification-banner nhsuk-notification-banner--success",
      role: "alert",
      "aria-labelledby": "success-banner-title",
      id: "success-banner",
    },
    h(
      "div",
      { class: "nhsuk-notification-banner__header" },
      h("h2", { class: "nhsuk-notification-banner__title", id: "success-banner-title" }, "Success"),
    ),
    h(
      "div",
      { class: "nhsuk-notification-banner__content" },
      h("h3", { class: "nhsuk-notification-banner__heading" }, heading),
      ...content.map((c) => (typeof c === "string" ? h("p", { class: "nhsuk-body" }, c) : c)),
    ),
  );
}

// A table in a container that scrolls sideways on a narrow screen rather than the page. The
// container can take the focus, so it can be scrolled with the keyboard, and is named after the
// table's caption.
export function scrolling(table: HTMLElement): HTMLElement {
  return h(
    "div",
    {
      class: "nhsuk-table-container",
      role: "region",
      tabindex: "0",
      "aria-label": table.querySelector("caption")?.textContent ?? "Table",
    },
    table,
  );
}

// A link styled as an NHS button.
export function buttonLink(
  href: string,
  text: string,
  attributes: Record<string, string | undefined> = {},
): HTMLElement {
  const classes = attributes.class ? `nhsuk-button ${attributes.class}` : "nhsuk-button";
  return h("a", { role: "button", draggable: "false", ...attributes, class: classes, href }, text);
}

// An NHS text input with a prefix or suffix (e.g. "£", "%"), in a group named after its id.
export function affixedInput(
  id: string,
  label: string,
  options: { hint?: string; prefix?: string; suffix?: string; value?: string; width?: string },
): HTMLElement {
  const input = h("input", {
    class: `nhsuk-input nhsuk-input--width-${options.width ?? "10"}`,
    id,
    name: id,
    type: "text",
    inputmode: "decimal",
    autocomplete: "off",
    spellcheck: "false",
    value: options.value,
    "aria-describedby": options.hint ? `${id}-hint` : undefined,
  });
  return h(
    "div",
    { class: "nhsuk-form-group", id: `${id}-group` },
    h("label", { class: "nhsuk-label", for: id }, label),
    options.hint ? h("div", { class: "nhsuk-hint", id: `${id}-hint` }, options.hint) : null,
    h(
      "div",
      { class: "nhsuk-input-wrapper" },
      options.prefix
        ? h("div", { class: "nhsuk-input-wrapper__prefix", "aria-hidden": "true" }, options.prefix)
        : null,
      input,
      options.suffix
        ? h("div", { class: "nhsuk-input-wrapper__suffix", "aria-hidden": "true" }, options.suffix)
        : null,
    ),
  );
}

// ---- Dates ----

export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

// "2025-03-31" -> {2025, 3, 31}; undefined when it is not in that form.
export function parseIsoDate(text: string | null): CivilDate | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text ?? "");
  return m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : undefined;
}

export function isoDate(d: CivilDate): string {
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  return `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}`;
}

// {2025, 3, 31} -> "31 March 2025" (the date as it stands; no time zone is involved).
export function longDate(d: CivilDate): string {
  const months = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
  ];
  return `${d.day} ${months[d.month - 1] ?? `month ${d.month}`} ${d.year}`;
}

// Today in Europe/London.
export function londonToday(): CivilDate {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London",
    year: "numeric",
    month: "numeric",
    day: "numeric",
  }).formatToParts(new Date());
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? "0");
  return { year: part("year"), month: part("month"), day: part("day") };
}

// The instant a day starts in Europe/London (midnight, GMT or BST).
export function londonDayStart(d: CivilDate): Date {
  const utc = Date.UTC(d.year, d.month - 1, d.day);
  // London's offset from UTC at about that time, in minutes (0 or 60).
  const offsetAt = (ms: number) => {
    const parts = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/London",
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    }).formatToParts(new Date(ms));
    const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? "0");
    const local = Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"));
    return (local - ms) / 60000;
  };
  const guess = utc - offsetAt(utc) * 60000;
  return new Date(utc - offsetAt(guess) * 60000);
}

// An NHS date input (day, month, year) for the field `id`: the day's input has the id itself,
// so an error summary link lands on it, and the group is `${id}-group`.
export function dateInput(
  id: string,
  legend: string,
  options: { hint?: string; value?: CivilDate } = {},
): HTMLElement {
  const item = (part: "day" | "month" | "year", label: string, width: string, value?: number) => {
    const inputId = part === "day" ? id : `${id}-${part}`;
    return h(
      "div",
      { class: "nhsuk-date-input__item" },
      h(
        "div",
        { class: "nhsuk-form-group" },
        h("label", { class: "nhsuk-label nhsuk-date-input__label", for: inputId }, label),
        h("input", {
          class: `nhsuk-input nhsuk-date-input__input nhsuk-input--width-${width}`,
          id: inputId,
          name: `${id}-${part}`,
          type: "text",
          inputmode: "numeric",
          autocomplete: "off",
          value: value === undefined ? undefined : String(value),
        }),
      ),
    );
  };
  return h(
    "div",
    { class: "nhsuk-form-group", id: `${id}-group` },
    h(
      "fieldset",
      {
        class: "nhsuk-fieldset",
        role: "group",
        "aria-describedby": options.hint ? `${id}-hint` : undefined,
      },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, legend),
      options.hint ? h("div", { class: "nhsuk-hint", id: `${id}-hint` }, options.hint) : null,
      h(
        "div",
        { class: "nhsuk-date-input", id: `${id}-input` },
        item("day", "Day", "2", options.value?.day),
        item("month", "Month", "2", options.value?.month),
        item("year", "Year", "4", options.value?.year),
      ),
    ),
  );
}

// The date typed into dateInput(id): undefined when all three parts are empty; a problem (for
// the error summary) when only some are given or a part is not a number. Whether the date is
// real (31 February) is the server's to say.
export function readDate(form: HTMLElement, id: string): CivilDate | undefined | { problem: string } {
  const value = (part: string) =>
    form.querySelector<HTMLInputElement>(`[id="${part === "day" ? id : `${id}-${part}`}"]`)?.value.trim() ?? "";
  const [day, month, year] = [value("day"), value("month"), value("year")];
  if (!day && !month && !year) return undefined;
  if (!/^\d{1,2}$/.test(day) || !/^\d{1,2}$/.test(month) || !/^\d{4}$/.test(year)) {
    return { problem: "enter a day, a month and a year in numbers, for example 31 3 2027" };
  }
  return { year: Number(year), month: Number(month), day: Number(day) };
}

export function isProblem(value: unknown): value is { problem: string } {
  return typeof value === "object" && value !== null && "problem" in value;
}

// ---- Words ----

// A number in words the NHS style guide likes: 1234 -> "1,234".
export function count(value: bigint | number): string {
  return new Intl.NumberFormat("en-GB").format(value);
}

// "1 event" / "2 events".
export function plural(value: bigint | number, one: string, many: string): string {
  return `${count(value)} ${Number(value) === 1 ? one : many}`;
}
