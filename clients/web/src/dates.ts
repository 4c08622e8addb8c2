// Calendar dates (common.proto's Date, or any {year, month, day}): in a URL as "YYYY-MM-DD",
// in words, in Europe/London, as a select's choices, and day arithmetic that never meets a clock
// change (it is done in UTC).

export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

// Whether `d` is a date on the calendar (not 31 February).
export function isRealDate(d: CivilDate): boolean {
  if (d.month < 1 || d.month > 12 || d.day < 1) return false;
  const utc = new Date(Date.UTC(d.year, d.month - 1, d.day));
  return utc.getUTCFullYear() === d.year && utc.getUTCMonth() === d.month - 1 && utc.getUTCDate() === d.day;
}

// {2027, 3, 27} -> "2027-03-27".
export function isoDate(d: CivilDate): string {
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  return `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}`;
}

// "2027-03-27" -> {2027, 3, 27}; undefined when it is not in that form, or (unless `real` is
// false: the server is to say) not a real date.
export function parseIsoDate(text: string | null, { real = true } = {}): CivilDate | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text ?? "");
  if (!m) return undefined;
  const d = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  return real && !isRealDate(d) ? undefined : d;
}

export function addDays(d: CivilDate, days: number): CivilDate {
  const date = new Date(Date.UTC(d.year, d.month - 1, d.day + days, 12));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

// Days since 1970-01-01.
export function dayNumber(d: CivilDate): number {
  return Math.round(Date.UTC(d.year, d.month - 1, d.day) / 86_400_000);
}

// 1 Monday ... 7 Sunday.
export function weekday(d: CivilDate): number {
  const day = new Date(Date.UTC(d.year, d.month - 1, d.day, 12)).getUTCDay();
  return day === 0 ? 7 : day;
}

// Today in Europe/London.
export function londonToday(now = new Date()): CivilDate {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Europe/London",
    year: "numeric",
    month: "numeric",
    day: "numeric",
  }).formatToParts(now);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? "0");
  return { year: part("year"), month: part("month"), day: part("day") };
}

// The instant a day starts in Europe/London (midnight, GMT or BST).
export function londonDayStart(d: CivilDate): Date {
  const utc = Date.UTC(d.year, d.month - 1, d.day);
  // London's offset from UTC at about that time, in minutes (0 or 60).
  const offsetAt = (ms: number) => {
    const parts = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/London",
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    }).formatToParts(new Date(ms));
    const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? "0");
    const local = Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"));
    return (local - ms) / 60000;
  };
  const guess = utc - offsetAt(utc) * 60000;
  return new Date(utc - offsetAt(guess) * 60000);
}

// "27 March 2027", or with `style` "full" "Saturday 27 March 2027"; "Not known" when unset.
export function dateText(d: CivilDate | undefined, style: "long" | "full" = "long"): string {
  if (!d || !d.year) return "Not known";
  // setUTCFullYear, as Date.UTC reads a year below 100 as 19xx.
  const date = new Date(Date.UTC(2000, 0, 1, 12));
  date.setUTCFullYear(d.year, d.month - 1, d.day);
  return new Intl.DateTimeFormat("en-GB", { dateStyle: style, timeZone: "UTC" }).format(date);
}

// Days from `today + from` to `today + to` as select choices ("YYYY-MM-DD", "Monday 1 March 2027").
export function dayChoices(today: CivilDate, from: number, to: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = from; i <= to; ++i) {
    const d = addDays(today, i);
    out.push([isoDate(d), dateText(d, "full")]);
  }
  return out;
}
