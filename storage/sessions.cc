#include "storage/sessions.h"

#include "absl/strings/str_cat.h"
#include "storage/sealed_text_internal.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

constexpr char kSessionColumns[] =
    "id, case_id, kind, mode, party_id, start_at, end_at, state, venue_id, video_link, sequence, "
    "created_at, updated_at, needs_rescheduling, needs_rescheduling_at";

SessionRecord ReadSession(Statement& st) {
  SessionRecord s;
  s.id = st.getColumn(0).getInt64();
  s.case_id = st.getColumn(1).getInt64();
  s.kind = EnumFromText<v1::SessionKind>(st.getColumn(2).getString(), v1::SessionKind_Parse);
  s.mode = EnumFromText<v1::SessionMode>(st.getColumn(3).getString(), v1::SessionMode_Parse);
  s.party_id = OptionalId(st.getColumn(4));
  s.start_at = st.getColumn(5).getInt64();
  s.end_at = st.getColumn(6).getInt64();
  s.state = EnumFromText<v1::SessionState>(st.getColumn(7).getString(), v1::SessionState_Parse);
  s.venue_id = OptionalId(st.getColumn(8));
  s.video_link = st.getColumn(9).getString();
  s.sequence = st.getColumn(10).getInt();
  s.created_at = FromMicros(st.getColumn(11).getInt64());
  s.updated_at = FromMicros(st.getColumn(12).getInt64());
  s.needs_rescheduling = st.getColumn(13).getString();
  s.needs_rescheduling_at = OptionalTime(st.getColumn(14));
  return s;
}

void ReadSessionChildren(Tx& tx, SessionRecord& s) {
  Tx& db = tx;
  Statement b(db,
              "SELECT id, resource, resource_id, for_party_id, start_at, end_at FROM "
              "bookings WHERE session_id = ? AND (active = 1 OR ?) ORDER BY id");
  b.bind(1, static_cast<int64_t>(s.id));
  // A cancelled session keeps its (inactive) bookings, so it can still say who it was for.
  b.bind(2, s.state == v1::SESSION_STATE_CANCELLED ? 1 : 0);
  while (b.executeStep()) {
    BookingRecord r;
    r.id = b.getColumn(0).getInt64();
    r.session_id = s.id;
    r.resource = b.getColumn(1).getString();
    r.resource_id = b.getColumn(2).getInt64();
    r.for_party_id = OptionalId(b.getColumn(3));
    r.start_at = b.getColumn(4).getInt64();
    r.end_at = b.getColumn(5).getInt64();
    s.bookings.push_back(std::move(r));
  }
  Statement c(db,
              "SELECT at, token_id, change, previous_start, previous_end, reason, id FROM "
              "session_changes WHERE session_id = ? ORDER BY id");
  c.bind(1, static_cast<int64_t>(s.id));
  while (c.executeStep()) {
    SessionChangeRecord r;
    r.at = FromMicros(c.getColumn(0).getInt64());
    r.token_id = OptionalId(c.getColumn(1));
    r.change = c.getColumn(2).getString();
    r.previous_start = c.getColumn(3).isNull() ? 0 : c.getColumn(3).getInt64();
    r.previous_end = c.getColumn(4).isNull() ? 0 : c.getColumn(4).getInt64();
    r.reason = OpenText(tx,
                        {.case_id = s.case_id,
                         .table = "session_changes",
                         .column = "reason",
                         .row = c.getColumn(6).getInt64()},
                        c.getColumn(5), "reason", &r.withheld);
    s.changes.push_back(std::move(r));
  }
}

// The holder of a booking (schema version 10): a party's is the person, by their folded email.
constexpr char kHolderSql[] =
    "CASE ?1 WHEN 'party' THEN COALESCE((SELECT 'person:' || person_key FROM parties "
    "WHERE id = ?2 AND person_key <> ''), 'party:' || ?2) ELSE ?1 || ':' || ?2 END";

// ABORTED when the database's own guard (the bookings_no_overlap triggers) refuses a booking:
// another session holds the same person or room then. The service checks first; this is for a
// race or a code path that forgot to.
absl::Status InsertBookings(Tx& db, int64_t session_id,
                            const std::vector<BookingRecord>& bookings) {
  Statement st(db, absl::StrCat("INSERT INTO bookings (session_id, resource, resource_id, "
                                "for_party_id, start_at, end_at, active, holder) VALUES "
                                "(?3, ?1, ?2, ?4, ?5, ?6, 1, ",
                                kHolderSql, ")"));
  for (const BookingRecord& b : bookings) {
    st.reset();
    st.bind(1, b.resource);
    st.bind(2, static_cast<int64_t>(b.resource_id));
    st.bind(3, static_cast<int64_t>(session_id));
    BindOptionalId(st, 4, b.for_party_id);
    st.bind(5, static_cast<int64_t>(b.start_at));
    st.bind(6, static_cast<int64_t>(b.end_at));
    try {
      st.exec();
    } catch (const StorageError& e) {
      // SQLite's bookings_no_overlap triggers, or PostgreSQL's exclusion constraint.
      if (e.engine_code() != "1811" && e.engine_code() != "23P01") throw;
      return absl::AbortedError(
          absl::StrCat(b.resource, " ", b.resource_id,
                       " was booked into another session at that time meanwhile; nothing was "
                       "booked: find a slot again"));
    }
  }
  return absl::OkStatus();
}

int64_t CaseOfSession(Tx& db, int64_t session_id) {
  Statement st(db, "SELECT case_id FROM sessions WHERE id = ?");
  st.bind(1, static_cast<int64_t>(session_id));
  return st.executeStep() ? st.getColumn(0).getInt64() : 0;
}

// Records a change of the session, its reason sealed with the case's record key.
absl::Status InsertChange(Tx& tx, int64_t case_id, int64_t session_id,
                          const SessionChangeRecord& c) {
  Statement st(tx,
               "INSERT INTO session_changes (session_id, at, token_id, change, "
               "previous_start, previous_end, reason) VALUES (?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, static_cast<int64_t>(session_id));
  st.bind(2, static_cast<int64_t>(ToMicros(c.at)));
  BindOptionalId(st, 3, c.token_id);
  st.bind(4, c.change);
  if (c.previous_start != 0) {
    st.bind(5, static_cast<int64_t>(c.previous_start));
    st.bind(6, static_cast<int64_t>(c.previous_end));
  } else {
    st.bind(5);
    st.bind(6);
  }
  st.bind(7, std::string());
  st.exec();
  return StoreSealedText(tx,
                         {.case_id = case_id,
                          .table = "session_changes",
                          .column = "reason",
                          .row = tx.LastInsertId()},
                         c.reason, c.at);
}

std::vector<RoomRecord> ReadRooms(Tx& db, int64_t venue_id) {
  Statement st(db, "SELECT id, name, kind, features FROM rooms WHERE venue_id = ? ORDER BY id");
  st.bind(1, static_cast<int64_t>(venue_id));
  std::vector<RoomRecord> rooms;
  while (st.executeStep()) {
    rooms.push_back(
        {st.getColumn(0).getInt64(), venue_id, st.getColumn(1).getString(),
         EnumFromText<v1::RoomKind>(st.getColumn(2).getString(), v1::RoomKind_Parse),
         EnumListFromText<v1::AccessNeed>(st.getColumn(3).getString(), v1::AccessNeed_Parse)});
  }
  return rooms;
}

}  // namespace

absl::StatusOr<VenueRecord> InsertVenue(Tx& tx, VenueRecord venue) {
  if (absl::Status s = tx.RequireWritable("insert venue"); !s.ok()) return s;
  return Guard("insert venue", [&]() -> absl::StatusOr<VenueRecord> {
    Statement st(tx, "INSERT INTO venues (name, address, created_at) VALUES (?, ?, ?)");
    st.bind(1, venue.name);
    st.bind(2, venue.address);
    st.bind(3, static_cast<int64_t>(ToMicros(venue.created_at)));
    st.exec();
    venue.id = tx.LastInsertId();
    Statement room(tx, "INSERT INTO rooms (venue_id, name, kind, features) VALUES (?, ?, ?, ?)");
    for (RoomRecord& r : venue.rooms) {
      room.reset();
      room.bind(1, static_cast<int64_t>(venue.id));
      room.bind(2, r.name);
      room.bind(3, v1::RoomKind_Name(r.kind));
      room.bind(4,
                EnumListText(r.features, [](v1::AccessNeed n) { return v1::AccessNeed_Name(n); }));
      room.exec();
      r.id = tx.LastInsertId();
      r.venue_id = venue.id;
    }
    return venue;
  });
}

absl::StatusOr<VenueRecord> GetVenue(Tx& tx, int64_t id) {
  return Guard("get venue", [&]() -> absl::StatusOr<VenueRecord> {
    Statement st(tx, "SELECT id, name, address, created_at FROM venues WHERE id = ?");
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) return absl::NotFoundError(absl::StrCat("venue ", id, " not found"));
    VenueRecord v{.id = st.getColumn(0).getInt64(),
                  .name = st.getColumn(1).getString(),
                  .address = st.getColumn(2).getString(),
                  .created_at = FromMicros(st.getColumn(3).getInt64())};
    v.rooms = ReadRooms(tx, v.id);
    return v;
  });
}

absl::StatusOr<std::vector<VenueRecord>> ListVenues(Tx& tx) {
  return Guard("list venues", [&]() -> absl::StatusOr<std::vector<VenueRecord>> {
    Statement st(tx, "SELECT id, name, address, created_at FROM venues ORDER BY id");
    std::vector<VenueRecord> out;
    while (st.executeStep()) {
      out.push_back({.id = st.getColumn(0).getInt64(),
                     .name = st.getColumn(1).getString(),
                     .address = st.getColumn(2).getString(),
                     .created_at = FromMicros(st.getColumn(3).getInt64())});
    }
    for (VenueRecord& v : out) v.rooms = ReadRooms(tx, v.id);
    return out;
  });
}

absl::Status ReplacePartyAvailability(Tx& tx, int64_t party_id,
                                      const std::vector<std::pair<int64_t, int64_t>>& windows) {
  if (absl::Status s = tx.RequireWritable("set party availability"); !s.ok()) return s;
  return Guard("set party availability", [&]() -> absl::Status {
    Statement clear(tx, "DELETE FROM party_availability WHERE party_id = ?");
    clear.bind(1, static_cast<int64_t>(party_id));
    clear.exec();
    Statement add(tx,
                  "INSERT INTO party_availability (party_id, start_at, end_at) "
                  "VALUES (?, ?, ?)");
    for (const auto& [start, end] : windows) {
      add.reset();
      add.bind(1, static_cast<int64_t>(party_id));
      add.bind(2, static_cast<int64_t>(start));
      add.bind(3, static_cast<int64_t>(end));
      add.exec();
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<std::pair<int64_t, int64_t>>> PartyAvailability(Tx& tx, int64_t party_id,
                                                                           int64_t from,
                                                                           int64_t to) {
  return Guard("party availability",
               [&]() -> absl::StatusOr<std::vector<std::pair<int64_t, int64_t>>> {
                 Statement st(tx,
                              "SELECT start_at, end_at FROM party_availability WHERE "
                              "party_id = ? AND start_at < ? AND end_at > ? "
                              "ORDER BY start_at");
                 st.bind(1, static_cast<int64_t>(party_id));
                 st.bind(2, static_cast<int64_t>(to));
                 st.bind(3, static_cast<int64_t>(from));
                 std::vector<std::pair<int64_t, int64_t>> out;
                 while (st.executeStep()) {
                   out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getInt64()});
                 }
                 return out;
               });
}

absl::StatusOr<bool> PartyHasAvailability(Tx& tx, int64_t party_id) {
  return Guard("party has availability", [&]() -> absl::StatusOr<bool> {
    Statement st(tx, "SELECT 1 FROM party_availability WHERE party_id = ? LIMIT 1");
    st.bind(1, static_cast<int64_t>(party_id));
    return st.executeStep();
  });
}

absl::StatusOr<std::string> HolderOf(Tx& tx, const std::string& resource, int64_t resource_id) {
  return Guard("booking holder", [&]() -> absl::StatusOr<std::string> {
    Statement st(tx, absl::StrCat("SELECT ", kHolderSql));
    st.bind(1, resource);
    st.bind(2, static_cast<int64_t>(resource_id));
    st.executeStep();
    return st.getColumn(0).getString();
  });
}

absl::StatusOr<std::vector<BookingRecord>> ActiveBookings(Tx& tx, const std::string& holder,
                                                          int64_t from, int64_t to) {
  return Guard("active bookings", [&]() -> absl::StatusOr<std::vector<BookingRecord>> {
    // Sessions are at most a day long, so a booking overlapping [from, to) starts after
    // from - 1 day: the index range stays narrow.
    Statement st(tx,
                 "SELECT b.id, b.session_id, b.for_party_id, b.start_at, b.end_at, b.resource, "
                 "b.resource_id, s.case_id FROM bookings b JOIN sessions s ON s.id = b.session_id "
                 "WHERE b.holder = ?1 AND b.active = 1 AND "
                 "b.start_at >= ?2 - 86400 AND b.start_at < ?3 AND b.end_at > ?2 "
                 "ORDER BY b.start_at");
    st.bind(1, holder);
    st.bind(2, static_cast<int64_t>(from));
    st.bind(3, static_cast<int64_t>(to));
    std::vector<BookingRecord> out;
    while (st.executeStep()) {
      BookingRecord b;
      b.id = st.getColumn(0).getInt64();
      b.session_id = st.getColumn(1).getInt64();
      b.for_party_id = OptionalId(st.getColumn(2));
      b.start_at = st.getColumn(3).getInt64();
      b.end_at = st.getColumn(4).getInt64();
      b.resource = st.getColumn(5).getString();
      b.resource_id = st.getColumn(6).getInt64();
      b.case_id = st.getColumn(7).getInt64();
      b.holder = holder;
      out.push_back(std::move(b));
    }
    return out;
  });
}

absl::StatusOr<std::optional<BookingRecord>> PartyBookingClash(Tx& tx, int64_t party_id) {
  return Guard("party booking clash", [&]() -> absl::StatusOr<std::optional<BookingRecord>> {
    Statement st(tx,
                 "SELECT o.session_id, o.start_at, o.end_at, s.case_id FROM bookings p "
                 "JOIN bookings o ON o.holder = p.holder AND o.active = 1 AND "
                 "o.session_id <> p.session_id AND o.start_at >= p.start_at - 86400 AND "
                 "o.start_at < p.end_at AND o.end_at > p.start_at "
                 "JOIN sessions s ON s.id = o.session_id "
                 "WHERE p.resource = 'party' AND p.resource_id = ? AND p.active = 1 "
                 "ORDER BY o.start_at LIMIT 1");
    st.bind(1, static_cast<int64_t>(party_id));
    if (!st.executeStep()) return std::nullopt;
    BookingRecord b;
    b.session_id = st.getColumn(0).getInt64();
    b.start_at = st.getColumn(1).getInt64();
    b.end_at = st.getColumn(2).getInt64();
    b.case_id = st.getColumn(3).getInt64();
    return b;
  });
}

absl::StatusOr<SessionRecord> InsertSession(Tx& tx, SessionRecord s,
                                            const SessionChangeRecord& booked) {
  if (absl::Status st = tx.RequireWritable("insert session"); !st.ok()) return st;
  return Guard("insert session", [&]() -> absl::StatusOr<SessionRecord> {
    Statement st(tx,
                 "INSERT INTO sessions (case_id, kind, mode, party_id, start_at, end_at, "
                 "state, venue_id, video_link, sequence, created_at, updated_at) VALUES "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, static_cast<int64_t>(s.case_id));
    st.bind(2, v1::SessionKind_Name(s.kind));
    st.bind(3, v1::SessionMode_Name(s.mode));
    BindOptionalId(st, 4, s.party_id);
    st.bind(5, static_cast<int64_t>(s.start_at));
    st.bind(6, static_cast<int64_t>(s.end_at));
    st.bind(7, v1::SessionState_Name(s.state));
    BindOptionalId(st, 8, s.venue_id);
    st.bind(9, s.video_link);
    st.bind(10, s.sequence);
    st.bind(11, static_cast<int64_t>(ToMicros(s.created_at)));
    st.bind(12, static_cast<int64_t>(ToMicros(s.updated_at)));
    st.exec();
    s.id = tx.LastInsertId();
    if (absl::Status st = InsertBookings(tx, s.id, s.bookings); !st.ok()) return st;
    if (absl::Status st = InsertChange(tx, s.case_id, s.id, booked); !st.ok()) return st;
    return GetSession(tx, s.id);
  });
}

absl::StatusOr<SessionRecord> GetSession(Tx& tx, int64_t id) {
  return Guard("get session", [&]() -> absl::StatusOr<SessionRecord> {
    Statement st(tx, absl::StrCat("SELECT ", kSessionColumns, " FROM sessions WHERE id = ?"));
    st.bind(1, static_cast<int64_t>(id));
    if (!st.executeStep()) return absl::NotFoundError(absl::StrCat("session ", id, " not found"));
    SessionRecord s = ReadSession(st);
    ReadSessionChildren(tx, s);
    return s;
  });
}

absl::StatusOr<std::vector<SessionRecord>> ListSessionsOfCase(Tx& tx, int64_t case_id,
                                                              bool include_cancelled) {
  return Guard("list sessions", [&]() -> absl::StatusOr<std::vector<SessionRecord>> {
    Statement st(tx, absl::StrCat("SELECT ", kSessionColumns,
                                  " FROM sessions WHERE case_id = ? AND (? OR state "
                                  "= 'SESSION_STATE_SCHEDULED') ORDER BY start_at, "
                                  "id"));
    st.bind(1, static_cast<int64_t>(case_id));
    st.bind(2, include_cancelled ? 1 : 0);
    std::vector<SessionRecord> out;
    while (st.executeStep()) out.push_back(ReadSession(st));
    for (SessionRecord& s : out) ReadSessionChildren(tx, s);
    return out;
  });
}

absl::StatusOr<std::vector<SessionRecord>> ListSessionsOfMediator(Tx& tx, int64_t mediator_id,
                                                                  int64_t from, int64_t to) {
  return Guard("mediator sessions", [&]() -> absl::StatusOr<std::vector<SessionRecord>> {
    Statement st(tx,
                 absl::StrCat("SELECT ", kSessionColumns,
                              " FROM sessions WHERE id IN (SELECT session_id FROM bookings WHERE "
                              "resource = 'mediator' AND resource_id = ? AND start_at >= ? AND "
                              "start_at < ?) ORDER BY start_at, id"));
    st.bind(1, static_cast<int64_t>(mediator_id));
    st.bind(2, static_cast<int64_t>(from));
    st.bind(3, static_cast<int64_t>(to));
    std::vector<SessionRecord> out;
    while (st.executeStep()) out.push_back(ReadSession(st));
    for (SessionRecord& s : out) ReadSessionChildren(tx, s);
    return out;
  });
}

absl::StatusOr<std::vector<SessionRecord>> ListSessionsStarting(Tx& tx, int64_t mediator_id,
                                                                int64_t from, int64_t to,
                                                                bool include_cancelled) {
  return Guard("sessions in a window", [&]() -> absl::StatusOr<std::vector<SessionRecord>> {
    Statement st(tx,
                 absl::StrCat("SELECT ", kSessionColumns,
                              " FROM sessions WHERE start_at >= ?2 AND start_at < ?3 AND (?4 OR "
                              "state = 'SESSION_STATE_SCHEDULED') AND (?1 = 0 OR id IN (SELECT "
                              "session_id FROM bookings WHERE resource = 'mediator' AND "
                              "resource_id = ?1)) ORDER BY start_at, id"));
    st.bind(1, static_cast<int64_t>(mediator_id));
    st.bind(2, static_cast<int64_t>(from));
    st.bind(3, static_cast<int64_t>(to));
    st.bind(4, include_cancelled ? 1 : 0);
    std::vector<SessionRecord> out;
    while (st.executeStep()) out.push_back(ReadSession(st));
    for (SessionRecord& s : out) ReadSessionChildren(tx, s);
    return out;
  });
}

absl::Status RescheduleSession(Tx& tx, int64_t session_id, int64_t start, int64_t end,
                               const std::vector<BookingRecord>& bookings,
                               const SessionChangeRecord& change) {
  if (absl::Status s = tx.RequireWritable("reschedule session"); !s.ok()) return s;
  return Guard("reschedule session", [&]() -> absl::Status {
    Statement st(tx,
                 "UPDATE sessions SET start_at = ?, end_at = ?, sequence = sequence + 1, "
                 "updated_at = ?, needs_rescheduling = '', needs_rescheduling_at = NULL "
                 "WHERE id = ? AND state = 'SESSION_STATE_SCHEDULED'");
    st.bind(1, static_cast<int64_t>(start));
    st.bind(2, static_cast<int64_t>(end));
    st.bind(3, static_cast<int64_t>(ToMicros(change.at)));
    st.bind(4, static_cast<int64_t>(session_id));
    if (st.exec() != 1) {
      return absl::AbortedError(absl::StrCat("session ", session_id, " changed meanwhile"));
    }
    Statement drop(tx, "DELETE FROM bookings WHERE session_id = ?");
    drop.bind(1, static_cast<int64_t>(session_id));
    drop.exec();
    if (absl::Status st = InsertBookings(tx, session_id, bookings); !st.ok()) return st;
    return InsertChange(tx, CaseOfSession(tx, session_id), session_id, change);
  });
}

absl::Status CancelSession(Tx& tx, int64_t session_id, const SessionChangeRecord& change) {
  if (absl::Status s = tx.RequireWritable("cancel session"); !s.ok()) return s;
  return Guard("cancel session", [&]() -> absl::Status {
    Statement st(tx,
                 "UPDATE sessions SET state = 'SESSION_STATE_CANCELLED', sequence = "
                 "sequence + 1, updated_at = ?, needs_rescheduling = '', needs_rescheduling_at = "
                 "NULL WHERE id = ? AND state = 'SESSION_STATE_SCHEDULED'");
    st.bind(1, static_cast<int64_t>(ToMicros(change.at)));
    st.bind(2, static_cast<int64_t>(session_id));
    if (st.exec() != 1) {
      return absl::AbortedError(absl::StrCat("session ", session_id, " changed meanwhile"));
    }
    Statement release(tx, "UPDATE bookings SET active = 0 WHERE session_id = ?");
    release.bind(1, static_cast<int64_t>(session_id));
    release.exec();
    return InsertChange(tx, CaseOfSession(tx, session_id), session_id, change);
  });
}

absl::StatusOr<int> CancelSessionsOfCaseAfter(Tx& tx, int64_t case_id, int64_t after,
                                              SessionChangeRecord change) {
  if (absl::Status s = tx.RequireWritable("cancel sessions of case"); !s.ok()) return s;
  return Guard("cancel sessions of case", [&]() -> absl::StatusOr<int> {
    Statement st(tx,
                 "SELECT id, start_at, end_at FROM sessions WHERE case_id = ? AND state = "
                 "'SESSION_STATE_SCHEDULED' AND start_at > ?");
    st.bind(1, static_cast<int64_t>(case_id));
    st.bind(2, static_cast<int64_t>(after));
    std::vector<std::tuple<int64_t, int64_t, int64_t>> sessions;
    while (st.executeStep()) {
      sessions.push_back(
          {st.getColumn(0).getInt64(), st.getColumn(1).getInt64(), st.getColumn(2).getInt64()});
    }
    st.reset();
    for (const auto& [id, start, end] : sessions) {
      change.previous_start = start;
      change.previous_end = end;
      if (absl::Status s = CancelSession(tx, id, change); !s.ok()) return s;
    }
    return static_cast<int>(sessions.size());
  });
}

absl::StatusOr<std::vector<SessionRecord>> ScheduledSessionsHolding(Tx& tx,
                                                                    const std::string& resource,
                                                                    int64_t resource_id,
                                                                    int64_t from) {
  return Guard("sessions holding", [&]() -> absl::StatusOr<std::vector<SessionRecord>> {
    Statement st(tx,
                 absl::StrCat("SELECT ", kSessionColumns,
                              " FROM sessions WHERE id IN (SELECT session_id FROM bookings WHERE "
                              "active = 1 AND resource = ? AND resource_id = ? AND start_at >= ?) "
                              "ORDER BY start_at, id"));
    st.bind(1, resource);
    st.bind(2, static_cast<int64_t>(resource_id));
    st.bind(3, static_cast<int64_t>(from));
    std::vector<SessionRecord> out;
    while (st.executeStep()) out.push_back(ReadSession(st));
    for (SessionRecord& s : out) ReadSessionChildren(tx, s);
    return out;
  });
}

absl::Status MarkNeedsRescheduling(Tx& tx, int64_t session_id, const std::string& why,
                                   absl::Time at) {
  if (absl::Status s = tx.RequireWritable("mark session"); !s.ok()) return s;
  return Guard("mark session", [&]() -> absl::Status {
    Statement st(tx,
                 "UPDATE sessions SET needs_rescheduling = ?, needs_rescheduling_at = ? "
                 "WHERE id = ? AND needs_rescheduling = '' AND state = 'SESSION_STATE_SCHEDULED'");
    st.bind(1, why);
    st.bind(2, static_cast<int64_t>(ToMicros(at)));
    st.bind(3, static_cast<int64_t>(session_id));
    st.exec();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<SessionRecord>> SessionsNeedingRescheduling(Tx& tx, int64_t mediator_id,
                                                                       int64_t now,
                                                                       const PageCursor& cursor) {
  return Guard(
      "sessions needing rescheduling", [&]() -> absl::StatusOr<std::vector<SessionRecord>> {
        Statement st(
            tx, absl::StrCat("SELECT ", kSessionColumns,
                             " FROM sessions WHERE needs_rescheduling <> '' AND state = "
                             "'SESSION_STATE_SCHEDULED' AND start_at > ?4 AND id > ?1 AND (?2 = 0 "
                             "OR id IN (SELECT session_id FROM bookings WHERE active = 1 AND "
                             "resource = 'mediator' AND resource_id = ?2)) ORDER BY id LIMIT ?3"));
        st.bind(1, static_cast<int64_t>(cursor.after_id));
        st.bind(2, static_cast<int64_t>(mediator_id));
        st.bind(3, cursor.limit);
        st.bind(4, static_cast<int64_t>(now));
        std::vector<SessionRecord> out;
        while (st.executeStep()) out.push_back(ReadSession(st));
        for (SessionRecord& s : out) ReadSessionChildren(tx, s);
        return out;
      });
}

absl::StatusOr<std::vector<int64_t>> CasesWithStartedSessions(Tx& tx, int64_t now) {
  return Guard("cases with started sessions", [&]() -> absl::StatusOr<std::vector<int64_t>> {
    Statement st(tx,
                 "SELECT DISTINCT s.case_id FROM sessions s JOIN cases c ON c.id = "
                 "s.case_id WHERE s.state = 'SESSION_STATE_SCHEDULED' AND s.start_at <= "
                 "? AND c.state = 'CASE_STATE_SESSIONS_SCHEDULED' ORDER BY s.case_id");
    st.bind(1, static_cast<int64_t>(now));
    std::vector<int64_t> out;
    while (st.executeStep()) out.push_back(st.getColumn(0).getInt64());
    return out;
  });
}

}  // namespace mediation::storage
