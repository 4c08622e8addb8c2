#include "tests/support/test_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "storage/database.h"
#include "storage/pg_connection.h"
#include "storage/sql.h"
#include "tests/support/connect_forwarder.h"

namespace mediation::testing {

std::unique_ptr<grpc::ClientContext> WithToken(const std::string& secret) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!secret.empty()) context->AddMetadata("authorization", "Bearer " + secret);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

v1::Organisation ValidOrganisation(const std::string& name) {
  v1::Organisation o;
  o.set_name(name);
  o.set_kind(v1::ORGANISATION_KIND_NHS_TRUST);
  o.set_nation(v1::NATION_ENGLAND);
  o.set_care_setting(v1::CARE_SETTING_SECONDARY);
  o.set_sector(v1::SECTOR_PUBLIC);
  o.mutable_contact()->set_name("Priya Shah");
  o.mutable_contact()->set_email("priya.shah@example.nhs.uk");
  return o;
}

v1::CreateReferralRequest ValidReferral(int64_t organisation_id) {
  v1::CreateReferralRequest r;
  r.set_organisation_id(organisation_id);
  r.mutable_referrer()->set_name("Sam Okafor");
  r.mutable_referrer()->set_email("sam.okafor@example.nhs.uk");
  r.mutable_referrer()->set_job_title("Clinical Director");
  r.set_summary("Breakdown in communication between two consultants on the ward rota.");
  r.set_concern_level(v1::CONCERN_LEVEL_MID);
  r.set_concern_type(v1::CONCERN_TYPE_ACTIVE);
  v1::Party* a = r.add_parties();
  a->mutable_contact()->set_name("Dr Alex Morgan");
  a->mutable_contact()->set_email("alex.morgan@example.nhs.uk");
  a->set_profession(v1::PROFESSION_DOCTOR);
  v1::Party* b = r.add_parties();
  b->mutable_contact()->set_name("Dr Jo Reed");
  b->mutable_contact()->set_email("jo.reed@example.nhs.uk");
  b->set_profession(v1::PROFESSION_DOCTOR);
  b->set_accessibility_needs("Step-free access");
  return r;
}

v1::Mediator ValidMediator(const std::string& name, const std::string& email) {
  v1::Mediator m;
  m.mutable_contact()->set_name(name);
  m.mutable_contact()->set_email(email);
  v1::Accreditation* a = m.mutable_accreditation();
  a->set_body(v1::ACCREDITATION_BODY_CIVIL_MEDIATION_COUNCIL);
  a->set_level("Registered Mediator");
  a->set_registration_number("CMC-" + email.substr(0, email.find('@')));
  a->mutable_expires_on()->set_year(2030);
  a->mutable_expires_on()->set_month(12);
  a->mutable_expires_on()->set_day(31);
  m.mutable_insurance_expires_on()->set_year(2030);
  m.mutable_insurance_expires_on()->set_month(6);
  m.mutable_insurance_expires_on()->set_day(30);
  m.set_cpd_hours_last_12_months(12);
  m.add_nations(v1::NATION_ENGLAND);
  m.add_languages("English");
  v1::ProfessionExperience* e = m.add_experience();
  e->set_profession(v1::PROFESSION_DOCTOR);
  e->set_cases(8);
  m.set_max_concurrent_cases(50);
  m.set_active(true);
  return m;
}

TestServer::TestServer(std::function<void(ServerOptions&)> configure, Via via) {
  log_ = std::fopen(dir_.File("server.log").c_str(), "w");
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.db_path = db_path();
  options.admin_token_path = dir_.File("admin.token");
  options.master_key_path = dir_.File("master.key");
  options.backup_dir = dir_.File("backups");
  options.workers = 2;
  options.log_stream = log_;
  options.shutdown_grace = absl::Seconds(5);
  if (configure) configure(options);
  if (via == Via::kConnect) options.http_listen = "127.0.0.1:0";
  if (on_postgres()) {  // Before the server writes anything.
    first_wal_file_ =
        storage::PgConnection(db_path()).SelectText("SELECT pg_walfile_name(pg_current_wal_lsn())");
  }
  absl::StatusOr<std::unique_ptr<MediationServer>> server = MediationServer::Start(options);
  if (!server.ok()) throw std::runtime_error(std::string(server.status().message()));
  server_ = *std::move(server);

  std::ifstream token_file(options.admin_token_path);
  std::getline(token_file, admin_secret_);
  if (via == Via::kConnect) {
    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> forward;
    forward.push_back(std::make_unique<ConnectForwarderFactory>(server_->http_port()));
    channel_ = grpc::experimental::CreateCustomChannelWithInterceptors(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials(),
        grpc::ChannelArguments(), std::move(forward));
  } else {
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
  }
  admin_ = v1::AdminService::NewStub(channel_);
  identity_ = v1::IdentityService::NewStub(channel_);
  organisations_ = v1::OrganisationService::NewStub(channel_);
  referrals_ = v1::ReferralService::NewStub(channel_);
  screening_ = v1::ScreeningService::NewStub(channel_);
  cases_ = v1::CaseService::NewStub(channel_);
  charges_ = v1::ChargesService::NewStub(channel_);
  mediators_ = v1::MediatorService::NewStub(channel_);
  allocation_ = v1::AllocationService::NewStub(channel_);
  scheduling_ = v1::SchedulingService::NewStub(channel_);
  notes_ = v1::NotesService::NewStub(channel_);
  agreements_ = v1::AgreementService::NewStub(channel_);
  events_ = v1::CaseEventService::NewStub(channel_);
  statistics_ = v1::StatisticsService::NewStub(channel_);
  notifications_ = v1::NotificationService::NewStub(channel_);
}

void ShareDatabaseOf(const TestServer& first, ServerOptions& options) {
  options.db_path = first.db_path();
  options.master_key_path = first.dir().File("master.key");
  options.admin_token_path = first.dir().File("admin.token");
}

TestServer::~TestServer() {
  server_.reset();
  // A failed test shows the errors the server logged (internal errors are logged, not answered).
  if (::testing::Test::HasFailure() && log_ != nullptr) {
    std::istringstream lines(Log());
    for (std::string line; std::getline(lines, line);) {
      if (line.find(" error ") != std::string::npos) std::cerr << "server log: " << line << "\n";
    }
  }
  if (log_ != nullptr) std::fclose(log_);
}

std::string TestServer::IssueToken(v1::Role role, int64_t mediator_id, int64_t organisation_id,
                                   int64_t case_id, int64_t party_id) {
  v1::IssueTokenRequest request;
  request.set_role(role);
  request.set_label(absl::StrCat("test ", v1::Role_Name(role)));
  request.set_mediator_id(mediator_id);
  request.set_organisation_id(organisation_id);
  request.set_case_id(case_id);
  request.set_party_id(party_id);
  v1::IssueTokenResponse response;
  grpc::Status status = admin_->IssueToken(WithToken(admin_secret_).get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.secret();
}

const std::string& TestServer::case_support() {
  if (case_support_.empty()) case_support_ = IssueToken(v1::ROLE_CASE_SUPPORT);
  return case_support_;
}

int64_t TestServer::RegisterOrganisation(const std::string& name, v1::Nation nation) {
  v1::RegisterOrganisationRequest request;
  *request.mutable_organisation() = ValidOrganisation(name);
  request.mutable_organisation()->set_nation(nation);
  v1::RegisterOrganisationResponse response;
  grpc::Status status =
      organisations_->RegisterOrganisation(WithToken(case_support()).get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.organisation().id();
}

v1::Case TestServer::CreateReferral(int64_t organisation_id, const EditReferral& edit) {
  v1::CreateReferralRequest request = ValidReferral(organisation_id);
  if (edit) edit(request);
  v1::CreateReferralResponse response;
  grpc::Status status =
      referrals_->CreateReferral(WithToken(case_support()).get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.case_();
}

const std::string& TestServer::senior_adviser() {
  if (senior_adviser_.empty()) senior_adviser_ = IssueToken(v1::ROLE_SENIOR_ADVISER);
  return senior_adviser_;
}

void TestServer::AnswerAll(const v1::Case& c, v1::CriterionAnswer answer) {
  auto record = [&](v1::Criterion criterion, int64_t party_id) {
    v1::RecordScreeningAnswerRequest r;
    r.set_case_id(c.id());
    r.set_criterion(criterion);
    r.set_party_id(party_id);
    r.set_answer(answer);
    if (answer != v1::CRITERION_ANSWER_MET) r.set_note("recorded by the test");
    v1::RecordScreeningAnswerResponse out;
    grpc::Status status =
        screening_->RecordScreeningAnswer(WithToken(case_support()).get(), r, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
  };
  for (v1::Criterion per_party :
       {v1::CRITERION_JOINT_PROBLEM, v1::CRITERION_WILLING, v1::CRITERION_FIT_TO_ATTEND}) {
    for (const v1::Party& p : c.parties()) record(per_party, p.id());
  }
  for (v1::Criterion per_case : {v1::CRITERION_NOT_CONTRACTUAL, v1::CRITERION_NO_FORMAL_PROCESS,
                                 v1::CRITERION_NO_RELATIONSHIP}) {
    record(per_case, 0);
  }
}

void TestServer::MakeSuitable(const v1::Case& c) {
  AnswerAll(c, v1::CRITERION_ANSWER_MET);
  v1::RecordScreeningDecisionRequest r;
  r.set_case_id(c.id());
  r.set_confirm_high_concern(true);
  v1::RecordScreeningDecisionResponse out;
  grpc::Status status =
      screening_->RecordScreeningDecision(WithToken(senior_adviser()).get(), r, &out);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(out.state(), v1::CASE_STATE_SUITABLE);
}

v1::CaseState TestServer::StateOf(int64_t case_id) {
  v1::GetCaseRequest r;
  r.set_case_id(case_id);
  v1::GetCaseResponse out;
  grpc::Status status = referrals_->GetCase(WithToken(case_support()).get(), r, &out);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return out.case_().state();
}

int64_t TestServer::RegisterMediator(const v1::Mediator& m) {
  v1::RegisterMediatorRequest r;
  *r.mutable_mediator() = m;
  v1::RegisterMediatorResponse out;
  grpc::Status status = mediators_->RegisterMediator(WithToken(admin_secret_).get(), r, &out);
  EXPECT_TRUE(status.ok()) << status.error_message();
  v1::SetWorkingPatternRequest pattern;
  pattern.set_mediator_id(out.mediator().id());
  for (int day = 1; day <= 5; ++day) {
    v1::WorkingHours* h = pattern.add_hours();
    h->set_weekday(day);
    h->mutable_start()->set_hours(9);
    h->mutable_end()->set_hours(17);
  }
  v1::SetWorkingPatternResponse set;
  status = mediators_->SetWorkingPattern(WithToken(admin_secret_).get(), pattern, &set);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return out.mediator().id();
}

int64_t TestServer::Allocate(int64_t case_id, int64_t mediator_id, v1::AllocationRole role) {
  v1::AllocateMediatorRequest r;
  r.set_case_id(case_id);
  r.set_mediator_id(mediator_id);
  r.set_role(role);
  v1::AllocateMediatorResponse out;
  grpc::Status status = allocation_->AllocateMediator(WithToken(case_support()).get(), r, &out);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return out.allocation().id();
}

grpc::Status TestServer::SetMediatorsRequired(int64_t case_id, int count) {
  v1::SetMediatorsRequiredRequest r;
  r.set_case_id(case_id);
  r.set_count(count);
  v1::SetMediatorsRequiredResponse out;
  return allocation_->SetMediatorsRequired(WithToken(case_support()).get(), r, &out);
}

v1::Case TestServer::AllocatedCase(int64_t organisation_id, int64_t lead,
                                   const std::string& lead_token, int64_t co,
                                   const std::string& co_token, const EditReferral& edit) {
  const v1::Case c = CreateReferral(organisation_id, edit);
  MakeSuitable(c);
  if (co == 0) {
    EXPECT_TRUE(SetMediatorsRequired(c.id(), 1).ok());
  }
  const grpc::Status lead_answer =
      Respond(lead_token, Allocate(c.id(), lead, v1::ALLOCATION_ROLE_LEAD), true);
  EXPECT_TRUE(lead_answer.ok()) << lead_answer.error_message();
  if (co != 0) {
    const grpc::Status co_answer =
        Respond(co_token, Allocate(c.id(), co, v1::ALLOCATION_ROLE_CO_MEDIATOR), true);
    EXPECT_TRUE(co_answer.ok()) << co_answer.error_message();
  }
  EXPECT_EQ(StateOf(c.id()), v1::CASE_STATE_MEDIATORS_ALLOCATED);
  return c;
}

grpc::Status TestServer::Respond(const std::string& mediator_token, int64_t allocation_id,
                                 bool accept, v1::DeclineReason reason, int64_t conflict_party_id) {
  v1::RespondToAllocationRequest r;
  r.set_allocation_id(allocation_id);
  r.set_accept(accept);
  if (!accept) {
    r.set_decline_reason(reason);
    r.set_note("declined by the test");
    r.set_conflict_party_id(conflict_party_id);
  }
  v1::RespondToAllocationResponse out;
  return allocation_->RespondToAllocation(WithToken(mediator_token).get(), r, &out);
}

void TestServer::SettleOutbox() {
  for (int tries = 0; tries < 400; ++tries) {
    v1::ListNotificationsRequest r;
    r.set_state(v1::NOTIFICATION_STATE_PENDING);
    r.set_page_size(500);
    v1::ListNotificationsResponse pending;
    const grpc::Status s =
        notifications_->ListNotifications(WithToken(admin_secret_).get(), r, &pending);
    ASSERT_TRUE(s.ok()) << s.error_message();
    const int64_t now = absl::ToUnixSeconds(server_->options().clock());
    if (std::none_of(pending.notifications().begin(), pending.notifications().end(),
                     [&](const v1::Notification& n) { return n.due_at().seconds() <= now; })) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ADD_FAILURE() << "emails due now are still waiting to be handled";
}

absl::Status TestServer::ReadStore(const storage::TxFn& fn) const {
  absl::StatusOr<std::unique_ptr<storage::EngineStore>> store = storage::OpenDatabase(
      {.db = db_path(), .master_keys = server_ ? server_->master_keys() : nullptr});
  if (!store.ok()) return store.status();
  return (*store)->Read(fn);
}

std::unique_ptr<SQLite::Database> TestServer::OpenDb() const {
  return std::make_unique<SQLite::Database>(db_path(), SQLite::OPEN_READONLY);
}

std::unique_ptr<SQLite::Database> TestServer::OpenDbForTampering() const {
  auto db = std::make_unique<SQLite::Database>(db_path(), SQLite::OPEN_READWRITE);
  db->setBusyTimeout(5000);
  return db;
}

int TestServer::Tamper(const std::string& sql) const {
  if (!on_postgres()) return OpenDbForTampering()->exec(sql);
  storage::PgConnection conn(db_path());
  storage::StatementImpl* st = conn.Acquire(sql);
  const int changed = st->Exec();
  conn.Release(st);
  return changed;
}

namespace {

// Each statement's first column of its first row, on a connection of its own to `db`.
std::vector<std::string> QueryOnce(const std::string& db, const std::vector<std::string>& sql) {
  std::vector<std::string> values;
  absl::StatusOr<std::unique_ptr<storage::EngineStore>> store = storage::OpenDatabase({.db = db});
  if (!store.ok()) throw std::runtime_error(std::string(store.status().message()));
  const absl::Status read = (*store)->Read([&](storage::Tx& tx) -> absl::Status {
    for (const std::string& one : sql) {
      storage::Statement st(tx, one);
      if (!st.executeStep()) return absl::NotFoundError(absl::StrCat("no row: ", one));
      values.push_back(st.getColumn(0).getString());
    }
    return absl::OkStatus();
  });
  if (!read.ok()) throw std::runtime_error(std::string(read.message()));
  return values;
}

void AppendFile(const std::filesystem::path& path, std::string& all) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  all += bytes.str();
}

}  // namespace

std::string TestServer::TamperRefused(const std::string& sql) const {
  try {
    Tamper(sql);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::string TestServer::BytesLiteral(const std::string& text) const {
  std::string hex;
  for (unsigned char c : text) absl::StrAppend(&hex, absl::Hex(c, absl::kZeroPad2));
  return on_postgres() ? absl::StrCat("'\\x", hex, "'::bytea") : absl::StrCat("x'", hex, "'");
}

int64_t TestServer::QueryInt64(const std::string& sql) const {
  int64_t value = 0;
  const absl::Status read = ReadStore([&](storage::Tx& tx) -> absl::Status {
    value = storage::SelectInt64(tx, sql);
    return absl::OkStatus();
  });
  if (!read.ok()) throw std::runtime_error(std::string(read.message()));
  return value;
}

std::string TestServer::QueryBytes(const std::string& sql) const {
  return QueryOnce(db_path(), {sql}).front();
}

std::vector<std::vector<std::string>> TestServer::QueryRows(const std::string& sql) const {
  std::vector<std::vector<std::string>> rows;
  const absl::Status read = ReadStore([&](storage::Tx& tx) -> absl::Status {
    storage::Statement st(tx, sql);
    while (st.executeStep()) {
      std::vector<std::string>& row = rows.emplace_back();
      for (int i = 0; i < st.getColumnCount(); ++i) {
        row.push_back(st.isColumnNull(i) ? "NULL" : st.getColumn(i).getString());
      }
    }
    return absl::OkStatus();
  });
  if (!read.ok()) throw std::runtime_error(std::string(read.message()));
  return rows;
}

void TestServer::Checkpoint() const {
  Tamper(on_postgres() ? "CHECKPOINT" : "PRAGMA wal_checkpoint(TRUNCATE)");
}

std::string TestServer::DiskBytes() const {
  std::string all;
  if (!on_postgres()) {
    for (const char* suffix : {"", "-wal", "-shm"}) AppendFile(db_path() + suffix, all);
    return all;
  }
  // The WAL first (the test cluster keeps segments: wal_keep_size), then this database's files
  // once a CHECKPOINT has written every committed change to them.
  const std::vector<std::string> found =
      QueryOnce(db_path(), {"SHOW data_directory",
                            "SELECT oid::text FROM pg_database WHERE datname = current_database()",
                            "SELECT pg_walfile_name(pg_current_wal_lsn())"});
  const std::filesystem::path data = found[0];
  // WAL segment names sort in the order they were written (one timeline here).
  for (const auto& entry : std::filesystem::directory_iterator(data / "pg_wal")) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.size() == 24 && name >= first_wal_file_ &&
        name <= found[2]) {
      AppendFile(entry.path(), all);
    }
  }
  Checkpoint();
  for (const auto& entry : std::filesystem::directory_iterator(data / "base" / found[1])) {
    if (entry.is_regular_file()) AppendFile(entry.path(), all);
  }
  return all;
}

int64_t TestServer::CountRows(const std::string& table, const std::string& where) const {
  int64_t count = -1;
  absl::Status read = ReadStore([&](storage::Tx& tx) -> absl::Status {
    count =
        storage::SelectInt64(tx, absl::StrCat("SELECT COUNT(*) FROM ", table,
                                              where.empty() ? "" : absl::StrCat(" WHERE ", where)));
    return absl::OkStatus();
  });
  if (!read.ok()) ADD_FAILURE() << "counting " << table << ": " << read;
  return count;
}

std::string TestServer::Log() const {
  std::fflush(log_);
  std::ifstream in(dir_.File("server.log"));
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace mediation::testing
