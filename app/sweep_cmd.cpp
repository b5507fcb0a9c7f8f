#include "app/sweep_cmd.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "app/exit_codes.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/sweep.hpp"
#include "sim/world/sweep_runner.hpp"

namespace vringsim {

namespace {

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

}  // namespace

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
            const std::vector<std::filesystem::path> dirs(a->dirs.begin(), a->dirs.end());
            return merge_sweeps(dirs, a->out, a->partial);
          }};
}

}  // namespace vringsim
