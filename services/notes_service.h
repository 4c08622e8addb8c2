// gRPC adapter for NotesService: confidential notes, sealed with the case's notes key.
#ifndef MEDIATION_SERVICES_NOTES_SERVICE_H_
#define MEDIATION_SERVICES_NOTES_SERVICE_H_

#include "ppa/mediation/v1/notes.grpc.pb.h"
#include "services/core/rpc_runner.h"
#include "storage/store.h"

namespace mediation {

// Destroys the notes of cases finished at least `retention` before `now`: their data keys are
// erased and their ciphertexts deleted, with an audit row per case. Returns how many cases.
absl::StatusOr<int> DestroyExpiredNotes(storage::Store& store, absl::Time now,
                                        absl::Duration retention);

class NotesServiceImpl final : public v1::NotesService::CallbackService {
 public:
  explicit NotesServiceImpl(RpcRunner& runner) : runner_(runner) {}

  grpc::ServerUnaryReactor* AddNote(grpc::CallbackServerContext* context,
                                    const v1::AddNoteRequest* request,
                                    v1::AddNoteResponse* response) override;
  grpc::ServerUnaryReactor* ListNotes(grpc::CallbackServerContext* context,
                                      const v1::ListNotesRequest* request,
                                      v1::ListNotesResponse* response) override;
  grpc::ServerUnaryReactor* GetNote(grpc::CallbackServerContext* context,
                                    const v1::GetNoteRequest* request,
                                    v1::GetNoteResponse* response) override;

 private:
  RpcRunner& runner_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_NOTES_SERVICE_H_
