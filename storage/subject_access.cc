#include "storage/subject_access.h"

#include <string>

#include "absl/strings/ascii.h"
#include "storage/sql_util.h"

namespace mediation::storage {

absl::StatusOr<PersonRecords> FindPerson(Tx& tx, absl::string_view email) {
  const std::string wanted = absl::AsciiStrToLower(absl::StripAsciiWhitespace(email));
  return Guard("find person", [&]() -> absl::StatusOr<PersonRecords> {
    PersonRecords out;
    Statement parties(tx,
                      "SELECT case_id, id FROM parties WHERE lower(trim(email)) = ? ORDER BY id");
    parties.bind(1, wanted);
    while (parties.executeStep()) {
      out.parties.emplace_back(parties.getColumn(0).getInt64(), parties.getColumn(1).getInt64());
    }
    Statement cases(tx, "SELECT id FROM cases WHERE lower(trim(referrer_email)) = ? ORDER BY id");
    cases.bind(1, wanted);
    while (cases.executeStep()) out.referred_cases.push_back(cases.getColumn(0).getInt64());
    Statement orgs(tx,
                   "SELECT id FROM organisations WHERE lower(trim(contact_email)) = ? ORDER BY id");
    orgs.bind(1, wanted);
    while (orgs.executeStep()) out.organisations.push_back(orgs.getColumn(0).getInt64());
    Statement mediator(tx, "SELECT id FROM mediators WHERE lower(trim(email)) = ?");
    mediator.bind(1, wanted);
    if (mediator.executeStep()) out.mediator_id = mediator.getColumn(0).getInt64();
    return out;
  });
}

}  // namespace mediation::storage
