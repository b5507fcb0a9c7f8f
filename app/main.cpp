// vringsim's command line: parse, load, run, report. Thin on purpose: the
// work is in sim/ (core, world) and models/ (plug-ins).
//
// Exit codes (CONTRACT.md): 0 success; 1 some work failed; 2 bad input or
// usage, nothing run or written; 3 an invariant broke.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include "app/analytic_cmd.hpp"
#include "app/calibrate_cmd.hpp"
#include "app/command.hpp"
#include "app/diff_cmd.hpp"
#include "app/exit_codes.hpp"
#include "app/plot_cmd.hpp"
#include "app/ring_size_cmd.hpp"
#include "app/run_cmd.hpp"
#include "app/schema_cmd.hpp"
#include "app/sensitivity_cmd.hpp"
#include "sim/core/cost_preset.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/profile.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/sweep.hpp"
#include "sim/core/topology.hpp"
#include "sim/core/traffic.hpp"
#include "sim/world/runner.hpp"
#include "sim/world/sweep_runner.hpp"
#include "sim/world/world.hpp"

namespace fs = std::filesystem;
using namespace vringsim;

namespace {

// Exit codes: app/exit_codes.hpp

int cmd_validate(const std::vector<std::string>& files, const std::vector<std::string>& sets, bool override_axis) {
  int code = kExitOk;
  for (const auto& f : files) {
    try {
      // A sweep or calibration file is checked as what it is (validate once
      // refused sweeps: "/axes: unknown key"): told apart by its keys.
      const Json doc = read_json_file(f);
      if (doc.is_object() && doc.contains("axes")) {
        const Sweep sw = load_sweep(f, sets, {}, override_axis);
        std::cout << fmt::format("{}: ok (sweep {}, {} points x {} replications = {} runs)\n", f, sw.name,
                                 sw.points.size(), sw.replications, sw.points.size() * sw.replications);
        continue;
      }
      if (doc.is_object() && doc.contains("points") && doc.contains("parameters")) {
        const Calibration c = load_calibration(f);
        std::cout << fmt::format("{}: ok (calibration, {} parameters, {} points)\n", f, c.params.size(),
                                 c.points.size());
        continue;
      }
      const Scenario s = load_scenario(f, sets);
      const std::string topology =
          s.topology.declared ? fmt::format(", {} guests, {} queues", s.topology.guests.size(), s.topology.total_queues())
                              : std::string();
      std::cout << fmt::format("{}: ok ({}, policy {}, ring {}{})\n", f, s.name, s.run.policy, s.run.ring_size,
                               topology);
    } catch (const InputError& e) {
      std::cerr << e.what() << "\n";
      code = kExitBadInput;
    }
  }
  return code;
}

Command validate_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> files, sets;
    bool override_axis = false;
  };
  auto a = std::make_shared<Args>();
  auto* cli = app.add_subcommand("validate", "check scenario files, run nothing");
  cli->add_option("files", a->files, "scenario JSON files")->required();
  cli->add_option("--set", a->sets, "KEY=VALUE overrides to check as well");
  cli->add_flag("--override-axis", a->override_axis,
                "sweep files: let a --set override an axis, as sweep --override-axis does");
  return {cli, [a] { return cmd_validate(a->files, a->sets, a->override_axis); }};
}

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

Command params_command(CLI::App& app) {
  auto policy = std::make_shared<std::string>();
  auto* cli = app.add_subcommand("params", "every parameter: key, unit, default, valid range, source");
  cli->add_option("policy", *policy, "only the core's parameters and this policy's");
  return {cli, [policy] { return cmd_params(*policy); }};
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

Command features_command(CLI::App& app) {
  return {app.add_subcommand("features", "virtio feature names, their dependencies and their effect"), cmd_features};
}

int cmd_profiles() {
  for (const ProfileInfo* p : Registry<ProfileInfo>::instance().all())
    std::cout << fmt::format("{:<14} {}\n", p->name, p->description);
  return kExitOk;
}

Command profiles_command(CLI::App& app) {
  return {app.add_subcommand("profiles", "driver profiles (driver.profile), one line each"), cmd_profiles};
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

Command presets_command(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto* cli = app.add_subcommand("presets",
                                 "shipped cost presets (costs.preset), one line each; with a name, "
                                 "its every value and source");
  cli->add_option("name", *name, "a preset's name: list its values");
  return {cli, [name] { return cmd_presets(*name); }};
}

int cmd_trace_info(const std::string& file, bool as_json) {
  require_input_file(file, "a capture or CSV trace");
  for (const TrafficInfo* k : Registry<TrafficInfo>::instance().all()) {
    if (!k->describe) continue;
    auto info = k->describe(file);
    if (!info) continue;
    Json j = {{"file", file}, {"kind", k->name}};
    j.update(*info);
    if (as_json) {
      std::cout << j.dump(2) << "\n";
      return kExitOk;
    }
    auto rows = flatten(j);
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return natural_less(a.first, b.first); });
    for (const auto& [key, value] : rows) std::cout << fmt::format("{:<30} {}\n", key, value);
    return kExitOk;
  }
  std::string kinds;
  for (const TrafficInfo* k : Registry<TrafficInfo>::instance().all())
    if (k->describe) kinds += (kinds.empty() ? "" : ", ") + k->name;
  throw InputError(fmt::format("{}: not a trace any traffic kind reads ({})", file, kinds));
}

Command trace_info_command(CLI::App& app) {
  struct Args {
    std::string file;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cli = app.add_subcommand("trace-info", "describe a capture or CSV trace");
  cli->add_option("file", a->file, "pcap, pcapng or CSV trace")->required();
  cli->add_flag("--json", a->json, "print JSON");
  return {cli, [a] { return cmd_trace_info(a->file, a->json); }};
}

int cmd_policies() {
  for (const PolicyInfo* p : Registry<PolicyInfo>::instance().all())
    std::cout << fmt::format("{:<12} {}\n", p->name, p->description);
  return kExitOk;
}

Command policies_command(CLI::App& app) {
  return {app.add_subcommand("policies", "registered policies, one line each"), cmd_policies};
}

struct SweepArgs {
  std::string file, out;
  std::string jobs;  ///< --jobs as typed; empty: default_jobs()
  std::string shard;
  std::vector<std::string> sets;
  bool dry_run = false, override_axis = false;
};

int cmd_sweep(const SweepArgs& a) {
  if (a.out.empty() && !a.dry_run) throw InputError("sweep: --out DIR is required (except with --dry-run)");
  SweepOptions opt;
  std::tie(opt.jobs, opt.jobs_from) = default_jobs();
  opt.dry_run = a.dry_run;
  if (!a.shard.empty()) opt.shard = parse_shard(a.shard);
  if (!a.jobs.empty()) {
    opt.jobs = static_cast<unsigned>(parse_decimal("--jobs", a.jobs, 1, 4096));
    opt.jobs_from = "--jobs";
  }
  opt.out = a.out;
  const Sweep sw = load_sweep(a.file, a.sets, {}, a.override_axis);
  for (const std::string& note : sw.axis_overrides) std::cerr << note << "\n";
  return run_sweep(sw, opt);
}

Command sweep_command(CLI::App& app) {
  auto a = std::make_shared<SweepArgs>();
  auto* cli = app.add_subcommand("sweep", "run a sweep: one process per run, --jobs at a time, resumable");
  cli->add_option("spec", a->file, "sweep JSON file")->required();
  cli->add_option("--out", a->out, "results directory (rerun the same command to resume)");
  cli->add_option("--jobs", a->jobs, "runs at a time (default: the number of cores)");
  cli->add_option("--shard", a->shard, "K/N: run only every N-th point, starting with the K-th (1-based)");
  cli->add_flag("--dry-run", a->dry_run, "list the points and their count, run nothing");
  cli->add_option("--set", a->sets, "KEY=VALUE: override a scenario key in every run (after the axes)");
  cli->add_flag("--override-axis", a->override_axis,
                "let a --set override an axis: every point runs the --set value, and the reports show it "
                "(without it, such a --set is refused)");
  return {cli, [a] { return cmd_sweep(*a); }};
}

Command merge_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> dirs;
    std::string out;
    bool partial = false;
  };
  auto a = std::make_shared<Args>();
  auto* cli = app.add_subcommand("merge", "combine the shards of one sweep");
  cli->add_option("dirs", a->dirs, "shard directories")->required();
  cli->add_option("--out", a->out, "merged directory")->required();
  cli->add_flag("--partial", a->partial, "merge even if shards or runs are missing; the result is marked partial");
  return {cli, [a] {
            const std::vector<fs::path> dirs(a->dirs.begin(), a->dirs.end());
            return merge_sweeps(dirs, a->out, a->partial);
          }};
}

struct TopologyArgs {
  std::string file;
  std::optional<std::string> out;
  std::vector<std::string> sets;
  bool dot = false, expand = false;
};

int cmd_topology(const TopologyArgs& a) {
  const Scenario sc = load_scenario(a.file, a.sets);
  // Refused up front (exit 2), as run --out is; a bad path was exit 1.
  if (a.out) check_output_file(*a.out, "--out");
  const std::string text = a.dot ? sc.topology.dot(a.expand) : sc.topology.text();
  if (a.out)
    write_output_file(*a.out, text);
  else
    std::cout << text;
  return kExitOk;
}

Command topology_command(CLI::App& app) {
  auto a = std::make_shared<TopologyArgs>();
  auto* cli = app.add_subcommand("topology",
                                 "print a scenario's resolved topology (guests, queues, cores); "
                                 "--dot for Graphviz");
  cli->add_option("file", a->file, "scenario JSON file")->required();
  cli->add_option("--set", a->sets, "KEY=VALUE: override a scenario key");
  cli->add_flag("--dot", a->dot,
                "Graphviz DOT instead of text (dot -Tsvg draws it); the guests of one entry are one node");
  cli->add_flag("--expand", a->expand, "with --dot: every guest and every queue its own node")->needs("--dot");
  cli->add_option("--out", a->out, "write to this file instead of standard output");
  return {cli, [a] { return cmd_topology(*a); }};
}

/// Levenshtein distance, for "did you mean".
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// The first word is not a command: says so, naming the nearest command
/// (two edits at most) if there is one.
bool unknown_command(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return false;
  const std::string word = argv[1];
  std::string nearest;
  size_t best = 3;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == word) return false;
    const size_t d = edit_distance(word, sub->get_name());
    if (d < best) best = d, nearest = sub->get_name();
  }
  std::cerr << "vringsim: no command '" << word << "'"
            << (nearest.empty() ? std::string() : "; did you mean '" + nearest + "'?")
            << " (vringsim --help lists the commands)\n";
  return true;
}

/// --help and --version print and succeed; a usage error is one line, like
/// every other bad input (CLI11 adds a second, "Run with --help...").
int parse_error(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) return app.exit(e) == 0 ? kExitOk : kExitBadInput;  // --help, --version
  std::string what = e.what();
  std::replace(what.begin(), what.end(), '\n', ' ');
  std::cerr << "vringsim: " << brief(what, 300) << " (vringsim --help lists the options)\n";
  return kExitBadInput;
}

/// Runs the command the command line named; what it throws becomes one line
/// on standard error and the exit code (CONTRACT.md "Exit codes").
int run_reporting_errors(const Command& command) {
  try {
    return command.run();
  } catch (const InputError& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  } catch (const InvariantError& e) {
    std::cerr << "vringsim: invariant broken: " << e.what() << "\n";
    return kExitInternal;
  } catch (const std::filesystem::filesystem_error& e) {
    // Our own checks come first; one that slipped through still gets one
    // short line, the paths quoted in at most 120 characters.
    std::string paths;
    for (const auto& p : {e.path1(), e.path2()})
      if (!p.empty()) paths += " [" + brief(p.string(), 120) + "]";
    std::cerr << "vringsim: " << e.code().message() << paths << "\n";
    return kExitFailed;
  } catch (const std::exception& e) {
    std::cerr << "vringsim: " << brief(e.what(), 400) << "\n";
    return kExitFailed;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vringsim: a discrete-event simulator of virtio-net receive-ring buffering"};
  app.set_version_flag("--version", std::string("vringsim ") + version());
  app.require_subcommand(1);
  // Each adds its subcommand and options to `app`, in the order `vringsim
  // --help` lists them (a braced list is evaluated left to right).
  const std::vector<Command> commands = {
      run_command(app),      validate_command(app),   params_command(app),      policies_command(app),
      features_command(app), profiles_command(app),   presets_command(app),     sweep_command(app),
      merge_command(app),    trace_info_command(app), analytic_command(app),    calibrate_command(app),
      topology_command(app), diff_command(app),       sensitivity_command(app), ring_size_command(app),
      schema_command(app),   plot_command(app),
  };
  if (unknown_command(app, argc, argv)) return kExitBadInput;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return parse_error(app, e);
  }
  for (const Command& command : commands)
    if (command.cli->parsed()) return run_reporting_errors(command);
  return kExitBadInput;
}
