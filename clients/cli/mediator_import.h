// `mediationctl mediator import <file.csv>`: registers every mediator in a CSV file.
//
// The first row names the columns: paths of Mediator fields, as the flags of `mediator
// register` without the `mediator.` prefix (`contact.name`, `contact.email`,
// `accreditation.body`, `accreditation.expires_on`, `insurance_expires_on`, `nations`,
// `experience.0.profession`, ...). A repeated field takes several values separated by `;`.
// Quoted values (RFC 4180) may hold commas, quotes ("") and line breaks.
//
// Each row is its own RegisterMediator call with an idempotency key made from the row's
// content, so running the same file again within a day registers nobody twice. Bad rows are
// reported and skipped; the good ones are imported. Progress goes to stderr, the report (a
// table, or JSON with --output=json) to stdout. Exit code 0 when every row was imported, 1 when
// some were refused, 2 when the file cannot be read or its header names no known field (3, the
// server cannot be reached, is found by the caller before any row is sent).
#ifndef MEDIATION_CLIENTS_CLI_MEDIATOR_IMPORT_H_
#define MEDIATION_CLIENTS_CLI_MEDIATOR_IMPORT_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/cli/catalog.h"
#include "clients/cpp/connection.h"

namespace mediation::cli {

// Parses CSV text into rows of fields; INVALID_ARGUMENT for an unterminated quote.
absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(const std::string& text);

int ImportMediators(Catalog& catalog, client::Connection& connection, const std::string& path,
                    bool json);

int ImportHelp(std::ostream& out);

}  // namespace mediation::cli

#endif  // MEDIATION_CLIENTS_CLI_MEDIATOR_IMPORT_H_
