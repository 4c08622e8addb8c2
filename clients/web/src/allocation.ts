// Allocating the mediators (/app/cases/<id>/allocation): the offers made and their answers, how
// many mediators the case needs, and the proposal for the next role as two tables: the
// eligible mediators ranked with the reasons, and the excluded ones with each reason.
import {
  AllocationRole,
  AllocationService,
  AllocationState,
  DeclineReason,
  type RankedMediator,
} from "@gen/ppa/mediation/v1/allocation_pb";
import { CaseState } from "@gen/ppa/mediation/v1/common_pb";
import type { Case } from "@gen/ppa/mediation/v1/referral_pb";

import { client, messageOf } from "./api";
import { kStaff, type PageContext, rerender, type Route, when, words } from "./app";
import { caseHeading, caseNavigation, loadCase } from "./cases";
import { h, inset, link, table, tag } from "./dom";
import { actionForm, radios, select, showProblems } from "./forms";
import { addDays, type CivilDate, dateText, dayChoices, isoDate, londonToday, parseIsoDate } from "./dates";
import { mediatorNames } from "./lookups";

function allocationTag(state: AllocationState): HTMLElement {
  switch (state) {
    case AllocationState.PENDING:
      return tag("Waiting for an answer", "yellow");
    case AllocationState.ACCEPTED:
      return tag("Accepted", "green");
    case AllocationState.DECLINED:
      return tag("Declined", "red");
    case AllocationState.RELEASED:
      return tag("Released", "grey");
    default:
      return tag("Not known", "grey");
  }
}

function rankedReasons(m: RankedMediator): string {
  const score = m.score;
  if (!score) return "";
  const parts = [
    `${score.currentCases} current case${score.currentCases === 1 ? "" : "s"}`,
    `first free ${dateText(score.firstAvailableDay, "full")}`,
    `knows ${score.relevantProfessions} of the parties' professions`,
    score.lastAllocatedAt ? `last offered a case ${when(score.lastAllocatedAt)}` : "never offered a case",
  ];
  return parts.join("; ");
}

function offerButton(
  c: Case,
  m: RankedMediator,
  role: AllocationRole,
  window: { first: CivilDate; last: CivilDate },
  problems: HTMLElement,
): HTMLElement {
  const form = h("form", { novalidate: "", class: "app-inline-form" });
  const confirmations = m.possibleConflicts.map((conflict, i) => {
    const id = `confirm-${m.mediatorId}-${i}`;
    return h(
      "div",
      { class: "nhsuk-checkboxes__item" },
      h("input", { class: "nhsuk-checkboxes__input", id, type: "checkbox", value: String(conflict.partyId) }),
      h("label", { class: "nhsuk-label nhsuk-checkboxes__label", for: id }, `Checked with the mediator: not a conflict (${conflict.detail})`),
    );
  });
  if (confirmations.length > 0) form.append(h("div", { class: "nhsuk-checkboxes nhsuk-checkboxes--small" }, ...confirmations));
  const submit = h(
    "button",
    { class: "nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0", type: "submit", id: `offer-${m.mediatorId}` },
    `Offer the ${role === AllocationRole.LEAD ? "lead" : "co-mediator"} role`,
    h("span", { class: "nhsuk-u-visually-hidden" }, ` to ${m.name}`),
  ) as HTMLButtonElement;
  form.append(submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    submit.disabled = true;
    const confirmed = [...form.querySelectorAll<HTMLInputElement>("input:checked")].map((box) => BigInt(box.value));
    client(AllocationService)
      .allocateMediator({
        caseId: c.id,
        mediatorId: m.mediatorId,
        role,
        windowFirstDay: window.first,
        windowLastDay: window.last,
        confirmedNoConflictPartyIds: confirmed,
      })
      .then(() => rerender())
      .catch((error: unknown) => {
        submit.disabled = false;
        showProblems(form, problems, [{ text: messageOf(error) }]);
      });
  });
  return form;
}

async function allocationPage(context: PageContext): Promise<HTMLElement> {
  const c = await loadCase(context.match[1]);
  const allocation = client(AllocationService);
  const [allocations, names] = await Promise.all([
    allocation.listAllocations({ caseId: c.id, includeClosed: true }),
    mediatorNames(),
  ]);
  const offers = allocations.allocations.length
    ? table(
        "Offers made",
        ["Mediator", "Role", "Answer", "Offered", "Answered", "Note"],
        allocations.allocations.map((a) => [
          link(`/app/mediators/${a.mediatorId}`, names.get(a.mediatorId) ?? `Mediator ${a.mediatorId}`),
          words(AllocationRole[a.role]),
          allocationTag(a.state),
          when(a.offeredAt),
          a.respondedAt ? when(a.respondedAt) : "",
          [a.declineReason ? words(DeclineReason[a.declineReason]) : "", a.responseNote].filter(Boolean).join(": "),
        ]),
        { id: "offers" },
      )
    : inset("No mediator has been offered a role on this case yet.");

  const content: Array<Node | null> = [
    ...caseHeading(c, "Allocation"),
    caseNavigation(c, `/app/cases/${c.id}/allocation`),
    offers,
  ];
  if (c.state !== CaseState.SUITABLE) {
    content.push(
      inset(`Mediators are proposed and offered while a case is suitable. This case is ${words(CaseState[c.state]).toLowerCase()}.`),
    );
    return context.frame(`Allocation - Case ${c.reference}`, ...content);
  }

  // The proposal's window and role come from the address, so the back button and a reload keep it.
  const today = londonToday();
  const first = parseIsoDate(context.query.get("from")) ?? today;
  const last = parseIsoDate(context.query.get("to")) ?? addDays(first, 90);
  const roleParam = context.query.get("role");
  const proposal = (
    await allocation.proposeAllocation({
      caseId: c.id,
      windowFirstDay: first,
      windowLastDay: last,
      role: roleParam === "co" ? AllocationRole.CO_MEDIATOR : roleParam === "lead" ? AllocationRole.LEAD : AllocationRole.UNSPECIFIED,
      maxCandidates: 20,
    })
  ).proposal;
  const problems = h("div", {});
  const windowForm = h(
    "form",
    { novalidate: "", id: "proposal-form", method: "get", action: window.location.pathname },
    h(
      "div",
      { class: "nhsuk-grid-row" },
      h("div", { class: "nhsuk-grid-column-one-third" }, select("from", "From", dayChoices(today, 0, 60), { value: isoDate(first) })),
      h("div", { class: "nhsuk-grid-column-one-third" }, select("to", "To", dayChoices(today, 14, 180), { value: isoDate(last) })),
      h(
        "div",
        { class: "nhsuk-grid-column-one-third" },
        select("role", "Role", [["", "The next unfilled role"], ["lead", "Lead"], ["co", "Co-mediator"]], { value: roleParam ?? "" }),
      ),
    ),
    h("button", { class: "nhsuk-button nhsuk-button--secondary", type: "submit" }, "Propose for these dates"),
  );
  windowForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const name of ["from", "to", "role"]) {
      const value = (windowForm.querySelector(`#${name}`) as HTMLSelectElement).value;
      if (value) params.set(name, value);
    }
    window.history.pushState({}, "", `${window.location.pathname}?${params.toString()}`);
    void rerender();
  });
  const role = proposal?.role ?? AllocationRole.LEAD;
  const window_ = { first, last };
  const ranked = proposal?.ranked ?? [];
  const pending = proposal?.pendingMediatorId ?? 0n;
  content.push(
    h("h2", {}, `Proposal for the ${role === AllocationRole.LEAD ? "lead" : "co-mediator"} role`),
    pending
      ? inset(`${names.get(pending) ?? `Mediator ${pending}`} has been offered this role and has not answered. The proposal shows who could take it if they decline.`)
      : null,
    windowForm,
    problems,
    ranked.length
      ? table(
          `Eligible mediators, best first (${proposal?.eligibleCount ?? 0} in all)`,
          ["Rank", "Mediator", "Why this rank", "Offer"],
          ranked.map((m) => [
            String(m.rank),
            h("span", {}, link(`/app/mediators/${m.mediatorId}`, m.name), ...(m.possibleConflicts.length ? [" ", tag("Possible conflict: confirm", "orange")] : [])),
            rankedReasons(m),
            pending ? "" : offerButton(c, m, role, window_, problems),
          ]),
          { id: "ranked" },
        )
      : inset("No mediator is eligible for these dates."),
    (proposal?.excluded.length ?? 0) > 0
      ? table(
          "Mediators excluded",
          ["Mediator", "Why"],
          (proposal?.excluded ?? []).map((m) => [
            link(`/app/mediators/${m.mediatorId}`, m.name),
            h("ul", { class: "nhsuk-list nhsuk-u-margin-bottom-0" }, ...m.details.map((d) => h("li", {}, d))),
          ]),
          { id: "excluded" },
        )
      : null,
    h("h2", {}, "Mediators the case needs"),
    actionForm(
      "required-form",
      [
        radios("count", "How many mediators does this case need?", [
          ["2", "Two: a lead and a co-mediator"],
          ["1", "One: a lead only"],
        ]),
      ],
      "Save",
      async (form) => {
        const chosen = form.querySelector<HTMLInputElement>("input[name=count]:checked")?.value ?? "0";
        await allocation.setMediatorsRequired({ caseId: c.id, count: Number(chosen) });
        await rerender();
      },
      "nhsuk-button--secondary",
    ),
  );
  return context.frame(`Allocation - Case ${c.reference}`, ...content);
}

export const allocationRoutes: Route[] = [
  { pattern: /^\/app\/cases\/([1-9][0-9]*)\/allocation$/, roles: kStaff, page: allocationPage },
];
