// Recording a referral for an organisation (`/app/referrals/new`): the referrer, the summary,
// the concern level and two parties. The server checks every field; its INVALID_ARGUMENT names
// each problem as "<field>: <problem>" (joined with "; "), and each is shown in the NHS error
// summary, linked to its field, and beside the field.
import { Code, ConnectError } from "@connectrpc/connect";

import { ConcernLevel, Profession } from "@gen/ppa/mediation/v1/common_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";
import { ReferralService } from "@gen/ppa/mediation/v1/referral_pb";

import { client } from "./api";
import { errorSummary, h } from "./dom";

// The input id of a field the server names: "parties[0].contact.email" -> "parties-0-contact-email".
export function fieldId(field: string): string {
  return field.replace(/\[(\d+)\]/g, "-$1").replace(/\./g, "-");
}

// "a: x; b: y" -> [{field: "a", text: "x"}, ...]; a problem without a field keeps its text.
export function problemsOf(message: string): Array<{ field?: string; text: string }> {
  return message.split("; ").map((part) => {
    const colon = part.indexOf(": ");
    if (colon <= 0) return { text: part };
    return { field: part.slice(0, colon), text: part.slice(colon + 2) };
  });
}

function textInput(id: string, label: string, type = "text"): HTMLElement {
  return h(
    "div",
    { class: "nhsuk-form-group", id: `${id}-group` },
    h("label", { class: "nhsuk-label", for: id }, label),
    h("input", { class: "nhsuk-input", id, name: id, type, autocomplete: "off" }),
  );
}

function select(id: string, label: string, options: Array<[string, string]>): HTMLElement {
  return h(
    "div",
    { class: "nhsuk-form-group", id: `${id}-group` },
    h("label", { class: "nhsuk-label", for: id }, label),
    h(
      "select",
      { class: "nhsuk-select", id, name: id },
      ...options.map(([value, text]) => h("option", { value }, text)),
    ),
  );
}

const kProfessions: Array<[string, string]> = [
  [String(Profession.DOCTOR), "Doctor"],
  [String(Profession.DENTIST), "Dentist"],
  [String(Profession.PHARMACIST), "Pharmacist"],
  [String(Profession.OTHER_HEALTHCARE_STAFF), "Other healthcare staff"],
  [String(Profession.MANAGER), "Manager"],
];

function partyFields(index: number): HTMLElement {
  const prefix = `parties-${index}`;
  return h(
    "fieldset",
    { class: "nhsuk-fieldset" },
    h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, `Party ${index + 1}`),
    textInput(`${prefix}-contact-name`, "Full name"),
    textInput(`${prefix}-contact-email`, "Email address", "email"),
    textInput(`${prefix}-contact-job_title`, "Job title (optional)"),
    select(`${prefix}-profession`, "Profession", kProfessions),
  );
}

function valueOf(form: HTMLElement, id: string): string {
  const element = form.querySelector<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
    `[id="${id}"]`,
  );
  return element ? element.value.trim() : "";
}

// Marks the fields the server named (NHS error style) and puts the summary in `problems`.
function showProblems(
  form: HTMLElement,
  problems: HTMLElement,
  list: Array<{ field?: string; text: string }>,
): void {
  for (const group of form.querySelectorAll(".nhsuk-form-group--error")) {
    group.classList.remove("nhsuk-form-group--error");
    group.querySelector(".nhsuk-error-message")?.remove();
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
    group.querySelector("label")?.after(message);
    group.querySelector(`[id="${id}"]`)?.setAttribute("aria-describedby", `${id}-error`);
    // "Party 1 full name: required": the fieldset's legend tells apart fields of the same label.
    const legend = group.closest("fieldset")?.querySelector("legend")?.textContent;
    const label = group.querySelector("label")?.textContent ?? p.field ?? "";
    const name = legend ? `${legend} ${label.charAt(0).toLowerCase()}${label.slice(1)}` : label;
    return { field: id, text: `${name}: ${p.text}` };
  });
  const summary = errorSummary(linked);
  problems.replaceChildren(summary);
  summary.focus();
}

export async function referralForm(
  frame: (title: string, ...content: Array<Node | null>) => HTMLElement,
  done: (caseId: bigint) => void,
): Promise<HTMLElement> {
  const organisations = await client(OrganisationService).listOrganisations({ pageSize: 500 });
  const problems = h("div", {});
  const form = h(
    "form",
    { novalidate: "" },
    select(
      "organisation_id",
      "Referring organisation",
      organisations.organisations.map((o) => [String(o.id), o.name]),
    ),
    h(
      "fieldset",
      { class: "nhsuk-fieldset" },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, "Referrer"),
      textInput("referrer-name", "Full name"),
      textInput("referrer-email", "Email address", "email"),
    ),
    h(
      "div",
      { class: "nhsuk-form-group", id: "summary-group" },
      h("label", { class: "nhsuk-label", for: "summary" }, "What the conflict is about"),
      h("textarea", { class: "nhsuk-textarea", id: "summary", name: "summary", rows: "5" }),
    ),
    select("concern_level", "Level of concern", [
      [String(ConcernLevel.UNSPECIFIED), "Not known"],
      [String(ConcernLevel.LOW), "Low"],
      [String(ConcernLevel.MID), "Medium"],
      [String(ConcernLevel.HIGH), "High"],
    ]),
    partyFields(0),
    partyFields(1),
    h("button", { class: "nhsuk-button", type: "submit" }, "Record the referral"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const party = (i: number) => ({
      contact: {
        name: valueOf(form, `parties-${i}-contact-name`),
        email: valueOf(form, `parties-${i}-contact-email`),
        jobTitle: valueOf(form, `parties-${i}-contact-job_title`),
      },
      profession: Number(valueOf(form, `parties-${i}-profession`)) as Profession,
    });
    client(ReferralService)
      .createReferral({
        organisationId: BigInt(valueOf(form, "organisation_id") || "0"),
        referrer: { name: valueOf(form, "referrer-name"), email: valueOf(form, "referrer-email") },
        summary: valueOf(form, "summary"),
        concernLevel: Number(valueOf(form, "concern_level")) as ConcernLevel,
        parties: [party(0), party(1)],
      })
      .then((response) => {
        if (response.case) done(response.case.id);
      })
      .catch((error: unknown) => {
        const refusal = ConnectError.from(error);
        showProblems(
          form,
          problems,
          refusal.code === Code.InvalidArgument
            ? problemsOf(refusal.rawMessage)
            : [{ text: refusal.rawMessage }],
        );
      });
  });
  return frame(
    "Record a referral",
    h("a", { class: "nhsuk-back-link", href: "/app" }, "Back to cases"),
    problems,
    h("h1", {}, "Record a referral"),
    form,
  );
}
