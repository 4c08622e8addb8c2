// Finding everything held about one person, by email address, for a subject access request
// (services/person_export.h assembles the export).
#ifndef MEDIATION_STORAGE_SUBJECT_ACCESS_H_
#define MEDIATION_STORAGE_SUBJECT_ACCESS_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/tx.h"

namespace mediation::storage {

struct PersonRecords {
  std::vector<std::pair<int64_t, int64_t>> parties;  // (case id, party id), oldest first.
  std::vector<int64_t> referred_cases;               // Oldest first.
  std::vector<int64_t> organisations;                // Whose contact they are.
  int64_t mediator_id = 0;                           // 0 when not a mediator.
};

// The rows that hold `email` (compared trimmed and case-folded, through indexes): as a party, a
// referrer, an organisation's contact or a mediator.
absl::StatusOr<PersonRecords> FindPerson(Tx& tx, absl::string_view email);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_SUBJECT_ACCESS_H_
