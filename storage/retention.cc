#include "storage/retention.h"

#include "absl/strings/str_cat.h"
#include "storage/data_keys.h"
#include "storage/notes.h"
#include "storage/outbox.h"
#include "storage/sql_util.h"
#include "storage/tokens.h"

namespace mediation::storage {

absl::StatusOr<std::vector<int64_t>> CasesDueForAnonymisation(Tx& tx, absl::Time cutoff,
                                                              int limit) {
  return Guard("cases due for anonymisation", [&]() -> absl::StatusOr<std::vector<int64_t>> {
    Statement st(tx,
                 "SELECT id FROM cases WHERE finished_at IS NOT NULL AND anonymised_at IS NULL "
                 "AND finished_at <= ? ORDER BY finished_at, id LIMIT ?");
    st.bind(1, static_cast<int64_t>(ToMicros(cutoff)));
    st.bind(2, limit);
    std::vector<int64_t> out;
    while (st.executeStep()) out.push_back(st.getColumn(0).getInt64());
    return out;
  });
}

absl::StatusOr<Anonymised> AnonymiseCase(Tx& tx, int64_t case_id, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("anonymise case"); !s.ok()) return s;
  struct State {
    bool finished = false;
    bool anonymised = false;
  };
  absl::StatusOr<State> state = Guard("anonymise case", [&]() -> absl::StatusOr<State> {
    Statement st(tx, "SELECT finished_at, anonymised_at FROM cases WHERE id = ?");
    st.bind(1, static_cast<int64_t>(case_id));
    if (!st.executeStep()) return absl::NotFoundError(absl::StrCat("case ", case_id, " not found"));
    return State{!st.getColumn(0).isNull(), !st.getColumn(1).isNull()};
  });
  if (!state.ok()) return state.status();
  Anonymised done;
  if (state->anonymised) return done;
  if (!state->finished) {
    return absl::FailedPreconditionError(
        absl::StrCat("case ", case_id, " is not finished; its personal data is still needed"));
  }
  // The party tokens first: revoking them tells every token cache.
  absl::StatusOr<std::vector<int64_t>> tokens =
      Guard("party tokens of case", [&]() -> absl::StatusOr<std::vector<int64_t>> {
        Statement st(tx, "SELECT id FROM access_tokens WHERE role = 'ROLE_PARTY' AND case_id = ?");
        st.bind(1, static_cast<int64_t>(case_id));
        std::vector<int64_t> out;
        while (st.executeStep()) out.push_back(st.getColumn(0).getInt64());
        return out;
      });
  if (!tokens.ok()) return tokens.status();
  for (const int64_t id : *tokens) {
    absl::StatusOr<TokenRecord> token = GetToken(tx, id);
    if (!token.ok()) return token.status();
    if (!token->revoked_at.has_value()) {
      if (absl::Status s = SetTokenRevoked(tx, id, at); !s.ok()) return s;
    }
  }
  done.tokens = static_cast<int>(tokens->size());
  absl::StatusOr<int> notes = DestroyCaseNotes(tx, case_id, at);
  if (!notes.ok()) return notes.status();
  done.notes = *notes;
  for (const KeyPurpose purpose : {KeyPurpose::kRecord, KeyPurpose::kNotes}) {
    absl::StatusOr<bool> destroyed = DestroyDataKey(tx, purpose, case_id, at);
    if (!destroyed.ok()) return destroyed.status();
  }
  absl::Status written = Guard("anonymise case", [&]() -> absl::Status {
    Statement parties(tx,
                      "UPDATE parties SET name = ?1, email = ?1, phone = ?1, job_title = ?1, "
                      "person_key = '' WHERE case_id = ?2");
    parties.bind(1, kRemoved);
    parties.bind(2, static_cast<int64_t>(case_id));
    done.parties = parties.exec();
    // A mediator's conflict with a party, discovered on this case, named the party.
    Statement conflicts(tx,
                        "UPDATE mediator_conflicts SET person_name = ?, normalised_name = '', "
                        "person_email = '', email_key = '', surname_key = '' "
                        "WHERE source_case_id = ?");
    conflicts.bind(1, kRemoved);
    conflicts.bind(2, static_cast<int64_t>(case_id));
    conflicts.exec();
    Statement labels(
        tx, "UPDATE access_tokens SET label = ? WHERE role = 'ROLE_PARTY' AND case_id = ?");
    labels.bind(1, kRemoved);
    labels.bind(2, static_cast<int64_t>(case_id));
    labels.exec();
    Statement c(tx,
                "UPDATE cases SET referrer_name = ?1, referrer_email = ?1, referrer_phone = ?1, "
                "referrer_job_title = ?1, anonymised_at = ?2 WHERE id = ?3");
    c.bind(1, kRemoved);
    c.bind(2, static_cast<int64_t>(ToMicros(at)));
    c.bind(3, static_cast<int64_t>(case_id));
    c.exec();
    return absl::OkStatus();
  });
  if (!written.ok()) return written;
  if (absl::Status s = ForgetOutboxOfCase(tx, case_id, at); !s.ok()) return s;
  return done;
}

}  // namespace mediation::storage
