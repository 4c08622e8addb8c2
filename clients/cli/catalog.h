// What mediationctl knows about the API: every service, method, message and field, with the
// comments from the .proto files (embedded at build time), and the `<noun> <verb>` commands that
// name the methods a person uses.
#ifndef MEDIATION_CLIENTS_CLI_CATALOG_H_
#define MEDIATION_CLIENTS_CLI_CATALOG_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include <memory>
#include <string>
#include <vector>

namespace mediation::cli {

// A command: `mediationctl <noun> <verb>` calls `method` (Service/Method).
struct Command {
  const char* noun;
  const char* verb;
  const char* method;
};

// One line per noun for `mediationctl --help`.
struct Noun {
  const char* name;
  const char* summary;
};

class Catalog {
 public:
  // Loads the embedded descriptor set; aborts with a message if it is corrupt (a build fault).
  Catalog();

  const google::protobuf::DescriptorPool& pool() const { return pool_; }

  // A new, empty message of `type` (from this catalog's pool).
  std::unique_ptr<google::protobuf::Message> New(const google::protobuf::Descriptor* type);

  // The method `name` ("Service/Method", "/pkg.Service/Method" or "pkg.Service.Method"); null
  // when there is none.
  const google::protobuf::MethodDescriptor* FindMethod(std::string name) const;

  // Every service of the API, in the order of the .proto files.
  std::vector<const google::protobuf::ServiceDescriptor*> Services() const;

  static const std::vector<Noun>& Nouns();
  static const std::vector<Command>& Commands();
  // The commands of `noun` (empty if it is not a noun).
  static std::vector<Command> CommandsOf(const std::string& noun);

  // The comment written above `descriptor` in its .proto file, without comment markers; empty
  // if none.
  template <typename Descriptor>
  static std::string Comment(const Descriptor* descriptor) {
    google::protobuf::SourceLocation location;
    if (descriptor == nullptr || !descriptor->GetSourceLocation(&location)) return "";
    return Trim(location.leading_comments);
  }
  // The first sentence (or line) of a comment.
  static std::string Summary(const std::string& comment);

 private:
  static std::string Trim(const std::string& comment);

  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_{&pool_};
};

}  // namespace mediation::cli

#endif  // MEDIATION_CLIENTS_CLI_CATALOG_H_
