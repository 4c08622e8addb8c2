#include "storage/cases.h"

#include <algorithm>
#include <iterator>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "storage/identity_keys.h"
#include "storage/sealed_text_internal.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kCaseColumns[] =
    "id, reference, organisation_id, state, referrer_name, referrer_email, referrer_phone, "
    "referrer_job_title, summary, concern_level, concern_type, created_at, updated_at, "
    "created_by_token_id, revision, held_from_state, hold_reason, withdrawn_by, withdrawal_reason, "
    "mediators_required, finished_at, outcome, outcome_recorded_at, review_date, reviewed_at, "
    "review_notes, anonymised_at";

FieldRef CaseField(int64_t case_id, absl::string_view column) {
  return {.case_id = case_id, .table = "cases", .column = column, .row = case_id};
}
FieldRef PartyField(const PartyRecord& p, absl::string_view column) {
  return {.case_id = p.case_id, .table = "parties", .column = column, .row = p.id};
}

CaseRecord ReadCaseRow(Tx& tx, Statement& st) {
  CaseRecord c;
  c.id = st.getColumn(0).getInt64();
  c.reference = st.getColumn(1).getString();
  c.organisation_id = st.getColumn(2).getInt64();
  c.state = EnumFromText<v1::CaseState>(st.getColumn(3).getString(), v1::CaseState_Parse);
  c.referrer.name = st.getColumn(4).getString();
  c.referrer.email = st.getColumn(5).getString();
  c.referrer.phone = st.getColumn(6).getString();
  c.referrer.job_title = st.getColumn(7).getString();
  c.summary = OpenText(tx, CaseField(c.id, "summary"), st.getColumn(8), "summary", &c.withheld);
  c.concern_level =
      EnumFromText<v1::ConcernLevel>(st.getColumn(9).getString(), v1::ConcernLevel_Parse);
  c.concern_type =
      EnumFromText<v1::ConcernType>(st.getColumn(10).getString(), v1::ConcernType_Parse);
  c.created_at = FromMicros(st.getColumn(11).getInt64());
  c.updated_at = FromMicros(st.getColumn(12).getInt64());
  c.created_by_token_id = OptionalId(st.getColumn(13));
  c.revision = st.getColumn(14).getInt64();
  if (!st.getColumn(15).isNull()) {
    c.held_from_state =
        EnumFromText<v1::CaseState>(st.getColumn(15).getString(), v1::CaseState_Parse);
  }
  c.hold_reason =
      OpenText(tx, CaseField(c.id, "hold_reason"), st.getColumn(16), "hold_reason", &c.withheld);
  c.withdrawn_by =
      EnumFromText<v1::WithdrawnBy>(st.getColumn(17).getString(), v1::WithdrawnBy_Parse);
  c.withdrawal_reason = OpenText(tx, CaseField(c.id, "withdrawal_reason"), st.getColumn(18),
                                 "withdrawal_reason", &c.withheld);
  c.mediators_required = st.getColumn(19).getInt();
  c.finished_at = OptionalTime(st.getColumn(20));
  c.outcome = EnumFromText<v1::Outcome>(st.getColumn(21).getString(), v1::Outcome_Parse);
  c.outcome_recorded_at = OptionalTime(st.getColumn(22));
  if (!st.getColumn(23).isNull()) c.review_date = st.getColumn(23).getInt();
  c.reviewed_at = OptionalTime(st.getColumn(24));
  c.review_notes =
      OpenText(tx, CaseField(c.id, "review_notes"), st.getColumn(25), "review_notes", &c.withheld);
  c.anonymised_at = OptionalTime(st.getColumn(26));
  return c;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) absl::StrAppend(&out, out.empty() ? "" : "\n", line);
  return out;
}

std::vector<std::string> SplitLines(const std::string& text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, '\n');
}

// A party's access needs as stored (sealed): enum names joined by commas.
std::string NeedsText(const std::vector<v1::AccessNeed>& needs) {
  return EnumListText(needs, [](v1::AccessNeed n) { return v1::AccessNeed_Name(n); });
}

std::vector<v1::AccessNeed> NeedsFromText(const std::string& text) {
  return EnumListFromText<v1::AccessNeed>(text, v1::AccessNeed_Parse);
}

// Inserts the party with its sealed texts ('' first: they bind the row id), and sets p.id.
absl::Status InsertParty(Tx& tx, PartyRecord& p, absl::Time now) {
  Tx& db = tx;
  Statement party(db,
                  "INSERT INTO parties (case_id, position, name, email, phone, job_title, "
                  "profession, accessibility_needs, bringing_companion, "
                  "typical_availability, person_key, identity_version) VALUES "
                  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  party.bind(1, static_cast<int64_t>(p.case_id));
  party.bind(2, p.position);
  party.bind(3, p.contact.name);
  party.bind(4, p.contact.email);
  party.bind(5, p.contact.phone);
  party.bind(6, p.contact.job_title);
  party.bind(7, v1::Profession_Name(p.profession));
  party.bind(8, std::string());
  party.bind(9, p.bringing_companion ? 1 : 0);
  party.bind(10, std::string());
  party.bind(11, p.person_key);
  party.bind(12, kIdentityKeysVersion);
  party.exec();
  p.id = db.LastInsertId();
  if (absl::Status s =
          StoreSealedText(tx, PartyField(p, "accessibility_needs"), p.accessibility_needs, now);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          StoreSealedText(tx, PartyField(p, "access_needs"), NeedsText(p.access_needs), now);
      !s.ok()) {
    return s;
  }
  return StoreSealedText(tx, PartyField(p, "typical_availability"), p.typical_availability, now);
}

void InsertLinks(Tx& db, int64_t case_id, const std::vector<std::string>& refs) {
  Statement link(db, "INSERT INTO case_links (case_id, position, reference) VALUES (?, ?, ?)");
  for (size_t i = 0; i < refs.size(); ++i) {
    link.reset();
    link.bind(1, static_cast<int64_t>(case_id));
    link.bind(2, static_cast<int>(i) + 1);
    link.bind(3, refs[i]);
    link.exec();
  }
}

// Fills in the parties and links of a case read by ReadCaseRow.
void ReadCaseChildren(Tx& tx, CaseRecord& c) {
  Tx& db = tx;
  Statement parties(db,
                    "SELECT id, position, name, email, phone, job_title, profession, "
                    "accessibility_needs, bringing_companion, typical_availability, person_key, "
                    "access_needs FROM parties WHERE case_id = ? ORDER BY position");
  parties.bind(1, static_cast<int64_t>(c.id));
  while (parties.executeStep()) {
    PartyRecord p;
    p.id = parties.getColumn(0).getInt64();
    p.case_id = c.id;
    p.position = parties.getColumn(1).getInt();
    p.contact.name = parties.getColumn(2).getString();
    p.contact.email = parties.getColumn(3).getString();
    p.contact.phone = parties.getColumn(4).getString();
    p.contact.job_title = parties.getColumn(5).getString();
    p.profession =
        EnumFromText<v1::Profession>(parties.getColumn(6).getString(), v1::Profession_Parse);
    const std::string prefix = absl::StrCat("parties[", p.id, "].");
    p.accessibility_needs = OpenText(tx, PartyField(p, "accessibility_needs"), parties.getColumn(7),
                                     prefix + "accessibility_needs", &c.withheld);
    p.bringing_companion = parties.getColumn(8).getInt() != 0;
    p.typical_availability =
        OpenText(tx, PartyField(p, "typical_availability"), parties.getColumn(9),
                 prefix + "typical_availability", &c.withheld);
    p.person_key = parties.getColumn(10).getString();
    p.access_needs =
        NeedsFromText(OpenText(tx, PartyField(p, "access_needs"), parties.getColumn(11),
                               prefix + "access_needs", &c.withheld));
    c.parties.push_back(std::move(p));
  }
  Statement links(db, "SELECT reference FROM case_links WHERE case_id = ? ORDER BY position");
  links.bind(1, static_cast<int64_t>(c.id));
  while (links.executeStep()) c.linked_case_references.push_back(links.getColumn(0).getString());
}

// Appends a state change to the case's history, its reason sealed.
absl::Status InsertHistory(Tx& tx, int64_t case_id, std::optional<v1::CaseState> from,
                           v1::CaseState to, absl::Time at, int64_t token_id,
                           absl::string_view reason) {
  Statement history(tx,
                    "INSERT INTO case_state_history (case_id, from_state, to_state, at, "
                    "token_id, reason) VALUES (?, ?, ?, ?, ?, '')");
  history.bind(1, static_cast<int64_t>(case_id));
  if (from.has_value()) {
    history.bind(2, v1::CaseState_Name(*from));
  } else {
    history.bind(2);
  }
  history.bind(3, v1::CaseState_Name(to));
  history.bind(4, static_cast<int64_t>(ToMicros(at)));
  BindOptionalId(history, 5, token_id);
  history.exec();
  return StoreSealedText(tx,
                         {.case_id = case_id,
                          .table = "case_state_history",
                          .column = "reason",
                          .row = tx.LastInsertId()},
                         reason, at);
}

}  // namespace

absl::StatusOr<CaseRecord> InsertCase(Tx& tx, CaseRecord c) {
  if (absl::Status s = tx.RequireWritable("insert case"); !s.ok()) return s;
  return Guard("insert case", [&]() -> absl::StatusOr<CaseRecord> {
    Tx& db = tx;
    Statement st(db,
                 "INSERT INTO cases (organisation_id, state, referrer_name, referrer_email, "
                 "referrer_phone, referrer_job_title, summary, concern_level, "
                 "concern_type, created_at, updated_at, created_by_token_id) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(c.organisation_id));
    st.bind(2, v1::CaseState_Name(c.state));
    st.bind(3, c.referrer.name);
    st.bind(4, c.referrer.email);
    st.bind(5, c.referrer.phone);
    st.bind(6, c.referrer.job_title);
    st.bind(7, std::string());  // Sealed below, bound to the id.
    st.bind(8, v1::ConcernLevel_Name(c.concern_level));
    st.bind(9, v1::ConcernType_Name(c.concern_type));
    st.bind(10, static_cast<int64_t>(ToMicros(c.created_at)));
    st.bind(11, static_cast<int64_t>(ToMicros(c.updated_at)));
    BindOptionalId(st, 12, c.created_by_token_id);
    st.exec();
    c.id = db.LastInsertId();

    c.reference = absl::StrFormat(
        "AM-%d-%06d", absl::ToCivilYear(c.created_at, absl::UTCTimeZone()).year(), c.id);
    Statement ref(db, "UPDATE cases SET reference = ? WHERE id = ?");
    ref.bind(1, c.reference);
    ref.bind(2, static_cast<int64_t>(c.id));
    ref.exec();
    if (absl::Status s = StoreSealedText(tx, CaseField(c.id, "summary"), c.summary, c.created_at);
        !s.ok()) {
      return s;
    }

    for (size_t i = 0; i < c.parties.size(); ++i) {
      PartyRecord& p = c.parties[i];
      p.case_id = c.id;
      p.position = static_cast<int>(i) + 1;
      if (absl::Status s = InsertParty(tx, p, c.created_at); !s.ok()) return s;
    }
    InsertLinks(db, c.id, c.linked_case_references);
    if (absl::Status s = InsertHistory(tx, c.id, std::nullopt, c.state, c.created_at,
                                       c.created_by_token_id, "referral received");
        !s.ok()) {
      return s;
    }
    return c;
  });
}

absl::StatusOr<CaseRecord> GetCase(Tx& tx, int64_t id) {
  return Guard("get case", [&]() -> absl::StatusOr<CaseRecord> {
    Statement st(tx, absl::StrCat("SELECT ", kCaseColumns, " FROM cases WHERE id = ?"));
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) return absl::NotFoundError(absl::StrCat("case ", id, " not found"));
    CaseRecord c = ReadCaseRow(tx, st);
    ReadCaseChildren(tx, c);
    return c;
  });
}

namespace {

// The WHERE clause of a case filter: ?1 is the page cursor's id (`after_id`; 0: none), ?2 to ?7
// the filter (BindCaseFilter). A condition not in use is written as a constant test of its
// parameter, and one in use without an OR, so that the planner can use the indexes on cases (state,
// id), (organisation_id, id) and the primary key: with "?2 = '' OR state = ?2" it cannot (a
// statement is planned once, before its parameters are known), and every listing and count
// scanned the whole table. With an organisation too, SQLite (which has no statistics: the server
// does not ANALYZE) is told not to use the state index ("+state"): one state can hold most cases of
// a decade, an organisation a few hundredth of them.
std::string CaseFilterWhere(Tx& tx, const CaseFilter& filter, int64_t after_id) {
  const bool by_organisation = filter.organisation_id != 0;
  return absl::StrCat(
      after_id == 0 ? "?1 = 0" : "id < ?1",
      filter.state == v1::CASE_STATE_UNSPECIFIED          ? " AND ?2 = ''"
      : by_organisation && tx.engine() == Engine::kSqlite ? " AND +state = ?2"
                                                          : " AND state = ?2",
      by_organisation ? " AND organisation_id = ?3" : " AND ?3 = 0",
      filter.mediator_id == 0
          ? " AND ?4 = 0"
          : " AND id IN (SELECT case_id FROM allocations WHERE mediator_id = ?4 AND state IN "
            "('ALLOCATION_STATE_PENDING', 'ALLOCATION_STATE_ACCEPTED'))",
      filter.needs_rescheduling_after == 0
          ? " AND ?5 = 0"
          : " AND id IN (SELECT case_id FROM sessions WHERE needs_rescheduling <> '' AND "
            "state = 'SESSION_STATE_SCHEDULED' AND start_at > ?5)",
      filter.nation == v1::NATION_UNSPECIFIED
          ? " AND ?6 = ''"
          : " AND organisation_id IN (SELECT id FROM organisations WHERE nation = ?6)",
      filter.case_id == 0 ? " AND ?7 = 0" : " AND id = ?7");
}

void BindCaseFilter(Statement& st, const CaseFilter& filter) {
  st.bind(2, filter.state == v1::CASE_STATE_UNSPECIFIED ? std::string()
                                                        : v1::CaseState_Name(filter.state));
  st.bind(3, static_cast<int64_t>(filter.organisation_id));
  st.bind(4, static_cast<int64_t>(filter.mediator_id));
  st.bind(5, static_cast<int64_t>(filter.needs_rescheduling_after));
  st.bind(6,
          filter.nation == v1::NATION_UNSPECIFIED ? std::string() : v1::Nation_Name(filter.nation));
  st.bind(7, static_cast<int64_t>(filter.case_id));
}

}  // namespace

absl::StatusOr<std::vector<CaseRecord>> ListCases(Tx& tx, const CaseFilter& filter,
                                                  const PageCursor& cursor) {
  return Guard("list cases", [&]() -> absl::StatusOr<std::vector<CaseRecord>> {
    Statement st(tx, absl::StrCat("SELECT ", kCaseColumns, " FROM cases WHERE ",
                                  CaseFilterWhere(tx, filter, cursor.after_id),
                                  " ORDER BY id DESC LIMIT ?8"));
    st.bind(1, static_cast<int64_t>(cursor.after_id));
    BindCaseFilter(st, filter);
    st.bind(8, cursor.limit);
    std::vector<CaseRecord> cases;
    while (st.executeStep()) cases.push_back(ReadCaseRow(tx, st));
    for (CaseRecord& c : cases) ReadCaseChildren(tx, c);
    return cases;
  });
}

absl::StatusOr<int64_t> CountCases(Tx& tx, const CaseFilter& filter) {
  return Guard("count cases", [&]() -> absl::StatusOr<int64_t> {
    Statement st(tx,
                 absl::StrCat("SELECT COUNT(*) FROM cases WHERE ", CaseFilterWhere(tx, filter, 0)));
    st.bind(1, static_cast<int64_t>(0));
    BindCaseFilter(st, filter);
    st.executeStep();
    return st.getColumn(0).getInt64();
  });
}

absl::StatusOr<CaseRecord> UpdateReferralDetails(Tx& tx, CaseRecord updated,
                                                 const ReferralRevisionRecord& revision) {
  if (absl::Status s = tx.RequireWritable("update referral"); !s.ok()) return s;
  absl::StatusOr<std::string> summary =
      SealText(tx, CaseField(updated.id, "summary"), updated.summary, updated.updated_at);
  if (!summary.ok()) return summary.status();
  return Guard("update referral", [&]() -> absl::StatusOr<CaseRecord> {
    Tx& db = tx;
    Statement st(db,
                 "UPDATE cases SET referrer_name = ?, referrer_email = ?, "
                 "referrer_phone = ?, referrer_job_title = ?, summary = ?, "
                 "concern_level = ?, concern_type = ?, revision = ?, updated_at = ? "
                 "WHERE id = ? AND revision = ?");
    st.bind(1, updated.referrer.name);
    st.bind(2, updated.referrer.email);
    st.bind(3, updated.referrer.phone);
    st.bind(4, updated.referrer.job_title);
    BindSealed(st, 5, *summary);
    st.bind(6, v1::ConcernLevel_Name(updated.concern_level));
    st.bind(7, v1::ConcernType_Name(updated.concern_type));
    st.bind(8, static_cast<int64_t>(updated.revision));
    st.bind(9, static_cast<int64_t>(ToMicros(updated.updated_at)));
    st.bind(10, static_cast<int64_t>(updated.id));
    st.bind(11, static_cast<int64_t>(updated.revision - 1));
    if (st.exec() != 1) {
      return absl::AbortedError(absl::StrCat("case ", updated.id,
                                             " was changed by someone else meanwhile; read it "
                                             "again and reapply your change"));
    }

    int next_position = static_cast<int>(SelectInt64(
        db, absl::StrCat("SELECT COALESCE(MAX(position), 0) FROM parties WHERE case_id = ",
                         updated.id)));
    Statement party(db,
                    "UPDATE parties SET name = ?, email = ?, phone = ?, job_title = ?, "
                    "profession = ?, accessibility_needs = ?, bringing_companion = ?, "
                    "typical_availability = ?, person_key = ?, identity_version = ?, "
                    "access_needs = ? WHERE id = ? AND case_id = ?");
    for (PartyRecord& p : updated.parties) {
      p.case_id = updated.id;
      if (p.id == 0) {
        p.position = ++next_position;
        if (absl::Status s = InsertParty(tx, p, updated.updated_at); !s.ok()) return s;
        continue;
      }
      absl::StatusOr<std::string> needs = SealText(tx, PartyField(p, "accessibility_needs"),
                                                   p.accessibility_needs, updated.updated_at);
      if (!needs.ok()) return needs.status();
      absl::StatusOr<std::string> availability = SealText(
          tx, PartyField(p, "typical_availability"), p.typical_availability, updated.updated_at);
      if (!availability.ok()) return availability.status();
      absl::StatusOr<std::string> access = SealText(tx, PartyField(p, "access_needs"),
                                                    NeedsText(p.access_needs), updated.updated_at);
      if (!access.ok()) return access.status();
      party.reset();
      party.bind(1, p.contact.name);
      party.bind(2, p.contact.email);
      party.bind(3, p.contact.phone);
      party.bind(4, p.contact.job_title);
      party.bind(5, v1::Profession_Name(p.profession));
      BindSealed(party, 6, *needs);
      party.bind(7, p.bringing_companion ? 1 : 0);
      BindSealed(party, 8, *availability);
      party.bind(9, p.person_key);
      party.bind(10, kIdentityKeysVersion);
      BindSealed(party, 11, *access);
      party.bind(12, static_cast<int64_t>(p.id));
      party.bind(13, static_cast<int64_t>(updated.id));
      if (party.exec() != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("parties: party ", p.id, " is not a party of case ", updated.id));
      }
    }
    Statement clear(db, "DELETE FROM case_links WHERE case_id = ?");
    clear.bind(1, static_cast<int64_t>(updated.id));
    clear.exec();
    InsertLinks(db, updated.id, updated.linked_case_references);

    // The reason, what changed (it can name people) and the details before the change, all
    // sealed and bound to the revision's row.
    Statement rev(db,
                  "INSERT INTO referral_revisions (case_id, revision, at, token_id, "
                  "reason, changed_fields, previous, previous_sealed) "
                  "VALUES (?1, ?2, ?3, ?4, '', '', ?5, 1)");
    rev.bind(1, static_cast<int64_t>(updated.id));
    rev.bindBlob(5, "");  // An empty BLOB (BYTEA), sealed below.
    rev.bind(2, static_cast<int64_t>(revision.revision));
    rev.bind(3, static_cast<int64_t>(ToMicros(revision.at)));
    BindOptionalId(rev, 4, revision.token_id);
    rev.exec();
    const int64_t rev_id = db.LastInsertId();
    auto field = [&](absl::string_view column) {
      return FieldRef{
          .case_id = updated.id, .table = "referral_revisions", .column = column, .row = rev_id};
    };
    for (const auto& [column, text] :
         {std::pair<absl::string_view, std::string>{"reason", revision.reason},
          {"changed_fields", JoinLines(revision.changed_fields)},
          {"previous", revision.previous}}) {
      if (absl::Status s = StoreSealedText(tx, field(column), text, revision.at); !s.ok()) {
        return s;
      }
    }
    return GetCase(tx, updated.id);
  });
}

absl::StatusOr<std::string> ReferralDetailsBefore(Tx& tx, int64_t case_id, int64_t revision) {
  return Guard("referral details before", [&]() -> absl::StatusOr<std::string> {
    Statement st(tx,
                 "SELECT id, previous, previous_sealed FROM referral_revisions WHERE case_id = ? "
                 "AND revision = ?");
    st.bind(1, static_cast<int64_t>(case_id));
    st.bind(2, static_cast<int64_t>(revision));
    if (!st.executeStep()) {
      return absl::NotFoundError(absl::StrCat("case ", case_id, " has no revision ", revision));
    }
    const Column previous = st.getColumn(1);
    const std::string stored = previous.getString();
    std::vector<WithheldField> withheld;
    std::string details = OpenStored(tx,
                                     {.case_id = case_id,
                                      .table = "referral_revisions",
                                      .column = "previous",
                                      .row = st.getColumn(0).getInt64()},
                                     st.getColumn(2).getInt() != 0 && previous.isBlob(), stored,
                                     "previous", &withheld);
    if (!withheld.empty()) {
      return absl::DataLossError(absl::StrCat("the details of case ", case_id, " before revision ",
                                              revision, " cannot be opened"));
    }
    return details;
  });
}

absl::Status ChangeCaseState(Tx& tx, const CaseRecord& c, const StateChangeRecord& change) {
  if (absl::Status s = tx.RequireWritable("change case state"); !s.ok()) return s;
  absl::StatusOr<std::string> hold =
      SealText(tx, CaseField(c.id, "hold_reason"), change.hold_reason, change.at);
  if (!hold.ok()) return hold.status();
  absl::StatusOr<std::string> withdrawal =
      SealText(tx, CaseField(c.id, "withdrawal_reason"), change.withdrawal_reason, change.at);
  if (!withdrawal.ok()) return withdrawal.status();
  return Guard("change case state", [&]() -> absl::Status {
    Statement st(tx,
                 "UPDATE cases SET state = ?, held_from_state = ?, hold_reason = ?, "
                 "withdrawn_by = ?, withdrawal_reason = ?, updated_at = ? "
                 "WHERE id = ? AND state = ?");
    st.bind(1, v1::CaseState_Name(change.to));
    if (change.held_from_state == v1::CASE_STATE_UNSPECIFIED) {
      st.bind(2);
    } else {
      st.bind(2, v1::CaseState_Name(change.held_from_state));
    }
    BindSealed(st, 3, *hold);
    st.bind(4, v1::WithdrawnBy_Name(change.withdrawn_by));
    BindSealed(st, 5, *withdrawal);
    st.bind(6, static_cast<int64_t>(ToMicros(change.at)));
    st.bind(7, static_cast<int64_t>(c.id));
    st.bind(8, v1::CaseState_Name(c.state));
    if (st.exec() != 1) {
      return absl::AbortedError(
          absl::StrCat("case ", c.id, " changed state meanwhile; read it again and retry"));
    }
    return InsertHistory(tx, c.id, c.state, change.to, change.at, change.token_id, change.reason);
  });
}

namespace {

// Runs one UPDATE of the case with `bind` filling its parameters; NOT_FOUND if no case.
absl::Status UpdateCase(Tx& tx, absl::string_view operation, const char* sql, int64_t case_id,
                        absl::FunctionRef<void(Statement&)> bind) {
  if (absl::Status s = tx.RequireWritable(operation); !s.ok()) return s;
  return Guard(operation, [&]() -> absl::Status {
    Statement st(tx, sql);
    bind(st);
    if (st.exec() != 1) return absl::NotFoundError(absl::StrCat("case ", case_id, " not found"));
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status SetCaseFinished(Tx& tx, int64_t case_id, std::optional<absl::Time> at) {
  return UpdateCase(tx, "set case finished", "UPDATE cases SET finished_at = ? WHERE id = ?",
                    case_id, [&](Statement& st) {
                      if (at.has_value()) {
                        st.bind(1, static_cast<int64_t>(ToMicros(*at)));
                      } else {
                        st.bind(1);
                      }
                      st.bind(2, static_cast<int64_t>(case_id));
                    });
}

absl::Status SetOutcome(Tx& tx, int64_t case_id, v1::Outcome outcome, absl::Time at) {
  return UpdateCase(tx, "set outcome",
                    "UPDATE cases SET outcome = ?, outcome_recorded_at = ? WHERE id = ?", case_id,
                    [&](Statement& st) {
                      st.bind(1, v1::Outcome_Name(outcome));
                      st.bind(2, static_cast<int64_t>(ToMicros(at)));
                      st.bind(3, static_cast<int64_t>(case_id));
                    });
}

absl::Status SetReviewDate(Tx& tx, int64_t case_id, int32_t day) {
  return UpdateCase(tx, "set review date", "UPDATE cases SET review_date = ? WHERE id = ?", case_id,
                    [&](Statement& st) {
                      st.bind(1, day);
                      st.bind(2, static_cast<int64_t>(case_id));
                    });
}

absl::Status SetReviewed(Tx& tx, int64_t case_id, absl::Time at, absl::string_view notes) {
  absl::StatusOr<std::string> sealed = SealText(tx, CaseField(case_id, "review_notes"), notes, at);
  if (!sealed.ok()) return sealed.status();
  return UpdateCase(tx, "set reviewed",
                    "UPDATE cases SET reviewed_at = ?, review_notes = ? WHERE id = ?", case_id,
                    [&](Statement& st) {
                      st.bind(1, static_cast<int64_t>(ToMicros(at)));
                      BindSealed(st, 2, *sealed);
                      st.bind(3, static_cast<int64_t>(case_id));
                    });
}

absl::Status ClearReview(Tx& tx, int64_t case_id) {
  return UpdateCase(tx, "clear review",
                    "UPDATE cases SET review_date = NULL, reviewed_at = NULL, review_notes = '' "
                    "WHERE id = ?",
                    case_id, [&](Statement& st) { st.bind(1, static_cast<int64_t>(case_id)); });
}

absl::Status SetMediatorsRequired(Tx& tx, int64_t case_id, int count, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("set mediators required"); !s.ok()) return s;
  return Guard("set mediators required", [&]() -> absl::Status {
    Statement st(tx, "UPDATE cases SET mediators_required = ?, updated_at = ? WHERE id = ?");
    st.bind(1, count);
    st.bind(2, static_cast<int64_t>(ToMicros(at)));
    st.bind(3, static_cast<int64_t>(case_id));
    if (st.exec() != 1) return absl::NotFoundError(absl::StrCat("case ", case_id, " not found"));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<HistoryRecord>> CaseHistory(Tx& tx, int64_t case_id) {
  return Guard("case history", [&]() -> absl::StatusOr<std::vector<HistoryRecord>> {
    auto actor = [](Statement& st, HistoryRecord& h, int first) {
      h.at = FromMicros(st.getColumn(first).getInt64());
      h.token_id = OptionalId(st.getColumn(first + 1));
      if (!st.getColumn(first + 2).isNull()) {
        h.role = EnumFromText<v1::Role>(st.getColumn(first + 2).getString(), v1::Role_Parse);
        h.actor = st.getColumn(first + 3).getString();
      }
    };
    std::vector<HistoryRecord> states;
    Statement st(tx,
                 "SELECT h.at, h.token_id, t.role, t.label, h.from_state, h.to_state, "
                 "h.reason, h.id FROM case_state_history h LEFT JOIN access_tokens t "
                 "ON t.id = h.token_id WHERE h.case_id = ? ORDER BY h.id");
    st.bind(1, static_cast<int64_t>(case_id));
    while (st.executeStep()) {
      HistoryRecord h;
      actor(st, h, 0);
      if (!st.getColumn(4).isNull()) {
        h.from = EnumFromText<v1::CaseState>(st.getColumn(4).getString(), v1::CaseState_Parse);
      }
      h.to = EnumFromText<v1::CaseState>(st.getColumn(5).getString(), v1::CaseState_Parse);
      h.reason = OpenText(tx,
                          {.case_id = case_id,
                           .table = "case_state_history",
                           .column = "reason",
                           .row = st.getColumn(7).getInt64()},
                          st.getColumn(6), "reason", &h.withheld);
      states.push_back(std::move(h));
    }
    std::vector<HistoryRecord> revisions;
    Statement rev(tx,
                  "SELECT r.at, r.token_id, t.role, t.label, r.revision, "
                  "r.changed_fields, r.reason, r.id FROM referral_revisions r LEFT JOIN "
                  "access_tokens t ON t.id = r.token_id WHERE r.case_id = ? ORDER BY r.id");
    rev.bind(1, static_cast<int64_t>(case_id));
    while (rev.executeStep()) {
      HistoryRecord h;
      actor(rev, h, 0);
      h.kind = HistoryRecord::Kind::kReferralRevision;
      h.revision = rev.getColumn(4).getInt64();
      auto field = [&](absl::string_view column) {
        return FieldRef{.case_id = case_id,
                        .table = "referral_revisions",
                        .column = column,
                        .row = rev.getColumn(7).getInt64()};
      };
      h.changed_fields = SplitLines(
          OpenText(tx, field("changed_fields"), rev.getColumn(5), "changed_fields", &h.withheld));
      h.reason = OpenText(tx, field("reason"), rev.getColumn(6), "reason", &h.withheld);
      revisions.push_back(std::move(h));
    }
    // Each allocation is two events: the offer, and the response (if any).
    std::vector<HistoryRecord> allocations;
    std::vector<HistoryRecord> responses;
    Statement alloc(tx,
                    "SELECT a.offered_at, a.offered_by_token_id, t.role, t.label, a.id, "
                    "a.mediator_id, a.role, a.state, a.responded_at, "
                    "a.responded_by_token_id, r.role, r.label, a.response_note "
                    "FROM allocations a LEFT JOIN access_tokens t ON t.id = "
                    "a.offered_by_token_id LEFT JOIN access_tokens r ON r.id = "
                    "a.responded_by_token_id WHERE a.case_id = ? ORDER BY a.id");
    alloc.bind(1, static_cast<int64_t>(case_id));
    while (alloc.executeStep()) {
      HistoryRecord offer;
      actor(alloc, offer, 0);
      offer.kind = HistoryRecord::Kind::kAllocation;
      offer.allocation_id = alloc.getColumn(4).getInt64();
      offer.mediator_id = alloc.getColumn(5).getInt64();
      offer.allocation_role = EnumFromText<v1::AllocationRole>(alloc.getColumn(6).getString(),
                                                               v1::AllocationRole_Parse);
      offer.allocation_state = v1::ALLOCATION_STATE_PENDING;
      const auto state = EnumFromText<v1::AllocationState>(alloc.getColumn(7).getString(),
                                                           v1::AllocationState_Parse);
      if (!alloc.getColumn(8).isNull()) {
        HistoryRecord response = offer;
        response.at = FromMicros(alloc.getColumn(8).getInt64());
        response.token_id = OptionalId(alloc.getColumn(9));
        response.role = v1::ROLE_UNSPECIFIED;
        response.actor.clear();
        if (!alloc.getColumn(10).isNull()) {
          response.role = EnumFromText<v1::Role>(alloc.getColumn(10).getString(), v1::Role_Parse);
          response.actor = alloc.getColumn(11).getString();
        }
        response.allocation_state = state;
        response.reason = OpenText(tx,
                                   {.case_id = case_id,
                                    .table = "allocations",
                                    .column = "response_note",
                                    .row = response.allocation_id},
                                   alloc.getColumn(12), "note", &response.withheld);
        responses.push_back(std::move(response));
      }
      allocations.push_back(std::move(offer));
    }
    // At the same instant, what was done comes before the state change it caused.
    std::vector<HistoryRecord> merged;
    for (auto* part : {&revisions, &allocations, &responses, &states}) {
      merged.insert(merged.end(), part->begin(), part->end());
    }
    std::stable_sort(merged.begin(), merged.end(),
                     [](const HistoryRecord& a, const HistoryRecord& b) { return a.at < b.at; });
    return merged;
  });
}

}  // namespace mediation::storage
