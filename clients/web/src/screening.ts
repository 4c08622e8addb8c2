// Screening against the six criteria (/app/cases/<id>/screening), the Senior Adviser's decision
// (/app/cases/<id>/decision) and the indication of charges (/app/cases/<id>/charges).
import { ConnectError } from "@connectrpc/connect";

import { ChargesService, type ChargeIndication } from "@gen/ppa/mediation/v1/charges_pb";
import {
  CaseState,
  Criterion,
  CriterionAnswer,
  Role,
  SessionMode,
  Suitability,
} from "@gen/ppa/mediation/v1/common_pb";
import type { Case } from "@gen/ppa/mediation/v1/referral_pb";
import { type ScreeningAnswer, type ScreeningEvaluation, ScreeningService } from "@gen/ppa/mediation/v1/screening_pb";

import { client, messageOf } from "./api";
import { kStaff, navigate, type PageContext, pounds, rerender, type Route, when, words } from "./app";
import { caseHeading, caseNavigation, criterionText, loadCase } from "./cases";
import { details, h, inset, link, summaryList, table, tag, warningCallout } from "./dom";
import { actionForm, checkbox, checkboxes, checkedValues, radios, select, showProblems, textarea, textInput, valueOf, button } from "./forms";

const kCriteria: Array<{ criterion: Criterion; perParty: boolean; question: string }> = [
  { criterion: Criterion.JOINT_PROBLEM, perParty: true, question: "Does the party see the conflict as a problem they share?" },
  { criterion: Criterion.WILLING, perParty: true, question: "Is the party willing to take part in mediation?" },
  { criterion: Criterion.NOT_CONTRACTUAL, perParty: false, question: "Is the conflict something other than a contractual or employment matter?" },
  { criterion: Criterion.NO_FORMAL_PROCESS, perParty: false, question: "Is there no formal process (disciplinary, grievance, regulatory) under way?" },
  { criterion: Criterion.NO_RELATIONSHIP, perParty: false, question: "Are the parties free of a close personal relationship?" },
  { criterion: Criterion.FIT_TO_ATTEND, perParty: true, question: "Is the party fit to attend?" },
];

const kAnswers: Array<[string, string]> = [
  [String(CriterionAnswer.MET), "Met"],
  [String(CriterionAnswer.NOT_MET), "Not met"],
  [String(CriterionAnswer.UNKNOWN), "Not known yet"],
];

function answerTag(answer: CriterionAnswer): HTMLElement {
  switch (answer) {
    case CriterionAnswer.MET:
      return tag("Met", "green");
    case CriterionAnswer.NOT_MET:
      return tag("Not met", "red");
    case CriterionAnswer.UNKNOWN:
      return tag("Not known yet", "yellow");
    default:
      return tag("Not answered", "grey");
  }
}

function decisionTag(decision: Suitability): HTMLElement {
  switch (decision) {
    case Suitability.SUITABLE:
      return tag("Suitable", "green");
    case Suitability.NOT_SUITABLE:
      return tag("Not suitable", "red");
    case Suitability.NEEDS_INFORMATION:
      return tag("Needs information", "yellow");
    default:
      return tag("Not decided", "grey");
  }
}

function partyName(c: Case, partyId: bigint): string {
  if (partyId === 0n) return "The case";
  return c.parties.find((p) => p.id === partyId)?.contact?.name ?? `Party ${partyId}`;
}

// The id prefix of one answer's fields: "answer-<criterion>-<party>".
function answerPrefix(criterion: Criterion, partyId: bigint): string {
  return `answer-${criterion}-${partyId}`;
}

function answerFields(c: Case, criterion: Criterion, partyId: bigint, current?: ScreeningAnswer): HTMLElement {
  const prefix = answerPrefix(criterion, partyId);
  const who = partyId === 0n ? "" : ` (${partyName(c, partyId)})`;
  return h(
    "div",
    { class: "app-answer", "data-criterion": String(criterion), "data-party": String(partyId) },
    radios(`${prefix}-answer`, `Answer${who}`, kAnswers, {
      value: current ? String(current.answer) : undefined,
      inline: true,
    }),
    textarea(`${prefix}-note`, `Note${who}`, {
      value: current?.note,
      hint: "Required when not met or not known: say what is wrong or missing.",
    }),
  );
}

function evaluationView(c: Case, evaluation: ScreeningEvaluation | undefined): HTMLElement {
  if (!evaluation) return inset("Nothing to evaluate yet.");
  const issues = [...evaluation.failures, ...evaluation.open];
  return h(
    "section",
    { "aria-labelledby": "evaluation-heading", id: "evaluation" },
    h("h2", { id: "evaluation-heading" }, "What the answers give"),
    h("p", { class: "nhsuk-body", id: "evaluated-decision" }, "The answers give: ", decisionTag(evaluation.decision)),
    evaluation.highConcern
      ? warningCallout(
          "High level of concern",
          "The concern level is high. A Senior Adviser must confirm explicitly that mediation can go ahead.",
        )
      : null,
    ...(evaluation.cautions.length > 0
      ? [h("h3", {}, "Cautions"), h("ul", { class: "nhsuk-list nhsuk-list--bullet", id: "cautions" }, ...evaluation.cautions.map((text) => h("li", {}, text)))]
      : []),
    issues.length > 0
      ? table(
          "Criteria not met or not known",
          ["Criterion", "For", "Answer", "Where to turn instead"],
          issues.map((issue) => [
            criterionText(issue.criterion),
            partyName(c, issue.partyId),
            answerTag(issue.answer),
            issue.signposting,
          ]),
          { id: "issues" },
        )
      : inset("Every criterion is met."),
  );
}

async function screeningPage(context: PageContext): Promise<HTMLElement> {
  const c = await loadCase(context.match[1]);
  const screening = client(ScreeningService);
  const [answers, evaluated] = await Promise.all([
    screening.listScreeningAnswers({ caseId: c.id }),
    screening.evaluateScreening({ caseId: c.id }),
  ]);
  const inForce = new Map<string, ScreeningAnswer>();
  for (const a of answers.answers) inForce.set(answerPrefix(a.criterion, a.partyId), a);
  const open = c.state === CaseState.REFERRED || c.state === CaseState.SCREENING;

  const problems = h("div", {});
  const sections = kCriteria.map(({ criterion, perParty, question }) =>
    h(
      "fieldset",
      { class: "nhsuk-fieldset app-criterion", id: `criterion-${criterion}` },
      h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--m" }, `${criterionText(criterion)}`),
      h("p", { class: "nhsuk-body" }, question),
      ...(perParty ? c.parties.map((p) => p.id) : [0n]).map((partyId) =>
        answerFields(c, criterion, partyId, inForce.get(answerPrefix(criterion, partyId))),
      ),
    ),
  );
  const form = h("form", { novalidate: "", id: "screening-form" }, ...sections, button("Save the answers", { id: "save-answers" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const submit = form.querySelector<HTMLButtonElement>("#save-answers");
    if (submit?.disabled) return;
    if (submit) submit.disabled = true;
    void (async () => {
      // Each changed answer is recorded in turn; a refusal names its own fields.
      const found: Array<{ field?: string; text: string }> = [];
      for (const block of form.querySelectorAll<HTMLElement>(".app-answer")) {
        const criterion = Number(block.dataset.criterion) as Criterion;
        const partyId = BigInt(block.dataset.party ?? "0");
        const prefix = answerPrefix(criterion, partyId);
        const answer = Number(valueOf(block, `${prefix}-answer`) || "0") as CriterionAnswer;
        const note = valueOf(block, `${prefix}-note`);
        const before = inForce.get(prefix);
        if (answer === CriterionAnswer.UNSPECIFIED && !note) continue;
        if (before && before.answer === answer && before.note === note) continue;
        try {
          await screening.recordScreeningAnswer({ caseId: c.id, criterion, partyId, answer, note });
        } catch (error) {
          const message = messageOf(error);
          const field = /^note:/.test(message) ? `${prefix}-note` : `${prefix}-answer`;
          found.push({ field, text: message.replace(/^[a-z_]+: /, "") });
        }
      }
      if (submit) submit.disabled = false;
      if (found.length > 0) {
        showProblems(form, problems, found);
        return;
      }
      await rerender();
      document.getElementById("evaluation")?.scrollIntoView();
    })().catch((error: unknown) => {
      if (submit) submit.disabled = false;
      showProblems(form, problems, [{ text: error instanceof ConnectError ? error.rawMessage : String(error) }]);
    });
  });
  const isAdviser = context.me.role === Role.SENIOR_ADVISER;
  return context.frame(
    `Screening - Case ${c.reference}`,
    ...caseHeading(c, "Screening"),
    caseNavigation(c, `/app/cases/${c.id}/screening`),
    evaluationView(c, evaluated.evaluation),
    c.state === CaseState.SCREENING && isAdviser
      ? h("p", { class: "nhsuk-body" }, link(`/app/cases/${c.id}/decision`, "Record the decision", { id: "to-decision", class: "nhsuk-button" }))
      : null,
    open
      ? h("section", { "aria-labelledby": "answers-heading" }, h("h2", { id: "answers-heading" }, "Answers"), problems, form)
      : inset(`Screening answers can be recorded only while the case is referred or in screening. It is ${words(CaseState[c.state]).toLowerCase()}.`),
    await decisionsList(c),
  );
}

async function decisionsList(c: Case): Promise<HTMLElement> {
  const decisions = await client(ScreeningService).listScreeningDecisions({ caseId: c.id });
  if (decisions.decisions.length === 0) return h("div", {});
  return table(
    "Decisions recorded",
    ["When", "Answers gave", "Decision", "Justification"],
    decisions.decisions.map((d) => [
      when(d.decidedAt),
      words(Suitability[d.evaluated]),
      `${words(Suitability[d.decision])}${d.overridden ? " (override)" : ""}`,
      d.justification,
    ]),
    { id: "decisions" },
  );
}

async function decisionPage(context: PageContext): Promise<HTMLElement> {
  const c = await loadCase(context.match[1]);
  const { evaluation } = await client(ScreeningService).evaluateScreening({ caseId: c.id });
  const evaluated = evaluation?.decision ?? Suitability.UNSPECIFIED;
  const choices: Array<[string, string]> = [];
  if (evaluated === Suitability.SUITABLE || evaluated === Suitability.NOT_SUITABLE) {
    choices.push(["confirm", `Confirm: ${words(Suitability[evaluated]).toLowerCase()}`]);
  }
  if (evaluated !== Suitability.SUITABLE) choices.push([String(Suitability.SUITABLE), "Override: suitable"]);
  if (evaluated !== Suitability.NOT_SUITABLE) choices.push([String(Suitability.NOT_SUITABLE), "Override: not suitable"]);
  const fields: Array<Node | null> = [
    radios("override_decision", "Your decision", choices, { value: choices[0]?.[0] }),
    textarea("justification", "Justification", {
      hint: "Required to override: at least 20 characters on why the decision departs from the answers.",
    }),
    checkboxes(
      "override_criteria",
      "For an override to not suitable: the criteria it rests on",
      kCriteria.map(({ criterion }): [string, string] => [String(criterion), criterionText(criterion)]),
      { idsByValue: true },
    ),
    evaluation?.highConcern ? checkbox("confirm_high_concern", "I confirm that mediation can go ahead despite the high level of concern") : null,
  ];
  const form = actionForm("decision-form", fields, "Record the decision", async (f) => {
    const choice = valueOf(f, "override_decision");
    const response = await client(ScreeningService).recordScreeningDecision({
      caseId: c.id,
      overrideDecision: choice === "confirm" || choice === "" ? Suitability.UNSPECIFIED : (Number(choice) as Suitability),
      justification: valueOf(f, "justification"),
      confirmHighConcern: valueOf(f, "confirm_high_concern") === "true",
      expectedAnswersVersion: evaluation?.answersVersion ?? 0n,
      overrideCriteria: checkedValues(f, "override_criteria").map((criterion) => Number(criterion) as Criterion),
    });
    navigate(`/app/cases/${c.id}${response.state === CaseState.SUITABLE ? "/charges" : ""}`);
  });
  return context.frame(
    `Decision - Case ${c.reference}`,
    ...caseHeading(c, "Record the screening decision"),
    caseNavigation(c, `/app/cases/${c.id}/screening`),
    evaluationView(c, evaluation),
    c.state === CaseState.SCREENING ? form : inset(`The case is ${words(CaseState[c.state]).toLowerCase()}: a decision is recorded only during screening.`),
  );
}

// One indication of charges as an itemised table in pounds and pence (id "indication-<index>"):
// each item, then the subtotal, the VAT and the total (its row marked "app-total"). The staff
// charges page and the organisation's case page both show it.
export function indicationTable(i: ChargeIndication, index: number): HTMLElement {
  const items = i.items.map((item) => [item.description, String(item.quantity), pounds(item.unit?.pence ?? 0n), pounds(item.amount?.pence ?? 0n)]);
  const vatRate = `${(i.vatBasisPoints / 100).toLocaleString("en-GB")}%`;
  const t = table(
    `Indication of ${when(i.indicatedAt)}: ${words(SessionMode[i.mode]).toLowerCase()}, ${i.days} joint day${i.days === 1 ? "" : "s"}`,
    ["Item", "Quantity", "Unit price", "Amount"],
    [
      ...items,
      ["Subtotal", "", "", pounds(i.subtotal?.pence ?? 0n)],
      [`VAT at ${vatRate}`, "", "", pounds(i.vat?.pence ?? 0n)],
      ["Total", "", "", pounds(i.total?.pence ?? 0n)],
    ],
    { id: `indication-${index}`, class: "nhsuk-table app-charges" },
  );
  t.querySelector("tbody tr:last-child")?.classList.add("app-total");
  return t;
}

async function chargesPage(context: PageContext): Promise<HTMLElement> {
  const c = await loadCase(context.match[1]);
  const charges = client(ChargesService);
  const [{ indications }, { schedule }] = await Promise.all([
    charges.listChargeIndications({ caseId: c.id }),
    charges.getFeeSchedule({}),
  ]);
  const isAdviser = context.me.role === Role.SENIOR_ADVISER;
  const form = isAdviser
    ? details(
        "Give an indication of charges",
        "indicate",
        actionForm(
          "charges-form",
          [
            radios("mode", "How will the meetings be held?", [
              [String(SessionMode.IN_PERSON), "In person"],
              [String(SessionMode.VIDEO), "By video"],
            ], { value: String(SessionMode.IN_PERSON) }),
            textInput("days", "Joint mediation days", { classes: "nhsuk-input--width-2", inputmode: "numeric", value: "1", hint: "1 to 10." }),
            textInput("parties", "Parties to meet individually", { classes: "nhsuk-input--width-2", inputmode: "numeric", value: "0", hint: "0 means every party of the case." }),
            select("co_mediation", "Co-mediator", [
              ["default", "As the service does by default (two mediators)"],
              ["yes", "Charge a co-mediator"],
              ["no", "No co-mediator"],
            ]),
          ],
          "Give the indication",
          async (f) => {
            const co = valueOf(f, "co_mediation");
            await charges.indicateCharges({
              caseId: c.id,
              mode: Number(valueOf(f, "mode") || "0") as SessionMode,
              days: Number(valueOf(f, "days")) || 0,
              parties: Number(valueOf(f, "parties")) || 0,
              coMediation: co === "default" ? undefined : co === "yes",
            });
            await rerender();
          },
        ),
      )
    : null;
  if (form && indications.length === 0) form.setAttribute("open", "");
  return context.frame(
    `Charges - Case ${c.reference}`,
    ...caseHeading(c, "Indication of charges"),
    caseNavigation(c, `/app/cases/${c.id}/charges`),
    schedule
      ? summaryList([
          ["Fee schedule", `Version ${schedule.version}, from ${when(schedule.createdAt)}`],
          ["VAT", `${((schedule.vatBasisPoints ?? 0) / 100).toLocaleString("en-GB")}%`],
        ])
      : null,
    h("p", { class: "nhsuk-body" }, link("/app/admin/fee-schedule", "See the fee schedule in force")),
    form,
    indications.length === 0
      ? inset("No indication of charges has been given for this case.")
      : h("div", { id: "indications" }, ...indications.map((i, index) => indicationTable(i, index))),
  );
}

export const screeningRoutes: Route[] = [
  { pattern: /^\/app\/cases\/([1-9][0-9]*)\/screening$/, roles: kStaff, page: screeningPage },
  { pattern: /^\/app\/cases\/([1-9][0-9]*)\/decision$/, roles: [Role.SENIOR_ADVISER], page: decisionPage },
  { pattern: /^\/app\/cases\/([1-9][0-9]*)\/charges$/, roles: kStaff, page: chargesPage },
];
