// Registering mediators from a CSV file (/app/mediators/import), for administrators: the file
// is read in the browser with the CLI's columns and rules (mediator_csv.ts), each row is
// registered through the API in turn, and the results table has a row for every line of the
// file: registered (with the mediator's number), refused (in the server's words) or skipped
// (and why).
import { MediatorService } from "@gen/ppa/mediation/v1/mediator_pb";

import { client, isSignedOut, messageOf } from "./api";
import type { PageContext } from "./app";
import { backLink, h, link, table } from "./dom";
import { button, localProblems, onSubmit } from "./forms";
import { type ImportPlan, planImport } from "./mediator_csv";
import { count } from "./mediation_words";
import { clearProblems } from "./page_parts";

const kExampleHeader =
  "contact.name,contact.email,accreditation.body,accreditation.level,accreditation.registration_number," +
  "accreditation.expires_on,insurance_expires_on,cpd_hours_last_12_months,nations,languages," +
  "experience.0.profession,experience.0.cases,max_concurrent_cases";
const kExampleRow =
  "Dr Sam Lee,sam.lee@example.org,civil-mediation-council,Registered Mediator,CMC-1042," +
  "2027-03-31,2027-06-30,12,england;wales,English;Welsh,doctor,4,3";

type Outcome =
  | { kind: "registered"; id: bigint }
  | { kind: "refused"; message: string }
  | { kind: "skipped"; why: string };

interface ResultRow {
  firstLine: number;
  lastLine: number;
  name: string;
  outcome: Outcome;
}

function outcomeCell(outcome: Outcome): Node | string {
  switch (outcome.kind) {
    case "registered":
      return h("span", {}, "Registered as ", link(`/app/mediators/${outcome.id}`, `mediator ${outcome.id}`));
    case "refused":
      return `Refused: ${outcome.message}`;
    case "skipped":
      return `Skipped: ${outcome.why}`;
  }
}

function explanation(): HTMLElement {
  return h(
    "details",
    { class: "nhsuk-details" },
    h("summary", { class: "nhsuk-details__summary" }, h("span", { class: "nhsuk-details__summary-text" }, "What the file must hold")),
    h(
      "div",
      { class: "nhsuk-details__text" },
      h(
        "p",
        {},
        "The same file as 'mediationctl mediator import' takes. Its first line names the columns: the fields of a mediator, for example:",
      ),
      h("pre", { class: "nhsuk-body-s", id: "example-csv", tabindex: "0" }, `${kExampleHeader}\n${kExampleRow}`),
      h(
        "ul",
        { class: "nhsuk-list nhsuk-list--bullet" },
        h("li", {}, "Dates as year-month-day, for example 2027-03-31."),
        h("li", {}, "Several values in one column separated by semicolons, for example england;wales."),
        h("li", {}, "Choices by name: civil-mediation-council, college-of-mediators or other; england, wales or northern-ireland; doctor, dentist, pharmacist, other-healthcare-staff or manager."),
        h("li", {}, "A value with a comma in it goes in double quotes."),
        h("li", {}, "Importing the same file again within a day registers nobody twice: its rows show the mediators they registered the first time."),
      ),
    ),
  );
}

// Registers each planned row in turn; `progress` says how far it is.
async function runImport(plan: ImportPlan, progress: (done: number, total: number) => void): Promise<ResultRow[]> {
  const results: ResultRow[] = [
    {
      firstLine: plan.header.firstLine,
      lastLine: plan.header.lastLine,
      name: "",
      outcome: { kind: "skipped", why: "this line names the columns" },
    },
    ...plan.blankLines.map((line): ResultRow => ({
      firstLine: line,
      lastLine: line,
      name: "",
      outcome: { kind: "skipped", why: "the line is empty" },
    })),
  ];
  const mediators = client(MediatorService);
  let signedOut = false;
  for (const [index, row] of plan.rows.entries()) {
    progress(index, plan.rows.length);
    const result: ResultRow = { firstLine: row.firstLine, lastLine: row.lastLine, name: row.name, outcome: { kind: "skipped", why: "" } };
    if (row.skipped || !row.mediator) {
      result.outcome = { kind: "skipped", why: row.skipped ?? "nothing to register" };
    } else if (signedOut) {
      result.outcome = { kind: "skipped", why: "not sent: your session ended; sign in and import the file again" };
    } else {
      try {
        const response = await mediators.registerMediator({ mediator: row.mediator, idempotencyKey: row.key });
        result.outcome = { kind: "registered", id: response.mediator?.id ?? 0n };
      } catch (error) {
        if (isSignedOut(error)) {
          signedOut = true;
          result.outcome = { kind: "skipped", why: "not sent: your session ended; sign in and import the file again" };
        } else {
          result.outcome = { kind: "refused", message: messageOf(error) };
        }
      }
    }
    results.push(result);
  }
  progress(plan.rows.length, plan.rows.length);
  return results.sort((a, b) => a.firstLine - b.firstLine);
}

function resultsOf(fileName: string, results: ResultRow[]): HTMLElement {
  const registered = results.filter((r) => r.outcome.kind === "registered").length;
  const refused = results.filter((r) => r.outcome.kind === "refused").length;
  const skipped = results.length - registered - refused;
  return h(
    "div",
    {},
    h("h2", { id: "import-results", tabindex: "-1" }, "Results"),
    h(
      "p",
      { class: "nhsuk-body", id: "import-summary" },
      `${count(registered, "mediator", "mediators")} registered, ${refused} refused and ${count(skipped, "line", "lines")} skipped, from ${count(results.length, "line", "lines")} in ${fileName}.`,
    ),
    table(
      `Each line of ${fileName}`,
      ["Line", "Name", "Result"],
      results.map((r) => [
        r.firstLine === r.lastLine ? String(r.firstLine) : `${r.firstLine} to ${r.lastLine}`,
        r.name,
        outcomeCell(r.outcome),
      ]),
      { id: "import-lines" },
    ),
  );
}

export async function importPage(context: PageContext): Promise<HTMLElement> {
  const problems = h("div", {});
  const status = h("p", { class: "nhsuk-body", id: "import-progress", role: "status" });
  const results = h("div", { id: "import-results-area" });
  const input = h("input", {
    class: "nhsuk-file-upload__input",
    id: "csv-file",
    name: "csv-file",
    type: "file",
    accept: ".csv,text/csv",
    "aria-describedby": "csv-file-hint",
  }) as HTMLInputElement;
  const form = h(
    "form",
    { novalidate: "", id: "import-form" },
    h(
      "div",
      { class: "nhsuk-form-group", id: "csv-file-group" },
      h("label", { class: "nhsuk-label", for: "csv-file" }, "CSV file"),
      h("div", { class: "nhsuk-hint", id: "csv-file-hint" }, "A file of mediators, one a line, saved from a spreadsheet as CSV (UTF-8)."),
      input,
    ),
    button("Import the mediators", { id: "import-submit" }),
  );
  onSubmit(form, problems, async () => {
    const file = input.files?.[0];
    if (!file) throw localProblems([["csv-file", "choose a CSV file"]]);
    let plan: ImportPlan;
    try {
      plan = planImport(await file.text());
    } catch (error) {
      throw localProblems([["csv-file", `the file ${file.name} cannot be imported: ${messageOf(error)}`]]);
    }
    clearProblems(form, problems);
    results.replaceChildren();
    const rows = await runImport(plan, (done, total) => {
      status.textContent = done < total ? `Registering row ${done + 1} of ${total}` : `Finished ${file.name}.`;
    });
    results.replaceChildren(resultsOf(file.name, rows));
    document.getElementById("import-results")?.focus();
  });
  return context.frame(
    "Register mediators from a CSV file",
    backLink("/app/mediators", "Back to mediators"),
    problems,
    h("h1", {}, "Register mediators from a CSV file"),
    h(
      "p",
      { class: "nhsuk-body" },
      "Each line of the file registers one mediator. Lines the server refuses, and lines that cannot be read, are listed with the reason; the others are registered.",
    ),
    explanation(),
    form,
    status,
    results,
  );
}
