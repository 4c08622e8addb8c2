// The case page's sign-in links for the parties (CaseService.IssuePartySignInLink): for each
// party, the state of its latest link and, for case support, a button that issues a new one.
// The server emails the new link to the party; it is also shown once, in place, to copy into a
// message to the party should that email not be sent: it is never put in an address, a title or
// browser storage, and a reload does not show it again.
import { CaseService, type PartySignInLink, PartySignInLinkState } from "@gen/ppa/mediation/v1/case_pb";
import type { Case } from "@gen/ppa/mediation/v1/referral_pb";
import { Role } from "@gen/ppa/mediation/v1/common_pb";

import { client, messageOf } from "./api";
import { when } from "./app";
import { errorSummary, h, table, tag, type TagColour } from "./dom";
import { copyBox } from "./page_parts";

const kLinkStates: Record<PartySignInLinkState, [string, TagColour]> = {
  [PartySignInLinkState.UNSPECIFIED]: ["Unknown", "grey"],
  [PartySignInLinkState.ACTIVE]: ["Not used yet", "blue"],
  [PartySignInLinkState.USED]: ["Used", "green"],
  [PartySignInLinkState.EXPIRED]: ["Expired", "grey"],
  [PartySignInLinkState.REPLACED]: ["Replaced", "grey"],
};

function linkState(link: PartySignInLink | undefined): Node | string {
  if (!link) return "None issued";
  const [text, colour] = kLinkStates[link.state];
  const detail =
    link.state === PartySignInLinkState.USED
      ? `on ${when(link.usedAt)}`
      : link.state === PartySignInLinkState.ACTIVE
        ? `until ${when(link.expiresAt)}`
        : `issued ${when(link.issuedAt)}`;
  return h("span", {}, tag(text, colour), ` ${detail}`);
}

function issueButton(c: Case, partyId: bigint, name: string, shown: HTMLElement, state: HTMLElement): HTMLElement {
  const button = h(
    "button",
    { class: "nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0", type: "button", id: `issue-link-${partyId}` },
    "Issue a sign-in link",
    h("span", { class: "nhsuk-u-visually-hidden" }, ` for ${name}`),
  ) as HTMLButtonElement;
  button.addEventListener("click", () => {
    button.disabled = true;
    client(CaseService)
      .issuePartySignInLink({ caseId: c.id, partyId })
      .then(({ link, path }) => {
        const expires = link?.expiresAt ? when(link.expiresAt) : "";
        state.replaceChildren(linkState(link));
        shown.replaceChildren(
          h("h3", { id: "new-link-heading", tabindex: "-1" }, `Sign-in link for ${name}`),
          copyBox(
            "new-link",
            "Copy the link now",
            `It is shown only this once and works once, until ${expires}. The service emails it to ${name} too; if that email was not sent (see the case's emails), send this link to ${name} alone. Any earlier link for them no longer works.`,
            `${window.location.origin}${path}`,
            "Copy the link",
          ),
        );
        document.getElementById("new-link-heading")?.focus();
        button.disabled = false;
      })
      .catch((error: unknown) => {
        button.disabled = false;
        const summary = errorSummary([{ text: messageOf(error) }]);
        shown.replaceChildren(summary);
        summary.focus();
      });
  });
  return button;
}

// The section, or null for a role that may not see the links.
export async function partyLinksSection(c: Case, role: Role): Promise<HTMLElement | null> {
  if (role !== Role.CASE_SUPPORT && role !== Role.SENIOR_ADVISER) return null;
  const { links } = await client(CaseService).listPartySignInLinks({ caseId: c.id });
  const latest = (partyId: bigint) => links.find((l) => l.partyId === partyId);
  const shown = h("div", { id: "issued-link" });
  const rows = c.parties.map((p) => {
    const name = p.contact?.name || `Party ${p.id}`;
    const state = h("span", {}, linkState(latest(p.id)));
    const row: Array<Node | string> = [name, state];
    if (role === Role.CASE_SUPPORT) row.push(issueButton(c, p.id, name, shown, state));
    return row;
  });
  const linksTable = table(
    "Sign-in links",
    role === Role.CASE_SUPPORT ? ["Party", "Latest link", ""] : ["Party", "Latest link"],
    rows,
    { id: "party-links" },
  );
  // The section's heading names the table; its caption stays for screen readers.
  linksTable.querySelector("caption")?.classList.add("nhsuk-u-visually-hidden");
  return h(
    "section",
    { "aria-labelledby": "party-links-heading" },
    h("h2", { id: "party-links-heading" }, "Sign-in links for the parties"),
    h(
      "p",
      { class: "nhsuk-body" },
      "A party signs in with a link that works once, for 72 hours, to see their meetings, read and sign the agreement, and withdraw. A new link replaces the one before.",
    ),
    linksTable,
    shown,
  );
}
