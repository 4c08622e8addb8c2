// mediationctl's times: what it prints as a time (tables, `field: value` lines, JSON, the
// server's local_start text) it accepts back, to the second, in every flag of every command
// that takes a time; dates and times of day likewise.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "clients/cli/catalog.h"
#include "clients/cli/render.h"
#include "clients/cli/request_fields.h"
#include "clients/cli/times.h"
#include "nlohmann/json.hpp"

namespace mediation::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

absl::Time Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

// Instants that catch the usual mistakes: winter and summer, seconds, both passes through the
// hour that repeats when the clocks go back (25 October 2026, 01:00-02:00 London), either side
// of the hour that is skipped when they go forward (28 March 2027).
const std::vector<absl::Time>& Instants() {
  static const std::vector<absl::Time> instants = {
      Utc(2026, 12, 10, 9, 30), Utc(2027, 7, 1, 13, 0),        Utc(2026, 12, 10, 9, 30, 15),
      Utc(2026, 10, 25, 0, 30), Utc(2026, 10, 25, 1, 30),      Utc(2027, 3, 28, 0, 59),
      Utc(2027, 3, 28, 1, 0),   Utc(2026, 12, 31, 23, 59, 59),
  };
  return instants;
}

TEST(CliTimesTest, PrintsLondonTimeWithTheZoneItIsIn) {
  EXPECT_EQ(FormatInstant(Utc(2026, 12, 10, 9, 30)), "2026-12-10 09:30 GMT");
  EXPECT_EQ(FormatInstant(Utc(2027, 7, 1, 13, 0)), "2027-07-01 14:00 BST");
  EXPECT_EQ(FormatInstant(Utc(2026, 12, 10, 9, 30, 15)), "2026-12-10 09:30:15 GMT");
  EXPECT_EQ(FormatInstant(Utc(2026, 10, 25, 0, 30)), "2026-10-25 01:30 BST");
  EXPECT_EQ(FormatInstant(Utc(2026, 10, 25, 1, 30)), "2026-10-25 01:30 GMT");
}

TEST(CliTimesTest, ReadsEveryFormItPrintsAndRfc3339) {
  for (const absl::Time t : Instants()) {
    const absl::StatusOr<absl::Time> back = ParseInstant(FormatInstant(t));
    ASSERT_TRUE(back.ok()) << FormatInstant(t) << ": " << back.status();
    EXPECT_EQ(*back, t) << FormatInstant(t);
  }
  const absl::Time winter = Utc(2026, 12, 10, 9, 30);
  const absl::Time summer = Utc(2027, 7, 1, 13, 0);
  const std::vector<std::pair<std::string, absl::Time>> forms = {
      {"2026-12-10 09:30", winter},
      {"2026-12-10T09:30", winter},
      {"2026-12-10T09:30:00", winter},
      {"2026-12-10 09:30 gmt", winter},
      {"2026-12-10 09:30 UTC", winter},
      {"2026-12-10T09:30:00Z", winter},
      {" 2026-12-10 09:30 GMT ", winter},
      {"2027-07-01 14:00", summer},
      {"2027-07-01T14:00:00+01:00", summer},
      {"2027-07-01T13:00:00Z", summer},
      {"2026-12-10T09:30:00.250Z", winter + absl::Milliseconds(250)},
  };
  for (const auto& [text, want] : forms) {
    const absl::StatusOr<absl::Time> got = ParseInstant(text);
    ASSERT_TRUE(got.ok()) << text << ": " << got.status();
    EXPECT_EQ(*got, want) << text;
  }
  // In the repeated hour the zone says which pass is meant.
  EXPECT_EQ(*ParseInstant("2026-10-25 01:30 BST"), Utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(*ParseInstant("2026-10-25 01:30 GMT"), Utc(2026, 10, 25, 1, 30));
}

TEST(CliTimesTest, RefusesWhatIsNotATimeInLondon) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"2026-12-10 09:30 BST", "London is not on BST at that time"},
      {"2027-07-01 14:00 GMT", "London is not on GMT at that time"},
      {"2027-03-28 01:30", "does not exist in London"},
      {"2026-10-25 01:30", "happens twice in London (the clocks go back): add BST or GMT"},
      {"2026-10-25T01:30", "happens twice in London"},
      {"2026-12-10 09:30 CET", "London is not on CET at that time"},
      {"tomorrow at nine", "expected a time as"},
      {"2026-12-10", "expected a time as"},
      {"2026-12-10 25:00", "expected a time as"},
  };
  for (const auto& [text, why] : refused) {
    const absl::StatusOr<absl::Time> got = ParseInstant(text);
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(got.status().message(), why)) << got.status();
  }
}

// The message at `path` (indexes as numbers) inside `m`, adding repeated elements as needed.
const Message* At(const Message& m, const std::string& path) {
  const Message* cur = &m;
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = cur->GetDescriptor()->FindFieldByName(parts[i]);
    if (f == nullptr) return nullptr;
    if (f->is_repeated()) {
      int index = 0;
      if (i + 1 >= parts.size() || !absl::SimpleAtoi(parts[++i], &index)) return nullptr;
      if (cur->GetReflection()->FieldSize(*cur, f) <= index) return nullptr;
      cur = &cur->GetReflection()->GetRepeatedMessage(*cur, f, index);
    } else {
      cur = &cur->GetReflection()->GetMessage(*cur, f);
    }
  }
  return cur;
}

struct Printed {
  std::string text;
  absl::Time means;  // What the text says: `t`, or `t` to the minute for the server's local text.
};

// How the CLI prints `t` in a text answer, as a JSON answer, and as the server's local text.
std::vector<Printed> PrintedForms(Catalog& catalog, absl::Time t) {
  const Descriptor* slot = catalog.pool().FindMessageTypeByName("ppa.mediation.v1.Slot");
  std::unique_ptr<Message> m = catalog.New(slot);
  Message* start = m->GetReflection()->MutableMessage(m.get(), slot->FindFieldByName("start"));
  start->GetReflection()->SetInt64(start, start->GetDescriptor()->FindFieldByName("seconds"),
                                   absl::ToUnixSeconds(t));
  std::vector<Printed> forms;
  for (absl::string_view line : absl::StrSplit(RenderText(*m), '\n')) {
    if (absl::ConsumePrefix(&line, "start: ")) forms.push_back({std::string(line), t});
  }
  EXPECT_EQ(forms.size(), 1u) << RenderText(*m);
  const nlohmann::json json = nlohmann::json::parse(RenderJson(*m));
  forms.push_back({json["start"].get<std::string>(), t});
  // The server's local_start (rules::LondonLocalText): wall-clock minutes, no zone.
  forms.push_back({absl::FormatTime("%Y-%m-%dT%H:%M", t, London()),
                   absl::FromUnixSeconds(absl::ToUnixSeconds(t) / 60 * 60)});
  return forms;
}

TEST(CliTimesTest, EveryTimeFlagOfEveryCommandAcceptsWhatTheCliPrints) {
  Catalog catalog;
  int time_flags = 0, date_flags = 0, day_time_flags = 0;
  for (const Command& c : Catalog::Commands()) {
    const Descriptor* input = catalog.FindMethod(c.method)->input_type();
    for (const FieldFlag& flag : FlagsOf(input)) {
      if (flag.field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      const std::string type = flag.field->message_type()->full_name();
      const std::string path = absl::StrReplaceAll(flag.path, {{".N.", ".0."}});
      const std::string where = absl::StrCat(c.noun, " ", c.verb, " --", path);
      if (type == "google.protobuf.Timestamp") {
        ++time_flags;
        for (const absl::Time t : Instants()) {
          // The server's local text (last) has no zone: in the repeated hour it could be either
          // pass, and is refused rather than guessed (RefusesWhatIsNotATimeInLondon).
          const bool repeated_hour = London().At(t).cs == absl::CivilSecond(2026, 10, 25, 1, 30);
          const std::vector<Printed> forms = PrintedForms(catalog, t);
          for (size_t i = 0; i < forms.size(); ++i) {
            const Printed& printed = forms[i];
            if (repeated_hour && i + 1 == forms.size()) continue;
            std::unique_ptr<Message> request = catalog.New(input);
            const absl::Status set = SetField(request.get(), path, printed.text, true);
            ASSERT_TRUE(set.ok()) << where << " refuses '" << printed.text << "': " << set;
            const Message* ts = At(*request, path);
            ASSERT_NE(ts, nullptr) << where;
            const int64_t seconds =
                ts->GetReflection()->GetInt64(*ts, ts->GetDescriptor()->FindFieldByName("seconds"));
            EXPECT_EQ(absl::FromUnixSeconds(seconds), printed.means)
                << where << " from '" << printed.text << "'";
          }
        }
      } else if (type == "ppa.mediation.v1.Date") {
        ++date_flags;
        std::unique_ptr<Message> request = catalog.New(input);
        EXPECT_TRUE(SetField(request.get(), path, "2027-06-01", true).ok()) << where;
      } else if (type == "ppa.mediation.v1.TimeOfDay") {
        ++day_time_flags;
        std::unique_ptr<Message> request = catalog.New(input);
        EXPECT_TRUE(SetField(request.get(), path, "09:30", true).ok()) << where;
      }
    }
  }
  // The API takes times in many places: the loop above must have met them.
  EXPECT_GE(time_flags, 8);
  EXPECT_GE(date_flags, 4);
  EXPECT_GE(day_time_flags, 2);
}

TEST(CliTimesTest, DatesAndTimesOfDayPrintAsTheirFlagsTakeThem) {
  Catalog catalog;
  const Descriptor* pattern = catalog.pool().FindMessageTypeByName("ppa.mediation.v1.TimeOfDay");
  ASSERT_NE(pattern, nullptr);
  const Descriptor* date = catalog.pool().FindMessageTypeByName("ppa.mediation.v1.Date");
  ASSERT_NE(date, nullptr);
  // A message with a Date and a TimeOfDay to print: find any that holds each.
  for (const Descriptor* type : {pattern, date}) {
    const std::string sample = type == date ? "2027-06-01" : "09:30";
    bool seen = false;
    for (const Command& c : Catalog::Commands()) {
      const Descriptor* input = catalog.FindMethod(c.method)->input_type();
      for (const FieldFlag& flag : FlagsOf(input)) {
        if (flag.field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
            flag.field->message_type() != type || seen) {
          continue;
        }
        const std::string path = absl::StrReplaceAll(flag.path, {{".N.", ".0."}});
        std::unique_ptr<Message> request = catalog.New(input);
        ASSERT_TRUE(SetField(request.get(), path, sample, true).ok()) << path;
        // Printed back, the value reads as it was written.
        EXPECT_TRUE(absl::StrContains(RenderText(*request), sample)) << RenderText(*request);
        seen = true;
      }
    }
    EXPECT_TRUE(seen) << type->full_name();
  }
}

}  // namespace
}  // namespace mediation::cli
