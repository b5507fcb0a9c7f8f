#include "app/ring_size_cmd.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>

#include "app/exit_codes.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/report.hpp"
#include "sim/core/ring_knee.hpp"
#include "sim/core/scenario.hpp"
#include "sim/world/runner.hpp"

namespace vringsim {

namespace {

std::vector<uint32_t> parse_sizes(const std::optional<std::string>& given) {
  std::vector<uint32_t> out;
  if (!given) {
    for (uint32_t s = 8; s <= 4096; s *= 2) out.push_back(s);
    return out;
  }
  // An explicitly empty list once ran the defaults.
  if (given->empty()) throw InputError("--sizes \"\": expected a comma-separated list of ring sizes (1..32768)");
  const std::string& text = *given;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string cell = text.substr(at, comma - at);
    char* end = nullptr;
    const unsigned long v = std::strtoul(cell.c_str(), &end, 10);
    if (cell.empty() || end != cell.c_str() + cell.size() || v < 1 || v > 32768)
      throw InputError(fmt::format("--sizes {}: \"{}\" is not a ring size (1..32768)", text, cell));
    out.push_back(static_cast<uint32_t>(v));
    at = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

struct SizeRow {
  uint32_t size = 0;
  bool ok = false;
  double gbps = 0, pps = 0, stall_s = 0, slots = 0;
  uint64_t stalls = 0, drops = 0;
  std::string note;  ///< why its figures are not a result (a deadlock, nothing measured)
};

double figure_or_zero(const Json& s, const char* ptr) {
  const Json::json_pointer p(ptr);
  return s.contains(p) ? s.at(p).get<double>() : 0.0;
}

/// A number in plain notation, never with an exponent (1280, not
/// 1.28e+03): `digits` significant digits, whole from 10^digits up, six
/// decimals below 0.001.
std::string plain(double v, int digits = 3) {
  if (std::abs(v) >= std::pow(10.0, digits)) return fmt::format("{:.0f}", v);
  if (v == 0 || std::abs(v) >= 0.001) return fmt::format("{:.{}g}", v, digits);
  return fmt::format("{:.6f}", v);
}

/// The descriptors one slot of the scenario's policy takes on a ring of
/// `size` entries (what load_scenario checks against the size).
size_t slot_descriptors(const Scenario& sc, uint32_t size) {
  return make_policy(sc.run.policy, PolicyContext{sc.config, "", sc.run.seed, sc.virtio, size})
      ->nominal_posting()
      .size();
}

}  // namespace

int cmd_ring_size(const RingSizeArgs& a) {
  std::vector<uint32_t> sizes = parse_sizes(a.sizes);
  // Before anything runs: a path that cannot be written once cost every run, then exit 1.
  if (a.csv) check_output_file(*a.csv, "--csv");
  if (!a.sizes) {
    // The default sizes start at 8, fewer entries than one slot of a
    // multi-descriptor policy (max-buffer: 20): those are left out, and
    // stderr says which. The largest holds a slot of every policy.
    const Scenario probe = load_scenario(a.file, [&] {
      auto sets = a.sets;
      sets.push_back(fmt::format("ring.size={}", sizes.back()));
      return sets;
    }());
    std::vector<uint32_t> kept;
    std::string skipped;
    size_t slot = 0;
    for (uint32_t size : sizes) {
      const size_t need = slot_descriptors(probe, size);
      if (need <= size) {
        kept.push_back(size);
      } else {
        skipped += (skipped.empty() ? "" : ", ") + std::to_string(size);
        slot = need;
      }
    }
    if (kept.empty())
      throw InputError(fmt::format("{}: no default ring size (8..4096) holds one {} slot: give --sizes", a.file,
                                   probe.run.policy));
    if (!skipped.empty())
      std::cerr << fmt::format("{}: ring-size: skipped the default sizes {}: fewer entries than one {} slot ({} "
                               "descriptors)\n",
                               a.file, skipped, probe.run.policy, slot);
    sizes = std::move(kept);
  }
  std::vector<Scenario> runs;
  for (uint32_t size : sizes) {
    auto sets = a.sets;
    sets.push_back(fmt::format("ring.size={}", size));
    // A size the scenario refuses is bad input, named here as the user gave
    // it: by --sizes, not by the --set this command adds.
    try {
      runs.push_back(load_scenario(a.file, sets));
    } catch (const InputError& e) {
      const std::string what = e.what(), mine = "--set " + sets.back() + ": ";
      if (!what.starts_with(mine)) throw;
      throw InputError(fmt::format("--sizes {}: {}", a.sizes ? *a.sizes : "(default)", what.substr(mine.size())));
    }
  }
  RunOptions opt;
  opt.timeseries = TimeseriesMode::Discard;
  const std::vector<RunOutcome> outcomes = run_in_children(runs, opt, a.jobs);
  std::vector<SizeRow> rows;
  int code = kExitOk;
  for (size_t i = 0; i < sizes.size(); ++i) {
    SizeRow r;
    r.size = sizes[i];
    r.ok = outcomes[i].exit_code == 0;
    if (r.ok) {
      const Json& s = outcomes[i].result.summary;
      r.gbps = figure_or_zero(s, "/throughput/delivered_gbps");
      r.pps = figure_or_zero(s, "/throughput/delivered_pps");
      r.stalls = static_cast<uint64_t>(figure_or_zero(s, "/host/stalls"));
      r.stall_s = figure_or_zero(s, "/host/stall_time_s");
      r.drops = static_cast<uint64_t>(figure_or_zero(s, "/packets/dropped"));
      r.slots = figure_or_zero(s, "/ring/capacity_packets_mtu");
      if (const Json& m = s["measure"]; m.contains("deadlock_s"))
        r.note = fmt::format("  <- deadlocked at {} s: not a throughput (summary.json measure.problem)",
                             plain(m["deadlock_s"].get<double>(), 6));
      else if (!m.value("valid", true))
        r.note = "  <- nothing measured (summary.json measure.problem)";
    } else {
      code = kExitFailed;
    }
    rows.push_back(r);
  }
  // The rate the ring must carry and a packet's chain: from the largest ring.
  const auto largest = std::find_if(rows.rbegin(), rows.rend(), [](const SizeRow& r) { return r.ok; });
  if (largest == rows.rend()) {
    std::cerr << "ring-size: every run failed\n";
    return kExitFailed;
  }
  const Json& big = outcomes[static_cast<size_t>(rows.rend() - largest) - 1].result.summary;
  const double per_slot = std::max(1.0, figure_or_zero(big, "/ring/descriptors_per_slot_mtu"));
  // A queue's rate: the run's over its receive queues, as summary.json's ring.knee_* take it.
  const double queues = std::max(1.0, figure_or_zero(big, "/topology/queues"));
  const RingKnee k =
      ring_knee(runs.back().config, largest->pps / queues, per_slot, figure_or_zero(big, "/cpu/guest_utilization"),
                figure_or_zero(big, "/cpu/host_utilization"));
  double best = 0;
  for (const SizeRow& r : rows)
    if (r.ok) best = std::max(best, r.pps);
  const auto knee_row =
      std::find_if(rows.begin(), rows.end(), [&](const SizeRow& r) { return r.ok && r.pps >= 0.99 * best; });

  const Scenario& base = runs.back();
  std::cout << fmt::format(
      "{}: {:.0f} packets/s a queue at ring {} (the rate the ring must carry), {} descriptor(s) per packet's "
      "chain\n",
      base.name, k.rate_pps, largest->size, plain(k.descriptors_per_slot));
  std::cout << fmt::format(
      "notification round trip {} us: {} packets in flight, a ring of {} slots with the refill rule; "
      "the device starves below it\n",
      plain(k.round_trip_s * 1e6), plain(k.rate_pps * k.round_trip_s), plain(k.latency_slots));
  if (k.cpu_round_s > 0)
    std::cout << fmt::format("a saturated CPU pays {} us a round: under 1% of the round's packets from {} slots\n",
                             plain(k.cpu_round_s * 1e6), plain(k.amortized_slots));
  std::cout << fmt::format("computed knee: {} slots = {} ring entries\n", plain(k.slots), plain(k.entries));
  std::cout << fmt::format("{:>6} {:>6} {:>9} {:>11} {:>8} {:>10} {:>9}\n", "ring", "slots", "Gb/s", "packets/s",
                           "stalls", "stall s", "drops");
  for (const SizeRow& r : rows) {
    if (!r.ok) {
      std::cout << fmt::format("{:>6}  (the run failed, exit {})\n", r.size,
                               outcomes[static_cast<size_t>(&r - rows.data())].exit_code);
      continue;
    }
    std::string mark = r.note;
    if (knee_row != rows.end() && &r == &*knee_row) mark = "  <- simulated knee (first within 1% of the best)";
    std::cout << fmt::format("{:>6} {:>6.0f} {:>9} {:>11.0f} {:>8} {:>10} {:>9}{}\n", r.size, r.slots, plain(r.gbps, 4),
                             r.pps, r.stalls, plain(r.stall_s, 4), r.drops, mark);
  }
  if (a.csv) {
    std::string out = csv_line({"ring_size", "slots_mtu", "delivered_gbps", "delivered_pps", "stalls", "stall_time_s",
                                "dropped", "computed_knee_entries", "simulated_knee"});
    for (const SizeRow& r : rows) {
      if (!r.ok) continue;
      out += csv_line({std::to_string(r.size), number_text(r.slots), number_text(r.gbps), number_text(r.pps),
                       std::to_string(r.stalls), number_text(r.stall_s), std::to_string(r.drops),
                       number_text(k.entries), knee_row != rows.end() && &r == &*knee_row ? "1" : "0"});
    }
    write_output_file(*a.csv, out);
  }
  return code;
}

Command ring_size_command(CLI::App& app) {
  struct Args {
    RingSizeArgs ring;
    std::string jobs;  ///< --jobs as typed
  };
  auto a = std::make_shared<Args>();
  auto* cli = app.add_subcommand(
      "ring-size", "the ring size below which the device starves, computed, beside throughput at each ring size");
  cli->add_option("file", a->ring.file, "scenario JSON file")->required();
  cli->add_option("--sizes", a->ring.sizes, "comma-separated ring sizes (default: 8, 16, ... 4096)");
  cli->add_option("--set", a->ring.sets, "KEY=VALUE: override a scenario key in every run");
  cli->add_option("--jobs", a->jobs, "runs at a time (default: the number of cores)");
  cli->add_option("--csv", a->ring.csv, "also write the table as CSV (for plotting)");
  return {cli, [a] {
            a->ring.jobs = jobs_option(a->jobs);
            return cmd_ring_size(a->ring);
          }};
}

}  // namespace vringsim
