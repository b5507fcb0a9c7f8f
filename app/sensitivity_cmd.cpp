#include "app/sensitivity_cmd.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <memory>

#include "app/exit_codes.hpp"
#include "sim/core/cost_model.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/report.hpp"
#include "sim/core/scenario.hpp"
#include "sim/world/runner.hpp"

namespace vringsim {

namespace {

constexpr int kFigures = 3;
constexpr const char* kFigureKeys[kFigures] = {"/throughput/delivered_gbps", "/packets/dropped", "/latency_us/p99"};
constexpr const char* kFigureNames[kFigures] = {"Gb/s", "drops", "p99"};

struct Job {
  Scenario scenario;
  double figures[kFigures] = {0, 0, 0};
  bool ok = false;
};

/// Runs every job, `jobs` child processes at a time, all forked from this
/// thread (run_in_children: a thread per job once hung a child under ASan).
void run_all(std::vector<Job>& work, unsigned jobs) {
  std::vector<Scenario> scenarios;
  for (const auto& j : work) scenarios.push_back(j.scenario);
  RunOptions opt;
  opt.timeseries = TimeseriesMode::Discard;
  const std::vector<RunOutcome> outcomes = run_in_children(scenarios, opt, jobs);
  for (size_t i = 0; i < work.size(); ++i) {
    const RunOutcome& o = outcomes[i];
    if (o.exit_code != 0) continue;
    for (int f = 0; f < kFigures; ++f) {
      const Json::json_pointer p(kFigureKeys[f]);
      work[i].figures[f] = o.result.summary.contains(p) ? o.result.summary.at(p).get<double>() : 0.0;
    }
    work[i].ok = true;
  }
}

double elasticity(double lo, double base, double hi, double rel) {
  if (base == 0) return std::numeric_limits<double>::quiet_NaN();
  return (hi - lo) / (2 * rel * base);
}

std::string shown_elasticity(double e) { return std::isnan(e) ? "-" : fmt::format("{:+.3f}", e); }

}  // namespace

int cmd_sensitivity(const SensitivityArgs& a) {
  if (!(a.rel > 0 && a.rel <= 0.9)) throw InputError(fmt::format("--rel {}: expected a share in (0, 0.9]", a.rel));
  // An explicitly empty list once ran every cost.
  if (a.params && a.params->empty())
    throw InputError("--params \"\": expected a comma-separated list of costs.* keys (vringsim params lists them)");
  // Before anything runs: a path that cannot be written once cost every run, then exit 1.
  if (a.csv) check_output_file(*a.csv, "--csv");
  const Scenario base = load_scenario(a.file, a.sets);
  const Json costs = CostModel::origins(base.config, base.cost_preset);
  std::vector<std::string> keys;
  if (!a.params) {
    for (const auto& [k, v] : costs.items())
      if (v["ns"].get<double>() > 0) keys.push_back(k);
  } else {
    const std::string& params = *a.params;
    for (size_t pos = 0; pos <= params.size();) {
      const size_t comma = std::min(params.find(',', pos), params.size());
      const std::string k = params.substr(pos, comma - pos);
      if (!costs.contains(k))
        throw InputError(fmt::format("--params: \"{}\" is not a cost parameter (vringsim params lists the costs.* "
                                     "keys)",
                                     brief(k)));
      if (costs[k]["ns"].get<double>() <= 0)
        throw InputError(fmt::format("--params: {} is 0 in this scenario: moving it by a share changes nothing", k));
      keys.push_back(k);
      pos = comma + 1;
    }
  }
  if (keys.empty()) throw InputError(fmt::format("{}: every cost is 0: nothing to move", a.file));

  // The base run, then each cost down and up.
  std::vector<Job> work;
  work.push_back({base});
  for (const auto& k : keys) {
    const double v = costs[k]["ns"].get<double>();
    for (const double f : {1 - a.rel, 1 + a.rel}) {
      std::vector<std::string> sets = a.sets;
      sets.push_back(fmt::format("{}={}", k, v * f));
      work.push_back({load_scenario(a.file, sets)});
    }
  }
  std::cerr << fmt::format("vringsim: {}: {} costs moved by {}%, {} runs, {} at a time\n", base.name, keys.size(),
                           100 * a.rel, work.size(), a.jobs);
  run_all(work, a.jobs);
  if (!work[0].ok) {
    std::cerr << fmt::format("vringsim: {}: the base run failed\n", a.file);
    return kExitFailed;
  }

  struct Row {
    std::string key, origin;
    double value;
    double e[kFigures], lo[kFigures], hi[kFigures];
    bool ok;
  };
  std::vector<Row> rows;
  int code = kExitOk;
  for (size_t i = 0; i < keys.size(); ++i) {
    const Job &lo = work[1 + 2 * i], &hi = work[2 + 2 * i];
    Row r{keys[i], costs[keys[i]]["origin"].get<std::string>(), costs[keys[i]]["ns"].get<double>(), {}, {}, {},
          lo.ok && hi.ok};
    if (!r.ok) code = kExitFailed;
    for (int f = 0; f < kFigures; ++f) {
      r.lo[f] = lo.figures[f];
      r.hi[f] = hi.figures[f];
      r.e[f] = r.ok ? elasticity(lo.figures[f], work[0].figures[f], hi.figures[f], a.rel)
                    : std::numeric_limits<double>::quiet_NaN();
    }
    rows.push_back(r);
  }
  auto largest = [](const Row& r) {
    double m = 0;
    for (double e : r.e)
      if (!std::isnan(e)) m = std::max(m, std::fabs(e));
    return m;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& x, const Row& y) { return largest(x) > largest(y); });

  std::cout << fmt::format("{}: base {:.4g} Gb/s, {:.0f} drops, p99 {:.4g} us; elasticities for costs moved by "
                           "±{}%:\n",
                           base.name, work[0].figures[0], work[0].figures[1], work[0].figures[2], 100 * a.rel);
  std::cout << fmt::format("{:<36} {:>10}  {:<12} {:>8} {:>8} {:>8}\n", "cost", "ns", "origin", kFigureNames[0],
                           kFigureNames[1], kFigureNames[2]);
  for (const Row& r : rows)
    std::cout << fmt::format("{:<36} {:>10.6g}  {:<12} {:>8} {:>8} {:>8}{}\n", r.key, r.value, r.origin,
                             shown_elasticity(r.e[0]), shown_elasticity(r.e[1]), shown_elasticity(r.e[2]),
                             r.ok ? "" : "  (a run failed)");
  std::cout << "(- : the figure is 0 in the base run)\n";
  if (a.csv) {
    std::string out = csv_line({"cost", "ns", "origin", "rel", "elasticity_gbps", "elasticity_drops",
                                "elasticity_p99_us", "gbps_down", "gbps_base", "gbps_up", "drops_down", "drops_base",
                                "drops_up", "p99_us_down", "p99_us_base", "p99_us_up"});
    for (const Row& r : rows) {
      std::vector<std::string> cells = {r.key, number_text(r.value), r.origin, number_text(a.rel)};
      for (double e : r.e) cells.push_back(std::isnan(e) ? "" : number_text(e));
      for (int f = 0; f < kFigures; ++f)
        for (double v : {r.lo[f], work[0].figures[f], r.hi[f]}) cells.push_back(number_text(v));
      out += csv_line(cells);
    }
    write_output_file(*a.csv, out);
  }
  return code;
}

Command sensitivity_command(CLI::App& app) {
  struct Args {
    SensitivityArgs sens;
    std::string jobs;  ///< --jobs as typed
  };
  auto a = std::make_shared<Args>();
  auto* cli = app.add_subcommand(
      "sensitivity", "elasticity of Gb/s, drops and p99 to each cost parameter (each moved down and up by --rel)");
  cli->add_option("file", a->sens.file, "scenario JSON file")->required();
  cli->add_option("--rel", a->sens.rel, "share to move each cost by, down and up (default 0.1)");
  cli->add_option("--params", a->sens.params, "comma-separated costs.* keys (default: every cost above 0)");
  cli->add_option("--set", a->sens.sets, "KEY=VALUE: override a scenario key in every run");
  cli->add_option("--jobs", a->jobs, "runs at a time (default: the number of cores)");
  cli->add_option("--csv", a->sens.csv, "also write the table as CSV (for plotting)");
  return {cli, [a] {
            a->sens.jobs = jobs_option(a->jobs);
            return cmd_sensitivity(a->sens);
          }};
}

}  // namespace vringsim
