#include "sim/core/cost_preset.hpp"

#include <fmt/format.h>

#include "sim/core/errors.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim {

bool names_preset_file(const std::string& value) {
  return value.find('/') != std::string::npos || value.ends_with(".json");
}

void check_cost_preset(const Json& preset, const std::string& file) {
  if (!preset.is_object() || !preset.contains("kind") || preset["kind"] != "vringsim-cost-preset")
    fail_input(file, "/kind", "not a cost preset (expected \"kind\": \"vringsim-cost-preset\")");
  if (!preset.contains("costs") || !preset["costs"].is_object()) fail_input(file, "/costs", "expected an object");
  if (preset.contains("latency") && !preset["latency"].is_object())
    fail_input(file, "/latency", "expected an object");
  std::set<std::string> keys;
  for (const char* section : {"costs", "latency"}) {
    if (!preset.contains(section) || preset[section].empty()) continue;  // ({}.flatten() is {"": null})
    const std::string top = std::string("/") + section;
    const Json flat = preset[section].flatten();  // (a temporary's items() would dangle)
    for (const auto& [ptr, value] : flat.items()) {
      const std::string key = fmt::format("{}.{}", section, pointer_to_key(ptr));
      const ParamSpec* spec = param_table().find(key);
      if (!spec || key == "costs.preset")
        fail_input(file, top + ptr, fmt::format("not a {} parameter", section == std::string("costs") ? "cost" : "latency"));
      const std::string err = spec->validate(value);
      if (!err.empty()) fail_input(file, top + ptr, err);
      keys.insert(key);
    }
  }
  // "sources": {"costs.guest.per_packet_ns": "[calibrated] ..."}: what each value rests on.
  if (!preset.contains("sources")) return;
  if (!preset["sources"].is_object()) fail_input(file, "/sources", "expected an object");
  for (const auto& [key, text] : preset["sources"].items()) {
    const std::string ptr = "/sources/" + key;
    if (!keys.contains(key)) fail_input(file, ptr, "names a key the preset does not set");
    if (!text.is_string() || text.get<std::string>().empty()) fail_input(file, ptr, "expected a non-empty string");
  }
}

}  // namespace vringsim
