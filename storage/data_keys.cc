#include "storage/data_keys.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/crypto.h"
#include "storage/master_keys.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

// What a wrapped key is bound to. Format 1 is how schema version 6 wrapped a case's notes key;
// format 2 binds the purpose too. A re-wrapped key is always format 2. Format 0 marks a key a
// rotation could not unwrap (damaged): kept as it was, reported, never opened.
std::string Binding(int format, KeyPurpose purpose, int64_t case_id) {
  if (format == 1) return absl::StrCat("case-key:", case_id);
  return absl::StrCat("data-key:", PurposeName(purpose), ":", case_id);
}

std::pair<int, int64_t> CacheKey(KeyPurpose purpose, int64_t case_id) {
  return {static_cast<int>(purpose), case_id};
}

absl::Status NoMasterKeys() {
  return absl::FailedPreconditionError("sealed data needs the master keys, which are not loaded");
}

std::string Blob(const Column& c) { return c.getString(); }

absl::string_view StateName(MasterKeyState state) {
  switch (state) {
    case MasterKeyState::kCurrent:
      return "current";
    case MasterKeyState::kNext:
      return "next";
    case MasterKeyState::kRetired:
      return "retired";
  }
  return "current";
}

}  // namespace

absl::string_view PurposeName(KeyPurpose purpose) {
  switch (purpose) {
    case KeyPurpose::kNotes:
      return "notes";
    case KeyPurpose::kRecord:
      return "record";
    case KeyPurpose::kAudit:
      return "audit";
    case KeyPurpose::kResponses:
      return "responses";
    case KeyPurpose::kRegistry:
      return "registry";
  }
  return "record";
}

absl::StatusOr<DataKey> GetDataKey(Tx& tx, KeyPurpose purpose, int64_t case_id) {
  if (auto cached = tx.unwrapped_keys().find(CacheKey(purpose, case_id));
      cached != tx.unwrapped_keys().end()) {
    return DataKey{.state = DataKey::State::kLive, .key = cached->second};
  }
  struct Row {
    int64_t master_key_id = 0;
    int format = 2;
    std::optional<std::string> wrapped;
    std::optional<absl::Time> destroyed_at;
  };
  absl::StatusOr<std::optional<Row>> row =
      Guard("get data key", [&]() -> absl::StatusOr<std::optional<Row>> {
        Statement st(tx,
                     "SELECT master_key_id, wrap_format, wrapped, destroyed_at FROM data_keys "
                     "WHERE purpose = ? AND case_id = ?");
        st.bind(1, std::string(PurposeName(purpose)));
        st.bind(2, static_cast<int64_t>(case_id));
        if (!st.executeStep()) return std::optional<Row>();
        Row r;
        r.master_key_id = OptionalId(st.getColumn(0));
        r.format = st.getColumn(1).getInt();
        if (!st.getColumn(2).isNull()) r.wrapped = Blob(st.getColumn(2));
        r.destroyed_at = OptionalTime(st.getColumn(3));
        return std::optional<Row>(std::move(r));
      });
  if (!row.ok()) return row.status();
  if (!row->has_value()) return DataKey{};
  if (!(*row)->wrapped.has_value()) {
    return DataKey{.state = DataKey::State::kDestroyed, .destroyed_at = (*row)->destroyed_at};
  }
  if ((*row)->format == 0) {
    return absl::DataLossError(absl::StrCat("the ", PurposeName(purpose), " key",
                                            case_id == 0 ? "" : absl::StrCat(" of case ", case_id),
                                            " was found damaged by a master key rotation"));
  }
  if (tx.master_keys() == nullptr) return NoMasterKeys();
  absl::StatusOr<std::string> key = tx.master_keys()->Unwrap(
      (*row)->master_key_id, Binding((*row)->format, purpose, case_id), *(*row)->wrapped);
  if (absl::IsDataLoss(key.status())) {
    return absl::DataLossError(absl::StrCat("the ", PurposeName(purpose), " key",
                                            case_id == 0 ? "" : absl::StrCat(" of case ", case_id),
                                            " does not unwrap with its master key"));
  }
  if (!key.ok()) return key.status();
  tx.unwrapped_keys()[CacheKey(purpose, case_id)] = *key;
  return DataKey{.state = DataKey::State::kLive, .key = *std::move(key)};
}

absl::StatusOr<std::string> GetOrCreateDataKey(Tx& tx, KeyPurpose purpose, int64_t case_id,
                                               absl::Time now) {
  absl::StatusOr<DataKey> existing = GetDataKey(tx, purpose, case_id);
  if (!existing.ok()) return existing.status();
  switch (existing->state) {
    case DataKey::State::kLive:
      return std::move(existing->key);
    case DataKey::State::kDestroyed:
      return absl::FailedPreconditionError(
          absl::StrCat("the ", PurposeName(purpose), " key of case ", case_id,
                       " was destroyed at the end of its retention period"));
    case DataKey::State::kAbsent:
      break;
  }
  std::string key = NewKey();
  if (absl::Status s = InsertDataKey(tx, purpose, case_id, key, now); !s.ok()) return s;
  return key;
}

absl::Status InsertDataKey(Tx& tx, KeyPurpose purpose, int64_t case_id, absl::string_view key,
                           absl::Time now) {
  if (absl::Status s = tx.RequireWritable("insert data key"); !s.ok()) return s;
  if (tx.master_keys() == nullptr) return NoMasterKeys();
  absl::StatusOr<MasterKeys::Wrapped> wrapped =
      tx.master_keys()->Wrap(Binding(2, purpose, case_id), key);
  if (!wrapped.ok()) return wrapped.status();
  absl::Status inserted = Guard("insert data key", [&]() -> absl::Status {
    Statement st(tx,
                 "INSERT INTO data_keys (purpose, case_id, master_key_id, wrap_format, wrapped, "
                 "created_at) VALUES (?, ?, ?, 2, ?, ?)");
    st.bind(1, std::string(PurposeName(purpose)));
    st.bind(2, static_cast<int64_t>(case_id));
    st.bind(3, static_cast<int64_t>(wrapped->master_key_id));
    st.bind(4, wrapped->wrapped.data(), static_cast<int>(wrapped->wrapped.size()));
    st.bind(5, static_cast<int64_t>(ToMicros(now)));
    st.exec();
    return absl::OkStatus();
  });
  if (absl::IsAborted(inserted)) {
    return absl::AlreadyExistsError(
        absl::StrCat("there is already a ", PurposeName(purpose), " key for case ", case_id));
  }
  if (inserted.ok()) tx.unwrapped_keys()[CacheKey(purpose, case_id)] = std::string(key);
  return inserted;
}

absl::StatusOr<bool> DestroyDataKey(Tx& tx, KeyPurpose purpose, int64_t case_id, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("destroy data key"); !s.ok()) return s;
  if (auto cached = tx.unwrapped_keys().find(CacheKey(purpose, case_id));
      cached != tx.unwrapped_keys().end()) {
    Wipe(cached->second);
    tx.unwrapped_keys().erase(cached);
  }
  return Guard("destroy data key", [&]() -> absl::StatusOr<bool> {
    // A key never made is recorded as destroyed too, so none can be made afterwards.
    Statement st(tx,
                 "INSERT INTO data_keys (purpose, case_id, master_key_id, wrap_format, wrapped, "
                 "created_at, destroyed_at) VALUES (?, ?, NULL, 2, NULL, ?, ?) "
                 "ON CONFLICT (purpose, case_id) DO UPDATE SET wrapped = NULL, "
                 "destroyed_at = excluded.destroyed_at WHERE data_keys.wrapped IS NOT NULL");
    st.bind(1, std::string(PurposeName(purpose)));
    st.bind(2, static_cast<int64_t>(case_id));
    st.bind(3, static_cast<int64_t>(ToMicros(at)));
    st.bind(4, static_cast<int64_t>(ToMicros(at)));
    return st.exec() > 0;
  });
}

absl::Status ForgetDestroyedDataKey(Tx& tx, KeyPurpose purpose, int64_t case_id) {
  if (absl::Status s = tx.RequireWritable("forget destroyed data key"); !s.ok()) return s;
  return Guard("forget destroyed data key", [&]() -> absl::Status {
    Statement st(tx, "DELETE FROM data_keys WHERE purpose = ? AND case_id = ? AND wrapped IS NULL");
    st.bind(1, std::string(PurposeName(purpose)));
    st.bind(2, static_cast<int64_t>(case_id));
    st.exec();
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> CountDataKeysUnder(Tx& tx, int64_t master_key_id) {
  return Guard("count data keys", [&]() -> absl::StatusOr<int64_t> {
    Statement st(tx,
                 "SELECT COUNT(*) FROM data_keys WHERE master_key_id = ? AND wrapped IS NOT NULL");
    st.bind(1, static_cast<int64_t>(master_key_id));
    st.executeStep();
    return st.getColumn(0).getInt64();
  });
}

absl::StatusOr<int64_t> CountLiveDataKeys(Tx& tx) {
  return Guard("count data keys", [&]() -> absl::StatusOr<int64_t> {
    Statement st(tx, "SELECT COUNT(*) FROM data_keys WHERE wrapped IS NOT NULL");
    st.executeStep();
    return st.getColumn(0).getInt64();
  });
}

absl::StatusOr<Rewrapped> RewrapDataKeys(Tx& tx, int64_t from_master_key_id, int limit) {
  if (absl::Status s = tx.RequireWritable("re-wrap data keys"); !s.ok()) return s;
  if (tx.master_keys() == nullptr) return NoMasterKeys();
  struct Row {
    int64_t id;
    KeyPurpose purpose;
    int64_t case_id;
    int format;
    std::string wrapped;
  };
  absl::StatusOr<std::vector<Row>> rows =
      Guard("list data keys to re-wrap", [&]() -> absl::StatusOr<std::vector<Row>> {
        Statement st(tx,
                     "SELECT id, purpose, case_id, wrap_format, wrapped FROM data_keys "
                     "WHERE master_key_id = ? AND wrapped IS NOT NULL ORDER BY id LIMIT ?");
        st.bind(1, static_cast<int64_t>(from_master_key_id));
        st.bind(2, limit);
        std::vector<Row> out;
        while (st.executeStep()) {
          const std::string purpose = st.getColumn(1).getString();
          Row r{.id = st.getColumn(0).getInt64(),
                .purpose = purpose == "notes"       ? KeyPurpose::kNotes
                           : purpose == "audit"     ? KeyPurpose::kAudit
                           : purpose == "responses" ? KeyPurpose::kResponses
                           : purpose == "registry"  ? KeyPurpose::kRegistry
                                                    : KeyPurpose::kRecord,
                .case_id = st.getColumn(2).getInt64(),
                .format = st.getColumn(3).getInt(),
                .wrapped = Blob(st.getColumn(4))};
          out.push_back(std::move(r));
        }
        return out;
      });
  if (!rows.ok()) return rows.status();
  Rewrapped done;
  for (Row& r : *rows) {
    absl::StatusOr<std::string> key = tx.master_keys()->Unwrap(
        from_master_key_id, Binding(r.format, r.purpose, r.case_id), r.wrapped);
    if (absl::IsDataLoss(key.status())) {
      // Unusable already (altered in the database): marked damaged and moved past, so one bad
      // row does not hold the rotation up for ever. It reads as DATA_LOSS, as it did.
      absl::Status marked = Guard("mark data key damaged", [&]() -> absl::Status {
        Statement st(tx, "UPDATE data_keys SET master_key_id = ?, wrap_format = 0 WHERE id = ?");
        st.bind(1, static_cast<int64_t>(tx.master_keys()->wrapping()));
        st.bind(2, static_cast<int64_t>(r.id));
        st.exec();
        return absl::OkStatus();
      });
      if (!marked.ok()) return marked;
      ++done.damaged;
      continue;
    }
    if (!key.ok()) return key.status();
    absl::StatusOr<MasterKeys::Wrapped> wrapped =
        tx.master_keys()->Wrap(Binding(2, r.purpose, r.case_id), *key);
    Wipe(*key);
    if (!wrapped.ok()) return wrapped.status();
    absl::Status updated = Guard("re-wrap data key", [&]() -> absl::Status {
      Statement st(tx,
                   "UPDATE data_keys SET master_key_id = ?, wrap_format = 2, wrapped = ? "
                   "WHERE id = ?");
      st.bind(1, static_cast<int64_t>(wrapped->master_key_id));
      st.bind(2, wrapped->wrapped.data(), static_cast<int>(wrapped->wrapped.size()));
      st.bind(3, static_cast<int64_t>(r.id));
      st.exec();
      return absl::OkStatus();
    });
    if (!updated.ok()) return updated;
    ++done.rewrapped;
  }
  return done;
}

absl::StatusOr<std::vector<MasterKeyRecord>> ListMasterKeys(Tx& tx) {
  return Guard("list master keys", [&]() -> absl::StatusOr<std::vector<MasterKeyRecord>> {
    Statement st(tx,
                 "SELECT id, check_value, state, created_at, retired_at FROM master_keys "
                 "ORDER BY id");
    std::vector<MasterKeyRecord> out;
    while (st.executeStep()) {
      const std::string state = st.getColumn(2).getString();
      out.push_back({.id = st.getColumn(0).getInt64(),
                     .check = Blob(st.getColumn(1)),
                     .state = state == "next"      ? MasterKeyState::kNext
                              : state == "retired" ? MasterKeyState::kRetired
                                                   : MasterKeyState::kCurrent,
                     .created_at = FromMicros(st.getColumn(3).getInt64()),
                     .retired_at = OptionalTime(st.getColumn(4))});
    }
    return out;
  });
}

absl::StatusOr<int64_t> InsertMasterKey(Tx& tx, absl::string_view check, MasterKeyState state,
                                        absl::Time at) {
  if (absl::Status s = tx.RequireWritable("insert master key"); !s.ok()) return s;
  return Guard("insert master key", [&]() -> absl::StatusOr<int64_t> {
    Statement st(tx, "INSERT INTO master_keys (check_value, state, created_at) VALUES (?, ?, ?)");
    st.bind(1, check.data(), static_cast<int>(check.size()));
    st.bind(2, std::string(StateName(state)));
    st.bind(3, static_cast<int64_t>(ToMicros(at)));
    st.exec();
    return tx.LastInsertId();
  });
}

absl::Status CompleteMasterKeyRotation(Tx& tx, int64_t from, int64_t to, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("complete key rotation"); !s.ok()) return s;
  return Guard("complete key rotation", [&]() -> absl::Status {
    Statement retire(tx,
                     "UPDATE master_keys SET state = 'retired', retired_at = ? WHERE id = ? "
                     "AND state = 'current'");
    retire.bind(1, static_cast<int64_t>(ToMicros(at)));
    retire.bind(2, static_cast<int64_t>(from));
    Statement promote(tx,
                      "UPDATE master_keys SET state = 'current' WHERE id = ? AND state = 'next'");
    promote.bind(1, static_cast<int64_t>(to));
    if (retire.exec() != 1 || promote.exec() != 1) {
      return absl::AbortedError(
          absl::StrCat("master key rotation from ", from, " to ", to, " is not in progress"));
    }
    return absl::OkStatus();
  });
}

namespace {

constexpr char kRotationColumns[] =
    "id, from_master_key_id, to_master_key_id, started_at, started_by_token_id, keys_total, "
    "keys_rewrapped, completed_at, keys_damaged";

KeyRotationRecord ReadRotation(Statement& st) {
  return {.id = st.getColumn(0).getInt64(),
          .from_master_key_id = st.getColumn(1).getInt64(),
          .to_master_key_id = st.getColumn(2).getInt64(),
          .started_at = FromMicros(st.getColumn(3).getInt64()),
          .started_by_token_id = OptionalId(st.getColumn(4)),
          .keys_total = st.getColumn(5).getInt64(),
          .keys_rewrapped = st.getColumn(6).getInt64(),
          .keys_damaged = st.getColumn(8).getInt64(),
          .completed_at = OptionalTime(st.getColumn(7))};
}

}  // namespace

absl::StatusOr<KeyRotationRecord> BeginKeyRotation(Tx& tx, absl::string_view key, int64_t token_id,
                                                   absl::Time at) {
  if (absl::Status s = tx.RequireWritable("begin key rotation"); !s.ok()) return s;
  absl::StatusOr<std::vector<MasterKeyRecord>> keys = ListMasterKeys(tx);
  if (!keys.ok()) return keys.status();
  int64_t current = 0;
  for (const MasterKeyRecord& k : *keys) {
    if (k.state == MasterKeyState::kNext) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a rotation to master key ", k.id, " is under way; GetKeyRotation shows its progress"));
    }
    if (k.state == MasterKeyState::kCurrent) current = k.id;
    if (MasterKeys::Check(key, k.check)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "new_key_file: that key is master key ", k.id,
          k.state == MasterKeyState::kRetired ? ", retired by an earlier rotation" : ", in use",
          "; give a key never used before"));
    }
  }
  if (current == 0) return absl::FailedPreconditionError("the database has no current master key");
  absl::StatusOr<int64_t> next =
      InsertMasterKey(tx, MasterKeys::MakeCheck(key), MasterKeyState::kNext, at);
  if (!next.ok()) return next.status();
  absl::StatusOr<int64_t> total = CountDataKeysUnder(tx, current);
  if (!total.ok()) return total.status();
  return Guard("begin key rotation", [&]() -> absl::StatusOr<KeyRotationRecord> {
    Statement st(tx,
                 "INSERT INTO key_rotations (from_master_key_id, to_master_key_id, started_at, "
                 "started_by_token_id, keys_total) VALUES (?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(current));
    st.bind(2, static_cast<int64_t>(*next));
    st.bind(3, static_cast<int64_t>(ToMicros(at)));
    BindOptionalId(st, 4, token_id);
    st.bind(5, static_cast<int64_t>(*total));
    st.exec();
    return KeyRotationRecord{.id = tx.LastInsertId(),
                             .from_master_key_id = current,
                             .to_master_key_id = *next,
                             .started_at = at,
                             .started_by_token_id = token_id,
                             .keys_total = *total};
  });
}

absl::StatusOr<int> ContinueKeyRotation(Tx& tx, const KeyRotationRecord& rotation, int limit) {
  absl::StatusOr<Rewrapped> n = RewrapDataKeys(tx, rotation.from_master_key_id, limit);
  if (!n.ok()) return n.status();
  const int moved = n->rewrapped + n->damaged;
  if (moved == 0) return 0;
  absl::StatusOr<int64_t> left = CountDataKeysUnder(tx, rotation.from_master_key_id);
  if (!left.ok()) return left.status();
  absl::Status counted = Guard("count re-wrapped keys", [&]() -> absl::Status {
    // The total grows if keys were made under the old key while the rotation was starting.
    Statement st(tx,
                 "UPDATE key_rotations SET keys_rewrapped = keys_rewrapped + ?1, keys_damaged = "
                 "keys_damaged + ?2, keys_total = keys_rewrapped + ?1 + keys_damaged + ?2 + ?3 "
                 "WHERE id = ?4");
    st.bind(1, n->rewrapped);
    st.bind(2, n->damaged);
    st.bind(3, static_cast<int64_t>(*left));
    st.bind(4, static_cast<int64_t>(rotation.id));
    st.exec();
    return absl::OkStatus();
  });
  if (!counted.ok()) return counted;
  return moved;
}

absl::StatusOr<bool> FinishKeyRotation(Tx& tx, const KeyRotationRecord& rotation, absl::Time at) {
  absl::StatusOr<int64_t> left = CountDataKeysUnder(tx, rotation.from_master_key_id);
  if (!left.ok()) return left.status();
  if (*left > 0) return false;
  if (absl::Status s =
          CompleteMasterKeyRotation(tx, rotation.from_master_key_id, rotation.to_master_key_id, at);
      !s.ok()) {
    return s;
  }
  absl::Status done = Guard("finish key rotation", [&]() -> absl::Status {
    Statement st(tx, "UPDATE key_rotations SET completed_at = ? WHERE id = ?");
    st.bind(1, static_cast<int64_t>(ToMicros(at)));
    st.bind(2, static_cast<int64_t>(rotation.id));
    st.exec();
    return absl::OkStatus();
  });
  if (!done.ok()) return done;
  return true;
}

absl::StatusOr<std::optional<KeyRotationRecord>> LatestKeyRotation(Tx& tx) {
  return Guard("latest key rotation", [&]() -> absl::StatusOr<std::optional<KeyRotationRecord>> {
    Statement st(tx, absl::StrCat("SELECT ", kRotationColumns,
                                  " FROM key_rotations ORDER BY id DESC LIMIT 1"));
    if (!st.executeStep()) return std::optional<KeyRotationRecord>();
    return std::optional<KeyRotationRecord>(ReadRotation(st));
  });
}

absl::StatusOr<bool> HoldsDataUnderMasterKey(Tx& tx) {
  return Guard("look for data under the master key", [&]() -> absl::StatusOr<bool> {
    return SelectInt64(tx,
                       "SELECT CASE WHEN EXISTS (SELECT 1 FROM data_keys WHERE wrapped IS NOT "
                       "NULL) OR EXISTS (SELECT 1 FROM idempotent_calls) OR EXISTS (SELECT 1 "
                       "FROM audit_events WHERE hash IS NOT NULL) THEN 1 ELSE 0 END") != 0;
  });
}

}  // namespace mediation::storage
