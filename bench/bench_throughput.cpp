// Simulated packets per wall-clock second on the 2008 setup, for every
// policy: at line rate (most frames dropped at the tap), and with constant
// arrivals at 90% and at 25% of what that policy delivers at line rate (no
// overload: nearly an interrupt per packet at 25%). Delivered packets count,
// not only arrivals. Each run is one child process, as in `vringsim run`; the
// wall time includes starting it. Best of REPEATS: the machine's noise only
// ever adds time.
//
// The wall time of a run includes what every run costs whatever its length
// (the child process, SimGrid's engine, the world's construction, the
// books): "start s" is that of the same scenario stopped after 1 us, and
// "after start" the delivered packets per wall-second beyond it.
//
// Per delivered packet it prints the events through the event bus and the
// blocking calls into SimGrid (sleeps, semaphores: sim/engine/blocking.hpp),
// the run's peak RSS, and delivered/s against a bare priority-queue loop's
// events/s measured in the same run (bench/bare_loop.hpp; "vs bare").
//
// Usage: bench_throughput [SCENARIO_DIR] [SIMULATED_SECONDS] [REPEATS] [POLICY...]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "bench/bare_loop.hpp"
#include "sim/core/scenario.hpp"
#include "sim/world/runner.hpp"

#ifndef VRINGSIM_SOURCE_DIR
#define VRINGSIM_SOURCE_DIR "."
#endif

namespace {

struct Measured {
  double wall = 1e300, arrived = 0, delivered = 0, gbps = 0;
  double bus_events = 0, blocking_calls = 0;
  long rss_kb = 0;
};

Measured measure(const vringsim::Scenario& s, int repeats) {
  Measured m;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    vringsim::RunOutcome o = vringsim::run_in_child(s, {});
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.exit_code != 0) throw std::runtime_error("run failed: " + s.name);
    m.wall = std::min(m.wall, wall);
    m.arrived = o.result.summary["packets"]["arrived"].get<double>();
    m.delivered = o.result.summary["packets"]["delivered"].get<double>();
    m.gbps = o.result.summary["throughput"]["delivered_gbps"].get<double>();
    m.bus_events = static_cast<double>(o.result.bus_events);
    m.blocking_calls = static_cast<double>(o.result.blocking_calls);
    m.rss_kb = std::max(m.rss_kb, o.max_rss_kb);
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vringsim;
  const std::string dir = argc > 1 ? argv[1] : std::string(VRINGSIM_SOURCE_DIR) + "/scenarios/seed-2008";
  const std::string seconds = argc > 2 ? argv[2] : "2";
  const int repeats = argc > 3 ? std::stoi(argv[3]) : 3;
  std::vector<std::string> policies;
  for (int i = 4; i < argc; ++i) policies.emplace_back(argv[i]);
  if (policies.empty()) policies = {"mergeable", "max-buffer", "small", "larger-ring", "hdr-in-data", "coalesced"};
  const double bare = bench::bare_loop_events_per_s();
  fmt::print("bare priority-queue loop: {:.0f} events/s\n", bare);
  fmt::print("{:<12} {:<14} {:>9} {:>7} {:>11} {:>11} {:>7} {:>7} {:>7} {:>8} {:>7} {:>7} {:>11}\n", "policy", "load",
             "delivered", "wall s", "arrived/s", "deliv/s", "Gb/s", "bus/pkt", "sg/pkt", "vs bare", "RSS MiB", "start s",
             "after start");
  for (const auto& policy : policies) {
    const std::string file = dir + "/" + policy + ".json";
    const Scenario line = load_scenario(file, {"stop.time_s=" + seconds});
    const Measured l = measure(line, repeats);
    const double start = measure(load_scenario(file, {"stop.time_s=0.000001", "measure.warmup_s=0"}), repeats).wall;
    auto row = [&](const std::string& load, const Measured& m) {
      const double per = std::max(m.delivered, 1.0);
      fmt::print(
          "{:<12} {:<14} {:>9.0f} {:>7.3f} {:>11.0f} {:>11.0f} {:>7.3f} {:>7.2f} {:>7.2f} {:>8.3f} {:>7.1f} {:>7.3f} {:>11.0f}\n",
          policy, load, m.delivered, m.wall, m.arrived / m.wall, m.delivered / m.wall, m.gbps, m.bus_events / per,
          m.blocking_calls / per, m.delivered / m.wall / bare, static_cast<double>(m.rss_kb) / 1024.0, start,
          m.delivered / std::max(m.wall - start, 1e-9));
    };
    row("line rate", l);
    for (const double share : {0.9, 0.25}) {
      // Constant arrivals at a share of what the policy delivers at line rate: no overload.
      const Scenario s = load_scenario(file, {"stop.time_s=" + seconds, "traffic.arrival=constant",
                                              fmt::format("traffic.rate_gbps={:.6f}", share * l.gbps)});
      row(fmt::format("constant {:.0f}%", share * 100), measure(s, repeats));
    }
  }
  return 0;
}
