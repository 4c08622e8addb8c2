#include "clients/cli/mediator_import.h"

#include <google/protobuf/descriptor.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "clients/cli/errors.h"
#include "clients/cli/request_fields.h"

namespace mediation::cli {
namespace {

using google::protobuf::Message;

// A stable key for a row's content (FNV-1a, 64 bits): the same row imported twice is one call
// repeated, answered by the server with its first result.
std::string RowKey(const std::vector<std::string>& header, const std::vector<std::string>& row) {
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&hash](absl::string_view s) {
    for (unsigned char c : s) {
      hash ^= c;
      hash *= 1099511628211ull;
    }
    hash ^= 0x1f;
    hash *= 1099511628211ull;
  };
  for (const std::string& h : header) mix(h);
  for (const std::string& v : row) mix(v);
  return absl::StrCat("import-", absl::Hex(hash, absl::kZeroPad16));
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

struct RowResult {
  int line = 0;  // Data row number, 1 for the first row after the header.
  std::string name;
  int64_t mediator_id = 0;
  std::string error;  // Empty when imported.
};

}  // namespace

absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool any = false;  // Whether the current row has begun.
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.push_back(field);
        rows.push_back(row);
      }
      row.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) return absl::InvalidArgumentError("a quoted value is not closed");
  if (any || !field.empty()) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

int ImportHelp(std::ostream& out) {
  out << "Usage: mediationctl mediator import <file.csv> [--output=json]\n\n"
         "  Registers every mediator in a CSV file, one RegisterMediator call per row.\n"
         "  The first row names the columns: Mediator fields as in 'mediationctl mediator\n"
         "  register --help' without 'mediator.', e.g.\n\n"
         "    contact.name,contact.email,accreditation.body,accreditation.level,\n"
         "    accreditation.registration_number,accreditation.expires_on,insurance_expires_on,\n"
         "    cpd_hours_last_12_months,nations,languages,experience.0.profession,\n"
         "    experience.0.cases,max_concurrent_cases\n\n"
         "  A list takes several values separated by ';' (nations: england;wales).\n"
         "  Rows that fail are reported with the server's message and skipped; the others\n"
         "  are imported. Each row carries an idempotency key made from its content, so\n"
         "  importing the same file again within a day registers nobody twice.\n\n"
         "  Exit codes: 0 every row imported, 1 some rows refused, 2 unreadable file or header,\n"
         "  3 the server could not be reached (nothing was imported).\n";
  return kOk;
}

int ImportMediators(Catalog& catalog, client::Connection& connection, const std::string& path,
                    bool json) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "mediationctl: cannot read " << path << "\n";
    return kUsageError;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  // Spreadsheets often begin a UTF-8 CSV file with a byte order mark.
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.erase(0, 3);
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = ParseCsv(text);
  if (!rows.ok()) {
    std::cerr << "mediationctl: " << path << ": " << rows.status().message() << "\n";
    return kUsageError;
  }
  if (rows->empty()) {
    std::cerr << "mediationctl: " << path << " is empty; the first row names the columns\n";
    return kUsageError;
  }
  const google::protobuf::MethodDescriptor* method =
      catalog.FindMethod("MediatorService/RegisterMediator");
  std::vector<std::string> header;
  for (const std::string& h : (*rows)[0]) {
    header.push_back(std::string(absl::StripAsciiWhitespace(h)));
  }
  // Check the header once, against an empty request: a wrong column is a usage error.
  {
    std::unique_ptr<Message> probe = catalog.New(method->input_type());
    for (const std::string& column : header) {
      absl::Status known = SetField(probe.get(), "mediator." + column, "", false, ';');
      if (!known.ok() && !absl::StrContains(known.message(), "needs a value")) {
        std::cerr << "mediationctl: " << path << ": column '" << column << "': " << known.message()
                  << "\n  ('mediationctl mediator register --help' lists the fields)\n";
        return kUsageError;
      }
    }
  }

  const int total = static_cast<int>(rows->size()) - 1;
  const bool tty = isatty(STDERR_FILENO) != 0;
  std::vector<RowResult> results;
  int imported = 0;
  for (int i = 1; i <= total; ++i) {
    const std::vector<std::string>& row = (*rows)[i];
    RowResult result;
    result.line = i;
    std::unique_ptr<Message> request = catalog.New(method->input_type());
    absl::Status status;
    if (row.size() != header.size()) {
      status = absl::InvalidArgumentError(
          absl::StrCat("has ", row.size(), " values for ", header.size(), " columns"));
    }
    for (size_t c = 0; c < header.size() && status.ok(); ++c) {
      const std::string value(absl::StripAsciiWhitespace(row[c]));
      if (header[c] == "contact.name") result.name = value;
      if (value.empty()) continue;
      status = SetField(request.get(), "mediator." + header[c], value, true, ';');
    }
    if (status.ok()) {
      request->GetReflection()->SetString(request.get(),
                                          method->input_type()->FindFieldByName("idempotency_key"),
                                          RowKey(header, row));
      std::unique_ptr<Message> response = catalog.New(method->output_type());
      status = connection.CallMethod(*method, *request, response.get());
      if (status.ok()) {
        const Message& mediator = response->GetReflection()->GetMessage(
            *response, method->output_type()->FindFieldByName("mediator"));
        result.mediator_id = mediator.GetReflection()->GetInt64(
            mediator, mediator.GetDescriptor()->FindFieldByName("id"));
        ++imported;
      }
    }
    if (!status.ok()) result.error = absl::StrCat(CodeName(status.code()), ": ", status.message());
    results.push_back(result);
    const std::string progress = absl::StrFormat("importing %s: %d/%d rows, %d imported, %d failed",
                                                 path, i, total, imported, i - imported);
    if (tty) {
      std::cerr << "\r" << progress << (i == total ? "\n" : "") << std::flush;
    } else if (i == total || i % 10 == 0) {
      std::cerr << progress << "\n";
    }
  }

  if (json) {
    std::cout << "{\n  \"file\": " << JsonString(path) << ",\n  \"rows\": " << total
              << ",\n  \"imported\": " << imported << ",\n  \"failed\": " << total - imported
              << ",\n  \"results\": [";
    for (size_t i = 0; i < results.size(); ++i) {
      const RowResult& r = results[i];
      std::cout << (i == 0 ? "\n" : ",\n") << "    {\"row\": " << r.line
                << ", \"name\": " << JsonString(r.name);
      if (r.error.empty()) {
        std::cout << ", \"mediator_id\": \"" << r.mediator_id << "\"}";
      } else {
        std::cout << ", \"error\": " << JsonString(r.error) << "}";
      }
    }
    std::cout << (results.empty() ? "]\n}\n" : "\n  ]\n}\n");
  } else {
    std::cout << absl::StrFormat("%-5s %-28s %s\n", "ROW", "NAME", "RESULT");
    for (const RowResult& r : results) {
      std::cout << absl::StrFormat(
          "%-5d %-28s %s\n", r.line, r.name,
          r.error.empty() ? absl::StrCat("imported as mediator ", r.mediator_id) : r.error);
    }
    std::cout << imported << " of " << total << " rows imported";
    if (imported < total) std::cout << "; " << total - imported << " refused (see above)";
    std::cout << "\n";
  }
  return imported == total ? kOk : kServerError;
}

}  // namespace mediation::cli
