// Building the page. Every piece of text goes in as text (textContent, attribute values),
// never as HTML: names, summaries and reasons come from other people and may hold markup.
type Child = Node | string | null | undefined | false;

export function h(
  tag: string,
  attributes: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return element;
}

// An NHS summary list (nhsuk-summary-list) of label and value rows.
export function summaryList(rows: Array<[string, string]>): HTMLElement {
  return h(
    "dl",
    { class: "nhsuk-summary-list" },
    ...rows.map(([label, value]) =>
      h(
        "div",
        { class: "nhsuk-summary-list__row" },
        h("dt", { class: "nhsuk-summary-list__key" }, label),
        h("dd", { class: "nhsuk-summary-list__value" }, value),
      ),
    ),
  );
}

// An NHS error summary naming each problem, linked to its field when there is one. It takes
// the focus, so a screen reader announces it.
export function errorSummary(problems: Array<{ text: string; field?: string }>): HTMLElement {
  const summary = h(
    "div",
    { class: "nhsuk-error-summary", "aria-labelledby": "error-summary-title", role: "alert", tabindex: "-1" },
    h("h2", { class: "nhsuk-error-summary__title", id: "error-summary-title" }, "There is a problem"),
    h(
      "div",
      { class: "nhsuk-error-summary__body" },
      h(
        "ul",
        { class: "nhsuk-list nhsuk-error-summary__list" },
        ...problems.map((p) =>
          h("li", {}, p.field ? h("a", { href: `#${p.field}` }, p.text) : p.text),
        ),
      ),
    ),
  );
  return summary;
}

type Cell = Node | string;

// An NHS table with a caption, column headers and rows of cells (text or elements).
export function table(
  caption: string,
  headers: string[],
  rows: Cell[][],
  attributes: Record<string, string | undefined> = {},
): HTMLElement {
  return h(
    "table",
    { class: "nhsuk-table", ...attributes },
    h("caption", { class: "nhsuk-table__caption" }, caption),
    h(
      "thead",
      { class: "nhsuk-table__head" },
      h(
        "tr",
        { class: "nhsuk-table__row" },
        ...headers.map((text) => h("th", { class: "nhsuk-table__header", scope: "col" }, text)),
      ),
    ),
    h(
      "tbody",
      { class: "nhsuk-table__body" },
      ...rows.map((row) =>
        h("tr", { class: "nhsuk-table__row" }, ...row.map((cell) => h("td", { class: "nhsuk-table__cell" }, cell))),
      ),
    ),
  );
}

export type TagColour = "white" | "grey" | "green" | "aqua-green" | "blue" | "purple" | "pink" | "red" | "orange" | "yellow";

// An NHS tag (a short status in colour).
export function tag(text: string, colour?: TagColour): HTMLElement {
  return h("strong", { class: `nhsuk-tag${colour ? ` nhsuk-tag--${colour}` : ""}` }, text);
}

// An NHS warning callout: something the reader must weigh before acting.
export function warningCallout(heading: string, ...content: Array<Node | string>): HTMLElement {
  return h(
    "div",
    { class: "nhsuk-warning-callout" },
    h(
      "h3",
      { class: "nhsuk-warning-callout__label" },
      h("span", { role: "text" }, h("span", { class: "nhsuk-u-visually-hidden" }, "Important: "), heading),
    ),
    ...content.map((c) => (typeof c === "string" ? h("p", {}, c) : c)),
  );
}

// An NHS inset text: a note set apart from the content around it.
export function inset(...content: Array<Node | string>): HTMLElement {
  return h("div", { class: "nhsuk-inset-text" }, h("span", { class: "nhsuk-u-visually-hidden" }, "Information: "), ...content.map((c) => (typeof c === "string" ? h("p", {}, c) : c)));
}

// A link within the console.
export function link(href: string, text: string, attributes: Record<string, string | undefined> = {}): HTMLElement {
  return h("a", { href, ...attributes }, text);
}

export function backLink(href: string, text: string): HTMLElement {
  return h("a", { class: "nhsuk-back-link", href }, text);
}

// An NHS details element: a summary line that opens to show `content` (used for actions that
// need a reason, so the page stays short).
export function details(summary: string, id: string, ...content: Array<Node | null>): HTMLElement {
  return h(
    "details",
    { class: "nhsuk-details", id },
    h("summary", { class: "nhsuk-details__summary" }, h("span", { class: "nhsuk-details__summary-text" }, summary)),
    h("div", { class: "nhsuk-details__text" }, ...content),
  );
}
