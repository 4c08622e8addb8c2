// Registering a mediator (/app/mediators/new) and changing one's record
// (/app/mediators/<id>/edit), for administrators: contact, accreditation, insurance, CPD,
// nations, languages, experience and capacity. The server checks every field and names each
// problem by its path ("mediator.accreditation.expires_on: required"); the form's field ids
// are those paths (forms.ts fieldId), and list entries the server names by index (nations,
// languages, experience) are shown at the field that holds them.
import type { MessageInitShape } from "@bufbuild/protobuf";

import type { Profession } from "@gen/ppa/mediation/v1/common_pb";
import { type Mediator, MediatorSchema, MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";

import { client } from "./api";
import { navigate, type PageContext } from "./app";
import { backLink, h } from "./dom";
import {
  button,
  checkbox,
  checkboxes,
  checkedValues,
  dateInput,
  dateOf,
  localProblems,
  onSubmit,
  radios,
  textInput,
  valueOf,
} from "./forms";
import { choices, kAccreditationBodies, kNations, kProfessions } from "./mediation_words";
import { idempotencyKey, noticeFor, renameFields } from "./page_parts";

type MediatorInit = MessageInitShape<typeof MediatorSchema>;

function fields(m: Mediator | undefined): Array<Node | null> {
  const experience = new Map(m?.experience.map((e) => [e.profession, e.cases]) ?? []);
  return [
    h(
      "fieldset",
      { class: "nhsuk-fieldset" },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, "Contact"),
      textInput("mediator-contact-name", "Full name", { value: m?.contact?.name }),
      textInput("mediator-contact-email", "Email address", { type: "email", value: m?.contact?.email }),
      textInput("mediator-contact-phone", "Telephone number (optional)", {
        type: "tel",
        classes: "nhsuk-input--width-20",
        value: m?.contact?.phone,
      }),
      textInput("mediator-contact-job_title", "Job title (optional)", { value: m?.contact?.jobTitle }),
    ),
    h(
      "fieldset",
      { class: "nhsuk-fieldset" },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, "Accreditation"),
      radios("mediator-accreditation-body", "Body", choices(kAccreditationBodies), {
        value: m?.accreditation?.body ? String(m.accreditation.body) : undefined,
      }),
      textInput("mediator-accreditation-level", "Level", {
        hint: "For example, Registered Mediator",
        value: m?.accreditation?.level,
      }),
      textInput("mediator-accreditation-registration_number", "Registration number", {
        classes: "nhsuk-input--width-20",
        value: m?.accreditation?.registrationNumber,
      }),
      dateInput("mediator-accreditation-expires_on", "Valid until", {
        hint: "The last day the accreditation is valid, for example 31 3 2027",
        value: m?.accreditation?.expiresOn,
      }),
    ),
    h("h2", { class: "nhsuk-heading-m" }, "Insurance and CPD"),
    dateInput("mediator-insurance_expires_on", "Professional indemnity insurance valid until", {
      hint: "The last day the insurance is valid, for example 31 3 2027",
      value: m?.insuranceExpiresOn,
    }),
    textInput("mediator-cpd_hours_last_12_months", "CPD hours in the last 12 months", {
      hint: "Allocation needs at least 6. Leave empty for none.",
      classes: "nhsuk-input--width-3",
      inputmode: "numeric",
      value: m ? String(m.cpdHoursLast12Months) : undefined,
    }),
    h("h2", { class: "nhsuk-heading-m" }, "Coverage and capacity"),
    checkboxes("mediator-nations", "Nations covered", choices(kNations), {
      checked: m?.nations.map(String),
    }),
    textInput("mediator-languages", "Languages mediated in (optional)", {
      hint: "Separate languages with commas, for example English, Welsh",
      value: m?.languages.join(", "),
    }),
    h(
      "fieldset",
      { class: "nhsuk-fieldset", "aria-describedby": "mediator-experience-hint" },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, "Mediations so far involving each profession"),
      h(
        "div",
        { class: "nhsuk-hint", id: "mediator-experience-hint" },
        "A number of cases for each profession the mediator has experience with; leave the others empty.",
      ),
      ...kProfessions.map(([profession, text]) =>
        textInput(`mediator-experience-${profession}`, text, {
          classes: "nhsuk-input--width-4",
          inputmode: "numeric",
          value: experience.has(profession) ? String(experience.get(profession)) : undefined,
        }),
      ),
    ),
    textInput("mediator-max_concurrent_cases", "Most cases at a time", {
      hint: "1 to 50",
      classes: "nhsuk-input--width-3",
      inputmode: "numeric",
      value: m ? String(m.maxConcurrentCases) : undefined,
    }),
    m ? checkbox("mediator-active", "Active: offered for new cases", m.active) : null,
  ];
}

// The mediator as the form has it, with a renaming of the server's list paths to the form's
// fields. Throws the problems found before asking the server.
function readForm(form: HTMLElement): { mediator: MediatorInit; rename: (field: string) => string } {
  const problems: Array<[string, string]> = [];
  const whole = (id: string, field: string, empty: number | undefined): number => {
    const text = valueOf(form, id);
    if (!text && empty !== undefined) return empty;
    if (!/^\d+$/.test(text)) {
      problems.push([field, text ? "enter a whole number" : "enter a number"]);
      return 0;
    }
    return Number(text);
  };
  const date = (id: string, field: string) => {
    const read = dateOf(form, id);
    if (read.problem) problems.push([field, read.problem]);
    return read.date;
  };
  const experience: Array<{ profession: Profession; cases: number }> = [];
  for (const [profession] of kProfessions) {
    const id = `mediator-experience-${profession}`;
    if (!valueOf(form, id)) continue;
    experience.push({ profession, cases: whole(id, `mediator.experience-${profession}`, undefined) });
  }
  const mediator: MediatorInit = {
    contact: {
      name: valueOf(form, "mediator-contact-name"),
      email: valueOf(form, "mediator-contact-email"),
      phone: valueOf(form, "mediator-contact-phone"),
      jobTitle: valueOf(form, "mediator-contact-job_title"),
    },
    accreditation: {
      body: Number(valueOf(form, "mediator-accreditation-body") || "0"),
      level: valueOf(form, "mediator-accreditation-level"),
      registrationNumber: valueOf(form, "mediator-accreditation-registration_number"),
      expiresOn: date("mediator-accreditation-expires_on", "mediator.accreditation.expires_on"),
    },
    insuranceExpiresOn: date("mediator-insurance_expires_on", "mediator.insurance_expires_on"),
    cpdHoursLast12Months: whole("mediator-cpd_hours_last_12_months", "mediator.cpd_hours_last_12_months", 0),
    nations: checkedValues(form, "mediator-nations").map(Number),
    languages: valueOf(form, "mediator-languages")
      .split(",")
      .map((l) => l.trim())
      .filter(Boolean),
    experience,
    maxConcurrentCases: whole("mediator-max_concurrent_cases", "mediator.max_concurrent_cases", 0),
    active: valueOf(form, "mediator-active") === "true",
  };
  if (problems.length > 0) throw localProblems(problems);
  const rename = (field: string) => {
    const entry = /^mediator\.experience\[(\d+)\]/.exec(field);
    if (entry) {
      const profession = experience[Number(entry[1])]?.profession;
      return profession ? `mediator.experience-${profession}` : field;
    }
    return field.replace(/^mediator\.(nations|languages)\[\d+\]$/, "mediator.$1");
  };
  return { mediator, rename };
}

export async function registerMediatorPage(context: PageContext): Promise<HTMLElement> {
  const key = idempotencyKey();
  const problems = h("div", {});
  const form = h(
    "form",
    { novalidate: "", id: "mediator-form" },
    ...fields(undefined),
    button("Register the mediator", { id: "mediator-submit" }),
  );
  onSubmit(form, problems, async () => {
    const { mediator, rename } = readForm(form);
    const response = await client(MediatorService)
      .registerMediator({ mediator, idempotencyKey: key })
      .catch((error: unknown) => {
        throw renameFields(error, rename);
      });
    const id = response.mediator?.id;
    if (!id) throw new Error("the server did not return the mediator");
    noticeFor(`/app/mediators/${id}`, `${response.mediator?.contact?.name ?? "The mediator"} is registered.`);
    navigate(`/app/mediators/${id}`);
  });
  return context.frame(
    "Register a mediator",
    backLink("/app/mediators", "Back to mediators"),
    problems,
    h("h1", {}, "Register a mediator"),
    h("p", { class: "nhsuk-body" }, "A registered mediator starts active. Set their working pattern after registering them."),
    form,
  );
}

export async function editMediatorPage(context: PageContext): Promise<HTMLElement> {
  const { mediator: read } = await client(MediatorService).getMediator({ mediatorId: BigInt(context.match[1]) });
  if (!read) throw new Error("the server did not return the mediator");
  const name = read.contact?.name || `Mediator ${read.id}`;
  const problems = h("div", {});
  const form = h(
    "form",
    { novalidate: "", id: "mediator-form" },
    ...fields(read),
    button("Save the changes", { id: "mediator-submit" }),
  );
  onSubmit(form, problems, async () => {
    const { mediator, rename } = readForm(form);
    await client(MediatorService)
      .updateMediator({
        mediator: { ...mediator, id: read.id, etag: read.etag },
        updateMask: { paths: ["*"] },
      })
      .catch((error: unknown) => {
        throw renameFields(error, rename);
      });
    noticeFor(`/app/mediators/${read.id}`, "The mediator's details are saved.");
    navigate(`/app/mediators/${read.id}`);
  });
  return context.frame(
    `Change ${name}'s details`,
    backLink(`/app/mediators/${read.id}`, `Back to ${name}`),
    problems,
    h("h1", {}, `Change ${name}'s details`),
    form,
  );
}
