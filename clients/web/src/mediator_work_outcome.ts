// The outcome of a case and its follow-up, for its mediators (/app/cases/<id>/outcome): what
// GetOutcome holds, and the step the case's state allows: record the outcome (IN_MEDIATION),
// schedule or move the follow-up review (OUTCOME_RECORDED, FOLLOW_UP), record the review
// (FOLLOW_UP, which closes the case).
import { AgreementService, type GetOutcomeResponse, Outcome } from "@gen/ppa/mediation/v1/agreement_pb";
import { CaseState } from "@gen/ppa/mediation/v1/common_pb";
import type { Case } from "@gen/ppa/mediation/v1/referral_pb";

import { client } from "./api";
import { type PageContext, rerender, when, words } from "./app";
import { loadCase } from "./cases";
import { dateInput, dateOf, kDateHint, localProblems, actionForm, radios, textarea, valueOf } from "./forms";
import { dateText } from "./dates";
import { h, inset, summaryList, warningCallout } from "./dom";
import { choices, label } from "./mediation_words";
import { kOutcomes, workHeading, workTitle } from "./mediator_work_parts";
import { noticeFor, section, takeNotice } from "./page_parts";

function summary(o: GetOutcomeResponse): HTMLElement {
  const notes = o.withheld.some((w) => w.field === "review_notes")
    ? "Cannot be shown: they were destroyed or do not open"
    : o.reviewNotes || (o.reviewedAt ? "None recorded" : "Not yet");
  const list = summaryList([
    ["Outcome", o.outcome === Outcome.UNSPECIFIED ? "Not recorded yet" : label(kOutcomes, o.outcome)],
    ["Outcome recorded", o.outcomeRecordedAt ? when(o.outcomeRecordedAt) : "Not yet"],
    ["Follow-up review", o.reviewDate?.year ? dateText(o.reviewDate, "full") : "Not scheduled"],
    ["Review held", o.reviewedAt ? when(o.reviewedAt) : "Not yet"],
    ["Notes from the review", notes],
    [
      "Agreement shared with the organisation",
      o.sharedAgreement
        ? `Version ${o.sharedAgreement.version}: every party signed it and consented to share it`
        : "No: the organisation sees only the outcome and its dates",
    ],
  ]);
  list.id = "outcome-summary";
  return list;
}

function recordOutcome(c: Case, path: string, signedVersion: boolean): HTMLElement {
  return section(
    "record-outcome",
    "Record the outcome",
    signedVersion
      ? null
      : inset("No version of the agreement is signed by every party yet: full or partial agreement can be recorded once one is."),
    warningCallout(
      "The agreement is frozen once the outcome is recorded",
      "No version can be drafted or signed afterwards. The organisation learns the outcome and its dates; it sees the agreement only if every party consented to share it.",
    ),
    actionForm("outcome-form", [radios("outcome", "What was the outcome?", choices(kOutcomes))], "Record the outcome", async (form) => {
      const outcome = Number(valueOf(form, "outcome") || "0") as Outcome;
      await client(AgreementService).recordOutcome({ caseId: c.id, outcome });
      noticeFor(path, `The outcome is recorded: ${label(kOutcomes, outcome).toLowerCase()}.`);
      await rerender();
    }),
  );
}

function scheduleFollowUp(c: Case, path: string, moving: boolean): HTMLElement {
  return section(
    "follow-up",
    moving ? "Move the follow-up review" : "Schedule the follow-up review",
    actionForm(
      "follow-up-form",
      [
        dateInput("review_date", "Date of the review", {
          hint: `Leave it empty for about three months after the outcome (91 days). Not before today. ${kDateHint}`,
        }),
      ],
      moving ? "Move the follow-up review" : "Schedule the follow-up review",
      async (form) => {
        const review = dateOf(form, "review_date");
        if (review.problem) throw localProblems([["review_date", review.problem]]);
        const { reviewDate } = await client(AgreementService).scheduleFollowUp({ caseId: c.id, reviewDate: review.date });
        noticeFor(path, `The follow-up review is on ${dateText(reviewDate, "full")}.`);
        await rerender();
      },
    ),
  );
}

function recordReview(c: Case, path: string): HTMLElement {
  return section(
    "review",
    "Record the follow-up review",
    h(
      "p",
      { class: "nhsuk-body" },
      "Recording that the review took place closes the case. Its notes are then destroyed at the end of the retention period.",
    ),
    actionForm(
      "review-form",
      [
        textarea("notes", "How has the agreement held up? (optional)", {
          hint: "At most 4,000 characters. Seen only by the case's mediators and the case support team.",
        }),
      ],
      "Record the review and close the case",
      async (form) => {
        await client(AgreementService).recordFollowUpReview({ caseId: c.id, notes: valueOf(form, "notes") });
        noticeFor(path, "The follow-up review is recorded and the case is closed.");
        await rerender();
      },
    ),
  );
}

export async function outcomePage(context: PageContext): Promise<HTMLElement> {
  const c = await loadCase(context.match[1]);
  const agreements = client(AgreementService);
  const [outcome, { versions }] = await Promise.all([
    agreements.getOutcome({ caseId: c.id }),
    agreements.getAgreement({ caseId: c.id }),
  ]);
  const path = `/app/cases/${c.id}/outcome`;
  const steps: Array<Node | null> = [];
  switch (c.state) {
    case CaseState.IN_MEDIATION:
      steps.push(recordOutcome(c, path, versions.some((v) => v.final)));
      break;
    case CaseState.OUTCOME_RECORDED:
      steps.push(scheduleFollowUp(c, path, false));
      break;
    case CaseState.FOLLOW_UP:
      steps.push(recordReview(c, path), scheduleFollowUp(c, path, true));
      break;
    case CaseState.CLOSED:
      break;
    default:
      steps.push(
        inset(
          `The outcome is recorded once the mediation has started (its first session has begun), and not while the case is on hold. This case is ${words(CaseState[c.state]).toLowerCase()}.`,
        ),
      );
  }
  return context.frame(
    workTitle("Outcome and follow-up", c),
    ...workHeading(c, "Outcome and follow-up", path),
    takeNotice(path),
    summary(outcome),
    ...steps,
  );
}
