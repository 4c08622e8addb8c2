// The requesting organisations, for the case support team and Senior Advisers:
//   /app/organisations        the list, in order of registration, paged, by nation
//   /app/organisations/new    registering one (case support only: the API's rule)
//   /app/organisations/<id>   its details and the cases it referred, paged
import { timestampDate } from "@bufbuild/protobuf/wkt";

import { CaseState, Nation, Role } from "@gen/ppa/mediation/v1/common_pb";
import { type Organisation, OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";
import { ReferralService } from "@gen/ppa/mediation/v1/referral_pb";

import { client } from "./api";
import { kStaff, londonDate, navigate, type PageContext, type Route, when, words } from "./app";
import { backLink, h, link, summaryList } from "./dom";
import { button, onSubmit, radios, select, textInput, valueOf } from "./forms";
import {
  choices,
  kCareSettings,
  kNations,
  kOrganisationKinds,
  kSectors,
  label,
} from "./mediation_words";
import {
  actionLink,
  idempotencyKey,
  noticeFor,
  responsiveTable,
  takeNotice,
} from "./page_parts";
import { kPageLinkIds, pageToken, pagination, paging } from "./paging";

const kPageSize = 20;
// Who may register an organisation (OrganisationService: ADMIN and CASE_SUPPORT; the console
// offers organisations to case support and Senior Advisers).
const kRegisters = [Role.CASE_SUPPORT];

function registered(o: Organisation): string {
  return o.createdAt ? londonDate(timestampDate(o.createdAt)) : "Not known";
}

async function listPage(context: PageContext): Promise<HTMLElement> {
  const nation = Number(context.query.get("nation") ?? "0") as Nation;
  const page = await client(OrganisationService).listOrganisations({
    pageSize: kPageSize,
    pageToken: pageToken(context.query),
    nation,
  });
  const filter = h(
    "form",
    { novalidate: "", id: "organisation-filter", class: "nhsuk-u-margin-bottom-4" },
    select("nation", "Nation", [["0", "All nations"], ...choices(kNations)], { value: String(nation) }),
    button("Show organisations", { class: "nhsuk-button--secondary" }),
  );
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = valueOf(filter, "nation");
    navigate(chosen && chosen !== "0" ? `/app/organisations?nation=${chosen}` : "/app/organisations");
  });
  const pages = paging("/app/organisations", context.query, page.nextPageToken);
  const number = pages.number;
  const list =
    page.organisations.length === 0
      ? h("p", { class: "nhsuk-body", id: "no-organisations" }, "No organisations are registered here yet.")
      : h(
          "div",
          {},
          responsiveTable(
            number > 1 ? `Registered organisations, page ${number}` : "Registered organisations",
            ["Name", "Kind", "Nation", "ODS code", "Registered"],
            page.organisations.map((o) => [
              link(`/app/organisations/${o.id}`, o.name),
              label(kOrganisationKinds, o.kind),
              label(kNations, o.nation),
              o.odsCode || "None",
              registered(o),
            ]),
            { id: "organisations" },
          ),
        );
  return context.frame(
    "Organisations",
    h("h1", {}, "Organisations"),
    kRegisters.includes(context.me.role)
      ? actionLink("/app/organisations/new", "Register an organisation", "register-organisation")
      : null,
    filter,
    list,
    pagination(pages, { ids: kPageLinkIds }),
  );
}

async function registerPage(context: PageContext): Promise<HTMLElement> {
  const key = idempotencyKey();
  const problems = h("div", {});
  const form = h(
    "form",
    { novalidate: "", id: "organisation-form" },
    textInput("organisation-name", "Organisation name"),
    radios("organisation-kind", "Kind of organisation", choices(kOrganisationKinds)),
    radios("organisation-nation", "Nation", choices(kNations)),
    radios("organisation-care_setting", "Care setting", choices(kCareSettings)),
    radios("organisation-sector", "Sector", choices(kSectors)),
    textInput("organisation-ods_code", "ODS code (optional)", {
      hint: "The NHS Organisation Data Service code: 3 to 10 letters and digits, for example RXH",
      classes: "nhsuk-input--width-10",
    }),
    h(
      "fieldset",
      { class: "nhsuk-fieldset" },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, "Main contact"),
      textInput("organisation-contact-name", "Full name"),
      textInput("organisation-contact-email", "Email address", { type: "email" }),
      textInput("organisation-contact-phone", "Telephone number (optional)", {
        type: "tel",
        classes: "nhsuk-input--width-20",
      }),
      textInput("organisation-contact-job_title", "Job title (optional)"),
    ),
    button("Register the organisation", { id: "organisation-submit" }),
  );
  onSubmit(form, problems, async () => {
    const number = (id: string) => Number(valueOf(form, id) || "0");
    const { organisation } = await client(OrganisationService).registerOrganisation({
      organisation: {
        name: valueOf(form, "organisation-name"),
        kind: number("organisation-kind"),
        nation: number("organisation-nation"),
        careSetting: number("organisation-care_setting"),
        sector: number("organisation-sector"),
        odsCode: valueOf(form, "organisation-ods_code"),
        contact: {
          name: valueOf(form, "organisation-contact-name"),
          email: valueOf(form, "organisation-contact-email"),
          phone: valueOf(form, "organisation-contact-phone"),
          jobTitle: valueOf(form, "organisation-contact-job_title"),
        },
      },
      idempotencyKey: key,
    });
    if (!organisation) throw new Error("the server did not return the organisation");
    noticeFor(`/app/organisations/${organisation.id}`, `${organisation.name} is registered.`);
    navigate(`/app/organisations/${organisation.id}`);
  });
  return context.frame(
    "Register an organisation",
    backLink("/app/organisations", "Back to organisations"),
    problems,
    h("h1", {}, "Register an organisation"),
    h(
      "p",
      { class: "nhsuk-body" },
      "An NHS trust, GP or dental practice, pharmacy, independent provider or health board that refers cases to the service.",
    ),
    form,
  );
}

async function organisationPage(context: PageContext): Promise<HTMLElement> {
  const id = BigInt(context.match[1]);
  const [{ organisation }, cases] = await Promise.all([
    client(OrganisationService).getOrganisation({ organisationId: id }),
    client(ReferralService).listCases({
      organisationId: id,
      pageSize: kPageSize,
      pageToken: pageToken(context.query),
    }),
  ]);
  if (!organisation) throw new Error("the server did not return the organisation");
  const contact = organisation.contact;
  const pages = paging(window.location.pathname, context.query, cases.nextPageToken);
  const number = pages.number;
  const caseList =
    cases.cases.length === 0
      ? h("p", { class: "nhsuk-body", id: "no-cases" }, "This organisation has not referred any cases yet.")
      : h(
          "div",
          {},
          responsiveTable(
            number > 1 ? `Cases referred by ${organisation.name}, page ${number}` : `Cases referred by ${organisation.name}`,
            ["Case", "State", "Referred", "Last changed"],
            cases.cases.map((c) => [
              link(`/app/cases/${c.id}`, c.reference || `Case ${c.id}`),
              words(CaseState[c.state]),
              when(c.createdAt),
              when(c.updatedAt),
            ]),
            { id: "organisation-cases" },
          ),
        );
  return context.frame(
    organisation.name,
    backLink("/app/organisations", "Back to organisations"),
    takeNotice(window.location.pathname),
    h("h1", {}, organisation.name),
    summaryList([
      ["Kind", label(kOrganisationKinds, organisation.kind)],
      ["Nation", label(kNations, organisation.nation)],
      ["Care setting", label(kCareSettings, organisation.careSetting)],
      ["Sector", label(kSectors, organisation.sector)],
      ["ODS code", organisation.odsCode || "None"],
      ["Main contact", contact?.name || "Not known"],
      ["Contact email", contact?.email || "Not known"],
      ["Contact telephone", contact?.phone || "Not given"],
      ["Contact job title", contact?.jobTitle || "Not given"],
      ["Registered", registered(organisation)],
    ]),
    h("h2", {}, "Cases"),
    context.me.role === Role.CASE_SUPPORT
      ? actionLink(`/app/referrals/new?organisation=${organisation.id}`, "Record a referral for this organisation", "record-referral")
      : null,
    caseList,
    pagination(pages, { ids: kPageLinkIds }),
  );
}

export const organisationRoutes: Route[] = [
  { pattern: /^\/app\/organisations$/, roles: kStaff, page: listPage },
  { pattern: /^\/app\/organisations\/new$/, roles: kRegisters, page: registerPage },
  { pattern: /^\/app\/organisations\/(\d+)$/, roles: kStaff, page: organisationPage },
];
