#include "sim/core/cost_preset.hpp"

#include <fmt/format.h>

#include "sim/core/errors.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim {

bool names_preset_file(const std::string& value) {
  return value.find('/') != std::string::npos || value.ends_with(".json");
}

std::vector<PresetValue> preset_values(const Json& preset) {
  std::vector<PresetValue> out;
  for (const char* section : {"costs", "latency"}) {
    if (!preset.contains(section) || !preset[section].is_object() || preset[section].empty())
      continue;  // ({}.flatten() is {"": null})
    const Json flat = preset[section].flatten();  // (a temporary's items() would dangle)
    for (const auto& [ptr, value] : flat.items())
      out.push_back({fmt::format("{}.{}", section, pointer_to_key(ptr)), std::string("/") + section + ptr, value});
  }
  return out;
}

void check_cost_preset(const Json& preset, const std::string& file) {
  if (!preset.is_object() || !preset.contains("kind") || preset["kind"] != "vringsim-cost-preset")
    fail_input(file, "/kind", "not a cost preset (expected \"kind\": \"vringsim-cost-preset\")");
  if (!preset.contains("costs") || !preset["costs"].is_object()) fail_input(file, "/costs", "expected an object");
  if (preset.contains("latency") && !preset["latency"].is_object())
    fail_input(file, "/latency", "expected an object");
  std::set<std::string> keys;
  for (const PresetValue& v : preset_values(preset)) {
    const ParamSpec* spec = param_table().find(v.key);
    if (!spec || v.key == "costs.preset")
      fail_input(file, v.pointer, fmt::format("not a {} parameter", v.key.starts_with("costs.") ? "cost" : "latency"));
    const std::string err = spec->validate(v.value);
    if (!err.empty()) fail_input(file, v.pointer, err);
    keys.insert(v.key);
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
