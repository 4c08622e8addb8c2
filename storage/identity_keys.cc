#include "storage/identity_keys.h"

#include "storage/retention.h"
#include "storage/sql.h"
#include "storage/sql_util.h"

namespace mediation::storage {

absl::StatusOr<int> RefreshIdentityKeys(Tx& tx, int limit, const IdentityFn& keys) {
  if (absl::Status s = tx.RequireWritable("refresh identity keys"); !s.ok()) return s;
  return Guard("refresh identity keys", [&]() -> absl::StatusOr<int> {
    int done = 0;
    {
      Statement read(tx, "SELECT id, name, email FROM parties WHERE identity_version < ? LIMIT ?");
      read.bind(1, kIdentityKeysVersion);
      read.bind(2, limit);
      Statement write(tx, "UPDATE parties SET person_key = ?, identity_version = ? WHERE id = ?");
      while (read.executeStep()) {
        const std::string email = read.getColumn(2).getString();
        write.reset();
        // An anonymised party has no key: nobody is to be recognised in it.
        write.bind(1, email == kRemoved ? std::string()
                                        : keys(read.getColumn(1).getString(), email).person_key);
        write.bind(2, kIdentityKeysVersion);
        write.bind(3, read.getColumn(0).getInt64());
        write.exec();
        ++done;
      }
    }
    {
      Statement read(tx,
                     "SELECT id, name, email FROM mediators WHERE identity_version < ? LIMIT ?");
      read.bind(1, kIdentityKeysVersion);
      read.bind(2, limit - done);
      Statement write(
          tx, "UPDATE mediators SET normalised_name = ?, identity_version = ? WHERE id = ?");
      while (read.executeStep()) {
        write.reset();
        write.bind(
            1, keys(read.getColumn(1).getString(), read.getColumn(2).getString()).normalised_name);
        write.bind(2, kIdentityKeysVersion);
        write.bind(3, read.getColumn(0).getInt64());
        write.exec();
        ++done;
      }
    }
    {
      Statement read(tx,
                     "SELECT id, person_name, person_email FROM mediator_conflicts "
                     "WHERE identity_version < ? LIMIT ?");
      read.bind(1, kIdentityKeysVersion);
      read.bind(2, limit - done);
      Statement write(tx,
                      "UPDATE mediator_conflicts SET normalised_name = ?, email_key = ?, "
                      "surname_key = ?, identity_version = ? WHERE id = ?");
      while (read.executeStep()) {
        const std::string name = read.getColumn(1).getString();
        IdentityKeys k;
        if (name != kRemoved) k = keys(name, read.getColumn(2).getString());
        write.reset();
        write.bind(1, k.normalised_name);
        write.bind(2, k.email_key);
        write.bind(3, k.surname_key);
        write.bind(4, kIdentityKeysVersion);
        write.bind(5, read.getColumn(0).getInt64());
        write.exec();
        ++done;
      }
    }
    return done;
  });
}

}  // namespace mediation::storage
