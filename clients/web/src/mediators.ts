// The mediator registry, for the case support team, Senior Advisers and administrators:
//   /app/mediators                          the registry: search, filters, expiry flags, paged
//   /app/mediators/new                      registering one (administrators)
//   /app/mediators/import                   registering many from a CSV file (administrators)
//   /app/mediators/<id>                     the mediator's record (mediator_page.ts)
//   /app/mediators/<id>/edit                changing the record (administrators)
//   /app/mediators/<id>/working-pattern     the weekly working pattern (administrators)
//   /app/mediators/<id>/leave/new           adding leave (administrators)
//   /app/mediators/<id>/conflicts/new       declaring a conflict of interest (administrators)
// MediatorService lets only ADMIN change the registry; the other staff roles read it, and
// their pages offer nothing else.
import { type Mediator, MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";
import { Nation, Role } from "@gen/ppa/mediation/v1/common_pb";

import { client } from "./api";
import { kEveryStaffRole, navigate, type PageContext, type Route } from "./app";
import { dateText } from "./dates";
import { h, link } from "./dom";
import { button, checkbox, select, textInput, valueOf } from "./forms";
import { conflictPage, leavePage, workingPatternPage } from "./mediator_availability";
import { editMediatorPage, registerMediatorPage } from "./mediator_form";
import { importPage } from "./mediator_import";
import { mediatorPage } from "./mediator_page";
import {
  accreditationText,
  caseloadText,
  flagsOf,
  flagTags,
  kExpiryWarningDays,
  nationsText,
} from "./mediator_parts";
import { choices, count, kNations } from "./mediation_words";
import { actionLink, responsiveTable } from "./page_parts";
import { kPageLinkIds, pageToken, pagination, paging } from "./paging";

const kPageSize = 20;
// Reading the whole registry for an in-page filter: pages of this size, at most this many.
const kWholePageSize = 500;
const kMostPages = 20;
const kAdmin = [Role.ADMIN];

interface Filters {
  // In the API: only active mediators, only those covering a nation.
  activeOnly: boolean;
  nation: Nation;
  // In the page (the API has no such filter): a name, email or registration number, and only
  // those flagged for expiry.
  search: string;
  expiring: boolean;
}

function filtersOf(query: URLSearchParams): Filters {
  return {
    activeOnly: query.get("active") === "yes",
    nation: Number(query.get("nation") ?? "0") as Nation,
    search: (query.get("search") ?? "").trim(),
    expiring: query.get("expiring") === "yes",
  };
}

function matches(m: Mediator, filters: Filters): boolean {
  if (filters.expiring && !flagsOf(m).some((f) => f.kind === "accreditation" || f.kind === "insurance")) {
    return false;
  }
  if (!filters.search) return true;
  const wanted = filters.search.toLowerCase();
  return [m.contact?.name, m.contact?.email, m.accreditation?.registrationNumber].some((text) =>
    (text ?? "").toLowerCase().includes(wanted),
  );
}

function filterForm(filters: Filters): HTMLElement {
  const form = h(
    "form",
    { novalidate: "", id: "mediator-filters", role: "search", "aria-label": "Mediators" },
    textInput("search", "Name, email or registration number", { value: filters.search }),
    select("nation", "Nation covered", [["0", "All nations"], ...choices(kNations)], { value: String(filters.nation) }),
    checkbox("active", "Active mediators only", filters.activeOnly),
    checkbox("expiring", `Only those whose accreditation or insurance expires within ${kExpiryWarningDays} days`, filters.expiring),
    button("Search", { class: "nhsuk-button--secondary", id: "mediator-filters-submit" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    if (valueOf(form, "search")) query.set("search", valueOf(form, "search"));
    if (valueOf(form, "nation") && valueOf(form, "nation") !== "0") query.set("nation", valueOf(form, "nation"));
    if (valueOf(form, "active")) query.set("active", "yes");
    if (valueOf(form, "expiring")) query.set("expiring", "yes");
    const text = query.toString();
    navigate(text ? `/app/mediators?${text}` : "/app/mediators");
  });
  return form;
}

function registryTable(caption: string, mediators: Mediator[]): HTMLElement {
  return h(
    "div",
    {},
    responsiveTable(
      caption,
      ["Name", "Accreditation", "Accreditation valid until", "Insurance valid until", "Nations", "Current cases", "Flags"],
      mediators.map((m) => [
        link(`/app/mediators/${m.id}`, m.contact?.name || `Mediator ${m.id}`),
        accreditationText(m),
        dateText(m.accreditation?.expiresOn),
        dateText(m.insuranceExpiresOn),
        nationsText(m),
        caseloadText(m),
        flagTags(flagsOf(m)),
      ]),
      { id: "mediators" },
    ),
  );
}

async function registryPage(context: PageContext): Promise<HTMLElement> {
  const filters = filtersOf(context.query);
  const mediators = client(MediatorService);
  const inPage = filters.search !== "" || filters.expiring;
  let shown: Mediator[];
  let nextPageToken = "";
  let summary: HTMLElement;
  if (inPage) {
    // The API cannot search: read the whole registry (as the API filters it) and filter here.
    shown = [];
    let token = "";
    for (let i = 0; i < kMostPages; ++i) {
      const page = await mediators.listMediators({
        pageSize: kWholePageSize,
        pageToken: token,
        activeOnly: filters.activeOnly,
        nation: filters.nation,
      });
      shown.push(...page.mediators.filter((m) => matches(m, filters)));
      token = page.nextPageToken;
      if (!token) break;
    }
    summary = h(
      "p",
      { class: "nhsuk-body", id: "mediator-count" },
      shown.length === 0 ? "No mediators match." : `${count(shown.length, "mediator matches", "mediators match")}.`,
    );
  } else {
    const page = await mediators.listMediators({
      pageSize: kPageSize,
      pageToken: pageToken(context.query),
      activeOnly: filters.activeOnly,
      nation: filters.nation,
    });
    shown = page.mediators;
    nextPageToken = page.nextPageToken;
    summary = h(
      "p",
      { class: "nhsuk-body", id: "mediator-count" },
      shown.length === 0 ? "No mediators match." : "Mediators in order of registration.",
    );
  }
  const pages = paging("/app/mediators", context.query, nextPageToken);
  const number = pages.number;
  const admin = context.me.role === Role.ADMIN;
  return context.frame(
    "Mediators",
    h("h1", {}, "Mediators"),
    admin ? actionLink("/app/mediators/new", "Register a mediator", "register-mediator") : null,
    admin ? actionLink("/app/mediators/import", "Register mediators from a CSV file", "import-mediators") : null,
    filterForm(filters),
    summary,
    shown.length > 0
      ? registryTable(inPage ? "Mediators matching the search" : number > 1 ? `Mediators, page ${number}` : "Mediators", shown)
      : null,
    inPage ? null : pagination(pages, { ids: kPageLinkIds }),
  );
}

export const mediatorRoutes: Route[] = [
  { pattern: /^\/app\/mediators$/, roles: kEveryStaffRole, page: registryPage },
  { pattern: /^\/app\/mediators\/new$/, roles: kAdmin, page: registerMediatorPage },
  { pattern: /^\/app\/mediators\/import$/, roles: kAdmin, page: importPage },
  { pattern: /^\/app\/mediators\/(\d+)$/, roles: kEveryStaffRole, page: mediatorPage },
  { pattern: /^\/app\/mediators\/(\d+)\/edit$/, roles: kAdmin, page: editMediatorPage },
  { pattern: /^\/app\/mediators\/(\d+)\/working-pattern$/, roles: kAdmin, page: workingPatternPage },
  { pattern: /^\/app\/mediators\/(\d+)\/leave\/new$/, roles: kAdmin, page: leavePage },
  { pattern: /^\/app\/mediators\/(\d+)\/conflicts\/new$/, roles: kAdmin, page: conflictPage },
];
