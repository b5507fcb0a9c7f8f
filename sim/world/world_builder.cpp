#include "sim/world/world_builder.hpp"

#include <fmt/format.h>
#include <xbt/log.h>

#include <cstdlib>
#include <iostream>

#include "sim/core/desc_graph.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/sanitizers.hpp"
#include "sim/core/startup_stamp.hpp"
#include "sim/engine/blocking.hpp"

namespace sg4 = simgrid::s4u;

namespace vringsim {

namespace {
// CFS's sleeper credit (kernel/sched/fair.c place_entity(): thresh =
// sysctl_sched_latency, halved with GENTLE_FAIR_SLEEPERS; the latency is
// 6 ms times 1 + ilog2(CPUs), CPUs capped at 8: 24 ms on a host of 8 or more).
constexpr double kSleeperCreditS = 0.012;
}  // namespace

uint64_t stream_seed(uint64_t seed, uint64_t k, std::string_view what) {
  return k == 0 ? seed : splitmix64(seed ^ name_hash(what) ^ splitmix64(k)) & ((uint64_t{1} << 62) - 1);
}

std::unique_ptr<World> WorldBuilder::build() {
  auto w = std::make_unique<World>(scenario_, options_);
  w->seed = scenario_.run.seed;
  platform(*w);
  traffic(*w);
  cores(*w);
  queues(*w);
  metrics(*w);
  listeners(*w);
  return w;
}

void WorldBuilder::platform(World& w) const {
  // The platform, built in code: a SimGrid host per core group for the
  // backends, one per guest for its vCPUs. Speeds are nominal: actors
  // account CPU time themselves and sleep for it (execute() is 3x slower per
  // call here); threads sharing cores take turns (cores.hpp).
  xbt_log_control_set("root.thresh:critical");
  // Debian's SimGrid is not built with AddressSanitizer's fiber support: its
  // fast context switching confuses ASan, so an ASan build runs on thread
  // contexts (slower but clean). VRINGSIM_CONTEXTS=thread|raw picks the
  // factory in any build (tests use it to run the thread path unsanitized).
  std::string factory;
#if VRINGSIM_ASAN
  factory = "thread";
#endif
  if (const char* env = std::getenv("VRINGSIM_CONTEXTS"); env && *env) {
    if (std::string(env) == "thread" || std::string(env) == "raw")
      factory = env;
    else
      std::cerr << "vringsim: VRINGSIM_CONTEXTS=" << env << " ignored (thread or raw)\n";
  }
  w.engine_args = {"vringsim"};
  if (!factory.empty()) w.engine_args.push_back("--cfg=contexts/factory:" + factory);
  std::vector<char*> argv;
  for (auto& a : w.engine_args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(w.engine_args.size());
  w.engine = std::make_unique<sg4::Engine>(&argc, argv.data());
  blocking::use_nanosecond_clock();
  startup_stamp("SimGrid engine created");
  blocking::calls = 0;  // this engine's
  blocking::loop_waits = 0;
  auto* zone = sg4::create_full_zone("vringsim");
  for (const auto& c : w.topology().cores)
    w.core_hosts.push_back(zone->create_host("cores:" + c.name, 1e9)->set_core_count(static_cast<int>(c.count)));
  for (const auto& g : w.topology().guests)
    w.guest_hosts.push_back(zone->create_host("vcpus:" + g.name, 1e9)->set_core_count(static_cast<int>(g.vcpus)));
  zone->seal();
}

void WorldBuilder::traffic(World& w) const {
  // Each source with its own wire and GRO, merged in time order and routed.
  const Topology& topo = w.topology();
  std::vector<Dispatcher::Input> feeds;
  for (size_t i = 0; i < topo.sources.size(); ++i) {
    const Config& scfg = topo.sources[i].config;
    const uint64_t sseed = stream_seed(w.seed, i, "topology.source");
    const std::string kind = RunSettings::bindings().load(scfg).traffic_kind;
    TrafficContext ctx{scfg, "traffic." + kind + ".", sseed, scenario_.base_dir};
    ctx.need_flows = topo.total_queues() > 1;
    // A guest without GSO gets GSO packets cut into MTU frames by the host
    // (segment_for() below, by each packet's header).
    ctx.segment_mtu = scenario_.virtio.guest_gso() ? 0 : scenario_.virtio.mtu;
    TrafficInput in;
    in.source = Registry<TrafficInfo>::instance().find(kind)->create(ctx);
    in.wire = std::make_unique<ArrivalProcess>(scfg, sseed);
    in.arrivals = std::make_unique<Aggregator>(scfg, *in.source, *in.wire);
    in.arrivals->segment_for(ctx.segment_mtu);
    feeds.push_back({in.arrivals.get()});
    w.inputs.push_back(std::move(in));
  }
  const Config& cfg = scenario_.config;
  w.dispatcher = std::make_unique<Dispatcher>(std::move(feeds), topo, scenario_.run.stop_packets, 0.01);
  w.run = std::make_unique<RunState>(topo.total_queues());
  w.run->stop_time = to_sim_time(scenario_.run.stop_time_s);
  w.faults = std::make_unique<FaultPlan>(cfg, w.seed, scenario_.run.stop_time_s, scenario_.virtio.packed());
  w.costs = std::make_unique<CostModel>(CostModel::from(cfg));
}

void WorldBuilder::cores(World& w) const {
  // One pool per host core group (its backend threads), one per vCPU (the
  // queues whose NAPI runs there: queue q on vCPU q mod vCPUs).
  const Topology& topo = w.topology();
  std::vector<uint32_t> threads(topo.cores.size(), 0);
  for (const auto& g : topo.guests) threads[topo.backends[g.backend_index].group] += g.queues;
  for (size_t i = 0; i < topo.cores.size(); ++i)
    w.host_pools.push_back(
        std::make_unique<CorePool>(topo.cores[i].count, threads[i], CorePool::Rule::Fair, kSleeperCreditS));
  w.vcpu_pools.resize(topo.guests.size());
  for (size_t g = 0; g < topo.guests.size(); ++g) {
    const auto& gst = topo.guests[g];
    for (uint32_t v = 0; v < gst.vcpus; ++v) {
      const uint32_t on_v = gst.queues / gst.vcpus + (v < gst.queues % gst.vcpus ? 1 : 0);
      w.vcpu_pools[g].push_back(std::make_unique<CorePool>(1, on_v));
    }
  }
}

void WorldBuilder::queues(World& w) const {
  const Config& cfg = scenario_.config;
  const Topology& topo = w.topology();
  const std::string& pname = scenario_.run.policy;
  const VirtioSetup& virtio = scenario_.virtio;
  const uint32_t ring_size = scenario_.run.ring_size;
  const DeviceSettings device = DeviceSettings::bindings().load(cfg);
  const DriverSettings driver = DriverSettings::bindings().load(cfg);
  const LatencySettings latency = LatencySettings::bindings().load(cfg);
  w.queues.reserve(topo.total_queues());
  for (uint32_t g = 0; g < topo.guests.size(); ++g) {
    w.memories.push_back(
        std::make_unique<GuestMemory>(stream_seed(w.seed, g, "topology.guest"), driver.page_alloc_failure_prob));
    const auto& gst = topo.guests[g];
    for (uint32_t q = 0; q < gst.queues; ++q) {
      const uint32_t k = gst.first_queue + q;
      const uint64_t qseed = stream_seed(w.seed, k, "topology.queue");
      RxQueue Q;
      Q.guest = g;
      Q.policy = make_policy(pname, PolicyContext{cfg, "", qseed, virtio, ring_size});
      if (k == 0)
        w.figures = ring_figures(ring_size, RingLayout::of(virtio), *Q.policy);
      Q.shared = std::make_unique<Shared>(*w.run, ring_size, k, virtio.event_idx(), virtio.indirect(), virtio.packed());
      Q.shared->ring.set_notify_on_empty(device.notify_on_empty);  // checked: qemu, split ring, flags
      // Each descriptor's state only where it is read: the descriptor graph
      // checked after every event, and a faulty guest's writes.
      Q.shared->ring.set_descriptor_tracking(options_.check || options_.track_descriptors ||
                                             w.faults->bad_chain_rate() > 0);
      HostDevice::Options hopt;
      static_cast<DeviceSettings&>(hopt) = device;
      hopt.mergeable = Q.policy->mergeable();
      hopt.header_bytes = Q.policy->header_bytes();
      hopt.max_frame_bytes = w.figures.max_frame_bytes;
      hopt.faults = w.faults.get();
      hopt.seed = qseed;
      hopt.cores = w.host_pools[topo.backends[gst.backend_index].group].get();
      hopt.core_thread = hopt.cores->add_thread();
      hopt.lookahead = options_.lookahead && w.run->queues == 1;
      hopt.latency = latency;
      hopt.drop_runs = options_.drop_runs;
      hopt.sample_interval = to_sim_time(scenario_.run.sample_interval_s);
      hopt.warmup = to_sim_time(scenario_.run.warmup_s);
      Q.device = std::make_unique<HostDevice>(*Q.shared, *w.costs, hopt, *w.dispatcher);
      GuestDriver::Options gopt;
      static_cast<DriverSettings&>(gopt) = driver;
      gopt.faults = w.faults.get();
      gopt.seed = qseed;
      gopt.vcpu = w.vcpu_pools[g][q % gst.vcpus].get();
      gopt.lookahead = options_.lookahead && w.run->queues == 1;
      gopt.latency = latency;
      Q.driver = std::make_unique<GuestDriver>(*Q.shared, *Q.policy, *w.memories[g], *w.costs, gopt);
      w.queues.push_back(std::move(Q));
    }
  }
}

void WorldBuilder::metrics(World& w) const {
  // One instance of every registered metric for the run; with a topology
  // section, one per guest (watching its queues) and one per queue too.
  EventBus& bus = w.run->bus;
  const double warmup = scenario_.run.warmup_s;
  const uint32_t ring = scenario_.run.ring_size;
  auto make = [&](uint32_t rings, bool run_scope) {
    MetricSet set;
    for (const MetricInfo* m : Registry<MetricInfo>::instance().all())
      if (run_scope || !m->run_only) set.push_back(m->create(MetricContext{warmup, ring * rings, w.faults.get()}));
    return set;
  };
  w.run_metrics = make(w.queue_count(), true);
  for (auto& m : w.run_metrics) m->attach(bus.run());
  const Topology& topo = w.topology();
  if (!topo.declared) return;
  for (const auto& gst : topo.guests) {
    w.guest_metrics.push_back(make(gst.queues, false));
    for (uint32_t q = 0; q < gst.queues; ++q)
      for (auto& m : w.guest_metrics.back()) m->attach(bus.queue(gst.first_queue + q));
  }
  for (uint32_t k = 0; k < w.queue_count(); ++k) {
    w.queue_metrics.push_back(make(1, false));
    for (auto& m : w.queue_metrics.back()) m->attach(bus.queue(k));
  }
}

void WorldBuilder::listeners(World& w) const {
  EventBus& bus = w.run->bus;
  // A closed-loop source hears the fate of every frame, in time order.
  if (ClosedLoop* loop = w.dispatcher->closed_loop()) {
    bus.run().on<FrameDelivered>().connect(
        [loop](const FrameDelivered& e) { loop->on_fate(e.packet, e.time, true); });
    bus.run().on<FrameDropped>().connect([loop](const FrameDropped& e) { loop->on_fate(e.packet, e.time, false); });
  }
  if (!options_.trace_path.empty()) {
    const EventLogInfo* log = Registry<EventLogInfo>::instance().find(options_.trace_format);
    ensure(log != nullptr, "no event log format \"" + options_.trace_format + "\"");
    w.event_log = log->create(options_.trace_limit, w.queue_count() > 1);
    w.event_log->attach(bus.run());
  }
  if (options_.check) {
    World* world = &w;
    bus.set_after_emit([world](uint32_t queue) {
      check_descriptor_graph(world->queues[queue].shared->ring);  // only the event's queue changed
      ++world->checks;
    });
  }
}

}  // namespace vringsim
