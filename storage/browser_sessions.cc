#include "storage/browser_sessions.h"

#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

BrowserSessionRecord ReadSession(Statement& st) {
  BrowserSessionRecord s;
  s.id = st.getColumn(0).getInt64();
  const Column hash = st.getColumn(1);
  s.id_sha256 = hash.getString();
  s.token_id = st.getColumn(2).getInt64();
  s.created_at = FromMicros(st.getColumn(3).getInt64());
  s.last_seen_at = FromMicros(st.getColumn(4).getInt64());
  s.expires_at = FromMicros(st.getColumn(5).getInt64());
  s.ended_at = OptionalTime(st.getColumn(6));
  return s;
}

}  // namespace

absl::StatusOr<BrowserSessionRecord> InsertBrowserSession(Tx& tx, BrowserSessionRecord session) {
  if (absl::Status s = tx.RequireWritable("insert browser session"); !s.ok()) return s;
  return Guard("insert browser session", [&]() -> absl::StatusOr<BrowserSessionRecord> {
    Statement st(tx,
                 "INSERT INTO browser_sessions (id_sha256, token_id, created_at, last_seen_at, "
                 "expires_at, ended_at) VALUES (?, ?, ?, ?, ?, ?)");
    st.bind(1, session.id_sha256.data(), static_cast<int>(session.id_sha256.size()));
    st.bind(2, static_cast<int64_t>(session.token_id));
    st.bind(3, static_cast<int64_t>(ToMicros(session.created_at)));
    st.bind(4, static_cast<int64_t>(ToMicros(session.last_seen_at)));
    st.bind(5, static_cast<int64_t>(ToMicros(session.expires_at)));
    BindOptionalTime(st, 6, session.ended_at);
    st.exec();
    session.id = tx.LastInsertId();
    return session;
  });
}

absl::StatusOr<BrowserSessionRecord> FindBrowserSession(Tx& tx, absl::string_view id_sha256) {
  return Guard("find browser session", [&]() -> absl::StatusOr<BrowserSessionRecord> {
    Statement st(tx,
                 "SELECT id, id_sha256, token_id, created_at, last_seen_at, expires_at, ended_at "
                 "FROM browser_sessions WHERE id_sha256 = ?");
    st.bind(1, id_sha256.data(), static_cast<int>(id_sha256.size()));
    if (!st.executeStep()) return absl::NotFoundError("no such browser session");
    return ReadSession(st);
  });
}

absl::Status TouchBrowserSession(Tx& tx, int64_t id, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("touch browser session"); !s.ok()) return s;
  return Guard("touch browser session", [&]() -> absl::Status {
    Statement st(tx,
                 "UPDATE browser_sessions SET last_seen_at = MAX(last_seen_at, ?) "
                 "WHERE id = ?");
    st.bind(1, static_cast<int64_t>(ToMicros(at)));
    st.bind(2, static_cast<int64_t>(id));
    st.exec();
    return absl::OkStatus();
  });
}

absl::Status EndBrowserSession(Tx& tx, int64_t id, absl::Time at) {
  if (absl::Status s = tx.RequireWritable("end browser session"); !s.ok()) return s;
  return Guard("end browser session", [&]() -> absl::Status {
    Statement st(tx, "UPDATE browser_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL");
    st.bind(1, static_cast<int64_t>(ToMicros(at)));
    st.bind(2, static_cast<int64_t>(id));
    st.exec();
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> DeleteFinishedBrowserSessions(Tx& tx, absl::Time before) {
  if (absl::Status s = tx.RequireWritable("delete finished browser sessions"); !s.ok()) return s;
  return Guard("delete finished browser sessions", [&]() -> absl::StatusOr<int64_t> {
    Statement st(tx, "DELETE FROM browser_sessions WHERE ended_at < ?1 OR expires_at < ?1");
    st.bind(1, static_cast<int64_t>(ToMicros(before)));
    return static_cast<int64_t>(st.exec());
  });
}

}  // namespace mediation::storage
