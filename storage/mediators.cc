#include "storage/mediators.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "storage/identity_keys.h"
#include "storage/sealed_text_internal.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kProfileColumns[] =
    "id, name, normalised_name, email, phone, job_title, accreditation_body, "
    "accreditation_level, registration_number, accreditation_expires, insurance_expires, "
    "cpd_hours, nations, languages, max_concurrent_cases, active, last_allocated_at, created_at, "
    "updated_at, revision";

uint32_t NationMask(const std::vector<v1::Nation>& nations) {
  uint32_t mask = 0;
  for (v1::Nation n : nations) mask |= 1u << n;
  return mask;
}

uint32_t ProfessionMask(const std::vector<ExperienceRecord>& experience) {
  uint32_t mask = 0;
  for (const ExperienceRecord& e : experience) {
    if (e.cases > 0) mask |= 1u << e.profession;
  }
  return mask;
}

MediatorRecord ReadProfile(Statement& st) {
  MediatorRecord m;
  m.id = st.getColumn(0).getInt64();
  m.contact.name = st.getColumn(1).getString();
  m.normalised_name = st.getColumn(2).getString();
  m.contact.email = st.getColumn(3).getString();
  m.contact.phone = st.getColumn(4).getString();
  m.contact.job_title = st.getColumn(5).getString();
  m.accreditation_body =
      EnumFromText<v1::AccreditationBody>(st.getColumn(6).getString(), v1::AccreditationBody_Parse);
  m.accreditation_level = st.getColumn(7).getString();
  m.registration_number = st.getColumn(8).getString();
  m.accreditation_expires = st.getColumn(9).getInt();
  m.insurance_expires = st.getColumn(10).getInt();
  m.cpd_hours = st.getColumn(11).getInt();
  const uint32_t nations = static_cast<uint32_t>(st.getColumn(12).getInt64());
  for (int n = 1; n < 32; ++n) {
    if ((nations & (1u << n)) != 0 && v1::Nation_IsValid(n)) {
      m.nations.push_back(static_cast<v1::Nation>(n));
    }
  }
  const std::string languages = st.getColumn(13).getString();
  if (!languages.empty()) m.languages = absl::StrSplit(languages, '\n');
  m.max_concurrent_cases = st.getColumn(14).getInt();
  m.active = st.getColumn(15).getInt() != 0;
  m.last_allocated_at = OptionalTime(st.getColumn(16));
  m.created_at = FromMicros(st.getColumn(17).getInt64());
  m.updated_at = FromMicros(st.getColumn(18).getInt64());
  m.revision = st.getColumn(19).getInt64();
  return m;
}

void ReadExperienceAndLoad(Tx& db, MediatorRecord& m) {
  Statement exp(db,
                "SELECT profession, cases FROM mediator_experience WHERE mediator_id = ? "
                "ORDER BY profession");
  exp.bind(1, static_cast<int64_t>(m.id));
  while (exp.executeStep()) {
    m.experience.push_back(
        {EnumFromText<v1::Profession>(exp.getColumn(0).getString(), v1::Profession_Parse),
         exp.getColumn(1).getInt()});
  }
  Statement open(db, "SELECT COUNT(*) FROM allocations WHERE mediator_id = ? AND open = 1");
  open.bind(1, static_cast<int64_t>(m.id));
  open.executeStep();
  m.current_cases = open.getColumn(0).getInt();
}

void WriteExperience(Tx& db, int64_t mediator_id, const std::vector<ExperienceRecord>& experience) {
  Statement clear(db, "DELETE FROM mediator_experience WHERE mediator_id = ?");
  clear.bind(1, static_cast<int64_t>(mediator_id));
  clear.exec();
  Statement add(db,
                "INSERT INTO mediator_experience (mediator_id, profession, cases) "
                "VALUES (?, ?, ?)");
  for (const ExperienceRecord& e : experience) {
    add.reset();
    add.bind(1, static_cast<int64_t>(mediator_id));
    add.bind(2, v1::Profession_Name(e.profession));
    add.bind(3, e.cases);
    add.exec();
  }
}

// Binds the profile columns shared by insert and update, from position 1.
void BindProfile(Statement& st, const MediatorRecord& m) {
  st.bind(1, m.contact.name);
  st.bind(2, m.normalised_name);
  st.bind(3, m.contact.email);
  st.bind(4, m.contact.phone);
  st.bind(5, m.contact.job_title);
  st.bind(6, v1::AccreditationBody_Name(m.accreditation_body));
  st.bind(7, m.accreditation_level);
  st.bind(8, m.registration_number);
  st.bind(9, m.accreditation_expires);
  st.bind(10, m.insurance_expires);
  st.bind(11, m.cpd_hours);
  st.bind(12, static_cast<int64_t>(NationMask(m.nations)));
  st.bind(13, absl::StrJoin(m.languages, "\n"));
  st.bind(14, m.max_concurrent_cases);
  st.bind(15, m.active ? 1 : 0);
  st.bind(16, static_cast<int64_t>(ProfessionMask(m.experience)));
  st.bind(17, static_cast<int64_t>(ToMicros(m.updated_at)));
}

absl::Status EmailTaken(Tx& db, const std::string& email, int64_t except_id) {
  Statement st(db, "SELECT id FROM mediators WHERE email = ? AND id <> ?");
  st.bind(1, email);
  st.bind(2, static_cast<int64_t>(except_id));
  if (st.executeStep()) {
    return absl::AlreadyExistsError(absl::StrCat("mediator.contact.email: mediator ",
                                                 st.getColumn(0).getInt64(),
                                                 " already has this email"));
  }
  return absl::OkStatus();
}

FieldRef RegistryNote(absl::string_view table, int64_t row) {
  return {
      .case_id = 0, .table = table, .column = "note", .row = row, .purpose = KeyPurpose::kRegistry};
}

// `tx` null: the note is not read (a check that needs only who and what).
ConflictRecord ReadConflict(Tx* tx, Statement& st, std::vector<WithheldField>* withheld = nullptr) {
  ConflictRecord c;
  c.id = st.getColumn(0).getInt64();
  c.mediator_id = st.getColumn(1).getInt64();
  c.kind = EnumFromText<v1::ConflictKind>(st.getColumn(2).getString(), v1::ConflictKind_Parse);
  c.organisation_id = OptionalId(st.getColumn(3));
  c.person_name = st.getColumn(4).getString();
  c.normalised_name = st.getColumn(5).getString();
  c.person_email = st.getColumn(6).getString();
  c.case_id = OptionalId(st.getColumn(7));
  c.source =
      EnumFromText<v1::ConflictSource>(st.getColumn(8).getString(), v1::ConflictSource_Parse);
  if (tx != nullptr) {
    c.note = OpenText(*tx, RegistryNote("mediator_conflicts", c.id), st.getColumn(9),
                      absl::StrCat("conflicts[", c.id, "].note"), withheld);
  }
  c.recorded_at = FromMicros(st.getColumn(10).getInt64());
  c.recorded_by_token_id = OptionalId(st.getColumn(11));
  c.email_key = st.getColumn(12).getString();
  c.surname_key = st.getColumn(13).getString();
  return c;
}

constexpr char kConflictColumns[] =
    "id, mediator_id, kind, organisation_id, person_name, normalised_name, person_email, case_id, "
    "source, note, recorded_at, recorded_by_token_id, email_key, surname_key";

}  // namespace

absl::StatusOr<MediatorRecord> InsertMediator(Tx& tx, MediatorRecord m) {
  if (absl::Status s = tx.RequireWritable("insert mediator"); !s.ok()) return s;
  return Guard("insert mediator", [&]() -> absl::StatusOr<MediatorRecord> {
    if (absl::Status s = EmailTaken(tx, m.contact.email, 0); !s.ok()) return s;
    Statement st(tx,
                 "INSERT INTO mediators (name, normalised_name, email, phone, job_title, "
                 "accreditation_body, accreditation_level, registration_number, "
                 "accreditation_expires, insurance_expires, cpd_hours, nations, "
                 "languages, max_concurrent_cases, active, professions, updated_at, "
                 "created_at, identity_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                 "?, ?, ?, ?, ?, ?, ?)");
    BindProfile(st, m);
    st.bind(18, static_cast<int64_t>(ToMicros(m.created_at)));
    st.bind(19, kIdentityKeysVersion);
    st.exec();
    m.id = tx.LastInsertId();
    WriteExperience(tx, m.id, m.experience);
    return m;
  });
}

absl::Status UpdateMediatorProfile(Tx& tx, const MediatorRecord& m) {
  if (absl::Status s = tx.RequireWritable("update mediator"); !s.ok()) return s;
  return Guard("update mediator", [&]() -> absl::Status {
    if (absl::Status s = EmailTaken(tx, m.contact.email, m.id); !s.ok()) return s;
    Statement st(tx,
                 "UPDATE mediators SET name = ?, normalised_name = ?, email = ?, phone = "
                 "?, job_title = ?, accreditation_body = ?, accreditation_level = ?, "
                 "registration_number = ?, accreditation_expires = ?, insurance_expires = "
                 "?, cpd_hours = ?, nations = ?, languages = ?, max_concurrent_cases = ?, "
                 "active = ?, professions = ?, updated_at = ?, identity_version = ?, "
                 "revision = revision + 1 WHERE id = ? AND revision = ?");
    BindProfile(st, m);
    st.bind(18, kIdentityKeysVersion);
    st.bind(19, static_cast<int64_t>(m.id));
    st.bind(20, static_cast<int64_t>(m.revision));
    if (st.exec() != 1) {
      return absl::AbortedError(absl::StrCat("mediator ", m.id,
                                             " was changed by someone else meanwhile; read it "
                                             "again and reapply your change"));
    }
    WriteExperience(tx, m.id, m.experience);
    return absl::OkStatus();
  });
}

absl::StatusOr<MediatorRecord> GetMediator(Tx& tx, int64_t id) {
  return Guard("get mediator", [&]() -> absl::StatusOr<MediatorRecord> {
    Tx& db = tx;
    Statement st(db, absl::StrCat("SELECT ", kProfileColumns, " FROM mediators WHERE id = ?"));
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) return absl::NotFoundError(absl::StrCat("mediator ", id, " not found"));
    MediatorRecord m = ReadProfile(st);
    ReadExperienceAndLoad(db, m);

    Statement hours(db,
                    "SELECT weekday, start_minute, end_minute FROM working_hours WHERE "
                    "mediator_id = ? ORDER BY weekday, start_minute");
    hours.bind(1, static_cast<int64_t>(id));
    while (hours.executeStep()) {
      m.working_hours.push_back(
          {hours.getColumn(0).getInt(), hours.getColumn(1).getInt(), hours.getColumn(2).getInt()});
    }
    Statement leave(db,
                    "SELECT id, first_day, last_day, note FROM mediator_leave WHERE "
                    "mediator_id = ? ORDER BY first_day, id");
    leave.bind(1, static_cast<int64_t>(id));
    while (leave.executeStep()) {
      const int64_t leave_id = leave.getColumn(0).getInt64();
      m.leave.push_back({leave_id, id, leave.getColumn(1).getInt(), leave.getColumn(2).getInt(),
                         OpenText(tx, RegistryNote("mediator_leave", leave_id), leave.getColumn(3),
                                  absl::StrCat("leave[", leave_id, "].note"), &m.withheld)});
    }
    Statement conflicts(db, absl::StrCat("SELECT ", kConflictColumns,
                                         " FROM mediator_conflicts WHERE mediator_id = ? "
                                         "ORDER BY id"));
    conflicts.bind(1, static_cast<int64_t>(id));
    while (conflicts.executeStep()) {
      m.conflicts.push_back(ReadConflict(&tx, conflicts, &m.withheld));
    }
    return m;
  });
}

absl::StatusOr<std::vector<MediatorRecord>> ListMediators(Tx& tx, bool active_only,
                                                          v1::Nation nation,
                                                          const PageCursor& cursor) {
  return Guard("list mediators", [&]() -> absl::StatusOr<std::vector<MediatorRecord>> {
    Statement st(tx, absl::StrCat("SELECT ", kProfileColumns,
                                  " FROM mediators WHERE id > ?1 AND (NOT ?2 OR "
                                  "active = 1) AND (?3 = 0 OR (nations & ?3) <> 0) "
                                  "ORDER BY id LIMIT ?4"));
    st.bind(1, static_cast<int64_t>(cursor.after_id));
    st.bind(2, active_only ? 1 : 0);
    st.bind(3, static_cast<int64_t>(nation == v1::NATION_UNSPECIFIED ? 0 : (1u << nation)));
    st.bind(4, cursor.limit);
    std::vector<MediatorRecord> out;
    while (st.executeStep()) out.push_back(ReadProfile(st));
    for (MediatorRecord& m : out) ReadExperienceAndLoad(tx, m);
    return out;
  });
}

absl::StatusOr<int64_t> ReplaceWorkingHours(Tx& tx, int64_t mediator_id,
                                            const std::vector<WorkingHoursRecord>& hours,
                                            int64_t expected_revision) {
  if (absl::Status s = tx.RequireWritable("set working hours"); !s.ok()) return s;
  return Guard("set working hours", [&]() -> absl::StatusOr<int64_t> {
    Statement current(tx, "SELECT revision FROM mediators WHERE id = ?");
    current.bind(1, static_cast<int64_t>(mediator_id));
    if (!current.executeStep()) {
      return absl::NotFoundError(absl::StrCat("mediator ", mediator_id, " not found"));
    }
    const int64_t revision = current.getColumn(0).getInt64();
    current.reset();
    if (expected_revision != 0 && expected_revision != revision) {
      return absl::AbortedError(absl::StrCat(
          "mediator ", mediator_id, " was changed since you read it (it is now at r", revision,
          ", you sent r", expected_revision, "); read it again and reapply your change"));
    }
    uint32_t days = 0;
    for (const WorkingHoursRecord& h : hours) days |= 1u << (h.weekday - 1);
    Statement mediator(
        tx, "UPDATE mediators SET working_days = ?, revision = revision + 1 WHERE id = ?");
    mediator.bind(1, static_cast<int64_t>(days));
    mediator.bind(2, static_cast<int64_t>(mediator_id));
    mediator.exec();
    Statement clear(tx, "DELETE FROM working_hours WHERE mediator_id = ?");
    clear.bind(1, static_cast<int64_t>(mediator_id));
    clear.exec();
    Statement add(tx,
                  "INSERT INTO working_hours (mediator_id, weekday, start_minute, "
                  "end_minute) VALUES (?, ?, ?, ?)");
    for (const WorkingHoursRecord& h : hours) {
      add.reset();
      add.bind(1, static_cast<int64_t>(mediator_id));
      add.bind(2, h.weekday);
      add.bind(3, h.start_minute);
      add.bind(4, h.end_minute);
      add.exec();
    }
    return revision + 1;
  });
}

absl::StatusOr<LeaveRecord> InsertLeave(Tx& tx, LeaveRecord leave, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("insert leave"); !s.ok()) return s;
  return Guard("insert leave", [&]() -> absl::StatusOr<LeaveRecord> {
    Statement st(tx,
                 "INSERT INTO mediator_leave (mediator_id, first_day, last_day, note) "
                 "VALUES (?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(leave.mediator_id));
    st.bind(2, leave.first_day);
    st.bind(3, leave.last_day);
    st.bind(4, std::string());  // Sealed below, bound to the id.
    st.exec();
    leave.id = tx.LastInsertId();
    if (absl::Status s =
            StoreSealedText(tx, RegistryNote("mediator_leave", leave.id), leave.note, at);
        !s.ok()) {
      return s;
    }
    return leave;
  });
}

absl::Status DeleteLeave(Tx& tx, int64_t mediator_id, int64_t leave_id) {
  if (absl::Status s = tx.RequireWritable("delete leave"); !s.ok()) return s;
  return Guard("delete leave", [&]() -> absl::Status {
    Statement st(tx, "DELETE FROM mediator_leave WHERE id = ? AND mediator_id = ?");
    st.bind(1, static_cast<int64_t>(leave_id));
    st.bind(2, static_cast<int64_t>(mediator_id));
    if (st.exec() != 1) {
      return absl::NotFoundError(
          absl::StrCat("leave ", leave_id, " of mediator ", mediator_id, " not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<ConflictRecord> InsertConflict(Tx& tx, ConflictRecord c) {
  if (absl::Status s = tx.RequireWritable("insert conflict"); !s.ok()) return s;
  return Guard("insert conflict", [&]() -> absl::StatusOr<ConflictRecord> {
    Statement st(tx,
                 "INSERT INTO mediator_conflicts (mediator_id, kind, organisation_id, "
                 "person_name, normalised_name, person_email, case_id, source, note, "
                 "recorded_at, recorded_by_token_id, source_case_id, email_key, surname_key, "
                 "identity_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(c.mediator_id));
    st.bind(2, v1::ConflictKind_Name(c.kind));
    BindOptionalId(st, 3, c.organisation_id);
    st.bind(4, c.person_name);
    st.bind(5, c.normalised_name);
    st.bind(6, c.person_email);
    BindOptionalId(st, 7, c.case_id);
    st.bind(8, v1::ConflictSource_Name(c.source));
    st.bind(9, std::string());  // Sealed below, bound to the id.
    st.bind(10, static_cast<int64_t>(ToMicros(c.recorded_at)));
    BindOptionalId(st, 11, c.recorded_by_token_id);
    BindOptionalId(st, 12, c.source_case_id);
    st.bind(13, c.email_key);
    st.bind(14, c.surname_key);
    st.bind(15, kIdentityKeysVersion);
    st.exec();
    c.id = tx.LastInsertId();
    if (absl::Status s =
            StoreSealedText(tx, RegistryNote("mediator_conflicts", c.id), c.note, c.recorded_at);
        !s.ok()) {
      return s;
    }
    return c;
  });
}

absl::Status DeleteConflict(Tx& tx, int64_t mediator_id, int64_t conflict_id,
                            bool allow_discovered) {
  if (absl::Status s = tx.RequireWritable("delete conflict"); !s.ok()) return s;
  return Guard("delete conflict", [&]() -> absl::Status {
    Statement source(tx,
                     "SELECT source FROM mediator_conflicts WHERE id = ? AND "
                     "mediator_id = ?");
    source.bind(1, static_cast<int64_t>(conflict_id));
    source.bind(2, static_cast<int64_t>(mediator_id));
    if (source.executeStep() && source.getColumn(0).getString() == "CONFLICT_SOURCE_DISCOVERED" &&
        !allow_discovered) {
      // The caller's role may never remove it, whatever the state: PERMISSION_DENIED.
      return absl::PermissionDeniedError(
          absl::StrCat("conflict ", conflict_id,
                       " was recorded when declining an allocation; only an administrator may "
                       "remove it"));
    }
    Statement st(tx, "DELETE FROM mediator_conflicts WHERE id = ? AND mediator_id = ?");
    st.bind(1, static_cast<int64_t>(conflict_id));
    st.bind(2, static_cast<int64_t>(mediator_id));
    if (st.exec() != 1) {
      return absl::NotFoundError(
          absl::StrCat("conflict ", conflict_id, " of mediator ", mediator_id, " not found"));
    }
    return absl::OkStatus();
  });
}

absl::Status VisitMediatorSummaries(Tx& tx, int64_t only_id,
                                    absl::FunctionRef<void(MediatorSummary&&)> visit) {
  return Guard("mediator summaries", [&]() -> absl::Status {
    Statement st(tx,
                 "SELECT id, name, normalised_name, email, active, accreditation_expires, "
                 "insurance_expires, cpd_hours, nations, professions, "
                 "max_concurrent_cases, working_days, last_allocated_at FROM mediators "
                 "WHERE ?1 = 0 OR id = ?1 ORDER BY id");
    st.bind(1, static_cast<int64_t>(only_id));
    while (st.executeStep()) {
      MediatorSummary m;
      m.id = st.getColumn(0).getInt64();
      m.name = st.getColumn(1).getString();
      m.normalised_name = st.getColumn(2).getString();
      m.email = st.getColumn(3).getString();
      m.active = st.getColumn(4).getInt() != 0;
      m.accreditation_expires = st.getColumn(5).getInt();
      m.insurance_expires = st.getColumn(6).getInt();
      m.cpd_hours = st.getColumn(7).getInt();
      m.nations = static_cast<uint32_t>(st.getColumn(8).getInt64());
      m.professions = static_cast<uint32_t>(st.getColumn(9).getInt64());
      m.max_concurrent_cases = st.getColumn(10).getInt();
      m.working_days = static_cast<uint32_t>(st.getColumn(11).getInt64());
      m.last_allocated_at = OptionalTime(st.getColumn(12));
      visit(std::move(m));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::unordered_map<int64_t, int>> OpenAllocationCounts(Tx& tx) {
  return Guard("open allocation counts", [&]() -> absl::StatusOr<std::unordered_map<int64_t, int>> {
    Statement st(tx,
                 "SELECT mediator_id, COUNT(*) FROM allocations WHERE open = 1 "
                 "GROUP BY mediator_id");
    std::unordered_map<int64_t, int> counts;
    while (st.executeStep()) counts[st.getColumn(0).getInt64()] = st.getColumn(1).getInt();
    return counts;
  });
}

absl::StatusOr<std::vector<LeaveRecord>> LeaveOverlapping(Tx& tx, int32_t first_day,
                                                          int32_t last_day) {
  return Guard("leave overlapping", [&]() -> absl::StatusOr<std::vector<LeaveRecord>> {
    Statement st(tx,
                 "SELECT id, mediator_id, first_day, last_day, note FROM mediator_leave "
                 "WHERE last_day >= ? AND first_day <= ?");
    st.bind(1, first_day);
    st.bind(2, last_day);
    std::vector<LeaveRecord> out;
    while (st.executeStep()) {
      // The note is not read: overlaps need only the days.
      out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getInt64(),
                     st.getColumn(2).getInt(), st.getColumn(3).getInt(), std::string()});
    }
    return out;
  });
}

absl::StatusOr<std::vector<ConflictRecord>> ConflictsTouching(
    Tx& tx, int64_t organisation_id, int64_t case_id, const std::vector<std::string>& email_keys,
    const std::vector<std::string>& name_words) {
  return Guard("conflicts touching", [&]() -> absl::StatusOr<std::vector<ConflictRecord>> {
    // One indexed lookup per key, united; never a scan of every conflict.
    auto placeholders = [](size_t n) {
      std::vector<std::string> marks(n, "?");
      return absl::StrJoin(marks, ", ");
    };
    std::string sql = absl::StrCat(
        "SELECT ", kConflictColumns, " FROM mediator_conflicts WHERE organisation_id = ? UNION ",
        "SELECT ", kConflictColumns, " FROM mediator_conflicts WHERE case_id = ?");
    if (!email_keys.empty()) {
      absl::StrAppend(&sql, " UNION SELECT ", kConflictColumns,
                      " FROM mediator_conflicts WHERE email_key <> '' AND email_key IN (",
                      placeholders(email_keys.size()), ")");
    }
    if (!name_words.empty()) {
      absl::StrAppend(&sql, " UNION SELECT ", kConflictColumns,
                      " FROM mediator_conflicts WHERE surname_key <> '' AND surname_key IN (",
                      placeholders(name_words.size()), ")");
    }
    Statement st(tx, sql);
    int index = 1;
    st.bind(index++, static_cast<int64_t>(organisation_id));
    st.bind(index++, static_cast<int64_t>(case_id));
    for (const std::string& e : email_keys) st.bind(index++, e);
    for (const std::string& n : name_words) st.bind(index++, n);
    std::vector<ConflictRecord> out;
    while (st.executeStep()) out.push_back(ReadConflict(nullptr, st));
    return out;
  });
}

}  // namespace mediation::storage
