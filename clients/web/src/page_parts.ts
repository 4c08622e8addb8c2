// Pieces the organisation and mediator pages share that the console's shared files (dom.ts,
// forms.ts, app.ts) do not have yet: NHS pagination over the API's page tokens, a success
// banner that survives the page being drawn again, the NHS date input and checkboxes, calendar
// dates (common.proto's Date) in words and in Europe/London, and local checks reported the way
// the server reports its own (INVALID_ARGUMENT, "<field>: <problem>").
import { Code, ConnectError } from "@connectrpc/connect";

import type { Date as DateMessage } from "@gen/ppa/mediation/v1/common_pb";

import { isSignedOut, messageOf } from "./api";
import { navigate } from "./app";
import { errorSummary, h } from "./dom";

// --- Paging -------------------------------------------------------------------------------
//
// A list page carries the API's page token in its address (`page`) and the tokens of the pages
// before it (`back`, joined with "."; the first page's token is empty), so "Previous" and
// "Next" are plain links, a reload keeps the page and the back button works.

const kBackSeparator = ".";

export function pageToken(query: URLSearchParams): string {
  return query.get("page") ?? "";
}

// 1 for the first page.
export function pageNumber(query: URLSearchParams): number {
  const back = query.get("back");
  return back === null ? 1 : back.split(kBackSeparator).length + 1;
}

function withQuery(path: string, query: URLSearchParams): string {
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

// NHS pagination links for a list at `path` whose current address has `query`, or null when
// there is one page only.
export function pagination(path: string, query: URLSearchParams, nextToken: string): HTMLElement | null {
  const back = query.get("back");
  let previous: string | undefined;
  if (back !== null) {
    const tokens = back.split(kBackSeparator);
    const before = new URLSearchParams(query);
    const token = tokens.pop() ?? "";
    if (token) before.set("page", token);
    else before.delete("page");
    if (tokens.length > 0) before.set("back", tokens.join(kBackSeparator));
    else before.delete("back");
    previous = withQuery(path, before);
  }
  let next: string | undefined;
  if (nextToken) {
    const after = new URLSearchParams(query);
    after.set("back", back === null ? pageToken(query) : `${back}${kBackSeparator}${pageToken(query)}`);
    after.set("page", nextToken);
    next = withQuery(path, after);
  }
  if (!previous && !next) return null;
  const number = pageNumber(query);
  const item = (kind: "prev" | "next", href: string, title: string, page: string) =>
    h(
      "li",
      { class: `nhsuk-pagination-item--${kind === "prev" ? "previous" : "next"}` },
      h(
        "a",
        { class: `nhsuk-pagination__link nhsuk-pagination__link--${kind}`, href, rel: kind, id: `page-${kind}` },
        h("span", { class: "nhsuk-pagination__title" }, title, h("span", { class: "nhsuk-u-visually-hidden" }, " page")),
        h("span", { class: "nhsuk-u-visually-hidden" }, ":"),
        h("span", { class: "nhsuk-pagination__page" }, page),
        icon(kind === "prev" ? "arrow-left" : "arrow-right"),
      ),
    );
  return h(
    "nav",
    { class: "nhsuk-pagination", role: "navigation", "aria-label": "Pagination" },
    h(
      "ul",
      { class: "nhsuk-list nhsuk-pagination__list" },
      previous ? item("prev", previous, "Previous", `Page ${number - 1}`) : null,
      next ? item("next", next, "Next", `Page ${number + 1}`) : null,
    ),
  );
}

const kSvg = "http://www.w3.org/2000/svg";

const kIconPaths = {
  "arrow-left":
    "M10.7 6.3c.4.4.4 1 0 1.4L7.4 11H19a1 1 0 0 1 0 2H7.4l3.3 3.3c.4.4.4 1 0 1.4a1 1 0 0 1-1.4 0l-5-5A1 1 0 0 1 4 12c0-.3.1-.5.3-.7l5-5a1 1 0 0 1 1.4 0Z",
  "arrow-right":
    "m14.7 6.3 5 5c.2.2.3.4.3.7 0 .3-.1.5-.3.7l-5 5a1 1 0 0 1-1.4-1.4l3.3-3.3H5a1 1 0 0 1 0-2h11.6l-3.3-3.3a1 1 0 1 1 1.4-1.4Z",
  "arrow-right-circle":
    "M12 2a10 10 0 0 0-10 9h11.7l-4-4a1 1 0 0 1 1.5-1.4l5.6 5.7a1 1 0 0 1 0 1.4l-5.6 5.7a1 1 0 0 1-1.5 0 1 1 0 0 1 0-1.4l4-4H2A10 10 0 1 0 12 2z",
};

// One of the design system's icons (decorative: hidden from assistive technology).
function icon(name: keyof typeof kIconPaths): Element {
  const svg = document.createElementNS(kSvg, "svg");
  for (const [attribute, value] of Object.entries({
    class: `nhsuk-icon nhsuk-icon--${name}`,
    viewBox: "0 0 24 24",
    width: "16",
    height: "16",
    focusable: "false",
    "aria-hidden": "true",
  })) {
    svg.setAttribute(attribute, value);
  }
  const path = document.createElementNS(kSvg, "path");
  path.setAttribute("d", kIconPaths[name]);
  svg.append(path);
  return svg;
}

// --- Success after an action ----------------------------------------------------------------

interface Notice {
  path: string;
  heading: string;
  content: Array<Node | string>;
}

let pendingNotice: Notice | undefined;

// Remembers a success message for the page at `path`, shown once when it is next drawn (after
// navigate() or rerender()).
export function noticeFor(path: string, heading: string, ...content: Array<Node | string>): void {
  pendingNotice = { path, heading, content };
}

// The NHS success banner for the page at `path`, if an action left one; null otherwise.
export function takeNotice(path: string): HTMLElement | null {
  const notice = pendingNotice;
  if (!notice || notice.path !== path) return null;
  pendingNotice = undefined;
  return h(
    "div",
    {
      class: "nhsuk-notification-banner nhsuk-notification-banner--success",
      role: "alert",
      "aria-labelledby": "notification-banner-title",
      id: "success-banner",
    },
    h(
      "div",
      { class: "nhsuk-notification-banner__header" },
      h("h2", { class: "nhsuk-notification-banner__title", id: "notification-banner-title" }, "Success"),
    ),
    h(
      "div",
      { class: "nhsuk-notification-banner__content" },
      h("p", { class: "nhsuk-notification-banner__heading" }, notice.heading),
      ...notice.content.map((c) => (typeof c === "string" ? h("p", { class: "nhsuk-body" }, c) : c)),
    ),
  );
}

// A button outside a form (for example "Remove" in a table row): runs `action` when pressed,
// disabled while it runs; a refusal is shown in the NHS error summary in `problems`, in the
// server's words; an ended session goes to sign-in and back.
export function actionButton(
  text: string,
  hiddenText: string,
  problems: HTMLElement,
  action: () => Promise<void>,
  attributes: Record<string, string | undefined> = {},
): HTMLElement {
  const control = h(
    "button",
    { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0", ...attributes },
    text,
    hiddenText ? h("span", { class: "nhsuk-u-visually-hidden" }, ` ${hiddenText}`) : null,
  ) as HTMLButtonElement;
  control.addEventListener("click", () => {
    if (control.disabled) return;
    control.disabled = true;
    action()
      .catch((error: unknown) => {
        if (isSignedOut(error)) {
          const next = window.location.pathname + window.location.search;
          navigate(`/app/sign-in?${new URLSearchParams({ next, message: "Your session ended. Sign in to continue." }).toString()}`);
          return;
        }
        const summary = errorSummary([{ text: messageOf(error) }]);
        problems.replaceChildren(summary);
        summary.focus();
      })
      .finally(() => {
        control.disabled = false;
      });
  });
  return control;
}

// --- Tables -------------------------------------------------------------------------------

// An NHS responsive table: on a narrow screen each row becomes a card, each cell led by its
// column's heading (hidden from assistive technology, which has the column header).
export function responsiveTable(
  caption: string,
  headers: string[],
  rows: Array<Array<Node | string>>,
  attributes: Record<string, string | undefined> = {},
): HTMLElement {
  return h(
    "table",
    { class: "nhsuk-table nhsuk-table--responsive", role: "table", ...attributes },
    h("caption", { class: "nhsuk-table__caption" }, caption),
    h(
      "thead",
      { class: "nhsuk-table__head", role: "rowgroup" },
      h(
        "tr",
        { class: "nhsuk-table__row", role: "row" },
        ...headers.map((text) => h("th", { class: "nhsuk-table__header", scope: "col", role: "columnheader" }, text)),
      ),
    ),
    h(
      "tbody",
      { class: "nhsuk-table__body" },
      ...rows.map((row) =>
        h(
          "tr",
          { class: "nhsuk-table__row", role: "row" },
          ...row.map((cell, i) =>
            h(
              "td",
              { class: "nhsuk-table__cell", role: "cell" },
              h("span", { class: "nhsuk-table__heading", "aria-hidden": "true" }, `${headers[i]} `),
              cell,
            ),
          ),
        ),
      ),
    ),
  );
}

// --- Form pieces ----------------------------------------------------------------------------

// Problems found before calling the server, thrown from a form's action: forms.ts onSubmit shows
// them as it shows the server's INVALID_ARGUMENT, field by field.
export function localProblems(problems: Array<[string, string]>): ConnectError {
  return new ConnectError(problems.map(([field, text]) => `${field}: ${text}`).join("; "), Code.InvalidArgument);
}

// Takes away what showProblems put on `form` and in `problems` (after a later success).
export function clearProblems(form: HTMLElement, problems: HTMLElement): void {
  problems.replaceChildren();
  for (const marked of form.querySelectorAll(".nhsuk-form-group--error")) {
    marked.classList.remove("nhsuk-form-group--error");
    const message = marked.querySelector(".nhsuk-error-message");
    const control = message ? form.querySelector(`[aria-describedby="${message.id}"]`) : null;
    const hint = control ? form.querySelector(`[id="${control.id}-hint"]`) : null;
    if (control && hint) control.setAttribute("aria-describedby", hint.id);
    else control?.removeAttribute("aria-describedby");
    message?.remove();
  }
}

// Rewrites the field paths in a refusal (INVALID_ARGUMENT only) with `rename`, so a problem the
// server names by list index lands on the field the form has for it.
export function renameFields(error: unknown, rename: (field: string) => string): unknown {
  if (!(error instanceof ConnectError) || error.code !== Code.InvalidArgument) return error;
  const text = error.rawMessage
    .split("; ")
    .map((part) => {
      const colon = part.indexOf(": ");
      if (colon <= 0 || /\s/.test(part.slice(0, colon))) return part;
      return `${rename(part.slice(0, colon))}${part.slice(colon)}`;
    })
    .join("; ");
  return new ConnectError(text, Code.InvalidArgument);
}

// NHS date input: day, month and year in a fieldset. The group's id is `${id}-group` and the day
// field's id is `id`, so an error summary link for the field lands on it.
export function dateInput(id: string, legend: string, options: { hint?: string; value?: DateMessage } = {}): HTMLElement {
  const part = (suffix: string, label: string, width: number, value: number | undefined) => {
    const inputId = suffix === "day" ? id : `${id}-${suffix}`;
    return h(
      "div",
      { class: "nhsuk-date-input__item" },
      h(
        "div",
        { class: "nhsuk-form-group" },
        h("label", { class: "nhsuk-label nhsuk-date-input__label", for: inputId }, label),
        h("input", {
          class: `nhsuk-input nhsuk-input--width-${width} nhsuk-date-input__input`,
          id: inputId,
          name: inputId,
          type: "text",
          inputmode: "numeric",
          autocomplete: "off",
          value: value ? String(value) : undefined,
        }),
      ),
    );
  };
  const hint = options.hint ?? "For example, 27 3 2027";
  return h(
    "div",
    { class: "nhsuk-form-group", id: `${id}-group` },
    h(
      "fieldset",
      { class: "nhsuk-fieldset", role: "group", "aria-describedby": `${id}-hint` },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, legend),
      h("div", { class: "nhsuk-hint", id: `${id}-hint` }, hint),
      h(
        "div",
        { class: "nhsuk-date-input" },
        part("day", "Day", 2, options.value?.day),
        part("month", "Month", 2, options.value?.month),
        part("year", "Year", 4, options.value?.year),
      ),
    ),
  );
}

// The date in the date input `id`: undefined when all three parts are empty, a problem when it
// is not a real date.
export function dateOf(form: HTMLElement, id: string): { date?: DateMessage; problem?: string } {
  const read = (suffix: string) =>
    form.querySelector<HTMLInputElement>(`[id="${suffix ? `${id}-${suffix}` : id}"]`)?.value.trim() ?? "";
  const [day, month, year] = [read(""), read("month"), read("year")];
  if (!day && !month && !year) return {};
  if (![day, month, year].every((p) => /^\d+$/.test(p)) || year.length !== 4) {
    return { problem: "enter a real date, for example 27 3 2027" };
  }
  const date = { year: Number(year), month: Number(month), day: Number(day) } as DateMessage;
  if (!isRealDate(date)) return { problem: "enter a real date, for example 27 3 2027" };
  return { date };
}

// NHS checkboxes in a fieldset whose legend is the question; the group's id is `${name}-group`
// and the first box's id is `name`.
export function checkboxes(
  name: string,
  legend: string,
  choices: Array<[string, string]>,
  options: { checked?: string[]; hint?: string } = {},
): HTMLElement {
  return h(
    "div",
    { class: "nhsuk-form-group", id: `${name}-group` },
    h(
      "fieldset",
      { class: "nhsuk-fieldset", "aria-describedby": options.hint ? `${name}-hint` : undefined },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, legend),
      options.hint ? h("div", { class: "nhsuk-hint", id: `${name}-hint` }, options.hint) : null,
      h(
        "div",
        { class: "nhsuk-checkboxes" },
        ...choices.map(([value, text], index) => {
          const id = index === 0 ? name : `${name}-${index + 1}`;
          return h(
            "div",
            { class: "nhsuk-checkboxes__item" },
            h("input", {
              class: "nhsuk-checkboxes__input",
              id,
              name,
              type: "checkbox",
              value,
              checked: options.checked?.includes(value) ? "" : undefined,
            }),
            h("label", { class: "nhsuk-label nhsuk-checkboxes__label", for: id }, text),
          );
        }),
      ),
    ),
  );
}

// The values of the checked boxes named `name`.
export function checkedValues(form: HTMLElement, name: string): string[] {
  return Array.from(form.querySelectorAll<HTMLInputElement>(`input[type=checkbox][name="${name}"]:checked`)).map(
    (box) => box.value,
  );
}

// An NHS action link: the way into a task from a page that lists things.
export function actionLink(href: string, text: string, id: string): HTMLElement {
  return h(
    "p",
    { class: "nhsuk-u-margin-bottom-4" },
    h("a", { class: "nhsuk-action-link", href, id }, icon("arrow-right-circle"), h("span", { class: "nhsuk-action-link__text" }, text)),
  );
}

// A fresh key for a create call, so a retried submission registers nothing twice.
export function idempotencyKey(): string {
  return typeof crypto.randomUUID === "function"
    ? crypto.randomUUID()
    : `key-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

// --- Calendar dates -------------------------------------------------------------------------

export function isRealDate(d: DateMessage): boolean {
  if (d.month < 1 || d.month > 12 || d.day < 1) return false;
  const utc = new Date(Date.UTC(d.year, d.month - 1, d.day));
  return utc.getUTCFullYear() === d.year && utc.getUTCMonth() === d.month - 1 && utc.getUTCDate() === d.day;
}

// Days since 1970-01-01 of a calendar date.
export function dayNumber(d: DateMessage): number {
  return Math.round(Date.UTC(d.year, d.month - 1, d.day) / 86_400_000);
}

// Today's date in Europe/London.
export function londonToday(now = new Date()): DateMessage {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London",
    year: "numeric",
    month: "numeric",
    day: "numeric",
  }).formatToParts(now);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get("year"), month: get("month"), day: get("day") } as DateMessage;
}

// "27 March 2027"; "Not known" when unset.
export function dateText(d: DateMessage | undefined): string {
  if (!d || d.year === 0) return "Not known";
  return new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeZone: "UTC" }).format(
    new Date(Date.UTC(d.year, d.month - 1, d.day)),
  );
}

// "2027-03-27".
export function isoDate(d: DateMessage): string {
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  return `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}`;
}
