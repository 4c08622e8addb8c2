// The console's figures (scripts/console-bench.sh; not a test, nothing is asserted about time):
// - the JavaScript and CSS the browser loads for the console, gzip-compressed as served;
// - the work-queue page with $BENCH_CASES cases (default 5,000) in the database: the time from
//   navigation to the queue table on the page, and to its last count filled in (the counts that
//   look at each case arrive after the table), median and worst of 7 loads, in Chromium on
//   loopback. A tenth of the cases are in screening (one answer each), so the adviser's
//   queue, which evaluates screening cases, has work to do.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";

import { CareSetting, Criterion, CriterionAnswer, Nation, OrganisationKind, Profession, Role, Sector } from "@gen/ppa/mediation/v1/common_pb";
import { OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";
import { ReferralService } from "@gen/ppa/mediation/v1/referral_pb";
import { ScreeningService } from "@gen/ppa/mediation/v1/screening_pb";

import { api, issue, signedIn, startConsole, stopConsole } from "./console_support";

test("console figures", async () => {
  const assets = join(process.env.WEB_ROOT ?? "", "assets");
  let total = 0;
  for (const file of readdirSync(assets)) {
    if (!/\.(js|css)$/.test(file)) continue;
    const size = gzipSync(readFileSync(join(assets, file)), { level: 9 }).length;
    total += size;
    console.log(`bench: ${file}: ${(size / 1024).toFixed(1)} KiB gzip`);
  }
  console.log(`bench: JavaScript and CSS together: ${(total / 1024).toFixed(1)} KiB gzip`);

  const cases = Number(process.env.BENCH_CASES ?? "5000");
  const c = await startConsole();
  try {
    const desk = await issue(c, Role.CASE_SUPPORT, "Bench desk");
    const organisations = api(c, OrganisationService, desk);
    for (const [i, nation] of [Nation.ENGLAND, Nation.WALES, Nation.NORTHERN_IRELAND].entries()) {
      await organisations.registerOrganisation({
        organisation: {
          name: `Bench organisation ${i + 1}`,
          kind: OrganisationKind.NHS_TRUST,
          nation,
          careSetting: CareSetting.SECONDARY,
          sector: Sector.PUBLIC,
          contact: { name: "Contact", email: `contact${i}@bench.example` },
        },
      });
    }
    const referrals = api(c, ReferralService, desk);
    const screening = api(c, ScreeningService, desk);
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < cases) {
        const n = next++;
        const { case: made } = await referrals.createReferral({
          organisationId: BigInt((n % 3) + 1),
          referrer: { name: "Referrer", email: `referrer${n}@bench.example` },
          summary: `Bench referral ${n}`,
          parties: [
            { contact: { name: `Party A ${n}`, email: `a${n}@bench.example` }, profession: Profession.DOCTOR },
            { contact: { name: `Party B ${n}`, email: `b${n}@bench.example` }, profession: Profession.DENTIST },
          ],
        });
        if (n % 10 === 0 && made) {
          await screening.recordScreeningAnswer({
            caseId: made.id,
            criterion: Criterion.NOT_CONTRACTUAL,
            answer: CriterionAnswer.MET,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    console.log(`bench: ${cases} cases made in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const { context, page } = await signedIn(c, desk);
    // Milliseconds from the navigation's start (performance.now() counts from it): to the
    // table, and to the last count filled in.
    const times: number[] = [];
    const complete: number[] = [];
    for (let i = 0; i < 7; ++i) {
      await page.goto(`${c.baseUrl}/app`);
      await page.locator("#work-queues").waitFor();
      times.push(await page.evaluate(() => performance.now()));
      await page.locator("#work-queues [aria-busy]").first().waitFor({ state: "detached" });
      complete.push(await page.evaluate(() => performance.now()));
    }
    const counts = await page.locator("#work-queues tbody tr").evaluateAll((rows) =>
      rows.map((row) => `${row.querySelector("a")?.textContent}: ${row.querySelectorAll("td")[1]?.textContent}`),
    );
    times.sort((a, b) => a - b);
    complete.sort((a, b) => a - b);
    console.log(`bench: work queues shown: ${counts.join(", ")}`);
    console.log(
      `bench: work-queue page with ${cases} cases, navigation to table: median ${times[3].toFixed(0)} ms, worst ${times[6].toFixed(0)} ms (7 loads)`,
    );
    console.log(
      `bench: ... to every count filled in: median ${complete[3].toFixed(0)} ms, worst ${complete[6].toFixed(0)} ms`,
    );
    await context.close();
  } finally {
    await stopConsole(c);
  }
});
