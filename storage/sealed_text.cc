#include "storage/sealed_text.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/crypto.h"
#include "storage/data_keys.h"
#include "storage/sealed_text_internal.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

std::string Binding(const FieldRef& where) {
  return absl::StrCat("field-v1|", where.table, "|", where.column, "|", where.case_id, "|",
                      where.row);
}

// A sealed column, and how to find the case of each of its rows.
struct SealedColumnSpec {
  absl::string_view table;
  absl::string_view column;
  absl::string_view case_id;  // SQL over `t` (the table) and its join.
  absl::string_view join;     // Joined to `t` to find the case, or "".
  absl::string_view flag;     // For a BLOB column: the column that says it is sealed.
  KeyPurpose purpose = KeyPurpose::kRecord;
};

const std::vector<SealedColumnSpec>& Columns() {
  static const std::vector<SealedColumnSpec>* const columns = new std::vector<SealedColumnSpec>{
      {"cases", "summary", "t.id", "", ""},
      {"cases", "hold_reason", "t.id", "", ""},
      {"cases", "withdrawal_reason", "t.id", "", ""},
      {"cases", "review_notes", "t.id", "", ""},
      {"parties", "accessibility_needs", "t.case_id", "", ""},
      {"parties", "access_needs", "t.case_id", "", ""},
      {"parties", "typical_availability", "t.case_id", "", ""},
      {"referral_revisions", "reason", "t.case_id", "", ""},
      {"referral_revisions", "changed_fields", "t.case_id", "", ""},
      {"referral_revisions", "previous", "t.case_id", "", "previous_sealed"},
      {"case_state_history", "reason", "t.case_id", "", ""},
      {"screening_answers", "note", "t.case_id", "", ""},
      {"screening_decisions", "justification", "t.case_id", "", ""},
      {"allocations", "response_note", "t.case_id", "", ""},
      {"session_changes", "reason", "s.case_id", "JOIN sessions s ON s.id = t.session_id", ""},
      {"agreement_versions", "content", "t.case_id", "", "content_sealed"},
      {"outbox", "message", "t.case_id", "", ""},
      {"mediator_leave", "note", "0", "", "", KeyPurpose::kRegistry},
      {"mediator_conflicts", "note", "0", "", "", KeyPurpose::kRegistry},
  };
  return *columns;
}

// Seals the plain values of one column, up to `limit`; returns how many.
absl::StatusOr<int> SealColumn(Tx& tx, const SealedColumnSpec& c, int limit, absl::Time now) {
  struct Row {
    int64_t id;
    int64_t case_id;
    std::string text;
  };
  // PostgreSQL's sealed columns are BYTEA: text written behind the server's back cannot be told
  // from a damaged ciphertext there, and reads as withheld (OpenStored).
  if (c.flag.empty() && tx.engine() != Engine::kSqlite) return 0;
  absl::StatusOr<std::vector<Row>> rows =
      Guard("find plain text", [&]() -> absl::StatusOr<std::vector<Row>> {
        const std::string plain =
            c.flag.empty()
                ? absl::StrCat("typeof(t.", c.column, ") = 'text' AND t.", c.column, " <> ''")
                : absl::StrCat("t.", c.flag, " = 0");
        Statement st(
            tx, absl::StrCat("SELECT t.id, ", c.case_id, ", t.", c.column, " FROM ", c.table, " t ",
                             c.join, " WHERE ", plain, " ORDER BY t.id LIMIT ?"));
        st.bind(1, limit);
        std::vector<Row> out;
        while (st.executeStep()) {
          const Column value = st.getColumn(2);
          out.push_back(
              {st.getColumn(0).getInt64(), st.getColumn(1).getInt64(), value.getString()});
        }
        return out;
      });
  if (!rows.ok()) return rows.status();
  for (Row& r : *rows) {
    const FieldRef where{.case_id = r.case_id,
                         .table = c.table,
                         .column = c.column,
                         .row = r.id,
                         .purpose = c.purpose};
    absl::StatusOr<DataKey> key = GetDataKey(tx, c.purpose, r.case_id);
    if (!key.ok()) return key.status();
    std::string stored;
    if (key->state != DataKey::State::kDestroyed) {
      absl::StatusOr<std::string> sealed = SealText(tx, where, r.text, now);
      if (!sealed.ok()) return sealed.status();
      stored = *std::move(sealed);
    }
    Wipe(r.text);
    absl::Status updated = Guard("seal plain text", [&]() -> absl::Status {
      Statement st(tx, absl::StrCat("UPDATE ", c.table, " SET ", c.column, " = ?",
                                    c.flag.empty() ? "" : absl::StrCat(", ", c.flag, " = 1"),
                                    " WHERE id = ?"));
      if (c.flag.empty()) {
        BindSealed(st, 1, stored);
      } else {
        st.bind(1, stored.data(), static_cast<int>(stored.size()));
      }
      st.bind(2, static_cast<int64_t>(r.id));
      st.exec();
      return absl::OkStatus();
    });
    if (!updated.ok()) return updated;
  }
  return static_cast<int>(rows->size());
}

}  // namespace

absl::StatusOr<std::string> SealText(Tx& tx, const FieldRef& where, absl::string_view text,
                                     absl::Time now) {
  if (text.empty()) return std::string();
  absl::StatusOr<std::string> key = GetOrCreateDataKey(tx, where.purpose, where.case_id, now);
  if (!key.ok()) return key.status();
  return Seal(*key, text, Binding(where));
}

void BindSealed(Statement& st, int index, const std::string& stored) {
  if (stored.empty()) {
    st.bind(index, std::string());
  } else {
    st.bind(index, stored.data(), static_cast<int>(stored.size()));
  }
}

absl::Status StoreSealedText(Tx& tx, const FieldRef& where, absl::string_view text,
                             absl::Time now) {
  absl::StatusOr<std::string> stored = SealText(tx, where, text, now);
  if (!stored.ok()) return stored.status();
  return Guard("store sealed text", [&]() -> absl::Status {
    Statement st(tx,
                 absl::StrCat("UPDATE ", where.table, " SET ", where.column, " = ? WHERE id = ?"));
    BindSealed(st, 1, *stored);
    st.bind(2, static_cast<int64_t>(where.row));
    st.exec();
    return absl::OkStatus();
  });
}

std::string OpenStored(Tx& tx, const FieldRef& where, bool is_sealed, const std::string& stored,
                       absl::string_view field, std::vector<WithheldField>* withheld) {
  if (stored.empty()) return stored;
  auto withhold = [&](WithheldField::Reason reason) {
    if (withheld != nullptr) withheld->push_back({std::string(field), reason});
    return std::string();
  };
  // The server seals every plain value before it serves (SealPlainText at start-up), so plain
  // text found now was written behind its back: shown, it would pass for the real text.
  if (!is_sealed) return withhold(WithheldField::Reason::kUnreadable);
  absl::StatusOr<DataKey> key = GetDataKey(tx, where.purpose, where.case_id);
  if (!key.ok()) return withhold(WithheldField::Reason::kUnreadable);
  if (key->state == DataKey::State::kDestroyed) {
    return withhold(WithheldField::Reason::kDestroyed);
  }
  if (key->state != DataKey::State::kLive) return withhold(WithheldField::Reason::kUnreadable);
  absl::StatusOr<std::string> text = Open(key->key, stored, Binding(where));
  if (!text.ok()) return withhold(WithheldField::Reason::kUnreadable);
  return *std::move(text);
}

std::string OpenText(Tx& tx, const FieldRef& where, const Column& column, absl::string_view field,
                     std::vector<WithheldField>* withheld) {
  return OpenStored(tx, where, column.isBlob(), column.getString(), field, withheld);
}

absl::StatusOr<int> SealPlainText(Tx& tx, int limit, absl::Time now) {
  if (absl::Status s = tx.RequireWritable("seal plain text"); !s.ok()) return s;
  int sealed = 0;
  for (const SealedColumnSpec& c : Columns()) {
    if (sealed >= limit) break;
    absl::StatusOr<int> n = SealColumn(tx, c, limit - sealed, now);
    if (!n.ok()) return n.status();
    sealed += *n;
  }
  return sealed;
}

const std::vector<SealedColumn>& SealedColumns() {
  static const std::vector<SealedColumn>* const columns = [] {
    auto* out = new std::vector<SealedColumn>;
    for (const SealedColumnSpec& c : Columns()) out->push_back({c.table, c.column});
    return out;
  }();
  return *columns;
}

}  // namespace mediation::storage
