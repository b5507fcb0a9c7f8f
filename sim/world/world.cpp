#include "sim/world/world.hpp"

#include <fmt/format.h>
#include <xbt/log.h>
#include <simgrid/s4u.hpp>

#include <exception>
#include <functional>
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
  explicit Tracer(uint64_t limit) : limit_(limit) { out_ << "time_s,actor,event,packet,head,count,len,bytes,detail\n"; }
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
    out_ << fmt::format("{:.9f},{},{},{},{},{},{},{},{}\n", e.time, actor, name, e.packet, e.head, e.count, e.len,
                        e.bytes, detail);
  }
  std::string text() const { return out_.str(); }
  uint64_t skipped() const { return skipped_; }

 private:
  uint64_t limit_;
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

}  // namespace

RunResult run_scenario(const Scenario& sc, const RunOptions& options) {
  const Config& cfg = sc.config;
  const uint64_t seed = static_cast<uint64_t>(cfg.integer("seed"));

  // The platform, built in code (SIMGRID.md): one host CPU for the backend,
  // one vCPU for the guest. Speeds are nominal: actors account CPU time
  // themselves and sleep for it (execute() is 3x slower per call here).
  xbt_log_control_set("root.thresh:critical");
  char arg0[] = "vringsim";
#if defined(__SANITIZE_ADDRESS__)
  // Debian's SimGrid is not built with AddressSanitizer's fiber support: its
  // fast context switching confuses ASan. Thread contexts are slower but clean.
  char arg1[] = "--cfg=contexts/factory:thread";
  int argc = 2;
  char* argv[] = {arg0, arg1, nullptr};
#else
  int argc = 1;
  char* argv[] = {arg0, nullptr};
#endif
  sg4::Engine engine(&argc, argv);
  auto* zone = sg4::create_full_zone("vringsim");
  sg4::Host* host_cpu = zone->create_host("host-cpu", 1e9);
  sg4::Host* guest_cpu = zone->create_host("guest-vcpu", 1e9);
  zone->seal();

  // The model.
  const std::string pname = cfg.string("policy.name");
  auto policy = Registry<PolicyInfo>::instance().find(pname)->create(cfg, "policy." + pname + ".", seed);
  const std::string kind = cfg.string("traffic.kind");
  auto source = Registry<TrafficInfo>::instance().find(kind)->create(
      TrafficContext{cfg, "traffic." + kind + ".", seed, sc.base_dir});
  ArrivalProcess wire(cfg, seed);
  Aggregator arrivals(cfg, *source, wire);
  const CostModel costs = CostModel::from(cfg);
  GuestMemory memory(seed, cfg.number("guest.page_alloc_failure_prob"));
  const auto ring_size = static_cast<uint32_t>(cfg.integer("ring.size"));
  const RingFigures figures =
      ring_figures(ring_size, policy->mergeable(), policy->header_bytes(), policy->nominal_posting());

  Shared shared(ring_size);
  shared.stop_time = cfg.number("stop.time_s");
  const FaultPlan faults(cfg, seed, shared.stop_time);
  FaultRecorder fault_recorder(faults);
  shared.bus.subscribe(&fault_recorder);
  uint64_t checks = 0;
  if (options.check)
    shared.bus.set_after_emit([&shared, &checks] {
      check_descriptor_graph(shared.ring);
      ++checks;
    });
  const double warmup = cfg.number("measure.warmup_s");
  Collector collector(warmup);
  shared.bus.subscribe(&collector);
  // A closed-loop source hears the fate of every packet, in time order.
  struct Feedback : Observer {
    TrafficSource& src;
    explicit Feedback(TrafficSource& s) : src(s) {}
    void on_event(const Event& e) override {
      if (e.kind == EventKind::Delivered) src.on_fate(e.packet, e.time, true);
      if (e.kind == EventKind::Dropped) src.on_fate(e.packet, e.time, false);
    }
  } feedback(*source);
  if (source->closed_loop()) shared.bus.subscribe(&feedback);
  std::unique_ptr<Tracer> tracer;
  if (!options.trace_path.empty()) {
    tracer = std::make_unique<Tracer>(options.trace_limit);
    shared.bus.subscribe(tracer.get());
  }

  HostDevice::Options hopt;
  hopt.tap_queue_packets = static_cast<uint32_t>(cfg.integer("host.tap_queue_packets"));
  hopt.burst_packets = static_cast<uint32_t>(cfg.integer("host.burst_packets"));
  hopt.stop_packets = static_cast<uint64_t>(cfg.integer("stop.packets"));
  hopt.mergeable = policy->mergeable();
  hopt.header_bytes = policy->header_bytes();
  hopt.max_frame_bytes = figures.max_frame_bytes;
  hopt.drop_bad_chains = cfg.string("host.on_bad_chain") == "drop";
  hopt.max_chain_descriptors = static_cast<uint32_t>(cfg.integer("host.max_chain_descriptors"));
  hopt.faults = &faults;
  hopt.seed = seed;
  HostDevice host(shared, costs, hopt, arrivals);

  GuestDriver::Options gopt;
  gopt.napi_budget = static_cast<uint32_t>(cfg.integer("guest.napi_budget"));
  gopt.refill_2008 = cfg.string("guest.refill_rule") == "2008";
  gopt.refill_retry_delay_s = cfg.number("guest.refill_retry_delay_s");
  gopt.faults = &faults;
  gopt.seed = seed;
  GuestDriver guest(shared, host, *policy, memory, costs, gopt);

  // Time series, sampled by an actor of its own.
  RunResult result;
  result.name = sc.name;
  result.ts_columns = {"time_s",          "free_descriptors", "posted_bytes", "tap_queue_packets", "delivered_packets",
                       "dropped_packets", "arrived_packets",  "avail_chains"};
  const double interval = cfg.number("measure.sample_interval_s");
  double end_time = shared.stop_time;

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
  sg4::Actor::create("host-device", host_cpu, guarded([&] { host.run(); }))->daemonize();
  sg4::Actor::create("guest-driver", guest_cpu, guarded([&] { guest.run(); }))->daemonize();
  sg4::Actor::create(
      "sampler", host_cpu, guarded([&] {
        for (uint64_t k = 1;; ++k) {
          const double t = static_cast<double>(k) * interval;
          if (t > shared.stop_time) return;
          sg4::this_actor::sleep_until(t);
          shared.add_fates(host.admit_until(t));
          shared.bus.advance(t);
          result.ts_rows.push_back(
              {t, static_cast<double>(shared.ring.num_free()), static_cast<double>(collector.posted_bytes()),
               static_cast<double>(collector.tap_packets()), static_cast<double>(collector.delivered_packets()),
               static_cast<double>(collector.dropped_packets()), static_cast<double>(collector.arrived_packets()),
               static_cast<double>(collector.avail_chains())});
        }
      }))
      ->daemonize();
  // The controller ends the run at stop.time_s, or earlier once a finite
  // source has drained (every frame delivered or dropped).
  sg4::Actor::create("controller", host_cpu, [&] {
    shared.drained->acquire_timeout(shared.stop_time);
    end_time = sg4::Engine::get_clock();
  });
  engine.run();
  if (failure) std::rethrow_exception(failure);

  // ---- finish: bring every observer up to the end and check the books ----
  shared.add_fates(host.admit_until(end_time));
  host.publish_due(end_time);
  shared.bus.advance(end_time);
  collector.finish(end_time);
  // Rows sampled after a drained end would repeat the final state: keep them
  // only up to the end.
  while (!result.ts_rows.empty() && result.ts_rows.back()[0] > end_time) result.ts_rows.pop_back();

  shared.ring.check_invariants();
  uint64_t guest_bytes = 0;
  const uint64_t in_guest = guest.processing_after(end_time, &guest_bytes);
  const uint64_t in_flight =
      host.tap_packets() + host.held_packets() + (host.published_packets() - guest.collected_packets()) + in_guest;
  const uint64_t in_flight_bytes =
      host.tap_bytes() + host.held_bytes() + (host.published_bytes() - guest.collected_bytes()) + guest_bytes;
  const auto arrived = collector.arrived(), delivered = collector.delivered(), dropped = collector.dropped();
  if (arrived.packets != delivered.packets + dropped.packets + in_flight)
    throw InvariantError(fmt::format("packet conservation: arrived {} != delivered {} + dropped {} + in flight {}",
                                     arrived.packets, delivered.packets, dropped.packets, in_flight));
  if (arrived.bytes != delivered.bytes + dropped.bytes + in_flight_bytes)
    throw InvariantError(fmt::format("byte conservation: arrived {} != delivered {} + dropped {} + in flight {}",
                                     arrived.bytes, delivered.bytes, dropped.bytes, in_flight_bytes));

  Json s = collector.summary(end_time);
  s["ring"].update(ring_json(figures));
  s["memory"]["bytes_per_slot_mtu"] = figures.bytes_per_slot_mtu;
  s["memory"]["posted_bytes_full"] = figures.posted_bytes_full;
  s["memory"]["ring_pinned_bytes_full"] = figures.ring_bytes + figures.posted_bytes_full;
  s["packets"] = Json{{"arrived", arrived.packets},
                      {"delivered", delivered.packets},
                      {"dropped", dropped.packets},
                      {"in_flight", in_flight}};
  s["bytes"] = Json{{"arrived", arrived.bytes},
                    {"delivered", delivered.bytes},
                    {"dropped", dropped.bytes},
                    {"in_flight", in_flight_bytes}};
  s["run"] = Json{{"end_s", end_time}};
  for (int k = 1; k < kChainFaults; ++k)
    s["host"]["bad_chains"][chain_fault_name(static_cast<ChainFault>(k))] = host.bad_chains()[k];
  s["host"]["broken"] = host.broken() ? 1 : 0;
  if (host.broken()) s["host"]["broken_at_s"] = host.broken_at();
  s["guest"]["rx_length_errors"] = guest.rx_length_errors();
  Json fj = fault_recorder.summary(end_time);
  if (faults.bad_chain_rate() > 0) {
    for (ChainFault k : faults.bad_chain_kinds())
      fj["bad_chain"]["injected"][chain_fault_name(k)] = guest.injected()[static_cast<int>(k)];
  }
  if (!fj.empty()) s["faults"] = std::move(fj);
  if (options.check) s["check"] = Json{{"events_checked", checks}};
  s["policy"] = Json{{"name", pname}};
  s["provenance"] =
      Json{{"version", version()},         {"scenario", sc.file},
           {"scenario_sha256", sc.sha256}, {"seed", seed},
           {"overrides", sc.overrides},    {"precedence", "default < scenario file < sweep axis < --set"}};
  s["traffic"] = source->summary(s["throughput"]["measured_s"].get<double>());
  s["traffic"]["gro"] = arrivals.summary();
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
