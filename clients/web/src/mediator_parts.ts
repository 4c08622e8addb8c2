// What the mediator pages say about a mediator: the flags that matter for allocation
// (accreditation or insurance expired or expiring within 60 days, CPD under the minimum,
// inactive), the record's lists in words, and the sessions a change left needing rescheduling.
import type { Mediator, WorkingHours } from "@gen/ppa/mediation/v1/mediator_pb";
import type { SessionCollision } from "@gen/ppa/mediation/v1/scheduling_pb";

import { londonTime } from "./app";
import { type CivilDate, dateText, dayNumber, londonToday } from "./dates";
import { h, tag, type TagColour } from "./dom";
import { count, kAccreditationBodies, kNations, kProfessions, kWeekdays, label } from "./mediation_words";

// Expiring within this many days (or expired) is flagged.
export const kExpiryWarningDays = 60;
// The CPD hours a year allocation needs (Civil Mediation Council).
export const kMinimumCpdHours = 6;

export interface Flag {
  // Expiry flags are "accreditation" and "insurance".
  kind: "inactive" | "accreditation" | "insurance" | "cpd";
  text: string;
  colour: TagColour;
  // A sentence for the mediator's page.
  detail: string;
}

function expiry(kind: "accreditation" | "insurance", what: string, date: CivilDate | undefined, today: CivilDate): Flag | null {
  if (!date || date.year === 0) return null;
  const days = dayNumber(date) - dayNumber(today);
  if (days < 0) {
    return { kind, text: `${what} expired`, colour: "red", detail: `The ${what.toLowerCase()} expired on ${dateText(date)}.` };
  }
  if (days > kExpiryWarningDays) return null;
  const left = days === 0 ? "today" : `in ${count(days, "day", "days")}`;
  return {
    kind,
    text: `${what} expiring`,
    colour: "orange",
    detail: `The ${what.toLowerCase()} expires on ${dateText(date)}, ${left}.`,
  };
}

// The mediator's flags, most serious first; none for a mediator who can be allocated.
export function flagsOf(m: Mediator, today: CivilDate = londonToday()): Flag[] {
  const flags: Flag[] = [];
  if (!m.active) {
    flags.push({ kind: "inactive", text: "Inactive", colour: "grey", detail: "The mediator is inactive and is never proposed for a case." });
  }
  const accreditation = expiry("accreditation", "Accreditation", m.accreditation?.expiresOn, today);
  if (accreditation) flags.push(accreditation);
  const insurance = expiry("insurance", "Insurance", m.insuranceExpiresOn, today);
  if (insurance) flags.push(insurance);
  if (m.cpdHoursLast12Months < kMinimumCpdHours) {
    flags.push({
      kind: "cpd",
      text: "CPD under 6 hours",
      colour: "yellow",
      detail: `The mediator has ${count(m.cpdHoursLast12Months, "hour", "hours")} of CPD in the last 12 months; allocation needs at least ${kMinimumCpdHours}.`,
    });
  }
  return flags;
}

// The flags as NHS tags, or "None".
export function flagTags(flags: Flag[]): Node {
  if (flags.length === 0) return document.createTextNode("None");
  const list = h("ul", { class: "nhsuk-list nhsuk-u-margin-bottom-0" });
  for (const flag of flags) list.append(h("li", { class: "nhsuk-u-margin-bottom-1" }, tag(flag.text, flag.colour)));
  return list;
}

export function accreditationText(m: Mediator): string {
  const a = m.accreditation;
  if (!a) return "Not known";
  return [label(kAccreditationBodies, a.body), a.level].filter(Boolean).join(", ");
}

export function nationsText(m: Mediator): string {
  return m.nations.length ? m.nations.map((n) => label(kNations, n)).join(", ") : "None";
}

export function experienceText(m: Mediator): string {
  if (m.experience.length === 0) return "None recorded";
  return m.experience
    .map((e) => `${label(kProfessions, e.profession)}: ${count(e.cases, "case", "cases")}`)
    .join("; ");
}

export function caseloadText(m: Mediator): string {
  return `${m.currentCases} of ${m.maxConcurrentCases}`;
}

// "09:00".
export function clock(t: { hours: number; minutes: number } | undefined): string {
  if (!t) return "00:00";
  return `${String(t.hours).padStart(2, "0")}:${String(t.minutes).padStart(2, "0")}`;
}

export function weekdayText(weekday: number): string {
  return kWeekdays[weekday - 1] ?? `Day ${weekday}`;
}

// The working pattern in week order.
export function sortedHours(hours: WorkingHours[]): WorkingHours[] {
  const minute = (t: { hours: number; minutes: number } | undefined) => (t ? t.hours * 60 + t.minutes : 0);
  return [...hours].sort((a, b) => a.weekday - b.weekday || minute(a.start) - minute(b.start));
}

// The sessions a change left needing rescheduling, for a success banner; null when none.
export function collisionList(collisions: SessionCollision[]): HTMLElement | null {
  if (collisions.length === 0) return null;
  return h(
    "div",
    { id: "collisions" },
    h(
      "p",
      { class: "nhsuk-body" },
      `${count(collisions.length, "booked session now needs", "booked sessions now need")} rescheduling:`,
    ),
    h(
      "ul",
      { class: "nhsuk-list nhsuk-list--bullet" },
      ...collisions.map((c) => {
        const start = c.start ? londonTime(new Date(Number(c.start.seconds) * 1000)) : c.localStart;
        const what = c.caseReference ? `case ${c.caseReference}, ` : "";
        return h("li", {}, `${what}${start}: ${c.reason}`);
      }),
    ),
  );
}
