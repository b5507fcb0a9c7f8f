#include "sim/world/world.hpp"

#include <fmt/format.h>
#include <xbt/log.h>
#include <simgrid/s4u.hpp>

#include <cmath>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <sstream>

#include "sim/core/collector.hpp"
#include "sim/core/cost_model.hpp"
#include "sim/core/desc_graph.hpp"
#include "sim/core/faults.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/guest_memory.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/traffic.hpp"
#include "sim/world/guest_driver.hpp"
#include "sim/world/host_device.hpp"
#include "sim/world/cores.hpp"
#include "sim/world/dispatch.hpp"
#include "sim/world/shared.hpp"

#ifndef VRINGSIM_VERSION
#define VRINGSIM_VERSION "0.0.0"
#endif

namespace sg4 = simgrid::s4u;

namespace vringsim {

const char* version() { return VRINGSIM_VERSION; }

namespace {

/// --trace: one CSV row per event, in time order, up to a limit.
class Tracer : public Observer {
 public:
  /// `queues`: add a `queue` column (runs with several receive queues).
  Tracer(uint64_t limit, bool queues) : limit_(limit), queues_(queues) {
    out_ << "time_s,actor,event,packet,head,count,len,bytes,detail" << (queues_ ? ",queue\n" : "\n");
  }
  void on_event(const Event& e) override {
    if (rows_ >= limit_) {
      ++skipped_;
      return;
    }
    ++rows_;
    const char* actor = "host";
    const char* name = "";
    std::string detail;
    switch (e.kind) {
      case EventKind::Arrived:
        actor = "wire";
        name = "arrived";
        break;
      case EventKind::Dropped:
        name = "dropped";
        detail = drop_reason_name(static_cast<DropReason>(e.reason));
        break;
      case EventKind::Posted:
        actor = "guest";
        name = "posted";
        break;
      case EventKind::Taken: name = "taken"; break;
      case EventKind::Used: name = "used"; break;
      case EventKind::Delivered:
        actor = "guest";
        name = "delivered";
        break;
      case EventKind::Kick:
        actor = "guest";
        name = "kick";
        detail = e.reason ? "notified" : "suppressed";
        break;
      case EventKind::Interrupt: name = "interrupt"; break;
      case EventKind::StallBegin: name = "stall_begin"; break;
      case EventKind::StallEnd: name = "stall_end"; break;
      case EventKind::HostBusy:
        name = "busy";
        detail = fmt::format("until={:.9f}", e.until);
        break;
      case EventKind::GuestBusy:
        actor = "guest";
        name = "busy";
        detail = fmt::format("until={:.9f}", e.until);
        break;
      case EventKind::RefillFailed:
        actor = "guest";
        name = "refill_failed";
        break;
      case EventKind::BadChain:
        name = "bad_chain";
        detail = chain_fault_name(static_cast<ChainFault>(e.reason));
        break;
      case EventKind::DeviceBroken: name = "device_broken"; break;
      case EventKind::RxError:
        actor = "guest";
        name = "rx_length_error";
        break;
    }
    out_ << fmt::format("{:.9f},{},{},{},{},{},{},{},{}", e.time, actor, name, e.packet, e.head, e.count, e.len,
                        e.bytes, detail);
    out_ << (queues_ ? fmt::format(",{}\n", e.queue) : std::string("\n"));
  }
  std::string text() const { return out_.str(); }
  uint64_t skipped() const { return skipped_; }

 private:
  uint64_t limit_;
  bool queues_;
  uint64_t rows_ = 0, skipped_ = 0;
  std::ostringstream out_;
};

Json ring_json(const RingFigures& f) {
  return Json{{"size", f.size},
              {"bytes", f.ring_bytes},
              {"descriptors_per_slot_mtu", f.descriptors_per_slot_mtu},
              {"descriptors_per_slot_64k", f.descriptors_per_slot_64k},
              {"capacity_packets_mtu", f.capacity_packets_mtu},
              {"capacity_packets_64k", f.capacity_packets_64k},
              {"unusable_descriptors", f.unusable_descriptors}};
}

/// Queue k's own seed: the scenario's for queue 0 (so one queue runs exactly
/// as without a topology), a derived one for the others.
uint64_t stream_seed(uint64_t seed, uint64_t k, std::string_view what) {
  return k == 0 ? seed : splitmix64(seed ^ name_hash(what) ^ splitmix64(k)) & ((uint64_t{1} << 62) - 1);
}

/// Hands each event to its queue's and its guest's collectors.
class ByQueue : public Observer {
 public:
  ByQueue(std::vector<Observer*> queue, std::vector<Observer*> guest_of_queue)
      : queue_(std::move(queue)), guest_(std::move(guest_of_queue)) {}
  void on_event(const Event& e) override {
    queue_[e.queue]->on_event(e);
    guest_[e.queue]->on_event(e);
  }

 private:
  std::vector<Observer*> queue_, guest_;
};

/// Jain's fairness index: (sum x)^2 / (n sum x^2); 1 when every x is equal
/// (and, by convention, when all are 0).
double jain_index(const std::vector<double>& x) {
  double sum = 0, sq = 0;
  for (double v : x) sum += v, sq += v * v;
  return sq > 0 ? sum * sum / (static_cast<double>(x.size()) * sq) : 1.0;
}

}  // namespace

RunResult run_scenario(const Scenario& sc, const RunOptions& options) {
  const Config& cfg = sc.config;
  const uint64_t seed = static_cast<uint64_t>(cfg.integer("seed"));
  const Topology& topo = sc.topology;
  const uint32_t nq = topo.total_queues();

  // The platform, built in code (SIMGRID.md): a SimGrid host per core group
  // for the backends, one per guest for its vCPUs. Speeds are nominal: actors
  // account CPU time themselves and sleep for it (execute() is 3x slower per
  // call here); threads sharing cores take turns (cores.hpp).
  xbt_log_control_set("root.thresh:critical");
  // Debian's SimGrid is not built with AddressSanitizer's fiber support: its
  // fast context switching confuses ASan, so an ASan build runs on thread
  // contexts (slower but clean). VRINGSIM_CONTEXTS=thread|raw picks
  // the factory in any build (tests use it to run the thread path unsanitized).
  std::string factory;
#if defined(__SANITIZE_ADDRESS__)
  factory = "thread";
#endif
  if (const char* env = std::getenv("VRINGSIM_CONTEXTS"); env && *env) {
    if (std::string(env) == "thread" || std::string(env) == "raw")
      factory = env;
    else
      std::cerr << "vringsim: VRINGSIM_CONTEXTS=" << env << " ignored (thread or raw)\n";
  }
  std::string arg0 = "vringsim", arg1 = "--cfg=contexts/factory:" + factory;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  int argc = factory.empty() ? 1 : 2;
  if (argc == 1) argv[1] = nullptr;
  sg4::Engine engine(&argc, argv);
  auto* zone = sg4::create_full_zone("vringsim");
  std::vector<sg4::Host*> core_hosts, guest_hosts;
  for (const auto& c : topo.cores) core_hosts.push_back(zone->create_host("cores:" + c.name, 1e9)->set_core_count(static_cast<int>(c.count)));
  for (const auto& g : topo.guests) guest_hosts.push_back(zone->create_host("vcpus:" + g.name, 1e9)->set_core_count(static_cast<int>(g.vcpus)));
  zone->seal();

  // The traffic: each source with its own wire and GRO, merged and routed.
  struct Input {
    std::unique_ptr<TrafficSource> source;
    std::unique_ptr<ArrivalProcess> wire;
    std::unique_ptr<Aggregator> arrivals;
  };
  std::vector<Input> inputs;
  std::vector<Dispatcher::Input> feeds;
  for (size_t i = 0; i < topo.sources.size(); ++i) {
    const Config& scfg = topo.sources[i].config;
    const uint64_t sseed = stream_seed(seed, i, "topology.source");
    const std::string kind = scfg.string("traffic.kind");
    TrafficContext ctx{scfg, "traffic." + kind + ".", sseed, sc.base_dir};
    ctx.need_flows = nq > 1;
    Input in;
    in.source = Registry<TrafficInfo>::instance().find(kind)->create(ctx);
    in.wire = std::make_unique<ArrivalProcess>(scfg, sseed);
    in.arrivals = std::make_unique<Aggregator>(scfg, *in.source, *in.wire);
    feeds.push_back({in.arrivals.get()});
    inputs.push_back(std::move(in));
  }
  Dispatcher dispatcher(std::move(feeds), topo, static_cast<uint64_t>(cfg.integer("stop.packets")), 0.01);
  TrafficSource& source = *inputs[0].source;

  const std::string pname = cfg.string("policy.name");
  const PolicyInfo* pinfo = Registry<PolicyInfo>::instance().find(pname);
  const CostModel costs = CostModel::from(cfg);
  const auto ring_size = static_cast<uint32_t>(cfg.integer("ring.size"));

  RunState run(nq);
  run.stop_time = cfg.number("stop.time_s");
  const FaultPlan faults(cfg, seed, run.stop_time);
  FaultRecorder fault_recorder(faults);
  run.bus.subscribe(&fault_recorder);
  const double warmup = cfg.number("measure.warmup_s");
  Collector collector(warmup);
  run.bus.subscribe(&collector);

  // Cores: one pool per host core group (its backend threads), one per vCPU
  // (the queues whose NAPI runs there: queue q on vCPU q mod vCPUs).
  std::vector<uint32_t> threads(topo.cores.size(), 0);
  for (const auto& g : topo.guests) threads[topo.backends[g.backend_index].group] += g.queues;
  std::vector<std::unique_ptr<CorePool>> host_pools;
  for (size_t i = 0; i < topo.cores.size(); ++i)
    host_pools.push_back(std::make_unique<CorePool>(topo.cores[i].count, threads[i]));
  std::vector<std::vector<std::unique_ptr<CorePool>>> vcpu_pools(topo.guests.size());
  for (size_t g = 0; g < topo.guests.size(); ++g) {
    const auto& gst = topo.guests[g];
    for (uint32_t v = 0; v < gst.vcpus; ++v) {
      const uint32_t on_v = gst.queues / gst.vcpus + (v < gst.queues % gst.vcpus ? 1 : 0);
      vcpu_pools[g].push_back(std::make_unique<CorePool>(1, on_v));
    }
  }

  // One receive queue: its ring, policy, device, driver and collector.
  struct Queue {
    std::unique_ptr<RxPolicy> policy;
    std::unique_ptr<Shared> shared;
    std::unique_ptr<HostDevice> host;
    std::unique_ptr<GuestDriver> guest;
    std::unique_ptr<Collector> collector;
    uint32_t guest_index = 0;
  };
  std::vector<std::unique_ptr<GuestMemory>> memories;
  std::vector<std::unique_ptr<Collector>> guest_collectors;
  std::vector<Queue> queues;
  queues.reserve(nq);
  RingFigures figures;
  for (uint32_t g = 0; g < topo.guests.size(); ++g) {
    memories.push_back(std::make_unique<GuestMemory>(stream_seed(seed, g, "topology.guest"),
                                                     cfg.number("guest.page_alloc_failure_prob")));
    guest_collectors.push_back(std::make_unique<Collector>(warmup));
    const auto& gst = topo.guests[g];
    for (uint32_t q = 0; q < gst.queues; ++q) {
      const uint32_t k = gst.first_queue + q;
      const uint64_t qseed = stream_seed(seed, k, "topology.queue");
      Queue Q;
      Q.guest_index = g;
      Q.policy = pinfo->create(cfg, "policy." + pname + ".", qseed);
      if (k == 0)
        figures =
            ring_figures(ring_size, Q.policy->mergeable(), Q.policy->header_bytes(), Q.policy->nominal_posting());
      Q.shared = std::make_unique<Shared>(run, ring_size, k);
      HostDevice::Options hopt;
      hopt.tap_queue_packets = static_cast<uint32_t>(cfg.integer("host.tap_queue_packets"));
      hopt.burst_packets = static_cast<uint32_t>(cfg.integer("host.burst_packets"));
      hopt.mergeable = Q.policy->mergeable();
      hopt.header_bytes = Q.policy->header_bytes();
      hopt.max_frame_bytes = figures.max_frame_bytes;
      hopt.drop_bad_chains = cfg.string("host.on_bad_chain") == "drop";
      hopt.max_chain_descriptors = static_cast<uint32_t>(cfg.integer("host.max_chain_descriptors"));
      hopt.faults = &faults;
      hopt.seed = qseed;
      hopt.cores = host_pools[topo.backends[gst.backend_index].group].get();
      Q.host = std::make_unique<HostDevice>(*Q.shared, costs, hopt, dispatcher);
      GuestDriver::Options gopt;
      gopt.napi_budget = static_cast<uint32_t>(cfg.integer("guest.napi_budget"));
      gopt.refill_2008 = cfg.string("guest.refill_rule") == "2008";
      gopt.refill_retry_delay_s = cfg.number("guest.refill_retry_delay_s");
      gopt.faults = &faults;
      gopt.seed = qseed;
      gopt.vcpu = vcpu_pools[g][q % gst.vcpus].get();
      Q.guest = std::make_unique<GuestDriver>(*Q.shared, *Q.host, *Q.policy, *memories[g], costs, gopt);
      Q.collector = std::make_unique<Collector>(warmup);
      queues.push_back(std::move(Q));
    }
  }
  // Per-guest and per-queue figures, for runs with a topology section.
  std::unique_ptr<ByQueue> by_queue;
  if (topo.declared) {
    std::vector<Observer*> qo, go;
    for (auto& Q : queues) {
      qo.push_back(Q.collector.get());
      go.push_back(guest_collectors[Q.guest_index].get());
    }
    by_queue = std::make_unique<ByQueue>(std::move(qo), std::move(go));
    run.bus.subscribe(by_queue.get());
  }
  uint64_t checks = 0;
  if (options.check)
    run.bus.set_after_emit([&queues, &checks](const Event& e) {
      check_descriptor_graph(queues[e.queue].shared->ring);  // only the event's queue changed
      ++checks;
    });
  // A closed-loop source hears the fate of every packet, in time order.
  struct Feedback : Observer {
    TrafficSource& src;
    explicit Feedback(TrafficSource& s) : src(s) {}
    void on_event(const Event& e) override {
      if (e.kind == EventKind::Delivered) src.on_fate(e.packet, e.time, true);
      if (e.kind == EventKind::Dropped) src.on_fate(e.packet, e.time, false);
    }
  } feedback(source);
  if (dispatcher.closed_loop()) run.bus.subscribe(&feedback);
  std::unique_ptr<Tracer> tracer;
  if (!options.trace_path.empty()) {
    tracer = std::make_unique<Tracer>(options.trace_limit, nq > 1);
    run.bus.subscribe(tracer.get());
  }

  // Time series, sampled by an actor of its own.
  RunResult result;
  result.name = sc.name;
  result.ts_columns = {"time_s",          "free_descriptors", "posted_bytes", "tap_queue_packets", "delivered_packets",
                       "dropped_packets", "arrived_packets",  "avail_chains"};
  const double interval = cfg.number("measure.sample_interval_s");
  double end_time = run.stop_time;
  auto admit_all = [&queues, &run](double t) {
    for (auto& Q : queues) run.add_fates(Q.host->admit_until(t));
  };

  // An exception escaping an actor would abort the process: each actor body
  // records the first one, stops every other actor, and the run rethrows it
  // once the engine has returned (so a broken invariant exits 3, not 134).
  std::exception_ptr failure;
  auto guarded = [&failure](std::function<void()> body) {
    return [&failure, body = std::move(body)] {
      try {
        body();
      } catch (const std::exception&) {  // SimGrid's kill exception is not one: it passes through
        if (!failure) failure = std::current_exception();
        sg4::Actor::kill_all();
      }
    };
  };
  for (auto& Q : queues) {
    const auto& gst = topo.guests[Q.guest_index];
    const std::string qname = fmt::format("{}/rx{}", gst.name, Q.shared->queue - gst.first_queue);
    HostDevice* host = Q.host.get();
    GuestDriver* guest = Q.guest.get();
    sg4::Actor::create("device:" + qname, core_hosts[topo.backends[gst.backend_index].group],
                       guarded([host] { host->run(); }))
        ->daemonize();
    sg4::Actor::create("driver:" + qname, guest_hosts[Q.guest_index], guarded([guest] { guest->run(); }))
        ->daemonize();
  }
  // Liveness: the device waiting for a kick while the guest sleeps until an
  // interrupt, with used buffers it has not been told of, is a deadlock (zero
  // host costs once got there and delivered nothing with exit 0). At the
  // instant a device finishes frames the guest may not have run yet, so the
  // state must persist from one sample to the next to count.
  std::vector<char> stuck(nq, 0);
  auto check_liveness = [&queues, &stuck](double t) {
    for (uint32_t k = 0; k < queues.size(); ++k) {
      const Queue& Q = queues[k];
      const bool now = Q.host->waiting_for_kick() && Q.guest->waiting_for_interrupt_only() &&
                       (Q.host->holds_unpublished() || Q.shared->ring.used_pending() > 0);
      if (now && stuck[k])
        throw InvariantError(fmt::format("liveness (queue {}): at {:.9f} s the device waits for a kick and the "
                                         "driver for an interrupt while used buffers wait to be seen",
                                         k, t));
      stuck[k] = now;
    }
  };
  // With several queues only the sampler advances the bus (a driver cannot
  // know how far the other devices have admitted): it also wakes at least
  // every millisecond between samples, so the buffered events stay few.
  const uint64_t substeps = nq > 1 && interval > 1e-3 ? static_cast<uint64_t>(std::ceil(interval / 1e-3)) : 1;
  sg4::Actor::create(
      "sampler", core_hosts[0], guarded([&] {
        for (uint64_t k = 1;; ++k) {
          const double t = static_cast<double>(k) * interval;
          for (uint64_t j = 1; j < substeps; ++j) {
            const double u = static_cast<double>(k - 1) * interval + static_cast<double>(j) * interval / substeps;
            if (u > run.stop_time) return;
            sg4::this_actor::sleep_until(u);
            admit_all(u);
            run.bus.advance(u);
          }
          if (t > run.stop_time) return;
          sg4::this_actor::sleep_until(t);
          admit_all(t);
          run.bus.advance(t);
          check_liveness(t);
          uint64_t free_descriptors = 0;
          for (const auto& Q : queues) free_descriptors += Q.shared->ring.num_free();
          result.ts_rows.push_back(
              {t, static_cast<double>(free_descriptors), static_cast<double>(collector.posted_bytes()),
               static_cast<double>(collector.tap_packets()), static_cast<double>(collector.delivered_packets()),
               static_cast<double>(collector.dropped_packets()), static_cast<double>(collector.arrived_packets()),
               static_cast<double>(collector.avail_chains())});
        }
      }))
      ->daemonize();
  // The controller ends the run at stop.time_s, or earlier once a finite
  // source has drained (every frame delivered or dropped).
  sg4::Actor::create("controller", core_hosts[0], [&] {
    run.drained->acquire_timeout(run.stop_time);
    end_time = sg4::Engine::get_clock();
  });
  engine.run();
  if (failure) std::rethrow_exception(failure);

  // ---- finish: bring every observer up to the end and check the books ----
  admit_all(end_time);
  for (auto& Q : queues) Q.host->publish_due(end_time);
  run.bus.advance(end_time);
  collector.finish(end_time);
  for (auto& Q : queues) Q.collector->finish(end_time);
  for (auto& c : guest_collectors) c->finish(end_time);
  // Rows sampled after a drained end would repeat the final state: keep them
  // only up to the end.
  while (!result.ts_rows.empty() && result.ts_rows.back()[0] > end_time) result.ts_rows.pop_back();

  // Conservation, queue by queue; the totals are their sums.
  struct Books {
    Collector::Tally arrived, delivered, dropped, in_flight;
    void add(const Books& o) {
      for (auto [sum, part] : {std::pair{&arrived, &o.arrived}, {&delivered, &o.delivered}, {&dropped, &o.dropped},
                               {&in_flight, &o.in_flight}}) {
        sum->packets += part->packets;
        sum->bytes += part->bytes;
      }
    }
  };
  std::vector<Books> books(nq);
  Books total;
  for (uint32_t k = 0; k < nq; ++k) {
    Queue& Q = queues[k];
    Q.shared->ring.check_invariants();
    uint64_t guest_bytes = 0;
    const uint64_t in_guest = Q.guest->processing_after(end_time, &guest_bytes);
    Books& b = books[k];
    b.in_flight.packets = Q.host->tap_packets() + Q.host->held_packets() +
                          (Q.host->published_packets() - Q.guest->collected_packets()) + in_guest;
    b.in_flight.bytes = Q.host->tap_bytes() + Q.host->held_bytes() +
                        (Q.host->published_bytes() - Q.guest->collected_bytes()) + guest_bytes;
    const Collector& c = topo.declared ? *Q.collector : collector;
    b.arrived = c.arrived();
    b.delivered = c.delivered();
    b.dropped = c.dropped();
    const std::string where = nq > 1 ? fmt::format(" (queue {})", k) : std::string();
    if (b.arrived.packets != b.delivered.packets + b.dropped.packets + b.in_flight.packets)
      throw InvariantError(fmt::format("packet conservation{}: arrived {} != delivered {} + dropped {} + in flight {}",
                                       where, b.arrived.packets, b.delivered.packets, b.dropped.packets,
                                       b.in_flight.packets));
    if (b.arrived.bytes != b.delivered.bytes + b.dropped.bytes + b.in_flight.bytes)
      throw InvariantError(fmt::format("byte conservation{}: arrived {} != delivered {} + dropped {} + in flight {}",
                                       where, b.arrived.bytes, b.delivered.bytes, b.dropped.bytes, b.in_flight.bytes));
    total.add(b);
  }
  if (total.arrived.packets != collector.arrived().packets || total.delivered.packets != collector.delivered().packets ||
      total.dropped.packets != collector.dropped().packets)
    throw InvariantError("the queues' packet counts do not add up to the host's");
  auto conservation = [](Json& s, const Books& b) {
    s["packets"] = Json{{"arrived", b.arrived.packets},
                        {"delivered", b.delivered.packets},
                        {"dropped", b.dropped.packets},
                        {"in_flight", b.in_flight.packets}};
    s["bytes"] = Json{{"arrived", b.arrived.bytes},
                      {"delivered", b.delivered.bytes},
                      {"dropped", b.dropped.bytes},
                      {"in_flight", b.in_flight.bytes}};
  };

  Json s = collector.summary(end_time);
  s["ring"].update(ring_json(figures));
  s["memory"]["bytes_per_slot_mtu"] = figures.bytes_per_slot_mtu;
  s["memory"]["posted_bytes_full"] = nq * figures.posted_bytes_full;
  s["memory"]["ring_pinned_bytes_full"] = nq * (figures.ring_bytes + figures.posted_bytes_full);
  // What the guests pin: every ring, plus the most buffer memory posted at once.
  s["memory"]["pinned_bytes_total"] = nq * figures.ring_bytes + s["memory"]["posted_bytes_peak"].get<uint64_t>();
  conservation(s, total);
  s["run"] = Json{{"end_s", end_time}};
  // Was anything measured? A trace that ends before the warm-up (or a run
  // where no frame arrives after it) would otherwise report 0 Gb/s as if
  // that were a result.
  {
    const double window = s["throughput"]["measured_s"].get<double>();
    Json m = {{"warmup_s", warmup}, {"end_s", end_time}, {"window_s", window}};
    if (window <= 0)
      m["problem"] = fmt::format("the run ended at {} s, before measure.warmup_s ({} s): lower measure.warmup_s "
                                 "or give the run more traffic",
                                 end_time, warmup);
    else if (s["throughput"]["offered_pps"].get<double>() <= 0)
      m["problem"] = fmt::format("no frame arrived in the measured window ({} s to {} s): lower measure.warmup_s "
                                 "or give the run more traffic",
                                 warmup, end_time);
    m["valid"] = !m.contains("problem");
    s["measure"] = std::move(m);
  }
  std::array<uint64_t, kChainFaults> bad{};
  uint64_t broken = 0, rx_length_errors = 0;
  double broken_at = 0;
  std::array<uint64_t, kChainFaults> injected{};
  for (const auto& Q : queues) {
    for (int k = 1; k < kChainFaults; ++k) {
      bad[k] += Q.host->bad_chains()[k];
      injected[k] += Q.guest->injected()[k];
    }
    if (Q.host->broken() && (!broken || Q.host->broken_at() < broken_at)) broken_at = Q.host->broken_at();
    broken += Q.host->broken() ? 1 : 0;
    rx_length_errors += Q.guest->rx_length_errors();
  }
  for (int k = 1; k < kChainFaults; ++k) s["host"]["bad_chains"][chain_fault_name(static_cast<ChainFault>(k))] = bad[k];
  s["host"]["broken"] = broken;  // devices (queues) broken; 0 or 1 with one queue
  if (broken) s["host"]["broken_at_s"] = broken_at;
  s["guest"]["rx_length_errors"] = rx_length_errors;
  Json fj = fault_recorder.summary(end_time);
  if (faults.bad_chain_rate() > 0) {
    for (ChainFault k : faults.bad_chain_kinds())
      fj["bad_chain"]["injected"][chain_fault_name(k)] = injected[static_cast<int>(k)];
  }
  if (!fj.empty()) s["faults"] = std::move(fj);
  if (options.check) s["check"] = Json{{"events_checked", checks}};

  if (topo.declared) {
    // Per queue and per guest: the measured keys and the books. Totals of
    // what several threads do at once are sums (stalls) or shares of the
    // host's capacity (CPU).
    uint32_t host_cores = 0, vcpus = 0;
    for (const auto& c : topo.cores) host_cores += c.count;
    for (const auto& g : topo.guests) vcpus += g.vcpus;
    auto entity = [&](const Collector& c, const Books& b, uint32_t rings) {
      Json j = c.summary(end_time);
      conservation(j, b);
      j["memory"]["pinned_bytes_total"] = rings * figures.ring_bytes + j["memory"]["posted_bytes_peak"].get<uint64_t>();
      return j;
    };
    Json guests = Json::object();
    std::vector<double> gbps;
    double host_busy = 0, guest_busy = 0, empty = 0, stall_time = 0;
    uint64_t stalls = 0;
    for (uint32_t g = 0; g < topo.guests.size(); ++g) {
      const auto& gst = topo.guests[g];
      Books gb;
      Json qs = Json::object();
      for (uint32_t q = 0; q < gst.queues; ++q) {
        const uint32_t k = gst.first_queue + q;
        const Books& b = books[k];
        gb.add(b);
        Json qj = entity(*queues[k].collector, b, 1);
        host_busy += qj["cpu"]["host_utilization"].get<double>();
        guest_busy += qj["cpu"]["guest_utilization"].get<double>();
        empty += qj["ring"]["empty_fraction"].get<double>();
        stalls += qj["host"]["stalls"].get<uint64_t>();
        stall_time += qj["host"]["stall_time_s"].get<double>();
        qs[std::to_string(q)] = std::move(qj);
      }
      Json gj = entity(*guest_collectors[g], gb, gst.queues);
      gj["queues"] = std::move(qs);
      gbps.push_back(gj["throughput"]["delivered_gbps"].get<double>());
      guests[gst.name] = std::move(gj);
    }
    s["guests"] = std::move(guests);
    // Shares of every backend core and every vCPU (per-queue spans are each
    // clipped to the window, so the sum may pass the capacity by a hair).
    s["cpu"]["host_utilization"] = std::min(1.0, host_busy / host_cores);
    s["cpu"]["guest_utilization"] = std::min(1.0, guest_busy / vcpus);
    s["ring"]["empty_fraction"] = empty / nq;  // mean over the rings
    s["host"]["stalls"] = stalls;
    s["host"]["stall_time_s"] = stall_time;
    s["fairness"] = Json{{"jain_throughput", jain_index(gbps)}};
    s["topology"] = Json{{"guests", topo.guests.size()},
                         {"queues", nq},
                         {"host_cores", host_cores},
                         {"vcpus", vcpus},
                         {"sources", topo.sources.size()}};
  }
  s["policy"] = Json{{"name", pname}};
  s["provenance"] =
      Json{{"version", version()},         {"scenario", sc.file},
           {"scenario_sha256", sc.sha256}, {"seed", seed},
           {"overrides", sc.overrides},    {"precedence", "default < scenario file < sweep axis < --set"}};
  s["traffic"] = source.summary(s["throughput"]["measured_s"].get<double>());
  s["traffic"]["gro"] = inputs[0].arrivals->summary();
  if (inputs.size() > 1) {  // the first source's figures above; every source's here
    for (size_t i = 0; i < inputs.size(); ++i) {
      Json t = inputs[i].source->summary(s["throughput"]["measured_s"].get<double>());
      t["gro"] = inputs[i].arrivals->summary();
      s["traffic"]["sources"][topo.sources[i].name] = std::move(t);
    }
  }
  s["config"] = cfg.json();
  result.summary = std::move(s);

  if (tracer) {
    std::string text = tracer->text();
    if (tracer->skipped()) text += fmt::format("# {} more events not written (--trace-limit)\n", tracer->skipped());
    write_file_atomic(options.trace_path, text);
  }
  return result;
}

}  // namespace vringsim
