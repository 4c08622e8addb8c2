// What the mediator's notes, agreement and outcome pages share: the heading and the contents
// list of the three pages, party names and the outcomes in words (multi-line text shown line by
// line is page_parts.ts's paragraphs).
import { CaseState } from "@gen/ppa/mediation/v1/common_pb";
import { Outcome } from "@gen/ppa/mediation/v1/agreement_pb";
import type { Case } from "@gen/ppa/mediation/v1/referral_pb";

import { stateTag } from "./cases";
import { backLink, h } from "./dom";

// The mediator's pages of a case (the case page itself is mediator_console's).
function pagesOf(caseId: bigint): Array<[string, string]> {
  const base = `/app/cases/${caseId}`;
  return [
    [base, "Case summary"],
    [`${base}/notes`, "Notes"],
    [`${base}/agreement`, "Agreement"],
    [`${base}/outcome`, "Outcome and follow-up"],
  ];
}

// The start of each page, in this order (mediator_console_case.ts takes its parts): back to the
// case, the case's reference and state, the page's heading, and the contents list with
// `current` (the path of the page, or of the page it belongs to).
export function workHeading(c: Case, title: string, current: string): Node[] {
  return [
    backLink(`/app/cases/${c.id}`, "Back to the case"),
    h("span", { class: "nhsuk-caption-l" }, `Case ${c.reference} `, stateTag(c.state)),
    h("h1", {}, title),
    h(
      "nav",
      { class: "nhsuk-contents-list", role: "navigation", "aria-label": "Mediation work on this case" },
      h(
        "ol",
        { class: "nhsuk-contents-list__list" },
        ...pagesOf(c.id).map(([href, text]) =>
          h(
            "li",
            { class: "nhsuk-contents-list__item", "aria-current": href === current ? "page" : undefined },
            href === current
              ? h("span", { class: "nhsuk-contents-list__current" }, text)
              : h("a", { class: "nhsuk-contents-list__link", href }, text),
          ),
        ),
      ),
    ),
  ];
}

// The page title: the page and the case reference (never a name or a note's text).
export function workTitle(page: string, c: Case): string {
  return `${page} - Case ${c.reference}`;
}

export function partyName(c: Case, partyId: bigint): string {
  return c.parties.find((p) => p.id === partyId)?.contact?.name || `Party ${partyId}`;
}

// "Dr A", "Dr A and Dr B", "Dr A, Dr B and Dr C".
export function namesText(names: string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

// Cases whose notes can no longer be added to (the server's terminal states).
export function isFinished(c: Case): boolean {
  return [CaseState.CLOSED, CaseState.NOT_SUITABLE, CaseState.WITHDRAWN].includes(c.state);
}

// The states in which the agreement is drafted and signed.
export function agreementOpen(c: Case): boolean {
  return c.state === CaseState.SESSIONS_SCHEDULED || c.state === CaseState.IN_MEDIATION;
}

export const kOutcomes: Array<[Outcome, string]> = [
  [Outcome.FULL_AGREEMENT, "Full agreement"],
  [Outcome.PARTIAL_AGREEMENT, "Partial agreement"],
  [Outcome.NO_AGREEMENT, "No agreement"],
  [Outcome.WITHDRAWN, "Withdrawn"],
  [Outcome.ENDED_BY_MEDIATOR, "Ended by the mediator"],
];
