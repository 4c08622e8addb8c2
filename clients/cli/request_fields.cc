#include "clients/cli/request_fields.h"

#include <google/protobuf/util/json_util.h>

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "clients/cli/times.h"

namespace mediation::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr int kMaxDepth = 4;

bool IsType(const Descriptor* d, absl::string_view name) { return d->full_name() == name; }
bool IsDate(const Descriptor* d) { return IsType(d, "ppa.mediation.v1.Date"); }
bool IsTimeOfDay(const Descriptor* d) { return IsType(d, "ppa.mediation.v1.TimeOfDay"); }
bool IsTimestamp(const Descriptor* d) { return IsType(d, "google.protobuf.Timestamp"); }
bool IsLeafMessage(const Descriptor* d) { return IsDate(d) || IsTimeOfDay(d) || IsTimestamp(d); }

std::string Normalise(absl::string_view path) {
  return absl::StrReplaceAll(absl::AsciiStrToLower(path), {{"-", "_"}});
}

std::string TypeText(const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return "integer";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      return "number";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "true|false";
    case FieldDescriptor::CPPTYPE_STRING:
      return "text";
    case FieldDescriptor::CPPTYPE_ENUM: {
      // The short names a flag takes, as written in help: case-support for ROLE_CASE_SUPPORT.
      std::vector<std::string> values;
      const auto* e = f->enum_type();
      for (int i = 0; i < e->value_count(); ++i) {
        if (e->value(i)->number() == 0) continue;
        values.push_back(
            absl::AsciiStrToLower(absl::StrReplaceAll(EnumShortName(e->value(i)), {{"_", "-"}})));
      }
      return absl::StrCat("one of: ", absl::StrJoin(values, ", "));
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (IsDate(f->message_type())) return std::string(kDateHelp);
      if (IsTimeOfDay(f->message_type())) return std::string(kTimeOfDayHelp);
      if (IsTimestamp(f->message_type())) return std::string(kInstantHelp);
      return "JSON object";
  }
  return "value";
}

void Collect(const Descriptor* type, const std::string& prefix, int depth,
             std::vector<FieldFlag>& out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    const std::string path = prefix + f->name();
    const bool nested = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
                        !IsLeafMessage(f->message_type()) && depth < kMaxDepth;
    if (nested) {
      Collect(f->message_type(), path + (f->is_repeated() ? ".N." : "."), depth + 1, out);
    } else {
      std::string text = TypeText(f);
      if (f->is_repeated()) text += " (repeatable)";
      out.push_back({path, f, text});
    }
  }
}

std::vector<std::string> Segments(const std::string& path) {
  return absl::StrSplit(path, '.', absl::SkipEmpty());
}

bool IsIndex(absl::string_view s) {
  int unused = 0;
  return absl::SimpleAtoi(s, &unused) && unused >= 0;
}

// The full path for what the user wrote: itself if it starts at the request, else the one flag
// path it is the tail of.
absl::StatusOr<std::vector<std::string>> Resolve(const Descriptor* type,
                                                 const std::string& written) {
  const std::vector<std::string> user = Segments(Normalise(written));
  if (user.empty()) return absl::InvalidArgumentError("an empty flag name");
  if (type->FindFieldByName(user[0]) != nullptr) return user;
  std::vector<std::vector<std::string>> matches;
  std::vector<std::string> names;
  for (const FieldFlag& flag : FlagsOf(type)) {
    const std::vector<std::string> full = Segments(flag.path);
    if (full.size() <= user.size()) continue;
    const size_t offset = full.size() - user.size();
    bool match = true;
    for (size_t i = 0; i < user.size() && match; ++i) {
      match = full[offset + i] == "N" ? IsIndex(user[i]) : full[offset + i] == user[i];
    }
    // Leading parts may hold indexes the user did not give: not a unique tail.
    for (size_t i = 0; i < offset && match; ++i) match = full[i] != "N";
    if (!match) continue;
    std::vector<std::string> resolved(full.begin(), full.begin() + offset);
    resolved.insert(resolved.end(), user.begin(), user.end());
    matches.push_back(resolved);
    names.push_back(absl::StrReplaceAll(flag.path, {{"_", "-"}}));
  }
  // The shallowest field wins: --name is organisation.name, not organisation.contact.name.
  size_t shallowest = 0;
  int at_depth = 0;
  for (size_t i = 0; i < matches.size(); ++i) {
    if (matches[i].size() < matches[shallowest].size()) {
      shallowest = i;
      at_depth = 0;
    }
    if (matches[i].size() == matches[shallowest].size()) ++at_depth;
  }
  if (at_depth == 1) return matches[shallowest];
  if (matches.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", written, ": no such field; --help lists the flags"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", written, ": ambiguous; use one of --", absl::StrJoin(names, ", --")));
}

std::optional<int> EnumValue(const google::protobuf::EnumDescriptor* e, const std::string& raw) {
  int number = 0;
  if (absl::SimpleAtoi(raw, &number) && e->FindValueByNumber(number) != nullptr) return number;
  const std::string want = absl::AsciiStrToUpper(absl::StrReplaceAll(raw, {{"-", "_"}}));
  // The full name, or the short name shown in help; a mere tail of a name (`agreement` for
  // FULL_AGREEMENT and PARTIAL_AGREEMENT) is not enough.
  for (int i = 0; i < e->value_count(); ++i) {
    const auto* v = e->value(i);
    if (v->name() == want || EnumShortName(v) == want) return v->number();
  }
  return std::nullopt;
}

absl::Status SetMessageValue(Message* m, const std::string& flag, const std::string& value) {
  const Descriptor* d = m->GetDescriptor();
  const Reflection* r = m->GetReflection();
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", what, ", not '", value, "'"));
  };
  auto refused = [&](const absl::Status& status) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": ", status.message(), ", not '", value, "'"));
  };
  if (IsDate(d)) {
    const absl::StatusOr<absl::CivilDay> day = ParseDate(value);
    if (!day.ok()) return refused(day.status());
    r->SetInt32(m, d->FindFieldByName("year"), static_cast<int32_t>(day->year()));
    r->SetInt32(m, d->FindFieldByName("month"), day->month());
    r->SetInt32(m, d->FindFieldByName("day"), day->day());
    return absl::OkStatus();
  }
  if (IsTimeOfDay(d)) {
    const absl::StatusOr<std::pair<int, int>> time = ParseTimeOfDay(value);
    if (!time.ok()) return refused(time.status());
    r->SetInt32(m, d->FindFieldByName("hours"), time->first);
    r->SetInt32(m, d->FindFieldByName("minutes"), time->second);
    return absl::OkStatus();
  }
  if (IsTimestamp(d)) {
    const absl::StatusOr<absl::Time> t = ParseInstant(value);
    if (!t.ok())
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", t.status().message()));
    const absl::Duration since_epoch = *t - absl::UnixEpoch();
    const int64_t seconds = absl::ToInt64Seconds(absl::Floor(since_epoch, absl::Seconds(1)));
    r->SetInt64(m, d->FindFieldByName("seconds"), seconds);
    r->SetInt32(
        m, d->FindFieldByName("nanos"),
        static_cast<int32_t>(absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(seconds))));
    return absl::OkStatus();
  }
  google::protobuf::util::JsonParseOptions options;
  const auto parsed = google::protobuf::util::JsonStringToMessage(value, m, options);
  if (!parsed.ok()) {
    return bad(
        absl::StrCat("expected a JSON ", d->name(), " (", parsed.message().as_string(), ")"));
  }
  return absl::OkStatus();
}

absl::Status SetScalar(Message* m, const FieldDescriptor* f, const std::string& flag,
                       const std::string& value) {
  const Reflection* r = m->GetReflection();
  const bool rep = f->is_repeated();
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", what, ", not '", value, "'"));
  };
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v = 0;
      if (!absl::SimpleAtoi(value, &v)) return bad("expected a whole number");
      rep ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v = 0;
      if (!absl::SimpleAtoi(value, &v)) return bad("expected a whole number");
      rep ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v = 0;
      if (!absl::SimpleAtoi(value, &v)) return bad("expected a whole number");
      rep ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v = 0;
      if (!absl::SimpleAtoi(value, &v)) return bad("expected a whole number");
      rep ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v = 0;
      if (!absl::SimpleAtod(value, &v)) return bad("expected a number");
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        rep ? r->AddFloat(m, f, static_cast<float>(v)) : r->SetFloat(m, f, static_cast<float>(v));
      } else {
        rep ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v = false;
      if (!absl::SimpleAtob(value, &v)) return bad("expected true or false");
      rep ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_STRING:
      rep ? r->AddString(m, f, value) : r->SetString(m, f, value);
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_ENUM: {
      std::optional<int> v = EnumValue(f->enum_type(), value);
      if (!v) return bad(TypeText(f));
      rep ? r->AddEnumValue(m, f, *v) : r->SetEnumValue(m, f, *v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return SetMessageValue(rep ? r->AddMessage(m, f) : r->MutableMessage(m, f), flag, value);
  }
  return bad("unsupported field type");
}

}  // namespace

std::string EnumShortName(const google::protobuf::EnumValueDescriptor* v) {
  const google::protobuf::EnumDescriptor* e = v->type();
  std::string common = e->value(0)->name();
  common = common.substr(0, common.rfind('_') + 1);
  for (int i = 0; i < e->value_count(); ++i) {
    while (!common.empty() && !absl::StartsWith(e->value(i)->name(), common)) {
      common = common.substr(0, common.substr(0, common.size() - 1).rfind('_') + 1);
    }
  }
  return v->name().substr(common.size());
}

std::vector<FieldFlag> FlagsOf(const Descriptor* type) {
  std::vector<FieldFlag> out;
  Collect(type, "", 0, out);
  return out;
}

bool IsBoolField(const Descriptor* type, const std::string& path) {
  absl::StatusOr<std::vector<std::string>> resolved = Resolve(type, path);
  if (!resolved.ok()) return false;
  const Descriptor* d = type;
  const FieldDescriptor* f = nullptr;
  for (const std::string& s : *resolved) {
    if (IsIndex(s)) continue;
    if (d == nullptr) return false;
    f = d->FindFieldByName(s);
    if (f == nullptr) return false;
    d = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ? f->message_type() : nullptr;
  }
  return f != nullptr && f->cpp_type() == FieldDescriptor::CPPTYPE_BOOL && !f->is_repeated();
}

absl::Status SetField(Message* message, const std::string& path, const std::string& value,
                      bool value_given, char list_separator) {
  absl::StatusOr<std::vector<std::string>> resolved = Resolve(message->GetDescriptor(), path);
  if (!resolved.ok()) return resolved.status();
  const std::vector<std::string>& segments = *resolved;
  Message* m = message;
  for (size_t i = 0; i < segments.size(); ++i) {
    const FieldDescriptor* f = m->GetDescriptor()->FindFieldByName(segments[i]);
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("--", path, ": ", m->GetDescriptor()->name(),
                                                     " has no field ", segments[i]));
    }
    const Reflection* r = m->GetReflection();
    const bool last = i + 1 == segments.size();
    if (!last && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!f->is_repeated()) {
        m = r->MutableMessage(m, f);
        continue;
      }
      int index = 0;
      if (!absl::SimpleAtoi(segments[i + 1], &index) || index < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", path, ": ", f->name(), " is a list; give an index, e.g. ", f->name(), ".0"));
      }
      const int size = r->FieldSize(*m, f);
      if (index > size) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", path, ": fill ", f->name(), ".", size, " first"));
      }
      m = index == size ? r->AddMessage(m, f) : r->MutableRepeatedMessage(m, f, index);
      ++i;
      if (i + 1 == segments.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", path, ": name a field of ", f->message_type()->name()));
      }
      continue;
    }
    if (!last) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", path, ": ", f->name(), " has no fields"));
    }
    if (!value_given) {
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
        return SetScalar(m, f, path, "true");
      }
      return absl::InvalidArgumentError(absl::StrCat("--", path, ": needs a value"));
    }
    if (f->is_repeated()) {
      const char separator = list_separator != 0 ? list_separator
                             : (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING ||
                                f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE)
                                 ? '\0'
                                 : ',';
      if (separator != '\0') {
        for (absl::string_view part : absl::StrSplit(value, separator, absl::SkipWhitespace())) {
          absl::Status s = SetScalar(m, f, path, std::string(absl::StripAsciiWhitespace(part)));
          if (!s.ok()) return s;
        }
        return absl::OkStatus();
      }
    }
    return SetScalar(m, f, path, value);
  }
  return absl::InvalidArgumentError(absl::StrCat("--", path, ": nothing to set"));
}

}  // namespace mediation::cli
