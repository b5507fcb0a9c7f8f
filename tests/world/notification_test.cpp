// Kicks and interrupts as the real device and driver decide them: the
// device suppresses kicks whenever it finds buffers (QEMU's
// virtio_net_has_buffers, vhost's handle_rx) and decides each interrupt
// right after it publishes used entries (virtio_notify, vhost_signal)
// against what the driver last wrote (virtqueue_enable_cb_prepare,
// virtqueue_disable_cb); vhost-net publishes in batches. The cases are
// built so that the counts follow by hand (docs/model.md §3).
#include "tests/world/simulation_fixture.hpp"

namespace vringsim {
namespace {

using test_support::Simulation;
using test_support::zero_costs;

/// Synthetic MTU frames (1514 bytes) at a constant `rate_gbps`.
Json mtu_frames(double rate_gbps) {
  return {{"kind", "synthetic"},
          {"arrival", "constant"},
          {"rate_gbps", rate_gbps},
          {"synthetic", {{"length", "fixed"}, {"len_bytes", 1514}}}};
}

/// MTU frames every 10 us, zero CPU costs, mergeable buffers on a 256-entry
/// ring, an interrupt latency of 35 us: the guest takes an interrupt, its
/// handler runs 35 us later, it collects what was published by then (four
/// frames) and sleeps with interrupts enabled until the next publication.
Json race_case(const std::vector<std::string>& features) {
  return {{"name", "race"},
          {"stop", {{"time_s", 0.05}}},
          {"measure", {{"warmup_s", 0.01}}},
          {"ring", {{"size", 256}}},
          {"policy", {{"name", "mergeable"}}},
          {"virtio", {{"features", features}}},
          {"traffic", mtu_frames(1.2304)},
          {"latency", {{"interrupt_ns", 35'000}}},
          {"costs", zero_costs()}};
}

// With the flags every publication before the handler runs finds
// VRING_AVAIL_F_NO_INTERRUPT still clear and interrupts again: the frames at
// +10, +20 and +30 us each raise one, so every frame does. With the event
// index only the publication that crosses used_event does, once per enable:
// one interrupt per four frames. The packed ring's areas say the same.
TEST_F(Simulation, FlagsInterruptEveryPublicationInTheLatencyWindowAndTheEventIndexOnce) {
  const std::string host_all = R"(host.features=["MRG_RXBUF","VERSION_1","RING_EVENT_IDX","RING_PACKED"])";
  struct Case {
    std::vector<std::string> features;
    double per_packet;
  };
  for (const Case& c : {Case{{"MRG_RXBUF"}, 1.0}, Case{{"MRG_RXBUF", "RING_EVENT_IDX"}, 0.25},
                        Case{{"MRG_RXBUF", "VERSION_1", "RING_PACKED"}, 1.0},
                        Case{{"MRG_RXBUF", "VERSION_1", "RING_PACKED", "RING_EVENT_IDX"}, 0.25}}) {
    const RunResult r = run(scenario(race_case(c.features), {host_all}));
    const std::string what = Json(c.features).dump();
    EXPECT_EQ(u(r, "/packets/delivered"), 5000u) << what;  // the whole run
    EXPECT_EQ(u(r, "/packets/dropped"), 0u) << what;
    EXPECT_DOUBLE_EQ(d(r, "/notifications/interrupts_per_packet"), c.per_packet) << what;
    EXPECT_EQ(u(r, "/notifications/kicks"), 0u) << what;  // the device never runs dry
    expect_conservation(r);
  }
  // vhost-net (split rings only): each frame finds the tap empty after it,
  // so handle_rx returns and publishes it alone, as QEMU does: the same counts.
  for (const Case& c : {Case{{"MRG_RXBUF"}, 1.0}, Case{{"MRG_RXBUF", "RING_EVENT_IDX"}, 0.25}}) {
    const RunResult r = run(scenario(race_case(c.features), {"host.backend=vhost"}));
    const std::string what = "vhost " + Json(c.features).dump();
    EXPECT_EQ(u(r, "/packets/delivered"), 5000u) << what;
    EXPECT_DOUBLE_EQ(d(r, "/notifications/interrupts_per_packet"), c.per_packet) << what;
    EXPECT_EQ(u(r, "/notifications/kicks"), 0u) << what;
  }
}

/// Frames at 10 Gb/s line rate, a device that takes 2 us a frame (the tap
/// stays full), a guest that costs nothing and takes interrupts at once:
/// every publication of used entries raises one interrupt, collected at once.
Json batch_case(const std::string& backend) {
  Json costs = zero_costs();
  costs["host"]["per_packet_ns"] = 2000;
  return {{"name", "batch"},
          {"stop", {{"time_s", 0.02}}},
          {"measure", {{"warmup_s", 0.004}}},
          {"ring", {{"size", 256}}},
          {"policy", {{"name", "mergeable"}}},
          {"virtio", {{"features", {"MRG_RXBUF"}}}},
          {"host", {{"backend", backend}}},
          {"traffic", mtu_frames(10)},
          {"costs", costs}};
}

// QEMU publishes and signals every frame (virtio_net_receive_rcu). vhost-net
// publishes once more than VHOST_NET_BATCH = 64 heads are done and when
// handle_rx returns, here after its weight of 256 frames: 65 + 65 + 65 + 61,
// four publications (and interrupts) per 256 frames.
TEST_F(Simulation, VhostPublishesUsedEntriesInBatchesOfSixtyFiveHeadsAndAtTheEndOfATurn) {
  const RunResult qemu = run(scenario(batch_case("qemu")));
  const RunResult vhost = run(scenario(batch_case("vhost")));
  for (const RunResult* r : {&qemu, &vhost}) {
    EXPECT_EQ(u(*r, "/host/stalls"), 0u);
    EXPECT_GT(u(*r, "/packets/delivered"), 7000u);  // 2 us a frame over 16 ms
    expect_conservation(*r);
  }
  // Over the measured 16 ms: 8,000 frames; QEMU 8,000 interrupts, vhost 125.
  EXPECT_NEAR(d(qemu, "/notifications/interrupts_per_packet"), 1.0, 1e-3);
  EXPECT_NEAR(d(vhost, "/notifications/interrupts_per_packet"), 4.0 / 256, 2e-4);
  // A frame waits for its batch: up to 64 more frames of 2 us.
  EXPECT_GT(d(vhost, "/latency_us/max"), d(qemu, "/latency_us/max") + 100);
}

/// The latency tests' hand case (tests/world/latency_test.cpp): a refill per
/// buffer, a tap of one frame, a 100 us interrupt latency.
Json knee_case(uint32_t ring, const std::vector<std::string>& features) {
  Json j = race_case(features);
  j["ring"]["size"] = ring;
  j["guest"] = {{"napi_budget", 1}, {"refill_rule", "today"}};
  j["host"] = {{"tap_queue_packets", 1}};
  j["latency"] = {{"interrupt_ns", 100'000}, {"kick_ns", 20'000}};
  return j;
}

// The device suppresses kicks whenever it finds buffers, so only a device
// that ran dry asks for one: a ring big enough (16, 32) gets none, whatever
// the suppression. A starving one (8) leaves its notifications enabled
// until it sees the kick, 20 us later: with the event index only the first
// publication crosses avail_event (one kick a stall), with the flags every
// refill in those 20 us kicks again (the same edge: the eventfd is already
// set). Each kick is an edge: every stall lasts at least the kick latency
// (a kick left over as a token would end a later stall at once).
TEST_F(Simulation, KicksComeOnlyFromADeviceThatRanDryOnePerStall) {
  for (const auto& features : {std::vector<std::string>{"MRG_RXBUF"}, {"MRG_RXBUF", "RING_EVENT_IDX"}}) {
    const std::string what = Json(features).dump();
    for (uint32_t ring : {16u, 32u}) {
      const RunResult r = run(scenario(knee_case(ring, features)));
      EXPECT_EQ(u(r, "/notifications/kicks"), 0u) << ring << what;
      EXPECT_EQ(u(r, "/host/stalls"), 0u) << ring << what;
    }
    const RunResult r = run(scenario(knee_case(8, features)));
    const uint64_t stalls = u(r, "/host/stalls");
    EXPECT_GT(stalls, 200u) << what;
    if (features.size() == 2)
      EXPECT_NEAR(static_cast<double>(u(r, "/notifications/kicks")), static_cast<double>(stalls), 1.0) << what;
    else
      EXPECT_GT(u(r, "/notifications/kicks"), 2 * stalls) << what;
    EXPECT_GE(d(r, "/host/stall_time_s"), static_cast<double>(stalls) * 20e-6) << what;
  }
}

/// 16 MTU frames (stop.packets) into a 16-entry ring of mergeable pages
/// (one chain a frame), a guest that takes 1 ms a frame and no time for
/// anything else, a host that takes `host_ns` a frame. The first frame's
/// publication interrupts (interrupts enabled); its handler disables them
/// and the guest polls that one frame for 1 ms, while the device takes the
/// other 15 frames and with them every buffer. The measured window starts
/// after the first interrupt (5 us).
Json drain_case(double rate_gbps, double host_ns) {
  Json costs = zero_costs();
  costs["guest"]["per_packet_ns"] = 1'000'000;
  costs["host"]["per_packet_ns"] = host_ns;
  return {{"name", "drain"},
          {"stop", {{"time_s", 0.1}, {"packets", 16}}},
          {"measure", {{"warmup_s", 5e-6}}},
          {"ring", {{"size", 16}}},
          {"policy", {{"name", "mergeable"}}},
          {"virtio", {{"features", {"MRG_RXBUF"}}}},
          {"traffic", mtu_frames(rate_gbps)},
          {"costs", costs}};
}

// With interrupts disabled (VRING_AVAIL_F_NO_INTERRUPT) while the guest
// polls, the device's publications raise none, the one that takes the last
// buffer included. host.notify_on_empty, the 2008 QEMU's virtio_notify()
// ("Always notify when queue is empty"), raises exactly one: at the
// publication after which no posted chain is left for the device and none
// is held by it. Twice: a device that serves each frame as it arrives
// (every 10 us, at no cost: the 16th at 151.23 us), and one that works a
// burst ahead (frames at line rate, 2 us each: it has taken every chain
// when it publishes the first frame, and the 16th at 33.23 us), where the
// chains taken for later frames are buffers left until those are published.
TEST_F(Simulation, NotifyOnEmptyInterruptsAPollingGuestOnceWhenTheDeviceTakesTheLastBuffer) {
  for (const auto& [rate, host_ns] : {std::pair{1.2304, 0.0}, std::pair{10.0, 2000.0}}) {
    const std::string what = fmt::format("{} Gb/s, {} ns a frame", rate, host_ns);
    const RunResult off = run(scenario(drain_case(rate, host_ns)));
    const RunResult on = run(scenario(drain_case(rate, host_ns), {"host.notify_on_empty=true"}));
    for (const RunResult* r : {&off, &on}) {
      EXPECT_EQ(u(*r, "/packets/delivered"), 16u) << what;
      EXPECT_EQ(u(*r, "/notifications/kicks"), 0u) << what;
      expect_conservation(*r);
    }
    EXPECT_EQ(u(off, "/notifications/interrupts"), 0u) << what;
    EXPECT_EQ(u(on, "/notifications/interrupts"), 1u) << what;
  }
}

// The device works a burst ahead of its publications (host.burst_packets
// frames a step); whether the ring was out of buffers at a publication must
// not depend on how far ahead: the 2008 max-buffer run, with the rule on,
// gives the same figures at every burst size (the rule fires in most of its
// cycles: checked against the run without it).
TEST_F(Simulation, NotifyOnEmptyDoesNotDependOnHowFarAheadTheDeviceWorks) {
  const Json doc = {{"name", "noe-burst"},
                    {"stop", {{"time_s", 0.03}}},
                    {"measure", {{"warmup_s", 0.01}}},
                    {"ring", {{"size", 256}}},
                    {"policy", {{"name", "max-buffer"}}},
                    {"host", {{"notify_on_empty", true}}},
                    {"traffic",
                     {{"kind", "synthetic"},
                      {"link_gbps", 10},
                      {"arrival", "line-rate"},
                      {"synthetic", {{"length", "fixed"}, {"len_bytes", 1514}}}}}};
  const Json on = expect_burst_independent(doc, {1, 5, 64}, "notify_on_empty");
  Json without = doc;
  without["host"]["notify_on_empty"] = false;
  const RunResult off = run(scenario(without));
  EXPECT_GT(on["notifications"]["interrupts"].get<uint64_t>(), u(off, "/notifications/interrupts") * 3 / 2);
}

}  // namespace
}  // namespace vringsim

namespace vringsim {
namespace {
using test_support::Simulation;
// The 2008 QEMU (kvm-80, QEMU 0.10: do_virtio_net_can_receive(n,
// VIRTIO_NET_MAX_BUFSIZE)) read the tap only while 64 KiB and a header of
// mergeable buffers were posted. MTU frames every 10 us, a 200 us interrupt
// latency and a refill per buffer keep about 20 buffers of a 32-page ring
// out of the device's hands: 12 posted are enough for today's QEMU (a
// frame's size) but fewer than the 17 pages the 2008 QEMU waited for.
TEST_F(Simulation, The2008QemuWaitsForSixtyFourKilobytesOfMergeableBuffers) {
  Json j = knee_case(32, {"MRG_RXBUF"});
  j["latency"] = {{"interrupt_ns", 200'000}};
  const RunResult today = run(scenario(j));
  EXPECT_EQ(u(today, "/host/stalls"), 0u);
  EXPECT_EQ(u(today, "/packets/dropped"), 0u);
  j["host"]["can_receive_bytes"] = 65546;
  const RunResult qemu2008 = run(scenario(j));
  EXPECT_GT(u(qemu2008, "/host/stalls"), 100u);
  EXPECT_GT(u(qemu2008, "/packets/dropped"), 0u);
  expect_conservation(qemu2008);
}
}  // namespace
}  // namespace vringsim

namespace vringsim {
namespace {
using test_support::Simulation;
const std::filesystem::path kSource = VRINGSIM_SOURCE_DIR;
// With the 2008 refill rule a 32-entry ring is refilled once fewer than 16
// chains are posted, while the 2008 QEMU waits for 17 pages: after the
// first 16 frames both sides wait for the other for good. The run says so
// (measure.valid false, measure.deadlock_s) rather than report 0 Gb/s as a
// throughput.
TEST_F(Simulation, ADeadlockOfDeviceAndDriverIsReportedNotMeasured) {
  const RunResult r = run(load_scenario((kSource / "scenarios/seed-2008/mergeable.json").string(),
                                        {"ring.size=32", "stop.time_s=0.05", "measure.warmup_s=0.01"}));
  EXPECT_EQ(u(r, "/packets/delivered"), 16u);
  EXPECT_FALSE(r.summary.at("/measure/valid"_json_pointer).get<bool>());
  EXPECT_GT(d(r, "/measure/deadlock_s"), 0.0);
  EXPECT_NE(r.summary.at("/measure/problem"_json_pointer).get<std::string>().find("deadlocked"), std::string::npos);
  expect_conservation(r);
  // 64 entries: the driver refills below 32 chains, above the 17 pages.
  const RunResult ok = run(load_scenario((kSource / "scenarios/seed-2008/mergeable.json").string(),
                                         {"ring.size=64", "stop.time_s=0.05", "measure.warmup_s=0.01"}));
  EXPECT_TRUE(ok.summary.at("/measure/valid"_json_pointer).get<bool>());
  EXPECT_FALSE(ok.summary.at("/measure"_json_pointer).contains("deadlock_s"));
}
}  // namespace
}  // namespace vringsim

namespace vringsim {
namespace {
using test_support::Simulation;
// A descheduled vCPU (faults.vcpu_stall) runs no interrupt handler until it
// is back: with the flags, every publication meanwhile finds interrupts
// still enabled and interrupts again. In the race case (a frame every
// 10 us) 10 ms stalls, 20 a second, leave about 1000 frames a second
// published into a stalled vCPU, each an interrupt; the handler used to
// run (and disable them) 35 us after the first.
TEST_F(Simulation, AStalledVcpuTakesNoHandlerAndEveryPublicationMeanwhileInterrupts) {
  Json j = race_case({"MRG_RXBUF"});
  j["faults"] = {{"vcpu_stall", {{"rate_per_s", 20}, {"duration_s", 0.01}}}};
  j["stop"]["time_s"] = 0.5;  // 8 stall windows with this seed
  j["ring"]["size"] = 4096;   // room for a 10 ms stall's frames
  const RunResult r = run(scenario(j));
  // Every frame published interrupts: outside stalls in the race window,
  // inside them for the whole stall.
  EXPECT_EQ(u(r, "/faults/vcpu_stall/windows"), 8u);
  EXPECT_NEAR(d(r, "/notifications/interrupts_per_packet"), 1.0, 1e-3);
  Json e = race_case({"MRG_RXBUF", "RING_EVENT_IDX"});
  e["faults"] = j["faults"];
  e["stop"] = j["stop"];
  e["ring"]["size"] = 4096;
  const RunResult ev = run(scenario(e));
  EXPECT_LT(d(ev, "/notifications/interrupts_per_packet"), 0.3);
  expect_conservation(r);
}
}  // namespace
}  // namespace vringsim
