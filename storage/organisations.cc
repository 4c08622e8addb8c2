#include "storage/organisations.h"

#include "absl/strings/str_cat.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kColumns[] =
    "id, name, kind, nation, care_setting, sector, ods_code, contact_name, contact_email, "
    "contact_phone, contact_job_title, created_at";

OrganisationRecord ReadOrganisation(Statement& st) {
  OrganisationRecord o;
  o.id = st.getColumn(0).getInt64();
  o.name = st.getColumn(1).getString();
  o.kind =
      EnumFromText<v1::OrganisationKind>(st.getColumn(2).getString(), v1::OrganisationKind_Parse);
  o.nation = EnumFromText<v1::Nation>(st.getColumn(3).getString(), v1::Nation_Parse);
  o.care_setting =
      EnumFromText<v1::CareSetting>(st.getColumn(4).getString(), v1::CareSetting_Parse);
  o.sector = EnumFromText<v1::Sector>(st.getColumn(5).getString(), v1::Sector_Parse);
  o.ods_code = st.getColumn(6).isNull() ? "" : st.getColumn(6).getString();
  o.contact.name = st.getColumn(7).getString();
  o.contact.email = st.getColumn(8).getString();
  o.contact.phone = st.getColumn(9).getString();
  o.contact.job_title = st.getColumn(10).getString();
  o.created_at = FromMicros(st.getColumn(11).getInt64());
  return o;
}

}  // namespace

absl::StatusOr<OrganisationRecord> InsertOrganisation(Tx& tx, OrganisationRecord org) {
  if (absl::Status s = tx.RequireWritable("insert organisation"); !s.ok()) return s;
  return Guard("insert organisation", [&]() -> absl::StatusOr<OrganisationRecord> {
    if (!org.ods_code.empty()) {
      Statement existing(tx, "SELECT id FROM organisations WHERE ods_code = ?");
      existing.bind(1, org.ods_code);
      if (existing.executeStep()) {
        return absl::AlreadyExistsError(absl::StrCat("organisation.ods_code: organisation ",
                                                     existing.getColumn(0).getInt64(),
                                                     " already has ODS code ", org.ods_code));
      }
    }
    Statement st(tx,
                 "INSERT INTO organisations (name, kind, nation, care_setting, sector, "
                 "ods_code, contact_name, contact_email, contact_phone, contact_job_title, "
                 "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, org.name);
    st.bind(2, v1::OrganisationKind_Name(org.kind));
    st.bind(3, v1::Nation_Name(org.nation));
    st.bind(4, v1::CareSetting_Name(org.care_setting));
    st.bind(5, v1::Sector_Name(org.sector));
    if (org.ods_code.empty()) {
      st.bind(6);
    } else {
      st.bind(6, org.ods_code);
    }
    st.bind(7, org.contact.name);
    st.bind(8, org.contact.email);
    st.bind(9, org.contact.phone);
    st.bind(10, org.contact.job_title);
    st.bind(11, static_cast<int64_t>(ToMicros(org.created_at)));
    st.exec();
    org.id = tx.LastInsertId();
    return org;
  });
}

absl::StatusOr<OrganisationRecord> GetOrganisation(Tx& tx, int64_t id) {
  return Guard("get organisation", [&]() -> absl::StatusOr<OrganisationRecord> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns, " FROM organisations WHERE id = ?"));
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) {
      return absl::NotFoundError(absl::StrCat("organisation ", id, " not found"));
    }
    return ReadOrganisation(st);
  });
}

absl::StatusOr<std::vector<OrganisationRecord>> ListOrganisations(Tx& tx, v1::Nation nation,
                                                                  const PageCursor& cursor) {
  return Guard("list organisations", [&]() -> absl::StatusOr<std::vector<OrganisationRecord>> {
    Statement st(tx, absl::StrCat("SELECT ", kColumns,
                                  " FROM organisations WHERE id > ?1 AND (?2 = '' OR nation = "
                                  "?2) ORDER BY id LIMIT ?3"));
    st.bind(1, static_cast<int64_t>(cursor.after_id));
    st.bind(2, nation == v1::NATION_UNSPECIFIED ? std::string() : v1::Nation_Name(nation));
    st.bind(3, cursor.limit);
    std::vector<OrganisationRecord> orgs;
    while (st.executeStep()) orgs.push_back(ReadOrganisation(st));
    return orgs;
  });
}

}  // namespace mediation::storage
