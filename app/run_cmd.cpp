#include "app/run_cmd.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "app/exit_codes.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/startup_stamp.hpp"
#include "sim/world/runner.hpp"
#include "sim/world/world.hpp"

namespace vringsim {

namespace fs = std::filesystem;

namespace {

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

/// The --set overrides, with --seed first as seed=N.
std::vector<std::string> overrides_of(const RunArgs& a) {
  std::vector<std::string> overrides = a.sets;
  if (a.seed) {
    // One range, the scenario's: --seed once took up to 2^63 - 1 while the
    // scenario refused anything above 9.2e18.
    const ParamSpec& seed = *param_table().find("seed");
    overrides.insert(overrides.begin(),
                     fmt::format("seed={}", parse_decimal("--seed", *a.seed, static_cast<uint64_t>(*seed.int_min),
                                                          static_cast<uint64_t>(*seed.int_max))));
  }
  return overrides;
}

/// Every file loaded and checked; two runs of one name are refused (they
/// would share an output directory).
std::vector<Scenario> load_scenarios(const std::vector<std::string>& files, const std::vector<std::string>& overrides) {
  std::vector<Scenario> scenarios;
  std::map<std::string, std::string> names;
  for (const auto& f : files) {
    scenarios.push_back(load_scenario(f, overrides));
    const auto& s = scenarios.back();
    if (auto it = names.find(s.name); it != names.end())
      throw InputError(fmt::format("{}: /name: \"{}\" is also the name of {} (each run needs its own output directory)",
                                   f, s.name, it->second));
    names.emplace(s.name, f);
  }
  return scenarios;
}

/// Each run's options: its trace, and where its timeseries.csv goes. Makes
/// --out and clears what killed runs of the same names left in it.
std::vector<RunOptions> run_options(const RunArgs& a, const std::vector<Scenario>& scenarios, uint64_t trace_limit) {
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
  return options;
}

/// The runs' outcomes, taken in the order given.
struct Landing {
  Landing(const RunArgs& args, const std::vector<std::unique_ptr<ReportWriter>>& report_writers)
      : a(args), writers(report_writers) {}

  const RunArgs& a;
  const std::vector<std::unique_ptr<ReportWriter>>& writers;
  int code = kExitOk;
  std::vector<RunResult> results;  ///< the runs that succeeded (with --out: whose files landed)
  /// runs.csv failing fails every later run the same way: said once, at the
  /// end, per file and reason, with the runs it left out (it was one
  /// identical line per run, naming none).
  std::vector<std::pair<std::string, std::vector<std::string>>> unrecorded;

  /// One run's outcome: a failure raises the exit code; a run that measured
  /// nothing or not in steady state is warned of; with --out its files land.
  void take(const Scenario& s, const RunOptions& opt, RunOutcome&& o) {
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
    if (!a.out.empty() && !publish(s, opt, o.result)) return;
    results.push_back(std::move(o.result));
  }

  /// Each run's files land as soon as it finishes, together: a later
  /// failure keeps them, a failed write of this run leaves none of it.
  /// False if it failed (said, or kept for say_unrecorded).
  bool publish(const Scenario& s, const RunOptions& opt, const RunResult& r) {
    try {
      publish_run(a.out, r, results, writers);
      return true;
    } catch (const SharedFileError& e) {
      if (!opt.timeseries_path.empty()) fs::remove(opt.timeseries_path);
      auto it = std::find_if(unrecorded.begin(), unrecorded.end(), [&](const auto& u) { return u.first == e.what(); });
      if (it == unrecorded.end()) it = unrecorded.insert(unrecorded.end(), {e.what(), {}});
      it->second.push_back(s.name);
      code = std::max(code, kExitFailed);
      return false;
    } catch (const std::runtime_error& e) {
      if (!opt.timeseries_path.empty()) fs::remove(opt.timeseries_path);
      std::cerr << "vringsim: " << e.what() << "\n";
      code = std::max(code, kExitFailed);
      return false;
    }
  }

  void say_unrecorded() const {
    for (const auto& [what, names] : unrecorded) {
      std::string list;
      for (size_t i = 0; i < names.size() && i < 20; ++i) list += (i ? ", " : "") + names[i];
      if (names.size() > 20) list += fmt::format(" and {} more", names.size() - 20);
      std::cerr << fmt::format("vringsim: {}; {} run{} not recorded (nothing of {} kept): {}\n", what, names.size(),
                               names.size() == 1 ? "" : "s", names.size() == 1 ? "it" : "them", list);
    }
  }
};

int cmd_run(const RunArgs& a) {
  const std::vector<std::string> overrides = overrides_of(a);
  const uint64_t trace_limit = parse_decimal("--trace-limit", a.trace_limit, 0, UINT64_MAX);
  // Everything is loaded and checked before anything runs or is written.
  const std::vector<Scenario> scenarios = load_scenarios(a.files, overrides);
  startup_stamp("scenarios loaded");
  if (a.out_given && a.out.empty()) throw InputError("--out \"\": expected a directory name");
  if (!a.out.empty()) check_output_dir(a.out, "--out");
  // --trace "" once ran and wrote nothing, exit 0.
  if (a.trace_given) check_output_file(a.trace, "--trace");

  std::vector<std::unique_ptr<ReportWriter>> writers;
  for (const WriterInfo* w : Registry<WriterInfo>::instance().all()) writers.push_back(w->create());
  load_engine();  // SimGrid, now that there is something to simulate (and before --out is made)

  const auto jobs = static_cast<unsigned>(parse_decimal("--jobs", a.jobs, 1, 4096));
  const std::vector<RunOptions> options = run_options(a, scenarios, trace_limit);
  // --jobs runs at a time; each run's files land in the order given, as
  // soon as it and every earlier one have finished: the same bytes as one
  // at a time.
  Landing landing{a, writers};
  run_in_children(scenarios, options, jobs,
                  [&](size_t i, RunOutcome&& o) { landing.take(scenarios[i], options[i], std::move(o)); });
  landing.say_unrecorded();
  for (const auto& w : writers) w->print(std::cout, landing.results);
  return landing.code;
}

}  // namespace

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

}  // namespace vringsim
