// The Connect protocol over HTTP/1.1 against the real server binary, with the generated
// TypeScript clients: a case from referral to a Senior Adviser's SUITABLE decision in JSON, the
// same case in the binary format, and the error codes a browser client relies on.
//
// Run by scripts/connect-node-test.sh (ctest -R connect_node), which generates the clients,
// bundles this file and runs it under `node --test` with MEDIATION_SERVER set.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";

import { AdminService } from "@gen/ppa/mediation/v1/admin_pb";
import {
  CareSetting,
  CaseState,
  Criterion,
  CriterionAnswer,
  Nation,
  OrganisationKind,
  Profession,
  Role,
  Sector,
  Suitability,
} from "@gen/ppa/mediation/v1/common_pb";
import { OrganisationSchema, OrganisationService } from "@gen/ppa/mediation/v1/organisation_pb";
import {
  type Case,
  CaseSchema,
  ReferralService,
  ScreeningSummarySchema,
} from "@gen/ppa/mediation/v1/referral_pb";
import { CriterionStatusSchema, ScreeningService } from "@gen/ppa/mediation/v1/screening_pb";

import { ServerProcess } from "./server_process";
import { connectTransport } from "./transport";

const kStartTimeoutMs = 30_000;
const kExitTimeoutMs = 30_000;
const kCallTimeoutMs = 10_000;

let server: ServerProcess | undefined;
let baseUrl = "";
let adminSecret = "";
// What the first test's desk token and case are, for the tests after it.
let deskSecret = "";
let suitableCase: Case | undefined;

before(async () => {
  const binary = process.env.MEDIATION_SERVER;
  if (!binary) throw new Error("MEDIATION_SERVER must name the mediation-server binary");
  server = new ServerProcess({ binary, startTimeoutMs: kStartTimeoutMs });
  await server.start();
  baseUrl = `http://127.0.0.1:${server.httpPort}`;
  adminSecret = server.adminToken();
});

after(async () => {
  if (server === undefined) return;
  const serving = server.httpPort !== 0 && server.grpcPort !== 0;
  const code = await server.stop(kExitTimeoutMs);
  // A server that never served has had its failure reported by before().
  if (serving) {
    assert.equal(code, 0, `the server did not stop cleanly:\n${server.log.join("\n")}`);
  }
});

// Sends `Authorization: Bearer <secret>` with every call.
// A Connect transport to the server: JSON unless binary; without a secret, no credentials.
function connect(secret?: string, options: { binary?: boolean } = {}): Transport {
  return connectTransport(baseUrl, secret, { ...options, timeoutMs: kCallTimeoutMs });
}

// Resolves with the ConnectError a call rejected with; fails if it succeeded.
async function connectError(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  assert.fail("the call succeeded; expected it to be refused");
}

test("a referral with six MET criteria, confirmed by a Senior Adviser, is SUITABLE", async () => {
  // Tokens: the ADMIN token issues one for the case support desk and one for a Senior Adviser.
  const admin = createClient(AdminService, connect(adminSecret));
  const desk = await admin.issueToken({ role: Role.CASE_SUPPORT, label: "Case support desk" });
  assert.equal(desk.token?.id, 2n);
  assert.equal(desk.token?.role, Role.CASE_SUPPORT);
  assert.equal(desk.token?.label, "Case support desk");
  assert.equal(desk.token?.issuedByTokenId, 1n);
  assert.match(desk.secret, /^ppa_[A-Za-z0-9_-]{43}$/);
  const adviser = await admin.issueToken({ role: Role.SENIOR_ADVISER, label: "Senior Adviser" });
  assert.equal(adviser.token?.id, 3n);
  assert.equal(adviser.token?.role, Role.SENIOR_ADVISER);
  assert.equal(adviser.token?.issuedByTokenId, 1n);
  assert.match(adviser.secret, /^ppa_[A-Za-z0-9_-]{43}$/);
  deskSecret = desk.secret;

  // The referral: case support registers the organisation and records its referral.
  const organisations = createClient(OrganisationService, connect(desk.secret));
  const contact = { name: "Priya Shah", email: "priya.shah@northshire.example" };
  const registered = await organisations.registerOrganisation({
    organisation: {
      name: "Northshire Hospitals NHS Trust",
      kind: OrganisationKind.NHS_TRUST,
      nation: Nation.ENGLAND,
      careSetting: CareSetting.SECONDARY,
      sector: Sector.PUBLIC,
      contact,
    },
  });
  assert.ok(registered.organisation?.createdAt, "the organisation has a registration time");
  assert.deepEqual(
    registered.organisation,
    create(OrganisationSchema, {
      id: 1n,
      name: "Northshire Hospitals NHS Trust",
      kind: OrganisationKind.NHS_TRUST,
      nation: Nation.ENGLAND,
      careSetting: CareSetting.SECONDARY,
      sector: Sector.PUBLIC,
      contact,
      createdAt: registered.organisation.createdAt,
    }),
  );

  const referrals = createClient(ReferralService, connect(desk.secret));
  const referrer = { name: "Sam Okafor", email: "sam.okafor@northshire.example" };
  const summary = "Breakdown in communication between two consultants.";
  const parties = [
    { contact: { name: "Dr Alex Morgan", email: "alex.morgan@northshire.example" } },
    { contact: { name: "Dr Jo Reed", email: "jo.reed@northshire.example" } },
  ].map((p) => ({ ...p, profession: Profession.DOCTOR }));
  const { case: referred } = await referrals.createReferral({
    organisationId: 1n,
    referrer,
    summary,
    parties,
  });
  assert.ok(referred?.createdAt && referred.updatedAt, "the case has its times");
  const year = new Date(Number(referred.createdAt.seconds) * 1000).getUTCFullYear();
  // The case as recorded, in a state, with the times (and screening) the server gave it.
  const expectedCase = (
    state: CaseState,
    read: Pick<Case, "createdAt" | "updatedAt" | "screening">,
  ) =>
    create(CaseSchema, {
      id: 1n,
      reference: `AM-${year}-000001`,
      organisationId: 1n,
      organisationName: "Northshire Hospitals NHS Trust",
      state,
      referrer,
      summary,
      parties: parties.map((p, i) => ({ ...p, id: BigInt(i + 1) })),
      revision: 1n,
      createdAt: read.createdAt,
      updatedAt: read.updatedAt,
      screening: read.screening,
    });
  assert.deepEqual(referred, expectedCase(CaseState.REFERRED, referred));

  // Screening: three criteria for each party, three for the case, every one MET.
  const screening = createClient(ScreeningService, connect(desk.secret));
  const answers: Array<{ criterion: Criterion; partyId: bigint }> = [];
  for (const criterion of [Criterion.JOINT_PROBLEM, Criterion.WILLING, Criterion.FIT_TO_ATTEND]) {
    for (const partyId of [1n, 2n]) answers.push({ criterion, partyId });
  }
  for (const criterion of [
    Criterion.NOT_CONTRACTUAL,
    Criterion.NO_FORMAL_PROCESS,
    Criterion.NO_RELATIONSHIP,
  ]) {
    answers.push({ criterion, partyId: 0n });
  }
  const answerIds = new Map<string, bigint>();
  for (const { criterion, partyId } of answers) {
    const recorded = await screening.recordScreeningAnswer({
      caseId: 1n,
      criterion,
      partyId,
      answer: CriterionAnswer.MET,
      note: "Confirmed on the screening call",
    });
    assert.equal(recorded.answer?.caseId, 1n);
    assert.equal(recorded.answer?.criterion, criterion);
    assert.equal(recorded.answer?.partyId, partyId);
    assert.equal(recorded.answer?.answer, CriterionAnswer.MET);
    assert.equal(recorded.answer?.note, "Confirmed on the screening call");
    assert.equal(recorded.answer?.recordedByTokenId, 2n);
    assert.equal(recorded.answer?.supersededBy, 0n);
    answerIds.set(`${criterion}/${partyId}`, recorded.answer.id);
  }

  const { evaluation } = await screening.evaluateScreening({ caseId: 1n });
  assert.equal(evaluation?.decision, Suitability.SUITABLE);
  // Every criterion, per party where it applies, in criterion order.
  const slots: Array<[Criterion, bigint]> = [
    [Criterion.JOINT_PROBLEM, 1n],
    [Criterion.JOINT_PROBLEM, 2n],
    [Criterion.WILLING, 1n],
    [Criterion.WILLING, 2n],
    [Criterion.NOT_CONTRACTUAL, 0n],
    [Criterion.NO_FORMAL_PROCESS, 0n],
    [Criterion.NO_RELATIONSHIP, 0n],
    [Criterion.FIT_TO_ATTEND, 1n],
    [Criterion.FIT_TO_ATTEND, 2n],
  ];
  assert.deepEqual(
    evaluation.statuses,
    slots.map(([criterion, partyId]) =>
      create(CriterionStatusSchema, {
        criterion,
        partyId,
        answer: CriterionAnswer.MET,
        answerId: answerIds.get(`${criterion}/${partyId}`),
      }),
    ),
  );
  assert.deepEqual(evaluation.failures, []);
  assert.deepEqual(evaluation.open, []);
  assert.deepEqual(evaluation.cautions, []);
  assert.equal(evaluation.highConcern, false);
  assert.equal(evaluation.answersVersion, answerIds.get(`${Criterion.NO_RELATIONSHIP}/0`));

  // The Senior Adviser confirms the evaluated decision.
  const adviserScreening = createClient(ScreeningService, connect(adviser.secret));
  const decided = await adviserScreening.recordScreeningDecision({
    caseId: 1n,
    expectedAnswersVersion: evaluation.answersVersion,
  });
  assert.equal(decided.state, CaseState.SUITABLE);
  assert.equal(decided.decision?.caseId, 1n);
  assert.equal(decided.decision?.evaluated, Suitability.SUITABLE);
  assert.equal(decided.decision?.decision, Suitability.SUITABLE);
  assert.equal(decided.decision?.overridden, false);
  assert.equal(decided.decision?.decidedByTokenId, 3n);
  assert.deepEqual(decided.decision?.failedCriteria, []);

  // The case as case support reads it now.
  const read = (await referrals.getCase({ caseId: 1n })).case;
  assert.ok(read?.createdAt && read.updatedAt, "the case has its times");
  assert.deepEqual(read.createdAt, referred.createdAt);
  const screeningSummary = create(ScreeningSummarySchema, {
    decision: Suitability.SUITABLE,
    decidedAt: decided.decision?.decidedAt,
  });
  assert.deepEqual(read.screening, screeningSummary);
  assert.deepEqual(read, expectedCase(CaseState.SUITABLE, read));
  suitableCase = read;
});

test("the binary format (application/proto) reads the same case as JSON", async (t) => {
  if (suitableCase === undefined) return t.skip("needs the case of the first test");
  const referrals = createClient(ReferralService, connect(deskSecret, { binary: true }));
  const { case: read } = await referrals.getCase({ caseId: suitableCase.id });
  assert.deepEqual(read, suitableCase);
});

test("GetCase of a case that does not exist is NOT_FOUND", async () => {
  const admin = createClient(AdminService, connect(adminSecret));
  const { secret } = await admin.issueToken({ role: Role.CASE_SUPPORT, label: "Second desk" });
  const referrals = createClient(ReferralService, connect(secret));
  const error = await connectError(referrals.getCase({ caseId: 999n }));
  assert.equal(error.code, Code.NotFound, error.message);
  assert.equal(error.rawMessage, "case 999 not found");
});

test("a call without a token is UNAUTHENTICATED", async () => {
  const referrals = createClient(ReferralService, connect());
  const error = await connectError(referrals.getCase({ caseId: 1n }));
  assert.equal(error.code, Code.Unauthenticated, error.message);
  assert.match(error.rawMessage, /^missing credentials/);
});
