#include "tests/support/test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "storage/pg_connection.h"

namespace mediation::testing {
namespace {

const char* ClusterUri() {
  const char* uri = std::getenv("MEDIATION_TEST_PG");
  return uri != nullptr && *uri != '\0' ? uri : nullptr;
}

// `admin` (a URI ending in /<database>) with `name` as its database.
std::string WithDatabase(const std::string& admin, const std::string& name) {
  const size_t query = admin.find('?');
  const std::string base = admin.substr(0, query);
  const size_t slash = base.rfind('/');
  return absl::StrCat(base.substr(0, slash + 1), name,
                      query == std::string::npos ? "" : admin.substr(query));
}

void RunOnCluster(const std::string& sql) {
  storage::PgConnection conn(ClusterUri());
  conn.Run(sql);
}

}  // namespace

bool OnPostgres() { return ClusterUri() != nullptr; }

TestDatabase::TestDatabase(std::string sqlite_path) {
  if (!OnPostgres()) {
    db_ = std::move(sqlite_path);
    return;
  }
  static std::atomic<int> counter{0};
  name_ = absl::StrCat("t", ::getpid(), "_", counter++, "_", std::random_device{}() % 100000);
  try {
    RunOnCluster(
        absl::StrCat("CREATE DATABASE ", name_, " TEMPLATE template0 LOCALE 'C' ENCODING 'UTF8'"));
  } catch (const storage::StorageError& e) {
    throw std::runtime_error(absl::StrCat("cannot create a test database: ", e.what()));
  }
  db_ = WithDatabase(ClusterUri(), name_);
}

TestDatabase::~TestDatabase() {
  if (name_.empty()) return;
  try {
    RunOnCluster(absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
  } catch (const storage::StorageError&) {
    // Left for the cluster's removal at the end of the run.
  }
}

}  // namespace mediation::testing
