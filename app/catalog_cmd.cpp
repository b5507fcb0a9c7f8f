#include "app/catalog_cmd.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>

#include "app/exit_codes.hpp"
#include "sim/core/cost_preset.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/params.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/profile.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/scenario.hpp"

namespace vringsim {

namespace {

int cmd_params(const std::string& policy) {
  if (!policy.empty() && !Registry<PolicyInfo>::instance().find(policy)) {
    std::string names;
    for (const auto& n : Registry<PolicyInfo>::instance().names()) names += (names.empty() ? "" : ", ") + n;
    throw InputError(fmt::format("params: unknown policy \"{}\" (valid: {})", policy, names));
  }
  const std::string mine = "policy." + policy + ".";
  auto print = [](const ParamSpec* p) {
    const std::string type = p->unit.empty() ? p->type_name() : fmt::format("{} [{}]", p->type_name(), p->unit);
    std::cout << fmt::format("{:<42} {:<16} {:<12} {:<22} {}\n", p->key, type, p->default_value.dump(), p->range_text(),
                             p->source);
    if (!p->description.empty()) std::cout << fmt::format("    {}\n", p->description);
  };
  std::cout << fmt::format("{:<42} {:<16} {:<12} {:<22} {}\n", "key", "type [unit]", "default", "range", "source");
  for (const ParamSpec* p : param_table().all()) {
    if (!policy.empty() && p->key.rfind("policy.", 0) == 0 && p->key != "policy.name" && p->key.rfind(mine, 0) != 0)
      continue;
    print(p);
  }
  // The topology section: named nodes, <name> standing for each node's name.
  for (const ParamSpec* p : topology_params().all()) print(p);
  // What each driver profile sets (driver.profile), with each value's source.
  for (const ProfileInfo* pr : Registry<ProfileInfo>::instance().all()) {
    std::cout << fmt::format("\ndriver.profile \"{}\": {}\n", pr->name, pr->description);
    for (const ProfileSetting& s : pr->settings)
      std::cout << fmt::format("  {:<40} {}\n      {}\n", s.key, s.value.dump(), s.source);
  }
  return kExitOk;
}

int cmd_policies() {
  for (const PolicyInfo* p : Registry<PolicyInfo>::instance().all())
    std::cout << fmt::format("{:<12} {}\n", p->name, p->description);
  return kExitOk;
}

int cmd_features() {
  std::cout << fmt::format("{:<20} {:>3}  {:<24} {}\n", "feature", "bit", "needs", "effect in the model");
  for (const FeatureInfo& f : feature_table()) {
    std::string needs;
    for (const auto& n : feature_names(f.needs_any)) needs += (needs.empty() ? "" : " or ") + n;
    std::string effect = f.effect;
    if (!f.modelled) effect = "not modelled yet: refused";
    if (f.modelled && !f.offered_by_default) effect += "; not in host.features' default (QEMU: packed=on)";
    if (effect.empty()) effect = "none on the receive path";
    std::cout << fmt::format("{:<20} {:>3}  {:<24} {}\n", f.name, static_cast<unsigned>(f.feature),
                             needs.empty() ? "-" : needs, effect);
  }
  return kExitOk;
}

int cmd_profiles() {
  for (const ProfileInfo* p : Registry<ProfileInfo>::instance().all())
    std::cout << fmt::format("{:<14} {}\n", p->name, p->description);
  return kExitOk;
}

/// `presets`: the shipped cost presets, one line each; `presets NAME`: each
/// value of one, beside the default, with the preset's source for it.
int cmd_presets(const std::string& name) {
  if (name.empty()) {
    for (const CostPresetInfo* p : Registry<CostPresetInfo>::instance().all()) {
      const Json doc = parse_json(p->text, p->file);
      std::cout << fmt::format("{:<10} {}  {}\n", p->name, p->file, doc.value("description", ""));
    }
    return kExitOk;
  }
  const CostPresetInfo* p = Registry<CostPresetInfo>::instance().find(name);
  if (!p) {
    std::string names;
    for (const std::string& n : Registry<CostPresetInfo>::instance().names()) names += (names.empty() ? "" : ", ") + n;
    throw InputError(fmt::format("presets: no shipped preset \"{}\" (valid: {})", name, names));
  }
  const Json doc = parse_json(p->text, p->file);
  check_cost_preset(doc, p->file);
  std::cout << fmt::format("preset {} ({}): {}\n", p->name, p->file, doc.value("description", ""));
  std::cout << fmt::format("{:<36} {:>10} {:>10}  {}\n", "key", "value", "default", "source");
  for (const PresetValue& v : preset_values(doc)) {
    const std::string source = doc.contains("sources") && doc["sources"].contains(v.key)
                                   ? doc["sources"][v.key].get<std::string>()
                                   : "(no source given)";
    std::cout << fmt::format("{:<36} {:>10} {:>10}  {}\n", v.key, v.value.dump(),
                             param_table().find(v.key)->default_value.dump(), source);
  }
  if (doc.contains("fit")) std::cout << "fit: " << doc["fit"].dump() << "\n";
  return kExitOk;
}

}  // namespace

Command params_command(CLI::App& app) {
  auto policy = std::make_shared<std::string>();
  auto* cli = app.add_subcommand("params", "every parameter: key, unit, default, valid range, source");
  cli->add_option("policy", *policy, "only the core's parameters and this policy's");
  return {cli, [policy] { return cmd_params(*policy); }};
}

Command policies_command(CLI::App& app) {
  return {app.add_subcommand("policies", "registered policies, one line each"), cmd_policies};
}

Command features_command(CLI::App& app) {
  return {app.add_subcommand("features", "virtio feature names, their dependencies and their effect"), cmd_features};
}

Command profiles_command(CLI::App& app) {
  return {app.add_subcommand("profiles", "driver profiles (driver.profile), one line each"), cmd_profiles};
}

Command presets_command(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto* cli = app.add_subcommand("presets",
                                 "shipped cost presets (costs.preset), one line each; with a name, "
                                 "its every value and source");
  cli->add_option("name", *name, "a preset's name: list its values");
  return {cli, [name] { return cmd_presets(*name); }};
}

}  // namespace vringsim
