// A case's outcome agreement, for its mediators (/app/cases/<id>/agreement): a version (the
// latest, or ?version=N) with its commitments, free text and signatures; recording a signature
// a party made on paper on the latest version; every version; and the differences between two
// versions (?from=A&to=B). Drafting a new version is mediator_work_draft.ts.
import type { AgreementContent, AgreementItem, AgreementVersion } from "@gen/ppa/mediation/v1/agreement_pb";
import { AgreementService } from "@gen/ppa/mediation/v1/agreement_pb";
import { CaseState } from "@gen/ppa/mediation/v1/common_pb";
import type { Case } from "@gen/ppa/mediation/v1/referral_pb";

import { client } from "./api";
import { type PageContext, rerender, when, words } from "./app";
import { loadCase } from "./cases";
import { type CivilDate, dateText, isoDate } from "./dates";
import { h, inset, summaryList, table, tag, warningCallout } from "./dom";
import { actionForm, localProblems, radios, select, valueOf } from "./forms";
import { type Difference, differences } from "./mediator_work_diff";
import { agreementOpen, namesText, partyName, workHeading, workTitle } from "./mediator_work_parts";
import { actionLink, clearProblems, idempotencyKey, noticeFor, paragraphs, responsiveTable, takeNotice, textLines } from "./page_parts";

export async function readVersions(c: Case): Promise<AgreementVersion[]> {
  return (await client(AgreementService).getAgreement({ caseId: c.id })).versions;
}

// Whether the version's text could be given back (it is withheld when it no longer matches its
// hash, or was destroyed).
export function readable(v: AgreementVersion): boolean {
  return v.withheld.length === 0 && v.content !== undefined;
}

function reviewText(d: CivilDate | undefined): string {
  return d && d.year ? dateText(d) : "None";
}

// One commitment in one line: what, whom it binds, when it is reviewed.
function itemText(c: Case, item: AgreementItem): string {
  const binds = namesText(item.partyIds.map((id) => partyName(c, id)));
  const review = item.reviewDate && item.reviewDate.year ? `; review on ${dateText(item.reviewDate)}` : "";
  return `${item.commitment} (binds ${binds}${review})`;
}

// What makes two commitments the same: their words, the parties and the review date.
function itemKey(item: AgreementItem): string {
  const parties = [...item.partyIds].map(String).sort();
  return JSON.stringify([item.commitment, parties, item.reviewDate?.year ? isoDate(item.reviewDate) : ""]);
}

function statusOf(v: AgreementVersion, latest: AgreementVersion | undefined): string {
  if (!readable(v)) return "Cannot be shown";
  if (v.final) return "Final";
  return v.id === latest?.id ? "Latest draft" : "Earlier draft";
}

function signersText(c: Case, v: AgreementVersion): string {
  return v.signatures.length ? namesText(v.signatures.map((s) => partyName(c, s.partyId))) : "Nobody yet";
}

function contentOf(c: Case, v: AgreementVersion): Node[] {
  if (!readable(v)) {
    return [
      warningCallout(
        `The text of version ${v.version} cannot be shown`,
        "It no longer matches the content its signatures name (it was altered in the database), or it was destroyed at the end of the retention period. It cannot be signed.",
      ),
    ];
  }
  const content = v.content as AgreementContent;
  return [
    content.items.length
      ? table(
          `Commitments in version ${v.version}`,
          ["Commitment", "Binds", "Review date"],
          content.items.map((item) => [
            item.commitment,
            namesText(item.partyIds.map((id) => partyName(c, id))),
            reviewText(item.reviewDate),
          ]),
          { id: "items" },
        )
      : h("p", { class: "nhsuk-body", id: "items" }, "This version has no separate commitments."),
    h("h3", {}, "Shared understandings and other agreed text"),
    content.freeText ? paragraphs(content.freeText, { id: "free-text", class: "app-answer" }) : h("p", { class: "nhsuk-body", id: "free-text" }, "None."),
  ];
}

function signaturesTable(c: Case, v: AgreementVersion): HTMLElement {
  return table(
    `Signatures on version ${v.version}`,
    ["Party", "Signed", "How", "Consents to the organisation seeing it"],
    c.parties.map((p) => {
      const s = v.signatures.find((signature) => signature.partyId === p.id);
      return [
        partyName(c, p.id),
        s ? when(s.signedAt) : "Not signed",
        s ? (s.onPaper ? "On paper, recorded by a mediator" : "In the console, by the party") : "",
        s ? (s.consentToShare ? "Yes" : "No") : "",
      ];
    }),
    { id: "signatures" },
  );
}

function paperSignatureForm(c: Case, v: AgreementVersion, path: string): HTMLElement | null {
  const unsigned = c.parties.filter((p) => !v.signatures.some((s) => s.partyId === p.id));
  if (unsigned.length === 0) return null;
  const key = idempotencyKey();
  return h(
    "section",
    { "aria-labelledby": "paper-heading" },
    h("h2", { id: "paper-heading" }, "Record a signature made on paper"),
    h(
      "p",
      { class: "nhsuk-body" },
      `When a party has signed a printed copy of version ${v.version}, record it here. A signature, and what the party said about sharing, cannot be changed afterwards.`,
    ),
    actionForm(
      "paper-signature",
      [
        radios(
          "party_id",
          `Who signed version ${v.version} on paper?`,
          unsigned.map((p): [string, string] => [String(p.id), partyName(c, p.id)]),
        ),
        radios(
          "consent_to_share",
          "On the paper they signed, did they consent to the organisation seeing the agreement?",
          [
            ["true", "Yes, they consented"],
            ["false", "No, they did not consent"],
          ],
        ),
      ],
      "Record the paper signature",
      async (form) => {
        const consent = valueOf(form, "consent_to_share");
        if (!consent) throw localProblems([["consent_to_share", "say what the party said on paper about sharing"]]);
        const partyId = BigInt(valueOf(form, "party_id") || "0");
        await client(AgreementService).signAgreement({
          versionId: v.id,
          contentHash: v.contentHash,
          partyId,
          consentToShare: consent === "true",
          idempotencyKey: key,
        });
        noticeFor(path, `The paper signature of ${partyName(c, partyId)} on version ${v.version} is recorded.`);
        await rerender();
      },
    ),
  );
}

function versionsTable(c: Case, versions: AgreementVersion[], path: string): HTMLElement {
  const latest = versions.at(-1);
  return responsiveTable(
    "Every version, oldest first",
    ["Version", "Saved", "Signed by", "Status"],
    versions.map((v) => [
      h("a", { href: `${path}?version=${v.version}` }, `Version ${v.version}`),
      when(v.createdAt),
      signersText(c, v),
      statusOf(v, latest),
    ]),
    { id: "versions" },
  );
}

// Two versions to compare; the differences are shown in `results`, and the address keeps the
// choice (a reload or the back button shows them again).
function compareForm(
  c: Case,
  versions: AgreementVersion[],
  results: HTMLElement,
  from?: number,
  to?: number,
): HTMLElement {
  const choices = versions.map((v): [string, string] => [String(v.version), `Version ${v.version}`]);
  const latest = versions.at(-1)?.version ?? 1;
  return actionForm(
    "compare",
    [
      h(
        "div",
        { class: "nhsuk-grid-row" },
        h("div", { class: "nhsuk-grid-column-one-half" }, select("from", "From", choices, { value: String(from ?? latest - 1) })),
        h("div", { class: "nhsuk-grid-column-one-half" }, select("to", "To", choices, { value: String(to ?? latest) })),
      ),
    ],
    "Compare the versions",
    async (form) => {
      const [a, b] = [valueOf(form, "from"), valueOf(form, "to")];
      if (a === b) throw localProblems([["to", "choose a different version from the first"]]);
      clearProblems(form, form.previousElementSibling as HTMLElement);
      const query = new URLSearchParams(window.location.search);
      query.set("from", a);
      query.set("to", b);
      window.history.replaceState({}, "", `${window.location.pathname}?${query.toString()}`);
      const shown = differencesOf(c, versions.find((v) => String(v.version) === a)!, versions.find((v) => String(v.version) === b)!);
      results.replaceChildren(shown);
      shown.querySelector<HTMLElement>("h2")?.focus();
    },
    "nhsuk-button--secondary",
  );
}

function changeTag(kind: Difference<unknown>["kind"]): HTMLElement {
  if (kind === "added") return tag("Added", "green");
  if (kind === "removed") return tag("Removed", "red");
  return tag("Changed", "yellow");
}

// The commitments and the lines of free text that differ between two versions.
function differencesOf(c: Case, a: AgreementVersion, b: AgreementVersion): HTMLElement {
  const section = h(
    "section",
    { "aria-labelledby": "differences-heading", id: "differences" },
    h("h2", { id: "differences-heading", tabindex: "-1" }, `Changes from version ${a.version} to version ${b.version}`),
  );
  if (!readable(a) || !readable(b)) {
    section.append(inset("A version whose text cannot be shown cannot be compared."));
    return section;
  }
  const items = differences(a.content!.items, b.content!.items, itemKey);
  const changedItems = items.filter((d) => d.kind !== "same");
  const same = items.length - changedItems.length;
  section.append(
    changedItems.length
      ? table(
          `Commitments that differ between version ${a.version} and version ${b.version}`,
          ["Change", `In version ${a.version}`, `In version ${b.version}`],
          changedItems.map((d) => [
            changeTag(d.kind),
            d.kind === "added" ? "Not in this version" : itemText(c, d.before),
            d.kind === "removed" ? "Not in this version" : itemText(c, d.after),
          ]),
          { id: "item-differences" },
        )
      : h("p", { class: "nhsuk-body", id: "item-differences" }, "The commitments are the same in both versions."),
    h("p", { class: "nhsuk-body", id: "items-same" }, `Commitments the same in both: ${same}.`),
  );
  const split = (v: AgreementVersion) => textLines(v.content!.freeText);
  const lines = differences(split(a), split(b), (line) => line).flatMap((d): Array<[HTMLElement, string]> => {
    if (d.kind === "same") return [];
    if (d.kind === "removed") return [[changeTag("removed"), d.before]];
    if (d.kind === "added") return [[changeTag("added"), d.after]];
    return [
      [changeTag("removed"), d.before],
      [changeTag("added"), d.after],
    ];
  });
  section.append(
    lines.length
      ? table(`Lines of the free text that differ between version ${a.version} and version ${b.version}`, ["Change", "Line"], lines, {
          id: "text-differences",
        })
      : h("p", { class: "nhsuk-body", id: "text-differences" }, "The free text is the same in both versions."),
  );
  return section;
}

function versionNumber(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  return text && /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : undefined;
}

export async function agreementPage(context: PageContext): Promise<HTMLElement> {
  const c = await loadCase(context.match[1]);
  const versions = await readVersions(c);
  const path = `/app/cases/${c.id}/agreement`;
  const latest = versions.at(-1);
  const open = agreementOpen(c);
  const next = open
    ? actionLink(`${path}/draft`, latest ? `Draft version ${latest.version + 1}` : "Draft the agreement", "draft-link")
    : inset(
        [CaseState.OUTCOME_RECORDED, CaseState.FOLLOW_UP, CaseState.CLOSED].includes(c.state) && latest
          ? "The outcome is recorded, so the agreement is frozen: no version can be drafted or signed now."
          : `The agreement is drafted and signed once sessions are booked, and not while a case is on hold or finished. This case is ${words(CaseState[c.state]).toLowerCase()}.`,
      );
  const content: Array<Node | null> = [...workHeading(c, "Agreement", path), takeNotice(path)];
  content.push(
    h(
      "p",
      { class: "nhsuk-body" },
      "The agreement is in the parties' own words and is not legally binding. Each save is a new version; each party signs the version they read, and once every party has signed a version it is final.",
    ),
    next,
  );
  if (!latest) {
    content.push(inset("No version of the agreement has been drafted yet."));
    return context.frame(workTitle("Agreement", c), ...content);
  }
  const wanted = versionNumber(context.query, "version");
  const shown = versions.find((v) => v.version === wanted) ?? latest;
  const isLatest = shown.id === latest.id;
  content.push(
    h(
      "section",
      { "aria-labelledby": "version-heading", id: "version" },
      h("h2", { id: "version-heading" }, `Version ${shown.version}${isLatest ? " (the latest)" : ""} `, shown.final ? tag("Final", "green") : tag("Draft", "blue")),
      summaryList([
        ["Saved", when(shown.createdAt)],
        [
          "Status",
          shown.final
            ? "Final: every party signed it, so it can never change"
            : isLatest
              ? "Draft: not yet signed by every party"
              : "An earlier draft: only the latest version can be signed",
        ],
        ["Signed by", signersText(c, shown)],
      ]),
      ...contentOf(c, shown),
      signaturesTable(c, shown),
    ),
  );
  if (isLatest && open && !shown.final && readable(shown)) content.push(paperSignatureForm(c, shown, path));
  content.push(
    h("section", { "aria-labelledby": "versions-heading" }, h("h2", { id: "versions-heading" }, "Versions"), versionsTable(c, versions, path)),
  );
  if (versions.length > 1) {
    const from = versionNumber(context.query, "from");
    const to = versionNumber(context.query, "to");
    const a = versions.find((v) => v.version === from);
    const b = versions.find((v) => v.version === to);
    const results = h("div", { id: "compare-results" }, a && b && a !== b ? differencesOf(c, a, b) : null);
    content.push(
      h(
        "section",
        { "aria-labelledby": "compare-heading" },
        h("h2", { id: "compare-heading" }, "Compare two versions"),
        compareForm(c, versions, results, from, to),
        results,
      ),
    );
  }
  return context.frame(workTitle("Agreement", c), ...content);
}
