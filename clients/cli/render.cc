#include "clients/cli/render.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "clients/cli/request_fields.h"
#include "clients/cli/times.h"

namespace mediation::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr size_t kMaxCell = 48;
constexpr int kMaxDepth = 3;
constexpr size_t kMaxColumns = 9;

// Whether `m` is of a type shown as one value (a time, a date, money), and that value.
bool ValueMessage(const Message& m, std::string* out) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  const std::string& name = d->full_name();
  if (name == "google.protobuf.Timestamp") {
    *out = FormatInstant(absl::FromUnixSeconds(r->GetInt64(m, d->FindFieldByName("seconds"))));
    return true;
  }
  if (name == "ppa.mediation.v1.Date") {
    *out = FormatDate(absl::CivilDay(r->GetInt32(m, d->FindFieldByName("year")),
                                     r->GetInt32(m, d->FindFieldByName("month")),
                                     r->GetInt32(m, d->FindFieldByName("day"))));
    return true;
  }
  if (name == "ppa.mediation.v1.TimeOfDay") {
    *out = FormatTimeOfDay(r->GetInt32(m, d->FindFieldByName("hours")),
                           r->GetInt32(m, d->FindFieldByName("minutes")));
    return true;
  }
  if (name == "ppa.mediation.v1.Money") {
    const int64_t pence = r->GetInt64(m, d->FindFieldByName("pence"));
    *out = absl::StrFormat("%s£%d.%02d", pence < 0 ? "-" : "", std::abs(pence) / 100,
                           std::abs(pence) % 100);
    return true;
  }
  return false;
}

std::string Scalar(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "yes" : "no";
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumShortName(rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f));
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub = rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f);
      std::string out;
      if (ValueMessage(sub, &out)) return out;
      return RenderJson(sub, false);
    }
  }
  return "";
}

// A list inside an answer, shown as a table of its own.
struct SubTable {
  std::string path;
  const Message* parent;
  const FieldDescriptor* field;
};

// Every set field of `m` as (path, text), nested messages flattened; lists of messages go to
// `tables` when given, else are flattened with their indexes.
void Flatten(const Message& m, const std::string& prefix, int depth,
             std::vector<std::pair<std::string, std::string>>& out,
             std::vector<SubTable>* tables = nullptr) {
  std::vector<const FieldDescriptor*> fields;
  m.GetReflection()->ListFields(m, &fields);
  // An answer's own yes/no fields are shown when false too ("reminders: no"), not left out as
  // proto3 leaves out a default value: an answer of "ok" would not say which.
  if (depth == 0) {
    const Descriptor* d = m.GetDescriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_BOOL && !f->is_repeated() &&
          !f->has_presence() && std::find(fields.begin(), fields.end(), f) == fields.end()) {
        fields.push_back(f);
      }
    }
    // In field number order, as ListFields gives them.
    std::sort(fields.begin(), fields.end(), [](const FieldDescriptor* a, const FieldDescriptor* b) {
      return a->number() < b->number();
    });
  }
  for (const FieldDescriptor* f : fields) {
    const std::string path = prefix + f->name();
    const Reflection* r = m.GetReflection();
    std::string value;
    const bool message = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (!f->is_repeated()) {
      if (message && !ValueMessage(r->GetMessage(m, f), &value) && depth < kMaxDepth) {
        Flatten(r->GetMessage(m, f), path + ".", depth + 1, out, tables);
      } else {
        out.emplace_back(path, Scalar(m, f, -1));
      }
      continue;
    }
    const int n = r->FieldSize(m, f);
    if (message && n > 0 && !ValueMessage(r->GetRepeatedMessage(m, f, 0), &value) &&
        depth < kMaxDepth) {
      if (tables != nullptr) {
        tables->push_back({path, &m, f});
        continue;
      }
      for (int i = 0; i < n; ++i) {
        Flatten(r->GetRepeatedMessage(m, f, i), absl::StrCat(path, "[", i, "]."), depth + 1, out);
      }
      continue;
    }
    std::vector<std::string> items;
    for (int i = 0; i < n; ++i) items.push_back(Scalar(m, f, i));
    out.emplace_back(path, absl::StrJoin(items, ", "));
  }
}

std::string Cell(std::string text) {
  absl::StrReplaceAll({{"\n", " "}}, &text);
  if (text.size() > kMaxCell) {
    size_t cut = kMaxCell - 3;
    // Not inside a UTF-8 character: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

// The rows of the list `list` of `m`, a column per field set in some row.
std::string Rows(const Message& m, const FieldDescriptor* list) {
  const Reflection* r = m.GetReflection();
  const int n = r->FieldSize(m, list);
  std::vector<std::vector<std::pair<std::string, std::string>>> rows(n);
  std::vector<std::string> columns;
  std::vector<SubTable> nested;  // Lists inside a row: too much for a cell (see --output=json).
  for (int i = 0; i < n; ++i) {
    Flatten(r->GetRepeatedMessage(m, list, i), "", 1, rows[i], &nested);
    for (const auto& [column, value] : rows[i]) {
      if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
        columns.push_back(column);
      }
    }
  }
  // Columns in the order fields are declared (first row's order is a good approximation); a
  // screenful at most.
  const bool more = columns.size() > kMaxColumns;
  if (more) columns.resize(kMaxColumns);
  std::vector<std::vector<std::string>> cells(n + 1, std::vector<std::string>(columns.size()));
  std::vector<size_t> width(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    cells[0][c] = absl::AsciiStrToUpper(columns[c]);
    width[c] = cells[0][c].size();
  }
  for (int i = 0; i < n; ++i) {
    for (const auto& [column, value] : rows[i]) {
      const size_t c = std::find(columns.begin(), columns.end(), column) - columns.begin();
      if (c == columns.size()) continue;
      cells[i + 1][c] = Cell(value);
      width[c] = std::max(width[c], cells[i + 1][c].size());
    }
  }
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (size_t c = 0; c < columns.size(); ++c) {
      absl::StrAppend(&line, row[c], std::string(width[c] - row[c].size() + 2, ' '));
    }
    absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(line), "\n");
  }
  if (n == 0) absl::StrAppend(&out, "(none)\n");
  if (more || !nested.empty()) absl::StrAppend(&out, "(more fields with --output=json)\n");
  return out;
}

std::string Table(const Message& m, const FieldDescriptor* list) {
  std::string out = Rows(m, list);
  // The rest of the answer (a page token, a count) below the table; the list is above.
  std::vector<std::pair<std::string, std::string>> rest;
  std::vector<SubTable> shown;
  Flatten(m, "", 0, rest, &shown);
  for (const auto& [path, value] : rest) absl::StrAppend(&out, path, ": ", value, "\n");
  return out;
}

}  // namespace

std::string RenderJson(const Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) return "{}";
  if (pretty && !absl::EndsWith(out, "\n")) out += "\n";
  return out;
}

std::string RenderTextAsIs(const Message& message);

namespace {

// Control characters a terminal would act on (C0 but newline and tab, DEL, C1 such as U+009B,
// which starts an escape sequence) shown as U+FFFD instead: stored text never drives the
// terminal.
std::string Printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    // A calendar file's CRLF line ends stay.
    const bool crlf = c == '\r' && i + 1 < text.size() && text[i + 1] == '\n';
    const bool c0 = (c < 0x20 && c != '\n' && c != '\t' && !crlf) || c == 0x7f;
    const bool c1 = c == 0xC2 && i + 1 < text.size() &&
                    static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if (c0 || c1) {
      out += "\xEF\xBF\xBD";
      if (c1) ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// The one repeated message field of an answer that is a list (others scalar), or null.
const FieldDescriptor* ListOf(const Message& message) {
  const Descriptor* d = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  std::vector<const FieldDescriptor*> set;
  r->ListFields(message, &set);
  const FieldDescriptor* list = nullptr;
  int lists = 0;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated() && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      ++lists;
      list = f;
    }
  }
  for (const FieldDescriptor* f : set) {
    if (f != list && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) return nullptr;
  }
  return lists == 1 ? list : nullptr;
}

// One CSV field (RFC 4180), with a leading = + - @ (or tab or carriage return) made inert by a
// leading apostrophe, so a spreadsheet opening the file never runs a stored value as a formula.
std::string CsvCell(const std::string& value) {
  std::string text = value;
  if (!text.empty() && absl::string_view("=+-@\t\r").find(text[0]) != absl::string_view::npos) {
    text.insert(0, "'");
  }
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

std::string CsvLine(const std::vector<std::string>& cells) {
  std::vector<std::string> out;
  for (const std::string& c : cells) out.push_back(CsvCell(c));
  return absl::StrCat(absl::StrJoin(out, ","), "\r\n");
}

}  // namespace

std::string RenderCsv(const Message& message) {
  std::string out;
  if (const FieldDescriptor* list = ListOf(message)) {
    const Reflection* r = message.GetReflection();
    const int n = r->FieldSize(message, list);
    std::vector<std::vector<std::pair<std::string, std::string>>> rows(n);
    std::vector<std::string> columns;
    for (int i = 0; i < n; ++i) {
      Flatten(r->GetRepeatedMessage(message, list, i), "", 1, rows[i]);
      for (const auto& [column, value] : rows[i]) {
        if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
          columns.push_back(column);
        }
      }
    }
    out = CsvLine(columns);
    for (const auto& row : rows) {
      std::vector<std::string> cells(columns.size());
      for (const auto& [column, value] : row) {
        cells[std::find(columns.begin(), columns.end(), column) - columns.begin()] = value;
      }
      absl::StrAppend(&out, CsvLine(cells));
    }
    return out;
  }
  std::vector<std::pair<std::string, std::string>> lines;
  Flatten(message, "", 0, lines);
  out = CsvLine({"field", "value"});
  for (const auto& [path, value] : lines) absl::StrAppend(&out, CsvLine({path, value}));
  return out;
}

std::string RenderText(const Message& message) { return Printable(RenderTextAsIs(message)); }

// RenderText before Printable.
std::string RenderTextAsIs(const Message& message) {
  const Descriptor* d = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  std::vector<const FieldDescriptor*> set;
  r->ListFields(message, &set);
  // A subject access export is a file for the person: JSON, whatever the output format.
  if (d->full_name() == "ppa.mediation.v1.ExportPersonDataResponse") return RenderJson(message);
  // A calendar export: the iCalendar file itself, nothing else.
  if (set.size() == 1 && set[0]->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
      !set[0]->is_repeated() &&
      set[0]->message_type()->full_name() == "ppa.mediation.v1.CalendarExport") {
    const Message& calendar = r->GetMessage(message, set[0]);
    return calendar.GetReflection()->GetString(calendar,
                                               calendar.GetDescriptor()->FindFieldByName("ics"));
  }
  // One piece of text (an iCalendar export): as it is.
  if (set.size() == 1 && set[0]->cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
      !set[0]->is_repeated() && absl::StrContains(r->GetString(message, set[0]), "\n")) {
    return r->GetString(message, set[0]);
  }
  // A list: the one repeated message field.
  if (const FieldDescriptor* list = ListOf(message)) return Table(message, list);
  std::vector<std::pair<std::string, std::string>> lines;
  std::vector<SubTable> tables;
  Flatten(message, "", 0, lines, &tables);
  std::string out;
  for (const auto& [path, value] : lines) {
    if (absl::StrContains(value, "\n")) {
      absl::StrAppend(&out, path, ":\n", value, absl::EndsWith(value, "\n") ? "" : "\n");
    } else {
      absl::StrAppend(&out, path, ": ", value, "\n");
    }
  }
  for (const SubTable& t : tables) {
    absl::StrAppend(&out, "\n", t.path, ":\n", Rows(*t.parent, t.field));
  }
  if (out.empty()) out = "ok\n";
  return out;
}

}  // namespace mediation::cli
