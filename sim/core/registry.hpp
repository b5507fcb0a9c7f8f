// Name -> plug-in registries. Each plug-in (policy, traffic kind, report
// writer) registers itself from its own translation unit with a static
// `Registrar`; the core only ever looks entries up by name.
//
// The registry lives in a function-local static (as SimGrid's
// simgrid_plugins() does) so registration from other translation units'
// static initialisers never runs before the registry exists.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/errors.hpp"

namespace vringsim {

template <class Entry>
class Registry {
 public:
  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  void add(Entry entry) {
    const std::string name = entry.name;
    if (!entries_.emplace(name, std::move(entry)).second) throw InvariantError("plug-in registered twice: " + name);
  }

  const Entry* find(std::string_view name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }

  /// Every entry, by name.
  std::vector<const Entry*> all() const {
    std::vector<const Entry*> out;
    for (const auto& [name, e] : entries_) out.push_back(&e);
    return out;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, e] : entries_) out.push_back(name);
    return out;
  }

 private:
  Registry() = default;
  std::map<std::string, Entry, std::less<>> entries_;
};

/// `static Registrar<PolicyInfo> reg{PolicyInfo{...}};` in a plug-in's source.
template <class Entry>
struct Registrar {
  explicit Registrar(Entry entry) { Registry<Entry>::instance().add(std::move(entry)); }
};

}  // namespace vringsim
