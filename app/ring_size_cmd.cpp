#include "app/ring_size_cmd.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "app/exit_codes.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/report.hpp"
#include "sim/core/ring_knee.hpp"
#include "sim/core/scenario.hpp"
#include "sim/world/runner.hpp"

namespace vringsim {

namespace {

std::vector<uint32_t> parse_sizes(const std::string& text) {
  std::vector<uint32_t> out;
  if (text.empty()) {
    for (uint32_t s = 8; s <= 4096; s *= 2) out.push_back(s);
    return out;
  }
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

struct Row {
  uint32_t size = 0;
  bool ok = false;
  double gbps = 0, pps = 0, stall_s = 0, slots = 0;
  uint64_t stalls = 0, drops = 0;
};

double at(const Json& s, const char* ptr) {
  const Json::json_pointer p(ptr);
  return s.contains(p) ? s.at(p).get<double>() : 0.0;
}

}  // namespace

int cmd_ring_size(const RingSizeArgs& a) {
  const std::vector<uint32_t> sizes = parse_sizes(a.sizes);
  std::vector<Scenario> runs;
  for (uint32_t size : sizes) {
    auto sets = a.sets;
    sets.push_back(fmt::format("ring.size={}", size));
    runs.push_back(load_scenario(a.file, sets));  // a size the scenario refuses is bad input, named here
  }
  RunOptions opt;
  opt.timeseries = TimeseriesMode::Discard;
  const std::vector<RunOutcome> outcomes = run_in_children(runs, opt, a.jobs);
  std::vector<Row> rows;
  int code = kExitOk;
  for (size_t i = 0; i < sizes.size(); ++i) {
    Row r;
    r.size = sizes[i];
    r.ok = outcomes[i].exit_code == 0;
    if (r.ok) {
      const Json& s = outcomes[i].result.summary;
      r.gbps = at(s, "/throughput/delivered_gbps");
      r.pps = at(s, "/throughput/delivered_pps");
      r.stalls = static_cast<uint64_t>(at(s, "/host/stalls"));
      r.stall_s = at(s, "/host/stall_time_s");
      r.drops = static_cast<uint64_t>(at(s, "/packets/dropped"));
      r.slots = at(s, "/ring/capacity_packets_mtu");
    } else {
      code = kExitFailed;
    }
    rows.push_back(r);
  }
  // The rate the ring must carry and a packet's chain: from the largest ring.
  const auto largest = std::find_if(rows.rbegin(), rows.rend(), [](const Row& r) { return r.ok; });
  if (largest == rows.rend()) {
    std::cerr << "ring-size: every run failed\n";
    return kExitFailed;
  }
  const Json& big = outcomes[static_cast<size_t>(rows.rend() - largest) - 1].result.summary;
  const double per_slot = std::max(1.0, at(big, "/ring/descriptors_per_slot_mtu"));
  // A queue's rate: the run's over its receive queues, as summary.json's ring.knee_* take it.
  const double queues = std::max(1.0, at(big, "/topology/queues"));
  const RingKnee k = ring_knee(runs.back().config, largest->pps / queues, per_slot, at(big, "/cpu/guest_utilization"),
                               at(big, "/cpu/host_utilization"));
  double best = 0;
  for (const Row& r : rows)
    if (r.ok) best = std::max(best, r.pps);
  const auto knee_row = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.ok && r.pps >= 0.99 * best; });

  const Scenario& base = runs.back();
  std::cout << fmt::format(
      "{}: {:.0f} packets/s a queue at ring {} (the rate the ring must carry), {:g} descriptor(s) per packet's "
      "chain\n",
      base.name, k.rate_pps, largest->size, k.descriptors_per_slot);
  std::cout << fmt::format(
      "notification round trip {:.3g} us: {:.3g} packets in flight, a ring of {:.3g} slots with the refill rule; "
      "the device starves below it\n",
      k.round_trip_s * 1e6, k.rate_pps * k.round_trip_s, k.latency_slots);
  if (k.cpu_round_s > 0)
    std::cout << fmt::format(
        "a saturated CPU pays {:.3g} us a round: under 1% of the round's packets from {:.3g} slots\n",
        k.cpu_round_s * 1e6, k.amortized_slots);
  std::cout << fmt::format("computed knee: {:.3g} slots = {:.3g} ring entries\n", k.slots, k.entries);
  std::cout << fmt::format("{:>6} {:>6} {:>9} {:>11} {:>8} {:>10} {:>9}\n", "ring", "slots", "Gb/s", "packets/s",
                           "stalls", "stall s", "drops");
  for (const Row& r : rows) {
    if (!r.ok) {
      std::cout << fmt::format("{:>6}  (the run failed, exit {})\n", r.size,
                               outcomes[static_cast<size_t>(&r - rows.data())].exit_code);
      continue;
    }
    std::string mark;
    if (knee_row != rows.end() && &r == &*knee_row) mark = "  <- simulated knee (first within 1% of the best)";
    std::cout << fmt::format("{:>6} {:>6.0f} {:>9.4g} {:>11.0f} {:>8} {:>10.4g} {:>9}{}\n", r.size, r.slots, r.gbps,
                             r.pps, r.stalls, r.stall_s, r.drops, mark);
  }
  if (!a.csv.empty()) {
    std::string out = csv_line({"ring_size", "slots_mtu", "delivered_gbps", "delivered_pps", "stalls", "stall_time_s",
                                "dropped", "computed_knee_entries", "simulated_knee"});
    for (const Row& r : rows) {
      if (!r.ok) continue;
      out += csv_line({std::to_string(r.size), number_text(r.slots), number_text(r.gbps), number_text(r.pps),
                       std::to_string(r.stalls), number_text(r.stall_s), std::to_string(r.drops),
                       number_text(k.entries), knee_row != rows.end() && &r == &*knee_row ? "1" : "0"});
    }
    write_file_atomic(a.csv, out);
  }
  return code;
}

}  // namespace vringsim
