#include "services/core/principal.h"

#include "absl/strings/str_cat.h"

namespace mediation {

std::string Principal::Describe() const {
  if (token_id == 0) return "anonymous";
  return absl::StrCat("token:", token_id, "/", v1::Role_Name(role),
                      by_certificate ? "/certificate" : "", by_session ? "/session" : "");
}

}  // namespace mediation
