#include "storage/schema.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/sql_util.h"
#include "storage/sqlite_connection.h"

namespace mediation::storage {
namespace {

constexpr Migration kMigrations[] = {
    {1, "tokens, organisations and audit", R"sql(
CREATE TABLE organisations (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  nation TEXT NOT NULL,
  care_setting TEXT NOT NULL,
  sector TEXT NOT NULL,
  ods_code TEXT UNIQUE,
  contact_name TEXT NOT NULL,
  contact_email TEXT NOT NULL,
  contact_phone TEXT NOT NULL,
  contact_job_title TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX organisations_by_nation ON organisations (nation, id);

CREATE TABLE access_tokens (
  id INTEGER PRIMARY KEY,
  sha256 BLOB NOT NULL UNIQUE CHECK (length(sha256) = 32),
  role TEXT NOT NULL,
  label TEXT NOT NULL,
  mediator_id INTEGER,
  organisation_id INTEGER REFERENCES organisations (id),
  case_id INTEGER,
  party_id INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER,
  issued_by_token_id INTEGER REFERENCES access_tokens (id)
);
CREATE INDEX access_tokens_by_role ON access_tokens (role, revoked_at);

CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  call_id TEXT NOT NULL,
  token_id INTEGER,
  role TEXT NOT NULL,
  method TEXT NOT NULL,
  objects TEXT NOT NULL,
  outcome TEXT NOT NULL
);
CREATE INDEX audit_events_by_token ON audit_events (token_id, id);
)sql"},
    {2, "cases and parties", R"sql(
CREATE TABLE cases (
  id INTEGER PRIMARY KEY,
  reference TEXT UNIQUE,
  organisation_id INTEGER NOT NULL REFERENCES organisations (id),
  state TEXT NOT NULL,
  referrer_name TEXT NOT NULL,
  referrer_email TEXT NOT NULL,
  referrer_phone TEXT NOT NULL,
  referrer_job_title TEXT NOT NULL,
  summary TEXT NOT NULL,
  concern_level TEXT NOT NULL,
  concern_type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  created_by_token_id INTEGER REFERENCES access_tokens (id)
);
CREATE INDEX cases_by_organisation ON cases (organisation_id, id);
CREATE INDEX cases_by_state ON cases (state, id);

CREATE TABLE parties (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  phone TEXT NOT NULL,
  job_title TEXT NOT NULL,
  profession TEXT NOT NULL,
  accessibility_needs TEXT NOT NULL,
  bringing_companion INTEGER NOT NULL,
  UNIQUE (case_id, position)
);

CREATE TABLE case_links (
  case_id INTEGER NOT NULL REFERENCES cases (id),
  position INTEGER NOT NULL,
  reference TEXT NOT NULL,
  PRIMARY KEY (case_id, position)
);

CREATE TABLE case_state_history (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  from_state TEXT,
  to_state TEXT NOT NULL,
  at INTEGER NOT NULL,
  token_id INTEGER REFERENCES access_tokens (id),
  reason TEXT NOT NULL
);
CREATE INDEX case_state_history_by_case ON case_state_history (case_id, id);
)sql"},
    {3, "screening, lifecycle, referral revisions and charges", R"sql(
ALTER TABLE parties ADD COLUMN typical_availability TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE cases ADD COLUMN held_from_state TEXT;
ALTER TABLE cases ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN withdrawn_by TEXT NOT NULL DEFAULT 'WITHDRAWN_BY_UNSPECIFIED';
ALTER TABLE cases ADD COLUMN withdrawal_reason TEXT NOT NULL DEFAULT '';

CREATE TABLE referral_revisions (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  revision INTEGER NOT NULL,
  at INTEGER NOT NULL,
  token_id INTEGER REFERENCES access_tokens (id),
  reason TEXT NOT NULL,
  changed_fields TEXT NOT NULL,
  previous BLOB NOT NULL,
  UNIQUE (case_id, revision)
);

CREATE TABLE screening_answers (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  criterion TEXT NOT NULL,
  party_id INTEGER REFERENCES parties (id),
  answer TEXT NOT NULL,
  note TEXT NOT NULL,
  recorded_by_token_id INTEGER REFERENCES access_tokens (id),
  recorded_at INTEGER NOT NULL,
  superseded_by INTEGER REFERENCES screening_answers (id)
);
CREATE INDEX screening_answers_by_case ON screening_answers (case_id, criterion, party_id);

CREATE TABLE screening_decisions (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  evaluated TEXT NOT NULL,
  decision TEXT NOT NULL,
  overridden INTEGER NOT NULL,
  justification TEXT NOT NULL,
  high_concern_confirmed INTEGER NOT NULL,
  failed_criteria TEXT NOT NULL,
  signposting TEXT NOT NULL,
  decided_by_token_id INTEGER REFERENCES access_tokens (id),
  decided_at INTEGER NOT NULL
);
CREATE INDEX screening_decisions_by_case ON screening_decisions (case_id, id);

CREATE TABLE fee_schedules (
  version INTEGER PRIMARY KEY,
  mediation_day_pence INTEGER NOT NULL,
  individual_meeting_pence INTEGER NOT NULL,
  co_mediation_day_pence INTEGER NOT NULL,
  venue_day_pence INTEGER NOT NULL,
  travel_per_mediator_day_pence INTEGER NOT NULL,
  vat_basis_points INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  created_by_token_id INTEGER REFERENCES access_tokens (id)
);
-- An illustrative starting schedule; an administrator sets the real one.
INSERT INTO fee_schedules VALUES (1, 120000, 35000, 60000, 25000, 9500, 2000, 0, NULL);

CREATE TABLE charge_indications (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  schedule_version INTEGER NOT NULL REFERENCES fee_schedules (version),
  parties INTEGER NOT NULL,
  days INTEGER NOT NULL,
  mode TEXT NOT NULL,
  co_mediation INTEGER NOT NULL,
  subtotal_pence INTEGER NOT NULL,
  vat_pence INTEGER NOT NULL,
  vat_basis_points INTEGER NOT NULL,
  total_pence INTEGER NOT NULL,
  indicated_by_token_id INTEGER REFERENCES access_tokens (id),
  indicated_at INTEGER NOT NULL
);
CREATE INDEX charge_indications_by_case ON charge_indications (case_id, id);

CREATE TABLE charge_items (
  indication_id INTEGER NOT NULL REFERENCES charge_indications (id),
  position INTEGER NOT NULL,
  description TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  unit_pence INTEGER NOT NULL,
  amount_pence INTEGER NOT NULL,
  PRIMARY KEY (indication_id, position)
);
)sql"},
    {4, "mediator registry and allocation", R"sql(
ALTER TABLE cases ADD COLUMN mediators_required INTEGER NOT NULL DEFAULT 2;

CREATE TABLE mediators (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  normalised_name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  phone TEXT NOT NULL,
  job_title TEXT NOT NULL,
  accreditation_body TEXT NOT NULL,
  accreditation_level TEXT NOT NULL,
  registration_number TEXT NOT NULL,
  accreditation_expires INTEGER NOT NULL,  -- days since 1970-01-01
  insurance_expires INTEGER NOT NULL,
  cpd_hours INTEGER NOT NULL,
  nations INTEGER NOT NULL,                -- bit per Nation value
  languages TEXT NOT NULL,                 -- one per line
  max_concurrent_cases INTEGER NOT NULL,
  active INTEGER NOT NULL,
  professions INTEGER NOT NULL,            -- bit per Profession with experience
  working_days INTEGER NOT NULL DEFAULT 0, -- bit (ISO weekday - 1) per day worked
  last_allocated_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX mediators_by_name ON mediators (normalised_name);

CREATE TABLE mediator_experience (
  mediator_id INTEGER NOT NULL REFERENCES mediators (id),
  profession TEXT NOT NULL,
  cases INTEGER NOT NULL,
  PRIMARY KEY (mediator_id, profession)
);

CREATE TABLE working_hours (
  mediator_id INTEGER NOT NULL REFERENCES mediators (id),
  weekday INTEGER NOT NULL,                -- 1 Monday .. 7 Sunday
  start_minute INTEGER NOT NULL,           -- minutes after local midnight, Europe/London
  end_minute INTEGER NOT NULL
);
CREATE INDEX working_hours_by_mediator ON working_hours (mediator_id);

CREATE TABLE mediator_leave (
  id INTEGER PRIMARY KEY,
  mediator_id INTEGER NOT NULL REFERENCES mediators (id),
  first_day INTEGER NOT NULL,
  last_day INTEGER NOT NULL,
  note TEXT NOT NULL
);
CREATE INDEX mediator_leave_by_mediator ON mediator_leave (mediator_id);
CREATE INDEX mediator_leave_by_last_day ON mediator_leave (last_day);

CREATE TABLE mediator_conflicts (
  id INTEGER PRIMARY KEY,
  mediator_id INTEGER NOT NULL REFERENCES mediators (id),
  kind TEXT NOT NULL,
  organisation_id INTEGER REFERENCES organisations (id),
  person_name TEXT NOT NULL,
  normalised_name TEXT NOT NULL,
  person_email TEXT NOT NULL,
  case_id INTEGER REFERENCES cases (id),
  source TEXT NOT NULL,
  note TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  recorded_by_token_id INTEGER REFERENCES access_tokens (id)
);
CREATE INDEX mediator_conflicts_by_mediator ON mediator_conflicts (mediator_id);
CREATE INDEX mediator_conflicts_by_organisation ON mediator_conflicts (organisation_id)
  WHERE organisation_id IS NOT NULL;
CREATE INDEX mediator_conflicts_by_email ON mediator_conflicts (person_email)
  WHERE person_email <> '';
CREATE INDEX mediator_conflicts_by_name ON mediator_conflicts (normalised_name)
  WHERE normalised_name <> '';
CREATE INDEX mediator_conflicts_by_case ON mediator_conflicts (case_id) WHERE case_id IS NOT NULL;

CREATE TABLE allocations (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  mediator_id INTEGER NOT NULL REFERENCES mediators (id),
  role TEXT NOT NULL,
  state TEXT NOT NULL,
  open INTEGER NOT NULL,                   -- 1 while PENDING or ACCEPTED on an unfinished case
  offered_at INTEGER NOT NULL,
  offered_by_token_id INTEGER REFERENCES access_tokens (id),
  responded_at INTEGER,
  responded_by_token_id INTEGER REFERENCES access_tokens (id),
  decline_reason TEXT NOT NULL DEFAULT 'DECLINE_REASON_UNSPECIFIED',
  response_note TEXT NOT NULL DEFAULT '',
  closed_at INTEGER
);
CREATE INDEX allocations_by_case ON allocations (case_id);
CREATE INDEX allocations_by_mediator ON allocations (mediator_id, id);
CREATE INDEX allocations_open_by_mediator ON allocations (mediator_id) WHERE open = 1;
-- A role is offered to or held by one mediator at a time, and a mediator holds one role a case.
CREATE UNIQUE INDEX allocations_one_per_role ON allocations (case_id, role)
  WHERE state IN ('ALLOCATION_STATE_PENDING', 'ALLOCATION_STATE_ACCEPTED');
CREATE UNIQUE INDEX allocations_one_role_per_mediator ON allocations (case_id, mediator_id)
  WHERE state IN ('ALLOCATION_STATE_PENDING', 'ALLOCATION_STATE_ACCEPTED');
)sql"},
    {5, "venues, availability and sessions", R"sql(
CREATE TABLE venues (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  address TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE rooms (
  id INTEGER PRIMARY KEY,
  venue_id INTEGER NOT NULL REFERENCES venues (id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL
);
CREATE INDEX rooms_by_venue ON rooms (venue_id);

CREATE TABLE party_availability (
  id INTEGER PRIMARY KEY,
  party_id INTEGER NOT NULL REFERENCES parties (id),
  start_at INTEGER NOT NULL,  -- UTC seconds
  end_at INTEGER NOT NULL
);
CREATE INDEX party_availability_by_party ON party_availability (party_id, start_at);

CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  kind TEXT NOT NULL,
  mode TEXT NOT NULL,
  party_id INTEGER REFERENCES parties (id),
  start_at INTEGER NOT NULL,  -- UTC seconds
  end_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  venue_id INTEGER REFERENCES venues (id),
  video_link TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  -- The double-booking check looks one day back for overlapping bookings.
  CHECK (end_at > start_at AND end_at - start_at <= 86400)
);
CREATE INDEX sessions_by_case ON sessions (case_id, start_at);
CREATE INDEX sessions_scheduled_by_start ON sessions (start_at) WHERE state = 'SESSION_STATE_SCHEDULED';

-- Who and what a session holds, for the double-booking checks: one row per mediator, party and
-- room, active while the session is scheduled.
CREATE TABLE bookings (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions (id),
  resource TEXT NOT NULL,     -- 'mediator', 'party' or 'room'
  resource_id INTEGER NOT NULL,
  for_party_id INTEGER,       -- rooms: the party a private room is for
  start_at INTEGER NOT NULL,
  end_at INTEGER NOT NULL,
  active INTEGER NOT NULL
);
CREATE INDEX bookings_active ON bookings (resource, resource_id, start_at) WHERE active = 1;
CREATE INDEX bookings_by_session ON bookings (session_id);

CREATE TABLE session_changes (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions (id),
  at INTEGER NOT NULL,
  token_id INTEGER REFERENCES access_tokens (id),
  change TEXT NOT NULL,
  previous_start INTEGER,
  previous_end INTEGER,
  reason TEXT NOT NULL
);
CREATE INDEX session_changes_by_session ON session_changes (session_id, id);
)sql"},
    {6, "notes, keys, agreements, outcomes and the audit hash chain", R"sql(
ALTER TABLE cases ADD COLUMN finished_at INTEGER;  -- when it entered CLOSED, NOT_SUITABLE or WITHDRAWN
ALTER TABLE cases ADD COLUMN outcome TEXT NOT NULL DEFAULT 'OUTCOME_UNSPECIFIED';
ALTER TABLE cases ADD COLUMN outcome_recorded_at INTEGER;
ALTER TABLE cases ADD COLUMN review_date INTEGER;  -- days since 1970-01-01 (Europe/London)
ALTER TABLE cases ADD COLUMN reviewed_at INTEGER;

-- The audit trail's links: each row's HMAC (keyed from the master key) over the previous row's
-- link and its own stored values. Rows from before this version are linked at the first start
-- with the key (storage/audit.h).
ALTER TABLE audit_events ADD COLUMN prev_hash BLOB;
ALTER TABLE audit_events ADD COLUMN hash BLOB;

-- The last link, with a keyed MAC: rows cut off the end of the trail no longer match it.
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_id INTEGER NOT NULL,
  last_hash BLOB NOT NULL,
  mac BLOB NOT NULL
);

-- Tells, at start-up, whether the master key file is the one this database was used with.
CREATE TABLE master_key_check (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL
);

-- Each case's data key, only ever wrapped by the master key. Erased (crypto-shredding) when the
-- case's notes are destroyed.
CREATE TABLE case_keys (
  case_id INTEGER PRIMARY KEY REFERENCES cases (id),
  wrapped BLOB,
  created_at INTEGER NOT NULL,
  destroyed_at INTEGER
);

CREATE TABLE notes (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  author_mediator_id INTEGER NOT NULL REFERENCES mediators (id),
  session_id INTEGER REFERENCES sessions (id),
  visibility TEXT NOT NULL,
  party_id INTEGER REFERENCES parties (id),
  supersedes_id INTEGER REFERENCES notes (id),
  sealed BLOB,                 -- nonce, ciphertext and tag; NULL once destroyed
  created_at INTEGER NOT NULL,
  destroyed_at INTEGER
);
CREATE INDEX notes_by_case ON notes (case_id, id);

CREATE TABLE agreement_versions (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  version INTEGER NOT NULL,
  content BLOB NOT NULL,       -- the AgreementContent message, deterministically serialised
  content_hash TEXT NOT NULL,  -- hex SHA-256 of `content`
  created_at INTEGER NOT NULL,
  created_by_token_id INTEGER REFERENCES access_tokens (id),
  finalised_at INTEGER,
  UNIQUE (case_id, version)
);

CREATE TABLE agreement_signatures (
  id INTEGER PRIMARY KEY,
  version_id INTEGER NOT NULL REFERENCES agreement_versions (id),
  party_id INTEGER NOT NULL REFERENCES parties (id),
  content_hash TEXT NOT NULL,
  signed_at INTEGER NOT NULL,
  token_id INTEGER REFERENCES access_tokens (id),
  on_paper INTEGER NOT NULL,
  consent_to_share INTEGER NOT NULL,
  UNIQUE (version_id, party_id)
);

-- A final agreement never changes: no update or delete of a finalised version or its
-- signatures, whatever the code above tries.
CREATE TRIGGER agreement_versions_final_no_update BEFORE UPDATE ON agreement_versions
  WHEN OLD.finalised_at IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'agreement version is final'); END;
CREATE TRIGGER agreement_versions_final_no_delete BEFORE DELETE ON agreement_versions
  WHEN OLD.finalised_at IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'agreement version is final'); END;
CREATE TRIGGER agreement_signatures_final_no_insert BEFORE INSERT ON agreement_signatures
  WHEN (SELECT finalised_at FROM agreement_versions WHERE id = NEW.version_id) IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'agreement version is final'); END;
CREATE TRIGGER agreement_signatures_final_no_update BEFORE UPDATE ON agreement_signatures
  WHEN (SELECT finalised_at FROM agreement_versions WHERE id = OLD.version_id) IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'agreement version is final'); END;
CREATE TRIGGER agreement_signatures_final BEFORE DELETE ON agreement_signatures
  WHEN (SELECT finalised_at FROM agreement_versions WHERE id = OLD.version_id) IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'agreement version is final'); END;
)sql"},

    {7, "idempotency keys", R"sql(
-- The response to a create call that carried an idempotency key, so a repeat gets it again.
-- Scoped to the token that made the call; kept for a day. The response is sealed with the
-- master key (it can hold contact details or a token's secret).
CREATE TABLE idempotent_calls (
  token_id INTEGER NOT NULL REFERENCES access_tokens(id),
  idempotency_key TEXT NOT NULL,
  method TEXT NOT NULL,
  request_sha256 TEXT NOT NULL,
  sealed_response BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (token_id, idempotency_key)
) WITHOUT ROWID;
CREATE INDEX idempotent_calls_created ON idempotent_calls(created_at);
)sql"},

    {8, "case events", R"sql(
-- What happened to cases, in commit order, for CaseEventService. Written by triggers in the
-- transaction of the change itself, so no change can happen without its event. Writers are
-- serialised, so positions appear in increasing order with no gaps a reader could miss.
CREATE TABLE case_events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  at INTEGER NOT NULL,         -- microseconds since the epoch, UTC
  kind TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT,
  allocation_id INTEGER,
  mediator_id INTEGER,
  allocation_role TEXT,
  allocation_state TEXT,
  session_id INTEGER,
  session_kind TEXT,
  session_party_id INTEGER,
  session_start INTEGER,       -- UTC seconds
  session_end INTEGER,
  outcome TEXT
);
CREATE INDEX case_events_by_case ON case_events (case_id, position);

CREATE TRIGGER case_events_state AFTER INSERT ON case_state_history BEGIN
  INSERT INTO case_events (case_id, at, kind, from_state, to_state)
  VALUES (NEW.case_id, NEW.at, 'CASE_EVENT_KIND_STATE_CHANGED', NEW.from_state, NEW.to_state);
END;

CREATE TRIGGER case_events_offer AFTER INSERT ON allocations BEGIN
  INSERT INTO case_events (case_id, at, kind, allocation_id, mediator_id, allocation_role,
                           allocation_state)
  VALUES (NEW.case_id, NEW.offered_at, 'CASE_EVENT_KIND_ALLOCATION_OFFERED', NEW.id,
          NEW.mediator_id, NEW.role, NEW.state);
END;

CREATE TRIGGER case_events_allocation AFTER UPDATE OF state ON allocations
WHEN NEW.state <> OLD.state BEGIN
  INSERT INTO case_events (case_id, at, kind, allocation_id, mediator_id, allocation_role,
                           allocation_state)
  VALUES (NEW.case_id,
          CASE WHEN NEW.state = 'ALLOCATION_STATE_RELEASED'
               THEN COALESCE(NEW.closed_at, NEW.responded_at, NEW.offered_at)
               ELSE COALESCE(NEW.responded_at, NEW.closed_at, NEW.offered_at) END,
          'CASE_EVENT_KIND_ALLOCATION_CHANGED', NEW.id, NEW.mediator_id, NEW.role, NEW.state);
END;

CREATE TRIGGER case_events_booked AFTER INSERT ON sessions BEGIN
  INSERT INTO case_events (case_id, at, kind, session_id, session_kind, session_party_id,
                           session_start, session_end)
  VALUES (NEW.case_id, NEW.created_at, 'CASE_EVENT_KIND_SESSION_BOOKED', NEW.id, NEW.kind,
          NEW.party_id, NEW.start_at, NEW.end_at);
END;

CREATE TRIGGER case_events_session AFTER UPDATE OF start_at, end_at, state ON sessions
WHEN NEW.state <> OLD.state OR NEW.start_at <> OLD.start_at OR NEW.end_at <> OLD.end_at BEGIN
  INSERT INTO case_events (case_id, at, kind, session_id, session_kind, session_party_id,
                           session_start, session_end)
  VALUES (NEW.case_id, NEW.updated_at,
          CASE WHEN NEW.state = 'SESSION_STATE_CANCELLED' THEN 'CASE_EVENT_KIND_SESSION_CANCELLED'
               ELSE 'CASE_EVENT_KIND_SESSION_RESCHEDULED' END,
          NEW.id, NEW.kind, NEW.party_id, NEW.start_at, NEW.end_at);
END;

CREATE TRIGGER case_events_outcome AFTER UPDATE OF outcome ON cases
WHEN NEW.outcome <> OLD.outcome BEGIN
  INSERT INTO case_events (case_id, at, kind, outcome)
  VALUES (NEW.id, COALESCE(NEW.outcome_recorded_at, NEW.updated_at),
          'CASE_EVENT_KIND_OUTCOME_RECORDED', NEW.outcome);
END;
)sql"},

    {9, "sealed fields, data keys, key rotation, anonymisation and refused-call counts", R"sql(
-- Every master key the database has used: its check value tells which key a key file holds
-- (storage/master_keys.h). One is current; during a rotation the new one is 'next'; after it
-- the old one is 'retired'.
CREATE TABLE master_keys (
  id INTEGER PRIMARY KEY,
  check_value BLOB NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('current', 'next', 'retired')),
  created_at INTEGER NOT NULL,
  retired_at INTEGER
);
CREATE UNIQUE INDEX master_keys_one_each ON master_keys (state) WHERE state <> 'retired';
INSERT INTO master_keys (id, check_value, state, created_at)
  SELECT 1, sealed, 'current', created_at FROM master_key_check;
DROP TABLE master_key_check;

-- Every data key (storage/data_keys.h), only ever wrapped by a master key; NULL once destroyed.
-- case_id is 0 for the service's own keys (audit, kept responses, the mediator registry).
CREATE TABLE data_keys (
  id INTEGER PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('notes', 'record', 'audit', 'responses', 'registry')),
  case_id INTEGER NOT NULL,
  master_key_id INTEGER REFERENCES master_keys (id),
  wrap_format INTEGER NOT NULL,  -- 1: a notes key as schema version 6 wrapped it; 2: current
  wrapped BLOB,
  created_at INTEGER NOT NULL,
  destroyed_at INTEGER,
  UNIQUE (purpose, case_id)
);
CREATE INDEX data_keys_by_master_key ON data_keys (master_key_id) WHERE wrapped IS NOT NULL;
INSERT INTO data_keys (purpose, case_id, master_key_id, wrap_format, wrapped, created_at,
                       destroyed_at)
  SELECT 'notes', case_id, CASE WHEN wrapped IS NULL THEN NULL ELSE 1 END, 1, wrapped,
         created_at, destroyed_at FROM case_keys;
DROP TABLE case_keys;

-- Confidential text is sealed with its case's record key (storage/sealed_text.h): a TEXT value
-- in a sealed column is plain text from before this version, sealed in batches at start-up. The
-- BLOB columns say so in a flag.
ALTER TABLE agreement_versions ADD COLUMN content_sealed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE referral_revisions ADD COLUMN previous_sealed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN review_notes TEXT NOT NULL DEFAULT '';
-- A person conflict discovered on a case (on declining its offer) names the case, so the
-- person's name and address go when the case's personal data does.
ALTER TABLE mediator_conflicts ADD COLUMN source_case_id INTEGER REFERENCES cases (id);
CREATE INDEX mediator_conflicts_by_source_case ON mediator_conflicts (source_case_id)
  WHERE source_case_id IS NOT NULL;
-- When the case's personal data was removed at the end of its retention period.
ALTER TABLE cases ADD COLUMN anonymised_at INTEGER;
CREATE INDEX cases_finished_not_anonymised ON cases (finished_at)
  WHERE finished_at IS NOT NULL AND anonymised_at IS NULL;

-- A final agreement never changes, except that its content, written in plain text before this
-- version, may be sealed once (the hash stays the hash of the plain text).
DROP TRIGGER agreement_versions_final_no_update;
CREATE TRIGGER agreement_versions_final_no_update BEFORE UPDATE ON agreement_versions
  WHEN OLD.finalised_at IS NOT NULL AND NOT (
    OLD.content_sealed = 0 AND NEW.content_sealed = 1 AND NEW.id = OLD.id AND
    NEW.case_id = OLD.case_id AND NEW.version = OLD.version AND
    NEW.content_hash = OLD.content_hash AND NEW.created_at = OLD.created_at AND
    NEW.created_by_token_id IS OLD.created_by_token_id AND NEW.finalised_at = OLD.finalised_at)
  BEGIN SELECT RAISE(ABORT, 'agreement version is final'); END;

-- A person is found by their address (subject access requests): trimmed and case-folded.
CREATE INDEX parties_by_email ON parties (lower(trim(email)));
CREATE INDEX cases_by_referrer_email ON cases (lower(trim(referrer_email)));
CREATE INDEX organisations_by_contact_email ON organisations (lower(trim(contact_email)));

-- Master key rotations (AdminService.RotateMasterKey), for their progress.
CREATE TABLE key_rotations (
  id INTEGER PRIMARY KEY,
  from_master_key_id INTEGER NOT NULL REFERENCES master_keys (id),
  to_master_key_id INTEGER NOT NULL REFERENCES master_keys (id),
  started_at INTEGER NOT NULL,
  started_by_token_id INTEGER REFERENCES access_tokens (id),
  keys_total INTEGER NOT NULL,
  keys_rewrapped INTEGER NOT NULL DEFAULT 0,
  keys_damaged INTEGER NOT NULL DEFAULT 0,  -- found unopenable under the old key
  completed_at INTEGER
);

-- Calls refused before any token was known (none sent, or an unknown one), counted per peer
-- address and minute instead of one audit row each.
CREATE TABLE refused_anonymous_calls (
  peer TEXT NOT NULL,
  minute INTEGER NOT NULL,  -- minutes since the epoch, UTC
  calls INTEGER NOT NULL,
  last_method TEXT NOT NULL,
  PRIMARY KEY (peer, minute)
) WITHOUT ROWID;
)sql"},

    {10, "people recognised across records, and the database's own guard against double booking",
     R"sql(
-- Keys computed by services/rules/identity.h (Unicode folding and confusable skeletons), which
-- SQL cannot compute: rows whose identity_version is below storage/identity_keys.h's
-- kIdentityKeysVersion are (re)computed at start-up, in batches.
ALTER TABLE parties ADD COLUMN person_key TEXT NOT NULL DEFAULT '';  -- the folded email
ALTER TABLE parties ADD COLUMN identity_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mediators ADD COLUMN identity_version INTEGER NOT NULL DEFAULT 0;
-- Each profile update adds one: the mediator's etag, so two editors cannot overwrite each other.
ALTER TABLE mediators ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE mediator_conflicts ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
ALTER TABLE mediator_conflicts ADD COLUMN surname_key TEXT NOT NULL DEFAULT '';
ALTER TABLE mediator_conflicts ADD COLUMN identity_version INTEGER NOT NULL DEFAULT 0;
DROP INDEX mediator_conflicts_by_email;
DROP INDEX mediator_conflicts_by_name;
CREATE INDEX mediator_conflicts_by_email_key ON mediator_conflicts (email_key)
  WHERE email_key <> '';
CREATE INDEX mediator_conflicts_by_surname_key ON mediator_conflicts (surname_key)
  WHERE surname_key <> '';
CREATE INDEX parties_stale_identity ON parties (identity_version);
CREATE INDEX mediators_stale_identity ON mediators (identity_version);
CREATE INDEX mediator_conflicts_stale_identity ON mediator_conflicts (identity_version);

-- Who a booking holds: 'mediator:<id>', 'room:<id>', and for a party the person, by their
-- folded email ('person:<key>'), so one practitioner who is a party of two cases is one holder;
-- 'party:<id>' while the key is unknown or after anonymisation.
ALTER TABLE bookings ADD COLUMN holder TEXT NOT NULL DEFAULT '';
UPDATE bookings SET holder = CASE resource
  WHEN 'party' THEN COALESCE((SELECT CASE WHEN p.person_key <> '' THEN 'person:' || p.person_key END
                              FROM parties p WHERE p.id = bookings.resource_id),
                             'party:' || resource_id)
  ELSE resource || ':' || resource_id END;
CREATE INDEX bookings_active_by_holder ON bookings (holder, start_at) WHERE active = 1;

CREATE TRIGGER bookings_holder_of_party AFTER UPDATE OF person_key ON parties BEGIN
  UPDATE bookings SET holder = CASE WHEN NEW.person_key <> '' THEN 'person:' || NEW.person_key
                                    ELSE 'party:' || NEW.id END
  WHERE resource = 'party' AND resource_id = NEW.id;
END;

-- The last line of defence against double booking: whatever code path writes a booking, an
-- active booking may not overlap another active booking of the same holder in another session.
-- (The service's own check is stricter: it also keeps the buffer between sessions.) A changed
-- holder (a party's new email) is checked by the service, not here, so that bookings made
-- before version 10, which nothing checked across cases, still load.
CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings
WHEN NEW.active = 1 AND EXISTS (
  SELECT 1 FROM bookings b
  WHERE b.active = 1 AND b.holder = NEW.holder AND b.session_id <> NEW.session_id
    AND b.start_at >= NEW.start_at - 86400 AND b.start_at < NEW.end_at AND b.end_at > NEW.start_at)
BEGIN SELECT RAISE(ABORT, 'double booking: the holder has an overlapping active booking'); END;
CREATE TRIGGER bookings_no_overlap_update BEFORE UPDATE OF active, start_at, end_at ON bookings
WHEN NEW.active = 1 AND EXISTS (
  SELECT 1 FROM bookings b
  WHERE b.active = 1 AND b.holder = NEW.holder AND b.session_id <> NEW.session_id
    AND b.id <> NEW.id
    AND b.start_at >= NEW.start_at - 86400 AND b.start_at < NEW.end_at AND b.end_at > NEW.start_at)
BEGIN SELECT RAISE(ABORT, 'double booking: the holder has an overlapping active booking'); END;
)sql"},

    {11, "sessions needing rescheduling, and access needs matched to rooms", R"sql(
-- Set when a change of someone's leave, working pattern or availability leaves a booked session
-- outside their time: why (text the server composes, never free text) and since when; cleared
-- when the session is rescheduled or cancelled.
ALTER TABLE sessions ADD COLUMN needs_rescheduling TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN needs_rescheduling_at INTEGER;  -- micros
CREATE INDEX sessions_needing_rescheduling ON sessions (id)
  WHERE needs_rescheduling <> '' AND state = 'SESSION_STATE_SCHEDULED';

CREATE TRIGGER case_events_needs_rescheduling AFTER UPDATE OF needs_rescheduling ON sessions
WHEN OLD.needs_rescheduling = '' AND NEW.needs_rescheduling <> '' BEGIN
  INSERT INTO case_events (case_id, at, kind, session_id, session_kind, session_party_id,
                           session_start, session_end)
  VALUES (NEW.case_id, NEW.needs_rescheduling_at, 'CASE_EVENT_KIND_SESSION_NEEDS_RESCHEDULING',
          NEW.id, NEW.kind, NEW.party_id, NEW.start_at, NEW.end_at);
END;

-- A party's structured access needs (AccessNeed names, comma-separated), sealed with the case's
-- record key like accessibility_needs; and what each room offers (not personal data).
ALTER TABLE parties ADD COLUMN access_needs TEXT NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN features TEXT NOT NULL DEFAULT '';

-- The mediation window an offer was made for (Europe/London days since 1970-01-01), shown to
-- the mediator before it accepts.
ALTER TABLE allocations ADD COLUMN window_first_day INTEGER;
ALTER TABLE allocations ADD COLUMN window_last_day INTEGER;
)sql"},

    {12, "the transport of each audited call, and browser sessions", R"sql(
-- How the call arrived: 'grpc' or 'http' (the Connect protocol). NULL on rows written before
-- version 12, which the hash chain encodes as they were (services/core/call_pipeline.h).
ALTER TABLE audit_events ADD COLUMN transport TEXT;

-- A browser's sign-in: the session id lives only in the browser's HttpOnly cookie; the server
-- keeps its SHA-256. It stands for `token_id` until it is idle too long, reaches its absolute
-- end, is signed out, or the token is revoked or expires.
CREATE TABLE browser_sessions (
  id INTEGER PRIMARY KEY,
  id_sha256 BLOB NOT NULL UNIQUE,
  token_id INTEGER NOT NULL REFERENCES access_tokens (id),
  created_at INTEGER NOT NULL,    -- micros
  last_seen_at INTEGER NOT NULL,  -- micros; refreshed at most once a minute
  expires_at INTEGER NOT NULL,    -- micros; the absolute end
  ended_at INTEGER                -- micros; signed out
);
CREATE INDEX browser_sessions_by_token ON browser_sessions (token_id);
)sql"},

    {13, "one-time sign-in links for the parties", R"sql(
-- A party's one-time sign-in link: the code lives only in the link; the server keeps its
-- SHA-256. Used once (used_at, and the PARTY token it became), or revoked when a newer link is
-- issued for the same party, or past expires_at: then it signs nobody in.
CREATE TABLE party_sign_in_links (
  id INTEGER PRIMARY KEY,
  code_sha256 BLOB NOT NULL UNIQUE,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  party_id INTEGER NOT NULL REFERENCES parties (id),
  issued_by_token_id INTEGER NOT NULL REFERENCES access_tokens (id),
  issued_at INTEGER NOT NULL,   -- micros
  expires_at INTEGER NOT NULL,  -- micros
  used_at INTEGER,              -- micros
  used_token_id INTEGER REFERENCES access_tokens (id),
  revoked_at INTEGER            -- micros
);
CREATE INDEX party_sign_in_links_by_case ON party_sign_in_links (case_id, party_id);
)sql"},

    {14, "the notification outbox and reminder preferences", R"sql(
-- Messages written in the transaction of the change that causes them, sent by the delivery
-- worker (storage/outbox.h). `message` is the whole RFC 5322 text, sealed with the case's record
-- key. Times in micros.
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- Never reused, not even a removed reminder's.
  message_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  case_id INTEGER NOT NULL REFERENCES cases (id),
  session_id INTEGER REFERENCES sessions (id),
  recipient_role TEXT NOT NULL,
  recipient_id INTEGER,
  recipient_email TEXT NOT NULL,
  recipient_key TEXT NOT NULL,
  subject TEXT NOT NULL,
  message NOT NULL,
  created_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  last_attempt_at INTEGER,
  last_response TEXT NOT NULL,
  sent_at INTEGER
);
CREATE INDEX outbox_pending ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_case ON outbox (case_id, id);
CREATE INDEX outbox_by_session ON outbox (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX outbox_by_recipient ON outbox (recipient_key);

-- People who asked for no reminders, by folded email.
CREATE TABLE reminder_opt_outs (
  person_key TEXT PRIMARY KEY,
  opted_out_at INTEGER NOT NULL
);
)sql"},
    {15, "bookings by resource, active or not", kBookingsByResourceSql},
};

constexpr absl::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
))sql";

int RecordedVersion(SQLite::Database& db) {
  if (!db.tableExists("schema_migrations")) return 0;
  return db.execAndGet("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").getInt();
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

absl::StatusOr<int> SchemaVersion(SQLite::Database& db) {
  return SqliteGuard("read schema version",
                     [&]() -> absl::StatusOr<int> { return RecordedVersion(db); });
}

absl::StatusOr<MigrationResult> Migrate(SQLite::Database& db, int target_version) {
  if (target_version == 0) target_version = LatestSchemaVersion();
  return SqliteGuard("migrate schema", [&]() -> absl::StatusOr<MigrationResult> {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    MigrationResult result;
    result.from_version = RecordedVersion(db);
    if (result.from_version > LatestSchemaVersion()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the database schema is version ", result.from_version,
                       " but this server knows only up to ", LatestSchemaVersion(),
                       "; run a newer mediation-server (the database is unchanged)"));
    }
    db.exec(std::string(kCreateMigrationsTable));
    for (const Migration& m : kMigrations) {
      if (m.version <= result.from_version || m.version > target_version) continue;
      db.exec(std::string(m.sql));
      if (m.after != nullptr) {
        if (absl::Status s = m.after(db); !s.ok()) return s;
      }
      SQLite::Statement record(db,
                               "INSERT INTO schema_migrations (version, name, applied_at) "
                               "VALUES (?, ?, ?)");
      record.bind(1, m.version);
      record.bind(2, std::string(m.name));
      record.bind(3, static_cast<int64_t>(ToMicros(absl::Now())));
      record.exec();
    }
    result.to_version = RecordedVersion(db);
    tx.commit();
    return result;
  });
}

}  // namespace mediation::storage
