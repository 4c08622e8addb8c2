#include "services/http/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mediation::http {
namespace {

constexpr size_t kMaxFileBytes = 64 * 1024 * 1024;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `path`; an encoded '/', '\\' or NUL, or a malformed escape, is refused: none
// names a file of the console.
absl::StatusOr<std::string> Decode(absl::string_view path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size()) return absl::InvalidArgumentError("malformed escape");
      const int hi = HexValue(path[i + 1]);
      const int lo = HexValue(path[i + 2]);
      if (hi < 0 || lo < 0) return absl::InvalidArgumentError("malformed escape");
      c = static_cast<char>(hi * 16 + lo);
      if (c == '/' || c == '\\' || c == '\0') {
        return absl::InvalidArgumentError("an encoded separator");
      }
      i += 2;
    } else if (c == '\\' || c == '\0') {
      return absl::InvalidArgumentError("a backslash");
    }
    out.push_back(c);
  }
  return out;
}

// "app-4F2K9QZX.js", "chunk-ABCD1234.css": esbuild's [name]-[hash] names.
bool ContentHashed(absl::string_view name) {
  const size_t dot = name.rfind('.');
  const size_t dash = name.rfind('-', dot);
  if (dot == absl::string_view::npos || dash == absl::string_view::npos) return false;
  const absl::string_view hash = name.substr(dash + 1, dot - dash - 1);
  if (hash.size() < 8) return false;
  for (const char c : hash) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c)) return false;
  }
  return true;
}

absl::StatusOr<StaticFile> Read(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return absl::NotFoundError("no such file");
  if (size > kMaxFileBytes) return absl::NotFoundError("too large to serve");
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError("unreadable");
  std::ostringstream content;
  content << in.rdbuf();
  const std::string name = file.filename().string();
  return StaticFile{
      .content = std::move(content).str(),
      .content_type = ContentTypeFor(name),
      // The pages under /app show case data once drawn: browsers keep no copy of them.
      .cache_control = ContentHashed(name) ? "public, max-age=31536000, immutable" : "no-store"};
}

}  // namespace

std::string ContentTypeFor(absl::string_view name) {
  const size_t dot = name.rfind('.');
  const std::string ext =
      dot == absl::string_view::npos ? "" : absl::AsciiStrToLower(name.substr(dot + 1));
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "woff") return "font/woff";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

absl::StatusOr<StaticFile> ResolveStatic(const std::string& root, absl::string_view path) {
  const std::string not_here = absl::StrCat("no such page: ", path);
  absl::StatusOr<std::string> decoded = Decode(path);
  if (!decoded.ok() || decoded->empty() || decoded->front() != '/') {
    return absl::PermissionDeniedError(absl::StrCat("refused: ", path, " is not a page here"));
  }
  for (absl::string_view segment : absl::StrSplit(*decoded, '/')) {
    if (segment == ".." || segment == ".") {
      return absl::PermissionDeniedError(absl::StrCat("refused: ", path, " leaves the web root"));
    }
  }
  std::error_code ec;
  const std::filesystem::path base = std::filesystem::canonical(root, ec);
  if (ec) return absl::NotFoundError(not_here);
  const bool console_route =
      *decoded == "/" || *decoded == "/app" || absl::StartsWith(*decoded, "/app/");
  std::filesystem::path wanted = base / std::filesystem::path(decoded->substr(1));
  if (*decoded == "/") wanted = base / "index.html";
  const std::filesystem::path resolved = std::filesystem::weakly_canonical(wanted, ec);
  if (!ec) {
    // A symbolic link (or anything else) that leads out of the root is refused.
    const std::string inside = resolved.string();
    const std::string prefix = base.string() + "/";
    if (!absl::StartsWith(inside, prefix)) {
      return absl::PermissionDeniedError(absl::StrCat("refused: ", path, " leaves the web root"));
    }
    if (std::filesystem::is_regular_file(resolved, ec)) return Read(resolved);
  }
  if (console_route) return Read(base / "index.html");
  return absl::NotFoundError(not_here);
}

}  // namespace mediation::http
