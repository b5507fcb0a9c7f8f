// vringsim's command line: parse, load, run, report. Thin on purpose: the
// work is in sim/ (core, world) and models/ (plug-ins).
//
// Exit codes (CONTRACT.md): 0 success; 1 some work failed; 2 bad input or
// usage, nothing run or written; 3 an invariant broke.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "app/analytic_cmd.hpp"
#include "app/calibrate_cmd.hpp"
#include "app/diff_cmd.hpp"
#include "app/plot_cmd.hpp"
#include "app/schema_cmd.hpp"
#include "app/ring_size_cmd.hpp"
#include "app/sensitivity_cmd.hpp"
#include "app/exit_codes.hpp"
#include "sim/core/cost_preset.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/profile.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/topology.hpp"
#include "sim/core/sweep.hpp"
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

/// A number on the command line: decimal digits only (no sign, no 0x, no
/// spaces), in lo..hi; else bad input quoting the text as given.
uint64_t parse_decimal(const std::string& option, const std::string& text, uint64_t lo, uint64_t hi) {
  const bool digits = !text.empty() && text.size() <= 20 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  errno = 0;
  const unsigned long long v = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  if (!digits || errno == ERANGE || v < lo || v > hi)
    throw InputError(fmt::format("{} {}: expected a decimal integer in {}..{}", option,
                                 text.empty() ? std::string("\"\"") : brief(text, 40), lo, hi));
  return v;
}

/// The CPUs this process may use: a Slurm task's (SLURM_CPUS_PER_TASK), else
/// the affinity mask a cgroup, taskset or the scheduler grants, never more
/// than the machine has (hardware_concurrency ignored all of these).
std::pair<unsigned, const char*> default_jobs() {
  if (const char* slurm = std::getenv("SLURM_CPUS_PER_TASK")) {
    char* end = nullptr;
    const long n = std::strtol(slurm, &end, 10);
    if (end != slurm && *end == 0 && n >= 1 && n <= 4096) return {static_cast<unsigned>(n), "SLURM_CPUS_PER_TASK"};
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return {static_cast<unsigned>(CPU_COUNT(&set)), "the CPU affinity mask"};
  return {std::max(1u, std::thread::hardware_concurrency()), "the machine's cores"};
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

int cmd_policies() {
  for (const PolicyInfo* p : Registry<PolicyInfo>::instance().all())
    std::cout << fmt::format("{:<12} {}\n", p->name, p->description);
  return kExitOk;
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

/// The first word is not a command: the nearest command's name (two edits
/// at most), or nothing.
std::optional<std::string> unknown_command(const CLI::App& app, int argc, char** argv, std::string* nearest) {
  if (argc < 2 || argv[1][0] == '-') return std::nullopt;
  const std::string word = argv[1];
  size_t best = 3;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == word) return std::nullopt;
    const size_t d = edit_distance(word, sub->get_name());
    if (d < best) best = d, *nearest = sub->get_name();
  }
  return word;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vringsim: a discrete-event simulator of virtio-net receive-ring buffering"};
  app.set_version_flag("--version", std::string("vringsim ") + version());
  app.require_subcommand(1);

  RunArgs run_args;
  auto* run = app.add_subcommand("run", "run scenario files; print a side-by-side table");
  run->add_option("files", run_args.files, "scenario JSON files")->required();
  auto* run_out = run->add_option("--out", run_args.out, "write summary.json, timeseries.csv per run and runs.csv here");
  run->add_option("--seed", run_args.seed, "same as --set seed=N");
  run->add_option("--set", run_args.sets,
                  "KEY=VALUE: override a scenario key (dotted path; VALUE is JSON or a string)");
  auto* run_trace = run->add_option("--trace", run_args.trace,
                  "write a per-event CSV here (one file per run: FILE.<name>.csv if several)");
  run->add_option("--trace-limit", run_args.trace_limit, "at most this many trace rows")->capture_default_str();
  run->add_option("--jobs", run_args.jobs, "runs at a time, each a child process (outputs as with 1)")
      ->capture_default_str();
  run->add_flag("--check", run_args.check,
                "verify the whole descriptor state (a Boost.Graph of the chains) after every event; slow");

  std::vector<std::string> validate_files, validate_sets;
  auto* validate = app.add_subcommand("validate", "check scenario files, run nothing");
  validate->add_option("files", validate_files, "scenario JSON files")->required();
  validate->add_option("--set", validate_sets, "KEY=VALUE overrides to check as well");
  bool validate_override_axis = false;
  validate->add_flag("--override-axis", validate_override_axis,
                     "sweep files: let a --set override an axis, as sweep --override-axis does");

  std::string params_policy;
  auto* params = app.add_subcommand("params", "every parameter: key, unit, default, valid range, source");
  params->add_option("policy", params_policy, "only the core's parameters and this policy's");

  auto* policies = app.add_subcommand("policies", "registered policies, one line each");
  auto* features = app.add_subcommand("features", "virtio feature names, their dependencies and their effect");
  auto* profiles = app.add_subcommand("profiles", "driver profiles (driver.profile), one line each");
  std::string presets_name;
  auto* presets = app.add_subcommand("presets", "shipped cost presets (costs.preset), one line each; with a name, "
                                                 "its every value and source");
  presets->add_option("name", presets_name, "a preset's name: list its values");

  std::string sweep_file, sweep_shard;
  std::vector<std::string> sweep_sets;
  SweepOptions sweep_opt;
  const auto [default_job_count, jobs_from] = default_jobs();
  sweep_opt.jobs = default_job_count;
  sweep_opt.jobs_from = jobs_from;
  std::string sweep_out;
  auto* sweep = app.add_subcommand("sweep", "run a sweep: one process per run, --jobs at a time, resumable");
  sweep->add_option("spec", sweep_file, "sweep JSON file")->required();
  sweep->add_option("--out", sweep_out, "results directory (rerun the same command to resume)");
  std::string sweep_jobs;
  sweep->add_option("--jobs", sweep_jobs, "runs at a time (default: the number of cores)");
  sweep->add_option("--shard", sweep_shard, "K/N: run only every N-th point, starting with the K-th (1-based)");
  sweep->add_flag("--dry-run", sweep_opt.dry_run, "list the points and their count, run nothing");
  sweep->add_option("--set", sweep_sets, "KEY=VALUE: override a scenario key in every run (after the axes)");
  bool sweep_override_axis = false;
  sweep->add_flag("--override-axis", sweep_override_axis,
                  "let a --set override an axis: every point runs the --set value, and the reports show it "
                  "(without it, such a --set is refused)");

  std::vector<std::string> merge_dirs;
  std::string merge_out;
  auto* merge = app.add_subcommand("merge", "combine the shards of one sweep");
  merge->add_option("dirs", merge_dirs, "shard directories")->required();
  merge->add_option("--out", merge_out, "merged directory")->required();
  bool merge_partial = false;
  merge->add_flag("--partial", merge_partial,
                  "merge even if shards or runs are missing; the result is marked partial");

  std::string trace_file;
  bool trace_json = false;
  auto* trace_info = app.add_subcommand("trace-info", "describe a capture or CSV trace");
  trace_info->add_option("file", trace_file, "pcap, pcapng or CSV trace")->required();
  trace_info->add_flag("--json", trace_json, "print JSON");

  std::vector<std::string> analytic_files, analytic_sets;
  bool analytic_json = false;
  auto* analytic = app.add_subcommand(
      "analytic", "an M/M/1/K Markov chain's prediction beside the simulator's figures (see docs/guide/analytic-cross-check.md)");
  analytic->add_option("files", analytic_files, "scenario JSON files whose assumptions the model meets")->required();
  analytic->add_option("--set", analytic_sets, "KEY=VALUE: override a scenario key");
  analytic->add_flag("--json", analytic_json, "print JSON");

  std::string calibrate_file, calibrate_out;
  auto* calibrate = app.add_subcommand(
      "calibrate", "fit named cost parameters to measured throughput (least squares, one simulation per evaluation)");
  calibrate->add_option("measurements", calibrate_file, "measurement JSON file (see docs/guide/calibrating.md)")->required();
  calibrate->add_option("--out", calibrate_out, "write the fitted costs here as a cost preset (costs.preset)");

  std::string topology_file;
  std::optional<std::string> topology_out;
  std::vector<std::string> topology_sets;
  bool topology_dot = false, topology_expand = false;
  auto* topology = app.add_subcommand("topology", "print a scenario's resolved topology (guests, queues, cores); "
                                                  "--dot for Graphviz");
  topology->add_option("file", topology_file, "scenario JSON file")->required();
  topology->add_option("--set", topology_sets, "KEY=VALUE: override a scenario key");
  topology->add_flag("--dot", topology_dot,
                     "Graphviz DOT instead of text (dot -Tsvg draws it); the guests of one entry are one node");
  topology->add_flag("--expand", topology_expand, "with --dot: every guest and every queue its own node")
      ->needs("--dot");
  topology->add_option("--out", topology_out, "write to this file instead of standard output");

  std::string diff_a, diff_b;
  DiffOptions diff_opt;
  auto* diff = app.add_subcommand(
      "diff", "two run or sweep directories figure by figure; exit 1 if a result moved by more than --tolerance");
  diff->add_option("a", diff_a, "first directory (run --out or sweep --out; every summary.json under it)")->required();
  diff->add_option("b", diff_b, "second directory, matched to the first by each summary's path")->required();
  diff->add_option("--tolerance", diff_opt.tolerance,
                   "change allowed, |B - A| / max(|A|, floor) (default 0: any change; 0.01 = 1%)");
  diff->add_option("--floor", diff_opt.floor,
                   "absolute floor of the change's denominator, so noise around 0 is no change (default 1e-9)");
  diff->add_flag("--all", diff_opt.all,
                 "compare the diagnostics too (measure.* but valid and steady, run.*, check.*), not only results");
  diff->add_option("--only", diff_opt.only, "PATTERN: compare only these figures (dotted key, prefix or glob; repeatable)");
  diff->add_option("--ignore", diff_opt.ignore, "PATTERN: leave these figures out (dotted key, prefix or glob; repeatable)");
  diff->add_flag("--list", diff_opt.list, "list every figure compared, not only those that moved");

  SensitivityArgs sens;
  std::string sens_jobs;
  auto* sensitivity = app.add_subcommand(
      "sensitivity", "elasticity of Gb/s, drops and p99 to each cost parameter (each moved down and up by --rel)");
  sensitivity->add_option("file", sens.file, "scenario JSON file")->required();
  sensitivity->add_option("--rel", sens.rel, "share to move each cost by, down and up (default 0.1)");
  sensitivity->add_option("--params", sens.params, "comma-separated costs.* keys (default: every cost above 0)");
  sensitivity->add_option("--set", sens.sets, "KEY=VALUE: override a scenario key in every run");
  sensitivity->add_option("--jobs", sens_jobs, "runs at a time (default: the number of cores)");
  sensitivity->add_option("--csv", sens.csv, "also write the table as CSV (for plotting)");

  RingSizeArgs ring;
  std::string ring_jobs;
  auto* ring_size = app.add_subcommand(
      "ring-size", "the ring size below which the device starves, computed, beside throughput at each ring size");
  ring_size->add_option("file", ring.file, "scenario JSON file")->required();
  ring_size->add_option("--sizes", ring.sizes, "comma-separated ring sizes (default: 8, 16, ... 4096)");
  ring_size->add_option("--set", ring.sets, "KEY=VALUE: override a scenario key in every run");
  ring_size->add_option("--jobs", ring_jobs, "runs at a time (default: the number of cores)");
  ring_size->add_option("--csv", ring.csv, "also write the table as CSV (for plotting)");

  std::string schema_kind = "scenario";
  auto* schema = app.add_subcommand("schema", "a JSON Schema (draft 2020-12) of scenario, sweep or calibration files");
  schema->add_option("kind", schema_kind, "scenario (default), sweep or calibration")
      ->check(CLI::IsMember({"scenario", "sweep", "calibration"}));

  std::string plot_input, plot_out, plot_formats;
  auto* plot = app.add_subcommand("plot", "figures (PNG, SVG) from a run or sweep directory (analysis/plot.py)");
  plot->add_option("input", plot_input, "run directory (run --out), sweep directory (sweep --out), or its CSV")
      ->required();
  plot->add_option("--out", plot_out, "directory for the figures")->required();
  plot->add_option("--format", plot_formats, "png,svg (default both)");

  std::string nearest;
  if (const auto word = unknown_command(app, argc, argv, &nearest)) {
    std::cerr << "vringsim: no command '" << *word << "'"
              << (nearest.empty() ? std::string() : "; did you mean '" + nearest + "'?")
              << " (vringsim --help lists the commands)\n";
    return kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e) == 0 ? kExitOk : kExitBadInput;  // --help, --version
    // A usage error is one line, like every other bad input (CLI11 adds a
    // second, "Run with --help...").
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    std::cerr << "vringsim: " << brief(what, 300) << " (vringsim --help lists the options)\n";
    return kExitBadInput;
  }
  try {
    if (run->parsed()) {
      run_args.out_given = run_out->count() > 0;
      run_args.trace_given = run_trace->count() > 0;
      return cmd_run(run_args);
    }
    if (validate->parsed()) return cmd_validate(validate_files, validate_sets, validate_override_axis);
    if (params->parsed()) return cmd_params(params_policy);
    if (policies->parsed()) return cmd_policies();
    if (features->parsed()) return cmd_features();
    if (profiles->parsed()) return cmd_profiles();
    if (presets->parsed()) return cmd_presets(presets_name);
    if (trace_info->parsed()) return cmd_trace_info(trace_file, trace_json);
    if (analytic->parsed()) return cmd_analytic(analytic_files, analytic_sets, analytic_json);
    if (calibrate->parsed()) return cmd_calibrate(calibrate_file, calibrate_out);
    if (plot->parsed()) return cmd_plot(plot_input, plot_out, plot_formats);
    if (diff->parsed()) return cmd_diff(diff_a, diff_b, diff_opt);
    if (schema->parsed()) return cmd_schema(schema_kind);
    if (sensitivity->parsed()) {
      sens.jobs = sens_jobs.empty() ? default_job_count : static_cast<unsigned>(parse_decimal("--jobs", sens_jobs, 1, 4096));
      return cmd_sensitivity(sens);
    }
    if (ring_size->parsed()) {
      ring.jobs = ring_jobs.empty() ? default_job_count : static_cast<unsigned>(parse_decimal("--jobs", ring_jobs, 1, 4096));
      return cmd_ring_size(ring);
    }
    if (topology->parsed()) {
      const Scenario sc = load_scenario(topology_file, topology_sets);
      // Refused up front (exit 2), as run --out is; a bad path was exit 1.
      if (topology_out) check_output_file(*topology_out, "--out");
      const std::string text = topology_dot ? sc.topology.dot(topology_expand) : sc.topology.text();
      if (topology_out)
        write_output_file(*topology_out, text);
      else
        std::cout << text;
      return kExitOk;
    }
    if (sweep->parsed()) {
      if (sweep_out.empty() && !sweep_opt.dry_run)
        throw InputError("sweep: --out DIR is required (except with --dry-run)");
      if (!sweep_shard.empty()) sweep_opt.shard = parse_shard(sweep_shard);
      if (!sweep_jobs.empty()) {
        sweep_opt.jobs = static_cast<unsigned>(parse_decimal("--jobs", sweep_jobs, 1, 4096));
        sweep_opt.jobs_from = "--jobs";
      }
      sweep_opt.out = sweep_out;
      const Sweep sw = load_sweep(sweep_file, sweep_sets, {}, sweep_override_axis);
      for (const std::string& note : sw.axis_overrides) std::cerr << note << "\n";
      return run_sweep(sw, sweep_opt);
    }
    if (merge->parsed()) {
      std::vector<fs::path> dirs(merge_dirs.begin(), merge_dirs.end());
      return merge_sweeps(dirs, merge_out, merge_partial);
    }
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
  return kExitBadInput;
}
