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

struct RunArgs {
  std::vector<std::string> files;
  std::string out;
  std::optional<std::string> seed;  ///< --seed as typed (parse_decimal)
  std::vector<std::string> sets;
  std::string trace;
  std::string trace_limit = "100000";
  bool out_given = false;    ///< --out was on the command line (an empty one is refused)
  bool trace_given = false;  ///< --trace was, likewise
  bool check = false;
  std::string jobs = "1";  ///< --jobs as typed
};

std::string trace_path_for(const std::string& trace, const std::string& name, bool several) {
  if (!several) return trace;
  const fs::path p(trace);
  return (p.parent_path() / (p.stem().string() + "." + name + p.extension().string())).string();
}

/// A run killed mid-way (SIGKILL, power loss) leaves its streamed
/// ".NAME.timeseries.csv.tmp.PID" or its staging folder ".NAME.tmp.PID"
/// (and ".NAME.tmp.PID.old") behind: the next run of NAME into the directory
/// removes those whose process is gone.
void remove_stale_temporaries(const fs::path& out, const std::string& name) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out, ec)) {
    std::string f = e.path().filename().string();
    for (const std::string& prefix : {"." + name + ".timeseries.csv.tmp.", "." + name + ".tmp."}) {
      if (!f.starts_with(prefix)) continue;
      std::string pid = f.substr(prefix.size());
      if (pid.ends_with(".old")) pid.resize(pid.size() - 4);
      std::error_code rm;
      if (left_by_dead_process(pid)) fs::remove_all(e.path(), rm);
    }
  }
}

/// Puts one run's files in OUT/NAME together or not at all: each writer
/// writes into a hidden staging folder, runs.csv is rewritten listing the
/// run, and the folder takes its name last (replacing an earlier run of that
/// name in one step). A failed write leaves nothing of the run, the files
/// of earlier runs as they were, and names the file as the user will look
/// for it (OUT/NAME/summary.json, not the staging folder).
/// A file every run rewrites (runs.csv) could not be written: the message
/// names that file and not the run, which the caller names.
struct SharedFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void publish_run(const fs::path& out, const RunResult& r, std::vector<RunResult> landed,
                 const std::vector<std::unique_ptr<ReportWriter>>& writers) {
  const fs::path dir = out / r.name;
  const fs::path stage = out / fmt::format(".{}.tmp.{}", r.name, ::getpid());
  std::error_code ec;
  fs::remove_all(stage, ec);
  try {
    fs::create_directories(stage);
    for (const auto& w : writers) w->write_run(stage, r);
    landed.push_back(r);
    try {
      for (const auto& w : writers) w->write_all(out, landed);
    } catch (const WriteError& e) {
      throw SharedFileError(e.what());
    }
    replace_dir_atomic(stage, dir);
  } catch (const SharedFileError&) {
    fs::remove_all(stage, ec);
    throw;
  } catch (const std::exception& e) {
    fs::remove_all(stage, ec);
    std::string what = e.what();
    for (size_t at = what.find(stage.string()); at != std::string::npos; at = what.find(stage.string(), at))
      what.replace(at, stage.string().size(), dir.string());
    throw std::runtime_error(what + " (nothing of this run was kept)");
  }
}

int cmd_run(const RunArgs& a) {
  std::vector<std::string> overrides = a.sets;
  if (a.seed) {
    // One range, the scenario's: --seed once took up to 2^63 - 1 while the
    // scenario refused anything above 9.2e18.
    const ParamSpec& seed = *param_table().find("seed");
    overrides.insert(overrides.begin(),
                     fmt::format("seed={}", parse_decimal("--seed", *a.seed, static_cast<uint64_t>(*seed.int_min),
                                                          static_cast<uint64_t>(*seed.int_max))));
  }
  const uint64_t trace_limit = parse_decimal("--trace-limit", a.trace_limit, 0, UINT64_MAX);
  // Everything is loaded and checked before anything runs or is written.
  std::vector<Scenario> scenarios;
  std::map<std::string, std::string> names;
  for (const auto& f : a.files) {
    scenarios.push_back(load_scenario(f, overrides));
    const auto& s = scenarios.back();
    if (auto it = names.find(s.name); it != names.end())
      throw InputError(fmt::format("{}: /name: \"{}\" is also the name of {} (each run needs its own output directory)",
                                   f, s.name, it->second));
    names.emplace(s.name, f);
  }
  if (a.out_given && a.out.empty()) throw InputError("--out \"\": expected a directory name");
  if (!a.out.empty()) check_output_dir(a.out, "--out");
  // --trace "" once ran and wrote nothing, exit 0.
  if (a.trace_given) check_output_file(a.trace, "--trace");

  std::vector<std::unique_ptr<ReportWriter>> writers;
  for (const WriterInfo* w : Registry<WriterInfo>::instance().all()) writers.push_back(w->create());
  load_engine();  // SimGrid, now that there is something to simulate (and before --out is made)

  const auto jobs = static_cast<unsigned>(parse_decimal("--jobs", a.jobs, 1, 4096));
  std::vector<RunOptions> options(scenarios.size());
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const Scenario& s = scenarios[i];
    RunOptions& opt = options[i];
    if (!a.trace.empty()) {
      opt.trace_path = trace_path_for(a.trace, s.name, scenarios.size() > 1);
      opt.trace_format = "csv";  // `run --trace` writes the CSV event log (models/reports/trace_csv.cpp)
    }
    opt.trace_limit = trace_limit;
    opt.check = a.check;
    // timeseries.csv streams into the output directory as the run goes and
    // moves into the run's folder when it has finished; without --out
    // nobody reads it.
    if (a.out.empty()) {
      opt.timeseries = TimeseriesMode::Discard;
    } else {
      opt.timeseries = TimeseriesMode::Stream;
      fs::create_directories(a.out);
      remove_stale_temporaries(a.out, s.name);
      opt.timeseries_path = (fs::path(a.out) / fmt::format(".{}.timeseries.csv.tmp.{}", s.name, ::getpid())).string();
    }
  }

  int code = kExitOk;
  std::vector<RunResult> results;
  // runs.csv failing fails every later run the same way: said once, at the
  // end, per file and reason, with the runs it left out (it was one
  // identical line per run, naming none).
  std::vector<std::pair<std::string, std::vector<std::string>>> unrecorded;
  // --jobs runs at a time; each run's files land in the order given, as
  // soon as it and every earlier one have finished: the same bytes as one
  // at a time.
  run_in_children(scenarios, options, jobs, [&](size_t i, RunOutcome&& o) {
    const Scenario& s = scenarios[i];
    const RunOptions& opt = options[i];
    if (o.exit_code != 0) {
      if (!opt.timeseries_path.empty()) fs::remove(opt.timeseries_path);
      code = std::max(code, o.exit_code == kExitInternal ? kExitInternal : kExitFailed);
      return;
    }
    if (const Json& m = o.result.summary["measure"]; !m.value("valid", true))
      std::cerr << fmt::format("vringsim: {}: warning: {}: {}\n", s.name,
                               m.contains("deadlock_s") ? "deadlock" : "nothing measured",
                               m.value("problem", std::string()));
    else if (m.contains("steady") && m["steady"] == false)
      std::cerr << fmt::format("vringsim: {}: warning: not in steady state: {}\n", s.name,
                               m.value("steady_problem", std::string()));
    if (!a.out.empty()) {
      // Each run's files land as soon as it finishes, together: a later
      // failure keeps them, a failed write of this run leaves none of it.
      try {
        publish_run(a.out, o.result, results, writers);
      } catch (const SharedFileError& e) {
        if (!opt.timeseries_path.empty()) fs::remove(opt.timeseries_path);
        auto it = std::find_if(unrecorded.begin(), unrecorded.end(), [&](const auto& u) { return u.first == e.what(); });
        if (it == unrecorded.end()) it = unrecorded.insert(unrecorded.end(), {e.what(), {}});
        it->second.push_back(s.name);
        code = std::max(code, kExitFailed);
        return;
      } catch (const std::runtime_error& e) {
        if (!opt.timeseries_path.empty()) fs::remove(opt.timeseries_path);
        std::cerr << "vringsim: " << e.what() << "\n";
        code = std::max(code, kExitFailed);
        return;
      }
    }
    results.push_back(std::move(o.result));
  });
  for (const auto& [what, names] : unrecorded) {
    std::string list;
    for (size_t i = 0; i < names.size() && i < 20; ++i) list += (i ? ", " : "") + names[i];
    if (names.size() > 20) list += fmt::format(" and {} more", names.size() - 20);
    std::cerr << fmt::format("vringsim: {}; {} run{} not recorded (nothing of {} kept): {}\n", what, names.size(),
                             names.size() == 1 ? "" : "s", names.size() == 1 ? "it" : "them", list);
  }
  for (const auto& w : writers) w->print(std::cout, results);
  return code;
}

Command run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* cli = app.add_subcommand("run", "run scenario files; print a side-by-side table");
  cli->add_option("files", a->files, "scenario JSON files")->required();
  auto* out = cli->add_option("--out", a->out, "write summary.json, timeseries.csv per run and runs.csv here");
  cli->add_option("--seed", a->seed, "same as --set seed=N");
  cli->add_option("--set", a->sets, "KEY=VALUE: override a scenario key (dotted path; VALUE is JSON or a string)");
  auto* trace =
      cli->add_option("--trace", a->trace, "write a per-event CSV here (one file per run: FILE.<name>.csv if several)");
  cli->add_option("--trace-limit", a->trace_limit, "at most this many trace rows")->capture_default_str();
  cli->add_option("--jobs", a->jobs, "runs at a time, each a child process (outputs as with 1)")->capture_default_str();
  cli->add_flag("--check", a->check,
                "verify the whole descriptor state (a Boost.Graph of the chains) after every event; slow");
  return {cli, [a, out, trace] {
            a->out_given = out->count() > 0;
            a->trace_given = trace->count() > 0;
            return cmd_run(*a);
          }};
}

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
