// Prepared statements kept per connection. Preparing is most of the CPU time of a short call
// (parsing the SQL and resolving the schema on every statement), so storage code prepares each
// statement once per connection and reuses it.
//
// storage::Statement is a drop-in for SQLite::Statement in the typed operations: it takes the
// connection's cached statement for its SQL text, and on destruction resets it, clears its
// bindings and gives it back. A statement already in use (the same SQL nested in its own loop)
// or one beyond the cache's capacity is prepared afresh, as before. Connections that have no
// cache (schema migrations, tests' own connections) prepare every time.
//
// Internal to storage/. A cache belongs to its connection and is used from whichever thread is
// using that connection; the registry that finds it is thread-safe.
#ifndef MEDIATION_STORAGE_STATEMENT_CACHE_H_
#define MEDIATION_STORAGE_STATEMENT_CACHE_H_

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

namespace mediation::storage {

class StatementCache {
 public:
  // Registers the cache for `db`, which must outlive it.
  explicit StatementCache(SQLite::Database& db);
  // Finalizes every statement and unregisters (before the connection closes).
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // The cache registered for `db`, or nullptr.
  static StatementCache* For(const SQLite::Database& db);

  // The idle cached statement for `sql` (preparing it on first use), marked in use; nullptr
  // when it is in use already or the cache is full.
  SQLite::Statement* Acquire(const std::string& sql);
  // Resets `st` (from Acquire), clears its bindings and marks it idle.
  void Release(SQLite::Statement* st);

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::unique_ptr<SQLite::Statement> statement;
    bool in_use = false;
  };
  static constexpr size_t kCapacity = 512;

  SQLite::Database& db_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<const SQLite::Statement*, Entry*> by_statement_;
};

class Statement {
 public:
  Statement(const SQLite::Database& db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // For helpers that take a SQLite::Statement&.
  operator SQLite::Statement&() { return *st_; }  // NOLINT: a drop-in.
  SQLite::Statement& get() { return *st_; }

  template <typename... Args>
  void bind(Args&&... args) {
    st_->bind(std::forward<Args>(args)...);
  }
  bool executeStep() { return st_->executeStep(); }
  int exec() { return st_->exec(); }
  SQLite::Column getColumn(int index) { return st_->getColumn(index); }
  SQLite::Column getColumn(const char* name) { return st_->getColumn(name); }
  bool isColumnNull(int index) const { return st_->isColumnNull(index); }
  int getColumnCount() const { return st_->getColumnCount(); }
  void reset() { st_->reset(); }
  void clearBindings() { st_->clearBindings(); }

 private:
  StatementCache* cache_ = nullptr;  // Set when st_ came from the cache.
  std::unique_ptr<SQLite::Statement> owned_;
  SQLite::Statement* st_ = nullptr;
};

// The first column of the first row of `sql` (which must return a row), through the cache:
// SQLite::Database::execAndGet prepares the statement every time.
int64_t SelectInt64(const SQLite::Database& db, const std::string& sql);

}  // namespace mediation::storage

#endif  // MEDIATION_STORAGE_STATEMENT_CACHE_H_
