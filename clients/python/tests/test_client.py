"""The Python client against the real server binary: a case driven from referral to its first
booking, idempotent creates, the event stream, errors and the retry rules.

    MEDIATION_SERVER=build/services/mediation-server \\
    PYTHONPATH=clients/python:build/clients/python/gen \\
        /usr/bin/python3 -m unittest discover -s clients/python/tests -v
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import grpc

from ppa_mediation import Client, MediationError, v1
from ppa_mediation.client import safe_to_retry

SERVER = os.environ.get("MEDIATION_SERVER", "build/services/mediation-server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.port = free_port()
        cls.log = open(os.path.join(cls.dir, "server.log"), "w")
        cls.server = subprocess.Popen(
            [SERVER, "--listen=127.0.0.1:%d" % cls.port, "--http_listen=",
             "--db=%s" % os.path.join(cls.dir, "mediation.db")],
            stdout=cls.log, stderr=subprocess.STDOUT)
        cls.addClassCleanup(cls.stop_server)
        token_file = os.path.join(cls.dir, "admin.token")
        for _ in range(100):
            if cls.server.poll() is not None:
                raise RuntimeError("the server exited with %d" % cls.server.returncode)
            if os.path.exists(token_file) and os.path.getsize(token_file) > 0:
                with open(token_file) as f:
                    probe = Client("127.0.0.1:%d" % cls.port, token=f.read(), max_attempts=1)
                try:
                    probe.IdentityService.WhoAmI(v1.admin.WhoAmIRequest(), timeout=1)
                    cls.admin = probe
                    break
                except MediationError:
                    probe.close()
            time.sleep(0.1)
        else:
            raise RuntimeError("the server did not answer within 10 s")
        cls.desk = cls.client_for(role=v1.common.ROLE_CASE_SUPPORT, label="desk")
        cls.adviser = cls.client_for(role=v1.common.ROLE_SENIOR_ADVISER, label="adviser")

    @classmethod
    def stop_server(cls):
        """Runs however setUpClass ended: the server never outlives the test."""
        cls.server.terminate()
        try:
            code = cls.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cls.server.kill()
            code = cls.server.wait()
        cls.log.close()
        shutil.rmtree(cls.dir)
        assert code == 0, "the server did not stop cleanly: exit %d" % code

    @classmethod
    def client_for(cls, **token):
        issued = cls.admin.AdminService.IssueToken(v1.admin.IssueTokenRequest(**token))
        return Client("127.0.0.1:%d" % cls.port, token=issued.secret)

    def referral(self, org_id, key=""):
        r = v1.referral.CreateReferralRequest(
            organisation_id=org_id, summary="Two pharmacists disagree about the dispensary rota.",
            concern_level=v1.common.CONCERN_LEVEL_LOW, concern_type=v1.common.CONCERN_TYPE_ACTIVE,
            idempotency_key=key)
        r.referrer.name = "Sam Okafor"
        r.referrer.email = "sam.okafor@example.nhs.uk"
        for name, email in (("Ali Khan", "ali.khan@example.org"),
                            ("Bea Cole", "bea.cole@example.org")):
            p = r.parties.add(profession=v1.common.PROFESSION_PHARMACIST)
            p.contact.name = name
            p.contact.email = email
        return r

    def organisation(self, name):
        o = v1.organisation.Organisation(
            name=name, kind=v1.common.ORGANISATION_KIND_PHARMACY, nation=v1.common.NATION_WALES,
            care_setting=v1.common.CARE_SETTING_PRIMARY, sector=v1.common.SECTOR_INDEPENDENT)
        o.contact.name = "Priya Shah"
        o.contact.email = "priya.shah@example.org"
        return self.desk.OrganisationService.RegisterOrganisation(
            v1.organisation.RegisterOrganisationRequest(organisation=o)).organisation.id

    def test_drives_a_case_from_referral_to_its_first_session(self):
        org = self.organisation("Bryn Pharmacy")
        case = self.desk.ReferralService.CreateReferral(self.referral(org)).case
        self.assertEqual(case.state, v1.common.CASE_STATE_REFERRED)
        self.assertTrue(case.reference.startswith("AM-"))

        # Screening: every criterion met, the adviser confirms.
        s = v1.screening
        for criterion in (v1.common.CRITERION_JOINT_PROBLEM, v1.common.CRITERION_WILLING,
                          v1.common.CRITERION_FIT_TO_ATTEND):
            for party in case.parties:
                self.desk.ScreeningService.RecordScreeningAnswer(s.RecordScreeningAnswerRequest(
                    case_id=case.id, criterion=criterion, party_id=party.id,
                    answer=v1.common.CRITERION_ANSWER_MET))
        for criterion in (v1.common.CRITERION_NOT_CONTRACTUAL, v1.common.CRITERION_NO_FORMAL_PROCESS,
                          v1.common.CRITERION_NO_RELATIONSHIP):
            self.desk.ScreeningService.RecordScreeningAnswer(s.RecordScreeningAnswerRequest(
                case_id=case.id, criterion=criterion, answer=v1.common.CRITERION_ANSWER_MET))
        decided = self.adviser.ScreeningService.RecordScreeningDecision(
            s.RecordScreeningDecisionRequest(case_id=case.id))
        self.assertEqual(decided.state, v1.common.CASE_STATE_SUITABLE)

        # One mediator, registered, working weekdays, allocated; they accept.
        m = v1.mediator.Mediator(cpd_hours_last_12_months=12, max_concurrent_cases=3,
                                 nations=[v1.common.NATION_WALES], languages=["English"])
        m.contact.name = "Morgan Ellis"
        m.contact.email = "morgan.ellis@example.org"
        m.accreditation.body = v1.mediator.ACCREDITATION_BODY_CIVIL_MEDIATION_COUNCIL
        m.accreditation.level = "Registered Mediator"
        m.accreditation.registration_number = "CMC-2001"
        m.accreditation.expires_on.year, m.accreditation.expires_on.month = 2030, 12
        m.accreditation.expires_on.day = 31
        m.insurance_expires_on.year, m.insurance_expires_on.month = 2030, 6
        m.insurance_expires_on.day = 30
        m.experience.add(profession=v1.common.PROFESSION_PHARMACIST, cases=5)
        mediator = self.admin.MediatorService.RegisterMediator(
            v1.mediator.RegisterMediatorRequest(mediator=m)).mediator
        pattern = v1.mediator.SetWorkingPatternRequest(mediator_id=mediator.id)
        for day in range(1, 6):
            h = pattern.hours.add(weekday=day)
            h.start.hours, h.end.hours = 9, 17
        self.admin.MediatorService.SetWorkingPattern(pattern)
        a = v1.allocation
        self.desk.AllocationService.SetMediatorsRequired(
            a.SetMediatorsRequiredRequest(case_id=case.id, count=1))
        allocation = self.desk.AllocationService.AllocateMediator(a.AllocateMediatorRequest(
            case_id=case.id, mediator_id=mediator.id, role=a.ALLOCATION_ROLE_LEAD)).allocation
        mediator_client = self.client_for(role=v1.common.ROLE_MEDIATOR, mediator_id=mediator.id,
                                          label="Morgan Ellis")
        mediator_client.AllocationService.RespondToAllocation(
            a.RespondToAllocationRequest(allocation_id=allocation.id, accept=True))
        got = self.desk.ReferralService.GetCase(v1.referral.GetCaseRequest(case_id=case.id))
        self.assertEqual(got.case.state, v1.common.CASE_STATE_MEDIATORS_ALLOCATED)

        # The earliest joint slot by video, booked.
        sc = v1.scheduling
        slots = self.desk.SchedulingService.FindSlots(sc.FindSlotsRequest(
            case_id=case.id, kind=sc.SESSION_KIND_JOINT_MEETING, mode=v1.common.SESSION_MODE_VIDEO,
            duration_minutes=90, max_slots=2))
        self.assertEqual(len(slots.slots), 2)
        booked = self.desk.SchedulingService.BookSession(sc.BookSessionRequest(
            case_id=case.id, kind=sc.SESSION_KIND_JOINT_MEETING, mode=v1.common.SESSION_MODE_VIDEO,
            video_link="https://video.example/py", start=slots.slots[1].start,
            duration_minutes=90)).session
        self.assertEqual(booked.start, slots.slots[1].start)
        got = self.desk.ReferralService.GetCase(v1.referral.GetCaseRequest(case_id=case.id))
        self.assertEqual(got.case.state, v1.common.CASE_STATE_SESSIONS_SCHEDULED)

        # The case's events, in order, from the stream.
        events = list(self.desk.CaseEventService.StreamCaseEvents(
            v1.events.StreamCaseEventsRequest(case_id=case.id, stop_at_end=True), timeout=20))
        ev = v1.events
        self.assertEqual([e.kind for e in events], [
            ev.CASE_EVENT_KIND_STATE_CHANGED, ev.CASE_EVENT_KIND_STATE_CHANGED,
            ev.CASE_EVENT_KIND_STATE_CHANGED, ev.CASE_EVENT_KIND_ALLOCATION_OFFERED,
            ev.CASE_EVENT_KIND_ALLOCATION_CHANGED, ev.CASE_EVENT_KIND_STATE_CHANGED,
            ev.CASE_EVENT_KIND_SESSION_BOOKED, ev.CASE_EVENT_KIND_STATE_CHANGED])
        self.assertEqual(events[6].session_id, booked.id)
        self.assertEqual(events[-1].to_state, v1.common.CASE_STATE_SESSIONS_SCHEDULED)

    def test_a_repeated_create_with_the_same_key_returns_the_first_case(self):
        org = self.organisation("Cole Pharmacy")
        first = self.desk.ReferralService.CreateReferral(self.referral(org, key="py-repeat-1"))
        again = self.desk.ReferralService.CreateReferral(self.referral(org, key="py-repeat-1"))
        self.assertEqual(first, again)
        listed = self.desk.ReferralService.ListCases(
            v1.referral.ListCasesRequest(organisation_id=org))
        self.assertEqual([c.id for c in listed.cases], [first.case.id])

    def test_errors_carry_the_servers_code_and_message(self):
        with self.assertRaises(MediationError) as missing:
            self.desk.ReferralService.GetCase(v1.referral.GetCaseRequest(case_id=999999))
        self.assertEqual(missing.exception.code, grpc.StatusCode.NOT_FOUND)
        self.assertEqual(missing.exception.message, "case 999999 not found")
        anonymous = Client("127.0.0.1:%d" % self.port)
        with self.assertRaises(MediationError) as refused:
            anonymous.ReferralService.ListCases(v1.referral.ListCasesRequest())
        self.assertEqual(refused.exception.code, grpc.StatusCode.UNAUTHENTICATED)


    def test_the_example_runs(self):
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "example.py")
        done = subprocess.run(
            [sys.executable, example, "--addr=127.0.0.1:%d" % self.port,
             "--token-file=%s" % os.path.join(self.dir, "admin.token")],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.splitlines()[0], "signed in as token 1 (ROLE_ADMIN)")


class RetryTest(unittest.TestCase):
    """Against a port where nothing listens: every attempt fails UNAVAILABLE."""

    def setUp(self):
        self.client = Client("127.0.0.1:%d" % free_port(), token="ppa_none", deadline=2,
                             max_attempts=3, initial_backoff=0.01)

    def test_a_read_is_retried(self):
        with self.assertRaises(MediationError) as e:
            self.client.ReferralService.GetCase(v1.referral.GetCaseRequest(case_id=1))
        self.assertEqual(e.exception.code, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(self.client.attempts, 3)

    def test_a_write_with_an_idempotency_key_is_retried(self):
        with self.assertRaises(MediationError):
            self.client.ReferralService.CreateReferral(
                v1.referral.CreateReferralRequest(organisation_id=1, idempotency_key="k-1"))
        self.assertEqual(self.client.attempts, 3)

    def test_a_write_without_a_key_is_sent_once(self):
        with self.assertRaises(MediationError):
            self.client.ReferralService.CreateReferral(
                v1.referral.CreateReferralRequest(organisation_id=1))
        self.assertEqual(self.client.attempts, 1)
        with self.assertRaises(MediationError):
            self.client.CaseService.HoldCase(v1.case.HoldCaseRequest(case_id=1, reason="x"))
        self.assertEqual(self.client.attempts, 2)

    def test_safe_to_retry_reads_the_api_options(self):
        services = v1.referral.DESCRIPTOR.services_by_name["ReferralService"]
        self.assertTrue(safe_to_retry(services.methods_by_name["ListCases"],
                                      v1.referral.ListCasesRequest()))
        create = services.methods_by_name["CreateReferral"]
        self.assertFalse(safe_to_retry(create, v1.referral.CreateReferralRequest()))
        self.assertTrue(safe_to_retry(create, v1.referral.CreateReferralRequest(
            idempotency_key="abc")))


if __name__ == "__main__":
    unittest.main()
