// Simulated packets per wall-clock second on the 2008 setup, for every
// policy, and on today's linux-6 guests receiving 64 KiB GSO packets on
// mergeable and on packed buffers: at line rate (most frames dropped at the
// tap), and with constant arrivals at 90% and at 25% of what that scenario
// delivers at line rate (no overload: nearly an interrupt per packet at
// 25%). Delivered packets count, not only arrivals. Each run is one child
// process, as in `vringsim run`; the wall time includes starting it. Best of
// REPEATS: the machine's noise only ever adds time.
//
// The wall time of a run includes what every run costs whatever its length
// (the child process, SimGrid's engine, the world's construction, the
// books): "start s" is that of the same scenario (the same row's load)
// stopped after 1 us, and "after start" the delivered packets per
// wall-second beyond it.
//
// Per delivered packet it prints the events through the event bus and the
// blocking calls into SimGrid (sim/engine/blocking.hpp), the run's peak RSS,
// and against a bare priority-queue loop measured in the same run
// (bench/bare_loop.hpp), whose unit is one event (a pop and a push):
//   "vs bare"     delivered/s / bare events/s: a delivered packet as one event;
//   "+drop"       (delivered + dropped)/s / bare events/s: the same with each
//                 frame dropped (at the tap, or anywhere before delivery) as one
//                 event too, the issue's measure at line rate; equal to "vs
//                 bare" where nothing is dropped;
//   "of limit"    "+drop" over a third of the bare loop's rate: the limit of
//                 issue 36 is that loop running three events a packet, and
//                 its goal is 0.5 of it for the 2008 policies (line rate,
//                 90% and 25% load), 0.2 for the GSO rows.
// All three divide by the run's whole wall time, start included.
//
// "ins/pkt" is the user-space instructions the child ran (the CPU's counter,
// its threads included: bench/instruction_counter.hpp), minus those of the
// same scenario's 1 us run, per delivered packet; "ins vs bare" is the bare
// loop's instructions per event over it. Where the machine cannot count them
// both print "n/a" and one line on stderr says why.
//
// Usage: bench_throughput [SCENARIO_DIR] [SIMULATED_SECONDS] [REPEATS] [SCENARIO...]
// A SCENARIO is a policy's file name in SCENARIO_DIR without ".json", or a
// path to a .json file. Without any: the six 2008 policies of SCENARIO_DIR,
// then scenarios/linux-6/{mergeable,packed}-gso-{10g,25g,100g}.json.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bench/bare_loop.hpp"
#include "bench/instruction_counter.hpp"
#include "sim/core/scenario.hpp"
#include "sim/world/runner.hpp"

#ifndef VRINGSIM_SOURCE_DIR
#define VRINGSIM_SOURCE_DIR "."
#endif

namespace {

using vringsim::bench::InstructionCounter;

struct Measured {
  double wall = 1e300, arrived = 0, delivered = 0, dropped = 0, gbps = 0;
  double bus_events = 0, blocking_calls = 0;
  long rss_kb = 0;
  std::optional<uint64_t> instructions;  ///< the child's, fewest of the repeats; none if not counted
};

Measured measure(const vringsim::Scenario& s, int repeats, InstructionCounter& counter) {
  Measured m;
  for (int i = 0; i < repeats; ++i) {
    const auto before = counter.read();
    const auto t0 = std::chrono::steady_clock::now();
    vringsim::RunOutcome o = vringsim::run_in_child(s, {});
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto after = counter.read();
    if (o.exit_code != 0) throw std::runtime_error("run failed: " + s.name);
    m.wall = std::min(m.wall, wall);
    m.arrived = o.result.summary["packets"]["arrived"].get<double>();
    m.delivered = o.result.summary["packets"]["delivered"].get<double>();
    m.dropped = o.result.summary["packets"]["dropped"].get<double>();
    m.gbps = o.result.summary["throughput"]["delivered_gbps"].get<double>();
    m.bus_events = static_cast<double>(o.result.bus_events);
    m.blocking_calls = static_cast<double>(o.result.blocking_calls);
    m.rss_kb = std::max(m.rss_kb, o.max_rss_kb);
    if (before && after) {
      const uint64_t n = InstructionCounter::children(*before, *after);
      m.instructions = m.instructions ? std::min(*m.instructions, n) : n;
    }
  }
  if (!counter.available()) m.instructions.reset();  // a later reading failed: no count is trusted
  return m;
}

std::string or_na(const std::optional<double>& v, const char* format) {
  return v ? fmt::format(fmt::runtime(format), *v) : "n/a";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vringsim;
  const std::string source = VRINGSIM_SOURCE_DIR;
  const std::string dir = argc > 1 ? argv[1] : source + "/scenarios/seed-2008";
  const std::string seconds = argc > 2 ? argv[2] : "2";
  const int repeats = argc > 3 ? std::stoi(argv[3]) : 3;
  std::vector<std::string> files;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    files.push_back(a.ends_with(".json") ? a : dir + "/" + a + ".json");
  }
  if (files.empty()) {
    for (const char* p : {"mergeable", "max-buffer", "small", "larger-ring", "hdr-in-data", "coalesced"})
      files.push_back(dir + "/" + p + ".json");
    for (const char* p : {"mergeable", "packed"})
      for (const char* rate : {"10g", "25g", "100g"})
        files.push_back(fmt::format("{}/scenarios/linux-6/{}-gso-{}.json", source, p, rate));
  }

  InstructionCounter counter;
  constexpr uint64_t kBareEvents = 20'000'000;
  const auto b0 = counter.read();
  const double bare = bench::bare_loop_events_per_s(kBareEvents, 3);
  const auto b1 = counter.read();
  std::optional<double> bare_ins;  // per event; the loop ran 3 x kBareEvents events
  if (b0 && b1 && counter.available())
    bare_ins = static_cast<double>(InstructionCounter::own(*b0, *b1)) / (3.0 * static_cast<double>(kBareEvents));
  if (!counter.available()) std::fprintf(stderr, "bench_throughput: ins/pkt n/a: %s\n", counter.why().c_str());
  fmt::print("bare priority-queue loop: {:.0f} events/s, {} instructions/event\n", bare, or_na(bare_ins, "{:.1f}"));
  fmt::print(
      "{:<18} {:<14} {:>9} {:>7} {:>11} {:>11} {:>7} {:>7} {:>7} {:>8} {:>7} {:>8} {:>8} {:>11} {:>7} {:>7} {:>11}\n",
      "scenario", "load", "delivered", "wall s", "arrived/s", "deliv/s", "Gb/s", "bus/pkt", "sg/pkt", "vs bare",
      "+drop", "of limit", "ins/pkt", "ins vs bare", "RSS MiB", "start s", "after start");
  for (const auto& file : files) {
    const std::string name = std::filesystem::path(file).stem().string();
    auto row = [&](const std::string& load, const std::vector<std::string>& overrides) {
      std::vector<std::string> start_overrides = overrides;
      start_overrides.insert(start_overrides.end(), {"stop.time_s=0.000001", "measure.warmup_s=0"});
      std::vector<std::string> run_overrides = overrides;
      run_overrides.push_back("stop.time_s=" + seconds);
      const Measured m = measure(load_scenario(file, run_overrides), repeats, counter);
      const Measured start = measure(load_scenario(file, start_overrides), repeats, counter);
      const double per = std::max(m.delivered, 1.0);
      std::optional<double> ins, ins_ratio;
      if (m.instructions && start.instructions && m.delivered > 0) {
        ins = (static_cast<double>(*m.instructions) - static_cast<double>(*start.instructions)) / m.delivered;
        if (bare_ins && *ins > 0) ins_ratio = *bare_ins / *ins;
      }
      fmt::print(
          "{:<18} {:<14} {:>9.0f} {:>7.3f} {:>11.0f} {:>11.0f} {:>7.3f} {:>7.2f} {:>7.2f} {:>8.3f} {:>7.3f} {:>8.3f} "
          "{:>8} {:>11} "
          "{:>7.1f} {:>7.3f} {:>11.0f}\n",
          name, load, m.delivered, m.wall, m.arrived / m.wall, m.delivered / m.wall, m.gbps, m.bus_events / per,
          m.blocking_calls / per, m.delivered / m.wall / bare, (m.delivered + m.dropped) / m.wall / bare,
          (m.delivered + m.dropped) / m.wall / (bare / 3.0), or_na(ins, "{:.0f}"), or_na(ins_ratio, "{:.4f}"),
          static_cast<double>(m.rss_kb) / 1024.0, start.wall, m.delivered / std::max(m.wall - start.wall, 1e-9));
      std::fflush(stdout);
      return m;
    };
    const Measured l = row("line rate", {});
    for (const double share : {0.9, 0.25}) {
      // Constant arrivals at a share of what the scenario delivers at line rate: no overload.
      row(fmt::format("constant {:.0f}%", share * 100),
          {"traffic.arrival=constant", fmt::format("traffic.rate_gbps={:.6f}", share * l.gbps)});
    }
  }
  return 0;
}
