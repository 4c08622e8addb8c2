// The database a test runs on: a SQLite file in the test's temporary directory, or, when the
// environment names a PostgreSQL cluster (MEDIATION_TEST_PG, a URI of a database on it that the
// user may create databases from; CTest sets it for the *.pg runs), a fresh database on that
// cluster, dropped afterwards.
#ifndef MEDIATION_TESTS_SUPPORT_TEST_DATABASE_H_
#define MEDIATION_TESTS_SUPPORT_TEST_DATABASE_H_

#include <string>

namespace mediation::testing {

// True when tests run on PostgreSQL (MEDIATION_TEST_PG is set).
bool OnPostgres();

class TestDatabase {
 public:
  // `sqlite_path`: the file to use on SQLite.
  explicit TestDatabase(std::string sqlite_path);
  // Drops the PostgreSQL database (every connection to it is closed first).
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // What --db takes: the SQLite path or the PostgreSQL URI.
  const std::string& db() const { return db_; }
  bool postgres() const { return !name_.empty(); }

 private:
  std::string db_;
  std::string name_;  // The PostgreSQL database's name; empty on SQLite.
};

// Skips the current test (from its body) on PostgreSQL, saying why.
#define MEDIATION_SQLITE_ONLY(why)                                                    \
  do {                                                                                \
    if (::mediation::testing::OnPostgres()) GTEST_SKIP() << "SQLite only: " << (why); \
  } while (0)

// Skips the current test (from its body or SetUp) on SQLite, saying why.
#define MEDIATION_POSTGRES_ONLY(why)                                                       \
  do {                                                                                     \
    if (!::mediation::testing::OnPostgres()) GTEST_SKIP() << "PostgreSQL only: " << (why); \
  } while (0)

}  // namespace mediation::testing

#endif  // MEDIATION_TESTS_SUPPORT_TEST_DATABASE_H_
