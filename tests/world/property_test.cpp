// Hundreds of random scenarios (policy or driver profile, negotiated features, ring size, traffic, faults, seed):
// each must run to the end with its invariants (the run checks them, and
// --check after every event for a share of them), conserve packets and bytes,
// and give byte-identical summaries when run twice with the same seed. A
// failing case prints its scenario so it can be replayed with `vringsim run`.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sim/core/policy.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/sanitizers.hpp"
#include "sim/core/scenario.hpp"
#include "sim/world/runner.hpp"

namespace vringsim {
namespace {

namespace fs = std::filesystem;

int property_runs() {
  if (const char* env = std::getenv("VRINGSIM_PROPERTY_RUNS")) return std::atoi(env);
#if VRINGSIM_ASAN
  return 40;  // thread contexts under ASan are slow; the full set runs in the normal build
#else
  return 300;
#endif
}

Json random_scenario(Rng& rng, int i, bool check) {
  auto pick = [&rng](std::initializer_list<const char*> xs) {
    return std::string(*(xs.begin() + rng.uniform_int(0, xs.size() - 1)));
  };
  // Every shipped policy, from the registry (a new one is drawn too); the
  // test binary's own test-* policies are broken on purpose.
  std::vector<std::string> policies;
  for (const std::string& n : Registry<PolicyInfo>::instance().names())
    if (!n.starts_with("test-") && !(check && n == "larger-ring")) policies.push_back(n);
  const std::string policy = policies[rng.uniform_int(0, policies.size() - 1)];
  Json doc{{"name", fmt::format("prop-{}", i)},
           {"seed", rng.uniform_int(1, 1u << 30)},
           // --check costs O(ring size) per event: those runs get short, small rings
           {"stop", {{"time_s", check ? 0.001 + 0.003 * rng.uniform() : 0.002 + 0.01 * rng.uniform()}}},
           {"measure", {{"warmup_s", 0.001}, {"sample_interval_s", 0.0005}}},
           {"policy", {{"name", policy}}},
           {"ring", {{"size", policy == "larger-ring" ? 1024 : 32 << rng.uniform_int(0, check ? 1 : 4)}}},
           {"host", {{"tap_queue_packets", rng.uniform_int(1, 600)}, {"burst_packets", rng.uniform_int(1, 64)}}},
           {"guest", {{"napi_budget", rng.uniform_int(1, 64)}, {"refill_rule", pick({"2008", "today"})}}}};
  // Negotiated features: a driver profile (its policy "auto"), or the named
  // policy's own features with ring features and VERSION_1 drawn on top.
  if (rng.chance(0.2)) {
    doc.erase("policy");
    doc["driver"]["profile"] = pick({"linux-2.6.26", "linux-6.x"});
  } else if (const bool force_packed = check && i % 20 == 0; force_packed || rng.chance(0.3)) {
    // (every other checked run is on a packed ring)
    const RxMode mode = Registry<PolicyInfo>::instance().find(policy)->mode;
    std::vector<std::string> fs = feature_names(legacy_features(mode));
    const bool v1 = force_packed || rng.chance(0.5);
    if (v1) fs.push_back("VERSION_1");
    if (v1 && rng.chance(0.5)) fs.push_back("IN_ORDER");
    if (rng.chance(0.5)) fs.push_back("RING_EVENT_IDX");
    if (rng.chance(0.5)) fs.push_back("RING_INDIRECT_DESC");
    if (v1 && (force_packed || rng.chance(0.5))) {
      // The packed ring, offered as QEMU does with packed=on, in sizes a
      // split ring cannot have; its faults are those a packed ring can take.
      fs.push_back("RING_PACKED");
      std::vector<std::string> offered;
      for (const FeatureInfo& x : feature_table())
        if (x.modelled) offered.push_back(x.name);
      doc["host"]["features"] = offered;
      doc["ring"]["size"] = doc["ring"]["size"].get<int64_t>() + rng.uniform_int(0, 31);
    }
    doc["virtio"]["features"] = fs;
  }
  doc["policy"]["mergeable"]["sizing"] = pick({"page", "mtu", "ewma"});
  if (rng.chance(0.2)) doc["guest"]["xdp"] = true;
  if (rng.chance(0.2)) doc["guest"]["frag_order_failure_prob"] = rng.uniform();
  Json& tr = doc["traffic"];
  tr["arrival"] = pick({"line-rate", "constant", "poisson", "onoff"});
  tr["rate_gbps"] = 0.1 + 9.9 * rng.uniform();
  tr["synthetic"]["length"] = pick({"fixed", "imix", "uniform"});
  if (rng.chance(0.3)) tr["gro"]["enabled"] = true;
  if (rng.chance(0.3)) doc["guest"]["page_alloc_failure_prob"] = 0.05 * rng.uniform();
  Json& f = doc["faults"];
  f = Json::object();
  if (rng.chance(0.5)) {
    f["bad_chain"]["rate"] = 0.1 * rng.uniform();
    doc["host"]["on_bad_chain"] = pick({"drop", "broken"});
  }
  for (const char* k : {"alloc_failure", "backend_pause", "vcpu_stall", "tap_overflow"})
    if (rng.chance(0.3)) {
      f[k]["rate_per_s"] = 100 + 900 * rng.uniform();
      f[k]["duration_s"] = 0.0001 + 0.003 * rng.uniform();
    }
  const bool short_chains = rng.chance(0.1);
  if (short_chains) doc["host"]["max_chain_descriptors"] = rng.uniform_int(1, 24);
  // Zero is in every cost's range: a zero-time path once lost a wake-up and
  // delivered nothing (the liveness check now ends such a run with exit 3).
  if (rng.chance(0.15))
    for (const char* c : {"per_packet_ns", "per_descriptor_ns", "per_byte_ns", "per_kick_ns", "per_interrupt_ns"})
      doc["costs"]["host"][c] = 0;
  // (Not with chains the device may refuse: at no cost at all the refusals
  // and refills go round in zero time, which ends the run with exit 3,
  // EveryChainRefusedAtZeroCostStopsInsteadOfSpinning.)
  if (!short_chains && rng.chance(0.1))
    for (const char* c : {"per_packet_ns", "per_descriptor_ns", "per_byte_copy_ns", "per_interrupt_ns", "per_kick_ns",
                          "per_page_alloc_ns", "per_page_free_ns", "per_page_recycle_ns", "per_poll_ns"})
      doc["costs"]["guest"][c] = 0;
  if (rng.chance(0.3)) {  // several guests and queues sharing cores
    const int64_t queues = rng.uniform_int(1, 3);
    doc["topology"] = Json{{"cores", {{"host", {{"count", rng.uniform_int(1, 3)}}}}},
                           {"guests", {{"vm", {{"count", rng.uniform_int(1, 3)},
                                               {"queues", queues},
                                               {"vcpus", rng.uniform_int(1, queues)}}}}}};
    tr["synthetic"]["flows"] = rng.uniform_int(1, 64);
  }
  // Latencies in a third of the scenarios, from a stream of their own: the
  // scenarios drawn before latencies existed stay the same.
  Rng lat(static_cast<uint64_t>(i) + 1, "property-latency");
  if (lat.chance(0.33)) {
    for (const char* k : {"kick_ns", "interrupt_ns", "vcpu_wakeup_ns", "backend_wakeup_ns"})
      if (lat.chance(0.5)) doc["latency"][k] = 100'000 * lat.uniform();
    doc["host"]["halt_poll_ns"] = 400'000 * lat.uniform();
  }
  // The 2008 QEMU's notify-on-empty rule in a third of the scenarios it
  // applies to (QEMU's backend, a split ring, the flags), from a stream of
  // its own: the scenarios drawn before it stay the same.
  Rng noe(static_cast<uint64_t>(i) + 1, "property-notify-on-empty");
  const bool today = doc.contains("driver") && doc["driver"]["profile"] == "linux-6.x";  // vhost, event index
  bool flags = true;
  if (doc.contains("virtio"))
    for (const auto& x : doc["virtio"]["features"]) flags = flags && x != "RING_EVENT_IDX" && x != "RING_PACKED";
  if (!today && flags && noe.chance(0.33)) doc["host"]["notify_on_empty"] = true;
  return doc;
}

TEST(Properties, RandomScenariosConserveKeepInvariantsAndRepeatExactly) {
  const fs::path dir = fs::temp_directory_path() / ("vringsim-prop-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Rng rng(20261125, "property-test");
  const int n = property_runs();
  int checked = 0, packed = 0, packed_checked = 0, packed_faulty = 0, notify_on_empty = 0;
  for (int i = 0; i < n; ++i) {
    const bool check = i % 10 == 0;  // the whole descriptor state after every event, for one in ten
    const Json doc = random_scenario(rng, i, check);
    const fs::path file = dir / fmt::format("prop-{}.json", i);
    std::ofstream(file) << doc.dump(1) << "\n";
    const std::string replay = fmt::format("scenario {}:\n{}\n", i, doc.dump());
    Scenario sc;
    try {
      sc = load_scenario(file.string());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the generator made a scenario that does not load: " << e.what() << "\n" << replay;
      continue;
    }
    RunOptions opt;
    opt.check = check;
    checked += opt.check;
    const RunOutcome a = run_in_child(sc, opt);
    ASSERT_EQ(a.exit_code, 0) << replay;
    // The repeat runs without the lookahead (actor_clock.hpp): every sleep
    // the task loop's own; and with every descriptor's state kept
    // (SplitRing::set_descriptor_tracking), which a plain run spares. Same
    // seed, same figures, whichever.
    RunOptions every_sleep = opt;
    every_sleep.lookahead = false;
    every_sleep.track_descriptors = true;
    const RunOutcome b = run_in_child(sc, every_sleep);
    ASSERT_EQ(b.exit_code, 0) << replay;
    const Json& s = a.result.summary;
    const char* toggled = "(lookahead on, off; descriptor states spared, kept)";
    ASSERT_EQ(s.dump(), b.result.summary.dump()) << "same seed, different summary " << toggled << "\n" << replay;
    ASSERT_EQ(a.result.guests.dump(), b.result.guests.dump())
        << "same seed, different guests " << toggled << "\n" << replay;
    notify_on_empty += sc.config.flag("host.notify_on_empty");
    if (sc.virtio.packed()) {
      ++packed;
      packed_checked += check;
      uint64_t bad = 0;
      for (const auto& [k, v] : s["host"]["bad_chains"].items()) bad += v.get<uint64_t>();
      packed_faulty += bad > 0;
    }
    ASSERT_EQ(a.result.ts_rows, b.result.ts_rows) << replay;
    const auto p = [&s](const char* ptr) { return s.at(Json::json_pointer(ptr)).get<uint64_t>(); };
    ASSERT_EQ(p("/packets/arrived"), p("/packets/delivered") + p("/packets/dropped") + p("/packets/in_flight"))
        << replay;
    ASSERT_EQ(p("/bytes/arrived"), p("/bytes/delivered") + p("/bytes/dropped") + p("/bytes/in_flight")) << replay;
    ASSERT_EQ(p("/packets/dropped"), p("/drops/tap_full") + p("/drops/too_large") + p("/drops/device_broken"))
        << replay;
    if (p("/host/broken") == 0) {
      ASSERT_EQ(p("/drops/device_broken"), 0u) << replay;
    }
    if (!a.result.guests.empty()) {  // conservation per queue, and the queues add up to the host
      uint64_t arrived = 0;
      for (const auto& [g, gj] : a.result.guests.items())
        for (const auto& [q, qj] : gj["queues"].items()) {
          const auto& k = qj["packets"];
          ASSERT_EQ(k["arrived"].get<uint64_t>(), k["delivered"].get<uint64_t>() + k["dropped"].get<uint64_t>() +
                                                      k["in_flight"].get<uint64_t>())
              << g << "/" << q << "\n" << replay;
          arrived += k["arrived"].get<uint64_t>();
        }
      ASSERT_EQ(arrived, p("/packets/arrived")) << replay;
    }
  }
  if (!std::getenv("VRINGSIM_PROPERTY_KEEP")) fs::remove_all(dir);
  RecordProperty("scenarios", n);
  std::printf(
      "%d random scenarios run twice each, %d of them with --check after every event; %d on a packed ring "
      "(%d checked, %d with faulty chains); %d with host.notify_on_empty\n",
      n, checked, packed, packed_checked, packed_faulty, notify_on_empty);
  if (n >= 300) {  // the default draw covers the packed ring, checked and with faults, and notify-on-empty
    EXPECT_GT(packed_checked, 0);
    EXPECT_GT(packed_faulty, 0);
    EXPECT_GT(notify_on_empty, 0);
  }
}

}  // namespace
}  // namespace vringsim
