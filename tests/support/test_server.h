// The real server, in-process, on an ephemeral loopback port with a real SQLite file in a
// temporary directory, and generated stubs to call it with real tokens.
#ifndef MEDIATION_TESTS_SUPPORT_TEST_SERVER_H_
#define MEDIATION_TESTS_SUPPORT_TEST_SERVER_H_

#include <SQLiteCpp/SQLiteCpp.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "ppa/mediation/v1/admin.grpc.pb.h"
#include "ppa/mediation/v1/agreement.grpc.pb.h"
#include "ppa/mediation/v1/allocation.grpc.pb.h"
#include "ppa/mediation/v1/case.grpc.pb.h"
#include "ppa/mediation/v1/charges.grpc.pb.h"
#include "ppa/mediation/v1/events.grpc.pb.h"
#include "ppa/mediation/v1/mediator.grpc.pb.h"
#include "ppa/mediation/v1/notes.grpc.pb.h"
#include "ppa/mediation/v1/notification.grpc.pb.h"
#include "ppa/mediation/v1/organisation.grpc.pb.h"
#include "ppa/mediation/v1/referral.grpc.pb.h"
#include "ppa/mediation/v1/scheduling.grpc.pb.h"
#include "ppa/mediation/v1/screening.grpc.pb.h"
#include "ppa/mediation/v1/statistics.grpc.pb.h"
#include "services/server/server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_database.h"

namespace mediation::testing {

namespace v1 = ::ppa::mediation::v1;

// A client context carrying `authorization: Bearer <secret>` (none when `secret` is empty) and a
// 10-second deadline.
std::unique_ptr<grpc::ClientContext> WithToken(const std::string& secret);

// Requests that pass validation, for tests that vary one thing.
v1::Organisation ValidOrganisation(const std::string& name);
v1::CreateReferralRequest ValidReferral(int64_t organisation_id);
// An eligible mediator for English cases until 2030: accredited, insured, 12 CPD hours,
// experienced with doctors, up to 50 cases.
v1::Mediator ValidMediator(const std::string& name, const std::string& email);

// How the stubs of a TestServer reach the server: gRPC, or the Connect protocol on its HTTP
// listener (tests/support/connect_forwarder.h), with the same stubs.
enum class Via { kGrpc, kConnect };

class TestServer;

// For a second server instance on the database of `first` (PostgreSQL: several instances share
// one database): its database, master key and ADMIN token. Call it from the second TestServer's
// `configure`.
void ShareDatabaseOf(const TestServer& first, ServerOptions& options);

class TestServer {
 public:
  // `configure` may adjust the options (clock, store factory, ...) before the server starts.
  explicit TestServer(std::function<void(ServerOptions&)> configure = {}, Via via = Via::kGrpc);
  ~TestServer();

  MediationServer& server() { return *server_; }
  // Stops and destroys the server (its connections close) but keeps its directory and
  // database, for a second instance sharing them. Nothing but destruction may follow.
  void StopServer() { server_.reset(); }
  const TempDir& dir() const { return dir_; }
  // What the server's --db is: the SQLite file, or a PostgreSQL URI
  // (tests/support/test_database.h).
  const std::string& db_path() const { return database_.db(); }
  bool on_postgres() const { return database_.postgres(); }
  const std::string& admin_secret() const { return admin_secret_; }

  v1::AdminService::Stub& admin() { return *admin_; }
  v1::IdentityService::Stub& identity() { return *identity_; }
  v1::OrganisationService::Stub& organisations() { return *organisations_; }
  v1::ReferralService::Stub& referrals() { return *referrals_; }
  v1::ScreeningService::Stub& screening() { return *screening_; }
  v1::CaseService::Stub& cases() { return *cases_; }
  v1::ChargesService::Stub& charges() { return *charges_; }
  v1::MediatorService::Stub& mediators() { return *mediators_; }
  v1::AllocationService::Stub& allocation() { return *allocation_; }
  v1::SchedulingService::Stub& scheduling() { return *scheduling_; }
  v1::NotesService::Stub& notes() { return *notes_; }
  v1::AgreementService::Stub& agreements() { return *agreements_; }
  v1::CaseEventService::Stub& events() { return *events_; }
  v1::StatisticsService::Stub& statistics() { return *statistics_; }
  v1::NotificationService::Stub& notifications() { return *notifications_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

  // Issues a token through the API with the ADMIN token and returns its secret. Fails the
  // current test if the server refuses.
  std::string IssueToken(v1::Role role, int64_t mediator_id = 0, int64_t organisation_id = 0,
                         int64_t case_id = 0, int64_t party_id = 0);
  // A CASE_SUPPORT token, issued once and reused.
  const std::string& case_support();
  // Registers a valid organisation as CASE_SUPPORT and returns its id.
  int64_t RegisterOrganisation(const std::string& name, v1::Nation nation = v1::NATION_ENGLAND);
  // Creates a valid referral for `organisation_id` as CASE_SUPPORT (changed by `edit` when
  // given) and returns the case.
  using EditReferral = std::function<void(v1::CreateReferralRequest&)>;
  v1::Case CreateReferral(int64_t organisation_id, const EditReferral& edit = nullptr);
  // A SENIOR_ADVISER token, issued once and reused.
  const std::string& senior_adviser();
  // Records `answer` for every criterion (and party) of `c` as CASE_SUPPORT; NOT_MET and UNKNOWN
  // answers get a note.
  void AnswerAll(const v1::Case& c, v1::CriterionAnswer answer);
  // Answers everything MET and records a Senior Adviser's confirmation: the case is SUITABLE.
  void MakeSuitable(const v1::Case& c);
  // The case's state as CASE_SUPPORT sees it.
  v1::CaseState StateOf(int64_t case_id);
  // Registers `m` as ADMIN, sets a Monday-to-Friday 09:00-17:00 pattern and returns the id.
  int64_t RegisterMediator(const v1::Mediator& m);
  // Sets how many mediators the case needs (1 or 2) as CASE_SUPPORT; the server's answer.
  grpc::Status SetMediatorsRequired(int64_t case_id, int count);
  // Offers `role` on the case to the mediator as CASE_SUPPORT; returns the allocation id.
  int64_t Allocate(int64_t case_id, int64_t mediator_id, v1::AllocationRole role);
  // A SUITABLE case of `organisation_id` whose mediators (`co` 0: the lead alone) have
  // accepted: MEDIATORS_ALLOCATED.
  v1::Case AllocatedCase(int64_t organisation_id, int64_t lead, const std::string& lead_token,
                         int64_t co = 0, const std::string& co_token = "",
                         const EditReferral& edit = nullptr);
  // The mediator accepts (or declines for `reason`) with its own token.
  grpc::Status Respond(const std::string& mediator_token, int64_t allocation_id, bool accept,
                       v1::DeclineReason reason = v1::DECLINE_REASON_UNSPECIFIED,
                       int64_t conflict_party_id = 0);

  // Waits until the delivery worker has handled every email due now (none is PENDING and due),
  // so that its writes are over: a test that plans a fault for "the next write" calls this first,
  // or the worker's write could take the fault meant for the call.
  void SettleOutbox();

  // Runs `fn` in a read transaction of a connection of its own that holds the server's master
  // keys, for assertions on sealed data through storage/.
  absl::Status ReadStore(const storage::TxFn& fn) const;

  // A separate connection to the database file, for assertions on stored rows. SQLite only:
  // tests that use it (and the two below) start with MEDIATION_SQLITE_ONLY.
  std::unique_ptr<SQLite::Database> OpenDb() const;
  // A writable one, for tests that tamper with rows the way an intruder with the file would.
  std::unique_ptr<SQLite::Database> OpenDbForTampering() const;
  // Runs one statement on the database as an intruder with direct access would, outside the
  // server (a connection of its own, committed at once); returns the rows it changed. Either
  // engine. Throws what the database throws.
  int Tamper(const std::string& sql) const;
  // Tamper, for a statement the database must refuse: the database's error message, or "" if the
  // statement ran.
  std::string TamperRefused(const std::string& sql) const;
  // An SQL literal of bytes (a BLOB on SQLite, a BYTEA on PostgreSQL) holding `text`.
  std::string BytesLiteral(const std::string& text) const;
  // The first column of the first row of `sql` (which must return one), read as an intruder
  // would, on a connection of its own: an integer, or text or bytes. Either engine.
  int64_t QueryInt64(const std::string& sql) const;
  std::string QueryBytes(const std::string& sql) const;
  // Every row of `sql`, each column as text (or bytes); NULL as "NULL".
  std::vector<std::vector<std::string>> QueryRows(const std::string& sql) const;
  // Writes what the database holds in memory to its files: SQLite moves its WAL into the main
  // file and empties it (wal_checkpoint(TRUNCATE)); PostgreSQL runs CHECKPOINT.
  void Checkpoint() const;
  // The bytes the database has on disk now. SQLite: the file, its WAL and shared memory.
  // PostgreSQL: this database's files (after a CHECKPOINT, so they hold every committed change)
  // and the write-ahead log from this server's start (the cluster's, so other tests' too).
  std::string DiskBytes() const;
  // SELECT COUNT(*) FROM <table> [WHERE <where>].
  int64_t CountRows(const std::string& table, const std::string& where = "") const;
  // Everything the server has logged so far.
  std::string Log() const;

 private:
  TempDir dir_;
  TestDatabase database_{dir_.File("mediation.db")};
  std::string first_wal_file_;  // PostgreSQL: the WAL segment in use when this server started.
  std::FILE* log_ = nullptr;
  std::unique_ptr<MediationServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::IdentityService::Stub> identity_;
  std::unique_ptr<v1::OrganisationService::Stub> organisations_;
  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::unique_ptr<v1::ScreeningService::Stub> screening_;
  std::unique_ptr<v1::CaseService::Stub> cases_;
  std::unique_ptr<v1::ChargesService::Stub> charges_;
  std::unique_ptr<v1::MediatorService::Stub> mediators_;
  std::unique_ptr<v1::AllocationService::Stub> allocation_;
  std::unique_ptr<v1::SchedulingService::Stub> scheduling_;
  std::unique_ptr<v1::NotesService::Stub> notes_;
  std::unique_ptr<v1::AgreementService::Stub> agreements_;
  std::unique_ptr<v1::CaseEventService::Stub> events_;
  std::unique_ptr<v1::StatisticsService::Stub> statistics_;
  std::unique_ptr<v1::NotificationService::Stub> notifications_;
  std::string admin_secret_;
  std::string case_support_;
  std::string senior_adviser_;
};

}  // namespace mediation::testing

#endif  // MEDIATION_TESTS_SUPPORT_TEST_SERVER_H_
