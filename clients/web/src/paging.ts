// Paging through a list with the API's page tokens. The address carries the page token of the
// page shown (`page`) and those of the pages before it (`back`; "" for the first page), so
// Previous and Next are plain links, the back button and a reload keep the page, and nothing is
// kept in the browser.
import { h, icon } from "./dom";

// How a list's address holds the earlier pages' tokens: `back` repeated (the administration
// pages), or one `back` joined with "." (the organisation and mediator pages).
export type BackStyle = "repeated" | "joined";

const kBackSeparator = ".";

// The API page token of the page the address `query` shows ("" for the first page).
export function pageToken(query: URLSearchParams): string {
  return query.get("page") ?? "";
}

export interface Paging {
  pageToken: string;
  // The number of the page shown, from 1.
  number: number;
  previousHref?: string;
  nextHref?: string;
}

// Where the list at `path` whose current address has `query` is, and the addresses of the pages
// either side. `drop` names parameters that only say what happened last time (a banner): they
// are not carried on.
export function paging(
  path: string,
  query: URLSearchParams,
  nextPageToken: string | undefined,
  options: { back?: BackStyle; drop?: string[] } = {},
): Paging {
  const style = options.back ?? "joined";
  const token = pageToken(query);
  const joined = query.get("back");
  const back =
    style === "repeated" ? (token ? query.getAll("back") : []) : joined === null ? [] : joined.split(kBackSeparator);
  const href = (token: string, stack: string[]) => {
    const q = new URLSearchParams(query);
    for (const name of options.drop ?? []) q.delete(name);
    if (style === "repeated") {
      q.delete("page");
      q.delete("back");
      if (token) q.set("page", token);
      for (const b of stack) q.append("back", b);
    } else {
      if (stack.length > 0) q.set("back", stack.join(kBackSeparator));
      else q.delete("back");
      if (token) q.set("page", token);
      else q.delete("page");
    }
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  };
  return {
    pageToken: token,
    number: back.length + 1,
    previousHref: back.length > 0 ? href(back[back.length - 1] ?? "", back.slice(0, -1)) : undefined,
    nextHref: nextPageToken ? href(nextPageToken, [...back, token]) : undefined,
  };
}

// How the links read: the ids of the Previous and Next links, and the page each leads to
// (`what` "Tokens": "Tokens, page 2"; without it "Page 2", with "page" after Previous and Next
// for a screen reader).
export interface PaginationText {
  ids: { previous: string; next: string };
  what?: string;
}

// The ids the organisation and mediator pages give their links.
export const kPageLinkIds = { previous: "page-prev", next: "page-next" };
// The ids the administration pages give theirs.
export const kAdminPageLinkIds = { previous: "previous-page", next: "next-page" };

// NHS pagination (previous and next links) for `p`; null when there is only one page.
export function pagination(p: Paging, text: PaginationText): HTMLElement | null {
  if (!p.previousHref && !p.nextHref) return null;
  const item = (kind: "previous" | "next", href: string, title: string) => {
    const number = kind === "previous" ? p.number - 1 : p.number + 1;
    return h(
      "li",
      { class: `nhsuk-pagination-item--${kind}` },
      h(
        "a",
        {
          class: `nhsuk-pagination__link nhsuk-pagination__link--${kind === "previous" ? "prev" : "next"}`,
          href,
          rel: kind === "previous" ? "prev" : "next",
          id: text.ids[kind],
        },
        h(
          "span",
          { class: "nhsuk-pagination__title" },
          title,
          text.what === undefined ? h("span", { class: "nhsuk-u-visually-hidden" }, " page") : null,
        ),
        h("span", { class: "nhsuk-u-visually-hidden" }, ":"),
        h("span", { class: "nhsuk-pagination__page" }, text.what === undefined ? `Page ${number}` : `${text.what}, page ${number}`),
        icon(kind === "previous" ? "arrow-left" : "arrow-right"),
      ),
    );
  };
  return h(
    "nav",
    { class: "nhsuk-pagination", role: "navigation", "aria-label": "Pagination" },
    h(
      "ul",
      { class: "nhsuk-list nhsuk-pagination__list" },
      p.previousHref ? item("previous", p.previousHref, "Previous") : null,
      p.nextHref ? item("next", p.nextHref, "Next") : null,
    ),
  );
}
