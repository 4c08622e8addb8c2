#include "storage/cases.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kCaseColumns[] =
    "id, reference, organisation_id, state, referrer_name, referrer_email, referrer_phone, "
    "referrer_job_title, summary, concern_level, concern_type, created_at, updated_at, "
    "created_by_token_id";

CaseRecord ReadCaseRow(SQLite::Statement& st) {
  CaseRecord c;
  c.id = st.getColumn(0).getInt64();
  c.reference = st.getColumn(1).getString();
  c.organisation_id = st.getColumn(2).getInt64();
  c.state = EnumFromText<v1::CaseState>(st.getColumn(3).getString(), v1::CaseState_Parse);
  c.referrer.name = st.getColumn(4).getString();
  c.referrer.email = st.getColumn(5).getString();
  c.referrer.phone = st.getColumn(6).getString();
  c.referrer.job_title = st.getColumn(7).getString();
  c.summary = st.getColumn(8).getString();
  c.concern_level =
      EnumFromText<v1::ConcernLevel>(st.getColumn(9).getString(), v1::ConcernLevel_Parse);
  c.concern_type =
      EnumFromText<v1::ConcernType>(st.getColumn(10).getString(), v1::ConcernType_Parse);
  c.created_at = FromMicros(st.getColumn(11).getInt64());
  c.updated_at = FromMicros(st.getColumn(12).getInt64());
  c.created_by_token_id = OptionalId(st.getColumn(13));
  return c;
}

// Fills in the parties and links of a case read by ReadCaseRow.
void ReadCaseChildren(SQLite::Database& db, CaseRecord& c) {
  SQLite::Statement parties(db,
                            "SELECT id, position, name, email, phone, job_title, profession, "
                            "accessibility_needs, bringing_companion FROM parties "
                            "WHERE case_id = ? ORDER BY position");
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
    p.accessibility_needs = parties.getColumn(7).getString();
    p.bringing_companion = parties.getColumn(8).getInt() != 0;
    c.parties.push_back(std::move(p));
  }
  SQLite::Statement links(db,
                          "SELECT reference FROM case_links WHERE case_id = ? ORDER BY position");
  links.bind(1, static_cast<int64_t>(c.id));
  while (links.executeStep()) c.linked_case_references.push_back(links.getColumn(0).getString());
}

}  // namespace

absl::StatusOr<CaseRecord> InsertCase(Tx& tx, CaseRecord c) {
  if (absl::Status s = tx.RequireWritable("insert case"); !s.ok()) return s;
  return Guard("insert case", [&]() -> absl::StatusOr<CaseRecord> {
    SQLite::Database& db = tx.db();
    SQLite::Statement st(
        db,
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
    st.bind(7, c.summary);
    st.bind(8, v1::ConcernLevel_Name(c.concern_level));
    st.bind(9, v1::ConcernType_Name(c.concern_type));
    st.bind(10, static_cast<int64_t>(ToMicros(c.created_at)));
    st.bind(11, static_cast<int64_t>(ToMicros(c.updated_at)));
    BindOptionalId(st, 12, c.created_by_token_id);
    st.exec();
    c.id = db.getLastInsertRowid();

    c.reference = absl::StrFormat(
        "AM-%d-%06d", absl::ToCivilYear(c.created_at, absl::UTCTimeZone()).year(), c.id);
    SQLite::Statement ref(db, "UPDATE cases SET reference = ? WHERE id = ?");
    ref.bind(1, c.reference);
    ref.bind(2, static_cast<int64_t>(c.id));
    ref.exec();

    SQLite::Statement party(db,
                            "INSERT INTO parties (case_id, position, name, email, phone, "
                            "job_title, profession, accessibility_needs, bringing_companion) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (size_t i = 0; i < c.parties.size(); ++i) {
      PartyRecord& p = c.parties[i];
      p.case_id = c.id;
      p.position = static_cast<int>(i) + 1;
      party.reset();
      party.bind(1, static_cast<int64_t>(c.id));
      party.bind(2, p.position);
      party.bind(3, p.contact.name);
      party.bind(4, p.contact.email);
      party.bind(5, p.contact.phone);
      party.bind(6, p.contact.job_title);
      party.bind(7, v1::Profession_Name(p.profession));
      party.bind(8, p.accessibility_needs);
      party.bind(9, p.bringing_companion ? 1 : 0);
      party.exec();
      p.id = db.getLastInsertRowid();
    }

    SQLite::Statement link(
        db, "INSERT INTO case_links (case_id, position, reference) VALUES (?, ?, ?)");
    for (size_t i = 0; i < c.linked_case_references.size(); ++i) {
      link.reset();
      link.bind(1, static_cast<int64_t>(c.id));
      link.bind(2, static_cast<int>(i) + 1);
      link.bind(3, c.linked_case_references[i]);
      link.exec();
    }

    SQLite::Statement history(db,
                              "INSERT INTO case_state_history (case_id, from_state, to_state, at, "
                              "token_id, reason) VALUES (?, NULL, ?, ?, ?, 'referral received')");
    history.bind(1, static_cast<int64_t>(c.id));
    history.bind(2, v1::CaseState_Name(c.state));
    history.bind(3, static_cast<int64_t>(ToMicros(c.created_at)));
    BindOptionalId(history, 4, c.created_by_token_id);
    history.exec();
    return c;
  });
}

absl::StatusOr<CaseRecord> GetCase(Tx& tx, int64_t id) {
  return Guard("get case", [&]() -> absl::StatusOr<CaseRecord> {
    SQLite::Statement st(tx.db(),
                         absl::StrCat("SELECT ", kCaseColumns, " FROM cases WHERE id = ?"));
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) return absl::NotFoundError(absl::StrCat("case ", id, " not found"));
    CaseRecord c = ReadCaseRow(st);
    ReadCaseChildren(tx.db(), c);
    return c;
  });
}

absl::StatusOr<std::vector<CaseRecord>> ListCases(Tx& tx, const CaseFilter& filter,
                                                  const PageCursor& cursor) {
  return Guard("list cases", [&]() -> absl::StatusOr<std::vector<CaseRecord>> {
    SQLite::Statement st(
        tx.db(), absl::StrCat("SELECT ", kCaseColumns,
                              " FROM cases WHERE (?1 = 0 OR id < ?1) AND (?2 = '' OR state = ?2) "
                              "AND (?3 = 0 OR organisation_id = ?3) ORDER BY id DESC LIMIT ?4"));
    st.bind(1, static_cast<int64_t>(cursor.after_id));
    st.bind(2, filter.state == v1::CASE_STATE_UNSPECIFIED ? std::string()
                                                          : v1::CaseState_Name(filter.state));
    st.bind(3, static_cast<int64_t>(filter.organisation_id));
    st.bind(4, cursor.limit);
    std::vector<CaseRecord> cases;
    while (st.executeStep()) cases.push_back(ReadCaseRow(st));
    for (CaseRecord& c : cases) ReadCaseChildren(tx.db(), c);
    return cases;
  });
}

absl::StatusOr<std::vector<StateChange>> CaseHistory(Tx& tx, int64_t case_id) {
  return Guard("case history", [&]() -> absl::StatusOr<std::vector<StateChange>> {
    SQLite::Statement st(tx.db(),
                         "SELECT from_state, to_state, at, token_id, reason FROM "
                         "case_state_history WHERE case_id = ? ORDER BY id");
    st.bind(1, static_cast<int64_t>(case_id));
    std::vector<StateChange> changes;
    while (st.executeStep()) {
      StateChange change;
      if (!st.getColumn(0).isNull()) {
        change.from = EnumFromText<v1::CaseState>(st.getColumn(0).getString(), v1::CaseState_Parse);
      }
      change.to = EnumFromText<v1::CaseState>(st.getColumn(1).getString(), v1::CaseState_Parse);
      change.at = FromMicros(st.getColumn(2).getInt64());
      change.token_id = OptionalId(st.getColumn(3));
      change.reason = st.getColumn(4).getString();
      changes.push_back(std::move(change));
    }
    return changes;
  });
}

}  // namespace mediation::storage
