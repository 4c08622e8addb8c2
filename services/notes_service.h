// gRPC adapter for NotesService: confidential notes, sealed with the case's notes key.
#ifndef MEDIATION_SERVICES_NOTES_SERVICE_H_
#define MEDIATION_SERVICES_NOTES_SERVICE_H_

#include "ppa/mediation/v1/notes.grpc.pb.h"
#include "services/core/raw_unary_service.h"
#include "storage/store.h"

namespace mediation {

// Destroys the notes of cases finished at least `retention` before `now`: their data keys are
// erased and their ciphertexts deleted, with an audit row per case. Returns how many cases.
absl::StatusOr<int> DestroyExpiredNotes(storage::Store& store, absl::Time now,
                                        absl::Duration retention);

class NotesServiceImpl final : public RawUnaryService<v1::NotesService> {
 public:
  explicit NotesServiceImpl(RpcRunner& runner);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_NOTES_SERVICE_H_
