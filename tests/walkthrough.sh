#!/usr/bin/env bash
# One case end to end with mediationctl, printing each step: organisation, referral, screening,
# adviser decision, quote, mediators (CSV import), allocation, bookings, notes, an agreement
# signed by both parties, outcome, follow-up, closure, statistics and audit verification.
#
# It starts its own server on a temporary database and port, and lets days pass by restarting
# the server under libfaketime (Debian's faketime) so that the booked session has started.
#
#   tests/walkthrough.sh [mediation-server] [mediationctl]
#
# (default: the binaries under build/). CTest runs it; every command's JSON answer is parsed,
# so a command whose --output=json is not JSON fails the walkthrough.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
server_bin="${1:-$here/build/services/mediation-server}"
ctl_bin="${2:-$here/build/clients/mediationctl}"
python=/usr/bin/python3  # Debian's, whatever else is on PATH.

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "walkthrough FAILED: $*" >&2
  echo "--- server log (last 30 lines) ---" >&2
  tail -n 30 "$work/server.log" >&2 || true
  exit 1
}

port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export MEDIATION_ADDR="127.0.0.1:$port"
export MEDIATION_CONFIG=/dev/null  # Nothing from the user's own config.
unset MEDIATION_TOKEN MEDIATION_TOKEN_FILE MEDIATION_OUTPUT

# start_server [faketime offset in seconds]
start_server() {
  local prefix=()
  if [[ -n "${1:-}" ]]; then
    # libfaketime preloaded (not the `faketime` wrapper, which would stand between us and the
    # server's signals). Only the wall clock moves: timed waits keep the real monotonic clock.
    local lib
    lib="$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)"
    [[ -n "$lib" ]] || fail "libfaketime is not installed (deploy/install-deps.sh installs it)"
    prefix=(env LD_PRELOAD="$lib" FAKETIME="+$1" FAKETIME_DONT_FAKE_MONOTONIC=1)
  fi
  "${prefix[@]}" "$server_bin" --listen="127.0.0.1:$port" --http_listen= --db="$work/mediation.db" \
    --maintenance_interval_seconds=1 >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    if "$ctl_bin" --token-file="$work/admin.token" whoami show >/dev/null 2>&1; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || fail "the server did not start"
    sleep 0.1
  done
  fail "the server did not answer within 10 s"
}
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || fail "the server did not stop cleanly"
  server_pid=""
}

step=0
say() {
  step=$((step + 1))
  printf '\n== %d. %s\n' "$step" "$*"
}

# ctl <token> <args...>: runs mediationctl with --output=json, checks the answer is JSON and
# keeps it in $out.
ctl() {
  local token="$1"
  shift
  local status=0
  out="$("$ctl_bin" --token="$token" --output=json "$@")" || status=$?
  [[ $status -eq 0 ]] || fail "mediationctl $* (exit $status)"
  "$python" -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$out" ||
    fail "mediationctl $* printed something that is not JSON: $out"
}
# show <token> <args...>: runs mediationctl with its human-readable output.
show() {
  local token="$1"
  shift
  "$ctl_bin" --token="$token" "$@" || fail "mediationctl $*"
}
# get <python expression over d, the last answer>
get() { "$python" -c "import json,sys; d=json.loads(sys.stdin.read()); print($1)" <<<"$out"; }

say "Start the server on a temporary database ($work)"
start_server
admin="$(cat "$work/admin.token")"
show "$admin" whoami show

say "Issue tokens for the case support team and a Senior Adviser"
ctl "$admin" token issue --role=case-support --label="Case support desk"
desk="$(get 'd["secret"]')"
ctl "$admin" token issue --role=senior-adviser --label="Senior Adviser"
adviser="$(get 'd["secret"]')"
echo "tokens issued for the case support desk and the Senior Adviser"

say "Register the referring organisation"
ctl "$desk" organisation register --name="Northshire Hospitals NHS Trust" --kind=nhs-trust \
  --nation=england --care-setting=secondary --sector=public \
  --organisation.contact.name="Priya Shah" --organisation.contact.email=priya.shah@example.nhs.uk
org="$(get 'd["organisation"]["id"]')"
echo "organisation $org"

say "Refer a case with two parties"
ctl "$desk" referral create --organisation-id="$org" \
  --referrer.name="Sam Okafor" --referrer.email=sam.okafor@example.nhs.uk \
  --referrer.job-title="Clinical Director" \
  --summary="Breakdown in communication between two consultants about the ward rota." \
  --concern-level=mid --concern-type=active \
  --parties.0.contact.name="Dr Alex Morgan" --parties.0.contact.email=alex.morgan@example.nhs.uk \
  --parties.0.profession=doctor \
  --parties.1.contact.name="Dr Jo Reed" --parties.1.contact.email=jo.reed@example.nhs.uk \
  --parties.1.profession=doctor --parties.1.accessibility-needs="Step-free access"
case_id="$(get 'd["case"]["id"]')"
reference="$(get 'd["case"]["reference"]')"
party_a="$(get 'd["case"]["parties"][0]["id"]')"
party_b="$(get 'd["case"]["parties"][1]["id"]')"
echo "case $case_id ($reference), parties $party_a and $party_b"
show "$desk" case get --case-id="$case_id"

say "Screen the case against the six criteria"
for criterion in joint-problem willing fit-to-attend; do
  for party in "$party_a" "$party_b"; do
    ctl "$desk" screening answer --case-id="$case_id" --criterion="$criterion" \
      --party-id="$party" --answer=met --note="Confirmed on the screening call"
  done
done
for criterion in not-contractual no-formal-process no-relationship; do
  ctl "$desk" screening answer --case-id="$case_id" --criterion="$criterion" --answer=met
done
show "$desk" screening evaluate --case-id="$case_id"

say "The Senior Adviser confirms the decision"
ctl "$adviser" screening decide --case-id="$case_id"
[[ "$(get 'd["state"]')" == CASE_STATE_SUITABLE ]] || fail "the case is not SUITABLE: $out"
echo "case state: SUITABLE"

say "Indicate the charges (two parties, one day, in person, co-mediation)"
show "$adviser" charges indicate --case-id="$case_id" --parties=2 --days=1 --mode=in-person \
  --co-mediation

say "Import mediators from a CSV file (one row is bad on purpose)"
cat >"$work/mediators.csv" <<'CSV'
contact.name,contact.email,accreditation.body,accreditation.level,accreditation.registration_number,accreditation.expires_on,insurance_expires_on,cpd_hours_last_12_months,nations,languages,experience.0.profession,experience.0.cases,max_concurrent_cases
Morgan Ellis,morgan.ellis@example.org,civil-mediation-council,Registered Mediator,CMC-1001,2030-12-31,2030-06-30,14,england;wales,English,doctor,12,4
Kit Shaw,kit.shaw@example.org,civil-mediation-council,Registered Mediator,CMC-1002,2030-12-31,2030-06-30,10,england,English;Welsh,doctor,6,3
Rowan Hale,rowan.hale@example.org,civil-mediation-council,Registered Mediator,CMC-1003,2030-13-31,2030-06-30,10,england,English,doctor,2,3
CSV
set +e
out="$("$ctl_bin" --token="$admin" --output=json mediator import "$work/mediators.csv")"
status=$?
set -e
[[ $status -eq 1 ]] || fail "the import should report one refused row (exit 1), got exit $status"
"$python" -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["imported"] == 2 and d["failed"] == 1, d' <<<"$out" ||
  fail "unexpected import report: $out"
lead="$(get 'd["results"][0]["mediator_id"]')"
co="$(get 'd["results"][1]["mediator_id"]')"
echo "imported mediators $lead and $co; row 3 refused: $(get 'd["results"][2]["error"]')"
for m in "$lead" "$co"; do
  ctl "$admin" mediator set-working-pattern --mediator-id="$m" \
    --hours.0.weekday=1 --hours.0.start=09:00 --hours.0.end=17:00 \
    --hours.1.weekday=2 --hours.1.start=09:00 --hours.1.end=17:00 \
    --hours.2.weekday=3 --hours.2.start=09:00 --hours.2.end=17:00 \
    --hours.3.weekday=4 --hours.3.start=09:00 --hours.3.end=17:00 \
    --hours.4.weekday=5 --hours.4.start=09:00 --hours.4.end=17:00
done
show "$desk" mediator list

say "Propose and allocate two mediators; each accepts with their own token"
show "$desk" allocation propose --case-id="$case_id"
ctl "$admin" token issue --role=mediator --mediator-id="$lead" --label="Morgan Ellis"
lead_token="$(get 'd["secret"]')"
ctl "$admin" token issue --role=mediator --mediator-id="$co" --label="Kit Shaw"
co_token="$(get 'd["secret"]')"
ctl "$desk" allocation allocate --case-id="$case_id" --mediator-id="$lead" --role=lead
lead_allocation="$(get 'd["allocation"]["id"]')"
ctl "$desk" allocation allocate --case-id="$case_id" --mediator-id="$co" --role=co-mediator
co_allocation="$(get 'd["allocation"]["id"]')"
ctl "$lead_token" allocation respond --allocation-id="$lead_allocation" --accept
ctl "$co_token" allocation respond --allocation-id="$co_allocation" --accept
show "$desk" allocation list --case-id="$case_id"

say "Find the earliest joint slot by video and book it"
show "$desk" session find-slots --case-id="$case_id" --kind=joint-meeting --mode=video \
  --duration-minutes=120 --max-slots=3
ctl "$desk" session find-slots --case-id="$case_id" --kind=joint-meeting --mode=video \
  --duration-minutes=120 --max-slots=2
# The second slot: the first may fall inside the minimum notice by the time it is booked.
start="$(get 'd["slots"][1]["start"]')"
ctl "$desk" session book --case-id="$case_id" --kind=joint-meeting --mode=video \
  --video-link=https://video.example/joint --start="$start" --duration-minutes=120
session="$(get 'd["session"]["id"]')"
echo "session $session booked at $start"
show "$desk" calendar session --session-id="$session"

say "Parties get their own tokens and see their session"
ctl "$admin" token issue --role=party --case-id="$case_id" --party-id="$party_a" --label="Alex"
party_a_token="$(get 'd["secret"]')"
ctl "$admin" token issue --role=party --case-id="$case_id" --party-id="$party_b" --label="Jo"
party_b_token="$(get 'd["secret"]')"
show "$party_a_token" session list --case-id="$case_id"

say "Days pass: restart the server after the session has started"
stop_server
offset="$("$python" -c "
import datetime, sys
start = datetime.datetime.fromisoformat('$start'.replace('Z', '+00:00'))
now = datetime.datetime.now(datetime.timezone.utc)
print(int((start - now).total_seconds()) + 3 * 3600)")"
echo "the server's clock moves $((offset / 3600)) hours ahead"
start_server "$offset"
for _ in $(seq 1 50); do
  ctl "$desk" case get --case-id="$case_id"
  [[ "$(get 'd["case"]["state"]')" == CASE_STATE_IN_MEDIATION ]] && break
  sleep 0.2
done
[[ "$(get 'd["case"]["state"]')" == CASE_STATE_IN_MEDIATION ]] || fail "not IN_MEDIATION: $out"
echo "case state: IN_MEDIATION"

say "Mediators keep confidential notes"
ctl "$lead_token" note add --case-id="$case_id" --session-id="$session" --visibility=shared \
  --text="Both parties agreed to a fortnightly rota review."
ctl "$lead_token" note add --case-id="$case_id" --visibility=private \
  --text="Follow up on workload concerns privately."
show "$co_token" note list --case-id="$case_id"
set +e
"$ctl_bin" --token="$desk" note list --case-id="$case_id" 2>"$work/denied.txt"
status=$?
set -e
[[ $status -eq 1 ]] || fail "case support could read notes (exit $status)"
echo "case support is refused: $(cat "$work/denied.txt")"

say "Draft the outcome agreement; both parties sign it"
ctl "$lead_token" agreement draft --case-id="$case_id" \
  --content.items.0.commitment="Review the ward rota together every fortnight." \
  --content.items.0.party-ids="$party_a,$party_b" \
  --content.items.1.commitment="Raise rota concerns by email before the review." \
  --content.items.1.party-ids="$party_b" \
  --content.free-text="Agreed in the joint session."
version="$(get 'd["version"]["id"]')"
hash="$(get 'd["version"]["content_hash"]')"
ctl "$party_a_token" agreement sign --version-id="$version" --content-hash="$hash" \
  --consent-to-share
ctl "$party_b_token" agreement sign --version-id="$version" --content-hash="$hash"
show "$lead_token" agreement get --case-id="$case_id"

say "Record the outcome, schedule the follow-up, hold the review: the case closes"
ctl "$lead_token" outcome record --case-id="$case_id" --outcome=full-agreement
ctl "$desk" outcome schedule-follow-up --case-id="$case_id"
ctl "$desk" outcome review --case-id="$case_id"
[[ "$(get 'd["state"]')" == CASE_STATE_CLOSED ]] || fail "the case is not CLOSED: $out"
show "$desk" case history --case-id="$case_id"

say "The organisation follows its case's events (no confidential detail)"
ctl "$admin" token issue --role=organisation --organisation-id="$org" --label="Northshire"
org_token="$(get 'd["secret"]')"
ctl "$org_token" event stream --stop-at-end
"$python" -c '
import json, sys
events = json.loads(sys.stdin.read())
assert events, "no events"
for e in events:
    assert "mediator_id" not in e and "allocation_id" not in e, e
print(len(events), "events, the last:", events[-1]["kind"], events[-1].get("to_state", ""))
' <<<"$out" || fail "unexpected events: $out"

say "Statistics"
show "$desk" statistics show
ctl "$desk" statistics show
[[ "$(get 'd["referrals"]')" == 1 ]] || fail "statistics: $out"

say "Verify the audit trail"
ctl "$admin" audit verify
show "$admin" audit verify
[[ "$(get 'd.get("intact", False)')" == True ]] || fail "the audit chain is not intact: $out"

say "Stop the server"
stop_server
echo
echo "walkthrough complete: $step steps, case $reference closed"
