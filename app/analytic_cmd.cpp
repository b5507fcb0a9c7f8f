#include "app/analytic_cmd.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <tuple>

#include "app/exit_codes.hpp"
#include "sim/core/cost_model.hpp"
#include "sim/core/errors.hpp"
#include "sim/core/faults.hpp"
#include "sim/core/settings.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/traffic.hpp"
#include "sim/world/runner.hpp"

namespace vringsim {

AnalyticCase analytic_case(const Scenario& sc, std::vector<std::string>* unmet) {
  auto need = [unmet](bool ok, const std::string& what) {
    if (!ok) unmet->push_back(what);
  };
  const Config& cfg = sc.config;
  const RunSettings& run = sc.run;
  const WireSettings wire = WireSettings::bindings().load(cfg);
  const CostModel costs = CostModel::from(cfg);
  AnalyticCase c;
  // The model needs frames of one length: the traffic plug-in says whether
  // its frames have one (this command never reads a plug-in's own keys).
  const std::string& kind = run.traffic_kind;
  const TrafficContext ctx{cfg, "traffic." + kind + ".", run.seed, sc.base_dir};
  const auto source = Registry<TrafficInfo>::instance().find(kind)->create(ctx);
  const std::optional<uint32_t> frame_len = source->constant_length();
  need(frame_len.has_value(),
       fmt::format("/traffic: the \"{}\" traffic must give frames of one length (e.g. synthetic with length "
                   "\"fixed\")",
                   kind));
  need(wire.arrival == "poisson", "/traffic/arrival must be \"poisson\"");
  need(!GroSettings::bindings().load(cfg).enabled, "/traffic/gro/enabled must be false");
  need(costs.host_service_exponential, "/costs/host/service_distribution must be \"exponential\"");
  for (const auto& [cost, key] : std::initializer_list<std::pair<double, const char*>>{
           {costs.guest_per_packet_ns, "costs.guest.per_packet_ns"},
           {costs.guest_per_descriptor_ns, "costs.guest.per_descriptor_ns"},
           {costs.guest_per_byte_copy_ns, "costs.guest.per_byte_copy_ns"},
           {costs.guest_per_page_alloc_ns, "costs.guest.per_page_alloc_ns"},
           {costs.guest_per_page_free_ns, "costs.guest.per_page_free_ns"},
           {costs.guest_per_page_recycle_ns, "costs.guest.per_page_recycle_ns"},
           {costs.guest_per_kick_ns, "costs.guest.per_kick_ns"},
           {costs.guest_per_interrupt_ns, "costs.guest.per_interrupt_ns"},
           {costs.guest_per_poll_ns, "costs.guest.per_poll_ns"},
           {costs.host_per_kick_ns, "costs.host.per_kick_ns"},
           {costs.host_per_interrupt_ns, "costs.host.per_interrupt_ns"}})
    need(cost == 0.0, key_to_pointer(key) + " must be 0 (the guest and notifications cost nothing)");
  // A notification or a wake-up that takes time delays the refill and the
  // host: the chain has no state for a frame delivered late.
  const LatencySettings lat = LatencySettings::bindings().load(cfg);
  for (const auto& [ns, key] : std::initializer_list<std::pair<double, const char*>>{
           {lat.kick_ns, "latency.kick_ns"},
           {lat.interrupt_ns, "latency.interrupt_ns"},
           {lat.vcpu_wakeup_ns, "latency.vcpu_wakeup_ns"},
           {lat.backend_wakeup_ns, "latency.backend_wakeup_ns"}})
    need(ns == 0.0, key_to_pointer(key) + " must be 0 (a notification or wake-up takes no time)");
  // vhost-net moves a batch out of the tap at a time and yields every 256
  // frames: not one frame served at a time.
  need(!DeviceSettings::bindings().load(cfg).vhost,
       "/host/backend must be \"qemu\" (vhost serves the tap in batches, not one frame at a time)");
  need(DriverSettings::bindings().load(cfg).page_alloc_failure_prob == 0.0, "/guest/page_alloc_failure_prob must be 0");
  // More than one queue, guest or source is not one queue.
  need(sc.topology.total_queues() == 1 && sc.topology.sources.size() == 1,
       "/topology must have one source and one receive queue");
  const FaultPlan faults(cfg, run.seed, run.stop_time_s);
  need(faults.bad_chain_rate() == 0.0, "/faults/bad_chain/rate must be 0");
  for (int k = 0; k < kFaultKinds; ++k)
    need(!faults.configured(static_cast<FaultKind>(k)),
         fmt::format("/faults/{} must open no window", fault_kind_name(static_cast<FaultKind>(k))));
  c.frame_bytes = frame_len.value_or(0);
  const double rate_gbps = wire.rate_gbps, link_gbps = wire.link_gbps;
  // The wire spaces frames by their serialisation time: negligible only on a much faster link.
  need(link_gbps >= 100.0 * rate_gbps, "/traffic/link_gbps must be at least 100 x /traffic/rate_gbps (Poisson "
                                       "arrivals, not spaced by the wire)");
  c.lambda = rate_gbps * 1e9 / ((c.frame_bytes + 24.0) * 8.0);
  // Host time per frame: the descriptors of the chains the frame needs.
  auto policy = make_policy(run.policy, PolicyContext{cfg, "", run.seed, sc.virtio, run.ring_size});
  // The guest costs nothing, including the work of the mechanisms the
  // scenario runs: page_frag carving (mergeable mtu and ewma sizing), the
  // EWMA's updates, indirect tables (RING_INDIRECT_DESC).
  const std::string sizing = run.policy == "mergeable" ? cfg.string("policy.mergeable.sizing") : "";
  for (const auto& [runs, cost, key] : std::initializer_list<std::tuple<bool, double, const char*>>{
           {sizing == "mtu" || sizing == "ewma", costs.guest_per_frag_carve_ns, "costs.guest.per_frag_carve_ns"},
           {sizing == "ewma", costs.guest_per_ewma_update_ns, "costs.guest.per_ewma_update_ns"},
           {sc.virtio.indirect(), costs.guest_per_indirect_table_ns, "costs.guest.per_indirect_table_ns"}})
    need(!runs || cost == 0.0, key_to_pointer(key) + " must be 0 (the guest and notifications cost nothing)");
  // EWMA-sized mergeable buffers follow the lengths seen so far: the
  // descriptors a frame takes (its service time) are not one number.
  need(sizing != "ewma",
       "/policy/mergeable/sizing must not be \"ewma\" (buffer lengths that follow the traffic's history)");
  // A guest without GSO gets frames above the MTU cut by the host: one
  // arrival becomes several.
  need(sc.virtio.guest_gso() || c.frame_bytes <= uint64_t{sc.virtio.mtu} + 14,
       fmt::format("/traffic: {}-byte frames are cut into MTU frames by the host for a guest without GSO (one "
                   "arrival, several packets)",
                   c.frame_bytes));
  const auto f = ring_figures(run.ring_size, RingLayout::of(sc.virtio), *policy);
  const uint64_t bytes = uint64_t{policy->header_bytes()} + c.frame_bytes;
  need(bytes <= f.max_frame_bytes, "the frame must fit the policy's buffers");
  const uint64_t chains = policy->mergeable() ? (bytes + f.bytes_per_posting - 1) / f.bytes_per_posting : 1;
  c.service_ns = costs.host_packet_ns(static_cast<uint32_t>(chains * f.descriptors_per_posting), bytes);
  need(c.service_ns > 0, "the host's time per frame must be positive (/costs/host/per_packet_ns)");
  c.mu = c.service_ns > 0 ? 1e9 / c.service_ns : 0;
  c.capacity = uint64_t{DeviceSettings::bindings().load(cfg).tap_queue_packets} + 1;
  return c;
}

namespace {

struct Comparison {
  const char* metric;
  double analytic;
  double simulated;
  /// The smallest difference that means something: below it both figures
  /// are rounding noise or under the simulation's resolution, and the
  /// relative difference is taken against it rather than against the
  /// analytic figure (1e-17 against 0 is not "-100 %").
  double floor;
  /// (simulated - analytic) / max(|analytic|, floor), 0 when that rounds to 0.00 %.
  double relative() const {
    const double rel = (simulated - analytic) / std::max(std::abs(analytic), floor);
    return std::abs(rel) < 5e-5 ? 0.0 : rel;
  }
};

double probability(double p) { return std::clamp(p, 0.0, 1.0); }

double figure(const Json& s, const char* ptr) { return s.at(Json::json_pointer(ptr)).get<double>(); }

}  // namespace

int cmd_analytic(const std::vector<std::string>& files, const std::vector<std::string>& sets, bool json) {
  // Everything is checked before anything runs.
  std::vector<Scenario> scenarios;
  std::vector<AnalyticCase> cases;
  for (const auto& f : files) {
    scenarios.push_back(load_scenario(f, sets));
    std::vector<std::string> unmet;
    cases.push_back(analytic_case(scenarios.back(), &unmet));
    if (!unmet.empty()) {
      std::string why;
      for (const auto& u : unmet) why += (why.empty() ? "" : "; ") + u;
      throw InputError(fmt::format("{}: the M/M/1/K model does not apply: {}", f, why));
    }
  }
  Json all = Json::array();
  int code = kExitOk;
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const Scenario& sc = scenarios[i];
    const AnalyticCase& c = cases[i];
    const QueuePrediction q = solve_mm1k(c.lambda, c.mu, c.capacity);
    const RunOutcome o = run_in_child(sc, {});
    if (o.exit_code != 0) {
      code = std::max(code, o.exit_code == kExitInternal ? kExitInternal : kExitFailed);
      continue;
    }
    const Json& s = o.result.summary;
    const double offered = figure(s, "/throughput/offered_pps"), delivered = figure(s, "/throughput/delivered_pps");
    const double measured_s = figure(s, "/throughput/measured_s");
    // A share of frames resolves to one frame of those offered in the window.
    const double one_frame = offered * measured_s >= 1 ? 1.0 / (offered * measured_s) : 1.0;
    // Frames that arrived before the window and were delivered in it can
    // make delivered exceed offered: no drop, not a negative one.
    const std::vector<Comparison> rows = {
        {"throughput_pps", q.throughput_pps, delivered, 1.0},
        {"drop_probability", probability(q.blocking), probability(offered > 0 ? 1.0 - delivered / offered : 0.0),
         one_frame},
        {"mean_latency_us", q.mean_sojourn_s * 1e6, figure(s, "/latency_us/mean"), 1e-3},
        {"host_utilization", probability(q.utilization), figure(s, "/cpu/host_utilization"), 1e-6},
    };
    if (json) {
      Json j{{"name", sc.name},
             {"file", sc.file},
             {"model", {{"lambda_pps", c.lambda}, {"mu_pps", c.mu}, {"rho", c.lambda / c.mu}, {"capacity", c.capacity}}}};
      for (const Comparison& r : rows) j["analytic"][r.metric] = r.analytic, j["simulated"][r.metric] = r.simulated;
      all.push_back(std::move(j));
      continue;
    }
    std::cout << fmt::format("{}: M/M/1/K with lambda {:.0f}/s, mu {:.0f}/s (rho {:.3f}), K {}; simulated {:.6g} s\n",
                             sc.name, c.lambda, c.mu, c.lambda / c.mu, c.capacity, measured_s);
    std::cout << fmt::format("  {:<18} {:>14} {:>14} {:>10}\n", "metric", "analytic", "simulated", "rel diff");
    for (const Comparison& r : rows)
      std::cout << fmt::format("  {:<18} {:>14.6g} {:>14.6g} {:>+9.2f}%\n", r.metric, r.analytic, r.simulated,
                               100.0 * r.relative());
  }
  if (json) std::cout << all.dump(1) << "\n";
  return code;
}

Command analytic_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> files, sets;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cli = app.add_subcommand(
      "analytic",
      "an M/M/1/K Markov chain's prediction beside the simulator's figures (see docs/guide/analytic-cross-check.md)");
  cli->add_option("files", a->files, "scenario JSON files whose assumptions the model meets")->required();
  cli->add_option("--set", a->sets, "KEY=VALUE: override a scenario key");
  cli->add_flag("--json", a->json, "print JSON");
  return {cli, [a] { return cmd_analytic(a->files, a->sets, a->json); }};
}

}  // namespace vringsim
