// Pieces the organisation and mediator pages share that the console's shared files (dom.ts,
// forms.ts, app.ts) do not have: a success banner that survives the page being drawn again, a
// button outside a form, sections named by their heading, text people wrote shown line by line,
// responsive tables, action links, and help for forms whose problems are found or named locally.
import { Code, ConnectError } from "@connectrpc/connect";

import { isSignedOut, messageOf } from "./api";
import { navigate } from "./app";
import { errorSummary, h, icon, successBanner } from "./dom";

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
  return successBanner(notice.heading, notice.content, { headingTag: "p" });
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

// --- Sections and text ----------------------------------------------------------------------

// A section of a page with the id `id`, named by its h2 heading `title` (id "<id>-heading"),
// then `content`.
export function section(id: string, title: string, ...content: Array<Node | null>): HTMLElement {
  return h("section", { "aria-labelledby": `${id}-heading`, id }, h("h2", { id: `${id}-heading` }, title), ...content);
}

// The lines of text people wrote that hold something (blank lines left out).
export function textLines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

// Text people wrote, one paragraph per line (textLines), as characters (never markup), in a div
// with `attributes`.
export function paragraphs(text: string, attributes: Record<string, string | undefined> = {}): HTMLElement {
  return h("div", attributes, ...textLines(text).map((line) => h("p", { class: "nhsuk-body" }, line)));
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

// A read-only field holding `value` with a button that copies it, and a status line saying
// whether it was copied.
export function copyBox(id: string, label: string, hint: string, value: string, buttonText: string): HTMLElement {
  const field = h("input", {
    class: "nhsuk-input nhsuk-input--code",
    id,
    type: "text",
    readonly: "",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": `${id}-hint`,
  }) as HTMLInputElement;
  field.value = value;
  const status = h("p", { class: "nhsuk-body", id: `${id}-status`, role: "status" });
  const copy = h("button", { class: "nhsuk-button nhsuk-button--secondary", type: "button", id: `${id}-copy` }, buttonText);
  copy.addEventListener("click", () => {
    navigator.clipboard
      .writeText(field.value)
      .then(() => {
        status.textContent = "Copied to your clipboard.";
      })
      .catch(() => {
        status.textContent = "It could not be copied: select it and copy it yourself.";
        field.select();
      });
  });
  return h(
    "div",
    {},
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label nhsuk-label--s", for: id }, label),
      h("div", { class: "nhsuk-hint", id: `${id}-hint` }, hint),
      field,
    ),
    copy,
    status,
  );
}
