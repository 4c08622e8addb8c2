#include "services/core/method_registry.h"

namespace mediation {

const MethodEntry& MethodRegistry::Add(MethodEntry entry) {
  auto it = entries_.find(entry.name);
  if (it != entries_.end()) return *it->second;
  std::string name = entry.name;
  return *entries_.emplace(std::move(name), std::make_unique<MethodEntry>(std::move(entry)))
              .first->second;
}

const MethodEntry* MethodRegistry::Find(absl::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second.get();
}

std::vector<const MethodEntry*> MethodRegistry::All() const {
  std::vector<const MethodEntry*> all;
  all.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) all.push_back(entry.get());
  return all;
}

MethodRegistry& Methods() {
  static MethodRegistry* registry = new MethodRegistry();
  return *registry;
}

}  // namespace mediation
