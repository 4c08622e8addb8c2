// Conversions between storage records and API messages. Validation happens before these run.
#ifndef MEDIATION_SERVICES_CONVERT_H_
#define MEDIATION_SERVICES_CONVERT_H_

#include <google/protobuf/timestamp.pb.h>

#include <initializer_list>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/admin.pb.h"
#include "ppa/mediation/v1/notification.pb.h"
#include "ppa/mediation/v1/organisation.pb.h"
#include "ppa/mediation/v1/referral.pb.h"
#include "storage/records.h"

namespace mediation::storage {
struct OutboxRecord;
}

namespace mediation {

namespace v1 = ::ppa::mediation::v1;

void ToProto(absl::Time t, google::protobuf::Timestamp* out);
absl::Time FromProto(const google::protobuf::Timestamp& t);

// Dates as days since 1970-01-01.
void DayToProto(int32_t day, v1::Date* out);
// nullopt when the date does not exist (e.g. 31 February) or is outside years 1900-2200.
std::optional<int32_t> DayFromProto(const v1::Date& date);
// Minutes after midnight; nullopt unless the time is 00:00 to 23:59.
std::optional<int> MinuteOfDay(const v1::TimeOfDay& time);

void ToProto(const storage::ContactRecord& c, v1::Contact* out);
void ToProto(const storage::TokenRecord& t, v1::AccessToken* out);
void ToProto(const storage::AuditRecord& a, v1::AuditEvent* out);
void ToProto(const storage::OrganisationRecord& o, v1::Organisation* out);
void ToProto(const storage::PartyRecord& p, v1::Party* out);
void ToProto(const storage::CaseRecord& c, v1::Case* out);
// Without the message's text.
void ToProto(const storage::OutboxRecord& m, v1::Notification* out);

// Lists the sealed texts that could not be given back, except the fields in `hidden` (those the
// caller's view leaves out, whose absence must not show either).
void ToProto(const std::vector<storage::WithheldField>& withheld,
             google::protobuf::RepeatedPtrField<v1::WithheldField>* out,
             std::initializer_list<absl::string_view> hidden = {});

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CONVERT_H_
