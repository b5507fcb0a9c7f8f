// Whole simulations, one child process each (SimGrid: one engine per process).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "app/analytic_cmd.hpp"
#include "app/calibrate_cmd.hpp"
#include "sim/core/policy.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/sanitizers.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/virtio.hpp"
#include "sim/world/runner.hpp"
#include "tests/models/capture_fixtures.hpp"
#include "tests/world/simulation_fixture.hpp"

namespace vringsim {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = VRINGSIM_SOURCE_DIR;

// A deliberately broken policy, registered only in this test binary: it
// frees each page twice, which the guest's page allocator must catch.
/// `s` run twice, each in a child: `toggle(options, true)`, then `false`,
/// each writing its CSV trace (at most `trace_limit` rows) to `dir`/on.csv
/// or off.csv.
std::pair<RunOutcome, RunOutcome> run_toggled(const Scenario& s, const fs::path& dir, uint64_t trace_limit,
                                              void (*toggle)(RunOptions&, bool)) {
  std::pair<RunOutcome, RunOutcome> out;
  for (const bool on : {true, false}) {
    RunOptions opt;
    toggle(opt, on);
    opt.trace_path = (dir / (on ? "on.csv" : "off.csv")).string();
    opt.trace_format = "csv";
    opt.trace_limit = trace_limit;
    (on ? out.first : out.second) = run_in_child(s, opt);
  }
  return out;
}

class DoubleFree : public RxPolicy {
 public:
  bool mergeable() const override { return true; }
  uint32_t header_bytes() const override { return 12; }
  std::vector<uint32_t> nominal_posting() const override { return {kPageBytes}; }
  std::optional<Posting> make_posting(GuestMemory& mem, GuestWork&) override {
    const uint64_t a = *mem.alloc_pages(0);
    return Posting{{{a, kPageBytes}}, {{a, 0, false}}, kPageBytes};
  }
  void receive(std::span<const ReturnedBuffer> bufs, uint32_t, GuestMemory& mem, GuestWork&) override {
    for (const auto& b : bufs) {
      mem.free_pages(b.posting->blocks[0].addr, 0);
      mem.free_pages(b.posting->blocks[0].addr, 0);
    }
  }
  void release(Posting&&, GuestMemory&, GuestWork&) override {}
};
const Registrar<PolicyInfo> kDoubleFree{
    PolicyInfo{"test-double-free", "frees every page twice (tests only)", RxMode::Mergeable, false, nullptr,
               [](const PolicyContext&) -> std::unique_ptr<RxPolicy> {
                 return std::make_unique<DoubleFree>();
               }}};

using Simulation = test_support::Simulation;

TEST_F(Simulation, Seed2008ReproducesTheThreadsFiguresAndCalibrationBands) {
  std::map<std::string, RunResult> r;
  for (const char* p : {"small", "max-buffer", "mergeable", "larger-ring", "hdr-in-data", "coalesced"})
    r[p] = run(load_scenario((kSource / "scenarios/seed-2008" / (std::string(p) + ".json")).string()));
  const auto& mb = r["max-buffer"];
  EXPECT_EQ(u(mb, "/ring/bytes"), 10244u);  // the 2008 layout: no event index
  EXPECT_EQ(u(mb, "/ring/descriptors_per_slot_mtu"), 20u);
  EXPECT_EQ(u(mb, "/ring/capacity_packets_mtu"), 12u);
  EXPECT_EQ(u(mb, "/ring/capacity_packets_64k"), 12u);
  EXPECT_EQ(u(mb, "/ring/unusable_descriptors"), 16u);
  EXPECT_EQ(u(mb, "/memory/posted_bytes_full"), 903024u);
  EXPECT_EQ(u(mb, "/memory/posted_bytes_peak"), 903024u);
  const auto& mg = r["mergeable"];
  EXPECT_EQ(u(mg, "/ring/capacity_packets_mtu"), 256u);
  EXPECT_EQ(u(mg, "/memory/posted_bytes_full"), 1048576u);
  EXPECT_EQ(u(mg, "/ring/descriptors_per_slot_64k"), 17u);
  EXPECT_EQ(u(r["hdr-in-data"], "/ring/descriptors_per_slot_mtu"), 17u);
  EXPECT_EQ(u(r["hdr-in-data"], "/ring/capacity_packets_mtu"), 15u);
  EXPECT_EQ(u(r["larger-ring"], "/ring/capacity_packets_mtu"), 204u);
  EXPECT_EQ(u(r["larger-ring"], "/memory/posted_bytes_full"), 15351408u);
  // Calibration (docs/model.md §2): one set of costs for every policy.
  const double gmb = d(mb, "/throughput/delivered_gbps"), gmg = d(mg, "/throughput/delivered_gbps");
  EXPECT_GE(gmb, 0.8);
  EXPECT_LE(gmb, 1.25);
  EXPECT_GE(gmg, 1.6);
  EXPECT_LE(gmg, 2.5);
  EXPECT_GE(gmg / gmb, 1.7);
  EXPECT_LE(gmg / gmb, 2.5);
  for (auto& [name, res] : r) expect_conservation(res);
}

TEST_F(Simulation, EventIndexAndFlagsCountTheSameNotificationsWhereTheyMustAgree) {
  // The driver enables interrupts only while it sleeps and the device asks
  // for kicks only while it waits for buffers: then used_event and
  // avail_event suppress exactly what the flags do, and every figure but the
  // ring's two bytes is the same (tests/sim/split_ring_test.cpp has where
  // they differ: the 16-bit wrap).
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"mergeable", {R"(virtio.features=["MRG_RXBUF"])"}},
      {"mergeable", {R"(virtio.features=["MRG_RXBUF"])", "traffic.arrival=poisson", "traffic.rate_gbps=0.5"}},
      {"max-buffer", {R"(virtio.features=["GUEST_CSUM","GUEST_TSO4"])", "traffic.arrival=poisson",
                      "traffic.rate_gbps=0.5"}},
  };
  for (const auto& [policy, sets] : cases) {
    const std::string file = (kSource / "scenarios/seed-2008" / (policy + ".json")).string();
    std::vector<std::string> with = sets, without = sets;
    with[0].insert(with[0].size() - 1, R"(,"RING_EVENT_IDX")");
    with.push_back("stop.time_s=0.3");
    without.push_back("stop.time_s=0.3");
    // The 2008 QEMU's notify-on-empty rule reads the flags only (docs/model.md
    // §3), and the two count the same at zero latencies (the defaults: no
    // preset). With the 2008 preset's latencies the flags make one kick more
    // in 180 on the first case: not yet explained.
    for (auto* v : {&with, &without}) {
      v->push_back("host.notify_on_empty=false");
      v->push_back("costs.preset=");
    }
    const RunResult flags = run(load_scenario(file, without));
    const RunResult event = run(load_scenario(file, with));
    ASSERT_FALSE(flags.summary.at("/virtio/ring/event_idx"_json_pointer).get<bool>());
    ASSERT_TRUE(event.summary.at("/virtio/ring/event_idx"_json_pointer).get<bool>());
    EXPECT_EQ(u(event, "/ring/bytes"), u(flags, "/ring/bytes") + 2);
    for (const char* key : {"/notifications/kicks", "/notifications/kicks_suppressed", "/notifications/interrupts",
                            "/packets/delivered", "/packets/dropped"})
      EXPECT_EQ(u(event, key), u(flags, key)) << key << " " << with[0] << " " << sets.size();
    EXPECT_EQ(event.summary["latency_us"], flags.summary["latency_us"]);
    EXPECT_GT(u(flags, "/notifications/kicks") + u(flags, "/notifications/interrupts"), 0u);
  }
}

/// host.features as QEMU offers them with packed=on: the default set and RING_PACKED.
std::string host_features_with_packed() {
  std::string list;
  for (const FeatureInfo& f : feature_table())
    if (f.modelled) list += fmt::format("{}\"{}\"", list.empty() ? "" : ",", f.name);
  return "host.features=[" + list + "]";
}

TEST_F(Simulation, PackedAndSplitRingsAgreeOnEverythingButTheirBytes) {
  // The model gives both layouts one cost model: a chain costs the same to
  // post and to take. With the flags the packed ring's ENABLE/DISABLE areas
  // suppress exactly what the split ring's flags do; only the ring's memory
  // differs: 16N + 8 bytes against the split layout. With the event index
  // they differ where Linux's code does: a fresh split ring has used_event 0
  // (one interrupt, then none until the driver first re-enables), a fresh
  // packed ring ENABLE (virtqueue_vring_init_packed: every publication
  // interrupts until the driver first disables), so the first interrupts
  // differ and the runs drift apart by a few frames.
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"mergeable", {R"(virtio.features=["MRG_RXBUF","VERSION_1"])"}},
      {"mergeable", {R"(virtio.features=["MRG_RXBUF","VERSION_1"])", "traffic.arrival=poisson", "traffic.rate_gbps=0.5"}},
      {"max-buffer", {R"(virtio.features=["GUEST_CSUM","GUEST_TSO4","VERSION_1"])", "traffic.arrival=poisson",
                      "traffic.rate_gbps=0.5"}},
  };
  for (const bool event : {false, true}) {
    for (const auto& [policy, sets] : cases) {
      const std::string file = (kSource / "scenarios/seed-2008" / (policy + ".json")).string();
      std::vector<std::string> split = sets;
      if (event) split[0].insert(split[0].size() - 1, R"(,"RING_EVENT_IDX")");
      split.push_back("stop.time_s=0.3");
      split.push_back("host.notify_on_empty=false");  // a rule of the split ring's flags only
      split.push_back(host_features_with_packed());
      std::vector<std::string> packed = split;
      packed[0].insert(packed[0].size() - 1, R"(,"RING_PACKED")");
      const RunResult s = run(load_scenario(file, split));
      const RunResult p = run(load_scenario(file, packed));
      ASSERT_EQ(p.summary.at("/virtio/ring/layout"_json_pointer), "packed");
      ASSERT_EQ(s.summary.at("/virtio/ring/layout"_json_pointer), "split");
      // VERSION_1: the split ring aligned to 64 (virtio_pci_modern.c setup_vq).
      EXPECT_EQ(u(s, "/ring/bytes"), event ? 6726u : 6724u);
      EXPECT_EQ(u(p, "/ring/bytes"), 4104u);
      // Whole pages: the split ring is one allocation (2 pages), the packed
      // ring three (ring, driver and device event areas: 1 page each).
      EXPECT_EQ(u(s, "/ring/pinned_bytes"), 8192u);
      EXPECT_EQ(u(p, "/ring/pinned_bytes"), 12288u);
      if (!event) {
        for (const char* key : {"/notifications/kicks", "/notifications/kicks_suppressed", "/notifications/interrupts",
                                "/packets/delivered", "/packets/dropped", "/memory/posted_bytes_peak"})
          EXPECT_EQ(u(p, key), u(s, key)) << key << " " << split[0] << " " << sets.size();
        EXPECT_EQ(p.summary["latency_us"], s.summary["latency_us"]);
      } else {
        EXPECT_NEAR(static_cast<double>(u(p, "/packets/delivered")), static_cast<double>(u(s, "/packets/delivered")),
                    1e-3 * static_cast<double>(u(s, "/packets/delivered")))
            << split[0] << " " << sets.size();
      }
      EXPECT_GT(u(s, "/notifications/kicks") + u(s, "/notifications/interrupts"), 0u);
      expect_conservation(p);
    }
  }
}

TEST_F(Simulation, MemoryTotalsCountTheRingsPinnedPagesNotTheirLayoutBytes) {
  // vring_alloc_queue(): alloc_pages_exact(PAGE_ALIGN(size)) or
  // dma_alloc_coherent(), whole pages either way. The 2008 ring: 10,244
  // bytes on 3 pages.
  const std::string file = (kSource / "scenarios/seed-2008/mergeable.json").string();
  const RunResult r = run(load_scenario(file, {"stop.time_s=0.05", "measure.warmup_s=0.01"}));
  EXPECT_EQ(u(r, "/ring/bytes"), 10244u);
  EXPECT_EQ(u(r, "/ring/pinned_bytes"), 12288u);
  EXPECT_EQ(u(r, "/memory/pinned_bytes_total"),
            12288u + u(r, "/memory/posted_bytes_peak") + u(r, "/memory/indirect_table_bytes_peak"));
  EXPECT_EQ(u(r, "/memory/ring_pinned_bytes_full"), 12288u + 256u * 4096);
}

TEST_F(Simulation, StreamedTimeSeriesIsTheFileTheRowsMakeWhateverEndsTheRun) {
  // run --out streams timeseries.csv as the run goes (constant memory). It
  // must be the file the kept rows make: for a run that stops at
  // stop.time_s, one that drains early (stop.packets) and a closed-loop
  // sender; and dropping the rows changes no figure.
  const std::vector<std::vector<std::string>> cases = {
      {"stop.time_s=0.15"},
      {"stop.time_s=1", "stop.packets=3000"},
      {"stop.time_s=0.15", "traffic.kind=tcp", "traffic.arrival=trace"},
  };
  const WriterInfo* csv = Registry<WriterInfo>::instance().find("timeseries-csv");
  ASSERT_NE(csv, nullptr);
  for (const auto& sets : cases) {
    const Scenario s = load_scenario((kSource / "scenarios/seed-2008/mergeable.json").string(), sets);
    const RunResult kept = run(s);
    ASSERT_FALSE(kept.ts_rows.empty());
    EXPECT_TRUE(kept.ts_file.empty());
    const fs::path a = dir_ / "kept", b = dir_ / "streamed";
    fs::create_directories(a);
    fs::create_directories(b);
    csv->create()->write_run(a, kept);
    RunOptions opt;
    opt.timeseries = TimeseriesMode::Stream;
    opt.timeseries_path = (dir_ / ".ts.tmp").string();
    const RunOutcome o = run_in_child(s, opt);
    ASSERT_EQ(o.exit_code, 0);
    EXPECT_TRUE(o.result.ts_rows.empty());
    EXPECT_EQ(o.result.ts_row_count, kept.ts_rows.size());
    csv->create()->write_run(b, o.result);
    EXPECT_FALSE(fs::exists(dir_ / ".ts.tmp"));  // moved into place
    auto text = [](const fs::path& p) {
      std::ifstream in(p);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    EXPECT_EQ(text(b / "timeseries.csv"), text(a / "timeseries.csv")) << sets.back();
    EXPECT_EQ(o.result.summary.dump(), kept.summary.dump());
    opt.timeseries = TimeseriesMode::Discard;
    const RunOutcome d = run_in_child(s, opt);
    EXPECT_EQ(d.result.summary.dump(), kept.summary.dump());
    EXPECT_TRUE(d.result.ts_rows.empty());
    fs::remove_all(a);
    fs::remove_all(b);
  }
}

TEST_F(Simulation, DriverLookaheadChangesNoOutputAndSparesEngineCalls) {
  // The device and the driver skip a sleep when no other task can run
  // before it ends (actor_clock.hpp); the devices and the drivers are
  // coroutines of one actor (task_loop.hpp). Every figure, every sampled
  // row and every event of the trace must be what the loop's own sleeps give
  // (lookahead off: every sleep suspends the task), for each
  // policy, the 2008 and today's driver, kicks (a device out of buffers),
  // fault windows, a closed-loop sender and a run that ends when a finite
  // source drains; and at low load it must spare the loop's waits.
  struct Case {
    std::string file;
    std::vector<std::string> sets;
  };
  const std::vector<std::string> low = {"stop.time_s=0.05", "measure.warmup_s=0.01", "traffic.arrival=poisson",
                                        "traffic.rate_gbps=0.4"};
  std::vector<Case> cases;
  for (const char* p : {"mergeable", "max-buffer", "small", "larger-ring", "hdr-in-data", "coalesced"}) {
    cases.push_back({"scenarios/seed-2008/" + std::string(p) + ".json", low});
    cases.push_back({"scenarios/seed-2008/" + std::string(p) + ".json", {"stop.time_s=0.03", "measure.warmup_s=0.01"}});
  }
  cases.push_back({"scenarios/linux-6/mergeable-imix-10g.json", {"stop.time_s=0.02", "measure.warmup_s=0.005"}});
  cases.push_back({"scenarios/linux-6/packed-mtu-10g.json", {"stop.time_s=0.02", "measure.warmup_s=0.005"}});
  cases.push_back({"scenarios/seed-2008-tcp/mergeable.json", {"stop.time_s=0.05", "measure.warmup_s=0.01"}});
  cases.push_back({"scenarios/seed-2008/mergeable.json", {"stop.time_s=1", "stop.packets=2000"}});
  for (const char* f : {"alloc-failure", "vcpu-stall", "backend-pause", "bad-chains-drop", "tap-overflow"})
    cases.push_back({"scenarios/faults/" + std::string(f) + ".json", {}});
  // Latencies: sleeps on each side's own timeline (a starved device waiting
  // out a kick's latency, a halted vCPU's wake-up, a sleeping backend's).
  for (const auto& sets : {low, std::vector<std::string>{"stop.time_s=0.03", "measure.warmup_s=0.01"}}) {
    auto with = sets;
    for (const char* l : {"latency.kick_ns=20000", "latency.interrupt_ns=5000", "latency.vcpu_wakeup_ns=30000",
                          "latency.backend_wakeup_ns=10000", "host.halt_poll_ns=50000"})
      with.push_back(l);
    cases.push_back({"scenarios/seed-2008/max-buffer.json", with});
    cases.push_back({"scenarios/linux-6/mergeable-mtu-10g.json", with});
  }
  // A device with no costs waits for a kick while the driver runs 80 us of
  // polls ahead from 32 us: its catching up must land on the driver's own
  // time to the bit (a property test found the device taking buffers an ulp
  // before they were posted).
  const Json zero_cost_host = Json::parse(R"({"name": "zero-cost-host", "seed": 840995698,
    "costs": {"host": {"per_byte_ns": 0, "per_descriptor_ns": 0, "per_interrupt_ns": 0, "per_kick_ns": 0,
                       "per_packet_ns": 0}},
    "driver": {"profile": "linux-6.x"}, "guest": {"napi_budget": 2, "refill_rule": "2008"},
    "faults": {"vcpu_stall": {"duration_s": 0.00038, "rate_per_s": 674}},
    "host": {"burst_packets": 5, "tap_queue_packets": 242}, "ring": {"size": 32},
    "measure": {"sample_interval_s": 0.0005, "warmup_s": 0.001}, "stop": {"time_s": 0.0105},
    "policy": {"mergeable": {"sizing": "ewma"}},
    "traffic": {"arrival": "poisson", "rate_gbps": 5.41, "synthetic": {"length": "imix"}}})");
  const fs::path zero_cost_file = dir_ / "zero-cost-host.json";
  std::ofstream(zero_cost_file) << zero_cost_host.dump(1);
  cases.push_back({zero_cost_file.string(), {}});
  // A kick sent before the device waits for it: the device's wait ends at
  // once (after the driver, due at the same instant, has run), so the driver
  // must not take the device for asleep until a kick (another property case).
  const Json kick_pending = Json::parse(R"({"name": "kick-pending", "seed": 355020834,
    "faults": {"backend_pause": {"duration_s": 0.000245, "rate_per_s": 743.56}, "bad_chain": {"rate": 0.063}},
    "guest": {"napi_budget": 10, "page_alloc_failure_prob": 0.0271, "refill_rule": "2008"},
    "host": {"burst_packets": 32, "on_bad_chain": "drop", "tap_queue_packets": 325},
    "measure": {"sample_interval_s": 0.0005, "warmup_s": 0.001}, "stop": {"time_s": 0.00226},
    "policy": {"name": "big-packets"}, "ring": {"size": 64},
    "traffic": {"arrival": "line-rate", "gro": {"enabled": true}, "synthetic": {"length": "fixed"}}})");
  const fs::path kick_pending_file = dir_ / "kick-pending.json";
  std::ofstream(kick_pending_file) << kick_pending.dump(1);
  cases.push_back({kick_pending_file.string(), {}});
  // A guest with no costs and vCPU stalls: sleeps under a nanosecond, which
  // SimGrid ends at the step they are in (surf/precision), not at their end.
  const Json sub_ns = Json::parse(R"({"name": "sub-ns-sleeps", "seed": 711790027,
    "costs": {"guest": {"per_byte_copy_ns": 0, "per_descriptor_ns": 0, "per_interrupt_ns": 0, "per_kick_ns": 0,
                        "per_packet_ns": 0, "per_page_alloc_ns": 0, "per_page_free_ns": 0,
                        "per_page_recycle_ns": 0, "per_poll_ns": 0}},
    "faults": {"bad_chain": {"rate": 0.06040482001290212},
               "vcpu_stall": {"duration_s": 0.0027584124653874747, "rate_per_s": 642.738274127582}},
    "guest": {"napi_budget": 27, "page_alloc_failure_prob": 0.04317776105164281, "refill_rule": "today",
              "xdp": true},
    "host": {"burst_packets": 51, "on_bad_chain": "drop", "tap_queue_packets": 433},
    "measure": {"sample_interval_s": 0.0005, "warmup_s": 0.001}, "stop": {"time_s": 0.0105597780837691},
    "policy": {"name": "hdr-in-data"}, "ring": {"size": 512},
    "traffic": {"arrival": "poisson", "gro": {"enabled": true}, "rate_gbps": 7.277255032951314,
                "synthetic": {"length": "uniform"}},
    "virtio": {"features": ["CSUM", "GUEST_CSUM", "MAC", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "HOST_TSO4",
                            "HOST_TSO6", "HOST_ECN", "RING_EVENT_IDX"]}})");
  const fs::path sub_ns_file = dir_ / "sub-ns-sleeps.json";
  std::ofstream(sub_ns_file) << sub_ns.dump(1);
  cases.push_back({sub_ns_file.string(), {}});
  // Several queues: every queue's device and driver are tasks of one actor,
  // queueing for shared host cores and, with fewer vCPUs than queues, for a
  // vCPU (the loop's own semaphores); the sampler advances the bus. Loaded,
  // at low load, with latencies, and with every core and vCPU contended.
  const std::vector<std::string> several_low = {"stop.time_s=0.03", "measure.warmup_s=0.01",
                                                "traffic.rate_gbps=1.5"};
  [[maybe_unused]] const size_t several_from = cases.size();  // (the sanitizer build picks by it)
  cases.push_back({"scenarios/capacity/8g-4q-4c-mergeable.json", {"stop.time_s=0.03", "measure.warmup_s=0.01"}});
  cases.push_back({"scenarios/capacity/8g-4q-4c-max-buffer.json", several_low});
  cases.push_back({"scenarios/capacity/two-tenants.json", {"stop.time_s=0.03", "measure.warmup_s=0.01"}});
  {
    auto with = several_low;
    for (const char* l : {"latency.kick_ns=20000", "latency.interrupt_ns=5000", "latency.vcpu_wakeup_ns=30000",
                          "latency.backend_wakeup_ns=10000", "host.halt_poll_ns=50000",
                          "topology.cores.host.count=1", "topology.guests.vm.vcpus=1"})
      with.push_back(l);
    cases.push_back({"scenarios/capacity/8g-4q-4c-mergeable.json", with});
  }
  // Two queues' sleeps ending 0.99999999 ns apart: SimGrid ends both in one
  // step (|date - now| < surf/precision), where now + precision rounds to
  // just below the later date (a property case: the second guest posted a
  // nanosecond late).
  const Json within_precision = Json::parse(R"({"name": "within-precision", "seed": 1035249565,
    "faults": {"tap_overflow": {"duration_s": 0.0008384086683436812, "rate_per_s": 171.81119995607162}},
    "guest": {"napi_budget": 6, "refill_rule": "today"}, "host": {"burst_packets": 9, "tap_queue_packets": 376},
    "measure": {"sample_interval_s": 0.0005, "warmup_s": 0.001}, "stop": {"time_s": 0.005856585336020077},
    "policy": {"name": "hdr-in-data"}, "ring": {"size": 64},
    "topology": {"cores": {"host": {"count": 3}}, "guests": {"vm": {"count": 3, "queues": 3, "vcpus": 2}}},
    "traffic": {"arrival": "line-rate", "gro": {"enabled": true},
                "synthetic": {"flows": 57, "length": "uniform"}}})");
  const fs::path within_precision_file = dir_ / "within-precision.json";
  std::ofstream(within_precision_file) << within_precision.dump(1);
  cases.push_back({within_precision_file.string(), {}});
  auto text = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
#if VRINGSIM_ASAN
  // Every third case under the sanitizers (thread contexts: 92 s for all;
  // two-tenants among them), and the one with every core and vCPU contended
  // (each several-queue case: 84 s); the normal build runs each one.
  std::vector<Case> some;
  for (size_t i = 0; i < cases.size(); ++i)
    if (i % 3 == 0 || i == several_from + 3) some.push_back(cases[i]);
  cases = some;
#endif
  for (const auto& c : cases) {
    const Scenario s = load_scenario(fs::path(c.file).is_absolute() ? c.file : (kSource / c.file).string(), c.sets);
    const std::string label = c.file + (c.sets.empty() ? "" : " " + c.sets.back());
    auto [with, without] = run_toggled(s, dir_, 1'000'000, [](RunOptions& o, bool on) { o.lookahead = on; });
    ASSERT_EQ(with.exit_code, 0) << label;
    ASSERT_EQ(without.exit_code, 0) << label;
    with.result.summary.erase("provenance");
    without.result.summary.erase("provenance");
    EXPECT_EQ(with.result.summary.dump(), without.result.summary.dump()) << label;
    EXPECT_EQ(with.result.ts_rows, without.result.ts_rows) << label;
    EXPECT_EQ(text(dir_ / "on.csv"), text(dir_ / "off.csv")) << label;
    EXPECT_EQ(with.result.bus_events, without.result.bus_events) << label;
    EXPECT_LE(with.result.loop_waits, without.result.loop_waits) << label;
    EXPECT_GT(text(dir_ / "on.csv").size(), 1000u) << label;  // the trace was written
    if (c.sets == low || c.sets == several_low) {
      if (c.sets == low) {  // (several queues: no lookahead either way)
        EXPECT_LT(with.result.loop_waits, without.result.loop_waits * 9 / 10) << label;
      }
      // The devices and the drivers are coroutines of one actor (task_loop.hpp);
      // SimGrid sees the sampler's instants, not the packets (issue 15's
      // target: at most 0.2 calls per delivered packet).
      const auto delivered = with.result.summary["packets"]["delivered"].get<uint64_t>();
      EXPECT_LT(with.result.blocking_calls * 5, delivered) << label;
    }
  }
}

TEST_F(Simulation, DropRunsChangeNoFigureNoSampledRowAndCountEveryFrameInTheTrace) {
  // Frames dropped on arrival go out as runs (FramesDropped: one event and
  // one trace row a run), split at each sample instant, at the warm-up and
  // at the stop time. Every figure, every sampled row and every guest's and
  // queue's figures must be those of a FrameArrived and a FrameDropped per
  // frame (RunOptions::drop_runs off), with sample intervals and warm-ups
  // that cut runs; the trace's dropped_run rows must count every frame so
  // dropped, each run within one sample interval.
  struct Case {
    std::string file;
    std::vector<std::string> sets;
  };
  std::vector<Case> cases;
  const std::vector<std::string> odd = {"stop.time_s=0.0301", "measure.warmup_s=0.0123457",
                                        "measure.sample_interval_s=0.000071"};
  for (const char* p : {"mergeable", "max-buffer", "small", "coalesced"})
    cases.push_back({"scenarios/seed-2008/" + std::string(p) + ".json", odd});
  cases.push_back({"scenarios/seed-2008/max-buffer.json", {"stop.time_s=0.02", "measure.warmup_s=0.005"}});
  cases.push_back({"scenarios/capacity/8g-4q-4c-max-buffer.json",
                   {"stop.time_s=0.0102", "measure.warmup_s=0.0031", "measure.sample_interval_s=0.00033"}});
  cases.push_back({"scenarios/capacity/8g-1q-4c-max-buffer.json", {"stop.time_s=0.01", "measure.warmup_s=0.002"}});
  cases.push_back({"scenarios/traffic/csv-exchange.json", {}});
  cases.push_back({"scenarios/faults/backend-pause.json", {}});     // fault windows: frame by frame
  cases.push_back({"scenarios/faults/bad-chains-broken.json", {}});  // runs of device_broken drops
  cases.push_back({"scenarios/seed-2008-tcp/max-buffer.json", {"stop.time_s=0.05", "measure.warmup_s=0.01"}});
  cases.push_back({"scenarios/seed-2008/mergeable.json", {"stop.time_s=1", "stop.packets=20000"}});  // drains
  Rng rng(36, "drop-runs");
  for (int i = 0; i < 8; ++i)
    cases.push_back({"scenarios/seed-2008/max-buffer.json",
                     {"stop.time_s=" + std::to_string(0.003 + 0.01 * rng.uniform()),
                      "measure.warmup_s=" + std::to_string(0.002 * rng.uniform()),
                      "measure.sample_interval_s=" + std::to_string(1e-5 + 3e-4 * rng.uniform()),
                      "host.tap_queue_packets=" + std::to_string(rng.uniform_int(1, 100)),
                      "traffic.arrival=" + std::string(rng.chance(0.5) ? "line-rate" : "poisson"),
                      "traffic.rate_gbps=" + std::to_string(2 + 8 * rng.uniform()),
                      "traffic.synthetic.length=" + std::string(rng.chance(0.5) ? "fixed" : "imix")}});
  for (const Case& c : cases) {
    std::string label = c.file;
    for (const auto& x : c.sets) label += " " + x;
    const Scenario s = load_scenario((kSource / c.file).string(), c.sets);
    auto [on, off] = run_toggled(s, dir_, 100'000'000, [](RunOptions& o, bool runs) { o.drop_runs = runs; });
    ASSERT_EQ(on.exit_code, 0) << label;
    ASSERT_EQ(off.exit_code, 0) << label;
    on.result.summary.erase("provenance");
    off.result.summary.erase("provenance");
    EXPECT_EQ(on.result.summary.dump(), off.result.summary.dump()) << label;
    EXPECT_EQ(on.result.ts_rows, off.result.ts_rows) << label;
    EXPECT_EQ(on.result.guests.dump(), off.result.guests.dump()) << label;
    const uint64_t dropped = u(on.result, "/packets/dropped"), arrived = u(on.result, "/packets/arrived");
    const uint64_t broken = u(on.result, "/drops/device_broken"), tap_full = u(on.result, "/drops/tap_full");
    EXPECT_LE(on.result.bus_events, off.result.bus_events) << label;
    // The trace: arrivals of frames that were queued, one row each; drops on
    // arrival in runs; other drops one row each.
    const double interval = s.run.sample_interval_s, warmup = s.run.warmup_s;
    uint64_t arrived_rows = 0, dropped_rows = 0, in_runs = 0, runs = 0;
    std::ifstream in(dir_ / "on.csv");
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(",wire,arrived,") != std::string::npos) ++arrived_rows;
      if (line.find(",host,dropped,") != std::string::npos) ++dropped_rows;
      if (line.find(",host,dropped_run,") == std::string::npos) continue;
      ++runs;
      std::vector<std::string> cell;
      std::stringstream ss(line);
      for (std::string x; std::getline(ss, x, ',');) cell.push_back(x);
      ASSERT_GE(cell.size(), 9u) << line;
      const double t = std::stod(cell[0]), last = std::stod(cell[8].substr(cell[8].find("until=") + 6));
      const uint64_t count = std::stoull(cell[5]);
      EXPECT_GE(count, 1u) << line;
      in_runs += count;
      EXPECT_TRUE(cell[8].starts_with("tap_full ") || cell[8].starts_with("device_broken ")) << line;
      EXPECT_LE(t, last) << line;
      EXPECT_EQ(t >= warmup, last >= warmup) << line;  // (9 digits: a run ending on an instant may print past it)
      // No sample instant inside the run (the trace's 9 digits: 1 ns either side).
      const double k = std::max(1.0, std::floor((t + 1e-9) / interval) + 1);  // the first instant past t
      EXPECT_LE(last, k * interval + 1e-9) << line << ": crosses the sample instant at " << k * interval;
    }
    EXPECT_EQ(arrived_rows + in_runs, arrived) << label;
    EXPECT_EQ(dropped_rows + in_runs, dropped) << label;
    // (Fault windows, or a closed-loop sender: frame by frame.)
    if (tap_full + broken > 1000 && c.file.find("backend-pause") == std::string::npos &&
        c.file.find("tcp") == std::string::npos) {
      EXPECT_GT(runs, 0u) << label;
      EXPECT_GE(in_runs, tap_full) << label;  // every tap_full drop, and the broken device's arrivals
      EXPECT_LE(in_runs, tap_full + broken) << label;
      EXPECT_LT(on.result.bus_events, off.result.bus_events) << label;
    }
  }
}

TEST_F(Simulation, IdleSamplesAreThinnedLosslessly) {
  // A sparse load: most 1 ms samples repeat the one before. timeseries.csv
  // keeps the first and last row of each run of identical samples; filling
  // the sampling grid forward from the file gives back every sampled row.
  const Scenario s = load_scenario((kSource / "scenarios/seed-2008/mergeable.json").string(),
                                   {"traffic.arrival=poisson", "traffic.rate_gbps=0.001", "stop.time_s=0.3"});
  const RunResult r = run(s);
  const size_t n = r.ts_rows.size();
  ASSERT_GT(n, 250u);
  const fs::path dir = dir_ / "thin";
  fs::create_directories(dir);
  Registry<WriterInfo>::instance().find("timeseries-csv")->create()->write_run(dir, r);
  std::ifstream in(dir / "timeseries.csv");
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> file;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) row.push_back(std::stod(cell));
    file.push_back(row);
  }
  EXPECT_EQ(file.size(), u(r, "/measure/timeseries_rows"));
  EXPECT_EQ(n, u(r, "/measure/samples"));
  EXPECT_LT(file.size(), n / 2) << "a sparse load should thin";
  EXPECT_EQ(file.front(), r.ts_rows.front());
  EXPECT_EQ(file.back(), r.ts_rows.back());
  size_t k = 0;
  for (const auto& row : r.ts_rows) {
    if (k + 1 < file.size() && file[k + 1][0] <= row[0]) ++k;  // the file's latest row at or before this time
    std::vector<double> filled = file[k];
    filled[0] = row[0];
    ASSERT_EQ(filled, row) << "at " << row[0];
  }
  // Off, every sample is a row.
  const RunResult all = run(load_scenario((kSource / "scenarios/seed-2008/mergeable.json").string(),
                                          {"traffic.arrival=poisson", "traffic.rate_gbps=0.001", "stop.time_s=0.3",
                                           "measure.skip_idle_samples=false"}));
  EXPECT_EQ(u(all, "/measure/timeseries_rows"), u(all, "/measure/samples"));
}

TEST_F(Simulation, VhostMovesABatchOutOfTheTapAndYieldsSharedCoresEvery256Frames) {
  // A guest far slower than the wire: the tap stays full. QEMU's tap holds
  // 500 frames; vhost-net has moved up to 64 more into its own batch.
  auto tap_peak = [&](const std::string& backend) {
    const RunResult r = run(load_scenario((kSource / "scenarios/seed-2008/max-buffer.json").string(),
                                          {"host.backend=" + backend, "stop.time_s=0.2",
                                           "host.notify_on_empty=false"}));
    const auto& cols = r.ts_columns;
    const size_t c = std::find(cols.begin(), cols.end(), "tap_queue_packets") - cols.begin();
    double peak = 0;
    for (const auto& row : r.ts_rows) peak = std::max(peak, row.at(c));
    return peak;
  };
  EXPECT_EQ(tap_peak("qemu"), 500.0);
  const double v = tap_peak("vhost");
  EXPECT_GT(v, 500.0);
  EXPECT_LE(v, 564.0);
  // Two backends on one host core, the host the bottleneck: a turn is
  // host.burst_packets (64) frames for QEMU, VHOST_NET_PKT_WEIGHT (256) for
  // vhost. Counted from the trace: frames taken in each host busy span
  // longer than an interrupt's injection.
  const Json doc = {{"name", "shared"},
                    {"stop", {{"time_s", 0.05}}},
                    {"measure", {{"warmup_s", 0.01}}},
                    {"ring", {{"size", 1024}}},
                    {"costs", {{"guest", {{"per_packet_ns", 100}, {"per_descriptor_ns", 10}}},
                               {"host", {{"per_packet_ns", 3000}}}}},
                    {"topology", {{"cores", {{"host", {{"count", 1}}}}},
                                  {"guests", {{"vm", {{"count", 2}, {"queues", 1}, {"vcpus", 1}}}}}}}};
  for (const auto& [backend, turn] : {std::pair{"qemu", 64u}, std::pair{"vhost", 256u}}) {
    Json d = doc;
    d["host"]["backend"] = backend;
    RunOptions opt;
    opt.trace_path = (dir_ / (std::string(backend) + ".csv")).string();
    opt.trace_format = "csv";
    opt.trace_limit = 100000000;
    ASSERT_EQ(run_in_child(scenario(d), opt).exit_code, 0);
    std::ifstream in(opt.trace_path);
    std::string line;
    std::vector<std::pair<double, double>> spans;
    std::vector<double> taken;
    while (std::getline(in, line)) {
      if (line.find(",host,busy,") != std::string::npos) {
        const double t = std::stod(line), u = std::stod(line.substr(line.find("until=") + 6));
        if (u - t > 1.5e-6) spans.emplace_back(t, u);
      } else if (line.find(",host,taken,") != std::string::npos) {
        taken.push_back(std::stod(line));
      }
    }
    ASSERT_GT(spans.size(), 10u) << backend;
    uint32_t most = 0, full = 0;
    for (const auto& [t, u] : spans) {
      const auto n = static_cast<uint32_t>(std::lower_bound(taken.begin(), taken.end(), u) -
                                           std::lower_bound(taken.begin(), taken.end(), t));
      most = std::max(most, n);
      full += n == turn;
    }
    EXPECT_EQ(most, turn) << backend;
    EXPECT_GT(full, spans.size() / 2) << backend << ": most turns are full";
  }
}

TEST_F(Simulation, TodaysRefillRuleSchedulesTheRefillWorkAtOnceAfterAFailedRefill) {
  // virtnet_receive(): a refill that could not allocate schedules refill_work
  // with no delay; the work tries again and, failing too, reschedules itself
  // HZ/2 later. In the trace: a failed refill in NAPI is followed by the
  // work's attempt before any further poll delivers a packet.
  const Json doc = {{"name", "refill"},
                    {"stop", {{"time_s", 0.04}}},
                    {"measure", {{"warmup_s", 0.001}}},
                    {"guest", {{"refill_rule", "today"}}},
                    {"faults", {{"alloc_failure", {{"at_s", {0.02}}, {"duration_s", 0.01}}}}},
                    {"traffic", {{"arrival", "poisson"}, {"rate_gbps", 0.5}}}};
  RunOptions opt;
  opt.trace_path = (dir_ / "refill.csv").string();
  opt.trace_format = "csv";
  opt.trace_limit = 100000000;
  ASSERT_EQ(run_in_child(scenario(doc), opt).exit_code, 0);
  std::ifstream in(opt.trace_path);
  std::string line, last;
  uint32_t failed = 0, retried = 0;
  while (std::getline(in, line)) {
    const bool fail = line.find(",guest,refill_failed,") != std::string::npos;
    const bool delivered = line.find(",guest,delivered,") != std::string::npos;
    if (!fail && !delivered) continue;
    if (fail) {
      ++failed;
      if (last == "fail") ++retried;  // no packet delivered since the previous failure: the work's retry
    }
    last = fail ? "fail" : "delivered";
  }
  EXPECT_GT(failed, 2u);
  EXPECT_GT(retried, 0u) << "a failed refill was never retried before the next poll";
}

TEST_F(Simulation, Seed2008TcpLandsInTheSameBandsWithoutRecalibrating) {
  std::map<std::string, RunResult> r;
  for (const char* p : {"max-buffer", "mergeable"})
    r[p] = run(load_scenario((kSource / "scenarios/seed-2008-tcp" / (std::string(p) + ".json")).string()));
  const double gmb = d(r["max-buffer"], "/throughput/delivered_gbps");
  const double gmg = d(r["mergeable"], "/throughput/delivered_gbps");
  EXPECT_GE(gmb, 0.8);
  EXPECT_LE(gmb, 1.25);
  EXPECT_GE(gmg, 1.6);
  EXPECT_LE(gmg, 2.5);
  EXPECT_GE(gmg / gmb, 1.7);
  EXPECT_LE(gmg / gmb, 2.5);
  for (auto& [name, res] : r) {
    expect_conservation(res);
    // The sender follows what the guest takes: it offers about what is delivered.
    EXPECT_LT(d(res, "/throughput/offered_gbps"), 1.1 * d(res, "/throughput/delivered_gbps")) << name;
    EXPECT_GT(res.summary["traffic"]["goodput_gbps"].get<double>(), 0.9 * d(res, "/throughput/delivered_gbps"));
  }
}

TEST_F(Simulation, TheClosedLoopSenderBacksOffAfterDrops) {
  const Json tcp = {{"name", "tcp"},
                    {"stop", {{"time_s", 0.1}}},
                    {"measure", {{"warmup_s", 0.02}}},
                    {"policy", {{"name", "max-buffer"}}},
                    {"host", {{"tap_queue_packets", 32}}},
                    {"traffic", {{"kind", "tcp"}, {"arrival", "trace"}}}};
  const RunResult r = run(scenario(tcp));
  expect_conservation(r);
  const auto& t = r.summary["traffic"];
  EXPECT_GT(u(r, "/packets/dropped"), 0u);
  EXPECT_GE(t["window_reductions"].get<uint64_t>(), 2u);
  EXPECT_GE(t["retransmissions"].get<uint64_t>(), 1u);
  EXPECT_LE(t["retransmissions"].get<uint64_t>(), t["losses"].get<uint64_t>());
  EXPECT_LE(t["losses"].get<uint64_t>(), u(r, "/packets/dropped"));
  // Open loop, the same link offers 9.84 Gb/s; the sender offers what the guest can take.
  EXPECT_LT(d(r, "/throughput/offered_gbps"), 2.0);
  EXPECT_GT(d(r, "/throughput/delivered_gbps"), 0.5);
}

TEST_F(Simulation, ClosedLoopResultsAreDeterministicAndIndependentOfTheBurstSize) {
  const Json doc = {{"name", "tcpb"},
                    {"stop", {{"time_s", 0.03}}},
                    {"measure", {{"warmup_s", 0.005}}},
                    {"policy", {{"name", "mergeable"}}},
                    {"host", {{"tap_queue_packets", 64}}},
                    {"traffic", {{"kind", "tcp"}, {"arrival", "trace"}}}};
  const Json base = expect_burst_independent(doc, {1, 5, 64, 64}, "tcp");
  EXPECT_GT(base["packets"]["delivered"].get<uint64_t>(), 0u);
}

TEST_F(Simulation, ABrokenInvariantEndsTheRunWithExit3) {
  const Json doc = {{"name", "broken"},
                    {"stop", {{"time_s", 0.01}}},
                    {"measure", {{"warmup_s", 0.001}}},
                    {"policy", {{"name", "test-double-free"}}}};
  const RunOutcome o = run_in_child(scenario(doc), {});
  EXPECT_EQ(o.exit_code, 3);
}

TEST_F(Simulation, SameScenarioAndSeedGiveIdenticalBytes) {
  const Json doc = {{"name", "det"},
                    {"stop", {{"time_s", 0.05}}},
                    {"measure", {{"warmup_s", 0.01}}},
                    {"traffic", {{"arrival", "poisson"}, {"rate_gbps", 6}, {"synthetic", {{"length", "weighted"}}}}}};
  const Scenario s = scenario(doc);
  const RunResult a = run(s), b = run(s);
  EXPECT_EQ(a.summary.dump(), b.summary.dump());
  EXPECT_EQ(to_json(a).dump(), to_json(b).dump());
  const RunResult c = run(scenario(doc, {"seed=2"}));
  EXPECT_NE(a.summary["packets"].dump(), c.summary["packets"].dump());
}

TEST_F(Simulation, ResultsDoNotDependOnTheHostBurstSize) {
  // On the default costs (whole nanoseconds but for 0.25 ns a byte) and on
  // today-x86's (0.08 and 0.109 ns a byte, where the double-seconds world
  // once let max-buffer deliver one frame more at burst 7 than at 1: each
  // charge now enters the integer clock rounded up, whatever the burst).
  for (const char* preset : {"", "today-x86"})
    for (const char* policy : {"max-buffer", "mergeable"}) {
      Json doc = {{"name", "burst"},
                  {"stop", {{"time_s", 0.03}}},
                  {"measure", {{"warmup_s", 0.005}}},
                  {"policy", {{"name", policy}}},
                  {"traffic", {{"arrival", "poisson"}, {"rate_gbps", 8}, {"synthetic", {{"length", "uniform"}}}}}};
      if (*preset) doc["costs"]["preset"] = preset;
      expect_burst_independent(doc, {1, 7, 64, 1000}, std::string(policy) + " " + preset);
    }
}

TEST_F(Simulation, AnXdpDropCostsTheProgramAndNoStackAndFreesEveryBuffer) {
  // Small buffers of a modern device, no offloads: the program attaches.
  // Every CPU cost 0 but the program's (400 ns) and the stack's (600 ns a
  // packet): a dropped frame costs the vCPU 400 ns, a passed one 1,000.
  Json doc = {{"name", "xdp"},
              {"stop", {{"time_s", 0.02}}},
              {"measure", {{"warmup_s", 0.005}}},
              {"virtio", {{"features", {"VERSION_1"}}}},
              {"costs", test_support::zero_costs()},
              {"traffic", {{"arrival", "constant"}, {"rate_gbps", 0.2}, {"synthetic", {{"len_bytes", 60}}}}}};
  doc["costs"]["guest"]["per_xdp_ns"] = 400;
  doc["costs"]["guest"]["per_packet_ns"] = 600;
  const RunResult drop = run(scenario(doc, {"guest.xdp_action=drop"}));
  const RunResult pass = run(scenario(doc, {"guest.xdp_action=pass"}));
  const RunResult none = run(scenario(doc));
  expect_conservation(drop);
  const double pps = d(drop, "/throughput/delivered_pps");
  ASSERT_GT(pps, 100000.0);
  EXPECT_EQ(d(pass, "/throughput/delivered_pps"), pps);  // far below either cost's limit
  EXPECT_NEAR(d(drop, "/cpu/guest_utilization"), pps * 400e-9, 0.002);
  EXPECT_NEAR(d(pass, "/cpu/guest_utilization"), pps * 1000e-9, 0.002);
  EXPECT_NEAR(d(none, "/cpu/guest_utilization"), pps * 600e-9, 0.002);
  // Every frame the driver took was dropped, and every buffer went back.
  EXPECT_EQ(u(drop, "/guest/xdp_drops"), u(drop, "/packets/delivered"));
  EXPECT_FALSE(pass.summary["guest"].contains("xdp_drops"));
}

TEST_F(Simulation, AFiniteSourceDrainsAndStopsEarly) {
  const Json doc = {{"name", "drain"},
                    {"stop", {{"time_s", 1.0}, {"packets", 5000}}},
                    {"measure", {{"warmup_s", 0.0}}},
                    {"traffic", {{"arrival", "constant"}, {"rate_gbps", 1}}}};
  const RunResult r = run(scenario(doc));
  EXPECT_EQ(u(r, "/packets/arrived"), 5000u);
  EXPECT_EQ(u(r, "/packets/in_flight"), 0u);
  EXPECT_EQ(u(r, "/packets/delivered"), 5000u);  // 1 Gb/s is well within mergeable's reach
  EXPECT_LT(d(r, "/run/end_s"), 0.1);
  expect_conservation(r);
}

TEST_F(Simulation, ADeviceBrokenAfterTheSourceRanDryStillLetsTheRunDrain) {
  // The frames a breaking device finds in its tap are lost, and each is a
  // fate: once the source has sent its last frame, those may be the last
  // fates, and the run must end there. (In the coroutine engine's first
  // draft they were never counted when the source was already dry: this
  // run went on to stop.time_s, 5 s.) Seed 7's first faulty chain at 1 in
  // 1,000 comes after the 2,000th frame was sent.
  const Scenario s = load_scenario((kSource / "scenarios/faults/bad-chains-broken.json").string(),
                                   {"stop.packets=2000", "stop.time_s=5", "faults.bad_chain.rate=0.001",
                                    "traffic.rate_gbps=9", "measure.warmup_s=0"});
  const RunResult r = run(s);
  ASSERT_EQ(u(r, "/host/broken"), 1u);
  EXPECT_EQ(u(r, "/packets/arrived"), 2000u);
  EXPECT_EQ(u(r, "/packets/in_flight"), 0u);
  EXPECT_LT(d(r, "/run/end_s"), 0.1);
  expect_conservation(r);
}

TEST_F(Simulation, MergeableSpreadsA64KiBFrameOver17Buffers) {
  const Json doc = {{"name", "gso"},
                    {"stop", {{"time_s", 0.02}}},
                    {"measure", {{"warmup_s", 0.002}}},
                    {"traffic", {{"arrival", "constant"}, {"rate_gbps", 2}, {"synthetic", {{"len_bytes", 65549}}}}}};
  const RunResult r = run(scenario(doc));
  ASSERT_EQ(r.summary["buffers_per_packet"].size(), 1u);
  EXPECT_GT(r.summary["buffers_per_packet"]["17"].get<uint64_t>(), 0u);
  EXPECT_EQ(u(r, "/drops/too_large"), 0u);
}

TEST_F(Simulation, MaxBufferWrites18DescriptorsOfA64KiBFrame) {
  const Json doc = {{"name", "gso-mb"},
                    {"stop", {{"time_s", 0.02}}},
                    {"measure", {{"warmup_s", 0.002}}},
                    {"policy", {{"name", "max-buffer"}}},
                    {"traffic", {{"arrival", "constant"}, {"rate_gbps", 2}, {"synthetic", {{"len_bytes", 65549}}}}}};
  const RunResult r = run(scenario(doc));
  // header 10 + linear 1514 + ceil((65549 - 1514) / 4096) = 16 pages.
  ASSERT_EQ(r.summary["buffers_per_packet"].size(), 1u);
  EXPECT_GT(r.summary["buffers_per_packet"]["18"].get<uint64_t>(), 0u);
}

TEST_F(Simulation, FramesThatCanNeverFitAreDroppedAsTooLarge) {
  // Frames with no known L4 header (header_bytes 0): the host cannot cut
  // them into MTU frames, and small buffers cannot take them.
  const Json doc = {{"name", "big"},
                    {"stop", {{"time_s", 0.01}}},
                    {"measure", {{"warmup_s", 0.001}}},
                    {"policy", {{"name", "small"}}},
                    {"traffic",
                     {{"synthetic",
                       {{"length", "weighted"}, {"lens_bytes", {1514, 9000}}, {"weights", {1, 1}}, {"header_bytes", 0}}}}}};
  const RunResult r = run(scenario(doc));
  EXPECT_GT(u(r, "/drops/too_large"), 0u);
  EXPECT_GT(u(r, "/packets/delivered"), 0u);
  expect_conservation(r);
}

TEST_F(Simulation, AGuestWithoutGsoGetsGsoPacketsCutIntoMtuFramesNotDropped) {
  // 2008 small buffers negotiate no guest GSO: the host segments each
  // 9000-byte TCP packet into ceil((9000 - 66) / 1448) = 7 frames.
  const Json doc = {{"name", "seg"},
                    {"stop", {{"time_s", 0.01}}},
                    {"measure", {{"warmup_s", 0.001}}},
                    {"policy", {{"name", "small"}}},
                    {"traffic", {{"arrival", "constant"}, {"rate_gbps", 0.5}, {"synthetic", {{"len_bytes", 9000}}}}}};
  const RunResult r = run(scenario(doc));
  EXPECT_EQ(u(r, "/drops/too_large"), 0u);
  const auto& g = r.summary["traffic"]["gro"];
  // Segments count as the host hands them on: the run may end inside the last packet's.
  const uint64_t cut = g["host_segmented_packets"].get<uint64_t>(), segs = g["host_segments"].get<uint64_t>();
  EXPECT_GT(cut, 10u);
  EXPECT_LE(segs, 7 * cut);
  EXPECT_GT(segs, 7 * (cut - 1));
  EXPECT_GT(u(r, "/packets/delivered"), 0u);
  EXPECT_EQ(r.summary["buffers_per_packet"].size(), 1u);  // every frame fits one small slot
  expect_conservation(r);
  // A guest with GSO (2008 max-buffer) takes them whole: no segmentation figures.
  Json big = doc;
  big["policy"]["name"] = "max-buffer";
  const RunResult b = run(scenario(big));
  EXPECT_FALSE(b.summary["traffic"]["gro"].contains("host_segments"));
}

TEST_F(Simulation, BelowCapacityEverythingOfferedIsDelivered) {
  const Json doc = {{"name", "light"},
                    {"stop", {{"time_s", 0.05}}},
                    {"measure", {{"warmup_s", 0.01}}},
                    {"traffic", {{"arrival", "constant"}, {"rate_gbps", 1}}}};
  const RunResult r = run(scenario(doc));
  EXPECT_EQ(u(r, "/packets/dropped"), 0u);
  EXPECT_NEAR(d(r, "/throughput/delivered_gbps"), d(r, "/throughput/offered_gbps"), 0.01);
  EXPECT_EQ(u(r, "/host/stalls"), 0u);
  EXPECT_LT(d(r, "/latency_us/p99"), 50.0);
}

TEST_F(Simulation, PageAllocationFailuresAreRetriedAndConservationHolds) {
  const Json doc = {{"name", "oom"},
                    {"stop", {{"time_s", 0.05}}},
                    {"measure", {{"warmup_s", 0.0}}},
                    {"guest", {{"page_alloc_failure_prob", 0.3}, {"refill_retry_delay_s", 0.001}}}};
  const RunResult r = run(scenario(doc));
  EXPECT_GT(u(r, "/guest/refill_failures"), 0u);
  EXPECT_GT(u(r, "/packets/delivered"), 0u);
  expect_conservation(r);
}

TEST_F(Simulation, ACaptureArrivesWithExactlyItsOriginalBytes) {
  // Frames of 1514 (cut to 96 by snaplen), 60 and 9014 bytes, three passes.
  std::ofstream(dir_ / "c.csv") << "time_s,len_bytes\n0,1514\n0.00001,60\n0.00002,9014\n";
  const Json doc = {{"name", "cap"},
                    {"stop", {{"time_s", 0.01}}},
                    {"measure", {{"warmup_s", 0.0}}},
                    {"traffic", {{"kind", "csv"}, {"arrival", "trace"}, {"csv", {{"file", "c.csv"}, {"loops", 3}}}}}};
  const RunResult r = run(scenario(doc));
  EXPECT_EQ(u(r, "/packets/arrived"), 9u);
  EXPECT_EQ(u(r, "/bytes/arrived"), 3u * (1514 + 60 + 9014));
  EXPECT_EQ(u(r, "/packets/in_flight"), 0u);  // the run drains
  expect_conservation(r);
}

TEST_F(Simulation, AReplayedPcapArrivesWithItsOriginalNotItsCapturedLengths) {
  // 300 frames cut to 96 bytes by snaplen: 1514-byte data, 60-byte ACKs and 64 KiB GSO frames.
  std::vector<fixtures::Pkt> pkts;
  uint64_t total = 0;
  for (uint32_t i = 0; i < 300; ++i) {
    const uint32_t payload = i % 3 == 0 ? 1460 : i % 3 == 1 ? 6 : 65495;
    pkts.push_back(fixtures::tcp_frame(1'700'000'000'000'000'000ull + i * 20'000ull, 80, payload));
    total += pkts.back().orig_len;
  }
  fixtures::write_file(dir_ / "r.pcapng", fixtures::pcapng_file(pkts, true, true));
  const Json doc = {
      {"name", "pcapng"},
      {"stop", {{"time_s", 1.0}}},
      {"measure", {{"warmup_s", 0.0}}},
      {"traffic", {{"kind", "pcap"}, {"arrival", "trace"}, {"pcap", {{"file", "r.pcapng"}, {"loops", 2}}}}}};
  const RunResult r = run(scenario(doc));
  EXPECT_EQ(u(r, "/packets/arrived"), 600u);
  EXPECT_EQ(u(r, "/bytes/arrived"), 2 * total);
  EXPECT_EQ(r.summary["traffic"]["truncated"].get<uint64_t>(), 400u);  // the 60-byte ACKs fit in 96 bytes
  expect_conservation(r);
}

TEST_F(Simulation, ACapturesGsoFramesAreCutByTheHostForAGuestWithoutGsoWhetherOrNotGroIsOn) {
  // Issue 30: headers were parsed only with GRO on (or several queues), so a
  // captured 64 KiB TCP frame had no known header without GRO and a small
  // guest lost it as too_large instead of getting it segmented.
  std::vector<fixtures::Pkt> pkts;
  for (uint32_t i = 0; i < 60; ++i)
    pkts.push_back(fixtures::tcp_frame(1'700'000'000'000'000'000ull + i * 200'000ull, 80, i % 2 ? 6 : 65495));
  fixtures::write_file(dir_ / "gso.pcap", fixtures::pcap_file(pkts, false, true));
  fixtures::write_file(dir_ / "gso.pcapng", fixtures::pcapng_file(pkts, false, true));
  for (const char* file : {"gso.pcap", "gso.pcapng"}) {
    for (const bool gro : {false, true}) {
      const Json doc = {{"name", "gso"},
                        {"stop", {{"time_s", 1.0}}},
                        {"measure", {{"warmup_s", 0.0}}},
                        {"policy", {{"name", "small"}}},
                        {"traffic",
                         {{"kind", "pcap"},
                          {"arrival", "trace"},
                          {"gro", {{"enabled", gro}, {"flush_gap_s", 0.0}}},
                          {"pcap", {{"file", file}}}}}};
      const RunResult r = run(scenario(doc));
      const std::string at = fmt::format("{} gro {}", file, gro);
      EXPECT_EQ(u(r, "/drops/too_large"), 0u) << at;
      const auto& g = r.summary["traffic"]["gro"];
      EXPECT_EQ(g["host_segmented_packets"].get<uint64_t>(), 30u) << at;
      EXPECT_EQ(g["host_segments"].get<uint64_t>(), 30u * 45) << at;  // ceil(65495 / (1514 - 54))
      expect_conservation(r);
    }
  }
}

TEST_F(Simulation, GroSuperPacketsTakeEveryPolicysLargeFramePath) {
  for (const char* policy : {"mergeable", "max-buffer", "small"}) {
    const Json doc = {{"name", "gro"},
                      {"stop", {{"time_s", 0.01}}},
                      {"measure", {{"warmup_s", 0.001}}},
                      {"policy", {{"name", policy}}},
                      {"traffic", {{"gro", {{"enabled", true}}}}}};
    const RunResult r = run(scenario(doc));
    expect_conservation(r);
    const auto& g = r.summary["traffic"]["gro"];
    EXPECT_GT(g["super_packets"].get<uint64_t>(), 0u);
    // A packet that arrived is one the aggregator emitted (the last may not have arrived yet).
    EXPECT_LE(u(r, "/packets/arrived"), g["packets_out"].get<uint64_t>());
    EXPECT_GT(g["frames_in"].get<uint64_t>(), 40 * g["super_packets"].get<uint64_t>());
    const auto& bpp = r.summary["buffers_per_packet"];
    if (std::string(policy) == "mergeable") {
      EXPECT_TRUE(bpp.contains("16") || bpp.contains("17")) << bpp.dump();
    }
    if (std::string(policy) == "max-buffer") {
      EXPECT_TRUE(bpp.contains("18")) << bpp.dump();
    }
    if (std::string(policy) == "small") {  // no guest GSO: the host cuts each super-packet back into MTU frames
      EXPECT_EQ(u(r, "/drops/too_large"), 0u);
      EXPECT_GT(g["host_segments"].get<uint64_t>(), 40 * g["host_segmented_packets"].get<uint64_t>());
    }
  }
}

TEST_F(Simulation, ConservationHoldsOverRandomScenarios) {
  const std::vector<std::string> policies = {"small",       "max-buffer",  "mergeable",
                                             "larger-ring", "hdr-in-data", "coalesced"};
  Rng rng(2026, "property");
  for (int i = 0; i < 40; ++i) {
    const std::string policy = policies[rng.uniform_int(0, policies.size() - 1)];
    const int ring = 1 << rng.uniform_int(policy == "mergeable" || policy == "small" ? 2 : 5, 12);
    const char* arrivals[] = {"line-rate", "constant", "poisson"};
    const char* lengths[] = {"fixed", "uniform", "weighted"};
    Json doc = {{"name", "prop"},
                {"seed", rng.uniform_int(0, 1000000)},
                {"stop", {{"time_s", 0.004 + 0.01 * rng.uniform()}}},
                {"measure", {{"warmup_s", 0.001}}},
                {"ring", {{"size", ring}}},
                {"policy", {{"name", policy}, {"coalesced", {{"order_failure_prob", rng.uniform()}}}}},
                {"host", {{"tap_queue_packets", rng.uniform_int(1, 600)}, {"burst_packets", rng.uniform_int(1, 100)}}},
                {"guest",
                 {{"napi_budget", rng.uniform_int(1, 128)},
                  {"refill_rule", rng.chance(0.5) ? "2008" : "today"},
                  {"page_alloc_failure_prob", rng.chance(0.3) ? 0.05 : 0.0},
                  {"refill_retry_delay_s", 0.0005}}},
                {"traffic",
                 {{"arrival", arrivals[rng.uniform_int(0, 2)]},
                  {"rate_gbps", 0.5 + 9.5 * rng.uniform()},
                  {"synthetic",
                   {{"length", lengths[rng.uniform_int(0, 2)]},
                    {"len_bytes", rng.chance(0.2) ? 65549 : 1514},
                    {"max_len_bytes", rng.chance(0.3) ? 65549 : 1514},
                    {"lens_bytes", {60, 1514, 9014}},
                    {"weights", {3, 5, 1}}}}}}};
    if (rng.chance(0.3)) doc["stop"]["packets"] = rng.uniform_int(1, 3000);
    if (rng.chance(0.25)) {  // the closed-loop sender
      doc["traffic"]["kind"] = "tcp";
      doc["traffic"]["arrival"] = "trace";
      doc["traffic"]["tcp"] = {{"rtt_s", 1e-6 + 200e-6 * rng.uniform()}, {"len_bytes", rng.chance(0.5) ? 1514 : 9014}};
    }
    const Scenario s = scenario(doc);
    RunOutcome o = run_in_child(s, {});
    ASSERT_EQ(o.exit_code, 0) << "replay with this scenario:\n" << doc.dump(1);
    expect_conservation(o.result);
    if (HasFailure()) {
      ADD_FAILURE() << "replay with this scenario:\n" << doc.dump(1);
      return;
    }
  }
}

// ---- faulty guests and fault windows (issue 6) -----------------------------

Json fault_base(const char* policy, double gbps, double stop_s) {
  return Json{{"name", "f"},
              {"stop", {{"time_s", stop_s}}},
              {"measure", {{"warmup_s", 0.0}}},
              {"policy", {{"name", policy}}},
              {"traffic", {{"rate_gbps", gbps}, {"arrival", "constant"}}}};
}

TEST_F(Simulation, ADroppingDeviceSkipsEveryFaultyChainAndTheGuestTakesItBack) {
  Json doc = fault_base("mergeable", 2, 0.05);
  doc["ring"] = {{"size", 64}};  // --check walks the whole ring per event
  doc["host"] = {{"on_bad_chain", "drop"}};
  doc["faults"] = {{"bad_chain", {{"rate", 0.02}}}};
  const RunResult r = run(scenario(doc), /*check=*/true);
  expect_conservation(r);
  EXPECT_GT(u(r, "/check/events_checked"), 10000u);
  EXPECT_EQ(u(r, "/host/broken"), 0u);
  uint64_t tampered_found = 0;
  for (const char* k : {"loop", "next_out_of_range", "zero_length", "read_only", "head_in_flight", "head_out_of_range"}) {
    const uint64_t f = r.summary["host"]["bad_chains"][k], i = r.summary["faults"]["bad_chain"]["injected"][k];
    EXPECT_GT(i, 0u) << k;
    EXPECT_LE(f, i) << k;             // found at most what was posted...
    EXPECT_GE(f + 3, i) << k;         // ...and all but the few still on the ring at the end
    if (std::string(k) != "head_in_flight" && std::string(k) != "head_out_of_range") tampered_found += f;
  }
  // Each tampered chain came back unused and the guest counted a short packet.
  EXPECT_EQ(u(r, "/guest/rx_length_errors"), tampered_found);
  EXPECT_EQ(u(r, "/drops/device_broken"), 0u);
  EXPECT_EQ(u(r, "/host/bad_chains/too_long"), 0u);
  // Throughput survives: 2% of chains skipped, no frame lost for it.
  EXPECT_EQ(u(r, "/packets/dropped"), 0u);
  // A skipped chain's memory is no longer posted: the posted bytes never
  // exceed what a full ring holds (they grew without bound before the fix).
  EXPECT_LE(u(r, "/memory/posted_bytes_peak"), u(r, "/memory/posted_bytes_full"));
}

TEST_F(Simulation, ABrokenDeviceLosesEveryFrameFromTheFirstFaultyChainOn) {
  Json doc = fault_base("max-buffer", 0.5, 0.05);
  doc["faults"] = {{"bad_chain", {{"rate", 0.05}, {"kinds", "read_only"}}}};
  const RunResult r = run(scenario(doc), true);
  expect_conservation(r);
  EXPECT_EQ(u(r, "/host/broken"), 1u);
  EXPECT_EQ(u(r, "/host/bad_chains/read_only"), 1u) << "a broken device reads no further";
  const double at = d(r, "/host/broken_at_s");
  EXPECT_GT(at, 0.0);
  EXPECT_LT(at, 0.05);
  // Every frame after the break is lost as device_broken, and nothing else is.
  EXPECT_EQ(u(r, "/drops/device_broken"), u(r, "/packets/dropped"));
  EXPECT_EQ(u(r, "/packets/in_flight"), 0u);
  const double per_s = 0.5e9 / ((1514 + 24) * 8.0);  // constant arrivals of MTU frames
  EXPECT_NEAR(static_cast<double>(u(r, "/drops/device_broken")), (0.05 - at) * per_s, 0.01 * (0.05 - at) * per_s + 500);
}

TEST_F(Simulation, ChainsLongerThanTheDeviceAcceptsAreRefused) {
  Json doc = fault_base("max-buffer", 0.5, 0.01);
  doc["host"] = {{"on_bad_chain", "drop"}, {"max_chain_descriptors", 16}};  // max-buffer posts 20
  const RunResult r = run(scenario(doc), true);
  expect_conservation(r);
  EXPECT_GT(u(r, "/host/bad_chains/too_long"), 0u);
  EXPECT_EQ(u(r, "/packets/delivered"), 0u);
  EXPECT_EQ(u(r, "/guest/rx_length_errors"), u(r, "/host/bad_chains/too_long"));
}

TEST_F(Simulation, EveryChainRefusedAtZeroCostStopsInsteadOfSpinning) {
  // With no costs the device refusing every chain and the driver posting
  // new ones went round in zero simulated time forever (a random property
  // scenario hung). The run must stop with a broken invariant (exit 3)
  // naming the stuck time, not hang.
  Json doc = fault_base("max-buffer", 0.5, 0.01);
  doc["host"] = {{"on_bad_chain", "drop"}, {"max_chain_descriptors", 16}};  // max-buffer posts 20
  doc["costs"] = {{"host", {{"per_packet_ns", 0}, {"per_byte_ns", 0}, {"per_descriptor_ns", 0},
                            {"per_interrupt_ns", 0}, {"per_kick_ns", 0}}},
                  {"guest", {{"per_packet_ns", 0}, {"per_byte_copy_ns", 0}, {"per_descriptor_ns", 0},
                             {"per_interrupt_ns", 0}, {"per_kick_ns", 0}, {"per_poll_ns", 0},
                             {"per_page_alloc_ns", 0}, {"per_page_free_ns", 0}, {"per_page_recycle_ns", 0}}}};
  const auto start = std::chrono::steady_clock::now();
  const RunOutcome o = run_in_child(scenario(doc), {});
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

TEST_F(Simulation, ABackendPauseFillsTheTapAndItDrainsAfterwards) {
  // Mergeable at 1 Gb/s keeps up; a 10 ms pause lets 10 ms of frames arrive
  // against a 500-frame tap queue.
  Json doc = fault_base("mergeable", 1, 0.1);
  doc["faults"] = {{"backend_pause", {{"at_s", {0.05}}, {"duration_s", 0.01}}}};
  const RunResult r = run(scenario(doc));
  expect_conservation(r);
  const Json& f = r.summary["faults"]["backend_pause"];
  EXPECT_EQ(f["windows"], 1);
  const double arrivals = 0.01 * 1e9 / ((1514 + 24) * 8.0);  // 812.7
  EXPECT_NEAR(f["drops_during"].get<double>(), arrivals - 500, 2.0);
  EXPECT_EQ(f["recovered"], 1);
  EXPECT_GT(f["recovery_s_mean"].get<double>(), 0.0);
  EXPECT_LT(f["recovery_s_mean"].get<double>(), 0.04);
  EXPECT_EQ(u(r, "/packets/dropped"), f["drops_during"].get<uint64_t>() + f["drops_recovering"].get<uint64_t>());
}

TEST_F(Simulation, AVcpuStallHoldsTheGuestAndTheHostStallsOnAnEmptyRing) {
  Json doc = fault_base("mergeable", 1, 0.1);
  doc["faults"] = {{"vcpu_stall", {{"at_s", {0.05}}, {"duration_s", 0.01}}}};
  const RunResult r = run(scenario(doc));
  expect_conservation(r);
  const Json& f = r.summary["faults"]["vcpu_stall"];
  // 256 buffers hold 3 ms of frames, the tap 500 more: the rest is dropped.
  const double arrivals = 0.01 * 1e9 / ((1514 + 24) * 8.0);
  EXPECT_GT(f["drops_during"].get<double>(), 0.0);
  EXPECT_LT(f["drops_during"].get<double>(), arrivals - 500);
  EXPECT_GT(u(r, "/host/stalls"), 0u);
  EXPECT_EQ(f["recovered"], 1);
}

TEST_F(Simulation, AllocationFailureLeavesTheRingEmptyUntilTheRetryRefillsIt) {
  Json doc = fault_base("mergeable", 1, 0.2);
  doc["guest"] = {{"refill_retry_delay_s", 0.02}};
  doc["faults"] = {{"alloc_failure", {{"at_s", {0.05}}, {"duration_s", 0.05}}}};
  const RunResult r = run(scenario(doc));
  expect_conservation(r);
  const Json& f = r.summary["faults"]["alloc_failure"];
  EXPECT_GT(f["refill_failures"].get<uint64_t>(), 1u);
  EXPECT_EQ(f["recovered"], 1);
  // The first retry after the window refills: within one retry delay of its end.
  EXPECT_GE(f["time_to_refill_s_mean"].get<double>(), 0.0);
  EXPECT_LE(f["time_to_refill_s_mean"].get<double>(), 0.02 + 1e-9);
  EXPECT_GT(f["drops_during"].get<uint64_t>(), 1000u);
}

TEST_F(Simulation, ATapOverflowDropsEveryArrivalWhileItLasts) {
  Json doc = fault_base("mergeable", 1, 0.05);
  doc["faults"] = {{"tap_overflow", {{"at_s", {0.02}}, {"duration_s", 0.005}, {"capacity_packets", 0}}}};
  const RunResult r = run(scenario(doc));
  expect_conservation(r);
  const double arrivals = 0.005 * 1e9 / ((1514 + 24) * 8.0);  // 406.4
  EXPECT_NEAR(r.summary["faults"]["tap_overflow"]["drops_during"].get<double>(), arrivals, 1.0);
  EXPECT_EQ(u(r, "/packets/dropped"), u(r, "/faults/tap_overflow/drops_during"));
}

TEST_F(Simulation, FaultWindowsComeFromTheSeed) {
  Json doc = fault_base("max-buffer", 1, 0.2);
  doc["faults"] = {{"backend_pause", {{"rate_per_s", 50}, {"duration_s", 0.001}}},
                   {"vcpu_stall", {{"rate_per_s", 50}, {"duration_s", 0.001}}}};
  const RunResult a = run(scenario(doc)), b = run(scenario(doc)), c = run(scenario(doc, {"seed=2"}));
  EXPECT_EQ(a.summary["faults"].dump(), b.summary["faults"].dump());
  EXPECT_NE(a.summary["faults"].dump(), c.summary["faults"].dump());
  EXPECT_GT(a.summary["faults"]["backend_pause"]["windows"].get<int>(), 3);
}

// ---- analytic cross-check (issue 5) ----------------------------------------

TEST_F(Simulation, TheMm1kChainAgreesWithTheSimulatorWhereItsAssumptionsHold) {
  // Tolerances (docs/guide/analytic-cross-check.md): four times the spread seen
  // over 8 seeds of 2 s runs at these points, scaled to 4 s runs.
  struct Point {
    double rho;
    int k;
  };
#if VRINGSIM_ASAN
  const std::vector<Point> points = {{0.9, 8}};
#else
  const std::vector<Point> points = {{0.5, 8}, {0.9, 8}, {1.2, 8}, {0.5, 32}, {0.9, 32}, {1.2, 32}};
#endif
  const auto file = (kSource / "scenarios/analytic/mm1k-rho0.9.json").string();
  for (const Point& pt : points) {
    const Scenario sc = load_scenario(file, {fmt::format("traffic.rate_gbps={}", pt.rho * 1.2304),
                                             fmt::format("host.tap_queue_packets={}", pt.k - 1)});
    std::vector<std::string> unmet;
    const AnalyticCase c = analytic_case(sc, &unmet);
    ASSERT_TRUE(unmet.empty()) << unmet.front();
    EXPECT_NEAR(c.mu, 1e5, 1e-6);
    EXPECT_NEAR(c.lambda / c.mu, pt.rho, 1e-9);
    const QueuePrediction q = solve_mm1k(c.lambda, c.mu, c.capacity);
    const RunResult r = run(sc);
    const std::string at = fmt::format("rho {} K {}", pt.rho, pt.k);
    const double offered = d(r, "/throughput/offered_pps"), delivered = d(r, "/throughput/delivered_pps");
    EXPECT_NEAR(delivered / q.throughput_pps, 1.0, 0.01) << at;
    EXPECT_NEAR(1.0 - delivered / offered, q.blocking, 0.003 + 0.05 * q.blocking) << at;
    EXPECT_NEAR(d(r, "/latency_us/mean") / (q.mean_sojourn_s * 1e6), 1.0, 0.07) << at;
    EXPECT_NEAR(d(r, "/cpu/host_utilization"), q.utilization, 0.01) << at;
  }
}

TEST_F(Simulation, TheAnalyticModelNamesEveryAssumptionAScenarioBreaks) {
  const Scenario sc = load_scenario((kSource / "scenarios/seed-2008/mergeable.json").string());
  std::vector<std::string> unmet;
  analytic_case(sc, &unmet);
  std::string all;
  for (const auto& u : unmet) all += u + "\n";
  EXPECT_NE(all.find("/traffic/arrival must be \"poisson\""), std::string::npos) << all;
  EXPECT_NE(all.find("/costs/host/service_distribution"), std::string::npos) << all;
  EXPECT_NE(all.find("/costs/guest/per_packet_ns must be 0"), std::string::npos) << all;
}

// ---- calibration (issue 5) --------------------------------------------------

TEST_F(Simulation, CalibrationRecoversCostsFromMeasurementsTheSimulatorMade) {
  // "Measurements" made by the simulator itself at known costs; the fit
  // starts elsewhere and must find them again.
  const double true_packet = 5600, true_desc = 120;
  const std::vector<std::string> shorter = {"stop.time_s=0.3", "measure.warmup_s=0.05"};
  auto measure = [&](const char* policy) {
    std::vector<std::string> o = shorter;
    o.push_back(fmt::format("costs.guest.per_packet_ns={}", true_packet));
    o.push_back(fmt::format("costs.guest.per_descriptor_ns={}", true_desc));
    return d(run(load_scenario((kSource / "scenarios/seed-2008" / (std::string(policy) + ".json")).string(), o)),
             "/throughput/delivered_gbps");
  };
  const double mb = measure("max-buffer"), mg = measure("mergeable");
  Json m{{"name", "recover"},
         {"parameters",
          {{"costs.guest.per_packet_ns", {{"initial", 4500}, {"min", 500}, {"max", 20000}}},
           {"costs.guest.per_descriptor_ns", {{"initial", 200}, {"min", 0}, {"max", 2000}}}}},
         {"points",
          {{{"scenario", (kSource / "scenarios/seed-2008/max-buffer.json").string()},
            {"measured", mb},
            {"set", {{"stop.time_s", 0.3}, {"measure.warmup_s", 0.05}}}},
           {{"scenario", (kSource / "scenarios/seed-2008/mergeable.json").string()},
            {"measured", mg},
            {"set", {{"stop.time_s", 0.3}, {"measure.warmup_s", 0.05}}}}}},
         {"tolerance", 0.001}};
  const auto file = dir_ / "measurements.json";
  std::ofstream(file) << m.dump(1);
  const Calibration c = load_calibration(file.string());
  ASSERT_EQ(c.params.size(), 2u);
  const FitResult fit = fit_least_squares(c, [&](const std::vector<double>& v) {
    std::vector<double> out;
    for (const auto& p : c.points) {
      std::vector<std::string> o = p.overrides;
      for (size_t j = 0; j < v.size(); ++j) o.push_back(fmt::format("{}={:.17g}", c.params[j].key, v[j]));
      out.push_back(d(run(load_scenario(p.scenario, o)), "/throughput/delivered_gbps"));
    }
    return out;
  });
  ASSERT_TRUE(fit.converged) << fit.residuals[0] << " " << fit.residuals[1];
  // Parameters are sorted by key: per_descriptor_ns, then per_packet_ns.
  EXPECT_EQ(c.params[0].key, "costs.guest.per_descriptor_ns");
  EXPECT_NEAR(fit.values[0], true_desc, 0.05 * true_desc);
  EXPECT_NEAR(fit.values[1], true_packet, 0.02 * true_packet);
  EXPECT_LE(std::abs(fit.residuals[0]), 0.001);
  EXPECT_LE(std::abs(fit.residuals[1]), 0.001);
}

TEST(Children, ManyRunsInParallelFromOneThreadComeBackInOrderAndWhole) {
  // Five runs, two at a time, one of them with results larger than a pipe
  // holds (64 KiB: 32 guests x 4 queues, every queue's keys): the parent must
  // read while children write. Each outcome must equal the same run on its
  // own. (A thread per job, as sensitivity had, once left a child waiting
  // forever on the sanitizer allocator's lock, which it inherited locked.)
  std::vector<Scenario> scenarios;
  for (const char* policy : {"mergeable", "max-buffer", "small", "coalesced"})
    scenarios.push_back(load_scenario((kSource / "scenarios/seed-2008" / (std::string(policy) + ".json")).string(),
                                      {"stop.time_s=0.02", "measure.warmup_s=0.005"}));
  scenarios.push_back(load_scenario((kSource / "scenarios/capacity/32g-4q-4c-mergeable.json").string(),
                                    {"stop.time_s=0.01", "measure.warmup_s=0.002"}));
  RunOptions opt;
  opt.timeseries = TimeseriesMode::Discard;
  const std::vector<RunOutcome> together = run_in_children(scenarios, opt, 2);
  ASSERT_EQ(together.size(), scenarios.size());
  for (size_t i = 0; i < scenarios.size(); ++i) {
    ASSERT_EQ(together[i].exit_code, 0) << scenarios[i].name;
    const RunOutcome alone = run_in_child(scenarios[i], opt);
    EXPECT_EQ(together[i].result.summary.dump(), alone.result.summary.dump()) << scenarios[i].name;
    EXPECT_EQ(together[i].result.guests.dump(), alone.result.guests.dump()) << scenarios[i].name;
  }
  EXPECT_GT(to_json(together.back().result).dump().size(), size_t{1} << 16);  // what went through the pipe
  EXPECT_TRUE(run_in_children({}, opt, 2).empty());
}

}  // namespace
}  // namespace vringsim
