// Group commit on real SQLite connections: writes queued while a batch runs share the next
// commit; a write that fails is undone alone; a write that makes SQLite abandon the whole
// transaction takes only its own batch-mates' uncommitted work with it, and they are told.
#include "storage/commit_group.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "absl/synchronization/notification.h"
#include "storage/sqlite_store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_database.h"

namespace mediation::storage {
namespace {

using ::mediation::testing::TempDir;

class CommitGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MEDIATION_SQLITE_ONLY("group commit batches SQLite's writes; PostgreSQL has none");
    for (int i = 0; i < 4; ++i) {
      absl::StatusOr<std::unique_ptr<SqliteStore>> store =
          SqliteStore::Open({.path = path_, .commit_group = group_});
      ASSERT_TRUE(store.ok()) << store.status();
      stores_.push_back(*std::move(store));
    }
    ASSERT_TRUE(stores_[0]
                    ->Write([](Tx& tx) -> absl::Status {
                      SqliteDatabaseOf(tx).exec(
                          "CREATE TABLE t (name TEXT PRIMARY KEY, data BLOB)");
                      return absl::OkStatus();
                    })
                    .ok());
  }

  static TxFn Insert(const std::string& name) {
    return [name](Tx& tx) -> absl::Status {
      SQLite::Statement st(SqliteDatabaseOf(tx), "INSERT INTO t (name) VALUES (?)");
      st.bind(1, name);
      st.exec();
      return absl::OkStatus();
    };
  }

  // Runs `first` on store 0 and holds it inside its transaction until `others` (on stores 1..3, in
  // turn) are all queued behind it, so they form one batch. Returns every status, `first`'s first.
  std::vector<absl::Status> RunBatched(const TxFn& first, std::vector<TxFn> others) {
    absl::Notification running, release;
    auto held = std::async(std::launch::async, [&] {
      return stores_[0]->Write([&](Tx& tx) -> absl::Status {
        running.Notify();
        release.WaitForNotification();
        return first(tx);
      });
    });
    running.WaitForNotification();
    std::vector<std::future<absl::Status>> queued;
    for (size_t i = 0; i < others.size(); ++i) {
      // One at a time, so the batch runs them in this order.
      queued.push_back(std::async(std::launch::async, [this, i, &others] {
        return stores_[1 + i % (stores_.size() - 1)]->Write(others[i]);
      }));
      while (group_->waiting() < i + 1) std::this_thread::yield();
    }
    release.Notify();
    std::vector<absl::Status> statuses{held.get()};
    for (auto& f : queued) statuses.push_back(f.get());
    return statuses;
  }

  std::vector<std::string> Names() {
    SQLite::Database db(path_, SQLite::OPEN_READONLY);
    SQLite::Statement st(db, "SELECT name FROM t ORDER BY name");
    std::vector<std::string> names;
    while (st.executeStep()) names.push_back(st.getColumn(0).getString());
    return names;
  }

  TempDir dir_;
  std::string path_ = dir_.File("m.db");
  std::shared_ptr<CommitGroup> group_ = std::make_shared<CommitGroup>();
  std::vector<std::unique_ptr<SqliteStore>> stores_;
};

TEST_F(CommitGroupTest, WritesQueuedBehindABatchShareOneCommit) {
  const CommitGroup::Stats before = group_->stats();

  std::vector<absl::Status> statuses =
      RunBatched(Insert("a"), {Insert("b"), Insert("c"), Insert("d")});

  for (const absl::Status& s : statuses) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Names(), (std::vector<std::string>{"a", "b", "c", "d"}));
  const CommitGroup::Stats after = group_->stats();
  EXPECT_EQ(after.batches - before.batches, 2u);  // "a" alone, then the other three together.
  EXPECT_EQ(after.writes - before.writes, 4u);
  EXPECT_EQ(after.largest, 3u);
}

// A group limited to two writes a batch (mediation-server --group_commit=false uses one).
class SmallCommitGroupTest : public CommitGroupTest {
 protected:
  SmallCommitGroupTest() { group_ = std::make_shared<CommitGroup>(2); }
};

TEST_F(SmallCommitGroupTest, BatchesHoldAtMostMaxBatchWritesInArrivalOrder) {
  const CommitGroup::Stats before = group_->stats();

  std::vector<absl::Status> statuses =
      RunBatched(Insert("a"), {Insert("b"), Insert("c"), Insert("d"), Insert("e")});

  for (const absl::Status& s : statuses) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Names(), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  const CommitGroup::Stats after = group_->stats();
  EXPECT_EQ(after.batches - before.batches, 3u);  // "a", then "b" "c", then "d" "e".
  EXPECT_EQ(after.writes - before.writes, 5u);
  EXPECT_EQ(after.largest, 2u);
}

TEST_F(CommitGroupTest, AFailedWriteIsUndoneAloneAndTheOthersInItsBatchCommit) {
  const TxFn half_then_refused = [](Tx& tx) -> absl::Status {
    SqliteDatabaseOf(tx).exec("INSERT INTO t (name) VALUES ('c1')");
    return absl::FailedPreconditionError("refused after writing");
  };
  const TxFn constraint = Insert("b");  // A duplicate of the batch-mate before it.

  std::vector<absl::Status> statuses =
      RunBatched(Insert("a"), {Insert("b"), half_then_refused, constraint, Insert("d")});

  EXPECT_TRUE(statuses[0].ok());
  EXPECT_TRUE(statuses[1].ok());
  EXPECT_EQ(statuses[2], absl::FailedPreconditionError("refused after writing"));
  EXPECT_EQ(statuses[3].code(), absl::StatusCode::kAborted) << statuses[3];
  EXPECT_TRUE(statuses[4].ok());
  EXPECT_EQ(Names(), (std::vector<std::string>{"a", "b", "d"}));
}

TEST_F(CommitGroupTest, AWriteThatEndsTheWholeTransactionFailsOnlyItsUncommittedBatchMates) {
  // What SQLite does after some I/O errors: the transaction is gone, with the batch-mates'
  // writes in it. They must hear of it, not be told their writes were saved.
  const TxFn abandon = [](Tx& tx) -> absl::Status {
    SqliteDatabaseOf(tx).exec("INSERT INTO t (name) VALUES ('c')");
    SqliteDatabaseOf(tx).exec("ROLLBACK");
    return absl::OkStatus();
  };

  std::vector<absl::Status> statuses = RunBatched(Insert("a"), {Insert("b"), abandon, Insert("d")});

  EXPECT_TRUE(statuses[0].ok());                               // Its own, earlier commit.
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kInternal);  // Lost with the transaction.
  EXPECT_EQ(statuses[2].code(), absl::StatusCode::kInternal);  // The cause.
  EXPECT_TRUE(statuses[3].ok()) << statuses[3];                // Run in a new transaction.
  EXPECT_EQ(Names(), (std::vector<std::string>{"a", "d"}));
}

TEST_F(CommitGroupTest, AFullDatabaseFailsTheWritesSharingTheTransactionAndNoOthers) {
  for (auto& store : stores_) {
    ASSERT_TRUE(
        store
            ->Write([](Tx& tx) -> absl::Status {
              const int64_t pages = SqliteDatabaseOf(tx).execAndGet("PRAGMA page_count").getInt64();
              SqliteDatabaseOf(tx).exec("PRAGMA max_page_count = " + std::to_string(pages + 8));
              return absl::OkStatus();
            })
            .ok());
  }
  const TxFn too_big = [](Tx& tx) -> absl::Status {
    SQLite::Statement st(SqliteDatabaseOf(tx),
                         "INSERT INTO t (name, data) VALUES ('big', zeroblob(1000000))");
    st.exec();
    return absl::OkStatus();
  };

  std::vector<absl::Status> statuses = RunBatched(Insert("a"), {Insert("b"), too_big, Insert("d")});

  // In WAL mode SQLite answers a full database by rolling the whole transaction back: the write
  // before it in the batch is lost too and says so; the one after it commits on its own.
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kResourceExhausted) << statuses[1];
  EXPECT_EQ(statuses[2].code(), absl::StatusCode::kResourceExhausted) << statuses[2];
  EXPECT_TRUE(statuses[3].ok()) << statuses[3];
  EXPECT_EQ(Names(), (std::vector<std::string>{"a", "d"}));
}

}  // namespace
}  // namespace mediation::storage
