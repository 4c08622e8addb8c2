// The web console's files: a request path resolved inside the web root, never outside it.
#ifndef MEDIATION_SERVICES_HTTP_STATIC_FILES_H_
#define MEDIATION_SERVICES_HTTP_STATIC_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mediation::http {

struct StaticFile {
  std::string content;
  std::string content_type;
  // Long caching for a content-hashed asset ("app-4F2K9QZX.js": its name changes with its
  // content); otherwise revalidated every time.
  std::string cache_control;
};

// The file `path` (a URL path, percent-encoded) names below `root`. "/" is index.html, and so
// is any path below /app/ that names no file (the console's own routes). PERMISSION_DENIED for
// a path that would leave the root (`..`, an encoded slash or NUL, a symbolic link out of it);
// NOT_FOUND when there is no such file.
absl::StatusOr<StaticFile> ResolveStatic(const std::string& root, absl::string_view path);

// The Content-Type served for a file name, by its extension.
std::string ContentTypeFor(absl::string_view name);

}  // namespace mediation::http

#endif  // MEDIATION_SERVICES_HTTP_STATIC_FILES_H_
