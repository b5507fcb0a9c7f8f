#include "app/inspect_cmd.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/calibrate_cmd.hpp"
#include "app/exit_codes.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/report.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/sweep.hpp"
#include "sim/core/topology.hpp"
#include "sim/core/traffic.hpp"

namespace vringsim {

namespace {

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

}  // namespace

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

}  // namespace vringsim
