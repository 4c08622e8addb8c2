#!/usr/bin/env python3
"""A runnable example: who am I, service statistics, and the newest cases.

    PYTHONPATH=clients/python:build/clients/python/gen \\
        /usr/bin/python3 clients/python/example.py --token-file var/admin.token

The address comes from --addr or MEDIATION_ADDR (default 127.0.0.1:50051).
"""

import argparse
import os
import sys

import grpc

from ppa_mediation import Client, MediationError, v1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default=os.environ.get("MEDIATION_ADDR", "127.0.0.1:50051"))
    parser.add_argument("--token-file", default=os.environ.get("MEDIATION_TOKEN_FILE"),
                        required="MEDIATION_TOKEN_FILE" not in os.environ)
    args = parser.parse_args()
    with open(args.token_file) as f:
        token = f.read().strip()
    with Client(args.addr, token=token) as client:
        try:
            me = client.IdentityService.WhoAmI(v1.admin.WhoAmIRequest())
            print("signed in as token %d (%s)" % (me.token.id, v1.common.Role.Name(me.token.role)))
            stats = client.StatisticsService.GetStatistics(v1.statistics.GetStatisticsRequest())
            print("referrals: %d, screened: %d, suitable: %d" % (stats.referrals, stats.screened,
                                                                 stats.suitable))
        except MediationError as error:
            print("error:", error, file=sys.stderr)
            return 1
        try:
            cases = client.ReferralService.ListCases(v1.referral.ListCasesRequest(page_size=10))
        except MediationError as error:
            if error.code != grpc.StatusCode.PERMISSION_DENIED:
                print("error:", error, file=sys.stderr)
                return 1
            print("this token may not list cases (%s)" % error.message)
            return 0
        for c in cases.cases:
            print("%-16s %-28s %s" % (c.reference, v1.common.CaseState.Name(c.state),
                                      c.summary[:40]))
        if not cases.cases:
            print("no cases yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
