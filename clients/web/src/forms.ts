// Form fields in the NHS design system, and how a form shows the server's answer. The server
// checks every field; its INVALID_ARGUMENT names each problem as "<field>: <problem>" (joined
// with "; "), and each is shown in the NHS error summary, linked to its field, and beside the
// field. Any other refusal is shown in the summary in the server's own words.
import { Code, ConnectError } from "@connectrpc/connect";

import { isSignedOut, messageOf, sessionGoneMessage } from "./api";
import { navigate } from "./app";
import { type CivilDate, isRealDate } from "./dates";
import { errorSummary, h } from "./dom";

// The input id of a field the server names: "parties[0].contact.email" -> "parties-0-contact-email".
export function fieldId(field: string): string {
  return field.replace(/\[(\d+)\]/g, "-$1").replace(/\./g, "-");
}

// "a: x; b: y" -> [{field: "a", text: "x"}, ...]; a problem without a field keeps its text.
export function problemsOf(message: string): Array<{ field?: string; text: string }> {
  return message.split("; ").map((part) => {
    const colon = part.indexOf(": ");
    if (colon <= 0 || /\s/.test(part.slice(0, colon))) return { text: part };
    return { field: part.slice(0, colon), text: part.slice(colon + 2) };
  });
}

// Problems found before calling the server, thrown from a form's action: onSubmit shows them as
// it shows the server's own INVALID_ARGUMENT ("<field>: <problem>; ..."), field by field.
export function localProblems(problems: Array<[string, string]>): ConnectError {
  return new ConnectError(problems.map(([field, text]) => `${field}: ${text}`).join("; "), Code.InvalidArgument);
}

interface FieldOptions {
  hint?: string;
  type?: string;
  classes?: string;
  value?: string;
  inputmode?: string;
}

function group(id: string, label: string, hint: string | undefined, control: HTMLElement): HTMLElement {
  if (hint) control.setAttribute("aria-describedby", `${id}-hint`);
  return h(
    "div",
    { class: "nhsuk-form-group", id: `${id}-group` },
    h("label", { class: "nhsuk-label", for: id }, label),
    hint ? h("div", { class: "nhsuk-hint", id: `${id}-hint` }, hint) : null,
    control,
  );
}

export function textInput(id: string, label: string, options: FieldOptions = {}): HTMLElement {
  return group(
    id,
    label,
    options.hint,
    h("input", {
      class: `nhsuk-input${options.classes ? ` ${options.classes}` : ""}`,
      id,
      name: id,
      type: options.type ?? "text",
      autocomplete: "off",
      value: options.value,
      inputmode: options.inputmode,
    }),
  );
}

export function textarea(id: string, label: string, options: FieldOptions = {}): HTMLElement {
  const area = h("textarea", { class: "nhsuk-textarea", id, name: id, rows: "3" });
  if (options.value) area.textContent = options.value;
  return group(id, label, options.hint, area);
}

export function select(
  id: string,
  label: string,
  choices: Array<[string, string]>,
  options: FieldOptions = {},
): HTMLElement {
  return group(
    id,
    label,
    options.hint,
    h(
      "select",
      { class: "nhsuk-select", id, name: id },
      ...choices.map(([value, text]) =>
        h("option", { value, selected: value === options.value ? "" : undefined }, text),
      ),
    ),
  );
}

// NHS radios or checkboxes in a fieldset whose legend is the question; the group's id is
// `${name}-group`. The first choice's id is `name` (so an error summary link lands on it) and the
// others' `${name}-2`, ...; or, with `idsByValue`, `${name}-${value}` each.
function choiceGroup(
  kind: "radios" | "checkboxes",
  name: string,
  legend: string,
  choices: Array<[string, string]>,
  options: { isChecked: (value: string) => boolean; hint?: string; classes?: string; idsByValue?: boolean },
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
        { class: `nhsuk-${kind}${options.classes ? ` ${options.classes}` : ""}` },
        ...choices.map(([value, text], index) => {
          const id = options.idsByValue ? `${name}-${value}` : index === 0 ? name : `${name}-${index + 1}`;
          return h(
            "div",
            { class: `nhsuk-${kind}__item` },
            h("input", {
              class: `nhsuk-${kind}__input`,
              id,
              name,
              type: kind === "radios" ? "radio" : "checkbox",
              value,
              checked: options.isChecked(value) ? "" : undefined,
            }),
            h("label", { class: `nhsuk-label nhsuk-${kind}__label`, for: id }, text),
          );
        }),
      ),
    ),
  );
}

// NHS radios (see choiceGroup): the one whose value is `value` is chosen.
export function radios(
  name: string,
  legend: string,
  choices: Array<[string, string]>,
  options: { value?: string; inline?: boolean; hint?: string } = {},
): HTMLElement {
  return choiceGroup("radios", name, legend, choices, {
    isChecked: (value) => value === options.value,
    hint: options.hint,
    classes: options.inline ? "nhsuk-radios--inline" : undefined,
  });
}

export function checkbox(id: string, label: string, checked = false): HTMLElement {
  return h(
    "div",
    { class: "nhsuk-form-group", id: `${id}-group` },
    h(
      "div",
      { class: "nhsuk-checkboxes" },
      h(
        "div",
        { class: "nhsuk-checkboxes__item" },
        h("input", {
          class: "nhsuk-checkboxes__input",
          id,
          name: id,
          type: "checkbox",
          checked: checked ? "" : undefined,
        }),
        h("label", { class: "nhsuk-label nhsuk-checkboxes__label", for: id }, label),
      ),
    ),
  );
}

// NHS checkboxes (see choiceGroup): those whose values are in `checked` are ticked.
export function checkboxes(
  name: string,
  legend: string,
  choices: Array<[string, string]>,
  options: { checked?: string[]; hint?: string; idsByValue?: boolean } = {},
): HTMLElement {
  return choiceGroup("checkboxes", name, legend, choices, {
    isChecked: (value) => options.checked?.includes(value) ?? false,
    hint: options.hint,
    idsByValue: options.idsByValue,
  });
}

// The values of the checked boxes named `name`.
export function checkedValues(form: HTMLElement, name: string): string[] {
  return Array.from(form.querySelectorAll<HTMLInputElement>(`input[type=checkbox][name="${name}"]:checked`)).map(
    (box) => box.value,
  );
}

// The hint most date inputs have.
export const kDateHint = "For example, 27 3 2027";

// NHS date input: day, month and year in a fieldset. The group's id is `${id}-group` and the day
// field's id is `id` (the month's and year's `${id}-month`, `${id}-year`), so an error summary
// link for the field lands on it.
export function dateInput(id: string, legend: string, options: { hint?: string; value?: CivilDate } = {}): HTMLElement {
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
  return h(
    "div",
    { class: "nhsuk-form-group", id: `${id}-group` },
    h(
      "fieldset",
      { class: "nhsuk-fieldset", role: "group", "aria-describedby": options.hint ? `${id}-hint` : undefined },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, legend),
      options.hint ? h("div", { class: "nhsuk-hint", id: `${id}-hint` }, options.hint) : null,
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

// The date typed into dateInput(id): no date when all three parts are empty; the problem
// `problems.format` when a part is missing or not in numbers (a day and month of 1 or 2 digits,
// a year of 4), and `problems.unreal` when it is not a real date (31 February), unless that is
// null: then it is the server's to say.
export function dateOf(
  form: HTMLElement,
  id: string,
  problems: { format: string; unreal: string | null } = {
    format: "enter a real date, for example 27 3 2027",
    unreal: "enter a real date, for example 27 3 2027",
  },
): { date?: CivilDate; problem?: string } {
  const read = (suffix: string) =>
    form.querySelector<HTMLInputElement>(`[id="${suffix ? `${id}-${suffix}` : id}"]`)?.value.trim() ?? "";
  const [day, month, year] = [read(""), read("month"), read("year")];
  if (!day && !month && !year) return {};
  if (!/^\d{1,2}$/.test(day) || !/^\d{1,2}$/.test(month) || !/^\d{4}$/.test(year)) return { problem: problems.format };
  const date = { year: Number(year), month: Number(month), day: Number(day) };
  if (problems.unreal !== null && !isRealDate(date)) return { problem: problems.unreal };
  return { date };
}

export function button(text: string, attributes: Record<string, string | undefined> = {}): HTMLElement {
  const classes = attributes.class ? `nhsuk-button ${attributes.class}` : "nhsuk-button";
  return h("button", { type: "submit", ...attributes, class: classes }, text);
}

// The value of the field with this id (radios: the checked one's), trimmed; "" when absent.
export function valueOf(form: HTMLElement, id: string): string {
  const radio = form.querySelector<HTMLInputElement>(`input[type=radio][name="${id}"]:checked`);
  if (radio) return radio.value;
  const element = form.querySelector<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
    `[id="${id}"]`,
  );
  if (element instanceof HTMLInputElement && element.type === "checkbox") {
    return element.checked ? "true" : "";
  }
  if (element instanceof HTMLInputElement && element.type === "radio") return "";
  return element ? element.value.trim() : "";
}

// Marks the fields the server named (NHS error style) and puts the summary in `problems`.
export function showProblems(
  form: HTMLElement,
  problems: HTMLElement,
  list: Array<{ field?: string; text: string }>,
): void {
  for (const marked of form.querySelectorAll(".nhsuk-form-group--error")) {
    marked.classList.remove("nhsuk-form-group--error");
    marked.querySelector(".nhsuk-error-message")?.remove();
  }
  const linked = list.map((p) => {
    const id = p.field ? fieldId(p.field) : undefined;
    const group = id ? form.querySelector(`[id="${id}-group"]`) : null;
    if (!group || !id) return { text: p.field ? `${p.field}: ${p.text}` : p.text };
    group.classList.add("nhsuk-form-group--error");
    const problem = p.text.charAt(0).toUpperCase() + p.text.slice(1);
    const message = h(
      "span",
      { class: "nhsuk-error-message", id: `${id}-error` },
      h("span", { class: "nhsuk-u-visually-hidden" }, "Error: "),
      problem,
    );
    // After the hint where there is one (the NHS order: label, hint, error, field).
    (group.querySelector(".nhsuk-hint") ?? group.querySelector("legend") ?? group.querySelector("label"))?.after(message);
    group.querySelector(`[id="${id}"]`)?.setAttribute("aria-describedby", `${id}-error`);
    // "Party 1 full name: required": the fieldset's legend tells apart fields of the same label.
    const fieldset = group.closest("fieldset");
    const legend =
      fieldset && !group.contains(fieldset) ? fieldset.querySelector("legend")?.textContent : null;
    const label =
      group.querySelector("legend")?.textContent ?? group.querySelector("label")?.textContent ?? p.field ?? "";
    const name = legend ? `${legend} ${label.charAt(0).toLowerCase()}${label.slice(1)}` : label;
    return { field: id, text: `${name}: ${p.text}` };
  });
  const summary = errorSummary(linked);
  problems.replaceChildren(summary);
  summary.focus();
}

// Runs `action` when the form is submitted: the button is disabled while the call is in flight;
// a refusal is shown in `problems` (field by field for INVALID_ARGUMENT); an ended session goes
// to sign-in and back.
// `fieldPrefix` is put before the server's field names where a page holds several forms with
// the same fields (e.g. "hold-" makes "reason" the field "hold-reason").
export function onSubmit(
  form: HTMLFormElement | HTMLElement,
  problems: HTMLElement,
  action: () => Promise<void>,
  fieldPrefix = "",
): void {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const submit = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (submit?.disabled) return;
    if (submit) submit.disabled = true;
    action()
      .catch((error: unknown) => {
        if (isSignedOut(error)) {
          const next = window.location.pathname + window.location.search;
          navigate(`/app/sign-in?${new URLSearchParams({ next, message: sessionGoneMessage() }).toString()}`);
          return;
        }
        const refusal = ConnectError.from(error);
        showProblems(
          form,
          problems,
          refusal.code === Code.InvalidArgument
            ? problemsOf(messageOf(refusal)).map((p) => (p.field ? { ...p, field: `${fieldPrefix}${p.field}` } : p))
            : [{ text: messageOf(refusal) }],
        );
      })
      .finally(() => {
        if (submit) submit.disabled = false;
      });
  });
}

// A form with its own problem area, fields and submit button; `action` runs on submit.
export function actionForm(
  id: string,
  fields: Array<Node | null>,
  submitText: string,
  action: (form: HTMLElement) => Promise<void>,
  buttonClass?: string,
  fieldPrefix = "",
): HTMLElement {
  const problems = h("div", {});
  const form = h(
    "form",
    { novalidate: "", id },
    ...fields,
    button(submitText, { class: buttonClass, id: `${id}-submit` }),
  );
  onSubmit(form, problems, () => action(form), fieldPrefix);
  return h("div", {}, problems, form);
}
