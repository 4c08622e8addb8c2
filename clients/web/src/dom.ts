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
