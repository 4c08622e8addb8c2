// Service-wide settings a handler may need, set once at start-up (flags of mediation-server).
#ifndef MEDIATION_SERVICES_CORE_SETTINGS_H_
#define MEDIATION_SERVICES_CORE_SETTINGS_H_

#include "absl/time/time.h"

namespace mediation {

struct ServiceSettings {
  // Free time kept between one person's sessions.
  absl::Duration session_buffer = absl::Minutes(30);
  // The earliest a session may start, counted from now.
  absl::Duration minimum_notice = absl::Hours(48);
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_SETTINGS_H_
