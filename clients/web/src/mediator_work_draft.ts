// Drafting the agreement (/app/cases/<id>/agreement/draft): the commitments (the parties' words,
// whom each binds, a review date) and the free text, starting from the latest version; each save
// is a new version (DraftAgreement). The save carries the version the page started from, and
// the server refuses it (ABORTED) when another version was saved since, so nobody's version is
// silently passed over.
import type { MessageInitShape } from "@bufbuild/protobuf";

import { type AgreementItem, type AgreementItemSchema, AgreementService } from "@gen/ppa/mediation/v1/agreement_pb";
import { CaseState } from "@gen/ppa/mediation/v1/common_pb";

import { client } from "./api";
import { navigate, type PageContext, words } from "./app";
import { loadCase } from "./cases";
import { h, inset, link, warningCallout } from "./dom";
import { actionForm, checkboxes, checkedValues, dateInput, dateOf, kDateHint, localProblems, textarea, valueOf } from "./forms";
import { readable, readVersions } from "./mediator_work_agreement";
import { agreementOpen, partyName, workHeading, workTitle } from "./mediator_work_parts";
import { idempotencyKey, noticeFor, renameFields } from "./page_parts";

// One commitment as typed (the date's parts as they are, so a re-drawn list keeps them).
interface ItemDraft {
  commitment: string;
  partyIds: string[];
  date: [string, string, string];
}

const kEmpty: ItemDraft = { commitment: "", partyIds: [], date: ["", "", ""] };

function draftOf(item: AgreementItem): ItemDraft {
  const d = item.reviewDate;
  return {
    commitment: item.commitment,
    partyIds: item.partyIds.map(String),
    date: d && d.year ? [String(d.day), String(d.month), String(d.year)] : ["", "", ""],
  };
}

const id = (i: number, field: string) => `content-items-${i}-${field}`;

function dateParts(form: HTMLElement, i: number): [string, string, string] {
  const part = (suffix: string) =>
    form.querySelector<HTMLInputElement>(`[id="${id(i, "review_date")}${suffix}"]`)?.value ?? "";
  return [part(""), part("-month"), part("-year")];
}

function isBlank(d: ItemDraft): boolean {
  return !d.commitment.trim() && d.partyIds.length === 0 && d.date.every((p) => !p.trim());
}

export async function draftPage(context: PageContext): Promise<HTMLElement> {
  const c = await loadCase(context.match[1]);
  const versions = await readVersions(c);
  const agreementPath = `/app/cases/${c.id}/agreement`;
  const heading = (title: string) => [...workHeading(c, title, agreementPath), h("p", { class: "nhsuk-body" }, link(agreementPath, "Back to the agreement"))];
  if (!agreementOpen(c)) {
    return context.frame(
      workTitle("Draft the agreement", c),
      ...heading("Draft the agreement"),
      inset(
        `The agreement is drafted once sessions are booked, and never once the outcome is recorded. This case is ${words(CaseState[c.state]).toLowerCase()}.`,
      ),
    );
  }
  // The version this draft starts from: a save is refused if another was saved since.
  const base = versions.at(-1);
  const basedOn = base?.version ?? 0;
  const startFrom = base && readable(base) ? base.content : undefined;
  let drafts: ItemDraft[] = startFrom?.items.length ? startFrom.items.map(draftOf) : [{ ...kEmpty }];

  const partyChoices = c.parties.map((p): [string, string] => [String(p.id), partyName(c, p.id)]);
  const list = h("div", { id: "items" });
  const read = (form: HTMLElement): ItemDraft[] =>
    drafts.map((_, i) => ({
      commitment: valueOf(form, id(i, "commitment")),
      partyIds: checkedValues(form, id(i, "party_ids")),
      date: dateParts(form, i),
    }));
  const draw = () => {
    list.replaceChildren(
      ...drafts.map((d, i) => {
        const remove = h(
          "button",
          { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small", id: `remove-item-${i}` },
          "Remove",
          h("span", { class: "nhsuk-u-visually-hidden" }, ` commitment ${i + 1}`),
        );
        remove.addEventListener("click", () => {
          drafts = read(form);
          drafts.splice(i, 1);
          draw();
          (form.querySelector<HTMLElement>(`[id="${id(Math.min(i, drafts.length - 1), "commitment")}"]`) ?? add).focus();
        });
        const item = h(
          "fieldset",
          { class: "nhsuk-fieldset nhsuk-u-margin-bottom-6", id: `item-${i}` },
          h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, `Commitment ${i + 1}`),
          textarea(id(i, "commitment"), "What is agreed, in the parties' own words", {
            value: d.commitment,
            hint: "For example, how they will raise a concern with each other. At most 2,000 characters.",
          }),
          checkboxes(id(i, "party_ids"), "Whom does it bind?", partyChoices, { checked: d.partyIds }),
          dateInput(id(i, "review_date"), "Review date (optional)", { hint: kDateHint }),
          remove,
        );
        const parts = ["", "-month", "-year"];
        parts.forEach((suffix, k) => {
          const input = item.querySelector<HTMLInputElement>(`[id="${id(i, "review_date")}${suffix}"]`);
          if (input) input.value = d.date[k];
        });
        return item;
      }),
    );
  };
  const add = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary", id: "add-item" }, "Add another commitment");
  add.addEventListener("click", () => {
    drafts = [...read(form), { ...kEmpty }];
    draw();
    form.querySelector<HTMLElement>(`[id="${id(drafts.length - 1, "commitment")}"]`)?.focus();
  });
  const freeText = textarea("content-free_text", "Shared understandings and anything else agreed", {
    value: startFrom?.freeText ?? "",
    hint: "How they will communicate, what to do if it is not working, in their own words. At most 20,000 characters.",
  });
  freeText.querySelector("textarea")?.setAttribute("rows", "8");

  const key = idempotencyKey();
  const wrapper = actionForm(
    "draft",
    [list, add, freeText],
    `Save as version ${basedOn + 1}`,
    async (form) => {
      drafts = read(form);
      // Blank commitments are left out: the server numbers the rest from 0.
      const kept: number[] = [];
      const items: Array<MessageInitShape<typeof AgreementItemSchema>> = [];
      const local: Array<[string, string]> = [];
      drafts.forEach((d, i) => {
        if (isBlank(d)) return;
        const review = dateOf(form, id(i, "review_date"));
        if (review.problem) local.push([`content.items[${i}].review_date`, review.problem]);
        kept.push(i);
        items.push({ commitment: d.commitment, partyIds: d.partyIds.map(BigInt), reviewDate: review.date });
      });
      if (local.length > 0) throw localProblems(local);
      const agreement = client(AgreementService);
      const saved = await agreement
        .draftAgreement({
          caseId: c.id,
          content: { items, freeText: valueOf(form, "content-free_text") },
          // The server refuses the save (ABORTED) if a version was saved since this page read it.
          expectedLatestVersion: basedOn,
          idempotencyKey: key,
        })
        .catch((error: unknown) => {
          throw renameFields(error, (field) =>
            field === "content"
              ? "content.free_text"
              : field.replace(/^content\.items\[(\d+)\]/, (_, k: string) => `content.items[${kept[Number(k)] ?? k}]`),
          );
        });
      noticeFor(agreementPath, `Version ${saved.version?.version ?? ""} is saved.`);
      navigate(agreementPath);
    },
  );
  const form = wrapper.querySelector("form") as HTMLElement;
  draw();

  return context.frame(
    workTitle("Draft the agreement", c),
    ...heading(`Draft version ${basedOn + 1}`),
    h(
      "p",
      { class: "nhsuk-body" },
      base
        ? `This starts from version ${base.version}. Saving makes version ${basedOn + 1}; version ${base.version} and its signatures stay as they are, and each party signs the new version again.`
        : "Saving makes version 1. Each later save is a new version, and each party signs the version they read.",
    ),
    base && !readable(base)
      ? warningCallout(`The text of version ${base.version} cannot be shown`, "Start again from an empty draft.")
      : null,
    wrapper,
  );
}
