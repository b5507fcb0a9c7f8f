// A World is everything one simulation is made of: the SimGrid engine and
// platform, the traffic sources and the dispatcher that routes their frames,
// and per receive queue its ring, policy, device and driver actors; plus the
// metrics listening to the event bus. WorldBuilder assembles it from a
// validated scenario; RunLoop (run_loop.hpp) drives it; Books (books.hpp)
// closes it into a result.
#pragma once

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>

#include <memory>
#include <string>
#include <vector>

#include "sim/core/cost_model.hpp"
#include "sim/core/faults.hpp"
#include "sim/core/guest_memory.hpp"
#include "sim/core/metric.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/report.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/traffic.hpp"
#include "sim/engine/cores.hpp"
#include "sim/world/dispatch.hpp"
#include "sim/world/guest_driver.hpp"
#include "sim/world/host_device.hpp"
#include "sim/world/shared.hpp"
#include "sim/world/world.hpp"

namespace vringsim {

/// One traffic source with its wire and host-side merging.
struct TrafficInput {
  std::unique_ptr<TrafficSource> source;
  std::unique_ptr<ArrivalProcess> wire;
  std::unique_ptr<Aggregator> arrivals;
};

/// One receive queue: its ring (in Shared), policy, device and driver.
struct RxQueue {
  uint32_t guest = 0;  ///< index of its guest in the topology
  std::unique_ptr<RxPolicy> policy;
  std::unique_ptr<Shared> shared;
  std::unique_ptr<HostDevice> device;
  std::unique_ptr<GuestDriver> driver;
};

/// Every registered metric, one instance each, for one scope.
using MetricSet = std::vector<std::unique_ptr<Metric>>;

struct World {
  World(const Scenario& sc, const RunOptions& opt) : scenario(sc), options(opt) {}

  const Scenario& scenario;
  const RunOptions options;
  uint64_t seed = 0;

  // The engine first: it is destroyed last, after everything using it.
  std::vector<std::string> engine_args;
  std::unique_ptr<simgrid::s4u::Engine> engine;
  std::vector<simgrid::s4u::Host*> core_hosts;   ///< one per host core group (its backend threads)
  std::vector<simgrid::s4u::Host*> guest_hosts;  ///< one per guest (its vCPUs)
  std::vector<std::unique_ptr<CorePool>> host_pools;
  std::vector<std::vector<std::unique_ptr<CorePool>>> vcpu_pools;  ///< per guest, per vCPU

  std::vector<TrafficInput> inputs;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<RunState> run;
  std::unique_ptr<FaultPlan> faults;
  std::unique_ptr<CostModel> costs;
  RingFigures figures;  ///< of one queue's ring and policy
  std::vector<std::unique_ptr<GuestMemory>> memories;  ///< per guest
  std::vector<RxQueue> queues;
  /// The devices and drivers as tasks of one actor (RunOptions::lookahead).
  /// After the queues and the pools: destroyed first, the tasks' frames
  /// (and what their locals hold) while what they use is still there.
  std::unique_ptr<TaskLoop> tasks;

  MetricSet run_metrics;
  std::vector<MetricSet> guest_metrics;  ///< with a topology section: per guest
  std::vector<MetricSet> queue_metrics;  ///< with a topology section: per queue
  std::unique_ptr<EventLog> event_log;   ///< run --trace

  // What the run loop leaves for the books.
  double end_time = 0;
  /// A queue whose device waits for a kick while its driver waits for an
  /// interrupt, with nothing posted the device will take and nothing used
  /// (the model's own deadlock, not a bug): when first seen, and what.
  double deadlock_at = -1;
  std::string deadlock;
  bool ended = false;  ///< the controller has fixed end_time (a drained source, or the stop time)
  TimeseriesSink series;
  uint64_t checks = 0;  ///< --check: whole-state verifications done

  uint32_t queue_count() const { return static_cast<uint32_t>(queues.size()); }
  const Topology& topology() const { return scenario.topology; }
};

class WorldBuilder {
 public:
  WorldBuilder(const Scenario& scenario, const RunOptions& options) : scenario_(scenario), options_(options) {}
  std::unique_ptr<World> build();

 private:
  void platform(World& w) const;
  void traffic(World& w) const;
  void cores(World& w) const;
  void queues(World& w) const;
  void metrics(World& w) const;
  void listeners(World& w) const;

  const Scenario& scenario_;
  const RunOptions& options_;
};

/// Queue k's own seed: the scenario's for queue 0 (so one queue runs exactly
/// as without a topology), a derived one for the others.
uint64_t stream_seed(uint64_t seed, uint64_t k, std::string_view what);

}  // namespace vringsim
