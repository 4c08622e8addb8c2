// Names for ids: the organisations and mediators a page mentions, read once per page. Only
// CASE_SUPPORT, SENIOR_ADVISER and ADMIN read these lists (the pages using them are theirs).
import { MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";
import { type Organisation, OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";
import type { Date as DateMessage } from "@gen/ppa/mediation/v1/common_pb";

import { client } from "./api";

// Every organisation by id (paged through the API's page tokens).
export async function organisations(): Promise<Map<bigint, Organisation>> {
  const out = new Map<bigint, Organisation>();
  let pageToken = "";
  do {
    const page = await client(OrganisationService).listOrganisations({ pageSize: 500, pageToken });
    for (const o of page.organisations) out.set(o.id, o);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

// Every mediator's name by id.
export async function mediatorNames(): Promise<Map<bigint, string>> {
  const out = new Map<bigint, string>();
  let pageToken = "";
  do {
    const page = await client(MediatorService).listMediators({ pageSize: 500, pageToken });
    for (const m of page.mediators) out.set(m.id, m.contact?.name ?? `Mediator ${m.id}`);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

// Calendar days as "YYYY-MM-DD" strings (the form they take in a URL), with day arithmetic
// that never meets a clock change (noon UTC).
export function isoDay(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

export function parseDay(text: string | null): { year: number; month: number; day: number } | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text ?? "");
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day, 12));
  if (date.getUTCMonth() !== month - 1) return null;
  return { year, month, day };
}

export function addDays(day: { year: number; month: number; day: number }, days: number) {
  const date = new Date(Date.UTC(day.year, day.month - 1, day.day + days, 12));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

// Today in London.
export function londonToday(): { year: number; month: number; day: number } {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(new Date());
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: part("year"), month: part("month"), day: part("day") };
}

// 1 Monday ... 7 Sunday.
export function weekday(day: { year: number; month: number; day: number }): number {
  const d = new Date(Date.UTC(day.year, day.month - 1, day.day, 12)).getUTCDay();
  return d === 0 ? 7 : d;
}

export function dayText(day: { year: number; month: number; day: number } | DateMessage | undefined): string {
  if (!day || !day.year) return "Not known";
  return new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeZone: "UTC" }).format(
    new Date(Date.UTC(day.year, day.month - 1, day.day, 12)),
  );
}
