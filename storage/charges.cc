#include "storage/charges.h"

#include "storage/sql_util.h"

namespace mediation::storage {

absl::StatusOr<FeeScheduleRecord> CurrentFeeSchedule(Tx& tx) {
  return Guard("current fee schedule", [&]() -> absl::StatusOr<FeeScheduleRecord> {
    Statement st(tx,
                 "SELECT version, mediation_day_pence, individual_meeting_pence, "
                 "co_mediation_day_pence, venue_day_pence, travel_per_mediator_day_pence, "
                 "vat_basis_points, created_at, created_by_token_id FROM fee_schedules "
                 "ORDER BY version DESC LIMIT 1");
    if (!st.executeStep()) return absl::InternalError("no fee schedule in the database");
    FeeScheduleRecord f;
    f.version = st.getColumn(0).getInt64();
    f.mediation_day_pence = st.getColumn(1).getInt64();
    f.individual_meeting_pence = st.getColumn(2).getInt64();
    f.co_mediation_day_pence = st.getColumn(3).getInt64();
    f.venue_day_pence = st.getColumn(4).getInt64();
    f.travel_per_mediator_day_pence = st.getColumn(5).getInt64();
    f.vat_basis_points = st.getColumn(6).getInt();
    f.created_at = FromMicros(st.getColumn(7).getInt64());
    f.created_by_token_id = OptionalId(st.getColumn(8));
    return f;
  });
}

absl::StatusOr<FeeScheduleRecord> InsertFeeSchedule(Tx& tx, FeeScheduleRecord schedule) {
  if (absl::Status s = tx.RequireWritable("insert fee schedule"); !s.ok()) return s;
  return Guard("insert fee schedule", [&]() -> absl::StatusOr<FeeScheduleRecord> {
    Statement st(tx,
                 "INSERT INTO fee_schedules (version, mediation_day_pence, "
                 "individual_meeting_pence, co_mediation_day_pence, venue_day_pence, "
                 "travel_per_mediator_day_pence, vat_basis_points, created_at, "
                 "created_by_token_id) SELECT COALESCE(MAX(version), 0) + 1, ?, ?, ?, ?, "
                 "?, ?, ?, ? FROM fee_schedules RETURNING version");
    st.bind(1, static_cast<int64_t>(schedule.mediation_day_pence));
    st.bind(2, static_cast<int64_t>(schedule.individual_meeting_pence));
    st.bind(3, static_cast<int64_t>(schedule.co_mediation_day_pence));
    st.bind(4, static_cast<int64_t>(schedule.venue_day_pence));
    st.bind(5, static_cast<int64_t>(schedule.travel_per_mediator_day_pence));
    st.bind(6, schedule.vat_basis_points);
    st.bind(7, static_cast<int64_t>(ToMicros(schedule.created_at)));
    BindOptionalId(st, 8, schedule.created_by_token_id);
    if (!st.executeStep()) throw StorageError("INSERT ... RETURNING gave no row");
    schedule.version = st.getColumn(0).getInt64();
    return schedule;
  });
}

absl::StatusOr<ChargeIndicationRecord> InsertChargeIndication(Tx& tx,
                                                              ChargeIndicationRecord indication) {
  if (absl::Status s = tx.RequireWritable("insert charge indication"); !s.ok()) return s;
  return Guard("insert charge indication", [&]() -> absl::StatusOr<ChargeIndicationRecord> {
    Statement st(tx,
                 "INSERT INTO charge_indications (case_id, schedule_version, parties, "
                 "days, mode, co_mediation, subtotal_pence, vat_pence, vat_basis_points, "
                 "total_pence, indicated_by_token_id, indicated_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(indication.case_id));
    st.bind(2, static_cast<int64_t>(indication.schedule_version));
    st.bind(3, indication.parties);
    st.bind(4, indication.days);
    st.bind(5, v1::SessionMode_Name(indication.mode));
    st.bind(6, indication.co_mediation ? 1 : 0);
    st.bind(7, static_cast<int64_t>(indication.subtotal_pence));
    st.bind(8, static_cast<int64_t>(indication.vat_pence));
    st.bind(9, indication.vat_basis_points);
    st.bind(10, static_cast<int64_t>(indication.total_pence));
    BindOptionalId(st, 11, indication.indicated_by_token_id);
    st.bind(12, static_cast<int64_t>(ToMicros(indication.indicated_at)));
    st.exec();
    indication.id = tx.LastInsertId();
    Statement item(tx,
                   "INSERT INTO charge_items (indication_id, position, description, "
                   "quantity, unit_pence, amount_pence) VALUES (?, ?, ?, ?, ?, ?)");
    for (size_t i = 0; i < indication.items.size(); ++i) {
      const ChargeItemRecord& it = indication.items[i];
      item.reset();
      item.bind(1, static_cast<int64_t>(indication.id));
      item.bind(2, static_cast<int>(i) + 1);
      item.bind(3, it.description);
      item.bind(4, it.quantity);
      item.bind(5, static_cast<int64_t>(it.unit_pence));
      item.bind(6, static_cast<int64_t>(it.amount_pence));
      item.exec();
    }
    return indication;
  });
}

absl::StatusOr<std::vector<ChargeIndicationRecord>> ListChargeIndications(Tx& tx, int64_t case_id) {
  return Guard(
      "list charge indications", [&]() -> absl::StatusOr<std::vector<ChargeIndicationRecord>> {
        Statement st(tx,
                     "SELECT id, case_id, schedule_version, parties, days, mode, co_mediation, "
                     "subtotal_pence, vat_pence, vat_basis_points, total_pence, "
                     "indicated_by_token_id, indicated_at FROM charge_indications "
                     "WHERE case_id = ? ORDER BY id DESC");
        st.bind(1, static_cast<int64_t>(case_id));
        std::vector<ChargeIndicationRecord> out;
        while (st.executeStep()) {
          ChargeIndicationRecord r;
          r.id = st.getColumn(0).getInt64();
          r.case_id = st.getColumn(1).getInt64();
          r.schedule_version = st.getColumn(2).getInt64();
          r.parties = st.getColumn(3).getInt();
          r.days = st.getColumn(4).getInt();
          r.mode =
              EnumFromText<v1::SessionMode>(st.getColumn(5).getString(), v1::SessionMode_Parse);
          r.co_mediation = st.getColumn(6).getInt() != 0;
          r.subtotal_pence = st.getColumn(7).getInt64();
          r.vat_pence = st.getColumn(8).getInt64();
          r.vat_basis_points = st.getColumn(9).getInt();
          r.total_pence = st.getColumn(10).getInt64();
          r.indicated_by_token_id = OptionalId(st.getColumn(11));
          r.indicated_at = FromMicros(st.getColumn(12).getInt64());
          out.push_back(std::move(r));
        }
        Statement items(tx,
                        "SELECT description, quantity, unit_pence, amount_pence "
                        "FROM charge_items WHERE indication_id = ? "
                        "ORDER BY position");
        for (ChargeIndicationRecord& r : out) {
          items.reset();
          items.bind(1, static_cast<int64_t>(r.id));
          while (items.executeStep()) {
            r.items.push_back({.description = items.getColumn(0).getString(),
                               .quantity = items.getColumn(1).getInt(),
                               .unit_pence = items.getColumn(2).getInt64(),
                               .amount_pence = items.getColumn(3).getInt64()});
          }
        }
        return out;
      });
}

}  // namespace mediation::storage
