// The email templates, embedded from services/notifications/templates/ at build time
// (embed_templates.cmake). `{{name}}` is a value (HTML-escaped in .html files), `{{{name}}}` a
// value used as it is (already HTML); see rules::FillTemplate.
#ifndef MEDIATION_SERVICES_NOTIFICATIONS_TEMPLATES_H_
#define MEDIATION_SERVICES_NOTIFICATIONS_TEMPLATES_H_

#include <string_view>
#include <utility>
#include <vector>

namespace mediation::notifications {

// (file name, text) for every template, e.g. ("session_invitation.txt", "...").
const std::vector<std::pair<std::string_view, std::string_view>>& Templates();

}  // namespace mediation::notifications

#endif  // MEDIATION_SERVICES_NOTIFICATIONS_TEMPLATES_H_
