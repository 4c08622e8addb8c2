// The Administration section (/app/admin/...) and the service statistics (/app/statistics):
// an index of the administration pages, then each page in its own admin_*.ts file.
import { auditRoutes } from "./admin_audit";
import { backupRoutes } from "./admin_backup";
import { feeRoutes } from "./admin_fees";
import { kAdminOnly } from "./admin_parts";
import { statisticsRoutes } from "./admin_statistics";
import { tokenRoutes } from "./admin_tokens";
import type { PageContext, Route } from "./app";
import { h } from "./dom";

// The administration pages, each with what it is for.
const kSections: Array<[string, string, string]> = [
  ["/app/admin/tokens", "Access tokens", "Issue a token for someone who needs to use the service, see who has one, and revoke a token."],
  ["/app/admin/audit", "Audit trail", "See every change and refused call, and check that nobody has altered the trail."],
  ["/app/admin/backup", "Back up the database", "Make a copy of the database while the service keeps running."],
  ["/app/admin/fee-schedule", "Fee schedule", "See and change the fees an indication of charges is worked out from."],
  ["/app/mediators", "Mediators", "Register mediators and keep their accreditation, insurance and availability up to date."],
  ["/app/notifications", "Emails", "See the emails the service sent or could not send, and send one again."],
  ["/app/statistics", "Statistics", "See referrals, screening decisions, outcomes and waiting times, with no names."],
];

function card(href: string, title: string, description: string): HTMLElement {
  return h(
    "li",
    { class: "nhsuk-grid-column-one-half nhsuk-card-group__item" },
    h(
      "div",
      { class: "nhsuk-card nhsuk-card--clickable" },
      h(
        "div",
        { class: "nhsuk-card__content" },
        h("h2", { class: "nhsuk-card__heading nhsuk-heading-m" }, h("a", { class: "nhsuk-card__link", href }, title)),
        h("p", { class: "nhsuk-card__description" }, description),
      ),
    ),
  );
}

async function indexPage(context: PageContext): Promise<HTMLElement> {
  return context.frame(
    "Administration",
    h("h1", {}, "Administration"),
    h(
      "p",
      { class: "nhsuk-body-l" },
      "Look after who can use the service, its records and its fees. Administrators never see session notes.",
    ),
    h(
      "ul",
      { class: "nhsuk-grid-row nhsuk-card-group", id: "admin-sections" },
      ...kSections.map(([href, title, description]) => card(href, title, description)),
    ),
  );
}

export const adminRoutes: Route[] = [
  { pattern: /^\/app\/admin$/, roles: kAdminOnly, page: indexPage },
  ...tokenRoutes,
  ...auditRoutes,
  ...backupRoutes,
  ...feeRoutes,
  ...statisticsRoutes,
];
