// The fee schedule: the fees in force (GetFeeSchedule; ADMIN, CASE_SUPPORT and SENIOR_ADVISER
// read it) in pounds and pence, and for ADMIN, the only role that may set it, a form to replace
// it (SetFeeSchedule, with the version read, so a change made meanwhile is not overwritten).
import { Code, ConnectError } from "@connectrpc/connect";

import { ChargesService, type FeeSchedule } from "@gen/ppa/mediation/v1/charges_pb";
import { type Money, Role } from "@gen/ppa/mediation/v1/common_pb";

import { affixedInput, scrolling } from "./admin_parts";
import { client, messageOf } from "./api";
import { kEveryStaffRole, navigate, type PageContext, pounds, type Route, when } from "./app";
import { backLink, h, successBanner, table } from "./dom";
import { actionForm, localProblems } from "./forms";

type FeeField =
  | "mediation_day"
  | "individual_meeting"
  | "co_mediation_day"
  | "venue_day"
  | "travel_per_mediator_day";

// Each fee: its field, what it is, and its value in a schedule.
const kFees: Array<[FeeField, string, (s: FeeSchedule) => Money | undefined]> = [
  ["mediation_day", "Mediation day with the lead mediator (joint meetings)", (s) => s.mediationDay],
  ["individual_meeting", "Individual meeting (the mediators and one party)", (s) => s.individualMeeting],
  ["co_mediation_day", "Co-mediator, per mediation day", (s) => s.coMediationDay],
  ["venue_day", "Neutral venue, per in-person day", (s) => s.venueDay],
  ["travel_per_mediator_day", "Travel and subsistence, per mediator per in-person day", (s) => s.travelPerMediatorDay],
];

const kMaxPence = 10_000_000n;

// What VAT at `basisPoints` adds to `pence`, rounded half up to the penny as the server does.
function withVat(pence: bigint, basisPoints: number): bigint {
  return pence + (pence * BigInt(basisPoints) + 5000n) / 10000n;
}

// 2000 -> "20%", 1750 -> "17.5%".
function percent(basisPoints: number): string {
  return `${(basisPoints / 100).toLocaleString("en-GB", { maximumFractionDigits: 2 })}%`;
}

// "1,200.50", "£1200.5" or "1200" -> pence; undefined when it is not an amount in pounds.
export function parsePounds(text: string): bigint | undefined {
  const plain = text.replace(/^£/, "").trim();
  if (!/^(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$/.test(plain)) return undefined;
  const [whole, fraction = ""] = plain.replace(/,/g, "").split(".");
  return BigInt(whole) * 100n + BigInt(fraction.padEnd(2, "0"));
}

// "20" or "17.5" -> basis points; undefined when it is not a percentage.
function parsePercent(text: string): number | undefined {
  const plain = text.replace(/%$/, "").trim();
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(plain)) return undefined;
  return Math.round(Number(plain) * 100);
}

// The server's limits are in pence and basis points; the form's fields are in pounds and
// percent, so its refusals are put in the form's terms.
function inFormTerms(error: unknown): unknown {
  if (!(error instanceof ConnectError) || error.code !== Code.InvalidArgument) return error;
  const message = messageOf(error)
    .replace(
      /(schedule\.[a-z_]+\.pence): must be between 0 and \d+/g,
      `$1: must be between £0 and ${pounds(kMaxPence)}`,
    )
    .replace(/(schedule\.vat_basis_points): must be between 0 and 10000 \(2000 is 20%\)/, "$1: must be between 0% and 100%");
  return new ConnectError(message, Code.InvalidArgument);
}

function scheduleTable(s: FeeSchedule): HTMLElement {
  const vat = s.vatBasisPoints ?? 0;
  return scrolling(
    table(
      `Fees in force (version ${s.version})`,
      ["Fee", "Before VAT", `With VAT at ${percent(vat)}`],
      kFees.map(([, text, of]) => {
        const pence = of(s)?.pence ?? 0n;
        return [text, pounds(pence), pounds(withVat(pence, vat))];
      }),
      { id: "fees" },
    ),
  );
}

function scheduleForm(s: FeeSchedule): HTMLElement {
  const asPounds = (m: Money | undefined) => (Number(m?.pence ?? 0n) / 100).toFixed(2);
  return actionForm(
    "fees-form",
    [
      ...kFees.map(([field, text, of]) =>
        affixedInput(`schedule-${field}-pence`, text, { prefix: "£", value: asPounds(of(s)), width: "10" }),
      ),
      affixedInput("schedule-vat_basis_points", "VAT rate", {
        suffix: "%",
        value: String((s.vatBasisPoints ?? 0) / 100),
        width: "4",
        hint: "For example, 20 for 20%.",
      }),
    ],
    "Save the new fees",
    async (form) => {
      const value = (id: string) => form.querySelector<HTMLInputElement>(`[id="${id}"]`)?.value.trim() ?? "";
      const problems: Array<[string, string]> = [];
      const fee = (field: FeeField): { pence: bigint } => {
        const pence = parsePounds(value(`schedule-${field}-pence`));
        if (pence === undefined) {
          problems.push([`schedule.${field}.pence`, "enter an amount in pounds and pence, for example 1200.00"]);
        }
        return { pence: pence ?? 0n };
      };
      const schedule = {
        mediationDay: fee("mediation_day"),
        individualMeeting: fee("individual_meeting"),
        coMediationDay: fee("co_mediation_day"),
        venueDay: fee("venue_day"),
        travelPerMediatorDay: fee("travel_per_mediator_day"),
        vatBasisPoints: parsePercent(value("schedule-vat_basis_points")),
      };
      if (schedule.vatBasisPoints === undefined) {
        problems.push(["schedule.vat_basis_points", "enter a percentage, for example 20"]);
      }
      if (problems.length > 0) throw localProblems(problems);
      try {
        const saved = await client(ChargesService).setFeeSchedule({
          schedule,
          expectedVersion: s.version,
        });
        navigate(`/app/admin/fee-schedule?saved=${saved.schedule?.version ?? ""}`);
      } catch (error) {
        throw inFormTerms(error);
      }
    },
  );
}

async function feesPage(context: PageContext): Promise<HTMLElement> {
  const { schedule } = await client(ChargesService).getFeeSchedule({});
  if (!schedule) throw new ConnectError("the server sent no fee schedule", Code.Internal);
  const saved = context.query.get("saved");
  const setAt =
    schedule.createdAt && schedule.createdAt.seconds > 0n
      ? `Set ${when(schedule.createdAt)}.`
      : "Set when the service was installed.";
  const canSet = context.me.role === Role.ADMIN;
  return context.frame(
    "Fee schedule",
    canSet ? backLink("/app/admin", "Administration") : null,
    saved && saved === String(schedule.version)
      ? successBanner(`Version ${saved} of the fee schedule is in force`, ["New indications of charges use it. Indications already given keep the version they used."])
      : null,
    h("h1", {}, "Fee schedule"),
    h(
      "p",
      { class: "nhsuk-body" },
      "The fees a Senior Adviser's indication of charges is worked out from. Travel and the venue are charged only for days in person.",
    ),
    scheduleTable(schedule),
    h("p", { class: "nhsuk-body", id: "fees-version" }, `Version ${schedule.version}. ${setAt}`),
    canSet ? h("h2", {}, "Change the fees") : null,
    canSet
      ? h(
          "p",
          { class: "nhsuk-body" },
          "The new fees replace these for every indication given from now on. Earlier versions are kept. Each fee is before VAT and at most ",
          pounds(kMaxPence),
          ".",
        )
      : null,
    canSet ? scheduleForm(schedule) : null,
  );
}

export const feeRoutes: Route[] = [
  { pattern: /^\/app\/admin\/fee-schedule$/, roles: kEveryStaffRole, page: feesPage },
];
