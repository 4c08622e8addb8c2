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

// An NHS summary list (nhsuk-summary-list) of label and value rows (a value is text, or an
// element such as a link or a tag).
export function summaryList(rows: Array<[string, string | Node]>): HTMLElement {
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

const kIconPaths = {
  "arrow-left":
    "M10.7 6.3c.4.4.4 1 0 1.4L7.4 11H19a1 1 0 0 1 0 2H7.4l3.3 3.3c.4.4.4 1 0 1.4a1 1 0 0 1-1.4 0l-5-5A1 1 0 0 1 4 12c0-.3.1-.5.3-.7l5-5a1 1 0 0 1 1.4 0Z",
  "arrow-right":
    "m14.7 6.3 5 5c.2.2.3.4.3.7 0 .3-.1.5-.3.7l-5 5a1 1 0 0 1-1.4-1.4l3.3-3.3H5a1 1 0 0 1 0-2h11.6l-3.3-3.3a1 1 0 1 1 1.4-1.4Z",
  "arrow-right-circle":
    "M12 2a10 10 0 0 0-10 9h11.7l-4-4a1 1 0 0 1 1.5-1.4l5.6 5.7a1 1 0 0 1 0 1.4l-5.6 5.7a1 1 0 0 1-1.5 0 1 1 0 0 1 0-1.4l4-4H2A10 10 0 1 0 12 2z",
};

// One of the design system's icons (decorative: hidden from assistive technology).
export function icon(name: keyof typeof kIconPaths): SVGElement {
  return svg(
    "svg",
    {
      class: `nhsuk-icon nhsuk-icon--${name}`,
      viewBox: "0 0 24 24",
      width: 16,
      height: 16,
      focusable: "false",
      "aria-hidden": "true",
    },
    svg("path", { d: kIconPaths[name] }),
  );
}

// An NHS success notification banner (announced as an alert). Its heading is an h3, or the
// element `headingTag` names.
export function successBanner(
  heading: string,
  content: Array<Node | string> = [],
  options: { headingTag?: "h3" | "p" } = {},
): HTMLElement {
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
      h(options.headingTag ?? "h3", { class: "nhsuk-notification-banner__heading" }, heading),
      ...content.map((c) => (typeof c === "string" ? h("p", { class: "nhsuk-body" }, c) : c)),
    ),
  );
}
