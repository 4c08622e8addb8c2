// Recording a referral for an organisation (`/app/referrals/new`): the referrer, the summary,
// the concern level and type, and the parties (two to ten) with what they need to take part. The server checks every field; its INVALID_ARGUMENT names
// each problem as "<field>: <problem>" (joined with "; "), and each is shown in the NHS error
// summary, linked to its field, and beside the field. Staff choose the referring organisation;
// an organisation refers for itself (`own`): its name is shown, not chosen.
import { AccessNeed, ConcernLevel, ConcernType, Profession } from "@gen/ppa/mediation/v1/common_pb";
import { ReferralService } from "@gen/ppa/mediation/v1/referral_pb";

import { client } from "./api";
import { backLink, h, summaryList } from "./dom";
import { button, checkboxes, checkedValues, onSubmit, select, textarea, textInput, valueOf } from "./forms";
import { organisations } from "./lookups";

const kProfessions: Array<[string, string]> = [
  [String(Profession.DOCTOR), "Doctor"],
  [String(Profession.DENTIST), "Dentist"],
  [String(Profession.PHARMACIST), "Pharmacist"],
  [String(Profession.OTHER_HEALTHCARE_STAFF), "Other healthcare staff"],
  [String(Profession.MANAGER), "Manager"],
];

const kAccessNeeds: Array<[AccessNeed, string]> = [
  [AccessNeed.STEP_FREE, "Step-free access"],
  [AccessNeed.HEARING_LOOP, "A hearing loop"],
  [AccessNeed.QUIET_ROOM, "A quiet room"],
  [AccessNeed.BSL_INTERPRETER, "A British Sign Language interpreter"],
];
const kMaxParties = 10;

function partyFields(index: number): HTMLElement {
  const prefix = `parties-${index}`;
  return h(
    "fieldset",
    { class: "nhsuk-fieldset", id: `${prefix}` },
    h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, `Party ${index + 1}`),
    textInput(`${prefix}-contact-name`, "Full name"),
    textInput(`${prefix}-contact-email`, "Email address", { type: "email" }),
    textInput(`${prefix}-contact-job_title`, "Job title (optional)"),
    select(`${prefix}-profession`, "Profession", kProfessions),
    checkboxes(
      `${prefix}-access_needs`,
      "What they need to take part in person (optional)",
      kAccessNeeds.map(([need, text]): [string, string] => [String(need), text]),
      { idsByValue: true },
    ),
    textarea(`${prefix}-accessibility_needs`, "Anything else to arrange for them (optional)", {
      hint: "For example an interpreter for another language, or breaks.",
    }),
  );
}

// The organisation an ORGANISATION token acts for (WhoAmI's binding), referring for itself.
export interface OwnOrganisation {
  id: bigint;
  name: string;
}

// Staff: a choice of every organisation, `organisationId` chosen first.
async function organisationChoice(organisationId?: string): Promise<HTMLElement> {
  const orgs = await organisations();
  return select(
    "organisation_id",
    "Referring organisation",
    [...orgs.values()].map((o): [string, string] => [String(o.id), o.name]),
    { value: organisationId },
  );
}

export async function referralForm(
  frame: (title: string, ...content: Array<Node | null>) => HTMLElement,
  done: (caseId: bigint) => void,
  organisationId?: string,
  own?: OwnOrganisation,
): Promise<HTMLElement> {
  const organisationField = own
    ? h("div", { id: "referring-organisation" }, summaryList([["Referring organisation", own.name]]))
    : await organisationChoice(organisationId);
  const problems = h("div", {});
  const parties = h("div", { id: "parties" }, partyFields(0), partyFields(1));
  const addParty = h(
    "button",
    { class: "nhsuk-button nhsuk-button--secondary", type: "button", id: "add-party" },
    "Add another party",
  ) as HTMLButtonElement;
  addParty.addEventListener("click", () => {
    const count = parties.children.length;
    if (count >= kMaxParties) return;
    const added = partyFields(count);
    parties.append(added);
    if (count + 1 >= kMaxParties) addParty.hidden = true;
    added.querySelector("input")?.focus();
  });
  const form = h(
    "form",
    { novalidate: "" },
    organisationField,
    h(
      "fieldset",
      { class: "nhsuk-fieldset" },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, "Referrer"),
      textInput("referrer-name", "Full name"),
      textInput("referrer-email", "Email address", { type: "email" }),
    ),
    textarea("summary", "What the conflict is about"),
    select("concern_level", "Level of concern", [
      [String(ConcernLevel.UNSPECIFIED), "Not known"],
      [String(ConcernLevel.LOW), "Low"],
      [String(ConcernLevel.MID), "Medium"],
      [String(ConcernLevel.HIGH), "High"],
    ]),
    select("concern_type", "Type of concern", [
      [String(ConcernType.UNSPECIFIED), "Not known"],
      [String(ConcernType.ACTIVE), "Active: the practitioner is directly involved"],
      [String(ConcernType.PASSIVE), "Passive: the practitioner is affected by it"],
      [String(ConcernType.BYSTANDER), "Bystander: the practitioner saw it"],
    ]),
    parties,
    addParty,
    h("div", {}, button("Record the referral", { id: "record" })),
  );
  onSubmit(form, problems, async () => {
    const party = (i: number) => ({
      contact: {
        name: valueOf(form, `parties-${i}-contact-name`),
        email: valueOf(form, `parties-${i}-contact-email`),
        jobTitle: valueOf(form, `parties-${i}-contact-job_title`),
      },
      profession: Number(valueOf(form, `parties-${i}-profession`)) as Profession,
      accessNeeds: checkedValues(form, `parties-${i}-access_needs`).map((need) => Number(need) as AccessNeed),
      accessibilityNeeds: valueOf(form, `parties-${i}-accessibility_needs`),
    });
    const response = await client(ReferralService).createReferral({
      organisationId: own ? own.id : BigInt(valueOf(form, "organisation_id") || "0"),
      referrer: { name: valueOf(form, "referrer-name"), email: valueOf(form, "referrer-email") },
      summary: valueOf(form, "summary"),
      concernLevel: Number(valueOf(form, "concern_level")) as ConcernLevel,
      concernType: Number(valueOf(form, "concern_type")) as ConcernType,
      parties: [...parties.children].map((_, i) => party(i)),
    });
    if (response.case) done(response.case.id);
  });
  const title = own ? "Refer a case" : "Record a referral";
  return frame(
    title,
    backLink("/app", own ? "Back to your cases" : "Back to work queues"),
    problems,
    h("h1", {}, title),
    form,
  );
}
