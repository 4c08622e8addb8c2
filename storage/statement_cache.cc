#include "storage/statement_cache.h"

#include <mutex>
#include <shared_mutex>

#include "absl/strings/str_cat.h"

namespace mediation::storage {
namespace {

struct Registry {
  std::shared_mutex mu;
  std::unordered_map<const SQLite::Database*, StatementCache*> caches;
};

Registry& TheRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

}  // namespace

StatementCache::StatementCache(SQLite::Database& db) : db_(db) {
  Registry& r = TheRegistry();
  std::unique_lock lock(r.mu);
  r.caches[&db_] = this;
}

StatementCache::~StatementCache() {
  {
    Registry& r = TheRegistry();
    std::unique_lock lock(r.mu);
    r.caches.erase(&db_);
  }
  by_statement_.clear();
  entries_.clear();
}

StatementCache* StatementCache::For(const SQLite::Database& db) {
  Registry& r = TheRegistry();
  std::shared_lock lock(r.mu);
  auto it = r.caches.find(&db);
  return it == r.caches.end() ? nullptr : it->second;
}

SQLite::Statement* StatementCache::Acquire(const std::string& sql) {
  auto it = entries_.find(sql);
  if (it == entries_.end()) {
    if (entries_.size() >= kCapacity) return nullptr;
    // Prepared before it is stored, so SQL that fails to prepare leaves no entry.
    auto statement = std::make_unique<SQLite::Statement>(db_, sql);
    it = entries_.emplace(sql, Entry{.statement = std::move(statement)}).first;
    by_statement_[it->second.statement.get()] = &it->second;
  }
  Entry& entry = it->second;
  if (entry.in_use) return nullptr;
  entry.in_use = true;
  return entry.statement.get();
}

void StatementCache::Release(SQLite::Statement* st) {
  auto it = by_statement_.find(st);
  if (it == by_statement_.end()) return;
  st->tryReset();  // Its result repeats the statement's last error, already reported.
  try {
    st->clearBindings();
  } catch (const SQLite::Exception&) {
    // Cannot happen on a reset statement; if it did, the next bind replaces every value anyway.
  }
  it->second->in_use = false;
}

Statement::Statement(const SQLite::Database& db, const std::string& sql) {
  if (StatementCache* cache = StatementCache::For(db); cache != nullptr) {
    st_ = cache->Acquire(sql);
    if (st_ != nullptr) cache_ = cache;
  }
  if (st_ == nullptr) {
    owned_ = std::make_unique<SQLite::Statement>(db, sql);
    st_ = owned_.get();
  }
}

Statement::~Statement() {
  if (cache_ != nullptr) cache_->Release(st_);
}

int64_t SelectInt64(const SQLite::Database& db, const std::string& sql) {
  Statement st(db, sql);
  if (!st.executeStep()) throw SQLite::Exception(absl::StrCat("no row from: ", sql));
  return st.getColumn(0).getInt64();
}

}  // namespace mediation::storage
