// Pieces the administration pages share: NHS components the shared modules do not have (a link
// styled as a button, a scrolling table, money input) and numbers in words.
import { Role } from "@gen/ppa/mediation/v1/common_pb";

import { h } from "./dom";

export const kAdminOnly = [Role.ADMIN];

// What the administration pages' date inputs say of a date not typed in numbers
// (see forms.ts dateOf).
export const kDateInNumbers = "enter a day, a month and a year in numbers, for example 31 3 2027";

// Draws `page` in place of the current one without changing the address: for what must not be
// put in a URL (a token's secret), or a result only this visit shows.
export function replacePage(page: HTMLElement): void {
  document.getElementById("app")?.replaceChildren(page);
  document.getElementById("main-content")?.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

// ---- Components ----

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

// ---- Words ----

// A number in words the NHS style guide likes: 1234 -> "1,234".
export function count(value: bigint | number): string {
  return new Intl.NumberFormat("en-GB").format(value);
}

// "1 event" / "2 events".
export function plural(value: bigint | number, one: string, many: string): string {
  return `${count(value)} ${Number(value) === 1 ? one : many}`;
}
